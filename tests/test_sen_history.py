"""A pupil's SEN stage and census needs are kept over time, not overwritten: each import that
changes them adds a row with the day and the source (issue 20, "History that is kept")."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.services import roster, sen_history
from models import Pupil, School, SenChangeSource, SenHistory, SenStage
from tests.test_import import PUPILS_HEADER, upn, write_csv

SCHOOL = "Oakfield Academy"


def rows(sessions) -> list[tuple]:
    with sessions() as session:
        return [
            (
                r.pupil.upn,
                r.changed_on.isoformat(),
                r.source,
                r.sen_stage.value,
                r.primary_need and r.primary_need.value,
                r.secondary_need and r.secondary_need.value,
                r.previous_sen_stage and r.previous_sen_stage.value,
                r.previous_primary_need and r.previous_primary_need.value,
            )
            for r in session.scalars(select(SenHistory).order_by(SenHistory.id))
        ]


def test_imports_keep_each_change_of_stage_and_needs_with_its_day(run_cli, sessions, tmp_path):
    assert run_cli("school", "add", SCHOOL).code == 0

    def import_on(day: str, *lines: str):
        # As `sspbot import pupils` runs it, on the given day.
        path = write_csv(tmp_path, f"pupils-{day}.csv", PUPILS_HEADER, *lines)
        with sessions.begin() as session:
            school = session.scalar(select(School).where(School.name == SCHOOL))
            roster.import_csv(session, school, "pupils", path, today=date.fromisoformat(day))

    import_on(
        "2026-09-01",
        f"{upn(1)},Pip,Apple,2013-09-01,7,K,SpLD",
        f"{upn(2)},Quin,Birch,2013-02-02,7,N,",
    )
    # Nothing about Pip's SEN changes (a new surname is not SEN history); Quin now has a need.
    import_on(
        "2026-10-05",
        f"{upn(1)},Pip,Apple-Tree,2013-09-01,7,K,SpLD",
        f"{upn(2)},Quin,Birch,2013-02-02,7,K,SLCN",
    )
    # Pip's stage becomes an EHC plan; an import repeated the same day changes nothing more.
    changed = (
        f"{upn(1)},Pip,Apple-Tree,2013-09-01,7,E,SpLD",
        f"{upn(2)},Quin,Birch,2013-02-02,7,K,SLCN",
    )
    import_on("2026-11-20", *changed)
    import_on("2026-11-20", *changed)

    assert rows(sessions) == [
        (upn(1), "2026-09-01", SenChangeSource.CSV_IMPORT, "K", "SpLD", None, None, None),
        (upn(2), "2026-10-05", SenChangeSource.CSV_IMPORT, "K", "SLCN", None, "N", None),
        (upn(1), "2026-11-20", SenChangeSource.CSV_IMPORT, "E", "SpLD", None, "K", "SpLD"),
    ]
    with sessions() as session:
        pip = session.scalar(select(Pupil).where(Pupil.upn == upn(1)))
        assert pip.sen_stage == SenStage.EHC_PLAN  # the current record is still the latest
        words = [sen_history.describe(r) for r in sen_history.history_of(session, pip.id)]
    assert words == [
        "From 1 September 2026: SEN Support (SpLD); the school's roster import",
        "From 20 November 2026: EHC plan (SpLD), was SEN Support (SpLD); "
        "the school's roster import",
    ]


def test_a_rejected_import_records_no_history(run_cli, sessions, tmp_path):
    assert run_cli("school", "add", SCHOOL).code == 0
    path = write_csv(
        tmp_path,
        "pupils.csv",
        PUPILS_HEADER,
        f"{upn(1)},Pip,Apple,2013-09-01,7,K,SpLD",
        f"{upn(2)},Quin,Birch,not-a-date,7,K,SLCN",
    )
    assert run_cli("import", "pupils", str(path)).code != 0
    assert rows(sessions) == []
