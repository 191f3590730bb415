"""Each `/ssp` answer: call one service, render one template. Shared by commands and buttons.

Every function returns keyword arguments for Bolt's `respond` (an ephemeral message).
"""

from __future__ import annotations

from datetime import date
from math import ceil

from slack_sdk import WebClient

from bot.access import Viewer
from bot.errors import UserError
from bot.render import escape_mrkdwn, render_json
from bot.services import assignments, audit, m365, monitoring, outbox, reviews
from bot.services import glossary as glossary_service
from bot.services.caseload import (
    PlanLine,
    holder_caseload,
    overdue_reviews,
    viewer_home,
)
from bot.services.caseload import school_caseload as school_caseload_query
from bot.services.pupils import find_pupils, plan_summary
from handlers.context import Ask, Runtime, Subcommand, Usage
from handlers.slack_api import staff_for_slack_user
from handlers.toolkit import NO_SUCH_PUPIL, SHOW_PUPIL, UsageError, choose_pupil, mentioned_user
from models import School

PAGE_SIZE = 15  # plans per message: well inside Slack's 50 blocks and 3,000 characters a block
HOLDERS_PER_PAGE = 20

WHOLE_SCHOOL_ONLY = (
    "The whole-school view is for the SENDCo and senior leaders. "
    "`/ssp mine` shows the plans you hold."
)
NO_ACCESS = (
    "SSP Bot shows plans only to the SENDCo, senior leaders, case holders and a pupil's "
    "teachers, and the school hasn't given you one of those roles. If that's wrong, ask your "
    "SENDCo."
)


def school_caseload(runtime: Runtime, viewer: Viewer, today: date, page: int) -> dict:
    if not viewer.sees_whole_school:
        return _notice(WHOLE_SCHOOL_ONLY)
    with runtime.unit_of_work() as session:
        caseload = school_caseload_query(session, viewer.school_id, today)
        unanswered = assignments.unanswered_after_reminder(session, viewer.school_id)
        unreachable = outbox.unreachable(session, viewer.school_id)
        roster_sync = m365.sync_status(session, viewer.school_id)
        audit.record(
            session,
            action="summary",
            via="/ssp caseload",
            now=runtime.now(),
            school_id=viewer.school_id,
            staff_id=viewer.staff_id,
            detail="whole-school caseload counts",
        )
    pages = max(1, ceil(len(caseload.holders) / HOLDERS_PER_PAGE))
    page = min(max(page, 1), pages)
    start = (page - 1) * HOLDERS_PER_PAGE
    return _message(
        "caseload_school.json.j2",
        caseload=caseload,
        holders=caseload.holders[start : start + HOLDERS_PER_PAGE],
        page=page,
        pages=pages,
        page_key="caseload",
        unanswered=unanswered[:10],
        unreachable=[(u.recipient, outbox.kind_label(u.kind), u.reason) for u in unreachable[:10]],
        roster_sync=roster_sync,
    )


def someones_caseload(
    runtime: Runtime,
    client: WebClient,
    viewer: Viewer,
    slack_user_id: str,
    today: date,
    page: int,
) -> dict:
    with runtime.unit_of_work() as session:
        holder = staff_for_slack_user(session, client, viewer.school_id, slack_user_id)
        if holder is None:
            return _notice(
                "I can't find that person on your school's staff list, so they hold no plans here."
            )
        if not viewer.sees_whole_school and holder.id != viewer.staff_id:
            return _notice(WHOLE_SCHOOL_ONLY)
        holder_id, holder_name = holder.id, holder.display_name
    return _plan_list(
        runtime,
        viewer,
        today,
        page,
        lines=lambda session: holder_caseload(session, viewer.school_id, holder_id, today),
        title=f"{holder_name}'s caseload",
        empty=f"{holder_name} doesn't hold any plans at the moment.",
        page_key=f"caseload <@{slack_user_id}>",
        via="/ssp caseload @someone",
        show_holder=False,
    )


