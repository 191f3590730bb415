"""Matching staff to Slack accounts by email: a school at a time from Slack's member list.

users.list is read a page at a time with no transaction open, and each page's matches are
committed on their own: a rate limit keeps what was matched and the next run resumes; the
sweep, a person's command or anyone else writing staff rows never waits for Slack meanwhile.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.errors import SlackApiError
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import OperationalError

from bot.demo.slack_emulator import SlackEmulator
from handlers.slack_api import LOOKUP_RETRY_AFTER, link_staff_accounts, make_client
from models import School, Staff
from tests.slack_harness import text_of

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
HELP = "What `/ssp` can do for you"


@pytest.fixture
def workspace():
    """A Slack workspace of its own (members are added by the thousand here)."""
    with SlackEmulator(team_id="T0BIGSCH", team_name="Big School") as emulator:
        yield emulator


def big_school(sessions, emulator, staff: int, *, in_slack: int | None = None) -> int:
    """A school in `emulator`'s workspace with `staff` members of staff, the first `in_slack`
    of whom (all, by default) have a Slack account with their school email."""
    in_slack = staff if in_slack is None else in_slack
    with sessions.begin() as session:
        school = School(name="Big School", slack_team_id=emulator.team_id)
        session.add(school)
        session.flush()
        session.add_all(
            Staff(school_id=school.id, email=email(n), first_name="Staff", last_name=f"N{n}")
            for n in range(staff)
        )
        school_id = school.id
    for n in range(in_slack):
        emulator.add_user(user_id(n), email=email(n).upper() if n % 7 == 0 else email(n))
    return school_id


def email(n: int) -> str:
    return f"staff{n:04d}@big.example.org"


def user_id(n: int) -> str:
    return f"U0BIG{n:04d}"


def slack_ids(sessions, school_id: int) -> dict[str, str | None]:
    with sessions() as session:
        return dict(
            session.execute(
                select(Staff.email, Staff.slack_user_id).where(Staff.school_id == school_id)
            ).all()
        )


def client_for(emulator):
    return make_client(emulator.bot_token, emulator.api_url)


def test_fifteen_hundred_staff_are_matched_in_a_handful_of_member_list_pages(sessions, workspace):
    school_id = big_school(sessions, workspace, 1500, in_slack=1490)

    matching = link_staff_accounts(sessions, client_for(workspace), school_id, NOW)

    assert (matching.linked, matching.missing, matching.stopped) == (1490, 10, None)
    ids = slack_ids(sessions, school_id)
    assert all(ids[email(n)] == user_id(n) for n in range(1490))
    pages = workspace.calls_to("users.list")
    assert 1 < len(pages) <= 10
    assert all(0 < int(call.params["limit"]) <= 1000 for call in pages)
    assert workspace.calls_to("users.lookupByEmail") == []
    with sessions() as session:
        not_found = session.scalars(
            select(Staff.email).where(Staff.slack_lookup_failed_at.is_not(None))
        ).all()
    assert sorted(not_found) == [email(n) for n in range(1490, 1500)]

    # Everyone matched or asked about this week: the next start asks Slack nothing.
    again = link_staff_accounts(sessions, client_for(workspace), school_id, NOW)
    assert (again.linked, again.missing, again.stopped) == (0, 0, None)
    assert len(workspace.calls_to("users.list")) == len(pages)
    # A week on, those Slack did not know are looked for again (and one has joined).
    workspace.add_user("U0LATE", email=email(1495))
    week_on = link_staff_accounts(
        sessions, client_for(workspace), school_id, NOW + LOOKUP_RETRY_AFTER + timedelta(hours=1)
    )
    assert (week_on.linked, week_on.missing) == (1, 9)
    assert slack_ids(sessions, school_id)[email(1495)] == "U0LATE"


def test_a_long_rate_limit_keeps_the_pages_matched_and_the_next_run_resumes(sessions, workspace):
    school_id = big_school(sessions, workspace, 700)
    asked = []

    def third_page_is_rate_limited(params):
        asked.append(params.get("cursor"))
        if len(asked) == 3:
            workspace.fail_next("users.list", "ratelimited", retry_after=120)

    workspace.on_call("users.list", third_page_is_rate_limited)

    first = link_staff_accounts(sessions, client_for(workspace), school_id, NOW)

    assert first.stopped is not None and "rate limit" in first.stopped
    assert first.pages == 2
    assert first.describe() == (
        "matched 399 more staff to their Slack accounts by email, then stopped early after 2 "
        "page(s) of Slack's member list: Slack is rate limiting users.list (asked to wait "
        "120 s); the matches made are kept and matching resumes next time."
    )
    # Pages 1 and 2 (the bot and 399 staff) are matched and kept; nobody is taken for missing.
    ids = slack_ids(sessions, school_id)
    assert first.linked == 399 == sum(1 for v in ids.values() if v)
    assert all(ids[email(n)] == user_id(n) for n in range(399))
    with sessions() as session:
        assert (
            session.scalar(select(Staff.id).where(Staff.slack_lookup_failed_at.is_not(None)))
            is None
        )
    assert [c.http_status for c in workspace.calls_to("users.list")] == [200, 200, 429]

    second = link_staff_accounts(sessions, client_for(workspace), school_id, NOW)

    assert (second.linked, second.missing, second.stopped) == (301, 0, None)
    ids = slack_ids(sessions, school_id)
    assert all(ids[email(n)] == user_id(n) for n in range(700))


def test_no_transaction_is_open_while_slack_is_asked(db_url, sessions, workspace):
    """From inside Slack's users.list, another connection updates the school's staff rows,
    those matched already included, without waiting for a lock."""
    school_id = big_school(sessions, workspace, 450)
    writes = []

    def others_write_meanwhile(params):
        writes.append(update_staff_without_waiting(db_url, school_id))

    workspace.on_call("users.list", others_write_meanwhile)

    matching = link_staff_accounts(sessions, client_for(workspace), school_id, NOW)

    assert matching.linked == 450
    assert len(writes) == 3  # the first page, and two more after matches were written
    assert writes == ["written"] * 3


def update_staff_without_waiting(db_url: str, school_id: int) -> str:
    statement = "UPDATE staff SET department = 'checked' WHERE school_id = :school"
    if db_url.startswith("sqlite"):
        connection = sqlite3.connect(db_url.removeprefix("sqlite:///"), timeout=0)
        try:
            connection.execute(statement.replace(":school", "?"), (school_id,))
            connection.commit()
        except sqlite3.OperationalError as error:  # "database is locked": a writer holds it
            return f"blocked: {error}"
        finally:
            connection.close()
        return "written"
    engine = create_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("SET LOCAL lock_timeout = '200ms'"))
            connection.execute(text(statement), {"school": school_id})
    except OperationalError as error:
        return f"blocked: {error.orig}"
    finally:
        engine.dispose()
    return "written"


def test_only_active_members_of_the_schools_own_workspace_are_matched(sessions, workspace):
    school_id = big_school(sessions, workspace, 6, in_slack=1)
    workspace.add_workspace("T0ELSEWHERE", "xoxb-elsewhere")
    # A Slack Connect guest from another workspace, connected or not, with staff emails.
    workspace.add_user("U0GUEST", email=email(1), team_id="T0ELSEWHERE", connected=True)
    workspace.add_user("U0FAR", email=email(2), team_id="T0ELSEWHERE")
    workspace.add_user("U0GONE", email=email(3), deleted=True)
    workspace.add_user("U0SCRIPT", email=email(4), is_bot=True)
    workspace.add_user("USLACKBOT", email=email(5), is_bot=False)

    matching = link_staff_accounts(sessions, client_for(workspace), school_id, NOW)

    assert (matching.linked, matching.missing) == (1, 5)
    assert slack_ids(sessions, school_id) == {
        email(0): user_id(0),
        **{email(n): None for n in range(1, 6)},
    }
    # The other workspace's token lists that workspace's members, not this one's.
    elsewhere = make_client("xoxb-elsewhere", workspace.api_url).users_list(limit=100)
    assert {m["id"] for m in elsewhere["members"]} == {"U0GUEST", "U0FAR", workspace.bot_user_id}


def test_a_new_users_command_is_answered_while_matching_waits_for_slack(slack):
    """Matching is half-way (page 1 written, page 2 asked of Slack) when Tom, not matched yet,
    types his first command: he is answered then, not after the matching run."""
    emulator = slack.emulator
    with slack.sessions.begin() as session:
        brookside = session.scalar(select(School).where(School.name == "Brookside High"))
        school_id = brookside.id
        for n in range(8):
            session.add(
                Staff(school_id=school_id, email=email(n), first_name="New", last_name=f"N{n}")
            )
    for n in range(8):
        emulator.add_user(user_id(n), email=email(n))
    events: list[str] = []

    def tom_asks_meanwhile(params):
        events.append("Slack asked for a page")
        if len(events) == 2:  # page 1's matches are written; page 2 is on its way
            before = len(emulator.responses_to("U0TOM"))
            reply = slack.sender.command("U0TOM", "help")
            answered = reply.json()["text"] if reply.body else None
            if answered is None:
                emulator.wait_for(lambda calls: len(emulator.responses_to("U0TOM")) > before)
                answered = text_of(emulator.responses_to("U0TOM")[-1])
            events.append(f"Tom answered: {answered}")

    emulator.on_call("users.list", tom_asks_meanwhile)
    try:
        result = {}
        run = threading.Thread(
            target=lambda: result.update(
                matching=link_staff_accounts(
                    slack.sessions,
                    make_client(emulator.bot_token, emulator.api_url),
                    school_id,
                    NOW,
                    page_size=4,
                )
            )
        )
        run.start()
        run.join(timeout=60)
        assert not run.is_alive()
        events.append("matching finished")
    finally:
        emulator.on_call("users.list", None)
        for n in range(8):
            emulator.users.pop(user_id(n), None)

    assert events[:2] == ["Slack asked for a page", "Slack asked for a page"]
    assert events[2].startswith("Tom answered: ") and HELP in events[2]
    assert events[-1] == "matching finished"
    assert result["matching"].stopped is None
    ids = slack_ids(slack.sessions, school_id)
    assert ids["tom.baker@brookside.example.org"] == "U0TOM"
    assert all(ids[email(n)] == user_id(n) for n in range(8))


def test_start_up_and_sync_say_how_far_matching_got_and_that_it_resumes(sessions, workspace):
    from types import SimpleNamespace

    from bot.config import Settings
    from handlers.server import Workspace, link_staff
    from handlers.slack_api import link_synced_staff
    from handlers.workspaces import SingleWorkspace, link_staff_everywhere

    school_id = big_school(sessions, workspace, 500, in_slack=450)
    calls = []

    def second_page_is_rate_limited(params):
        calls.append(params)
        if len(calls) == 2:
            workspace.fail_next("users.list", "ratelimited", retry_after=300)

    workspace.on_call("users.list", second_page_is_rate_limited)
    client = client_for(workspace)
    now = datetime.now(UTC)  # `sspbot serve`'s matching takes the real time: so must the rest

    # The Microsoft 365 sync's line: 199 matched on page 1, then Slack asked for 5 minutes.
    result = SimpleNamespace(school_id=school_id, dry_run=False, slack=None)
    link_synced_staff(sessions, Settings.from_env({}, env_file=None), result, now, client=client)
    assert result.slack == (
        "Slack: 199 member(s) of staff matched to Slack accounts by email, then matching stopped "
        "after 1 page(s) of Slack's member list: Slack is rate limiting users.list (asked to "
        "wait 300 s). The roster was synced and the matches made are kept; matching resumes "
        "next time."
    )

    # `sspbot serve` in OAuth mode (a line per school) carries on from there, and finishes.
    assert link_staff_everywhere(sessions, SingleWorkspace(client), now) == [
        "Big School: matched 251 more staff to their Slack accounts by email; 50 have no Slack "
        "account with their school email yet."
    ]
    assert sum(1 for v in slack_ids(sessions, school_id).values() if v) == 450

    # `sspbot serve` with one token: nothing left to ask about this week.
    app = SimpleNamespace(client=client)
    here = Workspace(school_id, "Big School", workspace.team_id, "Big School")
    assert link_staff(app, sessions, here) == (
        "Every member of staff is already matched to a Slack account (or was asked lately)."
    )
    assert len(calls) == 5  # 1 + the refused page 2, then all three pages again


def test_the_emulators_member_list_pages_as_slack_does(workspace):
    for n in range(5):
        workspace.add_user(user_id(n), email=email(n))
    client = make_client(workspace.bot_token, workspace.api_url, paced=False)

    first = client.users_list(limit=4)
    rest = client.users_list(limit=4, cursor=first["response_metadata"]["next_cursor"])

    assert [m["id"] for m in first["members"]] == [workspace.bot_user_id] + [
        user_id(n) for n in range(3)
    ]
    assert first["members"][1]["profile"]["email"] == email(0)
    assert [m["id"] for m in rest["members"]] == [user_id(3), user_id(4)]
    assert rest["response_metadata"]["next_cursor"] == ""
    assert len(client.users_list()["members"]) == 6  # no limit: everyone at once
    with pytest.raises(SlackApiError) as refused:
        client.users_list(cursor="not-a-cursor")
    assert refused.value.response["error"] == "invalid_cursor"
