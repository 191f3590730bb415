"""The checker of Slack's documented limits (bot.slack_limits), on surfaces known to be good and
known to be bad; and the emulator refusing with it as Slack refuses."""

from __future__ import annotations

import json
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.demo.slack_emulator import RESPONSE_URL, SlackEmulator
from bot.slack_limits import (
    message_refusal,
    options_problems,
    problems_of,
    unescaped_mrkdwn,
    view_problems,
)


def section(text: str, **more) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **more}


def plain(text: str) -> dict:
    return {"type": "plain_text", "text": text}


def button(action_id: str, label: str = "Go", value: str = "1") -> dict:
    return {"type": "button", "action_id": action_id, "text": plain(label), "value": value}


def option(label: str, value: str) -> dict:
    return {"text": plain(label), "value": value}


def modal(*blocks: dict, **fields) -> dict:
    return {"type": "modal", "title": plain("Plan"), "blocks": list(blocks), **fields}


def text_input(**fields) -> dict:
    return {
        "type": "input",
        "block_id": "note",
        "label": plain("Note"),
        "element": {"type": "plain_text_input", "action_id": "value", **fields},
    }


GOOD_MESSAGE = {
    "text": "Ava Stone's plan &amp; <@U0PRIYA>",
    "blocks": [
        {"type": "header", "text": plain("H" * 150)},
        section("S" * 3000, accessory=button("open", "B" * 75, "v" * 2000)),
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2000}] * 10},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 10},
        {"type": "actions", "elements": [button(f"a{i}") for i in range(25)]},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "static_select",
                    "action_id": "pick",
                    "options": [option("o" * 75, str(i)) for i in range(100)],
                    "initial_option": option("o" * 75, "7"),
                },
                {
                    "type": "overflow",
                    "action_id": "more",
                    "options": [option("x", "1"), option("y", "2")],
                },
            ],
        },
        *([{"type": "divider"}] * 44),
    ],
}


def test_a_message_at_every_limit_is_taken():
    assert len(GOOD_MESSAGE["blocks"]) == 50
    assert message_refusal(GOOD_MESSAGE) is None
    assert unescaped_mrkdwn(GOOD_MESSAGE) == []


@pytest.mark.parametrize(
    ("message", "error", "problem"),
    [
        ({"text": "x" * 40_001}, "msg_too_long", "must be less than 40001 characters"),
        (
            {"blocks": [section("x")] * 51},
            "invalid_blocks",
            "no more than 50 items allowed [json-pointer:/blocks]",
        ),
        (
            {"blocks": [section("x"), section("x" * 3001)]},
            "invalid_blocks",
            "must be less than 3001 characters [json-pointer:/blocks/1/text/text]",
        ),
        (
            {"blocks": [section("")]},
            "invalid_blocks",
            "must be more than 0 characters [json-pointer:/blocks/0/text/text]",
        ),
        (
            {"blocks": [{"type": "header", "text": plain("h" * 151)}]},
            "invalid_blocks",
            "must be less than 151 characters [json-pointer:/blocks/0/text/text]",
        ),
        (
            {"blocks": [{"type": "header", "text": {"type": "mrkdwn", "text": "*h*"}}]},
            "invalid_blocks",
            "must be plain_text [json-pointer:/blocks/0/text/type]",
        ),
        (
            {"blocks": [{"type": "section", "fields": [plain("f")] * 11}]},
            "invalid_blocks",
            "no more than 10 items allowed [json-pointer:/blocks/0/fields]",
        ),
        (
            {"blocks": [{"type": "section", "fields": [plain("f" * 2001)]}]},
            "invalid_blocks",
            "must be less than 2001 characters [json-pointer:/blocks/0/fields/0/text]",
        ),
        (
            {"blocks": [{"type": "context", "elements": [plain("c")] * 11}]},
            "invalid_blocks",
            "no more than 10 items allowed [json-pointer:/blocks/0/elements]",
        ),
        (
            {"blocks": [{"type": "actions", "elements": [button(f"a{i}") for i in range(26)]}]},
            "invalid_blocks",
            "no more than 25 items allowed [json-pointer:/blocks/0/elements]",
        ),
        (
            {"blocks": [{"type": "actions", "elements": [button("page"), button("page")]}]},
            "invalid_blocks",
            "duplicate action_id 'page' [json-pointer:/blocks/0/elements/1/action_id]",
        ),
        (
            {"blocks": [section("a", block_id="b"), section("b", block_id="b")]},
            "invalid_blocks",
            "duplicate block_id 'b' [json-pointer:/blocks/1]",
        ),
        (
            {"blocks": [section("a", block_id="b" * 256)]},
            "invalid_blocks",
            "must be less than 256 characters [json-pointer:/blocks/0/block_id]",
        ),
        (
            {"blocks": [section("a", accessory=button("open", "b" * 76))]},
            "invalid_blocks",
            "must be less than 76 characters [json-pointer:/blocks/0/accessory/text/text]",
        ),
        (
            {"blocks": [section("a", accessory=button("open", "Open", "v" * 2001))]},
            "invalid_blocks",
            "must be less than 2001 characters [json-pointer:/blocks/0/accessory/value]",
        ),
        (
            {"blocks": [section("a", accessory=button("o" * 256))]},
            "invalid_blocks",
            "must be less than 256 characters [json-pointer:/blocks/0/accessory/action_id]",
        ),
    ],
)
def test_what_slack_refuses_in_a_message_is_named_with_its_pointer(message, error, problem):
    refused, problems = message_refusal(message)
    assert refused == error
    assert any(problem in p for p in problems), problems


