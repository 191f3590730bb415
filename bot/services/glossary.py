"""The school's acronym glossary: plain language for families (Norfolk guidance §3.1).

Every school starts with the common acronyms below; a school can add its own or reword ours.
Any acronym in a plan that the glossary does not explain is flagged to the writer on save, and
the plan document explains every acronym it uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.errors import UserError
from models import GlossaryTerm

# An acronym: a word with at least two capitals (ELSA, SENDCo, WellComm, PEaSS), and no digits.
ACRONYM = re.compile(r"(?<![\w-])([A-Za-z]*[A-Z][A-Za-z]*[A-Z][A-Za-z]*)(?![\w-])")
# Surnames with a capital inside (McDonald, MacLeod, DeSouza) are names, not acronyms.
SURNAME = re.compile(r"^(?:Mc|Mac|De|Di|Da|Du|La|Le|Van|Von|Fitz)[A-Z][a-z]+$")
# Everyday words written in capitals that no family needs explained.
EVERYDAY = frozenset({"OK", "TV", "UK", "ID", "AM", "PM"})
MAX_ACRONYM = 30
MAX_MEANING = 500

DEFAULT_GLOSSARY: tuple[tuple[str, str], ...] = (
    ("APDR", "Assess, Plan, Do, Review: the cycle every SEN Support Plan follows."),
    ("SSP", "SEN Support Plan: the plan for a pupil with special educational needs."),
    ("SEN", "Special educational needs."),
    (
        "SENDCo",
        "Special Educational Needs and Disabilities Coordinator: the teacher who leads "
        "SEN support in the school.",
    ),
    (
        "EHCP",
        "Education, Health and Care Plan: a legal plan from the local authority for "
        "children with more complex needs.",
    ),
    ("CYP", "Child or young person."),
    ("EAL", "English as an additional language."),
    (
        "ELSA",
        "Emotional Literacy Support Assistant: a teaching assistant trained to help "
        "pupils understand and manage their feelings.",
    ),
    (
        "THRIVE",
        "The Thrive Approach: activities that help children's social and emotional "
        "development, led by a trained practitioner.",
    ),
    (
        "WellComm",
        "A speech and language toolkit used to check language skills and run "
        "activities to build them.",
    ),
    ("SALT", "Speech and language therapist (or therapy)."),
    ("EP", "Educational psychologist."),
    (
        "OT",
        "Occupational therapist (or therapy): helps with movement, handwriting and daily skills.",
    ),
    ("CAMHS", "Child and Adolescent Mental Health Services (NHS)."),
    ("MHST", "Mental Health Support Team: NHS practitioners who work in schools."),
    ("QTOD", "Qualified Teacher of the Deaf."),
    ("QTVI", "Qualified Teacher of children and young people with Vision Impairment."),
    ("PEP", "Personal Education Plan: the education part of a care plan for a child in care."),
    ("PEEP", "Personal Emergency Evacuation Plan."),
    ("DLD", "Developmental language disorder."),
    ("ADHD", "Attention deficit hyperactivity disorder."),
    ("SEMH", "Social, emotional and mental health needs."),
    ("SLCN", "Speech, language and communication needs."),
    ("SpLD", "Specific learning difficulty, such as dyslexia."),
    ("MLD", "Moderate learning difficulty."),
    ("ASD", "Autistic spectrum disorder (autism)."),
    ("TA", "Teaching assistant."),
    ("MIS", "Management information system: the school's pupil database."),
    ("DSL", "Designated safeguarding lead."),
    (
        "INDES",
        "Identification of Needs Descriptors in Educational Settings: Norfolk's shared "
        "words for describing needs.",
    ),
    (
        "PEaSS",
        "Provision Expected at SEN Support: guidance on the help every school should offer.",
    ),
    ("OTH", "Other difficulty or disability (a school census code)."),
    ("NSA", "SEN support but no specialist assessment of the type of need yet."),
    ("HI", "Hearing impairment."),
    ("VI", "Visual impairment."),
    ("MSI", "Multi-sensory impairment."),
    ("PD", "Physical disability."),
    ("SLD", "Severe learning difficulty."),
    ("PMLD", "Profound and multiple learning difficulty."),
    ("SENCO", "Special Educational Needs Coordinator (now usually SENDCo)."),
    ("SEND", "Special educational needs and disabilities."),
    ("IEP", "Individual Education Plan: an older name for a SEN Support Plan."),
    ("LA", "Local authority (the council)."),
)


def glossary(session: Session, school_id: int) -> dict[str, str]:
    """Every acronym the school explains, with its meaning: ours, overridden by the school's."""
    terms = dict(DEFAULT_GLOSSARY)
    rows = session.execute(
        select(GlossaryTerm.acronym, GlossaryTerm.meaning).where(
            GlossaryTerm.school_id == school_id
        )
    )
    terms.update({acronym: meaning for acronym, meaning in rows})
    return dict(sorted(terms.items(), key=lambda item: item[0].casefold()))


def acronyms_in(texts: Iterable[str | None]) -> list[str]:
    """The acronyms used in these texts, each once, in order of first use."""
    seen: dict[str, None] = {}
    for text in texts:
        for match in ACRONYM.finditer(text or ""):
            if match.group(1) not in EVERYDAY and not SURNAME.match(match.group(1)):
                seen.setdefault(match.group(1), None)
    return list(seen)


def explain(terms: dict[str, str], acronyms: Iterable[str]) -> dict[str, str | None]:
    """Each acronym with its meaning, or None when the glossary does not explain it.

    Matching ignores letter case ("SENCo" is explained by "SENCO"), since writers vary.
    """
    folded = {acronym.casefold(): meaning for acronym, meaning in terms.items()}
    return {acronym: folded.get(acronym.casefold()) for acronym in acronyms}


def unexplained(session: Session, school_id: int, texts: Iterable[str | None]) -> list[str]:
    """Acronyms in these texts that the school's glossary does not explain."""
    used = acronyms_in(texts)
    if not used:
        return []
    return [a for a, meaning in explain(glossary(session, school_id), used).items() if not meaning]


def add_term(
    session: Session, school_id: int, acronym: str, meaning: str, now: datetime
) -> tuple[GlossaryTerm, bool]:
    """Adds (or rewords) the school's explanation of an acronym. Returns (term, was it new).

    Raises UserError for an empty or over-long acronym or meaning.
    """
    acronym, meaning = acronym.strip(), " ".join(meaning.split())
    if (
        not acronym
        or len(acronym) > MAX_ACRONYM
        or not re.fullmatch(r"[A-Za-z][A-Za-z&/-]*", acronym)
    ):
        raise UserError(f"An acronym is letters only, up to {MAX_ACRONYM} of them, e.g. `ELSA`.")
    if not meaning:
        raise UserError(f"Say what {acronym} means, in words a family would understand.")
    if len(meaning) > MAX_MEANING:
        raise UserError(f"Please keep the meaning under {MAX_MEANING} characters.")
    term = session.scalar(
        select(GlossaryTerm).where(
            GlossaryTerm.school_id == school_id,
            func.lower(GlossaryTerm.acronym) == acronym.lower(),
        )
    )
    if term is None:
        term = GlossaryTerm(school_id=school_id, acronym=acronym, meaning=meaning, created_at=now)
        session.add(term)
        session.flush()
        return term, True
    term.meaning = meaning
    session.flush()
    return term, False
