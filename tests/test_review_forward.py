"""Reviews when things change (Norfolk §3.6, §4.1): a report, a new need or an exam access
arrangement added to an active plan asks its case holder whether to bring the review forward,
and tells the SENDCo.

Brookside High (tests/slack_harness.py) on Monday 23 November 2026: Priya holds Ben's plan,
whose review is moved to Monday 1 March 2027 for these tests. With the test calendar (Autumn term
to 18 December, an INSET day on Friday 27 November, Spring from 5 January), four school weeks
from 23 November is Wednesday 6 January 2027: the date proposed.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from bot.demo.slack_emulator import RESPONSE_URL
from models import (
    AuditEvent,
    Plan,
    Prompt,
    PromptKind,
    PromptStatus,
    ReviewForwardChange,
    TimelineEntry,
)
from tests.slack_harness import buttons_of, text_of
from tests.test_plan_editor import click, open_plan, submit
from tests.test_reviews import dms, set_review_date

REPORT_TITLE = "Educational psychologist's report"
NEED_TEXT = "Difficulty processing spoken instructions"


@pytest.fixture
def ben(slack, terms):
    set_review_date(slack, "ben", date(2027, 3, 1))
    set_review_date(slack, "ava", date(2027, 3, 1))  # no review prompts in the way


def add_item(slack, user: str, pupil: str, section: str, **typed) -> None:
    overview = open_plan(slack, user, f"plan {pupil}")
    entries = click(slack, user, overview, "plan_open_section", section)
    form = click(slack, user, entries, "plan_add_item", section)
    assert submit(slack, user, form, **typed) is None


def add_report(slack, user: str = "U0PRIYA", pupil: str = "Ben Stone") -> None:
    add_item(slack, user, pupil, "reports", title=REPORT_TITLE, author="Dr Lane")


def add_need(slack, user: str = "U0PRIYA") -> None:
    add_item(
        slack,
        user,
        "Ben Stone",
        "needs",
        broad_area="communication_interaction",
        **{"description--0": NEED_TEXT},
    )


def asks(slack) -> list[Prompt]:
    with slack.sessions() as session:
        return list(session.scalars(select(Prompt).where(Prompt.kind == PromptKind.REVIEW_FORWARD)))


def ben_plan(slack) -> Plan:
    with slack.sessions() as session:
        plan = session.scalar(select(Plan).where(Plan.pupil_id == slack.ids["ben"]))
        session.expunge(plan)
        return plan


def the_ask(slack) -> dict:
    (message,) = dms(slack, "U0PRIYA", "bring the review forward")
    return message


def button(message: dict, action_id: str) -> dict:
    return next(b for b in buttons_of(message) if b["action_id"] == action_id)


def press(slack, user: str, message: dict, action_id: str) -> None:
    """Clicks a button of the ask's DM as `user`; waits for the app to answer."""
    before = len(slack.emulator.calls)
    reply = slack.sender.button(
        user, action_id, button(message, action_id)["value"], message=message
    )
    assert reply.status == 200
    # The click is acknowledged before its work: wait for the answer to the person itself (a
    # message through the response URL, or a modal), not any call.
    slack.emulator.wait_for(
        lambda calls: any(
            c.method == RESPONSE_URL or c.method.startswith("views.") for c in calls[before:]
        )
    )


def refusals(slack, user: str) -> list[str]:
    return [text_of(r) for r in slack.emulator.responses_to(user)]


def date_form(slack, user: str, message: dict) -> dict:
    opened = len(slack.emulator.calls_to("views.open"))
    press(slack, user, message, "ssp_forward_choose")
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    return slack.emulator.open_views(user)[-1]


def pick(slack, user: str, form: dict, day: str | None) -> dict:
    reply = slack.sender.submit(
        user, form, {"review_date": {"type": "datepicker", "selected_date": day}}
    )
    assert reply.status == 200, reply
    return reply.json()


# --- the ask ---------------------------------------------------------------------------------


