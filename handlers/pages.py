"""The `/ssp` answers that read the caseload: `caseload`, `overdue`, `mine`, `pupil`.

Each subcommand calls one service and renders one template; every reply is an ephemeral message
(keyword arguments for Bolt's `respond`). The "Show" button beside a pupil, when a query matched
several, is answered here too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from slack_bolt import Ack, App, Respond
from sqlalchemy.orm import Session

from bot.access import Viewer
from bot.errors import UserError
from bot.render import escape_mrkdwn, mention, uk_date, year_label
from bot.services import assignments, audit, m365, monitoring, outbox, review_schedule
from bot.services.caseload import (
    PlanLine,
    failed_prompts,
    holder_caseload,
    overdue_reviews,
    school_caseload,
)
from bot.services.pupils import find_pupil_records, plan_summary
from handlers.context import Ask, Runtime, Subcommand, Usage
from handlers.presenters import (
    caseload_counts,
    joined,
    page_value,
    pager,
    plan_at_a_glance,
    plan_line,
    plural,
)
from handlers.slack_api import staff_for_slack_user
from handlers.toolkit import (
    NO_ACCESS,
    NO_SUCH_PUPIL,
    NOT_ON_STAFF_LIST,
    SHOW_PUPIL,
    WHOLE_SCHOOL_ONLY,
    UsageError,
    as_typed,
    find_one_pupil,
    mentioned_user,
    message,
    notice,
    page_of,
    requires,
)
from models import School

PAGE_SIZE = 15  # plans per message: well inside Slack's 50 blocks and 3,000 characters a block
HOLDERS_PER_PAGE = 20
FAILED_IN_CASELOAD = 10  # undelivered messages in `/ssp caseload`; the rest are a button away
FAILED_PER_PAGE = 20  # in `/ssp caseload failed`: 20 lines, well inside a block's 3,000 characters
NOT_VISIBLE = "I couldn't find that pupil among the pupils you can see."


def register(app: App) -> None:
    sees_pupils = [requires(lambda viewer: viewer.sees_anything, NO_ACCESS)]
    app.action("ssp_show_pupil", middleware=sees_pupils)(show_pupil)


# --- /ssp caseload, overdue, mine --------------------------------------------------------------


def caseload_command(ask: Ask) -> dict:
    """The whole school's caseload, or one person's (`/ssp caseload @name`)."""
    if not ask.words:
        return _school_caseload(ask.runtime, ask.viewer, ask.today, ask.page)
    if [w.lower() for w in ask.words] == ["failed"]:
        return _failed_prompts(ask.runtime, ask.viewer, ask.page)
    slack_user_id = mentioned_user(ask.words[0]) if len(ask.words) == 1 else None
    if slack_user_id is None:
        raise UsageError("To see one person's caseload, mention them: `/ssp caseload @name`.")
    if not ask.viewer.sees_whole_school and slack_user_id != ask.viewer.slack_user_id:
        # Refused before anyone is looked up: the answer must not tell whether @x is on the
        # staff list.
        raise UserError(WHOLE_SCHOOL_ONLY)
    with ask.runtime.unit_of_work() as session:
        holder = staff_for_slack_user(session, ask.client, ask.viewer.school_id, slack_user_id)
        if holder is None:
            raise UserError(f"{NOT_ON_STAFF_LIST}, so they hold no plans here.")
        if not ask.viewer.sees_whole_school and holder.id != ask.viewer.staff_id:
            raise UserError(WHOLE_SCHOOL_ONLY)
        holder_id, name = holder.id, holder.display_name
    return _plan_list(
        ask,
        lambda session: holder_caseload(session, ask.viewer.school_id, holder_id, ask.today),
        title=f"{name}'s caseload",
        empty=f"{name} doesn't hold any plans at the moment.",
        asked=f"caseload <@{slack_user_id}>",
        via="/ssp caseload @someone",
    )


def overdue_command(ask: Ask) -> dict:
    def escalated(session: Session) -> dict[int, str]:
        school = session.get(School, ask.viewer.school_id)
        return {
            state.plan_id: "escalated: no notes 5+ school days after the reminder"
            for state in review_schedule.review_states(session, school, ask.today)
            if state.escalated
        }

    return _plan_list(
        ask,
        lambda session: overdue_reviews(session, ask.viewer.school_id, ask.today),
        title="Overdue reviews",
        empty="No reviews are overdue. :tada:",
        asked="overdue",
        via="/ssp overdue",
        show_holder=True,
        flags=escalated,
    )


def mine_command(ask: Ask) -> dict:
    return _plan_list(
        ask,
        lambda session: holder_caseload(
            session, ask.viewer.school_id, ask.viewer.staff_id, ask.today
        ),
        title="Plans you hold",
        empty="You don't hold any SEN Support Plans at the moment.",
        asked="mine",
        via="/ssp mine",
    )


# --- /ssp pupil --------------------------------------------------------------------------------


def pupil_command(ask: Ask) -> dict:
    if not ask.words:
        raise UsageError("Say which pupil: `/ssp pupil <UPN or name>`.")
    query = " ".join(ask.words)
    choice = find_one_pupil(
        ask.runtime, ask.viewer, query, SHOW_PUPIL, via="/ssp pupil", find=find_pupil_records
    )
    if choice.pupil_id is None:
        return choice.choices
    with ask.runtime.unit_of_work() as session:
        summary = _summary(ask.runtime, session, ask.viewer, choice.pupil_id, ask.today)
    if summary is None:
        raise UserError(NO_SUCH_PUPIL.format(query=escape_mrkdwn(as_typed(query)[:80])))
    return summary


def show_pupil(
    ack: Ack, action: dict, respond: Respond, runtime: Runtime, viewer: Viewer, today: date
) -> None:
    """The "Show" button beside one of several pupils a query matched."""
    value = str(action.get("value") or "")
    summary = None
    if value.isdigit():
        with runtime.unit_of_work() as session:
            summary = _summary(runtime, session, viewer, int(value), today)
    ack()
    respond(replace_original=True, **(summary or notice(NOT_VISIBLE)))


# --- helpers ----------------------------------------------------------------------------------


def _school_caseload(runtime: Runtime, viewer: Viewer, today: date, page: int) -> dict:
    if not viewer.sees_whole_school:
        raise UserError(WHOLE_SCHOOL_ONLY)
    with runtime.unit_of_work() as session:
        caseload = school_caseload(session, viewer.school_id, today)
        unanswered = assignments.unanswered_after_reminder(session, viewer.school_id)
        unreachable, failed = failed_prompts(session, viewer.school_id, limit=FAILED_IN_CASELOAD)
        roster_sync = m365.sync_status(session, viewer.school_id)
        audit.record_by(
            session,
            viewer,
            action="summary",
            via="/ssp caseload",
            now=runtime.now(),
            detail="whole-school caseload counts",
        )
    shown = page_of(caseload.holders, page, HOLDERS_PER_PAGE)
    totals = caseload.totals
    follow_up = [
        f"• {escape_mrkdwn(u.staff_name)} hasn't answered the assignment for "
        f"{escape_mrkdwn(u.pupil_name)} (sent {uk_date(u.assigned_on)}), even after a reminder"
        for u in unanswered[:10]
    ] + [_undelivered(u) for u in unreachable]
    more_failed = failed - len(unreachable)
    if more_failed > 0:
        follow_up.append(
            f"…and {plural(more_failed, 'more message')} that couldn't be delivered: "
            "*See all* below, or `/ssp caseload failed`."
        )
    return message(
        "caseload_school.json.j2",
        summary=f"School caseload: {totals.plans} plans, {totals.overdue} reviews overdue",
        as_of=(
            f"As of {uk_date(caseload.today)}. Due soon means in the next 14 days."
            + (f" Page {shown.page} of {shown.pages}." if shown.pages > 1 else "")
        ),
        totals=f"*All plans*: {caseload_counts(totals)}",
        leavers=_leavers(caseload),
        holders=[
            f"*{mention(h.slack_user_id, h.name) if h.staff_id else '_No case holder_'}*  "
            f"{caseload_counts(h, short=True)}"
            for h in shown.items
        ],
        follow_up="\n".join(["*Needs following up*", *follow_up]) if follow_up else None,
        by_area="*By area of need*\n"
        + ("\n".join(f"{label}: {n}" for label, n in caseload.by_area) or "none"),
        by_year="*By year group*\n"
        + ("\n".join(f"{year_label(year)}: {n}" for year, n in caseload.by_year) or "none"),
        roster_sync=_roster_sync(roster_sync) if roster_sync else None,
        pager=pager("caseload", shown),
        # Its own action id: the holders' Previous/Next share its row, and Slack refuses a
        # block that repeats one. "ssp_page" is routed like them (handlers.commands).
        see_failed=(
            (f"See all {failed} undelivered", page_value("caseload failed", 1))
            if more_failed > 0
            else None
        ),
    )


def _leavers(caseload) -> str | None:
    """Pupils who have left with a plan still open: counted here, not as due or overdue."""
    if not caseload.leavers:
        return None
    n = caseload.leavers
    return (
        f"*Left the school*: {plural(n, 'pupil has', 'pupils have')} left with an open plan "
        f"(not counted above); {'its' if n == 1 else 'their'} plan"
        f"{'' if n == 1 else 's'} close{'s' if n == 1 else ''} by "
        f"{uk_date(caseload.leavers_close_by)} unless closed sooner (the leavers message, "
        "or `/ssp close <name>`)."
    )


def _undelivered(u: outbox.UnreachablePrompt) -> str:
    what = outbox.kind_label(u.kind)
    return f"• Couldn't reach {escape_mrkdwn(u.recipient)} ({what}): {u.reason}"


def _failed_prompts(runtime: Runtime, viewer: Viewer, page: int) -> dict:
    """`/ssp caseload failed`: every message that couldn't be delivered, a page at a time."""
    if not viewer.sees_whole_school:
        raise UserError(WHOLE_SCHOOL_ONLY)
    with runtime.unit_of_work() as session:
        _, total = failed_prompts(session, viewer.school_id, limit=0)
        shown = page_of(range(total), page, FAILED_PER_PAGE)
        rows, total = failed_prompts(
            session,
            viewer.school_id,
            offset=(shown.page - 1) * FAILED_PER_PAGE,
            limit=FAILED_PER_PAGE,
        )
    if not total:
        return notice("Every message SSP Bot sent has been delivered. :white_check_mark:")
    return message(
        "failed_prompts.json.j2",
        summary=f"{plural(total, 'message')} couldn't be delivered",
        about=(
            f"{plural(total, 'message')} couldn't be delivered, newest first. Follow each up "
            "by hand: the person hasn't seen it."
            + (f" Page {shown.page} of {shown.pages}." if shown.pages > 1 else "")
        ),
        lines=[_undelivered(u) for u in rows],
        pager=pager("caseload failed", shown),
    )


