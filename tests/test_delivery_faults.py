"""Slack's faults as a school's sender meets them, through the emulator over HTTP: a post Slack
performs but whose answer is lost, a long Retry-After, an outage. Each was found repeating
messages, or holding one prompt while the rest went, or taking minutes per sweep.

Time is injected (`now`, later runs "a few minutes later"); nothing sleeps for a backoff. The
client is the bot's own (handlers.slack_api.make_client), retry handlers and all.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient
from slack_sdk.http_retry import builtin_handlers
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.demo.slack_emulator import SlackEmulator
from bot.services.outbox import enqueue
from handlers.sender import OUTAGE_STOP_AFTER, deliver_due
from handlers.slack_api import make_client
from models import Prompt, PromptKind, PromptStatus, School
from tests.slack_harness import build_school

OTHER_TOKEN = "xoxb-hillside-bot"


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def school(emulator: SlackEmulator, sessions: sessionmaker[Session]) -> dict:
    emulator.reset()
    with sessions.begin() as session:
        ids = build_school(session, emulator)
        other = session.scalar(select(School.id).where(School.name == "Hillside School"))
        return {**ids, "other_school": other}


@pytest.fixture
def client(emulator: SlackEmulator) -> WebClient:
    return make_client(emulator.bot_token, emulator.api_url)


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """Every sleep slack_sdk's retry handlers make: recorded, not slept."""
    slept: list[float] = []
    monkeypatch.setattr(builtin_handlers.time, "sleep", slept.append)
    return slept


def render(session: Session, prompt: Prompt) -> dict:
    return {"text": f"You have a {prompt.kind.value.replace('_', ' ')} prompt"}


def add_prompts(sessions, school, who: list[str], *, due_at: datetime, school_key="school"):
    ids = []
    with sessions.begin() as session:
        for i, person in enumerate(who):
            prompt = enqueue(
                session,
                school_id=school[school_key],
                recipient_id=school[person],
                kind=PromptKind.REVIEW_DUE,
                dedupe_key=f"k{len(ids)}-{person}-{i}-{due_at.timestamp()}",
                due_at=due_at,
                now=due_at - timedelta(days=1),
            )
            session.flush()
            ids.append(prompt.id)
    return ids


def posted_ids(emulator: SlackEmulator) -> Counter:
    return Counter(m["metadata"]["event_payload"]["prompt_id"] for m in emulator.messages)


def statuses(sessions, ids) -> set[PromptStatus]:
    with sessions() as session:
        return set(session.scalars(select(Prompt.status).where(Prompt.id.in_(ids))))


def run_until_done(sessions, client, ids, start: datetime, *, runs: int = 30, **kwargs):
    """Sweeps a minute apart until every prompt is sent; returns the reports."""
    reports = []
    for minute in range(runs):
        reports.append(
            deliver_due(sessions, client, now=start + timedelta(minutes=minute), render=render)
        )
        if statuses(sessions, ids) == {PromptStatus.SENT}:
            return reports
    raise AssertionError(f"not all sent after {runs} runs: {statuses(sessions, ids)}")


# --------------------------------------------------------------------- lost answers


def test_a_post_whose_answer_is_lost_is_one_dm_and_history_is_read_once_per_channel(
    sessions, school, emulator, client, now
) -> None:
    ids = add_prompts(sessions, school, ["priya", "priya", "lee", "priya"], due_at=now)
    # Slack performs the first three posts, and each answer is lost on the way back.
    emulator.fail_next("chat.postMessage", "-", after_performing=True, times=3)

    first = deliver_due(sessions, client, now=now, render=render)

    # Each post made once: the client did not post again inside the attempt.
    assert len(emulator.calls_to("chat.postMessage")) == 3
    assert posted_ids(emulator) == Counter(ids[:3])
    assert first.sent == [] and len(first.retried) == 3
    assert "Slack did not answer 3 times in a row" in first.summary()[-1]

    run_until_done(sessions, client, ids, now + timedelta(minutes=1))

    assert posted_ids(emulator) == Counter(ids)  # every prompt exactly once
    history = [c.params["channel"] for c in emulator.calls_to("conversations.history")]
    assert sorted(history) == sorted(
        {emulator.dm_channel_id("U0PRIYA"), emulator.dm_channel_id("U0LEE")}
    )
    with sessions() as session:
        rows = session.scalars(select(Prompt).where(Prompt.id.in_(ids[:3]))).all()
        stored = {m["metadata"]["event_payload"]["prompt_id"]: m for m in emulator.messages}
        for row in rows:
            assert (row.slack_channel, row.slack_ts) == (
                stored[row.id]["channel"],
                stored[row.id]["ts"],
            )
            assert row.posting_at is None


