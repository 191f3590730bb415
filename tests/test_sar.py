"""`sspbot sar`: everything held about one pupil (or member of staff) in one archive, checked
against the database; passages naming other people listed for the DPO."""

from __future__ import annotations

import json
import stat
import zipfile
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from bot.errors import UserError
from bot.services import records, sar
from models import AuditEvent, Base, Observation, Pupil, School, Staff
from tests import factories, leaver
from tests.leaver import NAME

NOW = datetime(2026, 12, 6, 10, tzinfo=UTC)


@pytest.fixture
def school_with_a_leaver(session):
    return leaver.school_with_a_leaver(session)


def read(path):
    with zipfile.ZipFile(path) as archive:
        return (
            json.loads(archive.read("data.json")),
            archive.read("index.html").decode(),
            archive.namelist(),
        )


def test_a_pupils_archive_holds_every_row_about_them_and_who_looked(
    session, school_with_a_leaver, tmp_path
):
    school, pupil, plan = school_with_a_leaver
    other = session.scalars(
        select(Pupil).where(Pupil.school_id == school.id, Pupil.id != pupil.id)
    ).first()
    observation = session.scalars(select(Observation).where(Observation.pupil_id == pupil.id)).one()
    observation.what_happened += f" Worked well alongside {other.first_name} {other.last_name}."
    session.flush()
    out = tmp_path / "sar.zip"

    result = sar.pupil_archive(session, school, pupil.upn, out, now=NOW, attachment_key=leaver.KEY)

    data, index, names = read(out)
    # The attached report as it was attached (stored encrypted), listed in data.json.
    (attached,) = data["tables"]["attachments"]
    with zipfile.ZipFile(out) as archive:
        assert archive.read(attached["ciphertext"]["file"]) == leaver.ATTACHED
    assert result.files >= 1 and result.unreadable == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    # Every table holding rows about the pupil, with as many rows as the database has.
    owned = records.rows_about_pupil(session, pupil.id)
    assert {t: len(rows) for t, rows in data["tables"].items()} == {
        t: len(ids) for t, ids in owned.items()
    }
    assert data["tables"]["pupils"][0]["upn"] == pupil.upn
    assert plan.id in {row["id"] for row in data["tables"]["plans"]}
    assert {"plan_targets", "observations", "intervention_session_pupils"} <= set(data["tables"])
    assert len(data["tables"]["pupil_sen_history"]) == 1
    # Who looked: the audit log's rows about the pupil or their plan (and this export).
    looked = session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where((AuditEvent.pupil_id == pupil.id) | (AuditEvent.plan_id == plan.id))
    )
    assert len(data["access_log"]) == looked - 1 and result.access_events == looked - 1
    assert (
        session.scalars(select(AuditEvent).where(AuditEvent.via == "sspbot sar")).one().pupil_id
        == pupil.id
    )
    # For the DPO: the observation naming another pupil.
    flagged = [p for p in data["for_review"] if p["kind"] == "another pupil"]
    assert [(p["table"], p["column"]) for p in flagged] == [("observations", "what_happened")]
    assert flagged[0]["names"] == [f"{other.first_name} {other.last_name}"]
    assert f"For the DPO: passages naming other people ({len(data['for_review'])})" in index
    assert f"{NAME[0]} settled well" in index and "index.html" in names
    assert any(f"{len(result.to_review)} passages name other" in line for line in result.lines())
    # What the Microsoft 365 sync keeps about them in the school's saved state, and only them.
    [synced] = data["microsoft_365_sync_state"]
    assert synced["graph_user_id"] == leaver.GRAPH_ID
    assert (synced["givenName"], synced["surname"]) == NAME
    assert synced["student"]["externalId"] == pupil.upn and synced["classes"] == ["9X/En"]
    assert leaver.OTHER_GRAPH_ID not in json.dumps(data)
    assert "Kept by the Microsoft 365 roster sync" in index and leaver.GRAPH_ID in index


