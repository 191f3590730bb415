"""Emailing a family their link from Slack's "Link made" modal (issue 17), with SMTP_URL set: a
real SMTP server on a local port (aiosmtpd) takes the email, the case holder submits the modal
through the signed endpoint, and the emulator shows what the modal says afterwards.

Brookside High (tests/slack_harness.py): Priya Shah holds Ava Stone's plan (born 4 March 2012);
the clock says Monday 23 November 2026, so a new link works until Monday 7 December 2026.
"""

from __future__ import annotations

import logging
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy import select

from bot.config import ConfigError, Settings
from handlers.web import family as web_family
from models import AuditEvent, Invitation
from tests.family_harness import Family, ask_form, free_port, start_public_app
from tests.slack_harness import build_school, text_of
from tests.test_plan_editor import submit

SENDER = "office@brookside.example.org"
PARENT = "parent.stone@example.com"


@pytest.fixture(autouse=True)
def quiet_test_server():
    """aiosmtpd (the test's server, not the app) logs every line it receives at DEBUG."""
    logger = logging.getLogger("mail.log")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(level)


class Inbox:
    """aiosmtpd's handler: keeps every email the server accepts."""

    def __init__(self) -> None:
        self.emails: list = []
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        self.emails.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 Message accepted for delivery"


class Logins:
    """aiosmtpd's authenticator: one user and password, and every try remembered."""

    def __init__(self) -> None:
        self.tries: list[tuple[str, str]] = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.tries.append((login, password))
        # handled=False: aiosmtpd answers a failure itself (535), as a real server does.
        return AuthResult(success=(login, password) == ("sspbot", "s3cret/pass"), handled=False)


@pytest.fixture
def inbox():
    return Inbox()


@pytest.fixture
def smtp_server(inbox):
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


def running_app(emulator, sessions, clock, **env):
    from handlers.scheduler import wait_for_deliveries

    emulator.reset()
    with sessions.begin() as session:
        ids = build_school(session, emulator)
    running = start_public_app(emulator, sessions, clock, **env)
    running.ids = ids
    return running, wait_for_deliveries


@pytest.fixture
def slack(emulator, sessions, school_extras, clock, smtp_server):
    running, wait = running_app(
        emulator, sessions, clock,
        SMTP_URL=f"smtp://127.0.0.1:{smtp_server.port}", SMTP_FROM=SENDER,
    )  # fmt: skip
    yield running
    running.server.stop()
    wait()


@pytest.fixture(autouse=True)
def fresh_limits(monkeypatch):
    monkeypatch.setattr(web_family, "PER_LINK", web_family.RateLimit(30, 600))
    monkeypatch.setattr(web_family, "PER_ADDRESS", web_family.RateLimit(60, 600))


def link_made(slack, user: str = "U0PRIYA", purpose: str = "family") -> dict:
    """The "Link made" modal as the emulator shows it, just after the link was made."""
    form = ask_form(slack, user, purpose)
    reply = submit(slack, user, form)
    assert reply["response_action"] == "update", reply
    return slack.emulator.open_views(user)[-1]


def link_in(view: dict) -> str:
    (block,) = [b for b in view["blocks"] if b.get("block_id") == "link"]
    return block["text"]["text"]


def email_it(slack, view: dict, address: str | None, user: str = "U0PRIYA"):
    """Types the address and presses "Email it"; returns the app's answer."""
    reply = slack.sender.submit(
        user, view, {"email": {"type": "email_text_input", "value": address}}
    )
    assert reply.status == 200
    return reply.json()


def settled(slack, view_id: str, starts: str) -> dict:
    """The modal once the background send has updated it (its "emailed" line starting so)."""

    def said(calls) -> bool:
        shown = slack.emulator.views.get(view_id) or {}
        return any(
            b.get("block_id") == "emailed" and b["text"]["text"].startswith(starts)
            for b in shown.get("blocks", [])
        )

    slack.emulator.wait_for(said)
    return slack.emulator.views[view_id]


def audit_details(slack) -> list[tuple[str, str]]:
    with slack.sessions() as session:
        return [(a.action, a.detail or "") for a in session.scalars(select(AuditEvent))]


