"""Closing a plan: the SENDCo's "Close plan" button on the plan, and `/ssp close <pupil>`.

Who may do what: every listener here is for the SENDCo (role middleware at registration, or, for
"Transfer records", the service, which audits a refusal), since Slack delivers a click from
anyone who has the message or the modal; which plan is decided by the services from the signed
request and the plan's version in private_metadata.
"""

from __future__ import annotations

import logging

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.access import Viewer
from bot.errors import UserError
from bot.render import escape_mrkdwn, render_json
from bot.services import audit, closure, evidence, outbox, pupils
from bot.services.download_links import (
    LINK_LIFETIME,
    MAX_DOWNLOADS,
    FileFormat,
    create_pack_links,
)
from handlers.context import Ask, Runtime, Subcommand, Usage
from handlers.toolkit import (
    PupilButton,
    UsageError,
    as_int,
    done_modal,
    find_one_pupil,
    meta_json,
    meta_of,
    open_modal,
    requires,
    selected_value,
    text_value,
)
from models import ClosureReason

log = logging.getLogger(__name__)

CLOSE_PICK = PupilButton("ssp_close_pick", "Close plan")
LEAVERS_VIA = "leavers message"
TITLE = "Close plan"
REASONS = [
    ("Needs met", ClosureReason.NEEDS_MET),
    ("Left the school", ClosureReason.LEFT_SCHOOL),
    ("Moved to an EHC plan", ClosureReason.EHC_PLAN),
    ("Other", ClosureReason.OTHER),
]


def register(app: App) -> None:
    sendco = [requires(lambda viewer: viewer.is_sendco, closure.ONLY_SENDCO)]
    app.action("plan_close", middleware=sendco)(close_from_plan)
    app.action(CLOSE_PICK.action_id, middleware=sendco)(close_from_choice)
    app.view("ssp_close_plan", middleware=sendco)(submit_close)
    app.action("ssp_leavers_close", middleware=sendco)(close_leavers)
    # No role middleware: the listener refuses anyone but this school's SENDCo, and audits it.
    app.action("ssp_leavers_transfer")(transfer_leavers)


def close_command(ask: Ask) -> dict | None:
    """`/ssp close <pupil>`: the closing form for their plan."""
    if not ask.words:
        raise UsageError("Say which pupil: `/ssp close <UPN or name>`.")
    # A leaver's plan too: the SENDCo need not wait for it to close by itself.
    choice = find_one_pupil(
        ask.runtime,
        ask.viewer,
        " ".join(ask.words),
        CLOSE_PICK,
        via="/ssp close",
        find=pupils.find_pupil_records,
    )
    if choice.pupil_id is None:
        return choice.choices
    open_modal(ask.client, ask.trigger_id, _form(ask.runtime, ask.viewer, choice.pupil_id))
    return None


def close_from_plan(
    ack: Ack, action: dict, body: dict, client: WebClient, runtime: Runtime, viewer: Viewer
) -> None:
    """ "Close plan" in the plan modal: the form is stacked on top of the plan."""
    view = _form(runtime, viewer, as_int(action.get("value")))
    open_modal(client, body["trigger_id"], view, push=True)
    ack()


def close_from_choice(
    ack: Ack, action: dict, body: dict, client: WebClient, runtime: Runtime, viewer: Viewer
) -> None:
    view = _form(runtime, viewer, as_int(action.get("value")))
    open_modal(client, body["trigger_id"], view)
    ack()


def submit_close(ack: Ack, view: dict, runtime: Runtime, viewer: Viewer) -> None:
    values = view["state"]["values"]
    chosen = selected_value(values, "reason")
    if chosen is None:
        ack(response_action="errors", errors={"reason": "Choose why the plan is closing."})
        return
    reason = ClosureReason(chosen)
    note = text_value(values, "note")
    if reason == ClosureReason.OTHER and not (note or "").strip():
        ack(response_action="errors", errors={"note": "Say in a few words why it is closing."})
        return
    meta = meta_of(view)
    try:
        with runtime.unit_of_work() as session:
            plan = closure.close_plan(
                session,
                viewer,
                plan_id=as_int(meta.get("plan_id")),
                expected_version=as_int(meta.get("version")),
                reason=reason,
                note=note,
                now=runtime.now(),
                via="close plan",
            )
            name = plan.pupil.known_as
    except UserError as refusal:
        ack(response_action="update", view=done_modal(TITLE, str(refusal)))
        return
    ack(
        response_action="update",
        view=done_modal(
            TITLE,
            f"{escape_mrkdwn(name)}'s plan is closed ({reason.label}). It is kept, read-only, "
            "in their history (`/ssp pupil`), and nothing more will be asked about it.",
        ),
    )


def close_leavers(
    ack: Ack, action: dict, body: dict, runtime: Runtime, viewer: Viewer, respond
) -> None:
    """ "Close their plans" in the leavers message: each leaver's plan closes, and the message
    says so in place of the button."""
    ack()
    with runtime.unit_of_work() as session:
        names = closure.confirm_leavers(
            session, viewer, as_int(action.get("value")), now=runtime.now()
        )
    text = (
        f"Closed (left the school): {', '.join(escape_mrkdwn(n) for n in names)}."
        if names
        else "Those plans are closed already."
    )
    respond(replace_original=True, text=text)


