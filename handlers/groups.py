"""Intervention groups in Slack: `/ssp groups` (the list), `/ssp group new` and the "New group"
button (the SENDCo's form), a group's view (its schedule, pupils and what each has had of it;
"Add pupils", "Remove", "Edit", "End the group"), and "Add to a group" on a pupil's plan.

Who may do what is bot.services.groups', decided from the verified request on every click: a
button's value or a form's metadata is only a group, member or pupil id to look up among what
that person may see. "Not yours" and "not found" read the same.
"""

from __future__ import annotations

import re
from datetime import date, time

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.access import Viewer
from bot.errors import UserError
from bot.render import escape_mrkdwn, mention, uk_date
from bot.services import groups
from bot.services.pupils import find_pupils
from bot.slack_limits import MAX_OPTION_TEXT, MAX_SELECT_OPTIONS
from handlers.context import Ask, Runtime, Subcommand, Usage
from handlers.presenters import pager
from handlers.slack_api import staff_for_slack_user
from handlers.toolkit import (
    UsageError,
    as_int,
    as_typed,
    done_modal,
    meta_json,
    meta_of,
    notice,
    open_modal,
    page_of,
    update_modal,
)

NEW_ACTION = "ssp_group_new"
OPEN_ACTION = re.compile(r"^ssp_group_open_\d+$")
ADD_ACTION = "ssp_group_add"
REMOVE_ACTION = re.compile(r"^ssp_group_remove_\d+$")
EDIT_ACTION = "ssp_group_edit"
END_ACTION = "ssp_group_end"
JOIN_ACTION = "ssp_group_join_open"  # on the plan's overview (templates/plan_overview.json.j2)
FIND_PUPILS = "ssp_group_pupils_find"
FORM = "ssp_group_form"
ADD_FORM = "ssp_group_add_form"
JOIN_FORM = "ssp_group_join"
VIA_LIST = "/ssp groups"
VIA_NEW = "/ssp group new"
VIA_VIEW = "group view"
VIA_PLAN = "Add to a group button"
GROUPS_PER_PAGE = 20  # 20 sections and a few more blocks: far inside a message's 50
FIND_LIBRARY = "ssp_group_library_find"
FIND_GROUP = "ssp_group_join_find"
SHOWN_MEMBERS = 40  # a modal holds 100 blocks
NONE_RUN = (
    "You don't run any intervention groups. When the SENDCo sets one up with you running it, "
    "it shows here; the SENDCo's `/ssp groups` lists them all."
)
NONE_YET = (
    "Your school has no intervention groups yet. Set one up with *New group* or `/ssp group new`."
)


def register(app: App) -> None:
    # No role middleware: bot.services.groups decides from the verified viewer on each request.
    app.action(NEW_ACTION)(new_from_button)
    app.action(OPEN_ACTION)(open_group)
    app.action(ADD_ACTION)(open_add)
    app.action(REMOVE_ACTION)(remove)
    app.action(EDIT_ACTION)(open_edit)
    app.action(END_ACTION)(end)
    app.action(JOIN_ACTION)(open_join)
    app.view(FORM)(save)
    app.view(ADD_FORM)(save_add)
    app.view(JOIN_FORM)(save_join)
    app.options(FIND_PUPILS)(suggest_pupils)
    app.options(FIND_LIBRARY)(suggest_library)
    app.options(FIND_GROUP)(suggest_groups)


# --- /ssp groups -------------------------------------------------------------------------------


