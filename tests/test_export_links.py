"""`/ssp export` hands the plan over as a short-lived download link, never as a file in Slack.

Driven through the signed endpoint and the emulator; the links are fetched from the running
test server (handlers/server.py sends /download/… to handlers/web/downloads.py).
"""

from __future__ import annotations

import http.server
import io
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from bot.demo.slack_emulator import UPLOAD
from bot.services.download_links import LINK_LIFETIME, MAX_DOWNLOADS
from bot.services.plan_pdf import html_to_pdf
from handlers.server import HttpServer
from models import AuditEvent, DownloadLink, Plan, PlanStatus, Staff, StaffRole
from tests.slack_harness import NOW, download_links, text_of
from tests.test_db_faults import app, on_postgresql, proxy  # noqa: F401 - fixtures
from tests.test_export import STAFF_ONLY, fill_avas_plan, parse

REFUSED_TITLE = b"This link doesn't work"
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}


@pytest.fixture
def school_extras():
    return fill_avas_plan


def pdf_text(body: bytes) -> str:
    reader = PdfReader(io.BytesIO(body))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def links_for(slack, user: str, typed: str) -> dict[str, str]:
    reply = slack.ask(user, f"export {typed}")
    assert reply["response_type"] == "ephemeral"
    links = download_links(reply)
    assert set(links) == {"pdf", "html"}, text_of(reply)
    return links


def audit_rows(slack, action: str) -> list[AuditEvent]:
    with slack.sessions() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


def assert_refused(fetched, status: int) -> None:
    """The one plain page: nothing about the plan, the pupil, or why."""
    assert fetched.status == status
    assert fetched.headers["Content-Type"].startswith("text/html")
    assert REFUSED_TITLE in fetched.body and b"/ssp export" in fetched.body
    assert b"Ava" not in fetched.body and b"Stone" not in fetched.body
    assert "Content-Disposition" not in fetched.headers
    for name, value in HEADERS.items():
        assert fetched.headers[name] == value, name


# --- the link ---------------------------------------------------------------------------------


def test_the_sendco_gets_private_links_and_nothing_is_left_in_slack(slack):
    reply = slack.ask("U0SENDCO", "export Ava Stone")
    assert reply["response_type"] == "ephemeral"  # shown to the asker only, not kept
    said = " ".join(text_of(reply).split())
    assert "Ava Stone's plan (staff copy, with staff-only notes) is ready" in said
    assert "15 minutes" in said and f"{MAX_DOWNLOADS} downloads" in said
    links = download_links(reply)
    assert set(links) == {"pdf", "html"} and links["pdf"] != links["html"]
    # The notification text names the pupil, and holds no link.
    assert "/download/" not in reply["text"]

    # Nothing uploaded, nothing posted: no file in Slack's history.
    methods = {call.method for call in slack.emulator.calls}
    assert not any(m.startswith("files.") or m == UPLOAD for m in methods), methods
    assert slack.emulator.files == []
    assert slack.emulator.calls_to("chat.postMessage") == []

    fetched = slack.get(links["pdf"])
    assert fetched.status == 200 and fetched.body.startswith(b"%PDF")
    assert fetched.headers["Content-Type"] == "application/pdf"
    for name, value in HEADERS.items():
        assert fetched.headers[name] == value, name
    # The file name: initials and the plan's reference, never the pupil's name.
    disposition = fetched.headers["Content-Disposition"]
    assert disposition == (
        f'attachment; filename="SSP-AS-ref{slack.ids["ava_plan"]}-2026-11-23.pdf"'
    )
    text = pdf_text(fetched.body)
    assert "Ava Stone: SEN Support Plan" in text
    for heading in ("Personal information", "My one-page profile", "Acronyms used in this plan"):
        assert heading in text, heading
    assert "Kind, funny and great at drawing dragons" in text
    assert "Page 1 of" in text  # numbered pages
    assert "Staff copy: contains staff-only notes" in text  # on every page's foot
    for name, note in STAFF_ONLY.items():
        assert note in text, name

    html = slack.get(links["html"])
    assert html.status == 200 and html.headers["Content-Type"] == "text/html; charset=utf-8"
    assert html.headers["Content-Disposition"].endswith('-2026-11-23.html"')
    assert "Ava Stone" in parse(html.body).all("h1")[0].text


