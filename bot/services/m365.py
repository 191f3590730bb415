"""The roster from Microsoft 365: staff, pupils and classes read from Microsoft Graph.

School Data Sync copies the MIS into Graph's education endpoints; `sspbot sync m365` reads them
with an app-only token (msal's confidential client: a client secret or a certificate) and makes
the school's roster match, through the same upsert path as the CSV import
(`roster.apply_staff`, `apply_pupils`, `apply_classes`): natural keys, leavers marked as left,
nothing ever deleted.

How Graph's fields become SSP Bot's (see also the README):

- `primaryRole` "teacher": a member of staff with the teacher role; "faculty": a member of staff
  with no role added. Staff are keyed by `mail` (lower case); `givenName` and `surname` are
  their names. Roles granted in SSP Bot (SENDCo, case holder, …) are never taken away; the
  teacher role is taken away only from someone Graph called a teacher last time and not now.
- `primaryRole` "student": a pupil, keyed by UPN: the first of `student.externalId` and
  `student.studentNumber` that is a valid UPN (13 characters with the right check letter).
  `student.birthDate` is the date of birth, `student.grade` the year group ("9", "Year 9",
  "Y9", "R"). The MIS's other fields (SEN stage, needs, form, house, …) are not in Graph and
  are left as a CSV import set them.
- Any other role, and accounts that are disabled (`accountEnabled` false), are left out: staff
  and pupils who are left out, or gone from Graph, are marked as left.
- A class is keyed by `classCode` (or its `displayName` when it has no code); its subject is
  `course.subject`, its year group `grade` (left empty when that is not a year group). Its
  teachers come from `/teachers`, its pupils from `/members`. Classes made by hand in Teams
  (`externalSource` "manual") are not the timetable and are left out.

A sync is all or nothing. Everything is read from Graph first; a record that cannot be mapped
(a student with no UPN, a teacher with no mail, …) rejects the whole sync naming the record by
its Graph id (never a pupil's name); a network failure, a refusal or throttling that does not
end writes nothing either. Only then is the roster changed, in one transaction, with what Graph
said saved on the school (`School.m365_sync_state`: the delta links, and the few fields of each
user and class that the mapping reads), so the next sync asks Graph only for changes.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as time_of_day
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import jwt
import msal
import requests
from sqlalchemy import event, select
from sqlalchemy import inspect as inspect_row
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from bot.config import ConfigError, Settings
from bot.errors import UserError
from bot.services.csv_import import BadValue
from bot.services.roster import (
    EMAIL,
    ClassRecord,
    ImportResult,
    PupilRecord,
    StaffRecord,
    apply_classes,
    apply_pupils,
    apply_staff,
    is_valid_upn,
    parse_year_group,
)
from models import (
    Pupil,
    School,
    Staff,
    StaffRole,
    StaffRoleGrant,
    TeachingGroup,
    TeachingGroupPupil,
    TeachingGroupTeacher,
)

log = logging.getLogger(__name__)

GRAPH_URL = "https://graph.microsoft.com/v1.0"
LOGIN_URL = "https://login.microsoftonline.com"
SCOPES = ["https://graph.microsoft.com/.default"]
# The least Graph is asked for: the fields the mapping reads, nothing else about anyone.
USER_SELECT = "id,primaryRole,accountEnabled,mail,givenName,surname,student"
STUDENT_FIELDS = ("externalId", "studentNumber", "birthDate", "grade")
CLASS_FIELDS = ("classCode", "displayName", "externalSource", "grade")
# What Graph calls a delta link it has forgotten: read everything again.
RESYNC_CODES = frozenset({"syncstatenotfound", "resyncrequired", "syncstateinvalid"})
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
STATE_VERSION = 1
RESULT_LENGTH = 500  # School.roster_sync_result


class M365Error(UserError):
    """The sync failed and wrote nothing. str() is one line saying what failed."""


class SyncRejected(M365Error):
    """Graph holds records that cannot be mapped, so nothing was synced. Names every one."""

    SHOWN = 20

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        count = len(problems)
        lines = [f"  {problem}" for problem in problems[: self.SHOWN]]
        if count > self.SHOWN:
            lines.append(f"  … and {count - self.SHOWN} more")
        super().__init__(
            "\n".join(
                [
                    f"The roster was not synced from Microsoft 365 ({count} record"
                    f"{'s' if count != 1 else ''} that SSP Bot cannot use; nothing was changed):",
                    *lines,
                ]
            )
        )

    @property
    def one_line(self) -> str:
        first = self.problems[0]
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        return f"{len(self.problems)} record(s) that cannot be used: {first}{more}"


class _DeltaExpired(Exception):
    """Graph no longer knows a delta link (410 Gone, syncStateNotFound): read everything."""


# --- signing in ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    """The app registration's identity: tenant, client id, and a secret or a certificate."""

    tenant_id: str
    client_id: str
    secret: str | None = field(default=None, repr=False)
    certificate_path: str | None = None
    thumbprint: str | None = None

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


