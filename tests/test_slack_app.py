"""`/ssp` and the App Home over signed HTTP, with the emulator standing in for Slack."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from models import AuditEvent, BroadArea, Plan, PlanNeed, PlanVoice, Pupil, Staff
from tests.slack_harness import buttons_of, text_of


def audit_count(sessions, **where) -> int:
    with sessions() as session:
        query = select(func.count()).select_from(AuditEvent)
        for name, value in where.items():
            query = query.where(getattr(AuditEvent, name) == value)
        return session.scalar(query)


# --- the wire -----------------------------------------------------------------------------------


def test_a_bad_signature_is_rejected_and_nothing_happens(slack):
    reply = slack.sender.command("U0SENDCO", "caseload", signature="v0=" + "0" * 64)
    assert reply.status == 401
    time.sleep(0.2)
    assert slack.responses() == [] and audit_count(slack.sessions) == 0


def test_a_stale_timestamp_is_rejected(slack):
    reply = slack.sender.command("U0SENDCO", "caseload", timestamp=int(time.time()) - 6 * 60)
    assert reply.status == 401
    time.sleep(0.2)
    assert slack.responses() == [] and audit_count(slack.sessions) == 0


def test_answers_are_ephemeral(slack):
    assert slack.ask("U0SENDCO", "caseload")["response_type"] == "ephemeral"


# --- subcommands --------------------------------------------------------------------------------


def test_help_lists_what_this_person_can_do(slack):
    sendco = text_of(slack.ask("U0SENDCO", "help"))
    assert "/ssp caseload" in sendco and "/ssp overdue" in sendco and "/ssp pupil" in sendco
    teacher = text_of(slack.ask("U0LEE", ""))
    assert "/ssp pupil" in teacher and "/ssp caseload" not in teacher


def test_school_caseload_for_the_sendco(slack):
    text = text_of(slack.ask("U0SENDCO", "caseload"))
    assert "School caseload" in text
    assert "3 open · 1 reviews due soon · 1 overdue" in text
    assert "@U0PRIYA" in text  # a mention, so Slack shows the name and it links to them
    priya_line = next(line for line in text.splitlines() if "U0PRIYA" in line)
    assert "2 plans · 1 due soon · 1 overdue" in priya_line
    assert "Tom Baker" in text
    assert "Cognition and learning: 1" in text and "Year 9: 3" in text
    assert "Zed" not in text and "Hillside" not in text  # another school's plan is not counted


def test_senior_leaders_see_the_whole_school_too(slack):
    assert "School caseload" in text_of(slack.ask("U0SLT", "caseload"))


def test_one_case_holders_caseload(slack):
    text = text_of(slack.ask("U0SENDCO", "caseload <@U0PRIYA|priya>"))
    assert "Priya Shah's caseload" in text
    assert text.index("Ava Stone") < text.index("Ben Stone")  # soonest review first
    assert "9 days overdue" in text


def test_overdue_lists_the_oldest_first_with_who_to_chase(slack):
    text = text_of(slack.ask("U0SENDCO", "overdue"))
    assert (
        "Ava Stone" in text
        and "9 days overdue" in text
        and "U0PRIYA" in str(slack.emulator.responses_to("U0SENDCO")[-1])
    )
    assert "Ben Stone" not in text


def test_pupil_by_name_shows_the_plan_summary_and_audits_the_read(slack):
    message = slack.ask("U0SENDCO", "pupil Ava Stone")
    text = text_of(message)
    for expected in (
        "Ava Stone",
        "Year 9",
        "SEN Support",
        "Specific learning difficulty",
        "EAL",
        "Plan 2",
        "overdue",
        "Read 20 high-frequency words",
        "Lexia reading programme",
        "25% extra time",
        "Slow reading speed",
    ):
        assert expected in text, expected
    assert audit_count(slack.sessions, action="read", plan_id=slack.ids["ava_plan"]) == 1


def test_pupil_by_upn(slack):
    assert "Ava Stone" in text_of(slack.ask("U0SENDCO", "pupil a820123456001"))


def test_several_matches_ask_which_one(slack):
    message = slack.ask("U0SENDCO", "pupil stone")
    assert "Several pupils match" in text_of(message)
    choices = buttons_of(message)
    assert len(choices) == 2
    chosen = slack.click("U0SENDCO", "ssp_show_pupil", choices[1]["value"])
    assert "Ben Stone" in text_of(chosen) and chosen.get("replace_original") is True


def test_a_pupil_without_a_plan_says_so(slack):
    assert "No SEN Support Plan yet" in text_of(slack.ask("U0SENDCO", "pupil Dev Patel"))


def test_mine_for_a_case_holder(slack):
    text = text_of(slack.ask("U0PRIYA", "mine"))
    assert "Plans you hold" in text and "Ava Stone" in text and "Ben Stone" in text
    assert "Cara" not in text


def test_long_lists_page(slack):
    from tests.test_paging import add_pupils

    add_pupils(slack, 20, plans=True)
    first = slack.ask("U0SENDCO", "overdue")
    assert "21 plans · page 1 of 2" in text_of(first)
    assert len(first["blocks"]) <= 50
    next_page = [b for b in buttons_of(first) if b["action_id"] == "ssp_page_next"]
    second = slack.click("U0SENDCO", "ssp_page_next", next_page[0]["value"])
    assert "page 2 of 2" in text_of(second) and "Ava Stone" in text_of(second)


# --- access -------------------------------------------------------------------------------------


def test_a_case_holder_cannot_see_the_whole_school_or_someone_elses_caseload(slack):
    assert "for the SENDCo and senior leaders" in text_of(slack.ask("U0PRIYA", "caseload"))
    assert "for the SENDCo and senior leaders" in text_of(slack.ask("U0PRIYA", "overdue"))
    refused = text_of(slack.ask("U0PRIYA", "caseload <@U0TOM|tom>"))
    assert "for the SENDCo and senior leaders" in refused and "Cara" not in refused


def test_a_case_holder_sees_their_own_pupils_only(slack):
    assert "Lexia" in text_of(slack.ask("U0PRIYA", "pupil Ava"))
    assert "couldn't find a pupil" in text_of(slack.ask("U0PRIYA", "pupil Cara"))


def test_a_teacher_sees_what_they_need_to_teach_their_pupil(slack):
    text = text_of(slack.ask("U0LEE", "pupil Cara"))
    assert "Visual timetable on desk" in text and "Ask for help using a help card" in text
    assert "social skills group" not in text  # provision is for the SENDCo and case holder
    assert "As one of their teachers" in text


def test_a_teacher_sees_nothing_of_the_record_beyond_what_they_teach_with(slack):
    with slack.sessions.begin() as session:
        cara = session.get(Pupil, slack.ids["cara"])
        cara.child_in_care = cara.medical_need = cara.pupil_premium = True
        cara.other_information = "Contact arrangements: see the DSL"
        plan = session.scalar(select(Plan).where(Plan.pupil_id == cara.id))
        plan.voice = PlanVoice(how_to_support_me="Give me a moment before I answer")
        plan.needs = [
            PlanNeed(
                broad_area=BroadArea.COMMUNICATION_AND_INTERACTION,
                description="Finds group work hard",
            )
        ]
    text = text_of(slack.ask("U0LEE", "pupil Cara"))
    # What they need to teach her: where to find her, what helps, her targets, in her words.
    for shown in (
        "Cara Lin",
        "Year 9",
        "9A",
        "Visual timetable on desk",
        "Ask for help using a help card",
        "Give me a moment before I answer",
    ):
        assert shown in text, shown
    # Not the record: birthday, SEN stage, needs, flags, the MIS notes.
    for hidden in (
        "Born",
        "2012",
        "SEN Support",
        "Autis",
        "primary need",
        "group work",
        "EAL",
        "Child in care",
        "Medical",
        "Pupil premium",
        "Contact arrangements",
        "DSL",
    ):
        assert hidden not in text, hidden
    whole = text_of(slack.ask("U0SENDCO", "pupil Cara"))
    assert "Child in care" in whole and "Contact arrangements" in whole and "Born" in whole


def test_a_teachers_caseload_question_says_nothing_about_who_is_on_the_staff_list(slack):
    looked_up = len(slack.emulator.calls_to("users.info"))
    on_list = text_of(slack.ask("U0LEE", "caseload <@U0TOM|tom>"))
    not_on_list = text_of(slack.ask("U0LEE", "caseload <@U0STRANGER|visitor>"))
    assert on_list == not_on_list and "for the SENDCo and senior leaders" in on_list
    assert len(slack.emulator.calls_to("users.info")) == looked_up  # nobody was looked up
    assert "Cara Lin" in text_of(slack.ask("U0TOM", "caseload <@U0TOM|tom>"))  # their own


def test_a_teacher_asking_about_a_pupil_they_do_not_teach_is_told_not_found(slack):
    not_taught = text_of(slack.ask("U0LEE", "pupil Ava Stone"))
    nobody = text_of(slack.ask("U0LEE", "pupil Nobody Atall"))
    # "Not allowed" and "not found" read the same, so nobody can probe who has a plan.
    assert not_taught.replace("Ava Stone", "X") == nobody.replace("Nobody Atall", "X")
    assert audit_count(slack.sessions, action="read") == 0


def test_a_button_naming_a_pupil_the_user_may_not_see_is_refused(slack):
    message = slack.click("U0LEE", "ssp_show_pupil", str(slack.ids["ava"]))
    assert "couldn't find that pupil" in text_of(message)
    other_school = slack.click("U0SENDCO", "ssp_show_pupil", str(slack.ids["zed"]))
    assert "couldn't find that pupil" in text_of(other_school)


def test_a_teaching_assistant_who_supports_nobody_finds_no_pupil(slack):
    # Linked to no class, plan or pupil: Cara reads exactly as a pupil who does not exist.
    cara = text_of(slack.ask("U0TA", "pupil Cara Lin"))
    nobody = text_of(slack.ask("U0TA", "pupil Nobody Atall"))
    assert "couldn't find a pupil" in cara
    assert cara.replace("Cara Lin", "X") == nobody.replace("Nobody Atall", "X")


def test_staff_in_no_role_that_sees_pupils_are_told_so(slack):
    with slack.sessions.begin() as session:
        session.get(Staff, slack.ids["ta"]).set_roles(set())
    assert "SSP Bot shows plans only to" in text_of(slack.ask("U0TA", "pupil Cara"))


def test_staff_without_a_slack_id_are_matched_by_email_once(slack):
    text = text_of(slack.ask("U0TOM", "mine"))
    assert "Cara Lin" in text
    with slack.sessions() as session:
        assert session.get(Staff, slack.ids["tom"]).slack_user_id == "U0TOM"
    looked_up = len(slack.emulator.calls_to("users.info"))
    slack.ask("U0TOM", "mine")
    assert len(slack.emulator.calls_to("users.info")) == looked_up


def test_someone_not_on_the_staff_list_is_refused_politely(slack):
    message = slack.ask("U0STRANGER", "caseload")
    assert message["response_type"] == "ephemeral"
    assert "can't find you on your school's staff list" in message["text"]


def test_a_user_from_another_workspace_is_refused_politely(slack):
    message = slack.ask("U0SENDCO", "caseload", team_id="T0UNKNOWN")
    assert "isn't set up for this Slack workspace" in message["text"]
    assert audit_count(slack.sessions) == 0


def test_another_schools_pupils_are_invisible(slack):
    assert "couldn't find a pupil" in text_of(slack.ask("U0SENDCO", "pupil Zed Other"))


# --- malformed input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("frobnicate", "I don't know `frobnicate`"),
        ("pupil", "Say which pupil"),
        ("caseload priya", "mention them"),
        ("overdue now please", "I don't know `overdue now please`"),
        ("<!channel> `; DROP TABLE pupils", "I don't know"),
    ],
)
def test_malformed_input_gets_usage_not_an_error(slack, typed, expected):
    text = text_of(slack.ask("U0SENDCO", typed))
    assert expected in text and "/ssp caseload" in text


# --- App Home -----------------------------------------------------------------------------------


def test_app_home_shows_the_sendco_headlines_and_their_plans(slack):
    reply = slack.sender.app_home_opened("U0SENDCO")
    assert reply.status == 200
    slack.emulator.wait_for(lambda calls: "U0SENDCO" in slack.emulator.home_views)
    home = slack.emulator.home_views["U0SENDCO"]
    text = text_of(home)
    assert "The school" in text and "3 open plans" in text and "1 overdue" in text
    assert "You don't hold any SEN Support Plans" in text


def test_app_home_for_a_case_holder_lists_their_plans(slack):
    slack.sender.app_home_opened("U0PRIYA")
    slack.emulator.wait_for(lambda calls: "U0PRIYA" in slack.emulator.home_views)
    text = text_of(slack.emulator.home_views["U0PRIYA"])
    assert "Plans you hold (2)" in text and "Ava Stone" in text and "The school" not in text


def test_app_home_for_an_unknown_user_explains(slack):
    slack.sender.app_home_opened("U0STRANGER")
    slack.emulator.wait_for(lambda calls: "U0STRANGER" in slack.emulator.home_views)
    assert "staff list" in text_of(slack.emulator.home_views["U0STRANGER"])


def test_app_home_survives_slack_rate_limiting(slack):
    slack.emulator.fail_next("views.publish", "ratelimited", retry_after=1)
    slack.sender.app_home_opened("U0SENDCO")
    slack.emulator.wait_for(lambda calls: "U0SENDCO" in slack.emulator.home_views, timeout=8)
    statuses = [c.http_status for c in slack.emulator.calls_to("views.publish")]
    assert statuses == [429, 200]


def test_a_slack_server_error_is_retried(slack):
    slack.emulator.fail_next("views.publish", "internal_error", status=500)
    slack.sender.app_home_opened("U0PRIYA")
    slack.emulator.wait_for(lambda calls: "U0PRIYA" in slack.emulator.home_views, timeout=8)
    assert [c.http_status for c in slack.emulator.calls_to("views.publish")] == [500, 200]


def test_the_sendcos_help_is_whole_however_long_it_grows(slack):
    # The SENDCo's help is longer than one section block takes: every line is there, uncut.
    from handlers.commands import TABLE

    reply = slack.ask("U0SENDCO", "help")
    said = text_of(reply)
    # A cut section ends in "…"; the help's own lines may hold one (`add ELSA "…"`).
    assert not any(
        b["text"]["text"].endswith("…") for b in reply["blocks"] if b["type"] == "section"
    )
    for name in ("glossary history", "support", "observe", "passport", "class", "priority"):
        assert f"`/ssp {name}" in said, name
    assert len(TABLE) > 20 and sum(b["type"] == "section" for b in reply["blocks"]) > 1
