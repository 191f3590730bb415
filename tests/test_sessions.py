"""Intervention sessions logged in one tap: the sweep's DM after the day's sessions, its buttons
and forms, and `/ssp sessions`, through the signed endpoint and the emulator on SQLite and
PostgreSQL.

Brookside High (tests/slack_harness.py). Here Sam Jones (teaching assistant, U0TA) runs "Lexia,
Year 9" on Mondays and Wednesdays at 08:40 for Ava, Ben and Cara, and "Toe by Toe" on Mondays at
13:00 for Dev; Lee Chan (teacher) runs "Maths catch-up" on Mondays at 09:00 for Dev. Monday 23
November 2026 is the first day; London is on UTC in November.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import func, select

from bot.services import delivery, session_log
from handlers.scheduler import wait_for_deliveries
from models import (
    AuditEvent,
    InterventionGroup,
    InterventionSession,
    Prompt,
    PromptKind,
    PromptStatus,
    PupilDisplay,
    School,
    SessionPupil,
    SessionStatus,
)
from tests import factories
from tests.slack_harness import buttons_of, start_app, text_of

MONDAY = date(2026, 11, 23)


def add_groups(slack, starts_on: date = MONDAY) -> dict[str, int]:
    with slack.sessions.begin() as session:
        school = session.get(School, slack.ids["school"])
        lexia = factories.library_item(session, school, "Lexia")
        toe = factories.library_item(session, school, "Toe by Toe", group_size=1)
        maths = factories.library_item(session, school, "Maths catch-up")
        pupils = {
            key: session.get(factories.Pupil, slack.ids[key])
            for key in ("ava", "ben", "cara", "dev")
        }
        ta = session.get(factories.Staff, slack.ids["ta"])
        lee = session.get(factories.Staff, slack.ids["lee"])
        made = {
            "lexia": factories.group(
                session, school, lexia, ta, pupils["ava"], pupils["ben"], pupils["cara"],
                name="Lexia, Year 9", weekdays="1,3", starts_on=starts_on,
            ),
            "toe": factories.group(
                session, school, toe, ta, pupils["dev"], name="Toe by Toe", weekdays="1",
                starts_at=time(13, 0), minutes=20, starts_on=starts_on,
            ),
            "maths": factories.group(
                session, school, maths, lee, pupils["dev"], name="Maths catch-up",
                weekdays="1", starts_at=time(9, 0), starts_on=starts_on,
            ),
        }  # fmt: skip
        return {key: group.id for key, group in made.items()}


def session_dms(slack, user: str) -> list[dict]:
    wait_for_deliveries()
    return [m for m in slack.emulator.messages_to(user) if "sessions" in m["text"].lower()]


def sittings(slack, group_id: int | None = None) -> list[InterventionSession]:
    from sqlalchemy.orm import selectinload

    with slack.sessions() as session:
        query = select(InterventionSession).options(selectinload(InterventionSession.pupils))
        if group_id is not None:
            query = query.where(InterventionSession.group_id == group_id)
        return list(session.scalars(query.order_by(InterventionSession.id)))


def session_prompts(slack) -> list[Prompt]:
    with slack.sessions() as session:
        return list(
            session.scalars(
                select(Prompt).where(Prompt.kind == PromptKind.SESSION_LOG).order_by(Prompt.id)
            )
        )


def button(message: dict, label: str, nth: int = 0) -> dict:
    return [b for b in buttons_of(message) if b["text"]["text"] == label][nth]


def tap(slack, user: str, pressed: dict, dm: dict | None = None, **kwargs) -> dict:
    """Taps a button (in the DM `dm`, or an ephemeral list); returns the answer sent back."""
    before = len(slack.emulator.responses_to(user))
    reply = slack.sender.button(user, pressed["action_id"], pressed["value"], message=dm, **kwargs)
    assert reply.status == 200, reply
    slack.emulator.wait_for(lambda calls: len(slack.emulator.responses_to(user)) > before)
    return slack.emulator.responses_to(user)[-1]


def stored(slack, dm: dict) -> dict:
    """The DM as it now stands in Slack's history."""
    return next(
        m for m in slack.emulator.messages if m["channel"] == dm["channel"] and m["ts"] == dm["ts"]
    )


def open_form(slack, user: str, pressed: dict, dm: dict | None = None) -> dict:
    opened = len(slack.emulator.calls_to("views.open"))
    reply = slack.sender.button(user, pressed["action_id"], pressed["value"], message=dm)
    assert reply.status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    return slack.emulator.open_views()[-1]


