"""The prompt outbox, delivering to the Slack emulator over HTTP, on SQLite and PostgreSQL.

Time is injected: `now` is the real clock at the start of each test (the emulator stamps
messages with the real clock, and an unsure prompt is looked for in the DM's history around the
time its post began),
and later runs are "a few minutes later" by passing a later `now`. Nothing sleeps for a backoff.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from bot.demo.slack_emulator import SlackEmulator
from bot.services import outbox
from bot.services.outbox import (
    CLAIM_LEASE,
    MAX_ATTEMPTS,
    backoff,
    cancel,
    enqueue,
    mark_answered,
    unreachable,
)
from handlers.sender import SlackTokenRefused, deliver_due
from handlers.slack_api import make_client
from models import Plan, Prompt, PromptKind, PromptStatus, School, Staff, StaffRole
from tests.slack_harness import build_school


class Crash(BaseException):
    """The process dying at this point: not an Exception, so nothing catches it."""


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def school(emulator: SlackEmulator, sessions: sessionmaker[Session]) -> dict:
    emulator.reset()
    with sessions.begin() as session:
        return build_school(session, emulator)


@pytest.fixture
def client(emulator: SlackEmulator) -> WebClient:
    """The bot's own client: retries a short 429, and 5xx and connection errors, never a post."""
    return make_client(emulator.bot_token, emulator.api_url)


@pytest.fixture
def fast_client(emulator: SlackEmulator) -> WebClient:
    """No retries within a call, so a failure reaches the outbox at once."""
    return WebClient(token=emulator.bot_token, base_url=emulator.api_url, retry_handlers=[])


def render(session: Session, prompt: Prompt) -> dict:
    text = f"You have a {prompt.kind.value.replace('_', ' ')} prompt"
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


def add_prompt(
    sessions: sessionmaker[Session],
    school: dict,
    key: str,
    *,
    who: str = "priya",
    due_at: datetime,
    kind: PromptKind = PromptKind.REVIEW_DUE,
) -> int:
    with sessions.begin() as session:
        prompt = enqueue(
            session,
            school_id=school["school"],
            recipient_id=school[who],
            kind=kind,
            dedupe_key=key,
            due_at=due_at,
            now=due_at - timedelta(days=1),
        )
        session.flush()
        return prompt.id


def load(sessions: sessionmaker[Session], prompt_id: int) -> Prompt:
    with sessions() as session:
        return session.get(Prompt, prompt_id)


def add_staff(sessions: sessionmaker[Session], school: dict, first: str, slack_id: str | None):
    with sessions.begin() as session:
        member = Staff(
            school_id=school["school"],
            email=f"{first.lower()}.new@brookside.example.org",
            first_name=first,
            last_name="New",
            slack_user_id=slack_id,
        )
        member.set_roles({StaffRole.TEACHER})
        session.add(member)
        session.flush()
        return member.id


def is_sqlite(db_url: str) -> bool:
    return make_url(db_url).get_backend_name() == "sqlite"


# --------------------------------------------------------------------- enqueue


def test_enqueue_is_idempotent_per_school(sessions, school, now) -> None:
    first = add_prompt(sessions, school, "review_due:plan=1:cycle=2", due_at=now)
    again = add_prompt(sessions, school, "review_due:plan=1:cycle=2", due_at=now + timedelta(1))
    with sessions.begin() as session:
        other_school = School(name="Another", slack_team_id="T0ANOTHER")
        session.add(other_school)
        session.flush()
        teacher = Staff(
            school=other_school, email="t@another.example.org", first_name="T", last_name="T"
        )
        session.add(teacher)
        session.flush()
        elsewhere = enqueue(
            session,
            school_id=other_school.id,
            recipient_id=teacher.id,
            kind=PromptKind.REVIEW_DUE,
            dedupe_key="review_due:plan=1:cycle=2",
            due_at=now,
            now=now,
        )
        session.flush()
        elsewhere_id = elsewhere.id

    assert again == first
    assert elsewhere_id != first
    assert load(sessions, first).due_at == now  # the second enqueue changed nothing
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Prompt)) == 2


def test_an_enqueue_that_loses_the_race_returns_the_winner_and_keeps_the_callers_work(
    sessions, school, now, monkeypatch
) -> None:
    winner = add_prompt(sessions, school, "assignment:plan=1", due_at=now)
    real_existing = outbox._existing
    misses = iter([True])

    def existing_missed_once(session, school_id, dedupe_key):
        # As if the winner committed between our look-up and our insert.
        if next(misses, False):
            return None
        return real_existing(session, school_id, dedupe_key)

    monkeypatch.setattr(outbox, "_existing", existing_missed_once)
    with sessions.begin() as session:
        kept = enqueue(
            session,
            school_id=school["school"],
            recipient_id=school["lee"],
            kind=PromptKind.MONITORING_REQUEST,
            dedupe_key="monitoring:group=1",
            due_at=now,
            now=now,
        )
        lost = enqueue(
            session,
            school_id=school["school"],
            recipient_id=school["priya"],
            kind=PromptKind.ASSIGNMENT,
            dedupe_key="assignment:plan=1",
            due_at=now,
            now=now,
        )
        assert lost.id == winner
        kept_id = kept.id

    assert load(sessions, kept_id).status == PromptStatus.PENDING  # the savepoint kept it


