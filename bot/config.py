"""Settings from the environment and an optional `.env` file in the working directory.

Anything wrong with a setting is a `ConfigError` whose message is one line naming the variable
and where to get its value: the CLI prints it as it is, never a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from dataclasses import field as dataclass_field
from datetime import time
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

from cryptography.fernet import Fernet
from dotenv import dotenv_values
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATABASE_URL = "sqlite:///sspbot.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_M365_AUTHORITY_URL = "https://login.microsoftonline.com"
DEFAULT_M365_GRAPH_URL = "https://graph.microsoft.com"
# Plain http is allowed only to a stand-in on this machine: a token must never cross a network
# in the clear.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1"})

# Where a school's IT lead finds each value; shown when one is missing or wrong.
WHERE_TO_GET = {
    "DATABASE_URL": (
        "a SQLAlchemy URL such as sqlite:///sspbot.db or "
        "postgresql://user:password@host:5432/sspbot"
    ),
    "SLACK_BOT_TOKEN": (
        'the Bot User OAuth Token (xoxb-…) on your Slack app\'s "OAuth & Permissions" page'
    ),
    "SLACK_SIGNING_SECRET": 'the Signing Secret on your Slack app\'s "Basic Information" page',
    "SLACK_APP_TOKEN": (
        "an app-level token (xapp-…) with the connections:write scope, made under "
        '"Basic Information" > "App-Level Tokens" in your Slack app'
    ),
    "SLACK_CLIENT_ID": (
        'the Client ID under "App Credentials" on your Slack app\'s "Basic Information" page; '
        "set it (with SLACK_CLIENT_SECRET) to install SSP Bot in several workspaces, one per "
        "school, through /slack/install"
    ),
    "SLACK_CLIENT_SECRET": (
        'the Client Secret under "App Credentials" on your Slack app\'s "Basic Information" page'
    ),
    "SLACK_API_URL": "Slack's Web API address; leave unset unless testing against an emulator",
    "PORT": "the TCP port `sspbot serve` listens on, e.g. 3000",
    "M365_TENANT_ID": (
        'the Directory (tenant) ID on your Entra app registration\'s "Overview" page'
    ),
    "M365_CLIENT_ID": (
        'the Application (client) ID on your Entra app registration\'s "Overview" page'
    ),
    "M365_CLIENT_SECRET": (
        'a client secret\'s Value from "Certificates & secrets" on your Entra app registration'
    ),
    "M365_CERTIFICATE_PATH": (
        "the path to the PEM private key whose certificate you uploaded to your Entra app "
        "registration (instead of M365_CLIENT_SECRET)"
    ),
    "M365_CERTIFICATE_THUMBPRINT": (
        'the certificate\'s Thumbprint shown under "Certificates & secrets" on your Entra app '
        "registration"
    ),
    "M365_SCHOOL": (
        "the name of the school (as in `sspbot school list`) that Microsoft 365's roster goes "
        "into; needed only when the database holds several schools"
    ),
    "M365_SYNC_AT": (
        "the time of day, HH:MM in the school's time zone, at which `sspbot serve` syncs the "
        "roster from Microsoft 365 each night, e.g. 02:30; unset: no nightly sync"
    ),
    "M365_AUTHORITY_URL": (
        "Microsoft's sign-in host without the tenant, e.g. https://login.microsoftonline.com "
        "(default), https://login.microsoftonline.us (US Government) or "
        "https://login.chinacloudapi.cn (China, 21Vianet)"
    ),
    "M365_GRAPH_URL": (
        "Microsoft Graph's root without the version, e.g. https://graph.microsoft.com "
        "(default), https://graph.microsoft.us (US Government) or "
        "https://microsoftgraph.chinacloudapi.cn (China, 21Vianet)"
    ),
    "PUBLIC_URL": (
        "the https address people's browsers reach SSP Bot's pages on (the families' pages and "
        "staff's download links), through the school's reverse proxy, e.g. "
        "https://ssp.oakfield.example (http:// only to localhost, for trying it out). Unset: "
        "download links use http://localhost:PORT, which works only on the server itself"
    ),
    "TRUSTED_PROXY_HOPS": (
        "how many reverse proxies in front of `sspbot serve` add X-Forwarded-For: 1 behind the "
        "school's one proxy; 0 (default) ignores the header, which anyone could forge"
    ),
    "SMTP_URL": (
        "the school's mail server, to email families their links: smtp://host:25, "
        "smtp://user:password@host:587?starttls=true or smtps://user:password@host:465 "
        "(a password only over TLS, unless the server is this machine); unset: no email"
    ),
    "SMTP_FROM": (
        "the address SSP Bot's emails to families come from, e.g. office@oakfield.example "
        "(the school's name is shown beside it); needed when SMTP_URL is set"
    ),
    "ATTACHMENT_KEY": (
        "the key reports and evidence attached to plans are encrypted with: a Fernet key made "
        'once with python -c "from cryptography.fernet import Fernet; '
        'print(Fernet.generate_key().decode())" and kept safe (a file encrypted with a lost key '
        "cannot be read); unset: no files can be attached"
    ),
    "SSPBOT_SCHEDULER": "on (default) or off",
    "SSPBOT_LOG_LEVEL": "DEBUG, INFO (default), WARNING or ERROR",
}

SECRETS = frozenset(
    {
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "SLACK_CLIENT_SECRET",
        "M365_CLIENT_SECRET",
        "ATTACHMENT_KEY",
    }
)


class ConfigError(Exception):
    """A setting is missing or malformed. str() is one line fit to show the user."""


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    port: int = 3000
    m365_tenant_id: str | None = None
    m365_client_id: str | None = None
    m365_client_secret: str | None = None
    m365_certificate_path: str | None = None
    m365_certificate_thumbprint: str | None = None
    m365_school: str | None = None
    m365_sync_at: time | None = None
    m365_authority_url: str = DEFAULT_M365_AUTHORITY_URL
    m365_graph_url: str = DEFAULT_M365_GRAPH_URL
    # The base of the links families and pupils are sent (handlers/web): unset, none are made;
    # and of staff's download links (`link_base`).
    public_url: str | None = None
    # Proxies trusted to say who the browser is (X-Forwarded-For), so the families' pages limit
    # each family's address rather than the proxy's.
    trusted_proxy_hops: int = 0
    # The mail server that emails families their links (`smtp`), and its From address.
    smtp_url: str | None = None
    smtp_from: str | None = None
    # The Fernet key attached files are encrypted with (bot.services.attachments); unset: none.
    attachment_key: str | None = None
    scheduler: bool = True
    log_level: str = "INFO"

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env"
    ) -> Settings:
        """Reads settings; the process environment wins over `.env`. Raises ConfigError."""
        values: dict[str, str] = {}
        if env_file is not None and Path(env_file).is_file():
            values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        values.update(os.environ if environ is None else environ)

        def get(name: str) -> str | None:
            value = values.get(name, "").strip()
            return value or None

        client_id, client_secret = get("SLACK_CLIENT_ID"), get("SLACK_CLIENT_SECRET")
        if bool(client_id) != bool(client_secret):
            given, missing = (
                ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET")
                if client_id
                else ("SLACK_CLIENT_SECRET", "SLACK_CLIENT_ID")
            )
            raise ConfigError(
                f"{missing} is not set, but {given} is: installing in several workspaces "
                f"needs both. {missing} is {WHERE_TO_GET[missing]}."
            )
        return cls(
            database_url=_database_url(get("DATABASE_URL") or DEFAULT_DATABASE_URL),
            slack_bot_token=get("SLACK_BOT_TOKEN"),
            slack_signing_secret=get("SLACK_SIGNING_SECRET"),
            slack_app_token=get("SLACK_APP_TOKEN"),
            slack_client_id=client_id,
            slack_client_secret=client_secret,
            slack_api_url=_slack_api_url(get("SLACK_API_URL") or DEFAULT_SLACK_API_URL),
            port=_port(get("PORT") or "3000"),
            public_url=_public_url(get("PUBLIC_URL")),
            trusted_proxy_hops=_hops(get("TRUSTED_PROXY_HOPS") or "0"),
            smtp_url=_smtp_url(get("SMTP_URL")),
            smtp_from=_smtp_from(get("SMTP_URL"), get("SMTP_FROM")),
            attachment_key=_attachment_key(get("ATTACHMENT_KEY")),
            m365_tenant_id=get("M365_TENANT_ID"),
            m365_client_id=get("M365_CLIENT_ID"),
            m365_client_secret=get("M365_CLIENT_SECRET"),
            m365_certificate_path=get("M365_CERTIFICATE_PATH"),
            m365_certificate_thumbprint=get("M365_CERTIFICATE_THUMBPRINT"),
            m365_school=get("M365_SCHOOL"),
            m365_sync_at=_time_of_day("M365_SYNC_AT", get("M365_SYNC_AT")),
            m365_authority_url=_m365_authority_url(
                get("M365_AUTHORITY_URL") or DEFAULT_M365_AUTHORITY_URL
            ),
            m365_graph_url=_m365_graph_url(get("M365_GRAPH_URL") or DEFAULT_M365_GRAPH_URL),
            scheduler=_on_off("SSPBOT_SCHEDULER", get("SSPBOT_SCHEDULER") or "on"),
            log_level=_log_level(get("SSPBOT_LOG_LEVEL") or "INFO"),
        )

    @property
    def link_base(self) -> str:
        """Where links people open in a browser start: PUBLIC_URL, or this server itself."""
        return self.public_url or f"http://localhost:{self.port}"

    @property
    def smtp(self) -> SmtpServer | None:
        """The mail server SMTP_URL names, or None when email is off."""
        return None if self.smtp_url is None else parse_smtp_url(self.smtp_url)

    @property
    def oauth(self) -> bool:
        """One install per workspace (Slack's OAuth flow), rather than one SLACK_BOT_TOKEN."""
        return bool(self.slack_client_id and self.slack_client_secret)

    def require(self, *names: str) -> None:
        """Raises ConfigError naming the first of these variables that is not set."""
        for name in names:
            if getattr(self, name.lower()) is None:
                raise ConfigError(
                    f"{name} is not set: it is {WHERE_TO_GET[name]}. "
                    "Set it in the environment or in a .env file."
                )

    def describe(self) -> list[tuple[str, str]]:
        """Each setting with its value as safe to print: secrets and passwords masked."""
        rows = []
        for field in fields(self):
            name = (
                "SSPBOT_" + field.name.upper()
                if field.name in {"scheduler", "log_level"}
                else field.name.upper()
            )
            value = getattr(self, field.name)
            if value is None:
                shown = "(not set)"
            elif name in SECRETS:
                shown = "(set, hidden)"
            elif name == "DATABASE_URL":
                shown = _without_credentials(make_url(value).render_as_string(hide_password=True))
            elif name.endswith("_URL"):
                shown = _without_credentials(str(value))
            elif isinstance(value, bool):
                shown = "on" if value else "off"
            elif isinstance(value, time):
                shown = f"{value:%H:%M}"
            else:
                shown = str(value)
            rows.append((name, shown))
        return rows


def _without_credentials(url: str) -> str:
    """The URL with any user:password@ (or token@) before the host masked: what `sspbot config`
    prints ends up pasted into support requests."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    user, has_password, _ = userinfo.partition(":")
    masked = f"{user}:***" if has_password and user else "***"
    return urlunsplit(parts._replace(netloc=f"{masked}@{host}"))


def _database_url(raw: str) -> str:
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(
            f"DATABASE_URL is not a database URL: it should be {WHERE_TO_GET['DATABASE_URL']}."
        ) from None
    backend = url.get_backend_name()
    if backend in {"postgres", "postgresql"}:
        # psycopg (version 3) is the driver we ship; SQLAlchemy's default would be psycopg2.
        if url.drivername in {"postgres", "postgresql"}:
            url = url.set(drivername="postgresql+psycopg")
        return url.render_as_string(hide_password=False)
    if backend == "sqlite":
        return raw
    raise ConfigError(
        f"DATABASE_URL uses {backend!r}, which SSP Bot does not support: use SQLite or PostgreSQL."
    )


def _slack_api_url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise ConfigError(
            f"SLACK_API_URL must start with https:// (it is {WHERE_TO_GET['SLACK_API_URL']})."
        )
    # slack_sdk joins method names onto base_url, so the trailing slash matters.
    return raw if raw.endswith("/") else raw + "/"


def _endpoint_url(name: str, raw: str, *, http_allowed: bool) -> str:
    """An https (or, when allowed, a local http) URL with no query, fragment or user:password,
    without its trailing slash: the sync appends paths to it."""
    parts = urlsplit(raw)
    local = http_allowed and parts.scheme == "http" and parts.hostname in LOCAL_HOSTS
    if (
        not (parts.scheme == "https" or local)
        or not parts.hostname
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
    ):
        allowed = (
            "https:// (http:// only to localhost or 127.0.0.1)"
            if http_allowed
            else "https:// (msal signs in only over https, even to a local stand-in)"
        )
        raise ConfigError(
            f"{name} {raw!r} must start with {allowed}, with no query or user:password: "
            f"it should be {WHERE_TO_GET[name]}."
        )
    try:
        _ = parts.port  # a port that is not a number raises here
    except ValueError:
        raise ConfigError(f"{name} {raw!r} has a port that is not a number.") from None
    return raw.rstrip("/")


def _public_url(raw: str | None) -> str | None:
    return None if raw is None else _endpoint_url("PUBLIC_URL", raw, http_allowed=True)


def _m365_authority_url(raw: str) -> str:
    return _endpoint_url("M365_AUTHORITY_URL", raw, http_allowed=False)


def _m365_graph_url(raw: str) -> str:
    url = _endpoint_url("M365_GRAPH_URL", raw, http_allowed=True)
    # The sync adds the version itself; given twice, every Graph request would be a 404.
    if url.rsplit("/", 1)[-1].lower() in {"v1.0", "beta"}:
        raise ConfigError(
            f"M365_GRAPH_URL {raw!r} must not end with the API version: it should be "
            f"{WHERE_TO_GET['M365_GRAPH_URL']}."
        )
    return url


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to hand an email over: `tls` is "none", "starttls" or "ssl" (smtps)."""

    host: str
    port: int
    tls: str
    username: str | None = None
    password: str | None = dataclass_field(default=None, repr=False)


def parse_smtp_url(raw: str) -> SmtpServer:
    """SMTP_URL as a server. Raises ConfigError (never showing the password)."""
    parts = urlsplit(raw)
    shown = _without_credentials(raw)
    where = WHERE_TO_GET["SMTP_URL"]
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname or parts.path not in {"", "/"}:
        raise ConfigError(
            f"SMTP_URL {shown!r} is not a mail server's address: it should be {where}."
        )
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"SMTP_URL {shown!r} has a port that is not a number.") from None
    query = parse_qs(parts.query, keep_blank_values=True)
    if set(query) - {"starttls"} or parts.fragment:
        raise ConfigError(
            f"SMTP_URL {shown!r} may only end with ?starttls=true: it should be {where}."
        )
    starttls = (query.get("starttls") or ["false"])[-1].lower()
    if starttls not in {"true", "false"}:
        raise ConfigError(f"SMTP_URL {shown!r}: starttls must be true or false.")
    if parts.scheme == "smtps":
        if starttls == "true":
            raise ConfigError(f"SMTP_URL {shown!r}: smtps:// is TLS already; drop ?starttls=true.")
        tls = "ssl"
    else:
        tls = "starttls" if starttls == "true" else "none"
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if username and tls == "none" and parts.hostname not in LOCAL_HOSTS:
        # A password must never cross a network in the clear.
        raise ConfigError(
            f"SMTP_URL {shown!r} would send its password unencrypted: use "
            "smtp://…:587?starttls=true or smtps://…:465."
        )
    default_port = {"none": 25, "starttls": 587, "ssl": 465}[tls]
    return SmtpServer(parts.hostname, port or default_port, tls, username, password)


