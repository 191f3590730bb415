"""Asking the family or the pupil from Slack (bot.services.family): "Ask the family" and "Ask the
pupil" on the plan and on a review prompt open a form of what to ask; the link it makes is shown
only in that modal, with its expiry, never in a message. "Ask the family" first asks what for
(radio buttons: their views, the review meeting, their agreement to the plan); choosing one redraws
the form for it (the meeting's day, time, place or call link and who is coming: bot.services
.meeting), and the purpose goes on in its private metadata. "Revoke link" stops one. When a family
or pupil sends their views the case holder gets a DM (handlers.messages) whose "Read them" opens
them in a modal, with "Add to the plan" and "Not now".

Who may do what: the listeners are for the plans' writers (role middleware at registration); the
service lets only the plan's case holder or a SENDCo, and refuses anyone else (audited). Which
plan, link or contribution is decided from the id within the verified request's school.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, time

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.access import Viewer
from bot.errors import UserError
from bot.render import escape_mrkdwn, render_json
from bot.services import family, meeting
from bot.services.calendar import long_day
from handlers import family_link
from handlers.context import Runtime
from handlers.toolkit import (
    as_int,
    done_modal,
    element,
    meta_json,
    meta_of,
    open_modal,
    requires,
    tell,
    text_value,
    update_modal,
)
from models import InvitationPurpose

ASK_TITLE = {
    InvitationPurpose.FAMILY_VIEWS: "Ask the family",
    InvitationPurpose.PUPIL_VIEWS: "Ask the pupil",
    InvitationPurpose.MEETING: "Ask the family",
    InvitationPurpose.AGREEMENT: "Ask the family",
}
# What "Ask the family" can ask for, in the order of its radio buttons ("Ask the pupil" asks only
# for the pupil's views, and has none).
FAMILY_PURPOSES = {
    InvitationPurpose.FAMILY_VIEWS: "Their views",
    InvitationPurpose.MEETING: "The review meeting",
    InvitationPurpose.AGREEMENT: "Their agreement to the plan",
}
AGREEMENT_INTRO = (
    "The family will see the family copy of the plan as it is now and can agree to it, or tell "
    "you what they disagree with, and choose who it may be shared with."
)
NO_PUBLIC_URL = (
    "Links for families need the address of SSP Bot's pages: ask your IT lead to set "
    "PUBLIC_URL (see the README, “Families and young people”)."
)


@contextmanager
def keeping_refusals(runtime: Runtime) -> Iterator:
    """A unit of work that keeps a refusal: the service audits it and raises NotAllowed, which
    would roll the audit row back; here the work commits first and the refusal is raised after."""
    refused = None
    with runtime.unit_of_work() as session:
        try:
            yield session
        except family.NotAllowed as problem:
            refused = problem
    if refused is not None:
        raise refused


def register(app: App) -> None:
    writes = [requires(lambda viewer: viewer.writes_plans, family.NOT_YOURS)]
    app.action("ssp_ask_family", middleware=writes)(ask_family)
    app.action("ssp_ask_pupil", middleware=writes)(ask_pupil)
    app.action("ssp_family_ask_for", middleware=writes)(ask_for)
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
        with keeping_refusals(runtime) as session:
            form = family.ask_form(
                session, viewer, as_int(action.get("value")), purpose, runtime.now()
            )
    except UserError as problem:
        ack()
        tell(body, context, str(problem))
        return
    in_modal = (body.get("view") or {}).get("type") == "modal"
    open_modal(client, body["trigger_id"], _ask_view(form), push=in_modal)
    ack()


def ask_for(
    ack: Ack, action: dict, body: dict, client: WebClient, context, runtime: Runtime, viewer: Viewer
) -> None:
    """The family's form redrawn for what was chosen to ask for. The plan is the one the form
    was opened for, checked again here from the verified request; the purpose goes on in the
    form's private metadata, for "Make the link"."""
    shown = body.get("view") or {}
    try:
        purpose = InvitationPurpose((action.get("selected_option") or {}).get("value"))
    except ValueError:
        purpose = None
    if purpose not in FAMILY_PURPOSES:
        ack()
        return
    plan_id = as_int(meta_of(shown).get("plan_id"))
    about_meeting = None
    try:
        with keeping_refusals(runtime) as session:
            if purpose == InvitationPurpose.MEETING:
                about_meeting = meeting.ask_form(session, viewer, plan_id, runtime.now())
                form = about_meeting.ask
            else:
                form = family.ask_form(session, viewer, plan_id, purpose, runtime.now())
    except UserError as problem:
        ack()
        tell(body, context, str(problem))
        return
    update_modal(client, shown, _ask_view(form, about_meeting))
    ack()


