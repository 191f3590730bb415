"""The school's acronym glossary: plain language for families (Norfolk guidance §3.1).

Every school starts with the common acronyms below; a school can add its own or reword ours.
Any acronym in a plan that the glossary does not explain is flagged to the writer on save, and
the plan document explains every acronym it uses.

A meaning reaches every family document that uses the acronym, so every change is kept
(GlossaryChange: who, when, from what, to what), and the SENDCo can undo the latest one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from bot.access import Viewer
from bot.errors import UserError
from models import GlossaryChange, GlossaryTerm

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
    session: Session,
    school_id: int,
    acronym: str,
    meaning: str,
    now: datetime,
    *,
    by_staff_id: int | None = None,
) -> tuple[GlossaryTerm, bool]:
    """Adds (or rewords) the school's explanation of an acronym. Returns (term, was it new).

    The change is kept in the term's history, by `by_staff_id`; rewording a built-in acronym
    is a school override, kept the same way. Raises UserError for an empty or over-long acronym
    or meaning.
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
    old = term.meaning if term is not None else None
    if term is None:
        term = GlossaryTerm(school_id=school_id, acronym=acronym, meaning=meaning, created_at=now)
        session.add(term)
    else:
        term.meaning = meaning
    if old != meaning:
        _keep(session, school_id, term.acronym, old, meaning, by_staff_id, now)
    session.flush()
    return term, old is None


def history(session: Session, school_id: int, acronym: str) -> list[GlossaryChange]:
    """Every change to the school's meaning of this acronym, latest first, with who made it."""
    return list(
        session.scalars(
            select(GlossaryChange)
            .where(
                GlossaryChange.school_id == school_id,
                func.lower(GlossaryChange.acronym) == acronym.strip().lower(),
            )
            .options(selectinload(GlossaryChange.changed_by))
            .order_by(GlossaryChange.changed_at.desc(), GlossaryChange.id.desc())
        )
    )


def built_in(acronym: str) -> str | None:
    """Our own meaning of the acronym, the one a school starts with; None if we have none."""
    return explain(dict(DEFAULT_GLOSSARY), [acronym])[acronym]


def revert(session: Session, viewer: Viewer, acronym: str, now: datetime) -> str | None:
    """Undoes the latest change to the acronym's meaning not yet undone (the SENDCo only), so
    reverting again steps further back. Returns the meaning the school now uses: the one before
    the change, the built-in one, or None when the acronym is no longer in the glossary. The
    revert is kept in the history like any change.
    """
    if not viewer.is_sendco:
        raise UserError("Only the SENDCo can revert a change to the glossary.")
    changes = history(session, viewer.school_id, acronym)
    undone = {change.reverts_id for change in changes if change.reverts_id}
    latest = next(
        (c for c in changes if c.reverts_id is None and c.id not in undone),
        None,
    )
    if latest is None:
        raise UserError(f"The school hasn't changed {acronym.strip()}: there is nothing to revert.")
    term = session.scalar(
        select(GlossaryTerm).where(
            GlossaryTerm.school_id == viewer.school_id,
            func.lower(GlossaryTerm.acronym) == latest.acronym.lower(),
        )
    )
    current = term.meaning if term is not None else None
    restored = latest.old_meaning
    if restored is None:
        if term is not None:
            session.delete(term)  # back to the built-in meaning, or out of the glossary
    elif term is None:
        session.add(
            GlossaryTerm(
                school_id=viewer.school_id,
                acronym=latest.acronym,
                meaning=restored,
                created_at=now,
            )
        )
    else:
        term.meaning = restored
    _keep(
        session,
        viewer.school_id,
        latest.acronym,
        current,
        restored,
        viewer.staff_id,
        now,
        reverts=latest,
    )
    session.flush()
    return restored if restored is not None else built_in(latest.acronym)


def _keep(
    session: Session,
    school_id: int,
    acronym: str,
    old: str | None,
    new: str | None,
    by_staff_id: int | None,
    now: datetime,
    *,
    reverts: GlossaryChange | None = None,
) -> None:
    session.add(
        GlossaryChange(
            school_id=school_id,
            acronym=acronym,
            old_meaning=old,
            new_meaning=new,
            changed_by_id=by_staff_id,
            changed_at=now,
            reverts_id=reverts.id if reverts else None,
        )
    )