def _plan_list(
    ask: Ask,
    lines: Callable[[Session], list[PlanLine]],
    *,
    title: str,
    empty: str,
    asked: str,
    via: str,
    show_holder: bool = False,
    flags: Callable[[Session], dict[int, str]] | None = None,
) -> dict:
    with ask.runtime.unit_of_work() as session:
        shown = page_of(lines(session), ask.page, PAGE_SIZE)
        flagged = flags(session) if flags else {}
        audit.record_list(
            session,
            via=via,
            now=ask.runtime.now(),
            school_id=ask.viewer.school_id,
            staff_id=ask.viewer.staff_id,
            plans=[(p.plan_id, p.pupil_id) for p in shown.items],
            detail=title,
        )
    shown_pager = pager(asked, shown)
    return message(
        "plan_list.json.j2",
        summary=f"{title}: {plural(shown.total, 'plan')}",
        title=title,
        empty=empty,
        about=joined(
            plural(shown.total, "plan"),
            shown_pager.of() if shown.pages > 1 else None,
            f"as of {uk_date(ask.today)}",
            f":rotating_light: {len(flagged)} escalated to the SENDCo" if flagged else None,
        ),
        plans=[
            (
                plan_line(p, show_holder=show_holder, flag=flagged.get(p.plan_id)),
                p.pupil_id,
            )
            for p in shown.items
        ],
        pager=shown_pager,
    )


