"""The printable letter for a family's link (issue 17): /f/<token>/letter, opened by the case
holder from "Print a letter with a QR code" in Slack's "Link made" modal.

It shows what a letter home needs and nothing of the pupil: the school, "For a parent or carer"
with a line to write the child's name on by hand, what they are asked (of "your child"), the link
in full and as a QR code, its expiry, and that they will be asked the child's date of birth. Like
the family's own pages it opens for whoever has the link, before any date-of-birth check, so a
forwarded link must reveal nothing: not even the pupil's first name is on it. Only a link that
still works has a letter (any other gets the same plain page as the family's page); opening it
is audited ("letter opened") and is not a submission. The QR code is inline SVG from segno,
drawn with SVG attributes only, so the page keeps the strict Content-Security-Policy (no inline
styles, no data: images).
"""

from __future__ import annotations

import segno
from flask import Blueprint, current_app, render_template
from markupsafe import Markup

from bot.services import family, family_mail
from handlers.context import Runtime
from handlers.web import family as family_pages

letters = Blueprint("letter", __name__)
# The same per-link and per-address limits as the family's page.
letters.before_request(family_pages.limit_rate)


def qr_svg(text: str) -> str:
    """The QR code of `text` as an <svg> element sized by the stylesheet (a viewBox, no size)."""
    # Error correction M: a printed letter survives a fold or a smudge.
    return segno.make(text, error="m").svg_inline(omitsize=True, svgclass="qr-code")


@letters.route("/f/<token>/letter")
def letter(token: str):
    runtime: Runtime = current_app.extensions["sspbot_runtime"]
    with family_pages.page_work(runtime) as session:
        link = family.usable(session, token, runtime.now())
        if link is None:
            return render_template("not_available.html"), 404
        words = family_mail.letter_of(session, link)
        family.audit_page(session, link, runtime.now(), family.OPENED, "letter opened")
    url = f"{runtime.settings.link_base}/f/{token}"
    return render_template(
        "letter.html",
        letter=words,
        link=url,
        qr=Markup(qr_svg(url)),  # segno's own markup, of the link only
        errors=[],
    )
