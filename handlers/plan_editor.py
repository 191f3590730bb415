"""Writing the plan in Slack: the plan in a modal, each section in a form pushed on top of it.

Stack: the plan (1) → a list section's entries (2) → one entry's form (3), Slack's limit of
three. Single sections (dates, voice, family) open their form at level 2. The plan version
travels in private_metadata, so a save based on an old version is refused, never applied.

Who may do what: opening a plan is for its writers and senior leaders, everything inside the
modal for its writers (role middleware at registration); which plan is decided by the services'
SQL predicates, so a plan someone may not see reads as one that isn't there.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import object_session

from bot.access import Viewer, visible_pupils
from bot.errors import UserError
from bot.render import escape_mrkdwn, render_json, uk_date, year_label
from bot.services import agreement_status, attachments, meeting, qa
from bot.services import plan_editing as editing
from bot.services import provision_library as library
from bot.services import team as team_service
from bot.services.plan_document import sharing_of
from bot.services.plans import PlanChanged
from bot.slack_limits import MAX_SELECT_OPTIONS
from handlers import plan_views
from handlers.context import Ask, Runtime, Subcommand, Usage, after_the_ack
from handlers.presenters import consent_withdrawn, pupil_flags
from handlers.toolkit import (
    PupilButton,
    UsageError,
    as_int,
    as_typed,
    find_one_pupil,
    meta_json,
    meta_of,
    notice,
    open_modal,
    page_of,
    requires,
    update_modal,
)
from models import PlanStatus, Pupil

log = logging.getLogger(__name__)

ENTRIES_PER_PAGE = 20
LONG_CONTINUE_AT = 2700  # offer a continuation box once a text nears Slack's 3,000 characters
CONTINUED_HINT = "Carries on from the box above: Slack fits 3,000 characters in one box."
READ_ONLY = (
    "Only the SENDCo and the plan's case holder can open a plan to change it. "
    "`/ssp pupil` shows you what you need."
)
NOT_A_WRITER = str(editing.NotAllowedToEdit())
CANNOT_START = "Only the SENDCo and case holders can start a plan."
SENDCO_STARTS = "Only the SENDCo starts plans: ask them with `/ssp plan new <full name or UPN>`."
NO_PLAN_YET = "{name} has no SEN Support Plan yet. Start one with `/ssp plan new {upn}`."
NO_PLAN_YET_ASK = (
    "{name} has no SEN Support Plan yet. To hold it, ask the SENDCo with `/ssp plan new {upn}`."
)
ASKED = (
    "I've asked the SENDCo to let you hold the plan for “{query}”. If they agree, you'll get "
    "a message asking you to accept it."
)
NOT_VISIBLE = "I couldn't find that pupil among the pupils you can see."
GONE = "That plan can't be found any more: it may have been closed."
NO_PUPIL_WITHOUT_PLAN = (
    "No pupil without a plan matches “{query}”. If they already have one, open it with "
    "`/ssp plan <name>`."
)
CANNOT_READ_WHOLE = (
    "I can't show you that: only the SENDCo, senior leaders and the plan's case holder can "
    "read a whole plan, and only while it is open. `/ssp pupil` shows you what you need."
)
READ_ALL = "plan_read_section"
SHOWN_PER_FIELD = 150  # characters of each text the plan's overview shows; "Read all" shows all
SHOWN_ENTRIES = 5  # entries of a list section the overview shows
SHOWN_CYCLES = 3  # earlier cycles whose targets the overview shows
READ_BLOCK = 2900  # characters a section block of the "Read all" modal holds (Slack: 3,000)
READ_BLOCKS_PER_PAGE = 40  # far within Slack's 100 blocks a modal
OPEN_PLAN = PupilButton("ssp_open_plan", "Open plan")
START_PLAN = PupilButton("ssp_start_plan", "Start plan")
VIA = "/ssp plan"
ATTACHMENTS_SHOWN = 40  # attached files listed under Reports (a modal holds 100 blocks)
ATTACHMENTS_ON_OVERVIEW = 5  # the newest attached files the overview lists; "Read all", all


def register(app: App) -> None:
    opens = [requires(lambda viewer: viewer.opens_plans, READ_ONLY)]
    starts = [requires(lambda viewer: viewer.is_sendco, SENDCO_STARTS)]
    writes = [requires(lambda viewer: viewer.writes_plans, NOT_A_WRITER)]
    plan_views.provide_reports(fresh_reports)
    app.action("ssp_open_plan", middleware=opens)(open_from_button)
    app.action("ssp_start_plan", middleware=starts)(start_from_button)
    app.action("plan_open_section", middleware=writes)(open_section)
    app.action("plan_add_item", middleware=writes)(add_item)
    app.action("plan_edit_item", middleware=writes)(edit_item)
    for action_id in ("plan_section_page_previous", "plan_section_page_next", "plan_section_page"):
        app.action(action_id, middleware=writes)(turn_section_page)
    app.action("plan_reload", middleware=writes)(reload_form)
    # No role middleware: the listener decides, from the verified request, and audits both a
    # read and a refusal (a role check there would turn a forged click away unrecorded).
    for action_id in (READ_ALL, f"{READ_ALL}_previous", f"{READ_ALL}_next"):
        app.action(action_id)(read_section)
    app.view("plan_form", middleware=writes)(save_form)
    # A menu of more than Slack's 100 options is searched as the person types (block_suggestion):
    # over HTTP, Slack sends those to the manifest's interactivity message_menu_options_url.
    app.options("value", matchers=[_in_plan_form], middleware=writes)(suggest_choices)


# --- /ssp plan and message buttons ----------------------------------------------------------


def plan_command(ask: Ask) -> dict | None:
    """`/ssp plan <pupil>` opens their plan; `/ssp plan new <pupil>` starts one."""
    first, rest = (ask.words[0].lower(), ask.words[1:]) if ask.words else ("", [])
    if not first or (first == "new" and not rest):
        raise UsageError(
            "Say which pupil: `/ssp plan <UPN or name>`, or "
            "`/ssp plan new <UPN or name>` to start one."
        )
    if first == "new":
        return _start_for_query(ask, " ".join(rest))
    choice = find_one_pupil(ask.runtime, ask.viewer, " ".join(ask.words), OPEN_PLAN, via=VIA)
    if choice.pupil_id is None:
        return choice.choices
    _open_plan(ask.runtime, ask.client, ask.viewer, choice.pupil_id, ask.trigger_id, ask.today)
    return None


def open_from_button(
    ack: Ack,
    action: dict,
    body: dict,
    client: WebClient,
    runtime: Runtime,
    viewer: Viewer,
    today: date,
) -> None:
    if action["value"].isdigit():
        _open_plan(runtime, client, viewer, int(action["value"]), body["trigger_id"], today)


def start_from_button(
    ack: Ack,
    action: dict,
    body: dict,
    client: WebClient,
    runtime: Runtime,
    viewer: Viewer,
    today: date,
) -> None:
    if action["value"].isdigit():
        _start(runtime, client, viewer, int(action["value"]), body["trigger_id"], today)


def _start_for_query(ask: Ask, query: str) -> dict | None:
    """The SENDCo starts a plan; a case holder asks the SENDCo for one (guidance §4.3: the
    SENDCo decides who holds each plan), and is never shown a list of pupils to pick from."""
    if not ask.viewer.writes_plans:
        raise UserError(CANNOT_START)
    if not ask.viewer.is_sendco:
        typed = escape_mrkdwn(as_typed(query)[:80])
        with ask.runtime.unit_of_work() as session:
            team_service.request_plan(session, ask.viewer, as_typed(query), now=ask.runtime.now())
        ask.runtime.deliver_soon(ask.client)
        return notice(ASKED.format(query=typed))
    choice = find_one_pupil(
        ask.runtime,
        ask.viewer,
        query,
        START_PLAN,
        via="/ssp plan new",
        find=editing.find_pupils_for_new_plan,
        not_found=NO_PUPIL_WITHOUT_PLAN,
    )
    if choice.pupil_id is None:
        return choice.choices
    _start(ask.runtime, ask.client, ask.viewer, choice.pupil_id, ask.trigger_id, ask.today)
    return None


def _open_plan(
    runtime: Runtime, client, viewer: Viewer, pupil_id: int, trigger_id, today: date
) -> None:
    with runtime.unit_of_work() as session:
        plan = editing.load_plan(session, viewer, pupil_id, via=VIA, now=runtime.now())
        if plan is None:
            refusal = _no_plan(session, viewer, pupil_id)
        elif not (viewer.sees_whole_school or editing.can_edit(viewer, plan)):
            refusal = READ_ONLY
        else:
            refusal, view = None, _overview(plan, viewer, today)
    # Raised once the unit of work is over: the read stays on the audit log.
    if refusal is not None:
        raise UserError(refusal)
    open_modal(client, trigger_id, view, "the plan")


def _start(runtime: Runtime, client, viewer: Viewer, pupil_id: int, trigger_id, today) -> None:
    with runtime.unit_of_work() as session:
        plan = editing.start_plan(session, viewer, pupil_id, now=runtime.now(), today=today)
        view = _overview(plan, viewer, today)
    open_modal(client, trigger_id, view, "the plan")


# --- inside the plan modal --------------------------------------------------------------------
# A plan that can't be changed any more (closed, or no longer this person's) makes these
# buttons do nothing: the modal they are in is simply out of date.


def open_section(
    ack: Ack, action: dict, body: dict, client: WebClient, runtime: Runtime, viewer: Viewer
) -> None:
    meta = meta_of(body["view"])
    section = editing.SECTIONS.get(action["value"])
    view = None
    if section is not None:
        with _editable(runtime, viewer, meta.get("pupil_id")) as plan:
            if plan is not None:
                view = (
                    _section_list(plan, section, page=1)
                    if section.is_list
                    else _form(plan, section, item_id=None, list_page=None)
                )
    if view is not None:
        open_modal(client, body["trigger_id"], view, push=True)


def add_item(ack: Ack, body: dict, client: WebClient, runtime: Runtime, viewer: Viewer) -> None:
    meta = meta_of(body["view"])
    view = None
    with _editable(runtime, viewer, meta.get("pupil_id")) as plan:
        if plan is not None:
            section = editing.SECTIONS[meta["section"]]
            view = _form(plan, section, item_id=None, list_page=meta.get("page", 1))
    if view is not None:
        open_modal(client, body["trigger_id"], view, push=True)


def edit_item(
    ack: Ack, action: dict, body: dict, client: WebClient, runtime: Runtime, viewer: Viewer
) -> None:
    meta = meta_of(body["view"])
    view = None
    with _editable(runtime, viewer, meta.get("pupil_id")) as plan:
        section = editing.SECTIONS[meta["section"]] if plan is not None else None
        item_id = as_int(action["value"])
        # An entry of another plan, say, is not among this plan's: nothing happens.
        if section is not None and item_id in _item_ids(plan, section):
            view = _form(plan, section, item_id=item_id, list_page=meta.get("page", 1))
    if view is not None:
        open_modal(client, body["trigger_id"], view, push=True)


def turn_section_page(
    ack: Ack, action: dict, body: dict, client: WebClient, runtime: Runtime, viewer: Viewer
) -> None:
    meta = meta_of(body["view"])
    page = int(action["value"]) if action["value"].isdigit() else 1
    view = None
    with _editable(runtime, viewer, meta.get("pupil_id")) as plan:
        if plan is not None:
            view = _section_list(plan, editing.SECTIONS[meta["section"]], page=page)
    if view is not None:
        update_modal(client, body["view"], view)


def reload_form(ack: Ack, body: dict, client: WebClient, runtime: Runtime, viewer: Viewer) -> None:
    meta = meta_of(body["view"])
    view = None
    with _editable(runtime, viewer, meta.get("pupil_id")) as plan:
        if plan is not None:
            section = editing.SECTIONS[meta["section"]]
            item_id = meta.get("item_id")
            if item_id not in _item_ids(plan, section):
                item_id = None
            view = _form(plan, section, item_id=item_id, list_page=meta.get("list_page"))
    if view is not None:
        update_modal(client, body["view"], view)


def read_section(
    ack: Ack, action: dict, body: dict, client: WebClient, runtime: Runtime, viewer: Viewer
) -> None:
    """ "Read all": one section of the plan, whole, in a read-only modal pushed on the plan (a
    page turned in place). The button names the plan and section; whether this person may read
    it is decided here from the verified request, and audited, at every click."""
    plan_id, key, page = _read_value(action.get("value"))
    section = editing.SECTIONS.get(key)
    view = None
    if section is not None:
        with runtime.unit_of_work() as session:
            plan = editing.load_plan_to_read(
                session, viewer, plan_id, section_key=section.key, via=VIA, now=runtime.now()
            )
            if plan is not None:
                files = _attached(plan) if attachments.may_read(viewer, plan) else []
                view = _whole_section_view(plan, section, page, files=files)
        # Raised once the unit of work is over: the refusal stays on the audit log.
        if view is None:
            raise UserError(CANNOT_READ_WHOLE)
        if action["action_id"] == READ_ALL:
            open_modal(client, body["trigger_id"], view, "the section", push=True)
        else:
            update_modal(client, body["view"], view)


def _read_value(value) -> tuple[int, str, int]:
    """A "Read all" button's value, "plan id:section[:page]"; nonsense reads as no plan."""
    parts = str(value or "").split(":")
    page = as_int(parts[2]) if len(parts) > 2 else 1
    return as_int(parts[0]), parts[1] if len(parts) > 1 else "", max(page, 1)


