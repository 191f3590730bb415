"""Reports and evidence attached to a plan: checking a file, keeping it encrypted, listing it,
and handing it out by a download link.

Who may attach: the same people who may change the plan (bot.services.plan_editing.can_edit:
the SENDCo, and the plan's case holder), on an open plan of a pupil of their own school. Who may
have a file back: the same people, and senior leaders (who read whole plans); never a teacher,
a teaching assistant or another case holder. Both are decided from the verified viewer against
the database as it is at that moment, and again at download (bot.services.download_links).

What is kept: the file encrypted with Fernet under the ATTACHMENT_KEY setting (AES-128-CBC and
HMAC-SHA256), its SHA-256 and size, the title, kind and file name given; the file's bytes never
reach a log, the audit or Slack again. A file is accepted only when its name's extension and its
first bytes agree on one of the allowed types (ALLOWED), and it is at most MAX_BYTES.

Nothing here logs a file name, a title or a token: the audit names the attachment by its id.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.access import Viewer, visible_pupils
from bot.errors import UserError
from bot.services import audit
from bot.services.link_tokens import issue_download, link_owner
from bot.services.plan_editing import can_edit
from models import AgencyReport, Attachment, DownloadLink, Plan, PlanStatus, Pupil, Staff
from models.attachments import EVIDENCE, KINDS, REPORT

MAX_BYTES = 10 * 1024 * 1024  # 10 MB; README "Reports and evidence attached" says so
MAX_MB = MAX_BYTES // (1024 * 1024)
TITLE_LENGTH = 300
KIND_LABELS = {REPORT: "Professional report", EVIDENCE: "Evidence"}
ATTACHMENT = "attachment"  # the audience of a download link to an attached file
FILE = "file"  # its format
FIELD = "file"  # the form's file field: where a refusal of the file is shown


@dataclass(frozen=True)
class FileType:
    extensions: tuple[str, ...]
    content_type: str
    label: str


PDF = FileType(("pdf",), "application/pdf", "PDF")
DOCX = FileType(
    ("docx",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "Word (.docx)",
)
JPEG = FileType(("jpg", "jpeg"), "image/jpeg", "JPEG")
PNG = FileType(("png",), "image/png", "PNG")
TEXT = FileType(("txt",), "text/plain; charset=utf-8", "plain text (.txt)")
ALLOWED = (PDF, DOCX, JPEG, PNG, TEXT)
# What Slack's file_input may offer (its `filetypes`), so the picker shows only these.
SLACK_FILETYPES = ("pdf", "docx", "jpg", "jpeg", "png", "txt")
ALLOWED_TEXT = "PDF, Word (.docx), JPEG, PNG or plain text (.txt)"

NO_KEY = (
    "Files can't be attached yet: SSP Bot has no key to keep them safe with. Ask whoever runs "
    "SSP Bot to set ATTACHMENT_KEY (README, Settings); nothing was saved."
)
WRONG_TYPE = (
    "That file can't be attached: only {allowed} files can, and the file must really be one "
    "(its name and its contents must agree). Nothing was saved."
)
TOO_BIG = (
    "That file is too big to attach: the limit is {mb} MB. Try a smaller copy (a PDF, or a "
    "scan at a lower resolution). Nothing was saved."
)
EMPTY = "That file is empty, so there is nothing to attach. Nothing was saved."
NOT_YOURS = (
    "Only the SENDCo and the plan's case holder can attach a file to a plan, and only while it "
    "is open. Nothing was saved."
)
NOT_READABLE = (
    "I can't give you that file: only the SENDCo, senior leaders and the plan's case holder "
    "can download what is attached to a plan."
)


class NoKey(UserError):
    def __init__(self) -> None:
        super().__init__(NO_KEY)


def too_big(size: int | None) -> bool:
    return size is not None and size > MAX_BYTES


def type_by_name(filename: str) -> FileType | None:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return next((t for t in ALLOWED if extension in t.extensions), None)


def check_name_and_size(filename: str, size: int | None) -> None:
    """Before fetching a file from Slack: refuse what its name or stated size already rule out."""
    if type_by_name(filename) is None:
        raise UserError(WRONG_TYPE.format(allowed=ALLOWED_TEXT), block_id=FIELD)
    if too_big(size):
        raise UserError(TOO_BIG.format(mb=MAX_MB), block_id=FIELD)


def file_type(filename: str, data: bytes) -> FileType:
    """The file's type when its name and first bytes agree on an allowed one; UserError if not."""
    check_name_and_size(filename, len(data))
    if not data:
        raise UserError(EMPTY, block_id=FIELD)
    named = type_by_name(filename)
    if named is None or not _looks_like(named, data):
        raise UserError(WRONG_TYPE.format(allowed=ALLOWED_TEXT), block_id=FIELD)
    return named