def my_caseload(runtime: Runtime, viewer: Viewer, today: date, page: int) -> dict:
    return _plan_list(
        runtime,
        viewer,
        today,
        page,
        lines=lambda session: holder_caseload(session, viewer.school_id, viewer.staff_id, today),
        title="Plans you hold",
        empty="You don't hold any SEN Support Plans at the moment.",
        page_key="mine",
        via="/ssp mine",
        show_holder=False,
    )


def overdue(runtime: Runtime, viewer: Viewer, today: date, page: int) -> dict:
    if not viewer.sees_whole_school:
        return _notice(WHOLE_SCHOOL_ONLY)

    def escalated(session) -> dict[int, str]:
        school = session.get(School, viewer.school_id)
        return {
            state.plan_id: "escalated: no notes 5+ school days after the reminder"
            for state in reviews.review_states(session, school, today)
            if state.escalated
        }

    return _plan_list(
        runtime,
        viewer,
        today,
        page,
        lines=lambda session: overdue_reviews(session, viewer.school_id, today),
        title="Overdue reviews",
        empty="No reviews are overdue. :tada:",
        page_key="overdue",
        via="/ssp overdue",
        show_holder=True,
        flags=escalated,
    )


def glossary(runtime: Runtime, viewer: Viewer, arguments: str) -> dict:
    """`/ssp glossary` lists the school's acronyms; `/ssp glossary add ELSA "…"` adds one."""
    words = arguments.split(None, 2)
    if not words:
        with runtime.unit_of_work() as session:
            terms = glossary_service.glossary(session, viewer.school_id)
        return _message("glossary.json.j2", terms=list(terms.items()))
    if words[0].lower() != "add" or len(words) < 3:
        raise UsageError(
            'To add an acronym: `/ssp glossary add ELSA "Emotional Literacy Support Assistant: …"`.'
        )
    if not (viewer.is_sendco or viewer.is_case_holder or viewer.sees_whole_school):
        return _notice("Only the SENDCo, senior leaders and case holders can add to the glossary.")
    acronym, meaning = words[1], _unquote(_unescape(words[2]))
    try:
        with runtime.unit_of_work() as session:
            _, new = glossary_service.add_term(
                session, viewer.school_id, acronym, meaning, runtime.now()
            )
    except UserError as refusal:
        return _notice(str(refusal))
    return _notice(
        f"{'Added' if new else 'Updated'} *{escape_mrkdwn(acronym)}*: {escape_mrkdwn(meaning)}"
    )


def pupil(runtime: Runtime, viewer: Viewer, query: str, today: date) -> dict:
    if not viewer.sees_anything:
        return _notice(NO_ACCESS)
    with runtime.unit_of_work() as session:
        choice = choose_pupil(query, find_pupils(session, viewer, query), SHOW_PUPIL)
        if choice.pupil_id is None:
            return choice.choices
        summary = _summary(runtime, session, viewer, choice.pupil_id, today)
    if summary is None:
        raise UserError(NO_SUCH_PUPIL.format(query=query[:80]))
    return summary


def pupil_by_id(runtime: Runtime, viewer: Viewer, value: str, today: date) -> dict:
    not_found = _notice("I couldn't find that pupil among the pupils you can see.")
    if not value.isdigit() or not viewer.sees_anything:
        return not_found
    with runtime.unit_of_work() as session:
        return _summary(runtime, session, viewer, int(value), today) or not_found


def home(runtime: Runtime, viewer: Viewer, today: date) -> dict:
    with runtime.unit_of_work() as session:
        plans, waiting = viewer_home(session, viewer, today)
        caseload = (
            school_caseload_query(session, viewer.school_id, today)
            if viewer.sees_whole_school
            else None
        )
        audit.record_list(
            session,
            via="App Home",
            now=runtime.now(),
            school_id=viewer.school_id,
            staff_id=viewer.staff_id,
            plans=[(p.plan_id, p.pupil_id) for p in plans],
            detail="own caseload on App Home",
        )
    return render_json(
        "home.json.j2",
        viewer=viewer,
        plans=plans[:40],
        more=max(0, len(plans) - 40),
        waiting=waiting,
        caseload=caseload,
        today=today,
    )


