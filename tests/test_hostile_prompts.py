"""Every kind of DM the outbox sends, produced through the real paths with hostile data, is
taken by Slack: the emulator refuses what bot.slack_limits finds, so it is the judge.

Brookside High (tests/slack_harness.py) with every person a message can name called as long and
as awkwardly as the columns allow (`<script>&<!here>`, 100 characters a name), and the typed
text the flows ask for at its longest: a 500-character reason to delegate, a 1,000-character
reason to decline, a 3,000-character QA return. The interactive prompts come from signed
requests; the reviews, reminders and digests from the scheduler's sweep (`sspbot tick`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot.services import agreements, closure, family, groups, meeting, observations, outbox
from handlers.messages import kinds_with_messages
from handlers.scheduler import wait_for_deliveries
from handlers.slack_api import slack_id_for, staff_for_slack_user
from models import (
    AgreementDecision,
    Helped,
    Invitation,
    InvitationPurpose,
    MeetingJoin,
    Observation,
    Plan,
    PlanStatus,
    PlanTarget,
    Prompt,
    PromptKind,
    PromptStatus,
    Pupil,
    ReviewMeeting,
    School,
    SenStage,
    SharingChoice,
    Staff,
    StaffRole,
    TeachingGroup,
    TeachingGroupPupil,
)
from tests import factories
from tests.slack_harness import NOW, buttons_of, text_of
from tests.test_assignment_messages import decline_form
from tests.test_plan_editor import click, open_plan, submit
from tests.test_slack_limits_flows import HOSTILE, LONG, assert_slack_took_everything, hostile_name
from tests.test_team import more_pupils, plan_request_to_sendco

UPN = {
    "ava": "A820123456001",
    "cara": "A820123456003",
    "eve": "A820123456010",
    "finn": "A820123456011",
    "hana": "A820123456013",
}
STAFF = ("sendco", "priya", "tom", "lee", "jo")
PUPILS = ("ava", "ben", "cara", "eve", "finn", "hana", "kit")


def hostile_school(session, ids: dict) -> dict:
    """Brookside High's people, renamed; Hana's plan waiting for QA; Kit in Lee's English class
    with a review on 1 December, so Lee is asked for feedback on Monday; and Jo, a case holder
    Slack doesn't know, so the SENDCo's digest names someone who couldn't be reached."""
    ids = {**ids, **more_pupils(session, ids)}
    jo = Staff(
        school_id=ids["school"],
        email="jo.gone@brookside.example.org",
        first_name="Jo",
        last_name="Gone",
    )
    jo.set_roles({StaffRole.CASE_HOLDER})
    session.add(jo)
    session.flush()
    ids["jo"] = jo.id
    hana_plan = session.scalar(select(Plan).where(Plan.pupil_id == ids["hana"]))
    hana_plan.case_holder_id, hana_plan.status = ids["priya"], PlanStatus.AWAITING_QA
    kit = Pupil(
        school_id=ids["school"],
        upn="A820123456020",
        first_name="Kit",
        last_name="Moss",
        date_of_birth=date(2012, 5, 6),
        year_group=9,
        form="9A",
        sen_stage=SenStage.SEN_SUPPORT,
    )
    kit_plan = Plan(
        school_id=ids["school"],
        pupil=kit,
        case_holder_id=ids["priya"],
        status=PlanStatus.ACTIVE,
        cycle_number=1,
        review_date=date(2026, 12, 1),
    )
    kit_plan.targets = [PlanTarget(description="Use a number line for subtraction")]
    session.add_all([kit, kit_plan])
    english = session.scalar(select(TeachingGroup).where(TeachingGroup.code == "9A/En1"))
    english.code, english.subject = (f"9A {HOSTILE} " + "c" * 50)[:50], hostile_name("English")
    english.members.append(TeachingGroupPupil(pupil=kit))
    session.flush()
    ids["kit"] = kit.id
    for key in STAFF:
        person = session.get(Staff, ids[key])
        person.first_name = hostile_name(person.first_name)
        person.last_name = hostile_name(person.last_name)
    for key in PUPILS:
        pupil = session.get(Pupil, ids[key])
        pupil.first_name = hostile_name(pupil.first_name)
        pupil.last_name = hostile_name(pupil.last_name)
    return {key: ids[key] for key in ("eve", "finn", "gus", "hana", "kit", "jo")}


@pytest.fixture
def school_extras():
    return hostile_school


@pytest.fixture
def tick(slack, run_cli):
    env = {"SLACK_BOT_TOKEN": slack.emulator.bot_token, "SLACK_API_URL": slack.emulator.api_url}

    def run(when: str) -> str:
        wait_for_deliveries()  # the app's own deliveries first: one sender at a time
        result = run_cli("tick", "--now", when, env=env)
        assert result.code == 0, result
        return result.out

    return run


