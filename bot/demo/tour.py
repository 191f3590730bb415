"""`sspbot demo`: the real app, an emulated Slack, a synthetic school, and a short guided tour.

Nothing here is a shortcut: requests go over HTTP to the same Bolt app `sspbot serve` runs,
signed as Slack signs them, and the app calls the emulated Web API exactly as it calls Slack.
"""

from __future__ import annotations

import re
import socket
import tempfile
import textwrap
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from typing import TextIO
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import func, select

from bot import db
from bot.access import Viewer, supported_pupil_ids
from bot.config import Settings
from bot.demo.blockkit_text import blocks_to_text
from bot.demo.school import create_demo_school
from bot.demo.slack_emulator import SlackEmulator
from bot.demo.slack_sender import SlackSender
from bot.services.calendar import long_day
from handlers.app import create_app
from handlers.server import HttpServer, link_staff, link_workspace
from models import (
    AuditEvent,
    KeyAdult,
    Plan,
    PlanStatus,
    Pupil,
    Staff,
    StaffRole,
    StaffRoleGrant,
    TeachingGroupPupil,
    TeachingGroupTeacher,
)

SIGNING_SECRET = "demo-signing-secret"
RULE = "─" * 92


def run_tour(
    out: TextIO,
    *,
    pupils: int = 1200,
    seed: int = 2026,
    clock: Callable[[], datetime] | None = None,
) -> int:
    clock = clock or (lambda: datetime.now(UTC))
    today = clock().date()
    with (
        tempfile.TemporaryDirectory() as folder,
        SlackEmulator(team_name="Oakfield Academy") as slack,
    ):
        url = f"sqlite:///{folder}/demo.db"
        engine = db.make_engine(url)
        db.upgrade(engine)
        sessions = db.make_session_factory(engine)
        with db.unit_of_work(sessions) as session:
            summary = create_demo_school(
                session, name="Oakfield Academy (demo)", seed=seed, pupils=pupils, today=today
            )
        _say(out, "SSP Bot demo: the real app, talking to an emulated Slack workspace.")
        _say(out, summary.render())
        with sessions() as session:
            cast = _cast(session, slack, today)
        port = _free_port()
        settings = Settings(
            database_url=url,
            slack_bot_token=slack.bot_token,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=slack.api_url,
            # The families' pages are served by the same app: links point at it.
            public_url=f"http://127.0.0.1:{port}",
        )
        app = create_app(settings, session_factory=sessions, clock=clock)
        workspace = link_workspace(app, sessions)
        _say(out, workspace.describe())
        _say(out, link_staff(app, sessions, workspace))
        server = HttpServer(app, port=port).start()
        try:
            tour = _Tour(out, SlackSender(server.url, SIGNING_SECRET, slack), cast)
            tour.run()
            tour.family(sessions)
            tour.meeting(sessions, today)
            tour.scheduler(sessions, clock)
            tour.session_log(sessions, clock)
            # After the teaching assistant's session: the SENDCo's map counts it.
            tour.provision_map()
        finally:
            server.stop()
        with sessions() as session:
            audited = session.scalar(select(func.count()).select_from(AuditEvent))
        _say(out, RULE)
        _say(
            out,
            (
                "That's the tour. Every plan shown was written to the audit log "
                f"({audited} entries). Nothing was posted in a channel: every answer above was "
                "visible only to the person who asked. To run SSP Bot for real, create the Slack "
                "app from manifest.yaml and run `sspbot serve --socket-mode` (see README.md)."
            ),
        )
        engine.dispose()
    return 0


