"""Replies in chat: what a member of staff writes to the bot, filed as their comment.

A reply in the thread of a monitoring request (or digest) is the teacher's comment on that
request; a reply in the thread of a review prompt is a note on the plan's timeline. The thread's
parent, a prompt the outbox posted (its `slack_channel` and `slack_ts`), says which pupil; a
digest about several pupils, or a message outside any thread, waits for the author to choose.
Who wrote it is the verified Slack user (the viewer), never anything in the text; each filing,
edit, undo and refusal is audited. Staff only: nothing here reaches the family's copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.access import Viewer, supported_pupil_ids, visible_pupils
from bot.services import audit
from bot.services.monitoring import PENDING
from bot.services.review_schedule import REVIEWABLE
from models import (
    ChatReply,
    MonitoringRequest,
    Observation,
    Plan,
    Prompt,
    PromptKind,
    Pupil,
    TimelineEntry,
    TimelineKind,
)

VIA = "reply in chat"
MAX_TEXT = 3000  # the Edit form's limit too
MAX_CHOICES = 10  # pupils offered as buttons for a reply outside a thread
MONITORING_KINDS = (PromptKind.MONITORING_REQUEST, PromptKind.MONITORING_DIGEST)
REVIEW_KINDS = (PromptKind.REVIEW_DUE, PromptKind.REVIEW_REMINDER)
MONITORING, REVIEW = "m", "r"  # a target's kind, as a button's value names it

WAITING, FILED, REMOVED = "waiting", "filed", "removed"

# The same words whatever the reason (not their prompt, another school's, a pupil they no
# longer teach, a request closed by the review): nothing about the pupil or the plan.
NOT_FILED = (
    "I couldn't file that on a pupil's plan: it isn't a reply to a request that is open to you. "
    "Nothing was saved. Type `/ssp help` to see what you can do."
)
TOO_LONG = f"That reply is longer than {MAX_TEXT} characters; please put the details in the form."


@dataclass(frozen=True)
class Target:
    """Where a reply can go: a monitoring request (`MONITORING`) or a plan's review
    (`REVIEW`), and the pupil it is about."""

    kind: str
    id: int
    pupil_name: str

    @property
    def value(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass(frozen=True)
class Outcome:
    """What became of a reply: filed (with the pupil), waiting for a choice, or refused."""

    reply_id: int | None = None
    pupil_name: str | None = None
    choices: tuple[Target, ...] = ()
    refused: str | None = None
    already: bool = False  # the same Slack message seen before: nothing done again
    text: str | None = None  # what it says, for its author's Edit form


# --- where a reply can go ---------------------------------------------------------------------


def thread_targets(session: Session, viewer: Viewer, channel: str, thread_ts: str) -> list[Target]:
    """The open requests a reply in this thread may be filed on: the prompt must be this
    person's, in their school, posted in this channel at `thread_ts`."""
    prompt = session.scalar(
        select(Prompt).where(
            Prompt.school_id == viewer.school_id,
            Prompt.recipient_id == viewer.staff_id,
            Prompt.slack_channel == channel,
            Prompt.slack_ts == thread_ts,
            Prompt.kind.in_(MONITORING_KINDS + REVIEW_KINDS + (PromptKind.OBSERVATION_SUMMARY,)),
        )
    )
    if prompt is None:
        return []
    if prompt.kind == PromptKind.OBSERVATION_SUMMARY:
        return _summary_targets(session, viewer, prompt)
    if prompt.kind == PromptKind.MONITORING_REQUEST:
        return _monitoring_targets(session, viewer, prompt.monitoring_request_id)
    if prompt.kind == PromptKind.MONITORING_DIGEST:
        return _monitoring_targets(session, viewer)
    return _review_targets(session, viewer, prompt.plan_id)


def open_targets(session: Session, viewer: Viewer) -> list[Target]:
    """Every pupil this person has an open request about (monitoring requests, review prompts
    sent and not yet answered): the choice for a reply outside a thread."""
    targets = _monitoring_targets(session, viewer) + _review_targets(session, viewer)
    return targets[:MAX_CHOICES]


def _monitoring_targets(
    session: Session, viewer: Viewer, request_id: int | None = None
) -> list[Target]:
    if not viewer.supports_pupils and not viewer.is_teacher:
        return []
    query = (
        select(MonitoringRequest.id, Pupil.first_name, Pupil.last_name, Pupil.preferred_name)
        .join(Plan, Plan.id == MonitoringRequest.plan_id)
        .join(Pupil, Pupil.id == Plan.pupil_id)
        .where(
            MonitoringRequest.school_id == viewer.school_id,
            MonitoringRequest.teacher_id == viewer.staff_id,
            MonitoringRequest.status.in_(PENDING),
            # Still theirs to comment on: the class lists still say they teach the pupil.
            Pupil.id.in_(supported_pupil_ids(viewer)),
        )
        .order_by(Pupil.last_name, Pupil.first_name, MonitoringRequest.id)
    )
    if request_id is not None:
        query = query.where(MonitoringRequest.id == request_id)
    return [
        Target(MONITORING, rid, _known_as(first, last, preferred))
        for rid, first, last, preferred in session.execute(query).all()
    ]


