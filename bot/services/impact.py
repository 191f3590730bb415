"""A provision's impact: its entry and exit measures, read, written and compared.

Pure functions, no database: the review notes use them for one pupil's provision, and the
school's provision map may use them for many (average progress per intervention).

A measure is a number in the unit its kind says (models.MeasureKind): a reading age is kept in
months (8 years 9 months is 105), an attendance in percent, a scale from 1 to 10; a score and a
standardised score as they are. Progress is exit minus entry in that unit: positive is better for
every kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from models import MeasureKind

# Bounds a typed measure must fall within (a typo such as "1000" for attendance is refused).
BOUNDS: dict[MeasureKind, tuple[float, float]] = {
    MeasureKind.SCORE: (-10_000, 10_000),
    MeasureKind.READING_AGE: (12, 240),  # 1 to 20 years, in months
    MeasureKind.STANDARDISED: (0, 200),
    MeasureKind.ATTENDANCE: (0, 100),
    MeasureKind.SCALE: (1, 10),
}

EXAMPLES = {
    MeasureKind.SCORE: "a number, e.g. 34",
    MeasureKind.READING_AGE: "years and months, e.g. 8y 9m or 8:09",
    MeasureKind.STANDARDISED: "a number, e.g. 92",
    MeasureKind.ATTENDANCE: "a percentage, e.g. 94",
    MeasureKind.SCALE: "a number from 1 to 10",
}

# Years, then months after a unit or a separator ("8y 9m", "8:09", "8.9"); or years alone ("9y").
_READING_AGE = re.compile(
    r"^(?P<years>\d{1,2})\s*(?:(?:y|yrs?|years?)\s*[:.,]?|[:.,]|\s)\s*"
    r"(?P<months>\d{1,2})\s*(?:m|mo|mths?|months?)?$",
    re.IGNORECASE,
)
_YEARS_ONLY = re.compile(r"^(?P<years>\d{1,2})\s*(?:y|yrs?|years?)?$", re.IGNORECASE)


class MeasureError(ValueError):
    """What was typed is not a measure of this kind; the message says what to type."""


def parse(kind: MeasureKind, typed: str) -> float:
    """A typed measure as the number stored; raises MeasureError in words for the form.

    A reading age is typed in years and months ("8y 9m", "8:09", "8 years 9 months", "8.09"),
    and stored in months; the other kinds are numbers ("94%" is read as 94).
    """
    words = typed.strip()
    if kind == MeasureKind.READING_AGE:
        match = _READING_AGE.match(words) or _YEARS_ONLY.match(words)
        if match is None:
            raise MeasureError(f"Type the reading age in {EXAMPLES[kind]}.")
        months = int(match.groupdict().get("months") or 0)
        if months > 11:
            raise MeasureError(f"A reading age has 0 to 11 months: type {EXAMPLES[kind]}.")
        value = float(int(match["years"]) * 12 + months)
    else:
        try:
            value = float(words.rstrip("%").strip())
        except ValueError:
            raise MeasureError(f"Type {EXAMPLES[kind]}.") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise MeasureError(f"Type {EXAMPLES[kind]}.")
    low, high = BOUNDS[kind]
    if not low <= value <= high:
        raise MeasureError(f"That is outside what a {kind.label.lower()} can be: {EXAMPLES[kind]}.")
    return value


def describe(kind: MeasureKind, value: float) -> str:
    """A stored measure in words: "8y 9m" for a reading age of 105 months, "94%", "92"."""
    if kind == MeasureKind.READING_AGE:
        years, months = divmod(round(value), 12)
        return f"{years}y {months}m"
    if kind == MeasureKind.ATTENDANCE:
        return f"{_number(value)}%"
    return _number(value)


@dataclass(frozen=True)
class Progress:
    """A provision's measures and the change between them (None until both are known)."""

    kind: MeasureKind
    name: str | None
    entry: float | None
    exit: float | None

    @property
    def change(self) -> float | None:
        """Exit minus entry, in the kind's unit (months for a reading age)."""
        if self.entry is None or self.exit is None:
            return None
        return self.exit - self.entry

    def describe(self) -> str:
        """E.g. "Reading age 8y 2m → 8y 9m (+7 months)"; "Standardised score 85 → not yet
        measured" while there is no exit measure."""
        label = self.name or self.kind.label
        entry = describe(self.kind, self.entry) if self.entry is not None else "not measured"
        if self.exit is None:
            return f"{label} {entry} → not yet measured"
        words = f"{label} {entry} → {describe(self.kind, self.exit)}"
        if self.change is not None:
            words += f" ({_signed_change(self.kind, self.change)})"
        return words


def progress(
    kind: MeasureKind | None,
    entry: float | None,
    exit: float | None,
    name: str | None = None,
) -> Progress | None:
    """The progress of one provision; None when it has no measure at all."""
    if kind is None or (entry is None and exit is None):
        return None
    return Progress(kind, name, entry, exit)


def of_provision(provision) -> Progress | None:
    """progress() of a models.PlanProvision (anything with its measure attributes)."""
    return progress(
        provision.measure_kind,
        provision.entry_value,
        provision.exit_value,
        provision.measure_name,
    )


def _signed_change(kind: MeasureKind, change: float) -> str:
    sign = "+" if change > 0 else "−" if change < 0 else "±"
    size = abs(change)
    if kind == MeasureKind.READING_AGE:
        months = round(size)
        return f"{sign}{months} month" + ("" if months == 1 else "s")
    if kind == MeasureKind.ATTENDANCE:
        return f"{sign}{_number(size)} points"
    return f"{sign}{_number(size)}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
