"""The pupil passport and a teacher's class view: `/ssp passport`, `/ssp class`, and their
buttons ("Passport", "Printable copy (PDF)", a class's "Show" on the App Home or in a list).

Everything here is private: an ephemeral reply, or a modal where the click came from a modal or
the App Home (which have no response URL). Who may see what is decided afresh on every request
from the signed user (bot.services.passport); a button's value is only a pupil or class id to
look up among what that person may see. "Not yours" and "no such pupil or class" read the same.
"""

from __future__ import annotations

from datetime import date

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.access import Viewer
from bot.errors import UserError
from bot.render import escape_mrkdwn, mention, render_json, uk_date, year_label
from bot.services import audit
from bot.services.download_links import LINK_LIFETIME, MAX_DOWNLOADS, create_passport_link
from bot.services.passport import (
    ClassCount,
    ClassView,
    Passport,
    audit_class_view,
    audit_classes,
    class_view,
    classes_of,
    load_passport,
    passport_for,
)
from handlers.context import Ask, Runtime, Subcommand, Usage
from handlers.presenters import listed, pager, plural, pupil_line
from handlers.toolkit import (
    NO_ACCESS,
    NO_SUCH_PUPIL,
    PupilButton,
    UsageError,
    as_int,
    as_typed,
    find_one_pupil,
    message,
    open_modal,
    page_of,
)

PASSPORT_BUTTON = PupilButton("ssp_passport", "Passport")
PRINT_ACTION = "ssp_passport_print"
CLASS_ACTION = "ssp_class_show"
VIA_COMMAND = "/ssp passport"
VIA_BUTTON = "Passport button"
VIA_PRINT = "Passport printable copy"
VIA_CLASSES = "/ssp class"
VIA_CLASS_BUTTON = "class button"
DOWNLOAD_PATH = "/download/"

PUPILS_PER_PAGE = 15  # a class view's pupils per message: each is a block of a few lines
PUPILS_IN_MODAL = 40  # from the App Home (a modal holds 100 blocks); the rest via /ssp class
CLASSES_SHOWN = 40  # classes listed by `/ssp class` (a message holds 50 blocks)
TEXT_SHOWN = 1200  # characters of each free text in Slack; the printable copy has it all
ITEMS_SHOWN = 15  # adjustments, needs or targets listed in Slack
SECTION_BUDGET = 2500  # characters of a list's items in one section (Slack allows 3,000)
ACCESS_IN_CLASS = 3  # access arrangements per pupil in a class view; the passport has them all

NOT_VISIBLE = "I couldn't find that pupil among the pupils you can see."
NO_SUCH_CLASS = (
    "I couldn't find a class “{code}” among the classes you teach. "
    "`/ssp class` lists yours, with their codes."
)
NO_CLASSES = (
    "You don't have any classes on SSP Bot's class lists. They come from the school's timetable "
    "(the roster import); if yours are missing, ask your SENDCo."
)


def register(app: App) -> None:
    app.action(PASSPORT_BUTTON.action_id)(show_passport)
    app.action(PRINT_ACTION)(print_passport)
    app.action(CLASS_ACTION)(show_class)


# --- /ssp passport ----------------------------------------------------------------------------


def passport_command(ask: Ask) -> dict:
    if not ask.words:
        raise UsageError("Say which pupil: `/ssp passport <UPN or name>`.")
    query = " ".join(ask.words)
    choice = find_one_pupil(ask.runtime, ask.viewer, query, PASSPORT_BUTTON, via=VIA_COMMAND)
    if choice.pupil_id is None:
        return choice.choices
    with ask.runtime.unit_of_work() as session:
        passport = load_passport(
            session,
            ask.viewer,
            choice.pupil_id,
            via=VIA_COMMAND,
            now=ask.runtime.now(),
            today=ask.today,
        )
    if passport is None:
        raise UserError(NO_SUCH_PUPIL.format(query=escape_mrkdwn(as_typed(query)[:80])))
    return message("passport.json.j2", **_passport_context(passport))


