"""One install per workspace: a trust runs several schools, each in its own Slack workspace, from
one database, and nothing crosses from one workspace to another.

The app runs in OAuth mode (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET) over real HTTP against the
emulator: an install goes from /slack/install through Slack's install page (the emulator's) to
/slack/oauth_redirect, as a browser would take it. Brookside High is in the emulator's own
workspace; Hillside School in another, T0OTHERSCH, where its people are members.
"""

from __future__ import annotations

import html
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import select

from bot.config import ConfigError, Settings
from bot.demo.slack_emulator import SlackEmulator
from bot.demo.slack_sender import SlackSender
from handlers.app import create_app, workspaces_of
from handlers.context import NOT_SET_UP, UNKNOWN_USER
from handlers.installs import BOT_SCOPES
from handlers.scheduler import sweep, wait_for_deliveries
from handlers.server import HttpServer
from models import School, Staff, StaffRole, slack_bots, slack_installations
from tests.slack_harness import NOW, SIGNING_SECRET, build_school, text_of

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "test-client-secret"
HILLSIDE = "T0OTHERSCH"


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Page:
    status: int
    text: str
    headers: dict


def get(url: str, cookie: str | None = None) -> Page:
    """A browser's GET, not following redirects (the test carries the cookie itself: Bolt's
    state cookie is Secure, and this server is plain http)."""
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    opener = urllib.request.build_opener(NoRedirects)
    try:
        with opener.open(request, timeout=10) as response:
            return Page(response.status, response.read().decode(), dict(response.headers))
    except urllib.error.HTTPError as error:
        return Page(error.code, error.read().decode(), dict(error.headers))


def install_link(page: str) -> str:
    """The "Add to Slack" button's address on the install page."""
    return html.unescape(re.search(r'<a href="([^"]+)"', page).group(1))


@dataclass
class Trust:
    emulator: SlackEmulator
    sessions: object
    server: HttpServer
    sender: SlackSender
    app: object

    @property
    def base(self) -> str:
        return self.server.url.removesuffix("/slack/events")

    def install(self, team_id: str | None, **approval) -> Page:
        """An admin of `team_id` installs SSP Bot: our install page, Slack's, and back."""
        if team_id is not None or approval:
            self.emulator.approve_next_install(team_id, **approval)
        start = get(self.base + "/slack/install")
        assert start.status == 200, start
        link = install_link(start.text)
        assert link.startswith(self.emulator.base_url + "/oauth/v2/authorize?")
        cookie = start.headers["Set-Cookie"].split(";")[0]
        slack = get(link)
        assert slack.status == 302, slack
        back = slack.headers["Location"]
        assert back.startswith(self.base + "/slack/oauth_redirect?")
        return get(back, cookie=cookie)

    def sweep(self) -> list[str]:
        lines = sweep(self.sessions, workspaces_of(self.app), NOW)
        wait_for_deliveries()
        return lines

    def token_of(self, team_id: str) -> str:
        with self.sessions() as session:
            return (
                session.execute(
                    select(slack_bots.c.bot_token)
                    .where(slack_bots.c.team_id == team_id)
                    .order_by(slack_bots.c.installed_at.desc())
                )
                .scalars()
                .first()
            )


def oauth_settings(emulator: SlackEmulator) -> Settings:
    return Settings.from_env(
        {
            "SLACK_CLIENT_ID": CLIENT_ID,
            "SLACK_CLIENT_SECRET": CLIENT_SECRET,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": emulator.api_url,
        },
        env_file=None,
    )


