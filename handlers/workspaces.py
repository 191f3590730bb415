"""The Slack client for a school: the token of the workspace that school is linked to, and no
other.

Two ways to run. With SLACK_BOT_TOKEN (one school, as most are) the token belongs to one
workspace, which `auth.test` names: a school linked to that workspace gets the token, and a
school linked to any other gets nothing. With SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (a trust:
one install per workspace) each school gets the bot token its own workspace's install stored,
renewed first when Slack's token rotation says it is about to expire; a school whose workspace
has no install (never installed, or uninstalled since) gets nothing.

"Nothing" is a `Reach` with a reason, which the scheduler prints beside the school's name: a
message that cannot go through the right workspace is not sent at all.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackTokenRotationError
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.token_rotation import TokenRotator
from sqlalchemy import Engine, desc, select
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.services.schools import bind_workspace
from handlers.slack_api import link_staff_accounts, make_client
from models import School, slack_bots

log = logging.getLogger(__name__)

# Bolt's default: a rotating token is renewed when it has less than this long left.
ROTATE_MINUTES_BEFORE_EXPIRY = 120


@dataclass(frozen=True)
class Reach:
    """A school's way into Slack: a client for its own workspace, or why there is none."""

    client: WebClient | None
    why_not: str = ""


class Workspaces:
    """Finds the client for a school's workspace (its `slack_team_id`)."""

    def reach(self, team_id: str | None) -> Reach:
        raise NotImplementedError

    def client_for(self, team_id: str | None) -> WebClient | None:
        return self.reach(team_id).client


class SingleWorkspace(Workspaces):
    """One bot token (SLACK_BOT_TOKEN), good for the one workspace `auth.test` says it is in."""

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._team_id: str | None = None
        self._lock = threading.Lock()

    def team_id(self) -> str:
        """The token's workspace, asked of Slack once. Raises SlackApiError or OSError."""
        with self._lock:
            if self._team_id is None:
                self._team_id = self.client.auth_test()["team_id"]
            return self._team_id

    def reach(self, team_id: str | None) -> Reach:
        if not team_id:
            return Reach(None, "it is not linked to a Slack workspace yet")
        try:
            own = self.team_id()
        except SlackApiError as error:
            return Reach(None, f"Slack refused SLACK_BOT_TOKEN ({error.response.get('error')})")
        except OSError as error:
            return Reach(None, f"could not reach Slack to check the token ({type(error).__name__})")
        if own != team_id:
            return Reach(
                None,
                f"SLACK_BOT_TOKEN belongs to Slack workspace {own}, not to this school's "
                f"({team_id}); a trust with several workspaces installs SSP Bot in each "
                "(SLACK_CLIENT_ID and SLACK_CLIENT_SECRET, see the README)",
            )
        return Reach(self.client)


class GivenWorkspaces(Workspaces):
    """A client given outright for each workspace (benches and tests against the emulator,
    which stands in for several workspaces with a token each)."""

    def __init__(self, clients: Mapping[str, WebClient]) -> None:
        self.clients = dict(clients)

    def reach(self, team_id: str | None) -> Reach:
        client = self.clients.get(team_id or "")
        if client is None:
            return Reach(None, f"no client was given for its Slack workspace ({team_id})")
        return Reach(client)


