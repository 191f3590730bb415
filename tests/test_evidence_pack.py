"""The evidence pack for an EHC needs assessment request, and the transfer record: every
reviewed cycle, with how much provision was delivered, parsed from the document."""

from __future__ import annotations

from datetime import date

from bot.services import delivery, evidence
from bot.services.calendar import SchoolCalendar
from models import (
    AgencyReport,
    Effectiveness,
    Impact,
    MeasureKind,
    MonitoringRequest,
    MonitoringStatus,
    NeedCode,
    PlanProvision,
    PlanTarget,
    ProvisionDecision,
    Review,
    ReviewProvisionDecision,
    ReviewStatus,
    ReviewTargetResult,
    SenChangeSource,
    SenHistory,
    SessionStatus,
    StrategiesInPlace,
    TargetResult,
)
from tests import factories
from tests.test_export import parse

TODAY = date(2026, 12, 6)


def a_pupil_with_one_reviewed_cycle(session):
    school = factories.school(session)
    holder = factories.staff(session, school, first="Priya")
    teacher = factories.staff(session, school, first="Tom")
    child = factories.pupil(session, school, primary_need=NeedCode.SPLD)
    plan = factories.plan(session, school, child, holder)
    plan.start_date = date(2026, 9, 1)
    target = PlanTarget(
        description="Reads a page of a Year 5 book aloud with 95% accuracy",
        measure="Running record",
        baseline="85% accuracy",
        cycle_number=1,
        start_date=date(2026, 9, 1),
    )
    lexia = factories.library_item(session, school)
    provision = PlanProvision(
        what="Lexia, 2 x 30 minutes a week",
        who="Mr Ferreira",
        library_id=lexia.id,
        start_date=date(2026, 9, 1),
        measure_kind=MeasureKind.READING_AGE,
        measure_name="Reading age (NGRT)",
        entry_value=98,
        exit_value=105,
    )
    plan.targets.append(target)
    plan.provisions.append(provision)
    plan.reports.append(
        AgencyReport(
            title="Educational psychology report",
            author="Dr A Example",
            report_date=date(2026, 8, 20),
            recommendations="Daily structured phonics; overlays to be tried.",
        )
    )
    session.flush()
    group = factories.group(session, school, lexia, teacher, child)
    group.members[0].provision_id = provision.id
    made = delivery.materialise(session, school.id, SchoolCalendar(), date(2026, 9, 17))
    # 1, 3, 8, 10, 15, 17 September: four delivered, one not, one not yet logged.
    for sitting in made[:4]:
        sitting.status = SessionStatus.DELIVERED
    made[4].status = SessionStatus.NOT_DELIVERED
    review = Review(
        plan_id=plan.id,
        cycle_number=1,
        status=ReviewStatus.APPROVED,
        meeting_date=date(2026, 12, 1),
        what_is_working="Confidence when reading aloud.",
        cyp_views="I like the computer reading.",
        family_views="Reading at home every night now.",
        target_results=[
            ReviewTargetResult(
                target_id=target.id, result=TargetResult.PARTLY, evidence="92% on 28 Nov"
            )
        ],
        provision_decisions=[
            ReviewProvisionDecision(
                provision_id=provision.id,
                provision_what=provision.what,
                decision=ProvisionDecision.CONTINUE,
                effectiveness=Effectiveness.EFFECTIVE,
            )
        ],
    )
    session.add(review)
    session.add(
        MonitoringRequest(
            school_id=school.id,
            plan_id=plan.id,
            cycle_number=1,
            teacher_id=teacher.id,
            status=MonitoringStatus.ANSWERED,
            strategies=StrategiesInPlace.YES,
            impact=Impact.SOME_PROGRESS,
            comment="Uses the overlay in English.",
        )
    )
    session.add(
        SenHistory(
            school_id=school.id,
            pupil=child,
            changed_on=date(2025, 9, 3),
            source=SenChangeSource.CSV_IMPORT,
            sen_stage=child.sen_stage,
            primary_need=NeedCode.SPLD,
        )
    )
    session.flush()
    return school, child, plan


def test_the_pack_has_every_reviewed_cycle_with_delivery_and_flags_fewer_than_two(session):
    school, child, _ = a_pupil_with_one_reviewed_cycle(session)

    pack = evidence.build(session, school, child.id, TODAY)
    document = parse(evidence.pack_html(pack).encode())

    assert document.problems == []
    assert pack.title == f"Evidence of SEN Support: {child.known_as}"
    cycles = document.all("section", class_="cycle")
    assert len(cycles) == 1 and "Plan 1: 1 September 2026 to review on 1 December 2026" in (
        " ".join(cycles[0].text.split())
    )
    (warning,) = document.all("p", id="too-few-cycles")
    assert "holds 1 reviewed cycle of the plan" in warning.text
    assert "at least 2 reviewed cycles" in warning.text
    (delivered,) = document.all("td", class_="delivered")
    assert delivered.text == "4 of 6 sessions delivered (67%), 1 not yet logged"
    text = document.text
    assert "Partly achieved" in text and "92% on 28 Nov" in text
    assert "Continue" in text and "Effective" in text
    assert "Reading age (NGRT) 8y 2m → 8y 9m (+7 months)" in text
    assert "1 of 1 teachers answered" in text and "Uses the overlay in English." in text
    assert "I like the computer reading." in text and "Reading at home every night" in text
    assert "From 3 September 2025: SEN Support (SpLD)" in text
    assert "Educational psychology report" in text and "Daily structured phonics" in text
    assert "Provision from 1 September 2026: Lexia, 2 x 30 minutes a week" in text


def test_two_reviewed_cycles_need_no_warning_and_the_snapshot_is_what_the_review_saw(session):
    school, child, plan = a_pupil_with_one_reviewed_cycle(session)
    first = plan.provisions[0]
    session.add(
        Review(
            plan_id=plan.id,
            cycle_number=2,
            status=ReviewStatus.SUBMITTED,
            meeting_date=date(2027, 3, 1),
            provision_decisions=[
                ReviewProvisionDecision(
                    provision_id=first.id,
                    provision_what=first.what,
                    decision=ProvisionDecision.STOP,
                    effectiveness=Effectiveness.PARTLY,
                    sessions_planned=20,
                    sessions_delivered=11,
                )
            ],
        )
    )
    session.flush()

    pack = evidence.build(session, school, child.id, TODAY, transfer=True)
    document = parse(evidence.pack_html(pack).encode())

    assert pack.too_few_cycles is None and document.all("p", id="too-few-cycles") == []
    assert len(document.all("section", class_="cycle")) == 2
    delivered = [cell.text for cell in document.all("td", class_="delivered")]
    assert delivered[1] == "11 of 20 sessions delivered (55%)"
    assert document.text.startswith("Transfer record, for the pupil's next school")


def test_the_pack_renders_as_a_pdf(session):
    school, child, _ = a_pupil_with_one_reviewed_cycle(session)
    pdf = evidence.pack_pdf(evidence.build(session, school, child.id, TODAY))
    assert pdf.startswith(b"%PDF-")


def test_no_pack_for_another_schools_pupil(session):
    school, child, _ = a_pupil_with_one_reviewed_cycle(session)
    other = factories.school(session, name="Elsewhere High")
    assert evidence.build(session, other, child.id, TODAY) is None
    assert evidence.build(session, school, child.id, TODAY).upn == child.upn