class _Tour:
    def __init__(self, out: TextIO, sender: SlackSender, cast: dict) -> None:
        self.out, self.sender, self.cast = out, sender, cast
        self.step = 0
        self.names = {uid: user["real_name"] for uid, user in sender.emulator.users.items()}

    def run(self) -> None:
        sendco, holder, teacher = self.cast["sendco"], self.cast["holder"], self.cast["teacher"]
        self.command(sendco, "help")
        self.command(sendco, "caseload")
        self.command(sendco, "overdue")
        self.command(sendco, "priority")
        surname, full_name = self.cast["overdue_pupil"]
        message = self.command(sendco, f"pupil {surname}")
        chosen = [
            b["accessory"]
            for b in message.get("blocks", [])
            if b.get("accessory") and full_name in b["text"]["text"]
        ]
        if "Several pupils match" in message.get("text", "") and chosen:
            self.click(sendco, chosen[0], "Show")
        self.command(holder, "mine")
        self.home(holder)
        if self.cast.get("taught_pupil"):
            self.command(teacher, f"pupil {self.cast['taught_pupil']}")
            # Before a lesson: their classes, and one pupil's passport.
            self.command(teacher, "class")
            self.command(teacher, f"passport {self.cast['taught_pupil']}")
        if self.cast.get("untaught_pupil"):
            self.command(teacher, f"pupil {self.cast['untaught_pupil']}")
        if self.cast.get("assistant") and self.cast.get("assistant_pupil"):
            # A teaching assistant sees a pupil they are key adult to as a teacher does.
            self.command(self.cast["assistant"], f"pupil {self.cast['assistant_pupil']}")
        self.command(self.cast["visitor"], "caseload")

    def family(self, sessions) -> None:
        """The case holder asks a family for their views; the family answers on the web page;
        the answers arrive in Slack and are added to the plan."""
        held = self.cast.get("held_pupil")
        if not held:
            return
        name, birth = held
        holder = self.cast["holder"]
        uid = holder["slack_id"]
        emulator = self.sender.emulator
        pushed = len(emulator.calls_to("views.push"))
        opened = len(emulator.calls_to("views.open"))
        self.sender.command(uid, f"plan {name}")
        emulator.wait_for(lambda calls: len(emulator.calls_to("views.open")) > opened)
        overview = emulator.open_views(uid)[-1]
        ask = next(
            e for b in overview["blocks"] if b.get("block_id") == "ask-views" for e in b["elements"]
        )
        self._heading(holder, f"opens {name}'s plan and clicks [Ask the family]")
        self.sender.view_button(uid, overview, "ssp_ask_family", ask["value"])
        emulator.wait_for(lambda calls: len(emulator.calls_to("views.push")) > pushed)
        form = emulator.open_views(uid)[-1]
        self._show(form)
        questions = next(b for b in form["blocks"] if b.get("block_id") == "questions")
        state = {
            "questions": {
                "type": "checkboxes",
                "selected_options": questions["element"]["options"],
            }
        }
        self._heading(holder, "clicks [Make the link]")
        made = self.sender.submit(uid, form, state).json()["view"]
        self._show(made)
        link = next(b for b in made["blocks"] if b.get("block_id") == "link")["text"]["text"]

        family = {"name": "A parent", "role": "no Slack: a web browser"}
        web = requests.Session()
        self._heading(family, "opens the link")
        page = web.get(link, timeout=10)
        self._page(page.text)
        self._heading(family, f"types the child's date of birth ({birth:%-d %-m %Y})")
        page = web.post(
            link,
            data={"csrf_token": _csrf(page.text), "day": str(birth.day),
                  "month": str(birth.month), "year": str(birth.year)},
            timeout=10,
        )  # fmt: skip
        self._page(page.text)
        self._heading(family, "answers two questions and clicks [Send my answers]")
        page = web.post(
            link + "/form",
            data={
                "csrf_token": _csrf(page.text), "contributor_name": "Mrs Khan",
                "contributor_relationship": "mother",
                "q_working": "Reading together at bedtime.",
                "q_not_working": "Homework often ends in tears.", "q_take_part": "phone",
            },
            timeout=10,
        )  # fmt: skip
        self._page(page.text)

        dm = emulator.wait_for(
            lambda calls: next(
                (m for m in emulator.messages_to(uid) if "sent their views" in m.get("text", "")),
                None,
            )
        )
        self._heading(holder, "gets a direct message")
        self._show(dm)
        read = next(e for b in dm["blocks"] if b["type"] == "actions" for e in b["elements"])
        opened = len(emulator.calls_to("views.open"))
        self._heading(holder, "clicks [Read them]")
        self.sender.button(uid, read["action_id"], read["value"], message=dm)
        emulator.wait_for(lambda calls: len(emulator.calls_to("views.open")) > opened)
        answers = emulator.open_views(uid)[-1]
        self._show(answers)
        self._heading(holder, "clicks [Add to the plan]")
        self._show(self.sender.submit(uid, answers, {}).json()["view"])

    def meeting(self, sessions, today: date) -> None:
        """The case holder sets the review meeting and makes a link; the family confirms on
        their page; the reply arrives in Slack."""
        from bot.services.calendar import load_calendar
        from models import School

        held = self.cast.get("held_pupil")
        if not held:
            return
        name, birth = held
        holder = self.cast["holder"]
        uid = holder["slack_id"]
        emulator = self.sender.emulator
        with sessions() as session:
            school = session.scalars(select(School)).first()
            day = load_calendar(session, school.id).next_school_day(today + timedelta(days=7))
        opened = len(emulator.calls_to("views.open"))
        self.sender.command(uid, f"plan {name}")
        emulator.wait_for(lambda calls: len(emulator.calls_to("views.open")) > opened)
        overview = emulator.open_views(uid)[-1]
        ask = next(
            e for b in overview["blocks"] if b.get("block_id") == "ask-views" for e in b["elements"]
        )
        pushed = len(emulator.calls_to("views.push"))
        self.sender.view_button(uid, overview, "ssp_ask_family", ask["value"])
        emulator.wait_for(lambda calls: len(emulator.calls_to("views.push")) > pushed)
        updated = len(emulator.calls_to("views.update"))
        self._heading(holder, "clicks [Ask the family] and chooses (•) The review meeting")
        self.sender.view_choose(uid, emulator.open_views(uid)[-1], "ssp_family_ask_for", "meeting")
        emulator.wait_for(lambda calls: len(emulator.calls_to("views.update")) > updated)
        form = emulator.open_views(uid)[-1]
        self._show(form)
        state = {
            "meeting_date": {"type": "datepicker", "selected_date": day.isoformat()},
            "meeting_time": {"type": "timepicker", "selected_time": "15:30"},
            "meeting_place": {"type": "plain_text_input", "value": "Room 12, Learning Support"},
            "meeting_link": {"type": "url_text_input", "value": None},
            "meeting_who": {"type": "plain_text_input", "value": "The case holder and the SENDCo"},
        }
        self._heading(holder, f"sets {long_day(day)} at 15:30 and clicks [Make the link]")
        made = self.sender.submit(uid, form, state).json()["view"]
        self._show(made)
        link = next(b for b in made["blocks"] if b.get("block_id") == "link")["text"]["text"]

        family = {"name": "A parent", "role": "no Slack: a web browser"}
        web = requests.Session()
        page = web.get(link, timeout=10)
        self._heading(family, "opens the link and types the child's date of birth")
        page = web.post(
            link,
            data={"csrf_token": _csrf(page.text), "day": str(birth.day),
                  "month": str(birth.month), "year": str(birth.year)},
            timeout=10,
        )  # fmt: skip
        self._page(page.text)
        self._heading(family, "chooses Yes, I can come, By phone, and clicks [Send my answer]")
        page = web.post(
            link + "/meeting",
            data={
                "csrf_token": _csrf(page.text), "can_come": "yes", "join_by": "phone",
                "contributor_name": "Mrs Khan", "contributor_relationship": "mother",
            },
            timeout=10,
        )  # fmt: skip
        self._page(page.text)
        dm = emulator.wait_for(
            lambda calls: next(
                (m for m in emulator.messages_to(uid) if "review meeting" in m.get("text", "")),
                None,
            )
        )
        self._heading(holder, "gets a direct message")
        self._show(dm)
        read = next(e for b in dm["blocks"] if b["type"] == "actions" for e in b["elements"])
        opened = len(emulator.calls_to("views.open"))
        self._heading(holder, "clicks [Read it]")
        self.sender.button(uid, read["action_id"], read["value"], message=dm)
        emulator.wait_for(lambda calls: len(emulator.calls_to("views.open")) > opened)
        self._show(emulator.open_views(uid)[-1])

    def _page(self, html: str) -> None:
        self.out.write(textwrap.indent(_page_text(html), "   │ ") + "\n")
        self.out.flush()

    def scheduler(self, sessions, clock: Callable[[], datetime]) -> None:
        """The scheduler's sweep: review prompts, teachers' and support staff's monitoring
        digests, SENDCo digest."""
        from bot.services.calendar import load_calendar
        from handlers.scheduler import sweep
        from handlers.slack_api import make_client
        from models import School

        with sessions() as session:
            school = session.scalars(select(School)).first()
            calendar = load_calendar(session, school.id)
            when = calendar.next_sending_time(
                clock(), school.timezone, school.school_day_starts, school.school_day_ends
            )
            local = when.astimezone(ZoneInfo(school.timezone))
        self.step += 1
        _say(self.out, RULE)
        _say(
            self.out,
            f"{self.step}. The scheduler's sweep, at {local:%H:%M on %A %-d %B} (school hours; "
            "`sspbot serve` sweeps every minute, or cron runs `sspbot tick`)",
        )
        _say(self.out, "")
        emulator = self.sender.emulator
        client = make_client(emulator.bot_token, emulator.api_url)
        holder, teacher = self.cast["holder"], self.cast["teacher"]
        # A teaching assistant who delivers pupils' plans gets their own digest, with support
        # staff's questions (when one of their pupils' reviews is near).
        shown = [(holder, "review prompt"), (teacher, "monitoring digest")]
        if self.cast.get("assistant"):
            shown.append((self.cast["assistant"], "monitoring digest for support staff"))
        # What the sweep sends, not what came earlier in the tour (the family's answers).
        before = {p["slack_id"]: len(emulator.messages_to(p["slack_id"])) for p, _ in shown}
        for line in sweep(sessions, client, when):
            self.out.write(f"   │ {line}\n")
        for person, what in shown:
            received = emulator.messages_to(person["slack_id"])[before[person["slack_id"]] :]
            if received:
                self._heading(person, f"gets a direct message: a {what}")
                self._show(received[0])
        self.command(self.cast["sendco"], "monitoring")

    def provision_map(self) -> None:
        """The SENDCo's provision map (`/ssp provision`), and one intervention's pupils when the
        school has intervention groups (with none, the map says so)."""
        sendco = self.cast["sendco"]
        shown = self.command(sendco, "provision")
        pupils = [
            b["accessory"]
            for b in shown.get("blocks", [])
            if (b.get("accessory") or {}).get("action_id", "").startswith("provision_pupils_")
        ]
        if pupils:
            self.click(sendco, pupils[0], "Pupils")

    def session_log(self, sessions, clock: Callable[[], datetime]) -> None:
        """A teaching assistant's intervention session: the DM after it, and "Delivered" with
        one pupil absent, as they see it."""
        from handlers.scheduler import sweep
        from handlers.slack_api import make_client

        emulator = self.sender.emulator
        with db.unit_of_work(sessions) as session:
            found = _intervention_group(session, clock())
            if found is None:
                return
            runner, at = found
        slack_id = next(
            (
                uid
                for uid, user in emulator.users.items()
                if (user.get("profile") or {}).get("email") == runner.email
            ),
            None,
        )
        if slack_id is None:
            return
        person = {"name": runner.display_name, "role": "teaching assistant", "slack_id": slack_id}
        before = len(emulator.messages_to(slack_id))
        client = make_client(emulator.bot_token, emulator.api_url)
        self.step += 1
        _say(self.out, RULE)
        _say(
            self.out,
            f"{self.step}. The sweep after the group's session, at {at:%H:%M on %A %-d %B}",
        )
        _say(self.out, "")
        for line in sweep(sessions, client, at):
            if "session" in line:
                self.out.write(f"   │ {line}\n")
        received = [
            m
            for m in emulator.messages_to(slack_id)[before:]
            if "sessions" in (m.get("text") or "").lower()
        ]
        if not received:
            return
        dm = received[0]
        self._heading(person, "gets a direct message after their session")
        self._show(dm)
        # A session of two pupils or more: one of them away, the others there.
        buttons, about = [], ""
        for block in dm["blocks"]:
            if block["type"] == "section":
                about = (block.get("text") or {}).get("text", "")
            elif block["type"] == "actions":
                buttons += [
                    (" pupils:" in about, b)
                    for b in block["elements"]
                    if b["text"]["text"] == "Delivered, someone absent"
                ]
        absent = next((b for several, b in buttons if several), buttons[0][1])
        self._heading(person, "taps [Delivered, someone absent], ticks one pupil, taps [Delivered]")
        opened = len(emulator.calls_to("views.open"))
        self.sender.button(slack_id, absent["action_id"], absent["value"], message=dm)
        emulator.wait_for(lambda calls: len(emulator.calls_to("views.open")) > opened)
        form = emulator.open_views(slack_id)[-1]
        self._show(form)
        field = next(b for b in form["blocks"] if b.get("block_id") == "absent")
        away = field["element"]["options"][:1]
        updates = len(emulator.calls_to("chat.update"))
        state = {"absent": {"type": field["element"]["type"], "selected_options": away}}
        self.sender.submit(slack_id, form, state)
        emulator.wait_for(lambda calls: len(emulator.calls_to("chat.update")) > updates)
        self._heading(person, "sees their message, as it now stands")
        self._show(next(m for m in emulator.messages if m["ts"] == dm["ts"]))

    def command(self, person: dict, text: str) -> dict:
        self._heading(person, f"types  /ssp {text}")
        before = len(self.sender.emulator.responses_to(person["slack_id"]))
        reply = self.sender.command(person["slack_id"], text)
        if reply.body:
            message = reply.json()
        else:
            self.sender.emulator.wait_for(
                lambda calls: len(self.sender.emulator.responses_to(person["slack_id"])) > before
            )
            message = self.sender.emulator.responses_to(person["slack_id"])[-1]
        self._show(message)
        return message

    def click(self, person: dict, button: dict, label: str) -> dict:
        self._heading(person, f"clicks [{label}]")
        before = len(self.sender.emulator.responses_to(person["slack_id"]))
        self.sender.button(person["slack_id"], button["action_id"], button["value"], label=label)
        self.sender.emulator.wait_for(
            lambda calls: len(self.sender.emulator.responses_to(person["slack_id"])) > before
        )
        message = self.sender.emulator.responses_to(person["slack_id"])[-1]
        self._show(message)
        return message

    def home(self, person: dict) -> None:
        self._heading(person, "opens SSP Bot's Home tab")
        self.sender.app_home_opened(person["slack_id"])
        self.sender.emulator.wait_for(
            lambda calls: person["slack_id"] in self.sender.emulator.home_views
        )
        self._show(self.sender.emulator.home_views[person["slack_id"]])

    def _heading(self, person: dict, action: str) -> None:
        self.step += 1
        _say(self.out, RULE)
        _say(self.out, f"{self.step}. {person['name']} ({person['role']}) {action}")
        _say(self.out, "")

    def _show(self, message: dict) -> None:
        text = (
            blocks_to_text(message["blocks"], self.names)
            if message.get("blocks")
            else message["text"]
        )
        self.out.write(textwrap.indent(text, "   │ ") + "\n")
        self.out.flush()


