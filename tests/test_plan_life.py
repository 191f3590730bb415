"""A plan's life after it is written: "In review" while the review notes are being written, and
closure (by the SENDCo, or when the pupil leaves).

Brookside High (tests/slack_harness.py) on Monday 23 November 2026: Priya holds Ava (review
overdue) and Ben; Tom holds Cara.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from bot.services.roster import upn_check_letter
from models import (
    AuditEvent,
    ClosureReason,
    Plan,
    PlanStatus,
    Prompt,
    PromptKind,
    PromptStatus,
    Pupil,
)
from tests.slack_harness import buttons_of, text_of
from tests.test_plan_editor import click, open_plan, submit
from tests.test_reviews import choose, full_notes, open_by_command, target_ids, text


def plan_status(slack, key: str = "ava_plan") -> PlanStatus:
    with slack.sessions() as session:
        return session.get(Plan, slack.ids[key]).status


# --- in review ------------------------------------------------------------------------------


def test_a_plan_is_in_review_from_the_first_draft_until_the_notes_are_submitted(slack):
    assert "In review" not in text_of(slack.ask("U0PRIYA", "mine"))
    view = open_by_command(slack, "U0PRIYA", "review Ava")
    # Opening the form alone starts nothing: a look is not a review.
    assert plan_status(slack) == PlanStatus.ACTIVE

    (target_id,) = target_ids(view)
    partial = {
        "what_is_working": text("Daily Lexia sessions"),
        f"result:{target_id}": choose("partly"),
    }
    updates = len(slack.emulator.calls_to("views.update"))
    slack.sender.view_button("U0PRIYA", view, "ssp_review_save_draft", "draft", values=partial)
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.update")) > updates)
    assert plan_status(slack) == PlanStatus.IN_REVIEW
    caseload = text_of(slack.ask("U0PRIYA", "mine"))
    assert "In review" in caseload
    assert "In review" in text_of(slack.ask("U0SENDCO", "pupil Ava"))
    with slack.sessions() as session:
        assert session.scalar(
            select(AuditEvent.id).where(AuditEvent.detail.like("%plan in review%"))
        )

    # A second draft keeps it in review; submitting sends it on to the SENDCo.
    reopened = open_by_command(slack, "U0PRIYA", "review Ava")
    done = slack.sender.submit("U0PRIYA", reopened, full_notes(reopened)).json()
    assert done["response_action"] == "update"
    assert plan_status(slack) == PlanStatus.AWAITING_QA
    assert "In review" not in text_of(slack.ask("U0PRIYA", "mine"))


# --- closing a plan -------------------------------------------------------------------------


def close_form(slack, user: str = "U0SENDCO", pupil: str = "Ava") -> dict:
    return open_by_command(slack, user, f"close {pupil}")


def close_with(slack, view: dict, reason: str | None, note: str | None = None, user="U0SENDCO"):
    values = {"reason": choose(reason), "note": text(note)}
    reply = slack.sender.submit(user, view, values)
    assert reply.status == 200
    return reply.json()


def pending_prompts(slack, key: str = "ava_plan") -> int:
    with slack.sessions() as session:
        return session.scalar(
            select(func.count())
            .select_from(Prompt)
            .where(Prompt.plan_id == slack.ids[key], Prompt.status == PromptStatus.PENDING)
        )


def test_the_sendco_closes_a_plan_with_a_reason_and_it_stays_in_the_pupils_history(slack, tick):
    tick("2026-11-23T10:00:00+00:00")  # Ava's review is overdue: a prompt to Priya is owed
    with slack.sessions.begin() as session:
        # One more prompt still waiting to go: closure must cancel it.
        session.add(
            Prompt(
                school_id=slack.ids["school"],
                recipient_id=slack.ids["priya"],
                kind=PromptKind.REVIEW_REMINDER,
                plan_id=slack.ids["ava_plan"],
                cycle_number=2,
                dedupe_key="review_reminder:test",
                due_at=datetime(2026, 11, 30, 9, tzinfo=UTC),
            )
        )
    assert pending_prompts(slack) == 1
    assert "Ava Stone" in text_of(slack.ask("U0SENDCO", "overdue"))

    view = close_form(slack)
    assert "Close" in view["title"]["text"] and "Ava Stone" in text_of({"blocks": view["blocks"]})
    # "Other" needs a few words.
    refused = close_with(slack, view, "other")
    assert refused["response_action"] == "errors" and "note" in refused["errors"]
    assert plan_status(slack) == PlanStatus.ACTIVE

    done = close_with(slack, view, "needs_met")
    assert "closed (needs met)" in text_of(done["view"])
    with slack.sessions() as session:
        plan = session.get(Plan, slack.ids["ava_plan"])
        assert (plan.status, plan.closure_reason) == (PlanStatus.CLOSED, ClosureReason.NEEDS_MET)
        assert session.scalar(
            select(AuditEvent.id).where(
                AuditEvent.plan_id == plan.id, AuditEvent.detail == "plan closed: needs met"
            )
        )
    assert pending_prompts(slack) == 0
    # No longer overdue or escalated anywhere; kept in the pupil's history.
    assert "Ava Stone" not in text_of(slack.ask("U0SENDCO", "overdue"))
    assert "Ava Stone" not in text_of(slack.ask("U0PRIYA", "mine"))
    history = text_of(slack.ask("U0SENDCO", "pupil Ava"))
    assert "Closed 23 Nov 2026 — needs met" in history
    # A closed plan has no review to log, and closing it again says so.
    assert "couldn't find" in text_of(slack.ask("U0PRIYA", "review Ava")).lower()
    assert "no open plan" in text_of(slack.ask("U0SENDCO", "close Ava")).lower()
    again = close_with(slack, view, "needs_met")
    assert "already closed" in text_of(again["view"])


def test_other_reasons_are_shown_in_the_sendcos_words(slack):
    done = close_with(slack, close_form(slack), "other", "Moved to home education")
    assert "closed (other)" in text_of(done["view"])
    assert "Closed 23 Nov 2026 — Moved to home education" in text_of(
        slack.ask("U0SENDCO", "pupil Ava")
    )


def test_only_the_sendco_sees_the_close_button_on_the_plan(slack):
    holder = open_plan(slack, "U0PRIYA", "plan Ava Stone")
    assert "plan_close" not in [b["action_id"] for b in buttons_of(holder)]
    sendco = open_plan(slack, "U0SENDCO", "plan Ava Stone")
    assert "plan_close" in [b["action_id"] for b in buttons_of(sendco)]
    # The SENDCo's button stacks the form on the plan, and closing works from there.
    form = click(slack, "U0SENDCO", sendco, "plan_close", str(slack.ids["ava"]))
    assert form["callback_id"] == "ssp_close_plan"
    close_with(slack, form, "ehc_plan")
    assert "Closed 23 Nov 2026 — moved to an EHC plan" in text_of(
        slack.ask("U0SENDCO", "pupil Ava")
    )


@pytest.mark.parametrize("user", ["U0PRIYA", "U0LEE", "U0SLT"])
def test_nobody_but_the_sendco_can_close_a_plan(slack, user):
    """Slack delivers a click from anyone who has the message: each one is refused."""
    form = close_form(slack)
    # The case holder, a teacher and a senior leader: the command, the plan's button, the form.
    assert "Only the SENDCo can close a plan" in text_of(slack.ask(user, "close Ava"))
    assert slack.sender.button(user, "plan_close", str(slack.ids["ava"])).status == 200
    refused = slack.emulator.wait_for(lambda calls: slack.emulator.responses_to(user))
    assert "Only the SENDCo can close a plan" in text_of(refused[-1])
    answer = close_with(slack, form, "needs_met", user=user)
    assert "Only the SENDCo can close a plan" in text_of(answer["view"])
    assert plan_status(slack) == PlanStatus.ACTIVE


def test_a_closed_plan_is_read_only(slack):
    overview = open_plan(slack, "U0PRIYA", "plan Ava Stone")
    form = click(slack, "U0PRIYA", overview, "plan_open_section", "voice")
    close_with(slack, close_form(slack), "needs_met")
    answer = submit(slack, "U0PRIYA", form, **{"aspirations--0": "To be a vet"})
    assert "closed" in text_of(answer["view"]).lower()
    with slack.sessions() as session:
        plan = session.get(Plan, slack.ids["ava_plan"])
        assert plan.voice is None or plan.voice.aspirations != "To be a vet"
    # Opening it to edit finds no open plan.
    assert "Close plan" not in text_of(slack.ask("U0PRIYA", "pupil Ava"))


# --- leavers --------------------------------------------------------------------------------


class Monday(date):
    """The import's "today" (the CLI asks the system clock): the harness's Monday."""

    @classmethod
    def today(cls):
        return cls(2026, 11, 23)


@pytest.fixture(autouse=True)
def import_on_monday(monkeypatch):
    monkeypatch.setattr("bot.cli.date", Monday)


def import_pupils_without(slack, run_cli, tmp_path, *leaving: str, no_sen: str = "") -> str:
    """Imports Brookside's pupils from a file without `leaving` (their keys in slack.ids), and
    with SEN stage N for `no_sen` (a key) and everyone else's stage as it is."""
    gone = {slack.ids[key] for key in leaving}
    with slack.sessions.begin() as session:
        pupils = session.scalars(
            select(Pupil).where(Pupil.school_id == slack.ids["school"], Pupil.id.not_in(gone))
        ).all()
        for p in pupils:  # the harness's UPNs are made up: give them valid check letters
            p.upn = upn_check_letter(p.upn[1:]) + p.upn[1:]
        no_sen_id = slack.ids[no_sen] if no_sen else None
        rows = [
            f"{p.upn},{p.first_name},{p.last_name},{p.date_of_birth:%Y-%m-%d},{p.year_group},"
            + ("N" if p.id == no_sen_id else p.sen_stage.value)
            for p in pupils
        ]
    path = tmp_path / "pupils.csv"
    header = "upn,first_name,last_name,date_of_birth,year_group,sen_stage\n"
    path.write_text(header + "\n".join(rows) + "\n")
    result = run_cli("import", "pupils", str(path), "--school", "Brookside High")
    assert result.code == 0, result
    return result.out


