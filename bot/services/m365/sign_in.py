"""Signing in to Microsoft 365 as the app itself (app-only, no user): msal's confidential
client with a client secret or a certificate, kept for the life of the process so its token
cache reuses a token until it expires."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import jwt
import msal
import requests

from bot.config import DEFAULT_M365_AUTHORITY_URL, DEFAULT_M365_GRAPH_URL, ConfigError, Settings
from bot.services.m365.errors import M365Error, first_line

# Which setting an Entra sign-in error (AADSTS code) is about.
SETTING_FOR_AADSTS = {
    7000215: "M365_CLIENT_SECRET",  # invalid client secret
    7000222: "M365_CLIENT_SECRET",  # expired client secret
    700016: "M365_CLIENT_ID",  # no such application in the tenant
    7000112: "M365_CLIENT_ID",  # application disabled
    90002: "M365_TENANT_ID",  # no such tenant
    900023: "M365_TENANT_ID",  # not a tenant id
    90023: "M365_TENANT_ID",
    700027: "M365_CERTIFICATE_PATH / M365_CERTIFICATE_THUMBPRINT",  # assertion signature
    700024: "M365_CERTIFICATE_PATH / M365_CERTIFICATE_THUMBPRINT",  # assertion time range
    700023: "M365_CERTIFICATE_PATH / M365_CERTIFICATE_THUMBPRINT",
}


@dataclass(frozen=True)
class Credentials:
    """The app registration's identity: tenant, client id, and a secret or a certificate."""

    tenant_id: str
    client_id: str
    secret: str | None = field(default=None, repr=False)
    certificate_path: str | None = None
    thumbprint: str | None = None
    # The sign-in host (M365_AUTHORITY_URL): the tenant id is appended to it.
    authority_url: str = DEFAULT_M365_AUTHORITY_URL

    @classmethod
    def from_settings(cls, settings: Settings) -> Credentials:
        """Raises ConfigError (one line naming the setting) when something is missing."""
        settings.require("M365_TENANT_ID", "M365_CLIENT_ID")
        if settings.m365_certificate_path:
            settings.require("M365_CERTIFICATE_THUMBPRINT")
        elif settings.m365_client_secret is None:
            raise ConfigError(
                "M365_CLIENT_SECRET is not set (nor M365_CERTIFICATE_PATH): it is a client "
                'secret\'s Value from "Certificates & secrets" on your Entra app registration. '
                "Set it in the environment or in a .env file."
            )
        return cls(
            tenant_id=settings.m365_tenant_id,
            client_id=settings.m365_client_id,
            secret=None if settings.m365_certificate_path else settings.m365_client_secret,
            certificate_path=settings.m365_certificate_path,
            thumbprint=settings.m365_certificate_thumbprint,
            authority_url=settings.m365_authority_url,
        )

    @property
    def credential_setting(self) -> str:
        if self.certificate_path:
            return "M365_CERTIFICATE_PATH / M365_CERTIFICATE_THUMBPRINT"
        return "M365_CLIENT_SECRET"

    def cache_key(self) -> str:
        """Tells apps apart without keeping the secret itself as a dictionary key."""
        material = "\0".join(
            [
                self.tenant_id,
                self.client_id,
                self.secret or "",
                self.certificate_path or "",
                self.thumbprint or "",
                self.authority_url,
            ]
        )
        return hashlib.sha256(material.encode()).hexdigest()


# One msal app per process and credentials: its in-memory token cache is what lets a token be
# reused until it expires, from one sync (or nightly run) to the next.
_apps: dict[str, msal.ConfidentialClientApplication] = {}
_apps_lock = threading.Lock()


def forget_sign_ins() -> None:
    """Drops the cached msal apps and their tokens (tests; or after changing credentials)."""
    with _apps_lock:
        _apps.clear()


def graph_scope(graph_url: str) -> str:
    """The app-only scope for the Graph at `graph_url` (its root, no version): a token is
    issued for one Graph, so a national cloud's Graph needs its own."""
    return f"{graph_url.rstrip('/')}/.default"