def _cast(session, slack: SlackEmulator, today: date) -> dict:
    """Picks the people and pupils for the tour from the synthetic school, and gives every
    member of staff a Slack account (most without their id on file: matched by email)."""
    staff = list(session.scalars(select(Staff).where(Staff.is_active.is_(True))))
    for n, member in enumerate(staff):
        slack.add_user(
            member.slack_user_id or f"U0MAIL{n:04d}",
            email=member.email,
            real_name=member.display_name,
        )
    slack.add_user("U0VISITOR", email="visitor@example.org", real_name="A Visitor")
    by_id = {m.id: m for m in staff}

    def person(member: Staff, role: str) -> dict:
        slack_id = member.slack_user_id or next(
            uid
            for uid, user in slack.users.items()
            if (user.get("profile") or {}).get("email") == member.email
        )
        return {"id": member.id, "name": member.display_name, "role": role, "slack_id": slack_id}

    sendco = next(m for m in staff if StaffRole.SENDCO in m.roles)
    busiest_id = session.scalar(
        select(Plan.case_holder_id)
        .where(
            Plan.case_holder_id.is_not(None),
            Plan.case_holder_id != sendco.id,
            Plan.status != PlanStatus.CLOSED,
        )
        .group_by(Plan.case_holder_id)
        .order_by(func.count().desc(), Plan.case_holder_id)
        .limit(1)
    )

    # A teacher with few classes, so there are pupils with plans they do not teach; one who
    # is not also a tutor, head of year or pastoral lead if the school has one, since those
    # see more than their classes and the tour shows what a teacher sees.
    def fewest_classes(*besides: StaffRole):
        return session.scalar(
            select(TeachingGroupTeacher.staff_id)
            .join(StaffRoleGrant, StaffRoleGrant.staff_id == TeachingGroupTeacher.staff_id)
            .where(
                StaffRoleGrant.role == StaffRole.TEACHER,
                TeachingGroupTeacher.staff_id.not_in(
                    select(StaffRoleGrant.staff_id).where(
                        StaffRoleGrant.role.in_(
                            [
                                StaffRole.SENDCO,
                                StaffRole.SENIOR_LEADER,
                                StaffRole.CASE_HOLDER,
                                *besides,
                            ]
                        )
                    )
                ),
            )
            .group_by(TeachingGroupTeacher.staff_id)
            .order_by(func.count(), TeachingGroupTeacher.staff_id)
            .limit(1)
        )

    teacher_id = (
        fewest_classes(StaffRole.FORM_TUTOR, StaffRole.HEAD_OF_YEAR, StaffRole.PASTORAL)
        or fewest_classes()
    )
    overdue = session.execute(
        select(Pupil.last_name, Pupil.first_name, Pupil.preferred_name)
        .join(Plan, Plan.pupil_id == Pupil.id)
        .where(Plan.status.in_([PlanStatus.ACTIVE, PlanStatus.IN_REVIEW]), Plan.review_date < today)
        .order_by(Plan.review_date)
        .limit(1)
    ).first()
    teacher = by_id[teacher_id]
    viewer = Viewer(teacher.school_id, teacher.id, teacher.display_name, teacher.roles)
    taught_pupils = (
        select(TeachingGroupPupil.pupil_id)
        .join(TeachingGroupTeacher, TeachingGroupTeacher.group_id == TeachingGroupPupil.group_id)
        .where(TeachingGroupTeacher.staff_id == teacher_id)
    )

    def pupil_with_a_plan(taught: bool) -> str | None:
        """A pupil with an open plan whom the teacher teaches, or does not see at all (not
        taught, nor in their form if they tutor one)."""
        row = session.execute(
            select(Pupil.first_name, Pupil.preferred_name, Pupil.last_name)
            .join(Plan, Plan.pupil_id == Pupil.id)
            .where(
                Plan.status != PlanStatus.CLOSED,
                Pupil.id.in_(taught_pupils)
                if taught
                else Pupil.id.not_in(supported_pupil_ids(viewer)),
            )
            .order_by(Pupil.last_name, Pupil.id)
            .limit(1)
        ).first()
        return _called(row) if row else None

    # A teaching assistant, and a pupil with a plan they are key adult to.
    key_adult = session.execute(
        select(KeyAdult.staff_id, Pupil.first_name, Pupil.preferred_name, Pupil.last_name)
        .join(Pupil, Pupil.id == KeyAdult.pupil_id)
        .join(Plan, Plan.pupil_id == Pupil.id)
        .where(
            KeyAdult.ended_at.is_(None),
            Plan.status != PlanStatus.CLOSED,
            Pupil.is_active.is_(True),
        )
        .order_by(KeyAdult.id)
        .limit(1)
    ).first()
    held = session.execute(
        select(Pupil.first_name, Pupil.preferred_name, Pupil.last_name, Pupil.date_of_birth)
        .join(Plan, Plan.pupil_id == Pupil.id)
        .where(Plan.case_holder_id == busiest_id, Plan.status != PlanStatus.CLOSED)
        .order_by(Pupil.last_name, Pupil.id)
        .limit(1)
    ).first()
    return {
        "held_pupil": (_called(held), held.date_of_birth) if held else None,
        "sendco": person(sendco, "SENDCo"),
        "holder": person(by_id[busiest_id], "case holder"),
        "teacher": person(by_id[teacher_id], "teacher"),
        "visitor": {"name": "A visitor", "role": "not on the staff list", "slack_id": "U0VISITOR"},
        "overdue_pupil": (overdue.last_name, _called(overdue)) if overdue else ("", ""),
        "taught_pupil": pupil_with_a_plan(taught=True),
        "untaught_pupil": pupil_with_a_plan(taught=False),
        "assistant": (
            person(by_id[key_adult.staff_id], "teaching assistant")
            if key_adult and key_adult.staff_id in by_id
            else None
        ),
        "assistant_pupil": _called(key_adult) if key_adult else None,
    }


