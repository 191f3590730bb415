"""The review meeting with the family (issue 17): the case holder sets its day, time, place or
call link and who is coming, from "Ask the family" in Slack, and makes a link for the meeting
(bot.services.family); the family's page shows the details and asks whether they can come (or
which other days and times would suit) and how they will join; their reply comes back to the case
holder by DM, and the plan's overview and the review notes show the meeting and the latest answer.

One meeting per plan and cycle, changed in place: each change of its details counts a revision,
and a reply names the revision it answered, so a reply to earlier details is shown as such, never
lost. Only the plan's case holder or a SENDCo sets the meeting or reads a reply (the Viewer, from
the verified Slack request); the family reaches their page only through a usable link whose date
of birth they confirmed. Every change and read is audited; a refusal too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from bot.access import Viewer
from bot.errors import UserError
from bot.services import audit, family, outbox
from bot.services.calendar import load_calendar, long_day
from models import (
    Invitation,
    InvitationPurpose,
    MeetingJoin,
    MeetingReply,
    Plan,
    Prompt,
    PromptKind,
    ReviewMeeting,
    School,
    TimelineEntry,
    TimelineKind,
)

PLACE_LENGTH = 200
LINK_LENGTH = 500
WHO_LENGTH = 1000
TIMES_LENGTH = 1000
NOTE_LENGTH = 2000
DETAILS_LENGTH = 400
JOINING = {
    MeetingJoin.IN_PERSON: "coming in person",
    MeetingJoin.PHONE: "joining by phone",
    MeetingJoin.VIDEO: "joining by video call",
}


@dataclass(frozen=True)
class Details:
    """The meeting as set: what the case holder's form starts from, and what the family sees."""

    day: date
    at: time
    place: str | None
    call_link: str | None
    who_is_coming: str | None

    @property
    def when(self) -> str:
        """ "Tuesday 1 December 2026 at 3:30pm"."""
        return f"{long_day(self.day)} at {clock_time(self.at)}"

    @property
    def said(self) -> str:
        """When and where, on one line: "Tuesday 1 December 2026 at 3:30pm, Room 4 (or by video
        call)"."""
        where = [self.place] if self.place else []
        if self.call_link:
            where.append("by video call" if not self.place else "(or by video call)")
        return ", ".join([self.when, " ".join(where)]) if where else self.when


def clock_time(at: time) -> str:
    """A time as the family reads it: 3:30pm, 10am, 12 noon."""
    if at.hour == 12 and at.minute == 0:
        return "12 noon"
    hour = at.hour % 12 or 12
    suffix = "am" if at.hour < 12 else "pm"
    return f"{hour}{suffix}" if at.minute == 0 else f"{hour}:{at.minute:02d}{suffix}"


def _details(meeting: ReviewMeeting) -> Details:
    return Details(
        meeting.meeting_date,
        meeting.meeting_time,
        meeting.place,
        meeting.call_link,
        meeting.who_is_coming,
    )


def _meeting(session: Session, plan_id: int, cycle: int) -> ReviewMeeting | None:
    return session.scalar(
        select(ReviewMeeting).where(
            ReviewMeeting.plan_id == plan_id, ReviewMeeting.cycle_number == cycle
        )
    )


# --- from Slack: setting the meeting ----------------------------------------------------------


@dataclass(frozen=True)
class AskForm:
    """ "Ask the family" about the meeting: the links still open, and the details to start from
    (None: not set yet for this cycle) with the family's latest answer."""

    ask: family.AskForm
    details: Details | None
    answer: str | None


def ask_form(session: Session, viewer: Viewer, plan_id: int, now: datetime) -> AskForm:
    """Raises NotAllowed (audited) or UserError, as family.ask_form."""
    ask = family.ask_form(session, viewer, plan_id, InvitationPurpose.MEETING, now)
    plan = session.get(Plan, ask.plan_id)
    meeting = _meeting(session, plan.id, plan.cycle_number)
    if meeting is None:
        return AskForm(ask, None, None)
    return AskForm(ask, _details(meeting), _answer(session, meeting))


@dataclass(frozen=True)
class MeetingInput:
    """What the case holder typed; the texts stripped, empty ones None."""

    day: date | None
    at: time | None
    place: str | None
    call_link: str | None
    who_is_coming: str | None


@dataclass(frozen=True)
class Outcome:
    """Problems keyed by the form's block id, or the link made."""

    errors: dict[str, str]
    created: family.Created | None = None


