"""Asking the family for the review meeting (issue 17), driven as people would: the case holder
in Slack (signed requests, the emulator), the family in their browser (plain HTTP here;
tests/test_family_meeting_browser.py drives Chromium).

Brookside High (tests/slack_harness.py): Priya Shah holds Ava Stone's plan; Ava was born on
4 March 2012; the clock says Monday 23 November 2026. PUBLIC_URL is the app's own address.
"""

from __future__ import annotations

import logging
from datetime import date

import pytest
from sqlalchemy import select

from handlers.web import family as web_family
from models import (
    AuditEvent,
    CalendarKind,
    Invitation,
    InvitationPurpose,
    MeetingJoin,
    MeetingReply,
    Plan,
    ReviewMeeting,
    SchoolCalendarEntry,
    TimelineEntry,
)
from tests.db_proxy import DbProxy
from tests.family_harness import (
    Family,
    ask_form,
    latest_dm,
    make_link,
    start_public_app,
    without_secrets,
)
from tests.slack_harness import build_school, buttons_of, text_of
from tests.test_db_faults import on_postgresql
from tests.test_plan_editor import modal_text, open_plan, submit

NOT_AVAILABLE = "This link does not work"


@pytest.fixture
def slack(emulator, sessions, school_extras, clock):
    """conftest's `slack`, with PUBLIC_URL set (as tests/test_family_pages.py)."""
    from handlers.scheduler import wait_for_deliveries

    emulator.reset()
    with sessions.begin() as session:
        ids = build_school(session, emulator)
    running = start_public_app(emulator, sessions, clock)
    running.ids = ids
    yield running
    running.server.stop()
    wait_for_deliveries()


@pytest.fixture(autouse=True)
def fresh_limits(monkeypatch):
    monkeypatch.setattr(web_family, "PER_LINK", web_family.RateLimit(30, 600))
    monkeypatch.setattr(web_family, "PER_ADDRESS", web_family.RateLimit(60, 600))


def choose(slack, user: str, view: dict, purpose: str) -> dict:
    """Chooses what to ask for in the open "Ask the family" form; the form as redrawn."""
    before = len(slack.emulator.calls_to("views.update"))
    assert slack.sender.view_choose(user, view, "ssp_family_ask_for", purpose).status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.update")) > before)
    return slack.emulator.open_views(user)[-1]


def block_ids(view: dict) -> list[str]:
    return [b.get("block_id") for b in view["blocks"] if b.get("type") == "input"]


# --- what to ask for ---------------------------------------------------------------------------


def test_choosing_what_to_ask_for_redraws_the_form(slack):
    form = ask_form(slack, "U0PRIYA")
    (ask_for,) = [b for b in form["blocks"] if b.get("block_id") == "ask_for"]
    assert ask_for["dispatch_action"] is True
    assert [o["text"]["text"] for o in ask_for["element"]["options"]] == [
        "Their views", "The review meeting", "Their agreement to the plan",
    ]  # fmt: skip
    assert ask_for["element"]["initial_option"]["value"] == "family_views"
    assert block_ids(form) == ["ask_for", "questions"]

    agreement = choose(slack, "U0PRIYA", form, "agreement")
    assert "can agree to it, or tell you what they disagree with" in modal_text(agreement)
    assert "questions" not in block_ids(agreement)
    assert '"purpose": "agreement"' in agreement["private_metadata"]

    views = choose(slack, "U0PRIYA", agreement, "family_views")
    assert block_ids(views) == ["ask_for", "questions"]

    made = submit(slack, "U0PRIYA", choose(slack, "U0PRIYA", views, "agreement"))
    assert made["response_action"] == "update"
    with slack.sessions() as session:
        (link,) = session.scalars(select(Invitation)).all()
        assert (link.purpose, link.questions) == (InvitationPurpose.AGREEMENT, "")


def test_ask_the_pupil_asks_only_for_their_views(slack):
    form = ask_form(slack, "U0PRIYA", purpose="pupil")
    assert block_ids(form) == ["questions"]


