"""Helpers for the families' pages tests: the app with PUBLIC_URL set to its own address, a link
made from Slack as a case holder would, and a browser-like HTTP client for the pages."""

from __future__ import annotations

import re
import socket

import requests

from bot.config import Settings
from bot.demo.slack_sender import SlackSender
from handlers.app import create_app
from handlers.server import HttpServer
from tests.slack_harness import SIGNING_SECRET, RunningApp, text_of
from tests.test_plan_editor import click, open_plan, submit


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_public_app(emulator, sessions, clock, **env: str) -> RunningApp:
    """tests.slack_harness.start_app, with PUBLIC_URL the address the app serves on (and any
    other settings given, e.g. SMTP_URL)."""
    port = free_port()
    settings = Settings.from_env(
        {
            "SLACK_BOT_TOKEN": emulator.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": emulator.api_url,
            "PUBLIC_URL": f"http://127.0.0.1:{port}",
            **env,
        },
        env_file=None,
    )
    app = create_app(settings, session_factory=sessions, clock=clock)
    server = HttpServer(app, port=port).start()
    running = RunningApp(
        emulator, SlackSender(server.url, SIGNING_SECRET, emulator), sessions, server
    )
    running.public_url = settings.public_url
    return running


def ask_form(slack, user: str, purpose: str = "family", pupil: str = "Ava Stone") -> dict:
    overview = open_plan(slack, user, f"plan {pupil}")
    value = next(
        e["value"]
        for b in overview["blocks"]
        if b.get("block_id") == "ask-views"
        for e in b["elements"]
    )
    return click(slack, user, overview, f"ssp_ask_{purpose}", value)


def make_link(slack, user: str = "U0PRIYA", purpose: str = "family", pupil: str = "Ava Stone",
              **typed) -> str:  # fmt: skip
    """Makes a link from the plan in Slack; returns it as the modal shows it."""
    form = ask_form(slack, user, purpose, pupil)
    reply = submit(slack, user, form, **typed)
    assert reply["response_action"] == "update", reply
    (block,) = [b for b in reply["view"]["blocks"] if b.get("block_id") == "link"]
    return block["text"]["text"]


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def without_secrets(html: str) -> str:
    """The page less its random strings (the link's token, the form's CSRF token), which may spell
    a name by chance: a check that a pupil's name is not on a page must not flake."""
    html = re.sub(r"<input[^>]*type=\"hidden\"[^>]*>", '<input type="hidden">', html)
    return re.sub(r"/f/[^/\"?#\s]+", "/f/TOKEN", html)


class Family:
    """A family's browser, without one: cookies kept, forms posted with their CSRF token."""

    def __init__(self, link: str) -> None:
        self.link = link
        self.http = requests.Session()

    def open(self, path: str = "") -> requests.Response:
        return self.http.get(self.link + path, timeout=10)

    def post(self, path: str, data: dict, *, csrf: bool = True) -> requests.Response:
        page = self.open(path)
        if csrf:
            data = {"csrf_token": csrf_of(page.text), **data}
        return self.http.post(self.link + path, data=data, timeout=10, allow_redirects=True)

    def birth_date(self, day: str, month: str, year: str) -> requests.Response:
        return self.post("", {"day": day, "month": month, "year": year})


def latest_dm(slack, user: str, containing: str) -> dict:
    slack.emulator.wait_for(
        lambda calls: any(containing in text_of(m) for m in slack.emulator.messages_to(user))
    )
    return [m for m in slack.emulator.messages_to(user) if containing in text_of(m)][-1]