def reason_state(view: dict, reason: str | None, other: str | None = None) -> dict:
    block = next(b for b in view["blocks"] if b.get("block_id") == "reason")
    option = next((o for o in block["element"]["options"] if o["value"] == reason), None)
    return {
        "reason": {"type": "radio_buttons", "selected_option": option},
        "other": {"type": "plain_text_input", "value": other},
    }


def absent_state(view: dict, *names: str) -> dict:
    block = next(b for b in view["blocks"] if b.get("block_id") == "absent")
    chosen = [o for o in block["element"]["options"] if o["text"]["text"] in names]
    return {"absent": {"type": block["element"]["type"], "selected_options": chosen}}


# --- the sweep ----------------------------------------------------------------------------------


def test_one_dm_per_person_once_their_last_session_today_has_ended(slack, tick):
    groups = add_groups(slack)
    tick("2026-11-23T10:00:00+00:00")
    # Lee's one session ended at 09:30; Sam's Toe by Toe is still to come at 13:00.
    [lee_dm] = session_dms(slack, "U0LEE")
    assert "Maths catch-up (09:00) — 1 pupil" in text_of(lee_dm)
    assert "Dev" not in json.dumps(lee_dm)
    assert session_dms(slack, "U0TA") == []
    assert {s.group_id for s in sittings(slack)} == set(groups.values())

    tick("2026-11-23T13:30:00+00:00")
    [sam_dm] = session_dms(slack, "U0TA")
    said = text_of(sam_dm)
    assert "Your sessions today" in said
    assert "Lexia, Year 9 (08:40) — 3 pupils" in said
    assert "Toe by Toe (13:00) — 1 pupil" in said
    # Slack keeps the DM: it names no pupil beside an intervention (the forms and `/ssp
    # sessions`, not kept, name them), and nothing of their needs or plans.
    assert not {"Ava", "Ben", "Cara", "Dev"} & set(json.dumps(sam_dm).replace('"', " ").split())
    assert "Slow reading" not in json.dumps(sam_dm) and "A8201" not in json.dumps(sam_dm)
    labels = [b["text"]["text"] for b in buttons_of(sam_dm)]
    assert labels == ["Delivered", "Delivered, someone absent", "Not delivered"] * 2
    action_ids = [b["action_id"] for b in buttons_of(sam_dm)]
    assert len(set(action_ids)) == len(action_ids)

    # Swept again that day and the next: no second DM, no second row.
    tick("2026-11-23T14:00:00+00:00")
    tick("2026-11-23T15:00:00+00:00")
    assert len(session_dms(slack, "U0TA")) == 1 and len(session_dms(slack, "U0LEE")) == 1
    assert len(sittings(slack)) == 3
    prompts = session_prompts(slack)
    assert [(p.recipient_id, p.status) for p in prompts] == [
        (slack.ids["lee"], PromptStatus.SENT),
        (slack.ids["ta"], PromptStatus.SENT),
    ]
    by_staff = {p.recipient_id: p.id for p in prompts}
    assert {s.staff_id: s.prompt_id for s in sittings(slack)} == by_staff


def test_no_sessions_or_dm_on_a_weekend_a_closure_or_a_holiday(slack, tick, terms):
    with slack.sessions.begin() as session:
        school = session.get(School, slack.ids["school"])
        item = factories.library_item(session, school, "Lexia")
        ta = session.get(factories.Staff, slack.ids["ta"])
        ava = session.get(factories.Pupil, slack.ids["ava"])
        group_id = factories.group(
            session, school, item, ta, ava, weekdays="1,2,3,4,5,6,7", starts_on=date(2026, 11, 27)
        ).id
    # Friday 27 November is an INSET day; the weekend; Christmas holidays from 19 December.
    for when in ("2026-11-27T15:00:00", "2026-11-28T15:00:00", "2026-11-29T15:00:00",
                 "2026-12-21T15:00:00"):  # fmt: skip
        tick(when + "+00:00")
    assert session_dms(slack, "U0TA") == []
    assert sittings(slack, group_id) == []
    # They catch up, in one DM, on the next school day (5 January), once its session has ended.
    tick("2027-01-05T08:00:00+00:00")
    assert session_dms(slack, "U0TA") == []
    held = [s.held_on for s in sittings(slack, group_id)]
    assert held[:3] == [date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2)]
    assert date(2026, 12, 5) not in held and date(2026, 12, 21) not in held
    assert (len(held), held[-2:]) == (16, [date(2026, 12, 18), date(2027, 1, 5)])
    tick("2027-01-05T09:30:00+00:00")
    [dm] = session_dms(slack, "U0TA")
    assert "Your sessions not yet logged" in text_of(dm)
    # The last four weeks' (8 December on): older ones are past asking about.
    assert text_of(dm).count("Lexia") == 10
    assert "Tue 8 Dec 2026, 08:40" in text_of(dm) and "Mon 7 Dec" not in text_of(dm)
    assert len(session_prompts(slack)) == 1


