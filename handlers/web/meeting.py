"""The review meeting on the families' pages (bot.services.meeting): /f/<token>/meeting, reached
from the date-of-birth check (handlers.web.family) of a link made for the meeting.

It shows the meeting as the case holder set it (day and date, time, place or call link, who is
coming) and asks: can you come (or which other days and times would suit), how will you join,
anything we should know, and who is answering. A sent reply goes to the case holder by DM; the
thank-you page repeats the meeting's details. The same rate limits, CSRF, plain not-available
page and date-of-birth session as the family's other pages; nothing here logs a path.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from bot.services import family, meeting
from handlers.web.family import (
    confirmed,
    form_errors,
    limit_rate,
    not_available,
    page_work,
    web_runtime,
)
from models import InvitationPurpose, MeetingJoin

pages = Blueprint("meeting", __name__)
# The same limits per link and per address as the family's other pages.
pages.before_request(limit_rate)

YES, ANOTHER_TIME = "yes", "another_time"
CAN_COME = ((YES, "Yes, I can come"), (ANOTHER_TIME, "I need another time"))


def _keep_to(limit: int) -> Length:
    return Length(max=limit, message=f"Please keep this to {limit:,} characters.")


class MeetingForm(FlaskForm):
    # Choices are checked by hand (below), so a missing or unknown one gets our own words.
    can_come = RadioField(
        "Can you come?",
        choices=[SelectChoice(value, label) for value, label in CAN_COME],
        validate_choice=False,
        validators=[Optional()],
    )
    other_times = TextAreaField(
        "Which days and times would suit you?",
        validators=[Optional(), _keep_to(meeting.TIMES_LENGTH)],
    )
    join_by = RadioField(
        "How will you join?",
        choices=[SelectChoice(j.value, j.label) for j in MeetingJoin],
        validate_choice=False,
        validators=[Optional()],
    )
    note = TextAreaField(
        "Anything we should know (optional)",
        validators=[Optional(), _keep_to(meeting.NOTE_LENGTH)],
    )
    contributor_name = StringField(
        "Your name",
        validators=[DataRequired("Enter your name."), Length(max=family.NAME_LENGTH)],
    )
    contributor_relationship = StringField(
        "Your relationship to the child, for example mother, grandad or carer",
        validators=[
            DataRequired("Enter your relationship to the child."),
            Length(max=family.NAME_LENGTH),
        ],
    )

    def check_choices(self) -> bool:
        """The answers that go together: a choice for "Can you come?", days and times when
        they need another time (and none when they said they can come), and how they will join
        when they can come. Each problem is put beside its field."""
        ok = True
        if self.can_come.data not in (YES, ANOTHER_TIME):
            self.can_come.errors = ["Choose whether you can come to the meeting."]
            ok = False
        times = (self.other_times.data or "").strip()
        if self.can_come.data == ANOTHER_TIME and not times and not self.other_times.errors:
            self.other_times.errors = ["Tell us which days and times would suit you."]
            ok = False
        if self.can_come.data == YES and times:
            self.other_times.errors = [
                "You said you can come: leave the days and times empty, or choose "
                "“I need another time”."
            ]
            ok = False
        join = self.join_by.data
        if (
            join not in (None, "", *(j.value for j in MeetingJoin))
            or self.can_come.data == YES
            and not join
        ):
            self.join_by.errors = ["Choose how you will join the meeting."]
            ok = False
        return ok


@pages.route("/f/<token>/meeting", methods=["GET", "POST"])
def meeting_page(token: str):
    runtime = web_runtime()
    form = MeetingForm()
    sent = False
    with page_work(runtime) as s:
        link = family.usable(s, token, runtime.now())
        if link is None or link.purpose != InvitationPurpose.MEETING:
            return not_available()
        if not confirmed(link.id):
            return redirect(url_for("family.check", token=token), 303)
        page = meeting.page_of(s, link)
        if page is None:
            return not_available()
        if request.method == "POST":
            valid = form.validate()
            if form.check_choices() and valid:
                try:
                    stored = meeting.reply(
                        s,
                        link,
                        meeting.Reply(
                            can_come=form.can_come.data == YES,
                            other_times=(form.other_times.data or "").strip() or None,
                            join_by=MeetingJoin(form.join_by.data) if form.join_by.data else None,
                            note=(form.note.data or "").strip() or None,
                            name=form.contributor_name.data.strip(),
                            relationship=form.contributor_relationship.data.strip(),
                        ),
                        runtime.now(),
                    )
                except family.UsedUp:
                    return not_available()
                sent = True
        else:
            family.audit_page(s, link, runtime.now(), "read", "opened the meeting page")
    if sent:
        # Only once the reply is committed: a failed commit leaves no "sent" in the cookie.
        session["meeting_sent"] = [link.id, stored.id]
        runtime.deliver_soon(None)
        return redirect(url_for("meeting.thanks", token=token), 303)
    status = 400 if request.method == "POST" else 200
    return (
        render_template(
            "meeting.html",
            page=page,
            form=form,
            errors=form_errors(form),
            can_come=CAN_COME,
            joins=[(j.value, j.label) for j in MeetingJoin],
        ),
        status,
    )


@pages.route("/f/<token>/meeting/sent")
def thanks(token: str):
    """The thank-you page, repeating the meeting: for the reply this browser just sent (the
    signed session names it), even when that reply used the link's last submission."""
    runtime = web_runtime()
    sent = session.get("meeting_sent")
    if not (isinstance(sent, list) and len(sent) == 2):
        return not_available()
    with page_work(runtime) as s:
        page = meeting.thanks_page(s, token, reply_id=sent[1], invitation_id=sent[0])
        if page is None:
            return not_available()
    return render_template("meeting_sent.html", page=page, errors=[])
