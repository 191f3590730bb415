"""Events: the App Home shows each person what is theirs to do; a message written to the bot
is answered with how to file it on a plan (nobody reads the bot's direct messages)."""

from __future__ import annotations

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from handlers import pages
from handlers.context import runtime_of, school_timezone, viewer_of

EVENTS = ("app_home_opened", "message.im")

FILE_IT = (
    "Nobody reads messages sent to SSP Bot. To file this one on a pupil's plan, open the "
    "*More actions* menu on your message (⋯) and choose *Add to a pupil's plan*, or type "
    "`/ssp note <UPN or name>`. `/ssp help` lists everything else."
)
HELP_ONLY = (
    "Nobody reads messages sent to SSP Bot. Type `/ssp help` to see what it can do for you, "
    "or ask your SENDCo."
)


def register(app: App) -> None:
    app.event("app_home_opened")(publish_home)
    app.event("message")(answer_direct_message)


def answer_direct_message(event: dict, client: WebClient, context: BoltContext) -> None:
    """Something a member of staff typed in their DM with the bot: say privately what to do."""
    if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
        return  # edits, deletions, joins and the bot's own messages need no answer
    viewer = viewer_of(context)
    client.chat_postEphemeral(
        channel=event["channel"],
        user=context.user_id,
        text=FILE_IT if viewer.is_sendco or viewer.is_case_holder else HELP_ONLY,
    )


def publish_home(event: dict, client: WebClient, context: BoltContext) -> None:
    if event.get("tab", "home") != "home":
        return
    runtime, viewer = runtime_of(context), viewer_of(context)
    today = runtime.today(school_timezone(context))
    client.views_publish(user_id=context.user_id, view=pages.home(runtime, viewer, today))