def transfer_leavers(
    ack: Ack, action: dict, body: dict, runtime: Runtime, viewer: Viewer, respond
) -> None:
    """ "Transfer records" in the leavers message: for each leaver it named whose plan is still
    open, the transfer record for their next school (download links, in a reply only the SENDCo
    sees), and their plan closes.

    All of it or none of it: the links are shown before the unit of work ends, and when Slack
    does not show them the links are not kept and no plan closes (a closed plan whose record
    nobody received would be half-done); the SENDCo is told to press again. Who may is decided
    here, not by role middleware, so that a click by anyone else (a teacher, another school's
    staff) is refused and audited."""
    now = runtime.now()
    refused: UserError | None = None
    made: list[tuple[str, dict]] = []
    try:
        with runtime.unit_of_work() as session:
            try:
                prompt, plans = closure.leavers_of(session, viewer, as_int(action.get("value")))
            except closure.ClosureRefused as refusal:
                audit.record_refusal(
                    session, viewer, via=LEAVERS_VIA, now=now, detail="transfer records refused"
                )
                refused, plans = refusal, []
            for plan in plans:
                plan, _ = evidence.prepare(
                    session, viewer, plan.pupil_id, transfer=True, now=now, via=LEAVERS_VIA
                )
                tokens = create_pack_links(
                    session, viewer, plan, transfer=True, now=now, via=LEAVERS_VIA
                )
                made.append((plan.pupil.known_as, tokens))
            if made:
                outbox.mark_answered(session, prompt.id, now, school_id=viewer.school_id)
                _show_links(respond, runtime, made)  # NotShown: all of the above undone
    except NotShown as failed:
        log.warning("the transfer records' links were not shown: %s", failed.code)
        respond(response_type="ephemeral", replace_original=False, text=TRANSFER_NOT_SHOWN)
        return
    if refused is not None:  # once the refusal's audit row is kept
        raise refused
    if not made:
        respond(
            response_type="ephemeral",
            replace_original=False,
            text="Their plans are closed already. `/ssp export <pupil> --transfer` makes the "
            "transfer record of any of them.",
        )


class NotShown(Exception):
    """Slack did not show a reply (its answer, or none): what it was to show is not kept."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


TRANSFER_NOT_SHOWN = (
    "Sorry, Slack didn't show the transfer records just then, so none were made and their "
    "plans are still open. Press *Transfer records* again in a minute; if it keeps happening, "
    "`/ssp export <pupil> --transfer` makes each one."
)


def _show_links(respond, runtime: Runtime, made: list[tuple[str, dict]]) -> None:
    base = runtime.settings.link_base.rstrip("/") + "/download/"
    lines = [
        f"• {escape_mrkdwn(name)}: <{base + tokens[FileFormat.PDF]}|PDF> · "
        f"<{base + tokens[FileFormat.HTML]}|web page (HTML)>"
        for name, tokens in made
    ]
    minutes = int(LINK_LIFETIME.total_seconds() // 60)
    reply = render_json(
        "export_links.json.j2",
        text="Transfer records for their next schools are ready to download.",
        links=(
            "Transfer records for their next schools (their plans are now closed, left the "
            "school, and kept in their history):\n" + "\n".join(lines)
        ),
        terms=(
            f"Only you can see this. The links work for {minutes} minutes and "
            f"{MAX_DOWNLOADS} downloads each; `/ssp export <pupil> --transfer` makes new ones."
        ),
    )
    try:
        # No CheckedRespond apology: the one said when Slack refuses these is TRANSFER_NOT_SHOWN.
        answer = respond(
            response_type="ephemeral", replace_original=False, apologise=False, **reply
        )
    except OSError as error:
        raise NotShown(type(error).__name__) from None
    if answer.status_code != 200:
        raise NotShown(str(answer.status_code))


def _form(runtime: Runtime, viewer: Viewer, pupil_id: int) -> dict:
    with runtime.unit_of_work() as session:
        plan = closure.plan_to_close(session, viewer, pupil_id)
    intro = (
        f"Close *{escape_mrkdwn(plan.pupil_name)}*'s plan (plan {plan.cycle}, "
        f"{plan.status.label.lower()})? It is kept, read-only, in their history; its review "
        "and monitoring prompts stop."
    )
    return render_json(
        "close_plan_modal.json.j2",
        intro=intro,
        reasons=[(label, reason.value) for label, reason in REASONS],
        meta=meta_json(plan_id=plan.plan_id, version=plan.version),
    )


SUBCOMMANDS = (
    Subcommand(
        "close",
        close_command,
        help=(
            Usage(
                "`/ssp close <UPN or name>` — close a pupil's plan, with the reason (needs "
                "met, left the school, moved to an EHC plan, other)",
                lambda viewer: viewer.is_sendco,
            ),
        ),
        allowed=lambda viewer: viewer.is_sendco,
        refusal=closure.ONLY_SENDCO,
    ),
)
