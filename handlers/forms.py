"""What listeners share: reading a modal's values and metadata, and the small replies."""

from __future__ import annotations

import json

from bot.render import render_json


def element(values: dict, block_id: str) -> dict:
    """The state of an input block's element (every input's action_id is "value")."""
    return (values.get(block_id) or {}).get("value") or {}


def text_value(values: dict, block_id: str) -> str | None:
    value = element(values, block_id).get("value")
    return value.strip() if isinstance(value, str) and value.strip() else None


def selected_value(values: dict, block_id: str) -> str | None:
    return (element(values, block_id).get("selected_option") or {}).get("value")


def meta_of(view: dict) -> dict:
    """A view's private_metadata. Ids only: who may act is decided from the signed request."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        meta = {}
    return meta if isinstance(meta, dict) else {}


def as_int(value) -> int:
    """An id from a button or metadata; -1 (never an id) when it isn't a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def notice(text: str) -> dict:
    """An ephemeral reply of one paragraph."""
    return {"response_type": "ephemeral", **render_json("notice.json.j2", text=text)}


def done_modal(title: str, text: str) -> dict:
    """A modal that says what happened, replacing a form once it is submitted."""
    return render_json(
        "plan_notice_modal.json.j2", title=title, paragraphs=[text], reload=False, meta="{}"
    )
