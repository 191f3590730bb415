"""What every listener module shares: reading forms, the small replies, paging, role checks, and
turning a UserError into the polite answer the surface allows.

A listener raises bot.errors.UserError for anything the person asked that cannot be done; the
app's one error handler (`answer_error`, registered by handlers.app) answers it:
- a slash command or a button: an ephemeral message (the command's HTTP reply, or response_url);
  a button in a modal or on the App Home, which have no response_url: a small modal over it;
- a form (view_submission) not yet acknowledged: the form stays open with the message beside the
  field the error names (UserError.block_id), or is replaced by a notice titled like the form;
  any other failure (the database, Slack, a bug) keeps the form open, with what was typed, and
  says under its first field that nothing was saved (`keep_form_open`);
- a menu's options (block_suggestion): no options.
A listener that may raise acknowledges afterwards (`ack()` last): Bolt runs listeners in a thread,
and when one raises after acknowledging, Bolt forgets the acknowledgement and Slack gets no reply.
`/ssp` subcommands need not care: handlers.commands answers their UserError itself.
Role checks are listener middleware, declared once where the listener is registered:

    app.action("ssp_assign_auto", middleware=[requires(Viewer.is_sendco.fget, NOT_SENDCO)])(f)
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import ceil
from typing import Any, Generic, TypeVar

from slack_bolt import Ack, BoltContext, BoltResponse, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookResponse

from bot import db
from bot.access import Viewer
from bot.errors import UserError
from bot.render import escape_mrkdwn, escape_unescaped, render_json
from bot.services import audit
from bot.services.pupils import MAX_MATCHES, PupilMatch, find_pupils
from handlers.presenters import pupil_line
from handlers.slack_api import quick_client

log = logging.getLogger(__name__)

T = TypeVar("T")

SOMETHING_WENT_WRONG = (
    "Sorry, something went wrong on our side and nothing was changed. Please try again in a "
    "minute; if it keeps happening, let your SENDCo know."
)
DATABASE_DOWN = (
    "Sorry, SSP Bot can't reach its database just now, so nothing was read or changed. "
    "Please try again in a few minutes."
)
SLACK_REFUSED = (
    "Sorry, Slack couldn't show that answer ({code}). Please try again; if it keeps happening, "
    "let your SENDCo know."
)
# Under a form's first field when saving it failed: the form stays open with what was typed.
NOT_SAVED_DATABASE = (
    "Nothing was saved: SSP Bot can't reach its database just now. Your form is still here: "
    "please try again in a minute."
)
# A lock held by someone else's change past a request's lock timeout: the database is there.
BUSY = (
    "Sorry, someone else was changing the same thing at that moment, so nothing was changed. "
    "Please try again."
)
NOT_SAVED_BUSY = (
    "Nothing was saved: someone else was changing the same thing at that moment. Your form is "
    "still here: please try again."
)
# A bug or a Slack refusal may come after the saving: the form can't say nothing was saved.
NOT_SAVED_BUG = (
    "Sorry, something went wrong on our side, so this may not have been saved. Your form is "
    "still here: please try again; if it keeps happening, let your SENDCo know."
)
NOT_SAVED_SLACK = (
    "Sorry, Slack refused part of the answer ({code}), so this may not have been saved. Your "
    "form is still here: please try again."
)

# With should_escape on, Slack sends a mention as <@U123ABC|name> (or <@U123ABC>).
MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


def mentioned_user(word: str | None) -> str | None:
    """The Slack user id in a mention as Slack sends it, or None if the word is not one."""
    match = MENTION.match(word or "")
    return match.group(1) if match else None


def as_typed(text: str) -> str:
    """Command text as the person typed it: Slack escapes &, < and > in what it sends us.

    We store plain text and escape it again (bot.render.escape_mrkdwn) wherever it is shown.
    """
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# --- reading forms ---------------------------------------------------------------------------


def element(values: dict, block_id: str) -> dict:
    """The state of an input block's element (every input's action_id is "value")."""
    return (values.get(block_id) or {}).get("value") or {}


def text_value(values: dict, block_id: str) -> str | None:
    value = element(values, block_id).get("value")
    return value.strip() if isinstance(value, str) and value.strip() else None


def selected_value(values: dict, block_id: str) -> str | None:
    return (element(values, block_id).get("selected_option") or {}).get("value")


def meta_of(view: dict) -> dict:
    """A view's private_metadata. Ids only: who may act is decided from the signed request."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        meta = {}
    return meta if isinstance(meta, dict) else {}


