"""`/ssp export <UPN or name> [--for family]`: the plan as a document, sent to the asker by DM.

The document goes as an HTML file in the asker's DM with SSP Bot; the message with it names the
pupil and nothing more (DMs are kept, and appear in a workspace export). The export is audited
only once Slack has accepted the file, so the log never claims a send that did not happen.
"""

from __future__ import annotations

import logging
from datetime import date

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.access import Viewer
from bot.document import render_html
from bot.errors import UserError
from bot.render import escape_mrkdwn, render_json, year_label
from bot.services.plan_document import (
    Audience,
    PlanDocument,
    load_plan_document,
    record_export,
)
from bot.services.pupils import MAX_MATCHES, find_pupils
from handlers.context import Ask, Runtime, Subcommand, Usage
from handlers.pages import NO_ACCESS
from handlers.toolkit import UsageError
from models import PupilDisplay

VIA = "/ssp export"
TEMPLATE = "plan_document.html.j2"
USAGE = (
    "Say which pupil: `/ssp export &lt;UPN or name&gt;`, and add `--for family` for the copy "
    "to give the family (it leaves out staff-only notes)."
)
SLACK_REFUSED = (
    "Sorry, Slack wouldn't accept the file, so nothing was sent. Please try again in a minute; "
    "if it keeps happening, let your SENDCo know."
)
# Slack turns a typed "--" into a dash on some keyboards.
DASHES = ("—", "–")

log = logging.getLogger(__name__)


def export_command(
    runtime: Runtime, client: WebClient, viewer: Viewer, words: list[str], today: date
) -> dict:
    """Keyword arguments for Bolt's `respond` (ephemeral), after sending the file if allowed."""
    request = _parse(words)
    if request is None:
        raise UsageError(USAGE)
    query, audience = request
    if not viewer.sees_anything:
        return _notice(NO_ACCESS)
    try:
        with runtime.unit_of_work() as session:
            matches = find_pupils(session, viewer, query)
            if len(matches) > 1:
                return _notice(_which_one(query, matches))
            document = None
            if matches:
                document = load_plan_document(
                    session,
                    viewer,
                    matches[0].pupil_id,
                    audience=audience,
                    recipient_staff_id=viewer.staff_id,
                    via=VIA,
                    now=runtime.now(),
                    today=today,
                )
            if document is None:
                return _notice(
                    f"I couldn't find a pupil matching “{escape_mrkdwn(query[:80])}” among the "
                    "pupils you can see. Try their surname, first and last name, or UPN."
                )
            html = render_html(TEMPLATE, doc=document)
    except UserError as refusal:
        return _notice(str(refusal))

    try:
        opened = client.conversations_open(users=viewer.slack_user_id)
        client.files_upload_v2(
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
        return _notice(SLACK_REFUSED)

    with runtime.unit_of_work() as session:
        record_export(session, document)
    copy = "family copy" if document.is_family_copy else "staff copy, with staff-only notes"
    return _notice(
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
        if option == "--family":
            audience = Audience.FAMILY
        elif option == "--for":
            if next(rest, "").lower() != "family":
                return None
            audience = Audience.FAMILY
        elif option == "--for=family":
            audience = Audience.FAMILY
        elif option.startswith("--"):
            return None
        else:
            query.append(word)
    if not query:
        return None
    return " ".join(query), audience


def _which_one(query: str, matches) -> str:
    if len(matches) > MAX_MATCHES:
        return (
            f"More than {MAX_MATCHES} pupils match “{escape_mrkdwn(query[:80])}”. Add more of "
            "their name, or use their UPN."
        )
    lines = "\n".join(
        f"• {escape_mrkdwn(m.name)}, {year_label(m.year_group)}"
        + (f" ({escape_mrkdwn(m.form)})" if m.form else "")
        + ("" if m.has_plan else ", no plan")
        for m in matches
    )
    return (
        f"Several pupils match “{escape_mrkdwn(query[:80])}”:\n{lines}\n"
        "Say which one with more of their name, or their UPN: `/ssp export &lt;UPN&gt;`."
    )


def _slack_name(document: PlanDocument) -> str:
    """How the school wants pupils named in Slack messages, which Slack keeps."""
    pupil = document.pupil
    if document.plan.school.pupil_display == PupilDisplay.INITIALS:
        return pupil.initials
    return pupil.known_as


def _filename(document: PlanDocument) -> str:
    suffix = " family" if document.is_family_copy else ""
    name = "".join(c for c in _slack_name(document) if c.isalnum() or c in " -'")
    return f"SSP {name} {document.today.isoformat()}{suffix}.html"


def _title(document: PlanDocument) -> str:
    copy = "family copy" if document.is_family_copy else "staff copy"
    return f"SEN Support Plan: {_slack_name(document)} ({copy})"


def _notice(text: str) -> dict:
    return {"response_type": "ephemeral", **render_json("notice.json.j2", text=text)}


# --- /ssp subcommands answered here -----------------------------------------------------------


def _export(ask: Ask) -> dict:
    if not ask.words:
        raise UsageError(
            "Say which pupil: `/ssp export <UPN or name>` "
            "(add `--for family` for the family's copy)."
        )
    return export_command(ask.runtime, ask.client, ask.viewer, ask.words, ask.today)


SUBCOMMANDS = (
    Subcommand(
        "export",
        _export,
        help=(
            Usage(
                "`/ssp export <UPN or name> [--for family]` — the plan as a printable document, "
                "sent to you as a file",
                lambda viewer: (
                    viewer.is_sendco or viewer.is_case_holder or viewer.sees_whole_school
                ),
            ),
        ),
    ),
)
