"""The outbox's claim query reads pending prompts in (due_at, id) order straight off an index.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 08:55:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("prompts") as batch:
        batch.drop_index("ix_prompts_status_due_at")
        batch.create_index("ix_prompts_status_due_at_id", ["status", "due_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("prompts") as batch:
        batch.drop_index("ix_prompts_status_due_at_id")
        batch.create_index("ix_prompts_status_due_at", ["status", "due_at"], unique=False)
