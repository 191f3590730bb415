"""Every prompt's message: one renderer per kind of prompt, registered by kind.

A renderer asks the services what its prompt is about (bot.services.prompts: plain facts, or
None when the prompt is no longer needed, and then there is no message), words it in Slack's
mrkdwn, and returns the context of the template its kind is registered with, which lays it out
in Block Kit. `render_prompt` is the sender's `render`; `monitoring_message` also redraws a
teacher's requests after they answer one.

Messages name the pupil (or their initials, as the school chose) and the ask, nothing more
(DESIGN §4).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from bot.render import escape_mrkdwn, render_json, uk_date, year_label
from bot.services import (
    agreements,
    closure,
    family,
    groups,
    meeting,
    monitoring,
    observations,
    prompts,
    session_log,
)
from bot.services.calendar import long_day, short_date
from bot.services.prompts import AssignmentAsk, Handover, MessagePupil, ReviewAsk
from models import (
    Impact,
    InvitationPurpose,
    MonitoringRole,
    Prompt,
    PromptKind,
    PupilDisplay,
    PupilResponse,
    School,
    SessionAsPlanned,
    SessionStatus,
    StrategiesInPlace,
)

Context = dict[str, Any]
Renderer = Callable[[Session, Prompt], Context | None]

_RENDERERS: dict[PromptKind, tuple[Renderer, str]] = {}


def renders(kind: PromptKind, template: str) -> Callable[[Renderer], Renderer]:
    """Registers the function as the renderer of `kind`'s message, laid out by `template`."""

    def register(renderer: Renderer) -> Renderer:
        if kind in _RENDERERS:
            raise ValueError(f"{kind} already has a renderer")
        _RENDERERS[kind] = (renderer, template)
        return renderer

    return register


def kinds_with_messages() -> frozenset[PromptKind]:
    """The kinds of prompt that are sent as a message (the others have none)."""
    return frozenset(_RENDERERS)


def render_prompt(session: Session, prompt: Prompt) -> dict[str, Any] | None:
    """The message for any prompt, or None when it is no longer needed (or its kind has no
    message)."""
    if prompt.kind not in _RENDERERS:
        return None
    renderer, template = _RENDERERS[prompt.kind]
    context = renderer(session, prompt)
    return render_json(template, **context) if context is not None else None


def monitoring_message(
    session: Session,
    school: School,
    teacher_id: int,
    *,
    request_id: int | None = None,
    notice: str | None = None,
    asked_by: str | None = None,
) -> dict[str, Any] | None:
    """A teacher's monitoring requests as a message (the digest, one request, or the digest
    again after an answer); None when nothing is left to answer or change."""
    context = _monitoring(session, school, teacher_id, request_id, notice, asked_by)
    return render_json("monitoring_message.json.j2", **context) if context is not None else None


# --- assignments ----------------------------------------------------------------------------


@renders(PromptKind.ASSIGNMENT, "assignment_message.json.j2")
def assignment(session: Session, prompt: Prompt) -> Context | None:
    return _assignment(prompts.assignment_ask(session, prompt), reminder=False)


@renders(PromptKind.ASSIGNMENT_REMINDER, "assignment_message.json.j2")
def assignment_reminder(session: Session, prompt: Prompt) -> Context | None:
    return _assignment(prompts.assignment_ask(session, prompt), reminder=True)


@renders(PromptKind.ASSIGNMENT_DECLINED, "notice.json.j2")
def assignment_declined(session: Session, prompt: Prompt) -> Context | None:
    return _notice(
        prompts.handover(session, prompt),
        "{holder} can't take the plan for {pupil}. Their reason, and the pupil, are in "
        "`/ssp priority`.",
    )


@renders(PromptKind.ASSIGNMENT_ENDED, "notice.json.j2")
def assignment_ended(session: Session, prompt: Prompt) -> Context | None:
    return _notice(
        prompts.handover(session, prompt),
        "The plan for {pupil} has been handed to {holder}. Thank you for your work on it.",
    )


@renders(PromptKind.QA_RETURNED, "notice.json.j2")
def qa_returned(session: Session, prompt: Prompt) -> Context | None:
    pupil = prompts.plan_pupil(session, prompt)
    if pupil is None:
        return None
    # The button, not `/ssp plan <UPN>`: a UPN identifies the child outside the school too, and
    # the message stays in Slack's history (DESIGN §4).
    return {
        "text": f"The SENDCo has returned the plan for {_pupil(pupil)} with comments. Open it "
        "to see them.",
        "open_plan": pupil.id,
    }


