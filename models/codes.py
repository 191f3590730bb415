"""Codes from the domain: DfE census codes, roles, statuses. Values are what the database stores."""

from __future__ import annotations

import enum


class SenStage(enum.StrEnum):
    """DfE SEN provision code, as school MIS exports give it."""

    NONE = "N"
    SEN_SUPPORT = "K"
    EHC_PLAN = "E"

    @property
    def label(self) -> str:
        return {"N": "No SEN", "K": "SEN Support", "E": "EHC plan"}[self.value]


class BroadArea(enum.StrEnum):
    """The four broad areas of need in the SEND Code of Practice."""

    COGNITION_AND_LEARNING = "cognition_learning"
    COMMUNICATION_AND_INTERACTION = "communication_interaction"
    SEMH = "semh"
    SENSORY_AND_PHYSICAL = "sensory_physical"

    @property
    def label(self) -> str:
        return {
            "cognition_learning": "Cognition and learning",
            "communication_interaction": "Communication and interaction",
            "semh": "Social, emotional and mental health",
            "sensory_physical": "Sensory and/or physical",
        }[self.value]


class NeedCode(enum.StrEnum):
    """DfE school census SEN type of need."""

    SPLD = "SpLD"
    MLD = "MLD"
    SLD = "SLD"
    PMLD = "PMLD"
    SEMH = "SEMH"
    SLCN = "SLCN"
    HI = "HI"
    VI = "VI"
    MSI = "MSI"
    PD = "PD"
    ASD = "ASD"
    OTH = "OTH"
    NSA = "NSA"

    @property
    def broad_area(self) -> BroadArea | None:
        """The broad area the census code belongs to; None for OTH and NSA."""
        return NEED_BROAD_AREA.get(self)

    @property
    def label(self) -> str:
        return NEED_LABELS[self]

    @classmethod
    def parse(cls, text: str) -> NeedCode:
        """Accepts a census code in any letter case ("spld", "SpLD"); raises ValueError."""
        wanted = text.strip().casefold()
        for member in cls:
            if member.value.casefold() == wanted:
                return member
        raise ValueError(text)


NEED_BROAD_AREA: dict[NeedCode, BroadArea] = {
    NeedCode.SPLD: BroadArea.COGNITION_AND_LEARNING,
    NeedCode.MLD: BroadArea.COGNITION_AND_LEARNING,
    NeedCode.SLD: BroadArea.COGNITION_AND_LEARNING,
    NeedCode.PMLD: BroadArea.COGNITION_AND_LEARNING,
    NeedCode.SLCN: BroadArea.COMMUNICATION_AND_INTERACTION,
    NeedCode.ASD: BroadArea.COMMUNICATION_AND_INTERACTION,
    NeedCode.SEMH: BroadArea.SEMH,
    NeedCode.HI: BroadArea.SENSORY_AND_PHYSICAL,
    NeedCode.VI: BroadArea.SENSORY_AND_PHYSICAL,
    NeedCode.MSI: BroadArea.SENSORY_AND_PHYSICAL,
    NeedCode.PD: BroadArea.SENSORY_AND_PHYSICAL,
}

NEED_LABELS: dict[NeedCode, str] = {
    NeedCode.SPLD: "Specific learning difficulty",
    NeedCode.MLD: "Moderate learning difficulty",
    NeedCode.SLD: "Severe learning difficulty",
    NeedCode.PMLD: "Profound and multiple learning difficulty",
    NeedCode.SEMH: "Social, emotional and mental health",
    NeedCode.SLCN: "Speech, language and communication needs",
    NeedCode.HI: "Hearing impairment",
    NeedCode.VI: "Visual impairment",
    NeedCode.MSI: "Multi-sensory impairment",
    NeedCode.PD: "Physical disability",
    NeedCode.ASD: "Autistic spectrum disorder",
    NeedCode.OTH: "Other difficulty or disability",
    NeedCode.NSA: "SEN support but no specialist assessment of type of need",
}