def _in_plan_form(body: dict) -> bool:
    return (body.get("view") or {}).get("callback_id") == "plan_form"


def suggest_choices(ack: Ack, payload: dict, body: dict, runtime: Runtime, viewer: Viewer) -> None:
    """The options of a long "towards which outcome/target" menu that match what was typed."""
    meta = meta_of(body["view"])
    section = editing.SECTIONS.get(meta.get("section"))
    field = next(
        (f for f in (section.fields if section else ()) if f.name == payload.get("block_id")),
        None,
    )
    typed = " ".join(str(payload.get("value") or "").lower().split())
    found: list[tuple[str, str]] = []
    if field is not None and field.kind == "select":
        with runtime.unit_of_work() as session:
            plan = editing.load_plan(
                session,
                viewer,
                as_int(meta.get("pupil_id")),
                via=VIA,
                now=runtime.now(),
                audit_read=False,  # the form this menu is in was audited when it opened
            )
            if (
                plan is not None
                and plan.id == meta.get("plan_id")
                and editing.can_edit(viewer, plan)
            ):
                found = [c for c in editing.choices_for(plan, field) if typed in c[1].lower()]
    ack(options=render_json("plan_choices.json.j2", choices=found[:MAX_SELECT_OPTIONS])["options"])


def save_form(
    ack: Ack,
    view: dict,
    client: WebClient,
    runtime: Runtime,
    viewer: Viewer,
    today: date,
) -> None:
    meta = meta_of(view)
    section = editing.SECTIONS[meta["section"]]
    state = view["state"]["values"]
    remove = bool(_value(state, "remove", "checkbox"))
    values = _read(section, state)
    with runtime.unit_of_work() as session:
        plan = editing.load_plan(
            session, viewer, meta["pupil_id"], via=VIA, now=runtime.now(), audit_read=False
        )
        if plan is None or plan.id != meta["plan_id"]:
            raise UserError(GONE)
        problems = (
            {}
            if remove
            else editing.validate(
                section, values, plan, editing.calendar_for(session, plan, section)
            )
        )
    if problems:
        ack(
            response_action="errors",
            errors={_block_for(section, name): message for name, message in problems.items()},
        )
        return
    try:
        with runtime.unit_of_work() as session:
            result = editing.save(
                session,
                viewer,
                plan_id=meta["plan_id"],
                expected_version=meta["version"],
                section_key=section.key,
                item_id=meta.get("item_id"),
                values=None if remove else values,
                via=VIA,
                now=runtime.now(),
                ended_on=today,
                ended_reason=_value(state, "ended_reason", "text"),
            )
            pupil_id = result.plan.pupil_id
    except PlanChanged as changed:
        # Not only a message: what they typed is shown to copy, with a button to reload.
        ack(response_action="update", view=_conflict(changed, section, values, meta))
        return
    if result.unexplained_acronyms:
        ack(response_action="update", view=_acronym_notice(result, meta))
    else:
        ack()
    # On a thread of its own: a listener that fails after acknowledging loses its
    # acknowledgement in Bolt, and the saved form would go unanswered.
    after_the_ack(
        lambda: _refresh_parents(runtime, client, viewer, view, meta, pupil_id, today),
        "refresh-plan-views",
    )


