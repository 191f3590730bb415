"""The rest of a synthetic plan's wording, whatever the need: provision, agencies, voice, reviews.

Also the family, consent, delegation and timeline notes. All invented for the demo; `{name}`
and friends are filled per plan by the plan writer.
"""

from __future__ import annotations

from models import (
    LinkedPlanKind,
    NeedSource,
    TargetResult,
    TargetStatus,
)

NEED_SOURCES = (
    NeedSource.ASSESSMENT,
    NeedSource.REPORT,
    NeedSource.OBSERVATION,
    NeedSource.INDES,
    NeedSource.FAMILY,
)

# (what, who, how, how often, how long). "{ta}" and friends are filled per plan.
PROVISIONS: dict[str, tuple[str, str, str, str, str]] = {
    "lexia": (
        "Lexia PowerUp Literacy (adaptive online reading programme)",
        "{ta}, Learning Support",
        "Independent work on a laptop in the Learning Support base, with a check-in on "
        "progress each session",
        "3 × 20 minutes a week (tutor time)",
        "12 weeks",
    ),
    "fresh_start": (
        "Read Write Inc. Fresh Start phonics group",
        "{ta}, Learning Support",
        "Small group of four following the Fresh Start modules",
        "4 × 30 minutes a week",
        "One term",
    ),
    "precision_spelling": (
        "Precision teaching of key subject spellings",
        "{ta}",
        "1:1 one-minute probes on ten target words; words change when fluent",
        "Daily, 10 minutes",
        "6 weeks",
    ),
    "touch_typing": (
        "Touch-typing course (Nessy Fingers)",
        "{ta}",
        "Independent practice in lunchtime club with TA support",
        "2 × 20 minutes a week",
        "10 weeks",
    ),
    "reading_mentor": (
        "Paired reading with a trained Year 10 reading mentor",
        "Year 10 reading mentor, overseen by {ta}",
        "Reading aloud together using the paired reading method",
        "2 × 15 minutes a week (tutor time)",
        "8 weeks",
    ),
    "reciprocal": (
        "Reciprocal reading group",
        "{ta}",
        "Small group of five: predict, clarify, question, summarise",
        "Weekly, 40 minutes",
        "10 weeks",
    ),
    "catch_up_numeracy": (
        "Catch Up Numeracy",
        "{ta}",
        "1:1 structured sessions based on the Catch Up assessment",
        "2 × 15 minutes a week",
        "One term",
    ),
    "numeracy_group": (
        "Numeracy small group with concrete resources (Numicon, place-value counters)",
        "{ta}",
        "Group of four during Maths lessons",
        "2 × 30 minutes a week",
        "10 weeks",
    ),
    "vocab_preteach": (
        "Pre-teaching of subject vocabulary (Word Aware approach)",
        "{ta}",
        "Small group: new words for the coming topic taught before the lesson",
        "Weekly, 30 minutes",
        "Half a term, then reviewed",
    ),
    "homework_club": (
        "Homework club with TA support",
        "Learning Support team",
        "Quiet room in the library with help to plan and start homework",
        "Twice a week after school",
        "Ongoing",
    ),
    "organisation": (
        "Organisation check-in: planner, equipment and homework",
        "{key_adult}",
        "Quick 1:1 check at the start of the day using a checklist",
        "Daily, 5 minutes",
        "One term",
    ),
    "wellcomm": (
        "WellComm language group",
        "{ta}, trained by the Speech and Language Therapy service",
        "Small group of four working on the language gaps identified by the WellComm assessment",
        "2 × 30 minutes a week",
        "10 weeks",
    ),
    "salt_programme": (
        "Speech and language programme set by the SALT",
        "{ta}",
        "1:1 activities from the therapist's programme; progress shared with "
        "the SALT each half term",
        "2 × 20 minutes a week",
        "One term",
    ),
    "colourful_semantics": (
        "Colourful Semantics for building sentences in writing",
        "{ta}",
        "Small group: colour-coded sentence parts used to plan answers",
        "Weekly, 30 minutes",
        "8 weeks",
    ),
    "language_for_thinking": (
        "Language for Thinking group",
        "{ta}",
        "Small group working on inference and verbal reasoning",
        "Weekly, 40 minutes",
        "10 weeks",
    ),
    "lego": (
        "LEGO®-based therapy group (Brick-by-Brick)",
        "{ta} and a trained colleague",
        "Group of three taking turns as engineer, supplier and builder",
        "Weekly, 45 minutes",
        "10 weeks",
    ),
    "social_stories": (
        "Social Stories™ and Comic Strip Conversations",
        "{key_adult}",
        "1:1, written with {name} before new or difficult situations",
        "At least weekly, and before changes",
        "Ongoing",
    ),
    "transition_prep": (
        "Preparing for changes: visual timetable and warning of cover lessons",
        "{key_adult}",
        "Timetable checked each morning; {name} is told about changes early",
        "Daily, 5 minutes",
        "Ongoing",
    ),
    "zones": (
        "Zones of Regulation sessions",
        "{ta}",
        "1:1, learning to notice feelings and choose a calming strategy",
        "Weekly, 30 minutes",
        "8 weeks",
    ),
    "elsa": (
        "ELSA sessions",
        "{elsa}, ELSA",
        "1:1 emotional literacy work on feelings and coping strategies",
        "Weekly, 45 minutes",
        "8 weeks",
    ),
    "thrive": (
        "THRIVE sessions",
        "{key_adult}, licensed Thrive practitioner",
        "1:1 activities from {name}'s Thrive action plan",
        "Weekly, 40 minutes",
        "One term",
    ),
    "check_in": (
        "Check-in and check-out with a key adult",
        "{key_adult}",
        "Short chat at the start and end of the day using a 1–5 scale",
        "Daily, 5 minutes each",
        "Half a term, then reviewed",
    ),
    "counselling": (
        "School counselling",
        "School counsellor",
        "1:1 in a private room",
        "Weekly, 50 minutes",
        "12 sessions",
    ),
    "mhst": (
        "Mental Health Support Team (MHST) sessions on managing worry",
        "MHST education mental health practitioner",
        "1:1 guided self-help based on CBT",
        "Weekly, 30 minutes",
        "6–8 sessions",
    ),
    "friends": (
        "FRIENDS resilience group",
        "{ta}",
        "Small group of six working through the FRIENDS programme",
        "Weekly, 50 minutes",
        "10 weeks",
    ),
    "lunch_club": (
        "Lunchtime club in the Learning Support base",
        "Learning Support team",
        "A calm space with games and a supervising adult",
        "Daily at lunchtime",
        "Ongoing",
    ),
    "drawing_talking": (
        "Drawing and Talking",
        "{ta}, trained practitioner",
        "1:1 sessions using drawing as a gentle way to talk about feelings",
        "Weekly, 30 minutes",
        "12 weeks",
    ),
    "mentor": (
        "Mentoring with a member of staff",
        "{key_adult}",
        "1:1 mentoring on goals, attendance and friendships",
        "Fortnightly, 30 minutes",
        "One term",
    ),
    "radio_aid": (
        "Radio aid checks and daily listening check",
        "{ta}",
        "Equipment checked at registration; faults reported to the Sensory Support Service",
        "Daily, 5 minutes",
        "Ongoing",
    ),
    "tod_visit": (
        "Teacher of the Deaf (QTOD) advisory visits",
        "QTOD, Sensory Support Service",
        "Observation in lessons, advice to staff and direct work with {name}",
        "Twice a term",
        "Ongoing",
    ),
    "preteach_hi": (
        "Pre-teaching of key vocabulary and concepts",
        "{ta}",
        "1:1 or in a pair, before new topics in Science and Humanities",
        "Weekly, 30 minutes",
        "Ongoing, reviewed each term",
    ),
    "qtvi": (
        "QTVI advisory visits and habilitation (mobility) training",
        "QTVI and habilitation specialist, Sensory Support Service",
        "Route training around the site; advice on resources",
        "Every half term",
        "Ongoing",
    ),
    "modified_resources": (
        "Modified resources: enlarged print (Arial 18, A3) and accessible digital copies",
        "{ta}",
        "Prepared in advance from teachers' slides",
        "Every lesson",
        "Ongoing",
    ),
    "keyboard_skills": (
        "Assistive technology skills (screen magnifier, text-to-speech)",
        "{ta}",
        "1:1 practice on {name}'s laptop",
        "Weekly, 30 minutes",
        "One term",
    ),
    "physio": (
        "Physiotherapy programme",
        "{ta}, trained by the NHS physiotherapist",
        "Exercises from the physio programme in the Learning Support base",
        "3 × 15 minutes a week",
        "Ongoing; reviewed by the physiotherapist each term",
    ),
    "speed_up": (
        "Speed Up! handwriting programme",
        "{ta}",
        "Small group, kinaesthetic handwriting programme",
        "2 × 30 minutes a week",
        "10 weeks",
    ),
    "ot_programme": (
        "OT fine motor and organisation programme",
        "{ta}, following the OT's advice",
        "1:1 activities from the OT report",
        "3 × 15 minutes a week",
        "One term",
    ),
    "sensory_circuit": (
        "Sensory circuit",
        "{ta}",
        "Short sequence of alerting, organising and calming activities",
        "Daily before period 1, 10 minutes",
        "Half a term, then reviewed",
    ),
}

