"""Reading the plan (issue 16): targets by cycle after a review, the roster's needs as the
starting point, linked plans told apart, every section readable whole ("Read all"), and the
one-page profile's two questions asked and printed apart.

Brookside High (tests/slack_harness.py) on Monday 23 November 2026: Priya holds Ava (plan 2,
review overdue) and Ben; Tom holds Cara, whom Lee teaches; Dana is a senior leader.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from models import (
    AuditEvent,
    LinkedPlan,
    LinkedPlanKind,
    NeedCode,
    Plan,
    PlanStatus,
    PlanTarget,
    PlanVoice,
    Pupil,
    TargetStatus,
)
from tests.slack_harness import buttons_of, raw_mrkdwn_in, text_of
from tests.test_export import parse
from tests.test_plan_editor import click, modal_text, open_plan, submit
from tests.test_reviews import choose, full_notes, open_by_command, target_ids
from tests.test_team import more_pupils

FIRST = "Read 20 high-frequency words on sight"
SECOND = "Spell ten common words correctly"


def block(view: dict, block_id: str) -> dict:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


def block_text(view: dict, block_id: str) -> str:
    return block(view, block_id)["text"]["text"]


def read_all_value(view: dict, key: str) -> str:
    (button,) = block(view, f"read-{key}")["elements"]
    assert button["action_id"] == "plan_read_section" and button["text"]["text"] == "Read all"
    return button["value"]


def plan_id_of(slack, pupil_key: str) -> int:
    with slack.sessions() as session:
        return session.scalar(
            select(Plan.id).where(
                Plan.pupil_id == slack.ids[pupil_key], Plan.status != PlanStatus.CLOSED
            )
        )


def audit_details(slack, action: str) -> list[tuple[int | None, str]]:
    with slack.sessions() as session:
        return list(
            session.execute(
                select(AuditEvent.actor_staff_id, AuditEvent.detail).where(
                    AuditEvent.action == action
                )
            ).all()
        )


# --- targets after a review -------------------------------------------------------------------


def review_ava(slack) -> None:
    """Priya's review of plan 2: the first target partly achieved (carried forward, as a review
    does by default), the second achieved (closed)."""
    with slack.sessions.begin() as session:
        session.add(
            PlanTarget(
                plan_id=slack.ids["ava_plan"], description=SECOND, cycle_number=2, position=1
            )
        )
    view = open_by_command(slack, "U0PRIYA", "review Ava")
    first, second = target_ids(view)
    notes = full_notes(view, **{f"result:{first}": choose("partly")})
    done = slack.sender.submit("U0PRIYA", view, notes).json()
    assert done["response_action"] == "update"


def test_after_a_review_this_cycles_targets_show_once_and_earlier_ones_under_their_heading(slack):
    review_ava(slack)
    overview = open_plan(slack, "U0SENDCO", "plan Ava Stone")
    assert "Plan 3 in the APDR cycle" in modal_text(overview)
    current = block_text(overview, "section-targets")
    assert current.count(FIRST) == 1 and SECOND not in current
    assert "Working on it" in current
    assert "carried forward from plan 2 (partly achieved there)" in current
    earlier = block_text(overview, "section-targets-earlier")
    assert earlier.startswith("*Earlier cycles*") and "_Plan 2_" in earlier
    assert f"{SECOND} — _Achieved; closed at the review_" in earlier
    assert FIRST not in earlier  # a carried target is shown once, in this cycle
    assert modal_text(overview).count(FIRST) == 1

    # The targets' own list, where they are edited, holds this cycle's only.
    listed = click(slack, "U0SENDCO", overview, "plan_open_section", "targets")
    assert listed["callback_id"] == "plan_section_list"
    assert FIRST in modal_text(listed) and SECOND not in modal_text(listed)
    assert len([b for b in buttons_of(listed) if b["action_id"] == "plan_edit_item"]) == 1

    # Read in full, by a senior leader: both headings, each target once.
    slt = open_plan(slack, "U0SLT", "plan Ava Stone")
    whole = click(slack, "U0SLT", slt, "plan_read_section", read_all_value(slt, "targets"))
    text = modal_text(whole)
    assert text.index("This cycle: plan 3") < text.index(FIRST) < text.index("Earlier cycles")
    assert text.index("Earlier cycles") < text.index(SECOND)
    assert text.count(FIRST) == 1 and text.count(SECOND) == 1


def test_opening_a_plan_costs_the_same_queries_however_many_cycles_it_has(slack, engine):
    def statements_to_open() -> int:
        seen: list[str] = []

        def count(conn, cursor, statement, *args):
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        try:
            open_plan(slack, "U0SENDCO", "plan Ava Stone")
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    with slack.sessions.begin() as session:
        session.add(PlanTarget(plan_id=slack.ids["ava_plan"], description=SECOND, cycle_number=2))
    before = statements_to_open()
    with slack.sessions.begin() as session:
        plan = session.get(Plan, slack.ids["ava_plan"])
        plan.cycle_number = 9
        for cycle in range(2, 9):  # seven earlier cycles, three ended targets each
            for n in range(3):
                plan.targets.append(
                    PlanTarget(
                        description=f"Target {n} of plan {cycle}",
                        cycle_number=cycle,
                        status=TargetStatus.ACHIEVED,
                    )
                )
    assert statements_to_open() == before


# --- the roster's needs -------------------------------------------------------------------------


@pytest.fixture
def school_extras():
    return more_pupils


def test_open_plan_from_an_assignment_starts_from_the_rosters_needs(slack):
    with slack.sessions.begin() as session:
        finn = session.get(Pupil, slack.ids["finn"])
        finn.secondary_need = NeedCode.ASD
    slack.ask("U0SENDCO", "assign Finn Cole <@U0PRIYA|priya>")
    slack.emulator.wait_for(lambda calls: slack.emulator.messages_to("U0PRIYA"))
    (message,) = [m for m in slack.emulator.messages_to("U0PRIYA") if "Finn" in text_of(m)]
    button = next(b for b in buttons_of(message) if b["action_id"] == "ssp_open_plan")
    opened = len(slack.emulator.calls_to("views.open"))
    slack.sender.button("U0PRIYA", "ssp_open_plan", button["value"], message=message)
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    overview = slack.emulator.open_views("U0PRIYA")[-1]
    needs = block_text(overview, "section-needs")
    assert "_Nothing yet._" in needs
    assert "From the school roster: SLCN (primary), ASD (secondary)" in needs

    # The form for a new need starts from the roster's primary need; nothing is saved yet.
    listed = click(slack, "U0PRIYA", overview, "plan_open_section", "needs")
    form = click(slack, "U0PRIYA", listed, "plan_add_item", "needs")
    assert "Started from the school roster: SLCN (primary)" in modal_text(form)
    assert block(form, "census_code")["element"]["initial_option"]["value"] == "SLCN"
    assert (
        block(form, "broad_area")["element"]["initial_option"]["value"]
        == "communication_interaction"
    )
    assert block(form, "is_primary")["element"].get("initial_options")
    with slack.sessions() as session:
        plan = session.get(Plan, plan_id_of(slack, "finn"))
        assert plan.needs == []

    # Saved, it is the plan's own; the next new need starts from the secondary one.
    answer = submit(slack, "U0PRIYA", form, **{"description--0": "Finds it hard to follow talk"})
    assert answer is None or answer["response_action"] == "update"
    with slack.sessions() as session:
        plan = session.get(Plan, plan_id_of(slack, "finn"))
        assert [(n.census_code, n.is_primary) for n in plan.needs] == [(NeedCode.SLCN, True)]
    again = open_plan(slack, "U0PRIYA", "plan Finn Cole")
    assert "From the school roster" not in block_text(again, "section-needs")
    listed = click(slack, "U0PRIYA", again, "plan_open_section", "needs")
    second = click(slack, "U0PRIYA", listed, "plan_add_item", "needs")
    assert block(second, "census_code")["element"]["initial_option"]["value"] == "ASD"
    assert not block(second, "is_primary")["element"].get("initial_options")


def test_a_senior_leader_sees_the_rosters_needs_without_an_offer_to_add_them(slack):
    with slack.sessions.begin() as session:
        plan = session.get(Plan, slack.ids["ava_plan"])
        plan.needs = []
    overview = open_plan(slack, "U0SLT", "plan Ava Stone")
    needs = block_text(overview, "section-needs")
    assert "From the school roster: SpLD (primary)" in needs and "Press Add" not in needs


# --- linked plans --------------------------------------------------------------------------------


def test_two_other_linked_plans_read_apart_with_what_was_typed(slack):
    for about in ("Young carers' plan with <Family Action> & school", "Transport plan: taxi"):
        overview = open_plan(slack, "U0PRIYA", "plan Ava Stone")
        listed = click(slack, "U0PRIYA", overview, "plan_open_section", "links")
        form = click(slack, "U0PRIYA", listed, "plan_add_item", "links")
        submit(slack, "U0PRIYA", form, kind="other", **{"description--0": about})
    overview = open_plan(slack, "U0PRIYA", "plan Ava Stone")
    links = block(overview, "section-links")
    assert (
        "Other: Young carers' plan with &lt;Family Action&gt; &amp; school"
        in (links["text"]["text"])
    )
    assert "Other: Transport plan: taxi" in links["text"]["text"]
    assert raw_mrkdwn_in(overview) == []
    # `/ssp pupil` names them the same way.
    summary = text_of(slack.ask("U0SENDCO", "pupil Ava Stone"))
    assert "Other: Young carers' plan with <Family Action> & school" in summary


# --- reading a section whole -------------------------------------------------------------------


LONG = " ".join(f"word{n:04d}" for n in range(223))[:2000]  # 2,000 characters


def write_long_aspirations(slack, pupil_key: str) -> int:
    with slack.sessions.begin() as session:
        plan = session.scalar(
            select(Plan).where(
                Plan.pupil_id == slack.ids[pupil_key], Plan.status != PlanStatus.CLOSED
            )
        )
        plan.voice = PlanVoice(aspirations=LONG)
        return plan.id


def test_a_senior_leader_reads_a_2000_character_section_whole(slack):
    assert len(LONG) == 2000
    plan_id = write_long_aspirations(slack, "ava")
    overview = open_plan(slack, "U0SLT", "plan Ava Stone")
    assert LONG not in modal_text(overview)  # clipped on the plan itself
    value = read_all_value(overview, "voice")
    assert value == f"{plan_id}:voice"
    whole = click(slack, "U0SLT", overview, "plan_read_section", value)
    assert whole["callback_id"] == "plan_read_section" and not whole.get("submit")
    assert LONG in " ".join(b["text"]["text"] for b in whole["blocks"] if b["type"] == "section")
    assert (slack.ids["slt"], "plan section read in full: voice") in audit_details(slack, "read")


@pytest.mark.parametrize(
    ("user", "staff", "pupil"),
    [
        ("U0LEE", "lee", "cara"),  # a teacher of the pupil: `/ssp pupil`'s part of the plan only
        ("U0TOM", "tom", "ava"),  # a case holder, but not of this pupil
        ("U0TA", "ta", "ava"),  # a teaching assistant
    ],
)
def test_nobody_else_reads_a_plan_whole_through_the_button(slack, user, staff, pupil):
    plan_id = write_long_aspirations(slack, pupil)
    pushes = len(slack.emulator.calls_to("views.push"))
    reply = slack.sender.button(user, "plan_read_section", f"{plan_id}:voice")
    assert reply.status == 200
    refused = slack.emulator.wait_for(lambda calls: slack.emulator.responses_to(user))
    assert "only the SENDCo, senior leaders and the plan's case holder" in text_of(refused[-1])
    assert not any(LONG[:200] in str(call.params) for call in slack.emulator.calls)
    assert len(slack.emulator.calls_to("views.push")) == pushes
    assert (slack.ids[staff], "plan section read refused: voice") in audit_details(slack, "refused")
    assert not [row for row in audit_details(slack, "read") if row[0] == slack.ids[staff]]


def test_someone_from_another_school_cannot_read_a_plan_whole(slack):
    plan_id = write_long_aspirations(slack, "ava")
    slack.emulator.add_user(
        "U0OTHER", email="olly.other@brookside.example.org", team_id="T0OTHERSCH"
    )
    reply = slack.sender.button(
        "U0OTHER", "plan_read_section", f"{plan_id}:voice", team_id="T0OTHERSCH"
    )
    assert reply.status == 200
    refused = slack.emulator.wait_for(lambda calls: slack.emulator.responses_to("U0OTHER"))
    assert "only the SENDCo, senior leaders" in text_of(refused[-1])
    assert not any(LONG[:200] in str(call.params) for call in slack.emulator.calls)
    assert (slack.ids["other_sendco"], "plan section read refused: voice") in audit_details(
        slack, "refused"
    )


def test_a_section_longer_than_a_modal_is_paged(slack):
    with slack.sessions.begin() as session:
        plan = session.get(Plan, slack.ids["ava_plan"])
        plan.linked_plans = [
            LinkedPlan(kind=LinkedPlanKind.OTHER, description=f"Plan {n} " + "x" * 2700)
            for n in range(50)
        ]
    overview = open_plan(slack, "U0SENDCO", "plan Ava Stone")
    first = click(
        slack, "U0SENDCO", overview, "plan_read_section", read_all_value(overview, "links")
    )
    assert "page 1 of 2" in modal_text(first) and len(first["blocks"]) <= 100
    (pager,) = [b for b in first["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in pager["elements"]] == ["plan_read_section_next"]
    second = click(
        slack, "U0SENDCO", first, "plan_read_section_next", pager["elements"][0]["value"]
    )
    assert "page 2 of 2" in modal_text(second) and "Plan 49 " in modal_text(second)
    reads = [d for _, d in audit_details(slack, "read") if d == "plan section read in full: links"]
    assert len(reads) == 2  # each page is checked and audited


# --- the one-page profile's two questions ------------------------------------------------------


def test_the_profiles_two_questions_are_asked_apart_and_printed_under_their_own_headings(slack):
    overview = open_plan(slack, "U0PRIYA", "plan Ava Stone")
    form = click(slack, "U0PRIYA", overview, "plan_open_section", "voice")
    labels = [b["label"]["text"] for b in form["blocks"] if b["type"] == "input"]
    assert "What I like and what I am good at" in labels
    assert "What people like and admire about me" in labels
    submit(
        slack,
        "U0PRIYA",
        form,
        **{
            "strengths_and_likes--0": "Drawing dragons and playing football",
            "liked_and_admired--0": "Her teacher admires how kind she is to younger pupils",
        },
    )
    with slack.sessions() as session:
        voice = session.get(PlanVoice, slack.ids["ava_plan"])
        assert voice.strengths_and_likes == "Drawing dragons and playing football"
        assert voice.liked_and_admired == "Her teacher admires how kind she is to younger pupils"

    for copy in ("--for family", ""):
        fetched = slack.export("U0PRIYA", f"Ava Stone {copy}".strip())
        profile = parse(fetched.body).section("one-page-profile")
        admire = profile.index("What people like and admire about me")
        likes = profile.index("What I like and what I am good at")
        assert admire < profile.index("kind she is to younger pupils") < likes
        assert likes < profile.index("Drawing dragons and playing football")


# --- migration 0020: existing profiles ---------------------------------------------------------


def test_existing_profile_text_stays_the_pupils_likes_and_admire_starts_empty(tmp_path):
    """Before 0020 the one question was asked as "What I like and what I am good at": that is
    what the stored text answers, so it stays there, and nobody was asked the other question."""
    import sqlite3

    from alembic import command
    from alembic.script import ScriptDirectory

    from bot import db

    path = tmp_path / "before.db"
    engine = db.make_engine(f"sqlite:///{path}")
    config = db.alembic_config(engine)
    before = ScriptDirectory.from_config(config).get_revision("0020").down_revision
    command.upgrade(config, before)
    with sqlite3.connect(path) as raw:  # a profile row, and the plan it belongs to
        now = "'2026-01-05 09:00:00'"
        raw.execute(
            f"INSERT INTO schools (id, name, timezone, pupil_display, created_at) "
            f"VALUES (1, 'Brookside High', 'Europe/London', 'name', {now})"
        )
        raw.execute(
            "INSERT INTO pupils (id, school_id, upn, first_name, last_name, date_of_birth, "
            "year_group, taught_in_year_group, sen_stage, eal, pupil_premium, child_in_care, "
            "young_carer, medical_need, is_active, created_at, updated_at) VALUES (1, 1, "
            f"'A820123456001', 'Ava', 'Stone', '2012-03-04', 9, 9, 'K', 0, 0, 0, 0, 0, 1, {now}, "
            f"{now})"
        )
        raw.execute(
            "INSERT INTO plans (id, school_id, pupil_id, cycle_number, status, created_at, "
            f"updated_at, version) VALUES (1, 1, 1, 1, 'active', {now}, {now}, 1)"
        )
        raw.execute(
            "INSERT INTO plan_voices (plan_id, strengths_and_likes) VALUES (1, 'Drawing dragons')"
        )
    command.upgrade(config, "0020")
    with sqlite3.connect(path) as raw:
        row = raw.execute(
            "SELECT strengths_and_likes, liked_and_admired FROM plan_voices WHERE plan_id = 1"
        ).fetchone()
    assert row == ("Drawing dragons", None)
    with sqlite3.connect(path) as raw:  # the batch copy of a downgrade checks foreign keys
        raw.execute("DELETE FROM plan_voices")
    command.downgrade(config, before)
    engine.dispose()
