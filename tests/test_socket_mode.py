"""`sspbot serve --socket-mode` against a local Socket Mode server.

The emulator's apps.connections.open hands out the URL of bot/demo/socket_mode_server.py, which
says hello, delivers envelopes, reads the app's acks, and can drop a connection as a network
does. The intervals are shortened here (the product's are seconds); the tests wait for events.
"""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.demo.socket_mode_server import SocketModeServer
from handlers.app import create_app
from handlers.scheduler import wait_for_deliveries
from handlers.server import WatchfulSocketModeClient, socket_mode_handler
from tests.slack_harness import build_school, text_of

PING_INTERVAL = 0.25
PONG_TIMEOUT = 2.0
HELP = "What `/ssp` can do for you"


class SocketApp:
    def __init__(self, emulator, server: SocketModeServer, handler) -> None:
        self.emulator = emulator
        self.server = server
        self.handler = handler

    def ask(self, user_id: str, text: str) -> dict:
        """Types `/ssp TEXT` as this user over Socket Mode; returns the reply, once acked."""
        before = len(self.emulator.responses_to(user_id))
        envelope_id = self.server.send_envelope(
            "slash_commands", self.slash_command(user_id, text), accepts_response_payload=True
        )
        ack = self.server.wait_for_ack(envelope_id)
        assert ack["envelope_id"] == envelope_id
        self.emulator.wait_for(lambda calls: len(self.emulator.responses_to(user_id)) > before)
        return self.emulator.responses_to(user_id)[-1]

    def slash_command(self, user_id: str, text: str) -> dict:
        """A slash command's payload, as Slack puts it in a Socket Mode envelope."""
        return {
            "token": "deprecated-verification-token",
            "team_id": self.emulator.team_id,
            "team_domain": "school",
            "channel_id": "C0GENERAL1",
            "channel_name": "general",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": "/ssp",
            "text": text,
            "api_app_id": self.emulator.app_id,
            "is_enterprise_install": "false",
            "response_url": self.emulator.new_response_url(
                user_id=user_id, channel_id="C0GENERAL1"
            ),
            "trigger_id": self.emulator.new_trigger_id(),
        }

    def connections_opened(self) -> int:
        return len(self.emulator.calls_to("apps.connections.open"))


@pytest.fixture
def socket_app(emulator, sessions, clock):
    emulator.reset()
    with sessions.begin() as session:
        build_school(session, emulator)
    settings = Settings.from_env(
        {
            "SLACK_BOT_TOKEN": emulator.bot_token,
            "SLACK_APP_TOKEN": emulator.app_token,
            "SLACK_API_URL": emulator.api_url,
        },
        env_file=None,
    )
    app = create_app(settings, session_factory=sessions, clock=clock, socket_mode=True)
    with SocketModeServer(app_id=emulator.app_id) as server:
        emulator.use_socket_mode(server.url)
        handler = socket_mode_handler(
            app, emulator.app_token, ping_interval=PING_INTERVAL, pong_timeout=PONG_TIMEOUT
        )
        try:
            handler.connect()
            yield SocketApp(emulator, server, handler)
        finally:
            handler.close()
            emulator.use_socket_mode(None)
    wait_for_deliveries()


def test_the_handler_is_the_watchful_client_with_short_intervals(emulator):
    from slack_bolt import App

    app = App(token=emulator.bot_token, signing_secret="x", token_verification_enabled=False)
    handler = socket_mode_handler(app, emulator.app_token)
    try:
        assert isinstance(handler.client, WatchfulSocketModeClient)
        # Seconds, not slack_sdk's 10 s pings and 40 s of silence before it gives up.
        assert handler.client.ping_interval <= 2
        assert handler.client.pong_timeout <= 5
    finally:
        handler.close()


def test_a_slash_command_over_socket_mode_is_answered(socket_app):
    first = socket_app.server.wait_for_connection(1)

    reply = socket_app.ask("U0SENDCO", "help")

    assert HELP in text_of(reply)
    assert socket_app.connections_opened() == 1
    # The app connected with the URL (and its one-time ticket) apps.connections.open gave it.
    url = socket_app.emulator.calls_to("apps.connections.open")[0].response["url"]
    assert first.ticket and f"ticket={first.ticket}" in url
    assert first.pings > 0  # and it keeps the connection under watch


@pytest.mark.parametrize("drop", ["go_silent", "close_abruptly"])
def test_after_a_dropped_connection_the_app_reconnects_and_answers(socket_app, drop):
    server = socket_app.server
    server.wait_for_connection(1)
    assert HELP in text_of(socket_app.ask("U0SENDCO", "help"))
    opened, connections = socket_app.connections_opened(), len(server.connections)

    dropped = getattr(server, drop)()  # silent: TCP open, nothing answered; or TCP closed

    replacement = server.wait_for_connection(connections + 1)
    assert socket_app.connections_opened() > opened  # a new URL for the new connection
    assert replacement.ticket != dropped.ticket
    # The next slash command arrives on the new connection and is answered.
    assert HELP in text_of(socket_app.ask("U0PRIYA", "help"))
    assert any(m.get("envelope_id") for m in replacement.received)
    # The dead connection was let go of, not left open beside the new one.
    server.wait_until_closed(dropped)


def test_apps_connections_open_takes_only_the_app_level_token(emulator):
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    emulator.reset()
    client = WebClient(base_url=emulator.api_url, retry_handlers=[])
    emulator.use_socket_mode("ws://127.0.0.1:9/link/")
    try:
        url = client.apps_connections_open(app_token=emulator.app_token)["url"]
        again = client.apps_connections_open(app_token=emulator.app_token)["url"]
        assert url.startswith("ws://127.0.0.1:9/link/?ticket=") and url != again
        with pytest.raises(SlackApiError) as bot_token:
            client.apps_connections_open(app_token=emulator.bot_token)
        assert bot_token.value.response["error"] == "not_allowed_token_type"
        with pytest.raises(SlackApiError) as app_token:
            WebClient(token=emulator.app_token, base_url=emulator.api_url).chat_postMessage(
                channel="U0SENDCO", text="hello"
            )
        assert app_token.value.response["error"] == "not_allowed_token_type"
    finally:
        emulator.use_socket_mode(None)
