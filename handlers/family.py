"""Asking the family or the pupil from Slack (bot.services.family): "Ask the family" and "Ask the
pupil" on the plan and on a review prompt open a form of what to ask; the link it makes is shown
only in that modal, with its expiry, never in a message. "Revoke link" stops one. When a family
or pupil sends their views the case holder gets a DM (handlers.messages) whose "Read them" opens
them in a modal, with "Add to the plan" and "Not now".

Who may do what: the listeners are for the plans' writers (role middleware at registration); the
service lets only the plan's case holder or a SENDCo, and refuses anyone else (audited). Which
plan, link or contribution is decided from the id within the verified request's school.
"""

from __future__ import annotations

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.access import Viewer
from bot.errors import UserError
from bot.render import escape_mrkdwn, render_json
from bot.services import family
from bot.services.calendar import long_day
from handlers import family_link
from handlers.context import Runtime
from handlers.toolkit import (
    as_int,
    done_modal,
    meta_json,
    meta_of,
    open_modal,
    requires,
    tell,
    update_modal,
)
from models import InvitationPurpose

ASK_TITLE = {
    InvitationPurpose.FAMILY_VIEWS: "Ask the family",
    InvitationPurpose.PUPIL_VIEWS: "Ask the pupil",
}
NO_PUBLIC_URL = (
    "Links for families need the address of SSP Bot's pages: ask your IT lead to set "
    "PUBLIC_URL (see the README, “Families and young people”)."
)


def register(app: App) -> None:
    writes = [requires(lambda viewer: viewer.writes_plans, family.NOT_YOURS)]
    app.action("ssp_ask_family", middleware=writes)(ask_family)
    app.action("ssp_ask_pupil", middleware=writes)(ask_pupil)
    app.view("ssp_family_ask", middleware=writes)(make_link)
    app.action("ssp_link_revoke", middleware=writes)(revoke)
    app.action("ssp_contribution_read", middleware=writes)(read)
    app.view("ssp_contribution_add", middleware=writes)(add)
    family_link.register(app)


def ask_family(ack, action, body, client, context, runtime, viewer) -> None:
    _ask(ack, action, body, client, context, runtime, viewer, InvitationPurpose.FAMILY_VIEWS)


def ask_pupil(ack, action, body, client, context, runtime, viewer) -> None:
    _ask(ack, action, body, client, context, runtime, viewer, InvitationPurpose.PUPIL_VIEWS)


def _ask(
    ack: Ack,
    action: dict,
    body: dict,
    client: WebClient,
    context,
    runtime: Runtime,
    viewer: Viewer,
    purpose: InvitationPurpose,
) -> None:
    if not runtime.settings.public_url:
        ack()
        tell(body, context, NO_PUBLIC_URL)
        return
    try:
        with runtime.unit_of_work() as session:
            form = family.ask_form(
                session, viewer, as_int(action.get("value")), purpose, runtime.now()
            )
    except UserError as problem:
        ack()
        tell(body, context, str(problem))
        return
    who = "the family" if purpose == InvitationPurpose.FAMILY_VIEWS else "the pupil"
    view = render_json(
        "family_ask_modal.json.j2",
        title=ASK_TITLE[purpose],
        intro=f"A link for {who} of *{escape_mrkdwn(form.pupil_name)}* to give their views on a "
        "web page: they confirm the pupil's date of birth first. Choose what to ask.",
        links=[
            {
                "id": link.id,
                "text": f"A link made {link.created_on:%-d %B} is open until "
                f"{long_day(link.expires_on)} "
                f"({link.submissions} of {link.max_submissions} answers used).",
            }
            for link in form.open_links[:20]
        ],
        questions=form.questions,
        footer=f"The link lasts {family.LINK_DAYS} days and can be used "
        f"{family.MAX_SUBMISSIONS} times. You'll get a message when answers arrive.",
        meta=meta_json(plan_id=form.plan_id, purpose=purpose.value),
    )
    in_modal = (body.get("view") or {}).get("type") == "modal"
    open_modal(client, body["trigger_id"], view, push=in_modal)
    ack()