# (agency, contact's role, involvement, report title or "", report recommendations)
AGENCIES: dict[str, tuple[str, str, str, str, str]] = {
    "ep": (
        "Educational Psychology Service (EP)",
        "educational psychologist",
        "Consultation with the SENDCo and family, and an assessment of {name}'s learning",
        "Educational psychology assessment report",
        "Pre-teach vocabulary; reduce copying from the board; use visual supports; build "
        "self-esteem through {name}'s strengths; assess for exam access arrangements.",
    ),
    "literacy_outreach": (
        "Specialist Learning Difficulties Team",
        "specialist teacher",
        "Specialist literacy assessment and advice to staff",
        "Specialist teacher assessment (literacy)",
        "A structured literacy programme three times a week; 25% extra time "
        "and a reader in exams; learn to touch-type.",
    ),
    "salt": (
        "NHS Speech and Language Therapy (SALT)",
        "speech and language therapist",
        "Assessment, a programme for school to deliver, and a review each term",
        "Speech and language therapy report",
        "Give thinking time; use visuals; pre-teach vocabulary; deliver the language "
        "programme twice a week.",
    ),
    "autism_outreach": (
        "Autism Outreach Team",
        "specialist teacher",
        "Advice to staff, staff training and observations of {name} in lessons",
        "Autism outreach advice",
        "Visual timetable; a safe space; warning of changes; clear, literal "
        "language; a sensory check of classrooms.",
    ),
    "camhs": (
        "CAMHS",
        "CAMHS clinician",
        "Assessment and therapeutic support for {name}",
        "CAMHS letter to school",
        "A consistent key adult; share {name}'s coping strategies with staff; a graded "
        "approach to situations that cause anxiety.",
    ),
    "mhst": (
        "Mental Health Support Team (MHST)",
        "education mental health practitioner",
        "Guided self-help sessions in school",
        "MHST summary",
        "Keep practising worry time and the breathing strategy; praise brave behaviour.",
    ),
    "early_help": (
        "Early Help (family support)",
        "family support worker",
        "Support for the family with routines and attendance",
        "Early Help assessment summary",
        "A morning routine plan; regular contact between school and home.",
    ),
    "sensory_hi": (
        "Sensory Support Service (hearing)",
        "Teacher of the Deaf (QTOD)",
        "Visits each term, equipment checks and advice to staff",
        "Teacher of the Deaf visit report",
        "Radio aid in all lessons; subtitles; seat near the front; pre-teach "
        "vocabulary; a quiet room for exams.",
    ),
    "sensory_vi": (
        "Sensory Support Service (vision)",
        "qualified teacher of vision impairment (QTVI)",
        "Visits each term, habilitation training and advice on resources",
        "QTVI visit report",
        "Enlarged print (N18); high-contrast materials; modified exam papers; "
        "mobility training on new routes.",
    ),
    "ot": (
        "NHS Occupational Therapy (OT)",
        "occupational therapist",
        "Assessment and a programme for school",
        "Occupational therapy report",
        "Sloping writing board; laptop for extended work; fine motor programme; rest breaks.",
    ),
    "physio": (
        "NHS Physiotherapy",
        "physiotherapist",
        "Exercise programme and a review each term",
        "",
        "",
    ),
}

