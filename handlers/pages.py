"""Each `/ssp` answer: call one service, render one template. Shared by commands and buttons.

Every function returns keyword arguments for Bolt's `respond` (an ephemeral message).
"""

from __future__ import annotations

from datetime import date
from math import ceil

from slack_bolt import BoltContext

from bot.access import Viewer
from bot.app import Runtime
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
from bot.services.pupils import MAX_MATCHES, find_pupils, plan_summary
from bot.slack import staff_for_slack_user
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


def help_message(viewer: Viewer) -> dict:
    return _message("ssp_help.json.j2", viewer=viewer)


def usage(viewer: Viewer, problem: str) -> dict:
    return _message("ssp_help.json.j2", viewer=viewer, problem=problem)


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
        page_key="school",
        unanswered=unanswered[:10],
        unreachable=[(u.recipient, outbox.kind_label(u.kind), u.reason) for u in unreachable[:10]],
        roster_sync=roster_sync,
    )


def someones_caseload(
    runtime: Runtime,
    context: BoltContext,
    viewer: Viewer,
    slack_user_id: str,
    today: date,
    page: int,
) -> dict:
    with runtime.unit_of_work() as session:
        holder = staff_for_slack_user(session, context.client, viewer.school_id, slack_user_id)
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
        page_key=f"holder:{holder_id}",
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
        return usage(
            viewer,
            'To add an acronym: `/ssp glossary add ELSA "Emotional Literacy '
            'Support Assistant: …"`.',
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


def turn(runtime: Runtime, context: BoltContext, viewer: Viewer, value: str, today: date) -> dict:
    """A "next page" button: `value` names the list and page, e.g. "overdue:2"."""
    *key, number = value.split(":")
    page = int(number) if number.isdigit() else 1
    match key:
        case ["school"]:
            return school_caseload(runtime, viewer, today, page)
        case ["overdue"]:
            return overdue(runtime, viewer, today, page)
        case ["mine"]:
            return my_caseload(runtime, viewer, today, page)
        case ["priority"]:
            from handlers.team import priority_command

            return priority_command(runtime, viewer, today, page)
        case ["holder", staff_id] if staff_id.isdigit():
            return _holder_page(runtime, viewer, int(staff_id), today, page)
    return usage(viewer, "That button has expired. Ask again with `/ssp`.")


def pupil(runtime: Runtime, viewer: Viewer, query: str, today: date) -> dict:
    if not viewer.sees_anything:
        return _notice(NO_ACCESS)
    with runtime.unit_of_work() as session:
        matches = find_pupils(session, viewer, query)
        if len(matches) == 1:
            summary = _summary(runtime, session, viewer, matches[0].pupil_id, today)
            if summary is not None:
                return summary
            matches = []
    if not matches:
        return _notice(
            f"I couldn't find a pupil matching “{query[:80]}” among the pupils you can see. "
            "Try their surname, first and last name, or UPN."
        )
    if len(matches) > MAX_MATCHES:
        return _notice(
            f"More than {MAX_MATCHES} pupils match “{query[:80]}”. Add more of their name, "
            "or use their UPN."
        )
    return _message("pupil_choices.json.j2", query=query, matches=matches)


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


def _holder_page(runtime, viewer, staff_id, today, page):
    if not viewer.sees_whole_school and staff_id != viewer.staff_id:
        return _notice(WHOLE_SCHOOL_ONLY)
    if staff_id == viewer.staff_id:
        return my_caseload(runtime, viewer, today, page)
    return _plan_list(
        runtime,
        viewer,
        today,
        page,
        lines=lambda session: holder_caseload(session, viewer.school_id, staff_id, today),
        title="Caseload",
        empty="No plans.",
        page_key=f"holder:{staff_id}",
        via="/ssp caseload @someone",
        show_holder=False,
    )


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
