"""Plan wording for each kind of need: descriptions, outcomes, SMART targets and adjustments.

All invented for the demo. `{name}` and friends are filled per plan by the plan writer; target
templates name the provision (in `plan_text.PROVISIONS`) that would work towards them.
"""

from __future__ import annotations

from dataclasses import dataclass

from models import (
    BroadArea,
    NeedCode,
)

# What each census code's plan text is drawn from.
CONTENT_KEYS = {
    NeedCode.SPLD: "spld",
    NeedCode.MLD: "mld",
    NeedCode.SLD: "mld",
    NeedCode.PMLD: "mld",
    NeedCode.SEMH: "semh",
    NeedCode.OTH: "semh",
    NeedCode.NSA: "spld",
    NeedCode.SLCN: "slcn",
    NeedCode.ASD: "asd",
    NeedCode.HI: "hi",
    NeedCode.MSI: "hi",
    NeedCode.VI: "vi",
    NeedCode.PD: "pd",
}

# Plans whose primary need always involves the specialist service (listed first).
SENSORY_KEYS = frozenset({"hi", "vi", "pd"})


@dataclass(frozen=True)
class TargetTemplate:
    description: str
    measure: str
    baseline: str
    success: str
    provisions: tuple[str, ...]


@dataclass(frozen=True)
class NeedContent:
    """Plan text for one kind of need."""

    outcomes: tuple[str, ...]
    targets: tuple[TargetTemplate, ...]
    adjustments: tuple[str, ...]
    access: tuple[str, ...]
    difficulties: tuple[str, ...]
    support: tuple[str, ...]
    concerns: tuple[str, ...]
    agencies: tuple[str, ...]


NEED_DESCRIPTIONS: dict[NeedCode, tuple[str, ...]] = {
    NeedCode.SPLD: (
        "Dyslexia (specialist assessment in Year 5): slow reading speed and difficulty with "
        "spelling and phonological processing; verbal reasoning is a real strength.",
        "Dyscalculia indicators: difficulty recalling number facts and understanding place "
        "value, which affects Maths and Science.",
        "Slow processing speed and weak working memory: finds it hard to hold instructions in "
        "mind and to organise written work.",
        "Dyspraxia (developmental coordination disorder): handwriting is slow and tiring, and "
        "organising equipment and homework is hard.",
    ),
    NeedCode.MLD: (
        "Attainment well below age-related expectations in most subjects; {name} needs new "
        "ideas broken into small steps with plenty of repetition.",
        "Reading age around 8 years (standardised score 72); finds it hard to retain new "
        "vocabulary and to apply learning in new situations.",
        "Difficulties with working memory and abstract ideas; learns best through practical, "
        "concrete examples.",
    ),
    NeedCode.SLD: (
        "Severe learning difficulty: working well below the level of peers and needing a "
        "personalised curriculum with a high level of adult support.",
    ),
    NeedCode.PMLD: (
        "Profound and multiple learning difficulties: needs a sensory-based curriculum and "
        "support with all personal care.",
    ),
    NeedCode.SEMH: (
        "Anxiety, particularly around tests, crowds and unstructured times, which has led to "
        "periods of missed school.",
        "Difficulties regulating emotions: {name} can become angry quickly when feeling "
        "misunderstood, and needs time and space to calm.",
        "Low self-esteem and difficulty making and keeping friendships.",
        "ADHD (diagnosed by the community paediatrician): difficulties with attention, "
        "impulsivity and organisation.",
        "Low mood following a family bereavement; {name} is supported by CAMHS.",
    ),
    NeedCode.SLCN: (
        "Developmental language disorder (DLD): difficulty understanding complex sentences and "
        "subject vocabulary.",
        "Expressive language difficulties: finds it hard to organise ideas when speaking and "
        "writing.",
        "Speech sound difficulties: {name} can be hard to understand when anxious, which "
        "affects confidence to speak in class.",
        "Stammer: speaking in front of the class is a source of worry.",
    ),
    NeedCode.ASD: (
        "Autistic (diagnosed in Year 4): changes to routine, unstructured times and busy "
        "places are hard for {name}.",
        "Autistic, with sensory sensitivity to noise and smells, particularly in the canteen "
        "and corridors.",
        "Autistic: understands language literally and finds group work and social "
        "interaction tiring.",
        "Autistic: {name} often masks at school and can be very distressed at home afterwards.",
    ),
    NeedCode.HI: (
        "Moderate hearing loss in both ears: wears hearing aids and uses a radio aid in lessons.",
        "Mild hearing loss in one ear: misses information in noisy rooms and group work.",
        "Severe hearing loss: cochlear implant; uses a radio aid and relies on subtitles.",
    ),
    NeedCode.VI: (
        "Visual impairment (nystagmus): needs enlarged print (N18) and a seat near the front.",
        "Reduced visual acuity: uses a magnifier and a tablet to access text and the board.",
    ),
    NeedCode.MSI: (
        "Multi-sensory impairment (hearing and vision): supported by the Sensory Support "
        "Service, with adapted resources and a radio aid.",
    ),
    NeedCode.PD: (
        "Cerebral palsy affecting fine and gross motor skills: uses a laptop for extended "
        "writing and needs extra time to move around the site.",
        "Hypermobility: fatigue and pain in hands and knees after writing or walking far.",
        "Juvenile arthritis: flare-ups affect attendance and writing stamina.",
    ),
}