@renders(PromptKind.QA_REQUEST, "qa_summary.json.j2")
def qa_request(session: Session, prompt: Prompt) -> Context | None:
    waiting = prompts.qa_waiting(session, prompt)
    if waiting is None:
        return None
    plans = "1 plan is" if waiting.count == 1 else f"{waiting.count} plans are"
    oldest = "It is" if waiting.count == 1 else "The longest waiting is"
    return {
        "text": f"{plans} waiting for quality assurance. {oldest} the plan for "
        f"{_pupil(waiting.oldest)}, since {uk_date(waiting.oldest_since)}.",
    }


@renders(PromptKind.QA_APPROVED, "notice.json.j2")
def qa_approved(session: Session, prompt: Prompt) -> Context | None:
    approval = prompts.qa_approval(session, prompt)
    if approval is None:
        return None
    return {
        "text": f"The SENDCo has approved the plan for {_pupil(approval.pupil)}: it is now active.",
        "open_plan": approval.pupil.id,
        "thread_ts": approval.thread_ts,
    }


# --- requests to hold a plan ----------------------------------------------------------------


@renders(PromptKind.PLAN_REQUEST, "plan_request_message.json.j2")
def plan_request(session: Session, prompt: Prompt) -> Context | None:
    ask = prompts.plan_request_ask(session, prompt)
    if ask is None:
        return None  # answered meanwhile, by this SENDCo or another
    # The pupil and who asks, nothing more: the SENDCo sees the rest in `/ssp pupil`.
    return dict(
        ask=f"{escape_mrkdwn(ask.case_holder)} asks to be the case holder for the SEN Support "
        f"Plan of *{escape_mrkdwn(ask.pupil.name)}*. Approve to delegate it to them, as "
        "`/ssp assign` does.",
        fallback=f"{escape_mrkdwn(ask.case_holder)} asks to hold the plan for "
        f"{escape_mrkdwn(ask.pupil.name)}",
        request_id=ask.request_id,
    )


@renders(PromptKind.PLAN_REQUEST_DECLINED, "notice.json.j2")
def plan_request_declined(session: Session, prompt: Prompt) -> Context | None:
    ask = prompts.plan_request_ask(session, prompt)
    if ask is None:
        return None
    return {
        "text": f"The SENDCo hasn't given you the plan for {escape_mrkdwn(ask.pupil.name)}. "
        "Please talk to them if you would like to know why."
    }


# --- reviews --------------------------------------------------------------------------------


@renders(PromptKind.REVIEW_DUE, "review_prompt.json.j2")
def review_due(session: Session, prompt: Prompt) -> Context | None:
    review = prompts.review_ask(session, prompt)
    if review is not None and _overdue(review):
        return _review(
            review,
            "The review of *{name}*'s SEN Support Plan {due}. If the review meeting has "
            "happened, please log the review notes here; if it has moved, snooze this.",
            fallback="Review overdue: {name}",
        )
    return _review(
        review,
        "The review of *{name}*'s SEN Support Plan {due}. After the review meeting, "
        "please log the review notes here.",
        fallback="Review coming up: {name}",
    )


@renders(PromptKind.REVIEW_REMINDER, "review_prompt.json.j2")
def review_reminder(session: Session, prompt: Prompt) -> Context | None:
    review = prompts.review_ask(session, prompt)
    if review is not None and review.snoozed:
        return _review(
            review,
            "*As you asked:* the review of *{name}*'s SEN Support Plan {due}. Please "
            "log the review notes when you can.",
            fallback="Review reminder: {name}",
        )
    return _review(
        review,
        "*Reminder:* the review of *{name}*'s SEN Support Plan {due}, and no review "
        "notes have been submitted yet. Please log them, or snooze this if the meeting has moved.",
        fallback="Review notes overdue: {name}",
    )


