"""Pacing Slack Web API calls to each method's documented rate limit, per workspace.

Slack limits calls "per API method per workspace per app" (docs.slack.dev/apis/web-api/rate-limits):
Tier 2 20+ a minute, Tier 3 50+, Tier 4 100+, each with some burst allowed; chat.postMessage
is special: about one message a second to any one channel, short bursts allowed, and
"several hundred messages per minute" across the workspace. Each method we call is listed in
TIERS with its tier as its reference page gives it (conversations.open and users.lookupByEmail
Tier 3, users.info and views.* Tier 4, ...). We pace to the documented minimum, so a morning
sweep of hundreds of direct messages goes out as fast as Slack promises to take them and is
not answered 429 (the outbox still honours a 429's Retry-After if one comes).

The algorithm is GCRA (a token bucket kept as one "theoretical arrival time" per key): a call
reserves the next slot and is told how long to wait for it; slots are handed out in the order
they are asked for, so a call that asks while a sweep is waiting goes out right after the
sweep's next call, not after the sweep.

Who waits. Only a *patient* caller sleeps for its slot: the outbox's sender declares itself
patient (`with patient():` around a delivery run, on the scheduler's or deliver_soon's own
thread). Every other call -- a listener answering an interaction, where Slack gives the app 3
seconds to ack and a trigger_id expires as fast -- never waits here: it takes its slot at once,
pushing the patient ones back, and if the workspace really is over its limit Slack answers 429
and the client's retry handler deals with that as before. So pacing can delay a sweep, never an
ack, whichever client object a call goes through (the Bolt app's client is also the scheduler's
in a single-workspace install).

Pacers are shared per workspace (keyed by API URL and a digest of the token, never the token
itself) because Slack counts per workspace, however many clients we make for it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient


@dataclass(frozen=True)
class Limit:
    """`per_minute` calls a minute on average; up to `burst` at once after a quiet spell."""

    per_minute: float
    burst: int = 1

    @property
    def interval(self) -> float:
        return 60.0 / self.per_minute


# The documented minimum of each tier; bursts are our own modest reading of "occasional bursts"
# (Tier 2), "sporadic bursts are welcome" (Tier 3), "generous burst behavior" (Tier 4).
TIER_2 = Limit(20, burst=3)
TIER_3 = Limit(50, burst=5)
TIER_4 = Limit(100, burst=10)
# chat.postMessage: "1 message per second to a specific channel" with "short bursts >1
# allowed", and "several hundred messages per minute" for the workspace: we take 300.
POST_PER_CHANNEL = Limit(60, burst=4)
POST_PER_WORKSPACE = Limit(300, burst=10)

TIERS: dict[str, Limit] = {
    "chat.postMessage": POST_PER_WORKSPACE,
    "chat.postEphemeral": TIER_4,
    "chat.update": TIER_3,
    "conversations.open": TIER_3,
    "conversations.history": TIER_3,
    "users.info": TIER_4,
    "users.lookupByEmail": TIER_3,
    "users.list": TIER_2,  # staff matching reads the member list a page at a time
    "views.open": TIER_4,
    "views.push": TIER_4,
    "views.update": TIER_4,
    "views.publish": TIER_4,
    "files.getUploadURLExternal": TIER_4,
    "files.completeUploadExternal": TIER_4,
    "auth.test": Limit(600, burst=20),  # special: "hundreds of requests per minute"
}
# A method not listed is paced as Tier 2, the tier "most methods" have.
DEFAULT = TIER_2
# Per-channel slots accumulate, one per DM posted to; forget the spent ones past this many.
PRUNE_ABOVE = 5_000

_patient: ContextVar[bool] = ContextVar("sspbot_slack_patient", default=False)


@contextmanager
def patient() -> Iterator[None]:
    """Calls made in this block (on this thread) wait for their slot: for background senders."""
    token = _patient.set(True)
    try:
        yield
    finally:
        _patient.reset(token)


def is_patient() -> bool:
    return _patient.get()


class Pacer:
    """The slots of one workspace's calls, per method (and per channel for chat.postMessage).

    `time_scale` > 1 runs Slack's clock faster (a bench: 10 means a minute's allowance every
    6 seconds); the emulator's `enforce_tiers(time_scale=...)` must be given the same.
    `clock` and `sleep` are injected by tests (a fake clock); they default to real time.
    """

    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        tiers: dict[str, Limit] | None = None,
    ) -> None:
        self.time_scale = time_scale
        self._clock = clock
        self._sleep = sleep
        self._tiers = TIERS if tiers is None else tiers
        self._due: dict[tuple[str, ...], float] = {}  # key -> theoretical arrival time
        self._lock = threading.Lock()
        self.waited = 0.0
        """Seconds patient callers have slept here, all told (for a bench to print)."""

    def limits_for(self, method: str, channel: str | None = None) -> list[tuple[tuple, Limit]]:
        limits = [((method,), self._tiers.get(method, DEFAULT))]
        if method == "chat.postMessage" and channel:
            limits.append(((method, channel), POST_PER_CHANNEL))
        return limits

    def reserve(self, method: str, channel: str | None = None) -> float:
        """Takes the next slot for this call; returns how many seconds until it comes."""
        with self._lock:
            now = self._clock()
            wait = 0.0
            for key, limit in self.limits_for(method, channel):
                interval = limit.interval / self.time_scale
                due = max(self._due.get(key, now), now)
                # GCRA: a call may go up to (burst - 1) intervals ahead of its slot.
                wait = max(wait, due - (limit.burst - 1) * interval - now)
                self._due[key] = due + interval
            if len(self._due) > PRUNE_ABOVE:  # a slot in the past is as good as none
                self._due = {k: v for k, v in self._due.items() if v > now}
            return wait if wait > 1e-9 else 0.0  # float dust is no wait

    def pace(self, method: str, channel: str | None = None) -> None:
        """Reserves a slot; sleeps until it comes if the caller is patient (see module doc)."""
        wait = self.reserve(method, channel)
        if wait > 0 and is_patient():
            self.waited += wait
            self._sleep(wait)


_shared: dict[tuple[str, str], Pacer] = {}
_shared_lock = threading.Lock()
_time_scale = 1.0


def for_workspace(base_url: str, token: str | None) -> Pacer:
    """The process's pacer for the workspace this token acts in."""
    digest = hashlib.sha256((token or "").encode()).hexdigest()
    with _shared_lock:
        pacer = _shared.get((base_url, digest))
        if pacer is None:
            pacer = _shared[(base_url, digest)] = Pacer(time_scale=_time_scale)
        return pacer


def configure(*, time_scale: float) -> None:
    """Sets the time scale of the process's pacers, forgetting their slots. For the test suite
    (whose flows post to one person faster than Slack would take it, and are not about
    waiting) and benches; production keeps real time."""
    global _time_scale
    with _shared_lock:
        _time_scale = time_scale
        _shared.clear()


class PacedWebClient(WebClient):
    """A WebClient whose every API call first takes its slot from a Pacer."""

    def __init__(self, *args: Any, pacer: Pacer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pacer = pacer

    def api_call(self, api_method: str, **kwargs: Any):  # type: ignore[override]
        self.pacer.pace(api_method, _channel_of(kwargs))
        return super().api_call(api_method, **kwargs)


def _channel_of(kwargs: dict[str, Any]) -> str | None:
    for part in ("json", "data", "params"):
        values = kwargs.get(part)
        if isinstance(values, dict) and values.get("channel"):
            return str(values["channel"])
    return None