# --- helpers ----------------------------------------------------------------------------------


def _plan_list(
    runtime, viewer, today, page, *, lines, title, empty, page_key, via, show_holder, flags=None
) -> dict:
    with runtime.unit_of_work() as session:
        all_lines: list[PlanLine] = lines(session)
        flagged = flags(session) if flags else {}
        pages = max(1, ceil(len(all_lines) / PAGE_SIZE))
        page = min(max(page, 1), pages)
        shown = all_lines[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        audit.record_list(
            session,
            via=via,
            now=runtime.now(),
            school_id=viewer.school_id,
            staff_id=viewer.staff_id,
            plans=[(p.plan_id, p.pupil_id) for p in shown],
            detail=title,
        )
    return _message(
        "plan_list.json.j2",
        title=title,
        empty=empty,
        lines=shown,
        total=len(all_lines),
        page=page,
        pages=pages,
        page_key=page_key,
        show_holder=show_holder,
        today=today,
        flagged=flagged,
    )


def _summary(runtime, session, viewer, pupil_id, today) -> dict | None:
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
    return _message(
        "pupil_summary.json.j2", s=summary, today=today, can_open=can_open, feedback=feedback
    )


def _message(template: str, **context) -> dict:
    return {"response_type": "ephemeral", **render_json(template, **context)}


def _unescape(text: str) -> str:
    # Slack escapes &, < and > in command text; we store plain text and escape when showing it.
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _unquote(text: str) -> str:
    text = text.strip()
    for opening, closing in (('"', '"'), ("“", "”"), ("'", "'"), ("‘", "’")):
        if len(text) >= 2 and text.startswith(opening) and text.endswith(closing):
            return text[1:-1].strip()
    return text


def _notice(text: str) -> dict:
    return _message("notice.json.j2", text=text)


# --- /ssp subcommands answered here -----------------------------------------------------------


def _caseload(ask: Ask) -> dict:
    if not ask.words:
        return school_caseload(ask.runtime, ask.viewer, ask.today, page=ask.page)
    slack_user_id = mentioned_user(ask.words[0]) if len(ask.words) == 1 else None
    if slack_user_id is None:
        raise UsageError("To see one person's caseload, mention them: `/ssp caseload @name`.")
    return someones_caseload(
        ask.runtime, ask.client, ask.viewer, slack_user_id, ask.today, ask.page
    )


def _pupil(ask: Ask) -> dict:
    if not ask.words:
        raise UsageError("Say which pupil: `/ssp pupil <UPN or name>`.")
    return pupil(ask.runtime, ask.viewer, " ".join(ask.words), ask.today)


SUBCOMMANDS = (
    Subcommand(
        "caseload",
        _caseload,
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
        lambda ask: overdue(ask.runtime, ask.viewer, ask.today, page=ask.page),
        help=(
            Usage(
                "`/ssp overdue` — overdue reviews, oldest first, with the case holder to chase",
                lambda viewer: viewer.sees_whole_school,
            ),
        ),
        takes_words=False,
        pages=True,
    ),
    Subcommand(
        "pupil",
        _pupil,
        help=(
            Usage(
                "`/ssp pupil <UPN or name>` — a pupil's plan at a glance",
                lambda viewer: viewer.sees_anything,
            ),
        ),
    ),
    Subcommand(
        "mine",
        lambda ask: my_caseload(ask.runtime, ask.viewer, ask.today, page=ask.page),
        help=(Usage("`/ssp mine` — the plans you hold"),),
        takes_words=False,
        pages=True,
    ),
    Subcommand(
        "glossary",
        lambda ask: glossary(ask.runtime, ask.viewer, ask.text),
        help=(
            Usage('`/ssp glossary` — acronyms explained; `/ssp glossary add ELSA "…"` adds one'),
        ),
    ),
)