def show_passport(
    ack: Ack,
    action: dict,
    body: dict,
    client: WebClient,
    respond: Respond,
    runtime: Runtime,
    viewer: Viewer,
    today: date,
) -> None:
    """ "Passport" beside a pupil (a class view, `/ssp pupil`, a list of matches): in a modal over
    a modal or the App Home, else a new ephemeral message under the list."""
    with runtime.unit_of_work() as session:
        passport = load_passport(
            session,
            viewer,
            as_int(action.get("value")),
            via=VIA_BUTTON,
            now=runtime.now(),
            today=today,
        )
    if passport is None:
        raise UserError(NOT_VISIBLE)
    context = _passport_context(passport)
    shown_in = body.get("view")
    if shown_in:
        view = render_json("passport_modal.json.j2", **context)
        open_modal(client, body["trigger_id"], view, "the passport", push=_in_modal(shown_in))
        ack()
        return
    ack()
    respond(replace_original=False, **message("passport.json.j2", **context))


def print_passport(
    ack: Ack,
    action: dict,
    body: dict,
    client: WebClient,
    respond: Respond,
    runtime: Runtime,
    viewer: Viewer,
    today: date,
) -> None:
    """ "Printable copy (PDF)": a short-lived download link, as `/ssp export` gives, for one A4
    page. Access is checked now and again at the download (bot.services.download_links)."""
    pupil_id = as_int(action.get("value"))
    with runtime.unit_of_work() as session:
        passport = passport_for(session, viewer, pupil_id, today)
        if passport is None:
            audit.record_refusal(
                session,
                viewer,
                via=VIA_PRINT,
                now=runtime.now(),
                pupil_id=pupil_id,
                detail="pupil passport download refused",
            )
        else:
            token = create_passport_link(session, viewer, passport, runtime.now(), via=VIA_PRINT)
    if passport is None:
        raise UserError(NOT_VISIBLE)
    url = runtime.settings.link_base.rstrip("/") + DOWNLOAD_PATH + token
    name = escape_mrkdwn(passport.name)
    minutes = int(LINK_LIFETIME.total_seconds() // 60)
    links = f"{name}'s pupil passport is ready to print: <{url}|Download the PDF> (one A4 page)"
    terms = (
        f"Only you can see this. The link works for {minutes} minutes and {MAX_DOWNLOADS} "
        "downloads, and only while you still support the pupil. Please don't pass it on; keep "
        "the printed page in the cover folder, not on display."
    )
    shown_in = body.get("view")
    if shown_in:
        view = render_json(
            "plan_notice_modal.json.j2",
            title="Pupil passport",
            paragraphs=[links, terms],
            reload=False,
            meta="{}",
        )
        open_modal(client, body["trigger_id"], view, "the link", push=_in_modal(shown_in))
        ack()
        return
    ack()
    respond(
        replace_original=False,
        **message(
            "export_links.json.j2",
            text=f"{name}'s pupil passport is ready to download.",
            links=links,
            terms=terms,
        ),
    )


def _in_modal(view: dict) -> bool:
    return view.get("type") == "modal"


def _passport_context(p: Passport) -> dict:
    """The words of a passport in Slack: escaped, long texts cut (the PDF has them whole)."""
    where = year_label(p.year_group)
    if not p.taught_in_year_group:
        where += " (taught out of year group)"
    if p.form:
        where += f" · form {escape_mrkdwn(p.form)}"
    holder = mention(p.case_holder_slack_id, p.case_holder) if p.case_holder else None
    about = " · ".join(
        part
        for part in (
            where,
            f"plan {p.plan_number}",
            f"case holder {holder}" if holder else "no case holder yet",
            "key adult " + ", ".join(mention(slack_id, name) for slack_id, name in p.key_adults)
            if p.key_adults
            else None,
            f"next review {uk_date(p.review_date)}" if p.review_date else None,
        )
        if part
    )
    paragraphs = []
    if p.draft:
        paragraphs.append(":memo: _This plan is still being written: the passport may change._")
    if p.must_know or p.must_know_flags:
        lines = ["*:warning: Must know*"]
        if p.must_know_flags:
            lines.append("*" + " · ".join(p.must_know_flags) + "*")
        if p.must_know:
            lines.append(_text(p.must_know))
        paragraphs.append("\n".join(lines))
    paragraphs += [
        f"*What people like and admire about me*\n{_text(p.liked_and_admired)}",
        f"*What's important to me*\n{_text(p.important_to_me)}",
        f"*How best to support me and communicate with me*\n{_text(p.how_to_support_me)}",
        listed(
            "*My needs, in plain words*",
            _items(f"_{escape_mrkdwn(n.area)}:_ {_cut(n.description)}" for n in p.needs),
            empty="_Not written yet._",
        ),
        listed("*In class*", _items(_cut(a) for a in p.adjustments), empty="_None recorded._"),
        listed(
            "*Access arrangements*",
            _items(_cut(a) for a in p.access_arrangements),
            empty="_None recorded._",
        ),
        listed(
            "*What I'm working on now*",
            _items(
                _cut(t.description) + (f" _(by {uk_date(t.by)})_" if t.by else "")
                for t in p.targets
            ),
            empty="_No targets yet._",
        ),
    ]
    return {
        "summary": f"Pupil passport: {p.name}",
        "title": f"{p.name}: pupil passport",
        "about": about,
        "paragraphs": paragraphs,
        "pupil_id": p.pupil_id,
        "footer": (
            "Only you can see this. Made from the pupil's SEN Support Plan; the case holder "
            "keeps it up to date. It leaves out the rest of the record."
        ),
    }


def _text(value: str | None) -> str:
    return _cut(value, TEXT_SHOWN) if value else "_Not written yet._"


def _cut(value: str, limit: int = 300) -> str:
    """Escaped for mrkdwn after cutting, so an escape is never cut in half."""
    value = value.strip()
    if len(value) > limit:
        value = value[: limit - 1].rstrip() + "…"
    return escape_mrkdwn(value)


def _items(lines) -> list[str]:
    """As many lines as fit one section (ITEMS_SHOWN at most), then how many more there are:
    Slack would cut a longer section wherever it reached its limit."""
    lines = list(lines)
    shown: list[str] = []
    used = 0
    for line in lines[:ITEMS_SHOWN]:
        used += len(line) + 3
        if used > SECTION_BUDGET:
            break
        shown.append(line)
    more = len(lines) - len(shown)
    return shown + ([f"…and {more} more: the printable copy has them all"] if more else [])


# --- /ssp class -------------------------------------------------------------------------------


def class_command(ask: Ask) -> dict:
    if not ask.words:
        return _class_list(ask)
    code = as_typed(ask.text)
    if len(code) > 50:  # TeachingGroup.code's length: no class is called that
        raise UserError(NO_SUCH_CLASS.format(code=escape_mrkdwn(code[:50]) + "…"))
    with ask.runtime.unit_of_work() as session:
        view = class_view(session, ask.viewer, code=code, via=VIA_CLASSES, now=ask.runtime.now())
        if view is not None:
            shown = page_of(view.pupils, ask.page, PUPILS_PER_PAGE)
            audit_class_view(
                session, ask.viewer, view, list(shown.items), via=VIA_CLASSES, now=ask.runtime.now()
            )
    if view is None:
        raise UserError(NO_SUCH_CLASS.format(code=escape_mrkdwn(code)))
    return message(
        "class_view.json.j2",
        **_class_context(view, shown.items, shown.total),
        pager=pager(f"class {view.code}", shown),
        page_note=f" · page {shown.page} of {shown.pages}" if shown.pages > 1 else "",
    )


def show_class(
    ack: Ack,
    action: dict,
    body: dict,
    client: WebClient,
    respond: Respond,
    runtime: Runtime,
    viewer: Viewer,
) -> None:
    """A class's "Show" button: on the App Home a modal (the first PUPILS_IN_MODAL pupils), in a
    message a new ephemeral message with Previous/Next."""
    shown_in = body.get("view")
    per_page = PUPILS_IN_MODAL if shown_in else PUPILS_PER_PAGE
    with runtime.unit_of_work() as session:
        view = class_view(
            session,
            viewer,
            group_id=as_int(action.get("value")),
            via=VIA_CLASS_BUTTON,
            now=runtime.now(),
        )
        if view is not None:
            shown = page_of(view.pupils, 1, per_page)
            audit_class_view(
                session, viewer, view, list(shown.items), via=VIA_CLASS_BUTTON, now=runtime.now()
            )
    if view is None:
        raise UserError(
            "I couldn't find that class among the classes you teach. `/ssp class` lists yours."
        )
    context = _class_context(view, shown.items, shown.total)
    if shown_in:
        more = shown.total - len(shown.items)
        modal = render_json(
            "class_view_modal.json.j2",
            **context,
            more=(
                f"…and {more} more: type `/ssp class {escape_mrkdwn(view.code)}` to page through."
                if more > 0
                else None
            ),
        )
        open_modal(client, body["trigger_id"], modal, "the class", push=_in_modal(shown_in))
        ack()
        return
    ack()
    respond(
        replace_original=False,
        **message(
            "class_view.json.j2",
            **context,
            pager=pager(f"class {view.code}", shown),
            page_note=f" · page {shown.page} of {shown.pages}" if shown.pages > 1 else "",
        ),
    )


def _class_context(view: ClassView, pupils, total: int) -> dict:
    title = class_title(view.code, view.subject)
    without = (
        f" · {plural(view.without_plan, 'pupil')} without a plan not listed"
        if view.without_plan
        else ""
    )
    return {
        "summary": f"{title}: {plural(total, 'pupil')} with a plan",
        "title": title,
        "about": f"{plural(total, 'pupil')} with a SEN Support Plan{without}",
        "empty": (
            "Nobody in this class has a SEN Support Plan at the moment." if not total else None
        ),
        "pupils": [
            (
                "\n".join(
                    [
                        pupil_line(p.name, p.year_group, p.form),
                        *(f"• {escape_mrkdwn(s)}" for s in p.strategies),
                        *(
                            [
                                "_Access arrangements:_ "
                                + "; ".join(
                                    escape_mrkdwn(a)
                                    for a in p.access_arrangements[:ACCESS_IN_CLASS]
                                )
                                + (
                                    f" (and {len(p.access_arrangements) - ACCESS_IN_CLASS} more)"
                                    if len(p.access_arrangements) > ACCESS_IN_CLASS
                                    else ""
                                )
                            ]
                            if p.access_arrangements
                            else []
                        ),
                    ]
                    + ([] if p.strategies else ["_No strategies written yet._"])
                ),
                p.pupil_id,
            )
            for p in pupils
        ],
        "footer": (
            "Only you can see this. Key strategies come from each pupil's plan (in-class "
            "adjustments first, then how they like to be supported); *Passport* shows the rest."
        ),
    }


def class_title(code: str, subject: str | None) -> str:
    """ "9A/En1 · English": how a class is named in a header (plain text)."""
    return f"{code} · {subject}" if subject else code


def class_line(c: ClassCount) -> str:
    """A class in a list, with its counts (mrkdwn)."""
    name = f"*{escape_mrkdwn(c.code)}*"
    if c.subject:
        name += f" · {escape_mrkdwn(c.subject)}"
    if c.year_group is not None:
        name += f" · {year_label(c.year_group)}"
    return f"{name}\n{c.with_plan} of {plural(c.pupils, 'pupil')} with a SEN Support Plan"


def _class_list(ask: Ask) -> dict:
    with ask.runtime.unit_of_work() as session:
        classes = classes_of(session, ask.viewer)
        audit_classes(session, ask.viewer, classes, via=VIA_CLASSES, now=ask.runtime.now())
    if not classes:
        raise UserError(NO_CLASSES)
    more = len(classes) - CLASSES_SHOWN
    return message(
        "class_list.json.j2",
        summary=f"Your classes: {len(classes)}",
        about=(
            f"{plural(len(classes), 'class', 'classes')} you teach, as of {uk_date(ask.today)}. "
            "*Show* lists a class's pupils with a plan, with their key strategies; or type "
            "`/ssp class <class code>`."
        ),
        classes=[(class_line(c), c.group_id) for c in classes[:CLASSES_SHOWN]],
        more=f"…and {more} more: type `/ssp class <class code>`." if more > 0 else None,
    )


# --- /ssp subcommands answered here -----------------------------------------------------------

SUBCOMMANDS = (
    Subcommand(
        "passport",
        passport_command,
        help=(
            Usage(
                "`/ssp passport <UPN or name>` — a pupil's one-page passport: what helps them, "
                "adjustments, access arrangements and targets (and a printable copy)",
                lambda viewer: viewer.sees_anything,
            ),
        ),
        allowed=lambda viewer: viewer.sees_anything,
        refusal=NO_ACCESS,
    ),
    Subcommand(
        "class",
        class_command,
        help=(
            Usage(
                "`/ssp class` — your classes, with how many pupils in each have a plan; "
                "`/ssp class <class code>` — those pupils' key strategies and access "
                "arrangements",
                lambda viewer: viewer.sees_anything,
            ),
        ),
        pages=True,
    ),
)
