"""The synthetic school's provision library: what a typical English secondary school offers, in
the four broad areas and three tiers, at realistic costs (a teaching assistant's hour ~£15, an
ELSA's ~£18, a speech and language therapist's session ~£60, licences per pupil).

Other demo code refers to entries by name (`NAMES`), e.g. to make intervention groups.
"""

from __future__ import annotations

from dataclasses import dataclass

from models import BroadArea, ProvisionTier

CL = BroadArea.COGNITION_AND_LEARNING
CI = BroadArea.COMMUNICATION_AND_INTERACTION
SEMH = BroadArea.SEMH
SP = BroadArea.SENSORY_AND_PHYSICAL
OA = ProvisionTier.ORDINARILY_AVAILABLE
TARGETED = ProvisionTier.TARGETED
SPECIALIST = ProvisionTier.SPECIALIST


@dataclass(frozen=True)
class DemoProvision:
    name: str
    area_of_need: BroadArea
    tier: ProvisionTier
    group_size: int | None
    sessions_per_week: int | None
    session_minutes: int | None
    weeks: int | None
    staff_role: str
    cost_per_session_pence: int | None
    cost_per_pupil_pence: int | None
    description: str


LIBRARY: tuple[DemoProvision, ...] = (
    DemoProvision(
        "Lexia reading programme",
        CL,
        TARGETED,
        6,
        3,
        20,
        12,
        "Teaching assistant",
        1000,
        4500,
        "Reading practice on a computer programme that adapts to your child, in a small "
        "group with an adult, three mornings a week.",
    ),
    DemoProvision(
        "Toe by Toe",
        CL,
        TARGETED,
        1,
        5,
        15,
        20,
        "Teaching assistant",
        750,
        2500,
        "A short daily reading session, one to one, working step by step through sounds and words.",
    ),
    DemoProvision(
        "Precision teaching",
        CL,
        TARGETED,
        1,
        5,
        10,
        8,
        "Teaching assistant",
        500,
        None,
        "A few minutes each day practising a small set of words or number facts until they "
        "are quick and sure.",
    ),
    DemoProvision(
        "Read Write Inc Fresh Start",
        CL,
        TARGETED,
        4,
        4,
        45,
        16,
        "Trained teaching assistant",
        2250,
        1500,
        "A phonics programme for older pupils who are still learning to read fluently.",
    ),
    DemoProvision(
        "Catch Up Numeracy (with Numicon)",
        CL,
        TARGETED,
        1,
        2,
        15,
        12,
        "Teaching assistant",
        750,
        1200,
        "Short one-to-one maths sessions using hands-on equipment to build number sense.",
    ),
    DemoProvision(
        "Talkabout social communication group",
        CI,
        TARGETED,
        6,
        1,
        50,
        10,
        "Teaching assistant",
        2500,
        None,
        "A small group that practises conversation, listening and working with others.",
    ),
    DemoProvision(
        "Lego-based therapy",
        CI,
        TARGETED,
        3,
        1,
        45,
        10,
        "Teaching assistant",
        2250,
        None,
        "Three pupils build a Lego model together, each with a job, to practise "
        "communicating and taking turns.",
    ),
    DemoProvision(
        "Speech and language programme",
        CI,
        SPECIALIST,
        1,
        1,
        30,
        12,
        "Speech and language therapist",
        6000,
        None,
        "Sessions planned by a speech and language therapist and practised in school.",
    ),
    DemoProvision(
        "ELSA sessions",
        SEMH,
        TARGETED,
        1,
        1,
        45,
        8,
        "ELSA (emotional literacy support)",
        1800,
        None,
        "Weekly time with a trained assistant to understand and manage feelings.",
    ),
    DemoProvision(
        "Zones of Regulation",
        SEMH,
        OA,
        30,
        1,
        30,
        None,
        "Form tutor",
        None,
        None,
        "A whole-class way of naming how we feel and choosing what helps us feel ready to learn.",
    ),
    DemoProvision(
        "Social skills group",
        SEMH,
        TARGETED,
        6,
        1,
        50,
        8,
        "Pastoral support worker",
        2000,
        None,
        "A small group working on friendships, sharing and solving disagreements.",
    ),
    DemoProvision(
        "Sensory circuits",
        SP,
        TARGETED,
        8,
        5,
        15,
        None,
        "Teaching assistant",
        400,
        None,
        "A short set of movement activities before lessons to help pupils feel calm and alert.",
    ),
    DemoProvision(
        "Handwriting and fine motor (Clever Hands)",
        SP,
        TARGETED,
        4,
        2,
        20,
        10,
        "Teaching assistant",
        1000,
        None,
        "Activities that strengthen hands and fingers for writing and everyday tasks.",
    ),
    DemoProvision(
        "Exam access arrangements",
        CL,
        OA,
        None,
        None,
        None,
        None,
        "Exams officer",
        None,
        None,
        "Extra time, a reader, a scribe or a quiet room in tests and exams, as your child "
        "normally works.",
    ),
    DemoProvision(
        "In-class teaching assistant support",
        CL,
        OA,
        None,
        None,
        None,
        None,
        "Teaching assistant",
        None,
        None,
        "An adult in some lessons who helps your child start tasks and keep going.",
    ),
    DemoProvision(
        "Educational psychologist consultation",
        CL,
        SPECIALIST,
        1,
        None,
        120,
        None,
        "Educational psychologist",
        45000,
        None,
        "A specialist assessment and advice for the school and family.",
    ),
)

NAMES: tuple[str, ...] = tuple(entry.name for entry in LIBRARY)

# The demo plans' provision (bot.demo.plan_text.PROVISIONS, by key) that is one of the library's
# entries: those plan rows are linked to it, as if chosen from the library, so the school's
# provision map has pupils under its interventions.
FROM_PLAN_TEXT: dict[str, str] = {
    "lexia": "Lexia reading programme",
    "fresh_start": "Read Write Inc Fresh Start",
    "precision_spelling": "Precision teaching",
    "catch_up_numeracy": "Catch Up Numeracy (with Numicon)",
    "salt_programme": "Speech and language programme",
    "lego": "Lego-based therapy",
    "zones": "Zones of Regulation",
    "elsa": "ELSA sessions",
    "sensory_circuit": "Sensory circuits",
    "speed_up": "Handwriting and fine motor (Clever Hands)",
}