def test_sessions_missed_while_the_bot_was_down_are_caught_up(slack, tick):
    groups = add_groups(slack, starts_on=date(2026, 11, 16))
    tick("2026-11-23T15:00:00+00:00")
    lexia = sittings(slack, groups["lexia"])
    assert [s.held_on for s in lexia] == [date(2026, 11, d) for d in (16, 18, 23)]
    [dm] = session_dms(slack, "U0TA")
    said = text_of(dm)
    assert "Lexia, Year 9 (Mon 16 Nov 2026, 08:40)" in said
    assert said.count("Lexia, Year 9") == 3 and said.count("Toe by Toe") == 2
    assert len(session_prompts(slack)) == 2  # Sam and Lee: one each


def test_a_group_added_after_todays_dm_is_asked_about_the_next_school_day(slack, tick):
    add_groups(slack)
    tick("2026-11-23T10:00:00+00:00")
    [first] = session_dms(slack, "U0LEE")
    with slack.sessions.begin() as session:
        school = session.get(School, slack.ids["school"])
        item = factories.library_item(session, school, "Spelling")
        lee = session.get(factories.Staff, slack.ids["lee"])
        factories.group(
            session, school, item, lee, session.get(factories.Pupil, slack.ids["cara"]),
            name="Spelling club", weekdays="1", starts_at=time(9, 30), starts_on=MONDAY,
        )  # fmt: skip
    tick("2026-11-23T11:00:00+00:00")
    assert len(session_dms(slack, "U0LEE")) == 1
    assert "Spelling club" not in text_of(first)
    tick("2026-11-24T08:35:00+00:00")
    [_, later] = session_dms(slack, "U0LEE")
    assert "Spelling club (Mon 23 Nov 2026, 09:30)" in text_of(later)
    assert "Maths catch-up" not in text_of(later)


def test_a_slack_error_posting_the_dm_is_retried_and_it_goes_once(slack, tick):
    add_groups(slack)
    tick("2026-11-23T10:00:00+00:00")  # the morning's other messages, and Lee's DM
    # Slack fails Sam's DM (a server error): it stays pending, to be tried again.
    slack.emulator.fail_next("chat.postMessage", "internal_error", status=503)
    tick("2026-11-23T13:30:00+00:00")
    [sam] = [p for p in session_prompts(slack) if p.recipient_id == slack.ids["ta"]]
    assert (sam.status, sam.attempts) == (PromptStatus.PENDING, 1)
    assert session_dms(slack, "U0TA") == []
    tick("2026-11-23T13:40:00+00:00")
    tick("2026-11-23T14:40:00+00:00")
    assert len(session_dms(slack, "U0TA")) == 1 and len(session_dms(slack, "U0LEE")) == 1
    assert {p.status for p in session_prompts(slack)} == {PromptStatus.SENT}


def test_two_sweeps_at_once_make_each_session_and_dm_once(slack, db_url):
    from bot import db

    if db_url.startswith("sqlite"):
        pytest.skip(
            "SQLite has one writer: run one sweeping process at a time (bot.services.outbox)"
        )
    add_groups(slack)
    now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    barrier, errors = threading.Barrier(2), []

    def sweep() -> None:
        engine = db.make_engine(db_url)
        try:
            own = db.make_session_factory(engine)
            barrier.wait()
            with db.unit_of_work(own) as session:
                school = session.get(School, slack.ids["school"])
                session_log.create_due_prompts(session, school, now)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(sittings(slack)) == 3
    prompts = session_prompts(slack)
    assert sorted(p.recipient_id for p in prompts) == sorted([slack.ids["ta"], slack.ids["lee"]])
    assert all(s.prompt_id in {p.id for p in prompts} for s in sittings(slack))


# --- answering ----------------------------------------------------------------------------------


@pytest.fixture
def asked(slack, tick) -> dict:
    """Monday's sweep at 13:30: Sam's and Lee's DMs."""
    groups = add_groups(slack)
    tick("2026-11-23T13:30:00+00:00")
    [sam] = session_dms(slack, "U0TA")
    [lee] = session_dms(slack, "U0LEE")
    return {"sam": sam, "lee": lee, **groups}


