"""The one Jinja2 environment: templates shipped in the `templates` package, rendered to Block Kit
JSON (autoescape off: JSON has its own escaping, `|tojson`) or to HTML documents (autoescape on, so
a plan containing `<script>` prints as text). Which is which follows the file name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


def render_json(name: str, **context: Any) -> Any:
    """Renders a `.json.j2` template and parses it; a template that is not valid JSON fails here.

    A message's top-level `text` (what a notification shows) is read as mrkdwn by Slack too, and
    is often made of names: it leaves here with &, < and > escaped (see `escape_unescaped`)."""
    rendered = json.loads(_environment().get_template(name).render(**context))
    if isinstance(rendered, dict) and isinstance(rendered.get("text"), str):
        rendered["text"] = escape_unescaped(rendered["text"])
    return rendered


def render_html(name: str, **context: Any) -> str:
    """Renders an `.html.j2` template with every value HTML-escaped (autoescape on)."""
    return _environment().get_template(name).render(**context)


def add_filters(**filters: Callable[..., Any]) -> None:
    """Lets a module that owns a vocabulary (bot.document's labels) lend it to templates."""
    _environment().filters.update(filters)


def escape_mrkdwn(text: Any) -> str:
    """Slack's mrkdwn needs &, < and > escaped, or a name like "<@here>" becomes a ping."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# What escape_unescaped leaves alone: an escape already made, and a mention the bot built.
_ALREADY_MRKDWN = re.compile(r"(&(?:amp|lt|gt);|<@U[A-Z0-9]+>)")


def escape_unescaped(text: Any) -> str:
    """`escape_mrkdwn` for text that may already be partly mrkdwn: help and refusals written in
    the code (`<UPN or name>` must show as typed, not vanish as a link), a refusal that names a
    pupil already escaped, a notice with a mention the bot made. What is escaped already, and
    `<@U…>` mentions, are kept; every other &, < and > is escaped. Text that is wholly a person's
    words still goes through `escape_mrkdwn` where it is made, so a typed "<@U1>" stays words."""
    parts = _ALREADY_MRKDWN.split(str(text))
    # split() with one group: odd positions are the matches kept as they are.
    return "".join(part if i % 2 else escape_mrkdwn(part) for i, part in enumerate(parts))


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
        # From the installed package, not the checkout: a wheel carries its templates.
        loader=PackageLoader("templates", "."),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
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
