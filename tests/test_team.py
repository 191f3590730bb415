"""The SSP team, the priority list and delegation, driven through signed requests."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from bot.services import team as team_service
from models import (
    AssignmentStatus,
    CaseHolderAssignment,
    CaseHolderProfile,
    NeedCode,
    Plan,
    PlanStatus,
    Pupil,
    SenStage,
    Staff,
    StaffRole,
    StaffRoleGrant,
    TimelineEntry,
)
from tests.slack_harness import TODAY, buttons_of, text_of


def more_pupils(session, ids: dict) -> dict:
    """Four pupils for the priority list, one of each kind, plus houses for matching."""

    def child(first, last, upn, stage, need, year=9, house="Brunel"):
        pupil = Pupil(
            school_id=ids["school"],
            upn=upn,
            first_name=first,
            last_name=last,
            date_of_birth=date(2012, 1, 1),
            year_group=year,
            form=f"{year}B",
            house=house,
            sen_stage=stage,
            primary_need=need,
        )
        session.add(pupil)
        return pupil

    eve = child("Eve", "Ray", "A820123456010", SenStage.EHC_PLAN, NeedCode.SEMH)
    finn = child("Finn", "Cole", "A820123456011", SenStage.SEN_SUPPORT, NeedCode.SLCN, year=7)
    gus = child("Gus", "Hill", "A820123456012", SenStage.SEN_SUPPORT, NeedCode.MLD)
    hana = child("Hana", "Iqbal", "A820123456013", SenStage.SEN_SUPPORT, NeedCode.VI)
    session.add_all(
        [
            Plan(
                school_id=ids["school"],
                pupil=gus,
                status=PlanStatus.ACTIVE,
                review_date=TODAY - timedelta(days=3),
            ),
            Plan(
                school_id=ids["school"],
                pupil=hana,
                status=PlanStatus.ACTIVE,
                review_date=TODAY + timedelta(days=30),
            ),
        ]
    )
    session.flush()
    return {"eve": eve.id, "finn": finn.id, "gus": gus.id, "hana": hana.id}


@pytest.fixture
def school_extras():
    return more_pupils


def assignments(slack) -> list[CaseHolderAssignment]:
    with slack.sessions() as session:
        return list(session.scalars(select(CaseHolderAssignment).order_by(CaseHolderAssignment.id)))


def open_plan_of(slack, key: str) -> Plan | None:
    with slack.sessions() as session:
        return session.scalar(
            select(Plan).where(Plan.pupil_id == slack.ids[key], Plan.status != PlanStatus.CLOSED)
        )


# --- the team ---------------------------------------------------------------------------------


def test_the_team_lists_case_holders_with_their_caseloads(slack):
    text = text_of(slack.ask("U0SENDCO", "team"))
    assert "3 case holders" in text
    priya = next(line for line in text.splitlines() if "U0PRIYA" in line)
    assert "2 plans" in priya and "any pupil" in priya


def test_adding_someone_with_areas_year_groups_and_house(slack):
    text = text_of(slack.ask("U0SENDCO", "team add <@U0LEE|lee> SEMH, Year 9 Brunel"))
    assert "Lee Chan joined the SSP team" in text
    assert "Social, emotional and mental health; Year 9; Brunel house" in text
    with slack.sessions() as session:
        lee = session.get(Staff, slack.ids["lee"])
        assert StaffRole.CASE_HOLDER in lee.roles
        profile = session.get(CaseHolderProfile, lee.id)
        assert (profile.areas, profile.year_groups, profile.house) == (["semh"], [9], "Brunel")


def test_words_the_team_command_does_not_understand_are_named(slack):
    text = text_of(slack.ask("U0SENDCO", "team add <@U0LEE|lee> SEMH wizardry"))
    assert "I didn't understand “wizardry”" in text
    assert "no house called" in text_of(slack.ask("U0SENDCO", "team add <@U0LEE|lee> house:Zed"))


def test_removing_someone_who_holds_plans_names_them_first(slack):
    refused = text_of(slack.ask("U0SENDCO", "team remove <@U0PRIYA|priya>"))
    assert "still holds 2 plans (Ava Stone, Ben Stone)" in refused and "Reassign them" in refused
    slack.ask("U0SENDCO", "team add <@U0LEE|lee>")
    assert "no longer on the SSP team" in text_of(slack.ask("U0SENDCO", "team remove <@U0LEE|lee>"))


def test_only_the_sendco_manages_the_team(slack):
    assert "Only the SENDCo" in text_of(slack.ask("U0SLT", "team add <@U0LEE|lee>"))
    assert "for the SENDCo and senior leaders" in text_of(slack.ask("U0PRIYA", "team"))


# --- the priority list ------------------------------------------------------------------------


def test_the_priority_list_order(slack):
    message = slack.ask("U0SENDCO", "priority")
    text = text_of(message)
    order = [text.index(name) for name in ("Eve Ray", "Finn Cole", "Gus Hill", "Hana Iqbal")]
    assert order == sorted(order)
    assert "EHC plan but no support plan" in text and "review overdue and no case holder" in text
    assert "Dev Patel" not in text  # no SEN: not on the list
    assert len([b for b in buttons_of(message) if b["action_id"] == "ssp_assign_open"]) == 4


def test_senior_leaders_see_the_list_without_assign_buttons(slack):
    message = slack.ask("U0SLT", "priority")
    assert "Eve Ray" in text_of(message)
    assert not [b for b in buttons_of(message) if b["action_id"] == "ssp_assign_open"]


# --- assigning --------------------------------------------------------------------------------


def test_assign_button_suggests_a_case_holder_and_assigning_starts_the_plan(slack):
    slack.ask("U0SENDCO", "team add <@U0LEE|lee> SEMH Y9")
    opened = len(slack.emulator.calls_to("views.open"))
    slack.sender.button("U0SENDCO", "ssp_assign_open", str(slack.ids["eve"]))
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    modal = slack.emulator.open_views()[-1]
    holder = next(b for b in modal["blocks"] if b.get("block_id") == "holder")
    assert holder["element"]["initial_option"]["text"]["text"].startswith("Lee Chan")
    assert "Suggested: Lee Chan" in text_of({"blocks": modal["blocks"]})

    answer = slack.sender.submit(
        "U0SENDCO",
        modal,
        {
            "holder": {
                "type": "static_select",
                "selected_option": holder["element"]["initial_option"],
            },
            "reason": {"type": "plain_text_input", "value": "SEMH specialist"},
        },
    ).json()
    assert "Eve Ray → Lee Chan" in text_of({"blocks": answer["view"]["blocks"]})
    plan = open_plan_of(slack, "eve")
    assert plan.status == PlanStatus.DRAFT and plan.case_holder_id == slack.ids["lee"]
    (assignment,) = assignments(slack)
    assert (assignment.status, assignment.reason, assignment.assigned_by_id) == (
        AssignmentStatus.PENDING,
        "SEMH specialist",
        slack.ids["sendco"],
    )


def test_assign_by_command_and_reassign_keeps_history(slack):
    text = text_of(slack.ask("U0SENDCO", "assign Finn Cole <@U0PRIYA|priya> knows the family"))
    assert "Finn Cole → Priya Shah" in text
    slack.ask("U0SENDCO", "assign Finn Cole <@U0TOM|tom>")
    history = [a for a in assignments(slack)]
    assert [(a.staff_id, a.status) for a in history] == [
        (slack.ids["priya"], AssignmentStatus.ENDED),
        (slack.ids["tom"], AssignmentStatus.PENDING),
    ]
    assert history[0].reason == "knows the family" and history[0].ended_at is not None
    with slack.sessions() as session:
        summaries = session.scalars(select(TimelineEntry.summary).order_by(TimelineEntry.id)).all()
    assert summaries[-2:] == ["assigned to Priya Shah: knows the family", "reassigned to Tom Baker"]


def test_assigning_to_someone_off_the_team_or_by_a_teacher_is_refused(slack):
    assert "isn't on the SSP team" in text_of(slack.ask("U0SENDCO", "assign Finn <@U0LEE|lee>"))
    assert "Only the SENDCo" in text_of(slack.ask("U0PRIYA", "assign Finn <@U0PRIYA|p>"))
    assert "Use `/ssp assign" in text_of(slack.ask("U0SENDCO", "assign Finn"))
    assert assignments(slack) == []


def test_auto_assign_proposes_first_and_writes_nothing_until_confirmed(slack):
    proposal = slack.ask("U0SENDCO", "assign auto")
    text = text_of(proposal)
    assert "Nothing has changed yet" in text
    for name in ("Eve Ray", "Finn Cole", "Gus Hill", "Hana Iqbal"):
        assert name in text
    assert assignments(slack) == [] and open_plan_of(slack, "eve") is None

    confirm = next(b for b in buttons_of(proposal) if b["action_id"] == "ssp_assign_confirm")
    done = slack.click("U0SENDCO", "ssp_assign_confirm", confirm["value"])
    assert "Assigned 4 plans" in text_of(done)
    assert len(assignments(slack)) == 4
    assert "Every pupil who needs a plan has one" in text_of(slack.ask("U0SENDCO", "priority"))
    # Confirming the same proposal again changes nothing.
    again = slack.click("U0SENDCO", "ssp_assign_confirm", confirm["value"])
    assert "Assigned 0 plans" in text_of(again) and len(assignments(slack)) == 4


# --- the rules of choosing, without Slack -----------------------------------------------------


def member(staff_id, plans, areas=(), years=(), house=None):
    return team_service.TeamMember(
        staff_id, f"Holder {staff_id}", None, plans, tuple(areas), tuple(years), house
    )


def test_suggestions_weigh_area_key_adult_year_house_and_caseload():
    from models import BroadArea

    pupil = Pupil(year_group=9, house="Brunel", primary_need=NeedCode.SEMH)
    semh = member(1, plans=10, areas=[BroadArea.SEMH])
    teacher = member(2, plans=10)
    year_and_house = member(3, plans=10, years=[9], house="Brunel")
    idle = member(4, plans=0)
    ranked = team_service.rank([semh, teacher, year_and_house, idle], pupil, {2}, Counter())
    # area 4 - 2.5 = 1.5; year + house 4 - 2.5 = 1.5 (then by name); teaches 3 - 2.5; idle 0
    assert [s.staff_id for s in ranked] == [1, 3, 2, 4]
    assert (
        "Social, emotional and mental health"
        in ranked[[s.staff_id for s in ranked].index(1)].reasons
    )
    # A very full caseload outweighs a year-group match.
    busy = member(5, plans=40, years=[9])
    assert team_service.rank([busy, idle], pupil, set(), Counter())[0].staff_id == 4


def test_auto_assignment_shares_the_work(sessions):
    from tests import factories

    with sessions.begin() as session:
        school = factories.school(session)
        for first in ("Ann", "Bob"):
            factories.staff(session, school, StaffRole.CASE_HOLDER, first=first)
        for _ in range(4):
            factories.pupil(session, school, sen_stage=SenStage.SEN_SUPPORT)
        pairs = team_service.propose_all(session, school.id, TODAY)
        assert Counter(s.staff_id for _, s in pairs).most_common()[0][1] == 2
        assert session.scalar(select(func.count()).select_from(CaseHolderAssignment)) == 0


def test_a_case_holder_who_leaves_hands_their_plans_back_to_the_priority_list(
    slack, run_cli, tmp_path
):
    rows = ["email,first_name,last_name,roles"]
    for first, last, roles in (
        ("Morgan", "Reed", "sendco;case_holder"),
        ("Dana", "Fox", "senior_leader"),
        ("Tom", "Baker", "case_holder"),
        ("Lee", "Chan", "teacher"),
        ("Sam", "Jones", "teaching_assistant"),
    ):
        rows.append(f"{first.lower()}.{last.lower()}@brookside.example.org,{first},{last},{roles}")
    staff_csv = tmp_path / "staff.csv"
    staff_csv.write_text("\n".join(rows) + "\n")

    result = run_cli("import", "staff", str(staff_csv), "--school", "Brookside High")
    assert result.code == 0, result
    assert "1 marked as left" in result.out and "2 plans held by leavers" in result.out

    with slack.sessions() as session:
        ava = session.get(Plan, slack.ids["ava_plan"])
        assert ava.case_holder_id is None
        assert ava.timeline[-1].summary == (
            "Priya Shah left the school; the plan needs a new case holder"
        )
    text = text_of(slack.ask("U0SENDCO", "priority"))
    assert "Ava Stone" in text and "Ben Stone" in text


# --- a case holder asks for a plan; the SENDCo decides (guidance §4.3) ------------------------


def dms_to(slack, user: str, count: int = 1) -> list[dict]:
    slack.emulator.wait_for(lambda calls: len(slack.emulator.messages_to(user)) >= count)
    return slack.emulator.messages_to(user)


def plan_request_to_sendco(slack) -> dict:
    slack.emulator.wait_for(
        lambda calls: any(
            "asks to be the case holder" in text_of(m)
            for m in slack.emulator.messages_to("U0SENDCO")
        )
    )
    return next(
        m
        for m in reversed(slack.emulator.messages_to("U0SENDCO"))
        if "asks to be the case holder" in text_of(m)
    )


def test_a_case_holder_asks_and_holds_the_plan_only_once_the_sendco_approves(slack):
    views = len(slack.emulator.calls_to("views.open"))
    asked = text_of(slack.ask("U0PRIYA", "plan new Eve Ray"))
    assert "I've asked the SENDCo" in asked and "“Eve Ray”" in asked
    assert len(slack.emulator.calls_to("views.open")) == views  # no plan opened: none made
    assert open_plan_of(slack, "eve") is None

    message = plan_request_to_sendco(slack)
    text = text_of(message)
    assert "Priya Shah asks to be the case holder" in text and "Eve Ray" in text
    # The pupil and who asks, nothing more: not the year, the EHC plan or the need.
    assert "Year" not in text and "EHC" not in text and "Social" not in text
    approve, decline = buttons_of(message)
    assert (approve["action_id"], decline["action_id"]) == (
        "ssp_plan_request_approve",
        "ssp_plan_request_decline",
    )

    # The least-privileged people who could click it: the case holder who asked, a teacher.
    refused = slack.click("U0PRIYA", "ssp_plan_request_approve", approve["value"])
    assert "Only the SENDCo" in text_of(refused)
    refused = slack.click("U0LEE", "ssp_plan_request_decline", decline["value"])
    assert "Only the SENDCo" in text_of(refused)
    assert open_plan_of(slack, "eve") is None

    done = slack.click("U0SENDCO", "ssp_plan_request_approve", approve["value"])
    assert "Eve Ray → Priya Shah" in text_of(done) and done["replace_original"] is True
    plan = open_plan_of(slack, "eve")
    assert plan.case_holder_id == slack.ids["priya"] and plan.status == PlanStatus.DRAFT
    (assignment,) = [a for a in assignments(slack) if a.plan_id == plan.id]
    # Delegated exactly as `/ssp assign` does: she is asked to accept it.
    assert assignment.status == AssignmentStatus.PENDING
    assert assignment.assigned_by_id == slack.ids["sendco"]
    slack.emulator.wait_for(
        lambda calls: any(
            "asked you to be the case holder" in text_of(m)
            for m in slack.emulator.messages_to("U0PRIYA")
        )
    )
    again = slack.click("U0SENDCO", "ssp_plan_request_decline", approve["value"])
    assert "already been approved" in text_of(again)


def test_the_sendco_declines_a_request_and_the_case_holder_is_told(slack):
    slack.ask("U0PRIYA", "plan new A820123456011")  # Finn Cole, by UPN
    decline = buttons_of(plan_request_to_sendco(slack))[1]
    done = slack.click("U0SENDCO", "ssp_plan_request_decline", decline["value"])
    assert "Declined" in text_of(done) and "Finn Cole" in text_of(done)
    assert open_plan_of(slack, "finn") is None
    slack.emulator.wait_for(
        lambda calls: any(
            "hasn't given you the plan for Finn Cole" in text_of(m)
            for m in slack.emulator.messages_to("U0PRIYA")
        )
    )


def test_a_case_holder_cannot_list_or_probe_pupils_with_plan_new(slack):
    views = len(slack.emulator.calls_to("views.open"))
    # A prefix lists nobody (on BASE it listed every pupil without a plan, with year and form).
    listed = text_of(slack.ask("U0PRIYA", "plan new e"))
    assert "Eve" not in listed and "Year" not in listed and "Several" not in listed
    # Whoever is named, with a plan, an EHC plan, none, or not there at all, the answer reads
    # the same apart from what was typed.
    answers = {
        typed: text_of(slack.ask("U0PRIYA", f"plan new {typed}")).replace(typed, "X")
        for typed in ("Cara Lin", "Eve Ray", "Gus Hill", "Hana Iqbal")
    }
    assert len(set(answers.values())) == 1, answers
    assert "already has a plan" not in answers["Cara Lin"]
    assert len(slack.emulator.calls_to("views.open")) == views
    nobody = text_of(slack.ask("U0PRIYA", "plan new Nobody Atall"))
    assert nobody == text_of(slack.ask("U0PRIYA", "plan new e"))
    # The Start plan button, by pupil id, is the SENDCo's: it confirms nobody's name or plan.
    clicks = {
        key: text_of(slack.click("U0PRIYA", "ssp_start_plan", str(slack.ids[key])))
        for key in ("cara", "eve", "zed")
    }
    assert len(set(clicks.values())) == 1 and "Only the SENDCo starts plans" in clicks["cara"]
    assert "Cara" not in clicks["cara"] and open_plan_of(slack, "eve") is None


def test_a_request_naming_another_schools_pupil_or_clicked_by_another_school_goes_nowhere(slack):
    assert "exactly one pupil" in text_of(slack.ask("U0PRIYA", "plan new Zed Other"))
    slack.ask("U0PRIYA", "plan new Eve Ray")
    approve = buttons_of(plan_request_to_sendco(slack))[0]
    before = len(slack.emulator.responses_to("U0OTHER"))
    reply = slack.sender.button(
        "U0OTHER", "ssp_plan_request_approve", approve["value"], team_id="T0OTHERSCH"
    )
    assert reply.status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.responses_to("U0OTHER")) > before)
    refused = text_of(slack.emulator.responses_to("U0OTHER")[-1])
    assert "can't be found" in refused and "Eve" not in refused
    assert open_plan_of(slack, "eve") is None


# --- every delegation listener, as the least-privileged person who could click it -------------


@pytest.mark.parametrize("user", ["U0SLT", "U0PRIYA", "U0LEE", "U0TA"])
def test_the_delegation_buttons_do_nothing_for_anyone_but_the_sendco(slack, user):
    """Anyone can click a button they were forwarded or kept: each listener checks the role."""
    shown = slack.ask("U0SENDCO", "priority")
    auto = next(b for b in buttons_of(shown) if b["action_id"] == "ssp_assign_auto")
    assign = next(b for b in buttons_of(shown) if b["action_id"] == "ssp_assign_open")
    proposal = slack.ask("U0SENDCO", "assign auto")
    confirm = next(b for b in buttons_of(proposal) if b["action_id"] == "ssp_assign_confirm")

    clicks = (
        ("ssp_assign_auto", auto["value"]),
        ("ssp_assign_open", assign["value"]),
        confirm_of(confirm),
    )
    for action_id, value in clicks:
        answer = slack.click(user, action_id, value)
        assert "Only the SENDCo" in text_of(answer) or "SSP Bot shows plans only" in text_of(answer)
        for name in ("Eve Ray", "Finn Cole", "Gus Hill", "Hana Iqbal"):
            assert name not in text_of(answer)
    assert not slack.emulator.calls_to("views.open")  # no Assign form opened
    assert assignments(slack) == [] and open_plan_of(slack, "eve") is None


def test_a_sendco_who_is_no_longer_one_cannot_use_an_old_proposal(slack):
    proposal = slack.ask("U0SENDCO", "assign auto")
    confirm = next(b for b in buttons_of(proposal) if b["action_id"] == "ssp_assign_confirm")
    with slack.sessions() as session, session.begin():
        session.execute(
            StaffRoleGrant.__table__.delete().where(
                StaffRoleGrant.staff_id == slack.ids["sendco"],
                StaffRoleGrant.role == StaffRole.SENDCO,
            )
        )
    for action_id, value in (("ssp_assign_auto", "auto"), confirm_of(confirm)):
        answer = slack.click("U0SENDCO", action_id, value)
        assert "Only the SENDCo" in text_of(answer)
        assert "Eve Ray" not in text_of(answer)
    assert assignments(slack) == [] and open_plan_of(slack, "eve") is None


def confirm_of(button: dict) -> tuple[str, str]:
    return "ssp_assign_confirm", button["value"]
