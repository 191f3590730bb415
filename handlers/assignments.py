"""A case holder's answer to an assignment message: Accept, or "I can't take this" with a reason."""

from __future__ import annotations

import json
import logging

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.access import Viewer
from bot.errors import UserError
from bot.render import render_json
from bot.services import assignments, prompts
from handlers.context import Runtime, after_the_ack
from handlers.toolkit import as_int, done_modal, meta_of, open_modal, text_value
from models import AssignmentStatus, PromptKind

log = logging.getLogger(__name__)

ACCEPTED = "You accepted this plan. Thank you! Open it any time with the button or `/ssp mine`."
DECLINED = "Thank you for letting us know. The SENDCo has been told, and will find someone else."
DECLINED_LATER = (
    "Thank you for letting us know. The SENDCo will be told {when}, and will find someone else."
)
ASSIGNMENT_MESSAGES = (PromptKind.ASSIGNMENT, PromptKind.ASSIGNMENT_REMINDER)


def register(app: App) -> None:
    app.action("ssp_assignment_accept")(accept)
    app.action("ssp_assignment_decline")(ask_why)
    app.view("ssp_assignment_decline")(decline)


def accept(ack: Ack, action: dict, respond: Respond, runtime: Runtime, viewer: Viewer) -> None:
    ack()
    try:
        with runtime.unit_of_work() as session:
            assignment = assignments.answer(
                session, viewer, _id(action), accept=True, reason=None, now=runtime.now()
            )
            answered = _answered(ACCEPTED, assignment.plan.pupil_id)
    except assignments.AlreadyAnswered as done:
        # A second click (or a second device) loses the race calmly: the message says what
        # was done, and keeps the plan to open if it was accepted.
        accepted = done.status == AssignmentStatus.ACCEPTED
        answered = _answered(str(done), done.pupil_id if accepted else None)
    except UserError as refusal:
        # Caught here rather than by toolkit.answer_error: the message is replaced whatever the
        # answer, so its buttons (already answered, or not this person's) offer nothing more.
        answered = _answered(str(refusal))
    respond(replace_original=True, **answered)


def ask_why(ack: Ack, action: dict, body: dict, client: WebClient) -> None:
    # The assignment only: the messages to redraw are found in the outbox once it is answered.
    meta = {"assignment_id": _id(action)}
    view = render_json("decline_modal.json.j2", meta=json.dumps(meta))
    open_modal(client, body["trigger_id"], view)


def decline(ack: Ack, view: dict, client: WebClient, runtime: Runtime, viewer: Viewer) -> None:
    reason = text_value(view["state"]["values"], "reason")
    if reason is None:
        raise UserError("Please say why, so the SENDCo can find someone else.", block_id="reason")
    assignment_id = as_int(meta_of(view).get("assignment_id"))
    try:
        with runtime.unit_of_work() as session:
            assignments.answer(
                session, viewer, assignment_id, accept=False, reason=reason, now=runtime.now()
            )
            # The decliner's own messages about this assignment, as the outbox records them:
            # never a message named by the form, which could be anyone's.
            posted = prompts.own_messages(
                session, viewer.staff_id, ASSIGNMENT_MESSAGES, assignment_id=assignment_id
            )
            when = assignments.told_when(session, viewer.school_id, runtime.now())
    except UserError as refusal:
        # Said in place of the form, and nothing else changes: a refused person's answer
        # redraws no message.
        ack(response_action="update", view=done_modal("I can't take this", str(refusal)))
        return
    said = DECLINED if when is None else DECLINED_LATER.format(when=when)
    ack(response_action="update", view=done_modal("I can't take this", said))
    runtime.deliver_soon(client)

    def redraw() -> None:
        for channel, ts in posted:
            # The messages keep the answer, not the buttons, so it can't be answered twice.
            try:
                client.chat_update(
                    channel=channel, ts=ts, text=said, blocks=_answered(said)["blocks"]
                )
            except SlackApiError as error:  # deleted meanwhile: nothing to redraw
                log.info("could not redraw an assignment message: %s", error.response.get("error"))

    # On a thread of its own: a listener that fails after acknowledging loses its
    # acknowledgement in Bolt, and the answered form would go unanswered.
    after_the_ack(redraw, "redraw-assignment")


def _answered(text: str, pupil_id: int | None = None) -> dict:
    """The assignment message once answered: what happened, and the plan to open if accepted."""
    return render_json("notice.json.j2", text=text, open_plan=pupil_id)


def _id(action: dict) -> int:
    return max(0, as_int(action.get("value")))
