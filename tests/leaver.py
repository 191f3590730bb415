"""A synthetic school with one pupil who left long ago and has a record in nearly every table:
what retention destroys and subject access exports (tests/test_retention.py, test_sar.py)."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

from cryptography.fernet import Fernet
from sqlalchemy import select

from bot.demo.school import create_demo_school
from bot.services import delivery
from bot.services.calendar import SchoolCalendar
from models import (
    Attachment,
    AuditEvent,
    Helped,
    Observation,
    Plan,
    Prompt,
    PromptKind,
    Pupil,
    School,
    SenChangeSource,
    SenHistory,
    SenStage,
    Staff,
)
from tests import factories

TODAY = date(2026, 12, 6)
NOW = datetime(2026, 12, 6, 9, tzinfo=UTC)
NAME = ("Zephyrine", "Quillfeather")  # no other synthetic pupil is called this
KEY = Fernet.generate_key().decode()  # ATTACHMENT_KEY, for this run only
ATTACHED = b"Synthetic report: expressive language below age-related expectations.\n"


def school_with_a_leaver(session):
    """The synthetic school, with one pupil who has a plan, reviews, an intervention group,
    sessions, an observation, a prompt, SEN history, an attached report and audit events, who
    left long ago."""
    create_demo_school(session, name="Retention High", seed=7, pupils=150, today=TODAY)
    school = session.scalar(select(School).where(School.name == "Retention High"))
    plan = session.scalars(
        select(Plan).where(Plan.school_id == school.id).order_by(Plan.cycle_number.desc())
    ).first()
    pupil = plan.pupil
    pupil.first_name, pupil.last_name = NAME
    pupil.date_of_birth, pupil.is_active, pupil.left_on = date(1990, 3, 4), False, date(2007, 7, 20)
    holder = session.scalar(select(Staff).where(Staff.school_id == school.id))
    session.add(
        AuditEvent(
            school_id=school.id,
            actor_staff_id=holder.id,
            actor="slack:U1",
            action="read",
            via="/ssp plan",
            plan_id=plan.id,
            pupil_id=pupil.id,
            occurred_at=NOW,
        )
    )
    session.add(
        SenHistory(
            school_id=school.id,
            pupil=pupil,
            changed_on=date(2001, 9, 3),
            source=SenChangeSource.CSV_IMPORT,
            sen_stage=SenStage.SEN_SUPPORT,
        )
    )
    session.add(
        Observation(
            school_id=school.id,
            plan_id=plan.id,
            pupil_id=pupil.id,
            cycle_number=plan.cycle_number,
            author_id=holder.id,
            observed_on=date(2006, 5, 5),
            what_happened=f"{NAME[0]} settled well with the visual timetable.",
            strategy="Visual timetable",
            helped=Helped.YES,
        )
    )
    session.add(
        Prompt(
            school_id=school.id,
            recipient_id=holder.id,
            kind=PromptKind.REVIEW_DUE,
            plan_id=plan.id,
            dedupe_key=f"review_due:{plan.id}",
            due_at=NOW,
        )
    )
    session.add(
        Attachment(
            school_id=school.id,
            plan_id=plan.id,
            pupil_id=pupil.id,
            kind="report",
            title="Speech and language therapy report",
            filename="salt-report.txt",
            content_type="text/plain; charset=utf-8",
            size=len(ATTACHED),
            sha256=hashlib.sha256(ATTACHED).hexdigest(),
            ciphertext=Fernet(KEY.encode()).encrypt(ATTACHED),
            uploaded_by_id=holder.id,
            uploaded_at=NOW,
        )
    )
    other = session.scalars(
        select(Pupil).where(Pupil.school_id == school.id, Pupil.id != pupil.id)
    ).first()
    lexia = factories.library_item(session, school, name="Lexia (retention test)")
    factories.group(session, school, lexia, holder, pupil, other)
    delivery.materialise(session, school.id, SchoolCalendar(), date(2026, 9, 10))
    # The Microsoft 365 sync's saved state (bot.services.m365.graph) keeps the pupil's Graph user
    # in this school, and in another school the pupil moved to, beside a pupil who stays.
    school.m365_sync_state = sync_state(pupil.upn, other.upn)
    elsewhere = factories.school(session, "Moved-To Academy")
    elsewhere.m365_sync_state = sync_state(pupil.upn.lower() + " ", other.upn)
    session.flush()
    return school, pupil, plan


GRAPH_ID = "a1b2c3d4-0000-4000-8000-5eaf0a11e0e1"  # the leaver's Graph user id
OTHER_GRAPH_ID = "a1b2c3d4-0000-4000-8000-000000000002"


def sync_state(upn: str, other_upn: str) -> dict:
    """A saved sync state (GraphRoster.state) holding the leaver, keyed by `upn` as Graph gave
    it, and another pupil, both members of one class."""
    return {
        "version": 1,
        "tenant_id": "tenant-1",
        "users_delta": "https://graph.microsoft.com/v1.0/education/users/delta?$deltatoken=U1",
        "classes_delta": "https://graph.microsoft.com/v1.0/education/classes/delta?$deltatoken=C1",
        "users": {
            GRAPH_ID: {
                "primaryRole": "student",
                "accountEnabled": False,
                "mail": "z.quillfeather@pupils.example.org",
                "givenName": NAME[0],
                "surname": NAME[1],
                "student": {"externalId": upn, "birthDate": "1990-03-04", "grade": "11"},
            },
            OTHER_GRAPH_ID: {
                "primaryRole": "student",
                "accountEnabled": True,
                "givenName": "Other",
                "surname": "Pupil",
                "student": {"studentNumber": other_upn, "birthDate": "2012-01-01", "grade": "9"},
            },
        },
        "classes": {
            "class-1": {"classCode": "9X/En", "members": [GRAPH_ID, OTHER_GRAPH_ID], "teachers": []}
        },
    }