def _smtp_url(raw: str | None) -> str | None:
    if raw is not None:
        parse_smtp_url(raw)
    return raw


def _smtp_from(smtp_url: str | None, raw: str | None) -> str | None:
    if raw is None:
        if smtp_url is not None:
            raise ConfigError(
                f"SMTP_FROM is not set, but SMTP_URL is: it is {WHERE_TO_GET['SMTP_FROM']}."
            )
        return None
    _, address = parseaddr(raw)
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in address):
        raise ConfigError(
            f"SMTP_FROM {raw!r} is not an email address: it is {WHERE_TO_GET['SMTP_FROM']}."
        )
    # The school's name is put beside it in each email: keep the address alone.
    return address


def _attachment_key(raw: str | None) -> str | None:
    """A Fernet key (32 bytes, url-safe base64), checked at start-up: a key that cannot encrypt
    would only be found out when someone attaches a file."""
    if raw is None:
        return None
    try:
        Fernet(raw.encode())
    except (ValueError, TypeError):
        raise ConfigError(
            f"ATTACHMENT_KEY is not a Fernet key: it is {WHERE_TO_GET['ATTACHMENT_KEY']}."
        ) from None
    return raw


def _port(raw: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"PORT must be a number from 1 to 65535 (it is {WHERE_TO_GET['PORT']}).")
    return int(raw)


def _hops(raw: str) -> int:
    if not raw.isdigit() or int(raw) > 5:
        raise ConfigError(
            f"TRUSTED_PROXY_HOPS must be a number from 0 to 5 (it is "
            f"{WHERE_TO_GET['TRUSTED_PROXY_HOPS']})."
        )
    return int(raw)


def _on_off(name: str, raw: str) -> bool:
    lowered = raw.lower()
    if lowered in {"on", "true", "yes", "1"}:
        return True
    if lowered in {"off", "false", "no", "0"}:
        return False
    raise ConfigError(f"{name} must be on or off.")


def _time_of_day(name: str, raw: str | None) -> time | None:
    if raw is None:
        return None
    hours, _, minutes = raw.partition(":")
    if (
        hours.isdigit()
        and minutes.isdigit()
        and len(minutes) == 2
        and int(hours) < 24
        and int(minutes) < 60
    ):
        return time(int(hours), int(minutes))
    raise ConfigError(f"{name} must be a time of day as HH:MM, e.g. 02:30 (it is {raw!r}).")


def _log_level(raw: str) -> str:
    level = raw.upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError(f"SSPBOT_LOG_LEVEL must be {WHERE_TO_GET['SSPBOT_LOG_LEVEL']}.")
    return level