class TokenSource:
    """App-only access tokens for Microsoft Graph, from msal's cache while they last."""

    def __init__(self, credentials: Credentials, *, timeout: float = 30) -> None:
        self.credentials = credentials
        self.timeout = timeout

    def __call__(self) -> str:
        app = self._app()
        try:
            result = app.acquire_token_for_client(scopes=SCOPES)
        except requests.RequestException as error:
            raise M365Error(
                "Could not reach Microsoft's sign-in service (login.microsoftonline.com): "
                f"{type(error).__name__}. Check the network and try again."
            ) from None
        except (ValueError, TypeError, jwt.PyJWTError) as error:  # a key that cannot sign
            raise M365Error(
                f"M365_CERTIFICATE_PATH: the key in {self.credentials.certificate_path} cannot "
                f"sign in ({_first_line(str(error))}); it should be the PEM private key of the "
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
                authority=f"{LOGIN_URL}/{creds.tenant_id}",
                timeout=self.timeout,
                # Only the tenant's own sign-in endpoint: no lookup of other clouds' aliases.
                instance_discovery=False,
            )
        except requests.RequestException as error:
            raise M365Error(
                "Could not reach Microsoft's sign-in service (login.microsoftonline.com): "
                f"{type(error).__name__}. Check the network and try again."
            ) from None
        except ValueError as error:
            if "thumbprint" in str(error).lower() or "private_key" in str(error).lower():
                raise M365Error(
                    "M365_CERTIFICATE_PATH / M365_CERTIFICATE_THUMBPRINT: msal cannot use this "
                    f"certificate ({_first_line(str(error))})."
                ) from None
            # msal looks the tenant up first; an unknown tenant fails here.
            raise M365Error(
                f"M365_TENANT_ID {creds.tenant_id!r} is not a tenant Microsoft knows: it should "
                "be the Directory (tenant) ID on your Entra app registration's Overview page."
            ) from None


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
    described = _first_line(str(result.get("error_description") or ""))
    said = f"{error}: {described}" if described else error
    return f"Microsoft 365 sign-in failed: check {setting}. Microsoft said: {said}"


def _first_line(text: str, limit: int = 300) -> str:
    line = text.strip().replace("\r", "\n").split("\n", 1)[0].strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"


# --- reading Graph --------------------------------------------------------------------------------


class Graph:
    """GETs from Microsoft Graph with an app token: paging, throttling and errors.

    429, 503 and 504 are waited out as `Retry-After` asks (or with a growing pause when it does
    not say), up to `attempts` tries. `sleep` is injectable so tests do not wait.
    """

    def __init__(
        self,
        token: Callable[[], str],
        *,
        http: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        attempts: int = 6,
        longest_wait: float = 300,
        timeout: float = 60,
    ) -> None:
        self._token = token
        self._http = http or requests.Session()
        self._sleep = sleep
        self.attempts = attempts
        self.longest_wait = longest_wait
        self.timeout = timeout
        self.requests = 0

    def get(self, url: str, what: str) -> dict[str, Any]:
        """The JSON body of a GET. Raises M365Error (or _DeltaExpired) saying what failed."""
        _check_graph_url(url)
        for attempt in range(1, self.attempts + 1):
            token = self._token()
            try:
                self.requests += 1
                response = self._http.get(
                    url,
                    headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                    timeout=self.timeout,
                )
            except requests.RequestException as error:
                if attempt < min(self.attempts, 3):
                    self._sleep(2.0**attempt)
                    continue
                raise M365Error(
                    f"Could not reach Microsoft Graph while reading {what}: "
                    f"{type(error).__name__}. Nothing was changed; try again later."
                ) from None
            if response.status_code == 200:
                try:
                    return response.json()
                except ValueError:
                    raise M365Error(
                        f"Microsoft Graph's answer about {what} was not JSON; nothing was changed."
                    ) from None
            if response.status_code in (429, 503, 504) and attempt < self.attempts:
                wait = _retry_after(response, default=2.0**attempt)
                log.warning(
                    "Microsoft Graph answered %s; waiting %.0f s before trying again",
                    response.status_code,
                    min(wait, self.longest_wait),
                )
                self._sleep(min(wait, self.longest_wait))
                continue
            raise self._failure(response, what)
        raise AssertionError("unreachable")  # pragma: no cover

    def pages(self, url: str, what: str) -> tuple[list[dict[str, Any]], str | None]:
        """Every item of a collection, following `@odata.nextLink` to the end; and the
        `@odata.deltaLink` the last page gives (None when it is not a delta query)."""
        items: list[dict[str, Any]] = []
        seen = {url}
        while True:
            page = self.get(url, what)
            items.extend(page.get("value") or [])
            next_link = page.get("@odata.nextLink")
            if not next_link:
                return items, page.get("@odata.deltaLink")
            if next_link in seen:
                raise M365Error(f"Microsoft Graph sent the same page of {what} twice; stopped.")
            seen.add(next_link)
            url = next_link

    def _failure(self, response: requests.Response, what: str) -> Exception:
        status = response.status_code
        code, message = _graph_error(response)
        if status == 410 or code.lower() in RESYNC_CODES:
            return _DeltaExpired(f"{status} {code}".strip())
        said = f"{status} {code}: {message}" if code else f"{status} {_first_line(message)}"
        said = said.rstrip(": ")
        if status == 401:
            return M365Error(
                f"Microsoft Graph refused the sign-in while reading {what} ({said}); nothing "
                "was changed. Check M365_TENANT_ID and M365_CLIENT_ID, and that the app "
                "registration is in the school's tenant."
            )
        if status == 403:
            return M365Error(
                f"Microsoft Graph refused access to {what} ({said}); nothing was changed. Give "
                "the app registration the EduRoster.Read.All application permission and grant "
                "admin consent (see the README)."
            )
        if status in (429, 503, 504):
            return M365Error(
                f"Microsoft Graph was still busy after {self.attempts} tries at {what} "
                f"({said}); nothing was changed. Try again later."
            )
        return M365Error(
            f"Microsoft Graph failed while reading {what} ({said}); nothing was changed."
        )


