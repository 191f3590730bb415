"""Pupils who leave with an open plan, as staff meet them after a roster import: not counted as
overdue in `/ssp caseload`, still found by `/ssp pupil` by those who keep their record (never by
a teacher), and each import's leavers message names that import's pupils only.

Brookside High (tests/slack_harness.py) on Monday 23 November 2026: Priya holds Ava (review 9
days overdue) and Ben; Tom holds Cara, whom Lee teaches. Imports go through `sspbot import
pupils` (tests/test_plan_life.py), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import ClosureReason, Plan, PlanStatus
from tests.slack_harness import buttons_of, text_of
from tests.test_plan_life import (
    Monday,
    close_form,
    close_with,
    import_pupils_without,
    plan_status,
)

# Ava and Cara leave on Monday 23 November; with no term dates every weekday is a school day,
# so their plans close by themselves on the 20th school day after: Monday 21 December.
CLOSES = "21 Dec 2026"


@pytest.fixture(autouse=True)
def import_on_monday(monkeypatch):
    monkeypatch.setattr("bot.cli.date", Monday)


@pytest.fixture
def tick(slack, run_cli):
    """`sspbot tick --now WHEN`: the scheduler's sweep, sending what is due."""
    env = {"SLACK_BOT_TOKEN": slack.emulator.bot_token, "SLACK_API_URL": slack.emulator.api_url}

    def run(when: str) -> str:
        result = run_cli("tick", "--now", when, env=env)
        assert result.code == 0, result
        return result.out

    return run


def leavers_messages(slack) -> list[dict]:
    return [
        m
        for m in slack.emulator.messages_to("U0SENDCO")
        if "left the school" in text_of(m) or "SEN stage N" in text_of(m)
    ]


def not_found(slack, user: str, query: str) -> str:
    """What `user` reads for `/ssp pupil <query>`, with the query itself taken out."""
    return text_of(slack.ask(user, f"pupil {query}")).replace(query, "…")


# --- (a) /ssp caseload -----------------------------------------------------------------------


def test_a_leavers_overdue_plan_is_counted_as_leaving_not_overdue(slack, run_cli, tmp_path):
    before = text_of(slack.ask("U0SENDCO", "caseload"))
    assert "3 open · 1 reviews due soon · 1 overdue" in before

    import_pupils_without(slack, run_cli, tmp_path, "ava")

    for user in ("U0SENDCO", "U0SLT"):  # the SENDCo and a senior leader read the same
        after = text_of(slack.ask(user, "caseload"))
        assert "2 open · 1 reviews due soon · 0 overdue" in after
        assert "1 pupil has left with an open plan (not counted above)" in after
        assert f"its plan closes by {CLOSES}" in after
        assert "Ava" not in after  # counts and staff only, as before
    # Priya's own list still shows the plan, as leaving rather than overdue.
    mine = text_of(slack.ask("U0PRIYA", "mine"))
    assert f"left the school 23 Nov 2026, plan closing {CLOSES}" in mine
    assert "overdue" not in mine
    slack.sender.app_home_opened("U0PRIYA")
    home = slack.emulator.wait_for(lambda calls: slack.emulator.home_views.get("U0PRIYA"))
    assert f"left the school 23 Nov 2026, plan closing {CLOSES}" in text_of(home)
    assert "overdue" not in text_of(home)
    holder = text_of(slack.ask("U0SENDCO", "caseload <@U0PRIYA>"))
    assert "Ava Stone" in holder and "overdue" not in holder
    # /ssp overdue already left it out; it still does.
    assert "No reviews are overdue" in text_of(slack.ask("U0SENDCO", "overdue"))


def test_a_leavers_plan_leaves_the_count_once_closed_and_an_undo_brings_it_back(
    slack, run_cli, tmp_path
):
    import_pupils_without(slack, run_cli, tmp_path, "ava")
    # The pupil comes back in the next file (the last one was a mistake): overdue again.
    import_pupils_without(slack, run_cli, tmp_path)
    again = text_of(slack.ask("U0SENDCO", "caseload"))
    assert "3 open · 1 reviews due soon · 1 overdue" in again and "Left the school" not in again


# --- (b) /ssp pupil ---------------------------------------------------------------------------


def test_those_who_keep_a_leavers_record_find_them_marked_as_left(slack, run_cli, tmp_path):
    import_pupils_without(slack, run_cli, tmp_path, "ava", "cara")
    for user, pupil in (
        ("U0SENDCO", "Ava Stone"),
        ("U0SLT", "Ava Stone"),
        ("U0PRIYA", "Ava Stone"),  # her case holder, while the plan is open
        ("U0TOM", "Cara Lin"),
    ):
        shown = text_of(slack.ask(user, f"pupil {pupil}"))
        assert "Left the school on 23 Nov 2026" in shown, user
        assert f"closes by itself on {CLOSES}" in shown
        assert "(overdue)" not in shown  # nobody chases a leaver's review
    # A search that matches a leaver and a pupil on roll says which has left.
    choices = text_of(slack.ask("U0SENDCO", "pupil Stone"))
    assert "Ava Stone · Year 9 (9A) · left the school   [Show]" in choices
    assert "Ben Stone · Year 9 (9A)   [Show]" in choices


