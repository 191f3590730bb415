"""`/ssp settings`: the school's calendar, school hours and review timings.

Everyone who sees the whole school (SENDCo, senior leaders) may read them; only the SENDCo may
change them: `/ssp settings review-notice N`, `review-interval N`, `school-hours 08:40 15:30`,
`qa-reviews every|changes|sample`.
"""

from __future__ import annotations

from bot.access import Viewer
from bot.errors import UserError
from bot.render import escape_mrkdwn
from bot.services import schools
from handlers.context import Ask, Subcommand, Usage
from handlers.presenters import plural
from handlers.toolkit import message
from models import QaReviews

VIA = "/ssp settings"
WHOLE_SCHOOL_ONLY = (
    "The school's settings are for the SENDCo and senior leaders. "
    "`/ssp mine` shows the plans you hold."
)
ONLY_SENDCO = "Only the SENDCo can change the school's settings; `/ssp settings` shows them."
QA_REVIEWS_USAGE = (
    "`/ssp settings qa-reviews every` (every submitted review goes to the SENDCo for quality "
    "assurance), `changes` (only reviews that close a target, need new outcomes, or adapt or "
    "stop a provision) or "
    "`sample` (one review in five, and every review by a case holder in their first term)."
)
CALENDAR_LINES = 250  # ten sections of 25 lines: the rest is cut, with a line saying so


def settings_command(ask: Ask) -> dict:
    """Shows the settings, or changes one (the words after `/ssp settings` say which).

    What today means for prompts comes from the clock in the school's own time zone, with the
    school hours, in the service; so the Ask's `today` is not used here.
    """
    runtime, viewer = ask.runtime, ask.viewer
    if not ask.words:
        with runtime.unit_of_work() as session:
            shown = schools.school_settings(session, viewer.school_id, runtime.now())
        return _render(viewer, shown, changed=[])
    if not viewer.is_sendco:
        raise UserError(ONLY_SENDCO)
    change = _parse(ask.words[0].lower(), ask.words[1:])
    with runtime.unit_of_work() as session:
        changed = schools.change_settings(
            session,
            viewer.school_id,
            staff_id=viewer.staff_id,
            now=runtime.now(),
            via=VIA,
            **change,
        )
        shown = schools.school_settings(session, viewer.school_id, runtime.now())
    return _render(viewer, shown, changed=changed)


def _parse(setting: str, values: list[str]) -> dict:
    """The keyword arguments for schools.change_settings; UserError saying the accepted form."""
    if setting in ("review-notice", "review-interval"):
        allowed = (
            schools.REVIEW_NOTICE_DAYS
            if setting == "review-notice"
            else schools.REVIEW_INTERVAL_DAYS
        )
        if len(values) != 1 or not values[0].isdigit():
            raise UserError(
                f"`/ssp settings {setting} N`: N is a whole number of school days from "
                f"{allowed.start} to {allowed.stop - 1}."
            )
        key = (
            "review_notice_school_days"
            if setting == "review-notice"
            else "review_interval_school_days"
        )
        return {key: int(values[0])}
    if setting == "school-hours":
        try:
            return {"school_hours": schools.parse_school_hours(" ".join(values))}
        except UserError:
            raise UserError(
                "`/ssp settings school-hours 08:40 15:30`: the start and the end of the "
                "school day, on the 24-hour clock."
            ) from None
    if setting == "qa-reviews":
        choice = {
            "every": QaReviews.EVERY,
            "changes": QaReviews.CHANGES,
            "sample": QaReviews.SAMPLE,
        }.get(" ".join(values).lower())
        if choice is None:
            raise UserError(QA_REVIEWS_USAGE)
        return {"qa_reviews": choice}
    raise UserError(
        "To change a setting: `/ssp settings review-notice N` (N school days, "
        f"{_span(schools.REVIEW_NOTICE_DAYS)}), `/ssp settings review-interval N` "
        f"({_span(schools.REVIEW_INTERVAL_DAYS)}), `/ssp settings school-hours 08:40 15:30` or "
        "`/ssp settings qa-reviews every|changes|sample`."
    )


