"""What must never be in Slack's history, and a scan of the messages the bot left there.

Messages stay in Slack's history (and in a workspace owner's export), so they carry the pupil's
name (or initials, if the school chose that), what is asked, and buttons: never a UPN, a date of
birth, or anything written in a plan, a review, a note or feedback (DESIGN §4). `secrets` reads
all of that from the database; `leaks` says which of it is in which message.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, select
from sqlalchemy.orm import Session

import models
from models import Pupil, PupilDisplay, School

# Free text shorter than this is left out: "None", "Maths" or "Yes" would be found everywhere.
SHORTEST_TEXT = 12
# Every table whose free text is about a pupil (plans, reviews, feedback, notes, staff workflow).
PUPIL_TEXT_TABLES = frozenset(
    {
        "agency_involvements",
        "agency_reports",
        "case_holder_assignments",
        "linked_plans",
        "monitoring_requests",
        "plan_adjustments",
        "plan_needs",
        "plan_outcomes",
        "plan_provisions",
        "plan_targets",
        "plan_voices",
        "pupils",
        "review_target_results",
        "reviews",
        "sharing_consents",
        "timeline_entries",
    }
)


@dataclass(frozen=True)
class Secret:
    what: str  # "UPN", "date of birth", "plan_targets.description", ...
    text: str


@dataclass(frozen=True)
class Leak:
    secret: Secret
    message: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.secret.what} {self.secret.text!r} in {_shown(self.message)!r}"


def secrets(session: Session) -> list[Secret]:
    """Everything about pupils that must stay out of messages, from the whole database."""
    found: list[Secret] = []
    initials_schools = set(
        session.scalars(select(School.id).where(School.pupil_display == PupilDisplay.INITIALS))
    )
    for pupil in session.scalars(select(Pupil)):
        found.append(Secret("UPN", pupil.upn))
        found += [Secret("date of birth", form) for form in _date_forms(pupil.date_of_birth)]
        if pupil.school_id in initials_schools:
            # The school names pupils by initials in messages: not by name.
            found.append(Secret("name (initials school)", f"{pupil.first_name} {pupil.last_name}"))
            found.append(Secret("name (initials school)", pupil.known_as))
    # The names of what a school offers (its provision library) are the school's, not written
    # about a pupil: a plan row chosen from the library carries one, and so may the name of an
    # intervention group in a message that names no pupil (the session DM).
    offered = {
        " ".join(name.split()) for name in session.scalars(select(models.LibraryProvision.name))
    }
    for table in models.Base.metadata.sorted_tables:
        if table.name not in PUPIL_TEXT_TABLES:
            continue
        for column in table.columns:
            if not isinstance(column.type, Text):
                continue
            for value in session.scalars(select(column).where(column.is_not(None)).distinct()):
                text = " ".join(str(value).split())
                if table.name == "plan_provisions" and any(text in name for name in offered):
                    continue
                if len(text) >= SHORTEST_TEXT:
                    found.append(Secret(f"{table.name}.{column.name}", text))
    return found


def leaks(messages: Iterable[dict[str, Any]], secret_list: list[Secret]) -> list[Leak]:
    """Each secret found in a message (as its words are read: case and spacing ignored)."""
    wanted = [(secret, secret.text.lower()) for secret in secret_list]
    found = []
    for message in messages:
        words = _readable(message)
        found += [Leak(secret, message) for secret, text in wanted if text in words]
    return found


def _readable(message: dict[str, Any]) -> str:
    """Every string in the message (text, blocks, attachments, button values), unescaped."""
    parts = list(_strings({k: message.get(k) for k in ("text", "blocks", "attachments")}))
    return " ".join(" ".join(html.unescape(part).split()) for part in parts).lower()


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _date_forms(day) -> list[str]:
    return [
        day.isoformat(),
        f"{day:%d/%m/%Y}",
        f"{day.day} {day:%B %Y}",
        f"{day.day} {day:%b %Y}",
    ]


def _shown(message: dict[str, Any]) -> str:
    return _readable(message)[:300]
