"""Slack's documented limits on what an app may send, in one place.

Every message, ephemeral reply, response-URL answer and view the product sends must pass these
checks: the local Slack emulator (bot.demo.slack_emulator) refuses what fails them, with Slack's
own error codes, so a test that reaches a template through a Slack flow fails when the template
would be refused by Slack. Problems are worded as Slack words them in `response_metadata.messages`
(`must be less than 3001 characters [json-pointer:/blocks/3/text/text]`).

Each number below cites the page of Slack's reference that states it (docs.slack.dev):
  blocks   = /reference/block-kit/blocks (and one page per block)
  elements = /reference/block-kit/block-elements/<element>
  objects  = /reference/block-kit/composition-objects/<object>
  views    = /reference/views/modal-views
  post     = /reference/methods/chat.postMessage

`unescaped_mrkdwn` is separate: Slack does not refuse a raw `<` or `&` in mrkdwn, it reads it as a
link, a mention or an entity, so a name like "<!here>" pings a channel and "<script>" vanishes.
Standard library only, so that the emulator and the product can both import it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

# --- surfaces ---------------------------------------------------------------------------------
MAX_MESSAGE_BLOCKS = 50  # blocks: "up to 50 blocks in each message"
MAX_VIEW_BLOCKS = 100  # blocks: "and 100 blocks in modals or Home tabs"; views: "Max of 100 blocks"
# post: Slack truncates text over 40,000 characters (changelog 2018-04, "truncating really long
# messages") and documents msg_too_long; we treat it as a refusal, so nothing is silently cut.
MAX_MESSAGE_TEXT = 40_000
MAX_VIEW_TITLE = 24  # views: title, submit and close "max length of 24 characters"
MAX_PRIVATE_METADATA = 3000  # views: private_metadata "Max length of 3000 characters"
MAX_CALLBACK_ID = 255  # views: callback_id "Max length of 255 characters"
MAX_EXTERNAL_ID = 255  # /reference/methods/views.update: external_id "Max length of 255"

# --- blocks -----------------------------------------------------------------------------------
MAX_BLOCK_ID = 255  # blocks: block_id "Maximum length for this field is 255 characters"
MAX_SECTION_TEXT = 3000  # blocks/section: text "Minimum 1 and maximum 3000 characters"
MAX_FIELDS = 10  # blocks/section: fields "Maximum number of items is 10"
MAX_FIELD_TEXT = 2000  # blocks/section: "Maximum length for the text in each item is 2000"
MAX_HEADER_TEXT = 150  # blocks/header: plain_text "Maximum length for the text ... is 150"
MAX_CONTEXT_ELEMENTS = 10  # blocks/context: elements "Maximum number of items is 10"
MAX_ACTIONS_ELEMENTS = 25  # blocks/actions: elements "There is a maximum of 25 elements"
MAX_INPUT_LABEL = 2000  # blocks/input: label "Maximum length for the text ... is 2000"
MAX_INPUT_HINT = 2000  # blocks/input: hint "Maximum length for the text ... is 2000"

# --- composition objects ----------------------------------------------------------------------
MAX_TEXT = 3000  # objects/text-object: text "minimum length is 1 and maximum length is 3000"
MAX_OPTION_TEXT = 75  # objects/option-object: text "Maximum length ... is 75 characters"
MAX_OPTION_VALUE = 150  # objects/option-object: value "Maximum length ... is 150 characters"
MAX_OPTION_DESCRIPTION = 75  # objects/option-object: description "Maximum length ... is 75"
MAX_GROUP_LABEL = 75  # objects/option-group-object: label "Maximum length ... is 75"
MAX_CONFIRM_TITLE = 100  # objects/confirmation-dialog-object: title "Maximum length ... 100"
MAX_CONFIRM_TEXT = 300  # objects/confirmation-dialog-object: text "Maximum length ... 300"
MAX_CONFIRM_BUTTON = 30  # objects/confirmation-dialog-object: confirm, deny "... is 30"

# --- elements ---------------------------------------------------------------------------------
MAX_ACTION_ID = 255  # elements (every one): action_id "Maximum length is 255 characters"
MAX_BUTTON_TEXT = 75  # elements/button: text "Maximum length for the text ... is 75"
MAX_BUTTON_VALUE = 2000  # elements/button: value "Maximum length for this field is 2000"
MAX_BUTTON_URL = 3000  # elements/button: url "Maximum length for this field is 3000"
MAX_PLACEHOLDER = 150  # elements/select-menu, plain-text-input: placeholder "... is 150"
MAX_SELECT_OPTIONS = 100  # elements/select-menu: options "Maximum number of options is 100"
MAX_OPTION_GROUPS = 100  # elements/select-menu: option_groups "Maximum number ... is 100"
MAX_GROUP_OPTIONS = 100  # objects/option-group-object: options "Maximum of 100 items"
OVERFLOW_OPTIONS = (2, 5)  # elements/overflow-menu: "Maximum number of options is 5, minimum is 2"
MAX_CHECKBOX_OPTIONS = 10  # elements/checkboxes: options "A maximum of 10 options are allowed"
MAX_RADIO_OPTIONS = 10  # elements/radio-buttons: options "A maximum of 10 options are allowed"
MAX_FILES = 10  # elements/file-input: max_files "Maximum number of files ... Max 10"
MAX_INPUT_LENGTH = 3000  # elements/plain-text-input: min_length 0–3000, max_length 1–3000
# elements/plain-text-input gives initial_value no limit of its own, but one longer than the
# input's max_length is a form that cannot be saved as shown: we refuse it like an overlong text.

_SELECTS = ("static_select", "multi_static_select")
_MENUS = _SELECTS + (
    "external_select",
    "multi_external_select",
    "users_select",
    "multi_users_select",
    "conversations_select",
    "multi_conversations_select",
    "channels_select",
    "multi_channels_select",
)
_SURFACE_BLOCKS = {"message": MAX_MESSAGE_BLOCKS, "modal": MAX_VIEW_BLOCKS, "home": MAX_VIEW_BLOCKS}


# --- what the emulator and tests call ----------------------------------------------------------


def message_refusal(message: dict[str, Any]) -> tuple[str, list[str]] | None:
    """Why Slack would refuse this message (chat.postMessage, chat.postEphemeral, chat.update, a
    response URL's answer): (error code, problems), or None if it would take it."""
    text = message.get("text")
    if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
        return "msg_too_long", [_too_long(MAX_MESSAGE_TEXT, "/text")]
    blocks = message.get("blocks")
    if blocks is None:
        return None
    problems = blocks_problems(blocks, "message", "/blocks")
    return ("invalid_blocks", problems) if problems else None


def blocks_problems(blocks: Any, surface: str, pointer: str) -> list[str]:
    """What Slack objects to in a surface's `blocks` (surface: message, modal or home)."""
    if not isinstance(blocks, list):
        return [f"must be an array [json-pointer:{pointer}]"]
    problems = []
    limit = _SURFACE_BLOCKS[surface]
    if len(blocks) > limit:
        problems.append(f"no more than {limit} items allowed [json-pointer:{pointer}]")
    seen_block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"{pointer}/{i}"
        if not isinstance(block, dict) or not block.get("type"):
            problems.append(f"missing required field: type [json-pointer:{where}]")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            # blocks: "block_id should be unique for each message and each iteration of a message"
            if block_id in seen_block_ids:
                problems.append(f"duplicate block_id {block_id!r} [json-pointer:{where}]")
            seen_block_ids.add(block_id)
            problems += _length(block_id, MAX_BLOCK_ID, f"{where}/block_id")
        problems += _block_problems(block, surface, where)
    return problems


def view_problems(
    view: dict[str, Any], allowed_types: Iterable[str] = ("modal", "home")
) -> list[str]:
    """What Slack's view schema objects to (views.open, .push, .update, .publish, and a
    view_submission's response_action update or push), pointers under /view."""
    allowed = tuple(allowed_types)
    view_type = view.get("type")
    if not view_type:
        return ["missing required field: type [json-pointer:/view]"]
    if view_type not in allowed:
        return [f"must be {' or '.join(allowed)} [json-pointer:/view/type]"]
    problems = []
    blocks = view.get("blocks")
    if blocks is None:
        problems.append("missing required field: blocks [json-pointer:/view]")
        blocks = []
    problems += blocks_problems(blocks, view_type, "/view/blocks")
    if view_type == "modal":
        if not isinstance(view.get("title"), dict):
            problems.append("missing required field: title [json-pointer:/view]")
        for name in ("title", "submit", "close"):
            if view.get(name) is not None:
                problems += _text_object(
                    view[name], f"/view/{name}", MAX_VIEW_TITLE, plain_only=True
                )
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
        if has_input and not view.get("submit"):
            # views: "submit is required when an input block is within the blocks array"
            problems.append("submit is required when an input block is within the blocks")
    problems += _length(
        view.get("private_metadata"), MAX_PRIVATE_METADATA, "/view/private_metadata"
    )
    problems += _length(view.get("callback_id"), MAX_CALLBACK_ID, "/view/callback_id")
    problems += _length(view.get("external_id"), MAX_EXTERNAL_ID, "/view/external_id")
    return problems


def options_problems(answer: dict[str, Any]) -> list[str]:
    """What Slack objects to in an app's answer to a block_suggestion (an external select's
    options): the same limits as a static select's options."""
    if "option_groups" in answer:
        return _option_groups(answer["option_groups"], "/option_groups")
    return _options(answer.get("options", []), "/options", MAX_SELECT_OPTIONS)


def problems_of(surface: dict[str, Any]) -> list[str]:
    """Every refusal for a message (with `text`/`blocks`) or a view (with `type`), in one list:
    what tests assert is empty."""
    if surface.get("type") in ("modal", "home"):
        return view_problems(surface)
    refusal = message_refusal(surface)
    return refusal[1] if refusal else []


# --- escaping ---------------------------------------------------------------------------------

# What mrkdwn may hold on purpose (bot.render.escape_unescaped keeps the same): an escape made,
# a user or channel mention, a link. Anything else with &, < or > is someone's words, unescaped.
_MEANT = re.compile(
    r"&(?:amp|lt|gt);"
    r"|<@[UW][A-Z0-9]+(?:\|[^<>]*)?>"
    r"|<#C[A-Z0-9]+(?:\|[^<>]*)?>"
    r"|<(?:https?://|mailto:)[^<>|\s]+(?:\|[^<>]*)?>"
)


def unescaped_mrkdwn(surface: dict[str, Any]) -> list[str]:
    """Each mrkdwn text (and a message's top-level `text`, which notifications read as mrkdwn)
    holding a `<`, `>` or `&` that is not part of an escape, a mention or a link."""
    found = []
    text = surface.get("text")
    if isinstance(text, str) and _is_raw(text):
        found.append("unescaped &, < or > in mrkdwn [json-pointer:/text]")
    root = "/view/blocks" if surface.get("type") in ("modal", "home") else "/blocks"
    for pointer, value in _mrkdwn_texts(surface.get("blocks"), root):
        if _is_raw(value):
            found.append(f"unescaped &, < or > in mrkdwn [json-pointer:{pointer}]")
    return found


def _is_raw(text: str) -> bool:
    return bool(re.search(r"[<>&]", _MEANT.sub("", text)))


def _mrkdwn_texts(value: Any, pointer: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, list):
        for i, item in enumerate(value):
            yield from _mrkdwn_texts(item, f"{pointer}/{i}")
    elif isinstance(value, dict):
        if value.get("type") == "mrkdwn" and isinstance(value.get("text"), str):
            yield f"{pointer}/text", value["text"]
            return
        for key, item in value.items():
            yield from _mrkdwn_texts(item, f"{pointer}/{key}")


# --- blocks -----------------------------------------------------------------------------------


def _block_problems(block: dict[str, Any], surface: str, where: str) -> list[str]:
    kind = block["type"]
    problems: list[str] = []
    if kind == "section":
        text, fields = block.get("text"), block.get("fields")
        if text is None and not fields:
            problems.append(f"must provide either text or fields [json-pointer:{where}]")
        if text is not None:
            problems += _text_object(text, f"{where}/text", MAX_SECTION_TEXT)
        if fields is not None:
            if not isinstance(fields, list):
                problems.append(f"must be an array [json-pointer:{where}/fields]")
            else:
                if len(fields) > MAX_FIELDS:
                    problems.append(_too_many(MAX_FIELDS, f"{where}/fields"))
                for j, field in enumerate(fields):
                    problems += _text_object(field, f"{where}/fields/{j}", MAX_FIELD_TEXT)
        if block.get("accessory") is not None:
            problems += _element(block["accessory"], f"{where}/accessory")
    elif kind == "header":
        problems += _text_object(block.get("text"), f"{where}/text", MAX_HEADER_TEXT, True)
    elif kind == "context":
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            problems.append(f"must provide elements [json-pointer:{where}/elements]")
        else:
            if len(elements) > MAX_CONTEXT_ELEMENTS:
                problems.append(_too_many(MAX_CONTEXT_ELEMENTS, f"{where}/elements"))
            for j, element in enumerate(elements):
                if isinstance(element, dict) and element.get("type") in ("mrkdwn", "plain_text"):
                    problems += _text_object(element, f"{where}/elements/{j}", MAX_TEXT)
    elif kind == "actions":
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            problems.append(f"must provide elements [json-pointer:{where}/elements]")
        else:
            if len(elements) > MAX_ACTIONS_ELEMENTS:
                problems.append(_too_many(MAX_ACTIONS_ELEMENTS, f"{where}/elements"))
            problems += _unique_action_ids(elements, where)
            for j, element in enumerate(elements):
                problems += _element(element, f"{where}/elements/{j}")
    elif kind == "input":
        problems += _text_object(block.get("label"), f"{where}/label", MAX_INPUT_LABEL, True)
        if block.get("hint") is not None:
            problems += _text_object(block["hint"], f"{where}/hint", MAX_INPUT_HINT, True)
        if not isinstance(block.get("element"), dict):
            problems.append(f"missing required field: element [json-pointer:{where}]")
        else:
            problems += _element(block["element"], f"{where}/element")
            if block["element"].get("type") == "file_input" and surface != "modal":
                # elements/file-input: "Works with block types: Input" in modals only
                problems.append(f"file_input is only allowed in modals [json-pointer:{where}]")
    return problems


def _unique_action_ids(elements: list[Any], where: str) -> list[str]:
    """elements: action_id "Should be unique among all other action_ids in the containing block":
    Slack refuses a block whose elements repeat one (the click could not say which it was)."""
    problems, seen = [], set()
    for j, element in enumerate(elements):
        action_id = element.get("action_id") if isinstance(element, dict) else None
        if action_id is None:
            continue
        if action_id in seen:
            problems.append(
                f"duplicate action_id {action_id!r} [json-pointer:{where}/elements/{j}/action_id]"
            )
        seen.add(action_id)
    return problems


# --- elements ---------------------------------------------------------------------------------


def _element(element: Any, where: str) -> list[str]:
    if not isinstance(element, dict) or not element.get("type"):
        return [f"missing required field: type [json-pointer:{where}]"]
    kind = element["type"]
    problems = _length(element.get("action_id"), MAX_ACTION_ID, f"{where}/action_id")
    if element.get("placeholder") is not None:
        problems += _text_object(
            element["placeholder"], f"{where}/placeholder", MAX_PLACEHOLDER, True
        )
    if element.get("confirm") is not None:
        problems += _confirm(element["confirm"], f"{where}/confirm")
    if kind == "button":
        problems += _text_object(element.get("text"), f"{where}/text", MAX_BUTTON_TEXT, True)
        problems += _length(element.get("value"), MAX_BUTTON_VALUE, f"{where}/value")
        problems += _length(element.get("url"), MAX_BUTTON_URL, f"{where}/url")
    elif kind in _SELECTS:
        problems += _select(element, where)
    elif kind in ("external_select", "multi_external_select"):
        if element.get("initial_option") is not None:
            problems += _option(element["initial_option"], f"{where}/initial_option")
    elif kind == "overflow":
        options = element.get("options")
        low, high = OVERFLOW_OPTIONS
        count = len(options) if isinstance(options, list) else 0
        if count < low:
            problems.append(f"must provide at least {low} items [json-pointer:{where}/options]")
        problems += _options(options or [], f"{where}/options", high)
    elif kind in ("checkboxes", "radio_buttons"):
        limit = MAX_CHECKBOX_OPTIONS if kind == "checkboxes" else MAX_RADIO_OPTIONS
        options = element.get("options") or []
        problems += _options(options, f"{where}/options", limit, mrkdwn_allowed=True)
        values = {o.get("value") for o in options if isinstance(o, dict)}
        chosen = element.get("initial_options") or (
            [element["initial_option"]] if element.get("initial_option") else []
        )
        for option in chosen:
            if not isinstance(option, dict) or option.get("value") not in values:
                problems.append(
                    f"initial option must match one of the options [json-pointer:{where}]"
                )
    elif kind == "plain_text_input":
        problems += _text_input(element, where)
    elif kind == "file_input":
        if not where.endswith("/element"):
            problems.append(f"file_input is only allowed in an input block [json-pointer:{where}]")
        problems += _file_input(element, where)
    elif kind == "datepicker" and not _is_date(element.get("initial_date")):
        problems.append(f"must be YYYY-MM-DD [json-pointer:{where}/initial_date]")
    return problems


def _file_input(element: dict[str, Any], where: str) -> list[str]:
    """elements/file-input: `filetypes` an array of file extensions; `max_files` 1 to 10."""
    problems = []
    filetypes = element.get("filetypes")
    if filetypes is not None and (
        not isinstance(filetypes, list)
        or not all(isinstance(t, str) and t and "." not in t for t in filetypes)
    ):
        problems.append(f"must be an array of file extensions [json-pointer:{where}/filetypes]")
    max_files = element.get("max_files")
    if max_files is not None and (
        not isinstance(max_files, int)
        or isinstance(max_files, bool)
        or not 1 <= max_files <= MAX_FILES
    ):
        problems.append(f"must be between 1 and {MAX_FILES} [json-pointer:{where}/max_files]")
    return problems


def _is_date(value: Any) -> bool:
    return value is None or bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value)))


