"""A complete review record (Norfolk §3.7; One Planning "Record of my review", "Recommendations"):
the review notes ask whether new outcomes are needed, continue / adapt / stop for each provision,
the recommendations, and the family's views or why they could not be gathered; all of it is kept
in drafts, in the submitted review, and in the plan document.

Brookside High (tests/slack_harness.py): Priya holds Ava, whose plan has one open target and one
provision ("Lexia reading programme"); Tom holds Cara; Lee teaches Cara.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select

from models import (
    Plan,
    PlanProvision,
    PlanStatus,
    PlanTarget,
    ProvisionDecision,
    Review,
    ReviewProvisionDecision,
    ReviewRevision,
    ReviewStatus,
)
from tests.slack_harness import text_of
from tests.test_export import parse
from tests.test_reviews import choose, full_notes, open_by_command, target_ids, text

REASON = "Mum did not answer three calls and a letter"
RECOMMENDATION = "Pre-teach topic vocabulary before each science unit"


def add_provisions(slack, *whats: str) -> None:
    with slack.sessions.begin() as session:
        plan = session.get(Plan, slack.ids["ava_plan"])
        start = len(plan.provisions)
        plan.provisions += [
            PlanProvision(what=what, position=start + n) for n, what in enumerate(whats, 1)
        ]


def add_targets(slack, count: int) -> None:
    with slack.sessions.begin() as session:
        plan = session.get(Plan, slack.ids["ava_plan"])
        plan.targets += [PlanTarget(description=f"Target {n}", position=n) for n in range(count)]


def blocks(view: dict) -> dict[str, dict]:
    return {b["block_id"]: b for b in view["blocks"] if "block_id" in b}


def provision_rows(view: dict) -> dict[str, str]:
    """Block id to label of each provision's continue / adapt / stop question."""
    return {
        block_id: block["label"]["text"]
        for block_id, block in blocks(view).items()
        if block_id.startswith("provision:")
    }


def row_of(view: dict, what: str) -> str:
    (block_id,) = [b for b, label in provision_rows(view).items() if what in label]
    return block_id


def picked(*keys: str) -> dict:
    return {
        "type": "multi_static_select",
        "selected_options": [{"value": key} for key in keys],
    }


def save_draft(slack, user: str, view: dict, values: dict) -> None:
    updates = len(slack.emulator.calls_to("views.update"))
    slack.sender.view_button(user, view, "ssp_review_save_draft", "draft", values=values)
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.update")) > updates)


def decision_row(document, what: str) -> str:
    """The row of the review's decisions about a provision (the plan's own table comes first)."""
    return [tr.text for tr in document.all("tr") if what in tr.text][-1]


def family_copy(slack, user: str = "U0PRIYA"):
    fetched = slack.export(user, "Ava Stone --for family")
    assert fetched.headers["Content-Disposition"].endswith('-family.html"')
    return parse(fetched.body)


def staff_copy(slack, user: str = "U0PRIYA"):
    fetched = slack.export(user, "Ava Stone")
    assert fetched.headers["Content-Disposition"].endswith('-2026-11-23.html"')
    return parse(fetched.body)


# --- the form -------------------------------------------------------------------------------


def test_the_form_asks_the_new_questions_and_a_draft_brings_every_answer_back(slack):
    add_provisions(slack, "Small-group spelling with the TA")
    view = open_by_command(slack, "U0PRIYA", "review Ava")
    asked = blocks(view)
    assert asked["new_outcomes_needed"]["label"]["text"] == "Do new outcomes need to be identified?"
    assert [o["value"] for o in asked["new_outcomes_needed"]["element"]["options"]] == [
        "yes",
        "no",
    ]
    assert "recommendations" in asked and "family_views_missing_reason" in asked
    rows = provision_rows(view)
    assert list(rows.values()) == [
        "1. Lexia reading programme (Learning support · 3 x 20 minutes a week · 1 term)",
        "2. Small-group spelling with the TA",
    ]
    lexia, spelling = rows
    assert [o["value"] for o in asked[lexia]["element"]["options"]] == [
        "continue",
        "adapt",
        "stop",
    ]
    shown = text_of({"blocks": view["blocks"]})
    assert "does each support continue, or does something different need to be tried?" in shown

    save_draft(
        slack,
        "U0PRIYA",
        view,
        {
            "new_outcomes_needed": choose("yes"),
            "new_outcomes": text("Writing: a short paragraph on her own"),
            lexia: choose("adapt"),
            spelling: choose("stop"),
            "recommendations": text(RECOMMENDATION),
            "family_views_missing_reason": text(REASON),
        },
    )
    with slack.sessions() as session:
        review = session.scalar(select(Review))
        assert review.status == ReviewStatus.DRAFT
        assert (review.new_outcomes_needed, review.recommendations) == (True, RECOMMENDATION)
        assert [(d.provision_what, d.decision) for d in review.provision_decisions] == [
            ("Lexia reading programme", ProvisionDecision.ADAPT),
            ("Small-group spelling with the TA", ProvisionDecision.STOP),
        ]

    reopened = blocks(open_by_command(slack, "U0PRIYA", "review Ava"))
    assert reopened["new_outcomes_needed"]["element"]["initial_option"]["value"] == "yes"
    assert reopened["new_outcomes"]["element"]["initial_value"] == (
        "Writing: a short paragraph on her own"
    )
    assert reopened[lexia]["element"]["initial_option"]["value"] == "adapt"
    assert reopened[spelling]["element"]["initial_option"]["value"] == "stop"
    assert reopened["recommendations"]["element"]["initial_value"] == RECOMMENDATION
    assert reopened["family_views_missing_reason"]["element"]["initial_value"] == REASON
    assert "family_views" in reopened and "initial_value" not in reopened["family_views"]["element"]


