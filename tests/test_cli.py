"""The `sspbot` command as a newcomer meets it: schools, the schema, and clear failures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from bot.services.schools import bind_workspace
from models import School


def test_school_add_and_list(run_cli):
    added = run_cli(
        "school", "add", "Oakfield Academy", "--slack-team", "T0123", "--timezone", "Europe/London"
    )
    assert added.code == 0, added
    assert "Added Oakfield Academy" in added.out
    run_cli("school", "add", "Brookside High")

    listed = run_cli("school", "list")
    lines = listed.out.splitlines()
    assert lines[0].startswith("Brookside High") and "not yet linked to Slack" in lines[0]
    assert lines[1].startswith("Oakfield Academy") and "T0123" in lines[1]


def test_school_list_when_there_are_none_says_what_to_do(run_cli):
    assert "sspbot school add" in run_cli("school", "list").out


def test_duplicate_school_or_workspace_is_refused_clearly(run_cli):
    run_cli("school", "add", "Oakfield Academy", "--slack-team", "T0123")
    again = run_cli("school", "add", "oakfield academy")
    assert again.code == 1
    assert again.err.strip() == "sspbot: There is already a school called 'oakfield academy'."
    taken = run_cli("school", "add", "Brookside High", "--slack-team", "T0123")
    assert taken.code == 1 and "already belongs to 'Oakfield Academy'" in taken.err


def test_unknown_timezone_is_refused(run_cli):
    result = run_cli("school", "add", "Oakfield Academy", "--timezone", "Europe/Narnia")
    assert result.code == 1
    assert "'Europe/Narnia' is not a time zone name" in result.err


def test_the_one_unbound_school_is_bound_to_the_bots_workspace(run_cli, sessions):
    run_cli("school", "add", "Oakfield Academy")
    with sessions.begin() as session:
        assert bind_workspace(session, "T0BOT").name == "Oakfield Academy"
    with sessions.begin() as session:
        assert bind_workspace(session, "T0BOT").name == "Oakfield Academy"
        assert bind_workspace(session, "T0OTHER") is None  # no unbound school left to claim


def test_with_two_unbound_schools_nothing_is_guessed(run_cli, sessions):
    run_cli("school", "add", "Oakfield Academy")
    run_cli("school", "add", "Brookside High")
    with sessions.begin() as session:
        assert bind_workspace(session, "T0BOT") is None
        assert all(s.slack_team_id is None for s in session.scalars(select(School)))


def test_db_upgrade_and_current(run_cli):
    # The test database is already migrated: upgrade is a no-op and says so.
    result = run_cli("db", "upgrade")
    assert result.code == 0 and "already at the latest schema" in result.out
    assert "up to date" in run_cli("db", "current").out


def test_a_bad_setting_is_one_line_and_no_traceback(run_cli):
    result = run_cli("school", "list", env={"DATABASE_URL": "mysql://localhost/ssp"})
    assert result.code == 2
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert result.err.startswith("sspbot: DATABASE_URL uses 'mysql'")


def test_a_database_that_is_down_is_one_line(run_cli):
    result = run_cli("school", "list", env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:9/ssp"})
    assert result.code == 1
    assert result.err.startswith("sspbot: Cannot reach the database at postgresql+psycopg://")
    assert result.err.count("\n") == 1 and "Traceback" not in result.err


def test_config_shows_settings_with_secrets_hidden(run_cli):
    result = run_cli("config", env={"SLACK_SIGNING_SECRET": "s3cr3t-value"})
    assert "SLACK_SIGNING_SECRET" in result.out and "s3cr3t-value" not in result.out


def test_help_lists_the_commands(run_cli):
    result = run_cli()
    for command in ("db", "school", "import", "demo-data", "config"):
        assert command in result.out


def test_console_script_on_a_fresh_directory_creates_the_default_sqlite_db(tmp_path: Path):
    """What a newcomer does: no settings at all, the database appears in the working directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "SLACK_"))}
    sspbot = Path(sys.executable).with_name("sspbot")
    for argv in (
        [str(sspbot), "school", "add", "Oakfield Academy"],
        [sys.executable, "-m", "bot", "school", "list"],
    ):
        done = subprocess.run(
            argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "sspbot.db").is_file()
    assert "Oakfield Academy" in done.stdout


def test_school_settings_can_be_changed(run_cli):
    run_cli("school", "add", "Oakfield Academy")
    changed = run_cli(
        "school",
        "set",
        "oakfield academy",
        "--timezone",
        "Europe/Dublin",
        "--slack-team",
        "T0NEW",
        "--pupil-display",
        "initials",
    )
    assert changed.code == 0, changed
    assert "Europe/Dublin" in changed.out and "T0NEW" in changed.out and "initials" in changed.out
    bad = run_cli("school", "set", "Oakfield Academy", "--timezone", "Mars/Olympus")
    assert bad.code == 1 and "not a time zone name" in bad.err


def test_logged_tracebacks_say_where_and_what_but_not_the_message():
    import logging

    from bot.cli import LOG_FORMAT, PrivateFormatter

    def render(session):
        raise KeyError("Ava Stone")

    try:
        try:
            render(None)
        except KeyError as error:
            raise RuntimeError("while writing to Ava Stone's teacher") from error
    except RuntimeError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = PrivateFormatter(LOG_FORMAT).format(record)
    assert "Ava" not in line
    assert "in render" in line and "KeyError (message withheld" in line
    assert "which led to:" in line and "RuntimeError (message withheld" in line