def select(options: list[dict], **fields) -> dict:
    return {"type": "static_select", "action_id": "value", "options": options, **fields}


@pytest.mark.parametrize(
    ("element", "problem"),
    [
        (
            select([option("o", str(i)) for i in range(101)]),
            "no more than 100 items allowed [json-pointer:/blocks/0/accessory/options]",
        ),
        (select([option("o" * 76, "1")]), "must be less than 76 characters"),
        (select([option("o", "v" * 151)]), "must be less than 151 characters"),
        (
            select([option("o", "1")], initial_option=option("gone", "2")),
            "initial option must exactly match one of the options",
        ),
        (
            {"type": "overflow", "action_id": "more", "options": [option("o", "1")]},
            "must provide at least 2 items",
        ),
        (
            {"type": "overflow", "action_id": "more", "options": [option("o", "1")] * 6},
            "no more than 5 items allowed",
        ),
        (
            {"type": "checkboxes", "action_id": "tick", "options": [option("o", "1")] * 11},
            "no more than 10 items allowed",
        ),
        (
            {"type": "radio_buttons", "action_id": "one", "options": [option("o", "1")] * 11},
            "no more than 10 items allowed",
        ),
    ],
)
def test_menus_and_their_options_are_held_to_slacks_limits(element, problem):
    problems = problems_of({"blocks": [section("Choose", accessory=element)]})
    assert any(problem in p for p in problems), problems


def test_a_menu_of_grouped_options_is_counted_by_group():
    groups = [{"label": plain(f"Targets {g}"), "options": [option("t", "1")] * 100} for g in (1, 2)]
    grouped = {"type": "static_select", "action_id": "value", "option_groups": groups}
    assert problems_of({"blocks": [section("x", accessory=grouped)]}) == []
    groups[0]["options"] = groups[0]["options"] + [option("t", "1")]
    assert problems_of({"blocks": [section("x", accessory=grouped)]}) == [
        "no more than 100 items allowed [json-pointer:/blocks/0/accessory/option_groups/0/options]"
    ]


def test_an_external_selects_options_are_held_to_the_same_limits():
    assert options_problems({"options": [option("t", str(i)) for i in range(100)]}) == []
    assert options_problems({"options": [option("t", str(i)) for i in range(101)]}) == [
        "no more than 100 items allowed [json-pointer:/options]"
    ]


def test_a_modal_at_every_limit_is_taken():
    view = modal(
        text_input(max_length=3000, initial_value="n" * 3000),
        *([section("x")] * 99),
        title=plain("T" * 24),
        submit=plain("S" * 24),
        close=plain("C" * 24),
        private_metadata="m" * 3000,
        callback_id="c" * 255,
    )
    assert view_problems(view, ("modal",)) == []
    assert view_problems({"type": "home", "blocks": [section("x")] * 100}, ("home",)) == []


@pytest.mark.parametrize(
    ("view", "problem"),
    [
        (
            modal(*[section("x")] * 101),
            "no more than 100 items allowed [json-pointer:/view/blocks]",
        ),
        (
            modal(title=plain("T" * 25)),
            "must be less than 25 characters [json-pointer:/view/title/text]",
        ),
        (
            modal(submit=plain("S" * 25)),
            "must be less than 25 characters [json-pointer:/view/submit/text]",
        ),
        (
            modal(private_metadata="m" * 3001),
            "must be less than 3001 characters [json-pointer:/view/private_metadata]",
        ),
        (
            modal(callback_id="c" * 256),
            "must be less than 256 characters [json-pointer:/view/callback_id]",
        ),
        (modal(text_input()), "submit is required when an input block is within the blocks"),
        (
            modal(text_input(max_length=3001), submit=plain("Save")),
            "must be between 1 and 3000 [json-pointer:/view/blocks/0/element/max_length]",
        ),
        (
            modal(text_input(max_length=3000, initial_value="n" * 3001), submit=plain("Save")),
            "must be less than 3001 characters [json-pointer:/view/blocks/0/element/initial_value]",
        ),
        (
            modal(text_input(max_length=100, initial_value="n" * 101), submit=plain("Save")),
            "must be less than 101 characters",
        ),
    ],
)
def test_what_slack_refuses_in_a_view_is_named_with_its_pointer(view, problem):
    problems = view_problems(view, ("modal",))
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize(
    "text",
    ["<script>", "Smith & Jones", "a > b", "<!here>", "<!channel> now", "&amp <b>"],
)
def test_a_persons_words_reaching_mrkdwn_raw_are_flagged(text):
    assert unescaped_mrkdwn({"blocks": [section(text)]}) == [
        "unescaped &, < or > in mrkdwn [json-pointer:/blocks/0/text/text]"
    ]
    assert unescaped_mrkdwn({"text": text}) == [
        "unescaped &, < or > in mrkdwn [json-pointer:/text]"
    ]