class TokenSource:
    """App-only access tokens for Microsoft Graph, from msal's cache while they last."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        graph_url: str = DEFAULT_M365_GRAPH_URL,
        timeout: float = 30,
    ) -> None:
        self.credentials = credentials
        self.scopes = [graph_scope(graph_url)]
        self.timeout = timeout

    def __call__(self) -> str:
        app = self._app()
        try:
            result = app.acquire_token_for_client(scopes=self.scopes)
        except requests.RequestException as error:
            raise M365Error(_unreachable(self.credentials, error)) from None
        except (ValueError, TypeError, jwt.PyJWTError) as error:  # a key that cannot sign
            raise M365Error(
                f"M365_CERTIFICATE_PATH: the key in {self.credentials.certificate_path} cannot "
                f"sign in ({first_line(str(error))}); it should be the PEM private key of the "
                "certificate uploaded to the app registration."
            ) from None
        if "access_token" in result:
            return result["access_token"]
        raise M365Error(sign_in_failure(result, self.credentials))

    def _app(self) -> msal.ConfidentialClientApplication:
        key = self.credentials.cache_key()
        with _apps_lock:
            app = _apps.get(key)
            if app is None:
                app = _apps[key] = self._new_app()
            return app

    def _new_app(self) -> msal.ConfidentialClientApplication:
        creds = self.credentials
        credential: str | dict[str, str]
        if creds.certificate_path:
            try:
                with open(creds.certificate_path, encoding="utf-8") as key_file:
                    private_key = key_file.read()
            except (OSError, UnicodeDecodeError) as error:
                reason = getattr(error, "strerror", None) or type(error).__name__
                raise M365Error(
                    f"M365_CERTIFICATE_PATH: cannot read {creds.certificate_path} ({reason})."
                ) from None
            _check_private_key(creds.certificate_path, private_key)
            credential = {"private_key": private_key, "thumbprint": creds.thumbprint or ""}
        else:
            credential = creds.secret or ""
        try:
            return msal.ConfidentialClientApplication(
                creds.client_id,
                client_credential=credential,
                authority=f"{creds.authority_url}/{creds.tenant_id}",
                timeout=self.timeout,
                # Only the tenant's own sign-in endpoint: no lookup of other clouds' aliases.
                instance_discovery=False,
            )
        except requests.RequestException as error:
            raise M365Error(_unreachable(self.credentials, error)) from None
        except ValueError as error:
            if "thumbprint" in str(error).lower() or "private_key" in str(error).lower():
                raise M365Error(
                    "M365_CERTIFICATE_PATH / M365_CERTIFICATE_THUMBPRINT: msal cannot use this "
                    f"certificate ({first_line(str(error))})."
                ) from None
            # msal looks the tenant up first; an unknown tenant fails here. A tenant lives in
            # one cloud only, so a national cloud's tenant is unknown at the global host.
            cloud = (
                ""
                if creds.authority_url == DEFAULT_M365_AUTHORITY_URL
                else f" at {urlsplit(creds.authority_url).netloc} (M365_AUTHORITY_URL)"
            )
            raise M365Error(
                f"M365_TENANT_ID {creds.tenant_id!r} is not a tenant Microsoft knows{cloud}: it "
                "should be the Directory (tenant) ID on your Entra app registration's Overview "
                "page."
            ) from None


def _unreachable(credentials: Credentials, error: Exception) -> str:
    host = urlsplit(credentials.authority_url).netloc
    return (
        f"Could not reach Microsoft's sign-in service ({host}): {type(error).__name__}. "
        "Check the network (and M365_AUTHORITY_URL) and try again."
    )


def _check_private_key(path: str, pem: str) -> None:
    """A key msal could not sign with makes it log a traceback: check it here first."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise M365Error(
            f"M365_CERTIFICATE_PATH: {path} is not an unencrypted PEM private key; it should be "
            "the private key of the certificate uploaded to the app registration."
        ) from None


def sign_in_failure(result: dict[str, Any], credentials: Credentials) -> str:
    """One line from msal's error result: which setting, and what Microsoft said.

    Microsoft's description ends with trace and correlation ids and a timestamp; only its
    first sentence is kept. No secret is ever part of it.
    """
    error = str(result.get("error") or "unknown_error")
    codes = [code for code in result.get("error_codes") or [] if isinstance(code, int)]
    setting = next((SETTING_FOR_AADSTS[c] for c in codes if c in SETTING_FOR_AADSTS), None)
    if setting is None:
        setting = (
            credentials.credential_setting
            if error == "invalid_client"
            else "M365_CLIENT_ID"
            if error == "unauthorized_client"
            else "the M365_ settings"
        )
    described = first_line(str(result.get("error_description") or ""))
    said = f"{error}: {described}" if described else error
    return f"Microsoft 365 sign-in failed: check {setting}. Microsoft said: {said}"
