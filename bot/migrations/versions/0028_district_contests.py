"""district_contests: district contests between schools' teams, and the district's 优秀提案

A contest per district (运动会 / 技能大赛 / other) with one team per school (unique), its award
or place; a selection round per district and year, and the schools' nominations of their
excellent proposals (one per proposal and round).

Revision ID: 0028
Revises: 0027 (the brief said 0025; 0027 is on main already, and two heads would fail
tests/test_migrations.py; the lead rewires this at merge)
Create Date: 2026-12-06 05:15:18.263734
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel types)
from alembic import op

import models.base

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "district_contest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("starts_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("place", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("deadline", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("team_size", sa.Integer(), nullable=False),
        sa.Column("about", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("client_token", sa.String(length=32), nullable=False),
        sa.Column("created_by_member_id", sa.Integer(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('sports', 'skills', 'other')", name="ck_district_contest_kind"
        ),
        sa.CheckConstraint("status IN ('open', 'published')", name="ck_district_contest_status"),
        sa.CheckConstraint("team_size >= 1 AND team_size <= 50", name="ck_district_contest_size"),
        sa.ForeignKeyConstraint(
            ["created_by_member_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["organization.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("client_token", name="uq_district_contest_token"),
    )
    with op.batch_alter_table("district_contest", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_district_contest_district_id"), ["district_id"], unique=False
        )

    op.create_table(
        "district_excellent_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("quota", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by_member_id", sa.Integer(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('open', 'published')", name="ck_district_excellent_status"),
        sa.CheckConstraint("quota >= 1 AND quota <= 20", name="ck_district_excellent_quota"),
        sa.ForeignKeyConstraint(
            ["created_by_member_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["organization.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("district_id", "year", name="uq_district_excellent_year"),
    )
    with op.batch_alter_table("district_excellent_round", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_district_excellent_round_district_id"), ["district_id"], unique=False
        )

    op.create_table(
        "district_contest_team",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("players", sa.Text(), nullable=False),
        sa.Column("entered_by_member_id", sa.Integer(), nullable=False),
        sa.Column("entered_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("award", sa.String(length=16), nullable=True),
        sa.Column("place", sa.Integer(), nullable=True),
        sa.Column("result_by_member_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "award IS NULL OR award IN ('first', 'second', 'third', 'merit')",
            name="ck_district_contest_team_award",
        ),
        sa.CheckConstraint(
            "(award IS NULL OR place IS NULL) AND (place IS NULL OR place >= 1)",
            name="ck_district_contest_team_result",
        ),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["district_contest.id"],
        ),
        sa.ForeignKeyConstraint(
            ["entered_by_member_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["result_by_member_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["organization.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contest_id", "school_id", name="uq_district_contest_team_school"),
    )
    with op.batch_alter_table("district_contest_team", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_district_contest_team_contest_id"), ["contest_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_district_contest_team_school_id"), ["school_id"], unique=False
        )

    op.create_table(
        "district_excellent_nomination",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("nominated_by_member_id", sa.Integer(), nullable=False),
        sa.Column("nominated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("selected", sa.Boolean(), nullable=False),
        sa.Column("selected_by_member_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["nominated_by_member_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposal.id"],
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["district_excellent_round.id"],
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["organization.id"],
        ),
        sa.ForeignKeyConstraint(
            ["selected_by_member_id"],
            ["member.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "proposal_id", name="uq_district_excellent_proposal"),
    )
    with op.batch_alter_table("district_excellent_nomination", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_district_excellent_nomination_round_id"), ["round_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_district_excellent_nomination_school_id"), ["school_id"], unique=False
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("district_excellent_nomination", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_district_excellent_nomination_school_id"))
        batch_op.drop_index(batch_op.f("ix_district_excellent_nomination_round_id"))

    op.drop_table("district_excellent_nomination")
    with op.batch_alter_table("district_contest_team", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_district_contest_team_school_id"))
        batch_op.drop_index(batch_op.f("ix_district_contest_team_contest_id"))

    op.drop_table("district_contest_team")
    with op.batch_alter_table("district_excellent_round", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_district_excellent_round_district_id"))

    op.drop_table("district_excellent_round")
    with op.batch_alter_table("district_contest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_district_contest_district_id"))

    op.drop_table("district_contest")