def groups_command(ask: Ask) -> dict:
    if ask.words:
        raise UsageError("`/ssp groups` takes nothing after it; `/ssp group new` sets one up.")
    viewer = ask.viewer
    with ask.runtime.unit_of_work() as session:
        lines = groups.list_groups(session, viewer, ask.today)
    if not lines:
        text = NONE_YET if viewer.sees_whole_school else NONE_RUN
        reply = notice(text)
        if viewer.is_sendco:
            reply["blocks"].append(_actions("list-actions", [_button(NEW_ACTION, "New group")]))
        return reply
    title = "Your school's intervention groups" if viewer.sees_whole_school else "Groups you run"
    shown = page_of(lines, ask.page, GROUPS_PER_PAGE)
    blocks: list[dict] = [{"type": "header", "text": _plain(title)}]
    if shown.pages > 1:
        blocks.append(_context(f"{len(lines)} groups · page {shown.page} of {shown.pages}"))
    for line in shown.items:
        blocks.append(
            {
                "type": "section",
                "block_id": f"group-{line.group_id}",
                "text": _mrkdwn(_line_text(line)),
                "accessory": _button(f"ssp_group_open_{line.group_id}", "Open", line.group_id),
            }
        )
    # Previous and Next (their own action ids: Slack refuses a block that repeats one) come
    # back to `/ssp groups` at their page, through handlers.commands.turn_page.
    turn = pager("groups", shown)
    elements = [_button(NEW_ACTION, "New group", style=True)] if viewer.is_sendco else []
    if turn.previous_value:
        elements.append(_button("ssp_page_previous", "Previous", turn.previous_value))
    if turn.next_value:
        elements.append(_button("ssp_page_next", "Next", turn.next_value))
    if elements:
        blocks.append(_actions("list-actions", elements))
    blocks.append(
        _context("Delivery: sessions delivered to each pupil there, of those due so far.")
    )
    return {"response_type": "ephemeral", "text": title, "blocks": blocks}


def _line_text(line: groups.GroupLine) -> str:
    pupils = f"{line.pupils} pupil" + ("" if line.pupils == 1 else "s")
    return (
        f"*{escape_mrkdwn(line.name)}* · {escape_mrkdwn(line.intervention)}\n"
        f"{line.schedule} · {_runner(line)} · {pupils}\n"
        f"Delivery: {line.delivery.describe()}" + (" · _ended today_" if line.ended else "")
    )


def _runner(line: groups.GroupLine) -> str:
    if line.runner_left:
        return f":warning: *no runner: {escape_mrkdwn(line.staff_name)} has left*"
    return mention(line.staff_slack_user_id, line.staff_name)


# --- the form: new or changed group ----------------------------------------------------------


def group_command(ask: Ask) -> dict | None:
    if [w.lower() for w in ask.words] != ["new"]:
        raise UsageError("Use `/ssp group new` to set up a group, and `/ssp groups` to list them.")
    if not ask.viewer.is_sendco:
        raise UserError(groups.ONLY_SENDCO)
    view = _form(ask.runtime, ask.viewer, ask.today)
    open_modal(ask.client, ask.trigger_id, view)
    return None


def new_from_button(
    ack: Ack, body: dict, client: WebClient, runtime: Runtime, viewer: Viewer, today: date
) -> None:
    if not viewer.is_sendco:
        raise UserError(groups.ONLY_SENDCO)
    shown = body.get("view") or {}
    open_modal(
        client, body["trigger_id"], _form(runtime, viewer, today), push=shown.get("type") == "modal"
    )
    ack()


def open_edit(
    ack: Ack,
    action: dict,
    body: dict,
    client: WebClient,
    runtime: Runtime,
    viewer: Viewer,
    today: date,
) -> None:
    if not viewer.is_sendco:
        raise UserError(groups.ONLY_SENDCO)
    view = _form(runtime, viewer, today, group_id=as_int(action.get("value")))
    open_modal(client, body["trigger_id"], view, push=True)
    ack()


