"""Every Slack listener added for issues 19 (provision library, map, groups, sessions, impact)
and 20 (attachments, evidence pack, transfer records), sent by the least-privileged person who
could send it: a teaching assistant who does not run the group, a teacher with no plans, the
SENDCo of another school in another workspace, someone not on the staff list, and a SENDCo whose
button value or form metadata names another school's group, pupil, entry or file.

Each is refused politely, nothing changes in any table (but the audit log), nothing of a pupil
the person may not see reaches them, and nothing they were sent holds raw mrkdwn. Then the
names people type (library entries, groups, a session's "not delivered" reason, attachment
titles, file names) are shown as typed, escaped, wherever the bot shows them.

Brookside High (tests/slack_harness.py), plus: Sam Jones (teaching assistant) runs
NASTY_GROUP for Cara and Dev; Priya Shah runs "Talkabout" for Ben; Hillside (another school,
another workspace) has a library entry, a group for Zed, a session, an attached file on Zed's
plan and a leavers message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from bot.services import attachments as attaching
from bot.services import closure, evidence, session_log
from bot.services import groups as group_rules
from bot.services import provision_library as library
from handlers import attachments as attach_listeners
from handlers import provision_map
from handlers.context import UNKNOWN_USER, wait_for_background_work
from handlers.toolkit import NO_SUCH_PUPIL
from models import (
    Attachment,
    BroadArea,
    GroupMember,
    InterventionGroup,
    InterventionSession,
    LibraryProvision,
    Plan,
    Prompt,
    PromptKind,
    ProvisionTier,
    SessionPupil,
    SessionStatus,
    Staff,
)
from models.base import Base
from tests.slack_harness import NOW, build_school, raw_mrkdwn, raw_mrkdwn_in, start_app

KEY = Fernet.generate_key().decode()
MONDAY = date(2026, 11, 23)
# What people type, with every mrkdwn special: a channel ping, bold, a link and an entity.
NASTY_LIBRARY = "Lexia <!channel> & *co* <https://x.example|y> <@U0SLT>"
NASTY_GROUP = "Reading <!here> & *boost* <https://x.example|y>"
NASTY_TITLE = "EP report <!channel> & *draft* <https://x.example|y>"
NASTY_REASON = "Fire drill <!channel> & *all* <https://x.example|y>"
OTHER_WORKSPACE = "T0OTHERSCH"
# Hillside's pupil and file: never shown to anyone at Brookside.
HILLSIDE = ("Zed", "Their scheme", "Hillside report")
# Tables a refusal may write to: the audit log (refusals are recorded) and the replay memory.
MAY_CHANGE = {"audit_events", "processed_events"}
# The Slack calls that answer a person after the ack.
ANSWERS = {"response_url", "views.open", "views.push", "views.update", "chat.postEphemeral"}


# --- the school ---------------------------------------------------------------------------------


@pytest.fixture
def slack(emulator, sessions, clock):
    """Brookside and Hillside (see the module's docstring), the app with an ATTACHMENT_KEY, and
    Hillside's workspace known to the emulator."""
    emulator.reset()
    with sessions.begin() as session:
        ids = build_school(session, emulator)
        ids.update(_extras(session, ids))
    emulator.add_workspace(OTHER_WORKSPACE, "xoxb-other", name="Hillside")
    running = start_app(emulator, sessions, clock=clock, env={"ATTACHMENT_KEY": KEY})
    running.ids = ids
    yield running
    running.server.stop()
    wait_for_background_work()
    from handlers.scheduler import wait_for_deliveries

    wait_for_deliveries()


def _extras(session, ids) -> dict:
    hillside = session.scalar(select(Plan.school_id).where(Plan.pupil_id == ids["zed"]))
    # Tom (Cara's case holder) linked already: his first click would link him, a change.
    session.get(Staff, ids["tom"]).slack_user_id = "U0TOM"
    zed_plan = session.scalar(select(Plan.id).where(Plan.pupil_id == ids["zed"]))

    def entry(name, school):
        row = LibraryProvision(
            school_id=school,
            name=name,
            area_of_need=BroadArea.COGNITION_AND_LEARNING,
            tier=ProvisionTier.TARGETED,
            cost_per_session_pence=1500,
        )
        session.add(row)
        session.flush()
        return row.id

    def group(name, item, staff, school, *pupils):
        new = InterventionGroup(
            school_id=school,
            library_id=item,
            staff_id=staff,
            name=name,
            weekdays="1,3",
            starts_at=time(8, 40),
            minutes=30,
            starts_on=date(2026, 9, 1),
        )
        new.members = [GroupMember(pupil_id=p, joined_on=date(2026, 9, 1)) for p in pupils]
        session.add(new)
        session.flush()
        return new

    def sitting(group_, staff, school):
        new = InterventionSession(
            school_id=school,
            group_id=group_.id,
            held_on=MONDAY,
            starts_at=time(8, 40),
            minutes=30,
            staff_id=staff,
            status=SessionStatus.AWAITING,
        )
        new.pupils = [SessionPupil(pupil_id=m.pupil_id) for m in group_.members]
        session.add(new)
        session.flush()
        return new.id

    def attached(plan_id, pupil_id, school, title):
        row = Attachment(
            school_id=school,
            plan_id=plan_id,
            pupil_id=pupil_id,
            kind="report",
            title=title,
            filename="report.pdf",
            content_type="application/pdf",
            size=4,
            sha256="0" * 64,
            ciphertext=Fernet(KEY.encode()).encrypt(b"%PDF"),
            uploaded_at=NOW,
        )
        session.add(row)
        session.flush()
        return row.id

    lexia, talkabout = entry(NASTY_LIBRARY, ids["school"]), entry("Talkabout", ids["school"])
    theirs = entry("Their scheme", hillside)
    sams = group(NASTY_GROUP, lexia, ids["ta"], ids["school"], ids["cara"], ids["dev"])
    priyas = group("Talkabout", talkabout, ids["priya"], ids["school"], ids["ben"])
    their_group = group("Their group", theirs, ids["other_sendco"], hillside, ids["zed"])
    leavers = Prompt(
        school_id=hillside,
        recipient_id=ids["other_sendco"],
        kind=PromptKind.LEAVERS,
        dedupe_key="leavers:hillside",
        due_at=NOW,
    )
    session.add(leavers)
    session.flush()
    return {
        "hillside": hillside,
        "zed_plan": zed_plan,
        "lexia": lexia,
        "theirs": theirs,
        "sams_group": sams.id,
        "sams_member": sams.members[0].id,
        "priyas_group": priyas.id,
        "priyas_member": priyas.members[0].id,
        "their_group": their_group.id,
        "sams_session": sitting(sams, ids["ta"], ids["school"]),
        "their_session": sitting(their_group, ids["other_sendco"], hillside),
        "avas_file": attached(ids["ava_plan"], ids["ava"], ids["school"], NASTY_TITLE),
        "zeds_file": attached(zed_plan, ids["zed"], hillside, "Hillside report"),
        "their_leavers": leavers.id,
    }


# --- sending and hearing ------------------------------------------------------------------------


def everything(slack) -> dict[str, list]:
    """Every row of every table but those a refusal may write to, as comparable tuples."""
    with slack.sessions() as session:
        return {
            table.name: sorted(
                (tuple(map(repr, row)) for row in session.execute(select(table)).all()),
            )
            for table in Base.metadata.sorted_tables
            if table.name not in MAY_CHANGE
        }


def _strings(value) -> list[str]:
    if isinstance(value, str):
        if value[:1] in "[{":
            try:
                return _strings(json.loads(value))
            except ValueError:
                pass
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


@dataclass
class Heard:
    """What a person was answered: the HTTP reply and every Slack call the app made after."""

    reply: dict | None
    calls: list

    @property
    def text(self) -> str:
        said = _strings(self.reply) + [
            s
            for call in self.calls
            for s in _strings(call.params if isinstance(call.params, dict) else {})
        ]
        return " ".join(" ".join(said).split())

    def raw_mrkdwn(self) -> list[str]:
        raw = raw_mrkdwn(self.calls)
        if isinstance(self.reply, dict):
            raw += raw_mrkdwn_in(self.reply)
            raw += raw_mrkdwn_in(self.reply.get("view") or {})
        return raw


def send(slack, post: Callable[[], object]) -> Heard:
    """Sends one signed request; waits for what the app does after its ack."""
    before = len(slack.emulator.calls)
    reply = post()
    assert reply.status == 200, reply
    body = reply.json() if reply.body else None
    if not body:  # answered after the ack: through the response URL or in a modal
        slack.emulator.wait_for(
            lambda calls: [c for c in calls[before:] if c.method in ANSWERS], timeout=10
        )
    wait_for_background_work()
    return Heard(body, list(slack.emulator.calls)[before:])


def opened(slack, post: Callable[[], object]) -> dict:
    """What the legitimate user sees after `post`: the modal it opened or pushed."""
    views = len([c for c in slack.emulator.calls if c.method in ("views.open", "views.push")])
    assert post().status == 200
    slack.emulator.wait_for(
        lambda calls: len([c for c in calls if c.method in ("views.open", "views.push")]) > views
    )
    return slack.emulator.open_views()[-1]


def menu_choice(slack, user: str, action_id: str, value: str, *, team_id=None):
    """A choice in a select menu beside a message, from `user` of `team_id`'s workspace."""
    sender = slack.sender
    where = sender._in_message(
        user, slack.emulator.dm_channel_id(user), "1700000000.000100", ephemeral=True
    )
    payload = sender._interaction(
        "block_actions",
        user,
        team_id,
        sender._trigger_id(),
        **where,
        actions=[
            {
                "action_id": action_id,
                "block_id": "b1",
                "type": "static_select",
                "selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": value},
                "action_ts": "1700000000.000200",
            }
        ],
    )
    return sender._post_interaction(payload)


