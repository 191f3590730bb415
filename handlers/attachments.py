"""Reports and evidence attached to a plan, from Slack: the message shortcut "Attach to a pupil's
plan" on a message with a file, the "Attach a file" button in the plan's Reports (a file input),
and "Get a download link" beside each attached file. The keeping is bot.services.attachments.

The bot copies the file out of Slack itself (files.info, then url_private_download with the bot
token: the `files:read` scope) and keeps it encrypted; it never posts a file back into Slack. A
file is handed out only by a short-lived link for the person who asked, checked again at
download (handlers.web.downloads).

Who may do what is decided afresh from the signed user on every request; a button's value or a
form's metadata is only an id to look up among what that person may have. Nothing here logs a
file's name, its title, its bytes, a token or a pupil.
"""

from __future__ import annotations

import logging
import time
import urllib.error
import urllib.request
from datetime import date
from urllib.parse import urlsplit

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import db
from bot.access import Viewer
from bot.errors import UserError
from bot.render import escape_mrkdwn, render_json
from bot.services import attachments
from bot.services.download_links import LINK_LIFETIME, MAX_DOWNLOADS
from bot.services.pupils import find_pupils
from handlers import plan_views
from handlers.context import Runtime, after_the_ack
from handlers.review_presenters import not_one_pupil
from handlers.slack_api import quick_client
from handlers.toolkit import (
    as_int,
    as_typed,
    done_modal,
    meta_json,
    meta_of,
    open_modal,
    requires,
    requires_in_modal,
    selected_value,
    text_value,
)
from models.attachments import EVIDENCE, REPORT

log = logging.getLogger(__name__)

SHORTCUT = "ssp_attach_message"
OPEN_ACTION = "ssp_attach_open"  # "Attach a file" in the plan's Reports (handlers.plan_editor)
LINK_ACTION = "ssp_attach_link"  # "Get a download link" beside an attached file
TITLE = "Attach a file"
VIA_SHORTCUT = "attach shortcut"
VIA_BUTTON = "Attach a file button"
VIA_LINK = "attachment download link button"
VIAS = (VIA_SHORTCUT, VIA_BUTTON)
DOWNLOAD_PATH = "/download/"
FILES_IN_MESSAGE = 10  # Slack shows at most ten files on a message
FETCH_SECONDS = 20  # a 10 MB file from Slack's file servers
# Showing the outcome only once Slack has applied "Attaching…" (see _show_outcome): how often
# to look, and how long at most before showing it anyway.
OUTCOME_POLL_SECONDS = 0.3  # views.update is Tier 4: far within its 100 a minute
OUTCOME_WAIT_SECONDS = 10.0
# The hosts a file may be fetched from with the bot token: Slack's file server, and the Slack
# API's own host (an emulator on this machine). Never another host: the token would go with it.
SLACK_FILE_HOSTS = frozenset({"files.slack.com"})

NOT_A_WRITER = (
    "Only the SENDCo and case holders can attach a file to a plan: the plan's case holder, or "
    "the SENDCo, can attach it for you."
)
NO_FILE = (
    "This message has no file to attach. Share the file in a message (your direct messages "
    "with SSP Bot are a good place), then choose *Attach to a pupil's plan* on that message."
)
SLACK_CANT_FIND = (
    "Slack can't find that file any more: it may have been deleted, or it is somewhere SSP Bot "
    "can't see. Share it again in your direct messages with SSP Bot and try once more. "
    "Nothing was saved."
)
SLACK_NOT_ALLOWED = (
    "Slack didn't let SSP Bot read that file: the app needs the files:read permission. Ask "
    "whoever manages Slack apps to reinstall SSP Bot. Nothing was saved."
)
SLACK_FAILED = (
    "Slack didn't hand the file over just then. Please try again in a minute. Nothing was saved."
)
SAVED = (
    "*{title}* is attached to *{name}*'s plan, encrypted. The plan's Reports list it, with a "
    "download link for the SENDCo, senior leaders and the case holder. It is never part of the "
    "family's copy."
)
WORKING = "Attaching the file: copying it from Slack and keeping it safe. This takes a moment."
NOT_KEPT_DATABASE = (
    "Nothing was saved: SSP Bot can't reach its database just now. Please attach the file "
    "again in a few minutes."
)
NOT_KEPT = (
    "Sorry, something went wrong on our side and the file was not attached. Please try again; "
    "if it keeps happening, let your SENDCo know."
)
TERMS = (
    "Up to {mb} MB: {allowed}. The file is kept by SSP Bot, encrypted, and can be downloaded "
    "only by the SENDCo, senior leaders and the plan's case holder. You can delete the copy in "
    "Slack afterwards."
)


