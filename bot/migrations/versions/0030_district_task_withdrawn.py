"""district_task_withdrawn: the district may withdraw a task sent in error

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06 09:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("district_task") as batch:
        batch.add_column(
            sa.Column("withdrawn_at", models.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("district_task") as batch:
        batch.drop_column("withdrawn_at")