def test_delivered_in_one_tap_then_changed(slack, asked):
    dm = asked["sam"]
    tap(slack, "U0TA", button(dm, "Delivered"), dm)
    [lexia] = sittings(slack, asked["lexia"])
    assert lexia.status == SessionStatus.DELIVERED
    assert not any(p.absent for p in lexia.pupils)
    assert lexia.logged_by_id == slack.ids["ta"] and lexia.logged_at is not None
    now = stored(slack, dm)
    assert "Delivered — everyone there" in text_of(now)
    # Lexia offers "Change"; Toe by Toe still its three buttons.
    labels = [b["text"]["text"] for b in buttons_of(now)]
    assert labels == ["Change", "Delivered", "Delivered, someone absent", "Not delivered"]
    with slack.sessions() as session:
        assert session.get(Prompt, lexia.prompt_id).answered_at is not None

    # A second tap (or Slack's retry) changes nothing: the first answer's time and audit stand.
    logged_at = lexia.logged_at
    tap(slack, "U0TA", {**button(dm, "Delivered"), "value": f"{lexia.id}:p{lexia.prompt_id}",
                        "action_id": f"ssp_session_delivered:{lexia.id}"}, dm)  # fmt: skip
    assert sittings(slack, asked["lexia"])[0].logged_at == logged_at
    with slack.sessions() as session:
        logged = session.scalars(
            select(AuditEvent).where(AuditEvent.detail == "session logged: delivered")
        ).all()
    assert len(logged) == 1

    tap(slack, "U0TA", button(now, "Change"), now)
    again = stored(slack, dm)
    assert [b["text"]["text"] for b in buttons_of(again)][:3] == [
        "Delivered", "Delivered, someone absent", "Not delivered"
    ]  # fmt: skip
    assert sittings(slack, asked["lexia"])[0].status == SessionStatus.DELIVERED  # unchanged yet


def test_some_pupils_absent(slack, asked):
    dm = asked["sam"]
    form = open_form(slack, "U0TA", button(dm, "Delivered, someone absent"), dm)
    assert "Lexia, Year 9" in text_of({"blocks": form["blocks"]})
    nobody = slack.sender.submit("U0TA", form, absent_state(form)).json()
    assert nobody["response_action"] == "errors" and "absent" in nobody["errors"]
    updates = len(slack.emulator.calls_to("chat.update"))
    done = slack.sender.submit("U0TA", form, absent_state(form, "Ava Stone")).json()
    assert done["response_action"] == "update"
    [lexia] = sittings(slack, asked["lexia"])
    assert lexia.status == SessionStatus.DELIVERED
    absent = {p.pupil_id for p in lexia.pupils if p.absent}
    assert absent == {slack.ids["ava"]}
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("chat.update")) > updates)
    assert "Delivered — 1 absent" in text_of(stored(slack, dm))
    assert "Ava" not in json.dumps(stored(slack, dm))


def test_a_big_group_ticks_absences_from_a_menu(slack, tick):
    with slack.sessions.begin() as session:
        school = session.get(School, slack.ids["school"])
        pupils = [
            factories.Pupil(
                school_id=school.id, upn=f"A82012345{n:04d}", first_name=f"Pupil{n}",
                last_name="Big", date_of_birth=date(2012, 1, 1), year_group=9,
                sen_stage=factories.SenStage.SEN_SUPPORT,
            )
            for n in range(12)
        ]  # fmt: skip
        session.add_all(pupils)
        session.flush()
        item = factories.library_item(session, school, "Reading club")
        ta = session.get(factories.Staff, slack.ids["ta"])
        factories.group(session, school, item, ta, *pupils, weekdays="1", starts_on=MONDAY)
    tick("2026-11-23T10:00:00+00:00")
    [dm] = session_dms(slack, "U0TA")
    form = open_form(slack, "U0TA", button(dm, "Delivered, someone absent"), dm)
    field = next(b for b in form["blocks"] if b.get("block_id") == "absent")
    assert field["element"]["type"] == "multi_static_select"  # checkboxes hold 10 at most
    done = slack.sender.submit("U0TA", form, absent_state(form, "Pupil3 Big", "Pupil11 Big"))
    assert done.json()["response_action"] == "update"
    [sitting] = sittings(slack)
    assert sum(p.absent for p in sitting.pupils) == 2