LINKED_PLANS: dict[LinkedPlanKind, tuple[LinkedPlanKind, str, str]] = {
    LinkedPlanKind.EHC_PLAN: (
        LinkedPlanKind.EHC_PLAN,
        "EHC plan issued by the local authority; annual review each spring term.",
        "SEND records system: EHCP folder",
    ),
    LinkedPlanKind.HEALTH_CARE: (
        LinkedPlanKind.HEALTH_CARE,
        "Individual healthcare plan, written with the school nurse and family.",
        "Medical room and the MIS medical tab",
    ),
    LinkedPlanKind.PERSONAL_EDUCATION: (
        LinkedPlanKind.PERSONAL_EDUCATION,
        "Personal Education Plan (PEP) with the Virtual School; reviewed each term.",
        "Designated teacher's PEP records",
    ),
    LinkedPlanKind.EARLY_HELP: (
        LinkedPlanKind.EARLY_HELP,
        "Early Help assessment; the young carers' service is involved.",
        "Safeguarding records (DSL)",
    ),
    LinkedPlanKind.BEHAVIOUR_SUPPORT: (
        LinkedPlanKind.BEHAVIOUR_SUPPORT,
        "Behaviour support plan: agreed exit route and calm space.",
        "Pastoral team shared drive",
    ),
    LinkedPlanKind.RISK_ASSESSMENT: (
        LinkedPlanKind.RISK_ASSESSMENT,
        "Personal emergency evacuation plan (PEEP) and moving-around-site risk assessment.",
        "Site office and SEND records system",
    ),
    LinkedPlanKind.INTIMATE_CARE: (
        LinkedPlanKind.INTIMATE_CARE,
        "Intimate care plan agreed with the family.",
        "SEND records system (restricted)",
    ),
}

