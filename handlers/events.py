"""Events: the App Home shows each person what is theirs to do; a message written to the bot
is filed on a plan when it replies to one of the bot's requests (handlers.replies), and otherwise
answered with how to file it (nobody reads the bot's direct messages); uninstalling the app, or
revoking its token, forgets that workspace's install."""

from __future__ import annotations

import logging
from datetime import date

from slack_bolt import App, BoltContext
from slack_bolt.listener.builtins import TokenRevocationListeners
from slack_sdk import WebClient

from bot.access import Viewer
from bot.render import escape_mrkdwn, render_json, uk_date
from bot.services import audit, processed_events
from bot.services.caseload import school_caseload, viewer_home
from bot.services.passport import audit_classes, classes_of
from handlers import replies
from handlers.context import Runtime
from handlers.passport import class_line
from handlers.presenters import leaving, plural, pupil_line, review_when
from handlers.workspaces import InstalledWorkspaces, Workspaces

log = logging.getLogger(__name__)

EDITS = (None, "message_changed", "message_deleted")
EVENTS = ("app_home_opened", "message.im", "app_uninstalled", "tokens_revoked")
HOME_PLANS = 40  # plans listed on the App Home; `/ssp mine` pages through the rest
HOME_CLASSES = 15  # classes under "Your classes"; `/ssp class` lists the rest

FILE_IT = (
    "Nobody reads messages sent to SSP Bot. To file this one on a pupil's plan, open the "
    "*More actions* menu on your message (⋯) and choose *Add to a pupil's plan*, or type "
    "`/ssp note <UPN or name>`. `/ssp help` lists everything else."
)
HELP_ONLY = (
    "Nobody reads messages sent to SSP Bot. Type `/ssp help` to see what it can do for you, "
    "or ask your SENDCo."
)


def register(app: App) -> None:
    app.event("app_home_opened")(publish_home)
    app.event("message")(answer_direct_message)


def register_installs(app: App, workspaces: Workspaces) -> None:
    """Uninstalling the app, or revoking its token, ends that workspace's install: its school's
    messages stop (the sweep says why) until the app is installed there again."""
    if isinstance(workspaces, InstalledWorkspaces):
        forget = TokenRevocationListeners(workspaces.store)

        def uninstalled(context: BoltContext) -> None:
            forget.handle_app_uninstalled_events(context)
            log.warning(
                "SSP Bot was uninstalled from Slack workspace %s: its install is deleted, and its "
                "school gets no messages until it is installed again",
                context.team_id,
            )

        def revoked(event: dict, context: BoltContext) -> None:
            forget.handle_tokens_revoked_events(event, context)
            if (event.get("tokens") or {}).get("bot"):
                log.warning(
                    "Slack workspace %s revoked SSP Bot's token: its install is deleted, and its "
                    "school gets no messages until it is installed again",
                    context.team_id,
                )

    else:

        def uninstalled(context: BoltContext) -> None:
            log.warning(
                "SSP Bot was uninstalled from Slack workspace %s: SLACK_BOT_TOKEN no longer "
                "works; install the app again and update it",
                context.team_id,
            )

        def revoked(event: dict, context: BoltContext) -> None:
            if (event.get("tokens") or {}).get("bot"):
                log.warning(
                    "Slack workspace %s revoked SSP Bot's token: update SLACK_BOT_TOKEN",
                    context.team_id,
                )

    app.event("app_uninstalled")(uninstalled)
    app.event("tokens_revoked")(revoked)


def first_delivery(runtime: Runtime, body: dict) -> bool:
    """False for an event already acted on: Slack's retry of it (the server's gate forgets
    after five minutes, and on a restart; Slack's last retry comes about six minutes on), or
    the same event twice over Socket Mode. Decided by the database."""
    event_id = body.get("event_id")
    if not isinstance(event_id, str) or not event_id:
        return True
    with runtime.unit_of_work() as session:
        return processed_events.first_delivery(
            session, event_id, body.get("team_id"), runtime.now()
        )