def register(app: App) -> None:
    writes = [requires(lambda viewer: viewer.writes_plans, NOT_A_WRITER)]
    app.shortcut(
        SHORTCUT,
        middleware=[requires_in_modal(lambda viewer: viewer.writes_plans, TITLE, NOT_A_WRITER)],
    )(from_message)
    app.view("ssp_attach_pupil", middleware=writes)(choose_pupil)
    app.view("ssp_attach", middleware=writes)(save)
    app.action(OPEN_ACTION, middleware=writes)(open_from_plan)
    # No role middleware: the service decides from the verified request and audits a refusal.
    app.action(LINK_ACTION)(get_link)


# --- opening the form -----------------------------------------------------------------------


def from_message(ack: Ack, shortcut: dict, client: WebClient, runtime: Runtime) -> None:
    """The message shortcut: which pupil first; the message's files travel in the form."""
    files = [
        [str(f["id"])[:32], str(f.get("name") or f.get("title") or "file")[:70]]
        for f in ((shortcut.get("message") or {}).get("files") or [])[:FILES_IN_MESSAGE]
        if isinstance(f, dict) and f.get("id") and f.get("mode") != "tombstone"
    ]
    if not runtime.settings.attachment_key:
        view = done_modal(TITLE, attachments.NO_KEY)
    elif not files:
        view = done_modal(TITLE, NO_FILE)
    else:
        view = render_json(
            "attach_modal.json.j2", pupil_name=None, meta=meta_json(files=files, via=VIA_SHORTCUT)
        )
    open_modal(client, shortcut["trigger_id"], view)
    ack()


def open_from_plan(
    ack: Ack, body: dict, client: WebClient, runtime: Runtime, viewer: Viewer
) -> None:
    """ "Attach a file" in the plan's Reports: the form, with a file input, on top."""
    if not runtime.settings.attachment_key:
        raise UserError(attachments.NO_KEY)
    pupil_id = as_int(meta_of(body.get("view") or {}).get("pupil_id"))
    list_page = as_int(meta_of(body.get("view") or {}).get("page")) or 1
    view = _form(runtime, viewer, pupil_id, via=VIA_BUTTON, files=None, list_page=list_page)
    if view is None:
        raise UserError(attachments.NOT_YOURS)
    open_modal(client, body["trigger_id"], view, push=True)


def choose_pupil(ack: Ack, view: dict, runtime: Runtime, viewer: Viewer) -> None:
    """The shortcut's first step: one pupil whose plan the person may change, then the form."""
    query = as_typed(text_value(view["state"]["values"], "pupil") or "")
    if not query:
        raise UserError("Say which pupil: their name or UPN.", block_id="pupil")
    with runtime.unit_of_work() as session:
        matches = find_pupils(session, viewer, query)
    if len(matches) != 1:
        raise UserError(not_one_pupil(query, matches), block_id="pupil")
    meta = meta_of(view)
    form = _form(runtime, viewer, matches[0].pupil_id, via=VIA_SHORTCUT, files=meta.get("files"))
    if form is None:
        raise UserError(attachments.NOT_YOURS, block_id="pupil")
    ack(response_action="update", view=form)