def test_two_enqueues_of_one_key_at_once_make_one_row(sessions, school, now) -> None:
    found: list[int] = []

    def second_sender() -> None:
        with sessions.begin() as session:
            found.append(
                enqueue(
                    session,
                    school_id=school["school"],
                    recipient_id=school["priya"],
                    kind=PromptKind.REVIEW_DUE,
                    dedupe_key="review_due:plan=9",
                    due_at=now,
                    now=now,
                ).id
            )

    with sessions.begin() as session:
        first = enqueue(
            session,
            school_id=school["school"],
            recipient_id=school["priya"],
            kind=PromptKind.REVIEW_DUE,
            dedupe_key="review_due:plan=9",
            due_at=now,
            now=now,
        )
        session.flush()
        first_id = first.id
        other = threading.Thread(target=second_sender)
        other.start()
        time.sleep(0.3)  # the second insert now waits on ours (row lock / SQLite's writer lock)
    other.join(timeout=30)

    assert found == [first_id]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Prompt)) == 1


def test_an_enqueue_is_undone_with_the_callers_transaction(sessions, school, now) -> None:
    # On SQLite a SAVEPOINT opened before any write would commit on release: it must not.
    with sessions() as session:
        session.scalar(select(func.count()).select_from(Staff))
        enqueue(
            session,
            school_id=school["school"],
            recipient_id=school["priya"],
            kind=PromptKind.REVIEW_DUE,
            dedupe_key="review_due:plan=3",
            due_at=now,
            now=now,
        )
        session.rollback()

    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Prompt)) == 0


def test_enqueue_refuses_a_recipient_or_plan_of_another_school(sessions, school, now) -> None:
    with sessions() as session, pytest.raises(ValueError):
        enqueue(
            session,
            school_id=school["school"],
            recipient_id=school["other_sendco"],
            kind=PromptKind.REVIEW_DUE,
            dedupe_key="k",
            due_at=now,
            now=now,
        )
    with sessions() as session:
        other_plan = session.scalar(select(Plan.id).where(Plan.school_id != school["school"]))
        with pytest.raises(ValueError):
            enqueue(
                session,
                school_id=school["school"],
                recipient_id=school["priya"],
                kind=PromptKind.REVIEW_DUE,
                dedupe_key="k",
                due_at=now,
                now=now,
                plan_id=other_plan,
            )


# --------------------------------------------------------------------- delivery


def test_a_due_prompt_goes_to_the_right_dm_tagged_and_recorded(
    sessions, school, emulator, client, now
) -> None:
    prompt_id = add_prompt(sessions, school, "review_due:plan=1", due_at=now - timedelta(hours=1))

    report = deliver_due(sessions, client, now=now, render=render)

    [message] = emulator.messages
    assert emulator.messages_to("U0PRIYA") == [message]
    assert message["channel"] == emulator.dm_channel_id("U0PRIYA")
    assert message["text"] == "You have a review due prompt"
    assert message["metadata"] == {
        "event_type": "ssp_prompt",
        "event_payload": {"prompt_id": prompt_id},
    }
    # Posted to her user id, as Slack documents, with no conversations.open; the DM it names
    # is kept for next time.
    assert emulator.calls_to("chat.postMessage")[0].params["channel"] == "U0PRIYA"
    assert emulator.calls_to("conversations.open") == []
    assert emulator.calls_to("conversations.history") == []  # a first attempt: nothing to check
    with sessions() as session:
        assert session.get(Staff, school["priya"]).dm_channel == message["channel"]
    row = load(sessions, prompt_id)
    assert row.status == PromptStatus.SENT
    assert (row.slack_channel, row.slack_ts) == (message["channel"], message["ts"])
    assert row.sent_at == now
    assert row.attempts == 1
    assert row.next_attempt_at is None and row.last_error is None
    assert [d.recipient for d in report.sent] == ["Priya Shah"]
    assert report.summary() == ["Prompts: 1 sent, 0 to retry, 0 failed."]

    again = deliver_due(sessions, client, now=now + timedelta(days=1), render=render)
    assert again.summary() == ["No prompts were due."]
    assert len(emulator.messages) == 1


