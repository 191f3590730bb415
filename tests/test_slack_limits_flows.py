"""Every surface the app sends, reached through Slack flows with hostile data, passes Slack's
limits: the emulator refuses what bot.slack_limits finds, so it is the judge. Names and typed
answers holding `& < >` and `<script>`, 3,000-character answers, long names, a plan with 150
targets and outcomes, a glossary of 800 terms. And when Slack refuses a reply all the same, the
person is told, and only the error code is logged."""

from __future__ import annotations

import json
import logging
import re

import pytest
from sqlalchemy import select

from bot.demo.slack_emulator import RESPONSE_URL
from bot.services import plan_editing
from bot.slack_limits import MAX_SELECT_OPTIONS, options_problems, unescaped_mrkdwn
from models import GlossaryTerm, PlanOutcome, PlanProvision, PlanTarget, Pupil, Staff
from tests.slack_harness import text_of
from tests.test_plan_editor import add_strategies, click, modal_text, open_plan, submit

AVA = "A820123456001"  # Ava Stone's UPN: her name is made unsearchable below
HOSTILE = "<script>&<!here>"
LONG = ("It was <b>hard</b> & we said <!channel> " * 100)[:3000]


def hostile_name(start: str) -> str:
    return (f"{start} {HOSTILE} " + "y" * 100)[:100]  # the column's full 100 characters


@pytest.fixture
def hostile(slack):
    """Ava's names, and the SENDCo's and Priya's, as long and as awkward as the columns allow."""
    with slack.sessions.begin() as session:
        ava = session.get(Pupil, slack.ids["ava"])
        ava.first_name, ava.last_name = hostile_name("Ava"), hostile_name("Stone")
        for key in ("sendco", "priya"):
            person = session.get(Staff, slack.ids[key])
            person.last_name = hostile_name(person.last_name)
    return slack


SENT = ("chat.postMessage", "chat.postEphemeral", "chat.update", "views.open", "views.push")
SENT += ("views.update", "views.publish", RESPONSE_URL)


def sent_surfaces(slack) -> list[tuple[str, dict]]:
    found = []
    for call in slack.emulator.calls:
        if call.method.startswith("chat."):
            found.append(
                (call.method, {"text": call.params.get("text"), "blocks": call.json("blocks")})
            )
        elif call.method.startswith("views."):
            found.append((call.method, call.json("view")))
        elif call.method == RESPONSE_URL:
            found.append((call.method, call.params))
    return found


def assert_slack_took_everything(slack) -> None:
    """Slack (the emulator, with bot.slack_limits) refused nothing the app sent, and no one's
    words reached mrkdwn raw."""
    refused = [
        (call.method, call.error or call.response)
        for call in slack.emulator.calls
        if call.method in SENT
        and not (call.http_status == 200 if call.method == RESPONSE_URL else call.ok)
    ]
    assert refused == []
    raw = [(m, p) for m, s in sent_surfaces(slack) if s for p in unescaped_mrkdwn(s)]
    assert raw == []


def submitted(slack, user: str, view: dict, **typed) -> dict | None:
    """`submit`, with the app's answer (a view it shows in place of the form) judged too: the
    emulator has already refused it if it broke a limit."""
    answer = submit(slack, user, view, **typed)
    if answer and answer.get("view"):
        assert unescaped_mrkdwn(answer["view"]) == []
    return answer


# --- names and typed answers ------------------------------------------------------------------


def test_every_reply_with_hostile_names_is_taken_by_slack(hostile):
    for asked in (
        "help",
        "caseload",
        "overdue",
        "priority",
        "mine",
        "team",
        "qa",
        "glossary",
        f"pupil {AVA}",
        "caseload <@U0PRIYA|priya>",
        "<script> & more",
    ):
        hostile.ask("U0SENDCO", asked)
    summary = hostile.ask("U0PRIYA", f"pupil {AVA}")
    assert f"Ava {HOSTILE}" in text_of(summary)
    published = len(hostile.emulator.calls_to("views.publish"))
    hostile.sender.app_home_opened("U0PRIYA")
    hostile.emulator.wait_for(
        lambda calls: len(hostile.emulator.calls_to("views.publish")) > published
    )
    assert_slack_took_everything(hostile)


def test_every_plan_section_and_its_form_is_taken_with_hostile_names(hostile):
    for key, section in plan_editing.SECTIONS.items():
        overview = open_plan(hostile, "U0PRIYA", f"plan {AVA}")
        shown = click(hostile, "U0PRIYA", overview, "plan_open_section", key)
        if section.is_list:
            click(hostile, "U0PRIYA", shown, "plan_add_item", key)
    assert_slack_took_everything(hostile)