# --- views ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SectionRow:
    """One section on the plan's overview: its text, what its button says, and whether some of
    it is cut short there (then a "Read all" button, carrying `read_value`, shows it whole).
    `earlier` is the targets' earlier cycles, under their own heading."""

    key: str
    text: str
    button: str
    read_value: str | None = None
    earlier: str | None = None


@dataclass(frozen=True)
class FormInput:
    """One input of a section's form, as plan_form.json.j2 lays it out."""

    block_id: str
    label: str
    kind: str
    required: bool = False
    hint: str | None = None
    initial: Any = None
    options: tuple = ()
    max_length: int = 0
    option_label: str = ""
    # More choices than a menu holds: the menu searches them as the person types instead.
    searched: bool = False


def _overview(plan, viewer: Viewer, today: date) -> dict:
    editable = editing.can_edit(viewer, plan)
    withdrawal = sharing_of(plan.consents, today).withdrawal
    qa_comments = qa.open_comments(plan)
    cycles = editing.targets_by_cycle(plan)
    # Only staff who may have the files back see them listed (the overview is shown to no one
    # else today; checked here too, so a wider overview could never list them).
    files = _attached(plan) if attachments.may_read(viewer, plan) else []
    more_files = max(0, len(files) - ATTACHMENTS_ON_OVERVIEW)
    return render_json(
        "plan_overview.json.j2",
        pupil_name=plan.pupil.known_as,
        about=_about(plan.pupil),
        status=_status(plan),
        withdrawn=consent_withdrawn(withdrawal) if withdrawal is not None else None,
        agreement=_agreement(plan),
        editable=editable,
        send_for_qa=editable and plan.status == PlanStatus.DRAFT,
        # Only the SENDCo closes plans (handlers.closure refuses anyone else's click too).
        closable=viewer.is_sendco,
        pupil_id=str(plan.pupil_id),
        plan_id=str(plan.id),
        sections=[
            _section_row(plan, s, cycles, editable, files_not_shown=more_files)
            for s in editing.SECTIONS.values()
        ],
        attached=files[:ATTACHMENTS_ON_OVERVIEW],
        more_attached=more_files,
        qa_comments=escape_mrkdwn(qa_comments) if qa_comments else None,
        qa_sections=qa.sections_concerned(qa_comments),
        meeting=meeting_line(meeting.summary_of(plan, viewer)),
        meta=meta_json(plan_id=plan.id, pupil_id=plan.pupil_id, version=plan.version),
    )