def _form(
    runtime: Runtime,
    viewer: Viewer,
    pupil_id: int,
    *,
    via: str,
    files: list | None,
    list_page: int | None = None,
) -> dict | None:
    """The form for this pupil's plan, or None (the refusal audited) when it isn't theirs."""
    with runtime.unit_of_work() as session:
        opened = attachments.open_form(session, viewer, pupil_id, via=via, now=runtime.now())
        found = None if opened is None else (opened[0].pupil.known_as, opened[0].id, opened[1])
    if found is None:
        return None
    name, plan_id, reports = found
    shown_files = [(f[0], f[1]) for f in files or [] if isinstance(f, list) and len(f) == 2]
    return render_json(
        "attach_modal.json.j2",
        pupil_name=name,
        about=f"A professional report or a piece of evidence for *{escape_mrkdwn(name)}*'s plan.",
        meta=meta_json(
            pupil_id=pupil_id, plan_id=plan_id, via=via, files=files or None, list_page=list_page
        ),
        title=None,
        title_length=attachments.TITLE_LENGTH,
        kinds=[(attachments.KIND_LABELS[k], k) for k in (REPORT, EVIDENCE)],
        reports=[(str(report_id), title) for report_id, title in reports][:100],
        files=shown_files,
        filetypes=attachments.SLACK_FILETYPES,
        allowed=f"{attachments.ALLOWED_TEXT}, up to {attachments.MAX_MB} MB.",
        terms=TERMS.format(mb=attachments.MAX_MB, allowed=attachments.ALLOWED_TEXT),
    )


# --- saving ---------------------------------------------------------------------------------


def save(
    ack: Ack, view: dict, client: WebClient, runtime: Runtime, viewer: Viewer, today: date
) -> None:
    """Checks what can be checked within Slack's three seconds (the key, the form, whose plan,
    and Slack's description of the file: its name and size), answering a problem beside its
    field; then says "Attaching…" and fetches, checks and keeps the file on a thread of its own,
    showing the outcome in the same modal (a 10 MB file may take longer than three seconds),
    and the file in the plan's views underneath when it was attached from the plan."""
    values = view["state"]["values"]
    meta = meta_of(view)
    attachments.require_key(runtime.settings.attachment_key)
    file_id = _chosen_file(values, meta)
    if file_id is None:
        raise UserError("Choose the file to attach.", block_id="file")
    title = text_value(values, "title") or ""
    if not title:
        raise UserError("Give the file a title, e.g. “EP report, March 2026”.", block_id="title")
    # Whether it is theirs to attach to is checked before anything is fetched, and again when
    # it is saved (the plan may change hands in between).
    via = meta.get("via") if meta.get("via") in VIAS else VIA_BUTTON
    pupil_id = as_int(meta.get("pupil_id"))
    with runtime.unit_of_work() as session:
        allowed = attachments.editable_plan(session, viewer, pupil_id)
        if allowed is None:
            attachments.refuse(session, viewer, pupil_id=pupil_id, via=via, now=runtime.now())
    if allowed is None:  # raised once the unit of work is over: the refusal stays audited
        raise UserError(attachments.NOT_YOURS)
    filename, url = _describe(client, file_id, runtime.settings.slack_api_url)
    report = selected_value(values, "report")
    working = done_modal(TITLE, WORKING)
    ack(response_action="update", view=working)

    def keep() -> None:
        saved = False
        try:
            data = _download(url, client.token)
            with runtime.unit_of_work() as session:
                attached = attachments.attach(
                    session,
                    viewer,
                    pupil_id,
                    key=runtime.settings.attachment_key,
                    kind=selected_value(values, "kind") or EVIDENCE,
                    title=title,
                    report_id=as_int(report) if report else None,
                    filename=filename,
                    data=data,
                    slack_file_id=file_id,
                    via=via,
                    now=runtime.now(),
                )
            outcome = SAVED.format(
                title=escape_mrkdwn(attached.title), name=escape_mrkdwn(attached.pupil_name)
            )
            saved = True
        except UserError as refused:
            outcome = str(refused)
        except Exception as error:  # noqa: BLE001 - the person is told; the log has its kind
            if db.is_unavailable(error):
                log.warning("attaching a file: database unavailable (%s)", type(error).__name__)
                outcome = NOT_KEPT_DATABASE
            else:
                log.error("attaching a file failed: %s", type(error).__name__)
                outcome = NOT_KEPT
        try:
            _show_outcome(client, view, working, done_modal(TITLE, outcome))
        except (SlackApiError, OSError):  # closed, or Slack away: the outcome stands
            log.info("could not show the outcome of attaching a file")
        if saved and via == VIA_BUTTON:
            _refresh_plan_views(runtime, client, viewer, view, pupil_id, meta, today)

    after_the_ack(keep, "attach-file")