FAMILIES: tuple[tuple[tuple[str, ...], float], ...] = (
    (("Mum", "Dad"), 35),
    (("Mum",), 22),
    (("Mum", "Younger brother"), 8),
    (("Dad",), 6),
    (("Mum", "Stepdad"), 8),
    (("Nan", "Grandad"), 4),
    (("Mum", "Dad", "Older sister"), 8),
    (("Dad", "Dad's partner"), 4),
    (("Mum", "Nan"), 5),
)

CHILD_RELATIONS = frozenset({"Younger brother", "Older sister"})

MALE_RELATIONS = frozenset({"Dad", "Stepdad", "Grandad", "Younger brother"})

ASPIRATIONS = (
    "I want to be a vet because I love animals.",
    "I'd like to be a mechanic like my uncle.",
    "I want to pass my GCSEs and go to college to study art.",
    "I want to be a football coach.",
    "I'd like to work with computers, maybe making games.",
    "I want to be a nurse and help people.",
    "I'd like to be a chef and have my own restaurant one day.",
    "I want to be a hairdresser or do make-up for films.",
    "I'd like to work outdoors, maybe as a gardener or a park ranger.",
    "I don't know yet, but I want a job where I can help people.",
    "I want to be an electrician.",
    "I'd like to be a paramedic.",
    "I want to be a builder and build my own house.",
    "I want to be a teaching assistant like the ones who helped me.",
)