def _form(runtime: Runtime, viewer: Viewer, today: date, *, group_id: int | None = None) -> dict:
    with runtime.unit_of_work() as session:
        library = groups.library_choices(session, viewer.school_id)
        group = groups.load(session, viewer, group_id) if group_id is not None else None
        if group_id is not None and group is None:
            raise UserError(groups.NOT_FOUND)
        runner = group.staff.slack_user_id if group else None
    if not library:
        raise UserError(groups.EMPTY_LIBRARY)
    options = [_option(name, item_id) for item_id, name in library]
    chosen = next((o for o in options if group and o["value"] == str(group.library_id)), None)
    # More than Slack's 100 options: the menu is searched as the SENDCo types (an external
    # select answered by suggest_library), as Slack recommends for long lists.
    searched = len(options) > MAX_SELECT_OPTIONS
    menu = (
        {"type": "external_select", "action_id": FIND_LIBRARY, "min_query_length": 1}
        if searched
        else {"type": "static_select", "action_id": "value", "options": options}
    )
    days = [_option(name, number) for number, name in enumerate(groups.DAY_NAMES[:5], start=1)]
    ticked = [d for d in days if group and int(d["value"]) in group.weekday_numbers]

    def field(block_id, label, element, *, optional=False, hint=None):
        block = {"type": "input", "block_id": block_id, "label": _plain(label), "element": element}
        if optional:
            block["optional"] = True
        if hint:
            block["hint"] = _plain(hint)
        return block

    def initial(key, value):
        return {key: value} if value not in (None, [], "") else {}

    blocks = [
        field(
            "library",
            "Intervention",
            {
                **menu,
                "placeholder": _plain("From your provision library"),
                **initial("initial_option", chosen),
            },
            hint=f"Type a few letters of its name to find it among {len(options)}."
            if searched
            else None,
        ),
        field(
            "name",
            "Name",
            {
                "type": "plain_text_input",
                "action_id": "value",
                "max_length": groups.NAME_LENGTH,
                "placeholder": _plain("e.g. Lexia, Year 7"),
                **initial("initial_value", group.name if group else None),
            },
            optional=True,
            hint="Left empty: the intervention's name, and the pupils' year if they share one.",
        ),
        field(
            "staff",
            "Who runs it",
            {"type": "users_select", "action_id": "value", **initial("initial_user", runner)},
        ),
        field(
            "days",
            "Days",
            {
                "type": "checkboxes",
                "action_id": "value",
                "options": days,
                **initial("initial_options", ticked),
            },
        ),  # fmt: skip
        field(
            "time",
            "Starts at",
            {
                "type": "timepicker",
                "action_id": "value",
                "initial_time": group.starts_at.strftime("%H:%M") if group else "08:40",
            },
        ),
        field(
            "minutes",
            "Minutes per session",
            {
                "type": "plain_text_input",
                "action_id": "value",
                "max_length": 3,
                "initial_value": str(group.minutes) if group else "30",
            },
        ),
        field(
            "location",
            "Where",
            {
                "type": "plain_text_input",
                "action_id": "value",
                "max_length": groups.LOCATION_LENGTH,
                **initial("initial_value", group.location if group else None),
            },
            optional=True,
        ),
        field(
            "starts",
            "First session",
            {
                "type": "datepicker",
                "action_id": "value",
                "initial_date": (group.starts_on if group else today).isoformat(),
            },
        ),
        field(
            "ends",
            "Last day",
            {
                "type": "datepicker",
                "action_id": "value",
                **initial(
                    "initial_date", group.ends_on.isoformat() if group and group.ends_on else None
                ),
            },
            optional=True,
            hint="Leave empty to run it until you end it.",
        ),  # fmt: skip
    ]
    if group is None:
        blocks.append(_pupil_picker(optional=True))
    return {
        "type": "modal",
        "callback_id": FORM,
        "title": _plain("Change the group" if group else "New group"),
        "submit": _plain("Save"),
        "close": _plain("Cancel"),
        "private_metadata": meta_json(group_id=group_id),
        "blocks": blocks,
    }


def _pupil_picker(*, optional: bool) -> dict:
    block = {
        "type": "input",
        "block_id": "pupils",
        "label": _plain("Pupils"),
        "hint": _plain("Type part of a name or a UPN."),
        "element": {
            "type": "multi_external_select",
            "action_id": FIND_PUPILS,
            "min_query_length": 1,
            "placeholder": _plain("Find pupils"),
        },
    }
    if optional:
        block["optional"] = True
    return block


def suggest_library(ack: Ack, payload: dict, runtime: Runtime, viewer: Viewer) -> None:
    """The school's active library entries whose name holds what was typed (the SENDCo's
    group form, when the library is longer than a menu's 100 options)."""
    typed = " ".join(as_typed(str(payload.get("value") or "")).lower().split())
    found: list[tuple[int, str]] = []
    if typed and viewer.is_sendco:
        try:
            with runtime.unit_of_work() as session:
                found = groups.library_choices(session, viewer.school_id)
        except UserError:
            found = []
    matches = [(i, name) for i, name in found if typed in " ".join(name.lower().split())]
    ack(options=[_option(name, item_id) for item_id, name in matches[:MAX_SELECT_OPTIONS]])


