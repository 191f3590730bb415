"""The words of Block Kit messages, prepared in Python so that templates only lay them out.

A presenter turns what a service returns into the strings a template places, already escaped for
mrkdwn wherever they are mrkdwn; templates then hold loops, conditionals and `|tojson`, never
string arithmetic. Shared by every listener module (templates/_macros.j2 is its other half).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from bot.render import escape_mrkdwn, mention, uk_date, year_label
from bot.services.caseload import HolderLine, PlanLine
from bot.services.monitoring import Feedback
from bot.services.plan_editing import linked_plan_summary
from bot.services.pupils import PlanSummary

if TYPE_CHECKING:
    from handlers.toolkit import Page  # toolkit uses these presenters

PAGE_SEPARATOR = "|"
HOW_TO_SUPPORT_SHOWN = 2000  # characters of the pupil's "how to support me" in `/ssp pupil`


def plural(count: int, word: str, words: str | None = None) -> str:
    """ "1 plan", "12 plans"."""
    return f"{count} {word if count == 1 else (words or word + 's')}"


def joined(*parts: str | None) -> str:
    """The parts that are there, with " · " between them."""
    return " · ".join(part for part in parts if part)


def pupil_line(
    name: str,
    year_group: int,
    form: str | None = None,
    *,
    has_plan: bool = True,
    bold: bool = True,
) -> str:
    """How a pupil is named in a list: "*Ava Stone* · Year 8 (8B)", then "· no plan" if so."""
    shown = f"*{escape_mrkdwn(name)}*" if bold else escape_mrkdwn(name)
    line = f"{shown} · {year_label(year_group)}"
    if form:
        line += f" ({escape_mrkdwn(form)})"
    return line if has_plan else f"{line} · no plan"


def leaving(left_on: date | None, closes_on: date | None) -> str:
    """A leaver's open plan, in place of its review: "left the school 23 Nov 2026, plan closing
    21 Dec 2026"."""
    left = f"left the school {uk_date(left_on)}" if left_on else "left the school"
    return f"_{left}, plan closing {uk_date(closes_on)}_" if closes_on else f"_{left}_"


def review_when(review_date: date | None, days_overdue: int) -> str:
    """ "review 3 Dec 2026 (*2 days overdue*)", or "no review date"."""
    if review_date is None:
        return "no review date"
    overdue = f" (*{plural(days_overdue, 'day')} overdue*)" if days_overdue else ""
    return f"review {uk_date(review_date)}{overdue}"


# --- paging ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pager:
    """Previous/Next under a long list; each button carries what to ask again, and which page."""

    page: int
    pages: int
    previous_value: str | None
    next_value: str | None

    def of(self) -> str:
        """ "page 2 of 3", for the line above the list."""
        return f"page {self.page} of {self.pages}"


def pager(asked: str, page: Page) -> Pager:
    """The pager for `page` of the answer to `/ssp {asked}` (e.g. "caseload <@U1>")."""
    return Pager(
        page=page.page,
        pages=page.pages,
        previous_value=page_value(asked, page.page - 1) if page.page > 1 else None,
        next_value=page_value(asked, page.page + 1) if page.page < page.pages else None,
    )


def page_value(asked: str, page: int) -> str:
    """What a pager button carries to come back to `asked` at `page` (handlers.commands)."""
    return f"{asked}{PAGE_SEPARATOR}{page}"


# --- plans and case holders --------------------------------------------------------------------


def plan_line(
    plan: PlanLine, *, show_holder: bool = False, flag: str | None = None, form: bool = True
) -> str:
    """A plan in a list: the pupil, then when it is reviewed, its status (and who holds it)."""
    holder = None
    if show_holder:
        held_by = (
            mention(plan.case_holder_slack_id, plan.case_holder) if plan.case_holder else "_none_"
        )
        holder = f"case holder {held_by}"
    when = (
        leaving(plan.left_on, plan.closes_on)
        if plan.has_left
        else review_when(plan.review_date, plan.days_overdue)
    )
    text = (
        f"{pupil_line(plan.pupil_name, plan.year_group, plan.form if form else None)}\n"
        f"{joined(when, plan.status.label, holder)}"
    )
    return f"{text}\n:rotating_light: {flag}" if flag else text


