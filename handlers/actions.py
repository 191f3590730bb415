"""Buttons in `/ssp` answers: choosing a pupil among several (pages turn in handlers.commands)."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext, Respond

from handlers import pages
from handlers.context import runtime_of, school_timezone, viewer_of


def register(app: App) -> None:
    app.action("ssp_show_pupil")(show_pupil)


def show_pupil(ack: Ack, action: dict, respond: Respond, context: BoltContext) -> None:
    ack()
    runtime, viewer = runtime_of(context), viewer_of(context)
    today = runtime.today(school_timezone(context))
    respond(replace_original=True, **pages.pupil_by_id(runtime, viewer, action["value"], today))
