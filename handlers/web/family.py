"""The page a family or pupil opens from their link (bot.services.family).

1. /f/<token>: until the pupil's date of birth is confirmed the page says only that this is a
   form from <school> about their child, and asks it. Three wrong dates lock the link.
2. /f/<token>/form: once confirmed (a short-lived signed session cookie, for this link only),
   it greets them by the pupil's first name and asks the chosen questions.
3. /f/<token>/sent: thanks.

A link that is unknown, expired, revoked, used up or locked gets one plain page (the same page,
the same status, 404) saying to contact the school. Requests are limited per link and per
client address (RateLimit, in this process). The token is in the path, so nothing here logs a
path; the audit log names the link by its id.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from datetime import date

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf import FlaskForm
from wtforms import Form, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from bot import db
from bot.services import family
from handlers.context import Runtime
from models import InvitationPurpose

pages = Blueprint("family", __name__)

# Where a link goes once the date of birth is confirmed: the page for what it asks for.
NEXT_PAGE = {
    InvitationPurpose.FAMILY_VIEWS: "family.questions",
    InvitationPurpose.PUPIL_VIEWS: "family.questions",
    InvitationPurpose.MEETING: "meeting.meeting_page",
    InvitationPurpose.AGREEMENT: "agreement.agreement",
}


class RateLimit:
    """At most `limit` requests per key in `window` seconds, in this process.

    `sspbot serve` is one process, so this is the whole count; a restart forgets it, which only
    gives an attacker a fresh window, and the date-of-birth check still locks after three wrong
    tries whatever the rate."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle keys rather than grow without end
                for stale in [k for k, v in self._hits.items() if not v]:
                    del self._hits[stale]
            return True


PER_LINK = RateLimit(limit=30, window=600)
PER_ADDRESS = RateLimit(limit=60, window=600)


def web_runtime() -> Runtime:
    return current_app.extensions["sspbot_runtime"]


@pages.before_request
def limit_rate():
    token = (request.view_args or {}).get("token", "")
    address = request.remote_addr or "unknown"
    if not PER_ADDRESS.allow(f"address:{address}") or not PER_LINK.allow(
        f"link:{family.token_hash(token)}"
    ):
        return render_template("too_many.html"), 429, {"Retry-After": "600"}
    return None


def not_available():
    return render_template("not_available.html"), 404


def page_work(runtime: Runtime):
    """The unit of work of one of the families' pages. A family is waiting in a browser: a
    database that hangs is given up on within seconds (the limits Slack's requests have), and
    the app's error handler (handlers.web.create_web_app) answers with the calm "something went
    wrong" page. Everything a page saves is in this one unit of work, so a failure saves none of
    it: the family is told nothing was sent, and sending again works once the database is back."""
    return db.unit_of_work(runtime.sessions, db.FOR_REQUESTS)


# --- forms -------------------------------------------------------------------------------------


class BirthDateForm(FlaskForm):
    day = StringField("Day", validators=[Length(max=2)])
    month = StringField("Month", validators=[Length(max=2)])
    year = StringField("Year", validators=[Length(max=4)])


def _birth_date(form: BirthDateForm) -> tuple[date | None, str | None, str]:
    """The date typed, or the problem and which box to point at."""
    parts = {name: (getattr(form, name).data or "").strip() for name in ("day", "month", "year")}
    for name in ("day", "month", "year"):
        if not parts[name]:
            return None, f"Enter the {name} of your child's date of birth.", name
        if not parts[name].isdigit():
            return None, f"The {name} must be a number.", name
    if len(parts["year"]) != 4:
        return None, "Enter the year as four numbers, for example 2012.", "year"
    try:
        return date(int(parts["year"]), int(parts["month"]), int(parts["day"])), None, "day"
    except ValueError:
        return None, "Enter a real date of birth, for example 27 3 2012.", "day"


def answers_form(page: family.Page):
    """The questions form for this link: a text box (or choices) per question asked."""

    class AnswersForm(FlaskForm):
        pass

    if page.purpose == InvitationPurpose.FAMILY_VIEWS:
        AnswersForm.contributor_name = StringField(
            "Your name",
            validators=[DataRequired("Enter your name."), Length(max=family.NAME_LENGTH)],
        )
        AnswersForm.contributor_relationship = StringField(
            "Your relationship to the child, for example mother, grandad or carer",
            validators=[
                DataRequired("Enter your relationship to the child."),
                Length(max=family.NAME_LENGTH),
            ],
        )
    else:
        AnswersForm.contributor_name = StringField(
            "If an adult is helping you fill this in, their name (optional)",
            validators=[Optional(), Length(max=family.NAME_LENGTH)],
        )
    for q in page.questions:
        if q.choices:
            field = RadioField(
                q.label,
                choices=[SelectChoice(value, label) for value, label in q.choices],
                validators=[Optional()],
            )
        else:
            field = TextAreaField(
                q.label,
                validators=[
                    Optional(),
                    Length(
                        max=family.ANSWER_LENGTH,
                        message=f"Please keep this to {family.ANSWER_LENGTH:,} characters.",
                    ),
                ],
            )
        setattr(AnswersForm, f"q_{q.key}", field)
    return AnswersForm()