def _summary(runtime: Runtime, session: Session, viewer: Viewer, pupil_id: int, today: date):
    """The pupil's plan at a glance, or None if there is no such pupil the viewer may see."""
    summary = plan_summary(
        session, viewer, pupil_id, via="/ssp pupil", now=runtime.now(), today=today
    )
    if summary is None:
        return None
    can_open = summary.plan is not None and (
        viewer.sees_whole_school or summary.plan.case_holder_id == viewer.staff_id
    )
    feedback = None
    if summary.plan is not None and not summary.teacher_view:
        # Teachers' answers: for the SENDCo, senior leaders and the case holder only.
        feedback = monitoring.feedback_for(session, summary.plan.id, summary.plan.cycle_number)
    return message(
        "pupil_summary.json.j2",
        summary=f"Plan summary for {summary.pupil.known_as}",
        title=summary.pupil.known_as,
        paragraphs=[
            *([_left(summary)] if summary.has_left else []),
            *plan_at_a_glance(summary, today, feedback),
            *(
                ["*Closed plans*\n" + "\n".join(f"• {c}" for c in summary.closed)]
                if summary.closed
                else []
            ),
        ],
        open_plan=summary.pupil.id if can_open else None,
        # The passport is for pupils on roll with an open plan (handlers.passport).
        passport=(summary.pupil.id if summary.plan is not None and not summary.has_left else None),
        footer=(
            None
            if summary.plan is None
            else "Only you can see this."
            + (
                f" As {_supporting(summary)} you see the adjustments and targets; the SENDCo "
                "and case holder see the whole plan."
                if summary.teacher_view
                else ""
            )
        ),
    )