def test_without_the_key_attached_files_are_listed_and_said_to_be_missing(
    session, school_with_a_leaver, tmp_path
):
    school, pupil, _ = school_with_a_leaver
    result = sar.pupil_archive(session, school, pupil.upn, tmp_path / "a.zip", now=NOW)
    data, index, names = read(tmp_path / "a.zip")
    (attached,) = data["tables"]["attachments"]
    assert attached["title"] == "Speech and language therapy report"
    assert attached["ciphertext"] == {"file": None, "not_included": "could not be decrypted"}
    assert not any(name.startswith("files/attachments") for name in names)
    assert result.unreadable == 1
    assert any("set ATTACHMENT_KEY" in line for line in result.lines())


def test_an_archive_is_never_written_over_and_an_unknown_upn_is_refused(
    session, school_with_a_leaver, tmp_path
):
    school, pupil, _ = school_with_a_leaver
    out = tmp_path / "taken.zip"
    out.write_bytes(b"someone else's file")
    with pytest.raises(UserError, match="already exists"):
        sar.pupil_archive(session, school, pupil.upn, out, now=NOW)
    assert out.read_bytes() == b"someone else's file"
    with pytest.raises(UserError, match="No pupil with UPN Z999"):
        sar.pupil_archive(session, school, "Z999", tmp_path / "new.zip", now=NOW)
    assert not (tmp_path / "new.zip").exists()


def test_a_staff_archive_holds_their_rows_and_what_they_did(session, tmp_path):
    school = factories.school(session)
    member = factories.staff(session, school, first="Morgan")
    colleague = factories.staff(session, school, first="Robin")
    child = factories.pupil(session, school)
    plan = factories.plan(session, school, child, holder=member)
    session.add(
        Observation(
            school_id=school.id,
            plan_id=plan.id,
            pupil_id=child.id,
            cycle_number=1,
            author_id=member.id,
            observed_on=date(2026, 11, 2),
            what_happened="Calmer after the movement break.",
            strategy="Movement breaks",
            helped="yes",
        )
    )
    session.add(
        AuditEvent(
            school_id=school.id,
            actor_staff_id=member.id,
            actor="slack:U1",
            action="read",
            via="/ssp plan",
            plan_id=plan.id,
            occurred_at=NOW,
        )
    )
    session.add(
        AuditEvent(
            school_id=school.id,
            actor_staff_id=colleague.id,
            actor="slack:U2",
            action="read",
            via="/ssp plan",
            plan_id=plan.id,
            occurred_at=NOW,
        )
    )
    session.flush()
    out = tmp_path / "staff.zip"

    sar.staff_archive(session, school, member.email.upper(), out, now=NOW)

    data, _, _ = read(out)
    assert data["tables"]["staff"][0]["email"] == member.email
    assert [p["id"] for p in data["tables"]["plans"]] == [plan.id]  # as its case holder
    assert len(data["tables"]["observations"]) == 1
    assert [(e["who"], e["via"]) for e in data["access_log"]] == [
        (f"Morgan {member.last_name}", "/ssp plan")
    ]
    flagged = {p["kind"] for p in data["for_review"]}
    assert flagged <= {"another pupil", "a member of staff"}


def test_the_cli_writes_the_archive_and_refuses_unclear_requests(run_cli, sessions, tmp_path):
    assert run_cli("school", "add", "Oakfield Academy").code == 0
    with sessions.begin() as session:
        school = session.scalar(select(School))
        upn = factories.pupil(session, school).upn
        email = factories.staff(session, school).email

    wrote = run_cli("sar", upn, "--out", str(tmp_path / "p.zip"))
    assert wrote.code == 0 and "everything held about" in wrote.out
    assert "special category data" in wrote.out
    assert run_cli("sar", "--staff", email, "--out", str(tmp_path / "s.zip")).code == 0
    neither = run_cli("sar", "--out", str(tmp_path / "x.zip"))
    assert neither.code == 1 and "UPN" in neither.err
    again = run_cli("sar", upn, "--out", str(tmp_path / "p.zip"))
    assert again.code == 1 and "already exists" in again.err
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Staff)) == 1
    assert {t.name for t in Base.metadata.sorted_tables} >= {"pupils", "audit_events"}