class StaffRole(enum.StrEnum):
    SENDCO = "sendco"
    SENIOR_LEADER = "senior_leader"
    CASE_HOLDER = "case_holder"
    TEACHER = "teacher"
    TEACHING_ASSISTANT = "teaching_assistant"
    # Pastoral roles: each sees the pupils of the forms, year groups or houses the staff CSV
    # gives them (bot.access), as a teacher sees their classes.
    FORM_TUTOR = "form_tutor"
    HEAD_OF_YEAR = "head_of_year"
    PASTORAL = "pastoral"

    @property
    def label(self) -> str:
        return {
            "sendco": "SENDCo",
            "senior_leader": "Senior leader",
            "case_holder": "Case holder",
            "teacher": "Teacher",
            "teaching_assistant": "Teaching assistant",
            "form_tutor": "Form tutor",
            "head_of_year": "Head of year",
            "pastoral": "Pastoral staff",
        }[self.value]


class PlanStatus(enum.StrEnum):
    DRAFT = "draft"
    AWAITING_QA = "awaiting_qa"
    ACTIVE = "active"
    IN_REVIEW = "in_review"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {
            "draft": "Draft",
            "awaiting_qa": "Awaiting quality assurance",
            "active": "Active",
            "in_review": "In review",
            "closed": "Closed",
        }[self.value]


class ClosureReason(enum.StrEnum):
    """Why a plan was closed (Norfolk §3.7: needs met, a move to an EHC plan, or the pupil left)."""

    NEEDS_MET = "needs_met"
    LEFT_SCHOOL = "left_school"
    EHC_PLAN = "ehc_plan"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "needs_met": "needs met",
            "left_school": "left the school",
            "ehc_plan": "moved to an EHC plan",
            "other": "other",
        }[self.value]


class LinkedPlanKind(enum.StrEnum):
    """Other plans the guidance asks an SSP to link to (§3.2)."""

    HEALTH_CARE = "health_care"
    INTIMATE_CARE = "intimate_care"
    BEHAVIOUR_SUPPORT = "behaviour_support"
    RISK_ASSESSMENT = "risk_assessment"
    PERSONAL_EDUCATION = "personal_education"
    FAMILY_NETWORKING = "family_networking"
    EARLY_HELP = "early_help"
    EHC_PLAN = "ehc_plan"
    OTHER = "other"


class NeedSource(enum.StrEnum):
    ASSESSMENT = "assessment"
    OBSERVATION = "observation"
    REPORT = "report"
    INDES = "indes"
    EHCP = "ehcp"
    FAMILY = "family"


class AdjustmentKind(enum.StrEnum):
    IN_CLASS = "in_class"
    ACCESS_ARRANGEMENT = "access_arrangement"


class TargetStatus(enum.StrEnum):
    OPEN = "open"
    ACHIEVED = "achieved"
    PARTLY_ACHIEVED = "partly_achieved"
    NOT_YET_ACHIEVED = "not_yet_achieved"
    DISCONTINUED = "discontinued"


class TargetResult(enum.StrEnum):
    """A target's result at a review."""

    ACHIEVED = "achieved"
    PARTLY = "partly"
    NOT_YET = "not_yet"


class ReviewStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"


class PlanPersonRole(enum.StrEnum):
    """The three lists of "people who helped to make my plan" (One Planning)."""

    DELIVERS = "delivers"
    CONTRIBUTED = "contributed"
    SENT_TO = "sent_to"


class AssignmentStatus(enum.StrEnum):
    PROPOSED = "proposed"
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    ENDED = "ended"


class TimelineKind(enum.StrEnum):
    MEETING = "meeting"
    PHONE_CALL = "phone_call"
    EMAIL = "email"
    LETTER = "letter"
    NOTE = "note"
    PLAN_CHANGE = "plan_change"
    REVIEW = "review"
    ASSIGNMENT = "assignment"
    OBSERVATION = "observation"
    """An observation between reviews (bot.services.observations): staff only."""