def test_a_leaver_looks_like_nobody_to_a_teacher_or_another_case_holder(slack, run_cli, tmp_path):
    nobody = not_found(slack, "U0LEE", "Zara Nobody")
    import_pupils_without(slack, run_cli, tmp_path, "cara")
    # Lee taught Cara (the class list still says so) but no longer teaches her.
    assert not_found(slack, "U0LEE", "Cara Lin") == nobody
    assert not_found(slack, "U0PRIYA", "Cara Lin") == not_found(slack, "U0PRIYA", "Zara Nobody")
    # The "Show" button, with the leaver's id typed in, says what an unknown id says.
    shown = slack.click("U0LEE", "ssp_show_pupil", str(slack.ids["cara"]))
    unknown = slack.click("U0LEE", "ssp_show_pupil", "999999")
    assert text_of(shown) == text_of(unknown)
    assert "Cara" not in text_of(shown)


def test_once_the_plan_is_closed_the_sendco_still_finds_the_leaver_and_the_case_holder_does_not(
    slack, tick, run_cli, tmp_path
):
    import_pupils_without(slack, run_cli, tmp_path, "ava")
    tick("2026-11-23T10:00:00+00:00")
    (message,) = leavers_messages(slack)
    button, _transfer = buttons_of(message)  # Close their plans, Transfer records
    slack.click("U0SENDCO", "ssp_leavers_close", button["value"])
    assert plan_status(slack) == PlanStatus.CLOSED

    for user in ("U0SENDCO", "U0SLT"):
        shown = text_of(slack.ask(user, "pupil Ava Stone"))
        assert "Left the school on 23 Nov 2026" in shown
        assert "No open SEN Support Plan" in shown
        assert "Closed plans" in shown and "Plan 2 · Closed 23 Nov 2026 — left the school" in shown
        assert "closes by itself" not in shown
    # Priya held the plan while it was open; with it closed she keeps no record of Ava.
    assert not_found(slack, "U0PRIYA", "Ava Stone") == not_found(slack, "U0PRIYA", "Zara Nobody")


def test_the_sendco_can_close_a_leavers_plan_by_name(slack, run_cli, tmp_path):
    import_pupils_without(slack, run_cli, tmp_path, "ava")
    view = close_form(slack, pupil="Ava Stone")
    assert close_with(slack, view, "left_school")["response_action"] == "update"
    with slack.sessions() as session:
        plan = session.get(Plan, slack.ids["ava_plan"])
        assert (plan.status, plan.closure_reason) == (PlanStatus.CLOSED, ClosureReason.LEFT_SCHOOL)


# --- (c) each import's leavers message --------------------------------------------------------


def test_each_imports_message_names_only_that_imports_pupils(slack, tick, run_cli, tmp_path):
    import_pupils_without(slack, run_cli, tmp_path, "ava")
    tick("2026-11-23T10:00:00+00:00")
    # A second import the same day: Cara leaves too, and Ben's SEN stage drops to N.
    import_pupils_without(slack, run_cli, tmp_path, "ava", "cara", no_sen="ben")
    tick("2026-11-23T10:05:00+00:00")
    first, second = leavers_messages(slack)
    assert "Ava Stone" in text_of(first) and "Cara" not in text_of(first)
    assert "Cara Lin" in text_of(second) and "Ben Stone" in text_of(second)
    assert "Ava" not in text_of(second)
    assert "1 pupil with an open plan" in text_of(second)

    # The second message's button closes the pupils it named, not Ava's plan.
    button, _transfer = buttons_of(second)  # Close their plans, Transfer records
    done = slack.click("U0SENDCO", "ssp_leavers_close", button["value"])
    assert "Closed (left the school): Cara Lin." in text_of(done)
    with slack.sessions() as session:
        plans = {p.pupil_id: p for p in session.scalars(select(Plan))}
        assert plans[slack.ids["cara"]].closure_reason == ClosureReason.LEFT_SCHOOL
        assert plans[slack.ids["ava"]].status == PlanStatus.ACTIVE
        assert plans[slack.ids["ben"]].status == PlanStatus.ACTIVE  # the SENDCo decides
    button, _transfer = buttons_of(first)  # Close their plans, Transfer records
    done = slack.click("U0SENDCO", "ssp_leavers_close", button["value"])
    assert "Closed (left the school): Ava Stone." in text_of(done)

    # The same file again: nothing changed, so nothing is asked.
    import_pupils_without(slack, run_cli, tmp_path, "ava", "cara", no_sen="ben")
    tick("2026-11-23T10:10:00+00:00")
    assert len(leavers_messages(slack)) == 2


def test_a_pupil_who_came_back_is_not_named_by_the_old_message(slack, tick, run_cli, tmp_path):
    import_pupils_without(slack, run_cli, tmp_path, "ava")
    import_pupils_without(slack, run_cli, tmp_path)  # back: the first file was a mistake
    tick("2026-11-23T10:00:00+00:00")
    # The message had nobody left to name by the time it went: it is not sent.
    assert leavers_messages(slack) == []
    assert plan_status(slack) == PlanStatus.ACTIVE
