"""Block Kit as plain text, for `sspbot demo` to show what someone would see in Slack."""

from __future__ import annotations

import re
import textwrap

WIDTH = 92
_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|([^>]*))?>")
_BOLD = re.compile(r"\*([^*\n]+)\*")
_ITALIC = re.compile(r"(?<![\w])_([^_\n]+)_(?![\w])")


def blocks_to_text(
    blocks: list[dict], names: dict[str, str] | None = None, width: int = WIDTH
) -> str:
    """Renders blocks roughly as Slack lays them out: headers, sections, fields, buttons."""
    names = names or {}
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = _plain(block["text"]["text"], names)
            lines += [title, "═" * min(len(title), WIDTH)]
        elif kind == "section":
            if "text" in block:
                lines += _wrap(_plain(block["text"]["text"], names), width=width)
            for field in block.get("fields", []):
                lines += _wrap(_plain(field["text"], names), indent="  ", width=width)
            accessory = block.get("accessory")
            if accessory and accessory.get("type") == "button":
                lines[-1] += f"   [{accessory['text']['text']}]"
        elif kind == "context":
            text = " ".join(_plain(e.get("text", ""), names) for e in block.get("elements", []))
            lines += _wrap(text, indent="  ┆ ", width=width)
        elif kind == "divider":
            lines.append("─" * 40)
        elif kind == "actions":
            buttons = [f"[{e['text']['text']}]" for e in block.get("elements", []) if "text" in e]
            lines.append("  ".join(buttons))
    return "\n".join(lines)


def _plain(text: str, names: dict[str, str]) -> str:
    text = _MENTION.sub(lambda m: "@" + (names.get(m.group(1)) or m.group(2) or m.group(1)), text)
    text = _ITALIC.sub(r"\1", _BOLD.sub(r"\1", text))
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return text.replace(":tada:", "🎉").replace(":white_check_mark:", "✅")


def _wrap(text: str, indent: str = "", width: int = WIDTH) -> list[str]:
    out: list[str] = []
    for paragraph in text.split("\n"):
        out += textwrap.wrap(
            paragraph, width, initial_indent=indent, subsequent_indent=indent + "  "
        ) or [""]
    return out
