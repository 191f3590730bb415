"""Reports and evidence attached to a plan (issue 20): the message shortcut on a message with a
file, the file input in the plan's Reports, the encrypted store, download links, and refusals,
through the signed endpoint and the emulator's file flow, on SQLite and PostgreSQL.

Brookside High (tests/slack_harness.py): Priya Shah holds Ava Stone's plan (which has one
report row here) and Ben's; Tom Baker holds Cara Lin's; Lee Chan teaches Cara; Sam Jones is a
teaching assistant; Morgan Reed is the SENDCo; Olly Other is another school's SENDCo.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, update

from bot.demo.slack_emulator import FILE_DOWNLOAD
from bot.services import attachments as service
from handlers import attachments as listeners
from models import AgencyReport, Attachment, AuditEvent, DownloadLink, Plan
from tests.slack_harness import DOWNLOAD_LINK, NOW, build_school, start_app, text_of
from tests.test_plan_editor import click, modal_text, open_plan

KEY = Fernet.generate_key().decode()
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\nATTACHSECRET the report's words\n%%EOF\n"
FILENAME = "EP report ZQXFILENAME.pdf"
TITLE = "Educational Psychology report ZQXTITLE"


@pytest.fixture
def app(emulator, sessions, clock):
    """The app with an ATTACHMENT_KEY, and a report row on Ava's plan."""
    emulator.reset()
    with sessions.begin() as session:
        ids = build_school(session, emulator)
        report = AgencyReport(plan_id=ids["ava_plan"], title="EP assessment", author="Dr Okafor")
        session.add(report)
        session.flush()
        ids["report"] = report.id
    running = start_app(emulator, sessions, clock=clock, env={"ATTACHMENT_KEY": KEY})
    running.ids = ids
    yield running
    running.server.stop()
    from handlers.context import wait_for_background_work

    wait_for_background_work()  # an attaching still under way, before the next test's reset


def stored(app) -> list[Attachment]:
    with app.sessions() as session:
        return list(session.scalars(select(Attachment).order_by(Attachment.id)))


def links(app) -> list[DownloadLink]:
    with app.sessions() as session:
        return list(session.scalars(select(DownloadLink).order_by(DownloadLink.id)))


def audit_rows(app, **where) -> list[AuditEvent]:
    with app.sessions() as session:
        query = select(AuditEvent).order_by(AuditEvent.id)
        for name, value in where.items():
            query = query.where(getattr(AuditEvent, name) == value)
        return list(session.scalars(query))


def state_of(view: dict, typed: dict) -> dict:
    """What Slack sends back for the modal's inputs: what is shown, changed by `typed` (block id
    to a value, or to an element state such as a file input's)."""
    state = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element, block_id = block["element"], block["block_id"]
        kind = element["type"]
        if isinstance(typed.get(block_id), dict):
            state[block_id] = typed[block_id]
        elif kind == "plain_text_input":
            state[block_id] = {"type": kind, "value": typed.get(block_id)}
        elif kind in ("static_select", "radio_buttons"):
            chosen = typed.get(block_id, (element.get("initial_option") or {}).get("value"))
            option = next((o for o in element["options"] if o["value"] == chosen), None)
            state[block_id] = {"type": kind, "selected_option": option}
        elif kind == "file_input":
            state[block_id] = {"type": kind, "files": []}
    return state


def submit(app, user: str, view: dict, **typed) -> dict:
    reply = app.sender.submit(user, view, state_of(view, typed))
    assert reply.status == 200, reply
    return reply.json()


def attach(app, user: str, view: dict, **typed) -> str:
    """Submits the attach form: "Attaching…" at once, then the outcome in the same modal."""
    answer = submit(app, user, view, **typed)
    assert answer["response_action"] == "update", answer
    assert listeners.WORKING in json.dumps(answer["view"])
    app.emulator.wait_for(
        lambda calls: listeners.WORKING not in modal_text(app.emulator.views[view["id"]])
    )
    return modal_text(app.emulator.views[view["id"]])


def share(app, user: str, filename: str = FILENAME, content: bytes = PDF, **kwargs) -> dict:
    """`user` posts a message with this file in their DM with the bot: the message."""
    file = app.emulator.add_file(user, filename, content, **kwargs)
    return app.emulator.post_file_message(user, app.emulator.dm_channel_id(user), [file])