@pytest.mark.parametrize("user", ["U0LEE", "U0TA", "U0SLT"])
def test_only_writers_may_choose_what_to_ask_for(slack, user):
    """A teacher, a TA or a senior leader replaying the case holder's form: refused at the door,
    and the form is not redrawn."""
    form = ask_form(slack, "U0PRIYA")
    updates = len(slack.emulator.calls_to("views.update"))
    pushed = len(slack.emulator.calls_to("views.push"))
    assert slack.sender.view_choose(user, form, "ssp_family_ask_for", "meeting").status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.push")) > pushed)
    told = slack.emulator.calls_to("views.push")[-1]
    assert "Only the pupil's case holder or the SENDCo" in str(told.params)
    assert len(slack.emulator.calls_to("views.update")) == updates
    with slack.sessions() as session:
        assert session.scalars(select(Invitation)).all() == []


def test_another_case_holder_choosing_is_refused_and_audited(slack):
    form = ask_form(slack, "U0PRIYA")
    updates = len(slack.emulator.calls_to("views.update"))
    pushed = len(slack.emulator.calls_to("views.push"))
    assert slack.sender.view_choose("U0TOM", form, "ssp_family_ask_for", "meeting").status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.push")) > pushed)
    told = slack.emulator.calls_to("views.push")[-1]
    assert "Only the pupil's case holder or the SENDCo" in str(told.params)
    assert len(slack.emulator.calls_to("views.update")) == updates
    with slack.sessions() as session:
        refusals = session.scalars(select(AuditEvent).where(AuditEvent.action == "refused")).all()
        assert [r.detail for r in refusals] == [
            "ask form refused: not the plan's case holder or a SENDCo"
        ]


def test_a_views_link_still_asks_its_questions(slack):
    family = Family(make_link(slack))
    assert "Tell us your views about Ava" in family.birth_date("4", "3", "2012").text


# --- setting the meeting in Slack --------------------------------------------------------------

TUESDAY = "2026-12-01"  # a school day, a week after the clock's Monday 23 November 2026
MEETING = {
    "meeting_date": TUESDAY,
    "meeting_time": "15:30",
    "meeting_place": "Room 4",
    "meeting_link": None,
    "meeting_who": "Ms Shah (case holder)\nMr Ali (speech and language therapist)",
}


def meeting_form(slack, user: str = "U0PRIYA") -> dict:
    return choose(slack, user, ask_form(slack, user), "meeting")


def meeting_state(view: dict, **typed) -> dict:
    """What the meeting's inputs hold when submitted: as shown, changed by `typed`."""
    kinds = {"datepicker": ("selected_date", "initial_date"),
             "timepicker": ("selected_time", "initial_time"),
             "plain_text_input": ("value", "initial_value"),
             "url_text_input": ("value", "initial_value")}  # fmt: skip
    state = {}
    for block in view["blocks"]:
        element = block.get("element") or {}
        if block.get("type") != "input" or element.get("type") not in kinds:
            continue
        key, initial = kinds[element["type"]]
        value = typed.get(block["block_id"], element.get(initial))
        state[block["block_id"]] = {"type": element["type"], key: value}
    return state


def set_meeting(slack, user: str = "U0PRIYA", view: dict | None = None, **typed) -> dict:
    view = view or meeting_form(slack, user)
    reply = slack.sender.submit(user, view, meeting_state(view, **{**MEETING, **typed}))
    assert reply.status == 200
    return reply.json()


def meeting_link(slack, user: str = "U0PRIYA", **typed) -> str:
    made = set_meeting(slack, user, **typed)
    assert made["response_action"] == "update", made
    (block,) = [b for b in made["view"]["blocks"] if b.get("block_id") == "link"]
    return block["text"]["text"]


