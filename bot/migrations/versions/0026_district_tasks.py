"""district_tasks: tasks the district union sends down to its schools

`district_task` is the task (title, text, deadline, an optional attached file as Telegram's
file id, how a school answers); `district_task_school` is one school's copy of it: pending or
done, who answered and when, the file sent back, and the day it was last reminded (one
reminder per school per day). `district_task_rule` sends a task again every month (the 月报):
its day of the month, how many days later it is due, and the last month it was sent.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel types)
from alembic import op

import models.base

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "district_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("file_id", sa.String(length=255), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("answer_kind", sa.String(length=8), nullable=False),
        sa.Column("created_by_member_id", sa.Integer(), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by_member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["district_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("district_task", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_district_task_district_id"), ["district_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_district_task_deadline"), ["deadline"], unique=False)

    op.create_table(
        "district_task_school",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("done_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by_member_id", sa.Integer(), nullable=True),
        sa.Column("reply_file_id", sa.String(length=255), nullable=True),
        sa.Column("reply_file_name", sa.String(length=255), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("reminded_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["done_by_member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["school_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["task_id"], ["district_task.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_id", "school_id", name="uq_district_task_school"),
    )
    with op.batch_alter_table("district_task_school", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_district_task_school_task_id"), ["task_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_district_task_school_school_id"), ["school_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_district_task_school_status"), ["status"], unique=False
        )

    op.create_table(
        "district_task_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("source_task_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("due_days", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_month", sa.String(length=7), nullable=True),
        sa.Column("created_by_member_id", sa.Integer(), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by_member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["district_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["source_task_id"], ["district_task.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_task_id"),
    )
    with op.batch_alter_table("district_task_rule", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_district_task_rule_district_id"), ["district_id"], unique=False
        )


def downgrade() -> None:
    """Revert this revision (district tasks, their answers and monthly rules are dropped)."""
    with op.batch_alter_table("district_task_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_district_task_rule_district_id"))
    op.drop_table("district_task_rule")
    with op.batch_alter_table("district_task_school", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_district_task_school_status"))
        batch_op.drop_index(batch_op.f("ix_district_task_school_school_id"))
        batch_op.drop_index(batch_op.f("ix_district_task_school_task_id"))
    op.drop_table("district_task_school")
    with op.batch_alter_table("district_task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_district_task_deadline"))
        batch_op.drop_index(batch_op.f("ix_district_task_district_id"))
    op.drop_table("district_task")
