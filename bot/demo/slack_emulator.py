"""A local Slack Web API for tests and `sspbot demo`, which slack_sdk's WebClient talks to as is.

Point a client at it with `WebClient(token=emulator.bot_token, base_url=emulator.api_url)`.
It serves the methods the bot calls, answering with the shapes and error codes Slack documents:
`{"ok": true, ...}` or `{"ok": false, "error": "..."}` with HTTP 200, except a rate limit (HTTP 429
with `Retry-After`) and server errors injected with `fail_next(..., status=5xx)`. Every call is
recorded, in order, so a test can assert who was messaged with what.

The workspace is what the test registers: members with `add_user`, channels with `add_channel`.
Direct messages need no registering: a member's user id (U…) is a valid `channel` for
chat.postMessage, and conversations.open gives the DM's D… id, as in Slack.

Users and tokens belong to a workspace, as in Slack: a token (`bot_token`, or one added with
`add_workspace`) acts in its own workspace, and sees only its members; a user of another
workspace is `user_not_found` to it, unless they share a Slack Connect channel with it
(`add_user(..., team_id=..., connected=True)`), when users.info answers with their own team.
Installing the app (OAuth): `register_app` gives it a client id, secret and redirect URL;
`approve_next_install(team_id)` makes the next visit to `/oauth/v2/authorize` send the browser
back with a code (or `approve_install` returns one directly), which `oauth.v2.access` exchanges
for a bot token of that workspace, with a refresh token and expiry when token rotation is on.
A response URL made for a message in history (`new_response_url(..., message_ts=...)`) edits
that message when the app answers with `replace_original` (or deletes it), as Slack does.

Files members share: `add_file` (a member's upload), `post_file_message` (a message with files,
as a message shortcut's payload carries it) and `choose_files` (a modal's file_input, checked
against its `filetypes` and `max_files`). files.info describes a file to a token of its
workspace when the file is shared where the bot is (its DMs, a channel it is a member of) or was
put in its modal's file input; else `file_not_found` (`missing_scope` when `set_scopes` left out
files:read). Its url_private_download
serves the bytes to such a token only, and redirects anyone else to the sign-in page, as Slack
does.

Rate limits are off unless a test or bench turns them on with `enforce_tiers()`: then a workspace
going past a method's documented tier is answered 429 with `Retry-After`, as Slack does.

Standard library only: a ThreadingHTTPServer in a daemon thread; one lock guards all state.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from email import policy as email_policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from bot.slack_limits import (  # MAX_*_BLOCKS: kept importable from here, as before
    MAX_MESSAGE_BLOCKS,  # noqa: F401
    MAX_MESSAGE_TEXT,
    MAX_VIEW_BLOCKS,  # noqa: F401
    blocks_problems,
    message_refusal,
    view_problems,
)

T = TypeVar("T")

UPLOAD = "upload"
RESPONSE_URL = (
    "response_url"  # Call.method for a POST to a slash command's or action's response_url
)
RESPONSE_URL_USES = 5  # Slack accepts up to five responses per response_url
"""The `Call.method` (and `fail_next` name) of a POST of file bytes to an upload URL."""
FILE_DOWNLOAD = "file_download"
"""The `Call.method` (and `fail_next` name) of a GET of a file's url_private(_download)."""

# What Slack refuses in a message or a view is decided by bot.slack_limits, shared with the product.
MAX_VIEW_BYTES = 250_000
MAX_VIEW_STACK = 3
MAX_CONVERSATION_USERS = 8
HISTORY_DEFAULT_LIMIT = 100
HISTORY_MAX_LIMIT = 999

# Slack documents these two as form-encoded only: a JSON body's arguments are not read.
FORM_ONLY_METHODS = frozenset({"users.info", "users.lookupByEmail"})
# Methods that take the app-level token (xapp-…), which no other method accepts.
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})


@dataclass
class Call:
    """One request the emulator answered, as it arrived and as it was answered."""

    method: str
    params: dict[str, Any]
    token: str | None
    http_status: int
    response: dict[str, Any] | str
    """The JSON body sent back; for an `UPLOAD`, the plain-text body."""

    def json(self, name: str) -> Any:
        """The argument `name` decoded, whether it arrived JSON-encoded (form) or as JSON (body)."""
        value = self.params.get(name)
        if isinstance(value, str | bytes):
            return json.loads(value)
        return value

    @property
    def ok(self) -> bool:
        return isinstance(self.response, dict) and self.response.get("ok") is True

    @property
    def error(self) -> str | None:
        return self.response.get("error") if isinstance(self.response, dict) else None


@dataclass
class _Failure:
    error: str
    status: int
    retry_after: int | None
    remaining: int
    after_performing: bool = False


@dataclass
class _Upload:
    file_id: str
    filename: str
    length: int
    alt_txt: str | None = None
    snippet_type: str | None = None
    content: bytes | None = None


@dataclass
class _Answer:
    status: int
    body: dict[str, Any] | str | bytes
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    """Close the connection without answering (the call was performed; its answer is lost)."""