def _intervention_group(session, now: datetime):
    """(the member of staff, the moment after their session) for a teaching assistant's
    intervention group: the synthetic school's own, or, if it has none, one made here for the
    key adult the tour already shows (Lexia, every weekday, for four pupils they support)."""
    from bot.services.calendar import load_calendar
    from models import (
        BroadArea,
        GroupMember,
        InterventionGroup,
        LibraryProvision,
        ProvisionTier,
        School,
    )

    school = session.scalars(select(School)).first()
    calendar = load_calendar(session, school.id)
    start = calendar.next_sending_time(
        now, school.timezone, school.school_day_starts, school.school_day_ends
    )
    day = start.astimezone(ZoneInfo(school.timezone)).date()
    group = session.scalar(
        select(InterventionGroup)
        .join(StaffRoleGrant, StaffRoleGrant.staff_id == InterventionGroup.staff_id)
        .where(
            InterventionGroup.school_id == school.id,
            StaffRoleGrant.role == StaffRole.TEACHING_ASSISTANT,
            InterventionGroup.members.any(),
        )
        .order_by(InterventionGroup.id)
        .limit(1)
    )
    if group is None:
        helper = session.scalar(
            select(KeyAdult).where(KeyAdult.ended_at.is_(None)).order_by(KeyAdult.id).limit(1)
        )
        if helper is None:
            return None
        pupils = list(
            session.scalars(
                select(Pupil.id)
                .where(Pupil.school_id == school.id, Pupil.is_active.is_(True))
                .where(
                    Pupil.id.in_(
                        select(KeyAdult.pupil_id).where(KeyAdult.staff_id == helper.staff_id)
                    )
                )
                .limit(4)
            )
        )
        pupils += list(
            session.scalars(
                select(Pupil.id)
                .where(
                    Pupil.school_id == school.id, Pupil.is_active.is_(True), Pupil.id.not_in(pupils)
                )
                .order_by(Pupil.year_group, Pupil.id)
                .limit(4 - len(pupils))
            )
        )
        item = session.scalar(
            select(LibraryProvision).where(
                LibraryProvision.school_id == school.id, LibraryProvision.name == "Lexia"
            )
        ) or LibraryProvision(
            school_id=school.id,
            name="Lexia",
            area_of_need=BroadArea.COGNITION_AND_LEARNING,
            tier=ProvisionTier.TARGETED,
            group_size=4,
            session_minutes=30,
        )
        session.add(item)
        session.flush()
        group = InterventionGroup(
            school_id=school.id,
            library_id=item.id,
            name="Lexia, small group",
            staff_id=helper.staff_id,
            weekdays="1,2,3,4,5",
            starts_at=school.school_day_starts,
            minutes=30,
            starts_on=day,
            members=[GroupMember(pupil_id=p, joined_on=day) for p in pupils],
        )
        session.add(group)
        session.flush()
    else:
        day = max(day, group.starts_on)
        while not (
            day.isoweekday() in group.weekday_numbers and calendar.counts_as_school_day(day)
        ):
            day += timedelta(days=1)
    ends = datetime.combine(day, group.starts_at, tzinfo=ZoneInfo(school.timezone)) + timedelta(
        minutes=group.minutes + 5
    )
    return session.get(Staff, group.staff_id), ends.astimezone(UTC)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    return found.group(1) if found else ""


