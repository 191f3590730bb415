"""`sspbot demo-data`: a synthetic secondary school that exercises the SSP team's work."""

from __future__ import annotations

import enum
import importlib
import re
import shutil
import time
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import models
from bot import db
from bot.demo.names import make_upn as _upn
from bot.demo.school import DemoSummary, create_demo_school
from models import (
    AuditEvent,
    BroadArea,
    Plan,
    PlanStatus,
    Pupil,
    Review,
    School,
    SenStage,
    Staff,
    StaffRole,
    TeachingGroup,
    TimelineEntry,
)

TODAY = date(2026, 3, 10)
OPEN = (PlanStatus.DRAFT, PlanStatus.AWAITING_QA, PlanStatus.ACTIVE, PlanStatus.IN_REVIEW)
UPN_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"


def check_letter(twelve: str) -> str:
    """The DfE rule, written out again here so the test does not trust the code it checks."""
    total = sum(int(twelve[i]) * (i + 2) for i in range(12))
    return UPN_ALPHABET[total % 23]


# --- through the CLI ------------------------------------------------------------------------


def test_demo_data_creates_a_school_with_a_realistic_roster(run_cli, sessions):
    result = run_cli("demo-data", "--pupils", "240")
    assert result.code == 0, result
    assert result.out.startswith("Created Oakfield Academy (demo): 240 pupils in Years 7–11")
    today = date.today()

    with sessions() as session:
        school = session.scalars(select(School)).one()
        assert (school.name, school.timezone) == ("Oakfield Academy (demo)", "Europe/London")
        pupils = session.scalars(select(Pupil)).all()
        staff = session.scalars(select(Staff)).all()
        groups = session.scalars(select(TeachingGroup)).all()

        assert len(pupils) == 240
        assert Counter(p.year_group for p in pupils) == {7: 48, 8: 48, 9: 48, 10: 48, 11: 48}
        assert all(re.fullmatch(rf"{p.year_group}[A-Z]", p.form) for p in pupils)
        assert len({p.house for p in pupils}) == 4
        academic_year = today.year if today.month >= 9 else today.year - 1
        for pupil in pupils:
            born_from = date(academic_year - pupil.year_group - 5, 9, 1)
            assert born_from <= pupil.date_of_birth < born_from.replace(year=born_from.year + 1)
        assert 0.10 <= sum(p.eal for p in pupils) / 240 <= 0.32
        assert 0.15 <= sum(p.pupil_premium for p in pupils) / 240 <= 0.35
        assert any(p.preferred_name for p in pupils)

        stages = Counter(p.sen_stage for p in pupils)
        assert 4 <= stages[SenStage.EHC_PLAN] <= 12
        assert 25 <= stages[SenStage.SEN_SUPPORT] <= 40
        assert all(p.primary_need for p in pupils if p.sen_stage != SenStage.NONE)
        # The monitoring list: a few pupils with a need noted but no SEN stage, none with a code
        # a school would only give after assessment.
        watched = [p for p in pupils if p.sen_stage == SenStage.NONE and p.primary_need]
        assert 2 <= len(watched) <= 0.03 * 240
        assert not any(p.secondary_need for p in watched)

        roles = Counter(role for member in staff if member.is_active for role in member.roles)
        assert roles[StaffRole.SENDCO] == 1
        assert 2 <= roles[StaffRole.SENIOR_LEADER] <= 3
        assert roles[StaffRole.CASE_HOLDER] >= 3
        assert roles[StaffRole.TEACHING_ASSISTANT] >= 2
        assert roles[StaffRole.TEACHER] > len(staff) / 2
        sendco = next(m for m in staff if StaffRole.SENDCO in m.roles)
        assert StaffRole.CASE_HOLDER in sendco.roles
        assert sendco.slack_user_id == "U0DEMO001"
        assert sum(1 for m in staff if m.slack_user_id) < len(staff) / 2
        domain = "@oakfield-academy-demo.example.org"
        assert all(re.fullmatch(r"[a-z-]+\.[a-z-]+\d*" + re.escape(domain), m.email) for m in staff)
        assert len({m.email for m in staff}) == len({m.staff_code for m in staff}) == len(staff)
        leavers = [m for m in staff if not m.is_active]
        assert leavers and all(m.left_on and m.left_on < today for m in leavers)

        # Classes link every pupil to the staff who teach them: the monitoring prompts' path.
        classes_of = Counter()
        for group in groups:
            assert group.teachers, group.code
            for link in group.teachers:
                assert link.staff.is_active and StaffRole.TEACHER in link.staff.roles
                assert StaffRole.TEACHING_ASSISTANT not in link.staff.roles
            for member in group.members:
                classes_of[member.pupil_id] += 1
                assert member.pupil.year_group == group.year_group
        assert len(classes_of) == 240 and min(classes_of.values()) >= 7
        assert max(classes_of.values()) <= 11
        subjects = {(g.subject, m.pupil_id) for g in groups for m in g.members}
        for pupil in pupils:
            assert {"English", "Maths", "Science"} <= {s for s, p in subjects if p == pupil.id}
        assert any(re.fullmatch(r"7x/Ma[1-8]", g.code) for g in groups)

        event = session.scalars(select(AuditEvent)).one()
        assert (event.actor, event.action, event.via, event.school_id) == (
            "cli",
            "create",
            "sspbot demo-data",
            school.id,
        )
        assert event.detail == "created synthetic demo school"


