"""The SSP team, the priority list and delegation: `/ssp team`, `/ssp priority`, `/ssp assign`,
and the buttons and form that delegate plans from the priority list. Delegating is the SENDCo's
alone: every button and the form check it again, however they were reached.
"""

from __future__ import annotations

import json
import re
from datetime import date

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.access import Viewer
from bot.errors import UserError
from bot.render import escape_mrkdwn, mention, render_json, year_label
from bot.services import assignments, audit
from bot.services import team as team_service
from handlers.context import Ask, Runtime, Subcommand, Usage
from handlers.presenters import joined, pager, plural, pupil_line
from handlers.slack_api import staff_for_slack_user
from handlers.toolkit import (
    NOT_ON_STAFF_LIST,
    NOT_SENDCO,
    UsageError,
    as_int,
    as_typed,
    done_modal,
    find_one_pupil,
    mentioned_user,
    message,
    meta_of,
    notice,
    open_modal,
    page_of,
    requires,
    selected_value,
    text_value,
)
from models import Pupil

PRIORITY_PER_PAGE = 15
PROPOSED_AT_ONCE = 40  # pairs one confirmation assigns: a message's worth
WHOLE_SCHOOL = "The SSP team and the priority list are for the SENDCo and senior leaders."
ONLY_SENDCO_ADDS = "Only the SENDCo adds pupils to the priority list, or changes its order."
MAX_PLACES = 100  # a select's options: past that, the bottom
PRIORITY_BUTTON = re.compile(r"^ssp_priority_(up|down|remove)$")
NO_TEAM_YET = "There is nobody on the SSP team yet. Add case holders with `/ssp team add @name`."


def register(app: App) -> None:
    sendco_only = [requires(lambda viewer: viewer.is_sendco, NOT_SENDCO)]
    app.action("ssp_assign_open", middleware=sendco_only)(open_assign_modal)
    app.action("ssp_assign_auto", middleware=sendco_only)(propose_all)
    adds_only = [requires(lambda viewer: viewer.is_sendco, ONLY_SENDCO_ADDS)]
    app.action("ssp_priority_add", middleware=adds_only)(open_add_form)
    app.view("ssp_priority_add", middleware=adds_only)(save_added)
    app.action(PRIORITY_BUTTON, middleware=adds_only)(move_or_remove)
    app.action("ssp_assign_confirm", middleware=sendco_only)(confirm_all)
    app.view("ssp_assign", middleware=sendco_only)(save_assignment)
    app.action(re.compile(r"^ssp_plan_request_(approve|decline)$"), middleware=sendco_only)(
        answer_request
    )


# --- /ssp team ------------------------------------------------------------------------------


def team_command(ask: Ask) -> dict:
    runtime, viewer = ask.runtime, ask.viewer
    if not ask.words:
        if not viewer.sees_whole_school:
            raise UserError(WHOLE_SCHOOL)
        with runtime.unit_of_work() as session:
            members = team_service.team(session, viewer.school_id)
        return message(
            "team.json.j2",
            summary=f"The SSP team: {len(members)} case holders",
            about=(
                f"{len(members)} case holders, {sum(m.plans for m in members)} plans held. Add "
                "someone with `/ssp team add @name [areas, year groups, house]`; remove with "
                "`/ssp team remove @name`."
            ),
            members=[
                f"*{mention(m.slack_user_id, m.name)}*  "
                f"{joined(plural(m.plans, 'plan'), escape_mrkdwn(m.describe()))}"
                for m in members[:45]
            ],
            more=f"…and {len(members) - 45} more." if len(members) > 45 else None,
        )
    action, rest = ask.words[0].lower(), ask.words[1:]
    slack_user_id = mentioned_user(rest[0]) if rest else None
    if action not in ("add", "remove") or slack_user_id is None:
        raise UsageError(
            "Use `/ssp team`, `/ssp team add @name [areas, year groups, house]` "
            "(e.g. `/ssp team add @name SEMH Y7 Y8`) or `/ssp team remove @name`."
        )
    if not viewer.is_sendco:
        raise UserError(NOT_SENDCO)
    with runtime.unit_of_work() as session:
        staff = staff_for_slack_user(session, ask.client, viewer.school_id, slack_user_id)
        if staff is None:
            raise UserError(f"{NOT_ON_STAFF_LIST}.")
        if action == "remove":
            team_service.remove_from_team(session, viewer, staff, runtime.now())
            return notice(f"{escape_mrkdwn(staff.display_name)} is no longer on the SSP team.")
        preferences = team_service.parse_preferences(session, viewer.school_id, rest[1:])
        member, new = team_service.add_to_team(session, viewer, staff, preferences, runtime.now())
        joined_or_on = "joined the SSP team" if new else "is on the SSP team"
        return notice(
            f"{escape_mrkdwn(member.name)} {joined_or_on}: "
            f"{escape_mrkdwn(member.describe())}, {member.plans} plans held."
        )


