"""Replies in chat: a message in a thread of a monitoring request or review prompt is filed as
the writer's comment on that pupil's plan (bot.services.chat_replies), confirmed privately with
Undo and Edit; a message outside a thread asks which pupil it is about."""

from __future__ import annotations

import re

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.access import Viewer
from bot.render import escape_mrkdwn, render_json
from bot.services import chat_replies
from bot.services.chat_replies import MAX_TEXT, Outcome
from handlers.context import Runtime
from handlers.toolkit import as_int, meta_json, meta_of, open_modal

UNDO, EDIT, PUPIL = "chat_reply_undo", "chat_reply_edit", "chat_reply_pupil"
FORM = "chat_reply_edit_form"
FIELD = "reply_text"
KEPT = "Your message stays in Slack's history as you wrote it; put anything detailed in the form."


def register(app: App) -> None:
    app.action(UNDO)(undo)
    app.action(EDIT)(open_edit)
    app.action(re.compile(rf"^{PUPIL}_\d+$"))(choose)
    app.view(FORM)(save_edit)


# --- from the message events (handlers.events) --------------------------------------------------


def received(event: dict, client: WebClient, runtime: Runtime, viewer: Viewer) -> bool:
    """A new message in the DM: filed, or the pupils to choose from, or (in a thread) why it
    wasn't. False when there is nothing to file it on (the usual hint then answers)."""
    thread_ts = event.get("thread_ts")
    if thread_ts == event.get("ts"):
        thread_ts = None  # the parent of a thread is a message outside any thread
    with runtime.unit_of_work() as session:
        outcome = chat_replies.receive(
            session,
            viewer,
            channel=event["channel"],
            ts=event["ts"],
            text=event.get("text") or "",
            thread_ts=thread_ts,
            now=runtime.now(),
        )
    if outcome.already:
        return True
    if outcome.refused and not thread_ts and outcome.refused == chat_replies.NOT_FILED:
        return False
    say = _private(client, event["channel"], viewer, thread_ts)
    if outcome.refused:
        say(text=outcome.refused)
    elif outcome.choices:
        say(**_which_pupil(outcome))
    else:
        say(**_filed(outcome))
    return True


def changed(event: dict, client: WebClient, runtime: Runtime, viewer: Viewer) -> None:
    """message_changed / message_deleted of the author's own message: the filing follows."""
    channel = event.get("channel")
    if event.get("subtype") == "message_changed":
        message = event.get("message") or {}
        if message.get("user") != viewer.slack_user_id or not message.get("ts"):
            return
        with runtime.unit_of_work() as session:
            outcome = chat_replies.edited_in_slack(
                session, viewer, channel, message["ts"], message.get("text") or "", runtime.now()
            )
        if outcome is not None and outcome.refused:
            _private(client, channel, viewer, message.get("thread_ts"))(text=outcome.refused)
        return
    previous = event.get("previous_message") or {}
    ts = event.get("deleted_ts") or previous.get("ts")
    if previous.get("user") != viewer.slack_user_id or not ts:
        return
    with runtime.unit_of_work() as session:
        chat_replies.deleted_in_slack(session, viewer, channel, ts, runtime.now())


# --- the buttons --------------------------------------------------------------------------------


def undo(ack: Ack, action: dict, respond: Respond, runtime: Runtime, viewer: Viewer) -> None:
    ack()
    with runtime.unit_of_work() as session:
        outcome = chat_replies.undo(session, viewer, as_int(action.get("value")), runtime.now())
    if outcome.refused:
        respond(text=outcome.refused, response_type="ephemeral", replace_original=False)
        return
    respond(
        replace_original=True,
        text=f"Removed from {escape_mrkdwn(outcome.pupil_name)}'s plan."
        if outcome.pupil_name
        else "Removed.",
    )


def open_edit(
    ack: Ack,
    action: dict,
    body: dict,
    client: WebClient,
    respond: Respond,
    runtime: Runtime,
    viewer: Viewer,
) -> None:
    reply_id = as_int(action.get("value"))
    with runtime.unit_of_work() as session:
        shown = chat_replies.text_of(session, viewer, reply_id, runtime.now())
    if shown.refused:
        ack()
        respond(text=shown.refused, response_type="ephemeral", replace_original=False)
        return
    open_modal(client, body["trigger_id"], _edit_form(reply_id, shown.text or ""), "the Edit form")
    ack()


def save_edit(ack: Ack, view: dict, runtime: Runtime, viewer: Viewer) -> None:
    typed = ((view.get("state") or {}).get("values") or {}).get(FIELD) or {}
    text = (typed.get("value") or {}).get("value") or ""
    with runtime.unit_of_work() as session:
        outcome = chat_replies.edit(
            session, viewer, as_int(meta_of(view).get("reply")), text, runtime.now()
        )
    if outcome.refused:
        ack(response_action="errors", errors={FIELD: outcome.refused})
        return
    ack()


def choose(
    ack: Ack, action: dict, body: dict, respond: Respond, runtime: Runtime, viewer: Viewer
) -> None:
    ack()
    reply_id, _, target = (action.get("value") or "").partition(":")
    with runtime.unit_of_work() as session:
        outcome = chat_replies.choose(session, viewer, as_int(reply_id), target, runtime.now())
    if outcome.refused:
        respond(text=outcome.refused, response_type="ephemeral", replace_original=False)
        return
    respond(replace_original=True, **_filed(outcome))


# --- what is said ---------------------------------------------------------------------------------


def _private(client: WebClient, channel: str, viewer: Viewer, thread_ts: str | None):
    def say(**message) -> None:
        extra = {"thread_ts": thread_ts} if thread_ts else {}
        client.chat_postEphemeral(channel=channel, user=viewer.slack_user_id, **extra, **message)

    return say


def _filed(outcome: Outcome) -> dict:
    said = f"Filed as your comment on {escape_mrkdwn(outcome.pupil_name)}'s plan."
    return render_json("chat_reply_filed.json.j2", said=said, reply_id=outcome.reply_id, kept=KEPT)


def _which_pupil(outcome: Outcome) -> dict:
    return render_json(
        "chat_reply_which.json.j2",
        ask="Which pupil is this about? I'll file it as your comment on their plan.",
        choices=[(t.pupil_name, f"{outcome.reply_id}:{t.value}") for t in outcome.choices],
    )


def _edit_form(reply_id: int, text: str) -> dict:
    return render_json(
        "chat_reply_edit_modal.json.j2",
        meta=meta_json(reply=reply_id),
        text=text,
        max_length=MAX_TEXT,
    )