def start_trust(sessions, *, token_rotation=False, expires_in=43_200) -> Iterator[Trust]:
    with SlackEmulator(team_name="Brookside Workspace") as emulator:
        with sessions.begin() as session:
            ids = build_school(session, emulator)
            # Hillside's SENDCo is a member of Hillside's workspace, as is Hana, who has not
            # used the bot yet.
            emulator.add_user("U0OTHER", email="olly.other@brookside.example.org", team_id=HILLSIDE)
            hana = Staff(
                school_id=session.get(Staff, ids["other_sendco"]).school_id,
                email="hana.hill@hillside.example.org",
                first_name="Hana",
                last_name="Hill",
            )
            hana.set_roles({StaffRole.SENDCO})
            session.add(hana)
            emulator.add_user("U0HANA", email=hana.email, team_id=HILLSIDE)
            # In Hillside's workspace, someone has taken Tom Baker's (Brookside) email address.
            emulator.add_user(
                "U0IMPOSTOR", email="tom.baker@brookside.example.org", team_id=HILLSIDE
            )
        app = create_app(oauth_settings(emulator), session_factory=sessions, clock=lambda: NOW)
        server = HttpServer(app).start()
        emulator.register_app(
            CLIENT_ID,
            CLIENT_SECRET,
            server.url.removesuffix("/slack/events") + "/slack/oauth_redirect",
            token_rotation=token_rotation,
            expires_in=expires_in,
        )
        trust = Trust(
            emulator, sessions, server, SlackSender(server.url, SIGNING_SECRET, emulator), app
        )
        try:
            yield trust
        finally:
            wait_for_deliveries()
            server.stop()


@pytest.fixture
def trust(sessions) -> Iterator[Trust]:
    yield from start_trust(sessions)


@pytest.fixture
def installed(trust) -> Trust:
    assert "Brookside High" in trust.install(trust.emulator.team_id).text
    assert "Hillside School" in trust.install(HILLSIDE).text
    return trust


def dm_recipients(emulator: SlackEmulator, team_id: str) -> set[str]:
    """Who the bot sent a direct message to through that workspace's tokens."""
    channels = {
        call.response.get("channel")
        for call in emulator.calls_to("chat.postMessage")
        if call.ok and emulator.team_of(call.token) == team_id
    }
    return {
        user
        for user in list(emulator.users)
        if any(message["channel"] in channels for message in emulator.messages_to(user))
    }


def test_the_install_flow_links_each_workspace_to_its_school(trust, sessions):
    emulator = trust.emulator
    with sessions.begin() as session:
        # Hillside is waiting for a workspace, but only a school that names one is linked.
        session.scalars(
            select(School).where(School.name == "Hillside School")
        ).one().slack_team_id = None

    start = get(trust.base + "/slack/install")
    link = install_link(start.text)
    asked = dict(parse_qsl(urlsplit(link).query))
    assert asked["client_id"] == CLIENT_ID
    assert asked["scope"].split(",") == list(BOT_SCOPES)
    assert "slack-app-oauth-state=" in start.headers["Set-Cookie"]

    page = trust.install(emulator.team_id, team_name="Brookside Workspace")
    assert page.status == 200
    assert "linked to <b>Brookside High</b>" in page.text
    assert "Brookside Workspace" in page.text

    # Hillside names no workspace: the public install link must not let any workspace claim it.
    page = trust.install(HILLSIDE, team_name="Hillside Workspace")
    assert "no school is linked to it yet" in page.text
    assert f'sspbot school set "School name" --slack-team {HILLSIDE}' in page.text
    with sessions.begin() as session:
        hillside = session.scalars(select(School).where(School.name == "Hillside School")).one()
        assert hillside.slack_team_id is None
        hillside.slack_team_id = HILLSIDE  # what `sspbot school set` does: no second install
    with sessions() as session:
        hillside = session.scalars(select(School).where(School.name == "Hillside School")).one()
        assert hillside.slack_team_id == HILLSIDE
        stored = session.execute(select(slack_bots.c.team_id, slack_bots.c.bot_token)).all()
    # Each workspace's own token, as Slack issued it, and nothing else.
    assert {team: emulator.team_of(token) for team, token in stored} == {
        emulator.team_id: emulator.team_id,
        HILLSIDE: HILLSIDE,
    }

    page = trust.install("T0NOSCHOOL")
    assert page.status == 200
    assert "no school is linked to it yet" in page.text
    assert 'sspbot school add "School name" --slack-team T0NOSCHOOL' in page.text
    reply = trust.sender.command("U0SOMEONE", "help", team_id="T0NOSCHOOL")
    assert reply.json()["text"] == NOT_SET_UP