def _select(element: dict[str, Any], where: str) -> list[str]:
    options, groups = element.get("options"), element.get("option_groups")
    if options is None and groups is None:
        return [f"must provide options or option_groups [json-pointer:{where}]"]
    if options is not None:
        problems = _options(options, f"{where}/options", MAX_SELECT_OPTIONS)
        offered = [o for o in options if isinstance(o, dict)]
    else:
        problems = _option_groups(groups, f"{where}/option_groups")
        offered = [
            o
            for g in (groups if isinstance(groups, list) else [])
            if isinstance(g, dict)
            for o in g.get("options") or []
            if isinstance(o, dict)
        ]
    chosen = element.get("initial_options") or (
        [element["initial_option"]] if element.get("initial_option") is not None else []
    )
    for option in chosen:
        # elements/select-menu: initial_option "must exactly match one of the options"
        if option not in offered:
            problems.append(
                f"initial option must exactly match one of the options [json-pointer:{where}]"
            )
    return problems


def _option_groups(groups: Any, where: str) -> list[str]:
    if not isinstance(groups, list):
        return [f"must be an array [json-pointer:{where}]"]
    problems = []
    if len(groups) > MAX_OPTION_GROUPS:
        problems.append(_too_many(MAX_OPTION_GROUPS, where))
    for g, group in enumerate(groups):
        if not isinstance(group, dict):
            problems.append(f"must be an object [json-pointer:{where}/{g}]")
            continue
        problems += _text_object(group.get("label"), f"{where}/{g}/label", MAX_GROUP_LABEL, True)
        problems += _options(group.get("options") or [], f"{where}/{g}/options", MAX_GROUP_OPTIONS)
    return problems