def shortcut(app, user: str, message: dict) -> dict:
    opened = len(app.emulator.calls_to("views.open"))
    reply = app.sender.message_shortcut(user, listeners.SHORTCUT, message)
    assert reply.status == 200
    app.emulator.wait_for(lambda calls: len(app.emulator.calls_to("views.open")) > opened)
    return app.emulator.open_views()[-1]


def form_for(app, user: str, pupil: str, message: dict | None = None) -> dict:
    """The shortcut's form for `pupil`, for a message with the default file."""
    first = shortcut(app, user, message or share(app, user))
    chosen = submit(app, user, first, pupil=pupil)
    assert chosen["response_action"] == "update", chosen
    form = chosen["view"]
    form["id"] = first["id"]
    return form


def reports_list(app, user: str, pupil: str = "Ava Stone") -> dict:
    plan = open_plan(app, user, f"plan {pupil}")
    return click(app, user, plan, "plan_open_section", "reports")


def link_from(app, user: str, view: dict, attachment_id: int) -> str:
    pushed = click(app, user, view, listeners.LINK_ACTION, str(attachment_id))
    [(url, label)] = DOWNLOAD_LINK.findall(json.dumps(pushed["blocks"]).replace('\\"', '"'))
    assert label == "Download the file"
    return url


# --- attaching --------------------------------------------------------------------------------


def test_a_case_holder_attaches_a_report_from_a_message_and_it_is_kept_encrypted(app):
    form = form_for(app, "U0PRIYA", "Ava Stone")
    assert "Ava Stone" in modal_text(form)
    assert [b["element"]["type"] for b in form["blocks"] if b["type"] == "input"] == [
        "plain_text_input",
        "radio_buttons",
        "static_select",
        "radio_buttons",
    ]
    done = attach(app, "U0PRIYA", form, title=TITLE, kind="report", report=str(app.ids["report"]))
    assert "is attached to Ava Stone's plan" in done.replace("*", "")
    [saved] = stored(app)
    assert (saved.plan_id, saved.pupil_id, saved.report_id, saved.kind, saved.title) == (
        app.ids["ava_plan"],
        app.ids["ava"],
        app.ids["report"],
        "report",
        TITLE,
    )
    assert (saved.uploaded_by_id, saved.content_type, saved.size) == (
        app.ids["priya"],
        "application/pdf",
        len(PDF),
    )
    assert saved.filename == "EP report ZQXFILENAME.pdf"
    # The stored bytes are not the file; they decrypt to it, and its hash is kept.
    assert saved.ciphertext != PDF and b"ATTACHSECRET" not in saved.ciphertext
    assert Fernet(KEY.encode()).decrypt(saved.ciphertext) == PDF
    assert saved.sha256 == hashlib.sha256(PDF).hexdigest()
    # Fetched with the bot token: files.info, then the file's private download address.
    [info] = app.emulator.calls_to("files.info")
    [fetched] = app.emulator.calls_to(FILE_DOWNLOAD)
    assert info.token == fetched.token == app.emulator.bot_token
    assert fetched.http_status == 200
    assert audit_rows(app, action="read", via=listeners.VIA_SHORTCUT, plan_id=app.ids["ava_plan"])
    [row] = audit_rows(app, action="attach")
    assert (row.actor_staff_id, row.plan_id, row.via) == (
        app.ids["priya"],
        app.ids["ava_plan"],
        listeners.VIA_SHORTCUT,
    )
    assert "ZQX" not in row.detail and f"attachment {saved.id}" in row.detail
    # Nothing is posted or uploaded back into Slack.
    assert not app.emulator.messages and not app.emulator.files


def test_the_sendco_attaches_evidence_with_the_file_input_in_the_plans_reports(app):
    section = reports_list(app, "U0SENDCO")
    assert "No files attached yet" in modal_text(section)
    form = click(app, "U0SENDCO", section, listeners.OPEN_ACTION, "reports")
    [file_block] = [b for b in form["blocks"] if b.get("block_id") == "file"]
    element = file_block["element"]
    assert element["type"] == "file_input" and element["max_files"] == 1
    assert set(element["filetypes"]) == {"pdf", "docx", "jpg", "jpeg", "png", "txt"}
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    chosen = app.emulator.choose_files("U0SENDCO", form, "file", [("timetable.png", png)])
    done = attach(app, "U0SENDCO", form, title="Visual timetable in use", kind="evidence",
                  file=chosen)  # fmt: skip
    assert "is attached to" in done
    [saved] = stored(app)
    assert (saved.kind, saved.content_type, saved.report_id) == ("evidence", "image/png", None)
    assert Fernet(KEY.encode()).decrypt(saved.ciphertext) == png
    assert audit_rows(app, action="attach", via=listeners.VIA_BUTTON)
    # The staff's plan lists it: title, kind, who, when, with a download button.
    again = reports_list(app, "U0SENDCO")
    shown = modal_text(again)
    assert "Visual timetable in use" in shown and "Evidence" in shown
    assert "Attached by Morgan Reed, 23 Nov 2026" in shown
    buttons = [
        b["accessory"] for b in again["blocks"] if b.get("accessory", {}).get("type") == "button"
    ]
    assert {"action_id": listeners.LINK_ACTION, "value": str(saved.id)}.items() <= next(
        b for b in buttons if b["action_id"] == listeners.LINK_ACTION
    ).items()


