"""The family's reply about the review meeting, in Slack (bot.services.meeting): the case
holder's DM says only that the family replied about the pupil's meeting; its "Read it" opens the
reply in a modal (who answered, whether they can come or the times that suit them, how they will
join, their note). Setting the meeting is in "Ask the family" (handlers.family).

The listener is for the plans' writers (role middleware); the service lets only the plan's case
holder or a SENDCo read, and audits every read and refusal. The reply is looked up by its id
within the verified request's school.
"""

from __future__ import annotations

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.access import Viewer
from bot.errors import UserError
from bot.render import escape_mrkdwn, render_json
from bot.services import family, meeting
from bot.services.family import short_date
from handlers.context import Runtime
from handlers.family import keeping_refusals
from handlers.toolkit import as_int, open_modal, requires, tell


def register(app: App) -> None:
    writes = [requires(lambda viewer: viewer.writes_plans, family.NOT_YOURS)]
    app.action("ssp_meeting_reply_read", middleware=writes)(read)


def read(
    ack: Ack, action: dict, body: dict, client: WebClient, context, runtime: Runtime, viewer: Viewer
) -> None:
    try:
        with keeping_refusals(runtime) as session:
            reading = meeting.read_reply(
                session, viewer, as_int(action.get("value")), runtime.now()
            )
    except UserError as problem:
        ack()
        tell(body, context, str(problem))
        return
    open_modal(client, body["trigger_id"], reply_view(reading))
    ack()


def reply_view(reading: meeting.Reading) -> dict:
    lines = [
        f"*Can they come?*\n{'Yes' if reading.can_come else 'They need another time'}",
    ]
    if not reading.can_come:
        lines.append(
            f"*Days and times that would suit them*\n{escape_mrkdwn(reading.other_times or '')}"
        )
    if reading.join_by:
        lines.append(f"*How they will join*\n{reading.join_by}")
    if reading.note:
        lines.append(f"*Anything we should know*\n{escape_mrkdwn(reading.note)}")
    changed = None
    if reading.now_set:
        changed = (
            "This reply is about the earlier details. The meeting has changed since: "
            f"{escape_mrkdwn(reading.now_set)}. Make a new link for the family to answer again."
        )
    return render_json(
        "meeting_reply_modal.json.j2",
        intro=f"About *{escape_mrkdwn(reading.pupil_name)}*'s review meeting "
        f"({escape_mrkdwn(reading.answered)}), from {escape_mrkdwn(reading.by)} on "
        f"{short_date(reading.on)}:",
        lines=lines,
        changed=changed,
    )
