"""Impact at review (issue 19): the review notes show, beside each provision and each target, how
much of the provision was delivered this cycle, before anyone judges it; each provision gets an
effectiveness rating and, with an entry measure, its exit measure; submitting keeps the delivery
the reviewer saw and ends a provision the review stopped, with the pupil's place in its group.

Brookside High (tests/slack_harness.py) on Monday 23 November 2026: Priya holds Ava, whose plan
(started 24 September, no review submitted since) has one target and the provision "Lexia reading
programme". Here Lexia runs in a Tuesday/Thursday group with Dev; "Reading Recovery", towards
Ava's target with a reading age of 8y 2m at entry, runs Monday/Wednesday/Friday and mostly did
not happen; "Homework club" is not run through any group.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text

from bot.services import delivery, impact, reviews
from bot.services.calendar import CalendarPeriod, SchoolCalendar
from bot.slack_limits import problems_of, unescaped_mrkdwn
from models import (
    Effectiveness,
    GroupMember,
    MeasureKind,
    Plan,
    PlanProvision,
    PlanStatus,
    ProvisionDecision,
    Pupil,
    Review,
    ReviewProvisionDecision,
    School,
    SessionStatus,
    Staff,
)
from tests import factories
from tests.slack_harness import build_school, start_app, text_of
from tests.test_export import parse
from tests.test_review_record import add_provisions, add_targets, blocks, picked, row_of
from tests.test_reviews import choose, full_notes, open_by_command
from tests.test_reviews import text as typed

TODAY = date(2026, 11, 23)
CYCLE_START = TODAY - timedelta(days=60)  # the plan's start date: no review submitted yet
CALENDAR = SchoolCalendar(
    terms=(CalendarPeriod("Autumn", date(2026, 9, 1), date(2026, 12, 18)),),
    closures=(CalendarPeriod("Half term", date(2026, 10, 26), date(2026, 10, 30)),),
)
NO_SESSIONS = "Not run through an intervention group: no sessions recorded."


def run_groups(slack, through: date = TODAY) -> dict[str, int]:
    """The groups and their sessions since 1 September (before the cycle began too): Lexia
    delivered but every fifth; Reading Recovery delivered one in three, today's not yet logged.
    Sessions are rows up to `through` (the sweep has run that day)."""
    with slack.sessions.begin() as session:
        school = session.get(School, slack.ids["school"])
        plan = session.get(Plan, slack.ids["ava_plan"])
        ava, dev = session.get(Pupil, slack.ids["ava"]), session.get(Pupil, slack.ids["dev"])
        ta = session.get(Staff, slack.ids["ta"])
        lexia_row, target = plan.provisions[0], plan.targets[0]
        recovery_row = PlanProvision(
            what="Reading Recovery",
            target=target,
            position=1,
            measure_kind=MeasureKind.READING_AGE,
            entry_value=98,  # 8 years 2 months
            entry_on=date(2026, 9, 24),
        )
        homework_row = PlanProvision(what="Homework club", position=2)
        plan.provisions += [recovery_row, homework_row]
        session.flush()
        lexia = factories.group(
            session, school, factories.library_item(session, school, "Lexia"), ta, ava, dev
        )
        lexia.members[0].provision_id = lexia_row.id
        recovery = factories.group(
            session,
            school,
            factories.library_item(session, school, "Reading Recovery"),
            ta,
            ava,
            weekdays="1,3,5",
            name="Reading Recovery, Year 9",
        )
        recovery.members[0].provision_id = recovery_row.id
        session.flush()
        for sitting in delivery.materialise(session, school.id, CALENDAR, through):
            n = sitting.held_on.toordinal()
            if sitting.group_id == lexia.id:
                sitting.status = (
                    SessionStatus.NOT_DELIVERED if n % 5 == 0 else SessionStatus.DELIVERED
                )
            elif sitting.held_on < TODAY:
                sitting.status = (
                    SessionStatus.DELIVERED if n % 3 == 0 else SessionStatus.NOT_DELIVERED
                )
        return {
            "lexia": lexia_row.id,
            "recovery": recovery_row.id,
            "homework": homework_row.id,
            "lexia_group": lexia.id,
            "recovery_group": recovery.id,
        }


def counted(slack, provision_id: int, until: date = TODAY) -> tuple[int, int, int]:
    """Planned, delivered and not yet logged this cycle, counted directly in SQL."""
    with slack.sessions() as session:
        planned, delivered, awaiting = session.execute(
            text(
                "SELECT COUNT(*), "
                "SUM(CASE WHEN s.status = 'delivered' AND NOT sp.absent THEN 1 ELSE 0 END), "
                "SUM(CASE WHEN s.status = 'awaiting' THEN 1 ELSE 0 END) "
                "FROM intervention_session_pupils sp "
                "JOIN intervention_sessions s ON s.id = sp.session_id "
                "WHERE sp.provision_id = :provision AND s.held_on >= :since "
                "AND s.held_on <= :until"
            ),
            {"provision": provision_id, "since": CYCLE_START, "until": until},
        ).one()
    return planned, delivered or 0, awaiting or 0


def delivered_line(view: dict, provision_id: int) -> str:
    return blocks(view)[f"delivered:{provision_id}"]["elements"][0]["text"]


def expected(planned: int, delivered: int, awaiting: int) -> str:
    words = f"Delivered: {delivered} of {planned} sessions ({delivered / planned:.0%})"
    return words + (f", {awaiting} not yet logged" if awaiting else "")


# --- the form -------------------------------------------------------------------------------


def test_the_form_shows_this_cycles_delivery_beside_each_provision_and_target(slack):
    ids = run_groups(slack)
    view = open_by_command(slack, "U0PRIYA", "review Ava")

    lexia = counted(slack, ids["lexia"])
    recovery = counted(slack, ids["recovery"])
    assert lexia[0] > 0 and recovery[2] == 1  # today's Reading Recovery is not logged yet
    assert lexia[1] / lexia[0] >= 0.7 > recovery[1] / recovery[0]
    assert delivered_line(view, ids["lexia"]) == expected(*lexia) + "."
    # Little delivered: said calmly, beside the rating.
    assert delivered_line(view, ids["recovery"]) == (
        expected(*recovery) + f". Only {recovery[1]} of {recovery[0]} sessions happened: "
        "consider whether it had a fair chance."
    )
    assert delivered_line(view, ids["homework"]) == NO_SESSIONS
    # Sessions before the cycle began (September) are not counted.
    with slack.sessions() as session:
        all_time = delivery.by_provision(session, slack.ids["school"], [ids["lexia"]])
    assert all_time[ids["lexia"]].planned > lexia[0]

    # The target: the provision towards it, and how much of it happened, beside its result.
    (target_text,) = [
        text_of({"blocks": [b]})
        for b in view["blocks"]
        if "Read 20 high-frequency words" in text_of({"blocks": [b]})
    ]
    assert "Provision towards this target, this cycle:" in target_text
    assert f"Reading Recovery: {expected(*recovery)}" in target_text
    assert "Lexia" not in target_text  # not linked to this target

    # Each provision: its rating, and its exit measure where there is an entry measure.
    asked = blocks(view)
    rating = asked[f"effectiveness:{ids['lexia']}"]
    assert [o["text"]["text"] for o in rating["element"]["options"]] == [
        "Not effective",
        "Partly effective",
        "Effective",
        "Very effective",
    ]
    exit_box = asked[f"exit:{ids['recovery']}"]
    assert exit_box["label"]["text"] == "Exit measure: Reading age"
    assert exit_box["hint"]["text"].startswith("At the start: 8y 2m.")
    assert f"exit:{ids['lexia']}" not in asked and f"exit:{ids['homework']}" not in asked


def test_a_session_due_today_before_the_sweep_made_it_is_counted_in_the_form(slack):
    # The sweep last ran on Friday: Reading Recovery met this morning (a Monday), and nothing
    # has made that session a row yet. The reviewer still sees it.
    ids = run_groups(slack, through=TODAY - timedelta(days=3))
    assert counted(slack, ids["recovery"])[2] == 0
    view = open_by_command(slack, "U0PRIYA", "review Ava")

    recovery = counted(slack, ids["recovery"])
    assert recovery[2] == 1  # this morning's, not yet logged
    assert delivered_line(view, ids["recovery"]).startswith(expected(*recovery) + ".")
    assert delivered_line(view, ids["lexia"]) == expected(*counted(slack, ids["lexia"])) + "."
    # Made once: opening the form again (or the sweep) makes no second row for the day.
    open_by_command(slack, "U0PRIYA", "review Ava")
    assert counted(slack, ids["recovery"]) == recovery


def test_a_few_queries_give_every_provisions_delivery(slack, db_url):
    ids = run_groups(slack)
    from sqlalchemy import event

    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if "intervention_session" in statement:
            statements.append(statement)

    engine = slack.sessions.kw["bind"]
    event.listen(engine, "before_cursor_execute", count)
    try:
        open_by_command(slack, "U0PRIYA", "review Ava")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # Whether any session is still to be made a row (one read: none here), then one count for
    # the three provisions, two of them in groups.
    assert len(statements) == 2, statements
    assert ids


# --- submitting -------------------------------------------------------------------------------


def test_rating_is_required_the_exit_measure_is_kept_and_stop_ends_the_provision(slack):
    ids = run_groups(slack)
    view = open_by_command(slack, "U0PRIYA", "review Ava")
    recovery_rating, recovery_exit = f"effectiveness:{ids['recovery']}", f"exit:{ids['recovery']}"
    unrated = full_notes(view, **{recovery_rating: choose(None), recovery_exit: typed("nine")})
    answer = slack.sender.submit("U0PRIYA", view, unrated).json()
    assert answer["response_action"] == "errors"
    assert answer["errors"] == {
        recovery_rating: "Choose how effective this provision was.",
        recovery_exit: "Type the reading age in years and months, e.g. 8y 9m or 8:09.",
    }
    with slack.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Review)) == 0

    seen = {key: counted(slack, ids[key]) for key in ("lexia", "recovery")}
    notes = full_notes(
        view,
        **{
            row_of(view, "Reading Recovery"): choose("stop"),
            row_of(view, "Lexia"): choose("adapt"),
            recovery_rating: choose("partly"),
            recovery_exit: typed("8y 9m"),
        },
    )
    done = slack.sender.submit("U0PRIYA", view, notes).json()
    assert done["response_action"] == "update"
    said = " ".join(text_of(done["view"]).split())
    assert "You decided 1 provision to adapt and 1 provision to stop." in said
    assert "What you stopped has ended today" in said

    with slack.sessions() as session:
        decisions = {
            d.provision_id: d for d in session.scalars(select(ReviewProvisionDecision)).all()
        }
        recovery = decisions[ids["recovery"]]
        assert (recovery.decision, recovery.effectiveness) == (
            ProvisionDecision.STOP,
            Effectiveness.PARTLY,
        )
        # The figures the reviewer saw, kept with the decision.
        for key in ("lexia", "recovery"):
            row = decisions[ids[key]]
            assert (row.sessions_planned, row.sessions_delivered) == seen[key][:2], key
        homework = decisions[ids["homework"]]
        assert (homework.sessions_planned, homework.sessions_delivered) == (None, None)
        assert homework.effectiveness == Effectiveness.EFFECTIVE

        stopped = session.get(PlanProvision, ids["recovery"])
        assert (stopped.exit_value, stopped.exit_on) == (105, TODAY)
        assert stopped.ended_on == TODAY
        assert stopped.ended_reason == "stopped at the review of plan 2"
        adapted = session.get(PlanProvision, ids["lexia"])
        assert adapted.ended_on is None  # adapted: it goes on
        places = {(m.group_id, m.pupil_id): m.left_on for m in session.scalars(select(GroupMember))}
    assert places[(ids["recovery_group"], slack.ids["ava"])] == TODAY
    assert places[(ids["lexia_group"], slack.ids["ava"])] is None
    assert places[(ids["lexia_group"], slack.ids["dev"])] is None

    # The record as read later: decision, rating, delivery and progress per provision.
    document = parse(slack.export("U0PRIYA", "Ava Stone").body)
    row = [tr.text for tr in document.all("tr") if "Reading Recovery" in tr.text][-1]
    planned, delivered = seen["recovery"][:2]
    assert "Partly effective" in row
    assert f"{delivered} of {planned} sessions ({delivered / planned:.0%})" in row
    assert "Reading age 8y 2m → 8y 9m (+7 months)" in row
    homework_row = [tr.text for tr in document.all("tr") if "Homework club" in tr.text][-1]
    assert "No sessions recorded" in homework_row

    # /ssp pupil lists the provision given now: not the stopped one.
    glance = text_of(slack.ask("U0PRIYA", "pupil Ava Stone"))
    assert "Lexia reading programme" in glance and "Reading Recovery" not in glance

    # The next review does not ask about the stopped provision again.
    with slack.sessions.begin() as session:
        session.get(Plan, slack.ids["ava_plan"]).status = PlanStatus.ACTIVE
        session.execute(text("UPDATE reviews SET status = 'approved'"))
    later = open_by_command(slack, "U0PRIYA", "review Ava")
    assert f"provision:{ids['recovery']}" not in blocks(later)
    assert f"provision:{ids['lexia']}" in blocks(later)
    # A new cycle: Lexia runs in a group, none of this cycle's sessions is due yet.
    assert delivered_line(later, ids["lexia"]) == "Delivered: no sessions were due yet."
    assert delivered_line(later, ids["homework"]) == NO_SESSIONS


def test_a_provision_none_of_whose_sessions_happened_need_not_be_rated(slack):
    ids = run_groups(slack)
    with slack.sessions.begin() as session:
        session.execute(
            text("UPDATE intervention_sessions SET status = 'not_delivered' WHERE group_id = :g"),
            {"g": ids["recovery_group"]},
        )
    view = open_by_command(slack, "U0PRIYA", "review Ava")
    rating = blocks(view)[f"effectiveness:{ids['recovery']}"]
    assert rating["optional"] is True
    assert "None of its sessions happened this cycle" in rating["hint"]["text"]
    notes = full_notes(view, **{f"effectiveness:{ids['recovery']}": choose(None)})
    assert slack.sender.submit("U0PRIYA", view, notes).json()["response_action"] == "update"
    with slack.sessions() as session:
        row = session.scalar(
            select(ReviewProvisionDecision).where(
                ReviewProvisionDecision.provision_id == ids["recovery"]
            )
        )
        assert row.effectiveness is None
        assert (row.sessions_planned, row.sessions_delivered) == (
            counted(slack, ids["recovery"])[0],
            0,
        )


def test_a_draft_keeps_the_rating_and_the_exit_measure(slack):
    ids = run_groups(slack)
    view = open_by_command(slack, "U0PRIYA", "review Ava")
    updates = len(slack.emulator.calls_to("views.update"))
    values = {
        f"effectiveness:{ids['lexia']}": choose("very_effective"),
        f"exit:{ids['recovery']}": typed("8:07"),
    }
    slack.sender.view_button("U0PRIYA", view, "ssp_review_save_draft", "draft", values=values)
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.update")) > updates)
    reopened = blocks(open_by_command(slack, "U0PRIYA", "review Ava"))
    chosen = reopened[f"effectiveness:{ids['lexia']}"]["element"]["initial_option"]
    assert chosen["value"] == "very_effective"
    assert reopened[f"exit:{ids['recovery']}"]["element"]["initial_value"] == "8y 7m"
    with slack.sessions() as session:
        assert session.get(PlanProvision, ids["recovery"]).exit_value == 103


def test_an_amendment_shows_the_delivery_kept_and_changes_the_rating(slack):
    ids = run_groups(slack)
    view = open_by_command(slack, "U0PRIYA", "review Ava")
    slack.sender.submit("U0PRIYA", view, full_notes(view))
    planned, delivered, _ = counted(slack, ids["recovery"])
    with slack.sessions.begin() as session:  # sessions logged after the review change nothing
        session.execute(text("UPDATE intervention_sessions SET status = 'delivered'"))
    amend = open_by_command(slack, "U0PRIYA", "review Ava")
    assert amend["title"]["text"] == "Amend review notes"
    with slack.sessions() as session:
        key = session.scalar(
            select(ReviewProvisionDecision.id).where(
                ReviewProvisionDecision.provision_id == ids["recovery"]
            )
        )
    assert delivered_line(amend, key).startswith(
        f"Delivered: {delivered} of {planned} sessions ({delivered / planned:.0%})."
    )
    rating = blocks(amend)[f"effectiveness:{key}"]
    assert rating["element"]["initial_option"]["value"] == "effective"
    changed = full_notes(amend, **{f"effectiveness:{key}": choose("not_effective")})
    assert "amendment" in text_of(slack.sender.submit("U0PRIYA", amend, changed).json()["view"])
    with slack.sessions() as session:
        row = session.get(ReviewProvisionDecision, key)
        assert row.effectiveness == Effectiveness.NOT_EFFECTIVE
        assert (row.sessions_planned, row.sessions_delivered) == (planned, delivered)


# --- who may ---------------------------------------------------------------------------------


def test_a_teacher_who_is_not_the_case_holder_can_neither_open_nor_send_it(slack):
    ids = run_groups(slack)
    view = open_by_command(slack, "U0PRIYA", "review Ava")
    notes = full_notes(
        view,
        **{
            row_of(view, "Reading Recovery"): choose("stop"),
            f"exit:{ids['recovery']}": typed("9y 0m"),
        },
    )
    answer = slack.ask("U0LEE", "review Ava")
    assert "modal" not in answer and "couldn't find" in text_of(answer).lower()
    for user in ("U0LEE", "U0TOM"):  # a teacher; another case holder
        slack.sender.view_button(user, view, "ssp_review_save_draft", "draft", values=notes)
        answer = slack.sender.submit(user, view, notes).json()
        assert "couldn't find an open plan for that pupil" in text_of(answer["view"]), user
    with slack.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Review)) == 0
        recovery = session.get(PlanProvision, ids["recovery"])
        assert (recovery.ended_on, recovery.exit_value) == (None, None)
        assert (
            session.scalar(
                select(func.count())
                .select_from(GroupMember)
                .where(GroupMember.left_on.is_not(None))
            )
            == 0
        )


# --- many provisions ---------------------------------------------------------------------------


def test_many_provisions_are_rated_in_lists_within_slacks_limits(slack):
    # The lists fit the fullest form, whatever else it shows.
    assert reviews.FORM_ROWS + 4 * reviews.MAX_TARGETS + reviews.LISTED_ROWS <= 100
    ids = run_groups(slack)
    add_targets(slack, 17)  # eighteen open targets: a full form
    long = "Paired *reading* with a <b>sixth-former</b> & a TA " * 40  # 2,000 characters
    add_provisions(slack, *(f"Provision number {n}" for n in range(26)), long)
    view = open_by_command(slack, "U0PRIYA", "review Ava")  # the emulator checks Slack's limits
    asked = blocks(view)
    assert problems_of(view) == [] and unescaped_mrkdwn(view) == []
    assert len(view["blocks"]) <= 100
    assert len(asked) == len([b for b in view["blocks"] if "block_id" in b])  # unique ids
    assert not any(b.startswith(("provision:", "effectiveness:", "exit:")) for b in asked)
    shown = " ".join(text_of({"blocks": view["blocks"]}).split())
    assert "this plan has 30 provisions" in shown
    lexia = counted(slack, ids["lexia"])
    assert f"1. Lexia reading programme: {expected(*lexia)}." in shown
    assert "Only" in shown and "fair chance" in shown  # Reading Recovery
    assert "28 others: " + NO_SESSIONS in shown
    lists = [f"effective_{e.value}" for e in Effectiveness]
    assert all(len(asked[b]["element"]["options"]) == 30 for b in lists)

    key = str(ids["lexia"])
    twice = full_notes(view, effective_effective=picked(key), effective_very_effective=picked(key))
    answer = slack.sender.submit("U0PRIYA", view, twice).json()
    assert answer["errors"] == {
        "effective_very_effective": "A provision can have one effectiveness rating only: take "
        "it out of all lists but one."
    }
    notes = full_notes(
        view,
        provisions_stop=picked(str(ids["recovery"])),
        effective_not_effective=picked(str(ids["recovery"])),
        effective_effective=picked(key),
    )
    assert slack.sender.submit("U0PRIYA", view, notes).json()["response_action"] == "update"
    with slack.sessions() as session:
        rated = dict(
            session.execute(
                select(
                    ReviewProvisionDecision.provision_id, ReviewProvisionDecision.effectiveness
                ).where(ReviewProvisionDecision.effectiveness.is_not(None))
            ).all()
        )
        assert rated == {
            ids["recovery"]: Effectiveness.NOT_EFFECTIVE,
            ids["lexia"]: Effectiveness.EFFECTIVE,
        }
        assert session.get(PlanProvision, ids["recovery"]).ended_on == TODAY
        assert (
            session.scalar(
                select(func.count())
                .select_from(ReviewProvisionDecision)
                .where(ReviewProvisionDecision.sessions_planned.is_not(None))
            )
            == 2
        )


# --- the database down -------------------------------------------------------------------------


@pytest.mark.postgresql
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_when_the_database_is_down_on_submit_the_form_stays_open(emulator, sessions, db_url):
    from sqlalchemy.engine import make_url

    from bot import db
    from handlers.context import wait_for_background_work
    from tests.db_proxy import DbProxy

    emulator.reset()
    with sessions.begin() as session:
        ids = build_school(session, emulator)
    url = make_url(db_url)
    with DbProxy((url.host or "127.0.0.1", url.port or 5432)) as proxy:
        engine = db.make_engine(proxy.url(db_url))
        slack = start_app(emulator, db.make_session_factory(engine))
        slack.ids = ids
        try:
            provisions = run_groups(slack)
            view = open_by_command(slack, "U0PRIYA", "review Ava")
            notes = full_notes(view, **{row_of(view, "Reading Recovery"): choose("stop")})
            proxy.cut()
            answer = slack.sender.submit("U0PRIYA", view, notes).json()
            assert answer["response_action"] == "errors"
            assert "Nothing was saved" in " ".join(answer["errors"].values())
        finally:
            proxy.passes()
            slack.server.stop()
            wait_for_background_work()
            engine.dispose()
    with sessions() as session:
        assert session.scalars(select(Review)).all() == []
        assert session.get(PlanProvision, provisions["recovery"]).ended_on is None


# --- measures and progress (bot.services.impact, pure) -----------------------------------------


@pytest.mark.parametrize(
    ("typed", "months"),
    [
        ("8y 9m", 105),
        ("8:09", 105),
        ("8.9", 105),
        ("8 years 9 months", 105),
        ("9", 108),
        ("9y", 108),
    ],
)
def test_a_reading_age_is_typed_in_years_and_months_and_kept_in_months(typed, months):
    assert impact.parse(MeasureKind.READING_AGE, typed) == months
    assert impact.describe(MeasureKind.READING_AGE, months) == f"{months // 12}y {months % 12}m"


@pytest.mark.parametrize(
    ("kind", "typed", "problem"),
    [
        (MeasureKind.READING_AGE, "8y 14m", "0 to 11 months"),
        (MeasureKind.READING_AGE, "105", "years and months"),
        (MeasureKind.READING_AGE, "8y 9m 2d", "years and months"),
        (MeasureKind.ATTENDANCE, "104%", "outside what"),
        (MeasureKind.SCALE, "0", "outside what"),
        (MeasureKind.STANDARDISED, "ninety", "Type a number"),
        (MeasureKind.SCORE, "nan", "Type a number"),
    ],
)
def test_a_measure_that_cannot_be_right_is_refused_in_words(kind, typed, problem):
    with pytest.raises(impact.MeasureError, match=problem):
        impact.parse(kind, typed)


def test_progress_is_exit_minus_entry_in_the_kinds_unit():
    reading = impact.progress(MeasureKind.READING_AGE, 98, 105)
    assert reading.change == 7
    assert reading.describe() == "Reading age 8y 2m → 8y 9m (+7 months)"
    attendance = impact.progress(MeasureKind.ATTENDANCE, 91.5, 88, "Attendance this term")
    assert attendance.describe() == "Attendance this term 91.5% → 88% (−3.5 points)"
    waiting = impact.progress(MeasureKind.STANDARDISED, 85, None)
    assert (
        waiting.change is None and waiting.describe() == "Standardised score 85 → not yet measured"
    )
    assert (
        impact.progress(None, 1, 2) is None
        and impact.progress(MeasureKind.SCORE, None, None) is None
    )
