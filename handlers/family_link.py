"""The "Link made" modal (handlers.family.make_link shows it once, right after the link is made)
and what hangs off it: "Print a letter with a QR code" (a URL button to the letter page,
handlers.web.letter) and, when the school has set SMTP_URL, "Email it" (bot.services.family_mail).

The token is not stored anywhere, so this modal is the only place it exists: its private_metadata
carries it for "Email it", with the link's id. On submit, the service checks the token is that
link's, the link still works and is this school's, and the asker is the case holder or a SENDCo
(refusals audited). The email is sent after the ack (a mail server may take longer than Slack's
three seconds); the modal then says whether it went. The address typed is not kept.
"""

from __future__ import annotations

import logging
import secrets
import time

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.access import Viewer
from bot.errors import UserError
from bot.render import escape_mrkdwn, render_json
from bot.services import family_mail, mail
from bot.services.family import Created
from handlers.context import Runtime, after_the_ack
from handlers.toolkit import as_int, done_modal, meta_json, meta_of, text_value

log = logging.getLogger(__name__)

TITLE = "Link made"
BAD_ADDRESS = "Enter an email address like name@example.com."
NO_ADDRESS = "Type the parent or carer's email address, or press Done."
NO_EMAIL = (
    "Email isn't set up for SSP Bot: ask your IT lead to set SMTP_URL and SMTP_FROM (see the "
    "README, “Families and young people”). Nothing was sent."
)


def register(app: App) -> None:
    # No role middleware: the service refuses (and audits) anyone but the case holder or a
    # SENDCo, so a replayed submission from a teacher or TA leaves a trace.
    app.view("ssp_link_email")(email_link)
    # Slack sends a click on a URL button to the app too; the browser does the work.
    app.action("ssp_link_letter")(opened_letter)


def link_made_view(
    runtime: Runtime,
    made: Created,
    *,
    title: str = TITLE,
    intro: str,
    link: str,
    footer: str,
    said: str | None = None,
    external_id: str | None = None,
    invitation_id: int | None = None,
) -> dict:
    """The modal that shows a new link once: the link, a letter to print, and (with SMTP) a box
    to email it."""
    return _view(runtime, made.invitation_id, made.token, title=title, intro=intro, link=link,
                 footer=footer, said=said, external_id=external_id)  # fmt: skip


def _view(
    runtime: Runtime,
    invitation_id: int,
    token: str,
    *,
    title: str,
    intro: str,
    link: str,
    footer: str,
    said: str | None,
    external_id: str | None,
) -> dict:
    emails = runtime.settings.smtp_url is not None
    return render_json(
        "family_link_modal.json.j2",
        title=title,
        intro=intro,
        link=link,
        letter=f"{link}/letter",
        footer=footer,
        said=said,
        invitation_id=invitation_id,
        emails=emails,
        external_id=external_id,
        # The token travels only where it can be emailed from: never stored.
        meta=meta_json(invitation_id=invitation_id, token=token) if emails else "{}",
    )


def opened_letter(ack: Ack) -> None:
    ack()


def email_link(
    ack: Ack, body: dict, view: dict, client: WebClient, runtime: Runtime, viewer: Viewer
) -> None:
    meta = meta_of(view)
    typed = text_value(view["state"]["values"], "email")
    address = family_mail.valid_address(typed)
    if address is None:
        ack(response_action="errors", errors={"email": BAD_ADDRESS if typed else NO_ADDRESS})
        return
    server, sender = runtime.settings.smtp, runtime.settings.smtp_from
    if server is None or sender is None or not runtime.settings.public_url:
        ack(response_action="update", view=done_modal(TITLE, NO_EMAIL))
        return
    token = str(meta.get("token") or "")
    invitation_id = as_int(meta.get("invitation_id"))
    with runtime.unit_of_work() as session:
        try:
            letter = family_mail.emailable(session, viewer, invitation_id, token, runtime.now())
        except UserError as problem:
            refused = str(problem)
        else:
            refused = None
    if refused is not None:
        ack(response_action="update", view=done_modal(TITLE, escape_mrkdwn(refused)))
        return
    link = f"{runtime.settings.public_url}/f/{token}"
    intro, footer = _words_of(view)
    # The background update finds the modal by this id once Slack has shown the ack's view.
    external_id = f"ssp_link_email_{secrets.token_hex(12)}"
    shown = family_mail.masked(address)

    def view_saying(said: str, with_id: str | None = None) -> dict:
        return _view(runtime, invitation_id, token, title=TITLE, intro=intro, link=link,
                     footer=footer, said=said, external_id=with_id or external_id)  # fmt: skip

    ack(response_action="update", view=view_saying(f"Sending it to {shown}…"))

    def send() -> None:
        try:
            mail.send(server, family_mail.message(letter, link, address, sender))
        except mail.MailNotSent as why:
            log.warning("emailing link %s failed: %s", invitation_id, why)
            said = f"The email could not be sent ({why}): copy the link instead."
        else:
            said = f"Emailed to {shown}."
            try:
                with runtime.unit_of_work() as session:
                    family_mail.emailed(session, viewer, invitation_id, runtime.now())
            except Exception:  # noqa: BLE001 - it was sent: say so, and log the lost audit row
                log.exception("emailed link %s, but its audit row was not saved", invitation_id)
        _update_when_shown(client, external_id, view_saying(said))

    after_the_ack(send, "email-link")


def _words_of(view: dict) -> tuple[str, str]:
    """The intro and footer the modal was shown with (this template's blocks)."""
    texts = {}
    for block in view.get("blocks") or []:
        if block.get("block_id") == "intro":
            texts["intro"] = block["text"]["text"]
        elif block.get("block_id") == "footer":
            texts["footer"] = block["elements"][0]["text"]
    return texts.get("intro") or "Here is the link.", texts.get("footer") or " "


def _update_when_shown(client: WebClient, external_id: str, view: dict) -> None:
    # Slack shows the ack's view a moment after our answer; until then it doesn't know the id.
    for attempt in range(20):
        try:
            client.views_update(external_id=external_id, view=view)
            return
        except SlackApiError as error:
            if error.response.get("error") != "not_found" or attempt == 19:
                log.warning("could not update the Link made modal: %s", error.response.get("error"))
                return
        time.sleep(0.25)