def suggestion(slack, user: str, view: dict, typed: str, *, team_id=None):
    payload = slack.sender._interaction(
        "block_suggestion",
        user,
        team_id,
        slack.emulator.new_trigger_id(),
        container={"type": "view", "view_id": view["id"]},
        view=view,
        action_id="ssp_group_pupils_find",
        block_id="pupils",
        value=typed,
    )
    return slack.sender._post_interaction(payload)


def forged(view: dict, **meta) -> dict:
    """The modal as shown, with its private_metadata naming something else."""
    shown = json.loads(view.get("private_metadata") or "{}")
    return dict(view, private_metadata=json.dumps({**shown, **meta}))


def block_state(view: dict) -> dict:
    """Slack's state for the modal's inputs, each as first shown (the first option chosen)."""
    values = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        element = block["element"]
        kind = element["type"]
        options = element.get("options") or []
        if kind == "plain_text_input":
            typed = element.get("initial_value") or ("" if block.get("optional") else "x")
            values[block["block_id"]] = {"type": kind, "value": typed}
        elif kind in ("static_select", "radio_buttons"):
            first = element.get("initial_option") or (options[0] if options else None)
            values[block["block_id"]] = {"type": kind, "selected_option": first}
        elif kind in ("checkboxes", "multi_static_select"):
            values[block["block_id"]] = {"type": kind, "selected_options": options[:1]}
        elif kind == "multi_external_select":
            values[block["block_id"]] = {"type": kind, "selected_options": []}
        elif kind == "timepicker":
            values[block["block_id"]] = {"type": kind, "selected_time": element["initial_time"]}
        elif kind == "datepicker":
            chosen = element.get("initial_date")
            values[block["block_id"]] = {"type": kind, "selected_date": chosen}
    return values