class InstalledWorkspaces(Workspaces):
    """One install per workspace, kept by slack_sdk's SQLAlchemy installation store in our
    database (Bolt's OAuth flow writes it; the uninstall and revocation events delete it)."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        settings.require("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET")
        self.settings = settings
        self.engine = engine
        self.store = SQLAlchemyInstallationStore(
            client_id=settings.slack_client_id, engine=engine, logger=log
        )
        self.rotator = TokenRotator(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret,
            client=make_client(None, settings.slack_api_url),
        )
        # Two threads renewing one token at once would each spend the refresh token.
        self._rotating = threading.Lock()

    def reach(self, team_id: str | None) -> Reach:
        if not team_id:
            return Reach(None, "it is not linked to a Slack workspace yet")
        with self._rotating:
            bot = self.store.find_bot(enterprise_id=self._enterprise_of(team_id), team_id=team_id)
            if bot is None:
                return Reach(
                    None,
                    f"SSP Bot is not installed in its Slack workspace ({team_id}): it was never "
                    "installed there, or was uninstalled; install it again from /slack/install",
                )
            try:
                renewed = self.rotator.perform_bot_token_rotation(
                    bot=bot, minutes_before_expiration=ROTATE_MINUTES_BEFORE_EXPIRY
                )
            except SlackTokenRotationError as error:
                # Bolt, answering a request, may have renewed it a moment ago with the same
                # refresh token: then the stored token is the new one.
                again = self.store.find_bot(enterprise_id=bot.enterprise_id, team_id=team_id)
                if again is not None and again.bot_token != bot.bot_token:
                    return Reach(make_client(again.bot_token, self.settings.slack_api_url))
                code = error.api_error.response.get("error") if error.api_error else None
                return Reach(
                    None,
                    f"Slack refused to renew the workspace's token ({code or 'no reason given'}); "
                    "install SSP Bot again from /slack/install",
                )
            if renewed is not None:
                self.store.save_bot(renewed)
                bot = renewed
        return Reach(make_client(bot.bot_token, self.settings.slack_api_url))

    def installed_teams(self) -> list[str]:
        """The workspaces with a bot token stored, for start-up."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(slack_bots.c.team_id)
                .where(
                    slack_bots.c.client_id == self.settings.slack_client_id,
                    slack_bots.c.team_id.is_not(None),
                    slack_bots.c.bot_token.is_not(None),
                )
                .distinct()
            )
            return [row.team_id for row in rows]

    def _enterprise_of(self, team_id: str) -> str | None:
        """The Enterprise Grid org a workspace's install is in (None outside Grid): the store
        looks installs up by org and workspace together."""
        with self.engine.connect() as connection:
            return connection.execute(
                select(slack_bots.c.enterprise_id)
                .where(
                    slack_bots.c.client_id == self.settings.slack_client_id,
                    slack_bots.c.team_id == team_id,
                    slack_bots.c.bot_token.is_not(None),
                )
                .order_by(desc(slack_bots.c.installed_at))
                .limit(1)
            ).scalar()


def workspaces_for(settings: Settings, engine: Engine) -> Workspaces:
    """OAuth mode's installs when SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set; otherwise
    SLACK_BOT_TOKEN's one workspace. Raises ConfigError when neither is set."""
    if settings.oauth:
        return InstalledWorkspaces(settings, engine)
    settings.require("SLACK_BOT_TOKEN")
    return SingleWorkspace(make_client(settings.slack_bot_token, settings.slack_api_url))


def school_reach(session: Session, workspaces: Workspaces, school_id: int) -> Reach:
    """The client for one school. With one token, a school with no workspace yet is linked to
    the token's workspace first if it is the one school waiting for one (as `sspbot serve`
    does at start-up); otherwise it has no way into Slack."""
    school = session.get(School, school_id)
    if school is None:
        return Reach(None, "there is no such school")
    if school.slack_team_id is None and isinstance(workspaces, SingleWorkspace):
        try:
            team_id = workspaces.team_id()
        except SlackApiError as error:
            return Reach(None, f"Slack refused SLACK_BOT_TOKEN ({error.response.get('error')})")
        except OSError as error:
            return Reach(None, f"could not reach Slack to check the token ({type(error).__name__})")
        bind_workspace(session, team_id)
    return workspaces.reach(school.slack_team_id)


def link_staff_everywhere(
    sessions: sessionmaker[Session], workspaces: Workspaces, now: datetime
) -> list[str]:
    """Matches each school's staff to Slack accounts by email, each through its own
    workspace's client; a line per school saying how it went."""
    with sessions() as session:
        schools = session.execute(
            select(School.id, School.name, School.slack_team_id)
            .where(School.slack_team_id.is_not(None))
            .order_by(School.id)
        ).all()
    lines = []
    for school_id, name, team_id in schools:
        reach = workspaces.reach(team_id)
        if reach.client is None:
            lines.append(f"{name}: staff not matched to Slack accounts: {reach.why_not}.")
            continue
        # Slack is read outside any transaction and matches are written a page at a time, so
        # a school's rate limit stops only that school's run, keeping what it matched.
        matching = link_staff_accounts(sessions, reach.client, school_id, now)
        said = matching.describe()
        lines.append(f"{name}: {said[0].lower()}{said[1:]}")
    return lines