def test_the_case_holder_sets_the_meeting_and_makes_a_link(slack):
    form = meeting_form(slack)
    assert block_ids(form) == [
        "ask_for", "meeting_date", "meeting_time", "meeting_place", "meeting_link", "meeting_who",
    ]  # fmt: skip
    link = meeting_link(slack)
    assert link.startswith(slack.public_url + "/f/")
    with slack.sessions() as session:
        (meeting,) = session.scalars(select(ReviewMeeting)).all()
        assert (str(meeting.meeting_date), f"{meeting.meeting_time:%H:%M}") == (TUESDAY, "15:30")
        assert (meeting.place, meeting.call_link, meeting.cycle_number) == ("Room 4", None, 2)
        (link_row,) = session.scalars(select(Invitation)).all()
        assert link_row.purpose == InvitationPurpose.MEETING and link_row.questions == ""
        timeline = [t.summary for t in session.scalars(select(TimelineEntry))]
        assert "Priya Shah set the review meeting: Tuesday 1 December 2026 at 3:30pm, Room 4" in (
            timeline
        )
        details = [a.detail for a in session.scalars(select(AuditEvent))]
        assert "set review meeting 1 (revision 1)" in details

    # The form starts from what was set, the next time.
    again = meeting_form(slack)
    inputs = {b["block_id"]: b["element"] for b in again["blocks"] if b["type"] == "input"}
    assert inputs["meeting_date"]["initial_date"] == TUESDAY
    assert inputs["meeting_time"]["initial_time"] == "15:30"
    assert inputs["meeting_place"]["initial_value"] == "Room 4"
    assert "Mr Ali" in inputs["meeting_who"]["initial_value"]
    # The plan's overview shows it, to the case holder.
    overview = open_plan(slack, "U0PRIYA", "plan Ava Stone")
    (shown,) = [b for b in overview["blocks"] if b.get("block_id") == "meeting"]
    assert "Tuesday 1 December 2026 at 3:30pm, Room 4" in shown["text"]["text"]
    assert "No reply from the family yet" in shown["text"]["text"]


@pytest.mark.parametrize(
    ("typed", "block", "said"),
    [
        ({"meeting_date": "2026-11-28"}, "meeting_date", "Saturday 28 November 2026 is a Saturday"),
        ({"meeting_date": "2026-11-20"}, "meeting_date", "The meeting can't be in the past."),
        ({"meeting_date": "2026-12-02"}, "meeting_date", "The school is closed on Wednesday"),
        ({"meeting_date": None}, "meeting_date", "Choose the day of the meeting."),
        ({"meeting_time": None}, "meeting_time", "Choose the time of the meeting."),
        ({"meeting_place": None}, "meeting_place", "or a call link (or both)"),
        ({"meeting_link": "teams.example/abc"}, "meeting_link", "starting https://"),
        ({"meeting_place": "x" * 201}, "meeting_place", "Keep the place to 200 characters."),
    ],
)
def test_bad_details_are_refused_beside_the_field(slack, typed, block, said):
    with slack.sessions.begin() as session:
        session.add(SchoolCalendarEntry(
            school_id=slack.ids["school"], kind=CalendarKind.CLOSURE, name="INSET day",
            start_date=date(2026, 12, 2), end_date=date(2026, 12, 2),
        ))  # fmt: skip
    reply = set_meeting(slack, **typed)
    assert reply["response_action"] == "errors"
    assert said in reply["errors"][block]
    with slack.sessions() as session:
        assert session.scalars(select(ReviewMeeting)).all() == []
        assert session.scalars(select(Invitation)).all() == []


def test_a_call_link_alone_will_do(slack):
    link = meeting_link(slack, meeting_place=None, meeting_link="https://meet.example/ava-review")
    page = Family(link).birth_date("4", "3", "2012")
    assert 'href="https://meet.example/ava-review"' in page.text


@pytest.mark.parametrize("user", ["U0LEE", "U0TA", "U0SLT", "U0TOM"])
def test_only_the_case_holder_or_sendco_may_set_the_meeting(slack, user):
    """The case holder's meeting form replayed by a teacher, a TA, a senior leader or another
    case holder: refused, nothing saved; the other case holder's refusal is audited."""
    form = meeting_form(slack)
    reply = set_meeting(slack, user, view=form, meeting_place="Somewhere else")
    assert "Only the pupil's case holder or the SENDCo" in str(reply)
    with slack.sessions() as session:
        assert session.scalars(select(ReviewMeeting)).all() == []
        assert session.scalars(select(Invitation)).all() == []
        refused = session.scalars(select(AuditEvent).where(AuditEvent.action == "refused")).all()
        if user == "U0TOM":
            assert [r.detail for r in refused] == [
                "set meeting refused: not the plan's case holder or a SENDCo"
            ]


