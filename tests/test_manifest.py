"""manifest.yaml is a valid v1 Slack app manifest, and the app listens to exactly what it declares.

The schema below restates the rules of Slack's published app-manifest schema (v1) for every part
of the manifest we use: required keys, lengths and patterns, and no unknown keys at any level (so
a setting in the wrong place, such as socket_mode_enabled under features, is caught).
"""

from __future__ import annotations

import copy
from pathlib import Path

import jsonschema
import pytest
import yaml

from handlers import attachments, commands, events, observations, reviews
from tests.slack_harness import build_school, start_app

MANIFEST = yaml.safe_load((Path(__file__).parent.parent / "manifest.yaml").read_text())

URL = {"type": "string", "pattern": r"^https?:\/\/", "maxLength": 3500}
BOOL = {"type": "boolean"}


def closed(properties: dict, required: tuple[str, ...] = ()) -> dict:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(required),
        "properties": properties,
    }


def strings(max_length: int, max_items: int) -> dict:
    return {
        "type": "array",
        "items": {"type": "string", "maxLength": max_length},
        "maxItems": max_items,
        "uniqueItems": True,
    }


SLACK_MANIFEST_V1 = closed(
    {
        "_metadata": closed(
            {
                name: {"type": "integer"}
                for name in ("schema_version", "min_version", "major_version", "minor_version")
            }
        ),
        "display_information": closed(
            {
                "name": {"type": "string", "minLength": 1, "maxLength": 35},
                "description": {"type": "string", "minLength": 1, "maxLength": 140},
                "background_color": {
                    "type": "string",
                    "pattern": r"^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$",
                },
                "long_description": {"type": "string", "minLength": 175, "maxLength": 4000},
            },
            required=("name",),
        ),
        "features": closed(
            {
                "app_home": closed(
                    {
                        "home_tab_enabled": BOOL,
                        "messages_tab_enabled": BOOL,
                        "messages_tab_read_only_enabled": BOOL,
                    }
                ),
                "bot_user": closed(
                    {
                        "display_name": {"type": "string", "minLength": 1, "maxLength": 80},
                        "always_online": BOOL,
                    },
                    required=("display_name",),
                ),
                "slash_commands": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 50,
                    "items": closed(
                        {
                            "command": {
                                "type": "string",
                                "minLength": 2,
                                "maxLength": 32,
                                "pattern": r"^\/",
                            },
                            "url": {**URL, "maxLength": 3000},
                            "description": {"type": "string", "minLength": 1, "maxLength": 2000},
                            "usage_hint": {"type": "string", "minLength": 1, "maxLength": 1000},
                            "should_escape": BOOL,
                        },
                        required=("command", "description"),
                    ),
                },
                "shortcuts": {
                    "type": "array",
                    "maxItems": 10,
                    "items": closed(
                        {
                            "name": {"type": "string", "minLength": 1, "maxLength": 24},
                            "callback_id": {"type": "string", "minLength": 1, "maxLength": 255},
                            "description": {"type": "string", "minLength": 1, "maxLength": 150},
                            "type": {"enum": ["message", "global"]},
                        },
                        required=("name", "callback_id", "description", "type"),
                    ),
                },
            }
        ),
        "oauth_config": closed(
            {
                "redirect_urls": strings(2500, 1000),
                "scopes": closed(
                    {
                        kind: strings(50, 255)
                        for kind in ("bot", "user", "bot_optional", "user_optional")
                    }
                ),
                "token_management_enabled": BOOL,
            }
        ),
        "settings": closed(
            {
                "event_subscriptions": closed(
                    {
                        "request_url": URL,
                        "bot_events": strings(50, 100),
                        "user_events": strings(50, 100),
                    }
                ),
                "interactivity": closed(
                    {"is_enabled": BOOL, "request_url": URL, "message_menu_options_url": URL},
                    required=("is_enabled",),
                ),
                "org_deploy_enabled": BOOL,
                "socket_mode_enabled": BOOL,
                "token_rotation_enabled": BOOL,
            }
        ),
    },
    required=("display_information",),
)


