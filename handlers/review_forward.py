"""The case holder's answer to "bring the review forward?" (bot.services.review_forward): the
buttons on the DM — bring forward to the proposed date, choose another date (a modal), keep the
date — and "What changed" (a modal: what was added is never in the DM).

Who may do what: the listeners are for the plans' writers (role middleware at registration); the
service then lets only the plan's case holder or a SENDCo answer, and refuses anyone else with
nothing changed. Which ask is decided from the button's prompt id within the verified request's
school; a date in a button or a form is checked again by the service.
"""

from __future__ import annotations

from datetime import date

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.access import Viewer
from bot.errors import UserError
from bot.render import escape_mrkdwn, render_json
from bot.services import review_forward
from bot.services.calendar import long_day
from handlers.context import Runtime
from handlers.toolkit import as_int, done_modal, meta_json, meta_of, open_modal, requires, tell

TITLE = "Bring review forward"


def register(app: App) -> None:
    writes = [requires(lambda viewer: viewer.writes_plans, review_forward.NOT_YOURS)]
    app.action("ssp_forward_yes", middleware=writes)(bring_forward)
    app.action("ssp_forward_keep", middleware=writes)(keep)
    app.action("ssp_forward_choose", middleware=writes)(choose)
    app.view("ssp_forward_date", middleware=writes)(submit_date)
    app.action("ssp_forward_changes", middleware=writes)(what_changed)


def bring_forward(
    ack: Ack, action: dict, body: dict, context, runtime: Runtime, viewer: Viewer, respond
) -> None:
    ack()
    prompt_id, _, day = str(action.get("value") or "").partition(":")
    try:
        new_date = date.fromisoformat(day)
    except ValueError:
        raise UserError("That button is broken: please choose the date instead.") from None
    _answer(body, context, runtime, viewer, respond, as_int(prompt_id), new_date)


def keep(
    ack: Ack, action: dict, body: dict, context, runtime: Runtime, viewer: Viewer, respond
) -> None:
    ack()
    _answer(body, context, runtime, viewer, respond, as_int(action.get("value")), None)


def choose(
    ack: Ack, action: dict, body: dict, client: WebClient, context, runtime: Runtime, viewer: Viewer
) -> None:
    with runtime.unit_of_work() as session:
        found = review_forward.choice(session, viewer, as_int(action.get("value")), runtime.now())
    if isinstance(found, review_forward.Answer):
        ack()
        tell(body, context, found.text)
        return
    intro = (
        f"The review of *{escape_mrkdwn(found.pupil_name)}*'s plan is on "
        f"{long_day(found.review_date)}. Bring it forward to:"
    )
    view = render_json(
        "review_forward_modal.json.j2",
        intro=intro,
        initial=found.proposed.isoformat() if found.proposed else None,
        meta=meta_json(prompt_id=found.prompt_id),
    )
    open_modal(client, body["trigger_id"], view)


def submit_date(ack: Ack, view: dict, client: WebClient, runtime: Runtime, viewer: Viewer) -> None:
    picked = (view["state"]["values"].get("review_date") or {}).get("value") or {}
    chosen = picked.get("selected_date")
    if not chosen:
        ack(response_action="errors", errors={"review_date": "Choose the new review date."})
        return
    try:
        new_date = date.fromisoformat(chosen)
    except ValueError:
        ack(response_action="errors", errors={"review_date": "Choose a date from the calendar."})
        return
    try:
        with runtime.unit_of_work() as session:
            done = review_forward.answer(
                session,
                viewer,
                as_int(meta_of(view).get("prompt_id")),
                new_date=new_date,
                now=runtime.now(),
            )
    except UserError as problem:
        ack(response_action="errors", errors={"review_date": str(problem)})
        return
    ack(response_action="update", view=done_modal(TITLE, escape_mrkdwn(done.text)))
    if done.done and done.channel and done.ts:
        # The ask's DM says what was decided, in place of its buttons: its channel and ts are the
        # outbox's, never the form's.
        text = escape_mrkdwn(done.text)
        client.chat_update(channel=done.channel, ts=done.ts, text=text, blocks=_said(text))


def what_changed(
    ack: Ack, action: dict, body: dict, client: WebClient, context, runtime: Runtime, viewer: Viewer
) -> None:
    with runtime.unit_of_work() as session:
        found = review_forward.changes(session, viewer, as_int(action.get("value")), runtime.now())
    if isinstance(found, review_forward.Answer):
        ack()
        tell(body, context, found.text)
        return
    intro = f"Added to *{escape_mrkdwn(found.pupil_name)}*'s plan, for its review:"
    lines = [f"• {escape_mrkdwn(line)}" for line in found.lines or ["(nothing is recorded)"]]
    view = render_json(
        "plan_notice_modal.json.j2",
        title="What changed",
        paragraphs=[intro, *lines[:90]],  # a modal holds 100 blocks
        reload=False,
        meta="{}",
    )
    open_modal(client, body["trigger_id"], view)
    ack()


def _answer(body, context, runtime: Runtime, viewer: Viewer, respond, prompt_id, new_date) -> None:
    try:
        with runtime.unit_of_work() as session:
            done = review_forward.answer(
                session, viewer, prompt_id, new_date=new_date, now=runtime.now()
            )
    except UserError as problem:
        # The proposed date no longer fits (a day since closed, say): the DM stays as it was.
        tell(body, context, f"{problem} Use “Choose another date”.")
        return
    if done.done:
        text = escape_mrkdwn(done.text)
        respond(replace_original=True, text=text, blocks=_said(text))
    else:
        tell(body, context, done.text)


def _said(text: str) -> list[dict]:
    """The ask's DM once answered: what was decided, and no buttons."""
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
