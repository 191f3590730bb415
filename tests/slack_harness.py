"""A running app wired to the emulator, and a school with people whose access we know."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.demo.blockkit_text import blocks_to_text
from bot.demo.slack_emulator import RESPONSE_URL, SlackEmulator
from bot.demo.slack_sender import SlackSender
from handlers.app import create_app
from handlers.server import HttpServer
from models import (
    AdjustmentKind,
    BroadArea,
    NeedCode,
    Plan,
    PlanAdjustment,
    PlanNeed,
    PlanProvision,
    PlanStatus,
    PlanTarget,
    Pupil,
    School,
    SenStage,
    Staff,
    StaffRole,
    TeachingGroup,
    TeachingGroupPupil,
    TeachingGroupTeacher,
)

SIGNING_SECRET = "test-signing-secret"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 23)


class Clock:
    """The app's idea of now, which a test may move on: `clock.now = ...`."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class RunningApp:
    emulator: SlackEmulator
    sender: SlackSender
    sessions: sessionmaker[Session]
    server: HttpServer
    ids: dict = field(default_factory=dict)

    def ask(self, user_id: str, text: str, **kwargs) -> dict:
        """Types `/ssp TEXT` as this user; returns the message the app sent back."""
        before = len(self.emulator.responses_to(user_id))
        reply = self.sender.command(user_id, text, **kwargs)
        assert reply.status == 200, reply
        if reply.body:  # answered in the HTTP response itself (a refusal)
            return reply.json()
        self.emulator.wait_for(lambda calls: len(self.emulator.responses_to(user_id)) > before)
        return self.emulator.responses_to(user_id)[-1]

    def click(self, user_id: str, action_id: str, value: str) -> dict:
        before = len(self.emulator.responses_to(user_id))
        reply = self.sender.button(user_id, action_id, value)
        assert reply.status == 200, reply
        self.emulator.wait_for(lambda calls: len(self.emulator.responses_to(user_id)) > before)
        return self.emulator.responses_to(user_id)[-1]

    def get(self, url: str) -> Fetched:
        """GETs a link the app gave out, from this test server (whatever address it names)."""
        path = urllib.parse.urlsplit(url).path
        request = urllib.request.Request(f"http://127.0.0.1:{self.server.port}{path}")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return Fetched(answer.status, dict(answer.headers), answer.read())
        except urllib.error.HTTPError as error:
            return Fetched(error.code, dict(error.headers), error.read())

    def export(self, user_id: str, typed: str, file_format: str = "html") -> Fetched:
        """`/ssp export TYPED` as this user, then the document through the link it gave."""
        links = download_links(self.ask(user_id, f"export {typed}"))
        assert file_format in links, links
        return self.get(links[file_format])

    def responses(self) -> list:
        return [c for c in self.emulator.calls if c.method == RESPONSE_URL]


def text_of(message: dict) -> str:
    """What a person reads: the blocks as text (or the fallback text when there are none)."""
    if not message.get("blocks"):
        # As Slack's client shows it: the escaped &, < and > the app sent read as themselves.
        return message["text"].replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return blocks_to_text(message["blocks"], width=100_000)  # no wrapping: tests match phrases


# What the bot may put in mrkdwn on purpose: a mention it built (`<@U…>`), a download link it
# made (`/ssp export`), and escaped &, <, >.
_BOT_MADE = re.compile(
    r"<@U[A-Z0-9]+>|<https?://[^\s|<>]+/download/[A-Za-z0-9_-]+\|[^<>&|]+>|&(?:amp|lt|gt);"
)
# A download link in a reply: (address, label).
DOWNLOAD_LINK = re.compile(r"<(https?://[^\s|<>]+/download/[A-Za-z0-9_-]+)\|([^<>|]+)>")


@dataclass(frozen=True)
class Fetched:
    """What a browser got from the app's web side."""

    status: int
    headers: dict
    body: bytes