def _show_outcome(client: WebClient, view: dict, working: dict, outcome: dict) -> None:
    """Replaces "Attaching…" by the outcome, once Slack has applied "Attaching…".

    Slack applies the answer to the submission ("Attaching…") when the HTTP answer reaches it,
    and an update that arrived first would be replaced by it, the outcome never shown. Whether
    it has been applied is told by the view's `hash`: each change of a view gives it a new one,
    and views.update with a hash that is no longer current is refused (hash_conflict). So, from
    the hash the submission carried, "Attaching…" is written with the last hash known: accepted,
    Slack had not applied the answer yet (the same words, so nothing changes for the person;
    look again shortly, with the new hash); refused, the answer has been applied, and the
    outcome follows. After OUTCOME_WAIT_SECONDS without Slack applying it, the outcome is shown
    anyway."""
    known = view.get("hash")
    deadline = time.monotonic() + OUTCOME_WAIT_SECONDS
    while known and time.monotonic() < deadline:
        try:
            answer = client.views_update(view_id=view["id"], hash=known, view=working)
        except SlackApiError as error:
            if error.response.get("error") != "hash_conflict":
                raise
            break  # "Attaching…" is shown: the outcome can take its place
        known = (answer.get("view") or {}).get("hash")
        time.sleep(OUTCOME_POLL_SECONDS)
    client.views_update(view_id=view["id"], view=outcome)


def _refresh_plan_views(
    runtime: Runtime, client: WebClient, viewer: Viewer, view: dict, pupil_id, meta, today
) -> None:
    """The plan's Reports list and overview underneath the form, with the new file listed."""
    try:
        fresh = plan_views.fresh_reports(
            runtime, viewer, pupil_id, today, list_page=as_int(meta.get("list_page")) or 1
        )
    except Exception as error:  # noqa: BLE001 - the file is kept; reopening the plan shows it
        log.warning("could not refresh the plan after attaching: %s", type(error).__name__)
        return
    if fresh is None:
        return
    overview, reports = fresh
    root, previous = view.get("root_view_id"), view.get("previous_view_id")
    for view_id, shown in ((previous, reports), (root, overview)):
        if not view_id or view_id == view.get("id"):
            continue
        try:
            client.views_update(view_id=view_id, view=shown)
        except (SlackApiError, OSError):  # closed since, or Slack away: reopening shows it
            log.info("could not refresh a view of the plan after attaching a file")


def _chosen_file(values: dict, meta: dict) -> str | None:
    """The file's Slack id: one of the message's (the shortcut), or the one put in the file
    input. A file the form did not offer is no choice."""
    state = (values.get("file") or {}).get("value") or {}
    if state.get("type") == "file_input":
        uploaded = [f for f in state.get("files") or [] if isinstance(f, dict) and f.get("id")]
        return str(uploaded[0]["id"]) if len(uploaded) == 1 else None
    chosen = (state.get("selected_option") or {}).get("value")
    offered = {f[0] for f in meta.get("files") or [] if isinstance(f, list) and f}
    return chosen if chosen in offered else None