def _review_targets(session: Session, viewer: Viewer, plan_id: int | None = None) -> list[Target]:
    query = (
        select(Plan.id, Pupil.first_name, Pupil.last_name, Pupil.preferred_name)
        .join(Pupil, Pupil.id == Plan.pupil_id)
        .join(Prompt, Prompt.plan_id == Plan.id)
        .where(
            Plan.school_id == viewer.school_id,
            Plan.status.in_(REVIEWABLE),
            visible_pupils(viewer),
            Prompt.school_id == viewer.school_id,
            Prompt.recipient_id == viewer.staff_id,
            Prompt.kind.in_(REVIEW_KINDS),
            Prompt.cycle_number == Plan.cycle_number,
        )
        .distinct()
        .order_by(Pupil.last_name, Pupil.first_name, Plan.id)
    )
    if not viewer.is_sendco:
        query = query.where(Plan.case_holder_id == viewer.staff_id)
    if plan_id is not None:
        query = query.where(Plan.id == plan_id)
    else:
        query = query.where(Prompt.slack_ts.is_not(None), Prompt.answered_at.is_(None))
    return [
        Target(REVIEW, pid, _known_as(first, last, preferred))
        for pid, first, last, preferred in session.execute(query).all()
    ]


def _summary_targets(session: Session, viewer: Viewer, prompt: Prompt) -> list[Target]:
    """The plans a daily summary of observations was about (its observations carry its key):
    a reply in its thread is a note on one of them, as on a review prompt."""
    summarised = select(Observation.plan_id).where(
        Observation.school_id == viewer.school_id,
        Observation.summary_key == prompt.dedupe_key,
    )
    return _held_plan_targets(session, viewer, summarised)


def _held_plan_targets(session: Session, viewer: Viewer, plan_ids) -> list[Target]:
    """Those of `plan_ids` (an id, or a select of ids) the viewer holds (any, for a SENDCo),
    open and on roll: a note in chat may go on them."""
    ids = [plan_ids] if isinstance(plan_ids, int) else plan_ids
    query = (
        select(Plan.id, Pupil.first_name, Pupil.last_name, Pupil.preferred_name)
        .join(Pupil, Pupil.id == Plan.pupil_id)
        .where(
            Plan.school_id == viewer.school_id,
            Plan.id.in_(ids),
            Plan.status.in_(REVIEWABLE),
            visible_pupils(viewer),
        )
        .order_by(Pupil.last_name, Pupil.first_name, Plan.id)
    )
    if not viewer.is_sendco:
        query = query.where(Plan.case_holder_id == viewer.staff_id)
    return [
        Target(REVIEW, pid, _known_as(first, last, preferred))
        for pid, first, last, preferred in session.execute(query).all()
    ]


def _known_as(first: str, last: str, preferred: str | None) -> str:
    return f"{preferred or first} {last}"


# --- filing -----------------------------------------------------------------------------------


def receive(
    session: Session,
    viewer: Viewer,
    *,
    channel: str,
    ts: str,
    text: str,
    thread_ts: str | None,
    now: datetime,
) -> Outcome:
    """A new message from `viewer` in their DM: filed if its thread names one pupil; otherwise
    kept waiting for them to choose the pupil (or refused when there is nothing to choose)."""
    text = text.strip()
    seen = _by_message(session, viewer, channel, ts)
    if seen is not None:
        return Outcome(reply_id=seen.id, already=True)
    if len(text) > MAX_TEXT:
        return Outcome(refused=TOO_LONG)
    targets = (
        thread_targets(session, viewer, channel, thread_ts)
        if thread_ts
        else open_targets(session, viewer)
    )
    if not targets:
        if thread_ts:
            audit.record_refusal(
                session, viewer, via=VIA, now=now, detail="reply in a thread not filed"
            )
        return Outcome(refused=NOT_FILED)
    reply = ChatReply(
        school_id=viewer.school_id,
        author_id=viewer.staff_id,
        channel=channel,
        message_ts=ts,
        text=text,
        status=WAITING,
        created_at=now,
    )
    session.add(reply)
    session.flush()
    if len(targets) > 1 or not thread_ts:
        return Outcome(reply_id=reply.id, choices=tuple(targets))
    return _file(session, viewer, reply, targets[0], now)


