"""Events: the App Home shows each person what is theirs to do."""

from __future__ import annotations

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.app import runtime_of, school_timezone, viewer_of
from handlers import pages

EVENTS = ("app_home_opened",)


def register(app: App) -> None:
    app.event("app_home_opened")(publish_home)


def publish_home(event: dict, client: WebClient, context: BoltContext) -> None:
    if event.get("tab", "home") != "home":
        return
    runtime, viewer = runtime_of(context), viewer_of(context)
    today = runtime.today(school_timezone(context))
    client.views_publish(user_id=context.user_id, view=pages.home(runtime, viewer, today))