def _options(options: Any, where: str, limit: int, *, mrkdwn_allowed: bool = False) -> list[str]:
    if not isinstance(options, list):
        return [f"must be an array [json-pointer:{where}]"]
    problems = []
    if len(options) > limit:
        problems.append(_too_many(limit, where))
    for j, option in enumerate(options):
        problems += _option(option, f"{where}/{j}", mrkdwn_allowed=mrkdwn_allowed)
    return problems


def _option(option: Any, where: str, *, mrkdwn_allowed: bool = False) -> list[str]:
    if not isinstance(option, dict):
        return [f"must be an object [json-pointer:{where}]"]
    problems = _text_object(
        option.get("text"), f"{where}/text", MAX_OPTION_TEXT, not mrkdwn_allowed
    )
    value = option.get("value")
    if value is None and option.get("url") is None:
        problems.append(f"missing required field: value [json-pointer:{where}]")
    problems += _length(value, MAX_OPTION_VALUE, f"{where}/value")
    if option.get("description") is not None:
        problems += _text_object(
            option["description"], f"{where}/description", MAX_OPTION_DESCRIPTION
        )
    return problems


def _text_input(element: dict[str, Any], where: str) -> list[str]:
    problems = []
    max_length = element.get("max_length")
    min_length = element.get("min_length")
    if max_length is not None and not (
        isinstance(max_length, int) and 1 <= max_length <= MAX_INPUT_LENGTH
    ):
        problems.append(
            f"must be between 1 and {MAX_INPUT_LENGTH} [json-pointer:{where}/max_length]"
        )
    if min_length is not None and not (
        isinstance(min_length, int) and 0 <= min_length <= MAX_INPUT_LENGTH
    ):
        problems.append(
            f"must be between 0 and {MAX_INPUT_LENGTH} [json-pointer:{where}/min_length]"
        )
    limit = max_length if isinstance(max_length, int) else MAX_INPUT_LENGTH
    problems += _length(
        element.get("initial_value"), min(limit, MAX_INPUT_LENGTH), f"{where}/initial_value"
    )
    return problems


