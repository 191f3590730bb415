"""`/ssp export <pupil> --evidence` and `--transfer`, and the leavers message's "Transfer
records": the pack reaches only those allowed it, by private short-lived links, made from the
records at download; a transfer record closes a leaver's plan."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models import (
    AuditEvent,
    ClosureReason,
    DownloadLink,
    Plan,
    PlanStatus,
    Prompt,
    PromptKind,
    Pupil,
)
from tests.slack_harness import RESPONSE_URL, buttons_of, download_links, text_of
from tests.test_db_faults import app, on_postgresql, proxy  # noqa: F401 - fixtures
from tests.test_export import parse
from tests.test_export_links import assert_refused, pdf_text
from tests.test_plan_life import import_on_monday, import_pupils_without  # noqa: F401


def said(reply: dict) -> str:
    return " ".join(text_of(reply).split())


def test_the_sendco_gets_the_evidence_pack_by_private_links(slack):
    reply = slack.ask("U0SENDCO", "export Ava Stone --evidence")
    assert reply["response_type"] == "ephemeral"
    assert "Ava Stone's evidence of SEN Support is ready" in said(reply)
    links = download_links(reply)
    assert set(links) == {"pdf", "html"}
    assert slack.emulator.calls_to("chat.postMessage") == []

    pdf = slack.get(links["pdf"])
    assert pdf.status == 200 and pdf.headers["Content-Type"] == "application/pdf"
    disposition = pdf.headers["Content-Disposition"]
    assert disposition == (
        f'attachment; filename="SEN-evidence-AS-ref{slack.ids["ava_plan"]}-2026-11-23.pdf"'
    )
    assert "Evidence of SEN Support: Ava Stone" in pdf_text(pdf.body)
    page = parse(slack.get(links["html"]).body)
    assert page.all("h1")[0].text == "Evidence of SEN Support: Ava Stone"
    # No review yet: the first page says local authorities ask for two reviewed cycles.
    (warning,) = page.all("p", id="too-few-cycles")
    assert "holds 0 reviewed cycles" in warning.text
    with slack.sessions() as session:
        rows = session.scalars(
            select(AuditEvent.action).where(AuditEvent.plan_id == slack.ids["ava_plan"])
        ).all()
    assert "export_link" in rows and rows.count("export") == 2


def test_the_case_holder_and_senior_leaders_may_have_it_and_teachers_and_assistants_may_not(
    slack,
):
    for user in ("U0PRIYA", "U0SLT"):
        assert set(download_links(slack.ask(user, "export Ava --evidence"))) == {"pdf", "html"}
    # Not allowed reads as not found, as for the plan itself.
    for user in ("U0LEE", "U0TA"):
        refused = slack.ask(user, "export Ava --evidence")
        assert download_links(refused) == {}
        assert "I couldn't find a pupil matching “Ava”" in said(refused)
    # Someone from another school's workspace gets nothing of this school's.
    assert download_links(slack.ask("U0OTHER", "export Ava --evidence")) == {}


def test_a_link_stops_working_when_its_owner_no_longer_holds_the_plan(slack):
    links = download_links(slack.ask("U0PRIYA", "export Ava --evidence"))
    with slack.sessions.begin() as session:
        session.get(Plan, slack.ids["ava_plan"]).case_holder_id = slack.ids["sendco"]
    assert_refused(slack.get(links["pdf"]), 410)
    with slack.sessions() as session:
        assert session.scalar(
            select(AuditEvent.id).where(
                AuditEvent.action == "refused", AuditEvent.detail.like("evidence %refused%")
            )
        )


def test_only_the_sendco_makes_a_transfer_record_and_a_pupil_on_roll_keeps_their_plan(slack):
    refused = slack.ask("U0PRIYA", "export Ava --transfer")
    assert "Only the SENDCo makes a transfer record" in said(refused)
    assert download_links(refused) == {}
    reply = slack.ask("U0SENDCO", "export Ava --transfer")
    assert "still on roll, so their plan stays open" in said(reply)
    page = parse(slack.get(download_links(reply)["html"]).body)
    assert page.text.startswith("Transfer record, for the pupil's next school")
    with slack.sessions() as session:
        assert session.get(Plan, slack.ids["ava_plan"]).status == PlanStatus.ACTIVE


def test_a_leavers_transfer_record_closes_their_plan(slack):
    with slack.sessions.begin() as session:
        session.get(Pupil, slack.ids["ava"]).is_active = False
    reply = slack.ask("U0SENDCO", "export Ava --transfer")
    assert "Their plan is now closed (left the school)" in said(reply)
    with slack.sessions() as session:
        plan = session.get(Plan, slack.ids["ava_plan"])
        assert (plan.status, plan.closure_reason) == (PlanStatus.CLOSED, ClosureReason.LEFT_SCHOOL)
    # The closed plan's record is still the SENDCo's to have.
    assert slack.get(download_links(reply)["pdf"]).status == 200


def test_the_leavers_message_makes_transfer_records_for_the_sendco_only(
    slack, tick, run_cli, tmp_path
):
    import_pupils_without(slack, run_cli, tmp_path, "ava")
    tick("2026-11-24T10:00:00+00:00")
    (leavers,) = [
        m for m in slack.emulator.messages_to("U0SENDCO") if "left the school" in text_of(m)
    ]
    _close, transfer = buttons_of(leavers)
    assert transfer["text"]["text"] == "Transfer records"
    for user in ("U0PRIYA", "U0LEE"):
        slack.sender.button(user, "ssp_leavers_transfer", transfer["value"])
        refused = slack.emulator.wait_for(lambda calls, u=user: slack.emulator.responses_to(u))
        assert "Only the SENDCo" in text_of(refused[-1])
    with slack.sessions() as session:
        assert session.get(Plan, slack.ids["ava_plan"]).status == PlanStatus.ACTIVE

    before = len(slack.emulator.responses_to("U0SENDCO"))
    slack.sender.button("U0SENDCO", "ssp_leavers_transfer", transfer["value"])
    done = slack.emulator.wait_for(lambda calls: slack.emulator.responses_to("U0SENDCO")[before:])
    answer = done[-1]
    assert answer.get("response_type") == "ephemeral"  # the links are not kept in the DM
    assert "Transfer records for their next schools" in text_of(answer)
    links = download_links(answer)
    assert "pdf" in links and slack.get(links["pdf"]).status == 200
    with slack.sessions() as session:
        assert session.get(Plan, slack.ids["ava_plan"]).status == PlanStatus.CLOSED


# --- the database down --------------------------------------------------------------------------


@on_postgresql
def test_asking_for_a_pack_while_the_database_is_cut_is_answered_calmly_and_makes_nothing(
    app,  # noqa: F811 - the fixture imported from tests.test_db_faults
    proxy,  # noqa: F811
):
    proxy.cut()
    for typed in ("export Ava Stone --evidence", "export Ava Stone --transfer"):
        reply = app.ask("U0SENDCO", typed)
        assert "can't reach its database just now" in said(reply)
        assert download_links(reply) == {}
    proxy.passes()
    with app.direct() as session:
        assert session.scalar(select(func.count()).select_from(DownloadLink)) == 0
        assert session.get(Plan, app.ids["ava_plan"]).status == PlanStatus.ACTIVE


# --- "Transfer records" in the leavers message: refusals, the database cut, Slack failing ---------


def leavers_prompt(running) -> str:
    """The leavers message's prompt (what its buttons carry), after Ava left in an import."""
    with running.sessions() as session:
        leavers = select(Prompt.id).where(Prompt.kind == PromptKind.LEAVERS)
        return str(session.scalars(leavers).one())