def submit_as(slack, user: str, view: dict, values: dict | None = None, **signing):
    return lambda: slack.sender.submit(user, view, values or block_state(view), **signing)


# --- forms opened by the people who may open them ---------------------------------------------


def library_form(slack) -> dict:
    return opened(slack, lambda: menu_choice(slack, "U0SENDCO", "provlib_item",
                                             f"edit:{slack.ids['lexia']}"))  # fmt: skip


def new_group_form(slack) -> dict:
    return opened(slack, lambda: slack.sender.command("U0SENDCO", "group new"))


def sams_group_view(slack) -> dict:
    gid = slack.ids["sams_group"]
    return opened(slack, lambda: slack.sender.button("U0TA", f"ssp_group_open_{gid}", str(gid)))


def sams_add_form(slack) -> dict:
    view = sams_group_view(slack)
    gid = str(slack.ids["sams_group"])
    return opened(slack, lambda: slack.sender.view_button("U0TA", view, "ssp_group_add", gid))


def priyas_join_form(slack) -> dict:
    ava = str(slack.ids["ava"])
    return opened(slack, lambda: slack.sender.button("U0PRIYA", "ssp_group_join_open", ava))


def session_form(slack, action: str) -> dict:
    sid = slack.ids["sams_session"]
    value = f"{sid}:s{slack.ids['ta']}"
    return opened(slack, lambda: slack.sender.button("U0TA", f"{action}:{sid}", value))


def attach_pupil_form(slack) -> dict:
    file = slack.emulator.add_file("U0PRIYA", "report.pdf", b"%PDF-1.4\n%%EOF\n")
    message = slack.emulator.post_file_message(
        "U0PRIYA", slack.emulator.dm_channel_id("U0PRIYA"), [file]
    )
    return opened(
        slack,
        lambda: slack.sender.message_shortcut("U0PRIYA", attach_listeners.SHORTCUT, message),
    )


def attach_form(slack) -> dict:
    """Priya's attach form for Ava's plan (the shortcut's second step)."""
    first = attach_pupil_form(slack)
    reply = slack.sender.submit("U0PRIYA", first, {"pupil": {"type": "plain_text_input",
                                                            "value": "Ava Stone"}})  # fmt: skip
    form = reply.json()["view"]
    form["id"] = first["id"]
    return form