# --- /ssp priority --------------------------------------------------------------------------


def priority_command(ask: Ask) -> dict | None:
    if ask.words:
        if ask.words[0].lower() != "add":
            raise UsageError(
                "Use `/ssp priority` to see the list, or `/ssp priority add [UPN or full name]` "
                "to add a pupil to it by hand, with why."
            )
        if not ask.viewer.is_sendco:
            raise UserError(ONLY_SENDCO_ADDS)
        query = " ".join(ask.words[1:])
        with ask.runtime.unit_of_work() as session:
            if query:
                # Checked before the form opens: an unknown pupil, one with a plan or one on
                # the list already is said now, not after the reason is typed.
                team_service.addable(session, ask.viewer, query)
            view = _add_form(session, ask.viewer, query)
        if not ask.trigger_id:
            raise UserError("Type `/ssp priority add` again to open the form.")
        open_modal(ask.client, ask.trigger_id, view, "the form")
        return None
    return _priority_listing(ask.runtime, ask.viewer, ask.today, ask.page)


def _priority_listing(runtime: Runtime, viewer: Viewer, today: date, page: int = 1) -> dict:
    """The priority list in three parts: pupils the SENDCo added by hand (in their order), those
    the school's data says need a plan or a case holder, then the monitoring list. Paged as one
    list; a part's heading is shown on each page it appears on."""
    with runtime.unit_of_work() as session:
        items = team_service.priority_list(
            session, viewer.school_id, today, with_declines=viewer.is_sendco
        )
        monitored = team_service.monitoring_list(session, viewer.school_id)
        rows = [*items, *monitored]
        shown = page_of(rows, page, PRIORITY_PER_PAGE)
        audit.record_shown(
            session,
            viewer,
            via="/ssp priority",
            now=runtime.now(),
            what="priority list",
            pupils=[(getattr(row, "plan_id", None), row.pupil_id) for row in shown.items],
            count=0,
        )
    added = [i for i in items if i.entry_id is not None]
    urgent = [i for i in items if i.entry_id is None]
    sendco = viewer.is_sendco
    parts = {
        "added": (f"*Added by the SENDCo* · {plural(len(added), 'pupil')}, in the SENDCo's order"),
        "urgent": (
            f"*Need a plan or a case holder* · {plural(len(urgent), 'pupil')}, most urgent "
            "first: EHC plans without a support plan, then SEN Support without a plan, then "
            "overdue reviews"
        ),
        "monitoring": (
            f"*Monitoring: need recorded, no SEN stage* · {plural(len(monitored), 'pupil')} "
            "with a need on the roster and SEN stage N, and no plan"
            + (". Add one to the list when they need a plan." if sendco else "")
        ),
    }
    lines, part = [], None
    for row in shown.items:
        kind = (
            "monitoring"
            if isinstance(row, team_service.MonitoredPupil)
            else ("added" if row.entry_id is not None else "urgent")
        )
        if kind != part:
            lines.append({"kind": "heading", "text": parts[kind]})
            part = kind
        if kind == "monitoring":
            lines.append(
                {
                    "kind": "monitoring",
                    "text": f"{pupil_line(row.pupil_name, row.year_group, row.form)}\n"
                    f"Need: {escape_mrkdwn(row.need.label)} ({row.need.value})",
                    "pupil_id": row.pupil_id,
                }
            )
            continue
        text = (
            f"{pupil_line(row.pupil_name, row.year_group, row.form)}\n"
            f"{joined(row.reason, row.primary_area.label if row.primary_area else None)}"
            + _declined(row)
        )
        if kind == "added":
            place = added.index(row)
            text = f"{place + 1}. {text}"
            if row.added_because:
                text += f"\n:pushpin: why: {escape_mrkdwn(row.added_because)}"
            lines.append(
                {
                    "kind": "added",
                    "text": text,
                    "pupil_id": row.pupil_id,
                    "entry_id": row.entry_id,
                    "first": place == 0,
                    "last": place == len(added) - 1,
                    "remove_question": f"Take {row.pupil_name} off the priority list? Their "
                    "place in the list the school's data makes is unaffected.",
                }
            )
        else:
            lines.append({"kind": "urgent", "text": text, "pupil_id": row.pupil_id})
    return message(
        "priority.json.j2",
        summary=(
            f"Priority list: {plural(len(items), 'pupil')} need a plan or a case holder; "
            f"{len(monitored)} on the monitoring list"
        ),
        about=(
            f"{plural(len(items), 'pupil')} need a plan or a case holder"
            + (f" ({len(added)} added by the SENDCo)" if added else "")
            + f", and {len(monitored)} with a recorded need but no SEN stage."
            + (f" Page {shown.page} of {shown.pages}." if shown.pages > 1 else "")
        ),
        lines=lines,
        empty=not items and not monitored,
        can_assign=sendco,
        can_propose=sendco and bool(items),
        pager=pager("priority", shown),
    )


