"""A pupil's SEN stage and census needs over time (models.SenHistory).

The roster import and the Microsoft 365 sync overwrite the pupil's current stage and needs
(bot.services.roster.apply_pupils); `record` keeps each change, with its day and source, so
the pupil's record shows their whole time in school (Norfolk §2).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import NeedCode, Pupil, SenChangeSource, SenHistory, SenStage


@dataclass(frozen=True)
class SenState:
    """What the record said: stage and the two census needs."""

    sen_stage: SenStage
    primary_need: NeedCode | None
    secondary_need: NeedCode | None

    @classmethod
    def of(cls, pupil: Pupil) -> SenState:
        return cls(pupil.sen_stage, pupil.primary_need, pupil.secondary_need)

    @property
    def is_empty(self) -> bool:
        return self.sen_stage == SenStage.NONE and not (self.primary_need or self.secondary_need)


def record(
    session: Session,
    changes: Iterable[tuple[Pupil, SenState | None]],
    *,
    source: SenChangeSource,
    on: date,
    by_staff_id: int | None = None,
) -> int:
    """One history row for each pupil whose stage or needs differ from `before` (None: a pupil
    new to the roster, recorded unless they have no SEN at all). Returns the rows added."""
    added = 0
    for pupil, before in changes:
        now = SenState.of(pupil)
        if before == now or (before is None and now.is_empty):
            continue
        session.add(
            SenHistory(
                school_id=pupil.school_id,
                pupil=pupil,
                changed_on=on,
                source=source,
                changed_by_id=by_staff_id,
                sen_stage=now.sen_stage,
                primary_need=now.primary_need,
                secondary_need=now.secondary_need,
                previous_sen_stage=before.sen_stage if before else None,
                previous_primary_need=before.primary_need if before else None,
                previous_secondary_need=before.secondary_need if before else None,
            )
        )
        added += 1
    return added


def history_of(session: Session, pupil_id: int) -> list[SenHistory]:
    """The pupil's changes, oldest first (one query)."""
    return list(
        session.scalars(
            select(SenHistory)
            .where(SenHistory.pupil_id == pupil_id)
            .order_by(SenHistory.changed_on, SenHistory.id)
        )
    )


def describe(row: SenHistory) -> str:
    """In words, for a record: "From 3 September 2026: SEN Support (SpLD, SLCN), was No SEN;
    from the school's roster import"."""
    needs = ", ".join(n.value for n in (row.primary_need, row.secondary_need) if n)
    words = f"From {row.changed_on:%-d %B %Y}: {row.sen_stage.label}" + (
        f" ({needs})" if needs else ""
    )
    if row.previous_sen_stage is not None:
        before = ", ".join(
            n.value for n in (row.previous_primary_need, row.previous_secondary_need) if n
        )
        words += f", was {row.previous_sen_stage.label}" + (f" ({before})" if before else "")
    return f"{words}; {row.source.label}"