def test_demo_data_gives_the_ssp_team_work_to_do(run_cli, sessions):
    assert run_cli("demo-data", "--pupils", "240").code == 0
    today = date.today()

    with sessions() as session:
        pupils = session.scalars(select(Pupil)).all()
        plans = session.scalars(select(Plan)).all()
        open_plans = [p for p in plans if p.status in OPEN]
        with_plan = {p.pupil_id for p in open_plans}
        assert len(with_plan) == len(open_plans)  # one open plan per pupil
        assert 0.11 <= len(open_plans) / len(pupils) <= 0.19
        assert all(p.pupil.sen_stage != SenStage.NONE for p in plans)
        areas = {p.pupil.primary_need.broad_area for p in open_plans}
        assert set(BroadArea) <= areas
        stages = {p.pupil.sen_stage for p in open_plans}
        assert stages == {SenStage.EHC_PLAN, SenStage.SEN_SUPPORT}

        statuses = Counter(p.status for p in plans)
        assert all(statuses[status] for status in PlanStatus)
        assert statuses[PlanStatus.ACTIVE] > len(open_plans) / 2

        reviewing = [p for p in open_plans if p.status in (PlanStatus.ACTIVE, PlanStatus.IN_REVIEW)]
        assert any(p.review_date < today for p in reviewing)
        assert any(today <= p.review_date <= today + timedelta(days=14) for p in reviewing)
        assert all(p.review_date <= today + timedelta(weeks=17) for p in open_plans)
        assert {p.cycle_number for p in open_plans} <= {1, 2, 3, 4}

        # The priority list: pupils with SEN but no plan, and plans with no case holder.
        assert any(p.sen_stage != SenStage.NONE and p.id not in with_plan for p in pupils)
        assert any(p.case_holder_id is None for p in open_plans)

        for plan in plans:
            if plan.case_holder is not None:
                assert plan.case_holder.is_active
                assert StaffRole.CASE_HOLDER in plan.case_holder.roles
            if plan.status == PlanStatus.CLOSED:
                newer = next(p for p in open_plans if p.pupil_id == plan.pupil_id)
                assert newer.cycle_number > plan.cycle_number
                assert plan.closed_at is not None


def test_every_plan_has_content_to_show(db_url, session):
    create_demo_school(session, pupils=120, seed=11, today=TODAY)
    session.commit()

    plans = session.scalars(select(Plan)).all()
    reviews = {(r.plan_id, r.cycle_number): r for r in session.scalars(select(Review))}
    names = set()
    for plan in plans:
        pupil = plan.pupil
        name = pupil.preferred_name or pupil.first_name
        names.add(name)
        assert plan.voice and plan.voice.aspirations and plan.voice.how_to_support_me
        assert name in plan.voice.about_me
        assert 2 <= len(plan.circle_of_support) <= 5
        primary = [need for need in plan.needs if need.is_primary]
        assert len(primary) == 1
        # OTH and NSA name no broad area, so a plan describes them without the code (see
        # tests/test_synthetic_school.py).
        coded = pupil.primary_need if pupil.primary_need.broad_area else None
        assert primary[0].census_code == coded
        assert 2 <= len(plan.adjustments) <= 4
        assert 1 <= len(plan.outcomes) <= 2
        current = [t for t in plan.targets if t.cycle_number == plan.cycle_number]
        assert 2 <= len(current) <= 4
        for target in plan.targets:
            assert target.outcome in plan.outcomes
            assert target.measure and target.baseline and target.success_criteria
            assert target.start_date < target.end_date
        assert plan.provisions and all(p.target in current for p in plan.provisions)
        assert plan.people and plan.consents
        for consent in plan.consents:  # names professionals outside the school: covers them
            outside = re.search(r"\b(professionals|agencies)\b", consent.scope) is not None
            assert consent.outside_school == outside, consent.scope
        assert plan.timeline and all(e.occurred_at.date() <= TODAY for e in plan.timeline)
        if plan.case_holder_id is not None:
            accepted = [a for a in plan.assignments if a.status.value == "accepted"]
            assert accepted[-1].staff_id == plan.case_holder_id
        if plan.status != PlanStatus.CLOSED and plan.cycle_number >= 2:
            review = reviews[(plan.id, plan.cycle_number - 1)]
            assert review.status.value in ("submitted", "approved")
            assert review.target_results
            assert all(r.result is not None for r in review.target_results)
        if plan.pupil.child_in_care:
            assert any(link.kind.value == "personal_education" for link in plan.linked_plans)
    assert any(plan.agencies for plan in plans)
    assert any(plan.reports for plan in plans)
    assert len(names) > 5


