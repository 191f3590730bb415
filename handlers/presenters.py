"""The words of Block Kit messages, prepared in Python so that templates only lay them out.

A presenter turns what a service returns into the strings a template places (already escaped
for mrkdwn where they are mrkdwn); templates then hold loops, conditionals and `|tojson`, never
string arithmetic. Shared by every listener module.
"""

from __future__ import annotations

from bot.render import escape_mrkdwn, year_label


def pupil_line(
    name: str,
    year_group: int,
    form: str | None = None,
    *,
    has_plan: bool = True,
    bold: bool = True,
) -> str:
    """How a pupil is named in a list: "*Ava Stone* · Year 8 (8B)", then "· no plan" if so."""
    shown = f"*{escape_mrkdwn(name)}*" if bold else escape_mrkdwn(name)
    line = f"{shown} · {year_label(year_group)}"
    if form:
        line += f" ({escape_mrkdwn(form)})"
    return line if has_plan else f"{line} · no plan"