def test_the_staff_copy_lists_attachments_and_the_family_copy_does_not(app):
    form = form_for(app, "U0PRIYA", "Ava Stone")
    attach(app, "U0PRIYA", form, title=TITLE, kind="report")
    assert stored(app)
    family = app.export("U0SENDCO", "Ava Stone --for family")
    assert family.status == 200
    assert b"ZQXTITLE" not in family.body and b"ZQXFILENAME" not in family.body
    # The staff copy lists it, by title, marked staff only (never its contents).
    staff = app.export("U0SENDCO", "Ava Stone")
    assert staff.status == 200 and b"Files attached to the plan" in staff.body
    assert b"ZQXTITLE" in staff.body and b"ZQXFILENAME" not in staff.body


def test_the_file_input_is_checked_as_slack_checks_it(app):
    section = reports_list(app, "U0SENDCO")
    form = click(app, "U0SENDCO", section, listeners.OPEN_ACTION, "reports")
    with pytest.raises(ValueError, match="filetypes"):
        app.emulator.choose_files("U0SENDCO", form, "file", [("run.exe", b"MZ")])
    with pytest.raises(ValueError, match="max_files"):
        app.emulator.choose_files("U0SENDCO", form, "file", [("a.pdf", PDF), ("b.pdf", PDF)])
    # Slack refuses a file input with more than 10 files, or outside a modal's input block.
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    client = WebClient(token=app.emulator.bot_token, base_url=app.emulator.api_url)
    bad = dict(form, blocks=[dict(b) for b in form["blocks"]])
    for block in bad["blocks"]:
        if block.get("block_id") == "file":
            block["element"] = dict(block["element"], max_files=11)
    bad = {k: bad[k] for k in ("type", "callback_id", "title", "submit", "close", "blocks")}
    with pytest.raises(SlackApiError) as refused:
        client.views_open(trigger_id=app.emulator.new_trigger_id(), view=bad)
    assert refused.value.response["error"] == "invalid_arguments"
    in_message = [{"type": "actions", "elements": [{"type": "file_input", "action_id": "f"}]}]
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="U0SENDCO", text="x", blocks=in_message)


def test_the_key_is_checked_at_start_up_and_never_shown():
    from bot.config import ConfigError, Settings

    with pytest.raises(ConfigError) as bad:
        Settings.from_env({"ATTACHMENT_KEY": KEY[:-4]}, env_file=None)
    assert str(bad.value).startswith("ATTACHMENT_KEY is not a Fernet key")
    assert "Fernet.generate_key()" in str(bad.value) and "\n" not in str(bad.value)
    shown = dict(Settings.from_env({"ATTACHMENT_KEY": KEY}, env_file=None).describe())
    assert shown["ATTACHMENT_KEY"] == "(set, hidden)"


# --- refusals -----------------------------------------------------------------------------------


def refused_beside_the_file(app, user: str, message: dict, **typed) -> str:
    form = form_for(app, user, "Ava Stone", message)
    answer = submit(app, user, form, title=TITLE, kind="report", **typed)
    assert answer["response_action"] == "errors", answer
    assert list(answer["errors"]) == ["file"]
    return answer["errors"]["file"]


def refused_once_fetched(app, user: str, message: dict) -> str:
    form = form_for(app, user, "Ava Stone", message)
    return attach(app, user, form, title=TITLE, kind="report")