class _PageText(HTMLParser):
    """A family's page as text: its main part, headings marked, boxes drawn."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self._in_main = False
        self._line = ""

    def handle_starttag(self, tag, attrs) -> None:
        attrs = dict(attrs)
        if tag == "main":
            self._in_main = True
        if not self._in_main:
            return
        beside_radio = tag == "label" and self._line.endswith("( ) ")
        if tag in ("h1", "h2", "p", "label", "legend", "li", "button", "div", "dt", "dd") and (
            not beside_radio
        ):
            self._flush()
        if tag == "input" and attrs.get("type") in ("text", None):
            self._line += " [" + (attrs.get("value") or "").ljust(10, "_") + "]"
        elif tag == "input" and attrs.get("type") == "radio":
            self._flush()
            self._line = "( ) "
        elif tag == "textarea":
            self._line += " [" + "_" * 30 + "]"
        elif tag == "button":
            self._line += "["

    def handle_endtag(self, tag) -> None:
        if tag == "main":
            self._flush()
            self._in_main = False
        elif self._in_main and tag == "button":
            self._line += "]"
            self._flush()
        elif self._in_main and tag in ("h1", "h2"):
            self._line = "# " + self._line.strip()
            self._flush()

    def handle_data(self, data) -> None:
        if self._in_main and data.strip():
            self._line += "" if self._line.endswith(("[", "( ) ")) or not self._line else " "
            self._line += data.strip()

    def _flush(self) -> None:
        if self._line.strip():
            self.lines.append(self._line.strip())
        self._line = ""


def _page_text(html: str) -> str:
    parser = _PageText()
    parser.feed(html)
    return "\n".join(parser.lines)


def _called(pupil) -> str:
    """What the school calls a pupil: their preferred name, or first name, and surname."""
    return f"{pupil.preferred_name or pupil.first_name} {pupil.last_name}"


def _say(out: TextIO, text: str) -> None:
    out.write(text + "\n")
    out.flush()