def _ask_view(form: family.AskForm, about_meeting: meeting.AskForm | None = None) -> dict:
    purpose = form.purpose
    pupil = escape_mrkdwn(form.pupil_name)
    footer = (
        f"The link lasts {family.LINK_DAYS} days and can be used {family.MAX_SUBMISSIONS} "
        "times. You'll get a message when answers arrive."
    )
    fields = None
    if purpose == InvitationPurpose.MEETING:
        intro = (
            f"Set the review meeting for *{pupil}*, and make a link for the family: after "
            "confirming the pupil's date of birth they see the details and say whether they can "
            "come, or which other times suit them, and how they will join."
        )
        fields = _meeting_fields(about_meeting)
    elif purpose == InvitationPurpose.AGREEMENT:
        intro = AGREEMENT_INTRO
    else:
        who = "the family" if purpose == InvitationPurpose.FAMILY_VIEWS else "the pupil"
        intro = (
            f"A link for {who} of *{pupil}* to give their views on a web page: they confirm "
            "the pupil's date of birth first. Choose what to ask."
        )
    ask_for = None
    if purpose in FAMILY_PURPOSES:
        ask_for = {
            "options": [(p.value, label) for p, label in FAMILY_PURPOSES.items()],
            "chosen": purpose.value,
            "chosen_label": FAMILY_PURPOSES[purpose],
        }
    return render_json(
        "family_ask_modal.json.j2",
        title=ASK_TITLE[purpose],
        ask_for=ask_for,
        intro=intro,
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
        meeting=fields,
        footer=footer,
        meta=meta_json(plan_id=form.plan_id, purpose=purpose.value),
    )


def _meeting_fields(about: meeting.AskForm | None) -> dict:
    """The meeting's inputs, started from the details set for this cycle, if any."""
    details = about.details if about else None
    answer = None
    if about and about.answer:
        answer = f"The family's latest answer: {escape_mrkdwn(about.answer)}."
    return {
        "day": details.day.isoformat() if details else None,
        "at": f"{details.at:%H:%M}" if details else None,
        "place": details.place if details else None,
        "call_link": details.call_link if details else None,
        "who": details.who_is_coming if details else None,
        "answer": answer,
        "place_length": meeting.PLACE_LENGTH,
        "who_length": meeting.WHO_LENGTH,
    }


def make_link(ack: Ack, view: dict, runtime: Runtime, viewer: Viewer) -> None:
    meta = meta_of(view)
    try:
        purpose = InvitationPurpose(meta.get("purpose"))
    except ValueError:
        ack(response_action="update", view=done_modal("Ask", family.GONE))
        return
    keys: list[str] = []
    if purpose in family.QUESTIONS:
        ticked = (view["state"]["values"].get("questions") or {}).get("value") or {}
        keys = [option["value"] for option in ticked.get("selected_options") or []]
        if not keys:
            ack(response_action="errors", errors={"questions": "Choose at least one question."})
            return
    if not runtime.settings.public_url:
        ack(response_action="update", view=done_modal(ASK_TITLE[purpose], NO_PUBLIC_URL))
        return
    plan_id = as_int(meta.get("plan_id"))
    try:
        with keeping_refusals(runtime) as session:
            if purpose == InvitationPurpose.MEETING:
                outcome = meeting.set_and_link(
                    session, viewer, plan_id, _meeting_typed(view), runtime.now()
                )
                if outcome.errors:
                    ack(response_action="errors", errors=outcome.errors)
                    return
                made = outcome.created
            else:
                made = family.create_link(session, viewer, plan_id, purpose, keys, runtime.now())
    except UserError as problem:
        ack(response_action="update", view=done_modal(ASK_TITLE[purpose], str(problem)))
        return
    who = "the pupil" if purpose == InvitationPurpose.PUPIL_VIEWS else "the family"
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


def _meeting_typed(view: dict) -> meeting.MeetingInput:
    values = view["state"]["values"]
    try:
        day = date.fromisoformat(element(values, "meeting_date").get("selected_date") or "")
    except ValueError:
        day = None
    try:
        at = time.fromisoformat(element(values, "meeting_time").get("selected_time") or "")
    except ValueError:
        at = None
    return meeting.MeetingInput(
        day,
        at,
        text_value(values, "meeting_place"),
        text_value(values, "meeting_link"),
        text_value(values, "meeting_who"),
    )


def revoke(
    ack: Ack, action: dict, body: dict, client: WebClient, context, runtime: Runtime, viewer: Viewer
) -> None:
    try:
        with keeping_refusals(runtime) as session:
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
        with keeping_refusals(runtime) as session:
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
        "replaced), with a note on its timeline."
        + (
            " Answers with no place in the plan (about the review meeting, or how they feel) "
            "stay here."
            if any(a.field is None for a in reading.answers)
            else ""
        )
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
        with keeping_refusals(runtime) as session:
            said = family.add_to_plan(
                session, viewer, as_int(meta_of(view).get("contribution_id")), runtime.now()
            )
    except UserError as problem:
        said = str(problem)
    ack(response_action="update", view=done_modal("Views sent to school", escape_mrkdwn(said)))
