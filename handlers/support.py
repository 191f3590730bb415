"""`/ssp support @name <pupil>`: the SENDCo links a member of staff to a pupil as key adult
(`remove` at the end ends the link). The key adult then sees the pupil as a teacher does."""

from __future__ import annotations

from bot.errors import UserError
from bot.render import escape_mrkdwn, mention
from bot.services import support
from handlers.context import Ask, Subcommand, Usage
from handlers.slack_api import staff_for_slack_user
from handlers.toolkit import NOT_ON_STAFF_LIST, UsageError, find_one_pupil, mentioned_user, notice

USAGE = (
    "Use `/ssp support @name <UPN or name>` to make them the pupil's key adult, and "
    "`/ssp support @name <UPN or name> remove` to end it."
)
ENDING = ("remove", "end")


def support_command(ask: Ask) -> dict:
    runtime, viewer, words = ask.runtime, ask.viewer, ask.words
    if not viewer.is_sendco:
        # Refused before anyone is looked up, and audited: the answer tells nothing about
        # the person or the pupil named.
        with runtime.unit_of_work() as session:
            support.refuse(session, viewer, now=runtime.now())
        raise UserError(support.ONLY_SENDCO)
    slack_user_id = mentioned_user(words[0]) if words else None
    ending = len(words) > 2 and words[-1].lower() in ENDING
    query = " ".join(words[1:-1] if ending else words[1:])
    if slack_user_id is None or not query:
        raise UsageError(USAGE)
    pupil_id = find_one_pupil(runtime, viewer, query, None, via=support.VIA).pupil_id
    with runtime.unit_of_work() as session:
        staff = staff_for_slack_user(session, ask.client, viewer.school_id, slack_user_id)
        if staff is None:
            raise UserError(f"{NOT_ON_STAFF_LIST}.")
        change = (support.end if ending else support.link)(
            session, viewer, pupil_id=pupil_id, staff_id=staff.id, now=runtime.now()
        )
    who = mention(change.staff_slack_user_id, change.staff_name)
    pupil = escape_mrkdwn(change.pupil_name)
    if ending:
        return notice(
            f"{who} is no longer {pupil}'s key adult."
            if change.changed
            else f"{who} isn't {pupil}'s key adult, so there was nothing to end."
        )
    if not change.changed:
        return notice(f"{who} is already {pupil}'s key adult.")
    return notice(
        f"{who} is now {pupil}'s key adult: they see {pupil} as a teacher does "
        "(`/ssp pupil`: adjustments, targets, how to support them; not the whole plan). "
        f"To end it: `/ssp support @name {pupil} remove`."
    )


SUBCOMMANDS = (
    Subcommand(
        "support",
        support_command,
        help=(
            Usage(
                "`/ssp support @name <UPN or name>` — make a teaching assistant (or tutor, "
                "teacher, pastoral lead) the pupil's key adult, so they see the pupil as a "
                "teacher does; add `remove` at the end to end it",
                lambda viewer: viewer.is_sendco,
            ),
        ),
    ),
)
