"""`/download/<token>`: the plan document behind a link `/ssp export` gave a member of staff, the
printable pupil passport behind one `/ssp passport` gave, the provision map (CSV, PDF, HTML)
behind one `/ssp provision export` gave, or a report or piece of evidence attached to a plan (its
"Get a download link" button).

A Flask Blueprint (`downloads_blueprint(runtime)`), mounted by the web app beside Slack's
endpoint. The token is looked up only as its hash (bot.services.download_links), and never
logged: not here, and not by Flask, whose error log names the path, because nothing here lets an
exception out (a failure is logged by its type, and answered with a plain 500 page).

Every answer that is not the file is the same plain page, whatever went wrong (expired, used
up, access gone, unknown): a page that differs would tell someone holding a guessed or stolen
link which it is. 404 for a token we never issued; 410 for one we did.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request

from bot import db
from bot.services.attachments import File
from bot.services.download_links import Download, FileFormat, Refusal, redeem
from bot.services.evidence import EvidencePack, pack_html, pack_pdf
from bot.services.passport import Passport
from bot.services.passport_document import passport_pdf
from bot.services.plan_pdf import plan_html, plan_pdf
from bot.services.provision_map import ProvisionMap
from bot.services.provision_map_document import map_csv, map_html, map_pdf
from handlers.context import Runtime

log = logging.getLogger(__name__)

# On every answer: nothing kept by a browser or proxy cache, the link never sent on as a
# Referer, nothing indexed, nothing run or fetched if the HTML copy is opened from disk.
HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
}
CONTENT_TYPES = {
    FileFormat.PDF: "application/pdf",
    FileFormat.HTML: "text/html; charset=utf-8",
    FileFormat.CSV: "text/csv; charset=utf-8",
}
REFUSED_PAGE = """<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>This link doesn't work</title>
<style>body { font-family: Arial, sans-serif; font-size: 1.1rem; line-height: 1.5;
max-width: 36em; margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; }</style>
</head>
<body>
<main>
<h1>This link doesn't work</h1>
<p>Download links for a plan work for a short time and a few downloads only.</p>
<p>If you work at the school, ask for the plan again in Slack with <code>/ssp export</code>
(or the pupil passport with <code>/ssp passport</code>). Otherwise, please contact the school.</p>
</main>
</body>
</html>
"""
FAILED_PAGE = REFUSED_PAGE.replace(
    "This link doesn't work</h1>", "Something went wrong</h1>"
).replace("<title>This link doesn't work", "<title>Something went wrong")


def downloads_blueprint(runtime: Runtime) -> Blueprint:
    """The download route, answering from `runtime`'s database and clock."""
    blueprint = Blueprint("downloads", __name__)

    @blueprint.get("/download/<token>")
    def download(token: str) -> Response:
        if request.method != "GET":
            # Flask answers HEAD for every GET route; a link checker or preview asking HEAD
            # must not spend one of the person's downloads.
            return _page(REFUSED_PAGE, 405)
        try:
            # A person is waiting in a browser: a hung database is given up on in seconds.
            with db.unit_of_work(runtime.sessions, db.FOR_REQUESTS) as session:
                outcome = redeem(
                    session,
                    token,
                    runtime.now(),
                    attachment_key=runtime.settings.attachment_key,
                )
                if isinstance(outcome, Download):
                    body = _body(outcome)
        except Exception as error:  # noqa: BLE001 - the path holds the token: log no traceback
            log.warning("a plan download failed: %s", type(error).__name__)
            return _page(FAILED_PAGE, 503 if db.is_unavailable(error) else 500)
        if isinstance(outcome, Refusal):
            log.info("refused a plan download: %s", outcome.value)
            return _page(REFUSED_PAGE, 404 if outcome is Refusal.UNKNOWN else 410)
        content_type = (
            outcome.document.content_type
            if isinstance(outcome.document, File)
            else CONTENT_TYPES[outcome.file_format]
        )
        response = Response(body, status=200, content_type=content_type)
        response.headers.update(HEADERS)
        response.headers["Content-Disposition"] = f'attachment; filename="{outcome.filename}"'
        return response

    return blueprint


def _body(download: Download) -> bytes:
    if isinstance(download.document, ProvisionMap):
        return {FileFormat.CSV: map_csv, FileFormat.PDF: map_pdf}.get(
            download.file_format, lambda m: map_html(m).encode("utf-8")
        )(download.document)
    if isinstance(download.document, EvidencePack):
        if download.file_format == FileFormat.PDF:
            return pack_pdf(download.document)
        return pack_html(download.document).encode("utf-8")
    if isinstance(download.document, File):  # an attached file, as it was attached
        return download.document.data
    if isinstance(download.document, Passport):
        return passport_pdf(download.document)
    if download.file_format == FileFormat.PDF:
        return plan_pdf(download.document)
    return plan_html(download.document).encode("utf-8")


def _page(html: str, status: int) -> Response:
    response = Response(html, status=status, content_type="text/html; charset=utf-8")
    response.headers.update(HEADERS)
    return response
