"""`/ssp provision`: the school's provision map for the SENDCo and senior leaders, one click to
any intervention's pupils, and `/ssp provision export` for governors and the local authority.

The map is figures only (bot.services.provision_map); the "Pupils" button beside an intervention
names its pupils, in a reply only the person sees, and is audited as access to each pupil's plan.
Who may do either is checked from the verified request on every click (role middleware, and the
intervention looked up in the viewer's own school: the button's value is only a hint).
"""

from __future__ import annotations

import re
from datetime import date

from slack_bolt import Ack, App, Respond

from bot.access import Viewer
from bot.errors import UserError
from bot.render import escape_mrkdwn, mention, year_label
from bot.services import audit
from bot.services.calendar import load_calendar, short_date
from bot.services.download_links import LINK_LIFETIME, MAX_DOWNLOADS, FileFormat, create_map_links
from bot.services.provision_map import (
    DEFAULT_PERIOD,
    PERIODS,
    Intervention,
    InterventionPupils,
    ProvisionMap,
    intervention_pupils,
    map_period,
    pounds,
    provision_map,
)
from bot.slack_limits import MAX_SECTION_TEXT
from handlers.context import Ask, Runtime, Subcommand, Usage
from handlers.presenters import pager
from handlers.toolkit import UsageError, as_int, message, notice, page_of, requires

MAP_ONLY = (
    "`/ssp provision` (the school's provision map) is for the SENDCo and senior leaders. "
    "If you run an intervention group, your sessions come to you as a message after each one; "
    "ask your SENDCo if you need the figures."
)
NO_SUCH_INTERVENTION = (
    "I couldn't find that intervention in your school's provision map. Type `/ssp provision` "
    "to see the map as it is now."
)
USAGE = (
    "`/ssp provision [term|year|all]` shows the school's provision map for this term, this "
    "school year (the default) or all time; `/ssp provision [term|year|all] export` gives it "
    "as CSV, PDF and a web page for governors and the local authority."
)
LIBRARY_SOON = (
    "The provision library (`/ssp provision library`) isn't available here yet. "
    "`/ssp provision` shows the school's provision map."
)
PUPILS_ACTION = "provision_pupils"
EXPORT_ACTION = "provision_export"
# One action id per period button: Slack refuses a block whose buttons repeat one.
PERIOD_ACTION = "provision_period"
PERIOD_BUTTONS = (("term", "This term"), ("year", "This school year"), ("all", "All time"))
VIA = "/ssp provision"
VIA_PUPILS = "provision map: pupils"
VIA_EXPORT = "/ssp provision export"
DOWNLOAD_PATH = "/download/"
# Slack shows at most 50 blocks in a message: the header, the summary, the period buttons, the
# pager, the breakdowns, the export button and the footer leave room for far more than this
# many interventions a page; Previous/Next turn to the rest.
MAP_PER_PAGE = 20
# Pupils per section of the pupils reply (each section stays far below 3,000 characters).
PUPILS_PER_SECTION = 12
MAX_PUPIL_SECTIONS = 40  # with the title and the footer, inside a message's 50 blocks
MAX_PUPILS_SHOWN = MAX_PUPIL_SECTIONS * PUPILS_PER_SECTION


def register(app: App) -> None:
    whole_school = [requires(lambda viewer: viewer.sees_whole_school, MAP_ONLY)]
    app.action(re.compile(rf"^{PUPILS_ACTION}_\d+$"), middleware=whole_school)(show_pupils)
    app.action(EXPORT_ACTION, middleware=whole_school)(export_from_button)
    app.action(re.compile(rf"^{PERIOD_ACTION}_(term|year|all)$"), middleware=whole_school)(
        choose_period
    )


# --- /ssp provision ---------------------------------------------------------------------------


def provision_command(ask: Ask) -> dict:
    words = [word.lower() for word in ask.words]
    if words[:1] == ["library"]:
        return notice(LIBRARY_SOON)
    periods = [w for w in words if w in PERIODS]
    rest = [w for w in words if w not in PERIODS]
    if len(periods) > 1 or rest not in ([], ["export"]):
        raise UsageError(USAGE)
    period = periods[0] if periods else DEFAULT_PERIOD
    if rest == ["export"]:
        return _export(ask.runtime, ask.viewer, period)
    return map_reply(ask.runtime, ask.viewer, ask.today, period, page=ask.page)


def map_reply(runtime: Runtime, viewer: Viewer, today: date, period: str, *, page: int = 1) -> dict:
    """The map over `period` ("term", "year" or "all"), at `page` of its interventions."""
    with runtime.unit_of_work() as session:
        over = map_period(period, load_calendar(session, viewer.school_id), today)
        found = provision_map(session, viewer.school_id, today, over)
        # Figures only: one row says who looked, and at what.
        audit.record_by(
            session,
            viewer,
            action="list",
            via=VIA,
            now=runtime.now(),
            detail=(
                f"provision map (figures only, {over.key}): "
                f"{len(found.interventions)} interventions"
            ),
        )
    return message("provision_map.json.j2", **map_words(found, page=page))