def choose(session: Session, viewer: Viewer, reply_id: int, value: str, now: datetime) -> Outcome:
    """The author chose which pupil a waiting reply is about (a button: ids only)."""
    reply = _own_reply(session, viewer, reply_id, now, "choose a pupil for")
    if reply is None:
        return Outcome(refused=NOT_YOURS)
    if reply.status == REMOVED:
        return Outcome(refused="You deleted that message, so there is nothing to file.")
    if reply.status != WAITING:
        return Outcome(refused="That reply is already filed.")
    kind, _, raw = value.partition(":")
    target = next((t for t in _all_targets(session, viewer) if t.value == f"{kind}:{raw}"), None)
    if target is None and kind == REVIEW and raw.isdigit():
        # Offered from a daily summary of observations: any plan they hold still takes a note.
        target = next(iter(_held_plan_targets(session, viewer, int(raw))), None)
    if target is None:
        audit.record_refusal(session, viewer, via=VIA, now=now, detail="pupil not open to them")
        return Outcome(refused=NOT_FILED)
    return _file(session, viewer, reply, target, now)


def _all_targets(session: Session, viewer: Viewer) -> list[Target]:
    return _monitoring_targets(session, viewer) + _review_targets(session, viewer)


def _file(
    session: Session, viewer: Viewer, reply: ChatReply, target: Target, now: datetime
) -> Outcome:
    if target.kind == MONITORING:
        request = session.get(MonitoringRequest, target.id)
        request.comment = _joined(request.comment, reply.text)
        reply.monitoring_request_id, reply.plan_id = request.id, request.plan_id
        detail = "reply in chat filed as monitoring feedback comment"
    else:
        entry = TimelineEntry(
            plan_id=target.id,
            occurred_at=now,
            kind=TimelineKind.NOTE,
            summary=reply.text,
            author_id=viewer.staff_id,
        )
        session.add(entry)
        session.flush()
        reply.timeline_entry_id, reply.plan_id = entry.id, target.id
        detail = "reply in chat filed as a note on the timeline"
    reply.status, reply.filed_at = FILED, now
    audit.record_by(
        session,
        viewer,
        action="update",
        via=VIA,
        now=now,
        plan=_plan(session, reply),
        detail=detail,
    )
    session.flush()
    return Outcome(reply_id=reply.id, pupil_name=target.pupil_name)


# --- changing it --------------------------------------------------------------------------------

NOT_YOURS = "That reply isn't yours, so I can't change it."


def undo(session: Session, viewer: Viewer, reply_id: int, now: datetime) -> Outcome:
    """Undo: the comment or note goes; only its author may."""
    reply = _own_reply(session, viewer, reply_id, now, "undo")
    if reply is None:
        return Outcome(refused=NOT_YOURS)
    if not _still_open(session, viewer, reply, now):
        return Outcome(refused=CLOSED_NOW)
    return _remove(session, viewer, reply, now, "undone")


def edit(session: Session, viewer: Viewer, reply_id: int, text: str, now: datetime) -> Outcome:
    """Edit: the filed comment or note says `text` instead; only its author may."""
    reply = _own_reply(session, viewer, reply_id, now, "edit")
    if reply is None:
        return Outcome(refused=NOT_YOURS)
    if not _still_open(session, viewer, reply, now):
        return Outcome(refused=CLOSED_NOW)
    return _change(session, viewer, reply, text, now)


def text_of(session: Session, viewer: Viewer, reply_id: int, now: datetime) -> Outcome:
    """What a filed reply says (in `refused`'s place, `text`), for its author's Edit form;
    refused (and audited) for anyone else."""
    reply = _own_reply(session, viewer, reply_id, now, "edit")
    if reply is None:
        return Outcome(refused=NOT_YOURS)
    if reply.status != FILED:
        return Outcome(refused="That reply was removed, so there is nothing to edit.")
    return Outcome(reply_id=reply.id, text=reply.text)


def edited_in_slack(
    session: Session, viewer: Viewer, channel: str, ts: str, text: str, now: datetime
) -> Outcome | None:
    """The author edited their message in Slack (message_changed): the filed text follows."""
    reply = _by_message(session, viewer, channel, ts)
    if reply is None:
        return None
    if not _still_open(session, viewer, reply, now):
        return Outcome(refused=CLOSED_NOW)
    return _change(session, viewer, reply, text, now)


def deleted_in_slack(
    session: Session, viewer: Viewer, channel: str, ts: str, now: datetime
) -> Outcome | None:
    """The author deleted their message in Slack (message_deleted): what it filed goes too."""
    reply = _by_message(session, viewer, channel, ts)
    if reply is None:
        return None
    if not _still_open(session, viewer, reply, now):
        return Outcome(refused=CLOSED_NOW)  # what the review used stays as it was
    return _remove(session, viewer, reply, now, "deleted in Slack")


