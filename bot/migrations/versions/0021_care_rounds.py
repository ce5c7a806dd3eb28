"""care rounds: visits the committee starts itself (送温暖, 重阳); committee-started aid cases

care_round holds one list of visits; care_visit one person on it (from the hardship files, the
retirees, or added by name; on Telegram or not), assigned, ticked off as visited, and linked to
the aid case its money became. aid_case.started_by_committee marks those cases.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 01:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "care_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("with_money", sa.Boolean(), nullable=False),
        sa.Column("created_by_member_id", sa.Integer(), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by_member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("care_round", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_care_round_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_care_round_status"), ["status"], unique=False)

    op.create_table(
        "care_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("aid_type", sa.String(length=16), nullable=False),
        sa.Column("assignee_member_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=True),
        sa.Column("visited_by_member_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("amount", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["assignee_member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["aid_case.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["round_id"], ["care_round.id"]),
        sa.ForeignKeyConstraint(["visited_by_member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "member_id", name="uq_care_visit_member"),
    )
    with op.batch_alter_table("care_visit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_care_visit_member_id"), ["member_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_care_visit_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_care_visit_round_id"), ["round_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_care_visit_status"), ["status"], unique=False)

    with op.batch_alter_table("aid_case", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "started_by_committee", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("aid_case", schema=None) as batch_op:
        batch_op.drop_column("started_by_committee")
    with op.batch_alter_table("care_visit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_care_visit_status"))
        batch_op.drop_index(batch_op.f("ix_care_visit_round_id"))
        batch_op.drop_index(batch_op.f("ix_care_visit_organization_id"))
        batch_op.drop_index(batch_op.f("ix_care_visit_member_id"))
    op.drop_table("care_visit")
    with op.batch_alter_table("care_round", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_care_round_status"))
        batch_op.drop_index(batch_op.f("ix_care_round_organization_id"))
    op.drop_table("care_round")