@renders(PromptKind.REVIEW_FORWARD, "review_forward.json.j2")
def review_forward(session: Session, prompt: Prompt) -> Context | None:
    ask = prompts.forward_ask(session, prompt)
    if ask is None:
        return None  # answered, or nothing left to bring forward
    name = _pupil(ask.pupil)
    # The pupil and the dates: what was added to the plan is in "What changed" (a modal, for
    # the case holder and the SENDCo), never in a message Slack keeps (DESIGN §4).
    return dict(
        fallback=f"Bring the review of {name}'s plan forward?",
        ask=f"*{name}*'s SEN Support Plan has changed since its review was set for "
        f"{long_day(ask.review_date)}. Would you like to bring the "
        "review forward?",
        prompt_id=ask.prompt_id,
        forward_value=f"{ask.prompt_id}:{ask.proposed.isoformat()}",
        forward_label=f"Bring forward to {short_date(ask.proposed)}",
        keep_label=f"Keep {short_date(ask.review_date)}",
    )


@renders(PromptKind.REVIEW_FORWARD_NOTICE, "notice.json.j2")
def review_forward_notice(session: Session, prompt: Prompt) -> Context | None:
    notice = prompts.forward_notice(session, prompt)
    if notice is None:
        return None
    return {
        "text": f"{_pupil(notice.pupil)}'s plan has changed; their case holder, "
        f"{escape_mrkdwn(notice.case_holder)}, has been asked whether to bring the review "
        "forward.",
        "open_plan": notice.pupil.id,
    }


@renders(PromptKind.FAMILY_CONTRIBUTION, "family_contribution.json.j2")
def family_contribution(session: Session, prompt: Prompt) -> Context | None:
    sent = family.arrived(session, prompt)
    if sent is None:
        return None
    # The pupil and the ask: what they said is behind "Read them" (a modal), never in the DM.
    asked = "views" if sent.purpose == InvitationPurpose.FAMILY_VIEWS else "own views"
    return {
        "text": f"{sent.who} sent their {asked} on {escape_mrkdwn(sent.pupil_name)}'s plan.",
        "contribution_id": sent.contribution_id,
    }


@renders(PromptKind.MEETING_REPLY, "meeting_reply.json.j2")
def meeting_reply(session: Session, prompt: Prompt) -> Context | None:
    sent = meeting.arrived(session, prompt)
    if sent is None:
        return None
    # The pupil and the ask: whether they can come is behind "Read it" (a modal).
    return {
        "text": f"The family replied about {escape_mrkdwn(sent.pupil_name)}'s review meeting.",
        "reply_id": sent.reply_id,
    }


@renders(PromptKind.PLAN_AGREED, "plan_agreed.json.j2")
def plan_agreed(session: Session, prompt: Prompt) -> Context | None:
    answer = agreements.arrived(session, prompt)
    if answer is None:
        return None
    # The pupil and the ask: what they said is behind "Read it" (a modal), never in the DM.
    name = escape_mrkdwn(answer.pupil_name)
    return {
        "text": f"The family agreed to {name}'s plan."
        if answer.agreed
        else f"The family replied about {name}'s plan.",
        "agreement_id": answer.agreement_id,
    }


@renders(PromptKind.OBSERVATION_SUMMARY, "observation_summary.json.j2")
def observation_summary(session: Session, prompt: Prompt) -> Context | None:
    told = observations.summary(session, prompt)
    if told is None:
        return None
    # The pupils and how many: what was seen is behind "Read them" (a modal), never in the DM.
    names = [f"{escape_mrkdwn(name)}'s" for name in told.pupils]
    whose = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    new = "1 new observation" if told.count == 1 else f"{told.count} new observations"
    plans = "plan" if len(names) == 1 else "plans"
    return {"text": f"{new} on {whose} {plans}", "prompt_id": told.prompt_id}


# --- intervention sessions ---------------------------------------------------------------------

SESSION_DELIVERED = "ssp_session_delivered"
SESSION_ABSENT = "ssp_session_absent"
SESSION_NOT_DELIVERED = "ssp_session_not_delivered"
SESSION_CHANGE = "ssp_session_change"
SESSIONS_OLDER = "ssp_sessions_older"
SESSIONS_NEWER = "ssp_sessions_newer"
# A session this old or older says how long ago it was, beside its date.
LONG_AGO_DAYS = 28


