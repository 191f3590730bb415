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
from bot.services.download_links import LINK_LIFETIME, MAX_DOWNLOADS, FileFormat, create_links
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
    "professionals outside the school (the same, and only with the family's recorded consent)."
)
# What `--for …` (or `--family`, `--agency`) may name.
AUDIENCES = {"family": Audience.FAMILY, "agency": Audience.AGENCY}
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


def _parse(words: list[str]) -> tuple[str, Audience] | None:
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
                "document (PDF or HTML), by a download link only you see",
                lambda viewer: (
                    viewer.is_sendco or viewer.is_case_holder or viewer.sees_whole_school
                ),
            ),
        ),
        allowed=lambda viewer: viewer.sees_anything,
        refusal=NO_ACCESS,
    ),
)
