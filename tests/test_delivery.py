"""Sessions due become rows on school days only, once; delivery rates are the database's counts."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select, text

from bot.services import delivery
from bot.services.calendar import CalendarPeriod, SchoolCalendar
from models import InterventionSession, SessionStatus
from tests import factories

# Autumn term 2026 with half term 26–30 October.
CALENDAR = SchoolCalendar(
    terms=(CalendarPeriod("Autumn", date(2026, 9, 1), date(2026, 12, 18)),),
    closures=(CalendarPeriod("Half term", date(2026, 10, 26), date(2026, 10, 30)),),
)


def test_sessions_are_due_on_the_groups_days_in_term_time_only_and_made_once(session):
    school = factories.school(session)
    ta = factories.staff(session, school)
    lexia = factories.library_item(session, school)
    a, b = factories.pupil(session, school), factories.pupil(session, school)
    group = factories.group(session, school, lexia, ta, a, b)

    made = delivery.materialise(session, school.id, CALENDAR, date(2026, 11, 5))
    again = delivery.materialise(session, school.id, CALENDAR, date(2026, 11, 5))

    days = [s.held_on for s in made]
    # Tuesdays and Thursdays from 1 September to 5 November, half term left out.
    assert days[:3] == [date(2026, 9, 1), date(2026, 9, 3), date(2026, 9, 8)]
    assert date(2026, 10, 27) not in days and date(2026, 10, 29) not in days
    assert days[-1] == date(2026, 11, 5) and len(days) == 18
    assert again == []
    assert session.scalar(select(func.count()).select_from(InterventionSession)) == 18
    assert all({p.pupil_id for p in s.pupils} == {a.id, b.id} for s in made)
    assert all(s.group_id == group.id and s.staff_id == ta.id for s in made)


def test_a_pupil_who_leaves_is_not_planned_for_after_and_rates_match_sql_counts(session):
    school = factories.school(session)
    ta = factories.staff(session, school)
    lexia = factories.library_item(session, school)
    a, b = factories.pupil(session, school), factories.pupil(session, school)
    group = factories.group(session, school, lexia, ta, a, b)
    group.members[1].left_on = date(2026, 9, 8)
    made = delivery.materialise(session, school.id, CALENDAR, date(2026, 9, 17))
    # 1, 3, 8, 10, 15, 17 September: b was in the first two only.
    for sitting in made[:4]:
        sitting.status = SessionStatus.DELIVERED
    made[4].status = SessionStatus.NOT_DELIVERED
    made[1].pupils[0].absent = True
    session.flush()

    pupils = delivery.by_pupil(session, school.id)
    direct = dict(
        session.execute(
            text(
                "SELECT sp.pupil_id, COUNT(*) FROM intervention_session_pupils sp "
                "JOIN intervention_sessions s ON s.id = sp.session_id "
                "WHERE s.status = 'delivered' AND NOT sp.absent GROUP BY sp.pupil_id"
            )
        ).all()
    )
    assert pupils[a.id] == delivery.Delivery(planned=6, delivered=3, awaiting=1)
    assert pupils[b.id] == delivery.Delivery(planned=2, delivered=2, awaiting=0)
    assert {k: v.delivered for k, v in pupils.items()} == direct
    assert delivery.by_group(session, school.id)[group.id] == delivery.Delivery(8, 5, 1)
    assert delivery.by_library(session, school.id)[lexia.id] == delivery.Delivery(8, 5, 1)
    assert delivery.session_counts(session, school.id)[group.id] == delivery.Delivery(6, 4, 1)
    assert pupils[a.id].describe() == "3 of 6 sessions delivered (50%), 1 not yet logged"
    assert delivery.by_pupil(session, school.id, [a.id], since=date(2026, 9, 9))[a.id].planned == 3