def _check_graph_url(url: str) -> None:
    # The bearer token goes only to Graph, whatever a nextLink or a stored link says.
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.hostname != urlsplit(GRAPH_URL).hostname:
        raise M365Error("Microsoft Graph sent a link to somewhere other than Graph; stopped.")


def _retry_after(response: requests.Response, default: float) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return default


def _graph_error(response: requests.Response) -> tuple[str, str]:
    """Graph's error code and message ({"error": {"code", "message"}}), else the body."""
    try:
        body = response.json()
    except ValueError:
        return "", _first_line(response.text or response.reason or "", 200)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("code") or ""), _first_line(str(error.get("message") or ""), 200)
    if isinstance(error, str):  # some gateways answer OAuth-style
        return error, _first_line(str(body.get("error_description") or ""), 200)
    return "", ""


@dataclass
class GraphRoster:
    """What Graph says the roster is: its users and classes (only the fields the mapping
    reads), the delta links to ask for changes next time, and how it was read."""

    users: dict[str, dict[str, Any]]
    classes: dict[str, dict[str, Any]]
    users_delta: str | None
    classes_delta: str | None
    full: bool
    requests: int = 0
    why_full: str | None = None

    def state(self, tenant_id: str) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "tenant_id": tenant_id,
            "users_delta": self.users_delta,
            "classes_delta": self.classes_delta,
            "users": self.users,
            "classes": self.classes,
        }


def read_roster(graph: Graph, state: dict[str, Any] | None, tenant_id: str) -> GraphRoster:
    """Reads the roster: only the changes since `state` when Graph still has its delta links,
    else everything (first sync, another tenant, or Graph forgot the links)."""
    why = None
    if _usable(state, tenant_id):
        try:
            roster = _read_changes(graph, state)
            roster.requests = graph.requests
            return roster
        except _DeltaExpired as expired:
            why = f"Microsoft Graph no longer had the last sync's changes ({expired})"
            log.info("delta links expired (%s); reading everything", expired)
    try:
        roster = _read_everything(graph)
    except _DeltaExpired as gone:  # not expected without a delta token; never a traceback
        raise M365Error(
            f"Microsoft Graph refused a full read ({gone}); nothing was changed."
        ) from None
    roster.requests, roster.why_full = graph.requests, why
    return roster


def _usable(state: dict[str, Any] | None, tenant_id: str) -> bool:
    return bool(
        state
        and state.get("version") == STATE_VERSION
        and state.get("tenant_id") == tenant_id
        and state.get("users_delta")
        and state.get("classes_delta")
    )


def _read_everything(graph: Graph) -> GraphRoster:
    # A delta query with no token is a full read that ends with a delta link for next time.
    users, users_delta = graph.pages(
        f"{GRAPH_URL}/education/users/delta?$select={USER_SELECT}", "the education users"
    )
    classes, classes_delta = graph.pages(
        f"{GRAPH_URL}/education/classes/delta", "the education classes"
    )
    user_state = {u["id"]: _kept_user(u) for u in users if "@removed" not in u and "id" in u}
    class_state = {c["id"]: _kept_class(c) for c in classes if "@removed" not in c and "id" in c}
    for class_id, kept in class_state.items():
        _read_membership(graph, class_id, kept)
    return GraphRoster(user_state, class_state, users_delta, classes_delta, full=True)