def caseload_counts(counts: HolderLine, *, short: bool = False) -> str:
    """A case holder's (or the school's) counts: plans, due soon, overdue, QA, monitoring."""
    if short:
        answered = (
            f" ({counts.monitoring_answered}/{counts.monitoring_asked} answered)"
            if counts.monitoring_asked
            else ""
        )
        return joined(
            plural(counts.plans, "plan"),
            f"{counts.due_soon} due soon",
            f"{counts.overdue} overdue",
            f"{counts.awaiting_qa} awaiting QA",
            f"{counts.open_monitoring} monitoring open{answered}",
        )
    answered = (
        f" ({counts.monitoring_answered} of {counts.monitoring_asked} teachers have answered)"
        if counts.monitoring_asked
        else ""
    )
    return joined(
        f"{counts.plans} open",
        f"{counts.due_soon} reviews due soon",
        f"{counts.overdue} overdue",
        f"{counts.awaiting_qa} awaiting quality assurance",
        f"{counts.open_monitoring} monitoring requests open{answered}",
    )


# --- a pupil's plan at a glance (/ssp pupil) ---------------------------------------------------


def plan_at_a_glance(s: PlanSummary, today: date, feedback: Feedback | None) -> list[str]:
    """The paragraphs of `/ssp pupil`: who the pupil is, then the plan as far as the viewer may
    see it. A teacher of the pupil sees what they need to teach them (DESIGN §4): year and form,
    adjustments and access arrangements, targets and how the pupil asks to be supported; not
    their date of birth, SEN stage, needs, flags, the MIS notes or the provision."""
    pupil, plan = s.pupil, s.plan
    paragraphs = [_class_line(pupil) if s.teacher_view else _who(pupil)]
    if s.key_adults:
        adults = ", ".join(mention(slack_id, name) for slack_id, name in s.key_adults)
        paragraphs.append(f"*Key adult*: {adults}")
    if plan is None:
        none = "*No open SEN Support Plan.*" if s.closed else "*No SEN Support Plan yet.*"
        return [*paragraphs, none]
    overdue = (
        not s.has_left  # a leaver's plan waits to close: nobody is chased for its review
        and plan.review_date is not None
        and plan.review_date < today
        and plan.status.value in ("active", "in_review", "awaiting_qa")
    )
    started = f" · started {uk_date(plan.start_date)}" if plan.start_date else ""
    review = (
        f"{uk_date(plan.review_date)}{' (*overdue*)' if overdue else ''}"
        if plan.review_date
        else "not set"
    )
    holder = plan.case_holder
    held_by = mention(holder.slack_user_id, holder.display_name) if holder else "_none yet_"
    paragraphs.append(
        f"*Plan {plan.cycle_number}* in the APDR cycle · {plan.status.label}{started}\n"
        f"Next review: {review} · case holder: {held_by}"
    )
    if s.consent_withdrawn is not None:  # never set in a teacher's view: it is the record's
        paragraphs.append(consent_withdrawn(s.consent_withdrawn))
    if not s.teacher_view and plan.needs:
        paragraphs.append(
            listed(
                "*Needs*",
                [
                    f"{n.broad_area.label}"
                    + (f" ({n.census_code.value})" if n.census_code else "")
                    + f": {escape_mrkdwn(n.description)}"
                    for n in plan.needs
                ],
            )
        )
    if plan.adjustments:
        paragraphs.append(
            listed(
                "*In-class adjustments and access arrangements*",
                [
                    escape_mrkdwn(a.description)
                    + (" _(access arrangement)_" if a.kind.value == "access_arrangement" else "")
                    for a in plan.adjustments
                ],
            )
        )
    how_to_support = (plan.voice.how_to_support_me or "").strip() if plan.voice else ""
    if how_to_support:
        if len(how_to_support) > HOW_TO_SUPPORT_SHOWN:  # a section holds 3,000 characters
            how_to_support = how_to_support[: HOW_TO_SUPPORT_SHOWN - 1] + "…"
        paragraphs.append(f"*How to support me*\n{escape_mrkdwn(how_to_support)}")
    paragraphs.append(
        listed(
            "*Targets*",
            [
                f"{escape_mrkdwn(t.description)} — _{t.status.value.replace('_', ' ')}_"
                + (f", by {uk_date(t.end_date)}" if t.end_date else "")
                for t in s.targets
            ],
            empty="No targets yet.",
        )
    )
    if not s.teacher_view:
        paragraphs.append(
            listed(
                "*Provision*",
                [
                    escape_mrkdwn(p.what)
                    + (f" — {escape_mrkdwn(p.who)}" if p.who else "")
                    + "".join(f", {escape_mrkdwn(v)}" for v in (p.how_often, p.how_long) if v)
                    for p in plan.provisions
                    if p.ended_on is None  # ended (e.g. stopped at a review): no longer given
                ],
                empty="No provision recorded yet.",
            )
        )
        if plan.linked_plans:
            paragraphs.append(
                listed(
                    "*Linked plans*",
                    [escape_mrkdwn(linked_plan_summary(link)) for link in plan.linked_plans],
                )
            )
    if feedback is not None and (feedback.asked or feedback.support_asked):
        paragraphs.append(
            listed(
                f"*Teachers' feedback this cycle:* {escape_mrkdwn(feedback.summary)}",
                [
                    escape_mrkdwn(teacher)
                    + (f" ({escape_mrkdwn(subject)})" if subject else "")
                    + f": {escape_mrkdwn(text)}"
                    for teacher, subject, text in feedback.comments
                ],
            )
        )
    return paragraphs


