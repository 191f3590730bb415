"""Spotting acronyms that a family would need explained."""

from bot.services.glossary import DEFAULT_GLOSSARY, acronyms_in, explain


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
