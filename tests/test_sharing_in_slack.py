"""Sharing a plan, chosen and seen in Slack (issue 13): a note shared with the family on purpose,
and a withdrawal of consent shown on the plan where staff look at it.

Brookside High (tests/slack_harness.py) with Ava's plan filled in as tests/test_export.py fills
it: Ms Stone's consent of 20 September 2026, and a staff-only note on the timeline.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from models import Plan, SharingConsent, TimelineEntry
from tests.slack_harness import text_of
from tests.test_export import STAFF_ONLY, exported, fill_avas_plan, parse, record_consent
from tests.test_plan_editor import click, modal_text, open_plan

SHARE = "Share with the family (it will appear in the family's copy of the plan)"
WITHDRAWN = "Consent to share this plan was withdrawn on 2 November 2026"


@pytest.fixture
def school_extras():
    return fill_avas_plan


def text(value: str) -> dict:
    return {"type": "plain_text_input", "value": value}


def choose(value: str) -> dict:
    return {"type": "static_select", "selected_option": {"value": value}}


def ticked(view: dict) -> dict:
    """The family-copy box ticked, as Slack sends back the option the modal offered."""
    (box,) = [b for b in view["blocks"] if b.get("block_id") == "share"]
    return {"type": "checkboxes", "selected_options": box["element"]["options"]}


def share_box(view: dict) -> dict:
    (box,) = [b for b in view["blocks"] if b.get("block_id") == "share"]
    return box


def open_modal(slack, user: str, send) -> dict:
    opened = len(slack.emulator.calls_to("views.open"))
    assert send().status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    return slack.emulator.open_views(user)[-1]


def family_timeline(slack, user: str = "U0PRIYA") -> str:
    _, doc = exported(slack, user, "Ava Stone --for family", "family")
    return doc.section("timeline")


# --- 1. a note shared with the family ----------------------------------------------------------


def test_a_note_reaches_the_family_copy_only_when_the_box_is_ticked(slack):
    command = lambda: slack.sender.command("U0PRIYA", "note Ava")  # noqa: E731
    modal = open_modal(slack, "U0PRIYA", command)
    box = share_box(modal)
    assert box["optional"] is True and "initial_options" not in box["element"]  # unticked
    assert [o["text"]["text"] for o in box["element"]["options"]] == [SHARE]

    kept = {"kind": choose("note"), "text--0": text("Ava wobbled in maths, watch this week")}
    done = slack.sender.submit("U0PRIYA", modal, kept).json()
    assert "Filed on Ava Stone's plan" in text_of(done["view"])
    modal = open_modal(slack, "U0PRIYA", command)
    shared = {"kind": choose("note"), "text--0": text("Ava read her poem to the whole class")}
    done = slack.sender.submit("U0PRIYA", modal, {**shared, "share": ticked(modal)}).json()
    assert "Filed on Ava Stone's plan" in text_of(done["view"])

    timeline = family_timeline(slack)
    assert "Ava read her poem to the whole class" in timeline
    assert "Ava wobbled in maths" not in timeline
    assert STAFF_ONLY["timeline note"] not in timeline
    # the staff copy keeps both
    staff = parse(slack.export("U0PRIYA", "Ava Stone").body).section("timeline")
    assert "Ava wobbled in maths" in staff and "Ava read her poem" in staff


def shortcut_to_confirm(slack, words: str, kind: str, share: bool) -> tuple[dict, dict]:
    """The message shortcut on a message saying `words`, the box ticked or not, Ava typed as the
    pupil: returns the confirming modal and what was typed."""
    message = {"type": "message", "text": words, "ts": "1.000300"}
    modal = open_modal(
        slack,
        "U0PRIYA",
        lambda: slack.sender.message_shortcut("U0PRIYA", "ssp_add_to_plan", message),
    )
    assert "initial_options" not in share_box(modal)["element"]  # unticked until ticked
    typed = {"kind": choose(kind), "text--0": text(words)}
    box = {"share": ticked(modal)} if share else {}
    slack.sender.submit("U0PRIYA", modal, {**typed, "pupil": text("Ava"), **box})
    confirm = slack.emulator.open_views("U0PRIYA")[-1]
    assert confirm["callback_id"] == "ssp_note_confirm"
    return confirm, typed


def test_the_message_shortcut_keeps_the_tick_through_choosing_the_pupil(slack):
    confirm, typed = shortcut_to_confirm(slack, "Ava ran the school council", "meeting", True)
    box = share_box(confirm)
    assert [o["text"]["text"] for o in box["element"].get("initial_options", [])] == [SHARE]
    filed = slack.sender.submit("U0PRIYA", confirm, {**typed, "share": ticked(confirm)}).json()
    assert "Filed on Ava Stone's plan" in text_of(filed["view"])
    assert "Ava ran the school council" in family_timeline(slack)


def test_a_shortcut_note_left_unticked_stays_staff_only(slack):
    confirm, typed = shortcut_to_confirm(slack, "Dad sounded worried on the phone", "note", False)
    assert "initial_options" not in share_box(confirm)["element"]
    slack.sender.submit("U0PRIYA", confirm, typed)
    with slack.sessions() as session:
        entry = session.scalar(
            select(TimelineEntry).where(TimelineEntry.summary.startswith("Dad sounded"))
        )
        assert entry is not None and entry.shared_with_family is False
    assert "Dad sounded worried" not in family_timeline(slack)


# --- 2. a withdrawal shown on the plan ---------------------------------------------------------


def test_the_plan_overview_shows_a_withdrawn_consent(slack):
    assert WITHDRAWN not in modal_text(open_plan(slack, "U0PRIYA", "plan Ava Stone"))
    record_consent(slack, withdrawn_on=date(2026, 11, 2))
    for user in ("U0PRIYA", "U0SLT"):  # the case holder who edits it; a leader who reads it
        overview = open_plan(slack, user, "plan Ava Stone")
        shown = " ".join(modal_text(overview).split())
        assert f"{WITHDRAWN}: it won't be sent outside the school" in shown, user
        (consent,) = [b for b in overview["blocks"] if b.get("block_id") == "section-consent"]
        assert "Ms Stone (withdrawn 2 November 2026):" in consent["text"]["text"], user

    overview = open_plan(slack, "U0PRIYA", "plan Ava Stone")
    entries = click(slack, "U0PRIYA", overview, "plan_open_section", "consent")
    assert "withdrawn 2 November 2026" in modal_text(entries)


def test_consent_given_again_takes_the_line_off_the_overview(slack):
    record_consent(slack, withdrawn_on=date(2026, 11, 2))
    assert WITHDRAWN in modal_text(open_plan(slack, "U0PRIYA", "plan Ava Stone"))
    with slack.sessions.begin() as session:
        plan = session.get(Plan, slack.ids["ava_plan"])
        plan.consents.append(
            SharingConsent(given_by="Ms Stone", scope="Ava's teachers", given_on=date(2026, 11, 9))
        )
    assert WITHDRAWN not in modal_text(open_plan(slack, "U0PRIYA", "plan Ava Stone"))


def test_pupil_summary_shows_the_withdrawal_to_the_record_holders_and_not_to_teachers(slack):
    assert WITHDRAWN not in " ".join(text_of(slack.ask("U0PRIYA", "pupil Ava")).split())
    record_consent(slack, withdrawn_on=date(2026, 11, 2))
    for user in ("U0SENDCO", "U0SLT", "U0PRIYA"):  # Priya holds Ava's plan
        shown = " ".join(text_of(slack.ask(user, "pupil Ava Stone")).split())
        assert f"{WITHDRAWN}: it won't be sent outside the school" in shown, user

    # Lee only teaches Cara: the consent is part of the record, which a teacher isn't shown.
    with slack.sessions.begin() as session:
        cara_plan = session.scalar(select(Plan).where(Plan.pupil_id == slack.ids["cara"]))
        cara_plan.consents.append(
            SharingConsent(
                given_by="Mr Cole",
                scope="Cara's teachers",
                given_on=date(2026, 9, 1),
                withdrawn_on=date(2026, 11, 2),
            )
        )
    assert WITHDRAWN in " ".join(text_of(slack.ask("U0SENDCO", "pupil Cara")).split())
    teacher = " ".join(text_of(slack.ask("U0LEE", "pupil Cara")).split())
    assert "Cara" in teacher and "Targets" in teacher  # the teacher's summary, answered
    assert WITHDRAWN not in teacher and "withdrawn" not in teacher.lower()