class PromptKind(enum.StrEnum):
    ASSIGNMENT = "assignment"
    ASSIGNMENT_REMINDER = "assignment_reminder"
    REVIEW_DUE = "review_due"
    REVIEW_REMINDER = "review_reminder"
    REVIEW_ESCALATION = "review_escalation"
    MONITORING_REQUEST = "monitoring_request"
    MONITORING_DIGEST = "monitoring_digest"
    QA_REQUEST = "qa_request"
    SENDCO_DIGEST = "sendco_digest"
    ASSIGNMENT_DECLINED = "assignment_declined"
    ASSIGNMENT_ENDED = "assignment_ended"
    QA_RETURNED = "qa_returned"
    PLAN_REQUEST = "plan_request"
    PLAN_REQUEST_DECLINED = "plan_request_declined"
    QA_APPROVED = "qa_approved"
    LEAVERS = "leavers"
    """The SENDCo's summary of an import's leavers who have an open plan, to confirm closing."""
    REVIEW_FORWARD = "review_forward"
    """A new report, need or access arrangement on an active plan: bring the review forward?"""
    REVIEW_FORWARD_NOTICE = "review_forward_notice"
    """The SENDCo told that a plan changed and its case holder was asked about its review."""
    FAMILY_CONTRIBUTION = "family_contribution"
    """The case holder told that a family or pupil sent their views through a link."""
    INVITATION_LOCKED = "invitation_locked"
    """The case holder told that a link was locked after three wrong dates of birth."""
    MEETING_REPLY = "meeting_reply"
    """The case holder told that the family answered about the review meeting."""
    PLAN_AGREED = "plan_agreed"
    """The case holder told that the family agreed to the plan, or said what they disagree with."""
    OBSERVATION_SUMMARY = "observation_summary"
    """The case holder's daily summary of new observations on the plans they hold."""
    SESSION_LOG = "session_log"
    """Someone who runs intervention groups asked, after the day's sessions, which happened."""
    GROUP_RUNNER = "group_runner"
    """A member of staff told they now run an intervention group (its name, days and time)."""
    GROUP_RUNNER_LEFT = "group_runner_left"
    """The SENDCo told that intervention groups have no runner: the one who ran them left."""


class InvitationPurpose(enum.StrEnum):
    """What a link to the families' pages is for: the family's or the pupil's views, the family's
    answer about the review meeting, or the family's agreement to the plan. Stored in VARCHAR(12)
    columns (invitations, contributions): a new value must fit, or come with a migration."""

    FAMILY_VIEWS = "family_views"
    PUPIL_VIEWS = "pupil_views"
    MEETING = "meeting"
    AGREEMENT = "agreement"

    @property
    def label(self) -> str:
        return {
            InvitationPurpose.FAMILY_VIEWS: "the family's views",
            InvitationPurpose.PUPIL_VIEWS: "the pupil's views",
            InvitationPurpose.MEETING: "the review meeting",
            InvitationPurpose.AGREEMENT: "the family's agreement to the plan",
        }[self]


class MeetingJoin(enum.StrEnum):
    """How a family will join the review meeting, as they said on their page."""

    IN_PERSON = "in_person"
    PHONE = "phone"
    VIDEO = "video"

    @property
    def label(self) -> str:
        return {
            MeetingJoin.IN_PERSON: "In person",
            MeetingJoin.PHONE: "By phone",
            MeetingJoin.VIDEO: "By video call",
        }[self]


class AgreementDecision(enum.StrEnum):
    """What a parent or carer said about the plan on the family's agreement page."""

    AGREED = "agreed"
    DISAGREED = "disagreed"


class SharingChoice(enum.StrEnum):
    """Who the family agreed may see the plan, on the agreement page."""

    SCHOOL_STAFF = "school_staff"
    NAMED_AGENCIES = "named_agencies"


class ForwardReason(enum.StrEnum):
    """What was added to an active plan that may bring its review forward (Norfolk §3.6, §4.1)."""

    REPORT = "report"
    NEED = "need"
    ACCESS_ARRANGEMENT = "access_arrangement"

    @property
    def label(self) -> str:
        return {
            ForwardReason.REPORT: "a professional report",
            ForwardReason.NEED: "a new need",
            ForwardReason.ACCESS_ARRANGEMENT: "an exam access arrangement",
        }[self]


class PromptStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class QaReviews(enum.StrEnum):
    """Which submitted reviews go back to the SENDCo for quality assurance (a school setting)."""

    EVERY = "every"
    CHANGES = "changes"  # only reviews that change the targets (close one, not carry it)
    SAMPLE = "sample"  # one in five, and every review by a case holder in their first term

    @property
    def label(self) -> str:
        return {
            QaReviews.EVERY: "every review",
            QaReviews.CHANGES: "only reviews that close a target, need new outcomes, or adapt or "
            "stop a provision",
            QaReviews.SAMPLE: "a sample: one review in five, and every review by a case holder "
            "in their first term",
        }[self]


class PupilDisplay(enum.StrEnum):
    """How a school wants pupils named in Slack messages (modals always show the full name)."""

    NAME = "name"
    INITIALS = "initials"


