"""Download links for the plan document: how `/ssp export` hands a plan over without leaving a
file in Slack's history.

A link is a random token (`secrets.token_urlsafe(32)`, 256 bits) given once, privately, to the
member of staff who asked. Only its SHA-256 hash is stored (models.DownloadLink). It is for that
person, one plan at the version they asked for, one copy (staff, family, agency) and one format
(PDF or HTML); it stops working LINK_LIFETIME after it was made or after MAX_DOWNLOADS downloads.

At every download the person's access is checked again against the database as it is then,
with the same rules as `/ssp export` (bot.access, bot.services.plan_document): a case holder
who no longer holds the plan, someone who left the staff list, a plan that closed or changed,
or an agency copy whose consent was withdrawn since, all get the refusal. Each download, and
each refusal of a link we know, leaves an audit row. The token never reaches a log or the audit.

A link to the school's provision map (`/ssp provision export`, audience "provision_map") has no
plan: it gives the map (CSV, PDF or HTML) made at the download, while its owner is still the
SENDCo or a senior leader of the school.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.access import Viewer
from bot.errors import UserError
from bot.services import attachments, audit, evidence
from bot.services.calendar import load_calendar
from bot.services.evidence import EvidencePack
from bot.services.link_tokens import issue_download, link_owner, token_hash
from bot.services.passport import NoPassport, Passport, passport_for
from bot.services.plan_document import PlanDocument, load_plan_document
from bot.services.provision_map import (
    DEFAULT_PERIOD,
    PERIODS,
    ProvisionMap,
    map_period,
    provision_map,
)
from models import DownloadLink, Plan, School

# How long a link works. Long enough to click it from Slack, short enough that a link copied
# somewhere it should not be (a forwarded message, a screenshot) is dead by the time anyone
# else reads it. README "Exporting a plan" says so.
LINK_LIFETIME = timedelta(minutes=15)
# Downloads per link: a retry after a failed download, and opening it on a second device.
MAX_DOWNLOADS = 3
VIA = "download link"
# The audience of a link to the printable pupil passport (bot.services.passport), not a plan copy.
PASSPORT = "passport"
# The audience of a link to the school's provision map (bot.services.provision_map): no plan.
PROVISION_MAP = "provision_map"
# What a token looks like (token_urlsafe(32) is 43 characters); anything else is not looked up.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,100}")


class FileFormat(enum.StrEnum):
    PDF = "pdf"
    HTML = "html"
    CSV = "csv"  # the provision map only


class Refusal(enum.Enum):
    """Why a link gives no document (never shown to whoever holds the link: one plain page)."""

    UNKNOWN = "unknown link"  # no such token: guessed, mistyped or deleted
    EXPIRED = "link expired"
    USED_UP = "link used up"
    NO_LONGER_ALLOWED = "no longer allowed to read the plan"
    NOT_WHOLE_SCHOOL = "no longer the SENDCo or a senior leader (provision map)"
    PLAN_CHANGED = "plan changed since the link was made"


@dataclass(frozen=True)
class Download:
    """A link that may be used now: the document (a plan's copy, or a pupil passport), its
    format, and the file name to give it."""

    document: PlanDocument | Passport | ProvisionMap | EvidencePack | attachments.File
    file_format: FileFormat | None  # None: an attached file, of its own type
    filename: str


def create_links(
    session: Session, document: PlanDocument, formats: tuple[FileFormat, ...], now: datetime
) -> dict[FileFormat, str]:
    """One link per format for this document, for the member of staff it was loaded for.

    Returns the tokens, which are never stored: give them to that person and forget them.
    Audits the making of the links (one row), without the tokens. The caller commits.
    """
    tokens: dict[FileFormat, str] = {}
    for file_format in formats:
        token = issue_download(
            session,
            school_id=document.viewer_school_id,
            staff_id=document.recipient_staff_id,
            plan_id=document.plan.id,
            plan_version=document.plan.version,
            audience=str(document.audience),
            file_format=str(file_format),
            now=now,
            lifetime=LINK_LIFETIME,
            max_uses=MAX_DOWNLOADS,
        )
        tokens[file_format] = token
    audit.record(
        session,
        action="export_link",
        via=document.via,
        now=now,
        school_id=document.viewer_school_id,
        staff_id=document.viewer_staff_id,
        plan=document.plan,
        pupil=document.pupil,
        detail=(
            f"{document.audience} copy: {' and '.join(str(f).upper() for f in formats)} "
            f"download links for staff {document.recipient_staff_id}, "
            f"{int(LINK_LIFETIME.total_seconds() // 60)} minutes, {MAX_DOWNLOADS} downloads each"
        ),
    )
    return tokens


def create_passport_link(
    session: Session, viewer: Viewer, passport: Passport, now: datetime, *, via: str
) -> str:
    """A PDF link to the printable passport, for the viewer it was loaded for. Returns the token
    (never stored: give it to them and forget it); audits the making of it. The caller commits.
    At download the person's access is checked again as for the passport itself
    (bot.services.passport.passport_for), and the plan must not have changed since."""
    token = issue_download(
        session,
        school_id=viewer.school_id,
        staff_id=viewer.staff_id,
        plan_id=passport.plan_id,
        plan_version=passport.plan_version,
        audience=PASSPORT,
        file_format=str(FileFormat.PDF),
        now=now,
        lifetime=LINK_LIFETIME,
        max_uses=MAX_DOWNLOADS,
    )
    audit.record(
        session,
        action="export_link",
        via=via,
        now=now,
        school_id=viewer.school_id,
        staff_id=viewer.staff_id,
        plan=session.get(Plan, passport.plan_id),
        detail=(
            f"pupil passport: PDF download link for staff {viewer.staff_id}, "
            f"{int(LINK_LIFETIME.total_seconds() // 60)} minutes, {MAX_DOWNLOADS} downloads"
        ),
    )
    return token


def create_map_links(
    session: Session, viewer: Viewer, now: datetime, *, via: str, period: str = DEFAULT_PERIOD
) -> dict[FileFormat, str]:
    """CSV, PDF and HTML links to the school's provision map, for the viewer (the SENDCo or a
    senior leader). Returns the tokens (never stored); audits the making of them in one row.
    At download the person must still be on the staff list as SENDCo or senior leader, and the
    map is made then, from the figures as they are then. The caller commits."""
    tokens: dict[FileFormat, str] = {}
    for file_format in (FileFormat.CSV, FileFormat.PDF, FileFormat.HTML):
        token = issue_download(
            session,
            school_id=viewer.school_id,
            staff_id=viewer.staff_id,
            plan_id=None,
            plan_version=None,
            audience=PROVISION_MAP,
            file_format=str(file_format),
            map_period=period if period in PERIODS else DEFAULT_PERIOD,
            now=now,
            lifetime=LINK_LIFETIME,
            max_uses=MAX_DOWNLOADS,
        )
        tokens[file_format] = token
    audit.record_by(
        session,
        viewer,
        action="export_link",
        via=via,
        now=now,
        detail=(
            f"provision map (figures only): CSV, PDF and HTML download links for staff "
            f"{viewer.staff_id}, {int(LINK_LIFETIME.total_seconds() // 60)} minutes, "
            f"{MAX_DOWNLOADS} downloads each"
        ),
    )
    return tokens


def create_pack_links(
    session: Session, viewer: Viewer, plan: Plan, *, transfer: bool, now: datetime, via: str
) -> dict[FileFormat, str]:
    """PDF and HTML links to the pupil's evidence pack (or transfer record), for the viewer.
    Returns the tokens (never stored); audits the making of them. At download the person must
    still be allowed the pack (bot.services.evidence.may_have), and it is made then, from the
    records as they are then. The caller commits."""
    audience = evidence.TRANSFER if transfer else evidence.EVIDENCE
    tokens: dict[FileFormat, str] = {}
    for file_format in (FileFormat.PDF, FileFormat.HTML):
        token = issue_download(
            session,
            school_id=viewer.school_id,
            staff_id=viewer.staff_id,
            plan_id=plan.id,
            plan_version=plan.version,
            audience=audience,
            file_format=str(file_format),
            now=now,
            lifetime=LINK_LIFETIME,
            max_uses=MAX_DOWNLOADS,
        )
        tokens[file_format] = token
    audit.record_by(
        session,
        viewer,
        action="export_link",
        via=via,
        now=now,
        plan=plan,
        pupil=plan.pupil,
        detail=(
            f"{'transfer record' if transfer else 'evidence pack'}: PDF and HTML download links "
            f"for staff {viewer.staff_id}, {int(LINK_LIFETIME.total_seconds() // 60)} minutes, "
            f"{MAX_DOWNLOADS} downloads each"
        ),
    )
    return tokens


def redeem(
    session: Session, token: str, now: datetime, *, attachment_key: str | None = None
) -> Download | Refusal:
    """Uses a link once: the document to send, or why not. Audits either way when the link is
    ours (the token is not: only its hash is looked up). The caller commits.

    An attached file's link (audience "attachment") needs `attachment_key` to decrypt it."""
    if not TOKEN_SHAPE.fullmatch(token):
        return Refusal.UNKNOWN
    link = session.scalar(select(DownloadLink).where(DownloadLink.token_hash == token_hash(token)))
    if link is None:
        return Refusal.UNKNOWN
    refusal = _still_valid(session, link, now)
    if link.audience == attachments.ATTACHMENT:
        return _attached_file(session, link, refusal, now, attachment_key)
    if refusal is None:
        document_or_refusal = _document(session, link, now)
        if isinstance(document_or_refusal, Refusal):
            refusal = document_or_refusal
        else:
            document = document_or_refusal
    if refusal is not None:
        audit.record(
            session,
            action=audit.REFUSED,
            via=VIA,
            now=now,
            school_id=link.school_id,
            staff_id=link.staff_id,
            plan=session.get(Plan, link.plan_id) if link.plan_id is not None else None,
            detail=f"{link.audience} copy {link.file_format.upper()} refused: {refusal.value}",
        )
        return refusal
    file_format = FileFormat(link.file_format)
    if isinstance(document, EvidencePack):
        plan = session.get(Plan, link.plan_id)
        audit.record(
            session,
            action="export",
            via=VIA,
            now=now,
            school_id=link.school_id,
            staff_id=link.staff_id,
            plan=plan,
            pupil=plan.pupil,
            detail=(
                f"{link.audience} {'record' if document.transfer else 'pack'} sent to staff "
                f"{link.staff_id} as {file_format.upper()} by download link "
                f"({link.uses} of {link.max_uses})"
            ),
        )
        name = evidence.filename(document, plan.pupil.initials, plan.id, str(file_format))
        return Download(document, file_format, name)
    if isinstance(document, ProvisionMap):
        audit.record(
            session,
            action="export",
            via=VIA,
            now=now,
            school_id=link.school_id,
            staff_id=link.staff_id,
            detail=(
                f"provision map (figures only) sent to staff {link.staff_id} as "
                f"{file_format.upper()} by download link ({link.uses} of {link.max_uses})"
            ),
        )
        return Download(document, file_format, map_filename(document, file_format))
    passport = isinstance(document, Passport)
    audit.record(
        session,
        action="export",
        via=VIA,
        now=now,
        school_id=link.school_id,
        staff_id=link.staff_id,
        plan=session.get(Plan, link.plan_id) if passport else document.plan,
        pupil=None if passport else document.pupil,
        detail=(
            f"{'pupil passport' if passport else f'{link.audience} copy'} sent to staff "
            f"{link.staff_id} as {file_format.upper()} by download link "
            f"({link.uses} of {link.max_uses})"
        ),
    )
    name = passport_filename(document) if passport else filename(document, file_format)
    return Download(document, file_format, name)