def suggest_pupils(ack: Ack, payload: dict, runtime: Runtime, viewer: Viewer) -> None:
    """The pupils this person may see whose name or UPN matches what was typed."""
    typed = as_typed(str(payload.get("value") or "")).strip()
    found = []
    if typed and viewer.sees_anything:
        try:
            with runtime.unit_of_work() as session:
                found = find_pupils(session, viewer, typed)
        except UserError:
            found = []
    ack(
        options=[
            _option(f"{m.name} (Year {m.year_group}{', ' + m.form if m.form else ''})", m.pupil_id)
            for m in found[:100]
        ]
    )


def _value(values: dict, block_id: str) -> dict:
    return next(iter((values.get(block_id) or {}).values()), {}) or {}


def _picked_pupils(values: dict) -> list[int]:
    chosen = _value(values, "pupils").get("selected_options") or []
    return [as_int(o.get("value")) for o in chosen]


def _read_form(values: dict, staff_id: int | None) -> groups.GroupInput:
    def text(block_id):
        value = _value(values, block_id).get("value")
        return value.strip() if isinstance(value, str) and value.strip() else None

    def day(block_id):
        chosen = _value(values, block_id).get("selected_date")
        try:
            return date.fromisoformat(chosen) if chosen else None
        except ValueError:
            return None

    chosen_time = _value(values, "time").get("selected_time")
    try:
        starts_at = time.fromisoformat(chosen_time) if chosen_time else None
    except ValueError:
        starts_at = None
    library = (_value(values, "library").get("selected_option") or {}).get("value")
    ticked = _value(values, "days").get("selected_options") or []
    return groups.GroupInput(
        library_id=as_int(library) if library else None,
        name=text("name"),
        staff_id=staff_id,
        weekdays=[as_int(o.get("value")) for o in ticked],
        starts_at=starts_at,
        minutes=text("minutes"),
        location=text("location"),
        starts_on=day("starts"),
        ends_on=day("ends"),
        pupil_ids=_picked_pupils(values),
    )


def save(
    ack: Ack,
    view: dict,
    client: WebClient,
    runtime: Runtime,
    viewer: Viewer,
    today: date,
) -> None:
    if not viewer.is_sendco:
        raise UserError(groups.ONLY_SENDCO)
    values = view["state"]["values"]
    group_id = meta_of(view).get("group_id")
    slack_user = _value(values, "staff").get("selected_user")
    with runtime.unit_of_work() as session:
        staff = (
            staff_for_slack_user(session, client, viewer.school_id, slack_user)
            if slack_user
            else None
        )
        if staff is None or not staff.is_active:
            raise UserError(
                "Choose who runs it: someone on your school's staff list.", block_id="staff"
            )
        form = _read_form(values, staff.id)
        if group_id is None:
            group = groups.create(
                session, viewer, form, via=VIA_NEW, now=runtime.now(), today=today
            )
        else:
            group = groups.update(
                session, viewer, as_int(group_id), form, via=VIA_VIEW, now=runtime.now(),
                today=today,
            )  # fmt: skip
        group_id = group.id
        name, runner = group.name, mention(staff.slack_user_id, staff.display_name)
    if meta_of(view).get("group_id") is not None and view.get("previous_view_id"):
        _refresh(client, runtime, viewer, today, group_id, view["previous_view_id"])
        ack()
        runtime.deliver_soon(client)  # the new runner's message, if the runner changed
        return
    ack(
        response_action="update",
        view=done_modal(
            "New group",
            f"*{escape_mrkdwn(name)}* is set up, run by {runner}. Its pupils' plans now list it "
            "as provision. `/ssp groups` shows it, with what has been delivered so far.",
        ),
    )
    runtime.deliver_soon(client)  # the runner's message