def _supporting(summary) -> str:
    """Who the viewer is to a pupil they only support, as the footer of `/ssp pupil` says it."""
    return "one of their teachers" if summary.taught else "one of the staff who support them"


def _left(summary) -> str:
    """The first thing said about a pupil who has left, and what becomes of an open plan."""
    left = summary.pupil.left_on
    said = f":wave: *Left the school on {uk_date(left)}.*" if left else ":wave: *Left the school.*"
    if summary.plan is not None and summary.closes_on is not None:
        said += (
            f" Their plan is no longer reviewed and closes by itself on "
            f"{uk_date(summary.closes_on)}, unless the SENDCo closes it sooner."
        )
    return said


def _roster_sync(sync) -> str:
    when = f"{uk_date(sync.attempted_at)} at {sync.attempted_at:%H:%M}"
    if sync.ok:
        return f"Roster last synced from Microsoft 365 on {when}: {escape_mrkdwn(sync.result)}."
    last = (
        f"Last successful sync: {uk_date(sync.last_success)} at {sync.last_success:%H:%M}."
        if sync.last_success
        else "It has not synced successfully yet."
    )
    return (
        f":warning: Roster sync from Microsoft 365 failed on {when}: "
        f"{escape_mrkdwn(sync.result)} {last}"
    )


# --- /ssp subcommands answered here -----------------------------------------------------------

SUBCOMMANDS = (
    Subcommand(
        "caseload",
        caseload_command,
        help=(
            Usage(
                "`/ssp caseload` — the whole school: each case holder's plans, reviews due and "
                "overdue, plans awaiting quality assurance, open monitoring requests; totals by "
                "area of need and year group",
                lambda viewer: viewer.sees_whole_school,
            ),
            Usage(
                "`/ssp caseload @name` — one case holder's pupils, with next review dates and "
                "status",
                lambda viewer: viewer.sees_whole_school,
            ),
        ),
        pages=True,
    ),
    Subcommand(
        "overdue",
        overdue_command,
        help=(
            Usage(
                "`/ssp overdue` — overdue reviews, oldest first, with the case holder to chase",
                lambda viewer: viewer.sees_whole_school,
            ),
        ),
        allowed=lambda viewer: viewer.sees_whole_school,
        refusal=WHOLE_SCHOOL_ONLY,
        takes_words=False,
        pages=True,
    ),
    Subcommand(
        "pupil",
        pupil_command,
        help=(
            Usage(
                "`/ssp pupil <UPN or name>` — a pupil's plan at a glance",
                lambda viewer: viewer.sees_anything,
            ),
        ),
        allowed=lambda viewer: viewer.sees_anything,
        refusal=NO_ACCESS,
    ),
    Subcommand(
        "mine",
        mine_command,
        help=(Usage("`/ssp mine` — the plans you hold"),),
        takes_words=False,
        pages=True,
    ),
)