def test_the_sendco_may_set_the_meeting(slack):
    assert meeting_link(slack, "U0SENDCO").startswith(slack.public_url)


# --- the family's page -------------------------------------------------------------------------

FAMILY = {"contributor_name": "Mrs Stone", "contributor_relationship": "mother"}


def read_it(slack, dm: dict, user: str = "U0PRIYA") -> dict:
    button = next(b for b in buttons_of(dm) if b["action_id"] == "ssp_meeting_reply_read")
    opened = len(slack.emulator.calls_to("views.open"))
    assert slack.sender.button(user, button["action_id"], button["value"], message=dm).status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    return slack.emulator.open_views(user)[-1]


def test_the_family_confirms_and_the_case_holder_reads_it(slack, caplog):
    caplog.set_level(logging.DEBUG)
    link = meeting_link(slack)
    token = link.rsplit("/", 1)[1]
    family = Family(link)
    first = family.open()
    shown = without_secrets(first.text)
    assert "Ava" not in shown and "Room 4" not in shown  # nothing before the check

    page = family.birth_date("4", "3", "2012")
    assert page.url.endswith("/meeting")
    assert "The review meeting for Ava" in page.text
    for shown in ("Tuesday 1 December 2026 at 3:30pm", "Room 4", "Mr Ali (speech and language"):
        assert shown in page.text
    assert "Stone" not in without_secrets(page.text).replace("Mrs Stone", "")  # the first name only
    # The views form is not this link's page.
    assert family.open("/form").url.endswith("/meeting")

    with slack.sessions.begin() as session:
        # This answer uses the link up: the thank-you page is still shown.
        session.scalar(select(Invitation)).max_submissions = 1
    sent = family.post("/meeting", {**FAMILY, "can_come": "yes", "join_by": "phone",
                                    "note": "I will need to leave by 4:15pm"})  # fmt: skip
    assert sent.status_code == 200 and sent.url.endswith("/meeting/sent")
    assert "Thank you: your answer was sent" in sent.text
    assert "Tuesday 1 December 2026 at 3:30pm" in sent.text and "Room 4" in sent.text

    dm = latest_dm(slack, "U0PRIYA", "review meeting")
    assert text_of(dm).startswith("The family replied about Ava Stone's review meeting.")
    assert "phone" not in text_of(dm) and "4:15" not in text_of(dm)
    shown = modal_text(read_it(slack, dm))
    assert "from Mrs Stone (mother)" in shown
    assert "Yes" in shown and "By phone" in shown and "I will need to leave by 4:15pm" in shown

    overview = open_plan(slack, "U0PRIYA", "plan Ava Stone")
    (block,) = [b for b in overview["blocks"] if b.get("block_id") == "meeting"]
    assert "Confirmed by Mrs Stone (mother), joining by phone" in block["text"]["text"]
    with slack.sessions() as session:
        (reply,) = session.scalars(select(MeetingReply)).all()
        assert (reply.can_come, reply.join_by, reply.other_times) == (True, MeetingJoin.PHONE, None)
        assert session.scalar(select(Invitation)).submissions == 1
        actions = [(a.action, a.via, a.detail) for a in session.scalars(select(AuditEvent))]
        assert ("create", "family page", "sent meeting reply 1") in actions
        assert ("read", "family link (Slack)", "read meeting reply 1") in actions
    ours = [r for r in caplog.records if not r.name.startswith("urllib3")]
    assert ours and not [r for r in ours if token in r.getMessage()]


def test_the_family_asks_for_another_time(slack):
    family = Family(meeting_link(slack))
    family.birth_date("4", "3", "2012")
    missing = family.post("/meeting", {**FAMILY, "can_come": "another_time"})
    assert missing.status_code == 400
    assert "Tell us which days and times would suit you." in missing.text
    assert 'href="#other_times"' in missing.text
    sent = family.post("/meeting", {**FAMILY, "can_come": "another_time",
                                    "other_times": "Any weekday after 3pm"})  # fmt: skip
    assert "your answer was sent" in sent.text
    dm = latest_dm(slack, "U0PRIYA", "review meeting")
    shown = modal_text(read_it(slack, dm))
    assert "They need another time" in shown and "Any weekday after 3pm" in shown
    overview = open_plan(slack, "U0PRIYA", "plan Ava Stone")
    (block,) = [b for b in overview["blocks"] if b.get("block_id") == "meeting"]
    assert "Asked for another time: Mrs Stone (mother)" in block["text"]["text"]


