"""The review meeting on the families' pages (bot.services.family): /f/<token>/meeting, reached
from the date-of-birth check (handlers.web.family) of a link made for the meeting."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for

from bot import db
from bot.services import family
from handlers.web.family import _confirmed, _not_available, _runtime, limit_rate
from models import InvitationPurpose

pages = Blueprint("meeting", __name__)
# The same limits per link and per address as the family's other pages.
pages.before_request(limit_rate)


@pages.route("/f/<token>/meeting", methods=["GET"])
def meeting(token: str):
    runtime = _runtime()
    with db.unit_of_work(runtime.sessions) as s:
        link = family.usable(s, token, runtime.now())
        if link is None or link.purpose != InvitationPurpose.MEETING:
            return _not_available()
        if not _confirmed(link.id):
            return redirect(url_for("family.check", token=token), 303)
        page = family.page_of(s, link)
        family.audit_page(s, link, runtime.now(), "read", "opened the meeting page")
    return render_template("meeting.html", page=page, errors=[])