def test_not_delivered_needs_a_reason(slack, asked):
    dm = asked["sam"]
    form = open_form(slack, "U0TA", button(dm, "Not delivered", 1), dm)
    assert "Toe by Toe" in text_of({"blocks": form["blocks"]})
    missing = slack.sender.submit("U0TA", form, reason_state(form, None)).json()
    assert missing == {
        "response_action": "errors",
        "errors": {"reason": "Choose why it didn't happen."},
    }
    other = slack.sender.submit("U0TA", form, reason_state(form, "other")).json()
    assert other["errors"] == {"other": "Say why it didn't happen."}
    assert sittings(slack, asked["toe"])[0].status == SessionStatus.AWAITING
    updates = len(slack.emulator.calls_to("chat.update"))
    done = slack.sender.submit("U0TA", form, reason_state(form, "room")).json()
    assert done["response_action"] == "update"
    [toe] = sittings(slack, asked["toe"])
    assert (toe.status, toe.not_delivered_reason) == (
        SessionStatus.NOT_DELIVERED,
        "Room not available",
    )
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("chat.update")) > updates)
    assert "Not delivered — Room not available" in text_of(stored(slack, dm))


def test_delivery_rates_afterwards_match_direct_counts(slack, asked):
    dm = asked["sam"]
    form = open_form(slack, "U0TA", button(dm, "Delivered, someone absent"), dm)
    updates = len(slack.emulator.calls_to("chat.update"))
    slack.sender.submit("U0TA", form, absent_state(form, "Ava Stone", "Cara Lin"))
    # The DM is redrawn after the form's answer: Lexia's buttons give way to "Change".
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("chat.update")) > updates)
    form = open_form(slack, "U0TA", button(dm, "Not delivered"), dm)
    slack.sender.submit("U0TA", form, reason_state(form, "other", "Fire drill"))
    with slack.sessions() as session:
        school = slack.ids["school"]
        rates = delivery.by_group(session, school)
        pupils = delivery.by_pupil(session, school)
        per_group = (
            select(InterventionSession.group_id, func.count())
            .join(SessionPupil, SessionPupil.session_id == InterventionSession.id)
            .group_by(InterventionSession.group_id)
        )
        planned = dict(session.execute(per_group).all())
        delivered = dict(
            session.execute(
                per_group.where(
                    InterventionSession.status == SessionStatus.DELIVERED,
                    SessionPupil.absent.is_(False),
                )
            ).all()
        )
    assert planned and set(rates) == set(planned)
    for group_id, count in planned.items():
        assert (rates[group_id].planned, rates[group_id].delivered) == (
            count,
            delivered.get(group_id, 0),
        )
    assert (rates[asked["lexia"]].planned, rates[asked["lexia"]].delivered) == (3, 1)
    assert (rates[asked["toe"]].planned, rates[asked["toe"]].delivered) == (1, 0)
    assert pupils[slack.ids["ben"]].delivered == 1 and pupils[slack.ids["ava"]].delivered == 0
    assert pupils[slack.ids["dev"]].awaiting == 1  # Lee's maths, not yet logged


def test_ssp_sessions_logs_a_missed_one_later(slack, asked, clock):
    # Tuesday: Sam lists what is not yet logged, and logs Monday's Lexia.
    clock.now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    listing = slack.ask("U0TA", "sessions")
    said = text_of(listing)
    assert "Lexia, Year 9 (Mon 23 Nov 2026, 08:40)" in said
    assert "Maths catch-up" not in said  # Lee's
    answer = tap(slack, "U0TA", button(listing, "Delivered"))
    assert sittings(slack, asked["lexia"])[0].status == SessionStatus.DELIVERED
    assert "Delivered — everyone there" in text_of(answer)
    assert "Change" in [b["text"]["text"] for b in buttons_of(answer)]
    # The SENDCo may look at and log a colleague's.
    theirs = slack.ask("U0SENDCO", "sessions <@U0LEE>")
    assert "Maths catch-up" in text_of(theirs)
    tap(slack, "U0SENDCO", button(theirs, "Delivered"))
    [maths] = sittings(slack, asked["maths"])
    assert (maths.status, maths.logged_by_id) == (SessionStatus.DELIVERED, slack.ids["sendco"])
    # A teacher may not look at someone else's.
    refused = slack.ask("U0LEE", "sessions <@U0TA>")
    assert "Only the SENDCo" in text_of(refused)
    # All logged: nothing left.
    slack.ask("U0TA", "sessions")
    form = open_form(slack, "U0TA", button(slack.ask("U0TA", "sessions"), "Not delivered"))
    slack.sender.submit("U0TA", form, reason_state(form, "cover"))
    assert "Nothing to log" in text_of(slack.ask("U0TA", "sessions"))
    help_text = text_of(slack.ask("U0TA", "help"))
    assert "/ssp sessions" in help_text


