"""`/ssp export <UPN or name> [--for family|agency]`: the plan as a document, offered to the
asker as short-lived download links (PDF and HTML) in a reply only they see.

Nothing is left in Slack: no file, no message. The reply is ephemeral (it is not kept in the
conversation's history or in a workspace export), and its links stop working after
bot.services.download_links.LINK_LIFETIME or MAX_DOWNLOADS downloads. The person's access is
checked when they ask and again at each download (handlers/web/downloads.py). Making the links
is audited; each download is audited when it happens. A copy for professionals outside the
school (`--for agency`) is offered only when the plan's recorded sharing consent covers it; a
refusal is audited too.
"""

from __future__ import annotations

from bot.errors import UserError
from bot.render import escape_mrkdwn
from bot.services import audit, evidence, pupils
from bot.services.download_links import (
    LINK_LIFETIME,
    MAX_DOWNLOADS,
    FileFormat,
    create_links,
    create_pack_links,
)
from bot.services.plan_document import (
    Audience,
    load_plan_document,
    record_refusal,
)
from handlers.context import Ask, Subcommand, Usage
from handlers.toolkit import NO_ACCESS, NO_SUCH_PUPIL, UsageError, as_typed, find_one_pupil, message

VIA = "/ssp export"
USAGE = (
    "Say which pupil: `/ssp export &lt;UPN or name&gt;`, and add `--for family` for the copy "
    "to give the family (it leaves out staff-only notes), or `--for agency` for the copy for "
    "professionals outside the school (the same, and only with the family's recorded consent). "
    "`--evidence` gives the evidence pack for an EHC needs assessment request (every reviewed "
    "cycle, provision delivered, reports), and `--transfer` (the SENDCo) the same as a "
    "transfer record for the pupil's next school."
)
# What `--for …` (or `--family`, `--agency`) may name.
AUDIENCES = {"family": Audience.FAMILY, "agency": Audience.AGENCY}
# `--evidence`, `--transfer`: the pupil's whole record of SEN Support (bot.services.evidence).
PACKS = (evidence.EVIDENCE, evidence.TRANSFER)
# Slack turns a typed "--" into a dash on some keyboards.
DASHES = ("—", "–")
DOWNLOAD_PATH = "/download/"


