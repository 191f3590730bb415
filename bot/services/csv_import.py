"""Reading the CSV files a school exports from its MIS or saves from Excel: the one reader
behind every import (the roster's staff, pupils and classes, and the calendar's terms).

`read_csv` turns a file into `Row`s keyed by canonical column name, whatever the file's
encoding, delimiter, letter case of headers or extra columns; problems with the header or with
a line that cannot be split are collected, not raised. A `RowCheck` then reads each row's
cells through small parsers (`required_text`, `optional_text`, `parse_date`, or an importer's
own) that raise `BadValue`; every problem in the file is gathered, and `reject_if_any` turns
them into one `ImportRejected` naming every bad line. So an import is all or nothing, and a
school fixes its file in one pass.

A bad value is echoed only in the problem about that very field, and never logged.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import NamedTuple, TypeVar

from bot.errors import UserError

T = TypeVar("T")

ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
UK_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")


@dataclass(frozen=True)
class Column:
    """A CSV column: its canonical name, whether a file must have it, and other names for it.

    Headers match ignoring letter case, spaces, underscores and hyphens, so "Legal Surname",
    "legal_surname" and "LEGAL-SURNAME" are the same header.
    """

    name: str
    required: bool = False
    aliases: tuple[str, ...] = ()


class Problem(NamedTuple):
    """One bad line of a file: its line number (the header is line 1) and what is wrong."""

    line: int
    reason: str


class ImportRejected(UserError):
    """A file had bad rows, so none of it was imported. `problems` lists every one."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = sorted(problems, key=lambda problem: problem.line)
        count = len(self.problems)
        heading = (
            f"{source} was not imported ({count} problem{'s' if count != 1 else ''}; "
            "nothing was changed):"
        )
        lines = [f"  line {problem.line}: {problem.reason}" for problem in self.problems]
        super().__init__("\n".join([heading, *lines]))


def reject_if_any(source: str, problems: Sequence[Problem]) -> None:
    """Raises ImportRejected naming every problem, if there are any."""
    if problems:
        raise ImportRejected(source, problems)


@dataclass
class Row:
    """One non-blank line of a file: cells by canonical column name, headers as written."""

    line: int
    cells: dict[str, str]
    headers: dict[str, str]

    def has(self, name: str) -> bool:
        return name in self.cells


@dataclass
class CsvFile:
    """What `read_csv` found in a file. Every line after the header that is not blank is either
    one of `rows` or the subject of one of `problems`."""

    name: str  # the file's name, as messages call it
    rows: list[Row]
    problems: list[Problem]  # with the header, or with lines that cannot be split into cells
    columns: frozenset[str]  # canonical names of the columns the header has
    records: int  # lines after the header that are not blank, good or bad
    empty: bool  # not one line with anything on it: not even a header

    @property
    def nothing_to_import(self) -> bool:
        """True when the file has no data rows and nothing to say about why."""
        return not self.rows and not self.problems


def read_csv(path: Path, columns: Sequence[Column]) -> CsvFile:
    """The file's data rows, problems with its header, and the canonical columns it has.

    Raises UserError when the file cannot be read as text at all (missing, an Excel workbook,
    an encoding that is not UTF-8, UTF-16 or Windows-1252). Blank lines are skipped but still
    counted, so line numbers are what an editor shows.
    """
    return _read_rows(_read_text(path), columns, path.name)


class BadValue(Exception):
    """A cell's value is unusable; str() is the reason, read after the column's header."""


class RowCheck:
    """Reads one row's cells, collecting every problem instead of stopping at the first."""

    def __init__(self, row: Row, problems: list[Problem]) -> None:
        self.row = row
        self.problems = problems
        self.count_before = len(problems)
        self.bad_columns: set[str] = set()

    @property
    def ok(self) -> bool:
        return len(self.problems) == self.count_before

    def get(self, name: str, parse: Callable[[str], T], default: T) -> T:
        """The parsed cell, or `default` if the column is absent (reported on the header
        line already) or the value is bad (reported here)."""
        if not self.row.has(name):
            return default
        try:
            return parse(self.row.cells[name])
        except BadValue as bad:
            self.problem(f"{self.row.headers[name]} {bad}")
            self.bad_columns.add(name)
            return default

    def problem(self, reason: str) -> None:
        self.problems.append(Problem(self.row.line, reason))


# --- cell parsers every import shares: each returns a value or raises BadValue ---------------