# --- a group's view ----------------------------------------------------------------------------


def _group_view(runtime: Runtime, viewer: Viewer, group_id: int, today: date) -> dict:
    with runtime.unit_of_work() as session:
        shown = groups.details(session, viewer, group_id, today, via=VIA_VIEW, now=runtime.now())
    if shown is None:
        raise UserError(groups.NOT_FOUND)
    line = shown.line
    about = [
        f"*{escape_mrkdwn(line.intervention)}* · {line.schedule}",
        f"Run by {_runner(line)}",
        f"From {uk_date(shown.starts_on)}"
        + (f" to {uk_date(shown.ends_on)}" if shown.ends_on else ""),
    ]
    if shown.location:
        about.insert(1, f"Where: {escape_mrkdwn(shown.location)}")
    if line.ended:
        about.append("_This group has ended: its last day was today._")
    blocks: list[dict] = [
        {"type": "header", "text": _plain(cut(line.name, 150))},
        {"type": "section", "block_id": "about", "text": _mrkdwn("\n".join(about))},
        {
            "type": "section",
            "block_id": "delivery",
            "text": _mrkdwn(f"*Delivery so far:* {line.delivery.describe()}"),
        },
        {"type": "divider"},
    ]
    if not shown.members:
        blocks.append(_context("Nobody is in this group just now."))
    for index, member in enumerate(shown.members[:SHOWN_MEMBERS]):
        block = {
            "type": "section",
            "block_id": f"member-{member.member_id}",
            "text": _mrkdwn(
                f"*{escape_mrkdwn(member.name)}* · Year {member.year_group} · since "
                f"{uk_date(member.joined_on)}\n{member.delivery.describe()}"
            ),
        }
        if shown.may_change_members:
            block["accessory"] = {
                **_button(f"ssp_group_remove_{index}", "Remove", member.member_id),
                "confirm": {
                    "title": _plain("Remove from the group?"),
                    "text": _plain(
                        f"{member.name[:200]} leaves the group today. Their sessions so far "
                        "stay counted."
                    ),
                    "confirm": _plain("Remove"),
                    "deny": _plain("Cancel"),
                },
            }
        blocks.append(block)
    if len(shown.members) > SHOWN_MEMBERS:
        blocks.append(_context(f"And {len(shown.members) - SHOWN_MEMBERS} more."))
    buttons = []
    if shown.may_change_members:
        buttons.append(_button(ADD_ACTION, "Add pupils", group_id, style=True))
    if shown.may_manage:
        buttons.append(_button(EDIT_ACTION, "Edit", group_id))
        buttons.append(
            {
                **_button(END_ACTION, "End the group", group_id),
                "style": "danger",
                "confirm": {
                    "title": _plain("End this group?"),
                    "text": _plain(
                        "Today is its last session day. Its pupils' delivery so far is kept."
                    ),
                    "confirm": _plain("End it"),
                    "deny": _plain("Cancel"),
                },
            }
        )
    if buttons:
        blocks.append(_actions("group-actions", buttons))
    return {
        "type": "modal",
        "callback_id": "ssp_group_view",
        "title": _plain("Intervention group"),
        "close": _plain("Close"),
        "private_metadata": meta_json(group_id=group_id),
        "blocks": blocks,
    }


def open_group(
    ack: Ack,
    action: dict,
    body: dict,
    client: WebClient,
    runtime: Runtime,
    viewer: Viewer,
    today: date,
) -> None:
    view = _group_view(runtime, viewer, as_int(action.get("value")), today)
    shown = body.get("view") or {}
    open_modal(client, body["trigger_id"], view, push=shown.get("type") == "modal")
    ack()


def _refresh(client, runtime, viewer, today, group_id: int, view_id: str) -> None:
    """The group's view, redrawn after a change made from it or from a form over it."""
    client.views_update(view_id=view_id, view=_group_view(runtime, viewer, group_id, today))


