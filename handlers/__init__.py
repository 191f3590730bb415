"""Slack listeners, grouped by what Slack sends. Each is thin: parse, authorise, call, render."""

from slack_bolt import App

from handlers import (
    actions,
    assignments,
    commands,
    events,
    monitoring,
    plan_editor,
    qa,
    reviews,
    team,
)


def register_listeners(app: App) -> None:
    commands.register(app)
    actions.register(app)
    events.register(app)
    plan_editor.register(app)
    team.register(app)
    qa.register(app)
    assignments.register(app)
    reviews.register(app)
    monitoring.register(app)