def squash(text: str) -> str:
    """Lower case without spaces, underscores or hyphens: how headers and codes are compared."""
    return re.sub(r"[\s_\-]+", "", text.casefold())


def required_text(max_length: int) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if not value:
            raise BadValue("is empty")
        if len(value) > max_length:
            raise BadValue(f"is longer than {max_length} characters")
        return value

    return parse


def optional_text(max_length: int | None) -> Callable[[str], str | None]:
    def parse(value: str) -> str | None:
        if max_length is not None and len(value) > max_length:
            raise BadValue(f"is longer than {max_length} characters")
        return value or None

    return parse


def parse_date(value: str) -> date:
    """YYYY-MM-DD, or DD/MM/YYYY as Excel writes dates in the UK."""
    if not value:
        raise BadValue("is empty")
    iso, uk = ISO_DATE.fullmatch(value), UK_DATE.fullmatch(value)
    try:
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        if uk:
            return date(int(uk[3]), int(uk[2]), int(uk[1]))
    except ValueError:
        pass
    raise BadValue(f"{value!r} is not a date (use YYYY-MM-DD or DD/MM/YYYY)")


# --- reading the file -----------------------------------------------------------------------


def _read_text(path: Path) -> str:
    """The file's text. Excel writes UTF-8 with a BOM, or Windows-1252 from older versions."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise UserError(f"Cannot read {path.name}: {error.strerror or error}.") from None
    if raw.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise UserError(
            f"{path.name} is an Excel workbook, not a CSV file: in Excel choose "
            "File > Save As > 'CSV UTF-8 (Comma delimited)' and import that."
        )
    encodings = ("utf-16",) if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else ()
    for encoding in encodings or ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise UserError(
        f"{path.name} is not a readable CSV file (it is not UTF-8 or Windows-1252 text): "
        "save it from Excel as 'CSV UTF-8 (Comma delimited)'."
    )


def _read_rows(text: str, columns: Sequence[Column], source: str) -> CsvFile:
    lines = text.splitlines()
    header_text = next((line for line in lines if line.strip()), None)
    if header_text is None:
        return CsvFile(source, [], [], frozenset(), records=0, empty=True)
    # Excel in some regions saves "CSV" with semicolons; a tab-separated export is also common.
    delimiter = next((d for d in (",", "\t", ";") if d in header_text), ",")
    separator = {",": "comma", "\t": "tab", ";": "semicolon"}[delimiter]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    problems: list[Problem] = []
    header: list[str] | None = None
    positions: dict[str, int] = {}
    rows: list[Row] = []
    records = 0
    last_line = 0
    try:
        for cells in reader:
            line, last_line = last_line + 1, reader.line_num
            cells = [cell.strip() for cell in cells]
            if not any(cells):
                continue
            if header is None:
                header = cells
                positions = _match_columns(header, columns, line, problems)
                continue
            records += 1
            extra = [cell for cell in cells[len(header) :] if cell]
            if extra:
                problems.append(
                    Problem(
                        line,
                        f"has {len(cells)} values but the header has {len(header)} columns "
                        f"(put quotes around a value that contains a {separator})",
                    )
                )
                continue
            rows.append(
                Row(
                    line,
                    {
                        name: cells[index] if index < len(cells) else ""
                        for name, index in positions.items()
                    },
                    {name: header[index] for name, index in positions.items()},
                )
            )
    except csv.Error as error:
        records += 1
        problems.append(Problem(last_line + 1, f"cannot be read as CSV ({error})"))
    return CsvFile(source, rows, problems, frozenset(positions), records=records, empty=False)


def _match_columns(
    header: list[str], columns: Sequence[Column], line: int, problems: list[Problem]
) -> dict[str, int]:
    """Canonical column name -> index in the header, reporting missing and doubled columns."""
    by_spelling = {
        squash(spelling): column
        for column in columns
        for spelling in (column.name, *column.aliases)
    }
    positions: dict[str, int] = {}
    for index, heading in enumerate(header):
        column = by_spelling.get(squash(heading))
        if column is None:
            continue  # MIS exports carry many columns we do not need.
        if column.name in positions:
            first = header[positions[column.name]]
            problems.append(
                Problem(
                    line,
                    f"columns {first!r} and {heading!r} both give {column.name}; keep only one",
                )
            )
            continue
        positions[column.name] = index
    for column in columns:
        if column.required and column.name not in positions:
            also = f" (also accepted: {', '.join(column.aliases)})" if column.aliases else ""
            problems.append(Problem(line, f"missing column {column.name!r}{also}"))
    return positions
