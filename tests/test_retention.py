"""`sspbot retention`: a pupil's records are destroyed at date of birth + the school's years,
once they have left; nothing of them is left in any table; legal holds are respected; a second
run changes nothing; a destruction record without personal data says it was done."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import JSON, Enum, String, Text, cast, func, select, text

from bot.services import retention
from models import (
    AuditEvent,
    Base,
    DestructionRecord,
    Pupil,
    School,
)
from tests import factories, leaver
from tests.leaver import NAME, NOW, TODAY


def snapshot(session) -> dict[str, list[tuple]]:
    return {
        table.name: sorted(
            (tuple(map(repr, row)) for row in session.execute(select(table)).all()),
        )
        for table in Base.metadata.sorted_tables
    }


@pytest.fixture
def school_with_a_leaver(session):
    return leaver.school_with_a_leaver(session)


def test_the_dry_run_lists_what_is_due_and_changes_nothing(session, school_with_a_leaver):
    school, pupil, _ = school_with_a_leaver
    before = snapshot(session)

    report = retention.review(session, school, TODAY)

    assert [p.pupil_id for p in report.due] == [pupil.id]
    assert report.due[0].due_on == date(2021, 3, 4)  # born 4 March 1990, + 31 years
    lines = "\n".join(report.lines())
    assert f"Due for destruction: record {pupil.id}, UPN {pupil.upn}" in lines
    assert "run again with --apply" in lines
    assert NAME[0] not in lines and NAME[1] not in lines
    assert report.rows[pupil.id]["pupils"] == 1 and report.rows[pupil.id]["plans"] >= 1
    assert snapshot(session) == before


def test_apply_leaves_nothing_of_the_pupil_in_any_table_and_a_rerun_changes_nothing(
    session, school_with_a_leaver
):
    school, pupil, plan = school_with_a_leaver
    pupil_id, plan_id, upn = pupil.id, plan.id, pupil.upn
    others = session.scalar(select(func.count()).select_from(Pupil)) - 1
    audit_rows = session.scalar(select(func.count()).select_from(AuditEvent))

    report = retention.apply(session, school, TODAY, now=NOW, run_by="cli:dpo")
    session.expire_all()

    # Table by table: no row refers to the pupil or their plans, and no text names them.
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            for fk in column.foreign_keys:
                target = fk.column.table.name
                wanted = {"pupils": pupil_id, "plans": plan_id}.get(target)
                if wanted is not None:
                    found = session.scalar(
                        select(func.count()).select_from(table).where(column == wanted)
                    )
                    assert found == 0, f"{table.name}.{column.name} still refers to them"
            if isinstance(column.type, (String, Text, JSON)) and not isinstance(column.type, Enum):
                for words in (upn, *NAME):
                    found = session.scalar(
                        select(func.count())
                        .select_from(table)
                        .where(cast(column, Text).contains(words))
                    )
                    assert found == 0, f"{table.name}.{column.name} still names them"
    # Everyone else is untouched; the audit log keeps its rows, unlinked from the pupil.
    assert session.scalar(select(func.count()).select_from(Pupil)) == others
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == audit_rows
    # One destruction record, with no personal data.
    record = session.scalars(select(DestructionRecord)).one()
    assert (record.record_number, record.due_on, record.run_by) == (
        pupil_id,
        date(2021, 3, 4),
        "cli:dpo",
    )
    assert record.rows["pupils"] == 1 and record.rows["intervention_session_pupils"] >= 1
    assert record.rows["attachments"] == 1  # the attached report, encrypted bytes and all
    assert upn not in repr(record.rows) and "Destroyed: record" in "\n".join(report.lines())

    before = snapshot(session)
    again = retention.apply(session, school, TODAY, now=NOW, run_by="cli:dpo")
    assert again.due == [] and snapshot(session) == before
    assert "Nothing is due for destruction." in again.lines()


def test_apply_takes_the_pupil_out_of_every_schools_microsoft_365_sync_state(
    session, school_with_a_leaver
):
    school, pupil, _ = school_with_a_leaver
    pupil_id, upn = pupil.id, pupil.upn
    schools = list(session.scalars(select(School).where(School.m365_sync_state.is_not(None))))
    assert len(schools) == 2
    dry = retention.review(session, school, TODAY)
    assert dry.rows[pupil_id][retention.SYNC_STATE] == 2  # the dry run counts them
    assert all(leaver.GRAPH_ID in json.dumps(s.m365_sync_state) for s in schools)

    retention.apply(session, school, TODAY, now=NOW, run_by="cli:dpo")
    session.flush()
    session.expire_all()

    ids = [s.id for s in schools]
    for kept in session.scalars(select(School.m365_sync_state).where(School.id.in_(ids))):
        # Table-and-JSON: nothing of the pupil, their Graph id included, is left in the state.
        words = json.dumps(kept)
        for gone in (upn, *NAME, leaver.GRAPH_ID, "1990-03-04"):
            assert gone not in words and gone.lower() not in words.lower(), gone
        # The other pupil stays, in their class; the next sync reads everything again.
        assert kept["users"][leaver.OTHER_GRAPH_ID]["surname"] == "Pupil"
        assert kept["classes"]["class-1"]["members"] == [leaver.OTHER_GRAPH_ID]
        assert (kept["users_delta"], kept["classes_delta"]) == (None, None)
    record = session.scalars(select(DestructionRecord)).one()
    assert record.rows[retention.SYNC_STATE] == 2
    # Again: nothing more to do, and the states are left as they are.
    states = [s.m365_sync_state for s in schools]
    assert retention.apply(session, school, TODAY, now=NOW, run_by="cli:dpo").due == []
    assert [s.m365_sync_state for s in schools] == states


def test_a_pupil_under_legal_hold_is_skipped_and_named(session, school_with_a_leaver):
    school, pupil, _ = school_with_a_leaver
    retention.hold(session, school, pupil.upn, "Safeguarding review (ref 2026/14)", TODAY)

    report = retention.apply(session, school, TODAY, now=NOW, run_by="cli:dpo")

    assert report.due == [] and [p.pupil_id for p in report.held] == [pupil.id]
    assert (
        f"Kept under legal hold: record {pupil.id}, UPN {pupil.upn}, due 4 March 2021 — "
        "Safeguarding review (ref 2026/14)"
    ) in report.lines()
    assert session.get(Pupil, pupil.id) is not None
    assert session.scalar(select(func.count()).select_from(DestructionRecord)) == 0
    retention.release(session, school, pupil.upn)
    assert [p.pupil_id for p in retention.review(session, school, TODAY).due] == [pupil.id]


def test_a_pupil_still_on_roll_or_not_yet_due_is_kept(session, school_with_a_leaver):
    school, pupil, _ = school_with_a_leaver
    school.retention_years = 40  # due 4 March 2030
    assert retention.review(session, school, TODAY).due == []
    school.retention_years = 31
    pupil.is_active, pupil.left_on = True, None
    assert retention.review(session, school, TODAY).due == []


def test_the_cli_dry_run_then_apply(run_cli, sessions):
    assert run_cli("school", "add", "Oakfield Academy").code == 0
    with sessions.begin() as session:
        school = session.scalar(select(School))
        child = factories.pupil(session, school, date_of_birth=date(1980, 1, 1))
        child.is_active, child.left_on = False, date(1996, 7, 19)
        upn = child.upn

    dry = run_cli("retention")
    assert dry.code == 0 and "Due for destruction: record" in dry.out and upn in dry.out
    assert run_cli("retention", "--hold", upn).code == 1  # no reason given
    assert run_cli("retention", "--hold", upn, "--reason", "Claim pending").code == 0
    assert "Kept under legal hold" in run_cli("retention", "--apply").out
    assert run_cli("retention", "--release", upn).code == 0
    applied = run_cli("retention", "--apply")
    assert applied.code == 0 and "Destroyed: record" in applied.out
    assert "Nothing is due for destruction." in run_cli("retention", "--apply").out
    assert run_cli("school", "set", "Oakfield Academy", "--retention-years", "0").code == 1
    changed = run_cli("school", "set", "Oakfield Academy", "--retention-years", "25")
    assert changed.code == 0 and "date of birth + 25 years" in changed.out
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Pupil)) == 0
        assert session.execute(text("SELECT COUNT(*) FROM destruction_records")).scalar() == 1
