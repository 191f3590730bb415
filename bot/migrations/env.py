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
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a table by copying it, dropping it and renaming the copy; with
            # foreign keys enforced, the DROP fails as soon as another table's rows refer to it
            # (a school's sessions to their prompts). Off while migrating (set outside any
            # transaction, where SQLite honours it), then every reference checked, then on.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
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
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
            if broken:
                raise RuntimeError(f"the migration left rows referring to nothing: {broken[:5]}")


if context.is_offline_mode():
    raise SystemExit("SSP Bot migrations run online only: use `sspbot db upgrade`.")
run_migrations_online()