def download_links(message: dict) -> dict[str, str]:
    """The download links in a reply: {"pdf": url, "html": url}."""
    found = {}
    texts = " ".join(_walk(message.get("blocks") or []))
    for url, label in DOWNLOAD_LINK.findall(texts):
        found["pdf" if "PDF" in label else "html"] = url
    return found


def raw_mrkdwn(calls) -> list[str]:
    """Every mrkdwn string (and top-level `text`) the app sent Slack in `calls` that still holds
    a raw `<`, `>` or `&` outside a mention the bot made: Slack would read it as a link, a ping
    or an entity, not as the words someone typed."""
    return [t for call in calls for t in _mrkdwn_texts(call) if _is_raw(t)]


def raw_mrkdwn_in(surface: dict) -> list[str]:
    """`raw_mrkdwn` for a message or view the app answered in its HTTP response."""
    texts = [surface["text"]] if isinstance(surface.get("text"), str) else []
    return [t for t in texts + _walk(surface.get("blocks")) if _is_raw(t)]


def _is_raw(text: str) -> bool:
    return bool(re.search(r"[<>&]", _BOT_MADE.sub("", text)))


def _mrkdwn_texts(call) -> list[str]:
    params = call.params if isinstance(call.params, dict) else {}
    texts = [params["text"]] if isinstance(params.get("text"), str) else []
    texts += _walk(call.json("blocks"))
    view = call.json("view")
    if isinstance(view, dict):
        texts += _walk(view.get("blocks"))
    return texts


def _walk(value) -> list[str]:
    if isinstance(value, list):
        return [t for item in value for t in _walk(item)]
    if not isinstance(value, dict):
        return []
    if value.get("type") == "mrkdwn" and isinstance(value.get("text"), str):
        return [value["text"]]
    return [t for item in value.values() for t in _walk(item)]


def buttons_of(message: dict) -> list[dict]:
    found = []
    for block in message.get("blocks", []):
        if block.get("accessory", {}).get("type") == "button":
            found.append(block["accessory"])
        if block["type"] == "actions":
            found += [e for e in block["elements"] if e["type"] == "button"]
    return found


def start_app(
    emulator: SlackEmulator,
    sessions: sessionmaker[Session],
    clock=lambda: NOW,
    env: dict[str, str] | None = None,
):
    settings = Settings.from_env(
        {
            "SLACK_BOT_TOKEN": emulator.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": emulator.api_url,
            **(env or {}),
        },
        env_file=None,
    )
    app = create_app(settings, session_factory=sessions, clock=clock)
    server = HttpServer(app).start()
    return RunningApp(emulator, SlackSender(server.url, SIGNING_SECRET, emulator), sessions, server)


