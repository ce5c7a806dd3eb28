"""proposal decisions: who assigned a proposal and when, and who closed it

The desk card shows who decided each step and when; 立案, 转为意见建议, 不立案 and 合并 were
recorded already (decided_by_member_id, decided_at), 交办 and 办结 were not.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-16 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assigned_by_member_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("assigned_at", models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("closed_by_member_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_proposal_assigned_by_member", "member", ["assigned_by_member_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_proposal_closed_by_member", "member", ["closed_by_member_id"], ["id"]
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.drop_constraint("fk_proposal_closed_by_member", type_="foreignkey")
        batch_op.drop_constraint("fk_proposal_assigned_by_member", type_="foreignkey")
        batch_op.drop_column("closed_by_member_id")
        batch_op.drop_column("assigned_at")
        batch_op.drop_column("assigned_by_member_id")
