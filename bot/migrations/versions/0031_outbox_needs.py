"""outbox_needs: what must still hold when a queued message goes out (an office, the group)

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(sa.Column("needs", sa.String(length=16), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_column("needs")