def test_a_cancelled_or_forged_install_stores_nothing(trust, sessions):
    page = trust.install(None)  # nobody approved: Slack sends back access_denied
    assert page.status == 200 and "cancelled in Slack" in page.text

    code = trust.emulator.approve_install(trust.emulator.team_id)
    forged = get(f"{trust.base}/slack/oauth_redirect?code={code}&state=made-up")
    assert forged.status == 400 and "another browser" in forged.text
    start = get(trust.base + "/slack/install")
    state = re.search(r"state=([^&\"]+)", html.unescape(start.text)).group(1)
    cookie = start.headers["Set-Cookie"].split(";")[0]
    used = get(f"{trust.base}/slack/oauth_redirect?code=not-a-code&state={state}", cookie=cookie)
    assert used.status == 401 and "did not accept the install" in used.text
    with sessions() as session:
        assert session.execute(select(slack_bots)).all() == []
        assert session.execute(select(slack_installations)).all() == []


def test_an_org_wide_enterprise_grid_install_is_refused(trust, sessions):
    page = trust.install(None, enterprise_id="E0TRUST", org_wide=True)
    assert page.status == 400
    assert "Enterprise Grid" in page.text and "school&#x27;s own workspace" in page.text
    with sessions() as session:
        assert session.execute(select(slack_bots)).all() == []
    # The organisation's token was handed back at once.
    revoked = trust.emulator.calls_to("auth.revoke")
    assert revoked and revoked[0].ok and trust.emulator.team_of(revoked[0].token) is None


def test_each_schools_prompts_go_only_to_its_own_workspace_with_its_own_token(installed):
    emulator = installed.emulator
    brookside, hillside = installed.token_of(emulator.team_id), installed.token_of(HILLSIDE)

    lines = installed.sweep()

    assert any(line.startswith("Brookside High:") for line in lines), lines
    assert any(line.startswith("Hillside School:") for line in lines), lines
    assert "U0PRIYA" in dm_recipients(emulator, emulator.team_id)  # Ava's and Ben's reviews
    # Zed's review to Olly, and Hana (found by her email with Hillside's token) as SENDCo.
    assert dm_recipients(emulator, HILLSIDE) == {"U0OTHER", "U0HANA"}
    assert not {"U0OTHER", "U0HANA"} & dm_recipients(emulator, emulator.team_id)
    # Every call went through one of the two installs' tokens and succeeded: a token used for a
    # person of the other workspace would have met user_not_found or channel_not_found.
    calls = [c for c in emulator.calls if c.method not in ("oauth.v2.access", "oauth/v2/authorize")]
    assert {c.token for c in calls if c.method != "auth.test"} <= {brookside, hillside}
    assert emulator.bot_token not in {c.token for c in calls}
    assert all(c.ok for c in calls), [(c.method, c.error) for c in calls if not c.ok]
    # Tom Baker (Brookside) is looked up by email with Brookside's token only, so the account in
    # Hillside's workspace that took his email address is never matched to him.
    lookups = emulator.calls_to("users.lookupByEmail")
    toms = [c for c in lookups if c.params.get("email") == "tom.baker@brookside.example.org"]
    assert all(emulator.team_of(c.token) == emulator.team_id for c in toms)
    with installed.sessions() as session:
        ids = set(session.scalars(select(Staff.slack_user_id)).all())
    assert "U0IMPOSTOR" not in ids