def remove(
    ack: Ack,
    action: dict,
    body: dict,
    client: WebClient,
    runtime: Runtime,
    viewer: Viewer,
    today: date,
) -> None:
    shown = body.get("view") or {}
    group_id = as_int(meta_of(shown).get("group_id"))
    with runtime.unit_of_work() as session:
        groups.remove_pupil(
            session,
            viewer,
            group_id,
            as_int(action.get("value")),
            via=VIA_VIEW,
            now=runtime.now(),
            today=today,
        )
    update_modal(client, shown, _group_view(runtime, viewer, group_id, today))
    ack()


def end(
    ack: Ack,
    action: dict,
    body: dict,
    client: WebClient,
    runtime: Runtime,
    viewer: Viewer,
    today: date,
) -> None:
    shown = body.get("view") or {}
    group_id = as_int(action.get("value"))
    with runtime.unit_of_work() as session:
        groups.end(session, viewer, group_id, via=VIA_VIEW, now=runtime.now(), today=today)
    update_modal(client, shown, _group_view(runtime, viewer, group_id, today))
    ack()


def open_add(
    ack: Ack,
    action: dict,
    body: dict,
    client: WebClient,
    runtime: Runtime,
    viewer: Viewer,
    today: date,
) -> None:
    group_id = as_int(action.get("value"))
    with runtime.unit_of_work() as session:
        group = groups.load(session, viewer, group_id)
        if group is None:
            raise UserError(groups.NOT_FOUND)
        if not groups.may_change_members(viewer, group):
            raise UserError(groups.NOT_YOURS)
        name = group.name
    view = {
        "type": "modal",
        "callback_id": ADD_FORM,
        "title": _plain("Add pupils"),
        "submit": _plain("Add"),
        "close": _plain("Back"),
        "private_metadata": meta_json(group_id=group_id),
        "blocks": [
            {"type": "section", "block_id": "about", "text": _mrkdwn(
                f"Add pupils to *{escape_mrkdwn(name)}*. They join today; a pupil with a plan "
                "gets it as provision on their plan.")},
            _pupil_picker(optional=False),
        ],
    }  # fmt: skip
    open_modal(client, body["trigger_id"], view, push=True)
    ack()


def save_add(
    ack: Ack, view: dict, client: WebClient, runtime: Runtime, viewer: Viewer, today: date
) -> None:
    group_id = as_int(meta_of(view).get("group_id"))
    with runtime.unit_of_work() as session:
        groups.add_pupils(
            session,
            viewer,
            group_id,
            _picked_pupils(view["state"]["values"]),
            via=VIA_VIEW,
            now=runtime.now(),
            today=today,
        )
    if view.get("previous_view_id"):
        _refresh(client, runtime, viewer, today, group_id, view["previous_view_id"])
    ack()


# --- "Add to a group" on a plan ---------------------------------------------------------------


def open_join(
    ack: Ack,
    action: dict,
    body: dict,
    client: WebClient,
    runtime: Runtime,
    viewer: Viewer,
    today: date,
) -> None:
    pupil_id = as_int(action.get("value"))
    with runtime.unit_of_work() as session:
        choices = groups.current_groups(session, viewer.school_id, today)
        name = groups.plan_pupil_name(session, viewer, pupil_id)
    if name is None:
        raise UserError("I couldn't find that plan among the plans you hold.")
    if not choices:
        raise UserError(
            "Your school has no intervention groups running yet. The SENDCo sets them up "
            "with `/ssp group new`."
        )
    view = {
        "type": "modal",
        "callback_id": JOIN_FORM,
        "title": _plain("Add to a group"),
        "submit": _plain("Add"),
        "close": _plain("Back"),
        "private_metadata": meta_json(pupil_id=pupil_id),
        "blocks": [
            {"type": "section", "block_id": "about", "text": _mrkdwn(
                f"Which group should *{escape_mrkdwn(name)}* join? They join today, and their "
                "plan lists it as provision.")},
            {"type": "input", "block_id": "group", "label": _plain("Group"),
             "element": {**_group_menu(choices), "placeholder": _plain("Choose a group")}},
        ],
    }  # fmt: skip
    if len(choices) > MAX_SELECT_OPTIONS:
        view["blocks"][-1]["hint"] = _plain(
            f"Type a few letters of its name to find it among {len(choices)}."
        )
    open_modal(
        client, body["trigger_id"], view, push=(body.get("view") or {}).get("type") == "modal"
    )
    ack()