def test_a_report_asks_the_case_holder_by_dm_and_tells_the_sendco(slack, tick, ben):
    add_report(slack)
    add_need(slack)  # the same day: added to the same ask, not a second one
    assert len(asks(slack)) == 1
    with slack.sessions() as session:
        reasons = session.scalars(select(ReviewForwardChange.reason)).all()
        assert [r.value for r in reasons] == ["report", "need"]
    assert dms(slack, "U0PRIYA", "Ben Stone") == []  # the tick sends it

    tick("2026-11-23T10:30:00+00:00")
    message = the_ask(slack)
    body = text_of(message)
    assert "Ben Stone (Year 9)'s SEN Support Plan has changed since its review was set for " \
        "Monday 1 March 2027" in body  # fmt: skip
    assert [b["text"]["text"] for b in buttons_of(message)] == [
        "Bring forward to Wed 6 Jan 2027",
        "Choose another date",
        "Keep Mon 1 Mar 2027",
        "What changed",
    ]
    # The pupil and the ask, no more: not what was added.
    assert REPORT_TITLE not in body and "Difficulty" not in body and "Dr Lane" not in body
    (notice,) = dms(slack, "U0SENDCO", "has been asked whether to bring the review forward")
    assert text_of(notice).startswith(
        "Ben Stone (Year 9)'s plan has changed; their case holder, Priya Shah, has been asked"
    )
    assert REPORT_TITLE not in text_of(notice)
    tick("2026-11-23T11:00:00+00:00")
    assert len(dms(slack, "U0PRIYA", "bring the review forward")) == 1
    assert len(dms(slack, "U0SENDCO", "bring the review forward")) == 1


def test_what_changed_is_shown_in_a_modal_to_the_case_holder_only(slack, tick, ben):
    add_report(slack)
    add_need(slack)
    tick("2026-11-23T10:30:00+00:00")
    message = the_ask(slack)
    opened = len(slack.emulator.calls_to("views.open"))
    press(slack, "U0PRIYA", message, "ssp_forward_changes")
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    shown = text_of({"blocks": slack.emulator.open_views("U0PRIYA")[-1]["blocks"]})
    assert f"A professional report: “{REPORT_TITLE}”, Dr Lane — added by Priya Shah" in shown
    assert f"A new need: {NEED_TEXT}" in shown

    # Another case holder, and a teacher, see nothing of it.
    opened = len(slack.emulator.calls_to("views.open"))
    press(slack, "U0TOM", message, "ssp_forward_changes")
    assert "Only the pupil's case holder or the SENDCo" in refusals(slack, "U0TOM")[-1]
    press(slack, "U0LEE", message, "ssp_forward_changes")
    assert REPORT_TITLE not in " ".join(refusals(slack, "U0LEE"))
    assert len(slack.emulator.calls_to("views.open")) == opened
    with slack.sessions() as session:
        refused = session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "refused")
        ).all()
        assert "what changed refused" in refused


def test_bringing_the_review_forward_moves_the_date_and_the_prompts_follow(slack, tick, ben):
    add_report(slack)
    tick("2026-11-23T10:30:00+00:00")
    message = the_ask(slack)
    keep_value = button(message, "ssp_forward_keep")["value"]
    press(slack, "U0PRIYA", message, "ssp_forward_yes")
    slack.emulator.wait_for(lambda calls: ben_plan(slack).review_date == date(2027, 1, 6))
    answered = the_ask_or_answer(slack)
    assert "Brought forward: the review of Ben Stone's plan is now on Wednesday 6 January " \
        "2027" in text_of(answered)  # fmt: skip
    assert buttons_of(answered) == []
    with slack.sessions() as session:
        timeline = session.scalars(
            select(TimelineEntry.summary).where(TimelineEntry.plan_id == ben_plan(slack).id)
        ).all()
        assert any("brought the review forward from Monday 1 March 2027 to Wednesday 6 "
                   "January 2027" in t for t in timeline)  # fmt: skip
        audited = session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "update")
        ).all()
        assert any("brought the review forward" in (d or "") for d in audited)
        (ask,) = session.scalars(select(Prompt).where(Prompt.kind == PromptKind.REVIEW_FORWARD))
        assert ask.answered_at is not None

    # The review schedule follows the new date: ten school days before Wednesday 6 January is
    # Tuesday 8 December (the Christmas holiday does not count).
    tick("2026-12-07T10:00:00+00:00")
    assert dms(slack, "U0PRIYA", "is due on") == []
    tick("2026-12-08T10:00:00+00:00")
    (prompt,) = dms(slack, "U0PRIYA", "is due on")
    assert "Ben Stone (Year 9)'s SEN Support Plan is due on Wednesday 6 January" in text_of(prompt)

    # A second click (the DM as it was, in another window) changes nothing.
    before = len(slack.emulator.responses_to("U0PRIYA"))
    slack.sender.button("U0PRIYA", "ssp_forward_keep", keep_value, message=message)
    slack.emulator.wait_for(lambda calls: len(slack.emulator.responses_to("U0PRIYA")) > before)
    assert "answered already" in refusals(slack, "U0PRIYA")[-1]
    assert ben_plan(slack).review_date == date(2027, 1, 6)


def the_ask_or_answer(slack) -> dict:
    """The ask's DM as it is now (redrawn once answered)."""
    return [
        m
        for m in slack.emulator.messages_to("U0PRIYA")
        if "Ben Stone" in text_of(m) and "is due on" not in text_of(m)
    ][-1]


