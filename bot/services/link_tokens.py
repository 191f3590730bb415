"""The secret in a link someone opens in a browser: a families' page (bot.services.family) or a
staff download (bot.services.download_links). The token is given once and never stored; only
its SHA-256 is kept, so a copy of the database opens nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.access import Viewer
from models import DownloadLink, Staff


def new_token() -> str:
    """256 random bits, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored and looked up in place of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_download(
    session: Session,
    *,
    school_id: int,
    staff_id: int,
    plan_id: int | None,
    plan_version: int | None,
    audience: str,
    file_format: str,
    now: datetime,
    lifetime: timedelta,
    max_uses: int,
    attachment_id: int | None = None,
    map_period: str | None = None,
) -> str:
    """A staff download link (models.DownloadLink) added to the session, unused, working until
    `now + lifetime`; returns its token, which is not stored."""
    token = new_token()
    session.add(
        DownloadLink(
            school_id=school_id,
            staff_id=staff_id,
            plan_id=plan_id,
            plan_version=plan_version,
            audience=audience,
            attachment_id=attachment_id,
            map_period=map_period,
            file_format=file_format,
            token_hash=token_hash(token),
            created_at=now,
            expires_at=now + lifetime,
            uses=0,
            max_uses=max_uses,
        )
    )
    return token


def link_owner(session: Session, link: DownloadLink) -> Viewer | None:
    """Who a staff download link was made for, with their roles as they are now; None once
    they have left the school's staff list. Access is re-checked against this at every use."""
    staff = session.scalar(
        select(Staff).where(
            Staff.id == link.staff_id,
            Staff.school_id == link.school_id,
            Staff.is_active.is_(True),
        )
    )
    return Viewer.of(staff) if staff is not None else None