def test_the_summary_matches_the_database_and_names_no_pupil(run_cli, sessions):
    result = run_cli("demo-data", "--pupils", "240", "--seed", "5")
    assert result.code == 0, result
    out = result.out
    today = date.today()
    assert len(out.splitlines()) < 16

    with sessions() as session:
        pupils = session.scalars(select(Pupil)).all()
        plans = session.scalars(select(Plan)).all()
        sendco = session.scalars(select(Staff).where(Staff.slack_user_id == "U0DEMO001")).one()
    for pupil in pupils:
        for name in {pupil.known_as, f"{pupil.first_name} {pupil.last_name}"}:
            assert name not in out
        assert pupil.upn not in out
    assert f"SENDCo: {sendco.title} {sendco.display_name} (U0DEMO001)" in out

    open_plans = [p for p in plans if p.status in OPEN]
    # Plans being delivered, as /ssp caseload counts their reviews.
    running = (PlanStatus.ACTIVE, PlanStatus.IN_REVIEW, PlanStatus.AWAITING_QA)
    reviewing = [p for p in open_plans if p.status in running]
    overdue = sum(p.review_date < today for p in reviewing)
    soon = sum(today <= p.review_date <= today + timedelta(days=14) for p in reviewing)
    qa = sum(p.status == PlanStatus.AWAITING_QA for p in open_plans)
    assert f"{len(open_plans)} pupils have an SEN Support Plan" in out
    assert f"Reviews: {overdue} overdue, {soon} due in the next 14 days; {qa} plan" in out
    closed = sum(p.status == PlanStatus.CLOSED for p in plans)
    assert f"{closed} older plan{' is' if closed == 1 else 's are'} closed" in out


def test_summary_counts_what_was_created(db_url, session):
    summary = create_demo_school(session, pupils=150, seed=3, today=TODAY)
    assert isinstance(summary, DemoSummary)
    plans = session.scalars(select(Plan)).all()
    assert summary.pupils == len(session.scalars(select(Pupil)).all())
    assert summary.classes == len(session.scalars(select(TeachingGroup)).all())
    assert summary.plans_by_status == {s: sum(p.status == s for p in plans) for s in PlanStatus}
    open_plans = [p for p in plans if p.status in OPEN]
    assert summary.open_plans == len(open_plans)
    # By the pupil's census code, as /ssp caseload counts them: OTH and NSA in no broad area.
    by_area = Counter(p.pupil.primary_need.broad_area for p in open_plans)
    expected = [(area.label, by_area[area]) for area in BroadArea if by_area[area]]
    if by_area[None]:
        expected.append(("Other or not yet assessed", by_area[None]))
    assert summary.plans_by_area == expected
    assert summary.plans_without_case_holder == sum(p.case_holder_id is None for p in open_plans)
    assert summary.sendco is not None and summary.sendco.slack_user_id == "U0DEMO001"


def test_running_it_again_with_the_same_name_fails_and_changes_nothing(run_cli, sessions):
    assert run_cli("demo-data", "--pupils", "60").code == 0
    with sessions() as session:
        before = _digest(session)

    again = run_cli("demo-data", "--pupils", "60", "--seed", "9")
    assert again.code == 1
    assert "already a school called 'Oakfield Academy (demo)'" in again.err
    assert "--school" in again.err
    assert again.out == ""
    with sessions() as session:
        assert _digest(session) == before

    other = run_cli("demo-data", "--pupils", "60", "--school", "Riverside High (demo)")
    assert other.code == 0, other
    with sessions() as session:
        assert len(session.scalars(select(School)).all()) == 2
        emails = session.scalars(select(Staff.email)).all()
        assert any(e.endswith("@riverside-high-demo.example.org") for e in emails)