def test_the_dm_names_no_pupil_whatever_the_display_and_the_private_list_does(slack, tick):
    with slack.sessions.begin() as session:
        session.get(School, slack.ids["school"]).pupil_display = PupilDisplay.INITIALS
    add_groups(slack)
    tick("2026-11-23T13:30:00+00:00")
    [dm] = session_dms(slack, "U0TA")
    assert "3 pupils" in text_of(dm)
    assert "Ava" not in json.dumps(dm) and "AS, BS" not in json.dumps(dm)
    # `/ssp sessions` answers only its asker (not kept by Slack): there they are named.
    assert "Ava Stone, Ben Stone, Cara Lin" in text_of(slack.ask("U0TA", "sessions"))


# --- who may answer -----------------------------------------------------------------------------


def test_a_forged_list_value_in_the_dm_never_writes_pupils_into_it(slack, asked):
    """The `/ssp sessions` list names pupils and lives in an ephemeral message; the DM, which
    Slack keeps, must never be replaced by it, whatever a button's value says."""
    from handlers.sessions import SESSIONS_OLDER

    dm = asked["sam"]
    pressed = button(dm, "Delivered")
    session_id = int(pressed["value"].split(":")[0])
    forged = f"{session_id}:s{slack.ids['ta']}.0"
    before = len(slack.emulator.responses_to("U0TA"))
    reply = slack.sender.button("U0TA", pressed["action_id"], forged, message=dm)
    assert reply.status == 200
    slack.emulator.wait_for(
        lambda _: any(s.id == session_id and s.status == SessionStatus.DELIVERED
                      for s in sittings(slack))
    )  # fmt: skip
    paged = slack.sender.button("U0TA", SESSIONS_OLDER, f"s{slack.ids['ta']}.1", message=dm)
    assert paged.status == 200
    with pytest.raises(TimeoutError):  # the listeners go on after their answer: give them time
        slack.emulator.wait_for(
            lambda _: any("Ava" in json.dumps(r)
                          for r in slack.emulator.responses_to("U0TA")[before:]),
            timeout=2,
        )  # fmt: skip
    assert "Ava" not in json.dumps(stored(slack, dm))


def test_nobody_but_the_runner_or_the_sendco_may_log_a_session(slack, asked):
    dm = asked["sam"]
    before = [(s.status, s.logged_by_id) for s in sittings(slack)]
    # Lee (a teacher) and Priya (a case holder) click the buttons of Sam's DM, forwarded.
    for user in ("U0LEE", "U0PRIYA"):
        for label in ("Delivered", "Delivered, someone absent", "Not delivered"):
            answer = tap(slack, user, button(dm, label), dm)
            assert answer["text"] == session_log.NOT_YOURS
            assert answer.get("replace_original") in (None, False)
    assert [(s.status, s.logged_by_id) for s in sittings(slack)] == before
    assert stored(slack, dm)["blocks"] == dm["blocks"]  # Sam's DM untouched
    # Another school's SENDCo, from their own workspace.
    slack.emulator.add_workspace("T0OTHERSCH", "xoxb-other", name="Hillside")
    answer = tap(slack, "U0OTHER", button(dm, "Delivered"), dm, team_id="T0OTHERSCH")
    assert answer["text"] == session_log.NOT_YOURS  # as for a session that doesn't exist
    assert [(s.status, s.logged_by_id) for s in sittings(slack)] == before
    # A form forged by Lee, naming Sam's session, is refused too.
    own = asked["lee"]
    form = open_form(slack, "U0LEE", button(own, "Not delivered"), own)
    forged = dict(form, private_metadata=json.dumps({"session_id": sittings(slack)[0].id}))
    refused = slack.sender.submit("U0LEE", forged, reason_state(form, "room")).json()
    assert session_log.NOT_YOURS.split(",")[0] in json.dumps(refused)
    assert [(s.status, s.logged_by_id) for s in sittings(slack)] == before
    # Sam's Change is refused for Lee once Sam has answered.
    tap(slack, "U0TA", button(dm, "Delivered"), dm)
    answer = tap(slack, "U0LEE", button(stored(slack, dm), "Change"), dm)
    assert answer["text"] == session_log.NOT_YOURS
    with slack.sessions() as session:
        refusals = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "refused", AuditEvent.detail == "session refused"
            )
        ).all()
    assert len(refusals) >= 8
    # The SENDCo may log it for Sam.
    form = open_form(slack, "U0SENDCO", button(dm, "Not delivered"), dm)  # Toe by Toe
    assert slack.sender.submit("U0SENDCO", form, reason_state(form, "staff_absent")).status == 200
    [toe] = sittings(slack, asked["toe"])
    assert (toe.status, toe.logged_by_id) == (SessionStatus.NOT_DELIVERED, slack.ids["sendco"])


