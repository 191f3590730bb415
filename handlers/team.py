"""The SSP team, the priority list and delegation: `/ssp team`, `/ssp priority`, `/ssp assign`."""

from __future__ import annotations

import json
import logging
import re
from datetime import date
from math import ceil

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.access import Viewer
from bot.errors import UserError
from bot.render import escape_mrkdwn, render_json
from bot.services import team as team_service
from bot.services.pupils import MAX_MATCHES, find_pupils
from handlers.context import Runtime, Subcommand, Usage, runtime_of, school_timezone, viewer_of
from handlers.slack_api import staff_for_slack_user
from models import Pupil

log = logging.getLogger(__name__)

MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
PRIORITY_PER_PAGE = 15
NOT_SENDCO = "Only the SENDCo manages the SSP team and delegates plans."
WHOLE_SCHOOL = "The SSP team and the priority list are for the SENDCo and senior leaders."


def register(app: App) -> None:
    app.action("ssp_assign_open")(open_assign_modal)
    app.action("ssp_assign_auto")(propose_all)
    app.action("ssp_assign_confirm")(confirm_all)
    app.view("ssp_assign")(save_assignment)


# --- /ssp team ------------------------------------------------------------------------------


def team_command(runtime: Runtime, client: WebClient, viewer: Viewer, words: list[str]) -> dict:
    if not words:
        if not viewer.sees_whole_school:
            return _notice(WHOLE_SCHOOL)
        with runtime.unit_of_work() as session:
            members = team_service.team(session, viewer.school_id)
        return _message("team.json.j2", members=members)
    action, rest = words[0].lower(), words[1:]
    if action not in ("add", "remove") or not rest or not MENTION.match(rest[0]):
        return _notice(
            "Use `/ssp team`, `/ssp team add @name [areas, year groups, house]` "
            "(e.g. `/ssp team add @name SEMH Y7 Y8`) or `/ssp team remove @name`."
        )
    if not viewer.is_sendco:
        return _notice(NOT_SENDCO)
    try:
        with runtime.unit_of_work() as session:
            staff = staff_for_slack_user(
                session, client, viewer.school_id, MENTION.match(rest[0]).group(1)
            )
            if staff is None:
                return _notice("I can't find that person on your school's staff list.")
            if action == "remove":
                team_service.remove_from_team(session, viewer, staff, runtime.now())
                return _notice(f"{escape_mrkdwn(staff.display_name)} is no longer on the SSP team.")
            preferences = team_service.parse_preferences(session, viewer.school_id, rest[1:])
            member, new = team_service.add_to_team(
                session, viewer, staff, preferences, runtime.now()
            )
            return _notice(
                f"{escape_mrkdwn(member.name)} "
                f"{'joined the SSP team' if new else 'is on the SSP team'}: "
                f"{escape_mrkdwn(member.describe())}, {member.plans} plans held."
            )
    except UserError as refusal:
        return _notice(str(refusal))


# --- /ssp priority --------------------------------------------------------------------------


def priority_command(runtime: Runtime, viewer: Viewer, today: date, page: int = 1) -> dict:
    if not viewer.sees_whole_school:
        return _notice(WHOLE_SCHOOL)
    with runtime.unit_of_work() as session:
        items = team_service.priority_list(session, viewer.school_id, today)
    pages = max(1, ceil(len(items) / PRIORITY_PER_PAGE))
    page = min(max(page, 1), pages)
    return _message(
        "priority.json.j2",
        items=items[(page - 1) * PRIORITY_PER_PAGE : page * PRIORITY_PER_PAGE],
        total=len(items),
        page=page,
        pages=pages,
        can_assign=viewer.is_sendco,
    )


# --- /ssp assign ----------------------------------------------------------------------------