def meeting_line(summary: meeting.Summary | None) -> str | None:
    """The review meeting and the family's latest answer, for the case holder or a SENDCo."""
    if summary is None:
        return None
    details = summary.details
    lines = [f"*Review meeting:* {escape_mrkdwn(details.said)}"]
    if details.call_link:
        lines.append(f"Call link: {escape_mrkdwn(details.call_link)}")
    if details.who_is_coming:
        lines.append(f"Coming: {escape_mrkdwn(details.who_is_coming)}")
    lines.append(f"_{escape_mrkdwn(summary.answer)}_")
    return "\n".join(lines)


def _agreement(plan) -> str | None:
    """The family's answer on the agreement page, and whether the plan has changed since."""
    status = agreement_status.of_plan(plan)
    if status is None:
        return None
    mark = ":white_check_mark:" if status.agreed and status.current else ":information_source:"
    return f"{mark} {escape_mrkdwn(status.words)}"


def _about(pupil) -> str:
    """Year, form, birthday, SEN stage and what else staff should keep in mind, on one line."""
    flags = pupil_flags(pupil, capitalised=False)
    year = year_label(pupil.year_group)
    if not pupil.taught_in_year_group:
        year += " (not taught in year group)"
    parts = [
        year,
        f"form {escape_mrkdwn(pupil.form)}" if pupil.form else None,
        f"born {uk_date(pupil.date_of_birth)}",
        pupil.sen_stage.label,
        ", ".join(flags) if flags else None,
    ]
    return " · ".join(part for part in parts if part)


def _status(plan) -> str:
    holder = escape_mrkdwn(plan.case_holder.display_name) if plan.case_holder else "none yet"
    return (
        f"*Plan {plan.cycle_number}* in the APDR cycle · {plan.status.label} · "
        f"next review {uk_date(plan.review_date)} · case holder {holder}"
    )


def _section_row(
    plan, section, cycles: editing.TargetCycles, editable: bool, files_not_shown: int = 0
) -> SectionRow:
    summary, cut = _summary(plan, section, cycles)
    earlier, earlier_cut = _earlier_cycles(cycles) if section.key == "targets" else (None, False)
    if section.key == "provision":
        earlier, earlier_cut = _tried_before(plan)
    text = f"*{section.title}*\n{summary or '_Nothing yet._'}"
    if section.key == "needs" and not plan.needs:
        roster = _roster_needs(plan, editable)
        if roster:
            text += f"\n{roster}"
    return SectionRow(
        key=section.key,
        text=text,
        button="Edit" if summary else "Add",
        read_value=(
            f"{plan.id}:{section.key}"
            if cut or earlier_cut or (section.key == "reports" and files_not_shown)
            else None
        ),
        earlier=earlier,
    )