def _render(viewer: Viewer, shown: schools.SchoolSettings, changed: list[str]) -> dict:
    done = "; ".join(changed)
    done = done[:1].upper() + done[1:]
    title = f"School settings for {shown.name}"
    return message(
        "settings.json.j2",
        summary=f"{done}. {title}" if changed else title,
        title=f"Settings: {shown.name}",
        done=f":white_check_mark: {escape_mrkdwn(done)}." if changed else None,
        paragraphs=[_general(shown), _timings(shown), *_calendar(shown.calendar_lines)],
        cut=(
            f"…and {len(shown.calendar_lines) - CALENDAR_LINES} more lines of the calendar."
            if len(shown.calendar_lines) > CALENDAR_LINES
            else None
        ),
        today=escape_mrkdwn(shown.describe_today()),
        footer=(
            "Change them: `/ssp settings review-notice N` "
            f"({_span(schools.REVIEW_NOTICE_DAYS)} school days), "
            f"`/ssp settings review-interval N` ({_span(schools.REVIEW_INTERVAL_DAYS)}), "
            "`/ssp settings school-hours 08:40 15:30`, "
            "`/ssp settings qa-reviews every|changes|sample`. "
            "Term dates: `sspbot import terms FILE`; "
            "time zone and how pupils are named: `sspbot school set`."
            if viewer.is_sendco
            else "Only the SENDCo can change these settings."
        ),
    )


def _general(s: schools.SchoolSettings) -> str:
    named = (
        "named by their initials (forms and private replies still show names)"
        if s.pupil_display.value == "initials"
        else "named in full"
    )
    timezone = escape_mrkdwn(s.timezone)
    return (
        f"*Time zone:* {timezone}\n"
        f"*School hours:* {s.hours}, {timezone}. Prompts go out only in school hours, on school "
        "days.\n"
        f"*Pupils in Slack messages:* {named}"
    )


def _timings(s: schools.SchoolSettings) -> str:
    snooze = ", ".join(str(n) for n in s.snooze_choices[:-1]) + f" or {s.snooze_choices[-1]}"
    return "\n".join(
        [
            "*Review timings*, in school days (weekends, holidays and closures don't count):",
            f"• The case holder is prompted *{_days(s.review_notice_school_days)}* before a "
            "plan's review date.",
            "• If no review notes are logged, a reminder goes on the review date.",
            f"• Still none {_days(s.escalation_after_school_days)} after that: it is escalated "
            "to the SENDCo.",
            f"• A case holder may snooze a prompt once, by {snooze} school days.",
            "• SENDCos get a weekly digest on the first school day of each week.",
            f"• After a review, the next one is proposed *{_days(s.review_interval_school_days)}*"
            " later.",
            f"• Reviews that go back to the SENDCo for quality assurance: *{s.qa_reviews.label}*"
            " (new plans always do).",
        ]
    )


def _calendar(lines: list[str]) -> list[str]:
    """The calendar in sections of 25 lines, the first headed, at most CALENDAR_LINES in all."""
    shown = [escape_mrkdwn(line) for line in lines[:CALENDAR_LINES]]
    chunks = ["\n".join(shown[i : i + 25]) for i in range(0, len(shown), 25)]
    return [f"*Calendar*\n{chunk}" if n == 0 else chunk for n, chunk in enumerate(chunks)]


def _days(count: int) -> str:
    return plural(count, "school day")


def _span(allowed: range) -> str:
    return f"{allowed.start} to {allowed.stop - 1}"


# --- /ssp subcommands answered here -----------------------------------------------------------

SUBCOMMANDS = (
    Subcommand(
        "settings",
        settings_command,
        help=(
            Usage(
                "`/ssp settings` — the school's calendar, school hours and review timings",
                lambda viewer: viewer.sees_whole_school,
            ),
        ),
        allowed=lambda viewer: viewer.sees_whole_school,
        refusal=WHOLE_SCHOOL_ONLY,
    ),
)
