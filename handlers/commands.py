"""`/ssp`: caseload summaries, pupils' plans, the glossary and the plan document."""

from __future__ import annotations

import logging
import re

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.app import runtime_of, school_timezone, viewer_of
from handlers import export, monitoring, pages, plan_editor, qa, reviews, settings, team

log = logging.getLogger(__name__)

COMMANDS = ("/ssp",)
# With should_escape on, Slack sends a mention as <@U123ABC|name> (or <@U123ABC>).
MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


def register(app: App) -> None:
    app.command("/ssp")(ssp)


def ssp(ack: Ack, command: dict, respond: Respond, context: BoltContext, client: WebClient) -> None:
    ack()
    text = command.get("text") or ""
    words = text.split()
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
    elif subcommand == "plan" and rest and rest[0].lower() == "new" and rest[1:]:
        plan_editor.start_new_plan(
            runtime, client, viewer, " ".join(rest[1:]), command["trigger_id"], respond, today
        )
    elif subcommand == "plan" and rest and rest[0].lower() != "new":
        plan_editor.open_for_query(
            runtime, client, viewer, " ".join(rest), command["trigger_id"], respond, today
        )
    elif subcommand == "plan":
        respond(
            **pages.usage(
                viewer,
                "Say which pupil: `/ssp plan <UPN or name>`, or "
                "`/ssp plan new <UPN or name>` to start one.",
            )
        )
    elif subcommand == "team":
        respond(**team.team_command(runtime, client, viewer, rest))
    elif subcommand == "priority" and not rest:
        respond(**team.priority_command(runtime, viewer, today))
    elif subcommand == "assign":
        respond(**team.assign_command(runtime, client, viewer, rest, today))
    elif subcommand == "qa" and not rest:
        respond(**qa.qa_command(runtime, viewer))
    elif subcommand == "review":
        reviews.review_command(runtime, client, viewer, rest, command["trigger_id"], respond, today)
    elif subcommand == "note":
        reviews.note_command(runtime, client, viewer, rest, command["trigger_id"], respond)
    elif subcommand == "feedback":
        monitoring.feedback_command(runtime, client, viewer, rest, respond)
    elif subcommand == "monitoring" and not rest:
        respond(**monitoring.monitoring_command(runtime, viewer))
    elif subcommand == "settings":
        respond(**settings.settings_command(runtime, viewer, rest, today))
    elif subcommand == "glossary":
        respond(**pages.glossary(runtime, viewer, text.split(None, 1)[1] if rest else ""))
    elif subcommand == "export" and rest:
        respond(**export.export_command(runtime, client, viewer, rest, today))
    elif subcommand == "export":
        respond(
            **pages.usage(
                viewer,
                "Say which pupil: `/ssp export <UPN or name>` "
                "(add `--for family` for the family's copy).",
            )
        )
    else:
        respond(**pages.usage(viewer, f"I don't know `{_quote(words)}`."))


def _quote(words: list[str]) -> str:
    text = " ".join(words)[:60]
    return text.replace("`", "'")