@renders(PromptKind.SESSION_LOG, "session_log.json.j2")
def session_prompt(session: Session, prompt: Prompt) -> Context | None:
    facts = session_log.asked(session, prompt, prompts.delivery_day(session, prompt))
    if facts is None:
        return None  # all logged meanwhile (`/ssp sessions`, the SENDCo): nothing to ask
    return session_context(facts, f"p{prompt.id}")


def session_message(
    facts: session_log.Sessions,
    surface: str,
    *,
    editing: frozenset[int] = frozenset(),
    notice: str | None = None,
) -> dict[str, Any]:
    """The sessions as a message (the DM, or `/ssp sessions`' reply), redrawn after an answer.
    `surface` goes in each button's value ("p<prompt id>" or "s<staff id>"), so an answer
    redraws the same list; `editing`: sessions shown with their buttons again ("Change")."""
    return render_json(
        "session_log.json.j2", **session_context(facts, surface, editing=editing, notice=notice)
    )


def session_context(
    facts: session_log.Sessions,
    surface: str,
    *,
    editing: frozenset[int] = frozenset(),
    notice: str | None = None,
) -> Context:
    days = {s.held_on for s in facts.shown}
    waiting = any(s.status == SessionStatus.AWAITING for s in facts.shown)
    listing = surface.startswith("s")  # `/ssp sessions`, not the DM
    if not facts.shown:
        intro = "Nothing left to log: every session is logged. Thank you."
    elif not waiting:
        intro = "*Your sessions* — all logged, thank you. Tap *Change* if something is wrong."
    elif days == {facts.today}:
        intro = "*Your sessions today* — tap what happened. Nothing else to type."
    else:
        intro = "*Your sessions not yet logged* — tap what happened. Nothing else to type."
    if listing and facts.for_someone_else:
        intro = intro.replace("*Your sessions", f"*{escape_mrkdwn(facts.staff_name)}'s sessions")
    if listing and facts.unlogged:
        whose = f"{escape_mrkdwn(facts.staff_name)} has" if facts.for_someone_else else "You have"
        count = f"{facts.unlogged} session" + ("" if facts.unlogged == 1 else "s")
        intro += f"\n{whose} *{count} not yet logged*"
        intro += f", the oldest on {short_date(facts.oldest)}." if facts.oldest else "."
        if facts.pages > 1:
            intro += (
                f" Page {facts.page + 1} of {facts.pages}: the newest first, oldest at the "
                "top of each page."
            )
    if notice:
        intro = f"{notice}\n{intro}"
    rows = [_session_row(s, facts.today, surface, s.id in editing) for s in facts.shown]
    summary = ", ".join(f"{escape_mrkdwn(s.group)} ({s.starts_at:%H:%M})" for s in facts.shown[:5])
    more = (
        f"{facts.more} earlier session(s) not shown: log these first, then `/ssp sessions`."
        if facts.more
        else None
    )
    pages = []
    if listing and facts.pages > 1:
        staff = surface[1:].partition(".")[0]
        if facts.page + 1 < facts.pages:
            pages.append(
                dict(action_id=SESSIONS_OLDER, label="Older sessions",
                     value=f"s{staff}.{facts.page + 1}", style=None)
            )  # fmt: skip
        if facts.page > 0:
            pages.append(
                dict(action_id=SESSIONS_NEWER, label="Newer sessions",
                     value=f"s{staff}.{facts.page - 1}", style=None)
            )  # fmt: skip
    return {
        "text": f"Your sessions: {summary}" if summary else "Your sessions",
        "intro": intro,
        "sessions": rows,
        "more": more,
        "pages": pages,
        "footer": "Only your SENDCo and you can log these. Missed one? `/ssp sessions` "
        "lists every session not yet logged, however old.",
    }