def _declined(item: team_service.PriorityItem) -> str:
    """Who declined the plan and why: the SENDCo's DM about the decline points here."""
    if item.declined_by is None:
        return ""
    why = f": {escape_mrkdwn(item.declined_reason)}" if item.declined_reason else ""
    return f"\n:no_entry_sign: declined by {escape_mrkdwn(item.declined_by)}{why}"


def _add_form(session, viewer: Viewer, query: str) -> dict:
    on_list = team_service.hand_added_count(session, viewer.school_id)
    places = min(on_list + 1, MAX_PLACES)
    return render_json(
        "priority_add_modal.json.j2",
        query=query,
        places=[
            (
                f"{n}" + (" (top)" if n == 1 else "") + (" (bottom)" if n == on_list + 1 else ""),
                n,
            )
            for n in range(1, places + 1)
        ],
        bottom=places,
        reason_length=team_service.REASON_LENGTH,
    )


def open_add_form(
    ack: Ack, action: dict, body: dict, client: WebClient, runtime: Runtime, viewer: Viewer
) -> None:
    """ "Add a pupil" on the priority list, or "Add to list" beside a pupil on the monitoring
    list (its value is the pupil's id, looked for in the viewer's school only)."""
    pupil_id = as_int(action.get("value"))
    with runtime.unit_of_work() as session:
        query = ""
        if pupil_id > 0:
            pupil = session.get(Pupil, pupil_id)
            if pupil is None or pupil.school_id != viewer.school_id:
                raise UserError("I couldn't find that pupil.")
            query = pupil.upn
        view = _add_form(session, viewer, query)
    open_modal(client, body["trigger_id"], view, "the form")


def save_added(ack: Ack, view: dict, runtime: Runtime, viewer: Viewer) -> None:
    values = view["state"]["values"]
    query = text_value(values, "pupil")
    reason = text_value(values, "reason")
    if not query:
        raise UserError("Type the pupil's full name or UPN.", block_id="pupil")
    if not reason:
        raise UserError("Say why this pupil needs to be on the priority list.", block_id="reason")
    position = as_int(selected_value(values, "position"))
    try:
        with runtime.unit_of_work() as session:
            entry = team_service.add_to_priority_list(
                session,
                viewer,
                query,
                reason=reason,
                position=position if position > 0 else None,
                now=runtime.now(),
            )
            done = (
                f"{escape_mrkdwn(entry.pupil.known_as)} is on the priority list at number "
                f"{entry.position}. Assign their plan from `/ssp priority` when you're ready."
            )
    except UserError as refusal:
        raise UserError(str(refusal), block_id=refusal.block_id or "pupil") from None
    ack(response_action="update", view=done_modal("Priority list", done))


