"""Emailing a family their link (issue 17), when the school has set SMTP_URL, and the printable
letter's words: both say only what a family needs to open the page.

The token is shown once, in the "Link made" modal, which carries it so the case holder can email
it; it is never stored. Before sending, the token must hash to the link the modal names, the link
must still work and belong to the asker's school, and the asker must be the plan's case holder or
a SENDCo: anything else is refused and audited, and nothing is sent. The address is not stored
or logged; the audit says "emailed link N".

The email greets the parent or carer, names the pupil by first name only, and gives the link, its
expiry and what they will be asked: nothing of the plan.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.access import Viewer
from bot.errors import UserError
from bot.services import audit
from bot.services import family as links
from bot.services.calendar import long_day
from bot.services.link_tokens import token_hash
from models import Invitation, InvitationPurpose, Plan, School

ADDRESS_LENGTH = 254  # RFC 5321's longest path
NO_LONGER_WORKS = (
    "That link no longer works (it expired, was revoked, used up or locked), so nothing was sent. "
    "Make a new one with “Ask the family”."
)
# What the family is asked, by purpose (the value, so a purpose added later has words here
# before its enum member exists); anything else reads as a request for views.
SUBJECTS = {
    "meeting": "the review meeting",
    "agreement": "please tell us if you agree to the plan",
}
ASKS = {
    "pupil_views": "{school} would like {name} to tell us what they think about their support "
    "at school. {name} can fill in the form on their own or with you.",
    "meeting": "{school} would like to arrange the review meeting about {name}'s support with "
    "you: the page says when and where, and you can tell us if you can come.",
    "agreement": "{school} would like you to read {name}'s support plan and tell us whether you "
    "agree to it.",
}
DEFAULT_SUBJECT = "please tell us your views"
DEFAULT_ASK = "{school} would like to hear your views about {name}'s support at school."


@dataclass(frozen=True)
class Letter:
    """What the email and the printed letter say: no more than the family's page shows."""

    invitation_id: int
    school_name: str
    first_name: str
    purpose: InvitationPurpose
    expires_on: date

    @property
    def subject(self) -> str:
        return f"{self.school_name}: {SUBJECTS.get(self.purpose.value, DEFAULT_SUBJECT)}"

    @property
    def ask(self) -> str:
        words = ASKS.get(self.purpose.value, DEFAULT_ASK)
        return words.format(school=self.school_name, name=self.first_name)

    @property
    def ask_without_name(self) -> str:
        """What they are asked, with "your child" for the pupil's name: the printed letter's
        words. The letter's page opens for whoever has the link, before any date-of-birth
        check, so it may say nothing of the pupil (a forwarded link reveals nothing)."""
        words = ASKS.get(self.purpose.value, DEFAULT_ASK)
        said = words.format(school=self.school_name, name="your child")
        # "{name} can ..." starts a sentence in some asks.
        return re.sub(r"(^|\. )your child", lambda m: m.group(1) + "Your child", said)

    @property
    def expires(self) -> str:
        return long_day(self.expires_on)


def letter_of(session: Session, link: Invitation) -> Letter:
    """The letter for a link the caller found usable (bot.services.family.usable)."""
    school = session.get(School, link.school_id)
    return Letter(
        link.id,
        school.name,
        link.pupil.preferred_name or link.pupil.first_name,
        link.purpose,
        school.local_date(link.expires_at),
    )


def emailable(
    session: Session, viewer: Viewer, invitation_id: int, token: str, now: datetime
) -> Letter:
    """The letter to email for this link, after every check above. Raises UserError (refusals
    are audited; the caller commits either way)."""
    link = session.scalar(
        select(Invitation).where(
            Invitation.id == invitation_id, Invitation.school_id == viewer.school_id
        )
    )
    if link is None:
        audit.record_refusal(
            session, viewer, via=links.VIA_SLACK, now=now,
            detail="email link refused: no such link in this school",
        )  # fmt: skip
        raise UserError(links.GONE)
    plan = session.get(Plan, link.plan_id)
    if not links.may_ask(viewer, plan):
        audit.record_refusal(
            session, viewer, via=links.VIA_SLACK, now=now, plan=plan,
            detail=f"email link {link.id} refused: not the plan's case holder or a SENDCo",
        )  # fmt: skip
        raise links.NotAllowed()
    if not hmac.compare_digest(link.token_hash, token_hash(str(token or ""))):
        audit.record_refusal(
            session, viewer, via=links.VIA_SLACK, now=now, plan=plan,
            detail=f"email link {link.id} refused: the link given is not this one",
        )  # fmt: skip
        raise UserError(links.GONE)
    if links.usable(session, token, now) is None:
        raise UserError(NO_LONGER_WORKS)
    return letter_of(session, link)


def emailed(session: Session, viewer: Viewer, invitation_id: int, now: datetime) -> None:
    """Audits that the link went by email (never the address)."""
    link = session.get(Invitation, invitation_id)
    audit.record_by(
        session, viewer, action="create", via=links.VIA_SLACK, now=now,
        plan=session.get(Plan, link.plan_id), detail=f"emailed link {link.id}",
    )  # fmt: skip


def valid_address(text: str | None) -> str | None:
    """The address typed, if it looks deliverable; else None."""
    address = (text or "").strip()
    if not address or len(address) > ADDRESS_LENGTH:
        return None
    local, at, domain = address.rpartition("@")
    if (
        not at
        or not local
        or "." not in domain.strip(".")
        or any(c.isspace() or c in '<>,;:"()[]\\' for c in address)
        or ".." in domain
    ):
        return None
    try:
        Address(addr_spec=address)
    except (ValueError, IndexError):
        return None
    return address


def masked(address: str) -> str:
    """ "p…@example.com": enough for the sender to recognise, little for anyone else."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}…@{domain}"


def message(letter: Letter, link: str, to: str, sender: str) -> EmailMessage:
    """The email: plain text, with a simple HTML copy."""
    email = EmailMessage()
    email["Subject"] = letter.subject
    email["From"] = Address(display_name=letter.school_name, addr_spec=sender)
    email["To"] = to
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    # Not a mailing: no auto-replies to a school office's holiday message.
    email["Auto-Submitted"] = "auto-generated"
    paragraphs = body_paragraphs(letter)
    text = (
        "Dear parent or carer,\n\n"
        + "\n\n".join(p.replace("{link}", link) for p in paragraphs)
        + f"\n\n{letter.school_name}\n"
    )
    email.set_content(text)
    email.add_alternative(_html(letter, link, paragraphs), subtype="html")
    return email


def body_paragraphs(letter: Letter) -> list[str]:
    name = letter.first_name
    return [
        letter.ask,
        "Please open this link:\n{link}",
        f"You'll be asked for {name}'s date of birth first, to keep {name}'s information safe. "
        f"The link works until {letter.expires}.",
        "If you weren't expecting this email, please contact the school, and don't open the link.",
    ]


def _html(letter: Letter, link: str, paragraphs: list[str]) -> str:
    from html import escape

    parts = ["<p>Dear parent or carer,</p>"]
    for paragraph in paragraphs:
        if "{link}" in paragraph:
            before = escape(paragraph.split("{link}")[0].strip())
            parts.append(f'<p>{before}<br><a href="{escape(link)}">{escape(link)}</a></p>')
        else:
            parts.append(f"<p>{escape(paragraph)}</p>")
    parts.append(f"<p>{escape(letter.school_name)}</p>")
    return '<!DOCTYPE html><html lang="en-GB"><body>' + "".join(parts) + "</body></html>\n"