def test_a_leaver_from_an_import_stops_their_prompts_and_the_sendco_closes_the_plan(
    slack, tick, run_cli, tmp_path
):
    tick("2026-11-23T10:00:00+00:00")  # Ava's overdue review prompt goes to Priya
    with slack.sessions.begin() as session:
        session.add(
            Prompt(
                school_id=slack.ids["school"],
                recipient_id=slack.ids["priya"],
                kind=PromptKind.REVIEW_REMINDER,
                plan_id=slack.ids["ava_plan"],
                cycle_number=2,
                dedupe_key="review_reminder:test",
                due_at=datetime(2026, 11, 30, 9, tzinfo=UTC),
            )
        )
    out = import_pupils_without(slack, run_cli, tmp_path, "ava")
    assert "1 marked as left" in out and "asked to close the plan" in out
    assert pending_prompts(slack) == 0
    assert plan_status(slack) == PlanStatus.ACTIVE  # kept open until the SENDCo confirms

    tick("2026-11-24T10:00:00+00:00")
    (leavers,) = [
        m for m in slack.emulator.messages_to("U0SENDCO") if "left the school" in text_of(m)
    ]
    assert "Ava Stone" in text_of(leavers) and "Ben" not in text_of(leavers)
    # No new reminder or escalation about a leaver.
    assert pending_prompts(slack) == 0
    assert "Ava Stone" not in text_of(slack.ask("U0SENDCO", "overdue"))

    button, _transfer = buttons_of(leavers)  # Close their plans, Transfer records
    # Only the SENDCo: the case holder, a teacher and a senior leader clicking it are refused.
    for user in ("U0PRIYA", "U0LEE", "U0SLT"):
        assert slack.sender.button(user, "ssp_leavers_close", button["value"]).status == 200
        refused = slack.emulator.wait_for(lambda calls, u=user: slack.emulator.responses_to(u))
        assert "Only the SENDCo can close a plan" in text_of(refused[-1])
    assert plan_status(slack) == PlanStatus.ACTIVE
    before = len(slack.emulator.responses_to("U0SENDCO"))
    assert slack.sender.button("U0SENDCO", "ssp_leavers_close", button["value"]).status == 200
    done = slack.emulator.wait_for(lambda calls: slack.emulator.responses_to("U0SENDCO")[before:])
    assert "Closed (left the school): Ava Stone" in text_of(done[-1])
    with slack.sessions() as session:
        plan = session.get(Plan, slack.ids["ava_plan"])
        assert (plan.status, plan.closure_reason) == (PlanStatus.CLOSED, ClosureReason.LEFT_SCHOOL)