@pytest.mark.parametrize(
    ("typed", "field", "said"),
    [
        ({}, "can_come", "Choose whether you can come to the meeting."),
        ({"can_come": "maybe"}, "can_come", "Choose whether you can come to the meeting."),
        ({"can_come": "yes"}, "join_by", "Choose how you will join the meeting."),
        ({"can_come": "yes", "join_by": "pigeon"}, "join_by", "Choose how you will join"),
        ({"can_come": "yes", "join_by": "video", "other_times": "Fridays"}, "other_times",
         "You said you can come"),
        ({"can_come": "another_time", "other_times": "x" * 1001}, "other_times",
         "Please keep this to 1,000 characters."),
        ({"can_come": "yes", "join_by": "video", "note": "x" * 2001}, "note",
         "Please keep this to 2,000 characters."),
        ({"can_come": "yes", "join_by": "video", "contributor_name": ""}, "contributor_name",
         "Enter your name."),
        ({"can_come": "yes", "join_by": "video", "contributor_relationship": ""},
         "contributor_relationship", "Enter your relationship to the child."),
        ({"can_come": "yes", "join_by": "video", "contributor_name": "x" * 101},
         "contributor_name", "Field cannot be longer than 100 characters."),
    ],
)  # fmt: skip
def test_wrong_answers_are_shown_beside_their_field(slack, typed, field, said):
    family = Family(meeting_link(slack))
    family.birth_date("4", "3", "2012")
    page = family.post("/meeting", {**FAMILY, **typed})
    assert page.status_code == 400
    assert f'id="{field}-error"' in page.text and said in page.text
    assert f'href="#{field}"' in page.text  # the error summary links to it
    # What was typed is kept.
    if typed.get("other_times") and len(typed["other_times"]) < 100:
        assert typed["other_times"] in page.text
    with slack.sessions() as session:
        assert session.scalars(select(MeetingReply)).all() == []
        assert session.scalar(select(Invitation)).submissions == 0


def test_the_meeting_page_needs_the_date_of_birth_and_csrf(slack):
    family = Family(meeting_link(slack))
    before = family.open("/meeting")
    assert "What is your child's date of birth?" in before.text
    assert "Room 4" not in without_secrets(before.text)
    family.birth_date("4", "3", "2012")
    refused = family.post("/meeting", {**FAMILY, "can_come": "yes", "join_by": "phone"},
                          csrf=False)  # fmt: skip
    assert refused.status_code == 400 and "timed out" in refused.text
    with slack.sessions() as session:
        assert session.scalars(select(MeetingReply)).all() == []
    # The thank-you page shows nothing to a browser that sent nothing.
    assert NOT_AVAILABLE in Family(family.link).open("/meeting/sent").text


def test_a_views_link_does_not_open_the_meeting_page(slack):
    family = Family(make_link(slack))
    family.birth_date("4", "3", "2012")
    assert NOT_AVAILABLE in family.open("/meeting").text


def test_changed_details_keep_the_reply_as_about_the_earlier_ones(slack):
    family = Family(meeting_link(slack))
    family.birth_date("4", "3", "2012")
    family.post("/meeting", {**FAMILY, "can_come": "yes", "join_by": "in_person"})
    dm = latest_dm(slack, "U0PRIYA", "review meeting")
    form = meeting_form(slack)
    assert "The family's latest answer: Confirmed by Mrs Stone (mother), coming in person." in (
        modal_text(form)
    )
    set_meeting(slack, view=form, meeting_time="09:15", meeting_place="The library")
    with slack.sessions() as session:
        (meeting,) = session.scalars(select(ReviewMeeting)).all()
        assert meeting.revision == 2 and meeting.place == "The library"
        assert len(session.scalars(select(MeetingReply)).all()) == 1
    shown = modal_text(read_it(slack, dm))
    assert "(Tuesday 1 December 2026 at 3:30pm, Room 4)" in shown
    assert "about the earlier details" in shown
    assert "Tuesday 1 December 2026 at 9:15am, The library" in shown
    overview = open_plan(slack, "U0PRIYA", "plan Ava Stone")
    (block,) = [b for b in overview["blocks"] if b.get("block_id") == "meeting"]
    assert "coming in person, about the earlier details" in block["text"]["text"]


