"""Writing a plan in Slack, driven as a person would: commands, buttons in modals, submissions."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from models import (
    AuditEvent,
    Plan,
    PlanAdjustment,
    PlanStatus,
    PlanVoice,
    TeachingGroupPupil,
    TeachingGroupTeacher,
    TimelineEntry,
)
from tests.slack_harness import text_of

# --- driving modals ---------------------------------------------------------------------------


def open_plan(slack, user: str, text: str) -> dict:
    opened = len(slack.emulator.calls_to("views.open"))
    reply = slack.sender.command(user, text)
    assert reply.status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    return slack.emulator.open_views()[-1]


def click(slack, user: str, view: dict, action_id: str, value: str) -> dict:
    """Clicks a button in the open modal; returns the top modal once Slack has been told."""
    before = len([c for c in slack.emulator.calls if c.method.startswith("views.")])
    reply = slack.sender.view_button(user, view, action_id, value)
    assert reply.status == 200
    slack.emulator.wait_for(
        lambda calls: len([c for c in calls if c.method.startswith("views.")]) > before
    )
    return slack.emulator.open_views()[-1]


def submit(slack, user: str, view: dict, **typed) -> dict | None:
    """Submits the modal with what is shown in it, changed by `typed` (block id → value)."""
    reply = slack.sender.submit(user, view, form_state(view, typed))
    assert reply.status == 200, reply
    return reply.json()


def form_state(view: dict, typed: dict) -> dict:
    state = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element, block_id = block["element"], block["block_id"]
        kind = element["type"]
        if kind == "plain_text_input":
            value = typed.get(block_id, element.get("initial_value"))
            state[block_id] = {"type": kind, "value": value}
        elif kind == "datepicker":
            state[block_id] = {
                "type": kind,
                "selected_date": typed.get(block_id, element.get("initial_date")),
            }
        elif kind == "static_select":
            chosen = typed.get(block_id, (element.get("initial_option") or {}).get("value"))
            option = next((o for o in element["options"] if o["value"] == chosen), None)
            state[block_id] = {"type": kind, "selected_option": option}
        elif kind == "checkboxes":
            ticked = typed.get(block_id, bool(element.get("initial_options")))
            state[block_id] = {
                "type": kind,
                "selected_options": element["options"] if ticked else [],
            }
    return state


def modal_text(view: dict) -> str:
    return text_of({"blocks": view["blocks"]})


def wait_for_refresh(slack, count_before: int, n: int = 1):
    slack.emulator.wait_for(
        lambda calls: len(slack.emulator.calls_to("views.update")) >= count_before + n
    )


def plan_of(slack, pupil_key: str = "ava") -> Plan:
    """The pupil's open plan as saved, read in a session that is closed again at once."""
    from sqlalchemy.orm import selectinload

    with slack.sessions() as session:
        return session.scalar(
            select(Plan)
            .where(Plan.pupil_id == slack.ids[pupil_key], Plan.status != PlanStatus.CLOSED)
            .options(
                selectinload(Plan.voice),
                selectinload(Plan.targets),
                selectinload(Plan.adjustments),
                selectinload(Plan.assignments),
            )
        )


# --- opening ----------------------------------------------------------------------------------


def test_the_plan_opens_in_a_modal_with_every_section(slack):
    view = open_plan(slack, "U0PRIYA", "plan Ava Stone")
    text = modal_text(view)
    assert view["callback_id"] == "plan_overview"
    for title in (
        "Plan dates",
        "My voice",
        "Family hopes",
        "Circle of support",
        "Needs",
        "Adjustments",
        "Long-term outcomes",
        "SMART targets",
        "Provision",
        "External agencies",
        "Reports",
        "Linked plans",
        "People",
        "Sharing consent",
    ):
        assert title in text, title
    assert "Slow reading speed" in text and "Lexia reading programme" in text
    buttons = [b["accessory"]["text"]["text"] for b in view["blocks"] if "accessory" in b]
    assert "Edit" in buttons and "Add" in buttons