def _read_changes(graph: Graph, state: dict[str, Any]) -> GraphRoster:
    users, users_delta = graph.pages(state["users_delta"], "changes to the education users")
    user_state = dict(state.get("users") or {})
    for user in users:
        if "id" not in user:
            continue
        if "@removed" in user:
            user_state.pop(user["id"], None)
        else:
            user_state[user["id"]] = _merged(user_state.get(user["id"], {}), _kept_user(user))

    classes, classes_delta = graph.pages(state["classes_delta"], "changes to the education classes")
    class_state = dict(state.get("classes") or {})
    changed = []
    for group in classes:
        if "id" not in group:
            continue
        if "@removed" in group:
            class_state.pop(group["id"], None)
            continue
        old = class_state.get(group["id"], {})
        class_state[group["id"]] = {**old, **_kept_class(group)}
        changed.append(group["id"])
    # Graph's class delta leaves out deleted classes: a list of ids finds them.
    listed, _ = graph.pages(f"{GRAPH_URL}/education/classes?$select=id", "the list of classes")
    current = {group["id"] for group in listed if "id" in group}
    if current - class_state.keys():
        # A class the delta never mentioned: the saved state is not to be trusted.
        raise _DeltaExpired("a class appeared that the changes did not mention")
    class_state = {cid: kept for cid, kept in class_state.items() if cid in current}
    for class_id in changed:
        if class_id in class_state:
            _read_membership(graph, class_id, class_state[class_id])
    return GraphRoster(user_state, class_state, users_delta, classes_delta, full=False)


def _read_membership(graph: Graph, class_id: str, kept: dict[str, Any]) -> None:
    if _made_by_hand(kept):
        kept["teachers"], kept["members"] = [], []  # not the timetable: never read
        return
    name = kept.get("classCode") or kept.get("displayName") or class_id
    base = f"{GRAPH_URL}/education/classes/{class_id}"
    teachers, _ = graph.pages(f"{base}/teachers?$select=id", f"the teachers of class {name}")
    members, _ = graph.pages(f"{base}/members?$select=id", f"the members of class {name}")
    kept["teachers"] = sorted({t["id"] for t in teachers if "id" in t})
    kept["members"] = sorted({m["id"] for m in members if "id" in m})


