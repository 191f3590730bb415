"""The quality loop as senior leaders watch it: `/ssp qa` read only (what waits, for how long,
returned how often), and nothing a senior leader clicks decides a plan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from bot.services import qa
from models import (
    Plan,
    PlanStatus,
    Prompt,
    Pupil,
    SenStage,
    TimelineEntry,
    TimelineKind,
)
from tests.slack_harness import NOW, buttons_of, text_of
from tests.test_qa import decide

SENT_AVA = datetime(2026, 11, 13, 9, 0, tzinfo=UTC)  # Friday: 6 school days, 10 days to Monday
SENT_CARA = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)  # Saturday: 1 school day, 2 days


def waiting_plans(session, ids: dict) -> dict:
    """Ava's plan waiting since a Friday, never returned; Cara's since a Saturday, returned twice
    before; Ben's active (returned once, long ago): not waiting."""
    plans = {
        p.pupil_id: p for p in session.scalars(select(Plan).where(Plan.school_id == ids["school"]))
    }
    ava, ben, cara = plans[ids["ava"]], plans[ids["ben"]], plans[ids["cara"]]
    for plan, sent in ((ava, SENT_AVA), (cara, SENT_CARA)):
        plan.status, plan.updated_at = PlanStatus.AWAITING_QA, sent
    for plan, times in ((cara, 2), (ben, 1)):
        for n in range(times):
            plan.timeline.append(
                TimelineEntry(
                    occurred_at=NOW - timedelta(days=30 - n),
                    kind=TimelineKind.PLAN_CHANGE,
                    summary=f"{qa.RETURNED}: targets need a baseline ({n})",
                )
            )
    cara.timeline.append(
        TimelineEntry(occurred_at=NOW, kind=TimelineKind.NOTE, summary="returned by the SENDCo")
    )
    session.flush()
    return {"cara_plan": cara.id, "ben_plan": ben.id}


@pytest.fixture
def school_extras():
    return waiting_plans


def line_of(listing: dict, name: str) -> str:
    return next(
        b["text"]["text"]
        for b in listing["blocks"]
        if b.get("type") == "section" and name in b["text"]["text"]
    )


def state(slack) -> tuple:
    """Everything a decision would change: statuses, timelines, queued messages."""
    with slack.sessions() as session:
        return (
            tuple(session.scalars(select(Plan.status).order_by(Plan.id))),
            session.scalar(select(func.count(TimelineEntry.id))),
            session.scalar(select(func.count(Prompt.id))),
        )


@pytest.mark.parametrize("user", ["U0SLT", "U0SENDCO"])
def test_the_list_says_how_long_each_plan_has_waited_and_how_often_it_was_returned(slack, user):
    listing = slack.ask(user, "qa")
    text = text_of(listing)
    assert "2 plans, longest waiting first (the longest for 6 school days (10 days))" in text
    assert "1 plan has been returned for changes before" in text
    assert text.index("Ava Stone") < text.index("Cara Lin")
    assert "Ben Stone" not in text
    ava, cara = line_of(listing, "Ava Stone"), line_of(listing, "Cara Lin")
    assert "waiting 6 school days (10 days), since 13 Nov 2026" in ava
    assert "not returned before" in ava
    assert "waiting 1 school day (2 days)" in cara and "returned 2 times before" in cara
    assert "case holder Priya Shah" in ava


def test_a_senior_leader_reads_it_with_nothing_to_decide(slack):
    listing = slack.ask("U0SLT", "qa")
    assert buttons_of(listing) == []
    assert "Read only: the SENDCo approves or returns each plan." in text_of(listing)
    sendco = slack.ask("U0SENDCO", "qa")
    assert [b["action_id"] for b in buttons_of(sendco)] == ["ssp_qa_open", "ssp_qa_open"]


def test_help_tells_a_senior_leader_of_the_read_only_list(slack):
    assert "how often each was returned (read only)" in text_of(slack.ask("U0SLT", "help"))
    assert "approve or return with comments" in text_of(slack.ask("U0SENDCO", "help"))


@pytest.mark.parametrize("user", ["U0PRIYA", "U0LEE", "U0TA"])
def test_case_holders_and_teachers_are_refused_the_list(slack, user):
    answer = slack.ask(user, "qa")
    assert "Quality assurance is for the SENDCo; senior leaders can see what is waiting" in (
        text_of(answer)
    )
    assert "Ava" not in str(answer) and "Cara" not in str(answer)


def test_a_senior_leader_replaying_the_sendcos_buttons_and_form_changes_nothing(slack):
    listing = slack.ask("U0SENDCO", "qa")
    review = next(b for b in buttons_of(listing) if b["action_id"] == "ssp_qa_open")
    before = state(slack)

    opened = len(slack.emulator.calls_to("views.open"))
    answer = slack.click("U0SLT", "ssp_qa_open", review["value"])
    assert "only they approve or return plans" in text_of(answer)
    assert "Ava" not in str(answer)
    assert len(slack.emulator.calls_to("views.open")) == opened  # no decision form for them

    # The SENDCo's open decision form, sent as the senior leader: approve, then return.
    slack.sender.button("U0SENDCO", "ssp_qa_open", review["value"])
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    modal = slack.emulator.open_views()[-1]
    for decision, comments in (("approve", None), ("return", "Rewrite the targets")):
        option = next(
            o
            for b in modal["blocks"]
            if b.get("block_id") == "decision"
            for o in b["element"]["options"]
            if o["value"] == decision
        )
        reply = slack.sender.submit(
            "U0SLT",
            modal,
            {
                "decision": {"type": "radio_buttons", "selected_option": option},
                "comments": {"type": "plain_text_input", "value": comments},
            },
        )
        assert reply.status == 200
        assert "only they approve or return plans" in str(reply.json())
    assert state(slack) == before
    # The SENDCo's own decision still goes through: the form was theirs all along.
    decide(slack, modal, "approve")
    assert state(slack) != before


def test_the_list_takes_the_same_number_of_queries_however_many_plans_wait(slack, engine):
    def queries() -> int:
        statements: list[str] = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        try:
            assert "Awaiting quality assurance" in text_of(slack.ask("U0SLT", "qa"))
        finally:
            event.remove(engine, "before_cursor_execute", count)
        # The audit rows, one per plan shown, are written in one statement or one per row
        # depending on the driver: only reads are counted here.
        return len([s for s in statements if s.lstrip().upper().startswith("SELECT")])

    few = queries()
    with slack.sessions.begin() as session:
        school = slack.ids["school"]
        for n in range(12):
            pupil = Pupil(
                school_id=school,
                upn=f"A8201234{n + 500:05d}",
                first_name="Waiting",
                last_name=f"Pupil{n:02d}",
                date_of_birth=datetime(2012, 1, 1).date(),
                year_group=8,
                sen_stage=SenStage.SEN_SUPPORT,
            )
            plan = Plan(
                school_id=school,
                pupil=pupil,
                status=PlanStatus.AWAITING_QA,
                case_holder_id=slack.ids["priya"],
                updated_at=SENT_AVA + timedelta(hours=n),
            )
            plan.timeline.append(
                TimelineEntry(
                    occurred_at=SENT_AVA,
                    kind=TimelineKind.PLAN_CHANGE,
                    summary=f"{qa.RETURNED}: again",
                )
            )
            session.add(plan)
    assert "14 plans" in text_of(slack.ask("U0SLT", "qa"))
    assert queries() == few