def move_or_remove(
    ack: Ack, action: dict, respond: Respond, runtime: Runtime, viewer: Viewer, today: date
) -> None:
    """Move up, Move down and Remove beside a pupil added by hand. The button carries only the
    entry's id; the service looks for it in the viewer's own school."""
    what = PRIORITY_BUTTON.match(action["action_id"]).group(1)
    entry_id = as_int(action.get("value"))
    with runtime.unit_of_work() as session:
        if what == "remove":
            pupil = team_service.remove_from_priority_list(
                session, viewer, entry_id, now=runtime.now()
            )
            said = f"{escape_mrkdwn(pupil.known_as)} is off the priority list."
        else:
            team_service.move_on_priority_list(
                session, viewer, entry_id, up=what == "up", now=runtime.now()
            )
            said = None
    listing = _priority_listing(runtime, viewer, today)
    if said:
        listing["blocks"].insert(1, {"type": "section", "text": {"type": "mrkdwn", "text": said}})
    # Acknowledged only now: a refusal raised above is answered by toolkit.answer_error, which
    # Bolt would drop after an ack.
    ack()
    respond(replace_original=True, **listing)


# --- /ssp assign ----------------------------------------------------------------------------


def assign_command(ask: Ask) -> dict:
    runtime, viewer, words = ask.runtime, ask.viewer, ask.words
    if [w.lower() for w in words] == ["auto"]:
        return _proposal(runtime, viewer, ask.today)
    at = next((n for n, w in enumerate(words) if mentioned_user(w)), None)
    if at is None or at == 0:
        raise UsageError(
            "Use `/ssp assign <UPN or name> @case-holder [why]`, or "
            "`/ssp assign auto` to see proposed case holders for the priority list."
        )
    query, reason = " ".join(words[:at]), " ".join(words[at + 1 :]) or None
    pupil_id = find_one_pupil(runtime, viewer, query, None, via="/ssp assign").pupil_id
    with runtime.unit_of_work() as session:
        holder = staff_for_slack_user(
            session, ask.client, viewer.school_id, mentioned_user(words[at])
        )
        if holder is None:
            raise UserError(f"{NOT_ON_STAFF_LIST}.")
        holder_id = holder.id
    reason = as_typed(reason) if reason else None
    return notice(_assign(runtime, viewer, pupil_id, holder_id, reason, ask.today, ask.client))


def open_assign_modal(
    ack: Ack, action: dict, body: dict, client: WebClient, runtime: Runtime, viewer: Viewer
) -> None:
    """ "Assign" beside a pupil on the priority list: the form, best-placed case holder first."""
    with runtime.unit_of_work() as session:
        pupil = session.get(Pupil, as_int(action.get("value")))
        if pupil is None or pupil.school_id != viewer.school_id:
            raise UserError("I couldn't find that pupil.")
        suggestions = team_service.suggest(session, viewer.school_id, pupil.id)
        if not suggestions:
            raise UserError(NO_TEAM_YET)
        best = suggestions[0]
        area = pupil.primary_area.label if pupil.primary_area else None
        about = joined(f"*{escape_mrkdwn(pupil.known_as)}*", year_label(pupil.year_group), area)
        view = render_json(
            "assign_modal.json.j2",
            about=(f"{about}\nSuggested: *{escape_mrkdwn(best.name)}* ({', '.join(best.reasons)})"),
            options=[(_suggested(s), s.staff_id) for s in suggestions[:100]],
            best=(_suggested(best), best.staff_id),
            meta=json.dumps({"pupil_id": pupil.id}),
        )
    open_modal(client, body["trigger_id"], view)


