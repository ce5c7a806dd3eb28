"""proposal implementation: each answer's 落实情况, and its later changes with who and when

An answer now says what became of the proposal's measures: 已落实, 正在落实, 列入计划, or
因条件限制暂不能落实 with a reason. The proposal keeps the current status (for the figures, the
card and the export); proposal_implementation keeps every setting with who and when. Proposals
answered before this revision have no status (shown as 未填写落实情况).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 22:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("implementation", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("implementation_reason", sa.Text(), nullable=True))
    op.create_table(
        "proposal_implementation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("with_answer", sa.Boolean(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposal.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("proposal_implementation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_proposal_implementation_proposal_id"), ["proposal_id"], unique=False
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("proposal_implementation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_implementation_proposal_id"))
    op.drop_table("proposal_implementation")
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.drop_column("implementation_reason")
        batch_op.drop_column("implementation")