def test_a_file_of_the_wrong_type_is_refused_and_nothing_is_kept(app):
    # A program renamed .pdf: the name says PDF, the first bytes do not.
    fake = refused_once_fetched(app, "U0PRIYA", share(app, "U0PRIYA", "report.pdf", b"MZ\x90"))
    assert "PDF, Word (.docx), JPEG, PNG or plain text (.txt)" in fake
    # A type not allowed at all is refused before anything is fetched.
    fetched = len(app.emulator.calls_to(FILE_DOWNLOAD))
    exe = refused_beside_the_file(app, "U0PRIYA", share(app, "U0PRIYA", "setup.exe", b"MZ\x90"))
    assert exe == service.WRONG_TYPE.format(allowed=service.ALLOWED_TEXT)
    assert len(app.emulator.calls_to(FILE_DOWNLOAD)) == fetched
    # A .docx that is not a Word document (a zip without word/).
    other_zip = b"PK\x03\x04" + b"\x00" * 40 + b"xl/workbook.xml"
    assert "PDF, Word" in refused_once_fetched(
        app, "U0PRIYA", share(app, "U0PRIYA", "notes.docx", other_zip)
    )
    assert stored(app) == [] and not audit_rows(app, action="attach")


def test_a_file_over_the_limit_is_refused_before_it_is_fetched(app):
    big = b"%PDF-" + b"0" * service.MAX_BYTES
    message = share(app, "U0PRIYA", "big.pdf", big)
    error = refused_beside_the_file(app, "U0PRIYA", message)
    assert "the limit is 10 MB" in error
    assert app.emulator.calls_to(FILE_DOWNLOAD) == []
    assert stored(app) == []


@pytest.mark.parametrize(
    ("trouble", "expected"),
    [
        ("deleted", listeners.SLACK_CANT_FIND),
        ("channel_without_the_bot", listeners.SLACK_CANT_FIND),
        ("not_found", listeners.SLACK_CANT_FIND),
        ("no_scope", listeners.SLACK_NOT_ALLOWED),
        ("download_fails", listeners.SLACK_FAILED),
    ],
)
def test_slack_errors_get_a_calm_answer_and_nothing_is_kept(app, trouble, expected):
    message = share(app, "U0PRIYA")
    form = form_for(app, "U0PRIYA", "Ava Stone", message)
    if trouble == "channel_without_the_bot":
        app.emulator.add_channel("C0STAFF01", name="staffroom", members=["U0PRIYA"])
        file = app.emulator.add_file("U0PRIYA", FILENAME, PDF)
        message = app.emulator.post_file_message("U0PRIYA", "C0STAFF01", [file])
        form = form_for(app, "U0PRIYA", "Ava Stone", message)
    elif trouble == "deleted":
        app.emulator.delete_file(message["files"][0]["id"])
    elif trouble == "not_found":
        app.emulator.fail_next("files.info", "file_not_found")
    elif trouble == "no_scope":
        app.emulator.set_scopes(app.emulator.bot_token, ["commands", "chat:write", "users:read"])
    else:
        app.emulator.fail_next(FILE_DOWNLOAD, "server_error", status=500)
    if trouble == "download_fails":  # found out once the form is answered: told in it
        assert attach(app, "U0PRIYA", form, title=TITLE, kind="report") == expected
    else:
        answer = submit(app, "U0PRIYA", form, title=TITLE, kind="report")
        assert answer == {"response_action": "errors", "errors": {"file": expected}}
    assert stored(app) == [] and not audit_rows(app, action="attach")
    if trouble == "no_scope":
        assert app.emulator.calls_to("files.info")[-1].response["needed"] == "files:read"


def test_without_an_attachment_key_attaching_is_refused_in_one_line(slack):
    message = share(slack, "U0PRIYA")
    view = shortcut(slack, "U0PRIYA", message)
    assert service.NO_KEY in modal_text(view)
    section = reports_list(slack, "U0SENDCO")
    told = click(slack, "U0SENDCO", section, listeners.OPEN_ACTION, "reports")
    assert service.NO_KEY in modal_text(told)
    with slack.sessions() as session:
        assert session.scalars(select(Attachment)).all() == []
    assert slack.emulator.calls_to("files.info") == []


# --- who may ------------------------------------------------------------------------------------


def test_teachers_and_teaching_assistants_cannot_attach(app):
    for user in ("U0LEE", "U0TA"):
        view = shortcut(app, user, share(app, user))
        assert modal_text(view) == listeners.NOT_A_WRITER
    # A hand-made submission of the form is refused by the role check too.
    form = form_for(app, "U0PRIYA", "Ava Stone")
    for user in ("U0LEE", "U0TA"):
        answer = submit(app, user, form, title=TITLE, kind="report")
        assert listeners.NOT_A_WRITER in json.dumps(answer)
    assert stored(app) == [] and app.emulator.calls_to("files.info") == []


