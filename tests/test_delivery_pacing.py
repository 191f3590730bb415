"""Paced, fair delivery: DM channels kept and reused, Slack's tiers kept to, and a notice that
answers someone's action sent ahead of a running sweep. Through the Slack emulator over HTTP, on
SQLite and PostgreSQL; time is a fake clock wherever pacing is measured (no timed assertions).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session, sessionmaker

import handlers.scheduler
from bot.demo.slack_emulator import SlackEmulator
from bot.services.outbox import CLAIM_LEASE, enqueue
from handlers import pacing
from handlers.pacing import Pacer
from handlers.sender import deliver_due
from handlers.slack_api import make_client
from models import Prompt, PromptKind, PromptStatus, Staff
from tests.slack_harness import build_school


class FakeClock:
    """Monotonic seconds that move only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


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
    return make_client(emulator.bot_token, emulator.api_url)


def render(session: Session, prompt: Prompt) -> dict:
    return {"text": f"A {prompt.kind.value.replace('_', ' ')} prompt ({prompt.dedupe_key})"}


def add_prompt(sessions, school, key, *, who="priya", due_at, kind=PromptKind.REVIEW_DUE) -> int:
    with sessions.begin() as session:
        prompt = enqueue(
            session,
            school_id=school["school"],
            recipient_id=school[who],
            kind=kind,
            dedupe_key=key,
            due_at=due_at,
            now=due_at,
        )
        session.flush()
        return prompt.id


def load(sessions, model, row_id):
    with sessions() as session:
        return session.get(model, row_id)


def texts(emulator: SlackEmulator) -> list[str]:
    return [m["text"] for m in emulator.messages]


# --------------------------------------------------------------------- the DM, kept


def test_the_dm_channel_is_kept_and_the_next_morning_needs_no_conversations_open(
    sessions, school, emulator, client, now
) -> None:
    add_prompt(sessions, school, "monday", due_at=now)
    deliver_due(sessions, client, now=now, render=render)
    dm = emulator.dm_channel_id("U0PRIYA")
    assert load(sessions, Staff, school["priya"]).dm_channel == dm

    add_prompt(sessions, school, "tuesday", due_at=now + timedelta(days=1))
    deliver_due(sessions, client, now=now + timedelta(days=1), render=render)

    posts = emulator.calls_to("chat.postMessage")
    assert [p.params["channel"] for p in posts] == ["U0PRIYA", dm]
    assert emulator.calls_to("conversations.open") == []
    assert [m["channel"] for m in emulator.messages] == [dm, dm]


def test_a_kept_dm_slack_no_longer_knows_is_forgotten_and_the_message_still_goes_once(
    sessions, school, emulator, client, now
) -> None:
    with sessions.begin() as session:
        priya = session.get(Staff, school["priya"])
        priya.slack_dm_channel, priya.slack_dm_user_id = "D0GONE", "U0PRIYA"
    prompt_id = add_prompt(sessions, school, "k", due_at=now)

    report = deliver_due(sessions, client, now=now, render=render)

    posts = emulator.calls_to("chat.postMessage")
    assert [(p.params["channel"], p.error) for p in posts] == [
        ("D0GONE", "channel_not_found"),
        ("U0PRIYA", None),
    ]
    assert len(emulator.messages_to("U0PRIYA")) == 1
    row = load(sessions, Prompt, prompt_id)
    assert (row.status, row.attempts) == (PromptStatus.SENT, 1)
    assert len(report.sent) == 1 and not report.failed
    assert load(sessions, Staff, school["priya"]).dm_channel == emulator.dm_channel_id("U0PRIYA")


def test_a_retry_with_a_stale_kept_dm_reopens_it_to_look_and_does_not_post_twice(
    sessions, school, emulator, client, now, monkeypatch
) -> None:
    prompt_id = add_prompt(sessions, school, "k", due_at=now)
    deliver_due(sessions, client, now=now, render=render)  # keeps the DM
    posted = emulator.messages[0]
    with sessions.begin() as session:  # as if the post's answer was lost, and the DM moved
        row = session.get(Prompt, prompt_id)
        row.status, row.next_attempt_at, row.posting_at = PromptStatus.PENDING, now, now
        row.slack_channel = "D0GONE"
        session.get(Staff, school["priya"]).slack_dm_channel = "D0GONE"

    report = deliver_due(sessions, client, now=now + CLAIM_LEASE, render=render)

    history = emulator.calls_to("conversations.history")
    assert [(c.params["channel"], c.error) for c in history] == [
        ("D0GONE", "channel_not_found"),
        (posted["channel"], None),
    ]
    assert len(emulator.calls_to("conversations.open")) == 1
    assert len(emulator.messages) == 1
    assert report.sent[0].reconciled is True
    row = load(sessions, Prompt, prompt_id)
    assert (row.status, row.slack_ts) == (PromptStatus.SENT, posted["ts"])