def reports_view(slack) -> dict:
    """The SENDCo's plan for Ava, with its Reports section open (its metadata names Ava)."""
    plan = opened(slack, lambda: slack.sender.command("U0SENDCO", "plan Ava Stone"))
    return opened(
        slack,
        lambda: slack.sender.view_button("U0SENDCO", plan, "plan_open_section", "reports"),
    )


def avas_review(slack, user: str = "U0PRIYA") -> dict:
    from tests.test_reviews import open_by_command

    return open_by_command(slack, user, "review Ava")


def review_notes(view: dict) -> dict:
    """Every target achieved, every provision stopped and rated, an exit measure typed."""
    from tests.test_reviews import choose, full_notes
    from tests.test_reviews import text as typed

    notes = full_notes(view)
    for block in view["blocks"]:
        block_id = block.get("block_id", "")
        if block_id.startswith("provision:"):
            notes[block_id] = choose("stop")
        if block_id.startswith("exit:"):
            notes[block_id] = typed("9y 0m")
    return notes


def _end_sams_group(slack) -> None:
    with slack.sessions.begin() as session:
        session.get(InterventionGroup, slack.ids["sams_group"]).ends_on = MONDAY


def _close_avas_plan(slack) -> None:
    from models import ClosureReason, PlanStatus

    with slack.sessions.begin() as session:
        plan = session.get(Plan, slack.ids["ava_plan"])
        plan.status, plan.closure_reason = PlanStatus.CLOSED, ClosureReason.NEEDS_MET


def _after(slack, setup: Callable, post: Callable[[], object]) -> Callable[[], object]:
    setup(slack)
    return post


# --- the table ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """`who` sends what `how` makes; they are told `told`, and never see `hidden`."""

    listener: str
    who: str
    how: Callable
    told: str
    hidden: tuple[str, ...] = ()


def _button(user, action_id, value, team_id=None):
    return lambda s: (
        lambda: s.sender.button(
            user, action_id, value(s) if callable(value) else value, team_id=team_id
        )
    )


def _command(user, text, team_id=None):
    return lambda s: (
        lambda: s.sender.command(user, text(s) if callable(text) else text, team_id=team_id)
    )


def _in(view: dict, post: Callable[[dict], object]):
    """`post` from `view`, opened now (before the request under test is sent)."""
    return lambda: post(view)


def _ids(key, fmt="{}"):
    return lambda s: fmt.format(s.ids[key])