@pytest.mark.parametrize("pupils", ["49", "5001", "0"])
def test_refuses_a_school_too_small_or_too_large(run_cli, sessions, pupils):
    result = run_cli("demo-data", "--pupils", pupils)
    assert result.code == 1
    assert "between 50 and 5,000 pupils" in result.err
    with sessions() as session:
        assert session.scalars(select(School)).all() == []


# --- determinism ----------------------------------------------------------------------------


def test_same_seed_and_day_give_the_same_school(db_url, sqlite_template, tmp_path):
    """Built twice, in two databases (the second always SQLite), row for row the same."""
    other = tmp_path / "other.db"
    shutil.copyfile(sqlite_template, other)
    digests = []
    for url in (db_url, f"sqlite:///{other}"):
        engine = db.make_engine(url)
        try:
            sessions = db.make_session_factory(engine)
            with db.unit_of_work(sessions) as session:
                create_demo_school(session, pupils=150, seed=7, today=TODAY)
            with sessions() as session:
                digests.append(_digest(session))
        finally:
            engine.dispose()
    assert len(digests[0]) > 2000
    assert digests[0] == digests[1]


def test_a_different_seed_gives_a_different_school(db_url, session):
    create_demo_school(session, name="First (demo)", pupils=100, seed=1, today=TODAY)
    create_demo_school(session, name="Second (demo)", pupils=100, seed=2, today=TODAY)
    session.commit()
    by_school: dict[int, list] = {}
    for pupil in session.scalars(select(Pupil).order_by(Pupil.id)):
        by_school.setdefault(pupil.school_id, []).append(
            (pupil.upn, pupil.first_name, pupil.last_name, pupil.sen_stage, pupil.primary_need)
        )
    first, second = by_school.values()
    assert len(first) == len(second) == 100
    assert first != second
    assert len({row[0] for row in first} & {row[0] for row in second}) < 10


def test_dates_follow_today_not_the_clock(db_url, session):
    september = date(2026, 9, 1)  # the first day of an academic year
    create_demo_school(session, pupils=50, seed=4, today=september)
    session.commit()
    for pupil in session.scalars(select(Pupil)):
        born_from = date(2026 - pupil.year_group - 5, 9, 1)
        assert born_from <= pupil.date_of_birth <= date(2026 - pupil.year_group - 4, 8, 31)
    moments = session.scalars(select(TimelineEntry.occurred_at)).all()
    assert max(moments) <= datetime(2026, 9, 1, 23, 59, tzinfo=max(moments).tzinfo)
    for plan in session.scalars(select(Plan)):
        assert plan.created_at.date() <= september


# --- UPNs -----------------------------------------------------------------------------------


def test_upn_check_letter_follows_the_dfe_rule():
    # 9·2 + 9·3 + 9·4 + 2·5 + 1·8 + 1·9 + 9·10 + 1·13 = 211; 211 mod 23 = 4 → "E".
    assert _upn("999200119001") == "E999200119001"
    assert _upn("000000000000") == "A000000000000"
    assert _upn("000000000001") == "P000000000001"  # 13 → the 14th letter, without I and O


def test_generated_upns_are_valid_and_unique(db_url, session):
    create_demo_school(session, pupils=400, seed=8, today=TODAY)
    upns = session.scalars(select(Pupil.upn)).all()
    assert len(set(upns)) == len(upns) == 400
    for upn in upns:
        assert re.fullmatch(r"[A-HJ-NP-RT-Z]\d{12}", upn)
        assert upn[0] == check_letter(upn[1:])


def test_generated_upns_pass_the_roster_importers_check(db_url, session):
    try:
        roster = importlib.import_module("bot.services.roster")
    except ImportError:
        pytest.skip("bot.services.roster is not there yet")
    if not hasattr(roster, "is_valid_upn"):
        pytest.skip("bot.services.roster has no is_valid_upn yet")
    create_demo_school(session, pupils=200, seed=6, today=TODAY)
    assert all(roster.is_valid_upn(upn) for upn in session.scalars(select(Pupil.upn)))


