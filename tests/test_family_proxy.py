"""Behind the school's reverse proxy every request comes from the proxy's address, so the
families' pages' per-address limit would count all families together. TRUSTED_PROXY_HOPS says
how many proxies add X-Forwarded-For; only the addresses they added are believed."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, Settings
from handlers.web import family as web_family
from tests.family_harness import Family, start_public_app
from tests.slack_harness import build_school


def serve(emulator, sessions, clock, hops: str):
    emulator.reset()
    with sessions.begin() as session:
        build_school(session, emulator)
    return start_public_app(emulator, sessions, clock, TRUSTED_PROXY_HOPS=hops)


@pytest.fixture
def limits(monkeypatch):
    monkeypatch.setattr(web_family, "PER_LINK", web_family.RateLimit(100, 600))
    monkeypatch.setattr(web_family, "PER_ADDRESS", web_family.RateLimit(2, 600))


def opens(running, forwarded_for: str, times: int) -> list[int]:
    family = Family(running.public_url + "/f/no-such-link")
    family.http.headers["X-Forwarded-For"] = forwarded_for
    return [family.open().status_code for _ in range(times)]


def test_behind_one_proxy_each_family_has_its_own_limit(emulator, sessions, clock, limits):
    running = serve(emulator, sessions, clock, "1")
    try:
        assert opens(running, "203.0.113.7", 3) == [404, 404, 429]
        # Another family behind the same proxy is not held up by the first.
        assert opens(running, "203.0.113.8", 2) == [404, 404]
        # A browser's own X-Forwarded-For entry is to the left of the proxy's and is ignored.
        assert opens(running, "198.51.100.1, 203.0.113.7", 1) == [429]
    finally:
        running.server.stop()


def test_without_trusted_proxies_the_header_is_ignored(emulator, sessions, clock, limits):
    running = serve(emulator, sessions, clock, "0")
    try:
        assert opens(running, "203.0.113.7", 2) == [404, 404]
        # Forging the header gives no fresh budget.
        assert opens(running, "203.0.113.9", 1) == [429]
    finally:
        running.server.stop()


@pytest.mark.parametrize("raw", ["-1", "two", "9"])
def test_a_bad_trusted_proxy_hops_is_refused_by_name(raw):
    with pytest.raises(ConfigError, match="TRUSTED_PROXY_HOPS must be a number from 0 to 5"):
        Settings.from_env({"TRUSTED_PROXY_HOPS": raw}, env_file=None)
