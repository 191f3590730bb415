"""A pytest plugin: every log record of the whole run, at DEBUG, is searched for the names of
the synthetic pupils the run created; any found fails the run.

Pupils are noted as they are written (SQLAlchemy's insert and update events on Pupil), so the
names are the run's own, whatever a test or the demo school made up. A name is a pupil's full
name ("Ava Stone", and with their preferred name) or their UPN: first names alone are ordinary
words too often ("May", "Will") to search for without false alarms.
"""

from __future__ import annotations

import logging
import re
import threading

import pytest
from sqlalchemy import event

from bot.cli import LOG_FORMAT, PrivateFormatter


class PupilNameCollector(logging.Handler):
    """A root handler at DEBUG that remembers each record naming a known pupil."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.names: set[str] = set()
        self.found: list[str] = []
        self._pattern: re.Pattern[str] | None = None
        self._names_lock = threading.Lock()
        # Scanned as `sspbot serve` writes them: with its formatter.
        self.setFormatter(PrivateFormatter(LOG_FORMAT))

    def note_pupil(self, pupil) -> None:
        names = {f"{pupil.first_name} {pupil.last_name}", pupil.upn}
        if getattr(pupil, "preferred_name", None):
            names.add(f"{pupil.preferred_name} {pupil.last_name}")
        with self._names_lock:
            new = {n for n in names if n and len(n) > 3} - self.names
            if new:
                self.names |= new
                self._pattern = None

    def _matcher(self) -> re.Pattern[str] | None:
        with self._names_lock:
            if self._pattern is None and self.names:
                alternatives = "|".join(
                    re.escape(n) for n in sorted(self.names, key=len, reverse=True)
                )
                self._pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")
            return self._pattern

    def emit(self, record: logging.LogRecord) -> None:
        matcher = self._matcher()
        if matcher is None:
            return
        try:
            text = self.format(record)
        except Exception:  # noqa: BLE001 - a record that can't be formatted is nobody's name
            return
        match = matcher.search(text)
        if match:
            self.found.append(f"{record.name} logged {match.group(0)!r}: {text[:300]}")


class LogScan:
    """The plugin: installs the collector for the session and fails the run on a finding."""

    def __init__(self) -> None:
        self.collector = PupilNameCollector()

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        from models import Pupil

        root = logging.getLogger()
        root.addHandler(self.collector)
        root.setLevel(logging.DEBUG)
        for hook in ("before_insert", "before_update"):
            event.listen(
                Pupil, hook, lambda _mapper, _conn, pupil: self.collector.note_pupil(pupil)
            )

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        logging.getLogger().removeHandler(self.collector)
        if self.collector.found:
            reporter = session.config.pluginmanager.get_plugin("terminalreporter")
            lines = [f"{len(self.collector.found)} log record(s) named a synthetic pupil:"]
            lines += self.collector.found[:20]
            if reporter is not None:
                reporter.write_line("\n".join(lines), red=True)
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