def test_the_case_holder_emails_the_link_and_it_arrives(slack, inbox, caplog):
    caplog.set_level(logging.DEBUG)
    view = link_made(slack)
    link = link_in(view)
    token = link.rsplit("/", 1)[1]
    (box,) = [b for b in view["blocks"] if b.get("block_id") == "email"]
    assert box["element"]["type"] == "email_text_input"
    assert box["label"]["text"] == "Email it to (optional)" and box["optional"] is True
    assert view["submit"]["text"] == "Email it"

    answer = email_it(slack, view, PARENT)
    assert answer["response_action"] == "update"
    assert "Sending it to p…@example.com" in text_of({"blocks": answer["view"]["blocks"]})
    after = settled(slack, view["id"], "Emailed")
    shown = text_of({"blocks": after["blocks"]})
    assert "Emailed to p…@example.com." in shown
    assert link in shown  # still there to copy
    assert PARENT not in shown

    (email,) = inbox.emails
    assert email["Subject"] == "Brookside High: please tell us your views"
    assert email["From"].addresses[0].display_name == "Brookside High"
    assert email["From"].addresses[0].addr_spec == SENDER
    assert email["To"] == PARENT
    assert inbox.envelopes[0].rcpt_tos == [PARENT]
    text = email.get_body(("plain",)).get_content()
    assert text.startswith("Dear parent or carer,")
    assert link in text
    assert "Brookside High would like to hear your views about Ava's support" in text
    assert "You'll be asked for Ava's date of birth" in text
    assert "Monday 7 December 2026" in text
    assert "If you weren't expecting this email, please contact the school" in text
    assert "Stone" not in email.as_string()  # the first name only, nothing of the plan
    html = email.get_body(("html",)).get_content()
    assert f'<a href="{link}">' in html

    details = audit_details(slack)
    assert ("create", "emailed link 1") in details
    assert not [d for d in details if PARENT in d[1] or token in d[1]]
    with slack.sessions() as session:
        assert session.scalar(select(Invitation)).submissions == 0
    ours = [
        r.getMessage() for r in caplog.records if not r.name.startswith(("urllib3", "mail.log"))
    ]
    assert not [m for m in ours if token in m or PARENT in m]


def test_the_pupils_link_says_what_the_pupil_is_asked(slack, inbox):
    view = link_made(slack, purpose="pupil")
    email_it(slack, view, PARENT)
    settled(slack, view["id"], "Emailed")
    (email,) = inbox.emails
    text = email.get_body(("plain",)).get_content()
    assert "would like Ava to tell us what they think" in text


def test_a_bad_or_missing_address_is_answered_beside_the_field(slack, inbox):
    view = link_made(slack)
    assert email_it(slack, view, "not an address") == {
        "response_action": "errors",
        "errors": {"email": "Enter an email address like name@example.com."},
    }
    assert email_it(slack, view, None)["errors"] == {
        "email": "Type the parent or carer's email address, or press Done."
    }
    assert inbox.emails == []


def test_when_the_mail_server_is_down_the_modal_says_so_and_keeps_the_link(
    emulator, sessions, school_extras, clock
):
    slack, wait = running_app(
        emulator, sessions, clock,
        SMTP_URL=f"smtp://127.0.0.1:{free_port()}", SMTP_FROM=SENDER,  # nothing listens there
    )  # fmt: skip
    try:
        view = link_made(slack)
        email_it(slack, view, PARENT)
        after = settled(slack, view["id"], "The email could not be sent")
        shown = text_of({"blocks": after["blocks"]})
        assert (
            "The email could not be sent (the mail server could not be reached): copy the link "
            "instead." in shown
        )
        assert link_in(view) in shown
        assert not [d for d in audit_details(slack) if d[1].startswith("emailed")]
    finally:
        slack.server.stop()
        wait()


def test_the_mail_server_sign_in(emulator, sessions, school_extras, clock, inbox):
    logins = Logins()
    server = Controller(
        inbox, hostname="127.0.0.1", port=free_port(), authenticator=logins,
        auth_require_tls=False,  # a test server on this machine: no certificate to trust
    )  # fmt: skip
    server.start()
    slack, wait = running_app(
        emulator, sessions, clock,
        SMTP_URL=f"smtp://sspbot:s3cret%2Fpass@127.0.0.1:{server.port}", SMTP_FROM=SENDER,
    )  # fmt: skip
    try:
        view = link_made(slack)
        email_it(slack, view, PARENT)
        settled(slack, view["id"], "Emailed")
        assert logins.tries == [("sspbot", "s3cret/pass")]
        assert len(inbox.emails) == 1
    finally:
        slack.server.stop()
        wait()
        server.stop()


