"""The Slack emulator, driven by slack_sdk's own WebClient exactly as the bot drives Slack."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator

from bot.demo.slack_emulator import UPLOAD, SlackEmulator

SENCO = "U0SENCO01"
TEACHER = "U0TEACH01"
LEAVER = "U0LEAVER1"


@pytest.fixture
def emulator() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        emulator.add_user(SENCO, email="senco@school.example", real_name="Sam Senco")
        emulator.add_user(TEACHER, email="teacher@school.example", real_name="Terry Teacher")
        emulator.add_user(LEAVER, email="leaver@school.example", deleted=True)
        yield emulator


@pytest.fixture
def client(emulator: SlackEmulator) -> WebClient:
    return WebClient(token=emulator.bot_token, base_url=emulator.api_url)


def modal(*blocks: dict, title: str = "Support plan", **extra: object) -> dict:
    title_text = {"type": "plain_text", "text": title}
    return {"type": "modal", "title": title_text, "blocks": list(blocks), **extra}


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def refused(call, *args, **kwargs) -> SlackApiError:
    with pytest.raises(SlackApiError) as raised:
        call(*args, **kwargs)
    return raised.value


def error_of(call, *args, **kwargs) -> str:
    """The `error` Slack answered, for a call that must be refused with HTTP 200."""
    error = refused(call, *args, **kwargs)
    assert error.response.status_code == 200
    return error.response["error"]


# --------------------------------------------------------------------- auth and plumbing


def test_auth_test_describes_the_bot(emulator: SlackEmulator, client: WebClient) -> None:
    answer = client.auth_test()

    assert answer.status_code == 200
    assert answer["team_id"] == emulator.team_id
    assert answer["team"] == "Emulated School"
    assert answer["user_id"] == emulator.bot_user_id
    assert answer["bot_id"].startswith("B")
    assert answer["url"] == "https://emulated-school.slack.com/"
    assert emulator.api_url.endswith("/api/")


def test_a_missing_or_wrong_token_is_refused_as_slack_does(emulator: SlackEmulator) -> None:
    no_token = WebClient(base_url=emulator.api_url)
    wrong_token = WebClient(token="xoxb-someone-else", base_url=emulator.api_url)

    assert refused(no_token.auth_test).response.data == {"ok": False, "error": "not_authed"}
    wrong = refused(wrong_token.chat_postMessage, channel=SENCO, text="hello")
    assert wrong.response.status_code == 200
    assert wrong.response["error"] == "invalid_auth"
    assert [c.token for c in emulator.calls] == [None, "xoxb-someone-else"]
    assert emulator.messages == []


def test_an_unknown_method_is_unknown_method_with_http_200(client: WebClient) -> None:
    error = refused(client.api_call, "plans.explode")

    assert error.response.status_code == 200
    assert error.response.data == {
        "ok": False,
        "error": "unknown_method",
        "req_method": "plans.explode",
    }


def test_form_and_json_bodies_and_the_token_parameter_are_all_read(
    emulator: SlackEmulator,
) -> None:
    def post(body: bytes, content_type: str, headers: dict | None = None) -> dict:
        request = Request(
            f"{emulator.api_url}chat.postMessage",
            data=body,
            headers={"Content-Type": content_type, **(headers or {})},
        )
        with urlopen(request, timeout=5) as response:
            return json.loads(response.read())

    form = f"token={emulator.bot_token}&channel={SENCO}&text=form".encode()
    assert post(form, "application/x-www-form-urlencoded")["ok"] is True
    as_json = json.dumps({"channel": SENCO, "text": "json"}).encode()
    bearer = {"Authorization": f"Bearer {emulator.bot_token}"}
    assert post(as_json, "application/json; charset=utf-8", bearer)["ok"] is True
    # Slack reads no token from a JSON body: JSON callers must send the header.
    token_in_json = json.dumps({"token": emulator.bot_token, "channel": SENCO, "text": "x"})
    assert post(token_in_json.encode(), "application/json")["error"] == "not_authed"

    assert [m["text"] for m in emulator.messages] == ["form", "json"]


# --------------------------------------------------------------------- messages


def test_a_dm_posted_to_a_member_lands_in_their_d_channel_and_can_be_updated(
    emulator: SlackEmulator, client: WebClient
) -> None:
    blocks = [section("*Plan review due* for Year 4")]
    posted = client.chat_postMessage(channel=SENCO, text="Plan review due", blocks=blocks)

    dm = posted["channel"]
    assert dm.startswith("D")
    assert dm == emulator.dm_channel_id(SENCO)
    assert posted["message"]["text"] == "Plan review due"
    assert posted["message"]["blocks"] == blocks

    updated = client.chat_update(channel=dm, ts=posted["ts"], text="Plan review done")

    assert updated["ts"] == posted["ts"]
    assert updated["message"]["blocks"] == blocks  # documented: omitted blocks are kept
    assert emulator.messages_to(SENCO) == [
        {
            "channel": dm,
            "ts": posted["ts"],
            "text": "Plan review done",
            "blocks": blocks,
            "attachments": None,
            "thread_ts": None,
            "metadata": None,
        }
    ]
    sent = emulator.calls_to("chat.postMessage")[0]
    assert sent.json("blocks") == blocks
    assert sent.token == emulator.bot_token


def test_message_timestamps_are_unique_and_increasing(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel=SENCO, text=str(i))["ts"] for i in range(5)]

    assert len(set(stamps)) == 5
    assert stamps == sorted(stamps, key=float)
    assert all(len(ts.split(".")[1]) == 6 for ts in stamps)


def test_posting_checks_the_channel_and_the_content(
    emulator: SlackEmulator, client: WebClient
) -> None:
    emulator.add_channel("C0STAFF01", name="staffroom")

    assert client.chat_postMessage(channel="C0STAFF01", text="hi")["channel"] == "C0STAFF01"
    assert error_of(client.chat_postMessage, channel="C0NOWHERE", text="x") == "channel_not_found"
    assert error_of(client.chat_postMessage, channel=LEAVER, text="x") == "channel_not_found"
    assert error_of(client.api_call, "chat.postMessage", json={"channel": SENCO}) == "no_text"
    too_many = refused(
        client.chat_postMessage, channel=SENCO, text="x", blocks=[section("b")] * 51
    ).response
    assert too_many["error"] == "invalid_blocks"
    assert too_many["errors"] == ["no more than 50 items allowed [json-pointer:/blocks]"]


def test_chat_update_wants_the_dm_id_and_a_message_that_exists(client: WebClient) -> None:
    posted = client.chat_postMessage(channel=SENCO, text="hello")

    # Documented: for DMs, chat.update takes the D… id, not the member's U… id.
    by_user = refused(client.chat_update, channel=SENCO, ts=posted["ts"], text="x")
    assert by_user.response["error"] == "channel_not_found"
    missing = refused(client.chat_update, channel=posted["channel"], ts="1.000001", text="x")
    assert missing.response["error"] == "message_not_found"


def test_ephemeral_messages_are_recorded_apart(emulator: SlackEmulator, client: WebClient) -> None:
    emulator.add_channel("C0STAFF01")

    answer = client.chat_postEphemeral(channel="C0STAFF01", user=TEACHER, text="Only you")

    assert answer["message_ts"]
    assert emulator.ephemerals[0]["user"] == TEACHER
    assert emulator.ephemerals[0]["text"] == "Only you"
    assert emulator.messages == []


# --------------------------------------------------------------------- conversations, users


def test_conversations_open_gives_one_stable_id_per_set_of_members(
    emulator: SlackEmulator, client: WebClient
) -> None:
    first = client.conversations_open(users=SENCO)["channel"]["id"]
    again = client.conversations_open(users=[SENCO])["channel"]["id"]
    group = client.conversations_open(users=[SENCO, TEACHER])["channel"]["id"]
    same_group = client.conversations_open(users=f"{TEACHER},{SENCO}")["channel"]["id"]

    assert first == again and first.startswith("D")
    assert group == same_group and group != first and group.startswith("G")
    assert client.chat_postMessage(channel=SENCO, text="x")["channel"] == first


def test_conversations_open_refuses_unknown_and_deactivated_members(client: WebClient) -> None:
    assert error_of(client.conversations_open, users="U0NOBODY1") == "user_not_found"
    assert error_of(client.conversations_open, users=LEAVER) == "user_disabled"


def test_message_metadata_is_kept_and_must_follow_slacks_schema(
    emulator: SlackEmulator, client: WebClient
) -> None:
    metadata = {"event_type": "ssp_prompt", "event_payload": {"prompt_id": 7}}

    client.chat_postMessage(channel=SENCO, text="Review due", metadata=metadata)

    assert emulator.messages_to(SENCO)[0]["metadata"] == metadata
    no_payload = {"event_type": "ssp_prompt"}
    assert error_of(client.chat_postMessage, channel=SENCO, text="x", metadata=no_payload) == (
        "invalid_metadata_schema"
    )
    assert len(emulator.messages) == 1


def test_conversations_history_is_newest_first_with_metadata_only_when_asked(
    emulator: SlackEmulator, client: WebClient
) -> None:
    first = client.chat_postMessage(
        channel=SENCO, text="one", metadata={"event_type": "ssp_prompt", "event_payload": {"n": 1}}
    )
    dm = first["channel"]
    client.chat_postMessage(channel=dm, text="a reply", thread_ts=first["ts"])
    second = client.chat_postMessage(channel=SENCO, text="two")
    client.chat_postMessage(channel=TEACHER, text="someone else's DM")

    plain = client.conversations_history(channel=dm)
    full = client.conversations_history(channel=dm, include_all_metadata=True)

    assert [m["ts"] for m in plain["messages"]] == [second["ts"], first["ts"]]  # no replies
    assert plain["has_more"] is False and "response_metadata" not in plain.data
    assert all("metadata" not in m for m in plain["messages"])
    assert full["messages"][1]["metadata"] == {
        "event_type": "ssp_prompt",
        "event_payload": {"n": 1},
    }
    assert "metadata" not in full["messages"][0]
    assert full["messages"][1]["bot_id"] == emulator.bot_id
    assert full["messages"][1]["user"] == emulator.bot_user_id
    assert emulator.calls_to("conversations.history")[1].params["include_all_metadata"] == "1"


def test_conversations_history_bounds_are_exclusive_unless_inclusive(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel=SENCO, text=str(i))["ts"] for i in range(4)]
    dm = client.conversations_open(users=SENCO)["channel"]["id"]

    def history(**kwargs) -> list[str]:
        return [m["text"] for m in client.conversations_history(channel=dm, **kwargs)["messages"]]

    assert history(oldest=stamps[1], latest=stamps[3]) == ["2"]
    assert history(oldest=stamps[1], latest=stamps[3], inclusive=True) == ["3", "2", "1"]
    assert history(oldest=stamps[2]) == ["3"]
    assert history(latest=stamps[1]) == ["0"]


def test_conversations_history_pages_with_a_cursor(client: WebClient) -> None:
    for i in range(5):
        client.chat_postMessage(channel=SENCO, text=str(i))
    dm = client.conversations_open(users=SENCO)["channel"]["id"]

    pages, cursor = [], None
    while True:
        page = client.conversations_history(channel=dm, limit=2, cursor=cursor)
        pages.append([m["text"] for m in page["messages"]])
        if not page["has_more"]:
            break
        cursor = page["response_metadata"]["next_cursor"]

    assert pages == [["4", "3"], ["2", "1"], ["0"]]


def test_conversations_history_refuses_what_slack_refuses(client: WebClient) -> None:
    client.chat_postMessage(channel=SENCO, text="x")
    dm = client.conversations_open(users=SENCO)["channel"]["id"]

    assert error_of(client.conversations_history, channel="D0NOWHERE") == "channel_not_found"
    assert error_of(client.conversations_history, channel=SENCO) == "channel_not_found"
    assert error_of(client.conversations_history, channel=dm, oldest="soon") == "invalid_ts_oldest"
    assert error_of(client.conversations_history, channel=dm, latest="later") == (
        "invalid_ts_latest"
    )
    assert error_of(client.conversations_history, channel=dm, cursor="%%%") == "invalid_cursor"


def test_users_info_and_lookup_by_email(emulator: SlackEmulator, client: WebClient) -> None:
    info = client.users_info(user=SENCO)["user"]

    assert info["id"] == SENCO
    assert info["team_id"] == emulator.team_id
    assert info["real_name"] == "Sam Senco"
    assert info["deleted"] is False and info["is_bot"] is False
    assert info["profile"]["email"] == "senco@school.example"
    assert client.users_lookupByEmail(email="Teacher@School.example")["user"]["id"] == TEACHER
    assert client.users_info(user=LEAVER)["user"]["deleted"] is True

    assert error_of(client.users_info, user="U0NOBODY1") == "user_not_found"
    # Documented: lookupByEmail says users_not_found (plural), for deactivated members too.
    for email in ("nobody@school.example", "leaver@school.example"):
        error = refused(client.users_lookupByEmail, email=email)
        assert error.response.status_code == 200
        assert error.response["error"] == "users_not_found"


# --------------------------------------------------------------------- views


def test_views_open_update_and_publish(emulator: SlackEmulator, client: WebClient) -> None:
    opened = client.views_open(
        trigger_id="12345.98765.abcd", view=modal(section("Pupil: A.B."), callback_id="plan")
    )["view"]

    assert opened["id"].startswith("V")
    assert opened["state"] == {"values": {}}
    assert opened["root_view_id"] == opened["id"]
    assert opened["hash"]

    updated = client.views_update(
        view_id=opened["id"], hash=opened["hash"], view=modal(section("Saved"))
    )["view"]
    assert updated["id"] == opened["id"]
    assert updated["hash"] != opened["hash"]
    assert emulator.views[opened["id"]]["blocks"] == [section("Saved")]

    stale = refused(
        client.views_update, view_id=opened["id"], hash=opened["hash"], view=modal(section("x"))
    )
    assert stale.response["error"] == "hash_conflict"
    assert error_of(client.views_update, view_id="V0NOPE", view=modal()) == "not_found"

    home = {"type": "home", "blocks": [section("Your plans")]}
    published = client.views_publish(user_id=SENCO, view=home)["view"]
    assert published["type"] == "home"
    assert emulator.home_views[SENCO]["blocks"] == [section("Your plans")]
    republished = client.views_publish(user_id=SENCO, view=home)["view"]
    assert republished["id"] == published["id"]


def test_views_are_validated_as_slack_does(client: WebClient) -> None:
    too_many = modal(*[section(str(i)) for i in range(101)])
    error = refused(client.views_open, trigger_id="1.2.a", view=too_many).response
    assert error["error"] == "invalid_arguments"
    assert any("/view/blocks" in m for m in error["response_metadata"]["messages"])

    home_too_big = {"type": "home", "blocks": [section(str(i)) for i in range(101)]}
    assert error_of(client.views_publish, user_id=SENCO, view=home_too_big) == "invalid_arguments"
    assert client.views_publish(
        user_id=SENCO, view={"type": "home", "blocks": [section("ok")] * 100}
    )["ok"]

    no_type = {"title": {"type": "plain_text", "text": "T"}, "blocks": []}
    assert error_of(client.views_open, trigger_id="2.2.a", view=no_type) == "invalid_arguments"
    not_json = refused(client.views_open, trigger_id="3.2.a", view="{not json")
    assert not_json.response["error"] == "invalid_arguments"
    long_title = modal(title="A title far longer than twenty-four")
    assert error_of(client.views_open, trigger_id="4.2.a", view=long_title) == "invalid_arguments"
    home = {"type": "home", "blocks": []}
    assert error_of(client.views_open, trigger_id="5.2.a", view=home) == "invalid_arguments"
    question = {
        "type": "input",
        "label": {"type": "plain_text", "text": "Target"},
        "element": {"type": "plain_text_input", "action_id": "target"},
    }
    no_submit = modal(question)
    assert error_of(client.views_open, trigger_id="6.2.a", view=no_submit) == "invalid_arguments"
    with_submit = modal(question, submit={"type": "plain_text", "text": "Save"})
    assert client.views_open(trigger_id="7.2.a", view=with_submit)["ok"]
    too_much_metadata = modal(private_metadata="x" * 3001)
    error = refused(client.views_open, trigger_id="8.2.a", view=too_much_metadata).response
    assert error["error"] == "invalid_arguments"
    assert any("private_metadata" in m for m in error["response_metadata"]["messages"])


def test_trigger_ids_are_single_use_and_push_stacks_up_to_three(
    emulator: SlackEmulator, client: WebClient
) -> None:
    root = client.views_open(trigger_id="777.1.abc", view=modal())["view"]

    again = refused(client.views_open, trigger_id="777.1.abc", view=modal())
    assert again.response["error"] == "exchanged_trigger_id"
    not_a_trigger = refused(client.views_open, trigger_id="not-a-trigger", view=modal())
    assert not_a_trigger.response["error"] == "invalid_trigger_id"

    second = client.views_push(trigger_id=emulator.new_trigger_id(root["id"]), view=modal())
    assert second["view"]["root_view_id"] == root["id"]
    assert second["view"]["previous_view_id"] == root["id"]
    client.views_push(trigger_id=emulator.new_trigger_id(second["view"]["id"]), view=modal())
    fourth = refused(
        client.views_push, trigger_id=emulator.new_trigger_id(root["id"]), view=modal()
    )
    assert fourth.response["error"] == "push_limit_reached"


# --------------------------------------------------------------------- files


def test_files_upload_v2_works_end_to_end(emulator: SlackEmulator, client: WebClient) -> None:
    emulator.add_channel("C0STAFF01")
    content = "Pupil,Target\nA.B.,Read 20 words\n"

    answer = client.files_upload_v2(
        channel="C0STAFF01",
        content=content,
        filename="plan.csv",
        title="Support plan",
        initial_comment="Here is the plan",
    )

    assert answer["file"]["title"] == "Support plan"
    assert [c.method for c in emulator.calls] == [
        "files.getUploadURLExternal",
        UPLOAD,
        "files.completeUploadExternal",
    ]
    (stored,) = emulator.files
    assert stored["id"] == answer["file"]["id"]
    assert stored["filename"] == "plan.csv"
    assert stored["content"] == content.encode()
    assert stored["channels"] == ["C0STAFF01"]
    assert stored["initial_comment"] == "Here is the plan"
    assert emulator.calls_to(UPLOAD)[0].response == f"OK - {len(content.encode())}"


def test_an_upload_url_also_takes_multipart_and_can_be_made_to_fail(
    emulator: SlackEmulator, client: WebClient
) -> None:
    upload = client.files_getUploadURLExternal(filename="plan.pdf", length=4)
    boundary = "emulatorboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="filename"; filename="plan.pdf"'
            "\r\nContent-Type: application/pdf\r\n\r\n"
        ).encode()
        + b"%PDF"
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = Request(
        upload["upload_url"],
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urlopen(request, timeout=5) as response:
        assert response.status == 200
        assert response.read() == b"OK - 4"
    client.files_completeUploadExternal(files=[{"id": upload["file_id"], "title": "Plan"}])
    assert emulator.files[0]["content"] == b"%PDF"

    # slack_sdk posts the bytes with plain urllib: a failed upload raises HTTPError.
    emulator.fail_next(UPLOAD, "upload failed", status=500)
    with pytest.raises(HTTPError) as raised:
        client.files_upload_v2(channel=SENCO, content="x", filename="x.txt")
    assert raised.value.code == 500
    assert emulator.files[1:] == []


def test_a_file_can_be_completed_only_once(client: WebClient, emulator: SlackEmulator) -> None:
    answer = client.files_upload_v2(channel=SENCO, content=b"\x00\x01", filename="a.bin")

    again = refused(client.files_completeUploadExternal, files=[{"id": answer["file"]["id"]}])
    assert again.response["error"] == "file_not_found"
    assert emulator.files[0]["channel"] == emulator.dm_channel_id(SENCO)


# --------------------------------------------------------------------- injected failures


def test_ratelimited_is_http_429_with_retry_after(
    emulator: SlackEmulator, client: WebClient
) -> None:
    emulator.fail_next("chat.postMessage", "ratelimited", retry_after=7)

    error = refused(client.chat_postMessage, channel=SENCO, text="x")

    assert error.response.status_code == 429
    assert error.response.headers["Retry-After"] == "7"
    assert error.response.data == {"ok": False, "error": "ratelimited"}
    assert emulator.calls_to("chat.postMessage")[0].http_status == 429
    assert client.chat_postMessage(channel=SENCO, text="x")["ok"]  # only the next call


def test_a_client_with_the_rate_limit_handler_waits_retry_after_then_succeeds(
    emulator: SlackEmulator,
) -> None:
    client = WebClient(
        token=emulator.bot_token,
        base_url=emulator.api_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    emulator.fail_next("chat.postMessage", "ratelimited", retry_after=1)

    started = time.monotonic()
    answer = client.chat_postMessage(channel=SENCO, text="Review reminder")
    waited = time.monotonic() - started

    assert answer["ok"]
    assert waited >= 1.0
    assert [c.http_status for c in emulator.calls_to("chat.postMessage")] == [429, 200]
    assert len(emulator.messages) == 1


def test_a_server_error_is_retried_by_the_server_error_handler(emulator: SlackEmulator) -> None:
    client = WebClient(
        token=emulator.bot_token,
        base_url=emulator.api_url,
        retry_handlers=[
            ServerErrorRetryHandler(
                max_retry_count=1, interval_calculator=FixedValueRetryIntervalCalculator(0.05)
            )
        ],
    )
    emulator.fail_next("chat.postMessage", "internal_error", status=500)

    assert client.chat_postMessage(channel=SENCO, text="x")["ok"]
    assert [c.http_status for c in emulator.calls_to("chat.postMessage")] == [500, 200]

    emulator.fail_next("chat.postMessage", "internal_error", status=500, times=2)
    error = refused(client.chat_postMessage, channel=SENCO, text="x")
    assert error.response.status_code == 500
    assert error.response["error"] == "internal_error"


@pytest.mark.parametrize(
    ("method", "call"),
    [
        ("users.info", lambda c: c.users_info(user=SENCO)),
        ("chat.postMessage", lambda c: c.chat_postMessage(channel=SENCO, text="x")),
        ("views.open", lambda c: c.views_open(trigger_id="9.9.z", view=modal())),
    ],
)
@pytest.mark.parametrize(
    "error", ["user_not_found", "account_inactive", "channel_not_found", "expired_trigger_id"]
)
def test_injected_errors_surface_as_slack_api_errors_with_http_200(
    emulator: SlackEmulator, client: WebClient, method: str, call, error: str
) -> None:
    emulator.fail_next(method, error)

    raised = refused(call, client)

    assert raised.response.status_code == 200
    assert raised.response.data == {"ok": False, "error": error}
    assert emulator.calls_to(method)[-1].error == error


def test_failures_can_repeat_and_reset_clears_them(
    emulator: SlackEmulator, client: WebClient
) -> None:
    emulator.fail_next("users.info", "fatal_error", times=2)
    for _ in range(2):
        assert error_of(client.users_info, user=SENCO) == "fatal_error"
    assert client.users_info(user=SENCO)["ok"]

    emulator.fail_next("users.info", "fatal_error")
    client.chat_postMessage(channel=SENCO, text="x")
    emulator.reset()

    assert emulator.calls == [] and emulator.messages == []
    assert client.users_info(user=SENCO)["ok"]  # failure gone, member kept
    with pytest.raises(ValueError):
        emulator.fail_next("chat.postMesage", "ratelimited")


# --------------------------------------------------------------------- concurrency, waiting


def test_concurrent_calls_are_all_served_and_recorded(
    emulator: SlackEmulator, client: WebClient
) -> None:
    def post(i: int) -> None:
        client.chat_postMessage(channel=SENCO, text=f"message {i}")

    threads = [threading.Thread(target=post, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(emulator.calls_to("chat.postMessage")) == 20
    assert len({m["ts"] for m in emulator.messages}) == 20


def test_wait_for_sees_a_call_made_later(emulator: SlackEmulator, client: WebClient) -> None:
    timer = threading.Timer(0.1, lambda: client.chat_postMessage(channel=SENCO, text="later"))
    timer.start()

    posted = emulator.wait_for(lambda calls: [c for c in calls if c.method == "chat.postMessage"])

    assert posted[0].params["text"] == "later"
    with pytest.raises(TimeoutError):
        emulator.wait_for(lambda calls: any(c.method == "views.open" for c in calls), timeout=0.1)


# --- workspaces: users and tokens belong to one ----------------------------------------------


def test_users_and_tokens_are_scoped_to_their_workspace(emulator: SlackEmulator) -> None:
    emulator.add_user("U0ELSEW01", email="teacher@school.example", team_id="T0ELSEWHERE")
    emulator.add_user("U0GUEST01", email="guest@other.example", team_id="T0GUEST", connected=True)
    client = WebClient(token=emulator.bot_token, base_url=emulator.api_url)
    # Another workspace's member is nobody here; a Slack Connect guest is known, with their team.
    assert error_of(client.users_info, user="U0ELSEW01") == "user_not_found"
    assert client.users_info(user="U0GUEST01")["user"]["team_id"] == "T0GUEST"
    assert client.users_lookupByEmail(email="teacher@school.example")["user"]["id"] == TEACHER
    assert error_of(client.users_lookupByEmail, email="guest@other.example") == "users_not_found"
    assert error_of(client.conversations_open, users="U0GUEST01") == "user_not_found"
    assert error_of(client.chat_postMessage, channel="U0ELSEW01", text="hi") == (
        "channel_not_found"
    )
    # The other workspace's own token sees its members, and not ours.
    emulator.add_workspace("T0ELSEWHERE", "xoxb-elsewhere")
    elsewhere = WebClient(token="xoxb-elsewhere", base_url=emulator.api_url)
    assert elsewhere.auth_test()["team_id"] == "T0ELSEWHERE"
    assert elsewhere.users_info(user="U0ELSEW01")["user"]["team_id"] == "T0ELSEWHERE"
    assert error_of(elsewhere.users_info, user=TEACHER) == "user_not_found"
    assert client.auth_test()["team_id"] == emulator.team_id


def post_json(url: str, payload: dict) -> int:
    request = Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urlopen(request, timeout=5) as response:
        return response.status


def test_a_response_url_edits_the_message_it_was_made_for(
    emulator: SlackEmulator, client: WebClient
) -> None:
    posted = client.chat_postMessage(channel=TEACHER, text="Please answer")
    channel, ts = posted["channel"], posted["ts"]
    url = emulator.new_response_url(user_id=TEACHER, channel_id=channel, message_ts=ts)
    assert post_json(url, {"replace_original": True, "text": "Answered"}) == 200
    assert [m["text"] for m in emulator.messages] == ["Answered"]
    # A reply without replace_original is seen only by the person; in_channel is posted.
    assert post_json(url, {"text": "Only you can see this"}) == 200
    assert post_json(url, {"response_type": "in_channel", "text": "For everyone"}) == 200
    assert [m["text"] for m in emulator.messages] == ["Answered", "For everyone"]
    assert post_json(url, {"delete_original": True}) == 200
    assert [m["text"] for m in emulator.messages] == ["For everyone"]
    # An ephemeral message's response URL (no message_ts) leaves the history alone.
    other = emulator.new_response_url(user_id=TEACHER, channel_id=channel)
    assert post_json(other, {"replace_original": True, "text": "Changed"}) == 200
    assert [m["text"] for m in emulator.messages] == ["For everyone"]


def button(action_id: str, label: str) -> dict:
    return {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label},
        "value": label,
    }


def test_repeated_action_or_block_ids_are_refused_as_slack_refuses_them(
    emulator: SlackEmulator, client: WebClient
) -> None:
    same_action = [
        {"type": "actions", "elements": [button("page", "Previous"), button("page", "Next")]}
    ]
    refusal = refused(client.chat_postMessage, channel=SENCO, text="x", blocks=same_action)
    assert refusal.response.status_code == 200
    assert refusal.response["error"] == "invalid_blocks"
    assert refusal.response["errors"] == [
        "duplicate action_id 'page' [json-pointer:/blocks/0/elements/1/action_id]"
    ]
    same_block = [{**section("a"), "block_id": "b1"}, {**section("b"), "block_id": "b1"}]
    refusal = refused(
        client.chat_postEphemeral, channel=SENCO, user=SENCO, text="x", blocks=same_block
    )
    assert refusal.response["error"] == "invalid_blocks"
    assert "duplicate block_id 'b1'" in refusal.response["errors"][0]

    # The same action_id in two different blocks is allowed, as in Slack.
    two_rows = [
        {"type": "actions", "elements": [button("page", "Previous")]},
        {"type": "actions", "elements": [button("page", "Next")]},
    ]
    posted = client.chat_postMessage(channel=SENCO, text="x", blocks=two_rows)
    assert posted["ok"]
    refusal = refused(
        client.chat_update, channel=posted["channel"], ts=posted["ts"], text="x", blocks=same_action
    )
    assert refusal.response["error"] == "invalid_blocks"

    # A view is refused with the views methods' own error, naming the place.
    error = refused(client.views_open, trigger_id="1.2.a", view=modal(*same_action)).response
    assert error["error"] == "invalid_arguments"
    assert any("duplicate action_id" in m for m in error["response_metadata"]["messages"])
    home = {"type": "home", "blocks": same_block}
    assert error_of(client.views_publish, user_id=SENCO, view=home) == "invalid_arguments"
    assert emulator.views == {}


def test_a_response_url_refuses_repeated_action_ids_with_http_400(
    emulator: SlackEmulator, client: WebClient
) -> None:
    posted = client.chat_postMessage(channel=TEACHER, text="Please answer")
    url = emulator.new_response_url(
        user_id=TEACHER, channel_id=posted["channel"], message_ts=posted["ts"]
    )
    blocks = [{"type": "actions", "elements": [button("page", "Previous"), button("page", "Next")]}]
    with pytest.raises(HTTPError) as raised:
        post_json(url, {"replace_original": True, "text": "Page 2", "blocks": blocks})
    assert raised.value.code == 400
    assert raised.value.read() == b"invalid_blocks"
    assert [m["text"] for m in emulator.messages] == ["Please answer"]


# ------------------------------------------------- Block Kit rules a large school reaches


def plain(text: str) -> dict:
    return {"type": "plain_text", "text": text}


def option(i: int, text: str = "Lexia") -> dict:
    return {"text": plain(text), "value": str(i)}


def picker(element: dict) -> dict:
    return {"type": "input", "block_id": "pick", "label": plain("Pick"), "element": element}


def form(*blocks: dict, **extra: object) -> dict:
    return modal(*blocks, submit=plain("Save"), **extra)


def test_a_menu_of_more_than_100_options_or_groups_is_refused(client: WebClient) -> None:
    def menu(**choices) -> dict:
        return picker({"type": "static_select", "action_id": "value", **choices})

    hundred = [option(i) for i in range(100)]
    assert client.views_open(trigger_id="1.1.a", view=form(menu(options=hundred)))["ok"]
    one_more = form(menu(options=[*hundred, option(100)]))
    assert error_of(client.views_open, trigger_id="2.1.a", view=one_more) == "invalid_arguments"
    multi = picker({"type": "multi_static_select", "action_id": "v", "options": [*hundred] * 2})
    assert error_of(client.views_open, trigger_id="3.1.a", view=form(multi)) == "invalid_arguments"
    # option_groups: at most 100 groups, each of at most 100 options.
    groups = [{"label": plain(f"Area {g}"), "options": [option(g)]} for g in range(100)]
    assert client.views_open(trigger_id="4.1.a", view=form(menu(option_groups=groups)))["ok"]
    too_many = groups + [{"label": plain("Area 100"), "options": [option(100)]}]
    view = form(menu(option_groups=too_many))
    error = refused(client.views_open, trigger_id="5.1.a", view=view).response
    pointer = "/view/blocks/0/element/option_groups"
    assert (
        f"[ERROR] no more than 100 items allowed [json-pointer:{pointer}]"
        in (error["response_metadata"]["messages"])
    )


def test_an_options_text_and_value_are_held_to_75_and_150(client: WebClient) -> None:
    menu = {"type": "static_select", "action_id": "value"}
    fits = {**menu, "options": [{"text": plain("L" * 75), "value": "v" * 150}]}
    assert client.views_open(trigger_id="1.1.b", view=form(picker(fits)))["ok"]
    for text, value in (("L" * 76, "1"), ("L", "v" * 151)):
        long = {**menu, "options": [{"text": plain(text), "value": value}]}
        assert error_of(client.views_open, trigger_id="2.1.b", view=form(picker(long))) == (
            "invalid_arguments"
        )


def test_an_overflow_menu_has_2_to_5_options(client: WebClient) -> None:
    def with_overflow(n: int) -> list[dict]:
        more = {"type": "overflow", "action_id": "more", "options": [option(i) for i in range(n)]}
        return [{"type": "section", "text": plain("Lexia"), "accessory": more}]

    for n in (2, 5):
        assert client.chat_postMessage(channel=SENCO, text="x", blocks=with_overflow(n))["ok"]
    for n in (1, 6):
        blocks = with_overflow(n)
        assert error_of(client.chat_postMessage, channel=SENCO, text="x", blocks=blocks) == (
            "invalid_blocks"
        )


def test_a_file_input_only_in_a_modals_input_block_with_1_to_10_files(client: WebClient) -> None:
    def file_input(**fields) -> dict:
        return {"type": "file_input", "action_id": "file", **fields}

    good = form(picker(file_input(max_files=10, filetypes=["pdf", "docx"])))
    assert client.views_open(trigger_id="1.1.c", view=good)["ok"]
    for bad in (file_input(max_files=0), file_input(max_files=11), file_input(filetypes="pdf")):
        view = form(picker(bad))
        assert error_of(client.views_open, trigger_id="2.1.c", view=view) == "invalid_arguments"
    as_accessory = {"type": "section", "text": plain("Report"), "accessory": file_input()}
    view = form(as_accessory)
    assert error_of(client.views_open, trigger_id="3.1.c", view=view) == "invalid_arguments"
    in_message = [picker(file_input())]
    assert error_of(client.chat_postMessage, channel=SENCO, text="x", blocks=in_message) == (
        "invalid_blocks"
    )
    home = {"type": "home", "blocks": [picker(file_input())]}
    assert error_of(client.views_publish, user_id=SENCO, view=home) == "invalid_arguments"


def test_a_modals_title_submit_and_close_are_at_most_24(client: WebClient) -> None:
    fits = form(picker({"type": "plain_text_input", "action_id": "v"}), close=plain("C" * 24))
    fits["title"], fits["submit"] = plain("T" * 24), plain("S" * 24)
    assert client.views_open(trigger_id="1.1.d", view=fits)["ok"]
    for name in ("title", "submit", "close"):
        view = dict(fits, **{name: plain("X" * 25)})
        error = refused(client.views_open, trigger_id="2.1.d", view=view).response
        assert (
            f"[ERROR] must be less than 25 characters [json-pointer:/view/{name}/text]"
            in (error["response_metadata"]["messages"])
        )


def test_ids_values_and_texts_are_held_to_slacks_lengths(client: WebClient) -> None:
    def button(**fields) -> dict:
        return {"type": "button", "text": plain("Open"), "action_id": "open", **fields}

    def post(*blocks: dict) -> str | None:
        try:
            client.chat_postMessage(channel=SENCO, text="x", blocks=list(blocks))
        except SlackApiError as error:
            return error.response["error"]
        return None

    def actions(element: dict, **fields) -> dict:
        return {"type": "actions", "elements": [element], **fields}

    assert post(actions(button(value="v" * 2000, action_id="a" * 255), block_id="b" * 255)) is None
    assert post(actions(button(value="v" * 2001))) == "invalid_blocks"
    assert post(actions(button(action_id="a" * 256))) == "invalid_blocks"
    assert post(actions(button(), block_id="b" * 256)) == "invalid_blocks"
    assert post(*[section("s")] * 50) is None and post(*[section("s")] * 51) == "invalid_blocks"
    assert post(section("s" * 3000)) is None and post(section("s" * 3001)) == "invalid_blocks"
    fields = {"type": "section", "fields": [plain("f" * 2000)] * 10}
    assert post(fields) is None
    assert post(dict(fields, fields=[plain("f")] * 11)) == "invalid_blocks"
    assert post(dict(fields, fields=[plain("f" * 2001)])) == "invalid_blocks"
    assert post({"type": "header", "text": plain("h" * 150)}) is None
    assert post({"type": "header", "text": plain("h" * 151)}) == "invalid_blocks"
    context = {"type": "context", "elements": [plain("c")] * 10}
    assert post(context) is None
    assert post(dict(context, elements=[plain("c")] * 11)) == "invalid_blocks"
    view = modal(*[section("s")] * 100)
    assert client.views_open(trigger_id="1.1.e", view=view)["ok"]


def test_a_message_shortcut_carries_a_message_as_slack_delivers_it(emulator: SlackEmulator):
    from bot.demo.slack_sender import SlackSender, check_message_shortcut

    file = emulator.add_file(SENCO, "report.pdf", b"%PDF-1.4")
    posted = emulator.post_file_message(SENCO, emulator.dm_channel_id(SENCO), [file])
    check_message_shortcut("ssp_attach", posted)  # what a member's message looks like: taken
    for bad in (
        {"text": "no type", "ts": "1700000000.000100"},
        {"type": "message", "text": "no ts"},
        {"type": "message", "text": "a ts Slack never makes", "ts": "1.0"},
    ):
        with pytest.raises(ValueError):
            check_message_shortcut("ssp_attach", bad)
    with pytest.raises(ValueError, match="callback_id"):
        check_message_shortcut("c" * 256, posted)
    # The sender refuses before anything is sent: no app needs to be listening.
    sender = SlackSender("http://127.0.0.1:9/slack/events", "secret", emulator)
    with pytest.raises(ValueError):
        sender.message_shortcut(SENCO, "ssp_attach", {"type": "message", "ts": "1"})