def _confirm(confirm: Any, where: str) -> list[str]:
    if not isinstance(confirm, dict):
        return [f"must be an object [json-pointer:{where}]"]
    return (
        _text_object(confirm.get("title"), f"{where}/title", MAX_CONFIRM_TITLE, True)
        + _text_object(confirm.get("text"), f"{where}/text", MAX_CONFIRM_TEXT)
        + _text_object(confirm.get("confirm"), f"{where}/confirm", MAX_CONFIRM_BUTTON, True)
        + _text_object(confirm.get("deny"), f"{where}/deny", MAX_CONFIRM_BUTTON, True)
    )


# --- text -------------------------------------------------------------------------------------


def _text_object(value: Any, where: str, limit: int, plain_only: bool = False) -> list[str]:
    """objects/text-object: a type (plain_text or mrkdwn, where the field allows it) and a text of
    1 to `limit` characters."""
    if not isinstance(value, dict):
        return [f"missing required field: text object [json-pointer:{where}]"]
    kind = value.get("type")
    allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if kind not in allowed:
        return [f"must be {' or '.join(allowed)} [json-pointer:{where}/type]"]
    text = value.get("text")
    if not isinstance(text, str) or not text:
        return [f"must be more than 0 characters [json-pointer:{where}/text]"]
    return _length(text, limit, f"{where}/text")


def _length(value: Any, limit: int, where: str) -> list[str]:
    if value is None:
        return []
    return [_too_long(limit, where)] if len(str(value)) > limit else []


def _too_long(limit: int, where: str) -> str:
    return f"must be less than {limit + 1} characters [json-pointer:{where}]"


def _too_many(limit: int, where: str) -> str:
    return f"no more than {limit} items allowed [json-pointer:{where}]"
