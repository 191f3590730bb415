"""Reading Microsoft Graph: a small client (paging, throttling, errors) and the education
roster read through it, everything the first time and only the changes after that.

The client follows each `@odata.nextLink` to the end and waits out 429, 503 and 504 as
`Retry-After` asks. The roster reader keeps the delta links Graph gives and, with them, only
the fields of each user and class that the mapping reads; when Graph has forgotten a delta
link (410 Gone, syncStateNotFound, …) it reads everything again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from bot.config import DEFAULT_M365_GRAPH_URL
from bot.services.m365.errors import M365Error, first_line

log = logging.getLogger(__name__)

GRAPH_VERSION = "v1.0"
# Graph's global service; M365_GRAPH_URL names another (a national cloud, a local stand-in).
GRAPH_URL = f"{DEFAULT_M365_GRAPH_URL}/{GRAPH_VERSION}"
# The least Graph is asked for: the fields the mapping reads, nothing else about anyone.
USER_SELECT = "id,primaryRole,accountEnabled,mail,givenName,surname,student"
STUDENT_FIELDS = ("externalId", "studentNumber", "birthDate", "grade")
CLASS_FIELDS = ("classCode", "displayName", "externalSource", "grade")
# What Graph calls a delta link it has forgotten: read everything again.
RESYNC_CODES = frozenset({"syncstatenotfound", "resyncrequired", "syncstateinvalid"})
STATE_VERSION = 1


class Graph:
    """GETs from Microsoft Graph with an app token: paging, throttling and errors.

    429, 503 and 504 are waited out as `Retry-After` asks (or with a growing pause when it does
    not say), up to `attempts` tries. `sleep` is injectable so tests do not wait. `base_url` is
    the Graph root with its version (GRAPH_URL, or M365_GRAPH_URL's); the token is sent only
    there.
    """

    def __init__(
        self,
        token: Callable[[], str],
        *,
        base_url: str = GRAPH_URL,
        http: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        attempts: int = 6,
        longest_wait: float = 300,
        timeout: float = 60,
    ) -> None:
        self._token = token
        self.base_url = base_url.rstrip("/")
        self._http = http or requests.Session()
        self._sleep = sleep
        self.attempts = attempts
        self.longest_wait = longest_wait
        self.timeout = timeout
        self.requests = 0

    def get(self, url: str, what: str) -> dict[str, Any]:
        """The JSON body of a GET. Raises M365Error (or _DeltaExpired) saying what failed."""
        self._check_url(url)
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

    def _check_url(self, url: str) -> None:
        # The bearer token goes only to this Graph, whatever a nextLink or a stored link says.
        if not self.sends_to(url):
            raise M365Error("Microsoft Graph sent a link to somewhere other than Graph; stopped.")

    def sends_to(self, url: str) -> bool:
        """Whether `url` is on this Graph: the same scheme, host and port."""
        mine, theirs = urlsplit(self.base_url), urlsplit(url)
        try:
            return (mine.scheme, mine.hostname, mine.port) == (
                theirs.scheme,
                theirs.hostname,
                theirs.port,
            )
        except ValueError:  # a port that is not a number
            return False

    def _failure(self, response: requests.Response, what: str) -> Exception:
        status = response.status_code
        code, message = _graph_error(response)
        if status == 410 or code.lower() in RESYNC_CODES:
            return _DeltaExpired(f"{status} {code}".strip())
        said = f"{status} {code}: {message}" if code else f"{status} {first_line(message)}"
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
        return "", first_line(response.text or response.reason or "", 200)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("code") or ""), first_line(str(error.get("message") or ""), 200)
    if isinstance(error, str):  # some gateways answer OAuth-style
        return error, first_line(str(body.get("error_description") or ""), 200)
    return "", ""


# --- the education roster, read through the client ---------------------------------------------


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
    if _usable(state, tenant_id, graph):
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


def _usable(state: dict[str, Any] | None, tenant_id: str, graph: Graph) -> bool:
    return bool(
        state
        and state.get("version") == STATE_VERSION
        and state.get("tenant_id") == tenant_id
        and state.get("users_delta")
        and state.get("classes_delta")
        # Links from another Graph (M365_GRAPH_URL changed) would be refused: read everything.
        and graph.sends_to(state["users_delta"])
        and graph.sends_to(state["classes_delta"])
    )


def _read_everything(graph: Graph) -> GraphRoster:
    # A delta query with no token is a full read that ends with a delta link for next time.
    users, users_delta = graph.pages(
        f"{graph.base_url}/education/users/delta?$select={USER_SELECT}", "the education users"
    )
    classes, classes_delta = graph.pages(
        f"{graph.base_url}/education/classes/delta", "the education classes"
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
    listed, _ = graph.pages(f"{graph.base_url}/education/classes?$select=id", "the list of classes")
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
    if made_by_hand(kept):
        kept["teachers"], kept["members"] = [], []  # not the timetable: never read
        return
    name = kept.get("classCode") or kept.get("displayName") or class_id
    base = f"{graph.base_url}/education/classes/{class_id}"
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


def made_by_hand(group: dict[str, Any]) -> bool:
    """A class made by hand in Teams, not synced from the MIS: not the timetable."""
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


def pupil_users(state: dict[str, Any] | None, upn: str) -> dict[str, dict[str, Any]]:
    """The saved state's education users that are this pupil (Graph user id -> the fields kept),
    matched as the mapping (bot.services.m365.mapping) matches a pupil: `student.externalId` or
    `student.studentNumber`, trimmed and in capitals, is the UPN."""
    wanted = upn.strip().upper()
    users = (state or {}).get("users") or {}
    return {
        user_id: kept
        for user_id, kept in users.items()
        if isinstance(kept, dict)
        and wanted
        in {
            str(((kept.get("student") or {}).get(name)) or "").strip().upper()
            for name in ("externalId", "studentNumber")
        }
    }


def without_pupil(state: dict[str, Any] | None, upn: str) -> dict[str, Any] | None:
    """The saved state with nothing of this pupil left: their users gone, and their Graph ids
    gone from the classes' members. Its delta links are dropped when anything was taken out, so
    the next sync reads everything again: changes since a state that was edited by hand could
    not be trusted (a user left out would read as gone from Graph). The state unchanged when it
    holds nothing of the pupil."""
    found = pupil_users(state, upn)
    if not found or state is None:
        return state
    classes = {
        class_id: (
            {
                **kept,
                "members": [m for m in kept.get("members") or [] if m not in found],
                "teachers": [t for t in kept.get("teachers") or [] if t not in found],
            }
            if isinstance(kept, dict)
            else kept
        )
        for class_id, kept in (state.get("classes") or {}).items()
    }
    users = {u: kept for u, kept in (state.get("users") or {}).items() if u not in found}
    return {**state, "users": users, "classes": classes, "users_delta": None, "classes_delta": None}


class _DeltaExpired(Exception):
    """Graph no longer knows a delta link (410 Gone, syncStateNotFound): read everything."""