def test_a_post_that_never_reached_slack_is_posted_again_without_reading_history(
    sessions, school, emulator, now
) -> None:
    [prompt_id] = add_prompts(sessions, school, ["priya"], due_at=now)
    closed_port = make_client(emulator.bot_token, "http://127.0.0.1:9/api/")

    report = deliver_due(sessions, closed_port, now=now, render=render)
    assert report.retried[0].reason.startswith("could not reach Slack")

    run_until_done(sessions, make_client(emulator.bot_token, emulator.api_url), [prompt_id], now)

    assert posted_ids(emulator) == Counter([prompt_id])
    assert emulator.calls_to("conversations.history") == []


def test_a_post_slack_answers_5xx_is_checked_in_history_once_then_posted_once(
    sessions, school, emulator, client, now
) -> None:
    # A 503 may or may not have been performed: unsure, so history is read (once) first.
    [prompt_id] = add_prompts(sessions, school, ["priya"], due_at=now)
    emulator.fail_next("chat.postMessage", "service_unavailable", status=503)

    run_until_done(sessions, client, [prompt_id], now)

    assert [c.http_status for c in emulator.calls_to("chat.postMessage")] == [503, 200]
    assert posted_ids(emulator) == Counter([prompt_id])
    assert len(emulator.calls_to("conversations.history")) == 1


# --------------------------------------------------------------------- a long Retry-After


def test_a_long_retry_after_pauses_the_school_not_one_prompt_and_never_sleeps_in_the_client(
    sessions, school, emulator, client, now, sleeps
) -> None:
    emulator.add_workspace("T0OTHERSCH", OTHER_TOKEN, name="Hillside")
    emulator.add_user("U0OTHER", email="olly.other@brookside.example.org", team_id="T0OTHERSCH")
    other_client = make_client(OTHER_TOKEN, emulator.api_url)
    [first] = add_prompts(sessions, school, ["priya"], due_at=now)
    emulator.fail_next("chat.postMessage", "ratelimited", retry_after=120)

    report = deliver_due(sessions, client, now=now, render=render, school_id=school["school"])

    assert len(emulator.calls_to("chat.postMessage")) == 1  # no retry inside the call
    assert not [s for s in sleeps if s > 5]
    until = now + timedelta(seconds=120)
    with sessions() as session:
        paused = session.scalar(
            select(School.slack_paused_until).where(School.id == school["school"])
        )
    assert paused == until
    assert f"messages wait until {until:%H:%M} UTC" in "\n".join(report.summary())

    # Another of the school's prompts, due at the next sweep, waits for the pause; the other
    # school's (another workspace) goes on.
    [second] = add_prompts(sessions, school, ["lee"], due_at=now + timedelta(minutes=1))
    [elsewhere] = add_prompts(
        sessions, school, ["other_sendco"], due_at=now, school_key="other_school"
    )
    a_minute_on = now + timedelta(minutes=1)
    sweep = deliver_due(
        sessions, client, now=a_minute_on, render=render, school_id=school["school"]
    )
    other = deliver_due(
        sessions, other_client, now=a_minute_on, render=render, school_id=school["other_school"]
    )

    assert sweep.sent == [] and posted_ids(emulator) == Counter([elsewhere])
    assert sweep.summary() == [
        f"Slack asked SSP Bot to wait: this school's messages wait until {until:%H:%M} UTC."
    ]
    assert len(other.sent) == 1

    done = deliver_due(sessions, client, now=until, render=render, school_id=school["school"])

    assert len(done.sent) == 2
    assert posted_ids(emulator) == Counter([first, second, elsewhere])


