"""`/ssp`: a table of subcommands, each from the listener module that answers it.

The table decides routing, who sees which line of `/ssp help`, and where Previous/Next buttons
go: a pager's value is the command it pages and the page number, routed back through here.
"""

from __future__ import annotations

from datetime import date

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.access import Viewer
from bot.errors import UserError
from bot.render import escape_mrkdwn, escape_unescaped
from handlers import (
    closure,
    export,
    glossary,
    groups,
    monitoring,
    observations,
    pages,
    passport,
    plan_editor,
    provision_library,
    provision_map,
    qa,
    reviews,
    sessions,
    settings,
    support,
    team,
)
from handlers.context import Ask, Runtime, Subcommand, Usage
from handlers.presenters import PAGE_SEPARATOR
from handlers.toolkit import UsageError, message, notice

COMMANDS = ("/ssp",)
EXPIRED = "That button has expired. Ask again with `/ssp`."


def register(app: App) -> None:
    app.command("/ssp")(ssp)
    # Previous and Next need their own action ids (Slack refuses a block that repeats one);
    # "ssp_page" still answers the single-button pagers of messages sent before.
    for action_id in ("ssp_page_previous", "ssp_page_next", "ssp_page"):
        app.action(action_id)(turn_page)


def ssp(
    ack: Ack,
    command: dict,
    respond: Respond,
    client: WebClient,
    runtime: Runtime,
    viewer: Viewer,
    today: date,
) -> None:
    ack()
    asked = (command.get("text") or "").strip()
    ask = _ask(asked, runtime, viewer, today, client, respond, command.get("trigger_id"))
    reply = answer(asked, ask)
    if reply is not None:
        respond(**reply)


def turn_page(
    ack: Ack,
    action: dict,
    respond: Respond,
    client: WebClient,
    runtime: Runtime,
    viewer: Viewer,
    today: date,
) -> None:
    """Previous/Next: the value names the command and page; who may see it is decided afresh."""
    ack()
    asked, _, number = str(action.get("value") or "").rpartition(PAGE_SEPARATOR)
    subcommand = TABLE.get(asked.split(" ", 1)[0].lower())
    if subcommand is None or not subcommand.pages or not number.isdigit():
        reply = help_reply(viewer, EXPIRED)
    else:
        ask = _ask(asked, runtime, viewer, today, client, respond, None, page=int(number))
        reply = answer(asked, ask)
    if reply is not None:
        respond(replace_original=True, **reply)


def answer(asked: str, ask: Ask) -> dict | None:
    """Runs the subcommand `asked` names; the reply to send, or None if it answered itself."""
    name = asked.split(" ", 1)[0].lower() or "help"
    subcommand = TABLE.get(name)
    if subcommand is None or (ask.words and not subcommand.takes_words):
        return help_reply(ask.viewer, f"I don't know `{escape_mrkdwn(_quote(asked))}`.")
    if subcommand.allowed is not None and not subcommand.allowed(ask.viewer):
        return notice(escape_unescaped(subcommand.refusal))
    try:
        return subcommand.run(ask)
    except UsageError as problem:
        return help_reply(ask.viewer, str(problem))
    except UserError as refusal:
        # Answered here, not by toolkit.answer_error: /ssp has acknowledged already (a long
        # answer may take more than Slack's three seconds), and Bolt drops an acknowledgement
        # when the listener then raises.
        # A refusal may name a pupil (a service's words, unescaped) or hold `<UPN or name>`.
        return notice(escape_unescaped(str(refusal)))


def help_reply(viewer: Viewer, problem: str | None = None) -> dict:
    """`/ssp help`, generated from the table for this person (with what went wrong, if anything)."""
    # Help lines name placeholders like `<UPN or name>`, which Slack would take for a link.
    lines = [
        escape_unescaped(usage.text)
        for sub in TABLE.values()
        for usage in sub.help
        if usage.who(viewer)
    ]
    problem = escape_unescaped(problem) if problem else problem
    return message(
        "ssp_help.json.j2",
        summary=f"{problem} Here's what /ssp can do." if problem else "Here's what /ssp can do.",
        problem=problem,
        can_do=_in_sections(["*What `/ssp` can do for you*", *lines]),
    )