def test_submitting_needs_the_family_views_or_why_they_could_not_be_gathered(slack):
    view = open_by_command(slack, "U0PRIYA", "review Ava")
    lexia = row_of(view, "Lexia")
    notes = full_notes(view, family_views=text(None))
    # Nothing about the family: refused beside the family's views; a draft could be saved.
    refused = slack.sender.submit("U0PRIYA", view, notes).json()
    assert refused["response_action"] == "errors"
    assert refused["errors"] == {
        "family_views": "Record the family's views, or say below why they could not be "
        "gathered for this review."
    }
    # Neither may the provision's decision or the yes / no on new outcomes be left out.
    unanswered = full_notes(view, **{lexia: choose(None), "new_outcomes_needed": choose(None)})
    errors = slack.sender.submit("U0PRIYA", view, unanswered).json()["errors"]
    assert errors == {
        lexia: "Choose whether this continues, is adapted or stops.",
        "new_outcomes_needed": "Say whether new outcomes are needed.",
    }
    with slack.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Review)) == 0

    save_draft(slack, "U0PRIYA", view, {"what_is_working": text("Lexia")})  # a draft may
    with slack.sessions() as session:
        assert session.scalar(select(Review)).status == ReviewStatus.DRAFT

    reopened = open_by_command(slack, "U0PRIYA", "review Ava")
    done = slack.sender.submit(
        "U0PRIYA",
        reopened,
        full_notes(reopened, family_views=text(None), family_views_missing_reason=text(REASON)),
    ).json()
    assert done["response_action"] == "update", done
    with slack.sessions() as session:
        review = session.scalar(select(Review))
        assert review.status == ReviewStatus.SUBMITTED
        assert (review.family_views, review.family_views_missing_reason) == (None, REASON)
        assert [(d.provision_what, d.decision) for d in review.provision_decisions] == [
            ("Lexia reading programme", ProvisionDecision.CONTINUE)
        ]


# --- the record -----------------------------------------------------------------------------


def test_the_family_document_shows_the_recommendations_and_the_decisions(slack):
    add_provisions(slack, "Small-group spelling with the TA", "Homework club")
    view = open_by_command(slack, "U0PRIYA", "review Ava")
    notes = full_notes(
        view,
        **{
            row_of(view, "Lexia"): choose("adapt"),
            row_of(view, "spelling"): choose("stop"),
            row_of(view, "Homework"): choose("continue"),
            "new_outcomes_needed": choose("yes"),
            "new_outcomes": text("Writing a paragraph on her own"),
            "recommendations": text(RECOMMENDATION),
            "family_views": text(None),
            "family_views_missing_reason": text(REASON),
        },
    )
    done = slack.sender.submit("U0PRIYA", view, notes).json()
    said = " ".join(text_of(done["view"]).split())
    assert "You decided 1 provision to adapt and 1 provision to stop" in said
    assert "`/ssp plan`" in said

    family = family_copy(slack)
    assert RECOMMENDATION in family.section("recommendations")
    record = " ".join(family.section("record-of-my-review").split())
    assert "My support: what the review decided" in record
    for what, decided in (
        ("Lexia reading programme", "Change how it is done"),
        ("Small-group spelling with the TA", "Stop"),
        ("Homework club", "Continue"),
    ):
        assert decided in decision_row(family, what), what
    assert "Do I need new outcomes? Yes: Writing a paragraph on her own" in record
    # The family read that their views could not be gathered, not staff's reason why.
    assert "My family's views could not be gathered for this review." in record
    assert REASON not in family.text and "Staff only" not in family.text

    staff = staff_copy(slack)
    assert RECOMMENDATION in staff.section("recommendations")
    reason = next(tr for tr in staff.all("tr") if REASON in tr.text)
    assert "Staff only" in reason.text
    assert "Change how it is done" in staff.section("record-of-my-review")