def as_int(value) -> int:
    """An id from a button or metadata; -1 (never an id) when it isn't a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


# --- refusals shared by several surfaces --------------------------------------------------------

NO_ACCESS = (
    "SSP Bot shows plans only to the SENDCo, senior leaders, case holders and the staff who "
    "support a pupil (teachers, teaching assistants, form tutors, heads of year, pastoral "
    "staff), and the school hasn't given you one of those roles. If that's wrong, ask your "
    "SENDCo."
)
WHOLE_SCHOOL_ONLY = (
    "The whole-school view is for the SENDCo and senior leaders. "
    "`/ssp mine` shows the plans you hold."
)
NOT_SENDCO = "Only the SENDCo manages the SSP team and delegates plans."
NOT_ON_STAFF_LIST = "I can't find that person on your school's staff list"  # a sentence to finish


# --- small replies ---------------------------------------------------------------------------


def message(template: str, **context) -> dict:
    """An ephemeral reply rendered from `template`: keyword arguments for Bolt's `respond`."""
    return {"response_type": "ephemeral", **render_json(template, **context)}


def notice(text: str) -> dict:
    """An ephemeral reply of one paragraph."""
    return message("notice.json.j2", text=text)


def done_modal(title: str, text: str) -> dict:
    """A modal that says what happened, replacing a form once it is submitted."""
    return render_json(
        "plan_notice_modal.json.j2", title=title, paragraphs=[text], reload=False, meta="{}"
    )


# --- paging ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its items, its number (1-based, clamped) and how many pages there are."""

    items: Sequence[T]
    page: int
    pages: int
    total: int


def page_of(items: Sequence[T], page: int, per_page: int) -> Page[T]:
    pages = max(1, ceil(len(items) / per_page))
    page = min(max(page, 1), pages)
    start = (page - 1) * per_page
    return Page(items[start : start + per_page], page, pages, len(items))


# --- choosing a pupil ------------------------------------------------------------------------

NO_SUCH_PUPIL = (
    "I couldn't find a pupil matching “{query}” among the pupils you can see. "
    "Try their surname, first and last name, or UPN."
)


@dataclass(frozen=True)
class PupilButton:
    """The button beside each pupil when a query matches several: what choosing one does.

    Its value is the pupil's id, so its listener receives the choice as `action["value"]`.
    """

    action_id: str
    label: str


SHOW_PUPIL = PupilButton("ssp_show_pupil", "Show")


@dataclass(frozen=True)
class PupilChoice:
    """What a query for one pupil came to: that pupil's id, or, when several pupils match, the
    reply that lists them with a button each (then `pupil_id` is None)."""

    pupil_id: int | None = None
    choices: dict | None = None


def choose_pupil(
    query: str,
    matches: Sequence[PupilMatch],
    button: PupilButton | None,
    *,
    not_found: str = NO_SUCH_PUPIL,
) -> PupilChoice:
    """The one pupil `query` names among `matches` (bot.services.pupils.find_pupils or alike).

    Raises UserError when nobody matches (`not_found`, with {query} filled in) or too many do to
    list. When several do: the reply offering a `button` for each, or, where there is nothing to
    press (button None), a UserError naming them. A pupil the person may not see is never among
    `matches`, so "not yours" reads the same as "nobody".
    """
    shown = escape_mrkdwn(as_typed(query)[:80])
    if not matches:
        raise UserError(not_found.format(query=shown))
    if len(matches) > MAX_MATCHES:
        raise UserError(
            f"More than {MAX_MATCHES} pupils match “{shown}”. Add more of their name, "
            "or use their UPN."
        )
    if len(matches) == 1:
        return PupilChoice(pupil_id=matches[0].pupil_id)
    if button is None:
        names = "\n".join(
            f"• {pupil_line(m.name, m.year_group, m.form, has_plan=m.has_plan, bold=False)}"
            + (" · left the school" if m.has_left else "")
            for m in matches
        )
        raise UserError(
            f"Several pupils match “{shown}”:\n{names}\n"
            "Say which one with more of their name, or their UPN."
        )
    reply = render_json(
        "pupil_choices.json.j2",
        summary=f"Several pupils match “{shown}”",
        question=f"Several pupils match “{shown}”. Which one?",
        choices=[
            (
                pupil_line(m.name, m.year_group, m.form, has_plan=m.has_plan)
                + (" · left the school" if m.has_left else ""),
                m.pupil_id,
            )
            for m in matches
        ],
        button=button,
    )
    return PupilChoice(choices={"response_type": "ephemeral", **reply})