def _looks_like(kind: FileType, data: bytes) -> bool:
    if kind is PDF:
        return data.startswith(b"%PDF-")
    if kind is DOCX:  # a .docx is a zip whose parts include word/
        return data.startswith(b"PK\x03\x04") and b"word/" in data[:65536]
    if kind is JPEG:
        return data.startswith(b"\xff\xd8\xff")
    if kind is PNG:
        return data.startswith(b"\x89PNG\r\n\x1a\n")
    if b"\x00" in data:  # plain text: UTF-8 with no NUL bytes
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _fernet(key: str | None) -> Fernet:
    if not key:
        raise NoKey()
    return Fernet(key.encode())


def decrypt(key: str | None, ciphertext: bytes) -> bytes:
    """An attached file's bytes (subject access); NoKey without a key, InvalidToken with the
    wrong one."""
    return _fernet(key).decrypt(ciphertext)


def require_key(key: str | None) -> None:
    """Raises NoKey (one clear line) when attachments cannot be kept safe."""
    _fernet(key)


def safe_filename(filename: str, kind: FileType, attachment_id: int | None = None) -> str:
    """A name fit for a Content-Disposition header and any file system: letters, digits, dots,
    dashes, underscores and spaces of the name given, with the type's own extension."""
    stem = filename.rsplit(".", 1)[0] if "." in filename else filename
    stem = re.sub(r"[^A-Za-z0-9._ -]+", "_", stem).strip(" ._")[:100]
    if not stem:
        stem = f"attachment-{attachment_id}" if attachment_id else "attachment"
    return f"{stem}.{kind.extensions[0]}"


# --- which plan -----------------------------------------------------------------------------


def editable_plan(session: Session, viewer: Viewer, pupil_id: int | None) -> Plan | None:
    """The open plan of a pupil of the viewer's school that the viewer may change; None when
    there is none or it is not theirs (the same None: "not yours" and "no such plan" read the
    same)."""
    if pupil_id is None:
        return None
    plan = session.scalar(
        select(Plan)
        .join(Pupil, Pupil.id == Plan.pupil_id)
        .where(
            Plan.pupil_id == pupil_id,
            Plan.school_id == viewer.school_id,
            Plan.status != PlanStatus.CLOSED,
            visible_pupils(viewer),
        )
    )
    if plan is None or not can_edit(viewer, plan):
        return None
    return plan


def open_form(
    session: Session, viewer: Viewer, pupil_id: int | None, *, via: str, now: datetime
) -> tuple[Plan, list[tuple[int, str]]] | None:
    """The plan a file may be attached to, with its report rows (id, title) for the form; None
    when there is none the viewer may change. Audited either way: a read of the plan (the form
    shows its reports), or the refusal."""
    plan = editable_plan(session, viewer, pupil_id)
    if plan is None:
        refuse(session, viewer, pupil_id=pupil_id, via=via, now=now)
        return None
    audit.record_by(
        session,
        viewer,
        action="read",
        via=via,
        now=now,
        plan=plan,
        pupil=plan.pupil,
        detail="attach form: the plan's reports",
    )
    return plan, reports_of(session, plan.id)


def reports_of(session: Session, plan_id: int) -> list[tuple[int, str]]:
    """The plan's report rows (id, title), for "which report is this?"."""
    rows = session.execute(
        select(AgencyReport.id, AgencyReport.title)
        .where(AgencyReport.plan_id == plan_id)
        .order_by(AgencyReport.id)
    )
    return [(row.id, row.title) for row in rows]


def refuse(session: Session, viewer: Viewer, *, pupil_id, via: str, now: datetime) -> None:
    audit.record_refusal(
        session, viewer, via=via, now=now, pupil_id=pupil_id, detail="attachment refused"
    )


# --- attaching ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attached:
    attachment_id: int
    pupil_name: str
    title: str


def attach(
    session: Session,
    viewer: Viewer,
    pupil_id: int | None,
    *,
    key: str | None,
    kind: str,
    title: str,
    report_id: int | None,
    filename: str,
    data: bytes,
    slack_file_id: str | None,
    via: str,
    now: datetime,
) -> Attached:
    """Keeps the file, encrypted, on the pupil's open plan, and audits it. Raises UserError
    (nothing added) when the viewer may not, the key is missing, or the file is refused."""
    fernet = _fernet(key)
    plan = editable_plan(session, viewer, pupil_id)
    if plan is None:
        refuse(session, viewer, pupil_id=pupil_id, via=via, now=now)
        raise UserError(NOT_YOURS)
    kind = kind if kind in KINDS else EVIDENCE
    title = " ".join(title.split())[:TITLE_LENGTH]
    if not title:
        raise UserError("Give the file a title, e.g. “EP report, March 2026”.", block_id="title")
    if report_id is not None and report_id not in {r for r, _ in reports_of(session, plan.id)}:
        report_id = None  # not one of this plan's reports: attached to the plan itself
    found = file_type(filename, data)
    attachment = Attachment(
        school_id=plan.school_id,
        plan_id=plan.id,
        pupil_id=plan.pupil_id,
        report_id=report_id,
        kind=kind,
        title=title,
        filename=safe_filename(filename, found),
        content_type=found.content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        ciphertext=fernet.encrypt(data),
        uploaded_by_id=viewer.staff_id,
        uploaded_at=now,
        slack_file_id=(slack_file_id or None) and str(slack_file_id)[:32],
    )
    session.add(attachment)
    session.flush()
    audit.record_by(
        session,
        viewer,
        action="attach",
        via=via,
        now=now,
        plan=plan,
        pupil=plan.pupil,
        detail=(
            f"{KIND_LABELS[kind].lower()} attached: attachment {attachment.id}, "
            f"{found.label}, {len(data)} bytes"
        ),
    )
    return Attached(attachment.id, plan.pupil.known_as, title)


