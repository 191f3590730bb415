"""`/ssp settings`: the school's calendar, school hours and review timings.

Everyone who sees the whole school (SENDCo, senior leaders) may read them; only the SENDCo may
change them: `/ssp settings review-notice N`, `review-interval N`, `school-hours 08:40 15:30`.
"""

from __future__ import annotations

from datetime import date

from bot.access import Viewer
from bot.errors import UserError
from bot.render import render_json
from bot.services import schools
from handlers.context import Runtime, Subcommand, Usage

VIA = "/ssp settings"
WHOLE_SCHOOL_ONLY = (
    "The school's settings are for the SENDCo and senior leaders. "
    "`/ssp mine` shows the plans you hold."
)
ONLY_SENDCO = "Only the SENDCo can change the school's settings; `/ssp settings` shows them."


def settings_command(runtime: Runtime, viewer: Viewer, rest: list[str], today: date) -> dict:
    """Shows the settings, or changes one (`rest` is what follows `/ssp settings`).

    `today` is unused: what today means for prompts comes from the clock in the school's own
    time zone, with the school hours, in the service.
    """
    if not viewer.sees_whole_school:
        return _notice(WHOLE_SCHOOL_ONLY)
    if not rest:
        with runtime.unit_of_work() as session:
            shown = schools.school_settings(session, viewer.school_id, runtime.now())
        return _render(viewer, shown, changed=[])
    if not viewer.is_sendco:
        return _notice(ONLY_SENDCO)
    try:
        change = _parse(rest[0].lower(), rest[1:])
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
    except UserError as refusal:
        return _notice(str(refusal))
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
    raise UserError(
        "To change a setting: `/ssp settings review-notice N` (N school days, "
        f"{_span(schools.REVIEW_NOTICE_DAYS)}), `/ssp settings review-interval N` "
        f"({_span(schools.REVIEW_INTERVAL_DAYS)}) or `/ssp settings school-hours 08:40 15:30`."
    )


def _render(viewer: Viewer, shown: schools.SchoolSettings, changed: list[str]) -> dict:
    return {
        "response_type": "ephemeral",
        **render_json(
            "settings.json.j2",
            s=shown,
            changed=changed,
            can_change=viewer.is_sendco,
            notice_days=schools.REVIEW_NOTICE_DAYS,
            interval_days=schools.REVIEW_INTERVAL_DAYS,
        ),
    }


def _span(allowed: range) -> str:
    return f"{allowed.start} to {allowed.stop - 1}"


def _notice(text: str) -> dict:
    return {"response_type": "ephemeral", **render_json("notice.json.j2", text=text)}


# --- /ssp subcommands answered here -----------------------------------------------------------

SUBCOMMANDS = (
    Subcommand(
        "settings",
        lambda ask: settings_command(ask.runtime, ask.viewer, ask.words, ask.today),
        help=(
            Usage(
                "`/ssp settings` — the school's calendar, school hours and review timings",
                lambda viewer: viewer.sees_whole_school,
            ),
        ),
    ),
)
