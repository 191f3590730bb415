"""Families and young people take part (issue 17): links to a web page where a family, or a
pupil, give their views on the plan; what they send comes back to the case holder in Slack.

A link is a random token (secrets.token_urlsafe(32)) shown once to the member of staff who made
it; only its SHA-256 hash is stored, so neither the database nor the audit log can open a page.
A link is for one pupil, one purpose and one plan cycle; it expires (14 days by default), takes a
limited number of submissions (3), can be revoked, and locks after three wrong dates of birth
(the case holder is told by DM). Every use is audited, with the link's id, never its token.

Only the plan's case holder or a SENDCo may make or revoke a link, or read and add what came
back; identity and school are always the verified Slack request's (the Viewer).

What a family sent is added to the plan only when the case holder chooses "Add to the plan":
each answer is appended to its field of the plan (what is there is kept), through
plan_editing.save, so the change has its timeline entry, version and audit like any other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.access import Viewer
from bot.errors import UserError
from bot.services import audit, outbox
from bot.services import plan_editing as editing
from bot.services.link_tokens import new_token, token_hash
from models import (
    Contribution,
    Invitation,
    InvitationPurpose,
    Plan,
    PlanStatus,
    Prompt,
    PromptKind,
    PupilDisplay,
    School,
    TimelineEntry,
    TimelineKind,
)

LINK_DAYS = 14
MAX_SUBMISSIONS = 3
MAX_CHECKS = 3  # wrong dates of birth before the link locks
ANSWER_LENGTH = 2000
NAME_LENGTH = 100
VIA_SLACK = "family link (Slack)"
VIA_WEB = "family page"
NOT_YOURS = (
    "Only the pupil's case holder or the SENDCo can ask the family or the pupil, so nothing "
    "was done."
)
GONE = "That can't be found any more, so nothing was done."


@dataclass(frozen=True)
class Question:
    key: str
    label: str
    hint: str | None = None
    # The plan field an answer is appended to on "Add to the plan" (None: shown, not copied).
    field: str | None = None
    choices: tuple[tuple[str, str], ...] = ()
    # The question in the staff's form in Slack, where an option holds 75 characters.
    short: str | None = None
    # An emoji scale: the choices are SCALE's, each shown with its emoji (for the words alone
    # to be read out) and read back in Slack by its words.
    scale: bool = False

    @property
    def for_staff(self) -> str:
        return self.short or self.label


FAMILY_QUESTIONS = (
    Question("working", "What is working well for your child, at home or at school?",
             field="family_hopes", short="What is working well"),
    Question("not_working", "What is not working so well, or worries you?",
             field="family_concerns", short="What is not working so well"),
    Question("matters_most", "What matters most to you and your child?", field="family_hopes"),
    Question("hopes", "What are your hopes for your child's future?", field="family_hopes"),
    Question("at_home", "What could you do at home to help?", field="family_hopes"),
    Question(
        "take_part",
        "How would you like to take part in the review meeting?",
        choices=(("in_person", "In person"), ("phone", "By phone"), ("video", "By video call")),
        short="How they want to take part in the review meeting",
    ),
    Question(
        "help",
        "Would an interpreter or other help make it easier to take part? If so, what, and in "
        "which language?",
        short="Whether they need an interpreter or other help (which language)",
    ),
    Question("invite", "Is there anyone you would like us to invite to the review meeting?",
             short="People they would like invited to the meeting"),
)  # fmt: skip
# The pupil's emoji scales: (value, emoji, words). The words are what counts: a screen reader
# reads them, and Slack and the review notes show them.
SCALE = (
    ("really_good", "😀", "Really good"),
    ("good", "🙂", "Good"),
    ("ok", "😐", "OK"),
    ("not_good", "🙁", "Not good"),
    ("really_not_good", "😞", "Really not good"),
)
SCALE_EMOJI = {value: emoji for value, emoji, _ in SCALE}


def _scale(key: str, label: str, short: str) -> Question:
    # Not copied into the plan (field None): a feeling on one day is for the review to discuss.
    return Question(key, label, choices=tuple((v, words) for v, _, words in SCALE), short=short,
                    scale=True)  # fmt: skip


PUPIL_QUESTIONS = (
    Question("liked", "What do people like about me?", field="liked_and_admired"),
    Question("important", "What is important to me?", field="important_to_me"),
    Question("support", "How can people best support me?", field="how_to_support_me"),
    Question("going_well", "What is going well?", field="strengths_and_likes"),
    Question("hard", "What do I find hard?", field="difficulties"),
    Question("achieve", "What do I want to achieve?", field="aspirations"),
    _scale("feel_school", "How do I feel about school?",
           "Emoji scale: how they feel about school"),
    _scale("feel_lessons", "How do I feel about my lessons?",
           "Emoji scale: how they feel about lessons"),
    _scale("feel_breaks", "How do I feel about break and lunchtimes?",
           "Emoji scale: how they feel about break and lunchtimes"),
)  # fmt: skip
QUESTIONS = {
    InvitationPurpose.FAMILY_VIEWS: FAMILY_QUESTIONS,
    InvitationPurpose.PUPIL_VIEWS: PUPIL_QUESTIONS,
}
SECTION_OF = {InvitationPurpose.FAMILY_VIEWS: "family", InvitationPurpose.PUPIL_VIEWS: "voice"}
WHO = {InvitationPurpose.FAMILY_VIEWS: "The family", InvitationPurpose.PUPIL_VIEWS: "The pupil"}


def may_ask(viewer: Viewer, plan: Plan) -> bool:
    return viewer.is_sendco or (
        plan.case_holder_id is not None and plan.case_holder_id == viewer.staff_id
    )


def short_date(day: date) -> str:
    return f"{day.day} {day:%B}"


# --- from Slack: making and revoking links ---------------------------------------------------


@dataclass(frozen=True)
class OpenLink:
    id: int
    created_on: date
    expires_on: date
    submissions: int
    max_submissions: int


@dataclass(frozen=True)
class AskForm:
    plan_id: int
    pupil_name: str
    purpose: InvitationPurpose
    questions: tuple[Question, ...]
    open_links: list[OpenLink]


@dataclass(frozen=True)
class Created:
    invitation_id: int
    token: str
    pupil_name: str
    purpose: InvitationPurpose
    expires_on: date
    max_submissions: int


def plan_for(session: Session, viewer: Viewer, plan_id: int, now: datetime, doing: str) -> Plan:
    # The school is the verified request's: a plan id from another school is not found.
    plan = session.scalar(
        select(Plan).where(Plan.id == plan_id, Plan.school_id == viewer.school_id)
    )
    if plan is None or plan.status == PlanStatus.CLOSED:
        raise UserError(GONE)
    if not may_ask(viewer, plan):
        audit.record_refusal(
            session, viewer, via=VIA_SLACK, now=now, plan=plan,
            detail=f"{doing} refused: not the plan's case holder or a SENDCo",
        )  # fmt: skip
        raise NotAllowed()
    return plan


class NotAllowed(UserError):
    def __init__(self) -> None:
        super().__init__(NOT_YOURS)


def ask_form(
    session: Session, viewer: Viewer, plan_id: int, purpose: InvitationPurpose, now: datetime
) -> AskForm:
    """What the "Ask the family/pupil" form starts from, with the links still open.
    Raises NotAllowed (audited as a refusal; the caller commits) or UserError."""
    plan = plan_for(session, viewer, plan_id, now, "ask form")
    school = session.get(School, plan.school_id)
    links = session.scalars(
        select(Invitation)
        .where(
            Invitation.plan_id == plan.id,
            Invitation.purpose == purpose,
            Invitation.revoked_at.is_(None),
            Invitation.locked_at.is_(None),
            Invitation.expires_at > now,
        )
        .order_by(Invitation.id)
    ).all()
    return AskForm(
        plan.id,
        plan.pupil.known_as,
        purpose,
        QUESTIONS.get(purpose, ()),
        [
            OpenLink(
                link.id,
                school.local_date(link.created_at),
                school.local_date(link.expires_at),
                link.submissions,
                link.max_submissions,
            )
            for link in links
            if link.submissions < link.max_submissions
        ],
    )


def create_link(
    session: Session,
    viewer: Viewer,
    plan_id: int,
    purpose: InvitationPurpose,
    question_keys: list[str],
    now: datetime,
    *,
    days: int = LINK_DAYS,
    max_submissions: int = MAX_SUBMISSIONS,
) -> Created:
    """A new link; its token is returned once and never stored. A link for views asks the
    questions chosen (at least one); a link about the meeting or the agreement asks none."""
    plan = plan_for(session, viewer, plan_id, now, "link")
    known = [q.key for q in QUESTIONS.get(purpose, ())]
    chosen = [key for key in known if key in set(question_keys)]
    if purpose in QUESTIONS and not chosen:
        raise UserError("Choose at least one question to ask.")
    token = new_token()
    school = session.get(School, plan.school_id)
    link = Invitation(
        school_id=plan.school_id,
        plan_id=plan.id,
        pupil_id=plan.pupil_id,
        purpose=purpose,
        cycle_number=plan.cycle_number,
        token_hash=token_hash(token),
        questions=" ".join(chosen),
        created_by_id=viewer.staff_id,
        created_at=now,
        expires_at=now + timedelta(days=days),
        max_submissions=max_submissions,
        submissions=0,
        failed_checks=0,
    )
    session.add(link)
    session.flush()
    audit.record_by(
        session, viewer, action="create", via=VIA_SLACK, now=now, plan=plan,
        detail=f"made link {link.id} asking for {purpose.label}",
    )  # fmt: skip
    return Created(
        link.id,
        token,
        plan.pupil.known_as,
        purpose,
        school.local_date(link.expires_at),
        max_submissions,
    )


def revoke_link(session: Session, viewer: Viewer, invitation_id: int, now: datetime) -> str:
    """Revokes a link; what to tell the person. Raises NotAllowed or UserError."""
    link = session.scalar(
        select(Invitation).where(
            Invitation.id == invitation_id, Invitation.school_id == viewer.school_id
        )
    )
    if link is None:
        raise UserError(GONE)
    plan = plan_for(session, viewer, link.plan_id, now, "revoke link")
    if link.revoked_at is None:
        link.revoked_at = now
        link.revoked_by_id = viewer.staff_id
        audit.record_by(
            session, viewer, action="update", via=VIA_SLACK, now=now, plan=plan,
            detail=f"revoked link {link.id}",
        )  # fmt: skip
    return (
        f"Revoked: the link asking for {link.purpose.label} on {plan.pupil.known_as}'s plan no "
        "longer opens."
    )


# --- the families' pages ---------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """A usable link, as the page shows it (before the check: the school's name only)."""

    invitation_id: int
    school_name: str
    purpose: InvitationPurpose
    first_name: str
    questions: tuple[Question, ...]


def usable(
    session: Session, token: str, now: datetime, *, used_up_ok: bool = False
) -> Invitation | None:
    """The link this token opens, or None (unknown, expired, revoked, used up or locked): every
    such link gets one and the same page, which reveals nothing. With `used_up_ok`, a link whose
    submissions are all used still opens (a family's agreed plan downloads until it expires)."""
    if not token or len(token) > 100:
        return None
    link = session.scalar(select(Invitation).where(Invitation.token_hash == token_hash(token)))
    if (
        link is None
        or link.revoked_at is not None
        or link.locked_at is not None
        or link.expires_at <= now
        or (link.submissions >= link.max_submissions and not used_up_ok)
    ):
        return None
    plan = session.get(Plan, link.plan_id)
    if plan is None or plan.status == PlanStatus.CLOSED:
        return None
    return link


def page_of(session: Session, link: Invitation) -> Page:
    school = session.get(School, link.school_id)
    keys = link.questions.split()
    return Page(
        link.id,
        school.name,
        link.purpose,
        link.pupil.preferred_name or link.pupil.first_name,
        tuple(q for q in QUESTIONS.get(link.purpose, ()) if q.key in keys),
    )


def audit_page(session: Session, link: Invitation, now: datetime, action: str, detail: str) -> None:
    audit.record(
        session,
        action=action,
        via=VIA_WEB,
        now=now,
        school_id=link.school_id,
        actor=f"family link {link.id}",
        plan=session.get(Plan, link.plan_id),
        detail=detail,
    )


REFUSED = audit.REFUSED
# A page opened before the date of birth is confirmed shows nothing of the plan: not a "read".
OPENED = "open"


def check_birth_date(session: Session, link: Invitation, given: date, now: datetime) -> int | None:
    """None when `given` is the pupil's date of birth; else the tries left (0: now locked, and
    the case holder is sent a DM)."""
    if given == link.pupil.date_of_birth:
        audit_page(session, link, now, "read", "date of birth confirmed on the family page")
        return None
    left = MAX_CHECKS - _add_one(session, link, Invitation.failed_checks)
    if left > 0:
        audit_page(session, link, now, REFUSED, f"wrong date of birth ({left} tries left)")
        return left
    if left < 0:
        # Sent at the same moment as the third wrong date, which locked the link and told.
        audit_page(session, link, now, REFUSED, "wrong date of birth on a locked link")
        return 0
    link.locked_at = now
    audit_page(session, link, now, REFUSED, "wrong date of birth three times: link locked")
    plan = session.get(Plan, link.plan_id)
    recipient = plan.case_holder_id or link.created_by_id
    link.lock_prompt_id = tell(session, plan, recipient, PromptKind.INVITATION_LOCKED,
                                f"invitation_locked:{link.id}", now).id  # fmt: skip
    return 0


class UsedUp(Exception):
    """The link's last submission was taken by another request a moment before."""


def _add_one(session: Session, link: Invitation, counter) -> int:
    """Adds one to a link's counter in the database itself and returns the new count: two
    requests at once each add theirs (reading the count and writing it back would lose one,
    and three wrong dates of birth sent together would then never lock the link)."""
    return session.execute(
        update(Invitation)
        .where(Invitation.id == link.id)
        .values({counter: counter + 1})
        .returning(counter)
    ).scalar_one()


def take_submission(session: Session, link: Invitation) -> bool:
    """Counts one submission on the link, unless its last one is gone (False): checked and
    counted in one statement, so two forms sent together cannot both take the last one."""
    taken = session.execute(
        update(Invitation)
        .where(Invitation.id == link.id, Invitation.submissions < Invitation.max_submissions)
        .values(submissions=Invitation.submissions + 1)
        .returning(Invitation.submissions)
    ).scalar_one_or_none()
    return taken is not None


def submit(
    session: Session,
    link: Invitation,
    *,
    name: str | None,
    relationship: str | None,
    answers: dict[str, str],
    now: datetime,
) -> Contribution:
    """Stores what was sent and queues the case holder's DM. The caller checked the link is
    usable and its date of birth confirmed, and the lengths (the form's own limits)."""
    plan = session.get(Plan, link.plan_id)
    keys = link.questions.split()
    kept = {k: v.strip() for k, v in answers.items() if k in keys and v and v.strip()}
    if not take_submission(session, link):
        raise UsedUp()
    contribution = Contribution(
        school_id=link.school_id,
        plan_id=plan.id,
        invitation_id=link.id,
        purpose=link.purpose,
        cycle_number=link.cycle_number,
        contributor_name=(name or "").strip()[:NAME_LENGTH] or None,
        contributor_relationship=(relationship or "").strip()[:NAME_LENGTH] or None,
        answers=json.dumps(kept),
        submitted_at=now,
    )
    session.add(contribution)
    session.flush()
    recipient = plan.case_holder_id or link.created_by_id
    prompt = tell(
        session, plan, recipient, PromptKind.FAMILY_CONTRIBUTION,
        f"family_contribution:{contribution.id}", now,
    )  # fmt: skip
    contribution.prompt_id = prompt.id
    audit_page(session, link, now, "create", f"sent contribution {contribution.id}")
    return contribution


def tell(
    session: Session, plan: Plan, recipient_id: int, kind: PromptKind, key: str, now: datetime
) -> Prompt:
    # At once, whatever the hour: the case holder asked for this, and it is one short DM.
    return outbox.enqueue(
        session,
        school_id=plan.school_id,
        recipient_id=recipient_id,
        kind=kind,
        dedupe_key=key,
        due_at=now,
        now=now,
        plan_id=plan.id,
        cycle_number=plan.cycle_number,
    )


# --- back in Slack: the DM, reading and adding ------------------------------------------------


@dataclass(frozen=True)
class Arrived:
    """A contribution's DM: the pupil as the school's messages name them, and the ask."""

    contribution_id: int
    pupil_name: str
    who: str
    purpose: InvitationPurpose
    pupil_id: int


def arrived(session: Session, prompt: Prompt) -> Arrived | None:
    contribution = session.scalar(select(Contribution).where(Contribution.prompt_id == prompt.id))
    if contribution is None:
        return None
    plan = session.get(Plan, contribution.plan_id)
    return Arrived(
        contribution.id, message_name(session, plan), WHO[contribution.purpose],
        contribution.purpose, plan.pupil_id,
    )  # fmt: skip


@dataclass(frozen=True)
class Locked:
    pupil_name: str
    purpose: InvitationPurpose


def locked(session: Session, prompt: Prompt) -> Locked | None:
    link = session.scalar(select(Invitation).where(Invitation.lock_prompt_id == prompt.id))
    if link is None:
        return None
    return Locked(message_name(session, session.get(Plan, link.plan_id)), link.purpose)


def message_name(session: Session, plan: Plan) -> str:
    school = session.get(School, plan.school_id)
    pupil = plan.pupil
    return pupil.initials if school.pupil_display == PupilDisplay.INITIALS else pupil.known_as


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    field: str | None


@dataclass(frozen=True)
class Reading:
    contribution_id: int
    pupil_name: str
    by: str
    answers: list[Answer]
    added: bool


def contributed_by(contribution: Contribution, school: School) -> str:
    """ "contributed by the family (Mrs Khan, mother) on 4 March"."""
    who = "the family" if contribution.purpose == InvitationPurpose.FAMILY_VIEWS else "the pupil"
    named = ", ".join(
        part
        for part in (contribution.contributor_name, contribution.contributor_relationship)
        if part
    )
    if named and contribution.purpose == InvitationPurpose.PUPIL_VIEWS:
        named = f"with {named}"
    day = short_date(school.local_date(contribution.submitted_at))
    return f"contributed by {who}{f' ({named})' if named else ''} on {day}"


def answer_for(session: Session, viewer: Viewer, model, answer_id: int, now: datetime, doing: str):
    """What a family sent (a contribution, a meeting reply, an agreement: `model`), by its id
    within the verified request's school, and its plan: for the plan's case holder or a SENDCo.
    Raises NotAllowed (audited) or UserError (not found, as another school's id is)."""
    answer = session.scalar(
        select(model).where(model.id == answer_id, model.school_id == viewer.school_id)
    )
    if answer is None:
        raise UserError(GONE)
    return answer, plan_for(session, viewer, answer.plan_id, now, doing)


def _contribution_for(
    session: Session, viewer: Viewer, contribution_id: int, now: datetime, doing: str
) -> tuple[Contribution, Plan, School]:
    contribution, plan = answer_for(session, viewer, Contribution, contribution_id, now, doing)
    return contribution, plan, session.get(School, plan.school_id)


def read(session: Session, viewer: Viewer, contribution_id: int, now: datetime) -> Reading:
    """What a family or pupil sent, for the case holder or a SENDCo (audited)."""
    contribution, plan, school = _contribution_for(
        session, viewer, contribution_id, now, "read contribution"
    )
    audit.record_by(
        session, viewer, action="read", via=VIA_SLACK, now=now, plan=plan,
        detail=f"read contribution {contribution.id}",
    )  # fmt: skip
    return Reading(
        contribution.id,
        plan.pupil.known_as,
        contributed_by(contribution, school),
        _answers(contribution),
        contribution.added_to_plan_at is not None,
    )


def _answers(contribution: Contribution) -> list[Answer]:
    given = json.loads(contribution.answers)
    shown = []
    for q in QUESTIONS[contribution.purpose]:
        if q.key in given:
            text = given[q.key]
            if q.choices:
                text = dict(q.choices).get(text, text)
            shown.append(Answer(q.label, text, q.field))
    return shown


def add_to_plan(session: Session, viewer: Viewer, contribution_id: int, now: datetime) -> str:
    """Appends each answer to its field of the plan (nothing there is replaced), with a
    timeline entry naming who contributed; what to tell the person."""
    contribution, plan, school = _contribution_for(
        session, viewer, contribution_id, now, "add contribution"
    )
    if contribution.added_to_plan_at is not None:
        return f"These views are on {plan.pupil.known_as}'s plan already."
    section = editing.SECTIONS[SECTION_OF[contribution.purpose]]
    by = contributed_by(contribution, school)
    labels = {f.name: f.label for f in section.fields}
    values = editing.current_values(plan, section, None)
    added: dict[str, list[str]] = {}
    for answer in _answers(contribution):
        if answer.field:
            added.setdefault(answer.field, []).append(answer.text)
    for name, texts in added.items():
        piece = f"{' '.join(texts)} ({by})"
        values[name] = f"{values[name]}\n\n{piece}" if values.get(name) else piece
        if len(values[name]) > 20_000:
            raise UserError(
                f"“{labels[name]}” would be too long with these views added: shorten it on the "
                "plan first."
            )
    if added:
        editing.save(
            session,
            viewer,
            plan_id=plan.id,
            expected_version=plan.version,
            section_key=section.key,
            item_id=None,
            values=values,
            via=VIA_SLACK,
            now=now,
        )
    session.add(
        TimelineEntry(
            plan_id=plan.id,
            occurred_at=now,
            kind=TimelineKind.NOTE,
            summary=f"{viewer.name} added the views {by} to the plan",
            author_id=viewer.staff_id,
        )
    )
    contribution.added_to_plan_at = now
    contribution.added_by_id = viewer.staff_id
    if contribution.prompt_id:
        outbox.mark_answered(session, contribution.prompt_id, now)
    audit.record_by(
        session, viewer, action="update", via=VIA_SLACK, now=now, plan=plan,
        detail=f"added contribution {contribution.id} to the plan",
    )  # fmt: skip
    return f"Added to {plan.pupil.known_as}'s plan, after what was there: the views {by}."


def latest_views(session: Session, plan_id: int, cycle: int) -> dict[InvitationPurpose, str]:
    """The newest contribution of each kind for a plan's cycle, as one text (for its review's
    notes): one query."""
    found: dict[InvitationPurpose, str] = {}
    school = None
    for contribution in session.scalars(
        select(Contribution)
        .where(Contribution.plan_id == plan_id, Contribution.cycle_number == cycle)
        .order_by(Contribution.submitted_at.desc(), Contribution.id.desc())
    ):
        if contribution.purpose in found:
            continue
        school = school or session.get(School, contribution.school_id)
        lines = [f"{a.question} {a.text}" for a in _answers(contribution)]
        found[contribution.purpose] = (
            "\n".join(lines) + f"\n({contributed_by(contribution, school)})"
        )
    return found