# --- the default size -----------------------------------------------------------------------


def test_the_default_school_is_quick_and_shaped_like_a_secondary(sqlite_template, tmp_path):
    """The full 1,200-pupil school, on SQLite only: what the demo and benchmarks use."""
    path = tmp_path / "default.db"
    shutil.copyfile(sqlite_template, path)
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        sessions = db.make_session_factory(engine)
        started = time.perf_counter()
        with db.unit_of_work(sessions) as session:
            summary = create_demo_school(session, today=TODAY)
        elapsed = time.perf_counter() - started
        # Generous, to stay green on a slow machine; the bench reports the real time.
        assert elapsed < 20, f"took {elapsed:.1f} s"

        with sessions() as session:
            assert summary.pupils == 1200
            assert 95 <= summary.staff + summary.staff_left <= 105
            assert 12 <= summary.case_holders <= 15
            assert 0.13 <= summary.open_plans / 1200 <= 0.17
            assert 8 <= summary.plans_without_case_holder <= 12
            assert 10 <= summary.pupils_needing_plan <= 30
            assert 0.07 <= summary.reviews_overdue / summary.open_plans <= 0.13
            assert summary.reviews_due_soon >= 10
            forms = {p.form for p in session.scalars(select(Pupil).where(Pupil.year_group == 7))}
            assert forms == {f"7{letter}" for letter in "ABCDEFGH"}
            sets = session.scalars(
                select(TeachingGroup).where(TeachingGroup.code.like("7x/Ma%"))
            ).all()
            assert len(sets) == 8 and all(28 <= len(s.members) <= 32 for s in sets)

            plans = session.scalars(select(Plan).where(Plan.status != PlanStatus.CLOSED)).all()
            caseloads = Counter(p.case_holder for p in plans if p.case_holder)
            sendco = next(s for s in caseloads if StaffRole.SENDCO in s.roles)
            sendco_plans = [p for p in plans if p.case_holder is sendco]
            assert 1 <= len(sendco_plans) <= 8
            assert all(p.pupil.sen_stage == SenStage.EHC_PLAN for p in sendco_plans)
            others = [n for holder, n in caseloads.items() if holder is not sendco]
            assert min(others) >= 5 and max(others) <= 20
    finally:
        engine.dispose()


# --- helpers --------------------------------------------------------------------------------


def _digest(session: Session) -> list[tuple]:
    """Every row of every table, with ids replaced by natural keys, in a stable order."""
    keys: dict[str, dict[int, object]] = {}
    natural = {
        "schools": lambda r: r["name"],
        "staff": lambda r: r["email"],
        "pupils": lambda r: r["upn"],
        "teaching_groups": lambda r: r["code"],
        "plans": lambda r: (keys["pupils"][r["pupil_id"]], r["cycle_number"]),
        "plan_outcomes": lambda r: (keys["plans"][r["plan_id"]], r["position"]),
        "plan_targets": lambda r: (keys["plans"][r["plan_id"]], r["position"]),
        "plan_provisions": lambda r: (keys["plans"][r["plan_id"]], r["position"]),
        "agency_involvements": lambda r: (keys["plans"][r["plan_id"]], r["agency"]),
        "reviews": lambda r: (keys["plans"][r["plan_id"]], r["cycle_number"]),
        "provision_library": lambda r: r["name"],
        "intervention_groups": lambda r: (r["name"], r["weekdays"], str(r["starts_at"])),
        "intervention_sessions": lambda r: (
            keys["intervention_groups"][r["group_id"]],
            r["held_on"],
        ),
    }
    # Set by the clock on purpose: when the school row and the audit event were written.
    clock = {
        ("schools", "created_at"),
        ("audit_events", "occurred_at"),
        ("provision_library", "created_at"),
        ("provision_library", "updated_at"),
        ("intervention_groups", "created_at"),
    }
    rows = []
    for table in models.Base.metadata.sorted_tables:
        refers = {fk.parent.name: fk.column.table.name for fk in table.foreign_keys}
        for row in session.execute(select(table)).mappings():
            values = []
            for name, value in row.items():
                if name == "id" or (table.name, name) in clock:
                    continue
                if name in refers and value is not None:
                    value = keys[refers[name]][value]
                values.append((name, _plain(value)))
            rows.append((table.name, tuple(values)))
            if table.name in natural:
                keys.setdefault(table.name, {})[row["id"]] = natural[table.name](row)
    return sorted(rows, key=repr)


def _plain(value: object) -> object:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value