def _session_row(s: session_log.Shown, today, surface: str, editing: bool) -> dict:
    when = f"{s.starts_at:%H:%M}"
    if s.held_on != today:
        when = f"{short_date(s.held_on)}, {when}"
    if (today - s.held_on).days >= LONG_AGO_DAYS:
        when += f", {(today - s.held_on).days // 7} weeks ago"
    count = f"{len(s.pupils)} pupil" + ("" if len(s.pupils) == 1 else "s")
    # The DM stays in Slack's history: a pupil named beside an intervention says what support
    # they get, so it counts them and the "someone absent" form (not kept) names them. The
    # reply to `/ssp sessions`, seen only by its asker, names them.
    kept = surface.startswith("p")
    names = "" if kept else ", ".join(escape_mrkdwn(name) for _, name in s.pupils)
    text = f"*{escape_mrkdwn(s.group)}* ({when}) — {count}" + (f": {names}" if names else "")
    if s.status == SessionStatus.DELIVERED:
        away = (
            f"{len(s.absent)} absent"
            if kept
            else "absent: " + ", ".join(escape_mrkdwn(name) for name in s.absent)
        )
        text += "\n:white_check_mark: *Delivered*" + (
            f" — {away}" if s.absent else " — everyone there"
        )
    elif s.status == SessionStatus.NOT_DELIVERED:
        text += f"\n:x: *Not delivered* — {escape_mrkdwn(s.reason or '')}"
    if s.logged_by and s.status != SessionStatus.AWAITING:
        text += f" (logged by {escape_mrkdwn(s.logged_by)})"
    value = f"{s.id}:{surface}"
    if s.status == SessionStatus.AWAITING or editing:
        buttons = [
            dict(action_id=f"{SESSION_DELIVERED}:{s.id}", label="Delivered", value=value,
                 style="primary"),
            dict(action_id=f"{SESSION_ABSENT}:{s.id}", label="Delivered, someone absent",
                 value=value, style=None),
            dict(action_id=f"{SESSION_NOT_DELIVERED}:{s.id}", label="Not delivered",
                 value=value, style=None),
        ]  # fmt: skip
    else:
        buttons = [dict(action_id=f"{SESSION_CHANGE}:{s.id}", label="Change", value=value,
                        style=None)]  # fmt: skip
    return {"id": s.id, "text": text, "buttons": buttons}


# --- intervention groups' runners ----------------------------------------------------------------

GROUP_OPEN = "ssp_group_open_{}"  # handlers.groups.OPEN_ACTION: the group's view, access checked
RUNNERLESS_SHOWN = 20


@renders(PromptKind.GROUP_RUNNER, "group_runner.json.j2")
def group_runner(session: Session, prompt: Prompt) -> Context | None:
    today = prompts.delivery_day(session, prompt)
    news = groups.runner_news(session, prompt, today)
    if news is None:
        return None  # someone else runs it now, or it ended: nothing to tell
    when = news.schedule
    if news.starts_on >= today:
        when += f", first session {short_date(news.starts_on)}"
    if news.ends_on:
        when += f", last day {short_date(news.ends_on)}"
    where = f", in {escape_mrkdwn(news.location)}" if news.location else ""
    # The group and when, never its pupils: Slack keeps this message.
    return {
        "text": f"You now run the intervention group {escape_mrkdwn(news.name)}",
        "summary": f"You now run the intervention group *{escape_mrkdwn(news.name)}*: "
        f"{when}{where}.",
        "open_action": GROUP_OPEN.format(0),
        "group_id": news.group_id,
        "about": "After each day's sessions I'll send you one message to log them in a tap. "
        "Its pupils are under “Open the group”.",
    }


@renders(PromptKind.GROUP_RUNNER_LEFT, "group_runner_left.json.j2")
def group_runner_left(session: Session, prompt: Prompt) -> Context | None:
    found = groups.without_runner(session, prompt.school_id, prompts.delivery_day(session, prompt))
    if not found:
        return None  # the SENDCo has chosen new runners meanwhile
    count = f"{len(found)} intervention group" + ("" if len(found) == 1 else "s")
    return {
        "text": f"{count} no longer {'has' if len(found) == 1 else 'have'} a runner",
        "intro": f"*{count} no longer {'has' if len(found) == 1 else 'have'} a runner*: "
        "whoever ran them has left the staff list. Choose who runs each with *Edit*.",
        "groups": [
            (
                f"*{escape_mrkdwn(name)}* · {schedule}\nNo runner: {escape_mrkdwn(left)} has left",
                GROUP_OPEN.format(index),
                group_id,
            )
            for index, (group_id, name, schedule, left) in enumerate(found[:RUNNERLESS_SHOWN])
        ],
        "more": f"And {len(found) - RUNNERLESS_SHOWN} more in `/ssp groups`."
        if len(found) > RUNNERLESS_SHOWN
        else None,
        "about": "Until then no session messages go to anyone who has left; their sessions "
        "not yet logged pass to the new runner. `/ssp groups` lists them.",
    }