def _roster_needs(plan, editable: bool) -> str | None:
    """The roster's census needs, as the starting point of a plan whose needs are not written
    yet: labelled as the roster's, so nobody takes them for the plan's own."""
    needs = editing.roster_needs(plan.pupil)
    if not needs:
        return None
    listed_needs = ", ".join(
        f"{n.code.value} ({'primary' if n.primary else 'secondary'})" for n in needs
    )
    take = (
        " Press Add to take them into the plan, one at a time: the form starts with the "
        "roster's code, and nothing is saved until you press Save."
        if editable
        else ""
    )
    return f":clipboard: From the school roster: {listed_needs}.{take}"


def _section_list(plan, section, page: int) -> dict:
    if section.key == "targets":
        # Earlier cycles' targets are the reviews' record: read on the plan, not edited here.
        cycles = editing.targets_by_cycle(plan)
        entries = [(c.target, _current_target(c, whole=False)) for c in cycles.current]
    else:
        entries = [(e, _clip(section.summary(e))) for e in editing.items(plan, section)]
    shown = page_of(entries, page, ENTRIES_PER_PAGE)
    heading = f"{escape_mrkdwn(plan.pupil.known_as)} · {shown.total} " + (
        "entry" if shown.total == 1 else "entries"
    )
    if shown.pages > 1:
        heading += f" · page {shown.page} of {shown.pages}"
    if section.key == "provision" and plan.ended_provisions:
        ended = len(plan.ended_provisions)
        heading += f" · {ended} ended, kept under “Tried before” on the plan"
    extra = {"attached": _attached(plan)} if section.key == "reports" else {}
    return render_json(
        "plan_section_list.json.j2",
        **extra,
        section=section,
        heading=heading,
        entries=[(str(e.id), text) for e, text in shown.items],
        previous_page=str(shown.page - 1) if shown.page > 1 else None,
        next_page=str(shown.page + 1) if shown.page < shown.pages else None,
        meta=meta_json(
            plan_id=plan.id,
            pupil_id=plan.pupil_id,
            version=plan.version,
            section=section.key,
            page=shown.page,
        ),
    )


def _attached(plan) -> list[tuple[str, str]]:
    """The files attached to the plan (bot.services.attachments): title, kind, who, when. Their
    buttons ("Get a download link") are handlers.attachments'."""
    rows = []
    for entry in attachments.listed(object_session(plan), plan.id)[:ATTACHMENTS_SHOWN]:
        about = f" · for _{escape_mrkdwn(entry.report_title)}_" if entry.report_title else ""
        rows.append(
            (
                str(entry.attachment_id),
                f":paperclip: *{escape_mrkdwn(entry.title)}* · {entry.kind_label}{about}\n"
                f"Attached by {escape_mrkdwn(entry.by)}, {uk_date(entry.uploaded_at.date())}",
            )
        )
    return rows


def _whole_section_view(plan, section, page: int, *, files: list[tuple[str, str]]) -> dict:
    """The section in full, in section blocks of at most READ_BLOCK characters, paged. The
    Reports' attached `files` (with their download buttons) follow on the last page."""
    shown = page_of(_blocks_of(_whole_section(plan, section)), page, READ_BLOCKS_PER_PAGE)
    heading = f"{escape_mrkdwn(plan.pupil.known_as)} · plan {plan.cycle_number} · read only"
    if shown.pages > 1:
        heading += f" · page {shown.page} of {shown.pages}"
    value = f"{plan.id}:{section.key}"
    return render_json(
        "plan_read_section.json.j2",
        title=section.title,
        heading=heading,
        blocks=shown.items or ["_Nothing yet._"],
        attached=files if section.key == "reports" and shown.page == shown.pages else None,
        previous_page=f"{value}:{shown.page - 1}" if shown.page > 1 else None,
        next_page=f"{value}:{shown.page + 1}" if shown.page < shown.pages else None,
        prefix=READ_ALL,
        meta=meta_json(plan_id=plan.id, pupil_id=plan.pupil_id, section=section.key),
    )


def _whole_section(plan, section) -> list[str]:
    """Every field of the section (of every entry of a list section), unclipped, as mrkdwn
    paragraphs."""
    if section.key == "targets":
        return _whole_targets(plan, section)
    if not section.is_list:
        values = editing.current_values(plan, section, None)
        return [
            f"*{f.label}*\n{_shown_value(plan, f, values.get(f.name))}"
            for f in section.fields
            if values.get(f.name)
        ]
    entries = [_whole_entry(plan, section, entry) for entry in editing.items(plan, section)]
    if section.key == "provision":
        entries += _tried_before_whole(plan)
    return entries


def _whole_targets(plan, section) -> list[str]:
    cycles = editing.targets_by_cycle(plan)
    paragraphs = [f"*This cycle: plan {plan.cycle_number}*"]
    paragraphs += [
        _whole_entry(plan, section, c.target, first=_current_target(c, whole=True))
        for c in cycles.current
    ] or ["_No targets yet._"]
    if cycles.earlier:
        paragraphs.append("*Earlier cycles*")
    for cycle, ended in cycles.earlier:
        paragraphs.append(f"_Plan {cycle}_")
        paragraphs += [
            _whole_entry(plan, section, e.target, first=_ended_target(e, whole=True)) for e in ended
        ]
    return paragraphs