def _describe(client: WebClient, file_id: str, api_url: str) -> tuple[str, str]:
    """The file's name and its download address, from files.info (bot token). UserError (at
    the file field) with a calm answer when Slack refuses, or the name or size rule it out."""
    try:
        info = quick_client(client).files_info(file=file_id)
    except SlackApiError as error:
        code = error.response.get("error")
        log.warning("files.info refused: %s", code)
        if code in ("file_not_found", "file_deleted"):
            raise UserError(SLACK_CANT_FIND, block_id="file") from None
        if code in ("missing_scope", "not_allowed_token_type", "no_permission", "access_denied"):
            raise UserError(SLACK_NOT_ALLOWED, block_id="file") from None
        raise UserError(SLACK_FAILED, block_id="file") from None
    except OSError:
        log.warning("files.info failed: no answer")
        raise UserError(SLACK_FAILED, block_id="file") from None
    file = info.get("file") or {}
    filename = str(file.get("name") or file.get("title") or "")
    size = file.get("size")
    attachments.check_name_and_size(filename, size if isinstance(size, int) else None)
    url = str(file.get("url_private_download") or file.get("url_private") or "")
    if not _is_slack_file_url(url, api_url):
        log.warning("a file's download address is not Slack's: not fetched")
        raise UserError(SLACK_FAILED, block_id="file")
    return filename, url


def _is_slack_file_url(url: str, api_url: str) -> bool:
    parts, api = urlsplit(url), urlsplit(api_url)
    if parts.hostname in SLACK_FILE_HOSTS:
        return parts.scheme == "https"
    return parts.hostname == api.hostname and parts.port == api.port and parts.scheme == api.scheme


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Slack answers a file request without a valid token with a redirect to its sign-in page:
    that is a failure, never something to follow (the bot token must not go anywhere else)."""

    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _download(url: str, token: str | None) -> bytes:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with _OPENER.open(request, timeout=FETCH_SECONDS) as answer:
            if answer.status != 200:
                raise urllib.error.HTTPError(url, answer.status, "not the file", {}, None)
            data = answer.read(attachments.MAX_BYTES + 1)
    except urllib.error.HTTPError as error:
        log.warning("downloading a file from Slack failed: HTTP %s", error.code)
        raise UserError(SLACK_FAILED) from None
    except OSError as error:
        log.warning("downloading a file from Slack failed: %s", type(error).__name__)
        raise UserError(SLACK_FAILED) from None
    if attachments.too_big(len(data)):
        raise UserError(attachments.TOO_BIG.format(mb=attachments.MAX_MB))
    return data


# --- download links -------------------------------------------------------------------------


def get_link(
    ack: Ack, action: dict, body: dict, client: WebClient, runtime: Runtime, viewer: Viewer
) -> None:
    """ "Get a download link" beside an attached file: a link for this person, in a modal on
    top of the plan's Reports. The button's value is only which attachment."""
    with runtime.unit_of_work() as session:
        try:
            token = attachments.create_link(
                session,
                viewer,
                as_int(action.get("value")),
                lifetime=LINK_LIFETIME,
                max_uses=MAX_DOWNLOADS,
                via=VIA_LINK,
                now=runtime.now(),
            )
            refused = None
        except UserError as error:  # kept: the refusal's audit row is committed
            refused, token = error, None
    if refused is not None:
        raise refused
    url = runtime.settings.link_base.rstrip("/") + DOWNLOAD_PATH + token
    minutes = int(LINK_LIFETIME.total_seconds() // 60)
    view = render_json(
        "plan_notice_modal.json.j2",
        title="Download link",
        paragraphs=[
            f"<{url}|Download the file>",
            f"This link is for you only. It works for {minutes} minutes and for "
            f"{MAX_DOWNLOADS} downloads. "
            "Please don't forward it: ask for a new one when you need the file again.",
        ],
        reload=False,
        meta="{}",
    )
    in_modal = (body.get("view") or {}).get("type") == "modal"
    open_modal(client, body["trigger_id"], view, "the link", push=in_modal)
    ack()