def test_a_leavers_plan_closes_by_itself_after_twenty_school_days(slack, tick, run_cli, tmp_path):
    import_pupils_without(slack, run_cli, tmp_path, "ava")
    tick("2026-12-18T10:00:00+00:00")  # 19 school days after leaving (no term dates: weekdays)
    assert plan_status(slack) == PlanStatus.ACTIVE
    tick("2026-12-22T10:00:00+00:00")
    assert plan_status(slack) == PlanStatus.CLOSED
    with slack.sessions() as session:
        plan = session.get(Plan, slack.ids["ava_plan"])
        assert plan.closure_reason == ClosureReason.LEFT_SCHOOL
        assert session.scalar(
            select(AuditEvent.id).where(
                AuditEvent.plan_id == plan.id, AuditEvent.detail.like("plan closed: left%")
            )
        )


def test_the_sendco_is_asked_about_a_plan_whose_pupil_is_no_longer_on_sen_support(
    slack, tick, run_cli, tmp_path
):
    import_pupils_without(slack, run_cli, tmp_path, "cara", no_sen="ben")
    tick("2026-11-23T10:00:00+00:00")
    (asked,) = [m for m in slack.emulator.messages_to("U0SENDCO") if "SEN stage N" in text_of(m)]
    said = text_of(asked)
    assert "Ben" in said and "/ssp close" in said
    assert "Cara" in said and "left the school" in said  # one message for the whole import
    with slack.sessions() as session:
        ben_plan = session.scalar(select(Plan).where(Plan.pupil_id == slack.ids["ben"]))
        assert ben_plan.status == PlanStatus.ACTIVE  # the SENDCo decides


def test_only_a_drop_to_n_asks_nothing_about_leavers(slack, tick, run_cli, tmp_path):
    import_pupils_without(slack, run_cli, tmp_path, no_sen="ben")
    tick("2026-11-23T10:00:00+00:00")
    (asked,) = [m for m in slack.emulator.messages_to("U0SENDCO") if "SEN stage N" in text_of(m)]
    assert "left the school" not in text_of(asked) and buttons_of(asked) == []
