"""The web pages SSP Bot serves beside /slack/events (handlers.server.wsgi_app sends every other
path here): a small Flask app for the families' and young people's pages (handlers.web.family).

Every page: Jinja2 templates under templates/web (autoescaped HTML), our own CSS and no
JavaScript or third-party assets, and the headers below (no referrer, not indexed, a strict
Content-Security-Policy, no framing). Every form carries Flask-WTF's CSRF token. The session
cookie is signed, HttpOnly, SameSite=Strict, Secure when PUBLIC_URL is https, and short-lived.

Blueprints are registered in one place, `BLUEPRINTS` in `create_web_app`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask, Response, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

import templates
from bot import db
from handlers.context import Runtime

log = logging.getLogger(__name__)

WEB_TEMPLATES = Path(templates.__file__).parent / "web"
SESSION_MINUTES = 30
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class QuietFlask(Flask):
    """Flask, logging an error without the request's path: a family's link is in the path, and
    a token must never reach a log."""

    def log_exception(self, exc_info) -> None:
        self.logger.error("error on a web page", exc_info=exc_info)


def session_key(runtime: Runtime) -> bytes:
    """The key that signs the pages' session cookie: derived from the signing secret, so it
    survives a restart; a process without one (Socket Mode) has its own random key."""
    secret = runtime.settings.slack_signing_secret
    if not secret:
        return secrets.token_bytes(32)
    return hmac.new(secret.encode(), b"sspbot web session", hashlib.sha256).digest()


def create_web_app(runtime: Runtime, *, secret_key: bytes | None = None) -> Flask:
    """The Flask app for the pages, with its blueprints registered."""
    from handlers.web import agreement, family, meeting
    from handlers.web.downloads import downloads_blueprint
    from handlers.web.letter import letters

    public_url = runtime.settings.public_url or ""
    app = QuietFlask(
        __name__,
        template_folder=str(WEB_TEMPLATES),
        static_folder=str(WEB_TEMPLATES / "static"),
        static_url_path="/static",
    )
    app.config.update(
        SECRET_KEY=secret_key or session_key(runtime),
        SESSION_COOKIE_NAME="sspbot_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=public_url.startswith("https://"),
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=SESSION_MINUTES),
        WTF_CSRF_TIME_LIMIT=SESSION_MINUTES * 60,
        MAX_CONTENT_LENGTH=256 * 1024,
    )
    app.extensions["sspbot_runtime"] = runtime
    CSRFProtect(app)

    # Every blueprint of the pages, registered here and only here.
    BLUEPRINTS = [
        family.pages,
        meeting.pages,
        agreement.pages,
        letters,
        downloads_blueprint(runtime),
    ]
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)

    @app.after_request
    def headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.errorhandler(CSRFError)
    def csrf_refused(error: CSRFError):
        log.info("refused a form without a valid CSRF token")
        return render_template("expired_form.html"), 400

    @app.errorhandler(404)
    @app.errorhandler(405)
    def not_found(error):
        return render_template("not_available.html"), 404

    @app.errorhandler(413)
    def too_large(error):
        return render_template("not_available.html"), 413

    @app.errorhandler(500)
    def failed(error):
        return render_template("problem.html"), 500

    @app.errorhandler(DBAPIError)
    @app.errorhandler(PoolTimeout)
    @app.errorhandler(db.DatabaseUnavailable)
    def database_failed(error: Exception):
        """The same calm page as any failure; 503 and Retry-After when the database is away
        (nothing a page saves is committed then: the family is told to try again later)."""
        if not db.is_unavailable(error):
            app.log_exception((type(error), error, error.__traceback__))
            return render_template("problem.html"), 500
        log.warning("a web page could not reach the database: %s", type(error).__name__)
        return render_template("problem.html"), 503, {"Retry-After": "120"}

    return app
