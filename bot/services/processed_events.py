"""Slack events acted on: Slack retries an event it thinks we missed (X-Slack-Retry-Num, the
same event_id) up to three times over about six minutes, and a restart forgets what the
server's in-memory gate saw. The database remembers, for a day."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from models import ProcessedEvent

KEEP_FOR = timedelta(days=1)


def first_delivery(session: Session, event_id: str, team_id: str | None, now: datetime) -> bool:
    """Records that the event is being acted on; False if it already was (a retry, or a
    replay after a restart). Two deliveries at once: the database's primary key decides, and
    on PostgreSQL the second waits for the first to commit, then finds the row."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    inserted = session.execute(
        insert(ProcessedEvent)
        .values(event_id=event_id[:100], team_id=(team_id or "")[:32] or None, received_at=now)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(ProcessedEvent.event_id)
    ).first()
    # Kept small: an event older than a day is never retried.
    session.execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < now - KEEP_FOR))
    return inserted is not None