def nothing_made(running, sessions) -> None:
    """No link made, Ava's plan still open, the leavers message still unanswered."""
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(DownloadLink)) == 0
        assert session.get(Plan, running.ids["ava_plan"]).status == PlanStatus.ACTIVE
        prompt = session.scalars(select(Prompt).where(Prompt.kind == PromptKind.LEAVERS)).one()
        assert prompt.answered_at is None


def test_transfer_records_clicked_by_anyone_but_this_schools_sendco_is_refused_and_audited(
    slack, run_cli, tmp_path
):
    import_pupils_without(slack, run_cli, tmp_path, "ava")
    value = leavers_prompt(slack)
    for user, key, team, told in (
        ("U0LEE", "lee", None, "Only the SENDCo"),  # a teacher who got hold of the payload
        ("U0TA", "ta", None, "Only the SENDCo"),
        # Another school's SENDCo, in their own workspace: a SENDCo, but not of this school.
        ("U0OTHER", "other_sendco", "T0OTHERSCH", "That message could not be found."),
    ):
        slack.sender.button(user, "ssp_leavers_transfer", value, team_id=team)
        answers = slack.emulator.wait_for(lambda calls, u=user: slack.emulator.responses_to(u))
        assert told in said(answers[-1]) and download_links(answers[-1]) == {}, user
        with slack.sessions() as session:
            [refusal] = session.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "refused", AuditEvent.actor_staff_id == slack.ids[key]
                )
            ).all()
        assert refusal.detail == "transfer records refused" and refusal.via == "leavers message"
        assert (refusal.pupil_id, refusal.plan_id) == (None, None)  # names nobody
    nothing_made(slack, slack.sessions)
    assert not any("Ava" in said(r) for u in ("U0LEE", "U0TA", "U0OTHER")
                   for r in slack.emulator.responses_to(u))  # fmt: skip


