"""`/ssp export <UPN or name> [--for family|agency]`: the plan as a document, sent to the asker
by DM.

The document goes as an HTML file in the asker's DM with SSP Bot; the message with it names the
pupil and nothing more (DMs are kept, and appear in a workspace export). The export is audited
only once Slack has accepted the file, so the log never claims a send that did not happen. A copy
for professionals outside the school (`--for agency`) goes only when the plan's recorded sharing
consent covers it; a refusal is audited too.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.document import render_html
from bot.errors import UserError
from bot.render import escape_mrkdwn
from bot.services.plan_document import (
    Audience,
    PlanDocument,
    load_plan_document,
    record_export,
    record_refusal,
)
from handlers.context import Ask, Subcommand, Usage
from handlers.toolkit import NO_ACCESS, NO_SUCH_PUPIL, UsageError, as_typed, find_one_pupil, notice
from models import PupilDisplay

VIA = "/ssp export"
TEMPLATE = "plan_document.html.j2"
USAGE = (
    "Say which pupil: `/ssp export &lt;UPN or name&gt;`, and add `--for family` for the copy "
    "to give the family (it leaves out staff-only notes), or `--for agency` for the copy for "
    "professionals outside the school (the same, and only with the family's recorded consent)."
)
# What `--for …` (or `--family`, `--agency`) may name.
AUDIENCES = {"family": Audience.FAMILY, "agency": Audience.AGENCY}
SLACK_REFUSED = (
    "Sorry, Slack wouldn't accept the file, so nothing was sent. Please try again in a minute; "
    "if it keeps happening, let your SENDCo know."
)
# Slack turns a typed "--" into a dash on some keyboards.
DASHES = ("—", "–")

log = logging.getLogger(__name__)


def export_command(ask: Ask) -> dict:
    """Sends the plan to the asker as a file if they may have it; says what was done."""
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
            html = render_html(TEMPLATE, doc=document)
    # Raised outside the unit of work, which would roll the refusal's audit row back.
    if refused is not None:
        raise UserError(escape_mrkdwn(refused.message))

    try:
        opened = ask.client.conversations_open(users=viewer.slack_user_id)
        ask.client.files_upload_v2(
            channel=opened["channel"]["id"],
            content=html.encode("utf-8"),
            filename=_filename(document),
            title=_title(document),
            initial_comment=f"The SEN Support Plan for {_slack_name(document)}, as you asked.",
        )
    except (SlackClientError, OSError) as error:
        # slack_sdk posts the file's bytes with urllib, and lets its HTTPError (an OSError)
        # through when that fails. Log the error code only: the request names the pupil.
        code = error.response.get("error") if isinstance(error, SlackApiError) else None
        log.warning("could not send a plan document: %s %s", type(error).__name__, code)
        raise UserError(SLACK_REFUSED) from None

    with runtime.unit_of_work() as session:
        record_export(session, document)
    copy = "staff copy, with staff-only notes" if document.is_staff_copy else document.copy_name
    return notice(
        f"I've sent {escape_mrkdwn(document.pupil.known_as)}'s plan ({copy}) to you as a file "
        "in your direct messages with SSP Bot."
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


def _slack_name(document: PlanDocument) -> str:
    """How the school wants pupils named in Slack messages, which Slack keeps."""
    pupil = document.pupil
    if document.plan.school.pupil_display == PupilDisplay.INITIALS:
        return pupil.initials
    return pupil.known_as


def _filename(document: PlanDocument) -> str:
    suffix = "" if document.is_staff_copy else f" {document.audience}"
    name = "".join(c for c in _slack_name(document) if c.isalnum() or c in " -'")
    return f"SSP {name} {document.today.isoformat()}{suffix}.html"


def _title(document: PlanDocument) -> str:
    return f"SEN Support Plan: {_slack_name(document)} ({document.copy_name})"


# --- /ssp subcommands answered here -----------------------------------------------------------

SUBCOMMANDS = (
    Subcommand(
        "export",
        export_command,
        help=(
            Usage(
                "`/ssp export <UPN or name> [--for family|agency]` — the plan as a printable "
                "document, sent to you as a file",
                lambda viewer: (
                    viewer.is_sendco or viewer.is_case_holder or viewer.sees_whole_school
                ),
            ),
        ),
        allowed=lambda viewer: viewer.sees_anything,
        refusal=NO_ACCESS,
    ),
)
