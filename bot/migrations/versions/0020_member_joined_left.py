"""member joined_at and left_at, outbox_message.sent_at indexed: for the reports

The reports count members who joined and left in a period and the membership at each month's
end. Nothing stored said so reliably (updated_at moves with any edit), so two columns are
added and set where the status changes (join approval, invite binding, the owner's first
start, deactivation and reactivation). Backfill: joined_at is the approval of the member's
join request when there is one, else the row's creation (a roster import bound later, a
member entered by hand); left_at of an inactive member is its last update. The messages'
sent_at is indexed: the reports count what was delivered in a period.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 01:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("joined_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("left_at", sa.DateTime(timezone=True), nullable=True))
    bind = op.get_bind()
    bind.execute(
        sa.text(
            "UPDATE member SET joined_at = COALESCE("
            " (SELECT MAX(join_request.decided_at) FROM join_request"
            "  WHERE join_request.member_id = member.id AND join_request.status = 'approved'),"
            " member.created_at)"
            " WHERE member.status IN ('active', 'inactive')"
        )
    )
    bind.execute(
        sa.text("UPDATE member SET left_at = member.updated_at WHERE member.status = 'inactive'")
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_message_sent_at"), ["sent_at"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_message_sent_at"))
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("left_at")
        batch_op.drop_column("joined_at")