@renders(PromptKind.INVITATION_LOCKED, "notice.json.j2")
def invitation_locked(session: Session, prompt: Prompt) -> Context | None:
    link = family.locked(session, prompt)
    if link is None:
        return None
    return {
        "text": f"A link asking for {link.purpose.label} on {escape_mrkdwn(link.pupil_name)}'s "
        "plan was locked after three wrong dates of birth. If the family still needs one, make "
        "a new link from the plan.",
    }


@renders(PromptKind.SENDCO_DIGEST, "sendco_digest.json.j2")
def sendco_digest(session: Session, prompt: Prompt) -> Context | None:
    digest = prompts.sendco_digest(session, prompt)
    if digest is None:
        return None  # nothing to say this week: no message
    escalated_by = ", ".join(f"{escape_mrkdwn(name)} ({n})" for name, n in digest.escalated_by)
    feedback = digest.feedback
    lines = [
        f"*Reviews coming up* (in the next {digest.notice} school days): {digest.coming_up}",
        f"*Overdue* (review date passed, no notes yet): {digest.overdue}",
        f"*Escalated* ({digest.escalate_after}+ school days after the reminder): "
        f"{digest.escalated}{f' — {escalated_by}' if escalated_by else ''}",
    ]
    if feedback.asked:
        lines.append(
            "*Staff monitoring feedback (teachers and support staff):* "
            f"{feedback.answered} of {feedback.asked} requests answered ({feedback.percent}%); "
            f"{len(feedback.concerns)} concern(s), strategies not in place in "
            f"{len(feedback.not_in_place)} (see `/ssp monitoring`)"
        )
    if digest.awaiting_qa:
        lines.append(f"*Awaiting your quality assurance:* {digest.awaiting_qa}")
    if digest.unreachable:
        unreachable = ", ".join(escape_mrkdwn(name) for name in digest.unreachable)
        lines.append(
            f"*Messages that could not be delivered:* {len(digest.unreachable)} — to {unreachable}"
        )
    return dict(
        fallback=f"Your weekly SSP digest: {digest.overdue} overdue, {digest.escalated} escalated",
        title=f"SSP week of {uk_date(digest.week_of)}",
        summary="\n".join(lines),
    )


# --- monitoring -----------------------------------------------------------------------------


@renders(PromptKind.MONITORING_DIGEST, "monitoring_message.json.j2")
def monitoring_digest(session: Session, prompt: Prompt) -> Context | None:
    school = session.get(School, prompt.school_id)
    return _monitoring(session, school, prompt.recipient_id)


@renders(PromptKind.MONITORING_REQUEST, "monitoring_message.json.j2")
def monitoring_request(session: Session, prompt: Prompt) -> Context | None:
    ask = prompts.monitoring_ask(session, prompt)
    if ask is None:
        return None
    school = session.get(School, prompt.school_id)
    asked_by = ask.asked_by or "The SENDCo"
    return _monitoring(session, school, prompt.recipient_id, ask.request_id, asked_by=asked_by)


# --- helpers --------------------------------------------------------------------------------


def _pupil(pupil: MessagePupil) -> str:
    return _named(pupil.name, pupil.year_group)


def _named(name: str, year_group: int) -> str:
    """ "Ava Stone (Year 8)", escaped for mrkdwn."""
    return f"{escape_mrkdwn(name)} ({year_label(year_group)})"


def _notice(handover: Handover | None, wording: str) -> Context | None:
    if handover is None:
        return None
    holder = escape_mrkdwn(handover.case_holder)
    return {"text": wording.format(holder=holder, pupil=_pupil(handover.pupil))}


def _assignment(ask: AssignmentAsk | None, *, reminder: bool) -> Context | None:
    if ask is None:
        return None  # answered or handed on meanwhile: nothing to ask any more
    if ask.review_date:
        expected = (
            f"Please read the plan and meet with the pupil and family before its "
            f"review on {ask.review_date:%-d %B %Y}."
        )
    else:
        expected = (
            f"Please draft the plan with the pupil and their family by "
            f"{ask.draft_by:%-d %B %Y}, then send it for quality assurance."
        )
    pupil = _pupil(ask.pupil)
    assigned_by = escape_mrkdwn(ask.assigned_by or "The SENDCo")
    return dict(
        fallback=f"{'Reminder: ' if reminder else ''}please be case holder for {pupil}",
        ask=f"{'*Reminder:* ' if reminder else ''}{assigned_by} has asked you to be the case "
        f"holder for the SEN Support Plan of *{pupil}*. {expected}",
        assignment_id=ask.assignment_id,
        pupil_id=ask.pupil.id,
    )


