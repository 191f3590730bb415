"""Jinja2 templates under templates/ rendered to Block Kit JSON (and the plan document)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def render_json(name: str, **context: Any) -> Any:
    """Renders a `.json.j2` template and parses it; a template that is not valid JSON fails here."""
    return json.loads(_environment().get_template(name).render(**context))


def escape_mrkdwn(text: Any) -> str:
    """Slack's mrkdwn needs &, < and > escaped, or a name like "<@here>" becomes a ping."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(slack_user_id: str | None, name: str) -> str:
    """A mrkdwn mention when we know the Slack user, else the name."""
    return f"<@{slack_user_id}>" if slack_user_id else escape_mrkdwn(name)


def year_label(year: int) -> str:
    return "Reception" if year == 0 else f"Year {year}"


def uk_date(value) -> str:
    return f"{value.day} {value:%b %Y}" if value else "not set"


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["esc"] = escape_mrkdwn
    env.filters["year"] = year_label
    env.filters["uk_date"] = uk_date
    env.filters["truncate_text"] = _truncate
    env.globals["mention"] = mention
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False}
    return env


def _truncate(text: str, limit: int) -> str:
    # Slack rejects a section over 3,000 characters; a cut string says it was cut.
    return text if len(text) <= limit else text[: limit - 1] + "…"