@pytest.mark.parametrize("status", [400, 500])
def test_when_slack_does_not_show_the_transfer_records_nothing_is_made_and_the_sendco_is_told(
    slack, run_cli, tmp_path, status
):
    import_pupils_without(slack, run_cli, tmp_path, "ava")
    value = leavers_prompt(slack)
    slack.emulator.fail_next(RESPONSE_URL, "invalid_blocks", status=status)
    slack.sender.button("U0SENDCO", "ssp_leavers_transfer", value)
    answers = slack.emulator.wait_for(lambda calls: slack.emulator.responses_to("U0SENDCO"))
    [told] = answers  # one clear message, not an apology and then another
    assert "didn't show the transfer records just then, so none were made" in said(told)
    assert "plans are still open" in said(told) and download_links(told) == {}
    nothing_made(slack, slack.sessions)
    # Pressed again once Slack is back: the records, and then the plan closes.
    slack.sender.button("U0SENDCO", "ssp_leavers_transfer", value)
    done = slack.emulator.wait_for(lambda calls: slack.emulator.responses_to("U0SENDCO")[1:])
    links = download_links(done[-1])
    assert slack.get(links["pdf"]).status == 200
    with slack.sessions() as session:
        assert session.get(Plan, slack.ids["ava_plan"]).status == PlanStatus.CLOSED


@on_postgresql
def test_transfer_records_while_the_database_is_cut_is_answered_calmly_and_makes_nothing(
    app,  # noqa: F811 - the fixture imported from tests.test_db_faults
    proxy,  # noqa: F811
    run_cli,
    tmp_path,
):
    import_pupils_without(app, run_cli, tmp_path, "ava")
    value = leavers_prompt(app)
    proxy.cut()
    app.sender.button("U0SENDCO", "ssp_leavers_transfer", value)
    answers = app.emulator.wait_for(lambda calls: app.emulator.responses_to("U0SENDCO"))
    assert "can't reach its database just now" in said(answers[-1])
    assert download_links(answers[-1]) == {}
    proxy.passes()
    nothing_made(app, app.direct)
