"""What the synthetic school is made of: departments, subjects and sets, and its SEN profile.

Shares are rough figures for an English secondary school (the census for needs); the helpers
share pupils and staff out by them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TypeVar

from models import (
    BroadArea,
    NeedCode,
)

# Roughly a term: the length of one APDR cycle.
CYCLE = timedelta(weeks=13)

FORM_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"

HOUSES = ("Brunel", "Fry", "Seacole", "Turing")

# Teaching departments and their share of the teachers.
TEACHING_DEPARTMENTS: tuple[tuple[str, float], ...] = (
    ("English", 12),
    ("Maths", 12),
    ("Science", 13),
    ("Humanities", 11),
    ("Languages", 7),
    ("Arts", 8),
    ("PE", 7),
    ("Computing", 4),
    ("Technology", 6),
)

# A teacher who is also a case holder usually takes the plans closest to their subject.
TEACHER_HOLDER_AREAS = {
    "English": BroadArea.COMMUNICATION_AND_INTERACTION,
    "Maths": BroadArea.COGNITION_AND_LEARNING,
    "Science": BroadArea.COGNITION_AND_LEARNING,
    "Humanities": BroadArea.COGNITION_AND_LEARNING,
    "Languages": BroadArea.COMMUNICATION_AND_INTERACTION,
    "PE": BroadArea.SENSORY_AND_PHYSICAL,
}

# Learning Support case holders' specialisms; the first is the assistant SENDCo.
LEARNING_SUPPORT_AREAS: tuple[tuple[BroadArea, ...], ...] = (
    (BroadArea.COGNITION_AND_LEARNING, BroadArea.SENSORY_AND_PHYSICAL),
    (BroadArea.SEMH,),
    (BroadArea.COMMUNICATION_AND_INTERACTION,),
    (BroadArea.COGNITION_AND_LEARNING,),
    (BroadArea.SEMH, BroadArea.COMMUNICATION_AND_INTERACTION),
)

SET_SUBJECTS = (("English", "En"), ("Maths", "Ma"), ("Science", "Sc"))

KS3_FORM_SUBJECTS = (
    ("History", "Hi"),
    ("Geography", "Gg"),
    ("Languages", "MFL"),
    ("Art", "Ar"),
    ("PE", "PE"),
    ("Computing", "Co"),
    ("Design and Technology", "Dt"),
)

# GCSE options: (subject, code, share of the year taking it). Shares add up to 4 choices.
OPTION_SUBJECTS = (
    ("Geography", "Gg", 0.45),
    ("History", "Hi", 0.45),
    ("French", "Fr", 0.3),
    ("Spanish", "Sp", 0.2),
    ("Art and Design", "Ar", 0.3),
    ("Music", "Mu", 0.1),
    ("Drama", "Dr", 0.15),
    ("Computer Science", "Cs", 0.3),
    ("Design and Technology", "Dt", 0.25),
    ("Food Preparation and Nutrition", "Fd", 0.3),
    ("Business", "Bs", 0.35),
    ("Religious Studies", "Rs", 0.3),
    ("Physical Education (GCSE)", "Pe", 0.3),
    ("Sociology", "So", 0.25),
)

SUBJECT_DEPARTMENTS = {
    "English": "English",
    "Maths": "Maths",
    "Science": "Science",
    "History": "Humanities",
    "Geography": "Humanities",
    "Religious Studies": "Humanities",
    "Business": "Humanities",
    "Sociology": "Humanities",
    "French": "Languages",
    "Spanish": "Languages",
    "Art": "Arts",
    "Art and Design": "Arts",
    "Music": "Arts",
    "Drama": "Arts",
    "PE": "PE",
    "Physical Education (GCSE)": "PE",
    "Computing": "Computing",
    "Computer Science": "Computing",
    "Design and Technology": "Technology",
    "Food Preparation and Nutrition": "Technology",
}

# Primary need by SEN stage, roughly as the school census reports them for secondary schools.
EHCP_NEEDS: tuple[tuple[NeedCode, float], ...] = (
    (NeedCode.ASD, 38),
    (NeedCode.SEMH, 16),
    (NeedCode.SLCN, 12),
    (NeedCode.MLD, 9),
    (NeedCode.PD, 6),
    (NeedCode.SPLD, 5),
    (NeedCode.HI, 4),
    (NeedCode.OTH, 4),
    (NeedCode.SLD, 3),
    (NeedCode.VI, 2),
    (NeedCode.MSI, 1),
)

SUPPORT_NEEDS: tuple[tuple[NeedCode, float], ...] = (
    (NeedCode.SEMH, 23),
    (NeedCode.SPLD, 21),
    (NeedCode.MLD, 15),
    (NeedCode.SLCN, 14),
    (NeedCode.ASD, 10),
    (NeedCode.OTH, 5),
    (NeedCode.NSA, 4),
    (NeedCode.HI, 2.5),
    (NeedCode.PD, 2.5),
    (NeedCode.VI, 1.5),
    (NeedCode.MSI, 0.5),
)

SECONDARY_NEEDS = {
    NeedCode.ASD: (NeedCode.SEMH, NeedCode.SLCN, NeedCode.SPLD),
    NeedCode.SEMH: (NeedCode.SLCN, NeedCode.SPLD, NeedCode.MLD),
    NeedCode.SLCN: (NeedCode.SEMH, NeedCode.MLD, NeedCode.SPLD),
    NeedCode.SPLD: (NeedCode.SEMH, NeedCode.SLCN),
    NeedCode.MLD: (NeedCode.SLCN, NeedCode.SEMH),
    NeedCode.SLD: (NeedCode.SLCN, NeedCode.PD),
    NeedCode.HI: (NeedCode.SLCN,),
    NeedCode.VI: (NeedCode.PD,),
    NeedCode.PD: (NeedCode.SPLD, NeedCode.SEMH),
    NeedCode.OTH: (NeedCode.SEMH,),
}

# The census code to give a pupil when a small demo has no plan in an area.
AREA_EXAMPLES = {
    BroadArea.COGNITION_AND_LEARNING: NeedCode.SPLD,
    BroadArea.COMMUNICATION_AND_INTERACTION: NeedCode.SLCN,
    BroadArea.SEMH: NeedCode.SEMH,
    BroadArea.SENSORY_AND_PHYSICAL: NeedCode.HI,
}

# How far a cognition and learning need pulls attainment down (in standard deviations).
ATTAINMENT_DROP = {NeedCode.MLD: 1.5, NeedCode.SLD: 2.5, NeedCode.PMLD: 3.0, NeedCode.SPLD: 0.7}

MEDICAL_NOTES = (
    "Asthma: inhaler kept in the medical room and carried for PE.",
    "Severe nut allergy: two adrenaline auto-injectors (one carried, one in the medical room).",
    "Type 1 diabetes: individual healthcare plan; may eat in lessons and leave for checks.",
    "Epilepsy: see the individual healthcare plan for the seizure protocol.",
    "Migraines: may rest in the medical room; water bottle allowed in lessons.",
    "Eczema: emollient cream kept in the medical room.",
)

PHYSICAL_MEDICAL_NOTES = (
    "Physiotherapy and OT appointments most half terms; see the healthcare plan.",
    "Regular audiology appointments at the hospital.",
    "Uses a lift pass; personal emergency evacuation plan (PEEP) in place.",
    "Regular eye clinic appointments; wears glasses at all times.",
)

OTHER_INFORMATION = (
    "Attends breakfast club.",
    "Joined the school in Year 9 from another county.",
    "Has a sibling in the school.",
    "Part of the school's young leaders programme.",
)


def tutor_groups(year: int, count: int) -> list[str]:
    """Tutor groups of about 30: "7A", "7B", …; very large years go on to "7A2", "7B2", …"""
    n = max(1, round(count / 30))
    letters = len(FORM_LETTERS)
    return [
        f"{year}{FORM_LETTERS[i % letters]}{i // letters + 1 if i >= letters else ''}"
        for i in range(n)
    ]


T = TypeVar("T")


def split_evenly(items: list[T], parts: int) -> list[list[T]]:
    """`items` in `parts` consecutive runs whose lengths differ by at most one."""
    size, extra = divmod(len(items), parts)
    chunks, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        chunks.append(items[start:end])
        start = end
    return chunks


def apportion(
    weights: Sequence[tuple[T, float]], total: int, at_least_one: bool = False
) -> list[T]:
    """`total` items shared by weight (largest remainder), in the order given."""
    if at_least_one and total >= len(weights):
        base = [1] * len(weights)
        rest = total - len(weights)
    else:
        base = [0] * len(weights)
        rest = total
    whole = sum(w for _, w in weights)
    exact = [rest * w / whole for _, w in weights]
    counts = [b + int(x) for b, x in zip(base, exact, strict=True)]
    short = total - sum(counts)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - int(exact[i])), i))
    for i in order[:short]:
        counts[i] += 1
    return [item for (item, _), n in zip(weights, counts, strict=True) for _ in range(n)]