def _whole_entry(plan, section, entry, first: str | None = None) -> str:
    values = editing.current_values(plan, section, entry.id)
    lines = [f"• {first}"] if first else []
    for f in section.fields:
        if first and f.name in ("description", "status"):
            continue  # already in the first line
        if values.get(f.name):
            lines.append(f"*{f.label}:* {_shown_value(plan, f, values[f.name])}")
    if not first and lines:
        lines[0] = f"• {lines[0]}"
    return "\n".join(lines)


def _shown_value(plan, f, value) -> str:
    if isinstance(value, date):
        return uk_date(value)
    if f.kind == "checkbox":
        return "Yes"
    if f.kind == "select":
        value = dict(editing.choices_for(plan, f)).get(str(value), str(value))
    return escape_mrkdwn(str(value).strip())


def _blocks_of(paragraphs: list[str]) -> list[str]:
    """Paragraphs packed into texts of at most READ_BLOCK characters; a longer paragraph is cut
    between words (never inside an escaped "&amp;")."""
    blocks: list[str] = []
    for paragraph in paragraphs:
        while len(paragraph) > READ_BLOCK:
            cut = max(paragraph.rfind("\n", 0, READ_BLOCK), paragraph.rfind(" ", 0, READ_BLOCK))
            if cut < READ_BLOCK // 2:
                amp = paragraph.rfind("&", READ_BLOCK - 6, READ_BLOCK)
                cut = amp if amp > 0 else READ_BLOCK
            blocks.append(paragraph[:cut])
            paragraph = paragraph[cut:].lstrip(" ")
        if blocks and len(blocks[-1]) + 2 + len(paragraph) <= READ_BLOCK:
            blocks[-1] += "\n\n" + paragraph
        else:
            blocks.append(paragraph)
    return [b for b in blocks if b.strip()]


def _form(plan, section, *, item_id: int | None, list_page: int | None) -> dict:
    values = editing.current_values(plan, section, item_id)
    inputs = [i for f in section.fields for i in _inputs_for(plan, f, values.get(f.name))]
    if item_id is not None and section.key == "provision":
        # Ended, not deleted: it stays on the plan under "Tried before".
        inputs.append(
            FormInput(
                "remove",
                "End it",
                "checkbox",
                option_label="End this provision today (it is kept under “Tried before”)",
            )
        )
        inputs.append(
            FormInput(
                "ended_reason",
                "If you end it: why",
                "text",
                hint="e.g. target achieved, moved to a different intervention. Staff only.",
                max_length=300,
            )
        )
    elif item_id is not None:
        inputs.append(
            FormInput("remove", "Remove", "checkbox", option_label="Remove this from the plan")
        )
    what = "a new entry" if section.is_list and item_id is None else "this section"
    intro = (
        f"{escape_mrkdwn(plan.pupil.known_as)}: {what}. Saved when you press Save; "
        "Cancel keeps the plan as it was."
    )
    roster = editing.suggested_need(plan) if section.key == "needs" and item_id is None else None
    if roster is not None:
        intro += (
            f"\n:clipboard: Started from the school roster: {roster.code.value} "
            f"({'primary' if roster.primary else 'secondary'}). Describe the need in plain words."
        )
    return render_json(
        "plan_form.json.j2",
        title=section.title,
        inputs=inputs,
        intro=intro,
        meta=meta_json(
            plan_id=plan.id,
            pupil_id=plan.pupil_id,
            version=plan.version,
            section=section.key,
            item_id=item_id,
            list_page=list_page,
        ),
    )


def _inputs_for(plan, f, value) -> list[FormInput]:
    """A field's inputs: one, or for a long text as many boxes as it needs (and one more when
    the last is nearly full); none for a choice with nothing to choose from yet (e.g. "towards
    which outcome" before any outcome exists)."""
    if f.kind == "long":
        pieces = editing.split_long(value)
        if len(pieces[-1]) >= LONG_CONTINUE_AT:
            pieces.append("")
        return [
            FormInput(
                block_id=f"{f.name}--{n}",
                label=f.label if n == 0 else f"{f.label} (continued)",
                kind="long",
                required=f.required and n == 0,
                hint=f.hint if n == 0 else CONTINUED_HINT,
                initial=piece,
                max_length=editing.MAX_TEXT,
            )
            for n, piece in enumerate(pieces)
        ]
    options = editing.choices_for(plan, f) if f.kind == "select" else ()
    if f.kind == "select" and not options:
        return []
    searched = len(options) > MAX_SELECT_OPTIONS
    hint = f.hint
    if searched:
        hint = f"Type a few words of it to find it among {len(options)}."
    return [
        FormInput(
            block_id=f.name,
            label=f.label,
            kind="text" if f.kind == "measure" else f.kind,
            required=f.required,
            hint=hint,
            initial=value.isoformat() if isinstance(value, date) else value,
            # A searched menu is sent only the option already chosen.
            options=tuple(o for o in options if o[0] == value) if searched else options,
            max_length=min(f.max_length, editing.MAX_TEXT),
            option_label=f.label,
            searched=searched,
        )
    ]


def _conflict(changed: PlanChanged, section, values: dict[str, Any], meta: dict) -> dict:
    typed = [
        f"*{f.label}*\n{escape_mrkdwn(values[f.name])}"
        for f in section.fields
        if f.kind in ("text", "long") and values.get(f.name)
    ]
    paragraphs = [f"*Not saved.* {escape_mrkdwn(changed)}"]  # it names who saved first
    if typed:
        paragraphs.append("Here is what you wrote, so you can copy it into the latest version:")
        paragraphs += typed[:20]
    return _notice_modal("Not saved", paragraphs, reload=True, meta=meta)