def _overdue(review: ReviewAsk) -> bool:
    return review.review_date is not None and review.review_date < review.today


def _due(review: ReviewAsk) -> str:
    """ "is due on Friday 15 January", "is due today (…)", or, once the date has passed on the
    day the message goes, "was due on Friday 13 November, 3 weeks ago"."""
    day = review.review_date
    if day is None:
        return "is due soon"
    when = f"{day:%A %-d %B}"
    if day > review.today:
        return f"is due on {when}"
    if day == review.today:
        return f"is due today ({when})"
    return f"was due on {when}, {_ago((review.today - day).days)}"


def _ago(days: int) -> str:
    if days == 1:
        return "yesterday"
    if days < 14:
        return f"{days} days ago"
    if days < 60:
        weeks = round(days / 7)
        return f"{weeks} weeks ago"
    return f"{round(days / 30.44)} months ago"


def _review(review: ReviewAsk | None, wording: str, *, fallback: str) -> Context | None:
    if review is None:
        return None  # logged, closed or handed on meanwhile
    name = _pupil(review.pupil)
    ask = wording.format(name=name, due=_due(review))
    if review.draft_saved:
        ask += " Your draft is saved."
    feedback = review.feedback
    if feedback.asked or feedback.support_asked:
        # How many answered, not what they said: the answers belong in the form, not in Slack's
        # message history.
        sent = []
        if feedback.asked:
            sent.append(f"{feedback.answered} of {feedback.asked} teachers")
        if feedback.support_asked:
            sent.append(f"{feedback.support_answered} of {feedback.support_asked} support staff")
        ask += f" {' and '.join(sent)} have sent feedback; it is in the review notes form."
    return dict(
        ask=ask,
        fallback=fallback.format(name=name),
        plan_id=review.plan_id,
        can_snooze=review.can_snooze,
    )


def _monitoring(
    session: Session,
    school: School,
    teacher_id: int,
    request_id: int | None = None,
    notice: str | None = None,
    asked_by: str | None = None,
) -> Context | None:
    if request_id is not None:
        rows = monitoring.requests_for(session, school.id, teacher_id, request_id)
        waiting, total = sum(1 for r in rows if not r.answered), len(rows)
    else:
        rows = monitoring.requests_for(session, school.id, teacher_id, limit=monitoring.DIGEST_ROWS)
        waiting, total = monitoring.request_counts(session, school.id, teacher_id)
    if not rows or (notice is None and not waiting):
        return None
    if asked_by and request_id is not None:
        intro = f"{escape_mrkdwn(asked_by)} would like your feedback on this pupil's plan."
        fallback = "A request for your feedback on a pupil's plan"
    elif waiting:
        support = any(r.role == MonitoringRole.SUPPORT for r in rows)
        intro = (
            f"*How are these plans going{'' if support else ' in your lessons'}?* {waiting} "
            f"{'pupil is' if waiting == 1 else 'pupils are'} waiting for your feedback."
        )
        fallback = f"Monitoring: {waiting} pupil(s) waiting for your feedback"
    else:
        intro = "*All answered, thank you.* You can change an answer until the review."
        fallback = "Monitoring: all answered"
    initials = school.pupil_display == PupilDisplay.INITIALS
    limit = monitoring.DIGEST_ROWS
    roles = {r.role for r in rows[:limit]}
    helps = []
    if MonitoringRole.TEACHER in roles:
        helps.append(
            "Two clicks: are the strategies in place, and what impact are you seeing? Add a "
            "comment or evidence with *See the plan's strategies*."
        )
    if MonitoringRole.SUPPORT in roles:
        helps.append(
            "For the support you deliver: is the session happening as planned, and how is the "
            "pupil responding? Add a comment with *See the plan*."
        )
    return dict(
        help=" ".join([*helps, "You can change an answer until the review."]),
        rows=[_request_line(r, initials) for r in rows[:limit]],
        more=f"…and {total - limit} more: they appear here as you answer these."
        if total > limit
        else None,
        intro=intro,
        fallback=fallback,
        notice=notice,
    )