def make_link(ack: Ack, view: dict, runtime: Runtime, viewer: Viewer) -> None:
    meta = meta_of(view)
    ticked = (view["state"]["values"].get("questions") or {}).get("value") or {}
    keys = [option["value"] for option in ticked.get("selected_options") or []]
    if not keys:
        ack(response_action="errors", errors={"questions": "Choose at least one question."})
        return
    try:
        purpose = InvitationPurpose(meta.get("purpose"))
    except ValueError:
        ack(response_action="update", view=done_modal("Ask", family.GONE))
        return
    if not runtime.settings.public_url:
        ack(response_action="update", view=done_modal(ASK_TITLE[purpose], NO_PUBLIC_URL))
        return
    try:
        with runtime.unit_of_work() as session:
            made = family.create_link(
                session, viewer, as_int(meta.get("plan_id")), purpose, keys, runtime.now()
            )
    except UserError as problem:
        ack(response_action="update", view=done_modal(ASK_TITLE[purpose], str(problem)))
        return
    who = "the family" if purpose == InvitationPurpose.FAMILY_VIEWS else "the pupil"
    ack(
        response_action="update",
        view=family_link.link_made_view(
            runtime,
            made,
            title="Link made",
            intro=f"Here is the link for {who} of *{escape_mrkdwn(made.pupil_name)}*. Copy it "
            "into the school's usual message to parents (or a letter). It is shown only now, "
            "only to you: it is not kept anywhere you can see again.",
            link=f"{runtime.settings.public_url}/f/{made.token}",
            footer=f"It works until {long_day(made.expires_on)}, for "
            f"{made.max_submissions} answers, for whoever knows the pupil's date of birth.",
            invitation_id=made.invitation_id,
        ),
    )


def revoke(
    ack: Ack, action: dict, body: dict, client: WebClient, context, runtime: Runtime, viewer: Viewer
) -> None:
    try:
        with runtime.unit_of_work() as session:
            said = family.revoke_link(session, viewer, as_int(action.get("value")), runtime.now())
    except UserError as problem:
        ack()
        tell(body, context, str(problem))
        return
    shown = body.get("view")
    if shown and shown.get("type") == "modal":
        update_modal(client, shown, done_modal("Link revoked", escape_mrkdwn(said)))
        ack()
        return
    ack()
    tell(body, context, said)


def read(
    ack: Ack, action: dict, body: dict, client: WebClient, context, runtime: Runtime, viewer: Viewer
) -> None:
    try:
        with runtime.unit_of_work() as session:
            reading = family.read(session, viewer, as_int(action.get("value")), runtime.now())
    except UserError as problem:
        ack()
        tell(body, context, str(problem))
        return
    answers = [
        f"*{escape_mrkdwn(a.question)}*\n{escape_mrkdwn(a.text)}" for a in reading.answers[:90]
    ]
    footer = (
        "These views are on the plan already."
        if reading.added
        else "“Add to the plan” adds each answer after what the plan says already (nothing is "
        "replaced), with a note on its timeline. The meeting answers stay here."
    )
    view = render_json(
        "family_contribution_modal.json.j2",
        intro=f"Views on *{escape_mrkdwn(reading.pupil_name)}*'s plan, "
        f"{escape_mrkdwn(reading.by)}:",
        answers=answers or ["(no answers)"],
        footer=footer,
        can_add=not reading.added,
        meta=meta_json(contribution_id=reading.contribution_id),
    )
    open_modal(client, body["trigger_id"], view)
    ack()


def add(ack: Ack, view: dict, runtime: Runtime, viewer: Viewer) -> None:
    try:
        with runtime.unit_of_work() as session:
            said = family.add_to_plan(
                session, viewer, as_int(meta_of(view).get("contribution_id")), runtime.now()
            )
    except UserError as problem:
        said = str(problem)
    ack(response_action="update", view=done_modal("Views sent to school", escape_mrkdwn(said)))