OTHER = dict(team_id=OTHER_WORKSPACE)
NO_OPTIONS = ""  # a menu's suggestions: none (checked on the reply itself)
CASES = [
    # --- /ssp provision library (handlers/provision_library.py)
    Case("provlib_add", "teaching assistant", _button("U0TA", "provlib_add", "add"),
         library.ONLY_SENDCO),
    Case("provlib_item retire", "teacher",
         lambda s: lambda: menu_choice(s, "U0LEE", "provlib_item", f"retire:{s.ids['lexia']}"),
         library.ONLY_SENDCO),
    Case("provlib_item retire", "another school's SENDCo naming our entry",
         lambda s: lambda: menu_choice(s, "U0OTHER", "provlib_item",
                                       f"retire:{s.ids['lexia']}", team_id=OTHER_WORKSPACE),
         library.GONE, ("Lexia",)),
    Case("provlib_item edit", "our SENDCo naming another school's entry",
         lambda s: lambda: menu_choice(s, "U0SENDCO", "provlib_item", f"edit:{s.ids['theirs']}"),
         library.GONE, HILLSIDE),
    Case("provlib_form", "case holder",
         lambda s: submit_as(s, "U0PRIYA", library_form(s)), library.ONLY_SENDCO),
    Case("provlib_form", "our SENDCo, the form naming another school's entry",
         lambda s: submit_as(s, "U0SENDCO", forged(library_form(s), item_id=s.ids["theirs"])),
         library.GONE, HILLSIDE),
    Case("/ssp provision library", "someone not on the staff list",
         _command("U0STRANGER", "provision library"), UNKNOWN_USER.split(",")[0]),
    # --- /ssp provision: the map (handlers/provision_map.py)
    Case("/ssp provision", "teaching assistant", _command("U0TA", "provision"),
         provision_map.MAP_ONLY.split(" (")[0]),
    Case("/ssp provision export", "case holder", _command("U0PRIYA", "provision export"),
         provision_map.MAP_ONLY.split(" (")[0]),
    Case("provision_pupils_<id>", "teaching assistant",
         lambda s: _button("U0TA", f"provision_pupils_{s.ids['lexia']}", _ids("lexia"))(s),
         provision_map.MAP_ONLY.split(" (")[0], ("Cara", "Dev")),
    Case("provision_pupils_<id>", "another school's SENDCo naming our intervention",
         lambda s: _button("U0OTHER", f"provision_pupils_{s.ids['lexia']}", _ids("lexia"),
                           **OTHER)(s),
         provision_map.NO_SUCH_INTERVENTION, ("Cara", "Dev", "Lexia")),
    Case("provision_export", "teacher", _button("U0LEE", "provision_export", "export"),
         provision_map.MAP_ONLY.split(" (")[0]),
    # --- intervention groups (handlers/groups.py)
    Case("/ssp group new", "teaching assistant", _command("U0TA", "group new"),
         group_rules.ONLY_SENDCO),
    Case("/ssp groups", "teacher who runs none", _command("U0LEE", "groups"),
         "You don't run any intervention groups", ("Reading", "Talkabout", "Cara", "Ben")),
    Case("ssp_group_new", "teaching assistant", _button("U0TA", "ssp_group_new", "new"),
         group_rules.ONLY_SENDCO),
    Case("ssp_group_open_<id>", "teaching assistant who does not run it",
         lambda s: _button("U0TA", f"ssp_group_open_{s.ids['priyas_group']}",
                           _ids("priyas_group"))(s),
         group_rules.NOT_FOUND, ("Ben", "Talkabout")),
    Case("ssp_group_open_<id>", "another school's SENDCo naming our group",
         lambda s: _button("U0OTHER", f"ssp_group_open_{s.ids['sams_group']}",
                           _ids("sams_group"), **OTHER)(s),
         group_rules.NOT_FOUND, ("Cara", "Dev", "Reading")),
    Case("ssp_group_add", "teaching assistant who does not run it",
         _button("U0TA", "ssp_group_add", _ids("priyas_group")), group_rules.NOT_FOUND, ("Ben",)),
    Case("ssp_group_remove_<n>", "teaching assistant, the view naming a group they don't run",
         lambda s: _in(forged(sams_group_view(s), group_id=s.ids["priyas_group"]),
                       lambda v: s.sender.view_button("U0TA", v, "ssp_group_remove_0",
                                                      str(s.ids["priyas_member"]))),
         group_rules.NOT_FOUND, ("Ben",)),
    Case("ssp_group_remove_<n>", "teaching assistant, naming a member of another group",
         lambda s: _in(sams_group_view(s),
                       lambda v: s.sender.view_button("U0TA", v, "ssp_group_remove_0",
                                                      str(s.ids["priyas_member"]))),
         "Cara", ("Ben", "Talkabout")),  # their own group redrawn, Ben untouched
    Case("ssp_group_remove_<n>", "the runner, from a view left open since the group ended",
         lambda s: (lambda v: _after(s, _end_sams_group, lambda: s.sender.view_button(
             "U0TA", v, "ssp_group_remove_0", str(s.ids["sams_member"]))))(sams_group_view(s)),
         group_rules.ENDED),
    Case("ssp_group_edit", "the teaching assistant who runs it",
         _button("U0TA", "ssp_group_edit", _ids("sams_group")), group_rules.ONLY_SENDCO),
    Case("ssp_group_end", "the teaching assistant who runs it",
         _button("U0TA", "ssp_group_end", _ids("sams_group")), group_rules.ONLY_SENDCO),
    Case("ssp_group_join_open", "teacher with no plans",
         _button("U0LEE", "ssp_group_join_open", _ids("ava")),
         "I couldn't find that plan among the plans you hold", ("Ava",)),
    Case("ssp_group_join_open", "another school's SENDCo naming our pupil",
         _button("U0OTHER", "ssp_group_join_open", _ids("ava"), **OTHER),
         "I couldn't find that plan among the plans you hold", ("Ava",)),
    Case("ssp_group_form", "teaching assistant",
         lambda s: submit_as(s, "U0TA", new_group_form(s)), group_rules.ONLY_SENDCO),
    Case("ssp_group_form", "our SENDCo, the form naming another school's group",
         lambda s: submit_as(s, "U0SENDCO", forged(new_group_form(s),
                                                   group_id=s.ids["their_group"]),
                             {**block_state(new_group_form(s)),
                              "staff": {"type": "users_select", "selected_user": "U0TA"},
                              "days": {"type": "checkboxes", "selected_options": [
                                  {"text": {"type": "plain_text", "text": "Monday"},
                                   "value": "1"}]}}),
         group_rules.NOT_FOUND, HILLSIDE),
    Case("ssp_group_add_form", "teaching assistant, the form naming a group they don't run",
         lambda s: submit_as(s, "U0TA", forged(sams_add_form(s), group_id=s.ids["priyas_group"]),
                             {"pupils": {"type": "multi_external_select", "selected_options": [
                                 {"text": {"type": "plain_text", "text": "x"},
                                  "value": str(s.ids["cara"])}]}}),
         group_rules.NOT_FOUND, ("Ben",)),
    Case("ssp_group_add_form", "the runner adding another school's pupil",
         lambda s: submit_as(s, "U0TA", sams_add_form(s),
                             {"pupils": {"type": "multi_external_select", "selected_options": [
                                 {"text": {"type": "plain_text", "text": "x"},
                                  "value": str(s.ids["zed"])}]}}),
         "I couldn't find one of those pupils", HILLSIDE),
    Case("ssp_group_join", "teacher with no plans",
         lambda s: submit_as(s, "U0LEE", priyas_join_form(s)),
         "I couldn't find that plan among the plans you hold", ("Ava",)),
    Case("ssp_group_join", "case holder, the form naming another school's pupil",
         lambda s: submit_as(s, "U0PRIYA", forged(priyas_join_form(s), pupil_id=s.ids["zed"])),
         "I couldn't find that plan among the plans you hold", HILLSIDE),
    Case("ssp_group_pupils_find", "teacher, typing a pupil they don't teach",
         lambda s: _in(new_group_form(s), lambda v: suggestion(s, "U0LEE", v, "Ava")), NO_OPTIONS,
         ("Ava", "Stone")),
    Case("ssp_group_pupils_find", "our SENDCo, typing another school's pupil",
         lambda s: _in(new_group_form(s), lambda v: suggestion(s, "U0SENDCO", v, "Zed")),
         NO_OPTIONS,
         HILLSIDE),
    Case("ssp_group_pupils_find", "someone not on the staff list",
         lambda s: _in(new_group_form(s), lambda v: suggestion(s, "U0STRANGER", v, "a")),
         NO_OPTIONS,
         ("Ava", "Ben", "Cara", "Dev")),
    # --- sessions (handlers/sessions.py)
    Case("/ssp sessions @someone", "teacher",
         _command("U0LEE", "sessions <@U0TA>"), "Only the SENDCo can log someone else's"),
    Case("ssp_session_delivered", "teacher",
         lambda s: _button("U0LEE", f"ssp_session_delivered:{s.ids['sams_session']}",
                           f"{s.ids['sams_session']}:s{s.ids['ta']}")(s),
         session_log.NOT_YOURS.split(",")[0], ("Cara", "Dev")),
    Case("ssp_session_change", "case holder",
         lambda s: _button("U0PRIYA", f"ssp_session_change:{s.ids['sams_session']}",
                           f"{s.ids['sams_session']}:s{s.ids['ta']}")(s),
         session_log.NOT_YOURS.split(",")[0], ("Cara", "Dev")),
    Case("ssp_session_absent", "another school's SENDCo naming our session",
         lambda s: _button("U0OTHER", f"ssp_session_absent:{s.ids['sams_session']}",
                           f"{s.ids['sams_session']}:s{s.ids['ta']}", **OTHER)(s),
         session_log.NOT_YOURS.split(",")[0], ("Cara", "Dev")),
    Case("ssp_session_not_delivered", "our SENDCo naming another school's session",
         lambda s: _button("U0SENDCO", f"ssp_session_not_delivered:{s.ids['their_session']}",
                           f"{s.ids['their_session']}:s{s.ids['other_sendco']}")(s),
         session_log.NOT_YOURS.split(",")[0], HILLSIDE),
    Case("ssp_session_absent (form)", "teacher",
         lambda s: submit_as(s, "U0LEE", session_form(s, "ssp_session_absent")),
         session_log.NOT_YOURS.split(",")[0]),
    Case("ssp_session_not_delivered (form)", "our SENDCo, the form naming another school's",
         lambda s: submit_as(s, "U0SENDCO", forged(session_form(s, "ssp_session_not_delivered"),
                                                   session_id=s.ids["their_session"])),
         session_log.NOT_YOURS.split(",")[0], HILLSIDE),
    # --- attachments (handlers/attachments.py)
    Case("ssp_attach_message (shortcut)", "teaching assistant",
         lambda s: lambda: s.sender.message_shortcut("U0TA", attach_listeners.SHORTCUT, {
             "type": "message", "ts": "1700000000.000300", "text": "",
             "files": [{"id": "F0NOTHERE", "name": "x.pdf"}]}),
         attach_listeners.NOT_A_WRITER),
    Case("ssp_attach_pupil", "teacher", lambda s: submit_as(s, "U0LEE", attach_pupil_form(s)),
         attach_listeners.NOT_A_WRITER),
    Case("ssp_attach", "case holder of another pupil",
         lambda s: submit_as(s, "U0TOM", attach_form(s)), attaching.NOT_YOURS),
    Case("ssp_attach", "our SENDCo, the form naming another school's pupil",
         lambda s: submit_as(s, "U0SENDCO", forged(attach_form(s), pupil_id=s.ids["zed"])),
         attaching.NOT_YOURS, HILLSIDE),
    Case("ssp_attach_open", "teaching assistant",
         lambda s: _in(reports_view(s),
                       lambda v: s.sender.view_button("U0TA", v, "ssp_attach_open", "reports")),
         attach_listeners.NOT_A_WRITER),
    Case("ssp_attach_open", "our SENDCo, the view naming another school's pupil",
         lambda s: _in(forged(reports_view(s), pupil_id=s.ids["zed"]),
                       lambda v: s.sender.view_button("U0SENDCO", v, "ssp_attach_open",
                                                      "reports")),
         attaching.NOT_YOURS, HILLSIDE),
    Case("ssp_attach_link", "teacher", _button("U0LEE", "ssp_attach_link", _ids("avas_file")),
         attaching.NOT_READABLE, ("Ava", "EP report")),
    Case("ssp_attach_link", "our SENDCo naming another school's file",
         _button("U0SENDCO", "ssp_attach_link", _ids("zeds_file")),
         attaching.NOT_READABLE, HILLSIDE),
    Case("ssp_attach_link", "the case holder, once the plan is closed",
         lambda s: _after(s, _close_avas_plan,
                          _button("U0PRIYA", "ssp_attach_link", _ids("avas_file"))(s)),
         attaching.NOT_READABLE, ("EP report",)),
    Case("ssp_attach_link", "someone not on the staff list",
         _button("U0STRANGER", "ssp_attach_link", _ids("avas_file")),
         UNKNOWN_USER.split(",")[0], ("EP report", "Ava")),
    Case("ssp_attach_message (shortcut)", "someone not on the staff list",
         lambda s: lambda: s.sender.message_shortcut("U0STRANGER", attach_listeners.SHORTCUT, {
             "type": "message", "ts": "1700000000.000300", "text": "",
             "files": [{"id": "F0NOTHERE", "name": "x.pdf"}]}),
         UNKNOWN_USER.split(",")[0]),
    # --- the review form's impact parts (handlers/reviews.py): rating, exit measure, decision
    Case("ssp_review (impact)", "teacher, the case holder's form",
         lambda s: submit_as(s, "U0LEE", avas_review(s), review_notes(avas_review(s))),
         "couldn't find an open plan for that pupil", ("Lexia",)),
    Case("ssp_review (impact)", "our SENDCo, the form naming another school's plan",
         lambda s: _in(forged(avas_review(s, "U0SENDCO"), plan_id=s.ids["zed_plan"]),
                       lambda v: s.sender.submit("U0SENDCO", v, review_notes(v))),
         "couldn't find an open plan for that pupil", HILLSIDE),
    # --- the evidence pack and transfer record (handlers/export.py, handlers/closure.py)
    Case("/ssp export --evidence", "teacher, a pupil they teach with no plan",
         _command("U0LEE", "export Dev Patel --evidence"), evidence.NOT_YOURS.split(".")[0],
         ("never had a plan",)),
    Case("/ssp export --evidence", "teacher, a pupil they teach with a plan",
         _command("U0LEE", "export Cara Lin --evidence"), evidence.NOT_YOURS.split(".")[0],
         ("never had a plan", "Cara Lin's")),
    Case("/ssp export --transfer", "case holder, a pupil with no plan",
         _command("U0PRIYA", "export Ben Stone --transfer"), "Only the SENDCo makes a transfer"),
    Case("/ssp export --evidence", "our SENDCo, another school's pupil by UPN",
         _command("U0SENDCO", "export A820123456005 --evidence"),
         NO_SUCH_PUPIL.split("“")[0], HILLSIDE),
    Case("/ssp export --evidence", "someone not on the staff list",
         _command("U0STRANGER", "export Ava Stone --evidence"), UNKNOWN_USER.split(",")[0]),
    Case("ssp_leavers_transfer", "case holder",
         _button("U0PRIYA", "ssp_leavers_transfer", _ids("their_leavers")), closure.ONLY_SENDCO),
    Case("ssp_leavers_transfer", "our SENDCo naming another school's leavers message",
         _button("U0SENDCO", "ssp_leavers_transfer", _ids("their_leavers")),
         "That message could not be found", HILLSIDE),
    Case("ssp_leavers_close", "our SENDCo naming another school's leavers message",
         _button("U0SENDCO", "ssp_leavers_close", _ids("their_leavers")),
         "That message could not be found", HILLSIDE),
]  # fmt: skip


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{c.listener} as {c.who}".replace(" ", "-") for c in CASES]
)
def test_the_least_privileged_sender_is_refused_politely_and_nothing_changes(slack, case):
    post = case.how(slack)  # opening a form someone else may open happens here, before
    wait_for_background_work()
    before = everything(slack)
    heard = send(slack, post)
    assert case.told in heard.text, heard.text
    if case.listener == "ssp_group_pupils_find":
        assert heard.reply == {"options": []}
    for hidden in case.hidden:
        assert hidden not in heard.text, hidden
    assert heard.raw_mrkdwn() == []
    assert everything(slack) == before