def _attached_file(
    session: Session, link: DownloadLink, refusal: Refusal | None, now: datetime, key: str | None
) -> Download | Refusal:
    """An attached file's link: the file, if its owner may still have it; audited either way."""
    found = attachments.file_for(session, link, key) if refusal is None else None
    if refusal is None and found is None:
        refusal = Refusal.NO_LONGER_ALLOWED
    plan = found.plan if found is not None else session.get(Plan, link.plan_id)
    if refusal is not None:
        audit.record(
            session,
            action=audit.REFUSED,
            via=VIA,
            now=now,
            school_id=link.school_id,
            staff_id=link.staff_id,
            plan=plan,
            detail=f"attachment {link.attachment_id} refused: {refusal.value}",
        )
        return refusal
    audit.record(
        session,
        action="download",
        via=VIA,
        now=now,
        school_id=link.school_id,
        staff_id=link.staff_id,
        plan=plan,
        pupil=plan.pupil,
        detail=(
            f"attachment {found.attachment_id} sent to staff {link.staff_id} by download link "
            f"({link.uses} of {link.max_uses})"
        ),
    )
    return Download(found, None, found.filename)


def _still_valid(session: Session, link: DownloadLink, now: datetime) -> Refusal | None:
    """Counts this use, or says why the link is spent. One conditional UPDATE, so two downloads
    at the same moment cannot both take the last use."""
    if link.expires_at <= now:
        return Refusal.EXPIRED
    counted = session.execute(
        update(DownloadLink)
        .where(DownloadLink.id == link.id, DownloadLink.uses < DownloadLink.max_uses)
        .values(uses=DownloadLink.uses + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not counted:
        return Refusal.USED_UP
    session.refresh(link)
    return None


def _document(
    session: Session, link: DownloadLink, now: datetime
) -> PlanDocument | Passport | ProvisionMap | EvidencePack | Refusal:
    """The plan document (or the pupil passport, or the provision map) as the link's owner may
    have it now, with their access as it is now."""
    viewer = link_owner(session, link)
    if link.audience == PROVISION_MAP:
        return _map(session, viewer, now, link.map_period or "all")
    plan = session.get(Plan, link.plan_id)
    if viewer is None or plan is None or plan.school_id != link.school_id:
        return Refusal.NO_LONGER_ALLOWED
    today = now.astimezone(ZoneInfo(plan.school.timezone)).date()
    if link.audience in (evidence.EVIDENCE, evidence.TRANSFER):
        transfer = link.audience == evidence.TRANSFER
        if not evidence.may_have(viewer, plan, transfer=transfer):
            return Refusal.NO_LONGER_ALLOWED
        return evidence.build(session, plan.school, plan.pupil_id, today, transfer=transfer)
    if link.audience == PASSPORT:
        return _passport(session, viewer, plan, link, today)
    try:
        document = load_plan_document(
            session,
            viewer,
            plan.pupil_id,
            audience=link.audience,
            recipient_staff_id=viewer.staff_id,
            via=VIA,
            now=now,
            today=today,
        )
    except UserError:  # a teacher now, or the plan closed: not theirs to export any more
        return Refusal.NO_LONGER_ALLOWED
    if document is None or document.plan.id != link.plan_id or document.refused is not None:
        return Refusal.NO_LONGER_ALLOWED
    if document.plan.version != link.plan_version:
        return Refusal.PLAN_CHANGED
    return document


def _passport(
    session: Session, viewer: Viewer, plan: Plan, link: DownloadLink, today
) -> Passport | Refusal:
    """The passport as its owner may have it now: they still see the pupil on roll, the plan
    is the open one, unchanged since the link was made."""
    try:
        passport = passport_for(session, viewer, plan.pupil_id, today)
    except NoPassport:  # the plan closed since
        return Refusal.NO_LONGER_ALLOWED
    if passport is None or passport.plan_id != link.plan_id:
        return Refusal.NO_LONGER_ALLOWED
    if passport.plan_version != link.plan_version:
        return Refusal.PLAN_CHANGED
    return passport


def _map(
    session: Session, viewer: Viewer | None, now: datetime, period: str
) -> ProvisionMap | Refusal:
    """The map, made now over the period it was asked for, if its owner is still the SENDCo or
    a senior leader of the school."""
    if viewer is None or not viewer.sees_whole_school:
        return Refusal.NOT_WHOLE_SCHOOL
    school = session.get(School, viewer.school_id)
    today = now.astimezone(ZoneInfo(school.timezone)).date()
    over = map_period(period, load_calendar(session, school.id), today)
    found = provision_map(session, school.id, today, over)
    return dataclasses.replace(found, school_name=school.name)


def map_filename(document: ProvisionMap, file_format: FileFormat) -> str:
    period = "" if document.period.key == "all" else f"{document.period.key}-"
    return f"Provision-map-{period}{document.today.isoformat()}.{file_format}"


def passport_filename(passport: Passport) -> str:
    """As `filename`: initials and the plan's reference, never the pupil's name."""
    initials = "".join(c for c in passport.initials if c.isalnum()) or "pupil"
    return f"Passport-{initials}-ref{passport.plan_id}-{passport.today.isoformat()}.pdf"


def filename(document: PlanDocument, file_format: FileFormat) -> str:
    """What the file is called in the person's Downloads folder, and in any folder it is
    copied to: the pupil's initials and the plan's reference, not their name. A name in a file
    name shows in every file list, search and "recent files" menu; initials and the plan
    reference are enough for the SENDCo to tell files apart and to find the plan again
    (`/ssp export` takes the pupil's name or UPN)."""
    initials = "".join(c for c in document.pupil.initials if c.isalnum()) or "pupil"
    copy = "" if document.is_staff_copy else f"-{document.audience}"
    return f"SSP-{initials}-ref{document.plan.id}-{document.today.isoformat()}{copy}.{file_format}"
