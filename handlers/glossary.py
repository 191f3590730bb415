"""`/ssp glossary`: the school's acronyms in plain words, who changed them, and undoing a change.

A meaning reaches every family document that uses the acronym, so each change is kept with who
made it and when (`/ssp glossary history ELSA`), and the SENDCo can undo the latest one
(`/ssp glossary revert ELSA`).
"""

from __future__ import annotations

from bot.access import Viewer
from bot.errors import UserError
from bot.render import escape_mrkdwn, uk_date
from bot.services import glossary as glossary_service
from handlers.context import Ask, Subcommand, Usage
from handlers.presenters import pager
from handlers.toolkit import UsageError, as_typed, message, notice, page_of
from models import GlossaryChange

MAY_ADD_TERMS = "Only the SENDCo, senior leaders and case holders can add to the glossary."
ONLY_SENDCO_REVERTS = "Only the SENDCo can revert a change to the glossary."
USAGE = 'To add an acronym: `/ssp glossary add ELSA "Emotional Literacy Support Assistant: …"`.'
HISTORY_SHOWN = 20  # changes listed, latest first: two to a section, inside Slack's 50 blocks
# The list pages by size, not by count (a meaning may be 500 characters): each section inside
# Slack's 3,000 characters, each page a few of them, well inside a message's 50 blocks and small
# enough that Slack never finds the message's blocks too long (msg_blocks_too_long).
SECTION_CHARACTERS = 2900
TERMS_PER_SECTION = 15
PAGE_CHARACTERS = 12_000
SECTIONS_PER_PAGE = 20


def may_change_terms(viewer: Viewer) -> bool:
    return viewer.is_sendco or viewer.is_case_holder or viewer.sees_whole_school


def glossary_command(ask: Ask) -> dict:
    """`/ssp glossary` lists the school's acronyms; `add`, `history` and `revert` change them."""
    words = ask.text.split(None, 2)
    if not words:
        return _list(ask)
    asked = words[0].lower()
    if asked == "history" and len(words) == 2:
        return _history(ask, words[1])
    if asked == "revert" and len(words) == 2:
        return _revert(ask, words[1])
    if asked != "add" or len(words) < 3:
        raise UsageError(USAGE)
    viewer = ask.viewer
    if not may_change_terms(viewer):
        raise UserError(MAY_ADD_TERMS)
    acronym, meaning = words[1], _unquote(as_typed(words[2]))
    with ask.runtime.unit_of_work() as session:
        _, new = glossary_service.add_term(
            session,
            viewer.school_id,
            acronym,
            meaning,
            ask.runtime.now(),
            by_staff_id=viewer.staff_id,
        )
    done = "Added" if new else "Updated"
    return notice(f"{done} *{escape_mrkdwn(acronym)}*: {escape_mrkdwn(meaning)}")


def _list(ask: Ask) -> dict:
    with ask.runtime.unit_of_work() as session:
        terms = glossary_service.glossary(session, ask.viewer.school_id)
    lines = [f"*{escape_mrkdwn(a)}*: {escape_mrkdwn(m)}" for a, m in terms.items()]
    shown = page_of(_pages(_sections(lines)), ask.page, 1)
    shown_pager = pager("glossary", shown)
    return message(
        "glossary.json.j2",
        summary=f"The school's glossary: {len(terms)} acronyms explained",
        about=(
            f"{len(terms)} acronyms"
            + (f" ({shown_pager.of()})" if shown.pages > 1 else "")
            + '. Add or reword one with `/ssp glossary add ACRONYM "what it means"`; any '
            "acronym in a plan that isn't here is pointed out to its writer."
        ),
        chunks=shown.items[0] if shown.items else [],
        pager=shown_pager,
    )


def _sections(lines: list[str]) -> list[str]:
    """Lines gathered into paragraphs, each inside a section's limit."""
    sections: list[list[str]] = []
    for line in lines:
        last = sections[-1] if sections else None
        if (
            last is None
            or len(last) >= TERMS_PER_SECTION
            or sum(len(x) + 1 for x in last) + len(line) > SECTION_CHARACTERS
        ):
            sections.append([line])
        else:
            last.append(line)
    return ["\n".join(section) for section in sections]