def test_a_decision_outlives_its_provision(slack):
    view = open_by_command(slack, "U0PRIYA", "review Ava")
    slack.sender.submit(
        "U0PRIYA", view, full_notes(view, **{row_of(view, "Lexia"): choose("stop")})
    )
    with slack.sessions.begin() as session:  # the provision is taken out of the plan later
        session.execute(
            delete(PlanProvision).where(PlanProvision.what == "Lexia reading programme")
        )
    with slack.sessions() as session:
        decision = session.scalar(select(ReviewProvisionDecision))
        assert (decision.provision_id, decision.provision_what) == (None, "Lexia reading programme")
    assert "Stop" in decision_row(family_copy(slack), "Lexia reading programme")


def test_amending_keeps_the_new_answers_and_what_they_were(slack):
    view = open_by_command(slack, "U0PRIYA", "review Ava")
    slack.sender.submit("U0PRIYA", view, full_notes(view, recommendations=text("Keep Lexia")))
    amend = open_by_command(slack, "U0PRIYA", "review Ava")
    assert amend["title"]["text"] == "Amend review notes"
    shown = blocks(amend)
    lexia = row_of(amend, "Lexia")
    assert shown[lexia]["element"]["initial_option"]["value"] == "continue"
    assert shown["recommendations"]["element"]["initial_value"] == "Keep Lexia"
    changed = full_notes(amend, **{lexia: choose("adapt"), "recommendations": text(RECOMMENDATION)})
    assert "amendment" in text_of(slack.sender.submit("U0PRIYA", amend, changed).json()["view"])
    with slack.sessions() as session:
        review = session.scalar(select(Review))
        assert review.recommendations == RECOMMENDATION
        assert review.provision_decisions[0].decision == ProvisionDecision.ADAPT
        (revision,) = session.scalars(select(ReviewRevision)).all()
        assert revision.content["recommendations"] == "Keep Lexia"
        assert list(revision.content["provisions"].values()) == [
            ["Lexia reading programme", "continue", "effective"]
        ]


# --- who may ---------------------------------------------------------------------------------


def test_only_the_plans_case_holder_or_the_sendco_can_send_the_new_answers(slack):
    view = open_by_command(slack, "U0PRIYA", "review Ava")
    notes = full_notes(
        view,
        **{
            row_of(view, "Lexia"): choose("stop"),
            "recommendations": text("Someone else's words"),
        },
    )
    for user in ("U0TOM", "U0LEE"):  # another case holder; a teacher
        # Neither "Save draft" inside the form nor submitting it saves anything for them.
        assert (
            slack.sender.view_button(
                user, view, "ssp_review_save_draft", "draft", values=notes
            ).status
            == 200
        )
        answer = slack.sender.submit(user, view, notes).json()
        assert "couldn't find an open plan for that pupil" in text_of(answer["view"]), user
    with slack.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Review)) == 0
        assert session.scalar(select(func.count()).select_from(ReviewProvisionDecision)) == 0
        assert session.get(Plan, slack.ids["ava_plan"]).status == PlanStatus.ACTIVE


# --- quality assurance -----------------------------------------------------------------------


def test_with_qa_only_for_changes_adapting_a_provision_is_a_change(slack):
    assert "changes" in text_of(slack.ask("U0SENDCO", "settings qa-reviews changes")).lower()
    view = open_by_command(slack, "U0PRIYA", "review Ava")
    carry = {f"carry:{t}": choose("carry") for t in target_ids(view)}  # the targets go on
    notes = full_notes(view, **carry, **{row_of(view, "Lexia"): choose("adapt")})
    said = text_of(slack.sender.submit("U0PRIYA", view, notes).json()["view"])
    assert "gone to the SENDCo for quality assurance" in said
    with slack.sessions() as session:
        assert session.get(Plan, slack.ids["ava_plan"]).status == PlanStatus.AWAITING_QA


def test_with_qa_only_for_changes_new_outcomes_are_a_change(slack):
    slack.ask("U0SENDCO", "settings qa-reviews changes")
    view = open_by_command(slack, "U0PRIYA", "review Ava")
    carry = {f"carry:{t}": choose("carry") for t in target_ids(view)}
    notes = full_notes(view, **carry, new_outcomes_needed=choose("yes"))
    slack.sender.submit("U0PRIYA", view, notes)
    with slack.sessions() as session:
        assert session.get(Plan, slack.ids["ava_plan"]).status == PlanStatus.AWAITING_QA


# --- many provisions -------------------------------------------------------------------------