def assign_command(
    runtime: Runtime, client: WebClient, viewer: Viewer, words: list[str], today: date
) -> dict:
    if not viewer.is_sendco:
        return _notice(NOT_SENDCO)
    if [w.lower() for w in words] == ["auto"]:
        return _proposal(runtime, viewer, today)
    at = next((n for n, w in enumerate(words) if MENTION.match(w)), None)
    if at is None or at == 0:
        return _notice(
            "Use `/ssp assign <UPN or name> @case-holder [why]`, or "
            "`/ssp assign auto` to see proposed case holders for the priority list."
        )
    query, reason = " ".join(words[:at]), " ".join(words[at + 1 :]) or None
    with runtime.unit_of_work() as session:
        matches = find_pupils(session, viewer, query)
        if not matches:
            return _notice(f"I couldn't find a pupil matching “{query[:80]}”.")
        if len(matches) > 1:
            names = ", ".join(escape_mrkdwn(m.name) for m in matches[:MAX_MATCHES])
            return _notice(
                f"Several pupils match “{query[:80]}” ({names}). Use more of the name, or the UPN."
            )
        holder = staff_for_slack_user(
            session, client, viewer.school_id, MENTION.match(words[at]).group(1)
        )
        if holder is None:
            return _notice("I can't find that person on your school's staff list.")
        pupil_id, holder_id = matches[0].pupil_id, holder.id
    return _assign(runtime, viewer, pupil_id, holder_id, _unescape(reason), today, client)


