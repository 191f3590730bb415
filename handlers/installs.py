"""Installing SSP Bot in a school's workspace (OAuth mode): `/slack/install` and
`/slack/oauth_redirect`, served by Bolt's OAuth flow, with the installs and the flows' one-time
`state` values kept in our database by slack_sdk's SQLAlchemy stores.

The page Slack sends the installer back to says which school the workspace is now linked to
(the school added with `--slack-team` for it; never a school that does not name it),
or exactly what to run when no school can take it. An install for a whole Enterprise Grid
organisation is refused: SSP Bot links one workspace to one school, and an org-wide install has
no workspace of its own (README, *Installing SSP Bot*).
"""

from __future__ import annotations

import html
import logging
from urllib.parse import urljoin

from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.error import BoltError
from slack_bolt.oauth import OAuthFlow
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from bot.config import Settings
from handlers.slack_api import make_client
from handlers.workspaces import ROTATE_MINUTES_BEFORE_EXPIRY, InstalledWorkspaces
from models import School

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
# The bot scopes in manifest.yaml (tests/test_manifest.py keeps the two the same); the README
# says why each is needed.
BOT_SCOPES = (
    "commands",
    "chat:write",
    "im:write",
    "im:history",
    "users:read",
    "users:read.email",
    "files:read",
)
STATE_EXPIRES_SECONDS = 600

ORG_WIDE = (
    "SSP Bot can't be installed across a whole Enterprise Grid organisation yet: it links each "
    "school to one workspace. Install it again and choose the school's own workspace (not the "
    "organisation) on Slack's install page."
)
FAILURES = {
    "access_denied": "The install was cancelled in Slack, so nothing has changed.",
    "invalid_browser": (
        "This install was started in another browser (or its cookie was lost). Start again from "
        f"{INSTALL_PATH} in this browser."
    ),
    "invalid_state": f"This install link has expired or was used already. Start again from "
    f"{INSTALL_PATH}.",
    "missing_code": f"Slack sent no install code. Start again from {INSTALL_PATH}.",
    "invalid_code": (
        "Slack did not accept the install (its code had expired or was used already). Start "
        f"again from {INSTALL_PATH}."
    ),
    "storage_error": (
        "The install could not be saved in SSP Bot's database; the server's log says why. "
        f"Start again from {INSTALL_PATH} once it is fixed."
    ),
}


class OrgWideInstall(BoltError):
    """An install for a whole Enterprise Grid organisation, which SSP Bot does not take."""


class SchoolsOAuthFlow(OAuthFlow):
    """Bolt's flow, refusing org-wide installs before anything is stored."""

    def store_installation(self, request: BoltRequest, installation: Installation) -> None:
        if installation.is_enterprise_install:
            # Give the organisation's token back at once, so no unused install is left behind.
            try:
                if installation.bot_token:
                    self.client.auth_revoke(token=installation.bot_token)
            except (SlackApiError, OSError):
                log.warning("could not revoke the token of a refused org-wide install")
            raise OrgWideInstall("org-wide install refused")
        super().store_installation(request, installation)


def authorization_url(slack_api_url: str) -> str:
    """Slack's install page, beside its Web API (`https://slack.com/oauth/v2/authorize`), or
    the emulator's when SLACK_API_URL points at one."""
    return urljoin(slack_api_url, "/oauth/v2/authorize")


