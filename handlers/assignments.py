"""A case holder's answer to an assignment message: Accept, or "I can't take this" with a reason."""

from __future__ import annotations

import json

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.access import Viewer
from bot.errors import UserError
from bot.render import render_json
from bot.services import assignments
from handlers.context import Runtime
from handlers.toolkit import as_int, done_modal, meta_of, text_value

ACCEPTED = "You accepted this plan. Thank you! Open it any time with the button or `/ssp mine`."
DECLINED = "Thank you for letting us know. The SENDCo has been told, and will find someone else."


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
    except UserError as refusal:
        # Caught here rather than by toolkit.answer_error: the message is replaced whatever the
        # answer, so its buttons (already answered, or not this person's) offer nothing more.
        answered = _answered(str(refusal))
    respond(replace_original=True, **answered)


def ask_why(ack: Ack, action: dict, body: dict, client: WebClient) -> None:
    ack()
    message = body.get("container") or {}
    meta = {
        "assignment_id": _id(action),
        "channel": message.get("channel_id"),
        "ts": message.get("message_ts"),
    }
    client.views_open(
        trigger_id=body["trigger_id"],
        view=render_json("decline_modal.json.j2", meta=json.dumps(meta)),
    )


def decline(ack: Ack, view: dict, client: WebClient, runtime: Runtime, viewer: Viewer) -> None:
    reason = text_value(view["state"]["values"], "reason")
    if reason is None:
        raise UserError("Please say why, so the SENDCo can find someone else.", block_id="reason")
    meta = meta_of(view)
    try:
        with runtime.unit_of_work() as session:
            assignments.answer(
                session,
                viewer,
                as_int(meta.get("assignment_id")),
                accept=False,
                reason=reason,
                now=runtime.now(),
            )
        text = DECLINED
    except UserError as refusal:
        # Caught here: the assignment message below loses its buttons whatever the answer.
        text = str(refusal)
    ack(response_action="update", view=done_modal("I can't take this", text))
    runtime.deliver_soon(client)
    if meta.get("channel") and meta.get("ts"):
        # The message keeps the answer, not the buttons, so it can't be answered twice.
        client.chat_update(
            channel=meta["channel"], ts=meta["ts"], text=text, blocks=_answered(text)["blocks"]
        )


def _answered(text: str, pupil_id: int | None = None) -> dict:
    """The assignment message once answered: what happened, and the plan to open if accepted."""
    return render_json("notice.json.j2", text=text, open_plan=pupil_id)


def _id(action: dict) -> int:
    return max(0, as_int(action.get("value")))
