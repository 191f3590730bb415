"""What people typed, or named someone, reaches Slack as words: `<`, `>` and `&` escaped in every
piece of mrkdwn and every top-level `text` the app sends, so `<!here>` never pings a channel and
`<UPN or name>` in help is not eaten as a link. Driven through the signed endpoint; every call the
emulator saw is checked (tests.slack_harness.raw_mrkdwn)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Plan, PlanAdjustment, PlanStatus, Pupil, Staff
from tests.slack_harness import buttons_of, raw_mrkdwn, raw_mrkdwn_in, text_of
from tests.test_plan_editor import click, open_plan, submit

NASTY = "<script>&x"
TYPED = "<@U0SLT> <!here> & co"


@pytest.fixture
def nasty(slack):
    """Ava's surname and Tom's (no Slack id, so shown by name) as someone might mistype them."""
    with slack.sessions.begin() as session:
        session.get(Pupil, slack.ids["ava"]).last_name = NASTY
        session.get(Staff, slack.ids["tom"]).last_name = "<!here>&Baker"
    return slack


def assert_nothing_raw(slack) -> None:
    assert raw_mrkdwn(slack.emulator.calls) == []


def test_help_shows_placeholders_as_words(slack):
    reply = slack.ask("U0SENDCO", "help")
    assert_nothing_raw(slack)
    assert "&lt;UPN or name&gt;" in str(reply["blocks"])
    assert "`/ssp pupil <UPN or name>`" in text_of(reply)


def test_a_mistyped_command_and_a_missing_pupil_are_quoted_as_typed(slack):
    unknown = slack.ask("U0SENDCO", "<!here> & more")
    assert "I don't know `<!here> & more`" in text_of(unknown)
    usage = slack.ask("U0SENDCO", "pupil")
    assert "<UPN or name>" in text_of(usage)
    missing = slack.ask("U0SENDCO", "pupil <!channel>")
    assert "“<!channel>”" in text_of(missing)
    assert_nothing_raw(slack)


def test_names_are_escaped_in_lists_and_the_pupil_summary(nasty):
    summary = nasty.ask("U0SENDCO", "pupil Ava")
    assert "Ava <script>&x" in text_of(summary)
    for asked in ("overdue", "caseload", "priority", "caseload <@U0PRIYA|priya>", "mine"):
        nasty.ask("U0SENDCO", asked)
    assert_nothing_raw(nasty)


def test_a_refusal_with_a_placeholder_reaches_slack_escaped(slack):
    before = len(slack.emulator.responses_to("U0PRIYA"))
    slack.sender.button("U0PRIYA", "ssp_start_plan", str(slack.ids["dev"]))
    slack.emulator.wait_for(lambda calls: len(slack.emulator.responses_to("U0PRIYA")) > before)
    refusal = slack.emulator.responses_to("U0PRIYA")[-1]
    assert "<full name or UPN>" in text_of(refusal)
    assert_nothing_raw(slack)


def test_a_typed_plan_entry_and_a_named_pupil_reach_the_plan_form_escaped(nasty):
    overview = open_plan(nasty, "U0PRIYA", "plan Ava")
    entries = click(nasty, "U0PRIYA", overview, "plan_open_section", "adjustments")
    item = next(b for b in entries["blocks"] if "Coloured overlay" in str(b))
    form = click(nasty, "U0PRIYA", entries, "plan_edit_item", item["accessory"]["value"])
    assert submit(nasty, "U0PRIYA", form, **{"description--0": TYPED}) is None
    with nasty.sessions() as session:
        saved = session.scalars(
            select(PlanAdjustment.description).where(
                PlanAdjustment.plan_id == nasty.ids["ava_plan"]
            )
        ).all()
    assert TYPED in saved
    overview = open_plan(nasty, "U0PRIYA", "plan Ava")
    entries = click(nasty, "U0PRIYA", overview, "plan_open_section", "adjustments")
    assert TYPED in text_of({"blocks": entries["blocks"]})
    assert_nothing_raw(nasty)


def test_the_conflict_notice_shows_what_was_typed_and_who_saved_first_as_words(nasty):
    with nasty.sessions.begin() as session:
        session.get(Staff, nasty.ids["sendco"]).last_name = "<!channel>"
    mine = click(
        nasty, "U0PRIYA", open_plan(nasty, "U0PRIYA", "plan Ava"), "plan_open_section", "family"
    )
    theirs = click(
        nasty, "U0SENDCO", open_plan(nasty, "U0SENDCO", "plan Ava"), "plan_open_section", "family"
    )
    assert submit(nasty, "U0SENDCO", theirs, **{"family_hopes--0": "Morgan's words"}) is None
    refused = submit(nasty, "U0PRIYA", mine, **{"family_hopes--0": TYPED})
    assert refused["response_action"] == "update"
    assert TYPED in text_of({"blocks": refused["view"]["blocks"]})
    assert raw_mrkdwn_in(refused["view"]) == []
    assert_nothing_raw(nasty)


def test_the_qa_decision_names_the_pupil_as_words(nasty):
    from tests.test_qa import decide

    with nasty.sessions.begin() as session:
        session.get(Plan, nasty.ids["ava_plan"]).status = PlanStatus.AWAITING_QA
    listing = nasty.ask("U0SENDCO", "qa")
    review = next(b for b in buttons_of(listing) if b["action_id"] == "ssp_qa_open")
    opened = len(nasty.emulator.calls_to("views.open"))
    nasty.sender.button("U0SENDCO", "ssp_qa_open", review["value"])
    nasty.emulator.wait_for(lambda calls: len(nasty.emulator.calls_to("views.open")) > opened)
    answer = decide(nasty, nasty.emulator.open_views()[-1], "return", TYPED)
    assert "Ava <script>&x's plan has gone back" in text_of({"blocks": answer["view"]["blocks"]})
    assert raw_mrkdwn_in(answer["view"]) == []
    assert_nothing_raw(nasty)


def test_escape_unescaped_keeps_escapes_and_bot_made_mentions_only():
    from bot.render import escape_unescaped

    assert escape_unescaped("`/ssp pupil <UPN or name>`") == "`/ssp pupil &lt;UPN or name&gt;`"
    assert escape_unescaped("Ava &lt;b&gt; &amp; <@U0PRIYA> & <!here> <@U1|x>") == (
        "Ava &lt;b&gt; &amp; <@U0PRIYA> &amp; &lt;!here&gt; &lt;@U1|x&gt;"
    )


def test_the_submitted_review_names_the_pupil_as_words(nasty):
    from tests.test_reviews import full_notes, open_by_command

    view = open_by_command(nasty, "U0PRIYA", "review Ava")
    done = nasty.sender.submit("U0PRIYA", view, full_notes(view)).json()
    assert "Ava <script>&x's review is submitted" in text_of(done["view"])
    assert raw_mrkdwn_in(done["view"]) == []
    assert_nothing_raw(nasty)
