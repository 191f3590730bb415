"""Writing the plan in Slack: the plan in a modal, each section in a form pushed on top of it.

Stack: the plan (1) → a list section's entries (2) → one entry's form (3), Slack's limit of
three. Single sections (dates, voice, family) open their form at level 2. The plan version
travels in private_metadata, so a save based on an old version is refused, never applied.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from math import ceil
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.access import Viewer
from bot.errors import UserError
from bot.render import render_json
from bot.services import plan_editing as editing
from bot.services.plans import PlanChanged
from bot.services.pupils import MAX_MATCHES, find_pupils
from handlers.context import Ask, Runtime, Subcommand, Usage, runtime_of, school_timezone, viewer_of
from handlers.toolkit import PupilButton, UsageError, choose_pupil

log = logging.getLogger(__name__)

ENTRIES_PER_PAGE = 20
LONG_CONTINUE_AT = 2700  # offer a continuation box once a text nears Slack's 3,000 characters
CONTINUED_HINT = "Carries on from the box above: Slack fits 3,000 characters in one box."
NOT_FOUND = "I couldn't find a pupil matching “{}” among the pupils you can see."
READ_ONLY = (
    "Only the SENDCo and the plan's case holder can open a plan to change it. "
    "`/ssp pupil` shows you what you need."
)


def register(app: App) -> None:
    app.action("ssp_open_plan")(open_from_button)
    app.action("ssp_start_plan")(start_from_button)
    app.action("plan_open_section")(open_section)
    app.action("plan_add_item")(add_item)
    app.action("plan_edit_item")(edit_item)
    app.action("plan_section_page")(turn_section_page)
    app.action("plan_reload")(reload_form)
    app.view("plan_form")(save_form)


# --- from /ssp and message buttons ----------------------------------------------------------


def open_for_query(
    runtime: Runtime,
    client: WebClient,
    viewer: Viewer,
    query: str,
    trigger_id: str,
    respond: Respond,
    today: date,
) -> None:
    with runtime.unit_of_work() as session:
        matches = find_pupils(session, viewer, query)
    if not matches:
        respond(**_notice(NOT_FOUND.format(query[:80])))
    elif len(matches) > MAX_MATCHES:
        respond(
            **_notice(f"More than {MAX_MATCHES} pupils match; add more of the name or use the UPN.")
        )
    elif len(matches) > 1:
        respond(**_choices(query, matches, "ssp_open_plan", "Open plan"))
    else:
        _open_plan(runtime, client, viewer, matches[0].pupil_id, trigger_id, respond)


def start_new_plan(
    runtime: Runtime,
    client: WebClient,
    viewer: Viewer,
    query: str,
    trigger_id: str,
    respond: Respond,
    today: date,
) -> None:
    if not (viewer.is_sendco or viewer.is_case_holder):
        respond(**_notice("Only the SENDCo and case holders can start a plan."))
        return
    with runtime.unit_of_work() as session:
        matches = editing.find_pupils_for_new_plan(session, viewer, query)
    if not matches:
        respond(
            **_notice(
                f"No pupil without a plan matches “{query[:80]}”. If they already have one, "
                "open it with `/ssp plan <name>`."
            )
        )
    elif len(matches) > MAX_MATCHES:
        respond(
            **_notice(f"More than {MAX_MATCHES} pupils match; add more of the name or use the UPN.")
        )
    elif len(matches) > 1:
        respond(**_choices(query, matches, "ssp_start_plan", "Start plan"))
    else:
        _start(runtime, client, viewer, matches[0].pupil_id, trigger_id, respond, today)


def open_from_button(
    ack: Ack, action: dict, body: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    if action["value"].isdigit():
        _open_plan(
            runtime_of(context),
            client,
            viewer_of(context),
            int(action["value"]),
            body["trigger_id"],
            respond,
        )


def start_from_button(
    ack: Ack, action: dict, body: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    runtime = runtime_of(context)
    if action["value"].isdigit():
        _start(
            runtime,
            client,
            viewer_of(context),
            int(action["value"]),
            body["trigger_id"],
            respond,
            runtime.today(school_timezone(context)),
        )


def _open_plan(runtime, client, viewer, pupil_id, trigger_id, respond) -> None:
    with runtime.unit_of_work() as session:
        plan = editing.load_plan(session, viewer, pupil_id, via="/ssp plan", now=runtime.now())
        if plan is None:
            answer = _no_plan(session, viewer, pupil_id)
            respond(**answer)
            return
        if not (viewer.sees_whole_school or editing.can_edit(viewer, plan)):
            respond(**_notice(READ_ONLY))
            return
        view = _overview(plan, viewer)
    _slack(lambda: client.views_open(trigger_id=trigger_id, view=view), respond)


def _start(runtime, client, viewer, pupil_id, trigger_id, respond, today) -> None:
    try:
        with runtime.unit_of_work() as session:
            plan = editing.start_plan(session, viewer, pupil_id, now=runtime.now(), today=today)
            view = _overview(plan, viewer)
    except UserError as refusal:
        respond(**_notice(str(refusal)))
        return
    _slack(lambda: client.views_open(trigger_id=trigger_id, view=view), respond)


def _no_plan(session, viewer: Viewer, pupil_id: int) -> dict:
    from sqlalchemy import select

    from bot.access import visible_pupils
    from models import Pupil

    pupil = session.scalar(select(Pupil).where(Pupil.id == pupil_id, visible_pupils(viewer)))
    if pupil is None:
        return _notice("I couldn't find that pupil among the pupils you can see.")
    return _notice(
        f"{pupil.known_as} has no SEN Support Plan yet. Start one with `/ssp plan new {pupil.upn}`."
    )


# --- inside the plan modal --------------------------------------------------------------------


def open_section(
    ack: Ack, action: dict, body: dict, client: WebClient, context: BoltContext
) -> None:
    ack()
    meta = _meta_of(body["view"])
    section = editing.SECTIONS.get(action["value"])
    if section is None:
        return
    with _editable(context, meta["pupil_id"]) as plan:
        if plan is None:
            return
        view = (
            _section_list(plan, section, page=1)
            if section.is_list
            else _form(plan, section, item_id=None, list_page=None)
        )
    client.views_push(trigger_id=body["trigger_id"], view=view)


def add_item(ack: Ack, action: dict, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    meta = _meta_of(body["view"])
    with _editable(context, meta["pupil_id"]) as plan:
        if plan is None:
            return
        view = _form(
            plan, editing.SECTIONS[meta["section"]], item_id=None, list_page=meta.get("page", 1)
        )
    client.views_push(trigger_id=body["trigger_id"], view=view)


def edit_item(ack: Ack, action: dict, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    meta = _meta_of(body["view"])
    if not action["value"].isdigit():
        return
    with _editable(context, meta["pupil_id"]) as plan:
        if plan is None:
            return
        section = editing.SECTIONS[meta["section"]]
        item_id = int(action["value"])
        if item_id not in {i.id for i in editing.items(plan, section)}:
            return
        view = _form(plan, section, item_id=item_id, list_page=meta.get("page", 1))
    client.views_push(trigger_id=body["trigger_id"], view=view)


def turn_section_page(
    ack: Ack, action: dict, body: dict, client: WebClient, context: BoltContext
) -> None:
    ack()
    meta = _meta_of(body["view"])
    page = int(action["value"]) if action["value"].isdigit() else 1
    with _editable(context, meta["pupil_id"]) as plan:
        if plan is None:
            return
        view = _section_list(plan, editing.SECTIONS[meta["section"]], page=page)
    client.views_update(view_id=body["view"]["id"], view=view)


def reload_form(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    meta = _meta_of(body["view"])
    with _editable(context, meta["pupil_id"]) as plan:
        if plan is None:
            return
        section = editing.SECTIONS[meta["section"]]
        item_id = meta.get("item_id")
        if item_id is not None and item_id not in {i.id for i in editing.items(plan, section)}:
            item_id = None
        view = _form(plan, section, item_id=item_id, list_page=meta.get("list_page"))
    client.views_update(view_id=body["view"]["id"], view=view)


def save_form(ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext) -> None:
    runtime, viewer = runtime_of(context), viewer_of(context)
    meta = _meta_of(view)
    section = editing.SECTIONS[meta["section"]]
    state = view["state"]["values"]
    remove = bool(_value(state, "remove", "checkbox"))
    values = _read(section, state)
    with runtime.unit_of_work() as session:
        plan = editing.load_plan(
            session, viewer, meta["pupil_id"], via="/ssp plan", now=runtime.now(), audit_read=False
        )
        if plan is None or plan.id != meta["plan_id"]:
            ack(
                response_action="update",
                view=_notice_modal(
                    "Plan not found",
                    ["That plan can't be found any more: it may have been closed."],
                ),
            )
            return
        problems = {} if remove else editing.validate(section, values, plan)
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
                via="/ssp plan",
                now=runtime.now(),
            )
            saved_plan = result.plan
    except PlanChanged as changed:
        ack(response_action="update", view=_conflict(changed, section, values, meta))
        return
    except UserError as refusal:
        ack(response_action="update", view=_notice_modal("Not saved", [str(refusal)]))
        return
    if result.unexplained_acronyms:
        ack(response_action="update", view=_acronym_notice(result, meta))
    else:
        ack()
    _refresh_parents(runtime, client, viewer, view, meta, saved_plan.pupil_id)


# --- views ------------------------------------------------------------------------------------


def _overview(plan, viewer: Viewer) -> dict:
    pupil = plan.pupil
    flags = [
        label
        for label, on in (
            ("EAL", pupil.eal),
            ("pupil premium", pupil.pupil_premium),
            ("child in care", pupil.child_in_care),
            ("young carer", pupil.young_carer),
            ("medical need", pupil.medical_need),
        )
        if on
    ]
    sections = [
        {"key": s.key, "title": s.title, "summary": _summary(plan, s)}
        for s in editing.SECTIONS.values()
    ]
    return render_json(
        "plan_overview.json.j2",
        plan=plan,
        flags=flags,
        sections=sections,
        editable=editing.can_edit(viewer, plan),
        meta=_meta(plan_id=plan.id, pupil_id=plan.pupil_id, version=plan.version),
    )


def _section_list(plan, section, page: int) -> dict:
    entries = editing.items(plan, section)
    pages = max(1, ceil(len(entries) / ENTRIES_PER_PAGE))
    page = min(max(page, 1), pages)
    shown = entries[(page - 1) * ENTRIES_PER_PAGE : page * ENTRIES_PER_PAGE]
    return render_json(
        "plan_section_list.json.j2",
        section=section,
        pupil_name=plan.pupil.known_as,
        entries=[{"id": e.id, "text": section.summary(e)} for e in shown],
        total=len(entries),
        page=page,
        pages=pages,
        meta=_meta(
            plan_id=plan.id,
            pupil_id=plan.pupil_id,
            version=plan.version,
            section=section.key,
            page=page,
        ),
    )


def _form(plan, section, *, item_id: int | None, list_page: int | None) -> dict:
    values = editing.current_values(plan, section, item_id)
    inputs = []
    for f in section.fields:
        value = values.get(f.name)
        if f.kind == "long":
            pieces = editing.split_long(value)
            if len(pieces[-1]) >= LONG_CONTINUE_AT:
                pieces.append("")
            for n, piece in enumerate(pieces):
                inputs.append(
                    dict(
                        block_id=f"{f.name}--{n}",
                        label=f.label if n == 0 else f"{f.label} (continued)",
                        kind="long",
                        required=f.required and n == 0,
                        hint=f.hint if n == 0 else CONTINUED_HINT,
                        initial=piece,
                        max_length=editing.MAX_TEXT,
                    )
                )
            continue
        options = editing.choices_for(plan, f) if f.kind == "select" else ()
        if f.kind == "select" and not options:
            continue  # e.g. "towards which outcome" before any outcome exists
        initial = value.isoformat() if isinstance(value, date) else value
        inputs.append(
            dict(
                block_id=f.name,
                label=f.label,
                kind=f.kind,
                required=f.required,
                hint=f.hint,
                initial=initial,
                options=options,
                max_length=min(f.max_length, editing.MAX_TEXT),
                option_label=f.label,
            )
        )
    if item_id is not None:
        inputs.append(
            dict(
                block_id="remove",
                label="Remove",
                kind="checkbox",
                required=False,
                hint=None,
                initial=False,
                options=(),
                option_label="Remove this from the plan",
                max_length=0,
            )
        )
    what = "a new entry" if section.is_list and item_id is None else "this section"
    return render_json(
        "plan_form.json.j2",
        title=section.title,
        inputs=inputs,
        intro=f"{plan.pupil.known_as}: {what}. Saved when you press Save; Cancel keeps the plan "
        "as it was.",
        meta=_meta(
            plan_id=plan.id,
            pupil_id=plan.pupil_id,
            version=plan.version,
            section=section.key,
            item_id=item_id,
            list_page=list_page,
        ),
    )


def _conflict(changed: PlanChanged, section, values: dict[str, Any], meta: dict) -> dict:
    typed = [
        f"*{f.label}*\n{values[f.name]}"
        for f in section.fields
        if f.kind in ("text", "long") and values.get(f.name)
    ]
    paragraphs = [f"*Not saved.* {changed}"]
    if typed:
        paragraphs.append("Here is what you wrote, so you can copy it into the latest version:")
        paragraphs += typed[:20]
    return _notice_modal("Not saved", paragraphs, reload=True, meta=meta)


def _acronym_notice(result, meta: dict) -> dict:
    listed = ", ".join(result.unexplained_acronyms)
    first = result.unexplained_acronyms[0]
    paragraphs = [
        "*Saved.*"
        + (" The plan now goes to the SENDCo for quality assurance." if result.sent_for_qa else ""),
        f"These acronyms aren't explained in the school's glossary yet: *{listed}*. Families "
        f"may not know them: spell them out in the plan, or add them with "
        f'`/ssp glossary add {first} "what it means"`.',
    ]
    return _notice_modal("Saved", paragraphs, meta=meta)


def _notice_modal(
    title: str, paragraphs: list[str], *, reload: bool = False, meta: dict | None = None
) -> dict:
    return render_json(
        "plan_notice_modal.json.j2",
        title=title,
        paragraphs=paragraphs,
        reload=reload,
        meta=json.dumps(meta or {}),
    )


def _refresh_parents(runtime, client, viewer, view: dict, meta: dict, pupil_id: int) -> None:
    """Shows the saved change (and the new version) in the views underneath the form."""
    with runtime.unit_of_work() as session:
        plan = editing.load_plan(
            session, viewer, pupil_id, via="/ssp plan", now=runtime.now(), audit_read=False
        )
        if plan is None:
            return
        section = editing.SECTIONS[meta["section"]]
        updates = [(view.get("root_view_id"), _overview(plan, viewer))]
        if section.is_list and view.get("previous_view_id") not in (None, view.get("root_view_id")):
            updates.append(
                (
                    view["previous_view_id"],
                    _section_list(plan, section, page=meta.get("list_page") or 1),
                )
            )
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


class _editable:
    """The plan, if this person may change it, for the length of one unit of work."""

    def __init__(self, context: BoltContext, pupil_id: int) -> None:
        self.runtime, self.viewer, self.pupil_id = runtime_of(context), viewer_of(context), pupil_id

    def __enter__(self):
        self._work = self.runtime.unit_of_work()
        session = self._work.__enter__()
        plan = editing.load_plan(
            session, self.viewer, self.pupil_id, via="/ssp plan", now=self.runtime.now()
        )
        return plan if plan is not None and editing.can_edit(self.viewer, plan) else None

    def __exit__(self, *exc):
        return self._work.__exit__(*exc)


def _summary(plan, section) -> str:
    if section.is_list:
        entries = editing.items(plan, section)
        shown = [f"• {_clip(section.summary(e))}" for e in entries[:5]]
        more = [f"…and {len(entries) - 5} more"] if len(entries) > 5 else []
        return "\n".join(shown + more)
    values = editing.current_values(plan, section, None)
    lines = []
    for f in section.fields:
        value = values.get(f.name)
        if value:
            shown = value.strftime("%-d %B %Y") if isinstance(value, date) else _clip(str(value))
            lines.append(f"{f.label}: {shown}")
    return "\n".join(lines)


def _clip(text: str, limit: int = 150) -> str:
    from bot.render import escape_mrkdwn

    text = " ".join(text.split())
    return escape_mrkdwn(text if len(text) <= limit else text[: limit - 1] + "…")


def _meta(**values) -> str:
    return json.dumps({k: v for k, v in values.items() if v is not None})


def _meta_of(view: dict) -> dict:
    # Only ids and a version live here; who may do what is decided from the signed request.
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        meta = {}
    return meta if isinstance(meta, dict) else {}


def _choices(query: str, matches, action_id: str, label: str) -> dict:
    return choose_pupil(query, matches, PupilButton(action_id, label)).choices


def _notice(text: str) -> dict:
    return {"response_type": "ephemeral", **render_json("notice.json.j2", text=text)}


def _answer_in_modal(client: WebClient, trigger_id: str):
    """The App Home has no response URL: say it in a small modal instead."""

    def answer(**message) -> None:
        client.views_open(
            trigger_id=trigger_id, view=_notice_modal("SSP Bot", [message.get("text", "")])
        )

    return answer


def _slack(call, respond: Respond) -> None:
    try:
        call()
    except SlackApiError as error:
        log.warning("opening a plan modal failed: %s", error.response.get("error"))
        respond(
            **_notice(
                "Slack wouldn't open the plan just then (it gives me three seconds). "
                "Please try again."
            )
        )


# --- /ssp subcommands answered here -----------------------------------------------------------


def _plan(ask: Ask) -> None:
    words = ask.words
    if words and words[0].lower() == "new" and words[1:]:
        start_new_plan(
            ask.runtime,
            ask.client,
            ask.viewer,
            " ".join(words[1:]),
            ask.trigger_id,
            ask.respond,
            ask.today,
        )
    elif words and words[0].lower() != "new":
        open_for_query(
            ask.runtime,
            ask.client,
            ask.viewer,
            " ".join(words),
            ask.trigger_id,
            ask.respond,
            ask.today,
        )
    else:
        raise UsageError(
            "Say which pupil: `/ssp plan <UPN or name>`, or "
            "`/ssp plan new <UPN or name>` to start one."
        )


SUBCOMMANDS = (
    Subcommand(
        "plan",
        _plan,
        help=(
            Usage(
                "`/ssp plan <UPN or name>` — open a plan to read or write it, section by section",
                lambda viewer: (
                    viewer.is_sendco or viewer.is_case_holder or viewer.sees_whole_school
                ),
            ),
            Usage(
                "`/ssp plan new <UPN or name>` — start a plan for a pupil who has none",
                lambda viewer: viewer.writes_plans,
            ),
        ),
    ),
)