def save_assignment(
    ack: Ack, view: dict, client: WebClient, runtime: Runtime, viewer: Viewer, today: date
) -> None:
    values = view["state"]["values"]
    holder_id = as_int(selected_value(values, "holder"))
    if holder_id < 0:
        raise UserError("Please choose a case holder.", block_id="holder")
    pupil_id = meta_of(view).get("pupil_id")
    reason = text_value(values, "reason")
    done = _assign(runtime, viewer, pupil_id, holder_id, reason, today, client)
    ack(
        response_action="update",
        view=render_json(
            "plan_notice_modal.json.j2",
            title="Assign a case holder",
            paragraphs=[done],
            reload=False,
            meta="{}",
        ),
    )


def propose_all(ack: Ack, respond: Respond, runtime: Runtime, viewer: Viewer, today: date) -> None:
    """ "Propose case holders for all" on the priority list: the proposal, nothing written yet."""
    proposal = _proposal(runtime, viewer, today)
    ack()
    respond(**proposal)


def confirm_all(
    ack: Ack,
    action: dict,
    respond: Respond,
    client: WebClient,
    runtime: Runtime,
    viewer: Viewer,
    today: date,
) -> None:
    """Applies a reviewed proposal. Each pair is checked again: the list may have moved on."""
    ack()
    done, skipped = [], []
    with runtime.unit_of_work() as session:
        waiting = {
            i.pupil_id: i.pupil_name
            for i in team_service.priority_list(session, viewer.school_id, today)
        }
        for pair in str(action.get("value") or "").split(","):
            pupil_id, staff_id = (as_int(part) for part in pair.partition(":")[::2])
            if pupil_id < 0 or staff_id < 0:
                continue
            if pupil_id not in waiting:
                skipped.append("One pupil has been given a case holder since the proposal.")
                continue
            name = escape_mrkdwn(waiting[pupil_id])
            try:
                assignment = team_service.assign(
                    session,
                    viewer,
                    pupil_id=pupil_id,
                    staff_id=staff_id,
                    reason="proposed and confirmed",
                    now=runtime.now(),
                    today=today,
                )
            except UserError as refusal:
                # One refusal skips that pupil only; the rest of the proposal still goes ahead.
                skipped.append(f"{name}: {refusal}")
                continue
            done.append(f"{name} → {escape_mrkdwn(assignment.staff.display_name)}")
        when = assignments.told_when(session, viewer.school_id, runtime.now())
    if done:
        runtime.deliver_soon(client)
    told = f" Each case holder will be told {when}." if when and done else ""
    lines = [f"*Assigned {plural(len(done), 'plan')}.*{told}", *done[:30]]
    if skipped:
        lines += [f"*{len(skipped)} skipped:*", *skipped[:10]]
    respond(replace_original=True, **notice("\n".join(lines)))


# --- a case holder's request to hold a plan (asked by `/ssp plan new`) ----------------------


def answer_request(
    ack: Ack,
    action: dict,
    respond: Respond,
    client: WebClient,
    runtime: Runtime,
    viewer: Viewer,
    today: date,
) -> None:
    """Approve or Decline on the SENDCo's message. The button carries only the request's id:
    the pupil and the case holder are the stored request's, the SENDCo is who clicked."""
    ack()
    approve = action["action_id"] == "ssp_plan_request_approve"
    try:
        with runtime.unit_of_work() as session:
            request = team_service.answer_plan_request(
                session,
                viewer,
                max(0, as_int(action.get("value"))),
                approve=approve,
                now=runtime.now(),
                today=today,
            )
            pupil, holder = request.pupil.known_as, request.staff.display_name
            when = assignments.told_when(session, viewer.school_id, runtime.now())
        text = (
            f"{escape_mrkdwn(pupil)} → {escape_mrkdwn(holder)}. "
            + (
                f"{escape_mrkdwn(holder)} will be told {when} and asked to accept it."
                if when
                else "They'll be asked to accept it."
            )
            if approve
            else f"Declined: {escape_mrkdwn(holder)} "
            + (f"will be told {when} that" if when else "has been told")
            + f" they won't hold the plan for {escape_mrkdwn(pupil)}."
        )
        runtime.deliver_soon(client)
    except UserError as refusal:
        # Caught here rather than by toolkit.answer_error: the message is replaced whatever the
        # answer, so its buttons (already answered) offer nothing more.
        text = escape_mrkdwn(str(refusal))
    respond(replace_original=True, **notice(text))