def test_a_member_of_staff_without_a_slack_id_is_found_by_email(
    sessions, school, emulator, client, now
) -> None:
    prompt_id = add_prompt(sessions, school, "assignment:plan=3", who="tom", due_at=now)

    deliver_due(sessions, client, now=now, render=render)

    assert len(emulator.messages_to("U0TOM")) == 1
    assert load(sessions, prompt_id).slack_channel == emulator.dm_channel_id("U0TOM")
    with sessions() as session:
        assert session.get(Staff, school["tom"]).slack_user_id == "U0TOM"


def test_prompts_not_yet_due_leased_or_cancelled_are_left_alone(
    sessions, school, emulator, client, now
) -> None:
    later = add_prompt(sessions, school, "later", due_at=now + timedelta(minutes=1))
    waiting = add_prompt(sessions, school, "waiting", due_at=now - timedelta(hours=1))
    cancelled = add_prompt(sessions, school, "cancelled", due_at=now - timedelta(hours=1))
    with sessions.begin() as session:
        session.get(Prompt, waiting).next_attempt_at = now + timedelta(seconds=1)
        assert cancel(session, school["school"], "cancelled") is True

    report = deliver_due(sessions, client, now=now, render=render)

    assert report.summary() == ["No prompts were due."]
    assert emulator.calls == []
    assert [load(sessions, i).attempts for i in (later, waiting, cancelled)] == [0, 0, 0]
    assert load(sessions, cancelled).status == PromptStatus.CANCELLED


def test_render_may_say_a_prompt_is_no_longer_needed(sessions, school, emulator, client, now):
    prompt_id = add_prompt(sessions, school, "review_due:plan=1", due_at=now)

    report = deliver_due(sessions, client, now=now, render=lambda session, prompt: None)

    assert emulator.messages == []
    assert load(sessions, prompt_id).status == PromptStatus.CANCELLED
    assert report.summary() == ["Prompts: 0 sent, 0 to retry, 0 failed, 1 no longer needed."]


def test_a_render_bug_is_retried_and_does_not_stop_the_others(
    sessions, school, emulator, client, now
) -> None:
    broken = add_prompt(sessions, school, "broken", due_at=now - timedelta(minutes=2))
    fine = add_prompt(sessions, school, "fine", who="lee", due_at=now - timedelta(minutes=1))

    def render_or_fail(session, prompt):
        if prompt.dedupe_key == "broken":
            raise KeyError("Ava Stone")  # whatever it says must not reach the report
        return render(session, prompt)

    report = deliver_due(sessions, client, now=now, render=render_or_fail)

    assert load(sessions, fine).status == PromptStatus.SENT
    row = load(sessions, broken)
    assert row.status == PromptStatus.PENDING
    assert row.last_error == "the message could not be written (KeyError)"
    assert row.next_attempt_at == now + backoff(1)
    assert "Ava" not in "\n".join(report.summary())


# --------------------------------------------------------------------- Slack errors


def test_a_rate_limit_within_a_call_is_waited_out_by_the_client(
    sessions, school, emulator, client, now
) -> None:
    prompt_id = add_prompt(sessions, school, "k", due_at=now)
    emulator.fail_next("chat.postMessage", "ratelimited", retry_after=0)

    report = deliver_due(sessions, client, now=now, render=render)

    assert [c.http_status for c in emulator.calls_to("chat.postMessage")] == [429, 200]
    assert len(emulator.messages) == 1
    assert load(sessions, prompt_id).status == PromptStatus.SENT
    assert len(report.sent) == 1


def test_a_lasting_rate_limit_waits_for_retry_after_and_stops_the_run(
    sessions, school, emulator, fast_client, now
) -> None:
    first = add_prompt(sessions, school, "first", due_at=now - timedelta(minutes=2))
    second = add_prompt(sessions, school, "second", who="lee", due_at=now - timedelta(minutes=1))
    emulator.fail_next("chat.postMessage", "ratelimited", retry_after=30)

    report = deliver_due(sessions, fast_client, now=now, render=render)

    row = load(sessions, first)
    assert row.status == PromptStatus.PENDING
    assert row.next_attempt_at == now + timedelta(seconds=30)
    assert load(sessions, second).attempts == 0  # not tried: the run stopped
    assert report.stopped and "rate limiting" in report.stopped
    assert report.summary()[-1].startswith("Stopped early: Slack is rate limiting")

    later = deliver_due(sessions, fast_client, now=now + timedelta(seconds=30), render=render)

    assert len(later.sent) == 2
    assert len(emulator.messages) == 2
    assert {load(sessions, i).status for i in (first, second)} == {PromptStatus.SENT}


