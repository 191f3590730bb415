"""`/ssp provision library`: the school's provision library, the offer plans choose from.

Everyone who may see pupils reads it (it is the school's offer); only the SENDCo changes it:
"Add", and beside each entry a menu with "Edit" and "Retire" (or "Bring back"). Every click and
every form submitted is checked afresh against the verified request's Viewer (role middleware),
and which entry is looked up in the person's own school only, so an entry of another school reads
as one that isn't there. Retiring never deletes: plans keep the name. The service
(bot.services.provision_library) checks, saves and audits.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.access import Viewer
from bot.errors import UserError
from bot.render import escape_mrkdwn, render_json
from bot.services import provision_library as library
from handlers.context import Ask, Runtime, Subcommand, Usage
from handlers.presenters import pager, plural
from handlers.toolkit import (
    UsageError,
    as_int,
    done_modal,
    element,
    message,
    meta_json,
    meta_of,
    open_modal,
    page_of,
    requires,
    selected_value,
)
from models import BroadArea, LibraryProvision, ProvisionTier

ADD = "provlib_add"
ITEM_MENU = "provlib_item"
FORM = "provlib_form"
PER_PAGE = 20  # 20 sections and a few more blocks: far inside a message's 50
TITLE_ADD = "Add to the library"
TITLE_EDIT = "Edit library entry"
NOT_READER = (
    "The provision library is for the school's staff who support pupils: the SENDCo, senior "
    "leaders, case holders, teachers and teaching assistants. If that's you, ask your SENDCo."
)
USAGE = (
    "`/ssp provision library` shows the school's provision library; "
    "`/ssp provision library all` shows retired entries too."
)


def register(app: App) -> None:
    sendco = [requires(library.may_change, library.ONLY_SENDCO)]
    app.action(ADD, middleware=sendco)(open_add)
    app.action(ITEM_MENU, middleware=sendco)(item_menu)
    app.view(FORM, middleware=sendco)(save_form)


# --- /ssp provision library ------------------------------------------------------------------


def provision_command(ask: Ask) -> dict | None:
    """`/ssp provision library [all]` (on this branch a bare `/ssp provision` shows it too)."""
    words = [w.lower() for w in ask.words]
    if words[:1] == ["library"]:
        words = words[1:]
    if words not in ([], ["all"]):
        raise UsageError(USAGE)
    return library_reply(ask.runtime, ask.viewer, page=ask.page, show_all=words == ["all"])


def library_reply(
    runtime: Runtime, viewer: Viewer, *, page: int = 1, show_all: bool = False, done: str = ""
) -> dict:
    with runtime.unit_of_work() as session:
        items = library.entries(session, viewer.school_id)
        rows = [_row(item, viewer) for item in items if show_all or item.is_active]
    retired = sum(1 for item in items if not item.is_active)
    active = len(items) - retired
    manage = library.may_change(viewer)
    shown = page_of(rows, page, PER_PAGE)
    asked = "provision library all" if show_all else "provision library"
    about = f"{plural(active, 'entry', 'entries')} the school offers"
    if shown.pages > 1:
        about += f" · page {shown.page} of {shown.pages}"
    about += (
        ". Press *Add* to add one; change or retire one with the menu beside it. Plans "
        "choose their provision from here."
        if manage
        else ". Plans choose their provision from here; only the SENDCo changes the library."
    )
    hidden = None
    if retired and not show_all:
        hidden = (
            f"{plural(retired, 'retired entry', 'retired entries')} not shown: "
            "`/ssp provision library all` lists them too."
        )
    return message(
        "provision_library.json.j2",
        summary=f"The school's provision library: {plural(active, 'entry', 'entries')}",
        about=about,
        done=done,
        items=shown.items,
        empty=(
            "_The library is empty._ Press *Add*, or import a CSV with `sspbot import provision`."
            if manage
            else "_The library is empty._ Your SENDCo adds what the school offers."
        ),
        hidden=hidden,
        manage=manage,
        pager=pager(asked, shown),
    )


@dataclass(frozen=True)
class Row:
    text: str
    menu: tuple[tuple[str, str], ...] | None


def _row(item: LibraryProvision, viewer: Viewer) -> Row:
    return Row(entry_text(item), _menu(item) if library.may_change(viewer) else None)


def entry_text(item: LibraryProvision) -> str:
    """One entry in mrkdwn: name, tier and area, then how it runs, who delivers it, its cost."""
    name = f"*{escape_mrkdwn(item.name)}*" + ("" if item.is_active else " _(retired)_")
    lines = [f"{name} · {item.tier.label} · {item.area_of_need.label}"]
    how = [part for part in (library.frequency(item), library.group(item)) if part]
    if item.staff_role:
        how.append(f"by {escape_mrkdwn(item.staff_role)}")
    if how:
        lines.append(", ".join(how))
    cost = library.costs(item)
    if cost:
        lines.append(f"Cost: {cost}")
    if item.description:
        words = " ".join(item.description.split())
        lines.append(f"_{escape_mrkdwn(words if len(words) <= 300 else words[:299] + '…')}_")
    return "\n".join(lines)


def _menu(item: LibraryProvision) -> tuple[tuple[str, str], ...]:
    change = (
        ("Retire", f"retire:{item.id}") if item.is_active else ("Bring back", f"restore:{item.id}")
    )
    return (("Edit", f"edit:{item.id}"), change)


# --- the SENDCo's buttons and form --------------------------------------------------------------


def open_add(ack: Ack, body: dict, client: WebClient, runtime: Runtime, viewer: Viewer) -> None:
    open_modal(client, body["trigger_id"], _form(None), "the form")


def item_menu(
    ack: Ack,
    action: dict,
    body: dict,
    client: WebClient,
    respond: Respond,
    runtime: Runtime,
    viewer: Viewer,
) -> None:
    """Edit, Retire or Bring back, from the menu beside an entry: its value names the entry,
    looked up in the person's own school."""
    chosen = str((action.get("selected_option") or {}).get("value") or "")
    what, _, item_id = chosen.partition(":")
    if what == "edit":
        with runtime.unit_of_work() as session:
            item = library.entry(session, viewer.school_id, as_int(item_id))
            view = _form(item) if item is not None else None
        if view is None:
            raise UserError(library.GONE)
        open_modal(client, body["trigger_id"], view, "the form")
        ack()
        return
    if what not in ("retire", "restore"):
        raise UserError(library.GONE)
    with runtime.unit_of_work() as session:
        item = library.set_active(
            session, viewer, as_int(item_id), what == "restore", now=runtime.now()
        )
        name = escape_mrkdwn(item.name)
    done = (
        f":white_check_mark: *{name}* is retired: plans that use it keep its name, and new "
        "plans can't choose it."
        if what == "retire"
        else f":white_check_mark: *{name}* is back in the library."
    )
    ack()
    respond(replace_original=True, **library_reply(runtime, viewer, done=done))