def set_and_link(
    session: Session, viewer: Viewer, plan_id: int, typed: MeetingInput, now: datetime
) -> Outcome:
    """Saves the meeting's details for the plan's cycle (a change counts a revision, with its
    timeline entry and audit; the same details again change nothing) and makes a link for it.
    Raises NotAllowed (audited) or UserError."""
    plan = family.plan_for(session, viewer, plan_id, now, "set meeting")
    school = session.get(School, plan.school_id)
    errors = validate(typed, school.local_date(now), load_calendar(session, school.id))
    if errors:
        return Outcome(errors)
    details = Details(typed.day, typed.at, typed.place, typed.call_link, typed.who_is_coming)
    meeting = _meeting(session, plan.id, plan.cycle_number)
    if meeting is None:
        meeting = ReviewMeeting(
            school_id=plan.school_id, plan_id=plan.id, cycle_number=plan.cycle_number, revision=1
        )
        session.add(meeting)
        said = "set"
    elif _details(meeting) != details:
        meeting.revision += 1
        said = "changed"
    else:
        said = None
    if said:
        meeting.meeting_date, meeting.meeting_time = details.day, details.at
        meeting.place, meeting.call_link = details.place, details.call_link
        meeting.who_is_coming = details.who_is_coming
        meeting.set_by_id, meeting.set_at = viewer.staff_id, now
        session.add(
            TimelineEntry(
                plan_id=plan.id,
                occurred_at=now,
                kind=TimelineKind.MEETING,
                summary=f"{viewer.name} {said} the review meeting: {details.said}",
                author_id=viewer.staff_id,
            )
        )
        session.flush()
        audit.record_by(
            session, viewer, action="update" if said == "changed" else "create",
            via=family.VIA_SLACK, now=now, plan=plan,
            detail=f"{said} review meeting {meeting.id} (revision {meeting.revision})",
        )  # fmt: skip
    created = family.create_link(session, viewer, plan.id, InvitationPurpose.MEETING, [], now)
    return Outcome({}, created)


def validate(typed: MeetingInput, today: date, calendar) -> dict[str, str]:
    """Problems with the meeting's details, keyed by the form's block id."""
    errors: dict[str, str] = {}
    if typed.day is None:
        errors["meeting_date"] = "Choose the day of the meeting."
    elif typed.day < today:
        errors["meeting_date"] = "The meeting can't be in the past."
    else:
        why_not = calendar.not_a_review_day(typed.day)
        if why_not is not None:
            errors["meeting_date"] = why_not
    if typed.at is None:
        errors["meeting_time"] = "Choose the time of the meeting."
    if typed.place and len(typed.place) > PLACE_LENGTH:
        errors["meeting_place"] = f"Keep the place to {PLACE_LENGTH} characters."
    if typed.call_link:
        if len(typed.call_link) > LINK_LENGTH:
            errors["meeting_link"] = f"Keep the call link to {LINK_LENGTH} characters."
        elif not typed.call_link.lower().startswith(("https://", "http://")):
            errors["meeting_link"] = "Give the whole call link, starting https://"
    if not typed.place and not typed.call_link:
        errors["meeting_place"] = "Give the place of the meeting, or a call link (or both)."
    if typed.who_is_coming and len(typed.who_is_coming) > WHO_LENGTH:
        errors["meeting_who"] = f"Keep who is coming to {WHO_LENGTH:,} characters."
    return errors


# --- the family's page ------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingPage:
    school_name: str
    first_name: str
    details: Details


def page_of(session: Session, link: Invitation) -> MeetingPage | None:
    """The meeting a usable link is for, as its page shows it; None if there is none for the
    link's cycle (then the link gets the page that says to contact the school)."""
    meeting = _meeting(session, link.plan_id, link.cycle_number)
    if meeting is None:
        return None
    return _page(session, link, meeting)


def _page(session: Session, link: Invitation, meeting: ReviewMeeting) -> MeetingPage:
    school = session.get(School, link.school_id)
    pupil = link.pupil
    return MeetingPage(school.name, pupil.preferred_name or pupil.first_name, _details(meeting))


@dataclass(frozen=True)
class Reply:
    """What the family chose on their page (the caller checked each field's length)."""

    can_come: bool
    other_times: str | None
    join_by: MeetingJoin | None
    note: str | None
    name: str
    relationship: str


def reply(session: Session, link: Invitation, answer: Reply, now: datetime) -> MeetingReply:
    """Stores the family's reply, counts a use of the link, queues the case holder's DM and
    audits it. The caller checked the link is usable and its date of birth confirmed."""
    plan = session.get(Plan, link.plan_id)
    meeting = _meeting(session, link.plan_id, link.cycle_number)
    if meeting is None:
        raise UserError(family.GONE)
    if not family.take_submission(session, link):
        raise family.UsedUp()
    stored = MeetingReply(
        school_id=link.school_id,
        plan_id=plan.id,
        meeting_id=meeting.id,
        invitation_id=link.id,
        cycle_number=link.cycle_number,
        meeting_revision=meeting.revision,
        details_answered=_details(meeting).said[:DETAILS_LENGTH],
        can_come=answer.can_come,
        other_times=None if answer.can_come else answer.other_times,
        join_by=answer.join_by,
        note=answer.note or None,
        contributor_name=answer.name,
        contributor_relationship=answer.relationship,
        submitted_at=now,
    )
    session.add(stored)
    session.flush()
    recipient = plan.case_holder_id or link.created_by_id
    stored.prompt_id = family.tell(
        session, plan, recipient, PromptKind.MEETING_REPLY, f"meeting_reply:{stored.id}", now
    ).id
    family.audit_page(session, link, now, "create", f"sent meeting reply {stored.id}")
    return stored


