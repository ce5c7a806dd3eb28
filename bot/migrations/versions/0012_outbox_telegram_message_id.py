"""outbox telegram message id: a sent announcement can be edited in place

When an activity's time or place changes, the announcement members already received is edited
to the new details; that needs Telegram's id of each message sent from the outbox.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-20 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("telegram_message_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    """Revert this revision (the stored message ids are dropped)."""
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("telegram_message_id")
