"""The commands a newcomer types: `sspbot demo`, and `sspbot serve` answering Slack over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import text

from bot import cli, db
from bot.demo.slack_emulator import SlackEmulator
from bot.demo.slack_sender import SlackSender
from tests.slack_harness import text_of

SSPBOT = str(Path(sys.executable).with_name("sspbot"))


def test_demo_runs_the_tour_to_the_end(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["demo", "--pupils", "150"]) == 0
    out = capsys.readouterr().out
    for expected in (
        "Created Oakfield Academy (demo)",
        "Connected to Slack workspace",
        "types  /ssp caseload",
        "School caseload",
        "Overdue reviews",
        "opens SSP Bot's Home tab",
        "As one of their teachers",
        "(teacher) types  /ssp class",
        "Your classes",
        "(teacher) types  /ssp passport",
        "(teaching assistant) types  /ssp pupil",
        "As one of the staff who support them",
        "clicks [Ask the family]",
        "# A form from Oakfield Academy (demo) about your child",
        "# Thank you: your answers were sent",
        "The family sent their views on",
        "contributed by the family (Mrs Khan, mother)",
        "chooses (•) The review meeting",
        "# The review meeting for",
        "# Thank you: your answer was sent",
        "The family replied about",
        "from Mrs Khan (mother)",
        "couldn't find a pupil",
        "can't find you on your school's staff list",
        "The scheduler's sweep",
        "review prompt(s)",
        "teacher digest(s) queued",
        "How plans are implemented",
        "(SENDCo) types  /ssp provision",
        "Provision map",
        "session log message(s) queued",
        "(teaching assistant) gets a direct message after their session",
        "Your sessions not yet logged",
        "taps [Delivered, someone absent]",
        "Delivered — 1 absent",
        "That's the tour.",
    ):
        assert expected in out, expected
    # Each direct message the sweep sends is shown as what it is, not an earlier one.
    for heading, says in (
        ("gets a direct message: a review prompt", "SEN Support Plan"),
        ("gets a direct message: a monitoring digest", "How are these plans going"),
    ):
        if heading in out:
            shown = out.split(heading, 1)[1].split("────", 1)[0]
            assert says in shown, (heading, shown)
    assert "Traceback" not in out
    assert not (tmp_path / "sspbot.db").exists()  # the demo leaves no database behind


def test_serve_without_slack_settings_explains_in_two_lines(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    done = subprocess.run(
        [SSPBOT, "serve"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("sspbot: SLACK_BOT_TOKEN is not set")
    assert "sspbot demo" in lines[1]


def test_socket_mode_needs_an_app_token(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
        "SLACK_BOT_TOKEN": "xoxb-test",
    }
    done = subprocess.run(
        [SSPBOT, "serve", "--socket-mode"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "SLACK_APP_TOKEN is not set" in done.stderr


@pytest.fixture
def served(tmp_path):
    """`sspbot serve` in its own process, on a free port, against the emulator."""
    with SlackEmulator(team_name="Brookside High") as slack:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE"))},
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": "serve-secret",
            "SLACK_API_URL": slack.api_url,
            "PORT": str(_free_port()),
        }
        run = lambda *args: subprocess.run(  # noqa: E731
            [SSPBOT, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert run("demo-data", "--pupils", "120").returncode == 0
        engine = db.make_engine(f"sqlite:///{tmp_path / 'sspbot.db'}")
        with engine.connect() as connection:
            unmatched = (
                connection.execute(
                    text(
                        "SELECT email FROM staff WHERE slack_user_id IS NULL AND is_active "
                        "ORDER BY id LIMIT 2"
                    )
                )
                .scalars()
                .all()
            )
        for n, email in enumerate(unmatched):
            slack.add_user(f"U0NEW{n}", email=email)
        process = subprocess.Popen(
            [SSPBOT, "serve", "--host", "127.0.0.1"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            url = f"http://127.0.0.1:{env['PORT']}"
            _wait_until_up(url + "/healthz", process)
            yield slack, SlackSender(url + "/slack/events", "serve-secret", slack), engine
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)
            engine.dispose()


def test_serve_matches_staff_to_slack_accounts_by_email_once(served):
    slack, sender, engine = served
    slack.wait_for(lambda calls: slack.calls_to("users.list"), timeout=20)

    def matched():
        with engine.connect() as connection:
            return (
                connection.execute(
                    text("SELECT slack_user_id FROM staff WHERE slack_user_id LIKE 'U0NEW%'")
                )
                .scalars()
                .all()
            )

    def not_found():
        with engine.connect() as connection:
            return connection.execute(
                text("SELECT count(*) FROM staff WHERE slack_lookup_failed_at IS NOT NULL")
            ).scalar()

    deadline = time.monotonic() + 10
    while (len(matched()) < 2 or not not_found()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sorted(matched()) == ["U0NEW0", "U0NEW1"]
    assert not_found() > 0  # remembered, so they are not asked again on the next start
    assert slack.calls_to("users.lookupByEmail") == []  # the member list, not one by one


def test_serve_links_the_workspace_and_answers_signed_slash_commands(served):
    slack, sender, engine = served
    slack.add_user("U0DEMO001", email="unused@example.org")
    reply = sender.command("U0DEMO001", "caseload")
    assert reply.status == 200
    slack.wait_for(lambda calls: slack.responses_to("U0DEMO001"), timeout=10)
    assert "School caseload" in text_of(slack.responses_to("U0DEMO001")[-1])
    assert sender.command("U0DEMO001", "caseload", signature="v0=bad").status == 401


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"sspbot serve exited: {process.stderr.read()}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("sspbot serve did not start within 60 s")