def choose_period(
    ack: Ack, action: dict, respond: Respond, runtime: Runtime, viewer: Viewer, today: date
) -> None:
    """This term / This school year / All time: the map again, over that period, in place."""
    period = str(action.get("action_id", "")).rsplit("_", 1)[-1]
    reply = map_reply(runtime, viewer, today, period if period in PERIODS else DEFAULT_PERIOD)
    ack()
    respond(replace_original=True, **reply)


def map_words(found: ProvisionMap, *, page: int = 1) -> dict:
    """What the map says, as the template lays it out (also printed by the demo tour)."""
    period = found.period.key
    turn = page_of(found.interventions, page, MAP_PER_PAGE)
    shown = turn.items
    total = found.sessions
    if found.interventions:
        summary = (
            f"*{_count(len(found.interventions), 'intervention')}* · "
            f"{_count(found.groups, 'group')} · {_count(found.pupils, 'pupil')} in groups · "
            f"{_sessions(total)} · "
            f"cost {pounds(found.cost_pence)}"
        )
    else:
        summary = (
            "*No intervention groups yet.* When the SENDCo sets up groups from the provision "
            "library, each intervention's pupils, sessions, cost and impact show here."
        )
    more = (
        f"Interventions {(turn.page - 1) * MAP_PER_PAGE + 1}–"
        f"{(turn.page - 1) * MAP_PER_PAGE + len(shown)} of {turn.total} · page {turn.page} of "
        f"{turn.pages}"
        if turn.pages > 1
        else ""
    )
    if found.unlogged:
        total_unlogged = sum(n for *_, n, _ in found.unlogged)
        oldest = min(day for *_, day in found.unlogged)
        who = ", ".join(
            f"{mention(slack_id, name)} {n}" for _, name, slack_id, n, _ in found.unlogged[:10]
        )
        others = len(found.unlogged) - 10
        summary += (
            f"\n*Sessions not yet logged:* {total_unlogged}, the oldest on {short_date(oldest)}"
            f" — {who}"
            + (f" and {others} more staff" if others > 0 else "")
            + ". `/ssp sessions @someone` lists them to log."
        )
    return dict(
        text="The school's provision map",
        summary=f"*{escape_mrkdwn(found.covers)}*\n{summary}",
        periods=[
            (f"{PERIOD_ACTION}_{key}", label, key, key == period) for key, label in PERIOD_BUTTONS
        ],
        pager=pager(f"provision {period}", turn),
        interventions=[
            (_intervention_text(i), f"{PUPILS_ACTION}_{i.library_id}", i.library_id) for i in shown
        ],
        more=more,
        by_year=_breakdown("By year group", found.by_year),
        by_area=_breakdown("By area of need", found.by_area),
        export_action=EXPORT_ACTION,
        export_value=period,
        about=(
            "Only you can see this. Sessions: due in the period so far, and logged as delivered; "
            "review decisions: those of reviews held in the period; pupils: in groups today. "
            "Cost: "
            "sessions delivered × cost per session + pupils × cost per pupil. Progress: exit − "
            "entry measure (reading age in months). By year and area, a session counts once per "
            "pupil it was planned for."
            + (f" {found.unused} library items not in use are not listed." if found.unused else "")
        ),
    )


def _sessions(d) -> str:
    return d.describe()  # "10 of 12 sessions delivered (83%), 1 not yet logged"


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _intervention_text(i: Intervention) -> str:
    retired = " (retired)" if not i.is_active else ""
    lines = [
        f"*{escape_mrkdwn(i.name)}*{retired} · {i.area.label} · {i.tier.label}",
        f"{_count(i.pupils, 'pupil')} · {_count(i.groups, 'group')} · {_sessions(i.sessions)} · "
        f"cost {pounds(i.cost_pence)}",
        "Progress: "
        + ("; ".join(p.describe() for p in i.progress) if i.progress else "no measures yet"),
    ]
    d = i.decisions
    if d.continued or d.adapted or d.stopped or d.rated:
        lines.append(
            f"Reviews: continue {d.continued} · adapt {d.adapted} · stop {d.stopped} · "
            f"effectiveness {d.describe_effectiveness()}"
        )
    else:
        lines.append("Reviews: no decisions yet")
    return "\n".join(lines)


def _breakdown(title: str, rows) -> str:
    if not rows:
        return f"*{title}*\nNo pupils in intervention groups yet."
    return f"*{title}*\n" + "\n".join(
        f"• {escape_mrkdwn(b.label)}: {_count(b.pupils, 'pupil')} · "
        f"{b.sessions.delivered} of {b.sessions.planned} pupil sessions delivered · "
        f"cost {pounds(b.cost_pence)}"
        for b in rows
    )


# --- one click to an intervention's pupils ----------------------------------------------------