@pytest.mark.parametrize("user", ["U0TOM", "U0LEE", "U0TA", "U0SLT"])
def test_only_the_case_holder_or_sendco_may_read_the_reply(slack, user):
    family = Family(meeting_link(slack))
    family.birth_date("4", "3", "2012")
    family.post("/meeting", {**FAMILY, "can_come": "yes", "join_by": "phone",
                             "note": "Dad works nights"})  # fmt: skip
    latest_dm(slack, "U0PRIYA", "review meeting")
    before = len(slack.emulator.responses_to(user))
    opened = len(slack.emulator.calls_to("views.open"))
    assert slack.sender.button(user, "ssp_meeting_reply_read", "1").status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.responses_to(user)) > before)
    said = text_of(slack.emulator.responses_to(user)[-1])
    assert said.startswith("Only") and "Dad works" not in said
    assert len(slack.emulator.calls_to("views.open")) == opened
    # Nor does the plan's overview show the meeting to anyone else who may open the plan.
    if user == "U0SLT":
        overview = open_plan(slack, user, "plan Ava Stone")
        assert "meeting" not in [b.get("block_id") for b in overview["blocks"]]
    with slack.sessions() as session:
        reads = session.scalars(
            select(AuditEvent).where(AuditEvent.detail == "read meeting reply 1")
        ).all()
        assert reads == []
        if user == "U0TOM":
            refused = session.scalars(
                select(AuditEvent).where(AuditEvent.action == "refused")
            ).all()
            assert [r.detail for r in refused] == [
                "read meeting reply refused: not the plan's case holder or a SENDCo"
            ]


def test_the_review_notes_mention_the_meeting(slack):
    from tests.test_reviews import review_modal

    family = Family(meeting_link(slack))
    family.birth_date("4", "3", "2012")
    family.post("/meeting", {**FAMILY, "can_come": "yes", "join_by": "video"})
    with slack.sessions() as session:
        plan_id = session.scalar(select(Plan.id).where(Plan.pupil_id == slack.ids["ava"]))
    modal = review_modal(slack, "U0PRIYA", "ssp_review_open", str(plan_id))
    (block,) = [b for b in modal["blocks"] if b.get("block_id") == "meeting_date"]
    assert block["hint"]["text"] == (
        "Set with the family for Tuesday 1 December 2026 at 3:30pm, Room 4. Confirmed by "
        "Mrs Stone (mother), joining by video call."
    )


@on_postgresql
def test_the_meeting_form_stays_open_while_the_database_is_cut(emulator, sessions, db_url, clock):
    from sqlalchemy.engine import make_url

    from bot import db
    from handlers.context import wait_for_background_work
    from handlers.scheduler import wait_for_deliveries

    url = make_url(db_url)
    with DbProxy((url.host or "127.0.0.1", url.port or 5432)) as proxy:
        emulator.reset()
        with sessions.begin() as session:
            build_school(session, emulator)
        engine = db.make_engine(proxy.url(db_url))
        app = start_public_app(emulator, db.make_session_factory(engine), clock)
        try:
            form = meeting_form(app)
            proxy.cut()
            answer = app.sender.submit("U0PRIYA", form, meeting_state(form, **MEETING)).json()
            assert answer["response_action"] == "errors", answer
            assert "Nothing was saved" in answer["errors"]["ask_for"]
            proxy.passes()
            with sessions() as session:
                assert session.scalars(select(ReviewMeeting)).all() == []
                assert session.scalars(select(Invitation)).all() == []
        finally:
            proxy.passes()
            app.server.stop()
            wait_for_background_work()
            wait_for_deliveries()
            engine.dispose()
