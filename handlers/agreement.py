"""The family's answer on the agreement page, back in Slack (bot.services.agreements): the case
holder's DM says only that the family answered about the pupil's plan; "Read it" opens who
answered, whether they agree, the date they gave, what they disagree with and who may see the
plan, in a modal, for the plan's case holder or a SENDCo only (anyone else is refused, and the
refusal audited). Which answer is decided from its id within the verified request's school.
"""

from __future__ import annotations

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.document import long_date
from bot.errors import UserError
from bot.render import escape_mrkdwn, render_json
from bot.services import agreements, family
from handlers.context import Runtime
from handlers.family import keeping_refusals
from handlers.toolkit import as_int, open_modal, requires, tell


def register(app: App) -> None:
    writes = [requires(lambda viewer: viewer.writes_plans, family.NOT_YOURS)]
    app.action("ssp_agreement_read", middleware=writes)(read)


def read(
    ack: Ack, action: dict, body: dict, client: WebClient, context, runtime: Runtime, viewer
) -> None:
    try:
        with keeping_refusals(runtime) as session:  # a refusal stays on the audit log
            answer = agreements.read(session, viewer, as_int(action.get("value")), runtime.now())
    except UserError as problem:
        ack()
        tell(body, context, str(problem))
        return
    decision = (
        ":white_check_mark: *They agree with the plan.*"
        if answer.agreed
        else ":warning: *They disagree with parts of the plan.*"
    )
    lines = [decision]
    if answer.disagreement:
        lines.append(f"*What they disagree with*\n{escape_mrkdwn(answer.disagreement)}")
    lines.append(f"*Who may see the plan*\n{escape_mrkdwn(answer.sharing)}")
    footer = (
        f"Sent on {long_date(answer.submitted_on)} from the family page."
        + (
            " The plan has changed since they read it."
            if not answer.current
            else " The plan is still the version they read."
        )
        + (
            " Their sharing consent is now in the plan's Sharing consent section."
            if answer.agreed
            else ""
        )
    )
    view = render_json(
        "plan_agreement_modal.json.j2",
        intro=f"{escape_mrkdwn(answer.who)} answered about *{escape_mrkdwn(answer.pupil_name)}*'s "
        f"plan, dated {long_date(answer.on)}:",
        lines=lines,
        footer=footer,
    )
    open_modal(client, body["trigger_id"], view)
    ack()
