"""Over Socket Mode no signed-request gate stands in front of the app: an event Slack delivers
again (its retry, the same event_id) is answered once because the database remembers it."""

from __future__ import annotations

import time

from tests.test_socket_mode import socket_app  # noqa: F401 - a fixture


def test_an_event_delivered_twice_over_socket_mode_is_answered_once(socket_app):  # noqa: F811
    emulator, server = socket_app.emulator, socket_app.server
    server.wait_for_connection(1)
    now = time.time()
    event = {
        "token": "deprecated-verification-token",
        "team_id": emulator.team_id,
        "api_app_id": emulator.app_id,
        "type": "event_callback",
        "event_id": "Ev0SOCKET01",
        "event_time": int(now),
        "authorizations": [
            {"team_id": emulator.team_id, "user_id": emulator.bot_user_id, "is_bot": True}
        ],
        "event": {
            "type": "message",
            "channel": emulator.dm_channel_id("U0PRIYA"),
            "user": "U0PRIYA",
            "text": "hello?",
            "ts": f"{now:.6f}",
            "event_ts": f"{now:.6f}",
            "channel_type": "im",
        },
    }
    for _ in range(2):
        server.wait_for_ack(server.send_envelope("events_api", event))
    # Something else afterwards: once it is answered, the repeat has been dealt with.
    later = {**event, "event_id": "Ev0SOCKET02", "event": {**event["event"], "user": "U0LEE"}}
    later["event"]["channel"] = emulator.dm_channel_id("U0LEE")
    server.wait_for_ack(server.send_envelope("events_api", later))
    emulator.wait_for(
        lambda calls: any(
            c.params.get("user") == "U0LEE" for c in emulator.calls_to("chat.postEphemeral")
        )
    )
    time.sleep(0.3)
    to_priya = [c for c in emulator.calls_to("chat.postEphemeral") if c.params["user"] == "U0PRIYA"]
    assert len(to_priya) == 1
