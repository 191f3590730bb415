"""Every write from Slack counts once: two clicks at once, a form sent twice, Slack's retries of
an event (even across a restart). The database decides which of two requests wins, and the other
is told what actually happened: never "nothing was changed", never an error.

Two requests "at once": two threads send signed requests together, and both listeners are held
at their first audit record until both are there (or 2 s pass), so each has read the row before
either writes; on PostgreSQL the two transactions really race.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time

import pytest
from sqlalchemy import func, select, update

from bot.services import audit
from models import (
    AssignmentStatus,
    AuditEvent,
    CaseHolderAssignment,
    Plan,
    PlanRequest,
    PlanStatus,
    TimelineEntry,
)
from tests.slack_harness import SIGNING_SECRET, buttons_of, start_app, text_of
from tests.test_qa import decide, open_review
from tests.test_team import more_pupils, plan_request_to_sendco

WRONG = ("went wrong", "nothing was changed", "Nothing was changed")


@pytest.fixture
def school_extras():
    def extras(session, ids):
        session.get(Plan, ids["ava_plan"]).status = PlanStatus.AWAITING_QA
        return more_pupils(session, ids)

    return extras


class Meet:
    """Holds each caller until `n` have arrived (or `timeout` passes), once; later callers
    pass straight through."""

    # Well under a request's lock timeout (bot.db.FOR_REQUESTS.lock): a writer already blocked
    # on the other's row lock must get it before that runs out, as it would in real use, where
    # nobody holds a transaction open to wait for a second click.
    def __init__(self, n: int = 2, timeout: float = 0.4) -> None:
        self.n, self.timeout = n, timeout
        self.arrived = 0
        self.lock = threading.Lock()
        self.all_here = threading.Event()

    def __call__(self) -> None:
        with self.lock:
            self.arrived += 1
            if self.arrived >= self.n:
                self.all_here.set()
        self.all_here.wait(self.timeout)


@pytest.fixture
def racing(monkeypatch):
    """Makes the next two writers meet at their first audit record, before either commits."""

    def start() -> Meet:
        meet = Meet()
        record = audit.record

        def held(*args, **kwargs):
            meet()
            return record(*args, **kwargs)

        monkeypatch.setattr(audit, "record", held)
        return meet

    return start


def at_once(*sends):
    """Runs the sends on two threads at the same moment; returns their replies in order."""
    replies: list = [None] * len(sends)
    start = threading.Barrier(len(sends))

    def run(n, send):
        start.wait()
        replies[n] = send()

    threads = [threading.Thread(target=run, args=(n, s)) for n, s in enumerate(sends)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return replies


def responses(slack, user: str, count: int) -> list[dict]:
    slack.emulator.wait_for(lambda calls: len(slack.emulator.responses_to(user)) >= count, 15)
    return slack.emulator.responses_to(user)


def count(slack, query) -> int:
    with slack.sessions() as session:
        return session.scalar(query)


def assignment_notice(slack) -> dict:
    slack.ask("U0SENDCO", "assign Finn Cole <@U0PRIYA|priya>")
    slack.emulator.wait_for(
        lambda calls: any("Finn Cole" in text_of(m) for m in slack.emulator.messages_to("U0PRIYA"))
    )
    return next(m for m in slack.emulator.messages_to("U0PRIYA") if "Finn Cole" in text_of(m))


# --- two clicks at once ------------------------------------------------------------------------


def test_two_clicks_on_accept_at_once_accept_once_and_both_say_so(slack, racing):
    accept = buttons_of(assignment_notice(slack))[0]
    before = len(slack.emulator.responses_to("U0PRIYA"))
    racing()
    replies = at_once(
        lambda: slack.sender.button("U0PRIYA", "ssp_assignment_accept", accept["value"]),
        lambda: slack.sender.button("U0PRIYA", "ssp_assignment_accept", accept["value"]),
    )
    assert [r.status for r in replies] == [200, 200]
    said = [text_of(r) for r in responses(slack, "U0PRIYA", before + 2)[before:]]
    assert len(said) == 2 and not any(w in s for s in said for w in WRONG), said
    assert sorted("You accepted this plan" in s for s in said) == [False, True], said
    assert any("already been accepted (by you, at 10:00)" in s for s in said), said
    # Each redraw keeps the plan to open: the second click took nothing away.
    assert all(
        any(b["text"]["text"] == "Open plan" for b in buttons_of(r))
        for r in slack.emulator.responses_to("U0PRIYA")[before:]
    )
    accepted = TimelineEntry.summary == "Priya Shah accepted the plan"
    assert count(slack, select(func.count(TimelineEntry.id)).where(accepted)) == 1
    assert count(slack, select(func.count(AuditEvent.id)).where(AuditEvent.action == "accept")) == 1
    with slack.sessions() as session:
        (assignment,) = session.scalars(
            select(CaseHolderAssignment).where(CaseHolderAssignment.staff_id == slack.ids["priya"])
        ).all()
        assert assignment.status == AssignmentStatus.ACCEPTED


def test_approve_and_decline_of_one_request_at_once_the_loser_is_told_which_stands(slack, racing):
    slack.ask("U0PRIYA", "plan new Eve Ray")
    approve, decline = buttons_of(plan_request_to_sendco(slack))
    before = len(slack.emulator.responses_to("U0SENDCO"))
    racing()
    replies = at_once(
        lambda: slack.sender.button("U0SENDCO", "ssp_plan_request_approve", approve["value"]),
        lambda: slack.sender.button("U0SENDCO", "ssp_plan_request_decline", decline["value"]),
    )
    assert [r.status for r in replies] == [200, 200]
    said = [text_of(r) for r in responses(slack, "U0SENDCO", before + 2)[before:]]
    assert not any(w in s for s in said for w in WRONG), said
    with slack.sessions() as session:
        (request,) = session.scalars(select(PlanRequest)).all()
        stood = "approved" if request.approved else "declined"
        assignments = session.scalar(select(func.count(CaseHolderAssignment.id)))
    assert assignments == (1 if request.approved else 0)
    assert sum(f"already been {stood} by you at 10:00" in s for s in said) == 1, said


def test_a_quality_assurance_decision_sent_twice_at_once_is_made_once(slack, racing):
    modal = open_review(slack)
    racing()
    replies = at_once(
        lambda: decide(slack, modal, "approve"), lambda: decide(slack, modal, "approve")
    )
    said = [text_of({"blocks": r["view"]["blocks"]}) for r in replies]
    assert not any(w in s for s in said for w in WRONG), said
    assert sum("approved and now active" in s for s in said) == 1, said
    assert sum("already approved by you at 10:00" in s for s in said) == 1, said
    approved = TimelineEntry.summary == "approved after quality assurance"
    assert count(slack, select(func.count(TimelineEntry.id)).where(approved)) == 1


def test_a_decision_on_a_plan_decided_meanwhile_says_who_decided(slack):
    modal = open_review(slack)
    decide(slack, modal, "return", "Add the family's views")
    again = decide(slack, open_review_stale(modal), "approve")
    said = text_of({"blocks": again["view"]["blocks"]})
    assert "already returned to its case holder" in said and "Morgan Reed" not in said, said
    with slack.sessions() as session:
        assert session.get(Plan, slack.ids["ava_plan"]).status == PlanStatus.DRAFT


def open_review_stale(modal: dict) -> dict:
    """The form as the SENDCo still has it open in another window."""
    return modal


# --- Slack's retries of an event ---------------------------------------------------------------


def resend(sender, body: bytes, retry: int) -> int:
    """The event again as Slack retries it: the same body, a fresh timestamp and signature."""
    timestamp = str(int(time.time()))
    base = b"v0:" + timestamp.encode() + b":" + body
    signature = "v0=" + hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
        "X-Slack-Retry-Num": str(retry),
        "X-Slack-Retry-Reason": "http_timeout",
    }
    return sender._send(body, headers).status


def ephemerals_to(slack, user: str) -> list:
    return [
        c for c in slack.emulator.calls_to("chat.postEphemeral") if c.params.get("user") == user
    ]


def test_an_event_retried_after_a_restart_is_answered_once(slack, emulator, sessions):
    assert slack.sender.direct_message("U0PRIYA", "hello?").status == 200
    slack.emulator.wait_for(lambda calls: ephemerals_to(slack, "U0PRIYA"))
    body, _ = slack.sender.last_request
    # The app restarts (its memory of requests goes) before Slack's next retry arrives.
    slack.server.stop()
    restarted = start_app(emulator, sessions)
    try:
        assert resend(restarted.sender, body, retry=2) == 200
        # Something else after the retry, so waiting for its answer means the retry is done.
        assert restarted.sender.direct_message("U0LEE", "hi").status == 200
        slack.emulator.wait_for(lambda calls: ephemerals_to(slack, "U0LEE"))
        assert len(ephemerals_to(slack, "U0PRIYA")) == 1
    finally:
        restarted.server.stop()


def test_app_home_opened_retried_after_a_restart_is_published_once(slack, emulator, sessions):
    assert slack.sender.app_home_opened("U0PRIYA").status == 200
    slack.emulator.wait_for(lambda calls: slack.emulator.calls_to("views.publish"))
    body, _ = slack.sender.last_request
    slack.server.stop()
    restarted = start_app(emulator, sessions)
    try:
        assert resend(restarted.sender, body, retry=3) == 200
        assert restarted.sender.app_home_opened("U0LEE").status == 200
        slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.publish")) >= 2)
        published = [c.params.get("user_id") for c in slack.emulator.calls_to("views.publish")]
        assert published.count("U0PRIYA") == 1, published
    finally:
        restarted.server.stop()


def test_a_click_re_signed_with_a_new_timestamp_acts_once(slack):
    accept = buttons_of(assignment_notice(slack))[0]
    before = len(slack.emulator.responses_to("U0PRIYA"))
    slack.sender.button("U0PRIYA", "ssp_assignment_accept", accept["value"])
    responses(slack, "U0PRIYA", before + 1)
    body, headers = slack.sender.last_request
    time.sleep(1.1)  # a later second: a new timestamp, so a new signature
    timestamp = str(int(time.time()))
    base = b"v0:" + timestamp.encode() + b":" + body
    signature = "v0=" + hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
    again = {**headers, "X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature}
    assert slack.sender._send(body, again).status == 200
    time.sleep(0.5)
    assert len(slack.emulator.responses_to("U0PRIYA")) == before + 1


def test_two_clicks_on_confirm_at_once_assign_each_plan_once(slack, racing):
    proposal = slack.ask("U0SENDCO", "assign auto")
    confirm = next(b for b in buttons_of(proposal) if b["action_id"] == "ssp_assign_confirm")
    before = len(slack.emulator.responses_to("U0SENDCO"))
    racing()
    replies = at_once(
        lambda: slack.sender.button("U0SENDCO", "ssp_assign_confirm", confirm["value"]),
        lambda: slack.sender.button("U0SENDCO", "ssp_assign_confirm", confirm["value"]),
    )
    assert [r.status for r in replies] == [200, 200]
    said = [text_of(r) for r in responses(slack, "U0SENDCO", before + 2)[before:]]
    assert not any(w in s for s in said for w in WRONG), said
    assert sum("Assigned 4 plans" in s for s in said) == 1, said
    assert sum("Assigned 0 plans" in s for s in said) == 1, said
    assert any("(assigned by you at 10:00)" in s for s in said), said
    with slack.sessions() as session:
        made = session.scalars(select(CaseHolderAssignment.plan_id)).all()
        plans = session.scalar(select(func.count(Plan.id)))
    assert len(made) == len(set(made)) == 4 and plans == 4 + 4  # Brookside's 4, and 4 new


def test_send_for_quality_assurance_clicked_twice_at_once_sends_once(slack, racing):
    with slack.sessions.begin() as session:
        session.get(Plan, slack.ids["ava_plan"]).status = PlanStatus.DRAFT
    opened = len(slack.emulator.calls_to("views.open"))
    slack.sender.command("U0PRIYA", "plan Ava Stone")
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    overview = slack.emulator.open_views()[-1]
    shown = len(slack.emulator.calls_to("views.push")) + len(slack.emulator.calls_to("views.open"))
    racing()
    replies = at_once(
        lambda: slack.sender.view_button("U0PRIYA", overview, "plan_submit_qa", "qa"),
        lambda: slack.sender.view_button("U0PRIYA", overview, "plan_submit_qa", "qa"),
    )
    assert [r.status for r in replies] == [200, 200]

    def views(calls):
        made = [c for c in calls if c.method in ("views.push", "views.open")]
        return made[shown:] if len(made) >= shown + 2 else None

    said = [text_of({"blocks": c.json("view")["blocks"]}) for c in slack.emulator.wait_for(views)]
    assert not any(w in s for s in said for w in WRONG), said
    assert sum("Sent to the SENDCo for quality assurance" in s for s in said) == 1, said
    assert sum("already sent for quality assurance by you at 10:00" in s for s in said) == 1
    sent = TimelineEntry.summary == "sent for quality assurance"
    assert count(slack, select(func.count(TimelineEntry.id)).where(sent)) == 1


def test_a_click_kept_waiting_by_someone_elses_change_is_told_so_not_that_the_database_is_down(
    slack, real_request_limits
):
    """A request waits at most its lock timeout for a row someone else is changing; then the
    person is told that, and that nothing was changed, not that the database is away."""
    accept = buttons_of(assignment_notice(slack))[0]
    before = len(slack.emulator.responses_to("U0PRIYA"))
    mine = CaseHolderAssignment.staff_id == slack.ids["priya"]
    with slack.sessions() as other:
        # Someone else's change to the same assignment, not yet committed: it holds the row
        # (PostgreSQL) or the database's one writer lock (SQLite).
        other.execute(
            update(CaseHolderAssignment).where(mine).values(status=CaseHolderAssignment.status)
        )
        reply = slack.sender.button("U0PRIYA", "ssp_assignment_accept", accept["value"])
        assert reply.status == 200
        said = (
            text_of(reply.json())
            if reply.body
            else text_of(responses(slack, "U0PRIYA", before + 1)[-1])
        )
        other.rollback()
    assert "someone else was changing the same thing" in said, said
    assert "database" not in said
    with slack.sessions() as session:
        (assignment,) = session.scalars(select(CaseHolderAssignment).where(mine)).all()
        assert assignment.status != AssignmentStatus.ACCEPTED

    # Once the other change is done, the same click works.
    slack.sender.button("U0PRIYA", "ssp_assignment_accept", accept["value"])
    assert "You accepted this plan" in text_of(responses(slack, "U0PRIYA", before + 2)[-1])