def test_the_pdf_has_the_pupils_name_at_the_top_of_every_page_after_the_first(slack):
    fetched = slack.export("U0SENDCO", "Ava Stone", "pdf")
    reader = PdfReader(io.BytesIO(fetched.body))
    assert len(reader.pages) > 2
    for number, page in enumerate(reader.pages, start=1):
        text = " ".join(page.extract_text().split())
        assert f"Page {number} of {len(reader.pages)}" in text
        assert "Ava Stone: SEN Support Plan" in text
    width, height = (float(v) for v in reader.pages[0].mediabox[2:])
    assert (round(width * 25.4 / 72), round(height * 25.4 / 72)) == (210, 297)  # A4, in mm


def test_the_family_pdf_holds_nothing_staff_only(slack):
    fetched = slack.export("U0PRIYA", "Ava Stone --for family", "pdf")
    assert fetched.status == 200
    assert fetched.headers["Content-Disposition"].endswith('-2026-11-23-family.pdf"')
    text = pdf_text(fetched.body)
    assert "Family copy" in text and "Staff copy" not in text and "Staff only" not in text
    for name, note in STAFF_ONLY.items():
        assert note not in text, name
    assert "Professionals' concerns" not in text
    assert "Planning meeting with Ava and Mum" in text
    assert "Ava Stone" in text


# --- refusals at download time ----------------------------------------------------------------


def test_a_link_stops_working_after_fifteen_minutes(slack, clock):
    links = links_for(slack, "U0SENDCO", "Ava Stone")
    clock.now = NOW + LINK_LIFETIME - timedelta(seconds=1)
    assert slack.get(links["html"]).status == 200
    clock.now = NOW + LINK_LIFETIME
    assert_refused(slack.get(links["pdf"]), 410)
    assert_refused(slack.get(links["html"]), 410)
    refused = audit_rows(slack, "refused")
    assert [r.detail for r in refused] == [
        "staff copy PDF refused: link expired",
        "staff copy HTML refused: link expired",
    ]
    assert all(r.actor_staff_id == slack.ids["sendco"] for r in refused)


def test_a_link_works_three_times_then_no_more(slack):
    links = links_for(slack, "U0SENDCO", "Ava Stone")
    for _ in range(MAX_DOWNLOADS):
        assert slack.get(links["pdf"]).status == 200
    assert_refused(slack.get(links["pdf"]), 410)
    # Each link counts its own downloads.
    assert slack.get(links["html"]).status == 200
    sent = audit_rows(slack, "export")
    assert [r.detail for r in sent] == [
        f"staff copy sent to staff {slack.ids['sendco']} as PDF by download link (1 of 3)",
        f"staff copy sent to staff {slack.ids['sendco']} as PDF by download link (2 of 3)",
        f"staff copy sent to staff {slack.ids['sendco']} as PDF by download link (3 of 3)",
        f"staff copy sent to staff {slack.ids['sendco']} as HTML by download link (1 of 3)",
    ]
    assert all(
        (r.actor_staff_id, r.plan_id, r.pupil_id, r.via)
        == (slack.ids["sendco"], slack.ids["ava_plan"], slack.ids["ava"], "download link")
        for r in sent
    )
    assert [r.detail for r in audit_rows(slack, "refused")] == [
        "staff copy PDF refused: link used up"
    ]


def test_a_case_holder_who_no_longer_holds_the_plan_cannot_use_their_link(slack):
    links = links_for(slack, "U0PRIYA", "Ava Stone --for family")
    assert slack.get(links["html"]).status == 200
    with slack.sessions.begin() as session:
        session.get(Plan, slack.ids["ava_plan"]).case_holder_id = slack.ids["tom"]
    assert_refused(slack.get(links["pdf"]), 410)
    (refused,) = audit_rows(slack, "refused")
    assert refused.detail == "family copy PDF refused: no longer allowed to read the plan"
    assert (refused.actor_staff_id, refused.plan_id) == (slack.ids["priya"], slack.ids["ava_plan"])


def test_a_closed_plan_or_a_sendco_who_left_gets_the_refusal(slack):
    priya = links_for(slack, "U0PRIYA", "Ava Stone")
    sendco = links_for(slack, "U0SENDCO", "Ben Stone")
    with slack.sessions.begin() as session:
        session.get(Plan, slack.ids["ava_plan"]).status = PlanStatus.CLOSED
        session.get(Staff, slack.ids["sendco"]).is_active = False
    assert_refused(slack.get(priya["pdf"]), 410)
    assert_refused(slack.get(sendco["html"]), 410)