# --- role checks -----------------------------------------------------------------------------


def requires(allowed: Callable[[Viewer], bool], refusal: str):
    """Listener middleware: the listener runs only for a viewer `allowed` accepts.

    Checked on every request, so a button or form kept from when someone had the role does
    nothing once they no longer have it.
    """

    def check(body: dict, context: BoltContext, next) -> BoltResponse | None:
        viewer: Viewer | None = context.get("viewer")
        if viewer is not None and allowed(viewer):
            return next()
        return answer(body, context, refusal)

    return check


# --- answering -------------------------------------------------------------------------------


def answer(body: dict, context: BoltContext, message: str) -> BoltResponse:
    """The HTTP reply that tells the person `message` in the way this kind of request allows."""
    message = escape_unescaped(message)  # refusals name placeholders and, at times, pupils
    kind = body.get("type")
    if body.get("command"):
        return _json_response({"response_type": "ephemeral", "text": message})
    if kind == "view_submission":
        return _json_response({"response_action": "update", "view": _notice_like(body, message)})
    if kind == "block_suggestion":
        return _json_response({"options": []})
    tell(body, context, message)
    return BoltResponse(status=200, body="")


def tell(body: dict, context: BoltContext, message: str) -> None:
    """Tells the person `message` outside the HTTP reply: an ephemeral message through the
    response_url, or, for a button in a modal or on the App Home (which have none), a small
    modal over it."""
    message = escape_unescaped(message)
    try:
        if context.response_url:
            context.respond(text=message, response_type="ephemeral", replace_original=False)
        elif body.get("type") == "block_actions" and body.get("view") and body.get("trigger_id"):
            opened_from_modal = body["view"].get("type") == "modal"
            # A trigger lasts three seconds from the click: one quick try.
            client = quick_client(context.client)
            show = client.views_push if opened_from_modal else client.views_open
            show(trigger_id=body["trigger_id"], view=_notice_like(body, message))
    except Exception:  # noqa: BLE001 - telling the person must never become an error of its own
        log.warning("could not tell the person why their request was refused")


def answer_error(
    error: Exception, body: dict, context: BoltContext, response: BoltResponse | None
) -> BoltResponse | None:
    """The app's one error handler: a UserError is answered politely, anything else is logged
    (its kind and traceback, never the payload: it may hold a pupil's name) and apologised for.
    """
    form = body.get("type") == "view_submission"
    if isinstance(error, UserError):
        message = str(error)
        if form and response is not None:
            if error.block_id and _has_block(body, error.block_id):
                return _json_response(
                    {"response_action": "errors", "errors": {error.block_id: message}}
                )
            return answer(body, context, message)
    elif isinstance(error, SlackApiError):
        # Slack refused a view or a message: its error code says why; what was refused may
        # name a pupil, so it is never logged.
        code = error.response.get("error")
        message = slack_refused(code, "a Slack call")
        in_form = NOT_SAVED_SLACK.format(code=_safe_code(code))
    else:
        database = db.is_unavailable(error)
        if database:
            # Expected while the database is down or slow: one line, not a traceback per click.
            log.warning("database unavailable in a listener: %s", type(error).__name__)
        else:
            log.error("listener failed: %s", type(error).__name__, exc_info=error)
        message = DATABASE_DOWN if database else SOMETHING_WENT_WRONG
        in_form = NOT_SAVED_DATABASE if database else NOT_SAVED_BUG
        if db.is_busy(error):
            message, in_form = BUSY, NOT_SAVED_BUSY
    if form and response is not None:
        # Not yet acknowledged: the form stays open, and nothing typed is lost. (A listener
        # that acknowledges first and fails afterwards has already closed it: then `tell`.)
        return keep_form_open(body, in_form)
    if response is not None:
        return answer(body, context, message)  # not yet acknowledged: this is the reply
    tell(body, context, message)
    return None