def test_another_case_holder_cannot_attach_to_a_plan_they_do_not_hold(app):
    # Tom holds Cara's plan: Priya's search does not find her.
    first = shortcut(app, "U0PRIYA", share(app, "U0PRIYA"))
    assert list(submit(app, "U0PRIYA", first, pupil="Cara Lin")["errors"]) == ["pupil"]
    # Priya's form for Ava, with Cara's id put in by hand: refused, audited, nothing fetched.
    form = form_for(app, "U0PRIYA", "Ava Stone")
    forged = dict(form, private_metadata=json.dumps({**json.loads(form["private_metadata"]),
                                                     "pupil_id": app.ids["cara"]}))  # fmt: skip
    answer = submit(app, "U0PRIYA", forged, title=TITLE, kind="report")
    assert service.NOT_YOURS in json.dumps(answer)
    assert stored(app) == [] and app.emulator.calls_to("files.info") == []
    # The plan changes hands between opening the form and saving it: refused.
    with app.sessions.begin() as session:
        session.execute(
            update(Plan).where(Plan.id == app.ids["ava_plan"]).values(case_holder_id=app.ids["tom"])
        )
    answer = submit(app, "U0PRIYA", form, title=TITLE, kind="report")
    assert service.NOT_YOURS in json.dumps(answer)
    assert stored(app) == []
    assert audit_rows(app, action="refused")


def test_another_schools_replayed_submission_is_refused(app):
    form = form_for(app, "U0PRIYA", "Ava Stone")
    payload = app.sender._interaction(
        "view_submission",
        "U0OTHER",
        "T0OTHERSCH",
        app.emulator.new_trigger_id(view_id=form["id"]),
        view=dict(form, state={"values": {}}),
        response_urls=[],
    )
    payload["view"]["state"] = {
        "values": {
            block: {"value": state}
            for block, state in state_of(form, {"title": TITLE, "kind": "report"}).items()
        }
    }
    assert app.sender._post_interaction(payload).status == 200
    assert stored(app) == []
    assert not [e for e in audit_rows(app) if e.school_id != app.ids["school"] and e.plan_id]


# --- download links -----------------------------------------------------------------------------


def attached(app) -> Attachment:
    form = form_for(app, "U0PRIYA", "Ava Stone")
    attach(app, "U0PRIYA", form, title=TITLE, kind="report")
    [saved] = stored(app)
    return saved


def test_the_download_link_serves_the_file_within_its_limits_and_each_download_is_audited(app):
    saved = attached(app)
    section = reports_list(app, "U0PRIYA")
    url = link_from(app, "U0PRIYA", section, saved.id)
    for _ in range(3):
        got = app.get(url)
        assert got.status == 200
        assert got.body == PDF
        assert got.headers["Content-Type"] == "application/pdf"
        assert got.headers["Content-Disposition"] == (
            'attachment; filename="EP report ZQXFILENAME.pdf"'
        )
        assert got.headers["Cache-Control"] == "no-store"
    assert app.get(url).status == 410  # used up
    downloads = audit_rows(app, action="download")
    assert len(downloads) == 3
    assert all(
        (d.actor_staff_id, d.plan_id) == (app.ids["priya"], app.ids["ava_plan"]) for d in downloads
    )
    assert audit_rows(app, action="export_link", via=listeners.VIA_LINK)
    [refusal] = [r for r in audit_rows(app, action="refused") if "attachment" in (r.detail or "")]
    assert "used up" in refusal.detail
    # Never posted into Slack.
    assert not app.emulator.messages and not app.emulator.files


def test_a_link_is_refused_after_it_expires(app, clock):
    saved = attached(app)
    url = link_from(app, "U0PRIYA", reports_list(app, "U0PRIYA"), saved.id)
    clock.now = NOW + timedelta(minutes=16)
    got = app.get(url)
    assert got.status == 410 and PDF not in got.body
    assert not audit_rows(app, action="download")


def test_a_link_is_refused_once_access_is_revoked(app):
    saved = attached(app)
    url = link_from(app, "U0PRIYA", reports_list(app, "U0PRIYA"), saved.id)
    with app.sessions.begin() as session:
        session.execute(
            update(Plan).where(Plan.id == app.ids["ava_plan"]).values(case_holder_id=app.ids["tom"])
        )
    got = app.get(url)
    assert got.status == 410 and PDF not in got.body
    [refusal] = [r for r in audit_rows(app, action="refused") if "attachment" in (r.detail or "")]
    assert "no longer allowed" in refusal.detail
    assert not audit_rows(app, action="download")