def test_a_relinked_slack_account_never_gets_the_old_accounts_dm(
    sessions, school, emulator, client, now
) -> None:
    add_prompt(sessions, school, "first", due_at=now)
    deliver_due(sessions, client, now=now, render=render)
    old_dm = emulator.dm_channel_id("U0PRIYA")
    emulator.add_user("U0PRIYA2", email="priya.new@brookside.example.org", real_name="Priya")
    with sessions.begin() as session:
        session.get(Staff, school["priya"]).slack_user_id = "U0PRIYA2"
    add_prompt(sessions, school, "second", due_at=now)

    deliver_due(sessions, client, now=now, render=render)

    assert emulator.calls_to("chat.postMessage")[-1].params["channel"] == "U0PRIYA2"
    assert [m["channel"] for m in emulator.messages] == [
        old_dm,
        emulator.dm_channel_id("U0PRIYA2"),
    ]


# --------------------------------------------------------------------- fairness


def test_a_notice_answering_an_action_is_claimed_before_older_sweep_prompts(
    sessions, school, emulator, client, now
) -> None:
    for n in range(3):
        add_prompt(sessions, school, f"review{n}", who="lee", due_at=now - timedelta(hours=1))
    add_prompt(sessions, school, "assigned", kind=PromptKind.ASSIGNMENT, due_at=now)

    deliver_due(sessions, client, now=now, render=render)

    assert texts(emulator)[0] == "A assignment prompt (assigned)"
    assert len(emulator.messages) == 4


def test_a_notice_queued_while_a_sweep_runs_goes_out_before_the_rest_of_the_sweep(
    sessions, school, emulator, client, now, monkeypatch
) -> None:
    for n in range(5):
        add_prompt(sessions, school, f"review{n}", who="lee", due_at=now)
    sweep_started, go_on = threading.Event(), threading.Event()

    def slow_render(session, prompt):
        if prompt.kind == PromptKind.REVIEW_DUE and not go_on.is_set():
            sweep_started.set()
            assert go_on.wait(10)  # the sweep is busy (pacing, in real life) until let go
        return render(session, prompt)

    monkeypatch.setattr(handlers.scheduler, "render_prompt", slow_render)
    sweep = threading.Thread(target=handlers.scheduler.deliver, args=(sessions, client, now))
    sweep.start()
    assert sweep_started.wait(10)

    later = now + timedelta(seconds=30)  # queued after the sweep began
    add_prompt(sessions, school, "assigned", who="priya", kind=PromptKind.ASSIGNMENT, due_at=later)
    handlers.scheduler.deliver_soon(sessions, client, lambda: later)
    try:
        # deliver_soon does not wait for the sweep: the notice arrives while the sweep is held.
        emulator.wait_for(lambda calls: any(c.method == "chat.postMessage" for c in calls))
    finally:
        go_on.set()
        sweep.join(10)
    handlers.scheduler.wait_for_deliveries()

    assert texts(emulator)[0] == "A assignment prompt (assigned)"
    assert sorted(texts(emulator)[1:]) == [f"A review due prompt (review{n})" for n in range(5)]
    assert len(emulator.calls_to("chat.postMessage")) == 6  # each once


def test_deliver_soon_during_another_goes_round_again_for_what_came_after(
    sessions, school, emulator, client, now, monkeypatch
) -> None:
    """A monitoring request asked for while a deliver_soon runs is not left for the next sweep."""
    add_prompt(sessions, school, "first", kind=PromptKind.ASSIGNMENT, due_at=now)
    first_started, go_on = threading.Event(), threading.Event()

    def held_render(session, prompt):
        if prompt.dedupe_key == "first":
            first_started.set()
            assert go_on.wait(10)
        return render(session, prompt)

    monkeypatch.setattr(handlers.scheduler, "render_prompt", held_render)
    clock_now = [now]
    handlers.scheduler.deliver_soon(sessions, client, lambda: clock_now[0])
    assert first_started.wait(10)
    clock_now[0] = now + timedelta(minutes=1)
    add_prompt(
        sessions,
        school,
        "asked",
        who="lee",
        kind=PromptKind.MONITORING_REQUEST,
        due_at=clock_now[0],
    )
    handlers.scheduler.deliver_soon(sessions, client, lambda: clock_now[0])
    go_on.set()
    handlers.scheduler.wait_for_deliveries()

    assert texts(emulator) == [
        "A assignment prompt (first)",
        "A monitoring request prompt (asked)",
    ]