def thanks_page(
    session: Session, token: str, reply_id: int, invitation_id: int
) -> MeetingPage | None:
    """The meeting again, for the thank-you page of the reply just sent: its id and its link's
    come from the family's signed session cookie, and the token in the address must be that
    link's (which may be used up by now)."""
    sent = session.get(MeetingReply, reply_id)
    if (
        sent is None
        or sent.invitation_id != invitation_id
        or sent.invitation.token_hash != family.token_hash(token)
    ):
        return None
    return _page(session, sent.invitation, sent.meeting)


# --- back in Slack: the DM and reading the reply -----------------------------------------------


@dataclass(frozen=True)
class Arrived:
    reply_id: int
    pupil_name: str
    pupil_id: int


def arrived(session: Session, prompt: Prompt) -> Arrived | None:
    """A reply's DM: the pupil as the school's messages name them."""
    sent = session.scalar(select(MeetingReply).where(MeetingReply.prompt_id == prompt.id))
    if sent is None:
        return None
    plan = session.get(Plan, sent.plan_id)
    return Arrived(sent.id, family.message_name(session, plan), plan.pupil_id)


@dataclass(frozen=True)
class Reading:
    pupil_name: str
    by: str
    on: date
    can_come: bool
    other_times: str | None
    join_by: str | None
    note: str | None
    answered: str
    """The meeting's details the family answered ("Tuesday 1 December 2026 at 3:30pm, Room 4")."""
    now_set: str | None
    """The details now, when they changed after the reply (the reply is about earlier ones)."""


def read_reply(session: Session, viewer: Viewer, reply_id: int, now: datetime) -> Reading:
    """A family's reply about the meeting, for the plan's case holder or a SENDCo (audited).
    Raises NotAllowed (audited) or UserError."""
    sent, plan = family.answer_for(
        session, viewer, MeetingReply, reply_id, now, "read meeting reply"
    )
    school = session.get(School, plan.school_id)
    audit.record_by(
        session, viewer, action="read", via=family.VIA_SLACK, now=now, plan=plan,
        detail=f"read meeting reply {sent.id}",
    )  # fmt: skip
    if sent.prompt_id:
        outbox.mark_answered(session, sent.prompt_id, now)
    meeting = sent.meeting
    changed = sent.meeting_revision != meeting.revision
    return Reading(
        plan.pupil.known_as,
        _by(sent),
        school.local_date(sent.submitted_at),
        sent.can_come,
        sent.other_times,
        sent.join_by.label if sent.join_by else None,
        sent.note,
        sent.details_answered,
        _details(meeting).said if changed else None,
    )


def _by(sent: MeetingReply) -> str:
    return f"{sent.contributor_name} ({sent.contributor_relationship})"


# --- on the plan and in the review notes -------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """The meeting as the plan's overview and the review notes mention it (plain text)."""

    details: Details
    answer: str


def summary_of(plan: Plan, viewer: Viewer) -> Summary | None:
    """The meeting set for the plan's cycle and the family's latest answer, for the plan's case
    holder or a SENDCo only (None for anyone else, or when none is set)."""
    if not family.may_ask(viewer, plan):
        return None
    return summary_for_holder(object_session(plan), plan)


def summary_for_holder(session: Session, plan: Plan) -> Summary | None:
    """As summary_of, for a caller that has checked the viewer already (the review notes are
    only ever opened by the case holder or a SENDCo)."""
    meeting = _meeting(session, plan.id, plan.cycle_number)
    if meeting is None:
        return None
    return Summary(_details(meeting), _answer(session, meeting))


def _answer(session: Session, meeting: ReviewMeeting) -> str:
    """ "Confirmed by Mrs Khan (mother), joining by phone" / "Asked for another time"."""
    latest = session.scalar(
        select(MeetingReply)
        .where(MeetingReply.meeting_id == meeting.id)
        .order_by(MeetingReply.submitted_at.desc(), MeetingReply.id.desc())
        .limit(1)
    )
    if latest is None:
        return "No reply from the family yet"
    if latest.can_come:
        said = f"Confirmed by {_by(latest)}"
        if latest.join_by:
            said += f", {JOINING[latest.join_by]}"
    else:
        said = f"Asked for another time: {_by(latest)}"
    if latest.meeting_revision != meeting.revision:
        said += ", about the earlier details"
    return said
