"""Buttons in `/ssp` answers: next and previous pages, and choosing a pupil among several."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext, Respond

from bot.app import runtime_of, school_timezone, viewer_of
from handlers import pages


def register(app: App) -> None:
    app.action("ssp_page")(turn_page)
    app.action("ssp_show_pupil")(show_pupil)


def turn_page(ack: Ack, action: dict, respond: Respond, context: BoltContext) -> None:
    ack()
    runtime, viewer = runtime_of(context), viewer_of(context)
    today = runtime.today(school_timezone(context))
    # The value only says which list and page; who may see it is decided afresh from the request.
    respond(replace_original=True, **pages.turn(runtime, context, viewer, action["value"], today))


def show_pupil(ack: Ack, action: dict, respond: Respond, context: BoltContext) -> None:
    ack()
    runtime, viewer = runtime_of(context), viewer_of(context)
    today = runtime.today(school_timezone(context))
    respond(replace_original=True, **pages.pupil_by_id(runtime, viewer, action["value"], today))