def dm_to(slack, user: str, containing: str) -> dict:
    def found() -> list[dict]:
        return [m for m in slack.emulator.messages_to(user) if containing in text_of(m)]

    slack.emulator.wait_for(lambda calls: found())
    return found()[-1]


def typed(value: str) -> dict:
    return {"type": "plain_text_input", "value": value}


def sent_prompts(slack) -> list[tuple[str, str]]:
    """(kind, ts) of each prompt sent; none failed but those to Jo, whom Slack doesn't know."""
    wait_for_deliveries()
    with slack.sessions() as session:
        rows = session.execute(
            select(Prompt.kind, Prompt.status, Prompt.slack_ts, Prompt.recipient_id).order_by(
                Prompt.id
            )
        ).all()
    failed = {who for _, status, _, who in rows if status == PromptStatus.FAILED}
    assert failed == {slack.ids["jo"]}
    return [(kind, ts) for kind, status, ts, _ in rows if status == PromptStatus.SENT]


def posted_text(slack, ts: str) -> str:
    """What the person read when the prompt arrived (later edits aside)."""
    (call,) = [
        c
        for c in slack.emulator.calls_to("chat.postMessage")
        if c.ok and c.response.get("ts") == ts
    ]
    return text_of({"text": call.params.get("text") or "", "blocks": call.json("blocks")})