def save_form(ack: Ack, view: dict, runtime: Runtime, viewer: Viewer) -> None:
    meta = meta_of(view)
    item_id = as_int(meta["item_id"]) if "item_id" in meta else None
    values = view["state"]["values"]
    typed = {
        field: (
            selected_value(values, field)
            if field in ("area_of_need", "tier")
            else element(values, field).get("value")
        )
        for field in library.FIELDS
    }
    with runtime.unit_of_work() as session:
        # Which entry first: a form naming one not in this school is answered as gone, not
        # checked field by field against this school's names.
        if item_id is not None and library.entry(session, viewer.school_id, item_id) is None:
            raise UserError(library.GONE)
        checked = library.check(session, viewer.school_id, typed, item_id)
        if checked.problems:
            problems = checked.problems
        else:
            problems = None
            item = library.save(session, viewer, item_id, checked.values, now=runtime.now())
            name = item.name
    if problems:
        ack(response_action="errors", errors=problems)
        return
    verb = "added to" if item_id is None else "saved in"
    ack(
        response_action="update",
        view=done_modal(
            TITLE_ADD if item_id is None else TITLE_EDIT,
            f"*{escape_mrkdwn(name)}* is {verb} the school's provision library. "
            "`/ssp provision library` shows the library as it is now.",
        ),
    )


def _form(item: LibraryProvision | None) -> dict:
    values = library.form_values(item)
    intro = (
        "What the school offers, as plans will choose it. Costs are in pounds; leave anything "
        "you don't know empty."
    )
    return render_json(
        "provision_library_form.json.j2",
        title=TITLE_ADD if item is None else TITLE_EDIT,
        intro=intro,
        values=values,
        areas=[(a.value, a.label) for a in BroadArea],
        tiers=[(t.value, t.label) for t in ProvisionTier],
        meta=meta_json(item_id=item.id if item is not None else None),
    )


# --- /ssp subcommands answered here -----------------------------------------------------------

SUBCOMMANDS = (
    Subcommand(
        "provision",
        provision_command,
        pages=True,
        help=(
            Usage(
                "`/ssp provision library` — the school's provision library: the interventions "
                "and ordinarily available provision plans choose from",
                library.may_read,
            ),
        ),
        allowed=library.may_read,
        refusal=NOT_READER,
    ),
)
