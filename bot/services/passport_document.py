"""The pupil passport as one printable A4 page: the HTML of templates/passport.html.j2, laid out
by WeasyPrint exactly as the plan's PDF is (bot.services.plan_pdf: nothing fetched, A4, a
footer saying what it is)."""

from __future__ import annotations

from bot.document import render_html
from bot.services.passport import Passport
from bot.services.plan_pdf import html_to_pdf

TEMPLATE = "passport.html.j2"
FOOTER = "Pupil passport: for staff who teach and support the pupil"


def passport_html(passport: Passport) -> str:
    return render_html(TEMPLATE, p=passport)


def passport_pdf(passport: Passport) -> bytes:
    """PDF bytes: one A4 page for a typical plan (a very long one runs on to a second)."""
    return html_to_pdf(passport_html(passport), FOOTER)