def test_3000_character_answers_are_saved_shown_again_and_quoted_in_a_conflict(hostile):
    overview = open_plan(hostile, "U0PRIYA", f"plan {AVA}")
    family = click(hostile, "U0PRIYA", overview, "plan_open_section", "family")
    longer = {"family_hopes--0": LONG}
    if any(b.get("block_id") == "family_hopes--1" for b in family["blocks"]):
        longer["family_hopes--1"] = LONG[:1500]
    assert submitted(hostile, "U0PRIYA", family, **longer) is None

    reopened = click(
        hostile,
        "U0PRIYA",
        open_plan(hostile, "U0PRIYA", f"plan {AVA}"),
        "plan_open_section",
        "family",
    )
    boxes = [b["element"] for b in reopened["blocks"] if b.get("type") == "input"]
    assert boxes[0]["initial_value"] == LONG.rstrip()  # all of it, in a box that holds it
    assert all(len(box.get("initial_value") or "") <= box["max_length"] for box in boxes)

    # Someone else saves first: the 3,000 characters come back in the notice, to copy.
    mine = click(
        hostile,
        "U0PRIYA",
        open_plan(hostile, "U0PRIYA", f"plan {AVA}"),
        "plan_open_section",
        "family",
    )
    theirs = click(
        hostile,
        "U0SENDCO",
        open_plan(hostile, "U0SENDCO", f"plan {AVA}"),
        "plan_open_section",
        "family",
    )
    assert submitted(hostile, "U0SENDCO", theirs, **{"family_hopes--0": "Short"}) is None
    refused = submitted(hostile, "U0PRIYA", mine, **{"family_hopes--0": LONG})
    assert refused["response_action"] == "update"
    assert "Not saved." in text_of({"blocks": refused["view"]["blocks"]})
    assert_slack_took_everything(hostile)


# --- long lists -------------------------------------------------------------------------------


@pytest.fixture
def crowded_plan(hostile):
    """Ava's plan with 150 long-term outcomes and 150 targets, each worded awkwardly."""
    with hostile.sessions.begin() as session:
        for n in range(150):
            outcome = PlanOutcome(
                plan_id=hostile.ids["ava_plan"],
                description=f"Outcome {n:03d} {HOSTILE} " + "o" * 200,
                position=n,
            )
            session.add(outcome)
            session.add(
                PlanTarget(
                    plan_id=hostile.ids["ava_plan"],
                    description=f"Target {n:03d} {HOSTILE} " + "t" * 200,
                    position=10 + n,
                )
            )
    return hostile


def suggest(slack, user: str, view: dict, block_id: str, typed: str):
    """What Slack sends as the person types into an external select (block_suggestion)."""
    payload = slack.sender._interaction(
        "block_suggestion",
        user,
        None,
        slack.emulator.new_trigger_id(),
        container={"type": "view", "view_id": view["id"]},
        view=view,
        action_id="value",
        block_id=block_id,
        value=typed,
    )
    return slack.sender._post_interaction(payload)


def test_a_plan_with_150_targets_and_outcomes_pages_and_searches_its_menus(crowded_plan):
    slack = crowded_plan
    overview = open_plan(slack, "U0PRIYA", f"plan {AVA}")
    assert "…and 146 more" in modal_text(overview)  # the first five of 151 targets shown
    targets = click(slack, "U0PRIYA", overview, "plan_open_section", "targets")
    assert "151 entries · page 1 of 8" in modal_text(targets)
    page = click(slack, "U0PRIYA", targets, "plan_section_page_next", "2")
    page = click(slack, "U0PRIYA", page, "plan_section_page_next", "3")
    assert "page 3 of 8" in modal_text(page) and "Target 039" in modal_text(page)

    # A new target: "towards which outcome" has 150 choices, more than a menu's 100.
    target_form = click(slack, "U0PRIYA", page, "plan_add_item", "targets")
    outcome_menu = next(b for b in target_form["blocks"] if b.get("block_id") == "outcome_id")
    assert outcome_menu["element"]["type"] == "external_select"
    assert "among 150" in outcome_menu["hint"]["text"]

    # A new provision: "towards which target" has 151; typing narrows them.
    overview = open_plan(slack, "U0PRIYA", f"plan {AVA}")
    provision = click(slack, "U0PRIYA", overview, "plan_open_section", "provision")
    form = click(slack, "U0PRIYA", provision, "plan_add_item", "provision")
    assert next(b for b in form["blocks"] if b.get("block_id") == "target_id")
    everything = suggest(slack, "U0PRIYA", form, "target_id", "")
    assert everything.status == 200
    offered = everything.json()["options"]
    assert len(offered) == MAX_SELECT_OPTIONS and options_problems(everything.json()) == []
    narrowed = suggest(slack, "U0PRIYA", form, "target_id", "target 149").json()["options"]
    assert [o["text"]["text"][:10] for o in narrowed] == ["Target 149"]
    chosen = narrowed[0]

    state = {
        "what--0": {"type": "plain_text_input", "value": "Reading group"},
        "target_id": {"type": "external_select", "selected_option": chosen},
    }
    answer = slack.sender.submit("U0PRIYA", form, state)
    assert answer.status == 200 and not answer.body  # closed: saved
    with slack.sessions() as session:
        saved = session.scalar(select(PlanProvision).where(PlanProvision.what == "Reading group"))
        target = session.get(PlanTarget, saved.target_id)
        assert target.description.startswith("Target 149")
    assert_slack_took_everything(slack)