# OTH and NSA name no broad area (models.codes.NEED_BROAD_AREA: the one mapping everywhere). A
# plan still describes every need under one of the four areas (PlanNeed.broad_area), so these
# needs are written under the area they concern and without a census code: the code stays on
# the roster, and a plan never pairs a code with an area that is not its own.
UNCODED_NEEDS: dict[NeedCode, tuple[tuple[BroadArea, str], ...]] = {
    NeedCode.OTH: (
        (
            BroadArea.SENSORY_AND_PHYSICAL,
            "Tourette's syndrome: vocal and motor tics that increase with stress or tiredness.",
        ),
        (
            BroadArea.SEMH,
            "ADHD and sleep difficulties: concentration is best in the morning.",
        ),
    ),
    NeedCode.NSA: (
        (
            BroadArea.COGNITION_AND_LEARNING,
            "Emerging difficulties with reading and spelling noticed by teachers; a specialist "
            "assessment has been requested.",
        ),
        (
            BroadArea.COGNITION_AND_LEARNING,
            "Teachers and family have raised concerns about processing and memory; assessment "
            "is planned for this term.",
        ),
    ),
}

EXTRA_NEEDS: tuple[tuple[BroadArea, str], ...] = (
    (
        BroadArea.SENSORY_AND_PHYSICAL,
        "Sensory processing differences: seeks movement and "
        "finds long periods of sitting still hard.",
    ),
    (
        BroadArea.COGNITION_AND_LEARNING,
        "Difficulties with organisation and planning "
        "(executive function): forgets equipment and homework.",
    ),
    (
        BroadArea.SEMH,
        "Low confidence as a learner: {name} is reluctant to try new tasks in "
        "case of getting them wrong.",
    ),
    (
        BroadArea.COMMUNICATION_AND_INTERACTION,
        "Finds it hard to ask for help or to say when they have not understood.",
    ),
)


def _t(description, measure, baseline, success, *provisions) -> TargetTemplate:
    return TargetTemplate(description, measure, baseline, success, provisions)


