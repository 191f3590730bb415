"""A case holder's answer to an assignment message: Accept, or "I can't take this" with a reason."""

from __future__ import annotations

import json

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.errors import UserError
from bot.render import render_json
from bot.services import assignments
from handlers.context import runtime_of, viewer_of


def register(app: App) -> None:
    app.action("ssp_assignment_accept")(accept)
    app.action("ssp_assignment_decline")(ask_why)
    app.view("ssp_assignment_decline")(decline)


def accept(ack: Ack, action: dict, context: BoltContext, respond: Respond) -> None:
    ack()
    runtime, viewer = runtime_of(context), viewer_of(context)
    try:
        with runtime.unit_of_work() as session:
            assignment = assignments.answer(
                session, viewer, _id(action), accept=True, reason=None, now=runtime.now()
            )
            pupil_id = assignment.plan.pupil_id
        text = "You accepted this plan. Thank you! Open it any time with the button or `/ssp mine`."
    except UserError as refusal:
        text, pupil_id = str(refusal), None
    respond(replace_original=True, **_answered(text, pupil_id))


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


def decline(ack: Ack, view: dict, client: WebClient, context: BoltContext) -> None:
    runtime, viewer = runtime_of(context), viewer_of(context)
    reason = ((view["state"]["values"].get("reason") or {}).get("value") or {}).get("value")
    if not (reason or "").strip():
        ack(
            response_action="errors",
            errors={"reason": "Please say why, so the SENDCo can find someone else."},
        )
        return
    meta = json.loads(view.get("private_metadata") or "{}")
    try:
        with runtime.unit_of_work() as session:
            assignments.answer(
                session,
                viewer,
                int(meta.get("assignment_id") or 0),
                accept=False,
                reason=reason.strip(),
                now=runtime.now(),
            )
        text = (
            "Thank you for letting us know. The SENDCo has been told, and will find someone else."
        )
    except UserError as refusal:
        text = str(refusal)
    ack(
        response_action="update",
        view=render_json(
            "plan_notice_modal.json.j2",
            title="I can't take this",
            paragraphs=[text],
            reload=False,
            meta="{}",
        ),
    )
    runtime.deliver_soon(client)
    if meta.get("channel") and meta.get("ts"):
        # The message keeps the answer, not the buttons, so it can't be answered twice.
        client.chat_update(
            channel=meta["channel"],
            ts=meta["ts"],
            text=text,
            blocks=_answered(text, None)["blocks"],
        )


def _answered(text: str, pupil_id: int | None) -> dict:
    message = render_json("notice.json.j2", text=text)
    if pupil_id is not None:
        message["blocks"].append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "ssp_open_plan",
                        "value": str(pupil_id),
                        "text": {"type": "plain_text", "text": "Open plan"},
                    }
                ],
            }
        )
    return message


def _id(action: dict) -> int:
    value = action.get("value") or ""
    return int(value) if value.isdigit() else 0