@pytest.mark.postgresql
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_when_the_database_is_down_the_not_delivered_form_stays_open(emulator, sessions, db_url):
    from sqlalchemy.engine import make_url

    from bot import db
    from handlers.context import wait_for_background_work
    from tests.db_proxy import DbProxy
    from tests.slack_harness import build_school

    emulator.reset()
    with sessions.begin() as session:
        ids = build_school(session, emulator)
        school = session.get(School, ids["school"])
        item = factories.library_item(session, school, "Lexia")
        ta = session.get(factories.Staff, ids["ta"])
        group = factories.group(
            session, school, item, ta, session.get(factories.Pupil, ids["ava"]),
            weekdays="1", starts_on=MONDAY,
        )  # fmt: skip
        delivery.materialise(session, school.id, load_calendar(session, school.id), MONDAY)
        group_id = group.id
    url = make_url(db_url)
    with DbProxy((url.host or "127.0.0.1", url.port or 5432)) as proxy:
        engine = db.make_engine(proxy.url(db_url))
        slack = start_app(emulator, db.make_session_factory(engine))
        slack.ids = ids
        try:
            listing = slack.ask("U0TA", "sessions")
            form = open_form(slack, "U0TA", button(listing, "Not delivered"))
            proxy.cut()
            answer = slack.sender.submit("U0TA", form, reason_state(form, "room")).json()
            assert answer["response_action"] == "errors"
            assert "Nothing was saved" in answer["errors"]["reason"]
        finally:
            proxy.passes()
            slack.server.stop()
            wait_for_background_work()
            engine.dispose()
    with sessions() as session:
        [sitting] = session.scalars(
            select(InterventionSession).where(InterventionSession.group_id == group_id)
        ).all()
        assert sitting.status == SessionStatus.AWAITING


def load_calendar(session, school_id):
    from bot.services.calendar import load_calendar as load

    return load(session, school_id)


def test_a_group_is_not_a_pupil_list_for_anyone_else(slack, asked):
    """The DM went only to the people who run the groups."""
    wait_for_deliveries()
    told = {user for user in ("U0SENDCO", "U0SLT", "U0PRIYA", "U0TOM") if session_dms(slack, user)}
    assert told == set()
    with slack.sessions() as session:
        assert session.scalar(select(func.count()).select_from(InterventionGroup)) == 3


# --- sessions older than the DM asks about --------------------------------------------------------


def unlogged_in_sql(slack, staff_id: int) -> tuple[int, date]:
    with slack.sessions() as session:
        count, oldest = session.execute(
            select(func.count(), func.min(InterventionSession.held_on)).where(
                InterventionSession.staff_id == staff_id,
                InterventionSession.status == SessionStatus.AWAITING,
            )
        ).one()
    return count, oldest if isinstance(oldest, date) else date.fromisoformat(oldest)