def test_manifest_obeys_slacks_v1_schema():
    jsonschema.validate(MANIFEST, SLACK_MANIFEST_V1)


@pytest.mark.parametrize(
    "break_it",
    [
        lambda m: m["features"].update(socket_mode_enabled=True),  # lives under settings
        lambda m: m["features"]["slash_commands"][0].update(command="ssp"),  # needs the slash
        lambda m: m["display_information"].pop("name"),
        lambda m: m["display_information"].update(long_description="Too short."),
        lambda m: m["settings"]["interactivity"].pop("is_enabled"),
    ],
)
def test_the_schema_check_catches_mistakes(break_it):
    broken = copy.deepcopy(MANIFEST)
    break_it(broken)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SLACK_MANIFEST_V1)


def test_what_the_product_needs_is_switched_on():
    command = MANIFEST["features"]["slash_commands"][0]
    assert command["should_escape"] is True and command["usage_hint"]
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    assert MANIFEST["settings"]["socket_mode_enabled"] is True


def test_the_install_flow_asks_for_exactly_the_manifests_scopes():
    from handlers.installs import BOT_SCOPES, REDIRECT_PATH

    assert list(BOT_SCOPES) == MANIFEST["oauth_config"]["scopes"]["bot"]
    redirects = MANIFEST["oauth_config"]["redirect_urls"]
    assert redirects and all(
        url.startswith("https://") and url.endswith(REDIRECT_PATH) for url in redirects
    )


def test_every_scope_is_explained_in_the_readme():
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    for scope in MANIFEST["oauth_config"]["scopes"]["bot"]:
        assert f"`{scope}`" in readme, scope


def test_declared_commands_and_events_are_exactly_those_with_listeners():
    declared_commands = {c["command"] for c in MANIFEST["features"]["slash_commands"]}
    declared_events = set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    assert declared_commands == set(commands.COMMANDS)
    assert declared_events == set(events.EVENTS)
    declared_shortcuts = {s["callback_id"] for s in MANIFEST["features"]["shortcuts"]}
    assert declared_shortcuts == {reviews.SHORTCUT, observations.SHORTCUT, attachments.SHORTCUT}


@pytest.fixture
def running(sessions):
    from bot.demo.slack_emulator import SlackEmulator

    with SlackEmulator() as emulator:
        with sessions.begin() as session:
            build_school(session, emulator)
        app = start_app(emulator, sessions)
        yield app
        app.server.stop()


def test_the_running_app_answers_everything_the_manifest_declares(running):
    """Bolt answers 404 to a request no listener takes: every declared one must get 200."""
    for command in MANIFEST["features"]["slash_commands"]:
        answer = running.ask("U0SENDCO", "help", command=command["command"])
        assert "What `/ssp` can do for you" in answer["blocks"][0]["text"]["text"]
    send = {
        "app_home_opened": lambda: running.sender.app_home_opened("U0SENDCO"),
        "message.im": lambda: running.sender.direct_message("U0SENDCO", "hello"),
        "app_uninstalled": lambda: running.sender.app_uninstalled(),
        "tokens_revoked": lambda: running.sender.tokens_revoked(),
    }
    for event in MANIFEST["settings"]["event_subscriptions"]["bot_events"]:
        assert send[event]().status == 200, event  # a new event needs a way to send it here
    running.emulator.wait_for(lambda calls: "U0SENDCO" in running.emulator.home_views)
    running.emulator.wait_for(lambda calls: running.emulator.ephemerals)
    for shortcut in MANIFEST["features"]["shortcuts"]:
        reply = running.sender.message_shortcut(
            "U0SENDCO",
            shortcut["callback_id"],
            {"type": "message", "text": "hello", "ts": "1.000100"},
        )
        assert reply.status == 200
    assert running.sender.command("U0SENDCO", "help", command="/undeclared").status == 404