def _merged(old: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """A user as last seen, with a delta's change on top: an update carries the id and at least
    the properties that changed, so what it leaves out keeps its old value."""
    merged = {**old, **change}
    if isinstance(old.get("student"), dict) and isinstance(change.get("student"), dict):
        merged["student"] = {**old["student"], **change["student"]}
    return merged


def _made_by_hand(group: dict[str, Any]) -> bool:
    return str(group.get("externalSource") or "").lower() == "manual"


def _kept_user(user: dict[str, Any]) -> dict[str, Any]:
    kept = {
        name: user[name]
        for name in ("primaryRole", "accountEnabled", "mail", "givenName", "surname")
        if name in user
    }
    if "student" in user:
        student = user["student"] or {}
        kept["student"] = {name: student.get(name) for name in STUDENT_FIELDS if name in student}
    return kept


def _kept_class(group: dict[str, Any]) -> dict[str, Any]:
    kept = {name: group[name] for name in CLASS_FIELDS if name in group}
    if "course" in group:
        kept["subject"] = (group["course"] or {}).get("subject")
    return kept


# --- mapping Graph's records to the roster's ----------------------------------------------------


@dataclass
class MappedRoster:
    staff: list[StaffRecord] = field(default_factory=list)
    pupils: list[PupilRecord] = field(default_factory=list)
    classes: list[ClassRecord] = field(default_factory=list)
    teachers: set[str] = field(default_factory=set)  # emails of staff Graph calls teachers
    left_out_users: int = 0
    disabled_users: int = 0
    left_out_classes: int = 0
    problems: list[str] = field(default_factory=list)


def map_roster(roster: GraphRoster, today: date) -> MappedRoster:
    """Graph's users and classes as roster records; `problems` names each one that cannot be
    mapped (by Graph id, and for staff their mail: never a pupil's name)."""
    mapped = MappedRoster()
    staff_of: dict[str, str] = {}  # Graph user id -> email
    pupil_of: dict[str, str] = {}  # Graph user id -> UPN
    first_email: dict[str, str] = {}
    first_upn: dict[str, str] = {}
    for user_id in sorted(roster.users):
        user = roster.users[user_id]
        role = str(user.get("primaryRole") or "").lower()
        if role not in ("teacher", "faculty", "student"):
            mapped.left_out_users += 1
            continue
        if user.get("accountEnabled") is False:
            mapped.disabled_users += 1
            continue
        problems: list[str] = []
        if role == "student":
            record = _pupil(user, today, problems)
            if record is not None and record.upn in first_upn:
                problems.append(
                    f"has the same UPN {record.upn} as education user {first_upn[record.upn]}"
                )
        else:
            record = _staff(user, problems)
            if record is not None and record.email in first_email:
                problems.append(
                    f"has the same mail {record.email} as education user "
                    f"{first_email[record.email]}"
                )
        if problems:
            mapped.problems += [f"education user {user_id} ({role}) {p}" for p in problems]
            continue
        if isinstance(record, PupilRecord):
            mapped.pupils.append(record)
            pupil_of[user_id] = record.upn
            first_upn[record.upn] = user_id
        elif isinstance(record, StaffRecord):
            mapped.staff.append(record)
            staff_of[user_id] = record.email
            first_email[record.email] = user_id
            if role == "teacher":
                mapped.teachers.add(record.email)

    first_code: dict[str, str] = {}
    for class_id in sorted(roster.classes):
        group = roster.classes[class_id]
        if _made_by_hand(group):
            mapped.left_out_classes += 1
            continue
        code = str(group.get("classCode") or group.get("displayName") or "").strip()
        subject = str(group.get("subject") or "").strip() or None
        problem = None
        if not code:
            problem = "has neither a classCode nor a displayName"
        elif len(code) > 50:
            problem = f"has a classCode longer than 50 characters ({code[:50]!r}…)"
        elif code in first_code:
            problem = f"has the same classCode {code!r} as education class {first_code[code]}"
        elif subject and len(subject) > 100:
            problem = "has a course subject longer than 100 characters"
        if problem:
            mapped.problems.append(f"education class {class_id} {problem}")
            continue
        first_code[code] = class_id
        mapped.classes.append(
            ClassRecord(
                class_code=code,
                teacher_emails=frozenset(
                    staff_of[t] for t in group.get("teachers", []) if t in staff_of
                ),
                upns=frozenset(pupil_of[m] for m in group.get("members", []) if m in pupil_of),
                subject=subject,
                year_group=_class_year(group.get("grade")),
            )
        )
    return mapped


def _staff(user: dict[str, Any], problems: list[str]) -> StaffRecord | None:
    mail = str(user.get("mail") or "").strip()
    if not mail:
        problems.append("has no mail address (staff are matched to Slack by email)")
    elif not EMAIL.fullmatch(mail) or len(mail) > 254:
        problems.append(f"has a mail {mail!r} that is not an email address")
    first = _name(user, "givenName", problems)
    last = _name(user, "surname", problems)
    if problems:
        return None
    return StaffRecord(email=mail.lower(), first_name=first, last_name=last)


def _pupil(user: dict[str, Any], today: date, problems: list[str]) -> PupilRecord | None:
    student = user.get("student") or {}
    candidates = [
        str(student.get(name) or "").strip().upper() for name in ("externalId", "studentNumber")
    ]
    upn = next((c for c in candidates if is_valid_upn(c)), None)
    if upn is None:
        shown = " and ".join(
            f"student.{name} {student.get(name)!r}" for name in ("externalId", "studentNumber")
        )
        problems.append(f"has no UPN: {shown} are not UPNs")
    born = _birth_date(student.get("birthDate"), today, problems)
    try:
        year = parse_year_group(str(student.get("grade") or "").strip())
    except BadValue as bad:
        year = None
        problems.append(f"student.grade {bad}")
    first = _name(user, "givenName", problems)
    last = _name(user, "surname", problems)
    if problems or upn is None or born is None or year is None:
        return None
    return PupilRecord(
        upn=upn, first_name=first, last_name=last, date_of_birth=born, year_group=year
    )


def _name(user: dict[str, Any], key: str, problems: list[str]) -> str:
    value = " ".join(str(user.get(key) or "").split())
    if not value:
        problems.append(f"has no {key}")
    elif len(value) > 100:
        problems.append(f"has a {key} longer than 100 characters")
    return value


def _birth_date(value: Any, today: date, problems: list[str]) -> date | None:
    # Documented as a Date ("2012-05-14"); some tenants return a DateTimeOffset.
    text = str(value or "").strip()
    try:
        born = date.fromisoformat(text[:10]) if text else None
    except ValueError:
        born = None
    if born is None:
        problems.append(
            "has no student.birthDate" if not text else "has a student.birthDate that is not a date"
        )
    elif born > today:
        problems.append("has a student.birthDate in the future")
        return None
    return born


def _class_year(value: Any) -> int | None:
    try:
        return parse_year_group(str(value or "").strip()) if value else None
    except BadValue:
        return None


# --- applying it ----------------------------------------------------------------------------------

STAFF_SYNCED = ("email", "first_name", "last_name", "roles")
PUPILS_SYNCED = ("first_name", "last_name", "date_of_birth", "year_group")
CLASSES_SYNCED = ("subject", "year_group")


@dataclass
class SyncResult:
    """What a sync did (or, in a dry run, would do)."""

    school_name: str
    dry_run: bool
    full: bool
    requests: int
    staff: ImportResult
    pupils: ImportResult
    classes: ImportResult
    notes: list[str] = field(default_factory=list)
    sample: list[str] = field(default_factory=list)
    more: int = 0  # changed rows beyond the sample
    slack: str | None = None
    why_full: str | None = None

    @property
    def changes(self) -> int:
        return sum(
            r.created + r.updated + r.reactivated + r.left
            for r in (self.staff, self.pupils, self.classes)
        )

    def lines(self) -> list[str]:
        how = (
            "read everything" if self.full else "read only the changes since the last sync"
        ) + f", {self.requests} Graph request{'s' if self.requests != 1 else ''}"
        if self.dry_run:
            head = (
                f"Dry run: nothing was written. Syncing {self.school_name} from Microsoft 365 "
                f"({how}) would change:"
            )
        else:
            head = f"Synced {self.school_name} from Microsoft 365 ({how}):"
        lines = [head]
        if self.why_full:
            lines.append(f"  ({self.why_full}, so everything was read again.)")
        for label, result, gone in (
            ("staff", self.staff, "marked as left"),
            ("pupils", self.pupils, "marked as left"),
            ("classes", self.classes, "marked inactive"),
        ):
            parts = [
                f"{result.created} added",
                f"{result.updated} updated",
                f"{result.unchanged} unchanged",
            ]
            if result.reactivated:
                parts.append(f"{result.reactivated} back")
            parts.append(f"{result.left} {gone}")
            lines.append(f"  {label}: {result.total} in Microsoft 365; {', '.join(parts)}")
        if self.staff.plans_released:
            n = self.staff.plans_released
            lines.append(
                f"  {n} plan{'s' if n != 1 else ''} held by leavers "
                f"{'are' if n != 1 else 'is'} back on the priority list (`/ssp priority`)."
            )
        lines += [f"  {note}" for note in self.notes]
        if self.dry_run:
            if self.sample:
                lines.append("For example:")
                lines += [f"  - {line}" for line in self.sample]
                if self.more:
                    lines.append(f"  … and {self.more} more")
            else:
                lines.append("Nothing would change.")
        elif not self.changes:
            lines.append("Nothing changed.")
        if self.slack:
            lines.append(self.slack)
        return lines

    def status(self) -> str:
        """The line the SENDCo sees at the foot of `/ssp caseload`."""
        counts = (
            f"{self.staff.total} staff, {self.pupils.total} pupils, {self.classes.total} classes"
        )
        changed = (
            f"{self.changes} change{'s' if self.changes != 1 else ''}"
            if self.changes
            else "no changes"
        )
        return f"{counts}; {changed}"


def apply_roster(
    session: Session,
    school: School,
    roster: GraphRoster,
    previous: dict[str, Any] | None,
    *,
    today: date,
    sample: list[str] | None = None,
) -> tuple[ImportResult, ImportResult, ImportResult, MappedRoster]:
    """Maps Graph's roster and upserts it into the session through the CSV import's path.

    Raises SyncRejected before touching the session if any record cannot be mapped. When
    `sample` is a list, a description of each row that changes is appended to it.
    """
    mapped = map_roster(roster, today)
    if mapped.problems:
        raise SyncRejected(mapped.problems)
    staff_records = _with_roles(session, school, mapped, _teachers_before(previous))
    if sample is not None:
        event.listen(session, "before_flush", _describe_changes(sample))
    staff = apply_staff(session, school, staff_records, today, fields=STAFF_SYNCED)
    pupils = apply_pupils(session, school, mapped.pupils, today, fields=PUPILS_SYNCED)
    session.flush()
    classes = apply_classes(session, school, mapped.classes, today, fields=CLASSES_SYNCED)
    session.flush()
    return staff, pupils, classes, mapped


def _teachers_before(previous: dict[str, Any] | None) -> set[str]:
    users = (previous or {}).get("users") or {}
    return {
        str(user.get("mail") or "").strip().lower()
        for user in users.values()
        if str(user.get("primaryRole") or "").lower() == "teacher" and user.get("mail")
    }


def _with_roles(
    session: Session, school: School, mapped: MappedRoster, teachers_before: set[str]
) -> list[StaffRecord]:
    """Each record with the member's roles: those granted in SSP Bot kept, the teacher role
    added for Graph's teachers, and taken away only from someone Graph called a teacher last
    time and not now."""
    have: dict[str, set[StaffRole]] = {}
    for email, role in session.execute(
        select(Staff.email, StaffRoleGrant.role)
        .join(StaffRoleGrant, StaffRoleGrant.staff_id == Staff.id)
        .where(Staff.school_id == school.id)
    ):
        have.setdefault(email.lower(), set()).add(role)
    records = []
    for record in mapped.staff:
        roles = set(have.get(record.email, set()))
        if record.email in mapped.teachers:
            roles.add(StaffRole.TEACHER)
        elif record.email in teachers_before:
            roles.discard(StaffRole.TEACHER)
        records.append(
            StaffRecord(
                email=record.email,
                first_name=record.first_name,
                last_name=record.last_name,
                roles=frozenset(roles),
            )
        )
    return records


def _describe_changes(sample: list[str]) -> Callable[..., None]:
    """A before_flush listener that says, for a dry run, which rows are about to change:
    staff by email, pupils by UPN (never by name), classes by code."""

    def describe(session: Session, _context, _instances) -> None:
        for row in session.new:
            _note(sample, _describe(row, "new"))
        for row in session.dirty:
            if session.is_modified(row):
                _note(sample, _describe(row, "changed"))
        for row in session.deleted:
            _note(sample, _describe(row, "removed"))

    return describe


def _describe(row: object, how: str) -> str | None:
    changed = (
        sorted(
            attr.key
            for attr in inspect_row(row).attrs
            if attr.history.has_changes() and attr.key not in ("updated_at", "role_grants")
        )
        if how == "changed"
        else []
    )
    if isinstance(row, Staff):
        who = f"member of staff {row.email}"
    elif isinstance(row, Pupil):
        who = f"pupil {row.upn}"
    elif isinstance(row, TeachingGroup):
        who = f"class {row.code}"
    elif isinstance(row, StaffRoleGrant):
        staff = row.staff
        return f"roles of {staff.email}" if staff is not None else None
    elif isinstance(row, TeachingGroupTeacher | TeachingGroupPupil):
        group = row.group
        kind = "teachers" if isinstance(row, TeachingGroupTeacher) else "pupils"
        return f"class {group.code}: {kind}" if group is not None else None
    else:
        return None
    if how == "new":
        return f"add {who}"
    if "is_active" in changed:
        active = row.is_active
        gone = "mark as inactive" if isinstance(row, TeachingGroup) else "mark as left"
        return f"{'bring back' if active else gone}: {who}"
    fields = [name for name in changed if name not in ("is_active", "left_on")]
    return f"update {who} ({', '.join(fields)})" if fields else None


def _note(sample: list[str], line: str | None) -> None:
    if line and line not in sample:
        sample.append(line)


# --- the whole sync -----------------------------------------------------------------------------


def sync_m365(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    now: datetime,
    school_name: str | None = None,
    dry_run: bool = False,
    graph: Graph | None = None,
    slack_client=None,
    sleep: Callable[[float], None] = time.sleep,
    sample_size: int = 10,
) -> SyncResult:
    """Syncs one school's roster from Microsoft 365, all or nothing.

    Reads Graph (only changes, when the last sync's delta links still work), maps and applies
    everything in one transaction, and saves Graph's state and the result on the school. A
    failure raises M365Error (or ConfigError) and changes nothing but the school's sync status
    (so the SENDCo sees it). A dry run writes nothing at all. Then, when Slack is configured,
    staff without a Slack account are matched by email (users.lookupByEmail).
    """
    from bot.services.schools import find_school

    with sessions() as session:
        school = find_school(session, school_name or settings.m365_school)
        school_id, name, state = school.id, school.name, school.m365_sync_state
        today = school.local_date(now)
    try:
        credentials = Credentials.from_settings(settings)
        graph = graph or Graph(TokenSource(credentials), sleep=sleep)
        roster = read_roster(graph, state, credentials.tenant_id)
        sample: list[str] = []
        with sessions() as session:
            school = session.get(School, school_id)
            try:
                staff, pupils, classes, mapped = apply_roster(
                    session,
                    school,
                    roster,
                    state,
                    today=today,
                    sample=sample if dry_run else None,
                )
                result = SyncResult(
                    school_name=name,
                    dry_run=dry_run,
                    full=roster.full,
                    requests=roster.requests,
                    staff=staff,
                    pupils=pupils,
                    classes=classes,
                    notes=_notes(mapped),
                    sample=sorted(sample)[:sample_size],
                    more=max(0, len(sample) - sample_size),
                    why_full=roster.why_full,
                )
                if dry_run:
                    session.rollback()
                    return result
                school.m365_sync_state = roster.state(credentials.tenant_id)
                school.roster_sync_attempted_at = school.roster_synced_at = now
                school.roster_sync_ok = True
                school.roster_sync_result = result.status()[:RESULT_LENGTH]
                session.commit()
            except BaseException:
                session.rollback()
                raise
    except (ConfigError, UserError) as error:
        if not dry_run:
            reason = error.one_line if isinstance(error, SyncRejected) else str(error)
            _record_failure(sessions, school_id, now, reason)
        raise
    except Exception:
        if not dry_run:
            _record_failure(sessions, school_id, now, "an unexpected error (see the bot's log).")
        raise
    result.slack = _match_slack_accounts(sessions, settings, school_id, now, slack_client)
    return result


def _notes(mapped: MappedRoster) -> list[str]:
    notes = []
    if mapped.left_out_users:
        notes.append(
            f"{mapped.left_out_users} account(s) that are neither staff nor students left out."
        )
    if mapped.disabled_users:
        notes.append(f"{mapped.disabled_users} disabled account(s) left out (as leavers).")
    if mapped.left_out_classes:
        notes.append(
            f"{mapped.left_out_classes} class(es) made by hand in Teams (not from the MIS) "
            "left out."
        )
    return notes


def _record_failure(
    sessions: sessionmaker[Session], school_id: int, now: datetime, reason: str
) -> None:
    """Notes the failed attempt on the school; the roster and Graph's state stay as they were."""
    try:
        with db.unit_of_work(sessions) as session:
            school = session.get(School, school_id)
            school.roster_sync_attempted_at = now
            school.roster_sync_ok = False
            school.roster_sync_result = _first_line(reason, RESULT_LENGTH)
    except Exception:  # noqa: BLE001 - the sync's own failure is the one to report
        log.exception("could not record the failed roster sync")


def _match_slack_accounts(
    sessions: sessionmaker[Session], settings: Settings, school_id: int, now: datetime, client
) -> str:
    from slack_sdk.errors import SlackApiError

    from handlers.slack_api import link_staff_accounts, make_client

    if client is None:
        if not settings.slack_bot_token:
            return (
                "Slack: SLACK_BOT_TOKEN is not set, so staff were not matched to Slack accounts "
                "now (the bot does it by email when it starts)."
            )
        client = make_client(settings.slack_bot_token, settings.slack_api_url)
    try:
        with db.unit_of_work(sessions) as session:
            linked, missing = link_staff_accounts(session, client, school_id, now)
    except SlackApiError as error:
        return (
            f"Slack: matching staff by email failed ({error.response.get('error')}); the roster "
            "was synced, and matching is tried again next time."
        )
    except OSError as error:
        return (
            f"Slack: could not reach Slack to match staff by email ({type(error).__name__}); "
            "the roster was synced, and matching is tried again next time."
        )
    if not linked and not missing:
        return "Slack: every current member of staff is matched to a Slack account."
    return (
        f"Slack: {linked} member(s) of staff matched to Slack accounts by email; {missing} "
        "not found in Slack (asked again in a week)."
    )


# --- what the SENDCo sees, and the nightly run ----------------------------------------------------


@dataclass(frozen=True)
class SyncStatus:
    """The last sync, for the foot of `/ssp caseload`: times in the school's time zone."""

    attempted_at: datetime
    ok: bool
    result: str
    last_success: datetime | None


def sync_status(session: Session, school_id: int) -> SyncStatus | None:
    """The school's last roster sync, or None if it has never synced from Microsoft 365."""
    row = session.execute(
        select(
            School.timezone,
            School.roster_sync_attempted_at,
            School.roster_sync_ok,
            School.roster_sync_result,
            School.roster_synced_at,
        ).where(School.id == school_id)
    ).one_or_none()
    if row is None or row.roster_sync_attempted_at is None:
        return None
    zone = ZoneInfo(row.timezone)
    return SyncStatus(
        attempted_at=row.roster_sync_attempted_at.astimezone(zone),
        ok=bool(row.roster_sync_ok),
        result=row.roster_sync_result or "",
        last_success=row.roster_synced_at.astimezone(zone) if row.roster_synced_at else None,
    )


def sync_is_due(school: School, now: datetime, at: time_of_day) -> bool:
    """True once today's sync time has passed at the school and no sync has run since then."""
    zone = ZoneInfo(school.timezone)
    due = datetime.combine(now.astimezone(zone).date(), at, tzinfo=zone)
    last = school.roster_sync_attempted_at
    return now >= due and (last is None or last < due)


class NightlySync:
    """The scheduler's nightly hook: once a day at M365_SYNC_AT (school time), syncs the roster
    in a background thread, so prompts keep going out while Graph is read."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        *,
        slack_client=None,
        start: Callable[[Callable[[], None]], None] | None = None,
    ) -> None:
        if settings.m365_sync_at is None:
            raise ValueError("M365_SYNC_AT is not set")
        self.sessions = sessions
        self.settings = settings
        self.slack_client = slack_client
        self._start = start or _in_thread
        self._running = threading.Lock()
        self._warned = False

    def __call__(self, now: datetime) -> bool:
        """Starts a sync if one is due and none is running. True if it started one."""
        from bot.services.schools import find_school

        if not self._running.acquire(blocking=False):
            return False
        try:
            with self.sessions() as session:
                school = find_school(session, self.settings.m365_school)
                due = sync_is_due(school, now, self.settings.m365_sync_at)
        except UserError as error:
            self._running.release()
            if not self._warned:
                log.warning("nightly Microsoft 365 sync: %s", error)
                self._warned = True
            return False
        if not due:
            self._running.release()
            return False

        def run() -> None:
            try:
                result = sync_m365(
                    self.sessions, self.settings, now=now, slack_client=self.slack_client
                )
                for line in result.lines():
                    log.info(line)
            except (ConfigError, UserError) as error:
                log.warning("nightly Microsoft 365 sync failed: %s", _first_line(str(error)))
            except Exception:  # noqa: BLE001 - logged; tomorrow's run tries again
                log.exception("nightly Microsoft 365 sync failed")
            finally:
                self._running.release()

        self._start(run)
        return True


def _in_thread(run: Callable[[], None]) -> None:
    threading.Thread(target=run, name="m365-sync", daemon=True).start()