def test_twenty_four_provisions_get_rows_each_within_the_form(slack):
    # Three rows each (the decision, how much was delivered, how effective it was).
    add_provisions(slack, *(f"Provision number {n}" for n in range(23)))
    view = open_by_command(slack, "U0PRIYA", "review Ava")  # the emulator checks Slack's limits
    assert len(view["blocks"]) <= 100
    assert len(provision_rows(view)) == 24
    done = slack.sender.submit("U0PRIYA", view, full_notes(view)).json()
    assert done["response_action"] == "update"
    with slack.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ReviewProvisionDecision)) == 24


def test_the_fullest_form_is_within_slacks_hundred_blocks(slack):
    """Every part the form can show at once: a draft's line, teachers' feedback, a note, the
    most targets a form holds (and a line on the rest), and a provision per row."""
    add_targets(slack, 20)  # 21 open targets: 18 in the form, 3 left for the next plan
    note = open_by_command(slack, "U0PRIYA", "note Ava")
    slack.sender.submit("U0PRIYA", note, {"kind": choose("note"), "text--0": text("Read well")})
    save_draft(slack, "U0PRIYA", open_by_command(slack, "U0PRIYA", "review Ava"), {})
    view = open_by_command(slack, "U0PRIYA", "review Ava")
    shown = text_of({"blocks": view["blocks"]})
    assert "You have a draft" in shown and "Read well" in shown and "3 more open targets" in shown
    # The form's most, 100, less a part this plan has nothing for (observations) and the two
    # rows a second provision would need.
    assert len(target_ids(view)) == 18 and len(provision_rows(view)) == 1
    assert len(view["blocks"]) == 97
    add_provisions(slack, "One provision too many for a row each")
    view = open_by_command(slack, "U0PRIYA", "review Ava")
    assert provision_rows(view) == {} and "provisions_stop" in blocks(view)
    assert "effective_very_effective" in blocks(view)
    assert len(view["blocks"]) == 99  # lists, one per effectiveness rating too; no divider


def test_too_many_provisions_for_a_row_each_are_asked_as_two_lists(slack):
    add_targets(slack, 17)  # eighteen open targets: a full form
    add_provisions(slack, *(f"Provision number {n}" for n in range(29)))
    view = open_by_command(slack, "U0PRIYA", "review Ava")
    assert len(view["blocks"]) <= 100 and len(target_ids(view)) == 18
    assert provision_rows(view) == {}
    shown = " ".join(text_of({"blocks": view["blocks"]}).split())
    assert "this plan has 30 provisions" in shown
    assert "every provision you don't choose continues" in shown
    asked = blocks(view)
    options = asked["provisions_adapt"]["element"]["options"]
    assert len(options) == 30 and options[0]["text"]["text"] == "1. Lexia reading programme"
    lexia, second = options[0]["value"], options[1]["value"]

    both = full_notes(view, provisions_adapt=picked(lexia), provisions_stop=picked(lexia))
    answer = slack.sender.submit("U0PRIYA", view, both).json()
    assert answer["errors"] == {
        "provisions_stop": "A provision can't be both adapted and stopped: take it out of one "
        "of the lists."
    }

    save_draft(slack, "U0PRIYA", view, {"provisions_adapt": picked(lexia)})
    reopened = blocks(open_by_command(slack, "U0PRIYA", "review Ava"))
    assert [o["value"] for o in reopened["provisions_adapt"]["element"]["initial_options"]] == [
        lexia
    ]

    view = open_by_command(slack, "U0PRIYA", "review Ava")
    notes = full_notes(view, provisions_adapt=picked(lexia), provisions_stop=picked(second))
    assert slack.sender.submit("U0PRIYA", view, notes).json()["response_action"] == "update"
    with slack.sessions() as session:
        decisions = session.scalars(
            select(ReviewProvisionDecision).order_by(ReviewProvisionDecision.position)
        ).all()
        assert len(decisions) == 30
        assert [d.decision for d in decisions[:3]] == [
            ProvisionDecision.ADAPT,
            ProvisionDecision.STOP,
            ProvisionDecision.CONTINUE,
        ]
        assert {d.decision for d in decisions[2:]} == {ProvisionDecision.CONTINUE}


def test_more_provisions_than_a_list_holds_are_left_to_continue_and_the_form_says_so(slack):
    add_targets(slack, 17)
    add_provisions(slack, *(f"Provision number {n}" for n in range(119)))
    view = open_by_command(slack, "U0PRIYA", "review Ava")
    assert len(view["blocks"]) <= 100
    assert len(blocks(view)["provisions_stop"]["element"]["options"]) == 100
    shown = " ".join(text_of({"blocks": view["blocks"]}).split())
    assert "The lists hold the first 100: the other 20 continue unchanged" in shown