def test_every_kind_of_prompt_with_hostile_names_and_long_answers_is_taken(slack, tick, clock):
    # Monday 23 November, 10:00: the SENDCo hands Cara to Priya (Tom is thanked) and Finn to
    # Tom, each with a long reason.
    why = LONG[:500]
    for pupil, holder in (("cara", "<@U0PRIYA|priya>"), ("finn", "<@U0TOM|tom>")):
        answer = slack.ask("U0SENDCO", f"assign {UPN[pupil]} {holder} {why}")
        assert "They'll be asked to accept it" in text_of(answer)
    # Tom can't take Finn's: the longest reason the form takes.
    asked = dm_to(slack, "U0TOM", "asked you to be the case holder")
    form = decline_form(slack, "U0TOM", buttons_of(asked)[1]["value"], asked)
    assert slack.sender.submit("U0TOM", form, {"reason": typed(LONG[:1000])}).status == 200
    dm_to(slack, "U0SENDCO", "can't take the plan")

    # Gus to Jo, from the form, with the longest reason it takes: Slack can't reach Jo.
    opened = len(slack.emulator.calls_to("views.open"))
    slack.sender.button("U0SENDCO", "ssp_assign_open", str(slack.ids["gus"]))
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    form = slack.emulator.open_views("U0SENDCO")[-1]
    holder = next(b for b in form["blocks"] if b.get("block_id") == "holder")
    jo = next(o for o in holder["element"]["options"] if o["text"]["text"].startswith("Jo "))
    state = {
        "holder": {"type": "static_select", "selected_option": jo},
        "reason": typed(LONG[:500]),
    }
    assert slack.sender.submit("U0SENDCO", form, state).status == 200

    # The SENDCo returns Hana's plan with 3,000 characters of comments.
    listing = slack.ask("U0SENDCO", "qa")
    review = next(b for b in buttons_of(listing) if b["action_id"] == "ssp_qa_open")
    opened = len(slack.emulator.calls_to("views.open"))
    slack.sender.button("U0SENDCO", "ssp_qa_open", review["value"])
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    modal = slack.emulator.open_views("U0SENDCO")[-1]
    ret = next(
        o
        for b in modal["blocks"]
        if b.get("block_id") == "decision"
        for o in b["element"]["options"]
        if o["value"] == "return"
    )
    state = {
        "decision": {"type": "radio_buttons", "selected_option": ret},
        "comments": typed(LONG),
    }
    returned = slack.sender.submit("U0SENDCO", modal, state).json()
    assert "gone back" in text_of({"blocks": returned["view"]["blocks"]})
    # Hana's plan comes back to QA and the SENDCo approves it.
    with slack.sessions.begin() as session:
        session.get(Plan, int(review["value"])).status = PlanStatus.AWAITING_QA
    opened = len(slack.emulator.calls_to("views.open"))
    slack.sender.button("U0SENDCO", "ssp_qa_open", review["value"])
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    modal = slack.emulator.open_views("U0SENDCO")[-1]
    approve = next(
        o
        for b in modal["blocks"]
        if b.get("block_id") == "decision"
        for o in b["element"]["options"]
        if o["value"] == "approve"
    )
    state = {"decision": {"type": "radio_buttons", "selected_option": approve}}
    approved = slack.sender.submit("U0SENDCO", modal, state).json()
    assert "approved and now active" in text_of({"blocks": approved["view"]["blocks"]})
    # It comes back to QA once more, for the sweep's daily summary to the SENDCo.
    with slack.sessions.begin() as session:
        session.get(Plan, int(review["value"])).status = PlanStatus.AWAITING_QA

    # Priya asks to hold Eve's plan; the SENDCo declines.
    slack.ask("U0PRIYA", f"plan new {UPN['eve']}")
    decline = buttons_of(plan_request_to_sendco(slack))[1]
    assert "Declined" in text_of(
        slack.click("U0SENDCO", "ssp_plan_request_decline", decline["value"])
    )
    dm_to(slack, "U0PRIYA", "hasn't given you the plan")

    # Ben's plan gains a professional report: Priya is asked whether to bring his review
    # forward, and the SENDCo is told.
    with slack.sessions.begin() as session:
        ben_plan = session.scalar(select(Plan).where(Plan.pupil_id == slack.ids["ben"]))
        ben_plan.review_date = date(2027, 3, 1)
    overview = open_plan(slack, "U0PRIYA", "plan A820123456002")
    reports = click(slack, "U0PRIYA", overview, "plan_open_section", "reports")
    form = click(slack, "U0PRIYA", reports, "plan_add_item", "reports")
    assert submit(slack, "U0PRIYA", form, title=LONG[:300]) is None

    # The morning sweep: review prompts, the SENDCo's weekly digest, Lee's feedback digest, and
    # the question about Ben's review.
    tick("2026-11-23T10:00:00+00:00")
    # Tuesday: the SENDCo asks Lee about Cara now; the sweep reminds Priya of Ava's review.
    clock.now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert "Asked 1 teacher(s)" in text_of(slack.ask("U0SENDCO", f"feedback {UPN['cara']}"))
    tick("2026-11-24T10:00:00+00:00")
    # Wednesday: Priya has not answered Cara's assignment in two school days; Kit has left
    # (as an import says), so the SENDCo is asked to close Kit's plan.
    clock.now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    with slack.sessions.begin() as session:
        kit = session.get(Pupil, slack.ids["kit"])
        kit.is_active, kit.left_on = False, date(2026, 11, 25)
        closure.pupils_left(session, slack.ids["school"], [kit], clock.now)
    # A family sends their views through a link, with the longest answers the page takes, and
    # another link is locked after three wrong dates of birth (the pages' own path is HTTP,
    # tests/test_family_pages.py; here the services the pages call).
    with slack.sessions.begin() as session:
        plan = session.scalar(select(Plan).where(Plan.pupil_id == slack.ids["ava"]))
        sent_views, locked = (family_link(session, plan, f"token-{n}", clock.now) for n in (1, 2))
        family.submit(
            session, sent_views, name=HOSTILE, relationship=HOSTILE,
            answers={q.key: LONG[: family.ANSWER_LENGTH] for q in family.FAMILY_QUESTIONS},
            now=clock.now,
        )  # fmt: skip
        for _ in range(family.MAX_CHECKS):
            family.check_birth_date(session, locked, date(2000, 1, 1), clock.now)
        # And a family replies about the review meeting, as long as the page allows.
        asked = family_link(session, plan, "token-3", clock.now, InvitationPurpose.MEETING)
        session.add(ReviewMeeting(
            school_id=plan.school_id, plan_id=plan.id, cycle_number=plan.cycle_number,
            meeting_date=date(2026, 12, 1), meeting_time=time(15, 30), place=HOSTILE,
            who_is_coming=LONG[: meeting.WHO_LENGTH], revision=1,
            set_by_id=plan.case_holder_id, set_at=clock.now,
        ))  # fmt: skip
        session.flush()
        meeting.reply(session, asked, meeting.Reply(
            can_come=False, other_times=LONG[: meeting.TIMES_LENGTH], join_by=MeetingJoin.VIDEO,
            note=LONG[: meeting.NOTE_LENGTH], name=HOSTILE, relationship=HOSTILE,
        ), clock.now)  # fmt: skip
        # And a family says what they disagree with in the plan, at the page's longest.
        answered = family_link(session, plan, "token-4", clock.now, InvitationPurpose.AGREEMENT)
        agreements.submit(
            session, answered, shown_version=plan.version, decision=AgreementDecision.DISAGREED,
            name=HOSTILE, relationship=HOSTILE, agreed_on=date(2026, 11, 25),
            disagreement=LONG[: agreements.DISAGREEMENT_LENGTH],
            sharing=SharingChoice.SCHOOL_STAFF, agency_values=[], other_agencies=None,
            now=clock.now,
        )  # fmt: skip
        # And the SENDCo notes an observation on Ava's plan, as long as the form allows: her
        # case holder's daily summary names her.
        session.add(Observation(
            school_id=plan.school_id, plan_id=plan.id, pupil_id=plan.pupil_id,
            cycle_number=plan.cycle_number, author_id=slack.ids["sendco"],
            observed_on=date(2026, 11, 25), what_happened=LONG[: observations.WHAT_LENGTH],
            strategy=LONG[: observations.STRATEGY_LENGTH], helped=Helped.NOT_SURE,
            created_at=clock.now,
        ))  # fmt: skip
        # And Lee runs an intervention group, with the longest name, for every pupil: after
        # Wednesday's session at 08:40 he is asked whether it happened.
        school = session.get(School, slack.ids["school"])
        item = factories.library_item(session, school, hostile_name("Lexia")[:200])
        lee = session.get(Staff, slack.ids["lee"])
        lexia = factories.group(
            session, school, item, lee, *(session.get(Pupil, slack.ids[p]) for p in PUPILS),
            name=(f"Lexia {HOSTILE} " + LONG)[:200], weekdays="3", starts_on=date(2026, 11, 25),
        )  # fmt: skip
        # Lee has just been made its runner: he is told which group and when (as the group
        # form's save queues it).
        outbox.enqueue(
            session, school_id=school.id, recipient_id=lee.id, kind=PromptKind.GROUP_RUNNER,
            dedupe_key=f"group_runner:group={lexia.id}", due_at=clock.now, now=clock.now,
            intervention_group_id=lexia.id,
        )  # fmt: skip
        # And Max, who ran another group, has left the staff list: the SENDCo is told.
        max_ = Staff(school_id=school.id, email="max.left@brookside.example.org",
                     first_name=hostile_name("Max"), last_name=hostile_name("Left"))  # fmt: skip
        max_.set_roles({StaffRole.TEACHER})
        session.add(max_)
        session.flush()
        factories.group(
            session, school, item, max_, session.get(Pupil, slack.ids["ava"]),
            name=(f"Toe by Toe {HOSTILE} " + LONG)[:200],
        )  # fmt: skip
        max_.is_active = False
        groups.runners_left(session, school.id, [max_], date(2026, 11, 24))
    tick("2026-11-25T10:00:00+00:00")

    sent = sent_prompts(slack)
    assert {kind for kind, _ in sent} == set(kinds_with_messages())
    # Each names someone, and shows their name as words, not as markup.
    unnamed = [kind for kind, ts in sent if HOSTILE not in posted_text(slack, ts)]
    assert unnamed == []
    (digest,) = [ts for kind, ts in sent if kind == PromptKind.SENDCO_DIGEST]
    assert f"could not be delivered: 1 — to Jo {HOSTILE}" in posted_text(slack, digest)
    assert_slack_took_everything(slack)


