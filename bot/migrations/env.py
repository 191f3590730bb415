"""Alembic environment: the engine comes from the caller, or from SSP Bot's own settings."""

from __future__ import annotations

from alembic import context

import models
from bot.config import Settings
from bot.db import make_engine

config = context.config
target_metadata = models.Base.metadata


def render_item(type_, obj, autogen_context):
    # Migrations spell our UTC column type as the plain timezone-aware DateTime it stores.
    if type_ == "type" and isinstance(obj, models.UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or make_engine(Settings.from_env().database_url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            compare_type=True,
            compare_server_default=True,
            # SQLite can only alter tables by copying them; batch mode does that for us.
            render_as_batch=connection.dialect.name == "sqlite",
            transaction_per_migration=True,
            render_item=render_item,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("SSP Bot migrations run online only: use `sspbot db upgrade`.")
run_migrations_online()