def test_a_server_error_is_retried_on_a_later_run(
    sessions, school, emulator, fast_client, now
) -> None:
    prompt_id = add_prompt(sessions, school, "k", due_at=now)
    emulator.fail_next("chat.postMessage", "internal_error", status=500)

    report = deliver_due(sessions, fast_client, now=now, render=render)

    row = load(sessions, prompt_id)
    assert row.status == PromptStatus.PENDING
    assert row.attempts == 1
    assert row.next_attempt_at == now + timedelta(minutes=1)
    assert row.last_error == "Slack server error (HTTP 500, internal_error)"
    assert report.summary()[1].startswith("  retry at ")
    assert "Priya Shah, review due: Slack server error" in report.summary()[1]

    assert deliver_due(sessions, fast_client, now=now, render=render).summary() == [
        "No prompts were due."
    ]
    later = deliver_due(sessions, fast_client, now=now + timedelta(minutes=1), render=render)

    assert len(later.sent) == 1
    assert len(emulator.messages) == 1
    assert len(emulator.calls_to("conversations.history")) == 1  # checked before posting again
    assert load(sessions, prompt_id).attempts == 2


def test_a_network_error_is_retried_on_a_later_run(sessions, school, now) -> None:
    prompt_id = add_prompt(sessions, school, "k", due_at=now)
    nowhere = WebClient(token="xoxb-x", base_url="http://127.0.0.1:9/api/", retry_handlers=[])

    report = deliver_due(sessions, nowhere, now=now, render=render)

    row = load(sessions, prompt_id)
    assert row.status == PromptStatus.PENDING
    assert row.last_error.startswith("could not reach Slack")
    assert row.next_attempt_at == now + timedelta(minutes=1)
    assert len(report.retried) == 1


def test_after_max_attempts_a_prompt_fails_and_is_reported(
    sessions, school, emulator, fast_client, now
) -> None:
    prompt_id = add_prompt(sessions, school, "k", due_at=now)
    emulator.fail_next("chat.postMessage", "internal_error", status=503, times=MAX_ATTEMPTS)

    at = now
    waits = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        report = deliver_due(sessions, fast_client, now=at, render=render)
        row = load(sessions, prompt_id)
        assert row.attempts == attempt
        if attempt < MAX_ATTEMPTS:
            assert row.status == PromptStatus.PENDING
            waits.append(row.next_attempt_at - at)
            at = row.next_attempt_at

    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16)]
    assert row.status == PromptStatus.FAILED
    assert row.next_attempt_at is None
    assert (
        row.last_error == "gave up after 6 attempts: Slack server error (HTTP 503, internal_error)"
    )
    assert report.failed[0].reason == row.last_error
    assert emulator.messages == []
    assert len(emulator.calls_to("conversations.history")) == MAX_ATTEMPTS - 1
    with sessions() as session:
        [listed] = unreachable(session, school["school"])
    assert (listed.recipient, listed.kind, listed.attempts) == ("Priya Shah", "review_due", 6)
    later = deliver_due(sessions, fast_client, now=at + timedelta(days=1), render=render)
    assert later.summary() == ["No prompts were due."]


@pytest.mark.parametrize(
    ("method", "error", "explained"),
    [
        ("chat.postMessage", "account_inactive", "their Slack account is deactivated"),
        ("chat.postMessage", "channel_not_found", "Slack cannot find the direct message"),
    ],
)
def test_an_unreachable_recipient_fails_at_once_and_is_listed(
    sessions, school, emulator, client, now, method, error, explained
) -> None:
    prompt_id = add_prompt(sessions, school, "k", due_at=now)
    emulator.fail_next(method, error)

    report = deliver_due(sessions, client, now=now, render=render)

    row = load(sessions, prompt_id)
    assert row.status == PromptStatus.FAILED
    assert row.attempts == 1
    assert row.last_error.startswith(f"unreachable: {explained}")
    assert row.last_error.endswith(f"(Slack: {error})")
    assert report.summary()[1] == f"  failed: Priya Shah, review due: {row.last_error}"
    with sessions() as session:
        [listed] = unreachable(session, school["school"])
    assert (listed.prompt_id, listed.recipient, listed.reason) == (
        prompt_id,
        "Priya Shah",
        row.last_error,
    )
    # Never retried.
    deliver_due(sessions, client, now=now + timedelta(days=1), render=render)
    assert emulator.messages == []


def test_a_deactivated_slack_account_is_unreachable(
    sessions, school, emulator, client, now
) -> None:
    emulator.add_user("U0GONE", email="gone@brookside.example.org", deleted=True)
    gone = add_staff(sessions, school, "Gwen", "U0GONE")
    school = {**school, "gone": gone}
    prompt_id = add_prompt(sessions, school, "k", who="gone", due_at=now)

    deliver_due(sessions, client, now=now, render=render)

    # Posted to the user id (no conversations.open): Slack finds no DM to open with them.
    assert load(sessions, prompt_id).last_error == (
        "unreachable: Slack cannot find the direct message with them (Slack: channel_not_found)"
    )
    assert emulator.messages == []


