"""school_assessment: the district's annual assessment of its schools (目标管理考核)

An assessment per district and year, its checklist items with points, each school's evidence
per item and the district's score per school and item. A score carries its item's max points
under a composite foreign key to (item id, max points), so a CHECK refuses points outside
0..max in the database itself.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 05:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel types)
from alembic import op

import models.base

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by_member_id", sa.Integer(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("opened_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('draft', 'open', 'closed')", name="ck_assessment_status"),
        sa.ForeignKeyConstraint(["created_by_member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["district_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("district_id", "year", name="uq_assessment_year"),
    )
    op.create_index("ix_assessment_district_id", "assessment", ["district_id"])

    op.create_table(
        "assessment_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("max_points", sa.Integer(), nullable=False),
        sa.Column("evidence_required", sa.Boolean(), nullable=False),
        sa.CheckConstraint("max_points > 0", name="ck_assessment_item_points"),
        sa.ForeignKeyConstraint(["assessment_id"], ["assessment.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("assessment_id", "position", name="uq_assessment_item_position"),
        sa.UniqueConstraint("id", "max_points", name="uq_assessment_item_points"),
    )
    op.create_index("ix_assessment_item_assessment_id", "assessment_item", ["assessment_id"])

    op.create_table(
        "assessment_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("file_id", sa.String(length=200), nullable=True),
        sa.Column("file_name", sa.String(length=120), nullable=True),
        sa.Column("submitted_by_member_id", sa.Integer(), nullable=False),
        sa.Column("submitted_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "evidence IS NOT NULL OR file_id IS NOT NULL", name="ck_assessment_submission_some"
        ),
        sa.ForeignKeyConstraint(["item_id"], ["assessment_item.id"]),
        sa.ForeignKeyConstraint(["school_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["submitted_by_member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id", "school_id", name="uq_assessment_submission"),
    )
    op.create_index("ix_assessment_submission_item_id", "assessment_submission", ["item_id"])
    op.create_index("ix_assessment_submission_school_id", "assessment_submission", ["school_id"])

    op.create_table(
        "assessment_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("max_points", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("scored_by_member_id", sa.Integer(), nullable=False),
        sa.Column("scored_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "points >= 0 AND points <= max_points", name="ck_assessment_score_range"
        ),
        sa.ForeignKeyConstraint(
            ["item_id", "max_points"],
            ["assessment_item.id", "assessment_item.max_points"],
            name="fk_assessment_score_item_points",
        ),
        sa.ForeignKeyConstraint(["school_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["scored_by_member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id", "school_id", name="uq_assessment_score"),
    )
    op.create_index("ix_assessment_score_item_id", "assessment_score", ["item_id"])
    op.create_index("ix_assessment_score_school_id", "assessment_score", ["school_id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_assessment_score_school_id", table_name="assessment_score")
    op.drop_index("ix_assessment_score_item_id", table_name="assessment_score")
    op.drop_table("assessment_score")
    op.drop_index("ix_assessment_submission_school_id", table_name="assessment_submission")
    op.drop_index("ix_assessment_submission_item_id", table_name="assessment_submission")
    op.drop_table("assessment_submission")
    op.drop_index("ix_assessment_item_assessment_id", table_name="assessment_item")
    op.drop_table("assessment_item")
    op.drop_index("ix_assessment_district_id", table_name="assessment")
    op.drop_table("assessment")