# --- helpers ----------------------------------------------------------------------------------


def _proposal(runtime: Runtime, viewer: Viewer, today: date) -> dict:
    with runtime.unit_of_work() as session:
        pairs = team_service.propose_all(session, viewer.school_id, today)
        confirmed = pairs[:PROPOSED_AT_ONCE]
        audit.record_shown(
            session,
            viewer,
            via="/ssp assign auto",
            now=runtime.now(),
            what="proposed case holders",
            pupils=[(item.plan_id, item.pupil_id) for item, _ in confirmed],
            count=0,
        )
    return message(
        "auto_proposal.json.j2",
        summary=f"Proposed case holders for {len(pairs)} pupils",
        pairs=[
            f"*{escape_mrkdwn(item.pupil_name)}* ({year_label(item.year_group)}, {item.reason}) "
            f"→ *{escape_mrkdwn(s.name)}*  _{', '.join(s.reasons)}_"
            for item, s in confirmed
        ],
        more=(
            f"Showing the first {PROPOSED_AT_ONCE} of {len(pairs)}; confirming assigns these "
            f"{PROPOSED_AT_ONCE}. Run it again for the rest."
            if len(pairs) > PROPOSED_AT_ONCE
            else None
        ),
        confirm=f"Confirm {len(confirmed)} assignments",
        value=",".join(f"{item.pupil_id}:{s.staff_id}" for item, s in confirmed),
    )


def _assign(
    runtime: Runtime,
    viewer: Viewer,
    pupil_id,
    staff_id: int,
    reason: str | None,
    today: date,
    client: WebClient,
) -> str:
    """Delegates the pupil's plan (UserError if it can't be); says what was done."""
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
        done = f"{escape_mrkdwn(pupil.known_as)} → {escape_mrkdwn(holder.display_name)}. " + (
            _asked(session, viewer, runtime, holder.display_name)
        )
    runtime.deliver_soon(client)
    return done


def _asked(session, viewer: Viewer, runtime: Runtime, holder: str) -> str:
    """How the new case holder hears of it: now, or when school hours begin (nobody is
    messaged at night or on a closed day)."""
    when = assignments.told_when(session, viewer.school_id, runtime.now())
    if when is None:
        return "They'll be asked to accept it."
    return f"{escape_mrkdwn(holder)} will be told {when} and asked to accept it."


def _suggested(suggestion: team_service.Suggestion) -> str:
    return f"{suggestion.name} · {', '.join(suggestion.reasons)}"


# --- /ssp subcommands answered here -----------------------------------------------------------

SUBCOMMANDS = (
    Subcommand(
        "team",
        team_command,
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
        priority_command,
        help=(
            Usage(
                "`/ssp priority` — pupils who need a plan or a case holder, most urgent first, "
                "with Assign buttons, and the monitoring list (a need recorded, no SEN stage)",
                lambda viewer: viewer.sees_whole_school,
            ),
            Usage(
                "`/ssp priority add [UPN or full name]` — put a pupil on the priority list by "
                "hand, with why, at the place you choose",
                lambda viewer: viewer.is_sendco,
            ),
        ),
        allowed=lambda viewer: viewer.sees_whole_school,
        refusal=WHOLE_SCHOOL,
        pages=True,
    ),
    Subcommand(
        "assign",
        assign_command,
        help=(
            Usage(
                "`/ssp assign <UPN or name> @case-holder [why]` — delegate a plan; "
                "`/ssp assign auto` proposes case holders for the whole priority list",
                lambda viewer: viewer.sees_whole_school,
            ),
        ),
        allowed=lambda viewer: viewer.is_sendco,
        refusal=NOT_SENDCO,
    ),
)