# --------------------------------------------------------------------- an outage


@pytest.mark.parametrize("fault", ["503", "port closed"])
def test_an_outage_stops_the_run_quickly_and_everything_goes_once_afterwards(
    sessions, school, emulator, client, now, sleeps, fault
) -> None:
    who = ["priya", "lee", "ta", "sendco", "slt"] * 4
    ids = add_prompts(sessions, school, who, due_at=now)
    if fault == "503":
        emulator.outage(503)
        during = client
    else:
        during = make_client(emulator.bot_token, "http://127.0.0.1:9/api/")

    report = deliver_due(sessions, during, now=now, render=render)
    if fault == "503":
        calls = len(emulator.calls_to("chat.postMessage"))
        emulator.outage(None)
    else:
        calls = len(report.retried)

    assert calls == OUTAGE_STOP_AFTER  # not 20 prompts x 3 tries
    assert not [s for s in sleeps if s > 5]
    assert report.stopped and "did not answer" in report.stopped
    assert statuses(sessions, ids) == {PromptStatus.PENDING}
    assert emulator.messages == []

    run_until_done(sessions, client, ids, now + timedelta(minutes=1))

    assert posted_ids(emulator) == Counter(ids)  # nothing lost, each once
    # Unsure after a 503 (it may have been performed): one history read per DM at most.
    history = [c.params["channel"] for c in emulator.calls_to("conversations.history")]
    assert len(history) == len(set(history)) <= (OUTAGE_STOP_AFTER if fault == "503" else 0)


def test_the_sweep_says_until_when_a_paused_schools_messages_wait(
    sessions, school, emulator, client, now, monkeypatch
) -> None:
    from handlers import scheduler

    monkeypatch.setattr(scheduler, "render_prompt", render)  # these prompts name no plan

    add_prompts(sessions, school, ["priya", "lee"], due_at=now)
    emulator.fail_next("chat.postMessage", "ratelimited", retry_after=600)

    first = scheduler.deliver(sessions, client, now)
    later = scheduler.deliver(sessions, client, now + timedelta(minutes=1))

    until = now + timedelta(minutes=10)
    line = (
        "Brookside High: Slack asked SSP Bot to wait: this school's messages wait until "
        f"{until:%H:%M} UTC."
    )
    assert line in first
    assert later == [line]
    assert emulator.messages == []


def test_history_unreadable_for_an_hour_posts_anyway_with_at_most_one_duplicate(
    sessions, school, emulator, client, now, sleeps
) -> None:
    [prompt_id] = add_prompts(sessions, school, ["priya"], due_at=now)
    emulator.fail_next("chat.postMessage", "-", after_performing=True)
    emulator.fail_next("conversations.history", "ratelimited", retry_after=30, times=1000)

    for minute in range(0, 60):
        deliver_due(sessions, client, now=now + timedelta(minutes=minute), render=render)
    assert posted_ids(emulator) == Counter([prompt_id])  # unsure, and not posted blindly
    assert statuses(sessions, [prompt_id]) == {PromptStatus.PENDING}

    for minute in range(60, 65):
        deliver_due(sessions, client, now=now + timedelta(minutes=minute), render=render)

    assert posted_ids(emulator) == Counter({prompt_id: 2})  # the one duplicate, and no more
    # Tried once a run (refused each time), never more.
    assert 55 <= len(emulator.calls_to("conversations.history")) <= 65
    assert statuses(sessions, [prompt_id]) == {PromptStatus.SENT}