def oauth_flow(
    settings: Settings,
    sessions: sessionmaker[Session],
    engine: Engine,
    workspaces: InstalledWorkspaces,
    logger: logging.Logger,
) -> SchoolsOAuthFlow:
    """The OAuth flow for create_app: installs kept by `workspaces`' store, states in ours."""
    pages = InstallPages(sessions)
    oauth_settings = OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        callback_options=CallbackOptions(success=pages.success, failure=pages.failure),
        authorization_url=authorization_url(settings.slack_api_url),
        installation_store=workspaces.store,
        installation_store_bot_only=True,
        token_rotation_expiration_minutes=ROTATE_MINUTES_BEFORE_EXPIRY,
        state_store=SQLAlchemyOAuthStateStore(
            expiration_seconds=STATE_EXPIRES_SECONDS, engine=engine, logger=log
        ),
        state_expiration_seconds=STATE_EXPIRES_SECONDS,
        logger=logger,
    )
    # Bolt's own authorize renews rotating tokens through a default client (slack.com): ours
    # goes where SLACK_API_URL says, with our retries.
    oauth_settings.authorize = InstallationStoreAuthorize(
        logger=logger,
        installation_store=workspaces.store,
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        token_rotation_expiration_minutes=ROTATE_MINUTES_BEFORE_EXPIRY,
        bot_only=True,
        # Remembers what auth.test said of each token, so a request is not held up by a call to
        # Slack before it is acknowledged; a new token (renewed, reinstalled) is asked about.
        cache_enabled=True,
        client=make_client(None, settings.slack_api_url),
    )
    return SchoolsOAuthFlow(
        client=make_client(None, settings.slack_api_url), logger=logger, settings=oauth_settings
    )


class InstallPages:
    """The page the installer sees when Slack sends them back."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def success(self, args: SuccessArgs) -> BoltResponse:
        installation = args.installation
        team_id = installation.team_id or ""
        team = installation.team_name or team_id
        with db.unit_of_work(self.sessions) as session:
            # Only a school that names this workspace: the install link is public, so a
            # stranger's install must never claim a school still waiting for its workspace
            # (bind_workspace's claim is for the one token a single school configures itself).
            school_name = session.scalar(select(School.name).where(School.slack_team_id == team_id))
        if school_name is not None:
            body = (
                f"<p>SSP Bot is installed in the Slack workspace <b>{_h(team)}</b> "
                f"({_h(team_id)}) and linked to <b>{_h(school_name)}</b>.</p>"
                "<p>Staff can type <code>/ssp help</code> in Slack now.</p>"
            )
            log.info("SSP Bot was installed in Slack workspace %s for its school", team_id)
            return _page(args.settings, "SSP Bot is installed", body)
        log.warning("SSP Bot was installed in Slack workspace %s, which no school has", team_id)
        body = (
            f"<p>SSP Bot is installed in the Slack workspace <b>{_h(team)}</b> ({_h(team_id)}), "
            "but no school is linked to it yet, so it will not answer anyone there.</p>"
            "<p>On the server, link the school to this workspace with</p>"
            f'<pre>sspbot school add "School name" --slack-team {_h(team_id)}</pre>'
            "<p>or, for a school already added,</p>"
            f'<pre>sspbot school set "School name" --slack-team {_h(team_id)}</pre>'
            "<p>No need to install again.</p>"
        )
        return _page(args.settings, "SSP Bot is installed, but not linked to a school", body)

    def failure(self, args: FailureArgs) -> BoltResponse:
        if isinstance(args.error, OrgWideInstall):
            message, status = ORG_WIDE, 400
        else:
            message = FAILURES.get(
                args.reason, f"The install did not finish ({args.reason}). Start again."
            )
            status = args.suggested_status_code
        log.warning("a Slack install did not finish: %s", args.reason)
        return _page(
            args.settings, "SSP Bot was not installed", f"<p>{_h(message)}</p>", status=status
        )


def _page(settings: OAuthSettings, title: str, body: str, status: int = 200) -> BoltResponse:
    document = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_h(title)}</title></head>"
        f"<body><h1>{_h(title)}</h1>{body}</body></html>\n"
    )
    return BoltResponse(
        status=status,
        body=document,
        headers={
            "Content-Type": "text/html; charset=utf-8",
            # The flow's state cookie has done its work.
            "Set-Cookie": settings.state_utils.build_set_cookie_for_deletion(),
        },
    )


def _h(text: str) -> str:
    return html.escape(text, quote=True)
