"""Short-lived download links for a plan document (`/ssp export`), instead of files left in Slack.

A link's token is given to the member of staff once, privately; only its SHA-256 hash is kept,
so a copy of the database cannot be turned back into working links. A link is for one person,
one plan at one version, one copy (staff, family, agency) and one format, and stops working
after `expires_at` or `max_uses` downloads, whichever comes first. Whether the person may still
read the plan is checked again at every download (bot.services.download_links).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class DownloadLink(Base):
    __tablename__ = "download_links"
    __table_args__ = (
        # "file": an attached file as it was attached (its type is the attachment's own).
        CheckConstraint("file_format IN ('pdf', 'html', 'csv', 'file')", name="file_format"),
        # "passport": the pupil passport (bot.services.passport), not a copy of the whole plan.
        # "provision_map": the school's provision map (bot.services.provision_map), no plan.
        # "attachment": a report or evidence attached to the plan (models.attachments).
        # "evidence", "transfer": the pupil's evidence pack or transfer record
        # (bot.services.evidence), made from the records at download.
        CheckConstraint(
            "audience IN ('staff', 'family', 'agency', 'passport', 'provision_map', "
            "'attachment', 'evidence', 'transfer')",
            name="audience",
        ),
        CheckConstraint("uses >= 0 AND uses <= max_uses", name="uses"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    # Who asked for it: the download is made as this person, with their access at that moment.
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    # None for the provision map's links: aggregates across the school, no one plan.
    plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), index=True
    )
    # Plan.version when the link was made: a plan changed since is not what was asked for.
    plan_version: Mapped[int | None] = mapped_column(Integer)
    audience: Mapped[str] = mapped_column(String(16))
    # The attached file, for an "attachment" link only.
    attachment_id: Mapped[int | None] = mapped_column(
        ForeignKey("attachments.id", ondelete="CASCADE"), index=True
    )
    file_format: Mapped[str] = mapped_column(String(8))
    # The provision map's period ("term", "year", "all"), for a "provision_map" link only: the
    # export covers the period the map showed when it was asked for.
    map_period: Mapped[str | None] = mapped_column(String(8))
    # hex SHA-256 of the token; the token itself is never stored or logged.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    max_uses: Mapped[int] = mapped_column(Integer)