IMPORTANT_TO_ME = (
    "My family, my dog and playing Minecraft with my cousins.",
    "My friends, youth club on Fridays and my nan.",
    "Football at the weekend and my little brother.",
    "Having my own space at home and time to draw.",
    "My cat, my Xbox and my best friend.",
    "Knowing what is happening each day.",
    "Swimming club and my coach.",
    "Cooking with my mum and going to the park.",
    "Music: I play the keyboard and listen to music to calm down.",
)

STRENGTHS = (
    "{name} is kind and notices when other people are upset. Brilliant at drawing and loves anime.",
    "{name} has a great sense of humour and is a loyal friend. Loves football and cooking.",
    "{name} is creative, great with technology and knows a lot about space.",
    "{name} works hard in practical subjects and takes pride in their Technology work.",
    "{name} is caring and helpful, especially with younger children.",
    "{name} is determined and does not give up easily in PE.",
    "{name} is polite, curious and asks brilliant questions in Science.",
    "{name} is a talented musician and enjoys performing.",
)

# One Planning's "What people like and admire about me": what others say, not the pupil's likes.
LIKED_AND_ADMIRED = (
    "Friends say {name} is funny and always makes sure nobody is left out.",
    "Staff admire how {name} keeps trying when the work is hard.",
    "{name}'s family say they are thoughtful and a great help at home.",
    "Teachers like {name}'s questions and the way they help others in group work.",
    "People admire {name}'s patience with younger pupils at the homework club.",
    "{name}'s tutor says they are honest, reliable and brilliant with animals.",
)

GOOD_DAYS = (
    "A good day is when I know what's happening, I sit with my friends at lunch and I have PE.",
    "A good day is when I have art and nobody rushes me.",
    "A good day is when I get a positive phone call home.",
    "A good day is when I've had breakfast, I've got all my equipment and my teachers say hello.",
    "A good day is when lessons are calm and I understand the work.",
)

BAD_DAYS = (
    "A bad day is when there's a cover teacher and the lesson is different.",
    "A bad day is when I forget my PE kit and get a detention.",
    "A bad day is when it's really noisy at lunch and I can't find my friends.",
    "A bad day is when I haven't slept well and get told off for something that wasn't me.",
    "A bad day is when I have lots of tests and feel like I'm going to fail.",
)

BETTER_DAYS = (
    "Check in with me at the start of the day. Let me go to the library at lunch if it's busy.",
    "Give me a job to do in the lesson so I feel useful.",
    "Remind me quietly, not in front of everyone.",
    "Let me know about changes the day before.",
)

ABOUT_ME = (
    "{name} joined us in Year 7 from one of our partner primary schools.",
    "{name} enjoys after-school clubs and has a close group of friends.",
    "{name} likes to be busy and is always happy to help in lessons.",
    "{name} is quiet at first but chatty once they know you.",
)

FAMILY_HOPES = (
    "We'd like {name} to feel confident and happy in school and to leave with qualifications "
    "for college.",
    "We hope {name} can make friends and enjoy coming to school.",
    "We want {name} to be more independent with homework and organisation.",
    "We hope {name} gets the right support to reach their potential.",
)

FAMILY_CONCERNS = (
    "We worry that {name} hides how they feel at school and it all comes out at home.",
    "Homework causes arguments at home.",
    "We're worried about the move to GCSE courses.",
    "We'd like more notice when things change at school.",
)

COMMUNITY_CIRCLE = (
    ("Football coach", "Coach at the local club", 4),
    ("Youth club leader", "Youth worker", 4),
    ("Swimming coach", "Coach", 4),
    ("Family friend", "Family friend", 2),
)

CONSENT_SCOPES = (
    "This plan may be shared with all staff who teach {name} and with the professionals named "
    "in it.",
    "This plan may be shared with school staff, the school nurse and the agencies involved; "
    "not with anyone else without asking first.",
)