def _acronym_notice(result, meta: dict) -> dict:
    listed = ", ".join(result.unexplained_acronyms)
    first = result.unexplained_acronyms[0]
    qa = " The plan now goes to the SENDCo for quality assurance." if result.sent_for_qa else ""
    return _notice_modal(
        "Saved",
        [
            f"*Saved.*{qa}",
            f"These acronyms aren't explained in the school's glossary yet: *{listed}*. "
            "Families may not know them: spell them out in the plan, or add them with "
            f'`/ssp glossary add {first} "what it means"`.',
        ],
        meta=meta,
    )


def _notice_modal(
    title: str, paragraphs: list[str], *, reload: bool = False, meta: dict | None = None
) -> dict:
    """A notice in place of the form; with `reload`, a button to open the latest version."""
    return render_json(
        "plan_notice_modal.json.j2",
        title=title,
        paragraphs=paragraphs,
        reload=reload,
        meta=json.dumps(meta or {}),
    )


def fresh_reports(
    runtime: Runtime, viewer: Viewer, pupil_id, today: date, *, list_page: int = 1
) -> tuple[dict, dict] | None:
    """The plan's overview and its Reports list as they are now (after a file was attached,
    handlers.attachments), if the viewer may still change the plan; None otherwise."""
    with runtime.unit_of_work() as session:
        plan = editing.load_plan(
            session, viewer, as_int(pupil_id), via=VIA, now=runtime.now(), audit_read=False
        )
        if plan is None or not editing.can_edit(viewer, plan):
            return None
        return (
            _overview(plan, viewer, today),
            _section_list(plan, editing.SECTIONS["reports"], list_page),
        )


def _refresh_parents(
    runtime, client, viewer, view: dict, meta: dict, pupil_id: int, today: date
) -> None:
    """Shows the saved change (and the new version) in the views underneath the form."""
    with runtime.unit_of_work() as session:
        plan = editing.load_plan(
            session, viewer, pupil_id, via=VIA, now=runtime.now(), audit_read=False
        )
        if plan is None:
            return
        section = editing.SECTIONS[meta["section"]]
        updates = [(view.get("root_view_id"), _overview(plan, viewer, today))]
        if section.is_list and view.get("previous_view_id") not in (None, view.get("root_view_id")):
            list_page = meta.get("list_page") or 1
            updates.append((view["previous_view_id"], _section_list(plan, section, list_page)))
    for view_id, fresh in updates:
        if view_id:
            try:
                client.views_update(view_id=view_id, view=fresh)
            except SlackApiError as error:
                # The person may have closed the plan already; the save itself stands.
                log.info("could not refresh a plan view: %s", error.response.get("error"))


# --- reading forms ----------------------------------------------------------------------------


def _read(section, state: dict) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in section.fields:
        if f.kind == "long":
            pieces = [
                _value(state, block, "long")
                for block in sorted(
                    (b for b in state if b.startswith(f"{f.name}--")),
                    key=lambda b: int(b.rsplit("--", 1)[1]),
                )
            ]
            values[f.name] = editing.join_long(pieces) or None
        else:
            values[f.name] = _value(state, f.name, f.kind)
    return values


def _value(state: dict, block_id: str, kind: str) -> Any:
    element = (state.get(block_id) or {}).get("value") or {}
    if kind == "date":
        return element.get("selected_date")
    if kind == "select":
        return (element.get("selected_option") or {}).get("value")
    if kind == "checkbox":
        return bool(element.get("selected_options"))
    value = element.get("value")
    return value.strip() if isinstance(value, str) and value.strip() else None


def _block_for(section, field_name: str) -> str:
    field = next(f for f in section.fields if f.name == field_name)
    return f"{field.name}--0" if field.kind == "long" else field.name


# --- helpers ----------------------------------------------------------------------------------


@contextmanager
def _editable(runtime: Runtime, viewer: Viewer, pupil_id) -> Iterator[Any]:
    """The plan, if this person may change it (else None), for the length of one unit of work."""
    with runtime.unit_of_work() as session:
        plan = editing.load_plan(
            session, viewer, as_int(pupil_id), via=VIA, now=runtime.now(), for_editing=True
        )
        yield plan if plan is not None and editing.can_edit(viewer, plan) else None


def _no_plan(session, viewer: Viewer, pupil_id: int) -> str:
    pupil = session.scalar(select(Pupil).where(Pupil.id == pupil_id, visible_pupils(viewer)))
    if pupil is None:
        return NOT_VISIBLE
    wording = NO_PLAN_YET if viewer.is_sendco else NO_PLAN_YET_ASK
    return wording.format(name=escape_mrkdwn(pupil.known_as), upn=pupil.upn)


def _item_ids(plan, section) -> set[int]:
    return {item.id for item in editing.items(plan, section)}