def test_only_the_case_holder_or_the_sendco_may_answer(slack, tick, ben):
    add_report(slack)
    tick("2026-11-23T10:30:00+00:00")
    message = the_ask(slack)
    version = ben_plan(slack).version
    for intruder in ("U0LEE", "U0TOM", "U0TA", "U0SLT"):
        press(slack, intruder, message, "ssp_forward_yes")
        press(slack, intruder, message, "ssp_forward_keep")
    assert "Only the pupil's case holder or the SENDCo" in refusals(slack, "U0TOM")[-1]
    assert refusals(slack, "U0LEE")  # a teacher is turned away before anything is read
    plan = ben_plan(slack)
    assert (plan.review_date, plan.version) == (date(2027, 3, 1), version)
    assert buttons_of(the_ask_or_answer(slack))  # the DM still asks
    with slack.sessions() as session:
        assert session.scalar(select(Prompt.answered_at).where(
            Prompt.kind == PromptKind.REVIEW_FORWARD)) is None  # fmt: skip

    # The SENDCo may answer for the case holder.
    press(slack, "U0SENDCO", message, "ssp_forward_keep")
    slack.emulator.wait_for(lambda calls: not buttons_of(the_ask_or_answer(slack)))
    assert "Kept: the review of Ben Stone's plan stays on Monday 1 March 2027" in text_of(
        the_ask_or_answer(slack)
    )
    assert ben_plan(slack).review_date == date(2027, 3, 1)
    with slack.sessions() as session:
        notes = session.scalars(select(TimelineEntry.summary)).all()
        assert any("Morgan Reed kept the review date (Monday 1 March 2027)" in n for n in notes)


def test_choosing_another_date_refuses_weekends_closures_holidays_and_the_past(slack, tick, ben):
    add_report(slack)
    tick("2026-11-23T10:30:00+00:00")
    message = the_ask(slack)
    form = date_form(slack, "U0PRIYA", message)
    assert form["callback_id"] == "ssp_forward_date"
    (picker,) = [b for b in form["blocks"] if b.get("block_id") == "review_date"]
    assert picker["element"]["initial_date"] == "2027-01-06"
    with slack.sessions() as session:
        read = session.scalar(
            select(AuditEvent).where(
                AuditEvent.detail == "opened the form to bring the review forward"
            )
        )
        assert read is not None and read.action == "read"

    def error(day):
        answer = pick(slack, "U0PRIYA", form, day)
        assert answer["response_action"] == "errors", answer
        return answer["errors"]["review_date"]

    assert error(None) == "Choose the new review date."
    assert "Saturday" in error("2027-01-09")
    assert "closed on Friday 27 November 2026 (INSET day)" in error("2026-11-27")
    assert "school holiday" in error("2026-12-23")
    assert "has passed" in error("2026-11-20")
    assert "before it, or keep it" in error("2027-03-05")
    assert ben_plan(slack).review_date == date(2027, 3, 1)

    # Another case holder cannot use the form either.
    refused = pick(slack, "U0TOM", form, "2027-01-12")
    assert "Only the pupil's case holder or the SENDCo" in str(refused)
    assert ben_plan(slack).review_date == date(2027, 3, 1)

    done = pick(slack, "U0PRIYA", form, "2027-01-12")
    assert done["response_action"] == "update"
    assert "now on Tuesday 12 January 2027" in text_of(done["view"])
    assert ben_plan(slack).review_date == date(2027, 1, 12)
    slack.emulator.wait_for(lambda calls: slack.emulator.calls_to("chat.update"))
    redrawn = the_ask_or_answer(slack)
    assert "now on Tuesday 12 January 2027" in text_of(redrawn) and buttons_of(redrawn) == []


def test_an_access_arrangement_asks_but_an_in_class_adjustment_does_not(slack, tick, ben):
    add_item(
        slack,
        "U0SENDCO",
        "Ben Stone",
        "adjustments",
        kind="in_class",
        **{"description--0": "Seat near the front"},
    )
    assert asks(slack) == []
    add_item(
        slack,
        "U0SENDCO",
        "Ben Stone",
        "adjustments",
        kind="access_arrangement",
        **{"description--0": "A reader in exams"},
    )
    assert len(asks(slack)) == 1
    tick("2026-11-23T10:30:00+00:00")
    assert the_ask(slack)
    # The SENDCo made the change: no notice to tell them what they did.
    assert dms(slack, "U0SENDCO", "has been asked whether") == []


def test_nothing_is_asked_when_the_review_is_close_or_the_plan_not_active(slack, tick, terms):
    # Ben's review is on Saturday 28 November, within four school weeks: it will weigh the
    # report anyway.
    add_report(slack)
    # Cara's plan, held by Tom, is awaiting quality assurance.
    with slack.sessions.begin() as session:
        cara = session.scalar(select(Plan).where(Plan.pupil_id == slack.ids["cara"]))
        cara.review_date = date(2027, 3, 1)
        from models import PlanStatus

        cara.status = PlanStatus.AWAITING_QA
    add_report(slack, "U0SENDCO", "Cara Lin")
    assert asks(slack) == []
    tick("2026-11-23T10:30:00+00:00")
    assert dms(slack, "U0PRIYA", "bring the review forward") == []