DELEGATION_REASONS = (
    "Matches the case holder's area of expertise",
    "Case holder knows the pupil well from their year group",
    "Case holder is the key adult for this pupil",
    "Balances caseloads across the SSP team",
)

DECLINE_REASONS = (
    "My caseload is full until after the Year 11 mocks; could this go to the Learning Support "
    "team?",
    "I don't know this pupil: could someone who teaches them take it?",
)

TARGET_STATUS_FOR = {
    TargetResult.ACHIEVED: TargetStatus.ACHIEVED,
    TargetResult.PARTLY: TargetStatus.PARTLY_ACHIEVED,
    TargetResult.NOT_YET: TargetStatus.NOT_YET_ACHIEVED,
}

EVIDENCE = {
    TargetResult.ACHIEVED: (
        "Met in 4 of 5 observations; staff agree this is now secure.",
        "Reassessment shows the success criteria were met.",
        "Met consistently over the last four weeks.",
    ),
    TargetResult.PARTLY: (
        "Good progress in small-group sessions, but not yet seen consistently in lessons.",
        "Improvement from the baseline, but short of the success criteria.",
        "Met in some subjects (English, Humanities) but not yet in others.",
    ),
    TargetResult.NOT_YET: (
        "Sessions were disrupted by absence, so this target continues.",
        "Little change from the baseline; the approach will change.",
        "Not yet: {name} needs more time with this step.",
    ),
}

REVIEW_WORKING = (
    "{name} has used the time-out card sensibly and returns to lessons more quickly.",
    "Intervention sessions have been well attended and {name} has moved up two levels.",
    "Printed notes mean {name} can focus on listening in lessons.",
    "Staff report {name} is asking for help more often.",
    "The morning check-in has helped {name} start the day calmly.",
)

REVIEW_NOT_WORKING = (
    "Homework is still rarely handed in.",
    "Sessions were often missed because they clashed with PE.",
    "Cover lessons are still very hard for {name}, and there have been several this term.",
    "Group work remains difficult.",
    "Strategies are not used consistently in every subject.",
)

REVIEW_CHANGES = (
    "Move sessions to tutor time so no lessons are missed.",
    "Share the one-page profile with all new staff, including cover supervisors.",
    "Focus the next targets on independence rather than adult support.",
    "Add a target on organising homework.",
)

REVIEW_NEXT_STEPS = (
    "New targets set for the next cycle; ELSA continues for another six weeks.",
    "Refer to the Educational Psychology Service for further advice.",
    "Assess for exam access arrangements.",
    "Continue the current provision and check attendance again in six weeks.",
)

FINAL_NEXT_STEPS = (
    "This plan closes; a new plan starts with the targets agreed today.",
    "Close this plan and start a new one to reflect {name}'s change of SEN stage.",
)

REVIEW_RECOMMENDATIONS = (
    "Continue at SEN Support.",
    "Consider a request for an EHC needs assessment if progress remains limited.",
    "Keep the plan; reduce adult support gradually.",
    "Continue; share successful strategies with all staff.",
)

CYP_VIEWS = (
    "I like my sessions and I think my reading is getting better.",
    "I still don't like cover lessons, but the card helps.",
    "I want to keep going to lunch club.",
    "I feel better about coming to school now.",
)

FAMILY_VIEWS = (
    "{parent} is pleased with the progress and says {name} is happier coming to school.",
    "{parent} feels homework is still a struggle at home.",
    "{parent} would like more notice of changes and was glad to talk it through.",
)

OBSERVATION_NOTES = (
    "adjustments in place and {name} settled well.",
    "printed notes provided; {name} answered a question in front of the class.",
    "seating plan followed; {name} needed two reminders to start the task.",
    "{name} used the time-out card once and came back after five minutes.",
)

PHONE_NOTES = (
    "things are going well at home; no changes needed.",
    "agreed to try a homework timetable at home.",
    "shared good news about {name}'s effort this week.",
)