HELP_SECTION = 2900  # Slack takes 3,000 characters of text in a section block


def _in_sections(lines: list[str]) -> list[str]:
    """The lines as few section texts as fit Slack's limit, never breaking a line: the SENDCo's
    help is longer than one section holds, and a cut line would hide the commands after it."""
    sections: list[str] = []
    for line in lines:
        if sections and len(sections[-1]) + 1 + len(line) <= HELP_SECTION:
            sections[-1] += "\n" + line
        else:
            sections.append(line)
    return sections


def _ask(asked, runtime, viewer, today, client, respond, trigger_id, page=1) -> Ask:
    _, _, rest = asked.partition(" ")
    return Ask(
        runtime=runtime,
        viewer=viewer,
        today=today,
        client=client,
        respond=respond,
        words=rest.split(),
        text=rest.strip(),
        trigger_id=trigger_id,
        page=page,
    )


def _quote(text: str) -> str:
    return " ".join(text.split())[:60].replace("`", "'")


def help_command(ask: Ask) -> dict:
    return help_reply(ask.viewer)


_HELP = Subcommand(
    "help",
    help_command,
    help=(Usage("`/ssp help` — this list"),),
)

# The order of `/ssp help`, by name: a module adding a subcommand must place it here, or the
# import below fails, rather than its help being dropped or landing wherever a slice puts it.
HELP_ORDER = (
    "caseload",
    "overdue",
    "monitoring",
    "provision",
    "feedback",
    "team",
    "priority",
    "assign",
    "support",
    "groups",
    "group",
    "qa",
    "pupil",
    "passport",
    "observe",
    "sessions",
    "class",
    "plan",
    "export",
    "review",
    "note",
    "close",
    "mine",
    "settings",
    "glossary",
    "help",
)


# `/ssp provision` is two features: the map (the SENDCo's and senior leaders') and, with
# `library`, the school's provision library (read by everyone who supports pupils). Each keeps
# its own rule of who may use it.
(_MAP,) = provision_map.SUBCOMMANDS
(_LIBRARY,) = provision_library.SUBCOMMANDS


def _provision(ask: Ask) -> dict | None:
    part = _LIBRARY if [w.lower() for w in ask.words[:1]] == ["library"] else _MAP
    if part.allowed is not None and not part.allowed(ask.viewer):
        return notice(escape_unescaped(part.refusal))
    return part.run(ask)


_PROVISION = Subcommand(
    "provision",
    _provision,
    help=_MAP.help + _LIBRARY.help,
    allowed=lambda viewer: _MAP.allowed(viewer) or _LIBRARY.allowed(viewer),
    refusal=_LIBRARY.refusal,
    pages=True,
)


def _table(order: tuple[str, ...], *subcommands: Subcommand) -> dict[str, Subcommand]:
    """The subcommands by name in `order`; refuses to start if a name is missing, extra, or
    claimed twice."""
    names = [sub.name for sub in subcommands]
    twice = sorted(
        {name for name in names if names.count(name) > 1}
        | {name for name in order if order.count(name) > 1}
    )
    unplaced = sorted(set(names) - set(order))
    unknown = sorted(set(order) - set(names))
    if twice or unplaced or unknown:
        raise RuntimeError(
            f"/ssp table: named twice {twice}, missing from HELP_ORDER {unplaced}, "
            f"in HELP_ORDER but no module answers it {unknown}"
        )
    by_name = {sub.name: sub for sub in subcommands}
    return {name: by_name[name] for name in order}


TABLE: dict[str, Subcommand] = _table(
    HELP_ORDER,
    *pages.SUBCOMMANDS,
    *passport.SUBCOMMANDS,
    *observations.SUBCOMMANDS,
    *sessions.SUBCOMMANDS,
    *monitoring.SUBCOMMANDS,
    _PROVISION,
    *team.SUBCOMMANDS,
    *support.SUBCOMMANDS,
    *groups.SUBCOMMANDS,
    *qa.SUBCOMMANDS,
    *plan_editor.SUBCOMMANDS,
    *export.SUBCOMMANDS,
    *reviews.SUBCOMMANDS,
    *closure.SUBCOMMANDS,
    *settings.SUBCOMMANDS,
    *glossary.SUBCOMMANDS,
    _HELP,
)