def family_link(
    session, plan: Plan, token: str, now: datetime,
    purpose: InvitationPurpose = InvitationPurpose.FAMILY_VIEWS,
) -> Invitation:  # fmt: skip
    link = Invitation(
        school_id=plan.school_id, plan_id=plan.id, pupil_id=plan.pupil_id,
        purpose=purpose, cycle_number=plan.cycle_number,
        token_hash=family.token_hash(token),
        questions=" ".join(q.key for q in family.FAMILY_QUESTIONS),
        created_by_id=plan.case_holder_id, created_at=now, expires_at=now + timedelta(days=14),
        max_submissions=3, submissions=0, failed_checks=0,
    )  # fmt: skip
    session.add(link)
    session.flush()
    return link


# --- the races the flow above ran into ------------------------------------------------------
# `/ssp assign @tom` links Tom's Slack account while a DM to Tom (the plan handed on) looks him
# up by email: whichever links him first, the other must still find him.


def test_a_dm_looking_someone_up_finds_them_linked_meanwhile(slack):
    client = WebClient(token=slack.emulator.bot_token, base_url=slack.emulator.api_url)
    with slack.sessions() as delivering:
        tom = delivering.get(Staff, slack.ids["tom"])
        assert tom.slack_user_id is None
        with slack.sessions.begin() as command:
            command.get(Staff, slack.ids["tom"]).slack_user_id = "U0TOM"
        assert slack_id_for(delivering, client, tom, NOW) == "U0TOM"


def test_a_command_naming_someone_finds_them_linked_meanwhile(slack, monkeypatch):
    client = WebClient(token=slack.emulator.bot_token, base_url=slack.emulator.api_url)
    asked = client.users_info

    def linked_while_asking(**kwargs):
        with slack.sessions.begin() as delivering:
            delivering.get(Staff, slack.ids["tom"]).slack_user_id = "U0TOM"
        return asked(**kwargs)

    monkeypatch.setattr(client, "users_info", linked_while_asking)
    with slack.sessions() as command:
        found = staff_for_slack_user(command, client, slack.ids["school"], "U0TOM")
        assert found is not None and found.id == slack.ids["tom"]