def test_teachers_tas_other_case_holders_and_other_schools_get_no_link(app):
    saved = attached(app)
    people = (("U0LEE", "lee", None), ("U0TA", "ta", None), ("U0TOM", "tom", None),
              ("U0OTHER", "other_sendco", "T0OTHERSCH"))  # fmt: skip
    for user, key, team in people:
        reply = app.sender.button(user, listeners.LINK_ACTION, str(saved.id), team_id=team)
        assert reply.status == 200
        app.emulator.wait_for(
            lambda calls, key=key: audit_rows(app, action="refused", actor_staff_id=app.ids[key])
        )
    assert links(app) == []
    for user in ("U0LEE", "U0TA", "U0TOM"):
        app.emulator.wait_for(
            lambda calls, user=user: any(
                service.NOT_READABLE in text_of(r) for r in app.emulator.responses_to(user)
            )
        )
    # Another school's refusal names no pupil or plan of this school in its log.
    [other] = audit_rows(app, action="refused", actor_staff_id=app.ids["other_sendco"])
    assert (other.pupil_id, other.plan_id) == (None, None)


def test_no_file_name_title_contents_or_token_reaches_the_logs(app, caplog):
    caplog.set_level(logging.DEBUG)
    saved = attached(app)
    url = link_from(app, "U0PRIYA", reports_list(app, "U0PRIYA"), saved.id)
    assert app.get(url).status == 200
    fake = share(app, "U0PRIYA", "ZQXFILENAME.exe", b"MZ")
    refused_beside_the_file(app, "U0PRIYA", fake)
    token = url.rsplit("/", 1)[-1]
    logged = caplog.text
    for secret in ("ZQXFILENAME", "ZQXTITLE", "ATTACHSECRET", token, KEY):
        assert secret not in logged


@pytest.mark.postgresql
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_when_the_database_is_down_the_form_stays_open(emulator, sessions, db_url):
    from sqlalchemy.engine import make_url

    from bot import db
    from handlers.context import wait_for_background_work
    from tests.db_proxy import DbProxy

    emulator.reset()
    with sessions.begin() as session:
        build_school(session, emulator)
    url = make_url(db_url)
    with DbProxy((url.host or "127.0.0.1", url.port or 5432)) as proxy:
        engine = db.make_engine(proxy.url(db_url))
        app = start_app(emulator, db.make_session_factory(engine), env={"ATTACHMENT_KEY": KEY})
        try:
            form = form_for(app, "U0PRIYA", "Ava Stone")
            proxy.cut()
            answer = submit(app, "U0PRIYA", form, title=TITLE, kind="report")
            assert answer["response_action"] == "errors"
            assert "Nothing was saved" in json.dumps(answer["errors"])
            # Away once the file is being fetched (after "Attaching…"): told in the same modal.
            proxy.passes()
            emulator.on_call(FILE_DOWNLOAD, lambda params: proxy.cut())
            assert attach(app, "U0PRIYA", form, title=TITLE, kind="report") == (
                listeners.NOT_KEPT_DATABASE
            )
        finally:
            proxy.passes()
            app.server.stop()
            wait_for_background_work()
            engine.dispose()
    with sessions() as session:
        assert session.scalars(select(Attachment)).all() == []


# --- the emulator's file flow, as Slack documents it ---------------------------------------------