# --- listing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    attachment_id: int
    title: str
    kind_label: str
    by: str
    uploaded_at: datetime
    report_title: str | None


def listed(session: Session, plan_id: int) -> list[Listed]:
    """The plan's attachments, newest first, in one query (never their contents)."""
    rows = session.execute(
        select(
            Attachment.id,
            Attachment.title,
            Attachment.kind,
            Attachment.uploaded_at,
            Staff.first_name,
            Staff.last_name,
            AgencyReport.title.label("report_title"),
        )
        .outerjoin(Staff, Staff.id == Attachment.uploaded_by_id)
        .outerjoin(AgencyReport, AgencyReport.id == Attachment.report_id)
        .where(Attachment.plan_id == plan_id)
        .order_by(Attachment.uploaded_at.desc(), Attachment.id.desc())
    )
    return [
        Listed(
            row.id,
            row.title,
            KIND_LABELS.get(row.kind, row.kind),
            f"{row.first_name} {row.last_name}" if row.first_name else "someone who has left",
            row.uploaded_at,
            row.report_title,
        )
        for row in rows
    ]


# --- download links -------------------------------------------------------------------------


def may_read(viewer: Viewer, plan: Plan) -> bool:
    """The SENDCo and senior leaders; the case holder while the plan is open (as for the
    evidence pack: once it closes, its record is the SENDCo's and senior leaders')."""
    if plan.school_id != viewer.school_id:
        return False
    if viewer.sees_whole_school:
        return True
    return can_edit(viewer, plan) and plan.status != PlanStatus.CLOSED


def create_link(
    session: Session,
    viewer: Viewer,
    attachment_id: int | None,
    *,
    lifetime,
    max_uses: int,
    via: str,
    now: datetime,
) -> str:
    """A download link to the attached file for this viewer, if they may have it; UserError
    (the refusal audited) if not. Returns the token (never stored); the caller commits."""
    attachment = session.get(Attachment, attachment_id) if attachment_id else None
    plan = session.get(Plan, attachment.plan_id) if attachment is not None else None
    if plan is None or not may_read(viewer, plan):
        refuse(
            session,
            viewer,
            pupil_id=attachment.pupil_id if attachment is not None else None,
            via=via,
            now=now,
        )
        raise UserError(NOT_READABLE)
    token = issue_download(
        session,
        school_id=viewer.school_id,
        staff_id=viewer.staff_id,
        plan_id=plan.id,
        plan_version=plan.version,
        audience=ATTACHMENT,
        attachment_id=attachment.id,
        file_format=FILE,
        now=now,
        lifetime=lifetime,
        max_uses=max_uses,
    )
    audit.record_by(
        session,
        viewer,
        action="export_link",
        via=via,
        now=now,
        plan=plan,
        pupil=plan.pupil,
        detail=(
            f"attachment {attachment.id}: download link for staff {viewer.staff_id}, "
            f"{int(lifetime.total_seconds() // 60)} minutes, {max_uses} downloads"
        ),
    )
    return token


@dataclass(frozen=True)
class File:
    attachment_id: int
    plan: Plan
    data: bytes
    content_type: str
    filename: str


def file_for(session: Session, link: DownloadLink, key: str | None) -> File | None:
    """The attached file behind a link, if the link's owner may still have it (checked against
    the database now) and it decrypts to what was attached; None otherwise."""
    viewer = link_owner(session, link)
    attachment = session.get(Attachment, link.attachment_id) if link.attachment_id else None
    plan = session.get(Plan, attachment.plan_id) if attachment is not None else None
    if viewer is None or plan is None or plan.id != link.plan_id:
        return None
    if not may_read(viewer, plan) or not key:
        return None
    try:
        data = Fernet(key.encode()).decrypt(attachment.ciphertext)
    except InvalidToken:  # another key, or altered: never hand out what we cannot vouch for
        return None
    if hashlib.sha256(data).hexdigest() != attachment.sha256:
        return None
    return File(attachment.id, plan, data, attachment.content_type, attachment.filename)