def show_pupils(
    ack: Ack, action: dict, respond: Respond, runtime: Runtime, viewer: Viewer, today: date
) -> None:
    """ "Pupils" beside an intervention: who is in its groups, delivery and progress each.

    The intervention is looked up in the viewer's school (the value is only a hint); showing the
    pupils is audited as access to each one's plan (one row per pupil, one statement)."""
    library_id = as_int(action.get("value"))
    with runtime.unit_of_work() as session:
        found = intervention_pupils(session, viewer.school_id, library_id, today)
        if found is None:
            audit.record_refusal(
                session,
                viewer,
                via=VIA_PUPILS,
                now=runtime.now(),
                detail="provision map: an intervention not in this school",
            )
        else:
            audit.record_list(
                session,
                via=VIA_PUPILS,
                now=runtime.now(),
                school_id=viewer.school_id,
                staff_id=viewer.staff_id,
                plans=[(p.plan_id, p.pupil_id) for p in found.pupils],
                detail=f"provision map: pupils in intervention {found.library_id}",
            )
    if found is None:
        raise UserError(NO_SUCH_INTERVENTION)
    ack()
    respond(replace_original=False, **message("provision_pupils.json.j2", **_pupils_words(found)))


def _pupils_words(found: InterventionPupils) -> dict:
    lines = []
    for p in found.pupils[:MAX_PUPILS_SHOWN]:
        rate = (
            f"{p.delivery.delivered} of {p.delivery.planned} sessions ({p.delivery.rate:.0%})"
            if p.delivery.planned
            else "no sessions due yet"
        )
        progress = "; ".join(p.progress) if p.progress else "no measures yet"
        lines.append(
            f"• *{escape_mrkdwn(p.name)}* · {year_label(p.year_group)} · "
            f"{escape_mrkdwn(', '.join(p.groups))} · {rate} · {escape_mrkdwn(progress)}"
            + ("" if p.plan_id else " · no open plan")
        )
    chunks = _chunks(lines)[:MAX_PUPIL_SECTIONS]
    listed = sum(chunk.count("\n") + 1 for chunk in chunks)
    name = escape_mrkdwn(found.name)
    count = len(found.pupils)
    return dict(
        text=f"Pupils in {name}",
        title=f"{name}: {count} pupil{'s' if count != 1 else ''} in its groups",
        chunks=chunks or ["Nobody is in this intervention's groups today."],
        about=(
            "Only you can see this. Delivery: sessions delivered with the pupil there, of those "
            "planned for them. Progress: entry → exit measure on their plan."
            + (f" The first {listed} are listed." if count > listed else "")
        ),
    )


def _chunks(lines: list[str]) -> list[str]:
    """Lines in sections of at most PUPILS_PER_SECTION lines and Slack's 3,000 characters a
    section (long group names make long lines); a line longer than a section is cut."""
    limit = MAX_SECTION_TEXT - 100
    chunks: list[list[str]] = []
    size = 0
    for line in lines:
        line = line if len(line) <= limit else line[: limit - 1] + "…"
        if not chunks or len(chunks[-1]) >= PUPILS_PER_SECTION or size + len(line) + 1 > limit:
            chunks.append([])
            size = 0
        chunks[-1].append(line)
        size += len(line) + 1
    return ["\n".join(chunk) for chunk in chunks]


# --- the export -------------------------------------------------------------------------------


def export_from_button(
    ack: Ack, action: dict, respond: Respond, runtime: Runtime, viewer: Viewer
) -> None:
    # The value is only the period shown (an old button's "map": the default).
    period = str(action.get("value") or "")
    reply = _export(runtime, viewer, period if period in PERIODS else DEFAULT_PERIOD)
    ack()
    respond(replace_original=False, **reply)


def _export(runtime: Runtime, viewer: Viewer, period: str = DEFAULT_PERIOD) -> dict:
    with runtime.unit_of_work() as session:
        tokens = create_map_links(session, viewer, runtime.now(), via=VIA_EXPORT, period=period)
    covers = dict(PERIOD_BUTTONS)[period].lower()
    base = runtime.settings.link_base.rstrip("/") + DOWNLOAD_PATH
    csv, pdf, html = (base + tokens[f] for f in (FileFormat.CSV, FileFormat.PDF, FileFormat.HTML))
    minutes = int(LINK_LIFETIME.total_seconds() // 60)
    return message(
        "export_links.json.j2",
        text="The provision map is ready to download.",
        links=(
            f"The provision map for {covers} (figures only, no pupil named) is ready: "
            f"<{csv}|Download the CSV> · <{pdf}|Download the PDF> · "
            f"<{html}|Download it as a web page (HTML)>"
        ),
        terms=(
            f"Only you can see this message. The links work for {minutes} minutes and "
            f"{MAX_DOWNLOADS} downloads each, and only while you are the SENDCo or a senior "
            "leader. The figures are as they are when you download."
        ),
    )


# --- /ssp subcommands answered here -----------------------------------------------------------

SUBCOMMANDS = (
    Subcommand(
        "provision",
        provision_command,
        help=(
            Usage(
                "`/ssp provision [term|year|all] [export]` — the school's provision map for this "
                "term, this school year (the default) or all time: each intervention's pupils, "
                "sessions delivered, cost, progress and review decisions, by year group and "
                "area of need; `export` for governors and the local authority (CSV, PDF)",
                lambda viewer: viewer.sees_whole_school,
            ),
        ),
        allowed=lambda viewer: viewer.sees_whole_school,
        refusal=MAP_ONLY,
    ),
)