def test_the_emulator_serves_a_file_only_with_a_token_of_its_workspace(app):
    import urllib.error
    import urllib.request

    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    message = share(app, "U0PRIYA")
    [file] = message["files"]
    assert "content" not in file and file["size"] == len(PDF)
    client = WebClient(token=app.emulator.bot_token, base_url=app.emulator.api_url)
    assert client.files_info(file=file["id"])["file"]["name"] == FILENAME
    with pytest.raises(SlackApiError) as unknown:
        client.files_info(file="F0NOSUCH")
    assert unknown.value.response["error"] == "file_not_found"
    app.emulator.add_workspace("T0OTHERSCH", "xoxb-other-school")
    other = WebClient(token="xoxb-other-school", base_url=app.emulator.api_url)
    with pytest.raises(SlackApiError) as elsewhere:
        other.files_info(file=file["id"])
    assert elsewhere.value.response["error"] == "file_not_found"

    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(Stay)

    def fetch(token: str | None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        request = urllib.request.Request(file["url_private_download"], headers=headers)
        try:
            with opener.open(request, timeout=10) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, b""

    assert fetch(app.emulator.bot_token) == (200, PDF)
    assert fetch(None)[0] == 302  # to the sign-in page, as Slack answers
    assert fetch("xoxb-other-school")[0] == 302
    app.emulator.delete_file(file["id"])
    assert fetch(app.emulator.bot_token)[0] == 404


def test_the_attach_button_is_refused_to_anyone_who_may_not_change_the_plan(app):
    for user, refusal in (
        ("U0LEE", listeners.NOT_A_WRITER),
        ("U0TA", listeners.NOT_A_WRITER),
        ("U0TOM", service.NOT_YOURS),
    ):
        section = reports_list(app, "U0SENDCO")  # a click on the SENDCo's, naming Ava
        told = click(app, user, section, listeners.OPEN_ACTION, "reports")
        assert refusal in modal_text(told), user
        assert not [b for b in told["blocks"] if b.get("block_id") == "file"]
    assert audit_rows(app, action="refused", actor_staff_id=app.ids["tom"])
    assert stored(app) == [] and app.emulator.calls_to("files.info") == []


# --- listed on the plan's overview and "Read all" ---------------------------------------------


def seed_files(app, count: int) -> list[int]:
    """`count` files attached to Ava's plan by the SENDCo, newest first: their ids."""
    ids = []
    with app.sessions.begin() as session:
        for n in range(count):
            data = f"file {n}".encode()
            row = Attachment(
                school_id=app.ids["school"],
                plan_id=app.ids["ava_plan"],
                pupil_id=app.ids["ava"],
                kind="evidence" if n % 2 else "report",
                title=f"ZQXFILE{n:02d} <b>&",
                filename=f"file-{n}.txt",
                content_type="text/plain; charset=utf-8",
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                ciphertext=Fernet(KEY.encode()).encrypt(data),
                uploaded_by_id=app.ids["sendco"],
                uploaded_at=NOW - timedelta(days=n),
            )
            session.add(row)
            session.flush()
            ids.append(row.id)
    return ids


def link_buttons(view: dict) -> list[str]:
    """The values of the "Get a download link" buttons in a view, top first."""
    return [
        b["accessory"]["value"]
        for b in view["blocks"]
        if (b.get("accessory") or {}).get("action_id") == listeners.LINK_ACTION
    ]


def test_the_overview_lists_the_newest_files_with_a_download_button_that_makes_a_checked_link(
    app,
):
    ids = seed_files(app, 2)
    for user, key in (("U0SENDCO", "sendco"), ("U0PRIYA", "priya"), ("U0SLT", "slt")):
        overview = open_plan(app, user, "plan Ava Stone")
        shown = modal_text(overview)
        assert "ZQXFILE00 <b>& · Professional report" in shown, user
        assert "ZQXFILE01 <b>& · Evidence" in shown
        assert "Attached by Morgan Reed, 23 Nov 2026" in shown
        assert "Attached by Morgan Reed, 22 Nov 2026" in shown
        assert link_buttons(overview) == [str(i) for i in ids]
        assert "ZQXFILE00 &lt;b&gt;&amp;" in json.dumps(overview["blocks"])  # escaped
        # The button gives the person a link of their own, audited, as from the Reports list.
        url = link_from(app, user, overview, ids[1])
        assert app.get(url).body == b"file 1"
        assert audit_rows(app, action="export_link", actor_staff_id=app.ids[key])
        assert audit_rows(app, action="download", actor_staff_id=app.ids[key])
    assert not app.emulator.files  # never the file into Slack
    # The family's copy never lists them.
    family = app.export("U0SENDCO", "Ava Stone --for family")
    assert family.status == 200 and b"ZQXFILE" not in family.body


def test_a_teacher_never_sees_the_files_and_a_replayed_button_makes_no_link(app):
    ids = seed_files(app, 1)
    overview = open_plan(app, "U0SENDCO", "plan Ava Stone")
    for user in ("U0LEE", "U0TA", "U0TOM"):
        reply = app.sender.command(user, "plan Ava Stone")
        assert reply.status == 200
        assert "ZQXFILE" not in json.dumps(app.emulator.responses_to(user)) + json.dumps(
            reply.json() if reply.body else {}
        )
        # The SENDCo's overview's button, clicked by them: refused, nothing made.
        app.sender.view_button(user, overview, listeners.LINK_ACTION, str(ids[0]))
    app.emulator.wait_for(
        lambda calls: (
            len(
                [
                    r
                    for r in audit_rows(app, action="refused")
                    if r.actor_staff_id in (app.ids["lee"], app.ids["ta"], app.ids["tom"])
                ]
            )
            >= 3
        )  # fmt: skip
    )
    assert links(app) == []
    assert all("ZQXFILE" not in modal_text(v) for v in app.emulator.views.values()
               if v["id"] != overview["id"])  # fmt: skip


def test_more_files_than_the_overview_shows_are_all_listed_by_read_all(app):
    ids = seed_files(app, 7)
    overview = open_plan(app, "U0SLT", "plan Ava Stone")
    assert link_buttons(overview) == [str(i) for i in ids[:5]]
    assert "…and 2 more attached files: Read all lists them." in modal_text(overview)
    [read] = [
        b["elements"][0]["value"] for b in overview["blocks"] if b.get("block_id") == "read-reports"
    ]
    whole = click(app, "U0SLT", overview, "plan_read_section", read)
    assert whole["callback_id"] == "plan_read_section"
    assert link_buttons(whole) == [str(i) for i in ids]
    assert "ZQXFILE06 <b>& · Professional report" in modal_text(whole)
    assert audit_rows(app, action="read", actor_staff_id=app.ids["slt"])
    url = link_from(app, "U0SLT", whole, ids[6])
    assert app.get(url).body == b"file 6"


def test_read_all_of_the_reports_lists_the_files_under_the_reports(app):
    ids = seed_files(app, 1)
    overview = open_plan(app, "U0PRIYA", "plan Ava Stone")  # Ava's plan has one report row
    [read] = [
        b["elements"][0]["value"] for b in overview["blocks"] if b.get("block_id") == "read-reports"
    ]
    whole = click(app, "U0PRIYA", overview, "plan_read_section", read)
    shown = modal_text(whole)
    assert shown.index("EP assessment") < shown.index("ZQXFILE00")
    assert link_buttons(whole) == [str(ids[0])]


# --- the plan's views refreshed after attaching from them -------------------------------------


def test_the_reports_list_and_overview_show_the_file_just_attached(app):
    section = reports_list(app, "U0SENDCO")
    [overview] = [v for v in app.emulator.open_views() if v["callback_id"] == "plan_overview"]
    form = click(app, "U0SENDCO", section, listeners.OPEN_ACTION, "reports")
    chosen = app.emulator.choose_files("U0SENDCO", form, "file", [("plan.txt", b"notes")])
    done = attach(app, "U0SENDCO", form, title="ZQXNEW evidence", kind="evidence", file=chosen)
    assert "is attached to" in done
    [saved] = stored(app)
    app.emulator.wait_for(lambda calls: "ZQXNEW" in modal_text(app.emulator.views[section["id"]]))
    assert link_buttons(app.emulator.views[section["id"]]) == [str(saved.id)]
    assert "No files attached yet" not in modal_text(app.emulator.views[section["id"]])
    app.emulator.wait_for(lambda calls: "ZQXNEW" in modal_text(app.emulator.views[overview["id"]]))
    # The stack is as it was: the plan, its Reports, the outcome on top.
    assert [v["callback_id"] for v in app.emulator.open_views()][:2] == [
        "plan_overview",
        "plan_section_list",
    ]


def test_the_outcome_is_shown_even_when_slack_applies_attaching_late(app, monkeypatch):
    """Slack may apply the "Attaching…" answer after the file is kept: the outcome must still
    be what the person sees, never replaced by "Attaching…" (no fixed wait decides it)."""
    section = reports_list(app, "U0SENDCO")
    form = click(app, "U0SENDCO", section, listeners.OPEN_ACTION, "reports")
    chosen = app.emulator.choose_files("U0SENDCO", form, "file", [("plan.txt", b"notes")])
    applying = app.emulator.apply_view_response
    updates = len(app.emulator.calls_to("views.update"))

    def late(view_id, response):
        # Slack gets round to "Attaching…" only after the app has written to the view.
        app.emulator.wait_for(lambda calls: len(app.emulator.calls_to("views.update")) > updates)
        applying(view_id, response)

    monkeypatch.setattr(app.emulator, "apply_view_response", late)
    monkeypatch.setattr(listeners, "OUTCOME_WAIT_SECONDS", 20.0)
    done = attach(app, "U0SENDCO", form, title="ZQXLATE", kind="evidence", file=chosen)
    assert "is attached to" in done
    from handlers.context import wait_for_background_work

    wait_for_background_work()
    assert "is attached to" in modal_text(app.emulator.views[form["id"]])