class _Refusal(Exception):
    """Raised by a method handler: answer `{"ok": false, "error": error}` plus `extra`."""

    def __init__(self, error: str, *messages: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = dict(extra)
        if messages:
            self.extra["response_metadata"] = {"messages": list(messages)}


class SlackEmulator:
    """A Slack workspace's Web API on a local port. Start it, register members, point clients at it.

    State a test may read (each guarded by the emulator's lock; read, don't mutate):
    `calls` (every request, in order), `messages` (posted, with chat.update and response URLs'
    replace_original applied: what Slack's history holds), `ephemerals`,
    `views` (view id -> current view), `home_views` (user id -> published home tab), `files`
    (completed uploads, with their bytes).
    """

    def __init__(
        self,
        team_id: str = "T0EMU0001",
        team_name: str = "Emulated School",
        bot_user_id: str = "U0BOT0001",
        bot_token: str = "xoxb-emulator-token",
        host: str = "127.0.0.1",
        port: int = 0,
        app_token: str = "xapp-1-A0EMU0001-emulator-token",
    ) -> None:
        self.team_id = team_id
        self.team_name = team_name
        self.bot_user_id = bot_user_id
        self.bot_id = "B0EMU0001"
        self.app_id = "A0EMU0001"
        self.bot_token = bot_token
        self.host = host
        self.port = port

        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._counter = 0
        self._last_ts_micros = 0

        self.users: dict[str, dict[str, Any]] = {}
        self._workspaces: dict[str, str] = {bot_token: team_id}  # token -> its team
        self.app_token = app_token  # for apps.connections.open (Socket Mode)
        self._workspaces[app_token] = team_id
        self.socket_mode_url: str | None = None  # set by use_socket_mode
        self._connected: set[str] = set()  # other workspaces' users in a Slack Connect channel
        self._caller_team = team_id  # the team of the token of the call being answered
        self._caller_token: str | None = bot_token
        # OAuth installs (register_app, approve_install): see "installing the app" below.
        self._team_names: dict[str, str] = {team_id: team_name}
        self._oauth_app: dict[str, Any] | None = None
        self._approvals: list[dict[str, Any]] = []  # installs the next authorize pages grant
        self._codes: dict[str, dict[str, Any]] = {}  # code -> the install it grants, once
        self._refresh_tokens: dict[str, dict[str, Any]] = {}  # refresh token -> its install
        self._token_expiry: dict[str, float] = {}  # rotating token -> when it stops working
        self.channels: dict[str, dict[str, Any]] = {}
        self._dm_by_members: dict[frozenset[str], str] = {}

        self.calls: list[Call] = []
        self.messages: list[dict[str, Any]] = []
        self.ephemerals: list[dict[str, Any]] = []
        self.views: dict[str, dict[str, Any]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        self.files: list[dict[str, Any]] = []
        # Files members shared (add_file, a file input): file id -> Slack's file object, with
        # its bytes under "content" (never sent by files.info). Their messages: user_messages.
        self.user_files: dict[str, dict[str, Any]] = {}
        self.user_messages: list[dict[str, Any]] = []
        self._token_scopes: dict[str, frozenset[str]] = {}  # set_scopes(); unset: all granted
        self.responses: list[dict[str, Any]] = []
        self._response_urls: dict[str, dict[str, Any]] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._uploads: dict[str, _Upload] = {}
        self._used_triggers: set[str] = set()
        self._trigger_views: dict[str, str] = {}
        self._view_stacks: dict[str, list[str]] = {}
        self._external_ids: dict[str, str] = {}
        self._home_view_ids: dict[str, str] = {}
        self._tiers: _TierLimits | None = None  # enforce_tiers()
        self._hooks: dict[str, Callable[[dict[str, Any]], None]] = {}  # on_call()
        self._outage: int | None = None  # outage()

        self._methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "api.test": self._api_test,
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "conversations.open": self._conversations_open,
            "conversations.history": self._conversations_history,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "users.list": self._users_list,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
            "files.info": self._files_info,
            "apps.connections.open": self._apps_connections_open,
            "oauth.v2.access": self._oauth_v2_access,
            "auth.revoke": self._auth_revoke,
        }
        self.add_user(bot_user_id, name="sspbot", real_name="SSP Bot", is_bot=True)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> SlackEmulator:
        """Binds the port (a free one when `port=0`) and serves in a daemon thread."""
        if self._server is not None:
            return self
        server = ThreadingHTTPServer((self.host, self.port), _Handler)
        server.daemon_threads = True
        server.emulator = self  # type: ignore[attr-defined]
        self._server = server
        self.port = server.server_address[1]
        # A short poll interval so that stop() (and so each test's teardown) is quick.
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="slack-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> SlackEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """`http://host:port`, without a trailing slash. Only once started."""
        if self._server is None:
            raise RuntimeError("the Slack emulator is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """What `WebClient(base_url=...)` takes: `http://host:port/api/`."""
        return f"{self.base_url}/api/"

    # ------------------------------------------------------------------ the workspace

    def add_user(
        self,
        user_id: str,
        *,
        email: str | None = None,
        name: str | None = None,
        real_name: str | None = None,
        deleted: bool = False,
        is_bot: bool = False,
        team_id: str | None = None,
        connected: bool = False,
    ) -> dict[str, Any]:
        """Registers (or replaces) a workspace member; returns the user object users.info gives.

        `team_id` another workspace's: a member of that workspace, whom this one's token cannot
        see, unless `connected` (they share a Slack Connect channel: users.info answers, with
        their own team; lookups by email, DMs and Home tabs still don't reach them)."""
        name = name or (email.split("@", 1)[0] if email else user_id.lower())
        real_name = real_name or name
        user = {
            "id": user_id,
            "team_id": team_id or self.team_id,
            "name": name,
            "deleted": deleted,
            "real_name": real_name,
            "tz": "Europe/London",
            "tz_label": "Greenwich Mean Time",
            "tz_offset": 0,
            "is_admin": False,
            "is_owner": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": int(time.time()),
            "profile": {
                "real_name": real_name,
                "real_name_normalized": real_name,
                "display_name": name,
                "display_name_normalized": name,
                "email": email,
                "team": team_id or self.team_id,
            },
        }
        if email is None:
            del user["profile"]["email"]
        if is_bot and user_id == self.bot_user_id:
            user["profile"]["bot_id"] = self.bot_id
        with self._lock:
            self.users[user_id] = user
            if connected:
                self._connected.add(user_id)
            else:
                self._connected.discard(user_id)
        return user

    def add_workspace(self, team_id: str, bot_token: str, *, name: str | None = None) -> None:
        """Another workspace the app is installed in, with its own bot token."""
        with self._lock:
            self._workspaces[bot_token] = team_id
            if name:
                self._team_names[team_id] = name

    # ------------------------------------------------------------------ installing the app

    def register_app(
        self,
        client_id: str,
        client_secret: str,
        redirect_url: str,
        *,
        token_rotation: bool = False,
        expires_in: int = 43_200,
    ) -> None:
        """The app's credentials and its redirect URL, as on its settings pages in Slack.

        With `token_rotation`, every bot token oauth.v2.access issues stops working
        `expires_in` seconds later (then `token_expired`) and comes with a refresh token,
        which oauth.v2.access (`grant_type=refresh_token`) exchanges, once, for a new pair.
        """
        with self._lock:
            self._oauth_app = {
                "client_id": client_id,
                "client_secret": client_secret,
                "redirect_url": redirect_url,
                "token_rotation": token_rotation,
                "expires_in": expires_in,
            }

    def approve_install(
        self,
        team_id: str | None,
        *,
        team_name: str | None = None,
        installer: str = "U0INSTALLER",
        enterprise_id: str | None = None,
        org_wide: bool = False,
    ) -> str:
        """An admin of `team_id` approves installing the app: returns the one-time code that
        Slack's install page would hand to the redirect URL. `org_wide`: an Enterprise Grid
        org-wide install (of `enterprise_id`, with no workspace of its own)."""
        with self._lock:
            code = f"{self._next()}.{hashlib.sha1(str(time.time()).encode()).hexdigest()[:20]}"
            if team_id and team_name:
                self._team_names[team_id] = team_name
            self._codes[code] = {
                "team_id": None if org_wide else team_id,
                "enterprise_id": enterprise_id,
                "org_wide": org_wide,
                "installer": installer,
            }
            return code

    def approve_next_install(self, team_id: str | None, **kwargs: Any) -> None:
        """The next visit to the install page (`/oauth/v2/authorize`) is approved for this
        workspace (`approve_install`'s arguments); without one, it is cancelled (access_denied)."""
        with self._lock:
            self._approvals.append({"team_id": team_id, **kwargs})

    def team_of(self, token: str | None) -> str | None:
        """The workspace a token acts in (None: a token the emulator does not know, or revoked)."""
        with self._lock:
            return self._workspaces.get(token or "")

    def tokens_of(self, team_id: str) -> list[str]:
        with self._lock:
            return [token for token, team in self._workspaces.items() if team == team_id]

    def expire_token(self, token: str) -> None:
        """The token's time is up: Slack answers `token_expired` to it from now on."""
        with self._lock:
            self._token_expiry[token] = time.time() - 1

    def revoke_tokens(self, team_id: str) -> None:
        """Every token of the workspace stops working, as when the app is uninstalled there."""
        with self._lock:
            for token in self.tokens_of(team_id):
                del self._workspaces[token]
            for refresh, install in list(self._refresh_tokens.items()):
                if install["team_id"] == team_id:
                    del self._refresh_tokens[refresh]

    def add_channel(
        self, channel_id: str, *, name: str | None = None, members: list[str] | None = None
    ) -> dict[str, Any]:
        """Registers a channel the bot may post to (a public or private channel, C…/G…)."""
        channel = {
            "id": channel_id,
            "name": name or channel_id.lower(),
            "is_channel": True,
            "is_im": False,
            "members": list(members or []),
        }
        with self._lock:
            self.channels[channel_id] = channel
        return channel

    def dm_channel_id(self, user_id: str) -> str:
        """The id of the bot's DM with `user_id` (opening it if need be), as conversations.open."""
        with self._lock:
            if user_id not in self.users:
                raise KeyError(f"{user_id} is not a member: add_user() first")
            return self._open_conversation([user_id])

    def messages_to(self, user_id: str) -> list[dict[str, Any]]:
        """Messages the bot posted in its DM with `user_id`, oldest first."""
        with self._lock:
            channel = self._dm_by_members.get(frozenset([user_id]))
            return [m for m in self.messages if channel and m["channel"] == channel]

    # ------------------------------------------------------------------ files members share

    def set_scopes(self, token: str, scopes: list[str] | None) -> None:
        """The bot scopes `token` was granted (None: every scope, the default). A method needing
        a scope the token lacks answers `missing_scope` with `needed` and `provided`, as Slack
        does (files.info needs files:read)."""
        with self._lock:
            if scopes is None:
                self._token_scopes.pop(token, None)
            else:
                self._token_scopes[token] = frozenset(scopes)

    def add_file(
        self,
        user_id: str,
        filename: str,
        content: bytes,
        *,
        mimetype: str = "application/octet-stream",
        title: str | None = None,
        team_id: str | None = None,
    ) -> dict[str, Any]:
        """A file `user_id` uploaded to Slack (not yet in any message): Slack's file object as
        files.info describes it. Its bytes are served at url_private_download, to a request
        with a token of its workspace only."""
        with self._lock:
            if user_id not in self.users:
                raise KeyError(f"{user_id} is not a member: add_user() first")
            file_id = self._new_id("F")
            team = team_id or self.users[user_id].get("team_id") or self.team_id
            url = f"{self.base_url}/files-pri/{team}-{file_id}/{quote(filename)}"
            file = {
                "id": file_id,
                "created": int(time.time()),
                "timestamp": int(time.time()),
                "name": filename,
                "title": title or filename,
                "mimetype": mimetype,
                "filetype": filename.rsplit(".", 1)[-1].lower() if "." in filename else "",
                "pretty_type": mimetype,
                "user": user_id,
                "user_team": team,
                "mode": "hosted",
                "editable": False,
                "is_external": False,
                "external_type": "",
                "size": len(content),
                "url_private": url,
                "url_private_download": (
                    f"{self.base_url}/files-pri/{team}-{file_id}/download/{quote(filename)}"
                ),
                "permalink": f"https://emulated.slack.com/files/{user_id}/{file_id}/",
                "is_public": False,
                "channels": [],
                "groups": [],
                "ims": [],
                "team": team,
                "content": content,
            }
            self.user_files[file_id] = file
            return self._described(file)

    def delete_file(self, file_id: str) -> None:
        """The member deleted the file: files.info answers file_deleted, its URL 404."""
        with self._lock:
            file = self.user_files.get(file_id)
            if file is not None:
                file["mode"] = "tombstone"
                file["content"] = None

    def post_file_message(
        self, user_id: str, channel_id: str, files: list[dict[str, Any]], text: str = ""
    ) -> dict[str, Any]:
        """A message `user_id` posted in `channel_id` (a channel, or their DM with the bot) with
        these files (from add_file): the message as a message shortcut's payload carries it,
        with `files`. Kept in `user_messages`."""
        with self._lock:
            if len(files) > 10:
                raise ValueError("Slack puts at most 10 files on a message")
            ts = self._next_ts()
            shared = [self.user_files[f["id"]] for f in files]
            for file in shared:
                key = "ims" if channel_id.startswith("D") else "channels"
                file[key].append(channel_id)
            message = {
                "type": "message",
                "user": user_id,
                "text": text,
                "ts": ts,
                "team": self.team_id,
                "files": [self._described(file) for file in shared],
                "upload": True,
                "display_as_bot": False,
            }
            self.user_messages.append({**message, "channel": channel_id})
            return message

    def choose_files(
        self, user_id: str, view: dict[str, Any], block_id: str, files: list[tuple[str, bytes]]
    ) -> dict[str, Any]:
        """`user_id` puts these (name, bytes) in the view's file input `block_id`, as Slack's
        file picker does: refused (ValueError) when the block holds no file_input, a file's
        type is not among its `filetypes`, or there are more than its `max_files`. Returns the
        element's state for a view_submission (SlackSender.submit's `values`)."""
        block = next((b for b in view.get("blocks", []) if b.get("block_id") == block_id), None)
        element = (block or {}).get("element") or {}
        if element.get("type") != "file_input":
            raise ValueError(f"block {block_id!r} holds no file_input")
        if len(files) > int(element.get("max_files", 10)):
            raise ValueError("more files than the file input's max_files")
        allowed = element.get("filetypes")
        chosen = []
        for name, content in files:
            extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
            if allowed and extension not in allowed:
                raise ValueError(f"a .{extension} file is not among the input's filetypes")
            added = self.add_file(user_id, name, content)
            with self._lock:
                self.user_files[added["id"]]["_app_upload"] = True
            chosen.append(added)
        return {"type": "file_input", "files": chosen}

    def _described(self, file: dict[str, Any]) -> dict[str, Any]:
        """Slack's file object: a copy, without the bytes (nor the emulator's own notes)."""
        shown = {k: v for k, v in file.items() if k != "content" and not k.startswith("_")}
        return json.loads(json.dumps(shown))

    def new_trigger_id(self, view_id: str | None = None) -> str:
        """A fresh trigger id, as Slack puts in an interaction payload.

        Pass the view the interaction happened in (a button in an open modal, say) so that
        views.push with this trigger stacks onto that modal, up to Slack's limit of 3.
        """
        with self._lock:
            n = self._next()
            trigger = f"{n}.{int(time.time())}.{hashlib.sha1(str(n).encode()).hexdigest()[:16]}"
            if view_id is not None:
                self._trigger_views[trigger] = view_id
            return trigger

    def use_socket_mode(self, url: str | None) -> None:
        """apps.connections.open answers with `url` (a local Socket Mode server's, e.g.
        bot.demo.socket_mode_server), plus a fresh ticket each time, as Slack hands out a new
        WebSocket URL for every connection; None: Socket Mode is off."""
        with self._lock:
            self.socket_mode_url = url

    # ------------------------------------------------------------------ recording, faults

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def fail_next(
        self,
        method: str,
        error: str,
        *,
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
        after_performing: bool = False,
    ) -> None:
        """The next `times` calls of `method` answer `error` instead of being served.

        `after_performing=True`: the calls ARE served (a post is stored, as Slack would), then
        the connection is closed without an answer, as when Slack's answer is lost on the way:
        the client sees the connection drop (`error` and `status` are not used).

        `ratelimited` is answered as Slack does: HTTP 429 with `Retry-After` (default 1 second).
        A 5xx `status` answers with that status. Anything else is HTTP 200 `{"ok": false}`.
        `method` may also be `UPLOAD`, for the POST of file bytes to an upload URL, or
        `RESPONSE_URL`, for the app's next answers to any response URL (answered as Slack does,
        with `status` and the error as a plain word, e.g. 400 `invalid_blocks`).
        """
        raw = (UPLOAD, RESPONSE_URL, FILE_DOWNLOAD)
        if method not in self._methods and method not in raw:
            raise ValueError(f"the Slack emulator does not serve {method!r}")
        if method in raw and status == 200:
            raise ValueError(f"a failed {method} is answered with a non-200 status: pass status=")
        if after_performing and method in raw:
            raise ValueError("after_performing is for Web API methods")
        if error == "ratelimited" and status == 200:
            status = 429
        if status == 429 and retry_after is None:
            retry_after = 1
        with self._lock:
            self._failures.setdefault(method, []).append(
                _Failure(
                    error=error,
                    status=status,
                    retry_after=retry_after,
                    remaining=times,
                    after_performing=after_performing,
                )
            )

    def on_call(self, method: str, hook: Callable[[dict[str, Any]], None] | None) -> None:
        """Runs `hook(params)` as each call of `method` arrives, before it is answered and
        outside the emulator's lock (so the hook may wait, or make calls of its own): a test's
        way of acting while the app waits for Slack. None removes it; reset() removes all."""
        with self._lock:
            if hook is None:
                self._hooks.pop(method, None)
            else:
                self._hooks[method] = hook

    def outage(self, status: int | None = 503) -> None:
        """Until `outage(None)`, every Web API call is answered with HTTP `status` (a Slack
        outage), and recorded as a call. For the port closed instead, stop() the emulator."""
        with self._lock:
            self._outage = status

    def enforce_tiers(
        self, *, time_scale: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> SlackEmulator:
        """From now on, answer a workspace's calls beyond a method's rate limit as Slack does:
        HTTP 429, `{"ok": false, "error": "ratelimited"}`, and `Retry-After` in seconds.

        Limits are per workspace (the token's team) and method, by the tier each method's page
        documents (TIER_LIMITS), at the documented rate with a burst allowance; chat.postMessage
        also one a second per channel (short bursts allowed) and "several hundred" a minute per
        workspace (300). A refused call uses no allowance. `time_scale` > 1 runs the minute
        faster (a bench; give the pacer the same). Off by default: tests see no limits.
        """
        with self._lock:
            self._tiers = _TierLimits(time_scale, clock)
        return self

    def new_response_url(
        self, *, user_id: str, channel_id: str, message_ts: str | None = None
    ) -> str:
        """A response_url as Slack puts in a slash command or interaction payload.

        What the app posts to it is recorded in `responses` (with the user and channel it
        was for) and in `calls` as RESPONSE_URL. `message_ts`: the interaction happened in
        that message of the bot's in `channel_id` (not an ephemeral one), so `replace_original`
        edits it in `messages` and `delete_original` removes it; `response_type: in_channel`
        posts a new message in the channel. Anything else is seen only by the user.
        """
        with self._lock:
            self._counter += 1
            url_id = f"R{self._counter:08d}"
            self._response_urls[url_id] = {
                "user": user_id,
                "channel": channel_id,
                "message_ts": message_ts,
                "uses": 0,
            }
        return f"{self.base_url}/response/{url_id}"

    def open_views(self, user_id: str | None = None) -> list[dict[str, Any]]:
        """The modal stack as a person sees it now, bottom first (one stack: the latest)."""
        with self._lock:
            stacks = [stack for stack in self._view_stacks.values() if stack]
            if not stacks:
                return []
            return [self.views[view_id] for view_id in stacks[-1] if view_id in self.views]

    def apply_view_response(self, view_id: str, response: dict[str, Any] | None) -> None:
        """Does what Slack does with the app's answer to a view_submission.

        No response_action closes the submitted view (the one underneath shows again);
        "errors" keeps it open with the messages, and each must name an input block of the
        view, as Slack requires; "update" replaces it; "push" adds a view on top; "clear"
        closes the whole stack. A malformed answer raises ValueError: Slack would show the
        person a generic error.
        """
        with self._lock:
            stack = self._stack_of(view_id)
            current = self.views.get(view_id)
            if stack is None or current is None:
                raise ValueError(f"view {view_id} is not open")
            action = (response or {}).get("response_action")
            if action is None:
                stack.remove(view_id)
            elif action == "errors":
                inputs = {b.get("block_id") for b in current["blocks"] if b.get("type") == "input"}
                errors = response.get("errors") or {}
                unknown = set(errors) - inputs
                if not errors or unknown:
                    raise ValueError(f"response_action errors names no input block: {unknown}")
                current["errors"] = errors
            elif action in ("update", "push"):
                view = self._valid_view(response, allowed_types=("modal",))
                if action == "update":
                    self._store_view(
                        view,
                        root_view_id=current["root_view_id"],
                        previous_view_id=current.get("previous_view_id"),
                        view_id=view_id,
                    )
                else:
                    if len(stack) >= MAX_VIEW_STACK:
                        raise ValueError("push_limit_reached")
                    pushed = self._store_view(
                        view, root_view_id=stack[0], previous_view_id=stack[-1]
                    )
                    stack.append(pushed["id"])
            elif action == "clear":
                stack.clear()
            else:
                raise ValueError(f"unknown response_action {action!r}")

    def responses_to(self, user_id: str) -> list[dict[str, Any]]:
        """Payloads posted to response URLs made for this user, oldest first."""
        with self._lock:
            return [r["payload"] for r in self.responses if r["user"] == user_id]

    def reset(self) -> None:
        """Forgets calls, injected failures (and enforce_tiers), messages, views, files; keeps
        members and channels."""
        with self._lock:
            self.responses.clear()
            self._response_urls.clear()
            self.calls.clear()
            self._failures.clear()
            self.messages.clear()
            self.ephemerals.clear()
            self.views.clear()
            self.home_views.clear()
            self.files.clear()
            self.user_files.clear()
            self.user_messages.clear()
            self._token_scopes.clear()
            self._uploads.clear()
            self._used_triggers.clear()
            self._trigger_views.clear()
            self._view_stacks.clear()
            self._external_ids.clear()
            self._home_view_ids.clear()
            self._approvals.clear()
            self._codes.clear()
            self._tiers = None
            self._hooks.clear()
            self._outage = None

    def wait_for(self, predicate: Callable[[list[Call]], T], timeout: float = 20.0) -> T:
        """Polls until `predicate(calls)` is truthy, and returns that; TimeoutError after `timeout`.

        For listeners that call Slack after the HTTP ack (lazy listeners, threads). The default
        is generous because only a failure waits it out: a loaded two-core CI machine once ran
        a 5 s wait out on a listener that was merely slow.
        """
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                snapshot = list(self.calls)
            result = predicate(snapshot)
            if result:
                return result
            if time.monotonic() >= deadline:
                made = ", ".join(call.method for call in snapshot) or "none"
                raise TimeoutError(f"no matching Slack call within {timeout}s (calls: {made})")
            time.sleep(0.02)

    # ------------------------------------------------------------------ dispatch

    def _serve_api(
        self, method: str, params: dict[str, Any], token: str | None, body_error: str | None
    ) -> _Answer:
        hook = self._hooks.get(method)
        if hook is not None:
            hook(params)
        with self._lock:
            answer = self._answer_api(method, params, token, body_error)
            self.calls.append(Call(method, params, token, answer.status, answer.body))
            return answer

    def _answer_api(
        self,
        method: str,
        params: dict[str, Any],
        token: str | None,
        body_error: str | None,
        faults: bool = True,
    ) -> _Answer:
        handler = self._methods.get(method)
        if handler is None:
            return _Answer(200, {"ok": False, "error": "unknown_method", "req_method": method})
        if method not in ("api.test", "oauth.v2.access"):
            if not token:
                return _Answer(200, {"ok": False, "error": "not_authed"})
            if token in self._workspaces and (token == self.app_token) != (
                method in APP_TOKEN_METHODS
            ):
                return _Answer(200, {"ok": False, "error": "not_allowed_token_type"})
            if token not in self._workspaces:
                return _Answer(200, {"ok": False, "error": "invalid_auth"})
            if self._token_expiry.get(token, float("inf")) <= time.time():
                return _Answer(200, {"ok": False, "error": "token_expired"})
            self._caller_team = self._workspaces[token]
            self._caller_token = token
        if self._outage is not None and method != "api.test":
            return _Answer(self._outage, {"ok": False, "error": "service_unavailable"})
        injected = self._take_failure(method) if faults else None
        if injected is not None and not injected.drop:
            return injected
        if injected is not None:  # performed, then the answer is lost
            answer = self._answer_api(method, params, token, body_error, faults=False)
            return _Answer(answer.status, answer.body, answer.headers, drop=True)
        if self._tiers is not None and method != "api.test":
            channel = params.get("channel") if method == "chat.postMessage" else None
            if channel and str(channel) in self.users:  # a user id: the DM it opens
                channel = self._dm_by_members.get(frozenset([str(channel)]), channel)
            wait = self._tiers.refuse(self._caller_team, method, channel and str(channel))
            if wait is not None:
                headers = {"Retry-After": str(max(1, math.ceil(wait)))}
                return _Answer(429, {"ok": False, "error": "ratelimited"}, headers)
        if body_error is not None:
            return _Answer(200, {"ok": False, "error": body_error})
        try:
            return _Answer(200, {"ok": True, **handler(params)})
        except _Refusal as refusal:
            return _Answer(200, {"ok": False, "error": refusal.error, **refusal.extra})
        except Exception as bug:  # an emulator bug: say so, rather than drop the connection
            return _Answer(500, {"ok": False, "error": f"emulator_error: {bug!r}"})

    def _serve_upload(self, file_id: str, content: bytes, token: str | None) -> _Answer:
        with self._lock:
            answer = self._take_failure(UPLOAD)
            if answer is not None:
                answer = _Answer(answer.status, answer.body["error"], answer.headers)
            else:
                upload = self._uploads.get(file_id)
                if upload is None:
                    answer = _Answer(404, "Not Found")
                else:
                    upload.content = content
                    answer = _Answer(200, f"OK - {len(content)}")
            params = {"file_id": file_id, "length": len(content)}
            self.calls.append(Call(UPLOAD, params, token, answer.status, answer.body))
            return answer

    def _serve_authorize(self, query: dict[str, str]) -> _Answer:
        """Slack's install page, as the installer's browser meets it: straight back to the
        app's redirect URL with a code (the install `approve_next_install` granted) and the
        app's `state`, or with `error=access_denied` when nobody approved one."""
        with self._lock:
            app = self._oauth_app
            if app is None or query.get("client_id") != app["client_id"]:
                return _Answer(400, "invalid_client_id")
            back = query.get("redirect_uri") or app["redirect_url"]
            if back != app["redirect_url"]:
                return _Answer(400, "bad_redirect_uri")
            state = {"state": query["state"]} if query.get("state") else {}
            if self._approvals:
                approval = self._approvals.pop(0)
                team_id = approval.pop("team_id")
                answer = {"code": self.approve_install(team_id, **approval), **state}
            else:
                answer = {"error": "access_denied", **state}
            self.calls.append(Call("oauth/v2/authorize", dict(query), None, 302, answer))
            return _Answer(302, "", {"Location": f"{back}?{urlencode(answer)}"})

    def _serve_response_url(self, url_id: str, body: bytes) -> _Answer:
        with self._lock:
            target = self._response_urls.get(url_id)
            try:
                payload = json.loads(body or b"{}")
            except (json.JSONDecodeError, UnicodeDecodeError):
                payload = None
            injected = self._take_failure(RESPONSE_URL) if target is not None else None
            if injected is not None:
                answer = _Answer(injected.status, injected.body["error"], injected.headers)
            elif target is None:
                answer = _Answer(404, "expired_url")
            elif target["uses"] >= RESPONSE_URL_USES:
                answer = _Answer(404, "used_url")
            elif not isinstance(payload, dict):
                answer = _Answer(400, "invalid_payload")
            elif not (
                payload.get("text") or payload.get("blocks") or payload.get("delete_original")
            ):
                answer = _Answer(400, "no_text")
            elif (refusal := message_refusal(payload)) is not None:
                # A response URL answers as an incoming webhook does: HTTP 400, a plain word.
                answer = _Answer(400, refusal[0])
            else:
                target["uses"] += 1
                self._apply_response(target, payload)
                self.responses.append(
                    {
                        "url_id": url_id,
                        "user": target["user"],
                        "channel": target["channel"],
                        "payload": payload,
                    }
                )
                answer = _Answer(200, "ok")
            params = payload if isinstance(payload, dict) else {}
            self.calls.append(Call(RESPONSE_URL, params, None, answer.status, answer.body))
            return answer

    def _apply_response(self, target: dict[str, Any], payload: dict[str, Any]) -> None:
        """What a response URL's answer does to the channel's history, as Slack does it."""
        stored = next(
            (
                m
                for m in self.messages
                if target["message_ts"]
                and m["channel"] == target["channel"]
                and m["ts"] == target["message_ts"]
            ),
            None,
        )
        if stored is not None and _truthy(payload.get("delete_original")):
            self.messages.remove(stored)
        elif stored is not None and _truthy(payload.get("replace_original")):
            stored.update(
                text=payload.get("text") or "",
                blocks=payload.get("blocks"),
                attachments=payload.get("attachments"),
            )
        elif payload.get("response_type") == "in_channel" and not _truthy(
            payload.get("replace_original")
        ):
            self.messages.append(
                {
                    "channel": target["channel"],
                    "ts": self._next_ts(),
                    "text": payload.get("text") or "",
                    "blocks": payload.get("blocks"),
                    "attachments": payload.get("attachments"),
                    "thread_ts": None,
                    "metadata": None,
                }
            )

    def _take_failure(self, method: str) -> _Answer | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.remaining -= 1
        if failure.remaining <= 0:
            queue.pop(0)
        if failure.after_performing:
            return _Answer(0, {}, drop=True)
        headers = {}
        if failure.retry_after is not None:
            headers["Retry-After"] = str(failure.retry_after)
        return _Answer(failure.status, {"ok": False, "error": failure.error}, headers)

    # ------------------------------------------------------------------ methods

    def _api_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"args": dict(params)}

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        slug = re.sub(r"[^a-z0-9]+", "-", self.team_name.lower()).strip("-") or "workspace"
        return {
            "url": f"https://{slug}.slack.com/",
            "team": self._team_names.get(self._caller_team, self.team_name),
            "user": self.users[self.bot_user_id]["name"],
            "team_id": self._caller_team,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._postable_channel(params.get("channel"))
        text, blocks, attachments = self._message_content(params)
        if not text and not blocks and not attachments:
            raise _Refusal("no_text")
        metadata = self._decoded(params, "metadata", "invalid_metadata_format")
        if metadata is not None and not _is_message_metadata(metadata):
            raise _Refusal("invalid_metadata_schema")
        ts = self._next_ts()
        message = {
            "user": self.bot_user_id,
            "type": "message",
            "ts": ts,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "text": text or "",
            "team": self.team_id,
        }
        if blocks is not None:
            message["blocks"] = blocks
        if attachments is not None:
            message["attachments"] = attachments
        thread_ts = params.get("thread_ts") or None
        if thread_ts:
            message["thread_ts"] = thread_ts
        self.messages.append(
            {
                "channel": channel,
                "ts": ts,
                "text": text or "",
                "blocks": blocks,
                "attachments": attachments,
                "thread_ts": thread_ts,
                "metadata": metadata,
            }
        )
        return {"channel": channel, "ts": ts, "message": message}

    def _chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._postable_channel(params.get("channel"))
        user = params.get("user")
        if not user or not self._is_active_user(user):
            raise _Refusal("user_not_in_channel")
        text, blocks, attachments = self._message_content(params)
        if not text and not blocks and not attachments:
            raise _Refusal("no_text")
        ts = self._next_ts()
        self.ephemerals.append(
            {
                "channel": channel,
                "user": user,
                "text": text or "",
                "blocks": blocks,
                "attachments": attachments,
                "thread_ts": params.get("thread_ts") or None,
                "message_ts": ts,
            }
        )
        return {"message_ts": ts}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        # Slack wants the DM's D… id here, not the member's U… id chat.postMessage accepts.
        channel = params.get("channel")
        if not channel or not self._is_known_channel(channel):
            raise _Refusal("channel_not_found")
        ts = params.get("ts")
        stored = next((m for m in self.messages if m["channel"] == channel and m["ts"] == ts), None)
        if stored is None:
            raise _Refusal("message_not_found")
        text, blocks, attachments = self._message_content(params)
        # Documented: blocks and attachments left out of the update are kept.
        updated = {
            "text": stored["text"] if text is None else text,
            "blocks": stored["blocks"] if blocks is None else blocks,
            "attachments": stored["attachments"] if attachments is None else attachments,
        }
        if not updated["text"] and not updated["blocks"] and not updated["attachments"]:
            raise _Refusal("no_text")
        stored.update(updated)
        message = self._bot_message(stored)
        return {"channel": channel, "ts": ts, "text": stored["text"], "message": message}

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel")
        users_param = params.get("users")
        if not users_param:
            if channel:
                if channel in self._dm_by_members.values():
                    return {"channel": {"id": channel}}
                raise _Refusal("channel_not_found")
            raise _Refusal("users_list_not_supplied")
        if isinstance(users_param, list):
            users_param = ",".join(map(str, users_param))
        user_ids = [u.strip() for u in str(users_param).split(",") if u.strip()]
        # Slack adds the caller itself; naming it is allowed but changes nothing.
        user_ids = [u for u in user_ids if u != self.bot_user_id] or [self.bot_user_id]
        if len(user_ids) > MAX_CONVERSATION_USERS:
            raise _Refusal("too_many_users")
        for user_id in user_ids:
            user = self.users.get(user_id)
            if user is None or not self._in_caller_team(user):
                raise _Refusal("user_not_found")
            if user["deleted"]:
                raise _Refusal("user_disabled")
        already_open = frozenset(user_ids) in self._dm_by_members
        channel_id = self._open_conversation(user_ids)
        if params.get("return_im") not in (True, "true", "1", 1):
            return {"channel": {"id": channel_id}}
        # Documented: return_im expands the channel, and says whether it was already open.
        channel = {"id": channel_id, "is_im": len(user_ids) == 1, "is_open": True}
        if len(user_ids) == 1:
            channel["user"] = user_ids[0]
        answer: dict[str, Any] = {"channel": channel}
        if already_open:
            answer.update(no_op=True, already_open=True)
        return answer

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        """Top-level messages newest first, between `oldest` and `latest` (exclusive unless
        `inclusive`), `limit` a page, paged by `cursor`. As documented, message metadata is
        returned only with `include_all_metadata`; thread replies are left out.
        """
        channel = params.get("channel")
        if not channel or not self._is_known_channel(str(channel)):
            raise _Refusal("channel_not_found")
        # Decimal, not float: two messages a microsecond apart must not compare equal.
        oldest = _history_bound(params.get("oldest"), Decimal(0), "invalid_ts_oldest")
        latest = _history_bound(params.get("latest"), Decimal(time.time()), "invalid_ts_latest")
        inclusive = _truthy(params.get("inclusive"))
        try:
            limit = int(params.get("limit") or HISTORY_DEFAULT_LIMIT)
        except (TypeError, ValueError):
            raise _Refusal("invalid_arguments", "[ERROR] limit must be an integer") from None
        limit = min(max(limit, 1), HISTORY_MAX_LIMIT)
        with_metadata = _truthy(params.get("include_all_metadata"))

        def in_range(ts: Decimal) -> bool:
            if inclusive:
                return oldest <= ts <= latest
            return oldest < ts < latest

        found = [
            m
            for m in self.messages
            if m["channel"] == channel
            and m["thread_ts"] in (None, m["ts"])
            and in_range(Decimal(m["ts"]))
        ]
        found.sort(key=lambda m: Decimal(m["ts"]), reverse=True)
        cursor = params.get("cursor")
        if cursor:
            before = _cursor_ts(str(cursor))
            found = [m for m in found if Decimal(m["ts"]) < before]
        page, rest = found[:limit], found[limit:]
        answer: dict[str, Any] = {
            "messages": [self._history_message(m, with_metadata) for m in page],
            "has_more": bool(rest),
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
        }
        if rest:
            next_cursor = base64.b64encode(f"next_ts:{page[-1]['ts']}".encode()).decode()
            answer["response_metadata"] = {"next_cursor": next_cursor}
        return answer

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        view = self._valid_view(params, allowed_types=("modal",))
        self._exchange_trigger(params)
        stored = self._store_view(view, root_view_id=None, previous_view_id=None)
        self._view_stacks[stored["id"]] = [stored["id"]]
        return {"view": stored}

    def _views_push(self, params: dict[str, Any]) -> dict[str, Any]:
        view = self._valid_view(params, allowed_types=("modal",))
        from_view = self._exchange_trigger(params)
        stack = self._stack_of(from_view) if from_view else None
        if stack is not None and len(stack) >= MAX_VIEW_STACK:
            raise _Refusal("push_limit_reached")
        root = stack[0] if stack else None
        previous = stack[-1] if stack else None
        stored = self._store_view(view, root_view_id=root, previous_view_id=previous)
        if stack is not None:
            stack.append(stored["id"])
        else:
            self._view_stacks[stored["id"]] = [stored["id"]]
        return {"view": stored}

    def _views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        view_id = params.get("view_id")
        external_id = params.get("external_id")
        if not view_id and not external_id:
            raise _Refusal("invalid_arguments", "[ERROR] either view_id or external_id is required")
        if not view_id:
            view_id = self._external_ids.get(external_id)
        current = self.views.get(view_id) if view_id else None
        if current is None:
            raise _Refusal("not_found")
        view = self._valid_view(params, allowed_types=(current["type"],))
        expected_hash = params.get("hash")
        if expected_hash and expected_hash != current["hash"]:
            raise _Refusal("hash_conflict")
        stored = self._store_view(
            view,
            root_view_id=current["root_view_id"],
            previous_view_id=current.get("previous_view_id"),
            view_id=view_id,
        )
        for user_id, home in self.home_views.items():
            if home["id"] == view_id:
                self.home_views[user_id] = stored
        return {"view": stored}

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = params.get("user_id")
        if not user_id or not self._is_active_user(user_id):
            raise _Refusal("user_not_found")
        view = self._valid_view(params, allowed_types=("home",))
        current = self.home_views.get(user_id)
        expected_hash = params.get("hash")
        if expected_hash and current is not None and expected_hash != current["hash"]:
            raise _Refusal("hash_conflict")
        view_id = self._home_view_ids.setdefault(user_id, self._new_id("V"))
        stored = self._store_view(view, root_view_id=None, previous_view_id=None, view_id=view_id)
        self.home_views[user_id] = stored
        return {"view": stored}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = params.get("user") or ""
        user = self.users.get(user_id)
        if user is None or not (self._in_caller_team(user) or user_id in self._connected):
            raise _Refusal("user_not_found")
        return {"user": user}

    def _users_lookup_by_email(self, params: dict[str, Any]) -> dict[str, Any]:
        email = params.get("email")
        if not email:
            raise _Refusal("invalid_arguments", "[ERROR] missing required field: email")
        for user in self.users.values():
            found = user["profile"].get("email", "").lower() == str(email).lower()
            # Documented: a deactivated member is users_not_found too; and only the token's
            # workspace is searched.
            if found and not user["deleted"] and self._in_caller_team(user):
                return {"user": user}
        raise _Refusal("users_not_found")

    def _users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        """The token's workspace's members, deleted ones and bots included (as Slack lists
        them), with profile.email (the app has users:read.email), a page at a time: `limit`
        (Slack caps a page at 1,000; none means all) and `cursor`, the last page's
        response_metadata.next_cursor, which is empty at the end."""
        cursor = params.get("cursor") or ""
        start = 0
        if cursor:
            try:
                prefix, _, offset = (
                    base64.b64decode(cursor.encode(), validate=True).decode().partition(":")
                )
                start = int(offset)
            except (binascii.Error, UnicodeDecodeError, ValueError):
                raise _Refusal("invalid_cursor") from None
            if prefix != "users" or start < 0:
                raise _Refusal("invalid_cursor")
        try:
            limit = int(params.get("limit") or 0)
        except (TypeError, ValueError):
            raise _Refusal("invalid_limit") from None
        members = [
            user
            for user in self.users.values()
            if user["team_id"] == self._caller_team or user["id"] == self.bot_user_id
        ]
        end = len(members) if limit <= 0 else start + min(limit, 1000)
        page = members[start:end]
        next_cursor = (
            base64.b64encode(f"users:{end}".encode()).decode() if end < len(members) else ""
        )
        return {
            "members": [json.loads(json.dumps(user)) for user in page],
            "cache_ts": int(time.time()),
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _files_get_upload_url_external(self, params: dict[str, Any]) -> dict[str, Any]:
        filename = params.get("filename")
        length = params.get("length")
        if not filename or length in (None, ""):
            missing = "filename" if not filename else "length"
            raise _Refusal("invalid_arguments", f"[ERROR] missing required field: {missing}")
        try:
            length = int(length)
        except (TypeError, ValueError):
            raise _Refusal("invalid_arguments", "[ERROR] length must be an integer") from None
        file_id = self._new_id("F")
        self._uploads[file_id] = _Upload(
            file_id=file_id,
            filename=str(filename),
            length=length,
            alt_txt=params.get("alt_txt"),
            snippet_type=params.get("snippet_type"),
        )
        return {"upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload_external(self, params: dict[str, Any]) -> dict[str, Any]:
        entries = self._decoded(params, "files", "invalid_arguments")
        if not isinstance(entries, list) or not entries:
            raise _Refusal("invalid_arguments", "[ERROR] missing required field: files")
        channels = []
        if params.get("channel_id"):
            channels.append(params["channel_id"])
        if params.get("channels"):
            channels.extend(c.strip() for c in str(params["channels"]).split(",") if c.strip())
        shared_in = [self._postable_channel(c) for c in channels]
        uploads = []
        for entry in entries:
            upload = self._uploads.get(entry.get("id")) if isinstance(entry, dict) else None
            # Completing twice, or a file never uploaded, finds nothing to complete.
            if upload is None or upload.content is None:
                raise _Refusal("file_not_found")
            uploads.append((upload, entry.get("title") or upload.filename))
        completed = []
        for upload, title in uploads:
            del self._uploads[upload.file_id]
            self.files.append(
                {
                    "id": upload.file_id,
                    "filename": upload.filename,
                    "title": title,
                    "content": upload.content,
                    "length": upload.length,
                    "channel": shared_in[0] if shared_in else None,
                    "channels": shared_in,
                    "initial_comment": params.get("initial_comment"),
                    "thread_ts": params.get("thread_ts"),
                }
            )
            completed.append({"id": upload.file_id, "title": title})
        return {"files": completed}

    def _files_info(self, params: dict[str, Any]) -> dict[str, Any]:
        """files.info: the file object, if the caller's workspace can see it (files:read)."""
        self._require_scope("files:read")
        file = self.user_files.get(str(params.get("file") or ""))
        if file is None or file["team"] != self._caller_team or not self._bot_sees(file):
            raise _Refusal("file_not_found")
        if file["mode"] == "tombstone":
            raise _Refusal("file_deleted")
        return {
            "file": self._described(file),
            "comments": [],
            "response_metadata": {"next_cursor": ""},
        }

    def _bot_sees(self, file: dict[str, Any]) -> bool:
        """A bot token reads a file shared where the bot is (its DMs, a channel it is a member
        of) or put in one of its own modals' file inputs; not a file in a channel without it."""
        if file.get("_app_upload") or file["ims"]:
            return True
        return any(
            self.bot_user_id in (self.channels.get(c) or {}).get("members", [])
            for c in file["channels"]
        )

    def _require_scope(self, scope: str) -> None:
        granted = self._token_scopes.get(self._caller_token or "")
        if granted is not None and scope not in granted:
            raise _Refusal("missing_scope", needed=scope, provided=",".join(sorted(granted)))

    def _serve_file(self, path: str, token: str | None) -> _Answer:
        """GET of a file's url_private(_download). As Slack: the bytes to a bot or user token
        of the file's workspace; without one (or with another's), a redirect to the sign-in
        page; a deleted or unknown file, 404. An `on_call(FILE_DOWNLOAD, hook)` runs first."""
        hook = self._hooks.get(FILE_DOWNLOAD)
        if hook is not None:
            hook({"path": path})
        with self._lock:
            answer = self._take_failure(FILE_DOWNLOAD)
            file_id = path.split("/", 1)[0].rsplit("-", 1)[-1]
            file = self.user_files.get(file_id)
            if answer is not None:
                answer = _Answer(answer.status, answer.body["error"], answer.headers)
            elif (
                token is None
                or self._workspaces.get(token) is None
                or (file is not None and self._workspaces.get(token) != file["team"])
            ):
                login = f"{self.base_url}/?redir={path}"
                answer = _Answer(302, "Found", {"Location": login})
            elif file is None or file["content"] is None:
                answer = _Answer(404, "Not Found")
            else:
                answer = _Answer(
                    200,
                    file["content"],
                    {
                        "Content-Type": file["mimetype"],
                        "Content-Disposition": f'attachment; filename="{file["name"]}"',
                    },
                )
            self.calls.append(Call(FILE_DOWNLOAD, {"file_id": file_id}, token, answer.status, ""))
            return answer

    def _apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.socket_mode_url is None:
            # The emulator's own word (a test forgot use_socket_mode), not Slack's.
            raise _Refusal("emulator_has_no_socket_mode_server")
        ticket = hashlib.sha1(f"ticket-{self._next()}".encode()).hexdigest()[:16]
        separator = "&" if "?" in self.socket_mode_url else "?"
        return {"url": f"{self.socket_mode_url}{separator}ticket={ticket}&app_id={self.app_id}"}

    def _oauth_v2_access(self, params: dict[str, Any]) -> dict[str, Any]:
        """A code for an install's token, or (`grant_type=refresh_token`) a rotating token's
        refresh token for a new token, as Slack answers them."""
        app = self._oauth_app
        if app is None or params.get("client_id") != app["client_id"]:
            raise _Refusal("invalid_client_id")
        if params.get("client_secret") != app["client_secret"]:
            raise _Refusal("bad_client_secret")
        if params.get("grant_type") == "refresh_token":
            install = self._refresh_tokens.pop(str(params.get("refresh_token") or ""), None)
            if install is None:
                raise _Refusal("invalid_refresh_token")
        else:
            install = self._codes.pop(str(params.get("code") or ""), None)
            if install is None:
                raise _Refusal("invalid_code")
            redirect = params.get("redirect_uri")
            if redirect and redirect != app["redirect_url"]:
                raise _Refusal("bad_redirect_uri")
        team_id = install["team_id"]
        n = self._next()
        token = f"xoxb-{team_id or install['enterprise_id']}-{n}"
        if app["token_rotation"]:
            token = f"xoxe.{token}"
        answer: dict[str, Any] = {
            "access_token": token,
            "token_type": "bot",
            "scope": "commands,chat:write",
            "bot_user_id": self.bot_user_id,
            "app_id": self.app_id,
            "team": (
                {"id": team_id, "name": self._team_names.get(team_id, team_id)} if team_id else None
            ),
            "enterprise": (
                {"id": install["enterprise_id"], "name": "Enterprise"}
                if install["enterprise_id"]
                else None
            ),
            "is_enterprise_install": install["org_wide"],
        }
        if params.get("grant_type") != "refresh_token":
            answer["authed_user"] = {"id": install["installer"]}
        self._workspaces[token] = team_id  # type: ignore[assignment]
        if app["token_rotation"]:
            refresh = f"xoxe-1-{n}-{hashlib.sha1(token.encode()).hexdigest()[:16]}"
            self._refresh_tokens[refresh] = install
            self._token_expiry[token] = time.time() + app["expires_in"]
            answer.update(refresh_token=refresh, expires_in=app["expires_in"])
        return answer

    def _auth_revoke(self, params: dict[str, Any]) -> dict[str, Any]:
        self._workspaces.pop(self._caller_token or "", None)
        return {"revoked": True}

    # ------------------------------------------------------------------ helpers

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}0EMU{self._next():05d}"

    def _next_ts(self) -> str:
        """A message ts: seconds.microseconds, unique and increasing, as Slack's are."""
        micros = max(int(time.time() * 1_000_000), self._last_ts_micros + 1)
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _is_active_user(self, user_id: str) -> bool:
        """A member of the calling token's workspace, not deactivated."""
        user = self.users.get(user_id)
        return user is not None and not user["deleted"] and self._in_caller_team(user)

    def _in_caller_team(self, user: dict[str, Any]) -> bool:
        return user["team_id"] == self._caller_team or user["id"] == self.bot_user_id

    def _is_known_channel(self, channel_id: str) -> bool:
        return channel_id in self.channels or channel_id in self._dm_by_members.values()

    def _postable_channel(self, channel: Any) -> str:
        """The conversation a post lands in: a member's U… id means the bot's DM with them."""
        if not channel:
            raise _Refusal("channel_not_found")
        channel = str(channel)
        if self._is_known_channel(channel):
            return channel
        if channel != self.bot_user_id and self._is_active_user(channel):
            return self._open_conversation([channel])
        raise _Refusal("channel_not_found")

    def _open_conversation(self, user_ids: list[str]) -> str:
        members = frozenset(user_ids)
        channel_id = self._dm_by_members.get(members)
        if channel_id is None:
            # A 1:1 DM is D…; a group DM (mpim) is G….
            channel_id = self._new_id("D" if len(members) == 1 else "G")
            self._dm_by_members[members] = channel_id
        return channel_id

    def _decoded(self, params: dict[str, Any], name: str, error: str) -> Any:
        value = params.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                raise _Refusal(error) from None
        return value

    def _message_content(self, params: dict[str, Any]) -> tuple[str | None, Any, Any]:
        text = params.get("text")
        blocks = self._decoded(params, "blocks", "invalid_blocks_format")
        if blocks is not None:
            if not isinstance(blocks, list):
                raise _Refusal("invalid_blocks_format")
            problems = blocks_problems(blocks, "message", "/blocks")
            if problems:
                raise _Refusal(
                    "invalid_blocks", *(f"[ERROR] {p}" for p in problems), errors=problems
                )
        if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
            raise _Refusal("msg_too_long")
        attachments = self._decoded(params, "attachments", "invalid_attachments")
        return (None if text is None else str(text)), blocks, attachments

    def _history_message(self, stored: dict[str, Any], with_metadata: bool) -> dict[str, Any]:
        message = {**self._bot_message(stored), "ts": stored["ts"]}
        if stored["thread_ts"]:
            message["thread_ts"] = stored["thread_ts"]
        if with_metadata and stored.get("metadata") is not None:
            message["metadata"] = stored["metadata"]
        return message

    def _bot_message(self, stored: dict[str, Any]) -> dict[str, Any]:
        """A message the bot sent, as the Web API shows it (chat.update, conversations.history)."""
        message = {
            "user": self.bot_user_id,
            "type": "message",
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "text": stored["text"],
            "team": self.team_id,
        }
        if stored["blocks"] is not None:
            message["blocks"] = stored["blocks"]
        if stored["attachments"] is not None:
            message["attachments"] = stored["attachments"]
        return message

    def _exchange_trigger(self, params: dict[str, Any]) -> str | None:
        """Uses up the trigger id; returns the view it came from, if the test said so."""
        trigger = params.get("trigger_id") or params.get("interactivity_pointer")
        if not trigger or not str(trigger)[:1].isdigit():
            raise _Refusal("invalid_trigger_id")
        if trigger in self._used_triggers:
            raise _Refusal("exchanged_trigger_id")
        self._used_triggers.add(trigger)
        return self._trigger_views.get(trigger)

    def _stack_of(self, view_id: str) -> list[str] | None:
        for stack in self._view_stacks.values():
            if view_id in stack:
                return stack
        return None

    def _valid_view(self, params: dict[str, Any], *, allowed_types: tuple[str, ...]) -> dict:
        """The `view` argument, checked the way Slack checks it before showing anything."""
        raw = params.get("view")
        if raw is None:
            raise _Refusal("invalid_arguments", "[ERROR] missing required field: view")
        try:
            view = json.loads(raw) if isinstance(raw, str | bytes) else raw
        except json.JSONDecodeError:
            view = None
        if not isinstance(view, dict):
            problem = "failed to match all allowed schemas [json-pointer:/view]"
            raise _Refusal("invalid_arguments", f"[ERROR] {problem}")
        if len(json.dumps(view).encode()) > MAX_VIEW_BYTES:
            raise _Refusal("view_too_large")
        problems = view_problems(view, allowed_types)
        if problems:
            raise _Refusal("invalid_arguments", *(f"[ERROR] {p}" for p in problems))
        return view

    def _store_view(
        self,
        view: dict[str, Any],
        *,
        root_view_id: str | None,
        previous_view_id: str | None,
        view_id: str | None = None,
    ) -> dict[str, Any]:
        view_id = view_id or self._new_id("V")
        external_id = view.get("external_id") or ""
        if external_id:
            owner = self._external_ids.get(external_id)
            if owner is not None and owner != view_id:
                raise _Refusal("duplicate_external_id")
            self._external_ids[external_id] = view_id
        n = self._next()
        stored = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view["type"],
            "title": view.get("title"),
            "submit": view.get("submit"),
            "close": view.get("close"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": external_id,
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{hashlib.sha1(str(n).encode()).hexdigest()[:8]}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "root_view_id": root_view_id or view_id,
            "previous_view_id": previous_view_id,
            "app_id": self.app_id,
            "bot_id": self.bot_id,
        }
        if view["type"] == "home":
            for key in ("submit", "close", "clear_on_close", "notify_on_close"):
                stored.pop(key)
            stored["previous_view_id"] = None
        self.views[view_id] = stored
        return stored


# Each method's tier as its reference page gives it (docs.slack.dev/reference/methods/...), and
# the tier's documented rate ("20+ per minute", ...) with a burst allowance: Slack tolerates
# "occasional bursts" (Tier 2), welcomes "sporadic bursts" (Tier 3), grants "generous burst
# behavior" (Tier 4). Per minute, burst.
TIER_2 = (20, 5)
TIER_3 = (50, 10)
TIER_4 = (100, 20)
TIER_LIMITS: dict[str, tuple[float, int]] = {
    "auth.test": (600, 50),  # special: "hundreds of requests per minute"
    "chat.postMessage": (300, 20),  # per workspace: "several hundred messages per minute"
    "chat.postEphemeral": TIER_4,
    "chat.update": TIER_3,
    "conversations.open": TIER_3,
    "conversations.history": TIER_3,
    "users.info": TIER_4,
    "users.lookupByEmail": TIER_3,
    "users.list": TIER_2,
    "views.open": TIER_4,
    "views.push": TIER_4,
    "views.update": TIER_4,
    "views.publish": TIER_4,
    "files.getUploadURLExternal": TIER_4,
    "files.completeUploadExternal": TIER_4,
    "files.info": TIER_4,
}
POST_PER_CHANNEL = (60, 6)  # "1 message per second to a specific channel", short bursts


class _TierLimits:
    """GCRA per (team, method) and per (team, chat.postMessage, channel): each call's slot, and
    how far ahead of its slot a call may come (the burst). Guarded by the emulator's lock."""

    def __init__(self, time_scale: float, clock: Callable[[], float]) -> None:
        self.time_scale = time_scale
        self.clock = clock
        self.due: dict[tuple[str, ...], float] = {}

    def refuse(self, team: str, method: str, channel: str | None) -> float | None:
        """None, counting the call, if it is within its limits; else seconds to wait."""
        now = self.clock()
        limits = [((team, method), TIER_LIMITS.get(method, TIER_2))]
        if method == "chat.postMessage" and channel:
            limits.append(((team, method, channel), POST_PER_CHANNEL))
        wait, slots = 0.0, []
        for key, (per_minute, burst) in limits:
            interval = 60.0 / per_minute / self.time_scale
            due = max(self.due.get(key, now), now)
            wait = max(wait, due - (burst - 1) * interval - now)
            slots.append((key, due + interval))
        if wait > 1e-9:
            return wait  # real seconds (the clock's), which a client sleeps
        self.due.update(slots)
        return None


def _is_message_metadata(metadata: Any) -> bool:
    """Slack's message metadata schema: an `event_type` string and an `event_payload` object."""
    return (
        isinstance(metadata, dict)
        and isinstance(metadata.get("event_type"), str)
        and bool(metadata["event_type"])
        and isinstance(metadata.get("event_payload"), dict)
    )


def _truthy(value: Any) -> bool:
    """A boolean argument as Slack reads it: slack_sdk sends True as "1" in a query string."""
    return value in (True, 1, "1", "true", "True")


def _history_bound(value: Any, default: Decimal, error: str) -> Decimal:
    if value in (None, ""):
        return default
    try:
        bound = Decimal(str(value))
    except InvalidOperation:
        raise _Refusal(error) from None
    if not bound.is_finite():
        raise _Refusal(error)
    return bound


def _cursor_ts(cursor: str) -> Decimal:
    """The ts a conversations.history cursor continues before (Slack's are base64 too)."""
    try:
        prefix, _, ts = base64.b64decode(cursor.encode(), validate=True).decode().partition(":")
        before = Decimal(ts)
    except (binascii.Error, UnicodeDecodeError, InvalidOperation):
        raise _Refusal("invalid_cursor") from None
    if prefix != "next_ts" or not before.is_finite():
        raise _Refusal("invalid_cursor")
    return before


class _Handler(BaseHTTPRequestHandler):
    server_version = "SlackEmulator/1.0"

    @property
    def emulator(self) -> SlackEmulator:
        return self.server.emulator  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests read `emulator.calls`, not stderr

    def _handle(self) -> None:
        try:
            answer = self._answer()
        except Exception as bug:  # an emulator bug: answer it, rather than drop the connection
            answer = _Answer(500, {"ok": False, "error": f"emulator_error: {bug!r}"})
        self._send(answer)

    def _answer(self) -> _Answer:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        token = _bearer(self.headers.get("Authorization"))
        if url.path.startswith("/api/"):
            method = url.path[len("/api/") :].strip("/")
            params, body_token, body_error = _read_params(
                url.query, body, self.headers.get("Content-Type"), method
            )
            # oauth.v2.access takes the app's credentials as HTTP Basic auth (slack_sdk's way).
            for name, value in _basic(self.headers.get("Authorization")).items():
                params.setdefault(name, value)
            return self.emulator._serve_api(method, params, token or body_token, body_error)
        if url.path.rstrip("/") == "/oauth/v2/authorize":
            return self.emulator._serve_authorize(dict(parse_qsl(url.query)))
        if url.path.startswith("/response/"):
            return self.emulator._serve_response_url(url.path[len("/response/") :].strip("/"), body)
        if url.path.startswith("/files-pri/") and self.command == "GET":
            return self.emulator._serve_file(url.path[len("/files-pri/") :], token)
        if url.path.startswith("/upload/"):
            file_id = url.path[len("/upload/") :].strip("/")
            content = _uploaded_bytes(body, self.headers.get("Content-Type"))
            return self.emulator._serve_upload(file_id, content, token)
        return _Answer(404, "Not Found")

    def _send(self, answer: _Answer) -> None:
        if answer.drop:  # performed; the answer is lost on the way: no bytes, connection closed
            self.close_connection = True
            return
        headers = dict(answer.headers)
        if isinstance(answer.body, dict):
            payload = json.dumps(answer.body).encode()
            content_type = "application/json; charset=utf-8"
        elif isinstance(answer.body, bytes):
            payload = answer.body
            content_type = headers.pop("Content-Type", "application/octet-stream")
        else:
            payload = answer.body.encode()
            content_type = "text/plain; charset=utf-8"
        self.send_response(answer.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


def _basic(header: str | None) -> dict[str, str]:
    if not header or not header.lower().startswith("basic "):
        return {}
    try:
        decoded = base64.b64decode(header[len("basic ") :].strip()).decode()
    except (binascii.Error, UnicodeDecodeError):
        return {}
    client_id, _, client_secret = decoded.partition(":")
    return {"client_id": client_id, "client_secret": client_secret}


def _bearer(header: str | None) -> str | None:
    if header and header.lower().startswith("bearer "):
        return header[len("bearer ") :].strip() or None
    return None


def _read_params(
    query: str, body: bytes, content_type: str | None, method: str
) -> tuple[dict[str, Any], str | None, str | None]:
    """Query and body arguments merged; the `token` argument; a body error Slack would report.

    Slack reads a token from a form or query argument but not from a JSON body (JSON callers
    must use the Authorization header), and form-only methods ignore a JSON body's arguments.
    """
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    token = params.pop("token", None)
    mime = (content_type or "application/x-www-form-urlencoded").split(";")[0].strip().lower()
    if not body:
        return params, token, None
    if mime == "application/json":
        try:
            decoded = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return params, token, "invalid_json"
        if not isinstance(decoded, dict):
            return params, token, "json_not_object"
        if method not in FORM_ONLY_METHODS:
            params.update(decoded)
    elif mime in ("application/x-www-form-urlencoded", "text/plain"):
        try:
            form = dict(parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=False))
        except UnicodeDecodeError:
            return params, token, "invalid_form_data"
        token = form.pop("token", token)
        params.update(form)
    elif mime == "multipart/form-data":
        form = dict(_multipart_fields(body, content_type or ""))
        form_token = form.pop("token", None)
        token = form_token if isinstance(form_token, str) else token
        params.update(form)
    else:
        return params, token, "invalid_post_type"
    return params, token, None


def _multipart_fields(body: bytes, content_type: str) -> Iterator[tuple[str, str | bytes]]:
    """Each part's name and value: text for plain fields, bytes for file parts."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=email_policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        return
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        content = part.get_payload(decode=True) or b""
        if part.get_filename() is None:
            yield name, content.decode("utf-8", errors="replace")
        else:
            yield name, content


def _uploaded_bytes(body: bytes, content_type: str | None) -> bytes:
    """The file's bytes from an upload URL POST: raw (as slack_sdk sends) or multipart."""
    if content_type and content_type.lower().startswith("multipart/form-data"):
        fields = list(_multipart_fields(body, content_type))
        for _name, value in fields:
            if isinstance(value, bytes):
                return value
        for name, value in fields:
            if name == "file":
                return value.encode() if isinstance(value, str) else value
    return body