def keep_form_open(body: dict, message: str) -> BoltResponse:
    """The answer to a form (view_submission) that keeps it open, with what was typed, and
    shows `message` under its first field. A form without fields is replaced by a notice: it
    holds nothing to lose. An empty answer would close the form as if it had been saved."""
    blocks = (body.get("view") or {}).get("blocks") or []
    field = next((b.get("block_id") for b in blocks if b.get("type") == "input"), None)
    if field:  # a field's error is plain text
        return _json_response({"response_action": "errors", "errors": {field: message}})
    notice = _notice_like(body, escape_unescaped(message))
    return _json_response({"response_action": "update", "view": notice})


def _notice_like(body: dict, message: str) -> dict:
    title = ((body.get("view") or {}).get("title") or {}).get("text") or "SSP Bot"
    return done_modal(title, message)


def _has_block(body: dict, block_id: str) -> bool:
    return any(
        block.get("block_id") == block_id for block in (body.get("view") or {}).get("blocks", [])
    )


def _json_response(payload: dict[str, Any]) -> BoltResponse:
    return BoltResponse(
        status=200,
        body=json.dumps(payload),
        headers={"content-type": "application/json;charset=utf-8"},
    )


class UsageError(UserError):
    """A command typed in a way `/ssp` can't follow: answered with the problem and, for a slash
    command, the help for the person asking (handlers.commands)."""


# --- (h4b) opening modals, and what they carry -----------------------------------------------


def meta_json(**ids: Any) -> str:
    """A view's private_metadata: the ids given (None left out), read back with `meta_of`."""
    return json.dumps({name: value for name, value in ids.items() if value is not None})


# What Slack answers when a trigger id is used too late or twice: a matter of timing.
EXPIRED_TRIGGER = frozenset({"expired_trigger_id", "exchanged_trigger_id", "invalid_trigger_id"})


def open_modal(
    client: WebClient, trigger_id: str, view: dict, what: str = "the form", *, push: bool = False
) -> None:
    """Opens `view` (or, with `push`, stacks it on the modal the click came from); if Slack
    refuses, a UserError says so: a trigger lasts three seconds, and a view Slack finds invalid
    (bot.slack_limits) is named by its error code, for answer_error to tell the person (a
    click's ack has gone by then: toolkit.ack_first)."""
    try:
        # A trigger lasts three seconds from the click: one quick try, never a wait for a rate
        # limit to pass.
        quick = quick_client(client)
        if push:
            quick.views_push(trigger_id=trigger_id, view=view)
        else:
            quick.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as error:
        code = error.response.get("error")
        busy = error.response.status_code == 429 or error.response.status_code >= 500
        if code not in EXPIRED_TRIGGER and not busy:
            raise UserError(slack_refused(code, "views.push" if push else "views.open")) from error
        log.warning("opening a modal failed: %s", code)
        raise UserError(
            f"Slack wouldn't open {what} just then (it gives me three seconds). Please try again."
        ) from error
    except OSError as error:
        log.warning("opening a modal failed: no answer")
        raise UserError(
            f"Slack wouldn't open {what} just then (it gives me three seconds). Please try again."
        ) from error


def update_modal(client: WebClient, shown: dict, view: dict) -> bool:
    """Replaces the modal `shown` (the view of the payload a button in it sent) by `view`.

    The view's `hash` goes with it, so an answer to an older click never overwrites a newer
    one: Slack answers hash_conflict, and the newer view simply stays (False). Any other refusal
    is a UserError, for answer_error to tell the person."""
    try:
        client.views_update(view_id=shown["id"], hash=shown.get("hash"), view=view)
    except SlackApiError as error:
        code = error.response.get("error")
        if code != "hash_conflict":
            raise UserError(slack_refused(code, "views.update")) from error
        log.info("a modal changed before its update arrived: kept the newer one")
        return False
    return True


# --- when Slack refuses an answer -------------------------------------------------------------


def slack_refused(code: Any, where: str) -> str:
    """Logs Slack's refusal (its error code, never what was refused: it may name a pupil) and
    returns the short apology the person is shown instead."""
    code = _safe_code(code)
    log.warning("Slack refused %s: %s", where, code)
    return SLACK_REFUSED.format(code=code)