def form_errors(form: Form) -> list[tuple[str, str]]:
    """(field id, message) for the error summary, in the order of the page."""
    return [(field.id, field.errors[0]) for field in form if field.errors]


# --- pages -------------------------------------------------------------------------------------


def confirmed(invitation_id: int) -> bool:
    return session.get("link") == invitation_id


@pages.route("/f/<token>", methods=["GET", "POST"])
def check(token: str):
    runtime = web_runtime()
    form = BirthDateForm()
    with page_work(runtime) as s:
        link = family.usable(s, token, runtime.now())
        if link is None or link.purpose not in NEXT_PAGE:
            return not_available()
        page = family.page_of(s, link)
        if request.method == "GET":
            family.audit_page(s, link, runtime.now(), family.OPENED, "opened the family page")
            return render_template("check.html", school=page.school_name, form=form, errors=[])
        locked = False
        if not form.validate():
            error, box = "Enter your child's date of birth, as numbers.", "day"
        else:
            given, error, box = _birth_date(form)
            if given is not None:
                left = family.check_birth_date(s, link, given, runtime.now())
                if left is None:
                    session.clear()
                    session.permanent = True
                    session["link"] = link.id
                    return redirect(url_for(NEXT_PAGE[link.purpose], token=token), 303)
                locked = left == 0
                error = (
                    "That date of birth does not match our records. "
                    f"You have {left} {'try' if left == 1 else 'tries'} left."
                )
    if locked:
        # Locked by the third wrong date: the same plain page as any link that does not work;
        # the case holder's DM goes now.
        runtime.deliver_soon(None)
        return not_available()
    getattr(form, box).errors = [error]
    return (
        render_template("check.html", school=page.school_name, form=form, errors=[(box, error)]),
        400,
    )


@pages.route("/f/<token>/form", methods=["GET", "POST"])
def questions(token: str):
    runtime = web_runtime()
    with page_work(runtime) as s:
        link = family.usable(s, token, runtime.now())
        if link is None:
            return not_available()
        if not confirmed(link.id):
            return redirect(url_for("family.check", token=token), 303)
        if link.purpose not in family.QUESTIONS:  # a link about the meeting or the agreement
            if link.purpose not in NEXT_PAGE:
                return not_available()
            return redirect(url_for(NEXT_PAGE[link.purpose], token=token), 303)
        page = family.page_of(s, link)
        form = answers_form(page)
        if request.method == "POST" and form.validate():
            answers = {q.key: getattr(form, f"q_{q.key}").data or "" for q in page.questions}
            if not any(v.strip() for v in answers.values()):
                first = f"q_{page.questions[0].key}"
                getattr(form, first).errors = ["Answer at least one question before sending."]
            else:
                try:
                    family.submit(
                        s,
                        link,
                        name=form.contributor_name.data,
                        relationship=getattr(form, "contributor_relationship", None)
                        and form.contributor_relationship.data,
                        answers=answers,
                        now=runtime.now(),
                    )
                except family.UsedUp:
                    return not_available()
                sent = True
        else:
            sent = False
        if request.method == "GET":
            family.audit_page(s, link, runtime.now(), "read", "opened the family form")
    if request.method == "POST" and sent:
        # Only once the answer is committed: a failed commit leaves no "sent" in the cookie.
        session["sent"] = link.id
        runtime.deliver_soon(None)
        return redirect(url_for("family.sent", token=token), 303)
    status = 400 if request.method == "POST" else 200
    return (
        render_template(
            "questions.html",
            page=page,
            form=form,
            errors=form_errors(form),
            questions=[(q, getattr(form, f"q_{q.key}")) for q in page.questions],
            family_views=page.purpose == InvitationPurpose.FAMILY_VIEWS,
            scale_emoji=family.SCALE_EMOJI,
        ),
        status,
    )


@pages.route("/f/<token>/sent")
def sent(token: str):
    if session.get("sent") is None:
        abort(404)
    return render_template("sent.html")