def _change(
    session: Session, viewer: Viewer, reply: ChatReply, text: str, now: datetime
) -> Outcome:
    text = text.strip()
    if not text:
        return Outcome(refused="The reply is empty: use Undo to remove it.")
    if len(text) > MAX_TEXT:
        return Outcome(refused=TOO_LONG)
    if reply.status == REMOVED:
        return Outcome(refused="That reply was removed, so there is nothing to edit.")
    if reply.status == WAITING:
        reply.text = text
        session.flush()
        return Outcome(reply_id=reply.id)
    if reply.monitoring_request_id is not None:
        request = session.get(MonitoringRequest, reply.monitoring_request_id)
        request.comment = _joined(_without(request.comment, reply.text), text)
    elif reply.timeline_entry_id is not None:
        session.get(TimelineEntry, reply.timeline_entry_id).summary = text
    reply.text = text
    audit.record_by(
        session,
        viewer,
        action="update",
        via=VIA,
        now=now,
        plan=_plan(session, reply),
        detail="reply in chat edited",
    )
    session.flush()
    return Outcome(reply_id=reply.id, pupil_name=_pupil_name(session, reply))


def _remove(session: Session, viewer: Viewer, reply: ChatReply, now: datetime, how: str) -> Outcome:
    if reply.status == REMOVED:
        return Outcome(reply_id=reply.id, already=True)
    was_filed = reply.status == FILED
    if reply.monitoring_request_id is not None:
        request = session.get(MonitoringRequest, reply.monitoring_request_id)
        request.comment = _without(request.comment, reply.text)
    elif reply.timeline_entry_id is not None:
        entry = session.get(TimelineEntry, reply.timeline_entry_id)
        if entry is not None:
            session.delete(entry)
        reply.timeline_entry_id = None
    reply.status = REMOVED
    if was_filed:
        audit.record_by(
            session,
            viewer,
            action="update",
            via=VIA,
            now=now,
            plan=_plan(session, reply),
            detail=f"reply in chat removed ({how})",
        )
    session.flush()
    return Outcome(reply_id=reply.id, pupil_name=_pupil_name(session, reply) if was_filed else None)


CLOSED_NOW = (
    "That comment can't be changed now: the request it answered is closed (the review has "
    "used it), or is no longer open to you. Nothing was changed."
)


def _still_open(session: Session, viewer: Viewer, reply: ChatReply, now: datetime) -> bool:
    """Whether what this filed reply went to is still open to its author (access re-checked:
    the request not closed by the review, the pupil still theirs). Audited when not."""
    if reply.status != FILED:
        return True
    if reply.monitoring_request_id is not None:
        still = _monitoring_targets(session, viewer, reply.monitoring_request_id)
    else:
        still = _review_targets(session, viewer, reply.plan_id)
    if not still:
        audit.record_refusal(
            session,
            viewer,
            via=VIA,
            now=now,
            detail="reply in chat no longer open to change",
            plan=_plan(session, reply),
        )
    return bool(still)


# --- helpers ------------------------------------------------------------------------------------


def _by_message(session: Session, viewer: Viewer, channel: str, ts: str) -> ChatReply | None:
    return session.scalar(
        select(ChatReply).where(
            ChatReply.school_id == viewer.school_id,
            ChatReply.author_id == viewer.staff_id,
            ChatReply.channel == channel,
            ChatReply.message_ts == ts,
        )
    )


def _own_reply(
    session: Session, viewer: Viewer, reply_id: int, now: datetime, what: str
) -> ChatReply | None:
    """The reply if `viewer` wrote it; otherwise None, and the refusal audited."""
    reply = session.get(ChatReply, reply_id)
    if reply is None or reply.school_id != viewer.school_id or reply.author_id != viewer.staff_id:
        audit.record_refusal(
            session,
            viewer,
            via=VIA,
            now=now,
            detail=f"tried to {what} someone else's reply in chat",
            plan=_plan(session, reply)
            if reply is not None and reply.school_id == viewer.school_id
            else None,
        )
        return None
    return reply


def _plan(session: Session, reply: ChatReply) -> Plan | None:
    if reply.plan_id is None:
        return None
    return session.scalar(
        select(Plan).where(Plan.id == reply.plan_id).options(selectinload(Plan.pupil))
    )


def _pupil_name(session: Session, reply: ChatReply) -> str | None:
    plan = _plan(session, reply)
    return plan.pupil.known_as if plan is not None else None


SEPARATOR = "\n\n"


def _joined(comment: str | None, text: str) -> str:
    return f"{comment}{SEPARATOR}{text}" if comment else text


def _without(comment: str | None, text: str) -> str | None:
    """The comment without the part one reply wrote (the rest, from the form or other
    replies, stays)."""
    comment = comment or ""
    if comment == text:
        return None
    for part in (SEPARATOR + text, text + SEPARATOR):
        if part in comment:
            return comment.replace(part, "", 1) or None
    return comment or None