def _class_line(pupil) -> str:
    """Year, form and house: where to find the pupil, all that a teacher is shown of the record."""
    first = year_label(pupil.year_group)
    if not pupil.taught_in_year_group:
        first += " (taught out of year group)"
    if pupil.form:
        first += f" · form {escape_mrkdwn(pupil.form)}"
    if pupil.house:
        first += f" · {escape_mrkdwn(pupil.house)} house"
    return first


def _who(pupil) -> str:
    """The record as the SENDCo, senior leaders and the case holder see it: year, form, stage,
    needs, flags and the MIS notes."""
    first = _class_line(pupil)
    born = f"Born {uk_date(pupil.date_of_birth)} · {pupil.sen_stage.label}"
    if pupil.primary_need:
        born += f" · primary need: {pupil.primary_need.label}"
    if pupil.secondary_need:
        born += f" · secondary: {pupil.secondary_need.label}"
    flags = " · ".join(pupil_flags(pupil, capitalised=True))
    other = f"Other: {escape_mrkdwn(pupil.other_information)}" if pupil.other_information else None
    return "\n".join(line for line in (first, born, flags, other) if line)


def pupil_flags(pupil, *, capitalised: bool) -> list[str]:
    """What else staff should keep in mind about the pupil, in one order everywhere: capitalised
    to stand on a line of its own, lowercase inside a sentence."""
    flags = [
        label
        for label, flagged in (
            ("EAL", pupil.eal),
            ("pupil premium", pupil.pupil_premium),
            ("child in care", pupil.child_in_care),
            ("young carer", pupil.young_carer),
            ("medical need", pupil.medical_need),
        )
        if flagged
    ]
    return [flag[:1].upper() + flag[1:] for flag in flags] if capitalised else flags


def consent_withdrawn(withdrawal) -> str:
    """The line on the plan (its overview, `/ssp pupil`) while sharing consent is withdrawn."""
    return (
        f":no_entry: *Consent to share this plan was withdrawn on "
        f"{withdrawal.withdrawn_on:%-d %B %Y}*: it won't be sent outside the school."
    )


def listed(heading: str, items: list[str], empty: str | None = None) -> str:
    """A heading, then one bullet a line (or `empty` on its own line when there are none)."""
    lines = [f"• {item}" for item in items] or ([empty] if empty else [])
    return "\n".join([heading, *lines])