CONTENT: dict[str, NeedContent] = {
    "spld": NeedContent(
        outcomes=(
            "{name} will be a confident reader who can read the texts used in all subjects "
            "independently.",
            "{name} will be able to show what they know in writing, using a laptop where it helps.",
            "{name} will sit tests and exams with the access arrangements they need, so results "
            "reflect what they know.",
        ),
        targets=(
            _t(
                "{name} will read an unseen passage at their level aloud with fewer errors, "
                "using decoding strategies for unfamiliar words.",
                "Timed reading of an unseen passage (words correct per minute)",
                "62 words correct per minute; reading age 9 years 4 months",
                "80 words correct per minute with 95% accuracy",
                "lexia",
                "fresh_start",
                "reading_mentor",
            ),
            _t(
                "{name} will spell 15 key subject words correctly in independent writing.",
                "Spelling check of the 15 words in extended writing, by the class teacher",
                "6 of 15 spelled correctly",
                "13 of 15 spelled correctly in two pieces of work",
                "precision_spelling",
            ),
            _t(
                "{name} will plan an extended answer with a writing frame before starting to "
                "write.",
                "Plans seen in English, History and Science books",
                "Rarely plans; answers are short and unstructured",
                "A plan used for 4 of 5 extended tasks",
                "vocab_preteach",
                "homework_club",
            ),
            _t(
                "{name} will touch-type at 20 words per minute, so a laptop can be used for "
                "extended writing.",
                "Nessy Fingers speed test",
                "8 words per minute",
                "20 words per minute with 90% accuracy",
                "touch_typing",
            ),
            _t(
                "{name} will use a checklist or visual prompt to remember instructions with "
                "several steps.",
                "Teacher observation in three lessons",
                "Needs instructions repeated 1:1 in most lessons",
                "Starts tasks independently in 3 of 4 observed lessons",
                "organisation",
            ),
        ),
        adjustments=(
            "Printed copy of slides and notes instead of copying from the board",
            "Coloured overlay (blue) and cream paper for handouts",
            "Key words displayed and shared before the lesson",
            "Instructions given one at a time and written on the board",
            "Not asked to read aloud unless {name} volunteers",
            "Marking focuses on content, not spelling",
        ),
        access=(
            "25% extra time in tests and exams",
            "Reader (or computer reader) in exams",
            "Word processor in exams (spell check off)",
            "Coloured overlay in exams",
        ),
        difficulties=(
            "Reading long texts and copying from the board. Spelling makes me worried about "
            "writing anything down.",
            "Remembering lots of instructions at once, and getting my ideas down on paper.",
            "Maths when there are lots of steps, and times tables.",
        ),
        support=(
            "Give me instructions one at a time and check I've understood. Let me use my "
            "overlay and give me printed notes instead of copying from the board.",
            "Don't ask me to read out loud in front of everyone. Let me type longer pieces of "
            "work.",
        ),
        concerns=(
            "Reading age is well below {name}'s age, which limits access to text-heavy subjects.",
            "Written work does not show what {name} knows and can say.",
        ),
        agencies=("ep", "literacy_outreach"),
    ),
    "mld": NeedContent(
        outcomes=(
            "{name} will develop the reading and number skills needed for everyday life and "
            "college.",
            "{name} will become a more independent learner who knows how to get help.",
        ),
        targets=(
            _t(
                "{name} will know and use 20 key words from the current Science and Geography "
                "topics.",
                "Vocabulary quiz and use of the words in written answers",
                "Knows 5 of the 20 words",
                "Explains 16 of 20 words and uses them in writing",
                "vocab_preteach",
            ),
            _t(
                "{name} will recall multiplication facts to 10 × 10 fluently.",
                "Times-tables check (60 questions in 5 minutes)",
                "24 correct",
                "50 correct",
                "catch_up_numeracy",
                "numeracy_group",
            ),
            _t(
                "{name} will read a short non-fiction text and answer literal and simple "
                "inference questions.",
                "Comprehension questions after reading",
                "Answers 3 of 10 correctly",
                "Answers 7 of 10 correctly",
                "reciprocal",
                "reading_mentor",
            ),
            _t(
                "{name} will hand in homework on time, using the homework planner.",
                "Homework completion recorded by teachers",
                "35% handed in",
                "80% handed in over a half term",
                "homework_club",
                "organisation",
            ),
            _t(
                "{name} will solve two-step word problems using a bar model.",
                "Questions from the end-of-unit Maths assessment",
                "Solves 1 of 6",
                "Solves 4 of 6 using the bar model",
                "numeracy_group",
            ),
        ),
        adjustments=(
            "Tasks broken into small steps with a checklist",
            "Word mat of key vocabulary for each topic",
            "Seated near the front with a supportive partner",
            "Check understanding by asking {name} to repeat instructions in their own words",
            "Concrete resources and worked examples available in Maths",
        ),
        access=(
            "25% extra time in tests and exams",
            "Reader (or computer reader) in exams",
            "Separate invigilation in a smaller room",
        ),
        difficulties=(
            "Lessons go too fast and I get lost, then I don't want to ask.",
            "Remembering what we did last lesson, and long words in Science.",
        ),
        support=(
            "Show me an example first and break the work into small steps. Check on me "
            "early in the lesson.",
            "Give me a word mat and let me use cubes or counters in Maths.",
        ),
        concerns=(
            "{name} is working well below age-related expectations in English and Maths.",
            "Progress is slow despite good effort; {name} needs a lot of repetition.",
        ),
        agencies=("ep",),
    ),
    "semh": NeedContent(
        outcomes=(
            "{name} will feel safe and settled in school and attend regularly.",
            "{name} will be able to manage strong feelings and get back to learning quickly.",
            "{name} will have positive friendships and take part in school life.",
        ),
        targets=(
            _t(
                "{name} will notice when they are becoming anxious and use a calming strategy "
                "from their toolkit.",
                "Self-rating and the key adult's log",
                "Leaves lessons without permission about three times a week",
                "Uses the time-out card and returns within 10 minutes, 4 times out of 5",
                "elsa",
                "zones",
                "check_in",
            ),
            _t(
                "{name} will arrive at school on time every day.",
                "Attendance and punctuality data",
                "Attendance 86%; late 9 times this half term",
                "Attendance above 94% and no more than 2 lates in a half term",
                "check_in",
                "mentor",
            ),
            _t(
                "{name} will name three adults in school to go to when worried, and go to them.",
                "Conversation with the key adult and the ELSA log",
                "Cannot name anyone apart from the form tutor",
                "Names three adults and has asked one for help at least twice",
                "elsa",
                "thrive",
            ),
            _t(
                "{name} will join a lunchtime club or activity at least twice a week.",
                "Club register",
                "Spends lunchtimes alone or in the corridors",
                "Attends twice a week for 6 weeks",
                "lunch_club",
            ),
            _t(
                "{name} will use the agreed exit plan instead of leaving lessons in anger.",
                "Behaviour log on the MIS",
                "11 incidents last half term",
                "Fewer than 4 incidents in a half term",
                "thrive",
                "mentor",
                "zones",
            ),
            _t(
                "{name} will use a worry scale and a breathing strategy before tests.",
                "Session notes and {name}'s own rating",
                "Rates worry 9 out of 10 before tests",
                "Rates worry 6 out of 10 or lower and uses the strategy",
                "mhst",
                "friends",
                "counselling",
                "drawing_talking",
            ),
            _t(
                "{name} will stay on task for 15 minutes, using a task checklist and a planned "
                "movement break.",
                "On-task sampling in lessons by the TA",
                "On task for about 5 minutes at a time",
                "15 minutes in 3 of 4 observed lessons",
                "organisation",
                "sensory_circuit",
            ),
        ),
        adjustments=(
            "Time-out card: {name} may go to the Learning Support base for 5 minutes",
            "Seat near the door; not moved without warning",
            "Praise quietly and privately; avoid public reprimands",
            "Warn {name} early about cover teachers and room changes",
            "Meet and greet at the classroom door",
            "A starter task ready so {name} can settle quickly",
        ),
        access=(
            "Rest breaks in exams",
            "Separate invigilation in a smaller room",
            "Prompter to help {name} stay focused in exams",
        ),
        difficulties=(
            "When I get angry I find it hard to calm down, and then I get into trouble.",
            "I worry a lot, especially about tests and being late.",
            "Making friends and keeping them. Lunchtimes can be lonely.",
            "Lessons with a supply teacher, and being shouted at.",
        ),
        support=(
            "If I put my time-out card on the desk, let me go to the base for five minutes. "
            "Talk to me quietly, not in front of the class.",
            "Tell me what's happening before it happens. Check in with me in the morning.",
            "Notice when I'm doing well and tell me privately.",
        ),
        concerns=(
            "Attendance has dropped to 88% this term, with most absences on Mondays.",
            "Staff have noticed {name} is withdrawn and often alone at unstructured times.",
            "There have been several incidents of dysregulation in lessons this half term.",
        ),
        agencies=("camhs", "mhst", "early_help", "ep"),
    ),
    "slcn": NeedContent(
        outcomes=(
            "{name} will understand what is said in lessons and be able to ask when they do not.",
            "{name} will express their ideas clearly in speech and writing.",
        ),
        targets=(
            _t(
                "{name} will follow two-part instructions in lessons without needing them "
                "repeated.",
                "Teacher observation",
                "Follows the first part only",
                "Follows both parts in 4 of 5 observations",
                "wellcomm",
                "salt_programme",
            ),
            _t(
                "{name} will use subject vocabulary when answering questions in class.",
                "Vocabulary log: words used correctly in speech",
                "Uses 2 of 10 topic words",
                "Uses 8 of 10 topic words",
                "vocab_preteach",
                "language_for_thinking",
            ),
            _t(
                "{name} will write a paragraph with a clear topic sentence and two supporting "
                "sentences.",
                "Written work in English",
                "Writes single sentences without linking them",
                "A linked paragraph in 3 of 4 pieces of work",
                "colourful_semantics",
            ),
            _t(
                "{name} will ask for help, using an agreed phrase or card, when they have not "
                "understood.",
                "Teacher and TA observation",
                "Does not ask for help; sits quietly",
                "Asks for help at least once in most lessons",
                "salt_programme",
                "language_for_thinking",
            ),
            _t(
                "{name} will answer 'why' and 'how' questions about a text.",
                "Language for Thinking assessment",
                "Answers literal questions only",
                "Answers inference questions in 3 of 5 sessions",
                "language_for_thinking",
                "wellcomm",
            ),
        ),
        adjustments=(
            "Say {name}'s name before giving an instruction",
            "Give extra thinking time (about 10 seconds) before expecting an answer",
            "Visual supports: key words with pictures, and modelled answers",
            "Check understanding with closed questions",
            "Sentence starters for spoken and written answers",
        ),
        access=("25% extra time in tests and exams", "Reader (or computer reader) in exams"),
        difficulties=(
            "Understanding what people mean when they talk fast or use long words.",
            "Explaining my ideas out loud in front of the class.",
            "Finding the right words when someone asks me a question quickly.",
        ),
        support=(
            "Give me time to think before I answer, and show me what a good answer looks like.",
            "Say my name first, then tell me what to do. Write the key words on the board.",
        ),
        concerns=(
            "Understanding of subject vocabulary is well below that of peers.",
            "{name} rarely contributes in class and can become frustrated when not understood.",
        ),
        agencies=("salt", "ep"),
    ),
    "asd": NeedContent(
        outcomes=(
            "{name} will cope with change and busy places, so they can stay in lessons and learn.",
            "{name} will feel confident working and socialising with other students.",
        ),
        targets=(
            _t(
                "{name} will manage changes to the timetable, such as cover lessons, with a "
                "visual timetable.",
                "Key adult's log of changes and how they went",
                "Becomes distressed and leaves the lesson most times",
                "Stays in the lesson for 4 of 5 changes",
                "transition_prep",
                "social_stories",
            ),
            _t(
                "{name} will take part in paired or group work for part of the lesson, with a "
                "clear role.",
                "Teacher observation",
                "Works alone in all group tasks",
                "Takes a role in group work in three subjects",
                "lego",
            ),
            _t(
                "{name} will use the break pass when a room becomes overwhelming, and return "
                "to learning.",
                "Break pass log",
                "Leaves without telling anyone",
                "Uses the pass and returns within 10 minutes on 8 of 10 occasions",
                "sensory_circuit",
                "check_in",
            ),
            _t(
                "{name} will spend break and lunch in a chosen calm space.",
                "Key adult observation",
                "Walks the corridors alone at lunch",
                "Goes to lunch club at least four days a week",
                "lunch_club",
            ),
            _t(
                "{name} will explain a social situation from another person's point of view.",
                "Comic Strip Conversation sessions with the key adult",
                "Finds it hard to say how others felt",
                "Identifies others' feelings in 3 of 4 situations",
                "social_stories",
            ),
        ),
        adjustments=(
            "Same seat in every lesson, at the end of a row near the door",
            "Warning of changes to routine; visual timetable in the planner",
            "Clear, literal language; avoid sarcasm and idioms",
            "May leave lessons 2 minutes early to avoid busy corridors",
            "Ear defenders available in noisy practical lessons",
            "A clear role and written instructions for group work",
        ),
        access=(
            "Separate invigilation in a smaller room",
            "Rest breaks in exams",
            "25% extra time in tests and exams",
        ),
        difficulties=(
            "Noisy corridors and the canteen. Changes to my timetable.",
            "Group work, because people don't listen to my ideas.",
            "Understanding jokes and what people really mean.",
        ),
        support=(
            "Tell me about changes before they happen, and let me leave a bit early to miss "
            "the crowds.",
            "Give me clear instructions written down. Don't make me work in a group without a "
            "job to do.",
        ),
        concerns=(
            "{name} masks at school; family report distress at home after busy days.",
            "Unstructured times are difficult and have led to conflict with peers.",
        ),
        agencies=("autism_outreach", "salt", "camhs"),
    ),
    "hi": NeedContent(
        outcomes=(
            "{name} will access all spoken teaching and class discussion.",
            "{name} will manage their own hearing equipment and speak up for what they need.",
        ),
        targets=(
            _t(
                "{name} will ask for repetition or clarification when they have not heard.",
                "Teacher observation",
                "Rarely asks; nods and copies others",
                "Asks when needed in most lessons",
                "tod_visit",
                "radio_aid",
            ),
            _t(
                "{name} will check the radio aid and report faults independently at registration.",
                "TA's equipment log",
                "Equipment checked by the TA each day",
                "{name} checks and reports independently every day for 4 weeks",
                "radio_aid",
            ),
            _t(
                "{name} will understand and use 15 key words for each new Science topic.",
                "Vocabulary check at the start and end of the topic",
                "Knows 4 of 15",
                "Knows 12 of 15",
                "preteach_hi",
            ),
            _t(
                "{name} will follow class discussions using the agreed strategies.",
                "Summary of the discussion given to the teacher",
                "Misses much of class discussion",
                "Summarises the main points in 3 of 4 lessons",
                "tod_visit",
                "preteach_hi",
            ),
        ),
        adjustments=(
            "Seat at the front, to the side, with a clear view of the teacher's face",
            "Wear the radio aid transmitter; mute it for private conversations",
            "Subtitles on all videos",
            "Repeat other students' answers before responding",
            "Keep background noise down: door closed, one speaker at a time",
        ),
        access=(
            "Separate invigilation in a quiet room",
            "Live speaker for listening tests",
            "25% extra time in tests and exams",
        ),
        difficulties=(
            "Hearing the teacher when the class is noisy or when they turn to the board.",
            "Group discussions, because I can't tell who is talking.",
        ),
        support=(
            "Sit me near the front, face me when you talk, and check my radio aid is on.",
            "Put subtitles on videos and write homework on the board.",
        ),
        concerns=(
            "{name} is missing information in lessons, particularly in group work.",
            "Fatigue from listening is affecting concentration in the afternoons.",
        ),
        agencies=("sensory_hi",),
    ),
    "vi": NeedContent(
        outcomes=(
            "{name} will access all lesson materials independently.",
            "{name} will move around school and the local area safely and independently.",
        ),
        targets=(
            _t(
                "{name} will use a screen magnifier and text-to-speech to read lesson "
                "materials independently.",
                "Teacher observation",
                "Relies on the TA to read materials",
                "Uses digital resources independently in 4 of 5 lessons",
                "keyboard_skills",
                "modified_resources",
            ),
            _t(
                "{name} will travel independently between lessons on the agreed routes.",
                "Habilitation specialist's checklist",
                "Escorted between all lessons",
                "Travels independently on three routes",
                "qtvi",
            ),
            _t(
                "{name} will touch-type at 25 words per minute.",
                "Typing speed test",
                "10 words per minute",
                "25 words per minute with 90% accuracy",
                "touch_typing",
                "keyboard_skills",
            ),
            _t(
                "{name} will ask for enlarged or digital copies when they are not provided.",
                "TA and teacher observation",
                "Waits without saying anything",
                "Asks for adapted copies in all lessons where needed",
                "modified_resources",
                "qtvi",
            ),
        ),
        adjustments=(
            "Enlarged resources (Arial 18, A3) or digital copies on {name}'s tablet",
            "Seat near the front, away from glare from the windows",
            "Describe what is on the board and in videos",
            "High-contrast pens on the whiteboard",
            "Extra time to find information in texts",
        ),
        access=(
            "Modified enlarged papers (A3, 18 point)",
            "25% extra time in tests and exams",
            "Reader (or computer reader) in exams",
        ),
        difficulties=(
            "Reading small print and seeing the board from the back.",
            "Busy corridors and stairs, especially when it's dark in winter.",
        ),
        support=(
            "Give me enlarged worksheets (A3) or send them to my tablet so I can zoom in.",
            "Tell me what's on the board, and don't move my seat.",
        ),
        concerns=(
            "{name} tires quickly when resources are not adapted.",
            "Independence around the site needs developing before Key Stage 4.",
        ),
        agencies=("sensory_vi",),
    ),
    "pd": NeedContent(
        outcomes=(
            "{name} will take part fully in school life, including practical subjects and trips.",
            "{name} will record work efficiently without pain or tiredness.",
        ),
        targets=(
            _t(
                "{name} will write legibly for 15 minutes with planned rest breaks.",
                "Handwriting sample",
                "Writing legible for about 5 minutes before pain",
                "15 minutes legible with two rest breaks",
                "speed_up",
                "ot_programme",
            ),
            _t(
                "{name} will complete the physiotherapy exercises with few prompts.",
                "TA's programme record",
                "Needs prompts for every exercise",
                "Completes the programme with one prompt or fewer",
                "physio",
            ),
            _t(
                "{name} will use a laptop for extended writing in at least three subjects.",
                "Work saved on the laptop",
                "Uses the laptop in English only",
                "Uses the laptop in three subjects for 4 weeks",
                "touch_typing",
                "keyboard_skills",
            ),
            _t(
                "{name} will move safely around the site using the lift pass and early release.",
                "Key adult's log",
                "Often late to lessons and tired",
                "On time to 9 of 10 lessons",
                "physio",
                "ot_programme",
            ),
            _t(
                "{name} will organise their equipment for the day using a checklist.",
                "Daily checklist",
                "Forgets equipment most days",
                "Has the right equipment 4 days out of 5",
                "ot_programme",
                "organisation",
            ),
        ),
        adjustments=(
            "Use of a laptop for extended writing",
            "Leaves lessons 5 minutes early; lift pass",
            "Rest breaks during long written tasks",
            "Adapted equipment in Technology and PE, following the department's risk assessment",
            "Books kept in a locker so {name} does not carry a heavy bag",
        ),
        access=(
            "Word processor in exams",
            "Rest breaks in exams",
            "Scribe in exams",
            "25% extra time in tests and exams",
        ),
        difficulties=(
            "Carrying my bag between lessons and getting through busy corridors.",
            "Getting tired and sore by the end of the day, especially after writing a lot.",
        ),
        support=(
            "Let me leave lessons five minutes early and use my laptop for long writing.",
            "Let me take a short break when my hands hurt.",
        ),
        concerns=(
            "Fatigue and pain are affecting the amount {name} can record in lessons.",
            "{name} has missed lessons for hospital appointments this term.",
        ),
        agencies=("ot", "physio"),
    ),
}