def export_command(ask: Ask) -> dict:
    """Offers the plan as download links if the asker may have it; says what was done."""
    request = _parse(ask.words)
    if request is None:
        raise UsageError(USAGE)
    query, audience = request
    runtime, viewer = ask.runtime, ask.viewer
    if audience in PACKS:
        return _pack(runtime, viewer, query, transfer=audience == evidence.TRANSFER)
    choice = find_one_pupil(runtime, viewer, query, None, via=VIA)
    with runtime.unit_of_work() as session:
        document = load_plan_document(
            session,
            viewer,
            choice.pupil_id,
            audience=audience,
            recipient_staff_id=viewer.staff_id,
            via=VIA,
            now=runtime.now(),
            today=ask.today,
        )
        if document is None:
            raise UserError(NO_SUCH_PUPIL.format(query=escape_mrkdwn(as_typed(query)[:80])))
        refused = document.refused
        if refused is not None:
            record_refusal(session, document)
        else:
            tokens = create_links(
                session, document, (FileFormat.PDF, FileFormat.HTML), runtime.now()
            )
    # Raised outside the unit of work, which would roll the refusal's audit row back.
    if refused is not None:
        raise UserError(escape_mrkdwn(refused.message))

    base = runtime.settings.link_base.rstrip("/") + DOWNLOAD_PATH
    pdf, html = (base + tokens[FileFormat.PDF], base + tokens[FileFormat.HTML])
    copy = "staff copy, with staff-only notes" if document.is_staff_copy else document.copy_name
    minutes = int(LINK_LIFETIME.total_seconds() // 60)
    name = escape_mrkdwn(document.pupil.known_as)
    return message(
        "export_links.json.j2",
        text=f"{name}'s plan ({copy}) is ready to download.",
        links=(
            f"{name}'s plan ({copy}) is ready: <{pdf}|Download the PDF> · "
            f"<{html}|Download it as a web page (HTML)>"
        ),
        terms=(
            f"Only you can see this message. The links work for {minutes} minutes and "
            f"{MAX_DOWNLOADS} downloads each, and only while you may still read the plan. "
            "Please don't pass them on: ask me again whenever you need the plan."
        ),
    )


def _pack(runtime, viewer, query: str, *, transfer: bool) -> dict:
    """`--evidence` or `--transfer`: download links to the pupil's evidence pack, or the
    transfer record for their next school (which closes the plan of a pupil who has left)."""
    choice = find_one_pupil(runtime, viewer, query, None, via=VIA, find=pupils.find_pupil_records)
    refused = None
    with runtime.unit_of_work() as session:
        try:
            plan, closed = evidence.prepare(
                session, viewer, choice.pupil_id, transfer=transfer, now=runtime.now()
            )
        except UserError as refusal:
            refused = str(refusal)
            audit.record_refusal(
                session,
                viewer,
                via=VIA,
                now=runtime.now(),
                pupil_id=choice.pupil_id,
                detail=f"{'transfer record' if transfer else 'evidence pack'} refused",
            )
        else:
            tokens = create_pack_links(
                session, viewer, plan, transfer=transfer, now=runtime.now(), via=VIA
            )
            name, on_roll = escape_mrkdwn(plan.pupil.known_as), plan.pupil.is_active
    # Raised outside the unit of work, which would roll the refusal's audit row back.
    if refused is not None:
        raise UserError(escape_mrkdwn(refused))
    base = runtime.settings.link_base.rstrip("/") + DOWNLOAD_PATH
    pdf, html = base + tokens[FileFormat.PDF], base + tokens[FileFormat.HTML]
    what = "transfer record" if transfer else "evidence of SEN Support"
    after = ""
    if transfer and closed:
        after = " Their plan is now closed (left the school), and kept in their history."
    elif transfer and on_roll:
        after = (
            " They are still on roll, so their plan stays open: it closes when the roster marks "
            "them as left, or with `/ssp close`."
        )
    minutes = int(LINK_LIFETIME.total_seconds() // 60)
    return message(
        "export_links.json.j2",
        text=f"{name}'s {what} is ready to download.",
        links=(
            f"{name}'s {what} is ready: <{pdf}|Download the PDF> · "
            f"<{html}|Download it as a web page (HTML)>.{after}"
        ),
        terms=(
            f"Only you can see this message. The links work for {minutes} minutes and "
            f"{MAX_DOWNLOADS} downloads each, and only while you may still have it; it is made "
            "from the records as they are when you download it. Please don't pass the links on."
        ),
    )


def _parse(words: list[str]) -> tuple[str, Audience | str] | None:
    """(the pupil query, the audience), or None when the words need the usage answer."""
    audience = Audience.STAFF
    query: list[str] = []
    rest = iter(words)
    for word in rest:
        for dash in DASHES:
            if word.startswith(dash):
                word = "--" + word[len(dash) :]
        option = word.lower()
        if option.startswith("--") and option[2:] in AUDIENCES:
            audience = AUDIENCES[option[2:]]
        elif option.startswith("--") and option[2:] in PACKS:
            audience = option[2:]
        elif option == "--for":
            audience = AUDIENCES.get(next(rest, "").lower())
            if audience is None:
                return None
        elif option.startswith("--for="):
            audience = AUDIENCES.get(option.removeprefix("--for="))
            if audience is None:
                return None
        elif option.startswith("--"):
            return None
        else:
            query.append(word)
    if not query:
        return None
    return " ".join(query), audience


# --- /ssp subcommands answered here -----------------------------------------------------------

SUBCOMMANDS = (
    Subcommand(
        "export",
        export_command,
        help=(
            Usage(
                "`/ssp export <UPN or name> [--for family|agency]` — the plan as a printable "
                "document (PDF or HTML), by a download link only you see; `--evidence` for the "
                "evidence pack (EHC needs assessment request), `--transfer` for the transfer "
                "record when a pupil leaves",
                lambda viewer: (
                    viewer.is_sendco or viewer.is_case_holder or viewer.sees_whole_school
                ),
            ),
        ),
        allowed=lambda viewer: viewer.sees_anything,
        refusal=NO_ACCESS,
    ),
)