def test_a_menu_search_from_someone_who_may_not_write_the_plan_offers_nothing(crowded_plan):
    slack = crowded_plan
    overview = open_plan(slack, "U0PRIYA", f"plan {AVA}")
    provision = click(slack, "U0PRIYA", overview, "plan_open_section", "provision")
    form = click(slack, "U0PRIYA", provision, "plan_add_item", "provision")
    taken = suggest(slack, "U0LEE", form, "target_id", "target")
    assert taken.status == 200 and taken.json()["options"] == []


@pytest.fixture
def long_glossary(slack):
    """800 of the school's own acronyms, each with a meaning long enough to need many pages."""
    with slack.sessions.begin() as session:
        school_id = slack.ids["school"]
        for n in range(800):
            session.add(
                GlossaryTerm(
                    school_id=school_id,
                    acronym=f"ZZ{n:03d}",
                    meaning=f"Meaning {n:03d} & <more> " + "m" * 80,
                )
            )
    return slack


def test_a_glossary_of_800_terms_pages_past_page_2(long_glossary):
    slack = long_glossary
    first = slack.ask("U0LEE", "glossary")
    pages = int(re.search(r"page 1 of (\d+)", text_of(first)).group(1))
    assert pages > 3
    seen, reply = [], first
    for number in range(1, pages + 1):
        assert f"page {number} of {pages}" in text_of(reply)
        assert len(reply["blocks"]) <= 50
        seen += re.findall(r"^(ZZ\d{3}): ", text_of(reply), flags=re.MULTILINE)
        buttons = [e for b in reply["blocks"] if b["type"] == "actions" for e in b["elements"]]
        following = [b for b in buttons if b["action_id"] == "ssp_page_next"]
        if number == pages:
            assert following == []
            break
        reply = slack.click("U0LEE", "ssp_page_next", following[0]["value"])
    assert seen == [f"ZZ{n:03d}" for n in range(800)]  # each once, in order, none cut off
    assert_slack_took_everything(slack)


# --- a long message filed as a note -------------------------------------------------------------


def test_a_message_longer_than_the_note_form_holds_is_cut_and_says_so(slack):
    words = ("Ava & her reading <today>. " * 1400)[:35_000]
    message = {"type": "message", "text": words, "ts": "1.000200"}
    opened = len(slack.emulator.calls_to("views.open"))
    assert slack.sender.message_shortcut("U0PRIYA", "ssp_add_to_plan", message).status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    modal = slack.emulator.open_views("U0PRIYA")[-1]
    boxes = [b["element"] for b in modal["blocks"] if b.get("block_id", "").startswith("text--")]
    assert len(boxes) == 10 and all(len(b["initial_value"]) <= 3000 for b in boxes)
    assert "This message is 35,000 characters: the form holds its first" in modal_text(modal)
    assert "file it as another note" in modal_text(modal)
    assert_slack_took_everything(slack)


# --- when Slack refuses all the same --------------------------------------------------------------


def test_a_refused_reply_through_the_response_url_tells_the_person(slack, caplog):
    slack.emulator.fail_next(RESPONSE_URL, "invalid_blocks", status=400)
    with caplog.at_level(logging.WARNING, logger="handlers"):
        told = slack.ask("U0SENDCO", "caseload")
    assert text_of(told).startswith("Sorry, Slack couldn't show that answer (invalid_blocks).")
    assert told["response_type"] == "ephemeral"
    statuses = [c.http_status for c in slack.responses()]
    assert statuses == [400, 200]
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("handlers")]
    assert logged == ["Slack refused a response URL reply: invalid_blocks"]


