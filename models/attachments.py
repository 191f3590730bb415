"""Reports and evidence attached to a plan: the file itself, copied from Slack into our store.

A case holder (or the SENDCo) attaches a professional report or a piece of evidence from Slack;
the bot copies the file out of Slack (bot token, `files:read`) and keeps it here, encrypted with
Fernet under the `ATTACHMENT_KEY` setting (bot.services.attachments). The plain bytes are never
stored: only their size and SHA-256, to show the file decrypts to what was attached. A file is
handed out only through a short-lived, access-checked download link (bot.services.download_links),
never posted back into Slack.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, utcnow
from models.people import Staff

REPORT = "report"
EVIDENCE = "evidence"
KINDS = (REPORT, EVIDENCE)


class Attachment(Base):
    __tablename__ = "attachments"
    __table_args__ = (
        CheckConstraint("kind IN ('report', 'evidence')", name="kind"),
        CheckConstraint("size >= 0", name="size"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id", ondelete="CASCADE"), index=True)
    # The report row of the plan it belongs to, when it is one of them.
    report_id: Mapped[int | None] = mapped_column(
        ForeignKey("agency_reports.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)  # of the plain file, in bytes
    sha256: Mapped[str] = mapped_column(String(64))  # hex, of the plain file
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)  # a Fernet token
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Where it came from in Slack (files.info), for the record; never used to fetch it again.
    slack_file_id: Mapped[str | None] = mapped_column(String(32))

    uploaded_by: Mapped[Staff | None] = relationship()