def test_a_sendco_who_is_now_only_a_teacher_gets_the_refusal(slack):
    links = links_for(slack, "U0SENDCO", "Ava Stone")
    with slack.sessions.begin() as session:
        session.get(Staff, slack.ids["sendco"]).set_roles({StaffRole.TEACHER})
    assert_refused(slack.get(links["html"]), 410)


def test_a_plan_changed_since_the_link_was_made_is_not_served_from_it(slack):
    links = links_for(slack, "U0SENDCO", "Ava Stone")
    with slack.sessions.begin() as session:
        session.get(Plan, slack.ids["ava_plan"]).review_date = NOW.date() + timedelta(days=30)
    assert_refused(slack.get(links["pdf"]), 410)
    assert audit_rows(slack, "refused")[0].detail.endswith("plan changed since the link was made")
    # Asking again gives the plan as it is now.
    assert slack.export("U0SENDCO", "Ava Stone", "pdf").status == 200


def test_an_agency_link_stops_when_consent_is_withdrawn(slack):
    with slack.sessions.begin() as session:
        (consent,) = session.get(Plan, slack.ids["ava_plan"]).consents
        consent.outside_school = True
    links = links_for(slack, "U0SENDCO", "Ava Stone --for agency")
    with slack.sessions.begin() as session:
        (consent,) = session.get(Plan, slack.ids["ava_plan"]).consents
        consent.withdrawn_on = NOW.date()
    assert_refused(slack.get(links["pdf"]), 410)


@pytest.mark.parametrize(
    "path",
    [
        "/download/" + "A" * 43,  # the right shape, never issued
        "/download/short",
        "/download/" + "x" * 500,
        "/download/%00%27%3Cscript%3E",
    ],
)
def test_an_unknown_link_gets_the_same_plain_page(slack, path):
    links_for(slack, "U0SENDCO", "Ava Stone")
    assert_refused(slack.get(f"http://localhost{path}"), 404)
    assert audit_rows(slack, "refused") == [] and audit_rows(slack, "export") == []


def test_the_refusals_read_the_same_whatever_the_reason(slack, clock):
    links = links_for(slack, "U0SENDCO", "Ava Stone")
    unknown = slack.get("http://localhost/download/" + "B" * 43)
    clock.now = NOW + timedelta(hours=1)
    expired = slack.get(links["pdf"])
    assert (unknown.status, expired.status) == (404, 410)
    assert unknown.body == expired.body


# --- what is kept and logged ----------------------------------------------------------------------


def test_only_a_hash_of_each_token_is_stored_and_no_token_is_logged(slack, caplog):
    caplog.set_level(logging.DEBUG)
    links = links_for(slack, "U0SENDCO", "Ava Stone --for family")
    tokens = [url.rsplit("/", 1)[1] for url in links.values()]
    assert slack.get(links["pdf"]).status == 200
    for _ in range(MAX_DOWNLOADS + 1):
        slack.get(links["html"])
    slack.get(links["html"] + "x")  # unknown
    with slack.sessions() as session:
        stored = list(session.scalars(select(DownloadLink)))
        made = session.scalar(select(AuditEvent).where(AuditEvent.action == "export_link"))
    assert len(stored) == 2
    assert {(s.staff_id, s.plan_id, s.audience) for s in stored} == {
        (slack.ids["sendco"], slack.ids["ava_plan"], "family")
    }
    assert {s.file_format for s in stored} == {"pdf", "html"}
    assert all(s.expires_at == NOW + LINK_LIFETIME for s in stored)
    assert made.detail == (
        f"family copy: PDF and HTML download links for staff {slack.ids['sendco']}, "
        "15 minutes, 3 downloads each"
    )
    everything_kept = [s.token_hash for s in stored] + [
        r.detail for r in audit_rows(slack, "export") + audit_rows(slack, "refused") + [made]
    ]
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    for token in tokens:
        assert token not in logged
        assert not any(token in kept for kept in everything_kept)
    assert "refused a plan download: link used up" in caplog.text
    assert "refused a plan download: unknown link" in caplog.text


def test_a_teacher_asking_for_an_export_is_refused_as_before_and_gets_no_link(slack):
    reply = slack.ask("U0LEE", "export Cara Lin")
    said = " ".join(text_of(reply).split())
    assert "Only the SENDCo, senior leaders and the plan's case holder" in said
    assert download_links(reply) == {}
    with slack.sessions() as session:
        assert session.scalar(select(func.count()).select_from(DownloadLink)) == 0


def test_an_agency_copy_without_consent_gets_no_link(slack):
    reply = slack.ask("U0SENDCO", "export Ava Stone --for agency")
    assert "doesn't cover professionals outside the school" in " ".join(text_of(reply).split())
    assert download_links(reply) == {}
    with slack.sessions() as session:
        assert session.scalar(select(func.count()).select_from(DownloadLink)) == 0