def _summary(plan, section, cycles: editing.TargetCycles) -> tuple[str, bool]:
    """The section as the overview shows it, and whether anything of it is cut short there."""
    if section.key == "targets":
        lines = [f"• {_current_target(c, whole=False)}" for c in cycles.current[:SHOWN_ENTRIES]]
        if len(cycles.current) > SHOWN_ENTRIES:
            lines.append(f"…and {len(cycles.current) - SHOWN_ENTRIES} more")
        # One line a target: how it is measured, its baseline and success are in "Read all".
        return "\n".join(lines), bool(cycles.current)
    if section.is_list:
        entries = editing.items(plan, section)
        shown = [f"• {_clip(section.summary(e))}" for e in entries[:SHOWN_ENTRIES]]
        more = [f"…and {len(entries) - SHOWN_ENTRIES} more"] if len(entries) > SHOWN_ENTRIES else []
        # The overview shows one line of each entry: the rest of its fields are in "Read all".
        cut = bool(entries) and (
            len(entries) > SHOWN_ENTRIES
            or any(_is_cut(section.summary(e)) for e in entries)
            or len(section.fields) > 1
        )
        return "\n".join(shown + more), cut
    values = editing.current_values(plan, section, None)
    lines, cut = [], False
    for f in section.fields:
        value = values.get(f.name)
        if value is True:  # a ticked box ("Must know"): its label says what it means
            lines.append(f"{f.label}: yes")
        elif value:
            shown = value.strftime("%-d %B %Y") if isinstance(value, date) else _clip(str(value))
            cut = cut or (not isinstance(value, date) and _is_cut(str(value)))
            lines.append(f"{f.label}: {shown}")
    return "\n".join(lines), cut


def _current_target(current: editing.CurrentTarget, *, whole: bool) -> str:
    """A target of this cycle: its words, its status, and whether it was carried forward."""
    target = current.target
    words = escape_mrkdwn(target.description) if whole else _clip(target.description)
    line = f"{words} — _{editing.TARGET_STATUS[target.status]}_"
    if target.end_date:
        line += f", by {uk_date(target.end_date)}"
    return line + _carried(current.carried)


def _carried(steps: tuple[tuple[int, Any], ...]) -> str:
    if not steps:
        return ""
    cycle, status = steps[-1]
    words = f" · carried forward from plan {cycle} ({editing.TARGET_STATUS[status].lower()} there"
    if len(steps) > 1:
        words += f"; first set in plan {steps[0][0]}"
    return words + ")"


def _earlier_cycles(cycles: editing.TargetCycles) -> tuple[str | None, bool]:
    """Earlier cycles' targets under their own heading, each with its outcome, and whether
    "Read all" has more to show (always, when there are some: their measures and baselines)."""
    if not cycles.earlier:
        return None, False
    lines = ["*Earlier cycles*"]
    for cycle, ended in cycles.earlier[:SHOWN_CYCLES]:
        lines.append(f"_Plan {cycle}_")
        lines += [f"• {_ended_target(target, whole=False)}" for target in ended[:SHOWN_ENTRIES]]
        if len(ended) > SHOWN_ENTRIES:
            lines.append(f"…and {len(ended) - SHOWN_ENTRIES} more")
    if len(cycles.earlier) > SHOWN_CYCLES:
        lines.append(f"…and {len(cycles.earlier) - SHOWN_CYCLES} earlier plans")
    return "\n".join(lines), True


def _tried_before(plan) -> tuple[str | None, bool]:
    """Provision that has ended, under its own heading: kept, so "what has been tried" stays
    on the plan. "Read all" shows why each ended and its measures."""
    ended = plan.ended_provisions
    if not ended:
        return None, False
    lines = ["*Tried before*"]
    lines += [f"• {_clip(p.what)} — _{library.ended_summary(p)}_" for p in ended[:SHOWN_ENTRIES]]
    if len(ended) > SHOWN_ENTRIES:
        lines.append(f"…and {len(ended) - SHOWN_ENTRIES} more")
    return "\n".join(lines), True


def _tried_before_whole(plan) -> list[str]:
    paragraphs = []
    for p in plan.ended_provisions:
        lines = [f"• {escape_mrkdwn(p.what)} — _{library.ended_summary(p)}_"]
        if p.ended_reason:
            lines.append(f"*Why it ended:* {escape_mrkdwn(p.ended_reason)}")
        for label, value in (("Who delivered it", p.who), ("How often", p.how_often)):
            if value:
                lines.append(f"*{label}:* {escape_mrkdwn(value)}")
        measure = library.measure_summary(p)
        if measure:
            lines.append(f"*Impact:* {escape_mrkdwn(measure)}")
        paragraphs.append("\n".join(lines))
    return ["*Tried before*", *paragraphs] if paragraphs else []


def _ended_target(ended: editing.EndedTarget, *, whole: bool) -> str:
    target = ended.target
    words = escape_mrkdwn(target.description) if whole else _clip(target.description)
    return f"{words} — _{ended.outcome}_{_carried(ended.carried)}"


def _clip(text: str, limit: int = SHOWN_PER_FIELD) -> str:
    text = " ".join(text.split())
    return escape_mrkdwn(text if len(text) <= limit else text[: limit - 1] + "…")


def _is_cut(text: str | None, limit: int = SHOWN_PER_FIELD) -> bool:
    return len(" ".join((text or "").split())) > limit


# --- /ssp subcommands answered here -----------------------------------------------------------

SUBCOMMANDS = (
    Subcommand(
        "plan",
        plan_command,
        help=(
            Usage(
                "`/ssp plan <UPN or name>` — open a plan to read or write it, section by section",
                lambda viewer: viewer.opens_plans,
            ),
            Usage(
                "`/ssp plan new <UPN or name>` — start a plan for a pupil who has none",
                lambda viewer: viewer.is_sendco,
            ),
            Usage(
                "`/ssp plan new <full name or UPN>` — ask the SENDCo to let you hold a "
                "pupil's plan",
                lambda viewer: viewer.is_case_holder and not viewer.is_sendco,
            ),
        ),
    ),
)