def answer_direct_message(
    event: dict,
    body: dict,
    client: WebClient,
    context: BoltContext,
    runtime: Runtime,
    viewer: Viewer,
) -> None:
    """Something a member of staff typed in their DM with the bot: a reply to one of its
    requests is filed on the pupil's plan (handlers.replies); otherwise say privately what to
    do. Their edits and deletions follow what was filed."""
    subtype = event.get("subtype")
    if event.get("channel_type") != "im" or event.get("bot_id") or subtype not in EDITS:
        return  # joins, the bot's own messages and other subtypes need no answer
    if viewer is None or not first_delivery(runtime, body):
        return
    if subtype:
        replies.changed(event, client, runtime, viewer)
        return
    if replies.received(event, client, runtime, viewer):
        return
    client.chat_postEphemeral(
        channel=event["channel"],
        user=context.user_id,
        text=FILE_IT if viewer.is_sendco or viewer.is_case_holder else HELP_ONLY,
    )


def publish_home(
    event: dict,
    body: dict,
    client: WebClient,
    context: BoltContext,
    runtime: Runtime,
    viewer: Viewer,
    today: date,
) -> None:
    if event.get("tab", "home") != "home" or not first_delivery(runtime, body):
        return
    client.views_publish(user_id=context.user_id, view=home(runtime, viewer, today))


def home(runtime: Runtime, viewer: Viewer, today: date) -> dict:
    """The App Home view: the school at a glance (for those who see it), what waits for this
    person's answer, their classes (for a teacher), and the plans they hold."""
    with runtime.unit_of_work() as session:
        plans, waiting = viewer_home(session, viewer, today)
        caseload = (
            school_caseload(session, viewer.school_id, today) if viewer.sees_whole_school else None
        )
        audit.record_list(
            session,
            via="App Home",
            now=runtime.now(),
            school_id=viewer.school_id,
            staff_id=viewer.staff_id,
            plans=[(p.plan_id, p.pupil_id) for p in plans],
            detail="own caseload on App Home",
        )
        # A teacher's classes, with how many pupils in each have a plan (one grouped query).
        classes = classes_of(session, viewer)
        if classes:
            audit_classes(session, viewer, classes, via="App Home", now=runtime.now())
    school = None
    if caseload is not None:
        t = caseload.totals
        school = (
            f"*The school*\n{t.plans} open plans · {t.due_soon} reviews due in the next 14 days · "
            f"{t.overdue} overdue · {t.awaiting_qa} awaiting quality assurance · "
            f"{t.open_monitoring} monitoring requests open\n"
            "Type `/ssp caseload` for the full picture, `/ssp overdue` for who to chase."
        )
    more = max(0, len(plans) - HOME_PLANS)
    return render_json(
        "home.json.j2",
        hello=(
            f"Hello {escape_mrkdwn(viewer.name)}. This page is only visible to you. "
            f"As of {uk_date(today)}."
        ),
        school=school,
        waiting=(
            f"*Waiting for you*\n{plural(waiting, 'thing is', 'things are')} waiting for your "
            "answer in your messages from SSP Bot (reviews, assignments, teachers' feedback)."
            if waiting
            else "*Waiting for you*\nNothing is waiting for you. :white_check_mark:"
        ),
        classes_heading=(
            f"*Your classes* ({len(classes)})\nWho has a SEN Support Plan in each, with their "
            "key strategies and passports behind *Show*."
        ),
        classes=[(class_line(c), c.group_id) for c in classes[:HOME_CLASSES]],
        more_classes=(
            f"…and {len(classes) - HOME_CLASSES} more: type `/ssp class` for them all."
            if len(classes) > HOME_CLASSES
            else None
        ),
        heading=f"*Plans you hold* ({len(plans)})",
        plans=[
            (
                f"{pupil_line(p.pupil_name, p.year_group)} · {p.status.label}\n"
                + (
                    leaving(p.left_on, p.closes_on)
                    if p.has_left
                    else review_when(p.review_date, p.days_overdue)
                ),
                p.pupil_id,
            )
            for p in plans[:HOME_PLANS]
        ],
        more=f"…and {more} more: type `/ssp mine` for the full list." if more else None,
    )