def test_unlogged_sessions_however_old_can_be_found_and_logged_a_page_at_a_time(slack, tick, clock):
    from bot.slack_limits import problems_of

    # Sam's Lexia has met every school day since 7 September; nobody logged any, and the DMs
    # stopped asking about those more than four weeks old.
    with slack.sessions.begin() as session:
        school = session.get(School, slack.ids["school"])
        item = factories.library_item(session, school, "Lexia")
        ta = session.get(factories.Staff, slack.ids["ta"])
        factories.group(
            session, school, item, ta, session.get(factories.Pupil, slack.ids["ava"]),
            name="Lexia, Year 9", weekdays="1,2,3,4,5", starts_on=date(2026, 9, 7),
        )  # fmt: skip
    tick("2026-11-23T15:00:00+00:00")
    [dm] = session_dms(slack, "U0TA")
    assert "Mon 7 Sep 2026" not in text_of(dm)  # the DM still asks about recent ones only
    clock.now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    unlogged, oldest = unlogged_in_sql(slack, slack.ids["ta"])
    assert oldest == date(2026, 9, 7) and unlogged > 2 * session_log.SHOWN
    pages = -(-unlogged // session_log.SHOWN)

    listing = slack.ask("U0TA", "sessions")
    said = text_of(listing)
    assert f"You have {unlogged} sessions not yet logged, the oldest on Mon 7 Sep 2026." in said
    assert f"Page 1 of {pages}" in said
    assert problems_of(listing) == []
    labels = [b["text"]["text"] for b in buttons_of(listing)]
    assert labels.count("Delivered") == session_log.SHOWN
    assert "Older sessions" in labels and "Newer sessions" not in labels
    # Paging back to the oldest: each page within Slack's limits, the old ones dated.
    page = listing
    for number in range(2, pages + 1):
        page = tap(slack, "U0TA", button(page, "Older sessions"))
        assert f"Page {number} of {pages}" in text_of(page)
        assert problems_of(page) == []
    assert "Older sessions" not in [b["text"]["text"] for b in buttons_of(page)]
    assert "Lexia, Year 9 (Mon 7 Sep 2026, 08:40, 11 weeks ago)" in text_of(page)
    # The oldest is logged from there; the same page is redrawn, with it logged.
    answer = tap(slack, "U0TA", button(page, "Delivered"))
    first = min(sittings(slack), key=lambda s: s.held_on)
    assert (first.held_on, first.status) == (date(2026, 9, 7), SessionStatus.DELIVERED)
    assert f"Page {pages} of {pages}" in text_of(answer)
    assert "Delivered — everyone there" in text_of(answer)
    assert f"You have {unlogged - 1} sessions not yet logged" in text_of(answer)

    # The SENDCo sees how many a colleague has, from `/ssp sessions @someone` and the map.
    theirs = text_of(slack.ask("U0SENDCO", "sessions <@U0TA>"))
    assert f"Sam Jones has {unlogged - 1} sessions not yet logged" in theirs
    assert "Sam Jones's sessions not yet logged" in theirs
    mapped = text_of(slack.ask("U0SENDCO", "provision"))
    assert f"Sessions not yet logged: {unlogged - 1}, the oldest on Tue 8 Sep 2026" in mapped
    assert f"@U0TA {unlogged - 1}. `/ssp sessions @someone` lists them" in mapped

    # A teacher clicking Sam's "Older sessions" (a forwarded list) sees nothing of it; nor does
    # a page button whose value is not a list.
    before = len(slack.emulator.responses_to("U0LEE"))
    refused = tap(slack, "U0LEE", button(listing, "Older sessions"))
    assert (
        refused["text"]
        == "Only the SENDCo can log someone else's sessions. Try `/ssp sessions` for your own."
    )
    assert "Lexia" not in json.dumps(refused) and not refused.get("replace_original")
    assert len(slack.emulator.responses_to("U0LEE")) == before + 1
    forged = slack.click("U0TA", "ssp_sessions_older", "p1")
    assert "Lexia" not in json.dumps(forged)
    # A page past the last shows the last.
    last = slack.click("U0TA", "ssp_sessions_older", f"s{slack.ids['ta']}.999")
    assert f"Page {pages} of {pages}" in text_of(last)


@pytest.mark.postgresql
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_when_the_database_is_down_a_page_of_old_sessions_is_answered_calmly(
    emulator, sessions, db_url
):
    from sqlalchemy.engine import make_url

    from bot import db
    from handlers.context import wait_for_background_work
    from tests.db_proxy import DbProxy
    from tests.slack_harness import build_school

    emulator.reset()
    with sessions.begin() as session:
        ids = build_school(session, emulator)
        school = session.get(School, ids["school"])
        item = factories.library_item(session, school, "Lexia")
        ta = session.get(factories.Staff, ids["ta"])
        factories.group(
            session, school, item, ta, session.get(factories.Pupil, ids["ava"]),
            weekdays="1,2,3,4,5", starts_on=date(2026, 9, 7),
        )  # fmt: skip
        delivery.materialise(session, school.id, load_calendar(session, school.id), MONDAY)
    url = make_url(db_url)
    with DbProxy((url.host or "127.0.0.1", url.port or 5432)) as proxy:
        engine = db.make_engine(proxy.url(db_url))
        slack = start_app(emulator, db.make_session_factory(engine))
        slack.ids = ids
        try:
            listing = slack.ask("U0TA", "sessions")
            assert "Page 1 of" in text_of(listing)
            proxy.cut()
            before = len(emulator.responses_to("U0TA"))
            reply = slack.sender.button(
                "U0TA", "ssp_sessions_older", button(listing, "Older sessions")["value"]
            )
            assert reply.status == 200
            said = json.dumps(reply.json()) if reply.body else ""
            if not said:
                emulator.wait_for(lambda calls: len(emulator.responses_to("U0TA")) > before)
                said = json.dumps(emulator.responses_to("U0TA")[-1])
            assert "can't reach its database" in said
            assert "Lexia" not in said
        finally:
            proxy.passes()
            slack.server.stop()
            wait_for_background_work()
            engine.dispose()