def build_school(session: Session, emulator: SlackEmulator) -> dict:
    """Brookside High, in the emulator's workspace, plus another school in another workspace.

    - Morgan Reed: SENDCo (U0SENDCO)          - Dana Fox: senior leader (U0SLT)
    - Priya Shah: case holder of Ava and Ben  - Tom Baker: case holder of Cara; no Slack id yet
    - Lee Chan: teaches 9A/En1 (Cara and Dev)  - Sam Jones: teaching assistant
    Ava Stone's review is overdue; Ben Stone's is due in 5 days; Dev Patel has no plan.
    """
    school = School(name="Brookside High", slack_team_id=emulator.team_id)
    other = School(name="Hillside School", slack_team_id="T0OTHERSCH")
    session.add_all([school, other])

    def person(first, last, slack_id, *roles, school=school):
        member = Staff(
            school=school,
            email=f"{first}.{last}@brookside.example.org".lower(),
            first_name=first,
            last_name=last,
            slack_user_id=slack_id,
        )
        member.set_roles(set(roles))
        session.add(member)
        return member

    people = {
        "sendco": person("Morgan", "Reed", "U0SENDCO", StaffRole.SENDCO, StaffRole.CASE_HOLDER),
        "slt": person("Dana", "Fox", "U0SLT", StaffRole.SENIOR_LEADER),
        "priya": person("Priya", "Shah", "U0PRIYA", StaffRole.CASE_HOLDER, StaffRole.TEACHER),
        "tom": person("Tom", "Baker", None, StaffRole.CASE_HOLDER),
        "lee": person("Lee", "Chan", "U0LEE", StaffRole.TEACHER),
        "ta": person("Sam", "Jones", "U0TA", StaffRole.TEACHING_ASSISTANT),
        "other_sendco": person("Olly", "Other", "U0OTHER", StaffRole.SENDCO, school=other),
    }
    for member in people.values():
        if member.slack_user_id:
            emulator.add_user(
                member.slack_user_id,
                email=member.email,
                real_name=f"{member.first_name} {member.last_name}",
            )
    emulator.add_user("U0TOM", email=people["tom"].email, real_name="Tom Baker")
    emulator.add_user("U0STRANGER", email="visitor@elsewhere.example.org", real_name="A Visitor")

    def child(first, last, upn, need, stage=SenStage.SEN_SUPPORT, school=school):
        pupil = Pupil(
            school=school,
            upn=upn,
            first_name=first,
            last_name=last,
            date_of_birth=date(2012, 3, 4),
            year_group=9,
            form="9A",
            sen_stage=stage,
            primary_need=need,
            eal=True,
        )
        session.add(pupil)
        return pupil

    ava = child("Ava", "Stone", "A820123456001", NeedCode.SPLD)
    ben = child("Ben", "Stone", "A820123456002", NeedCode.SEMH, SenStage.EHC_PLAN)
    cara = child("Cara", "Lin", "A820123456003", NeedCode.ASD)
    dev = child("Dev", "Patel", "A820123456004", None, SenStage.NONE)
    zed = child("Zed", "Other", "A820123456005", NeedCode.MLD, school=other)

    def plan(pupil, holder, review_in_days, status=PlanStatus.ACTIVE, school=school):
        new = Plan(
            school=school,
            pupil=pupil,
            case_holder=holder,
            status=status,
            cycle_number=2,
            start_date=TODAY - timedelta(days=60),
            review_date=TODAY + timedelta(days=review_in_days),
        )
        session.add(new)
        return new

    ava_plan = plan(ava, people["priya"], -9)
    ava_plan.needs = [
        PlanNeed(
            broad_area=BroadArea.COGNITION_AND_LEARNING,
            census_code=NeedCode.SPLD,
            is_primary=True,
            description="Slow reading speed and spelling",
        )
    ]
    ava_plan.adjustments = [
        PlanAdjustment(kind=AdjustmentKind.IN_CLASS, description="Coloured overlay for reading"),
        PlanAdjustment(kind=AdjustmentKind.ACCESS_ARRANGEMENT, description="25% extra time"),
    ]
    ava_plan.targets = [
        PlanTarget(
            description="Read 20 high-frequency words on sight", end_date=TODAY + timedelta(days=30)
        )
    ]
    ava_plan.provisions = [
        PlanProvision(
            what="Lexia reading programme",
            who="Learning support",
            how_often="3 x 20 minutes a week",
            how_long="1 term",
        )
    ]
    plan(ben, people["priya"], 5)
    cara_plan = plan(cara, people["tom"], 40)
    cara_plan.adjustments = [
        PlanAdjustment(kind=AdjustmentKind.IN_CLASS, description="Visual timetable on desk")
    ]
    cara_plan.targets = [PlanTarget(description="Ask for help using a help card")]
    cara_plan.provisions = [PlanProvision(what="Weekly social skills group")]
    plan(zed, people["other_sendco"], -3, school=other)

    group = TeachingGroup(school=school, code="9A/En1", subject="English", year_group=9)
    group.teachers = [TeachingGroupTeacher(staff=people["lee"])]
    group.members = [TeachingGroupPupil(pupil=cara), TeachingGroupPupil(pupil=dev)]
    session.add(group)
    session.flush()
    ids = {key: member.id for key, member in people.items()}
    ids.update(
        ava=ava.id,
        ben=ben.id,
        cara=cara.id,
        dev=dev.id,
        zed=zed.id,
        ava_plan=ava_plan.id,
        school=school.id,
    )
    return ids
