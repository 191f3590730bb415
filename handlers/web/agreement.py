"""The family's agreement page (bot.services.agreements), reached from an "agreement" link once
the pupil's date of birth is confirmed (handlers.web.family.check sends them here).

1. /f/<token>/agreement: the family copy of the plan, then "Do you agree with this plan?", their
   name, relationship and the date, and who may see the plan. Once this link's "Yes, I agree" is
   on record the page offers their PDF too (and shows no form when the link's answers are used).
2. /f/<token>/agreement/sent: thanks, and the PDF when they agreed.
3. /f/<token>/plan.pdf: the plan they agreed to, printed from the copy kept when they agreed.
   Only in the session that confirmed this link's date of birth, only when this link's
   agreement exists; it works until the link expires, even once its answers are used.

Anything else gets the same plain "This link does not work" page as every link that does not
work. Rate limits are the family pages' (handlers.web.family.limit_rate); nothing logs a path.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import HiddenField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from bot.services import agreements, family
from handlers.web.family import confirmed, limit_rate, not_available, page_work, web_runtime
from models import AgreementDecision, InvitationPurpose, SharingChoice

pages = Blueprint("agreement", __name__)
pages.before_request(limit_rate)

DECISIONS = (
    (AgreementDecision.AGREED.value, "Yes, I agree with the plan"),
    (AgreementDecision.DISAGREED.value, "No, there are things I disagree with"),
)
SHARING = (
    (SharingChoice.SCHOOL_STAFF.value, "School staff only"),
    (SharingChoice.NAMED_AGENCIES.value, "School staff and the services I name below"),
)


def _kept_to(limit: int, what: str = "this") -> Length:
    return Length(max=limit, message=f"Please keep {what} to {limit:,} characters.")


class AgreementForm(FlaskForm):
    version = HiddenField()
    decision = RadioField(
        "Do you agree with this plan?",
        choices=[SelectChoice(v, label) for v, label in DECISIONS],
        validators=[InputRequired("Choose whether you agree with the plan.")],
    )
    disagreement = TextAreaField(
        "What do you disagree with?",
        validators=[Optional(), _kept_to(agreements.DISAGREEMENT_LENGTH)],
    )
    name = StringField(
        "Your full name",
        validators=[
            DataRequired("Enter your full name."),
            _kept_to(agreements.NAME_LENGTH, "your name"),
        ],
    )
    relationship = StringField(
        "Your relationship to the child, for example mother, grandad or carer",
        validators=[
            DataRequired("Enter your relationship to the child."),
            _kept_to(agreements.NAME_LENGTH),
        ],
    )
    day = StringField("Day", validators=[Length(max=2, message="Enter the day as a number.")])
    month = StringField("Month", validators=[Length(max=2, message="Enter the month as a number.")])
    year = StringField(
        "Year", validators=[Length(max=4, message="Enter the year as four numbers.")]
    )
    sharing = RadioField(
        "Who may see the plan?",
        choices=[SelectChoice(v, label) for v, label in SHARING],
        validators=[InputRequired("Choose who may see the plan.")],
    )
    agencies = SelectMultipleField(
        "Services working with your child", choices=[], validators=[Optional()]
    )
    other_agencies = StringField(
        "Other people or services (optional)",
        validators=[Optional(), _kept_to(agreements.OTHER_AGENCIES_LENGTH)],
    )


def _version(typed: str | None) -> int:
    """The plan version the page was shown at (a hidden field: anything else reads as none)."""
    typed = (typed or "").strip()
    return int(typed) if typed.isdigit() and len(typed) < 10 else 0


def _date_typed(form: AgreementForm, today: date) -> tuple[date | None, str | None]:
    parts = {name: (getattr(form, name).data or "").strip() for name in ("day", "month", "year")}
    for name in ("day", "month", "year"):
        if not parts[name]:
            return None, f"Enter the {name} of the date."
        if not parts[name].isdigit():
            return None, f"The {name} must be a number."
    if len(parts["year"]) != 4:
        return None, f"Enter the year as four numbers, for example {today.year}."
    try:
        typed = date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except ValueError:
        return None, f"Enter a real date, for example {today.day} {today.month} {today.year}."
    if typed > today:
        return None, "The date cannot be in the future."
    return typed, None


@pages.route("/f/<token>/agreement", methods=["GET", "POST"])
def agreement(token: str):
    runtime = web_runtime()
    errors: list[tuple[str, str]] = []
    with page_work(runtime) as s:
        link = family.usable(s, token, runtime.now(), used_up_ok=True)
        if link is None or link.purpose != InvitationPurpose.AGREEMENT:
            return not_available()
        if not confirmed(link.id):
            if link.submissions >= link.max_submissions:
                return not_available()
            return redirect(url_for("family.check", token=token), 303)
        shown = agreements.page(s, link, runtime.now())
        if shown is None:
            return not_available()
        form = AgreementForm()
        form.agencies.choices = [SelectChoice(a.value, a.name) for a in shown.agencies]
        if request.method == "GET":
            form.version.data = str(shown.plan_version)
            form.day.data, form.month.data = str(shown.today.day), str(shown.today.month)
            form.year.data = str(shown.today.year)
        elif not shown.may_answer:
            return not_available()
        else:
            errors = _check(form, shown)
            if not errors:
                try:
                    agreements.submit(
                        s,
                        link,
                        shown_version=_version(form.version.data),
                        decision=AgreementDecision(form.decision.data),
                        name=form.name.data,
                        relationship=form.relationship.data,
                        agreed_on=_date_typed(form, shown.today)[0],
                        disagreement=form.disagreement.data,
                        sharing=SharingChoice(form.sharing.data),
                        agency_values=form.agencies.data or [],
                        other_agencies=form.other_agencies.data,
                        now=runtime.now(),
                    )
                except family.UsedUp:
                    return not_available()
                except agreements.PlanMoved as moved:
                    # Shown the plan as it is now, with what they typed kept.
                    form.version.data = str(shown.plan_version)
                    errors = [("plan", str(moved))]
        sent = request.method == "POST" and not errors
    if sent:
        runtime.deliver_soon(None)
        return redirect(url_for("agreement.sent", token=token), 303)
    return (
        render_template(
            "agreement.html",
            page=shown,
            plan_body=Markup(shown.plan_body),  # rendered with autoescape by bot.document
            form=form,
            errors=errors,
            token=token,
        ),
        400 if errors else 200,
    )


def _check(form: AgreementForm, shown: agreements.AgreementPage) -> list[tuple[str, str]]:
    """Every problem with the answer, beside its field and in the summary (in page order)."""
    form.validate()
    typed, date_problem = _date_typed(form, shown.today)
    if date_problem and not form.day.errors + form.month.errors + form.year.errors:
        form.day.errors = [date_problem]
    if (
        form.decision.data == AgreementDecision.DISAGREED.value
        and not (form.disagreement.data or "").strip()
        and not form.disagreement.errors
    ):
        form.disagreement.errors = ["Tell us what you disagree with."]
    if (
        form.sharing.data == SharingChoice.NAMED_AGENCIES.value
        and not form.agencies.data
        and not (form.other_agencies.data or "").strip()
        and not form.agencies.errors
    ):
        form.agencies.errors = [
            "Choose the services who may see the plan, or name them under “Other people or "
            "services”."
        ]
    first_agency = f"agencies-{shown.agencies[0].value}" if shown.agencies else "other_agencies"
    anchors = {
        "decision": f"decision-{AgreementDecision.AGREED.value}",
        "sharing": f"sharing-{SharingChoice.SCHOOL_STAFF.value}",
        "agencies": first_agency,
        "month": "month",
        "year": "year",
    }
    order = ("decision", "disagreement", "name", "relationship", "day", "month", "year",
             "sharing", "agencies", "other_agencies")  # fmt: skip
    return [
        (anchors.get(name, name), getattr(form, name).errors[0])
        for name in order
        if getattr(form, name).errors
    ]


@pages.route("/f/<token>/agreement/sent")
def sent(token: str):
    runtime = web_runtime()
    with page_work(runtime) as s:
        link = family.usable(s, token, runtime.now(), used_up_ok=True)
        # Nothing sent on this link yet (say the database was away when they pressed Send):
        # no "thank you, your answer was sent".
        if link is None or not confirmed(link.id) or link.submissions == 0:
            return not_available()
        agreed = agreements.agreed_by_link(s, link) is not None
    return render_template("agreement_sent.html", agreed=agreed, token=token)


@pages.route("/f/<token>/plan.pdf")
def plan_pdf(token: str):
    runtime = web_runtime()
    with page_work(runtime) as s:
        link = family.usable(s, token, runtime.now(), used_up_ok=True)
        if link is None or link.purpose != InvitationPurpose.AGREEMENT:
            return not_available()
        if not confirmed(link.id):
            family.audit_page(s, link, runtime.now(), family.REFUSED,
                              "plan PDF refused: date of birth not confirmed")  # fmt: skip
            pdf = None
        else:
            pdf = agreements.family_pdf(s, link, runtime.now())
    if pdf is None:
        return not_available()
    response = Response(pdf.body, status=200, content_type="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{pdf.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