def test_a_refused_modal_tells_the_person_why(slack, caplog):
    slack.emulator.fail_next("views.open", "invalid_arguments")
    with caplog.at_level(logging.WARNING, logger="handlers"):
        told = slack.ask("U0PRIYA", "plan Ava Stone")
    assert "Sorry, Slack couldn't show that answer (invalid_arguments)." in text_of(told)
    assert "Slack refused views.open: invalid_arguments" in caplog.text
    assert "Ava" not in caplog.text


def test_a_refused_view_pushed_from_a_modal_is_answered_in_a_small_modal(slack, caplog):
    overview = open_plan(slack, "U0PRIYA", "plan Ava Stone")
    slack.emulator.fail_next("views.push", "invalid_arguments")
    with caplog.at_level(logging.WARNING, logger="handlers"):
        shown = click(slack, "U0PRIYA", overview, "plan_open_section", "targets")
        slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.push")) >= 2)
        shown = slack.emulator.open_views("U0PRIYA")[-1]
    assert "Sorry, Slack couldn't show that answer (invalid_arguments)." in modal_text(shown)
    assert "listener failed" not in caplog.text  # told, not logged as a crash


def test_a_page_turn_answered_after_a_newer_one_is_dropped_calmly(slack, caplog):
    add_strategies(slack, 25)
    overview = open_plan(slack, "U0PRIYA", "plan Ava Stone")
    entries = click(slack, "U0PRIYA", overview, "plan_open_section", "adjustments")
    second = click(slack, "U0PRIYA", entries, "plan_section_page_next", "2")
    assert "page 2 of 2" in modal_text(second)
    updates = len(slack.emulator.calls_to("views.update"))
    with caplog.at_level(logging.INFO, logger="handlers"):
        # A second click on the first page's Next, answered after the first: its hash is stale.
        slack.sender.view_button("U0PRIYA", entries, "plan_section_page_next", "2")
        slack.emulator.wait_for(
            lambda calls: len(slack.emulator.calls_to("views.update")) > updates
        )
    latest = slack.emulator.calls_to("views.update")[-1]
    assert latest.json("view") and latest.params.get("hash") == entries["hash"]
    assert latest.error == "hash_conflict"
    assert "page 2 of 2" in modal_text(slack.emulator.open_views("U0PRIYA")[-1])
    assert slack.emulator.calls_to("views.push") == [] or all(
        "Sorry" not in json.dumps(c.json("view")) for c in slack.emulator.calls_to("views.push")
    )
    assert "listener failed" not in caplog.text and "ERROR" not in caplog.text


# --- reviews, notes and quality assurance, with long answers -------------------------------------


def test_review_notes_a_note_and_qa_with_long_answers_and_hostile_names(hostile):
    from tests.test_qa import decide
    from tests.test_reviews import full_notes, open_by_command, text

    review = open_by_command(hostile, "U0PRIYA", f"review {AVA}")
    long = {name: text(LONG) for name in ("what_is_working", "next_steps", "family_views")}
    done = hostile.sender.submit("U0PRIYA", review, full_notes(review, **long)).json()
    assert "review is submitted" in text_of(done["view"])
    amend = open_by_command(hostile, "U0PRIYA", f"review {AVA}")
    assert any(b.get("type") == "input" for b in amend["blocks"])  # the long notes, shown again

    note = open_by_command(hostile, "U0PRIYA", f"note {AVA}")
    state = {
        "kind": {"type": "static_select", "selected_option": {"value": "note"}},
        "text--0": text(LONG),
    }
    filed = hostile.sender.submit("U0PRIYA", note, state).json()
    assert "Filed on" in text_of(filed["view"])

    listing = hostile.ask("U0SENDCO", "qa")
    opened = len(hostile.emulator.calls_to("views.open"))
    review_button = next(
        e
        for b in listing["blocks"]
        for e in ([b["accessory"]] if "accessory" in b else b.get("elements", []))
        if e.get("action_id") == "ssp_qa_open"
    )
    hostile.sender.button("U0SENDCO", "ssp_qa_open", review_button["value"])
    hostile.emulator.wait_for(lambda calls: len(hostile.emulator.calls_to("views.open")) > opened)
    answer = decide(hostile, hostile.emulator.open_views()[-1], "return", LONG)
    assert "gone back" in text_of({"blocks": answer["view"]["blocks"]})
    assert unescaped_mrkdwn(answer["view"]) == []
    assert_slack_took_everything(hostile)