class CalendarKind(enum.StrEnum):
    """A line of a school's calendar: a term (school days), or a closure within one."""

    TERM = "term"
    CLOSURE = "closure"


class MonitoringStatus(enum.StrEnum):
    """A teacher's monitoring request: waiting, answered, or no longer open."""

    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"
    """The review was submitted: no more answers."""
    WITHDRAWN = "withdrawn"
    """The teacher said they don't teach the pupil."""


class MonitoringRole(enum.StrEnum):
    """Who a monitoring request asks: a teacher of the pupil, or support staff who deliver the
    pupil's provision (a teaching assistant named in the plan's People, or the key adult)."""

    TEACHER = "teacher"
    SUPPORT = "support"


class SessionAsPlanned(enum.StrEnum):
    """Support staff: is the session happening as planned?"""

    YES = "yes"
    SOMETIMES = "sometimes"
    NO = "no"

    @property
    def label(self) -> str:
        return {"yes": "Yes", "sometimes": "Sometimes", "no": "No"}[self.value]


class PupilResponse(enum.StrEnum):
    """Support staff: how is the pupil responding?"""

    WELL = "well"
    MIXED = "mixed"
    NOT_WELL = "not_well"
    TOO_EARLY = "too_early"

    @property
    def label(self) -> str:
        return {
            "well": "Well",
            "mixed": "Mixed",
            "not_well": "Not well",
            "too_early": "Too early to say",
        }[self.value]


class StrategiesInPlace(enum.StrEnum):
    YES = "yes"
    PARTLY = "partly"
    NO = "no"

    @property
    def label(self) -> str:
        return {"yes": "Yes", "partly": "Partly", "no": "No"}[self.value]


class Impact(enum.StrEnum):
    GOOD_PROGRESS = "good_progress"
    SOME_PROGRESS = "some_progress"
    NO_CHANGE = "no_change"
    CONCERN = "concern"

    @property
    def label(self) -> str:
        return {
            "good_progress": "Good progress",
            "some_progress": "Some progress",
            "no_change": "No change",
            "concern": "Concern",
        }[self.value]


class ProvisionTier(enum.StrEnum):
    """The graduated response's tiers of provision."""

    ORDINARILY_AVAILABLE = "ordinarily_available"
    TARGETED = "targeted"
    SPECIALIST = "specialist"

    @property
    def label(self) -> str:
        return {
            "ordinarily_available": "Ordinarily available",
            "targeted": "Targeted",
            "specialist": "Specialist",
        }[self.value]


class SessionStatus(enum.StrEnum):
    """A due session: not yet logged, delivered, or not delivered (with why)."""

    AWAITING = "awaiting"
    DELIVERED = "delivered"
    NOT_DELIVERED = "not_delivered"


class MeasureKind(enum.StrEnum):
    """What a provision's entry and exit measures are in. A reading age is kept in months."""

    SCORE = "score"
    READING_AGE = "reading_age"
    STANDARDISED = "standardised"
    ATTENDANCE = "attendance"
    SCALE = "scale"

    @property
    def label(self) -> str:
        return {
            "score": "Score",
            "reading_age": "Reading age",
            "standardised": "Standardised score",
            "attendance": "Attendance %",
            "scale": "Scale (1 to 10)",
        }[self.value]


class Effectiveness(enum.StrEnum):
    """How well a provision worked, as a review rated it."""

    NOT_EFFECTIVE = "not_effective"
    PARTLY = "partly"
    EFFECTIVE = "effective"
    VERY_EFFECTIVE = "very_effective"

    @property
    def label(self) -> str:
        return {
            "not_effective": "Not effective",
            "partly": "Partly effective",
            "effective": "Effective",
            "very_effective": "Very effective",
        }[self.value]


class SenChangeSource(enum.StrEnum):
    """Where a change of a pupil's SEN stage or census needs came from."""

    HISTORY_BEGAN = "history_began"
    """The pupil's record as it stood when SSP Bot began keeping this history (migration 0034)."""
    CSV_IMPORT = "csv_import"
    M365_SYNC = "m365_sync"
    STAFF = "staff"

    @property
    def label(self) -> str:
        return {
            "history_began": "as recorded when the history began",
            "csv_import": "the school's roster import",
            "m365_sync": "the Microsoft 365 roster sync",
            "staff": "a member of staff",
        }[self.value]