def test_ssp_in_each_workspace_answers_about_its_own_school_only(installed):
    emulator, sender = installed.emulator, installed.sender
    before = len(emulator.responses_to("U0SENDCO"))
    assert sender.command("U0SENDCO", "overdue", team_id=emulator.team_id).status == 200
    emulator.wait_for(lambda calls: len(emulator.responses_to("U0SENDCO")) > before)
    brookside = text_of(emulator.responses_to("U0SENDCO")[-1])
    assert "Ava Stone" in brookside and "Zed Other" not in brookside

    assert sender.command("U0OTHER", "overdue", team_id=HILLSIDE).status == 200
    emulator.wait_for(lambda calls: emulator.responses_to("U0OTHER"))
    hillside = text_of(emulator.responses_to("U0OTHER")[-1])
    assert "Zed Other" in hillside and "Ava Stone" not in hillside

    # A first-time user is looked up (users.info) with their own workspace's token.
    assert sender.command("U0HANA", "help", team_id=HILLSIDE).status == 200
    emulator.wait_for(lambda calls: emulator.responses_to("U0HANA"))
    infos = [c for c in emulator.calls_to("users.info") if c.params.get("user") == "U0HANA"]
    assert infos and all(emulator.team_of(c.token) == HILLSIDE for c in infos)
    # Brookside's SENDCo typing /ssp in Hillside's workspace is nobody there.
    reply = sender.command("U0SENDCO", "overdue", team_id=HILLSIDE)
    assert reply.json()["text"] == UNKNOWN_USER


def test_a_message_sent_straight_after_an_action_goes_through_each_schools_own_token(installed):
    """An action in Brookside's workspace sends what the outbox owes at once: Hillside's
    prompts, owed too, still go through Hillside's install, never the request's client."""
    from bot.services import review_schedule
    from bot.services.calendar import load_calendar

    emulator = installed.emulator
    with installed.sessions.begin() as session:
        hillside = session.scalars(select(School).where(School.slack_team_id == HILLSIDE)).one()
        calendar = load_calendar(session, hillside.id)
        assert review_schedule.create_due_prompts(session, hillside, NOW, calendar).lines("")

    answer = installed.sender.command("U0SENDCO", "feedback Cara Lin", team_id=emulator.team_id)
    assert answer.status == 200
    emulator.wait_for(
        lambda calls: (
            {"U0LEE", "U0OTHER"}
            <= dm_recipients(emulator, HILLSIDE) | dm_recipients(emulator, emulator.team_id)
        )
    )
    wait_for_deliveries()
    assert "U0LEE" in dm_recipients(emulator, emulator.team_id)
    assert "U0OTHER" in dm_recipients(emulator, HILLSIDE)
    assert "U0OTHER" not in dm_recipients(emulator, emulator.team_id)
    assert "U0LEE" not in dm_recipients(emulator, HILLSIDE)


def test_the_roster_syncs_staff_matching_uses_each_schools_own_install(installed):
    """After a Microsoft 365 sync, staff are matched by email through their school's install."""
    from types import SimpleNamespace

    from handlers.slack_api import link_synced_staff

    emulator, sessions = installed.emulator, installed.sessions
    settings = oauth_settings(emulator)
    with sessions() as session:
        school_ids = dict(session.execute(select(School.slack_team_id, School.id)).all())

    def synced(team_id: str) -> str:
        result = SimpleNamespace(school_id=school_ids[team_id], dry_run=False, slack=None)
        link_synced_staff(sessions, settings, result, NOW)
        return result.slack

    assert synced(HILLSIDE).startswith("Slack: 1 member(s) of staff matched")  # Hana
    assert synced(emulator.team_id).startswith("Slack: 1 member(s) of staff matched")  # Tom
    with sessions() as session:
        linked = dict(session.execute(select(Staff.email, Staff.slack_user_id)).all())
    assert linked["hana.hill@hillside.example.org"] == "U0HANA"
    assert linked["tom.baker@brookside.example.org"] == "U0TOM"  # not Hillside's impostor
    # Each school's member list, read through its own install's token.
    listed = emulator.calls_to("users.list")
    assert [emulator.team_of(c.token) for c in listed] == [HILLSIDE, emulator.team_id]
    assert emulator.calls_to("users.lookupByEmail") == []

    assert installed.sender.app_uninstalled(team_id=HILLSIDE).status == 200
    deadline = time.monotonic() + 5
    while installed.token_of(HILLSIDE) is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "SSP Bot is not installed in its Slack workspace (T0OTHERSCH)" in synced(HILLSIDE)


