"""Spotting acronyms that a family would need explained, and keeping every change to what the
school's glossary says they mean."""

from datetime import timedelta

from sqlalchemy import select

from bot.services.glossary import DEFAULT_GLOSSARY, acronyms_in, explain
from models import GlossaryChange, GlossaryTerm
from tests.slack_harness import NOW, text_of

BUILT_IN_ELSA = dict(DEFAULT_GLOSSARY)["ELSA"]


def test_acronyms_are_found_in_the_forms_schools_write_them():
    text = "Weekly ELSA sessions; WellComm group; PEaSS guidance; SENDCo to check; the TA helps."
    assert acronyms_in([text]) == ["ELSA", "WellComm", "PEaSS", "SENDCo", "TA"]


def test_names_and_everyday_words_are_not_acronyms():
    assert acronyms_in(["Mrs McDonald and Mr MacLeod said it was OK on TV.", None, ""]) == []


def test_matching_ignores_letter_case_and_reports_the_unexplained():
    explained = explain(dict(DEFAULT_GLOSSARY), ["SENCo", "ZQX"])
    assert explained["SENCo"] and explained["ZQX"] is None


def test_the_glossary_starts_with_the_common_acronyms():
    known = {acronym for acronym, _ in DEFAULT_GLOSSARY}
    for acronym in (
        "ELSA",
        "THRIVE",
        "WellComm",
        "SALT",
        "EP",
        "OT",
        "CAMHS",
        "EHCP",
        "SENDCo",
        "APDR",
        "INDES",
        "PEaSS",
    ):
        assert acronym in known


# --- who changed what, and undoing it -------------------------------------------------------------


def meaning_in_glossary(slack, acronym: str) -> str:
    listed = text_of(slack.ask("U0LEE", "glossary"))
    return next(line for line in listed.splitlines() if line.startswith(f"{acronym}: "))


def test_every_change_is_kept_with_who_made_it_and_when(slack, clock):
    slack.ask("U0PRIYA", 'glossary add ELSA "A trained assistant who helps with feelings"')
    clock.now = NOW + timedelta(days=1)
    slack.ask("U0TOM", 'glossary add elsa "Someone who helps with worries"')
    with slack.sessions() as session:
        changes = session.scalars(select(GlossaryChange).order_by(GlossaryChange.id)).all()
        assert [(c.old_meaning, c.new_meaning, c.changed_by_id, c.changed_at) for c in changes] == [
            # Rewording a built-in acronym is a school override: its "before" is ours.
            (None, "A trained assistant who helps with feelings", slack.ids["priya"], NOW),
            (
                "A trained assistant who helps with feelings",
                "Someone who helps with worries",
                slack.ids["tom"],
                NOW + timedelta(days=1),
            ),
        ]
    history = text_of(slack.ask("U0SENDCO", "glossary history ELSA"))
    assert "2 changes to ELSA" in history
    assert "changed by Tom Baker" in history and "changed by Priya Shah" in history
    assert "the built-in meaning" in history
    assert history.index("Tom Baker") < history.index("Priya Shah")  # latest first


def test_only_the_sendco_reverts_and_a_revert_is_kept_too(slack):
    slack.ask("U0PRIYA", 'glossary add ELSA "A trained assistant who helps with feelings"')
    slack.ask("U0PRIYA", 'glossary add ELSA "Someone who helps with worries"')
    # A case holder can reword a term, but not undo someone's change.
    refused = text_of(slack.ask("U0PRIYA", "glossary revert ELSA"))
    assert "Only the SENDCo can revert" in refused
    assert meaning_in_glossary(slack, "ELSA") == "ELSA: Someone who helps with worries"

    reverted = text_of(slack.ask("U0SENDCO", "glossary revert ELSA"))
    assert "Reverted ELSA: A trained assistant who helps with feelings" in reverted
    assert meaning_in_glossary(slack, "ELSA") == (
        "ELSA: A trained assistant who helps with feelings"
    )
    # Reverting the school's first wording brings back the built-in meaning.
    assert BUILT_IN_ELSA in text_of(slack.ask("U0SENDCO", "glossary revert ELSA"))
    assert meaning_in_glossary(slack, "ELSA") == f"ELSA: {BUILT_IN_ELSA}"
    with slack.sessions() as session:
        assert session.scalars(select(GlossaryTerm)).all() == []
        reverts = session.scalars(
            select(GlossaryChange).where(GlossaryChange.reverts_id.is_not(None))
        ).all()
        assert [(c.new_meaning, c.changed_by_id) for c in reverts] == [
            ("A trained assistant who helps with feelings", slack.ids["sendco"]),
            (None, slack.ids["sendco"]),
        ]
    assert "reverted by Morgan Reed" in text_of(slack.ask("U0SENDCO", "glossary history ELSA"))


def test_a_new_acronym_reverted_leaves_the_glossary(slack):
    slack.ask("U0PRIYA", 'glossary add ZQX "Zebra quiz"')
    answer = text_of(slack.ask("U0SENDCO", "glossary revert ZQX"))
    assert "no longer in the school's glossary" in answer
    assert "ZQX" not in text_of(slack.ask("U0LEE", "glossary"))
    assert "nothing to revert" in text_of(slack.ask("U0SENDCO", "glossary revert SALT"))
    assert "nothing to revert" in text_of(slack.ask("U0SENDCO", "glossary revert ZQX"))


def test_history_is_for_those_who_may_change_the_glossary(slack):
    slack.ask("U0PRIYA", 'glossary add ELSA "Someone who helps with worries"')
    assert "Only the SENDCo, senior leaders and case holders" in text_of(
        slack.ask("U0LEE", "glossary history ELSA")
    )
    assert "Priya Shah" in text_of(slack.ask("U0PRIYA", "glossary history ELSA"))
    assert "hasn't changed" in text_of(slack.ask("U0PRIYA", "glossary history SALT"))


def test_help_shows_history_and_revert_to_those_who_may_use_them(slack):
    sendco = text_of(slack.ask("U0SENDCO", "help"))
    holder = text_of(slack.ask("U0PRIYA", "help"))
    teacher = text_of(slack.ask("U0LEE", "help"))
    assert "glossary history" in sendco and "glossary revert" in sendco
    assert "glossary history" in holder and "glossary revert" not in holder
    assert "glossary history" not in teacher and "/ssp glossary" in teacher