def test_an_ask_no_longer_needed_is_not_sent(slack, tick, ben):
    add_report(slack)
    # The review is moved close by hand before the message goes: nothing left to ask.
    set_review_date(slack, "ben", date(2026, 12, 4))
    tick("2026-11-23T10:30:00+00:00")
    assert dms(slack, "U0PRIYA", "bring the review forward") == []
    with slack.sessions() as session:
        status = session.scalar(
            select(Prompt.status).where(Prompt.kind == PromptKind.REVIEW_FORWARD)
        )
        assert status == PromptStatus.CANCELLED
        assert session.scalar(select(func.count()).select_from(ReviewForwardChange)) == 1


def test_a_school_that_names_pupils_by_initials_is_asked_with_initials(slack, tick, ben):
    from models import PupilDisplay, School

    with slack.sessions.begin() as session:
        session.get(School, slack.ids["school"]).pupil_display = PupilDisplay.INITIALS
    add_report(slack)
    tick("2026-11-23T10:30:00+00:00")
    (message,) = dms(slack, "U0PRIYA", "bring the review forward")
    assert "BS (Year 9)'s SEN Support Plan has changed" in text_of(message)
    press(slack, "U0PRIYA", message, "ssp_forward_yes")
    slack.emulator.wait_for(lambda calls: ben_plan(slack).review_date == date(2027, 1, 6))
    slack.emulator.wait_for(
        lambda calls: "Brought forward" in text_of(slack.emulator.messages_to("U0PRIYA")[-1])
    )
    answered = text_of(slack.emulator.messages_to("U0PRIYA")[-1])
    assert "the review of BS's plan is now on Wednesday 6 January 2027" in answered
    assert not any("Ben" in text_of(m) for m in slack.emulator.messages_to("U0PRIYA"))


def test_a_new_need_on_the_roster_asks_about_a_pupil_with_an_active_plan(
    slack, tick, run_cli, tmp_path
):
    # The import is dated by the real clock: Ben's review is put far beyond it.
    from datetime import timedelta

    from bot.services.roster import upn_check_letter
    from models import Pupil

    set_review_date(slack, "ben", date.today() + timedelta(days=200))
    set_review_date(slack, "ava", date.today() + timedelta(days=200))
    # The harness's UPNs are made up; the importer checks theirs, so the school's get real ones.
    upns = {}
    with slack.sessions.begin() as session:
        for key in ("ava", "ben", "cara", "dev"):
            pupil = session.get(Pupil, slack.ids[key])
            pupil.upn = upn_check_letter(pupil.upn[1:]) + pupil.upn[1:]
            upns[key] = pupil.upn
    roster = tmp_path / "pupils.csv"
    roster.write_text(
        "upn,first_name,last_name,date_of_birth,year_group,sen_stage,primary_need,secondary_need\n"
        f"{upns['ava']},Ava,Stone,2012-03-04,9,K,SpLD,\n"  # unchanged
        f"{upns['ben']},Ben,Stone,2012-03-04,9,E,SEMH,SLCN\n"  # gains SLCN
        f"{upns['cara']},Cara,Lin,2012-03-04,9,K,ASD,\n"
        f"{upns['dev']},Dev,Patel,2012-03-04,9,N,,\n"
    )
    result = run_cli("import", "pupils", str(roster), "--school", "Brookside High")
    assert result.code == 0, result
    (ask,) = asks(slack)
    assert ask.plan_id == ben_plan(slack).id and ask.recipient_id == slack.ids["priya"]
    tick(ask.due_at.isoformat())
    message = the_ask(slack)
    assert "Ben Stone (Year 9)'s SEN Support Plan has changed" in text_of(message)
    assert "SLCN" not in text_of(message)
    (notice,) = dms(slack, "U0SENDCO", "has been asked whether to bring the review forward")
    opened = len(slack.emulator.calls_to("views.open"))
    press(slack, "U0PRIYA", message, "ssp_forward_changes")
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    shown = text_of({"blocks": slack.emulator.open_views("U0PRIYA")[-1]["blocks"]})
    assert "A new need: on the roster: SLCN" in shown and "added by the roster import" in shown

    # The same roster again changes nothing and asks nothing more.
    assert run_cli("import", "pupils", str(roster), "--school", "Brookside High").code == 0
    assert len(asks(slack)) == 1
    with slack.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ReviewForwardChange)) == 1
