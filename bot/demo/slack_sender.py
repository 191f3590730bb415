"""The Slack side of the wire: requests to the app's endpoint, shaped and signed as Slack does.

Used by the tests and by `sspbot demo`, with the emulator standing in for the Web API and for
response URLs. Bodies follow Slack's documented formats: slash commands form-encoded, interactions
as a form field `payload` holding JSON, events as JSON; all signed with the v0 scheme.

`team_id` is the workspace the app is installed in (the emulator's, unless given);
`user_team_id` the acting user's own workspace, which differs for a Slack Connect guest from
another workspace (interactions say it in `user.team_id`, events in `event.user_team`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from itertools import count
from urllib.parse import urlencode

from bot.demo.slack_emulator import SlackEmulator

_ids = count(1)


@dataclass(frozen=True)
class Reply:
    status: int
    body: str

    def json(self):
        return json.loads(self.body) if self.body else None


class SlackSender:
    def __init__(self, app_url: str, signing_secret: str, emulator: SlackEmulator) -> None:
        self.app_url = app_url
        self.signing_secret = signing_secret
        self.emulator = emulator
        self.last_request: tuple[bytes, dict[str, str]] | None = None
        self.last_ts: str | None = None

    def command(
        self,
        user_id: str,
        text: str,
        *,
        command: str = "/ssp",
        team_id: str | None = None,
        channel_id: str = "C0GENERAL1",
        **signing,
    ) -> Reply:
        team_id = team_id or self.emulator.team_id
        form = {
            "token": "deprecated-verification-token",
            "team_id": team_id,
            "team_domain": "school",
            "channel_id": channel_id,
            "channel_name": "general",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": self.emulator.app_id,
            "is_enterprise_install": "false",
            "response_url": self.emulator.new_response_url(user_id=user_id, channel_id=channel_id),
            "trigger_id": self._trigger_id(),
        }
        return self.post(urlencode(form).encode(), "application/x-www-form-urlencoded", **signing)

    def button(
        self,
        user_id: str,
        action_id: str,
        value: str,
        *,
        label: str = "Button",
        team_id: str | None = None,
        user_team_id: str | None = None,
        channel_id: str = "C0GENERAL1",
        message: dict | None = None,
        **signing,
    ) -> Reply:
        """A click on a button in an ephemeral message, as a block_actions interaction; or,
        given `message` (the bot's message as posted: channel and ts), in that message, which
        the response URL then edits in the emulator's history."""
        now = f"{time.time():.6f}"
        if message is not None:
            where = self._in_message(user_id, message["channel"], message["ts"], ephemeral=False)
            where["message"] = message
        else:
            where = self._in_message(
                user_id, channel_id, now, ephemeral=True, channel_name="general"
            )
        payload = self._interaction(
            "block_actions",
            user_id,
            team_id,
            self._trigger_id(),
            user_team_id=user_team_id,
            **where,
            actions=[
                {
                    "action_id": action_id,
                    "block_id": f"b{next(_ids)}",
                    "text": {"type": "plain_text", "text": label, "emoji": True},
                    "value": value,
                    "type": "button",
                    "action_ts": now,
                }
            ],
        )
        return self._post_interaction(payload, **signing)

    def choose(
        self,
        user_id: str,
        action_id: str,
        option: str,
        *,
        message: dict | None = None,
        user_team_id: str | None = None,
        **signing,
    ) -> Reply:
        """A choice in a select menu of a message the bot sent (block_actions, static_select).

        `message` is the bot's message as posted (channel and ts); Slack names it in the
        container, and the response URL redraws it.
        """
        channel_id = (message or {}).get("channel") or self.emulator.dm_channel_id(user_id)
        ts = (message or {}).get("ts") or f"{time.time():.6f}"
        payload = self._interaction(
            "block_actions",
            user_id,
            None,
            self._trigger_id(),
            user_team_id=user_team_id,
            **self._in_message(user_id, channel_id, ts, ephemeral=False),
            message=message or {},
            actions=[
                {
                    "action_id": action_id,
                    "block_id": f"b{next(_ids)}",
                    "type": "static_select",
                    "selected_option": {
                        "text": {"type": "plain_text", "text": option, "emoji": True},
                        "value": option,
                    },
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        )
        return self._post_interaction(payload, **signing)

    def view_button(
        self,
        user_id: str,
        view: dict,
        action_id: str,
        value: str,
        *,
        values: dict[str, dict] | None = None,
        user_team_id: str | None = None,
        **signing,
    ) -> Reply:
        """A click on a button inside an open modal (block_actions from a view container).

        `values` is what the person has typed into the modal's inputs so far (block id to the
        element's state, as for `submit`): Slack sends it in `view.state`.
        """
        if values is not None:
            view = _typed_into(view, values)
        block_id = next(
            (
                b.get("block_id", f"b{next(_ids)}")
                for b in view.get("blocks", [])
                if _has_action(b, action_id)
            ),
            f"b{next(_ids)}",
        )
        payload = self._interaction(
            "block_actions",
            user_id,
            None,
            self.emulator.new_trigger_id(view_id=view["id"]),
            user_team_id=user_team_id,
            container={"type": "view", "view_id": view["id"]},
            view=view,
            actions=[
                {
                    "action_id": action_id,
                    "block_id": block_id,
                    "value": value,
                    "type": "button",
                    "action_ts": f"{time.time():.6f}",
                    "text": {"type": "plain_text", "text": "Button", "emoji": True},
                }
            ],
        )
        return self._post_interaction(payload, **signing)

    def view_choose(
        self,
        user_id: str,
        view: dict,
        action_id: str,
        value: str,
        *,
        user_team_id: str | None = None,
        **signing,
    ) -> Reply:
        """A choice in radio buttons of an input block with `dispatch_action` in an open modal:
        Slack sends block_actions at once, with the option chosen and the modal as shown."""
        block = next(
            (b for b in view.get("blocks", []) if (b.get("element") or {}).get("action_id")
             == action_id),
            {},
        )  # fmt: skip
        options = (block.get("element") or {}).get("options") or []
        option = next((o for o in options if o.get("value") == value), None) or {
            "text": {"type": "plain_text", "text": value},
            "value": value,
        }
        payload = self._interaction(
            "block_actions",
            user_id,
            None,
            self.emulator.new_trigger_id(view_id=view["id"]),
            user_team_id=user_team_id,
            container={"type": "view", "view_id": view["id"]},
            view=view,
            actions=[
                {
                    "action_id": action_id,
                    "block_id": block.get("block_id", f"b{next(_ids)}"),
                    "type": "radio_buttons",
                    "selected_option": option,
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        )
        return self._post_interaction(payload, **signing)

    def submit(
        self,
        user_id: str,
        view: dict,
        values: dict[str, dict],
        *,
        user_team_id: str | None = None,
        **signing,
    ) -> Reply:
        """Presses a modal's submit button with these input values, as view_submission.

        `values` maps block id to the element's state, e.g. {"name": {"type":
        "plain_text_input", "value": "Sam"}}; the app's answer is applied to the emulator's
        modal stack as Slack would apply it.
        """
        submitted = _typed_into(view, values)
        # Slack sends the view's hash and place in the stack as it holds them now, whatever
        # copy of the view the person's client had: an app may rely on them (views.update's
        # `hash`, the views underneath).
        current = self.emulator.views.get(view.get("id"))
        if current is not None:
            for key in ("hash", "root_view_id", "previous_view_id"):
                submitted[key] = current.get(key)
        payload = self._interaction(
            "view_submission",
            user_id,
            None,
            self.emulator.new_trigger_id(view_id=view["id"]),
            user_team_id=user_team_id,
            view=submitted,
            response_urls=[],
        )
        reply = self._post_interaction(payload, **signing)
        if reply.status == 200:
            self.emulator.apply_view_response(view["id"], reply.json())
        return reply

    def message_shortcut(
        self,
        user_id: str,
        callback_id: str,
        message: dict,
        *,
        channel_id: str | None = None,
        **signing,
    ) -> Reply:
        """A message shortcut chosen on `message`, as Slack's `message_action` payload.

        Refused (ValueError) unless `message` is shaped as Slack delivers one: `type` "message"
        and a `ts` of seconds and six digits of microseconds ("1700000000.000100"), which the
        payload's `message_ts` repeats; and `callback_id` at most 255 characters, as the
        manifest's shortcut allows. A test inventing a message Slack could not send would pass
        against a payload no app ever receives."""
        check_message_shortcut(callback_id, message)
        channel_id = channel_id or self.emulator.dm_channel_id(user_id)
        payload = self._interaction(
            "message_action",
            user_id,
            None,
            self._trigger_id(),
            callback_id=callback_id,
            action_ts=f"{time.time():.6f}",
            message_ts=message["ts"],
            message=message,
            channel={"id": channel_id, "name": "directmessage"},
            response_url=self.emulator.new_response_url(user_id=user_id, channel_id=channel_id),
        )
        return self._post_interaction(payload, **signing)

    def _in_message(
        self,
        user_id: str,
        channel_id: str,
        ts: str,
        *,
        ephemeral: bool,
        channel_name: str = "directmessage",
    ) -> dict:
        """The fields of a block_actions payload that say which message was acted in."""
        return {
            "container": {
                "type": "message",
                "message_ts": ts,
                "channel_id": channel_id,
                "is_ephemeral": ephemeral,
            },
            "channel": {"id": channel_id, "name": channel_name},
            "state": {"values": {}},
            "response_url": self.emulator.new_response_url(
                user_id=user_id, channel_id=channel_id, message_ts=None if ephemeral else ts
            ),
        }

    def _interaction(
        self,
        kind: str,
        user_id: str,
        team_id: str | None,
        trigger_id: str,
        *,
        user_team_id: str | None = None,
        **fields,
    ) -> dict:
        """The envelope every interaction payload shares, as Slack sends it."""
        team_id = team_id or self.emulator.team_id
        return {
            "type": kind,
            "user": {
                "id": user_id,
                "username": user_id.lower(),
                "name": user_id.lower(),
                "team_id": user_team_id or team_id,
            },
            "api_app_id": self.emulator.app_id,
            "token": "deprecated-verification-token",
            "trigger_id": trigger_id,
            "team": {"id": team_id, "domain": "school"},
            "enterprise": None,
            "is_enterprise_install": False,
            **fields,
        }

    def _post_interaction(self, payload: dict, **signing) -> Reply:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.post(body, "application/x-www-form-urlencoded", **signing)

    def app_home_opened(
        self,
        user_id: str,
        *,
        team_id: str | None = None,
        user_team_id: str | None = None,
        **signing,
    ) -> Reply:
        now = time.time()
        event = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": f"D{user_id[1:]}",
            "tab": "home",
            "event_ts": f"{now:.6f}",
        }
        if user_team_id:
            event["user_team"] = user_team_id
        return self._event(event, team_id=team_id, **signing)

    def _event(self, event: dict, *, team_id: str | None = None, **signing) -> Reply:
        """An Events API callback, as Slack wraps every event."""
        team_id = team_id or self.emulator.team_id
        envelope = {
            "token": "deprecated-verification-token",
            "team_id": team_id,
            "api_app_id": self.emulator.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{next(_ids):08d}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team_id,
                    "user_id": self.emulator.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        return self.post(json.dumps(envelope).encode(), "application/json", **signing)

    def app_uninstalled(self, *, team_id: str | None = None, **signing) -> Reply:
        """A workspace's admin uninstalled the app: the `app_uninstalled` event."""
        return self._event(
            {"type": "app_uninstalled", "event_ts": f"{time.time():.6f}"},
            team_id=team_id,
            **signing,
        )

    def tokens_revoked(
        self,
        *,
        team_id: str | None = None,
        bot: list[str] | None = None,
        oauth: list[str] | None = None,
        **signing,
    ) -> Reply:
        """Tokens of a workspace were revoked: `bot` lists the bot users whose bot tokens went
        (the emulator's bot user, unless given), `oauth` the users whose user tokens went."""
        tokens = {"bot": [self.emulator.bot_user_id] if bot is None else bot}
        if oauth:
            tokens["oauth"] = oauth
        return self._event(
            {"type": "tokens_revoked", "tokens": tokens, "event_ts": f"{time.time():.6f}"},
            team_id=team_id,
            **signing,
        )

    def direct_message(
        self,
        user_id: str,
        text: str,
        *,
        thread_ts: str | None = None,
        channel: str | None = None,
        team_id: str | None = None,
        ts: str | None = None,
        **signing,
    ) -> Reply:
        """`user_id` writes `text` in their DM with the bot (in the thread of the message
        `thread_ts`, if given): a message.im event. `channel`/`team_id` forge another DM or
        workspace. The event's `ts` is in `self.last_ts`."""
        channel = channel or self.emulator.dm_channel_id(user_id)
        now = ts or f"{time.time():.6f}"
        self.last_ts = now
        event = {
            "type": "message",
            "channel": channel,
            "user": user_id,
            "text": text,
            "ts": now,
            "event_ts": now,
            "channel_type": "im",
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        return self._event(event, team_id=team_id, **signing)

    def message_changed(
        self, user_id: str, ts: str, text: str, *, thread_ts: str | None = None, **signing
    ) -> Reply:
        """`user_id` edited their message `ts` in the DM: Slack's message_changed event."""
        channel = self.emulator.dm_channel_id(user_id)
        now = f"{time.time():.6f}"
        message = {"type": "message", "user": user_id, "text": text, "ts": ts}
        if thread_ts:
            message["thread_ts"] = thread_ts
        return self._event(
            {
                "type": "message",
                "subtype": "message_changed",
                "hidden": True,
                "channel": channel,
                "message": {**message, "edited": {"user": user_id, "ts": now}},
                "previous_message": {**message, "text": "(before)"},
                "ts": now,
                "event_ts": now,
                "channel_type": "im",
            },
            **signing,
        )

    def message_deleted(self, user_id: str, ts: str, **signing) -> Reply:
        """`user_id` deleted their message `ts` in the DM: Slack's message_deleted event."""
        channel = self.emulator.dm_channel_id(user_id)
        now = f"{time.time():.6f}"
        return self._event(
            {
                "type": "message",
                "subtype": "message_deleted",
                "hidden": True,
                "channel": channel,
                "deleted_ts": ts,
                "previous_message": {"type": "message", "user": user_id, "text": "", "ts": ts},
                "ts": now,
                "event_ts": now,
                "channel_type": "im",
            },
            **signing,
        )

    def post(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | str | None = None,
        signature: str | None = None,
    ) -> Reply:
        """POSTs a body signed with the v0 scheme; `timestamp`/`signature` override for tests
        (a string timestamp is sent as it is, e.g. one that is not a number)."""
        timestamp = int(time.time()) if timestamp is None else timestamp
        if signature is None:
            basestring = b"v0:" + str(timestamp).encode() + b":" + body
            digest = hmac.new(self.signing_secret.encode(), basestring, hashlib.sha256)
            signature = "v0=" + digest.hexdigest()
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": signature,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        self.last_request = (body, headers)
        return self._send(body, headers)

    def replay(self, extra_headers: dict[str, str] | None = None) -> Reply:
        """Sends the last request again, byte for byte, as an attacker who captured it (or
        Slack retrying it, with X-Slack-Retry-Num in `extra_headers`) would."""
        body, headers = self.last_request
        return self._send(body, {**headers, **(extra_headers or {})})

    def _send(self, body: bytes, headers: dict[str, str]) -> Reply:
        request = urllib.request.Request(self.app_url, data=body, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return Reply(response.status, response.read().decode())
        except urllib.error.HTTPError as error:
            return Reply(error.code, error.read().decode())

    def _trigger_id(self) -> str:
        return self.emulator.new_trigger_id()


def check_message_shortcut(callback_id: str, message: dict) -> None:
    """The shape of a message_action payload's `message` (docs.slack.dev, Shortcuts payloads:
    "message ... will include the full structure of the message")."""
    if not isinstance(callback_id, str) or not 1 <= len(callback_id) <= 255:
        raise ValueError("a shortcut's callback_id is 1 to 255 characters")
    if not isinstance(message, dict) or message.get("type") != "message":
        raise ValueError('a message shortcut\'s message has type "message"')
    if not re.fullmatch(r"\d+\.\d{6}", str(message.get("ts", ""))):
        raise ValueError("a message's ts is seconds and six digits, e.g. 1700000000.000100")


def _has_action(block: dict, action_id: str) -> bool:
    elements = block.get("elements", []) + ([block["accessory"]] if "accessory" in block else [])
    return any(e.get("action_id") == action_id for e in elements)


def _typed_into(view: dict, values: dict[str, dict]) -> dict:
    """`view` as Slack sends it back: `values` (block id to the element's state) in its state."""
    return {
        **view,
        "state": {"values": {block_id: {"value": state} for block_id, state in values.items()}},
    }