def open_assign_modal(
    ack: Ack, action: dict, body: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    runtime, viewer = runtime_of(context), viewer_of(context)
    if not viewer.is_sendco or not action["value"].isdigit():
        respond(**_notice(NOT_SENDCO))
        return
    with runtime.unit_of_work() as session:
        pupil = session.get(Pupil, int(action["value"]))
        if pupil is None or pupil.school_id != viewer.school_id:
            respond(**_notice("I couldn't find that pupil."))
            return
        suggestions = team_service.suggest(session, viewer.school_id, pupil.id)
        view = render_json(
            "assign_modal.json.j2",
            pupil_name=pupil.known_as,
            year_group=pupil.year_group,
            area=pupil.primary_area.label if pupil.primary_area else None,
            suggestions=suggestions[:100],
            best=suggestions[0] if suggestions else None,
            meta=json.dumps({"pupil_id": pupil.id}),
        )
    if not suggestions:
        respond(
            **_notice(
                "There is nobody on the SSP team yet. Add case holders with `/ssp team add @name`."
            )
        )
        return
    client.views_open(trigger_id=body["trigger_id"], view=view)


def save_assignment(ack: Ack, view: dict, client: WebClient, context: BoltContext) -> None:
    runtime, viewer = runtime_of(context), viewer_of(context)
    values = view["state"]["values"]
    chosen = ((values.get("holder") or {}).get("value") or {}).get("selected_option") or {}
    reason = ((values.get("reason") or {}).get("value") or {}).get("value")
    pupil_id = json.loads(view.get("private_metadata") or "{}").get("pupil_id")
    if not chosen.get("value", "").isdigit():
        ack(response_action="errors", errors={"holder": "Please choose a case holder."})
        return
    answer = _assign(
        runtime,
        viewer,
        pupil_id,
        int(chosen["value"]),
        reason,
        runtime.today(school_timezone(context)),
        client,
    )
    ack(
        response_action="update",
        view=render_json(
            "plan_notice_modal.json.j2",
            title="Assign a case holder",
            paragraphs=[answer["text"]],
            reload=False,
            meta="{}",
        ),
    )


def propose_all(ack: Ack, context: BoltContext, respond: Respond) -> None:
    ack()
    runtime, viewer = runtime_of(context), viewer_of(context)
    respond(**_proposal(runtime, viewer, runtime.today(school_timezone(context))))


def confirm_all(
    ack: Ack, action: dict, context: BoltContext, respond: Respond, client: WebClient
) -> None:
    """Applies a reviewed proposal. Each pair is checked again: the list may have moved on."""
    ack()
    runtime, viewer = runtime_of(context), viewer_of(context)
    if not viewer.is_sendco:
        respond(**_notice(NOT_SENDCO))
        return
    today = runtime.today(school_timezone(context))
    done, skipped = [], []
    with runtime.unit_of_work() as session:
        waiting = {
            i.pupil_id: i.pupil_name
            for i in team_service.priority_list(session, viewer.school_id, today)
        }
        for pair in action["value"].split(","):
            pupil_id, _, staff_id = pair.partition(":")
            if not (pupil_id.isdigit() and staff_id.isdigit()):
                continue
            if int(pupil_id) not in waiting:
                skipped.append("One pupil has been given a case holder since the proposal.")
                continue
            try:
                assignment = team_service.assign(
                    session,
                    viewer,
                    pupil_id=int(pupil_id),
                    staff_id=int(staff_id),
                    reason="proposed and confirmed",
                    now=runtime.now(),
                    today=today,
                )
            except UserError as refusal:
                skipped.append(f"{escape_mrkdwn(waiting[int(pupil_id)])}: {refusal}")
                continue
            done.append(
                f"{escape_mrkdwn(waiting[int(pupil_id)])} → "
                f"{escape_mrkdwn(assignment.staff.display_name)}"
            )
    if done:
        runtime.deliver_soon(client)
    lines = [f"*Assigned {len(done)} plan{'s' if len(done) != 1 else ''}.*"] + done[:30]
    if skipped:
        lines += [f"*{len(skipped)} skipped:*"] + skipped[:10]
    respond(replace_original=True, **_notice("\n".join(lines)))


# --- helpers ----------------------------------------------------------------------------------


def _proposal(runtime: Runtime, viewer: Viewer, today: date) -> dict:
    with runtime.unit_of_work() as session:
        pairs = team_service.propose_all(session, viewer.school_id, today)
    value = ",".join(f"{item.pupil_id}:{s.staff_id}" for item, s in pairs[:40])
    return _message("auto_proposal.json.j2", pairs=pairs, value=value)


def _assign(
    runtime: Runtime,
    viewer: Viewer,
    pupil_id,
    staff_id: int,
    reason: str | None,
    today: date,
    client: WebClient,
) -> dict:
    try:
        with runtime.unit_of_work() as session:
            assignment = team_service.assign(
                session,
                viewer,
                pupil_id=pupil_id,
                staff_id=staff_id,
                reason=reason,
                now=runtime.now(),
                today=today,
            )
            pupil, holder = assignment.plan.pupil, assignment.staff
            text = (
                f"{escape_mrkdwn(pupil.known_as)} → {escape_mrkdwn(holder.display_name)}. "
                "They'll be asked to accept it."
            )
    except UserError as refusal:
        return _notice(str(refusal))
    runtime.deliver_soon(client)
    return _notice(text)


def _unescape(text: str | None) -> str | None:
    if text is None:
        return None
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _message(template: str, **context) -> dict:
    return {"response_type": "ephemeral", **render_json(template, **context)}


def _notice(text: str) -> dict:
    return {"response_type": "ephemeral", **render_json("notice.json.j2", text=text)}


# --- /ssp subcommands answered here -----------------------------------------------------------

SUBCOMMANDS = (
    Subcommand(
        "team",
        lambda ask: team_command(ask.runtime, ask.client, ask.viewer, ask.words),
        help=(
            Usage(
                "`/ssp team` — the SSP team of case holders; `/ssp team add @name [SEMH Y7 "
                "house]`, `/ssp team remove @name`",
                lambda viewer: viewer.sees_whole_school,
            ),
        ),
    ),
    Subcommand(
        "priority",
        lambda ask: priority_command(ask.runtime, ask.viewer, ask.today, ask.page),
        help=(
            Usage(
                "`/ssp priority` — pupils who need a plan or a case holder, most urgent first, "
                "with Assign buttons",
                lambda viewer: viewer.sees_whole_school,
            ),
        ),
        takes_words=False,
        pages=True,
    ),
    Subcommand(
        "assign",
        lambda ask: assign_command(ask.runtime, ask.client, ask.viewer, ask.words, ask.today),
        help=(
            Usage(
                "`/ssp assign <UPN or name> @case-holder [why]` — delegate a plan; "
                "`/ssp assign auto` proposes case holders for the whole priority list",
                lambda viewer: viewer.sees_whole_school,
            ),
        ),
    ),
)