def test_serves_start_up_matching_goes_through_each_schools_own_install(installed):
    from handlers.workspaces import link_staff_everywhere

    emulator = installed.emulator
    emulator.revoke_tokens(HILLSIDE)
    with installed.sessions.begin() as session:
        session.execute(slack_bots.delete().where(slack_bots.c.team_id == HILLSIDE))

    lines = link_staff_everywhere(installed.sessions, workspaces_of(installed.app), NOW)

    assert lines == [
        "Brookside High: matched 1 more staff to their Slack accounts by email; 0 have no Slack "
        "account with their school email yet.",
        "Hillside School: staff not matched to Slack accounts: SSP Bot is not installed in its "
        "Slack workspace (T0OTHERSCH): it was never installed there, or was uninstalled; install "
        "it again from /slack/install.",
    ]
    listed = emulator.calls_to("users.list")
    assert [emulator.team_of(c.token) for c in listed] == [emulator.team_id]


@pytest.mark.parametrize("how", ["app_uninstalled", "tokens_revoked"])
def test_uninstalling_stops_that_schools_prompts_until_it_is_installed_again(
    installed, run_cli, how
):
    emulator = installed.emulator
    if how == "app_uninstalled":
        reply = installed.sender.app_uninstalled(team_id=HILLSIDE)
    else:
        reply = installed.sender.tokens_revoked(team_id=HILLSIDE)
    assert reply.status == 200
    emulator.revoke_tokens(HILLSIDE)  # as Slack does
    # Bolt acts on an event after answering it.
    deadline = time.monotonic() + 5
    while installed.token_of(HILLSIDE) is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert installed.token_of(HILLSIDE) is None
    assert installed.token_of(emulator.team_id) is not None

    env = {
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": CLIENT_SECRET,
        "SLACK_API_URL": emulator.api_url,
    }
    ticked = run_cli("tick", "--now", NOW.isoformat(), env=env)
    assert ticked.code == 0, ticked
    assert (
        "Hillside School: skipped, nothing queued or sent: SSP Bot is not installed" in ticked.out
    )
    assert "Brookside High:" in ticked.out.replace("Hillside School: skipped", "")
    assert "U0PRIYA" in dm_recipients(emulator, emulator.team_id)
    assert not any(
        "U0OTHER" in str(c.params.get("users", "")) for c in emulator.calls_to("conversations.open")
    )

    assert "linked to <b>Hillside School</b>" in installed.install(HILLSIDE).text
    ticked = run_cli("tick", "--now", NOW.isoformat(), env=env)
    assert "skipped" not in ticked.out, ticked
    assert dm_recipients(emulator, HILLSIDE) == {"U0OTHER", "U0HANA"}


def test_an_expiring_token_is_renewed_before_it_is_used(sessions):
    # Tokens that last ten minutes: always within Bolt's two-hour renewal window.
    for trust in start_trust(sessions, token_rotation=True, expires_in=600):
        emulator = trust.emulator
        trust.install(emulator.team_id)
        first = trust.token_of(emulator.team_id)
        assert first.startswith("xoxe.xoxb-")
        with trust.sessions() as session:
            expires = session.execute(select(slack_bots.c.bot_token_expires_at)).scalar()
        assert expires is not None
        emulator.expire_token(first)

        trust.sweep()

        renewed = trust.token_of(emulator.team_id)
        assert renewed != first
        refreshes = [c for c in emulator.calls_to("oauth.v2.access") if c.params.get("grant_type")]
        assert refreshes and all(c.ok for c in refreshes)
        posted = [c for c in emulator.calls_to("chat.postMessage") if c.ok]
        assert posted and not any(c.token == first for c in emulator.calls_to("chat.postMessage"))
        assert not any(c.error == "token_expired" for c in emulator.calls)

        # A request from the workspace renews it too (Bolt's authorize), and is answered.
        assert trust.sender.command("U0SENDCO", "help").status == 200
        emulator.wait_for(lambda calls, emulator=emulator: emulator.responses_to("U0SENDCO"))