def test_the_open_plan_button_on_a_pupil_summary_opens_it(slack):
    summary = slack.ask("U0PRIYA", "pupil Ava Stone")
    button = next(
        e
        for b in summary["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "ssp_open_plan"
    )
    opened = len(slack.emulator.calls_to("views.open"))
    slack.sender.button("U0PRIYA", "ssp_open_plan", button["value"])
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    assert slack.emulator.open_views()[-1]["callback_id"] == "plan_overview"


def test_a_senior_leader_reads_but_cannot_edit(slack):
    view = open_plan(slack, "U0SLT", "plan Ava Stone")
    assert not [b for b in view["blocks"] if "accessory" in b]
    assert "Only the SENDCo and the plan's case holder can change it" in modal_text(view)


def test_a_teacher_is_pointed_to_ssp_pupil_and_others_see_nothing(slack):
    assert "`/ssp pupil` shows you what you need" in text_of(slack.ask("U0LEE", "plan Cara Lin"))
    assert "couldn't find a pupil" in text_of(slack.ask("U0PRIYA", "plan Cara Lin"))
    assert "couldn't find a pupil" in text_of(slack.ask("U0TA", "plan Cara Lin"))
    assert slack.emulator.calls_to("views.open") == []


# --- single sections --------------------------------------------------------------------------


def test_writing_the_pupils_voice(slack):
    overview = open_plan(slack, "U0PRIYA", "plan Ava Stone")
    form = click(slack, "U0PRIYA", overview, "plan_open_section", "voice")
    assert form["callback_id"] == "plan_form" and len(slack.emulator.open_views()) == 2
    updates = len(slack.emulator.calls_to("views.update"))
    answer = submit(
        slack,
        "U0PRIYA",
        form,
        **{"aspirations--0": "To be a vet", "good_day--0": "Art first thing"},
    )
    assert answer is None  # the form closes, back to the plan
    wait_for_refresh(slack, updates)
    assert "To be a vet" in modal_text(slack.emulator.open_views()[-1])
    plan = plan_of(slack)
    assert plan.voice.aspirations == "To be a vet" and plan.version == 2
    with slack.sessions() as session:
        assert session.scalar(select(func.count()).select_from(TimelineEntry)) == 1
        assert session.scalar(select(func.count()).where(AuditEvent.action == "update")) == 1


def test_a_long_text_spans_several_boxes_and_nothing_is_lost(slack):
    story = " ".join(f"Sentence {n} about what makes a good day." for n in range(160))
    assert len(story) > 6000
    with slack.sessions.begin() as session:
        plan = session.get(Plan, slack.ids["ava_plan"])
        plan.voice = PlanVoice(good_day=story)
    overview = open_plan(slack, "U0PRIYA", "plan Ava Stone")
    form = click(slack, "U0PRIYA", overview, "plan_open_section", "voice")
    boxes = [b for b in form["blocks"] if b.get("block_id", "").startswith("good_day--")]
    assert len(boxes) >= 3
    assert all(len(b["element"].get("initial_value", "")) <= 3000 for b in boxes)
    assert submit(slack, "U0PRIYA", form) is None
    assert plan_of(slack).voice.good_day.split() == story.split()


# --- list sections ----------------------------------------------------------------------------


def test_adding_a_target_with_inline_validation(slack):
    overview = open_plan(slack, "U0PRIYA", "plan Ava Stone")
    entries = click(slack, "U0PRIYA", overview, "plan_open_section", "targets")
    assert entries["callback_id"] == "plan_section_list"
    assert "Read 20 high-frequency words" in modal_text(entries)
    form = click(slack, "U0PRIYA", entries, "plan_add_item", "targets")
    assert len(slack.emulator.open_views()) == 3  # Slack's limit, and no more

    missing = submit(slack, "U0PRIYA", form)
    assert missing["response_action"] == "errors"
    assert "description--0" in missing["errors"]

    backwards = submit(
        slack,
        "U0PRIYA",
        form,
        **{
            "description--0": "Spell 10 topic words",
            "start_date": "2026-12-01",
            "end_date": "2026-11-01",
        },
    )
    assert backwards["errors"] == {"end_date": "This is before the start date."}

    updates = len(slack.emulator.calls_to("views.update"))
    assert (
        submit(
            slack,
            "U0PRIYA",
            form,
            **{
                "description--0": "Spell 10 topic words",
                "measure--0": "Weekly spelling check",
                "start_date": "2026-12-01",
                "end_date": "2027-02-01",
            },
        )
        is None
    )
    wait_for_refresh(slack, updates, n=2)  # the list and the plan underneath
    stack = slack.emulator.open_views()
    assert len(stack) == 2 and "Spell 10 topic words" in modal_text(stack[-1])
    plan = plan_of(slack)
    assert [t.description for t in plan.targets][-1] == "Spell 10 topic words"
    # A case holder changing an approved plan's targets sends it for quality assurance.
    assert plan.status == PlanStatus.AWAITING_QA


def test_removing_an_entry(slack):
    overview = open_plan(slack, "U0SENDCO", "plan Ava Stone")
    entries = click(slack, "U0SENDCO", overview, "plan_open_section", "adjustments")
    item = next(b for b in entries["blocks"] if "Coloured overlay" in str(b))
    form = click(slack, "U0SENDCO", entries, "plan_edit_item", item["accessory"]["value"])
    assert submit(slack, "U0SENDCO", form, remove=True) is None
    assert [a.description for a in plan_of(slack).adjustments] == ["25% extra time"]
    assert plan_of(slack).status == PlanStatus.ACTIVE  # the SENDCo's own change needs no QA


def add_strategies(slack, count: int) -> None:
    """`count` more adjustments on Ava's plan: "Strategy number 00", 01, ..."""
    with slack.sessions.begin() as session:
        for n in range(count):
            session.add(
                PlanAdjustment(
                    plan_id=slack.ids["ava_plan"],
                    kind="in_class",
                    description=f"Strategy number {n:02d}",
                    position=10 + n,
                )
            )


def test_a_long_section_pages(slack):
    add_strategies(slack, 25)
    overview = open_plan(slack, "U0PRIYA", "plan Ava Stone")
    entries = click(slack, "U0PRIYA", overview, "plan_open_section", "adjustments")
    assert "27 entries · page 1 of 2" in modal_text(entries)
    assert len(entries["blocks"]) <= 100
    second = click(slack, "U0PRIYA", entries, "plan_section_page_next", "2")
    assert "page 2 of 2" in modal_text(second) and "Strategy number 24" in modal_text(second)


def test_an_entry_of_another_plan_cannot_be_opened_by_changing_the_button(slack):
    with slack.sessions() as session:
        cara_target = (
            session.scalar(select(Plan).where(Plan.pupil_id == slack.ids["cara"])).targets[0].id
        )
    overview = open_plan(slack, "U0PRIYA", "plan Ava Stone")
    entries = click(slack, "U0PRIYA", overview, "plan_open_section", "targets")
    pushes = len(slack.emulator.calls_to("views.push"))
    slack.sender.view_button("U0PRIYA", entries, "plan_edit_item", str(cara_target))
    import time

    time.sleep(0.3)
    assert len(slack.emulator.calls_to("views.push")) == pushes


# --- two people at once -----------------------------------------------------------------------


def test_the_second_save_is_refused_with_who_changed_it_and_an_offer_to_reload(slack):
    mine = click(
        slack,
        "U0PRIYA",
        open_plan(slack, "U0PRIYA", "plan Ava Stone"),
        "plan_open_section",
        "family",
    )
    theirs = click(
        slack,
        "U0SENDCO",
        open_plan(slack, "U0SENDCO", "plan Ava Stone"),
        "plan_open_section",
        "family",
    )
    assert submit(slack, "U0SENDCO", theirs, **{"family_hopes--0": "Morgan's words"}) is None

    refused = submit(slack, "U0PRIYA", mine, **{"family_hopes--0": "Priya's words"})
    assert refused["response_action"] == "update"
    text = text_of({"blocks": refused["view"]["blocks"]})
    assert "Not saved" in text and "Morgan Reed changed this plan" in text
    assert "Priya's words" in text  # what she typed is shown, not lost
    assert plan_of(slack).voice.family_hopes == "Morgan's words"

    conflict = slack.emulator.views[mine["id"]]  # her form, now showing the refusal
    assert conflict["callback_id"] == "plan_notice"
    reloaded = click(slack, "U0PRIYA", conflict, "plan_reload", "reload")
    reloaded = slack.emulator.views[mine["id"]]
    box = next(b for b in reloaded["blocks"] if b.get("block_id") == "family_hopes--0")
    assert box["element"]["initial_value"] == "Morgan's words"
    assert submit(slack, "U0PRIYA", reloaded, **{"family_hopes--0": "Both"}) is None
    assert plan_of(slack).voice.family_hopes == "Both"


def test_a_save_refused_for_someone_who_may_not_write_the_plan_names_nobody(slack):
    """Priya teaches Cara, so she sees Cara's teacher view, and writes plans, but not Cara's
    (Tom holds it). A form pointed at Cara's plan with an old version must not tell her who
    saved it last, nor when."""
    with slack.sessions.begin() as session:
        cara_plan = session.scalar(select(Plan).where(Plan.pupil_id == slack.ids["cara"]))
        cara_plan.updated_by_id = slack.ids["tom"]
        cara_plan.voice = PlanVoice(family_hopes="Tom's words")
        group_id = session.scalar(
            select(TeachingGroupPupil.group_id).where(
                TeachingGroupPupil.pupil_id == slack.ids["cara"]
            )
        )
        session.add(TeachingGroupTeacher(group_id=group_id, staff_id=slack.ids["priya"]))
        cara_plan_id = cara_plan.id
    form = click(
        slack,
        "U0PRIYA",
        open_plan(slack, "U0PRIYA", "plan Ava Stone"),
        "plan_open_section",
        "family",
    )
    meta = json.loads(form["private_metadata"])
    meta.update(plan_id=cara_plan_id, pupil_id=slack.ids["cara"], version=0)
    forged = {**form, "private_metadata": json.dumps(meta)}
    refused = submit(slack, "U0PRIYA", forged, **{"family_hopes--0": "Priya's words"})
    shown = json.dumps(refused)
    assert "Tom Baker" not in shown and "changed this plan" not in shown
    assert plan_of(slack, "cara").voice.family_hopes == "Tom's words"


# --- plain language ---------------------------------------------------------------------------


def test_unexplained_acronyms_are_flagged_on_save(slack):
    overview = open_plan(slack, "U0PRIYA", "plan Ava Stone")
    entries = click(slack, "U0PRIYA", overview, "plan_open_section", "provision")
    form = click(slack, "U0PRIYA", entries, "plan_add_item", "provision")
    answer = submit(slack, "U0PRIYA", form, **{"what--0": "Weekly ZQX group with the ELSA"})
    assert answer["response_action"] == "update"
    text = text_of({"blocks": answer["view"]["blocks"]})
    assert "Saved" in text and "ZQX" in text and "ELSA" not in text.split("yet:")[1]
    assert "/ssp glossary add ZQX" in text


def test_the_glossary_lists_and_learns_acronyms(slack):
    listed = text_of(slack.ask("U0LEE", "glossary"))
    assert "ELSA: Emotional Literacy Support Assistant" in listed
    assert "Only the SENDCo" in text_of(slack.ask("U0LEE", 'glossary add ZQX "Zebra quiz"'))
    added = text_of(slack.ask("U0PRIYA", "glossary add ZQX “Zebra quiz: a &lt;fun&gt; game”"))
    assert "Added ZQX: Zebra quiz: a <fun> game" in added
    assert "ZQX: Zebra quiz" in text_of(slack.ask("U0LEE", "glossary"))
    assert "add ELSA" in text_of(slack.ask("U0PRIYA", "glossary add"))


# --- new plans --------------------------------------------------------------------------------


# Issue 13 changed who starts a plan: the SENDCo, who decides who holds each plan (guidance
# §4.3); a case holder's `/ssp plan new` asks the SENDCo (tests/test_team.py). These two tests
# were Priya's (a case holder) and are now Morgan's (the SENDCo).


def test_starting_a_plan_for_a_pupil_without_one(slack):
    view = open_plan(slack, "U0SENDCO", "plan new Dev Patel")
    assert view["callback_id"] == "plan_overview" and "Dev Patel" in modal_text(view)
    plan = plan_of(slack, "dev")
    assert plan.status == PlanStatus.DRAFT and plan.cycle_number == 1
    assert plan.case_holder_id == slack.ids["sendco"]
    assert [a.reason for a in plan.assignments] == ["started the plan"]


def test_a_plan_cannot_be_started_twice_or_by_a_teacher(slack):
    assert "No pupil without a plan matches" in text_of(slack.ask("U0SENDCO", "plan new Ava"))
    assert "Only the SENDCo and case holders" in text_of(slack.ask("U0LEE", "plan new Dev"))
    assert "`/ssp plan new <UPN or name>`" in text_of(slack.ask("U0PRIYA", "plan"))


# --- every section ----------------------------------------------------------------------------


def minimal_answers(form: dict, section) -> dict:
    """A valid answer for each required field of the form, as a person would give it."""
    typed = {}
    for f in section.fields:
        if not f.required:
            continue
        if f.kind == "long":
            typed[f"{f.name}--0"] = f"A plain {f.name} for the test"
        elif f.kind == "text":
            typed[f.name] = f"A {f.name}"
        elif f.kind == "date":
            typed[f.name] = "2026-12-01"
        elif f.kind == "select":
            block = next(b for b in form["blocks"] if b.get("block_id") == f.name)
            typed[f.name] = block["element"]["options"][0]["value"]
    if section.key == "provision":  # "what", or an entry of the provision library
        typed["what--0"] = "A plain what for the test"
    return typed


@pytest.mark.parametrize(
    "key", list(__import__("bot.services.plan_editing", fromlist=["SECTIONS"]).SECTIONS)
)
def test_every_section_has_a_form_that_validates_and_saves(slack, key):
    from bot.services.plan_editing import SECTIONS

    section = SECTIONS[key]
    overview = open_plan(slack, "U0SENDCO", "plan Ben Stone")
    shown = click(slack, "U0SENDCO", overview, "plan_open_section", key)
    form = click(slack, "U0SENDCO", shown, "plan_add_item", key) if section.is_list else shown
    assert form["callback_id"] == "plan_form"
    assert len(form["blocks"]) <= 100

    required = [f for f in section.fields if f.required]
    if required and section.key != "targets":  # a new target starts as "working on it"
        empty = submit(slack, "U0SENDCO", form)
        assert empty["response_action"] == "errors"
        expected = {f"{f.name}--0" if f.kind == "long" else f.name for f in required}
        if section.key == "needs":  # a new need starts from the roster's code (Ben: SEMH)
            expected.discard("broad_area")
        assert set(empty["errors"]) == expected
    if section.key == "provision":  # no field required alone: "what" or a library entry
        assert set(submit(slack, "U0SENDCO", form)["errors"]) == {"what--0"}

    version = plan_of(slack, "ben").version
    answer = submit(slack, "U0SENDCO", form, **minimal_answers(form, section))
    assert answer is None or answer["response_action"] == "update"
    assert plan_of(slack, "ben").version == version + 1


def test_open_plan_from_the_app_home(slack):
    slack.sender.app_home_opened("U0PRIYA")
    slack.emulator.wait_for(lambda calls: "U0PRIYA" in slack.emulator.home_views)
    home = slack.emulator.home_views["U0PRIYA"]
    button = next(
        b["accessory"]
        for b in home["blocks"]
        if b.get("accessory", {}).get("action_id") == "ssp_open_plan"
    )
    opened = len(slack.emulator.calls_to("views.open"))
    slack.sender.button("U0PRIYA", "ssp_open_plan", button["value"])
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    assert slack.emulator.open_views()[-1]["callback_id"] == "plan_overview"