@pytest.mark.parametrize(
    ("error", "explained"),
    [
        ("user_not_found", "Slack does not know their account"),
        ("user_disabled", "their Slack account is deactivated"),
    ],
)
def test_a_retry_that_must_open_the_dm_to_look_and_cannot_is_unreachable(
    sessions, school, emulator, client, now, error, explained
) -> None:
    prompt_id = add_prompt(sessions, school, "k", due_at=now)
    emulator.fail_next("chat.postMessage", "internal_error", status=500)
    deliver_due(sessions, client, now=now, render=render)
    assert load(sessions, prompt_id).attempts == 1
    with sessions.begin() as session:  # as if the DM had never been kept
        session.get(Staff, school["priya"]).slack_dm_channel = None
        session.get(Prompt, prompt_id).slack_channel = None
    emulator.fail_next("conversations.open", error)

    deliver_due(sessions, client, now=now + timedelta(minutes=30), render=render)

    row = load(sessions, prompt_id)
    assert row.status == PromptStatus.FAILED
    assert row.last_error == f"unreachable: {explained} (Slack: {error})"
    assert emulator.messages == []


def test_staff_slack_does_not_know_by_email_are_unreachable_and_listed_newest_first(
    sessions, school, emulator, client, now
) -> None:
    newbie = add_staff(sessions, school, "Nia", None)
    school = {**school, "newbie": newbie}
    older = add_prompt(sessions, school, "older", who="newbie", due_at=now - timedelta(days=2))
    newer = add_prompt(sessions, school, "newer", who="newbie", due_at=now - timedelta(days=1))

    report = deliver_due(sessions, client, now=now, render=render)

    assert len(report.failed) == 2
    assert emulator.calls_to("users.lookupByEmail")[0].params["email"] == (
        "nia.new@brookside.example.org"
    )
    with sessions() as session:
        listed = unreachable(session, school["school"])
        assert session.get(Staff, newbie).slack_lookup_failed_at == now
        assert unreachable(session, school["other_sendco"]) == []
    assert [u.prompt_id for u in listed] == [newer, older]
    assert listed[0].reason == (
        "unreachable: no Slack account found for Nia New (matched by email address)"
    )
    assert emulator.messages == []


def test_a_leaver_is_unreachable(sessions, school, emulator, client, now) -> None:
    prompt_id = add_prompt(sessions, school, "k", who="lee", due_at=now)
    with sessions.begin() as session:
        session.get(Staff, school["lee"]).is_active = False

    deliver_due(sessions, client, now=now, render=render)

    assert load(sessions, prompt_id).last_error == (
        "unreachable: Lee Chan is no longer on the staff list"
    )
    assert emulator.calls == []


def test_a_refused_token_stops_the_run_and_leaves_prompts_as_they_were(
    sessions, school, emulator, now
) -> None:
    ids = [add_prompt(sessions, school, f"k{i}", due_at=now - timedelta(minutes=i)) for i in (1, 2)]
    wrong = make_client("xoxb-not-the-token", emulator.api_url)

    with pytest.raises(SlackTokenRefused) as raised:
        deliver_due(sessions, wrong, now=now, render=render)

    assert "invalid_auth" in str(raised.value) and "SLACK_BOT_TOKEN" in str(raised.value)
    for prompt_id in ids:
        row = load(sessions, prompt_id)
        assert (row.status, row.attempts, row.next_attempt_at) == (PromptStatus.PENDING, 0, None)
        assert row.posting_at is None  # refused, so not posted: nothing to look for later
    assert len(emulator.calls) == 1  # stopped at the first refusal


def test_a_token_refused_mid_run_keeps_what_was_sent(
    sessions, school, emulator, client, now
) -> None:
    first = add_prompt(sessions, school, "first", due_at=now - timedelta(minutes=2))
    second = add_prompt(sessions, school, "second", who="lee", due_at=now - timedelta(minutes=1))

    def revoke_after_first(session, prompt):
        if prompt.id == second:
            emulator.fail_next("chat.postMessage", "token_revoked")
        return render(session, prompt)

    with pytest.raises(SlackTokenRefused) as raised:
        deliver_due(sessions, client, now=now, render=revoke_after_first)

    assert [d.prompt_id for d in raised.value.report.sent] == [first]
    assert load(sessions, first).status == PromptStatus.SENT
    row = load(sessions, second)
    assert (row.status, row.attempts, row.next_attempt_at) == (PromptStatus.PENDING, 0, None)
    assert len(emulator.messages) == 1


def test_a_missing_scope_stops_the_run_and_says_what_to_do(
    sessions, school, emulator, client, now
) -> None:
    prompt_id = add_prompt(sessions, school, "k", due_at=now)
    emulator.fail_next("chat.postMessage", "missing_scope")

    with pytest.raises(SlackTokenRefused) as raised:
        deliver_due(sessions, client, now=now, render=render)

    assert str(raised.value).startswith(
        "The Slack app is missing a permission (scope) it needs; add it in the app's settings"
    )
    assert load(sessions, prompt_id).attempts == 0


# --------------------------------------------------------------------- crashes