def _group_menu(choices: list[tuple[int, str, str]]) -> dict:
    """The school's current groups as a menu; more than Slack's 100 options are searched as
    the person types (suggest_groups)."""
    if len(choices) > MAX_SELECT_OPTIONS:
        return {"type": "external_select", "action_id": FIND_GROUP, "min_query_length": 1}
    options = [_group_option(i, n, s) for i, n, s in choices]
    return {"type": "static_select", "action_id": "value", "options": options}


def suggest_groups(ack: Ack, payload: dict, runtime: Runtime, viewer: Viewer, today: date) -> None:
    """The school's current groups whose name holds what was typed ("Add to a group")."""
    typed = " ".join(as_typed(str(payload.get("value") or "")).lower().split())
    found: list[tuple[int, str, str]] = []
    if typed and viewer.sees_anything:
        try:
            with runtime.unit_of_work() as session:
                found = groups.current_groups(session, viewer.school_id, today)
        except UserError:
            found = []
    matches = [c for c in found if typed in " ".join(c[1].lower().split())]
    ack(options=[_group_option(i, n, s) for i, n, s in matches[:MAX_SELECT_OPTIONS]])


def _group_option(group_id: int, name: str, schedule: str) -> dict:
    """A group as an option: its name, cut to leave its schedule whole within the 75."""
    return _option(f"{cut(name, MAX_OPTION_TEXT - len(schedule) - 3)} · {schedule}", group_id)


def save_join(ack: Ack, view: dict, runtime: Runtime, viewer: Viewer, today: date) -> None:
    chosen = (_value(view["state"]["values"], "group").get("selected_option") or {}).get("value")
    with runtime.unit_of_work() as session:
        group, pupil = groups.join_from_plan(
            session,
            viewer,
            as_int(meta_of(view).get("pupil_id")),
            as_int(chosen),
            via=VIA_PLAN,
            now=runtime.now(),
            today=today,
        )
        said = (
            f"*{escape_mrkdwn(pupil.known_as)}* is in *{escape_mrkdwn(group.name)}* from today; "
            "their plan lists it as provision."
        )
    ack(response_action="update", view=done_modal("Add to a group", said))


# --- Block Kit ---------------------------------------------------------------------------------


def _plain(text: str) -> dict:
    return {"type": "plain_text", "text": text}


def _mrkdwn(text: str) -> dict:
    return {"type": "mrkdwn", "text": text[:2900]}


def _context(text: str) -> dict:
    return {"type": "context", "elements": [_mrkdwn(text)]}


def _button(action_id: str, label: str, value=None, *, style: bool = False) -> dict:
    button = {"type": "button", "action_id": action_id, "text": _plain(label)}
    if value is not None:
        button["value"] = str(value)
    if style:
        button["style"] = "primary"
    return button


def _actions(block_id: str, elements: list[dict]) -> dict:
    return {"type": "actions", "block_id": block_id, "elements": elements}


def _option(label: str, value) -> dict:
    return {"text": _plain(cut(label, MAX_OPTION_TEXT)), "value": str(value)}


def cut(text: str, limit: int) -> str:
    """`text` in at most `limit` characters: whole when it fits, else cut at a word where one
    is near and ended with "…", so a 200-character name reads as a name, not a torn word."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    if space >= limit * 2 // 3:
        head = head[:space]
    return head.rstrip(" ,;:-·") + "…"


SUBCOMMANDS = (
    Subcommand(
        "groups",
        groups_command,
        pages=True,
        help=(
            Usage(
                "`/ssp groups` — the school's intervention groups (the groups you run, if you "
                "run any): when they meet, who runs them, their pupils and what has been "
                "delivered",
            ),
        ),
    ),
    Subcommand(
        "group",
        group_command,
        help=(
            Usage(
                "`/ssp group new` — set up an intervention group: an intervention from the "
                "library, who runs it, when, and its pupils",
                lambda viewer: viewer.is_sendco,
            ),
        ),
    ),
)