# --------------------------------------------------------------------- the pacer


def test_a_patient_burst_keeps_within_the_tier() -> None:
    clock = FakeClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    tier = pacing.TIERS["conversations.open"]  # Tier 3: 50 a minute
    times = []
    with pacing.patient():
        for _ in range(120):
            pacer.pace("conversations.open")
            times.append(clock.now)

    assert times[: tier.burst] == [times[0]] * tier.burst  # a burst goes at once
    # However the calls are windowed, no more than the burst plus the rate.
    for i in range(len(times)):
        for j in range(i + 1, len(times)):
            allowed = tier.burst + (times[j] - times[i]) / tier.interval + 1e-9
            assert j - i + 1 <= allowed
    in_first_minute = sum(1 for t in times if t < times[0] + 60)
    assert in_first_minute == tier.per_minute + tier.burst - 1
    assert pacer.waited == pytest.approx(sum(clock.slept))


def test_chat_post_message_is_paced_per_channel_and_for_the_workspace() -> None:
    clock = FakeClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    with pacing.patient():
        for n in range(pacing.POST_PER_WORKSPACE.burst):  # one each to many people: at once
            pacer.pace("chat.postMessage", f"D{n}")
        assert clock.slept == []
        for _ in range(pacing.POST_PER_CHANNEL.burst + 2):  # many to one person: a second apart
            pacer.pace("chat.postMessage", "D0ONE")
    assert clock.slept[-1] == pytest.approx(pacing.POST_PER_CHANNEL.interval)


def test_only_a_patient_caller_waits_and_an_impatient_one_pushes_it_back() -> None:
    """Listeners (not patient) never wait here; their calls count, so the sweep yields."""
    clock = FakeClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    for _ in range(30):
        pacer.pace("views.open")  # a listener's calls: never a sleep, even past the tier
    assert clock.slept == []
    with pacing.patient():
        pacer.pace("views.open")
    assert clock.slept and clock.slept[0] > 0


def test_a_paced_client_keeps_to_the_emulators_tiers_and_an_unpaced_one_does_not() -> None:
    clock = FakeClock()
    with SlackEmulator() as emulator:
        emulator.enforce_tiers(clock=clock)
        for n in range(80):
            emulator.add_user(f"U{n:05d}")
        paced = make_client(
            emulator.bot_token, emulator.api_url, pacer=Pacer(clock=clock, sleep=clock.sleep)
        )
        paced.retry_handlers.clear()
        with pacing.patient():
            for n in range(80):
                paced.conversations_open(users=f"U{n:05d}")
        assert {c.http_status for c in emulator.calls} == {200}
        assert clock.now - 1_000 == pytest.approx((80 - 5) * 60 / 50)

        unpaced = make_client(emulator.bot_token, emulator.api_url, paced=False)
        unpaced.retry_handlers.clear()
        refused = 0
        for n in range(30):
            try:
                unpaced.users_lookupByEmail(email=f"u{n}@example.org")
            except SlackApiError as error:
                refused += error.response.status_code == 429
        assert refused == 30 - 10  # Tier 3's burst, then 429s: the fake clock has not moved


def test_the_emulator_answers_429_with_retry_after_per_workspace_and_method() -> None:
    clock = FakeClock()
    with SlackEmulator() as emulator:
        emulator.add_workspace("T0SECOND", "xoxb-second")
        emulator.add_user("U0ONE")
        emulator.add_user("U0TWO", team_id="T0SECOND")
        emulator.enforce_tiers(clock=clock)
        ours = WebClient(token=emulator.bot_token, base_url=emulator.api_url, retry_handlers=[])
        theirs = WebClient(token="xoxb-second", base_url=emulator.api_url, retry_handlers=[])
        for _ in range(10):  # Tier 3's burst
            ours.conversations_open(users="U0ONE")

        with pytest.raises(SlackApiError) as refused:
            ours.conversations_open(users="U0ONE")

        assert refused.value.response.status_code == 429
        assert refused.value.response["error"] == "ratelimited"
        assert refused.value.response.headers["Retry-After"] == "2"  # 1.2 s, in whole seconds
        ours.users_info(user="U0ONE")  # another method has its own allowance
        theirs.conversations_open(users="U0TWO")  # another workspace has its own
        clock.sleep(1.2)
        assert ours.conversations_open(users="U0ONE")["ok"]
        emulator.reset()  # forgets the limits with the rest
        for _ in range(20):
            ours.conversations_open(users="U0ONE")
