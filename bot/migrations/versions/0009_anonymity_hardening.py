"""anonymity hardening: no per-author quota rows; a check value of SECRET_KEY

The daily limit of anonymous suggestions is now counted in the bot's memory (models/anonymity.py,
AnonymousTally): the `anonymous_quota` table, whose rows (their order on SQLite, their
transaction ids on PostgreSQL) could link one author's items, is dropped with what it held.
`secret_key_check` keeps one keyed hash of the key, so a start with another key is refused
instead of losing every anonymous thread silently.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-14 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel types)
from alembic import op

import models.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "secret_key_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_value", sa.String(length=64), nullable=False),
        sa.Column("stored_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.drop_table("anonymous_quota")


def downgrade() -> None:
    """Revert this revision (the counts of the day are not brought back: they were in memory)."""
    op.create_table(
        "anonymous_quota",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("quota_key", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
        ),
        sa.PrimaryKeyConstraint("organization_id", "day", "quota_key"),
    )
    op.drop_table("secret_key_check")