def test_a_crash_after_claiming_before_posting_sends_once_on_a_later_run(
    sessions, school, emulator, client, now
) -> None:
    prompt_id = add_prompt(sessions, school, "k", due_at=now)
    crashes = iter([True])

    def render_that_dies_once(session, prompt):
        if next(crashes, False):
            raise Crash
        return render(session, prompt)

    with pytest.raises(Crash):
        deliver_due(sessions, client, now=now, render=render_that_dies_once)

    row = load(sessions, prompt_id)
    assert (row.status, row.attempts) == (PromptStatus.PENDING, 1)
    assert row.next_attempt_at == now + CLAIM_LEASE
    assert emulator.messages == []
    # Leased: another run in the meantime leaves it alone.
    deliver_due(sessions, client, now=now + timedelta(minutes=1), render=render_that_dies_once)
    assert emulator.messages == []

    report = deliver_due(sessions, client, now=now + CLAIM_LEASE, render=render_that_dies_once)

    assert len(emulator.messages) == 1
    # It died before posting, so it is not unsure: posted again without reading history.
    assert emulator.calls_to("conversations.history") == []
    assert report.sent[0].reconciled is False
    row = load(sessions, prompt_id)
    assert (row.status, row.attempts) == (PromptStatus.SENT, 2)
    assert row.slack_ts == emulator.messages[0]["ts"]


def test_a_crash_after_posting_before_recording_is_reconciled_not_resent(
    sessions, school, emulator, client, now, monkeypatch
) -> None:
    prompt_id = add_prompt(sessions, school, "k", due_at=now - timedelta(hours=1))
    # Another message in the same DM, to be passed over.
    client.chat_postMessage(channel="U0PRIYA", text="Something else")
    real_record_sent = outbox._record_sent
    crashes = iter([True])

    def record_that_dies_once(*args, **kwargs):
        if next(crashes, False):
            raise Crash
        return real_record_sent(*args, **kwargs)

    monkeypatch.setattr(outbox, "_record_sent", record_that_dies_once)

    with pytest.raises(Crash):
        deliver_due(sessions, client, now=now, render=render)

    assert len(emulator.messages) == 2
    assert load(sessions, prompt_id).status == PromptStatus.PENDING

    report = deliver_due(sessions, client, now=now + CLAIM_LEASE, render=render)

    assert len(emulator.calls_to("chat.postMessage")) == 2  # ours once, and the other one
    posted = emulator.messages[1]
    history = emulator.calls_to("conversations.history")[0].params
    assert history["include_all_metadata"] == "1"
    assert float(history["oldest"]) <= float(posted["ts"])
    row = load(sessions, prompt_id)
    assert row.status == PromptStatus.SENT
    assert (row.slack_channel, row.slack_ts) == (posted["channel"], posted["ts"])
    assert abs(row.sent_at.timestamp() - float(posted["ts"])) < 1
    assert report.sent[0].reconciled is True
    assert "already reached Slack" in report.summary()[1]


# --------------------------------------------------------------------- concurrency


def test_two_senders_at_once_send_each_prompt_exactly_once(
    db_url, sessions, school, emulator, now
) -> None:
    if is_sqlite(db_url):
        pytest.skip("SQLite has no row locks: run one sender at a time (bot.services.outbox)")
    recipients = ["sendco", "slt", "priya", "tom", "lee", "ta"]
    ids = [
        add_prompt(sessions, school, f"k{i}", who=recipients[i % 6], due_at=now) for i in range(30)
    ]
    barrier = threading.Barrier(2)
    reports, errors = [], []

    def slow_render(session, prompt):
        time.sleep(0.005)  # widen the window in which both senders are busy
        return render(session, prompt)

    def sender() -> None:
        engine = db.make_engine(db_url)
        try:
            own_sessions = db.make_session_factory(engine)
            with engine.connect():
                pass
            client = make_client(emulator.bot_token, emulator.api_url)
            barrier.wait()
            reports.append(deliver_due(own_sessions, client, now=now, render=slow_render))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(len(r.sent) for r in reports)[0] > 0  # both did some of the work
    assert sum(len(r.sent) for r in reports) == 30
    sent_ids = [m["metadata"]["event_payload"]["prompt_id"] for m in emulator.messages]
    assert sorted(sent_ids) == sorted(ids)
    for prompt_id in ids:
        row = load(sessions, prompt_id)
        assert (row.status, row.attempts) == (PromptStatus.SENT, 1)


# --------------------------------------------------------------------- small helpers


def test_cancel_only_cancels_a_pending_prompt(sessions, school, client, now) -> None:
    pending = add_prompt(sessions, school, "pending", due_at=now + timedelta(days=1))
    sent = add_prompt(sessions, school, "sent", due_at=now)
    deliver_due(sessions, client, now=now, render=render)

    with sessions.begin() as session:
        assert cancel(session, school["school"], "pending") is True
        assert cancel(session, school["school"], "pending") is False
        assert cancel(session, school["school"], "sent") is False
        assert cancel(session, school["school"], "no such key") is False
        assert cancel(session, school["other_sendco"], "sent") is False

    assert load(sessions, pending).status == PromptStatus.CANCELLED
    assert load(sessions, sent).status == PromptStatus.SENT