def _safe_code(code: Any) -> str:
    return code if isinstance(code, str) and re.fullmatch(r"[a-z_]{1,60}", code) else "refused"


class CheckedRespond(Respond):
    """Bolt's `respond`, which also reads the response URL's answer: Slack refuses a message it
    finds invalid with HTTP 400 and a word (`invalid_blocks`, `no_text`…), and the person would
    otherwise be left with nothing. Then they are told so in a short plain message, unless the
    caller has its own words for that (`apologise=False`) and reads the answer itself."""

    def __call__(self, *args: Any, apologise: bool = True, **kwargs: Any) -> WebhookResponse:
        response = super().__call__(*args, **kwargs)
        if response.status_code != 200 and apologise:
            apology = slack_refused(
                response.body if response.status_code < 500 else None, "a response URL reply"
            )
            try:
                super().__call__(
                    text=escape_unescaped(apology),
                    response_type="ephemeral",
                    replace_original=False,
                )
            except Exception:  # noqa: BLE001 - the apology failing must not hide the reply
                log.warning("could not tell the person their answer was refused")
        return response


# Requests whose acknowledgement carries nothing: a button, menu or date picked, and a message
# shortcut. (A slash command's ack is its reply, a form's may carry errors, a menu's search
# its options: those listeners ack when they know what to say.)
ACK_CARRIES_NOTHING = ("block_actions", "message_action")


def ack_first(body: dict, ack: Ack, next) -> BoltResponse | None:
    """Global middleware: a click is acknowledged before its listener runs, so its HTTP 200
    leaves as soon as the person is identified, however long the work after it takes. Slack
    gives three seconds; a listener that read the database, or opened a modal, before its ack
    could miss them under load, and Slack then showed the person an error even when the work
    was done. The listener runs on after the ack: what it has to say, a refusal or a failure
    (toolkit.answer_error, which is then given no response to fill) reaches the person through
    `tell`, the response URL or a modal opened with the click's trigger_id, which lasts three
    seconds from the click: open paths stay quick. The listeners' own ack() calls are then
    no-ops."""
    if body.get("type") in ACK_CARRIES_NOTHING:
        ack()
    return next()


def check_replies(context: BoltContext, next) -> BoltResponse | None:
    """Global middleware: every `respond` a listener is given (and `tell`'s) is a CheckedRespond."""
    if context.response_url:
        context["respond"] = CheckedRespond(
            response_url=context.response_url, proxy=context.client.proxy, ssl=context.client.ssl
        )
    return next()


def requires_in_modal(allowed: Callable[[Viewer], bool], title: str, refusal: str):
    """`requires` for a shortcut, which has no message to answer in: the refusal is a modal."""

    def check(body: dict, client: WebClient, context: BoltContext, next) -> BoltResponse | None:
        viewer: Viewer | None = context.get("viewer")
        if viewer is not None and allowed(viewer):
            return next()
        try:  # before the ack: one quick try
            quick_client(client).views_open(
                trigger_id=body["trigger_id"], view=done_modal(title, refusal)
            )
        except (SlackApiError, OSError):
            log.warning("could not show a refusal in a modal")
        return BoltResponse(status=200, body="")

    return check


def find_one_pupil(
    runtime: Any,
    viewer: Viewer,
    query: str,
    button: PupilButton | None,
    *,
    via: str,
    find: Callable[[Any, Viewer, str], Sequence[PupilMatch]] | None = None,
    not_found: str = NO_SUCH_PUPIL,
) -> PupilChoice:
    """`choose_pupil` among the pupils this person may see (bot.services.pupils.find_pupils).

    A list of several pupils (to choose from, or named in the refusal) shows who has SEN, so it
    is audited; the unit of work ends before choosing, so a refusal keeps its audit row.
    """
    with runtime.unit_of_work() as session:
        matches = (find or find_pupils)(session, viewer, query)
        if 1 < len(matches) <= MAX_MATCHES:
            audit.record_shown(
                session,
                viewer,
                via=via,
                now=runtime.now(),
                what="pupils matching a search",
                pupils=[(None, match.pupil_id) for match in matches],
            )
    return choose_pupil(query, matches, button, not_found=not_found)