def _pages(sections: list[str]) -> list[list[str]]:
    """Sections gathered into pages, each inside PAGE_CHARACTERS and SECTIONS_PER_PAGE."""
    pages: list[list[str]] = []
    for section in sections:
        last = pages[-1] if pages else None
        if (
            last is None
            or len(last) >= SECTIONS_PER_PAGE
            or sum(map(len, last)) + len(section) > PAGE_CHARACTERS
        ):
            pages.append([section])
        else:
            last.append(section)
    return pages


def _history(ask: Ask, acronym: str) -> dict:
    if not may_change_terms(ask.viewer):
        raise UserError(MAY_ADD_TERMS)
    shown = escape_mrkdwn(as_typed(acronym)[:30])
    with ask.runtime.unit_of_work() as session:
        changes = glossary_service.history(session, ask.viewer.school_id, acronym)
        lines = [_change_line(change) for change in changes[:HISTORY_SHOWN]]
    if not lines:
        return notice(f"The school hasn't changed *{shown}*: it has its built-in meaning, if any.")
    revert = " The SENDCo can undo the latest with `/ssp glossary revert " + shown + "`."
    return message(
        "glossary.json.j2",
        summary=f"Changes to {shown} in the school's glossary",
        about=(
            f"{len(changes)} change{'s' if len(changes) != 1 else ''} to *{shown}*, latest first"
            + (f" (the latest {HISTORY_SHOWN} shown)." if len(changes) > HISTORY_SHOWN else ".")
            + revert
        ),
        chunks=_chunks(lines, 2),
        pager=None,
    )


def _revert(ask: Ask, acronym: str) -> dict:
    if not ask.viewer.is_sendco:
        raise UserError(ONLY_SENDCO_REVERTS)
    with ask.runtime.unit_of_work() as session:
        meaning = glossary_service.revert(session, ask.viewer, acronym, ask.runtime.now())
    shown = escape_mrkdwn(as_typed(acronym)[:30])
    if meaning is None:
        return notice(f"Reverted *{shown}*: it is no longer in the school's glossary.")
    return notice(f"Reverted *{shown}*: {escape_mrkdwn(meaning)}")


def _change_line(change: GlossaryChange) -> str:
    who = escape_mrkdwn(change.changed_by.display_name) if change.changed_by else "someone"
    when = uk_date(change.changed_at.date())
    did = "reverted" if change.reverts_id else "changed"
    return (
        f"*{when}*, {did} by {who}\nfrom: {_meaning(change.acronym, change.old_meaning)}\n"
        f"to: {_meaning(change.acronym, change.new_meaning)}"
    )


def _meaning(acronym: str, meaning: str | None) -> str:
    if meaning is not None:
        return f"“{escape_mrkdwn(meaning)}”"
    return "_the built-in meaning_" if glossary_service.built_in(acronym) else "_not explained_"


def _chunks(lines: list[str], per_chunk: int) -> list[str]:
    """Lines gathered into paragraphs of `per_chunk`, each well inside a section's limit."""
    return ["\n".join(lines[i : i + per_chunk]) for i in range(0, len(lines), per_chunk)]


def _unquote(text: str) -> str:
    text = text.strip()
    for opening, closing in (('"', '"'), ("“", "”"), ("'", "'"), ("‘", "’")):
        if len(text) >= 2 and text.startswith(opening) and text.endswith(closing):
            return text[1:-1].strip()
    return text


# --- /ssp subcommands answered here -----------------------------------------------------------

SUBCOMMANDS = (
    Subcommand(
        "glossary",
        glossary_command,
        pages=True,  # Previous/Next under the list come back here with Ask.page
        help=(
            Usage('`/ssp glossary` — acronyms explained; `/ssp glossary add ELSA "…"` adds one'),
            Usage(
                "`/ssp glossary history ELSA` — who changed an acronym's meaning, and when",
                may_change_terms,
            ),
            Usage(
                "`/ssp glossary revert ELSA` — undo the latest change to an acronym's meaning",
                lambda viewer: viewer.is_sendco,
            ),
        ),
    ),
)