def test_mark_answered_keeps_the_first_answer_and_respects_the_school(
    sessions, school, now
) -> None:
    prompt_id = add_prompt(sessions, school, "k", due_at=now)

    with sessions.begin() as session:
        assert mark_answered(session, prompt_id, now, school_id=school["school"]) is not None
        mark_answered(session, prompt_id, now + timedelta(hours=1))
        assert mark_answered(session, prompt_id, now, school_id=-1) is None
        assert mark_answered(session, 999_999, now) is None

    assert load(sessions, prompt_id).answered_at == now


def test_every_kind_of_prompt_the_services_queue_has_one_renderer() -> None:
    from handlers import messages

    never_queued = {
        PromptKind.REVIEW_ESCALATION,
    }
    assert set(messages._RENDERERS) == set(PromptKind) - never_queued
    with pytest.raises(ValueError):
        messages.renders(PromptKind.REVIEW_DUE, "notice.json.j2")(lambda session, prompt: None)


# --------------------------------------------------------------------- intervention session prompts
# A SESSION_LOG prompt (bot.services.session_log) goes through the same outbox: the same crash and
# concurrency guarantees, with its real message, rendered from the rows when it is sent.

SESSION_DAY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # a Monday, after the sessions


def add_session_groups(sessions: sessionmaker[Session], school: dict) -> None:
    from datetime import date as day

    from models import Pupil
    from tests import factories

    with sessions.begin() as session:
        home = session.get(School, school["school"])
        item = factories.library_item(session, home, "Lexia")
        for who in ("ta", "lee"):
            factories.group(
                session, home, item, session.get(Staff, school[who]),
                session.get(Pupil, school["ava"]), name=f"Lexia {who}", weekdays="1",
                starts_on=day(2026, 11, 23),
            )  # fmt: skip


def queue_session_prompts(sessions: sessionmaker[Session], school: dict) -> list[int]:
    from bot.services import session_log

    with sessions.begin() as session:
        home = session.get(School, school["school"])
        assert session_log.create_due_prompts(session, home, SESSION_DAY) == 2
        return list(session.scalars(select(Prompt.id).where(Prompt.kind == PromptKind.SESSION_LOG)))


def test_a_session_prompt_crashing_after_its_claim_is_sent_once_later(
    sessions, school, emulator, client
) -> None:
    from handlers.messages import render_prompt

    add_session_groups(sessions, school)
    ids = queue_session_prompts(sessions, school)
    crashes = iter([True])

    def render_that_dies_once(session, prompt):
        if next(crashes, False):
            raise Crash
        return render_prompt(session, prompt)

    with pytest.raises(Crash):
        deliver_due(sessions, client, now=SESSION_DAY, render=render_that_dies_once)
    assert emulator.messages == []
    deliver_due(sessions, client, now=SESSION_DAY + CLAIM_LEASE, render=render_that_dies_once)
    deliver_due(sessions, client, now=SESSION_DAY + 2 * CLAIM_LEASE, render=render_prompt)
    assert sorted(m["metadata"]["event_payload"]["prompt_id"] for m in emulator.messages) == ids
    assert all("Your sessions today" in m["blocks"][0]["text"]["text"] for m in emulator.messages)
    assert {load(sessions, i).status for i in ids} == {PromptStatus.SENT}


def test_a_session_prompt_all_logged_before_it_is_sent_is_cancelled(
    sessions, school, emulator, client
) -> None:
    from handlers.messages import render_prompt
    from models import InterventionSession, SessionStatus

    add_session_groups(sessions, school)
    ids = queue_session_prompts(sessions, school)
    with sessions.begin() as session:
        for sitting in session.scalars(select(InterventionSession)):
            sitting.status = SessionStatus.DELIVERED  # logged with `/ssp sessions` meanwhile
    report = deliver_due(sessions, client, now=SESSION_DAY, render=render_prompt)
    assert emulator.messages == [] and len(report.cancelled) == 2
    assert {load(sessions, i).status for i in ids} == {PromptStatus.CANCELLED}