def test_a_wrong_password_is_said_in_the_modal(emulator, sessions, school_extras, clock, inbox):
    server = Controller(inbox, hostname="127.0.0.1", port=free_port(), authenticator=Logins(),
                        auth_require_tls=False)  # fmt: skip
    server.start()
    slack, wait = running_app(
        emulator, sessions, clock,
        SMTP_URL=f"smtp://sspbot:wrong@127.0.0.1:{server.port}", SMTP_FROM=SENDER,
    )  # fmt: skip
    try:
        view = link_made(slack)
        email_it(slack, view, PARENT)
        after = settled(slack, view["id"], "The email could not be sent")
        assert "refused SSP Bot's sign-in" in text_of({"blocks": after["blocks"]})
        assert inbox.emails == []
    finally:
        slack.server.stop()
        wait()
        server.stop()


@pytest.mark.parametrize("user", ["U0LEE", "U0TA", "U0TOM", "U0SLT"])
def test_only_the_case_holder_or_sendco_may_email_a_link(slack, inbox, user):
    """A teacher, a TA, another case holder or a senior leader replaying the case holder's
    submission: refused, nothing sent, the refusal audited."""
    view = link_made(slack)
    answer = email_it(slack, view, PARENT, user=user)
    assert answer["response_action"] == "update"
    assert text_of({"blocks": answer["view"]["blocks"]}).startswith("Only")
    assert inbox.emails == []
    refusals = [d for a, d in audit_details(slack) if a == "refused"]
    assert refusals == ["email link 1 refused: not the plan's case holder or a SENDCo"]


def test_a_token_that_is_not_the_links_is_refused(slack, inbox):
    first = link_made(slack)
    second = link_made(slack)
    # The first link's id with the second link's token, as a forged payload would carry.
    import json

    meta = json.loads(first["private_metadata"])
    meta["token"] = json.loads(second["private_metadata"])["token"]
    forged = {**first, "private_metadata": json.dumps(meta)}
    answer = email_it(slack, forged, PARENT)
    assert "can't be found any more" in text_of({"blocks": answer["view"]["blocks"]})
    assert inbox.emails == []
    assert ("refused", "email link 1 refused: the link given is not this one") in audit_details(
        slack
    )


def test_another_schools_replayed_submission_is_refused(slack, inbox):
    import json
    from urllib.parse import urlencode

    view = link_made(slack)
    sender = slack.sender
    payload = sender._interaction(
        "view_submission", "U0OTHER", "T0OTHERSCH",
        slack.emulator.new_trigger_id(view_id=view["id"]),
        view={**view, "state": {"values": {"email": {"value": {"type": "email_text_input",
                                                                 "value": PARENT}}}}},
        response_urls=[],
    )  # fmt: skip
    reply = sender.post(
        urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"
    )
    assert reply.status == 200
    assert "can't be found any more" in reply.body
    assert inbox.emails == []
    assert ("refused", "email link refused: no such link in this school") in audit_details(slack)


def test_a_revoked_link_is_not_emailed(slack, inbox, clock):
    view = link_made(slack)
    with slack.sessions.begin() as session:
        session.scalar(select(Invitation)).revoked_at = clock.now
    answer = email_it(slack, view, PARENT)
    assert "That link no longer works" in text_of({"blocks": answer["view"]["blocks"]})
    assert inbox.emails == []


def test_the_link_still_opens_after_it_was_emailed(slack, inbox):
    view = link_made(slack)
    email_it(slack, view, PARENT)
    settled(slack, view["id"], "Emailed")
    assert Family(link_in(view)).open().status_code == 200


# --- settings -------------------------------------------------------------------------------


def settings(**env) -> Settings:
    return Settings.from_env(env, env_file=None)