@pytest.mark.parametrize(
    "text",
    [
        "&lt;script&gt; &amp; co",
        "<@U0PRIYA> and <@W123|sam>",
        "<#C0STAFF|staffroom>",
        "<https://example.org/plan|the plan>",
        "<mailto:senco@example.org>",
    ],
)
def test_escapes_mentions_and_links_are_left_alone(text):
    assert unescaped_mrkdwn({"blocks": [section(text)], "text": text}) == []
    # plain_text is shown as typed: nothing there needs escaping
    assert unescaped_mrkdwn({"blocks": [{"type": "header", "text": plain("<b> & c")}]}) == []


# --- the emulator refuses with the checker, in Slack's words -----------------------------------


@pytest.fixture
def emulator():
    with SlackEmulator() as running:
        running.add_user("U0SENCO", email="senco@school.example.org")
        yield running


@pytest.fixture
def client(emulator) -> WebClient:
    return WebClient(token=emulator.bot_token, base_url=emulator.api_url)


def refusal(call, **kwargs) -> dict:
    with pytest.raises(SlackApiError) as raised:
        call(**kwargs)
    return raised.value.response.data


def test_each_method_refuses_with_its_documented_error(emulator, client):
    long_section = [section("x" * 3001)]
    posted = refusal(client.chat_postMessage, channel="U0SENCO", text="x", blocks=long_section)
    assert posted["error"] == "invalid_blocks"
    assert posted["errors"] == [
        "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    ]
    assert posted["response_metadata"]["messages"] == [f"[ERROR] {posted['errors'][0]}"]
    assert refusal(client.chat_postMessage, channel="U0SENCO", text="x" * 40_001) == {
        "ok": False,
        "error": "msg_too_long",
    }
    ephemeral = refusal(
        client.chat_postEphemeral, channel="U0SENCO", user="U0SENCO", text="x", blocks=long_section
    )
    assert ephemeral["error"] == "invalid_blocks"
    sent = client.chat_postMessage(channel="U0SENCO", text="x")
    updated = refusal(
        client.chat_update, channel=sent["channel"], ts=sent["ts"], text="x", blocks=long_section
    )
    assert updated["error"] == "invalid_blocks"
    opened = refusal(
        client.views_open,
        trigger_id=emulator.new_trigger_id(),
        view=modal(text_input(max_length=3000, initial_value="n" * 3001), submit=plain("Save")),
    )
    assert opened["error"] == "invalid_arguments"
    assert opened["response_metadata"]["messages"] == [
        "[ERROR] must be less than 3001 characters "
        "[json-pointer:/view/blocks/0/element/initial_value]"
    ]
    published = refusal(
        client.views_publish, user_id="U0SENCO", view={"type": "home", "blocks": long_section}
    )
    assert published["error"] == "invalid_arguments"
    assert emulator.messages == [next(m for m in emulator.messages if m["ts"] == sent["ts"])]
    assert emulator.views == {}


def post_json(url: str, payload: dict) -> tuple[int, bytes]:
    request = Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urlopen(request, timeout=5) as answer:
            return answer.status, answer.read()
    except HTTPError as error:
        return error.code, error.read()


def test_a_response_url_refuses_with_http_400_and_a_word(emulator):
    url = emulator.new_response_url(user_id="U0SENCO", channel_id="D0SENCO")
    assert post_json(url, {"text": "x", "blocks": [section("x" * 3001)]}) == (
        400,
        b"invalid_blocks",
    )
    assert post_json(url, {"text": "x" * 40_001}) == (400, b"msg_too_long")
    emulator.fail_next(RESPONSE_URL, "invalid_blocks", status=400)
    assert post_json(url, {"text": "fine"}) == (400, b"invalid_blocks")
    assert post_json(url, {"text": "fine"}) == (200, b"ok")
    assert [r["payload"]["text"] for r in emulator.responses] == ["fine"]