def test_two_sweeps_at_once_send_each_session_prompt_exactly_once(
    db_url, sessions, school, emulator
) -> None:
    if is_sqlite(db_url):
        pytest.skip("SQLite has no row locks: run one sender at a time (bot.services.outbox)")
    from handlers import scheduler

    add_session_groups(sessions, school)
    barrier, errors = threading.Barrier(2), []

    def sweeper() -> None:
        engine = db.make_engine(db_url)
        try:
            own_sessions = db.make_session_factory(engine)
            client = make_client(emulator.bot_token, emulator.api_url)
            barrier.wait()
            scheduler.sweep(own_sessions, client, SESSION_DAY)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=sweeper) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with sessions() as session:
        ids = sorted(
            session.scalars(select(Prompt.id).where(Prompt.kind == PromptKind.SESSION_LOG))
        )
    assert len(ids) == 2
    sent = [m["metadata"]["event_payload"]["prompt_id"] for m in emulator.messages]
    assert len(sent) == len(set(sent))  # every prompt once, the others the sweep sent too
    assert sorted(i for i in sent if i in ids) == ids


# --------------------------------------------------------------------- a group's runner told
# A GROUP_RUNNER prompt (bot.services.groups: the member of staff made to run a group) goes
# through the same outbox: the same crash and concurrency guarantees, its message rendered from
# the group when it is sent.

RUNNER_DAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def queue_runner_prompts(sessions: sessionmaker[Session], school: dict) -> list[int]:
    """The SENDCo sets up three groups, run by Sam, Lee and Priya: one message each."""
    from datetime import date as day
    from datetime import time as clock_time

    from bot.access import Viewer
    from bot.services import groups
    from tests import factories

    with sessions.begin() as session:
        home = session.get(School, school["school"])
        item = factories.library_item(session, home, "Lexia")
        sendco = Viewer.of(session.get(Staff, school["sendco"]))
        for who in ("ta", "lee", "priya"):
            groups.create(
                session, sendco,
                groups.GroupInput(
                    library_id=item.id, name=f"Lexia {who}", staff_id=school[who], weekdays=[2],
                    starts_at=clock_time(8, 40), minutes="30", location=None,
                    starts_on=day(2026, 11, 24), ends_on=None,
                ),
                via="test", now=RUNNER_DAY, today=day(2026, 11, 23),
            )  # fmt: skip
        return list(
            session.scalars(
                select(Prompt.id).where(Prompt.kind == PromptKind.GROUP_RUNNER).order_by(Prompt.id)
            )
        )


def test_a_runner_prompt_crashing_after_its_claim_is_sent_once_later(
    sessions, school, emulator, client
) -> None:
    from handlers.messages import render_prompt

    ids = queue_runner_prompts(sessions, school)
    assert len(ids) == 3
    crashes = iter([True])

    def render_that_dies_once(session, prompt):
        if next(crashes, False):
            raise Crash
        return render_prompt(session, prompt)

    with pytest.raises(Crash):
        deliver_due(sessions, client, now=RUNNER_DAY, render=render_that_dies_once)
    assert emulator.messages == []
    deliver_due(sessions, client, now=RUNNER_DAY + CLAIM_LEASE, render=render_that_dies_once)
    deliver_due(sessions, client, now=RUNNER_DAY + 2 * CLAIM_LEASE, render=render_prompt)
    assert sorted(m["metadata"]["event_payload"]["prompt_id"] for m in emulator.messages) == ids
    assert all("You now run" in m["blocks"][0]["text"]["text"] for m in emulator.messages)
    assert {load(sessions, i).status for i in ids} == {PromptStatus.SENT}


def test_a_runner_prompt_whose_group_changed_hands_before_it_went_is_cancelled(
    sessions, school, emulator, client
) -> None:
    from handlers.messages import render_prompt
    from models import InterventionGroup

    ids = queue_runner_prompts(sessions, school)
    with sessions.begin() as session:
        group = session.scalar(
            select(InterventionGroup).where(InterventionGroup.name == "Lexia ta")
        )
        group.staff_id = school["slt"]  # changed again before Sam's message went
    report = deliver_due(sessions, client, now=RUNNER_DAY, render=render_prompt)
    assert len(report.cancelled) == 1 and len(emulator.messages) == 2
    assert [load(sessions, i).status for i in ids] == [
        PromptStatus.CANCELLED,
        PromptStatus.SENT,
        PromptStatus.SENT,
    ]


def test_two_senders_at_once_send_each_runner_prompt_exactly_once(
    db_url, sessions, school, emulator
) -> None:
    if is_sqlite(db_url):
        pytest.skip("SQLite has no row locks: run one sender at a time (bot.services.outbox)")
    from handlers.messages import render_prompt

    ids = queue_runner_prompts(sessions, school)
    barrier, errors = threading.Barrier(2), []

    def sender() -> None:
        engine = db.make_engine(db_url)
        try:
            own_sessions = db.make_session_factory(engine)
            client = make_client(emulator.bot_token, emulator.api_url)
            barrier.wait()
            deliver_due(own_sessions, client, now=RUNNER_DAY, render=render_prompt)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    sent = [m["metadata"]["event_payload"]["prompt_id"] for m in emulator.messages]
    assert sorted(sent) == ids
    assert {(load(sessions, i).status, load(sessions, i).attempts) for i in ids} == {
        (PromptStatus.SENT, 1)
    }