def test_one_token_sends_only_its_own_workspaces_prompts(slack):
    """Single-school mode (SLACK_BOT_TOKEN): a school of another workspace is left alone."""
    from handlers.slack_api import make_client

    client = make_client(slack.emulator.bot_token, slack.emulator.api_url)
    lines = sweep(slack.sessions, client, NOW)
    wait_for_deliveries()
    assert any(
        line.startswith(
            "Hillside School: skipped, nothing queued or sent: SLACK_BOT_TOKEN "
            f"belongs to Slack workspace {slack.emulator.team_id}"
        )
        for line in lines
    ), lines
    assert "U0PRIYA" in dm_recipients(slack.emulator, slack.emulator.team_id)
    assert "U0OTHER" not in dm_recipients(slack.emulator, slack.emulator.team_id)


def test_the_models_describe_slack_sdks_tables_exactly():
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
    from sqlalchemy import MetaData

    import models

    theirs = MetaData()
    SQLAlchemyInstallationStore.build_bots_table(theirs, "slack_bots")
    SQLAlchemyInstallationStore.build_installations_table(theirs, "slack_installations")
    SQLAlchemyOAuthStateStore.build_oauth_states_table(theirs, "slack_oauth_states")

    def shape(table):
        return (
            [(c.name, repr(c.type), c.nullable, c.primary_key) for c in table.columns],
            sorted((i.name, tuple(c.name for c in i.columns)) for i in table.indexes),
        )

    for name, table in theirs.tables.items():
        assert shape(models.Base.metadata.tables[name]) == shape(table), name


def test_both_client_credentials_are_needed_and_the_secret_is_hidden(run_cli):
    with pytest.raises(ConfigError, match="SLACK_CLIENT_SECRET is not set"):
        Settings.from_env({"SLACK_CLIENT_ID": CLIENT_ID}, env_file=None)
    shown = run_cli(
        "config", env={"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": CLIENT_SECRET}
    )
    assert CLIENT_SECRET not in shown.out
    assert re.search(r"SLACK_CLIENT_SECRET\s+\(set, hidden\)", shown.out)
    assert re.search(rf"SLACK_CLIENT_ID\s+{re.escape(CLIENT_ID)}", shown.out)


def test_socket_mode_with_client_credentials_is_refused_with_what_to_do(sessions):
    settings = Settings.from_env(
        {"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": CLIENT_SECRET}, env_file=None
    )
    with pytest.raises(ConfigError, match="without --socket-mode"):
        create_app(settings, session_factory=sessions, socket_mode=True)


def test_serve_with_client_credentials_serves_the_install_pages(tmp_path):
    """`sspbot serve` in its own process: one install per workspace, from /slack/install."""
    import os
    import signal
    import subprocess

    from tests.test_serve_and_demo import SSPBOT, _free_port, _wait_until_up

    with SlackEmulator(team_name="Oakfield Workspace") as emulator:
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE"))},
            "SLACK_CLIENT_ID": CLIENT_ID,
            "SLACK_CLIENT_SECRET": CLIENT_SECRET,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": emulator.api_url,
            "PORT": str(port),
        }
        added = subprocess.run(
            [SSPBOT, "school", "add", "Oakfield Academy", "--slack-team", emulator.team_id],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert added.returncode == 0, added.stderr
        emulator.register_app(CLIENT_ID, CLIENT_SECRET, base + "/slack/oauth_redirect")
        process = subprocess.Popen(
            [SSPBOT, "serve", "--host", "127.0.0.1"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _wait_until_up(base + "/healthz", process)
            emulator.approve_next_install(emulator.team_id)
            start = get(base + "/slack/install")
            slack = get(install_link(start.text))
            page = get(slack.headers["Location"], cookie=start.headers["Set-Cookie"].split(";")[0])
            assert page.status == 200
            assert "linked to <b>Oakfield Academy</b>" in page.text
        finally:
            process.send_signal(signal.SIGTERM)
            out, _ = process.communicate(timeout=10)
    assert "Oakfield Academy: Slack workspace T0EMU0001, not installed there yet" in out
    assert "/slack/install" in out
