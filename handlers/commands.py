"""`/ssp`: caseload summaries for SENDCos and senior leaders, and each case holder's own list."""

from __future__ import annotations

import logging
import re

from slack_bolt import Ack, App, BoltContext, Respond

from bot.app import runtime_of, school_timezone, viewer_of
from handlers import pages

log = logging.getLogger(__name__)

# With should_escape on, Slack sends a mention as <@U123ABC|name> (or <@U123ABC>).
MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


COMMANDS = ("/ssp",)


def register(app: App) -> None:
    app.command("/ssp")(ssp)


def ssp(ack: Ack, command: dict, respond: Respond, context: BoltContext) -> None:
    ack()
    words = (command.get("text") or "").split()
    subcommand = words[0].lower() if words else "help"
    rest = words[1:]
    runtime, viewer = runtime_of(context), viewer_of(context)
    today = runtime.today(school_timezone(context))

    if subcommand == "help":
        respond(**pages.help_message(viewer))
    elif subcommand == "caseload" and not rest:
        respond(**pages.school_caseload(runtime, viewer, today, page=1))
    elif subcommand == "caseload" and len(rest) == 1 and MENTION.match(rest[0]):
        slack_user_id = MENTION.match(rest[0]).group(1)
        respond(**pages.someones_caseload(runtime, context, viewer, slack_user_id, today, page=1))
    elif subcommand == "caseload":
        respond(
            **pages.usage(
                viewer, "To see one person's caseload, mention them: `/ssp caseload @name`."
            )
        )
    elif subcommand == "overdue" and not rest:
        respond(**pages.overdue(runtime, viewer, today, page=1))
    elif subcommand == "mine" and not rest:
        respond(**pages.my_caseload(runtime, viewer, today, page=1))
    elif subcommand == "pupil" and rest:
        respond(**pages.pupil(runtime, viewer, " ".join(rest), today))
    elif subcommand == "pupil":
        respond(**pages.usage(viewer, "Say which pupil: `/ssp pupil <UPN or name>`."))
    else:
        respond(**pages.usage(viewer, f"I don't know `{_quote(words)}`."))


def _quote(words: list[str]) -> str:
    text = " ".join(words)[:60]
    return text.replace("`", "'")