# --- what people type reaches Slack as they typed it ------------------------------------------


def _said(slack, user: str, post: Callable[[], object]) -> Heard:
    heard = send(slack, post)
    assert heard.raw_mrkdwn() == [], heard.raw_mrkdwn()
    return heard


def test_names_and_reasons_people_type_reach_slack_escaped_wherever_they_are_shown(slack):
    from tests.test_attachments import attach

    ids = slack.ids
    # The library, the map and an intervention's pupils (the SENDCo).
    for typed in ("provision library", "provision", "groups"):
        heard = _said(slack, "U0SENDCO", lambda t=typed: slack.sender.command("U0SENDCO", t))
        assert "&lt;!channel&gt;" in heard.text or "&lt;!here&gt;" in heard.text, typed
    pupils = _said(slack, "U0SENDCO", _button("U0SENDCO", f"provision_pupils_{ids['lexia']}",
                                              str(ids["lexia"]))(slack))  # fmt: skip
    # A typed mention is words too, even in a notification's text (raw_mrkdwn allows the
    # mentions the bot makes, so this is checked by itself).
    said = [c.params for c in pupils.calls if c.method == "response_url"]
    assert said and "<@U0SLT>" not in json.dumps(said) and "&lt;@U0SLT&gt;" in said[-1]["text"]
    # A group's view, Add pupils over it, and its runner's list of sessions.
    gid = ids["sams_group"]
    _said(slack, "U0TA", lambda: slack.sender.button("U0TA", f"ssp_group_open_{gid}", str(gid)))
    _said(slack, "U0TA", lambda: slack.sender.view_button(
        "U0TA", slack.emulator.open_views()[-1], "ssp_group_add", str(gid)))  # fmt: skip
    _said(slack, "U0TA", lambda: slack.sender.command("U0TA", "sessions"))
    # "Not delivered (why)": Other, in the runner's words, then shown back in the list.
    form = session_form(slack, "ssp_session_not_delivered")
    assert "&lt;!here&gt;" in json.dumps(form["blocks"])
    reason = next(b for b in form["blocks"] if b.get("block_id") == "reason")
    other = next(o for o in reason["element"]["options"] if o["value"] == "other")
    done = _said(slack, "U0TA", lambda: slack.sender.submit("U0TA", form, {
        "reason": {"type": "radio_buttons", "selected_option": other},
        "other": {"type": "plain_text_input", "value": NASTY_REASON}}))  # fmt: skip
    assert "Logged: not delivered" in done.text
    sid = ids["sams_session"]
    listed = _said(slack, "U0TA", _button("U0TA", f"ssp_session_change:{sid}",
                                          f"{sid}:s{ids['ta']}")(slack))  # fmt: skip
    assert "Fire drill &lt;!channel&gt; &amp; *all* &lt;https://x.example|y&gt;" in listed.text
    # The SENDCo retires and brings back the entry, and saves it from its form.
    for change in ("retire", "restore"):
        said = _said(slack, "U0SENDCO", lambda c=change: menu_choice(
            slack, "U0SENDCO", "provlib_item", f"{c}:{ids['lexia']}"))  # fmt: skip
        assert "Lexia &lt;!channel&gt; &amp; *co*" in said.text
    saved = _said(slack, "U0SENDCO", submit_as(slack, "U0SENDCO", library_form(slack)))
    assert "Lexia &lt;!channel&gt; &amp; *co*" in saved.text
    # A case holder adds Ava to the group from her plan: the answer names the group.
    joined = _said(slack, "U0PRIYA", submit_as(slack, "U0PRIYA", priyas_join_form(slack), {
        "group": {"type": "static_select", "selected_option": {
            "text": {"type": "plain_text", "text": "x"}, "value": str(gid)}}}))  # fmt: skip
    assert "Reading &lt;!here&gt; &amp; *boost*" in joined.text
    # An attached file's title: in the outcome, and listed in the plan's Reports.
    outcome = attach(slack, "U0PRIYA", attach_form(slack), title=NASTY_TITLE)
    # Read as Slack shows it: the ping and the link are words. (Slack has no escape for `*`:
    # "*draft*" reads bold, which is formatting, not a ping or a link.)
    assert "EP report <!channel> & draft <https://x.example|y> is attached" in outcome
    listing = reports_view(slack)
    assert "EP report &lt;!channel&gt; &amp; *draft*" in json.dumps(listing["blocks"])
    # Nothing the app sent Slack in all of this holds a raw <, > or &.
    assert raw_mrkdwn(slack.emulator.calls) == []
