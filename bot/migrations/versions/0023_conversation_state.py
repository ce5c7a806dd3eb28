"""conversation_state: forms in progress kept in the database (PostgreSQL deployments)

Two or more copies of the bot may run against one PostgreSQL, one active and one standby. The
conversation file stays on the machine that wrote it, so a takeover would drop every form
in progress; bot/db_persistence.py keeps them in this table instead (JSON text, one row per
conversation key or per person). SQLite deployments, which run one copy, keep the file; the
table exists there too and stays empty.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-20 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "conversation_state",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "name", "key"),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("conversation_state")
