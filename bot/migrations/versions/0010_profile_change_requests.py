"""profile change requests: a new name or department waits for the committee

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-14 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel types)
from alembic import op

import models.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "profile_change_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("old_name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("old_department", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("new_name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("new_department", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by_member_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["decided_by_member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("profile_change_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_profile_change_request_organization_id"),
            ["organization_id"],
            unique=False,
        )
        batch_op.create_index(
            "uq_profile_change_pending_member",
            ["member_id"],
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("profile_change_request", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_profile_change_pending_member",
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )
        batch_op.drop_index(batch_op.f("ix_profile_change_request_organization_id"))
    op.drop_table("profile_change_request")