def test_smtp_url_forms_that_are_accepted():
    plain = settings(SMTP_URL="smtp://mail.oakfield.example", SMTP_FROM="office@oakfield.example")
    assert (plain.smtp.host, plain.smtp.port, plain.smtp.tls) == (
        "mail.oakfield.example",
        25,
        "none",
    )
    starttls = settings(
        SMTP_URL="smtp://office:p%40ss@mail.oakfield.example:587?starttls=true",
        SMTP_FROM="SSP Bot <office@oakfield.example>",
    )
    assert (starttls.smtp.port, starttls.smtp.tls) == (587, "starttls")
    assert (starttls.smtp.username, starttls.smtp.password) == ("office", "p@ss")
    assert starttls.smtp_from == "office@oakfield.example"
    assert "p@ss" not in repr(starttls.smtp) and "p%40ss" not in str(starttls.describe())
    tls = settings(SMTP_URL="smtps://office:pw@mail.oakfield.example", SMTP_FROM="a@b.example")
    assert (tls.smtp.port, tls.smtp.tls) == (465, "ssl")
    assert settings().smtp is None


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"SMTP_URL": "http://mail.example", "SMTP_FROM": "a@b.example"}, "is not a mail server"),
        ({"SMTP_URL": "smtp://mail.example:twenty", "SMTP_FROM": "a@b.example"}, "not a number"),
        ({"SMTP_URL": "smtp://mail.example?tls=1", "SMTP_FROM": "a@b.example"}, "?starttls=true"),
        ({"SMTP_URL": "smtp://u:secretpw@mail.example", "SMTP_FROM": "a@b.example"},
         "would send its password unencrypted"),
        ({"SMTP_URL": "smtp://mail.example"}, "SMTP_FROM is not set, but SMTP_URL is"),
        ({"SMTP_URL": "smtp://mail.example", "SMTP_FROM": "office"}, "is not an email address"),
    ],
)  # fmt: skip
def test_a_bad_smtp_setting_is_refused_at_start_up(env, says):
    with pytest.raises(ConfigError) as refused:
        settings(**env)
    assert says in str(refused.value)
    assert "secretpw" not in str(refused.value)


def test_without_smtp_the_modal_has_no_email_box(emulator, sessions, school_extras, clock):
    slack, wait = running_app(emulator, sessions, clock)
    try:
        view = link_made(slack)
        assert not [b for b in view["blocks"] if b.get("block_id") == "email"]
        assert view.get("submit") is None
        assert view["private_metadata"] == "{}"  # the token goes nowhere it isn't needed
        (row,) = [b for b in view["blocks"] if b.get("block_id") == "link-actions"]
        letter = next(e for e in row["elements"] if e["action_id"] == "ssp_link_letter")
        assert letter["url"] == link_in(view) + "/letter"
    finally:
        slack.server.stop()
        wait()


@pytest.mark.postgresql
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_when_the_database_is_down_the_form_stays_open_and_nothing_is_sent(
    emulator, sessions, db_url, clock, smtp_server, inbox
):
    """The database goes between making the link and pressing Email it (the app reaches
    PostgreSQL through a proxy the test cuts, as tests/test_db_faults.py does)."""
    from sqlalchemy.engine import make_url

    from bot import db
    from handlers.context import wait_for_background_work
    from handlers.scheduler import wait_for_deliveries
    from tests.db_proxy import DbProxy

    emulator.reset()
    with sessions.begin() as session:
        build_school(session, emulator)
    url = make_url(db_url)
    with DbProxy((url.host or "127.0.0.1", url.port or 5432)) as proxy:
        engine = db.make_engine(proxy.url(db_url))
        slack = start_public_app(
            emulator, db.make_session_factory(engine), clock,
            SMTP_URL=f"smtp://127.0.0.1:{smtp_server.port}", SMTP_FROM=SENDER,
        )  # fmt: skip
        try:
            view = link_made(slack)
            proxy.cut()
            answer = email_it(slack, view, PARENT)
            assert answer["response_action"] == "errors"
            assert list(answer["errors"]) == ["email"]
            assert "Nothing was saved" in answer["errors"]["email"]
            assert inbox.emails == []
        finally:
            proxy.passes()
            slack.server.stop()
            wait_for_background_work()
            wait_for_deliveries()
            engine.dispose()