@dataclass(frozen=True)
class RequestLine:
    """One of a teacher's monitoring requests, worded for monitoring_message.json.j2."""

    request_id: int
    block_id: str
    who: str
    """The pupil (name or initials, as the school chose), bold, and "answered" if so."""
    answered: bool
    strategies: str
    """The placeholders say whether that question is answered, never what the answer was."""
    impact: str
    strategy_options: list[tuple[str, str]]
    """(label, value): the value carries the request, so the answer needs no other state."""
    impact_options: list[tuple[str, str]]
    first_action: str = "monitoring_strategies"
    """Teachers' questions, or support staff's (monitoring_session, monitoring_responding)."""
    second_action: str = "monitoring_impact"
    open_label: str = "See the plan's strategies"
    not_mine: str = "I don't teach this pupil"


def _request_line(row: monitoring.RequestRow, initials: bool) -> RequestLine:
    who = _named(row.initials if initials else row.pupil_name, row.year_group)
    if row.group:
        who += f" · {escape_mrkdwn(row.group)}"
    if row.role == MonitoringRole.SUPPORT:
        return RequestLine(
            request_id=row.request_id,
            block_id=f"request:{row.request_id}",
            who=(
                f"*{who}* · your support · answered :white_check_mark:"
                if row.answered
                else f"*{who}* · your support"
            ),
            answered=row.answered,
            strategies="Session as planned: answered"
            if row.strategies_answered
            else "Session happening as planned?",
            impact="Responding: answered"
            if row.impact_answered
            else "How is the pupil responding?",
            strategy_options=[
                (f"Session as planned: {s.label}", f"{row.request_id}:{s.value}")
                for s in SessionAsPlanned
            ],
            impact_options=[
                (f"Responding: {r.label}", f"{row.request_id}:{r.value}") for r in PupilResponse
            ],
            first_action="monitoring_session",
            second_action="monitoring_responding",
            open_label="See the plan",
            not_mine="I don't work with this pupil",
        )
    return RequestLine(
        request_id=row.request_id,
        block_id=f"request:{row.request_id}",
        who=f"*{who}* · answered :white_check_mark:" if row.answered else f"*{who}*",
        answered=row.answered,
        strategies="Strategies in place: answered"
        if row.strategies_answered
        else "Strategies in place?",
        impact="Impact: answered" if row.impact_answered else "Impact?",
        strategy_options=[
            (f"Strategies in place: {s.label}", f"{row.request_id}:{s.value}")
            for s in StrategiesInPlace
        ],
        impact_options=[(f"Impact: {i.label}", f"{row.request_id}:{i.value}") for i in Impact],
    )


# --- leavers (bot.services.closure) ---------------------------------------------------------


@renders(PromptKind.LEAVERS, "leavers_message.json.j2")
def leavers(session: Session, prompt: Prompt) -> Context | None:
    """One message per import to the SENDCo: the pupils this import marked as left with an open
    plan, and those whose SEN stage it made N, named (not earlier imports' pupils)."""
    left, not_sen = closure.named_in(session, prompt)
    if not left and not not_sen:
        return None  # closed already: nothing to ask

    def named(plans) -> str:
        return ", ".join(
            _pupil(prompts.message_pupil(session, prompt.school_id, p.pupil)) for p in plans
        )

    parts = []
    if left:
        parts.append(
            f"The roster now shows {len(left)} pupil{'s' if len(left) != 1 else ''} with an "
            f"open plan as having left the school: {named(left)}. Their review and monitoring "
            "prompts have stopped. Close their plans (reason: left the school), or they close "
            f"by themselves {closure.LEAVER_CLOSE_SCHOOL_DAYS} school days after leaving."
        )
    if not_sen:
        parts.append(
            f"The roster now gives SEN stage N (no SEN) for {named(not_sen)}, who "
            f"{'have open plans' if len(not_sen) != 1 else 'has an open plan'}. If their needs "
            "are met, close the plan with `/ssp close <name>`; otherwise it carries on."
        )
    return {"text": "\n\n".join(parts), "prompt_id": str(prompt.id) if left else None}