# --- the renderer ---------------------------------------------------------------------------------


def test_rendering_a_pdf_fetches_nothing():
    hits: list[str] = []

    class Listener(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the standard library's name
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Listener)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        here = f"http://127.0.0.1:{server.server_port}"
        pdf = html_to_pdf(
            f'<html><head><link rel="stylesheet" href="{here}/style.css">'
            f"<style>@import url({here}/more.css); body {{ background: url({here}/bg.png) }}"
            f'</style></head><body><h1>Plan</h1><img src="{here}/pixel.png">'
            '<img src="file:///etc/passwd"></body></html>'
        )
    finally:
        server.shutdown()
        server.server_close()
    assert pdf.startswith(b"%PDF") and hits == []


def test_a_head_request_spends_no_download(slack):
    links = links_for(slack, "U0SENDCO", "Ava Stone")
    request = urllib.request.Request(
        f"http://127.0.0.1:{slack.server.port}{urllib.parse.urlsplit(links['pdf']).path}",
        method="HEAD",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 405
    for _ in range(MAX_DOWNLOADS):
        assert slack.get(links["pdf"]).status == 200


# --- the database down ------------------------------------------------------------------------


@on_postgresql
def test_a_download_while_the_database_is_cut_gets_a_plain_page_and_spends_nothing(
    app,  # noqa: F811 - the fixture imported from tests.test_db_faults
    proxy,  # noqa: F811
):
    links = links_for(app, "U0SENDCO", "Ava Stone")
    proxy.cut()
    failed = app.get(links["pdf"])
    assert failed.status == 503 and b"Something went wrong" in failed.body
    assert b"Ava" not in failed.body and failed.headers["Cache-Control"] == "no-store"
    proxy.passes()
    for _ in range(MAX_DOWNLOADS):
        assert app.get(links["pdf"]).status == 200


# --- PUBLIC_URL -----------------------------------------------------------------------------------


def test_links_are_built_on_public_url(slack, emulator, sessions, clock):
    from tests.slack_harness import start_app

    assert download_links(slack.ask("U0SENDCO", "export Ava Stone"))["pdf"].startswith(
        "http://localhost:3000/download/"
    )  # unset: the server itself
    behind_proxy = start_app(
        emulator, sessions, clock=clock, env={"PUBLIC_URL": "https://ssp.oakfield.example/"}
    )
    try:
        reply = behind_proxy.ask("U0SENDCO", "export Ava Stone")
        links = download_links(reply)
        assert links["pdf"].startswith("https://ssp.oakfield.example/download/")
        assert behind_proxy.get(links["pdf"]).status == 200
    finally:
        behind_proxy.server.stop()


@pytest.mark.parametrize(
    "raw", ["ssp.oakfield.example", "http://ssp.oakfield.example", "https://ssp.example/?a=1"]
)
def test_a_public_url_that_is_not_https_is_refused(raw):
    from bot.config import ConfigError, Settings

    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        Settings.from_env({"PUBLIC_URL": raw}, env_file=None)


def test_in_socket_mode_the_links_are_served_without_slacks_endpoint(slack):
    # `sspbot serve --socket-mode` gets Slack's events over the socket, and serves the pages
    # and download links on PORT with no signing secret to check a request with: /slack/events
    # must not be there at all, or anyone could post to it.
    links = download_links(slack.ask("U0SENDCO", "export Ava Stone"))
    pages = HttpServer(slack.server.app, web_only=True).start()
    try:
        path = urllib.parse.urlsplit(links["pdf"]).path
        with urllib.request.urlopen(f"http://127.0.0.1:{pages.port}{path}", timeout=30) as got:
            assert got.status == 200 and got.read().startswith(b"%PDF")
        for refused in ("/slack/events", "/slack/install", "/slack/oauth_redirect"):
            request = urllib.request.Request(
                f"http://127.0.0.1:{pages.port}{refused}", data=b"command=%2Fssp", method="POST"
            )
            with pytest.raises(urllib.error.HTTPError) as answer:
                urllib.request.urlopen(request, timeout=30)
            assert answer.value.code == 404, refused
        with urllib.request.urlopen(f"http://127.0.0.1:{pages.port}/healthz", timeout=30) as got:
            assert got.status == 200
    finally:
        pages.stop()
    assert slack.emulator.calls_to("chat.postMessage") == []
