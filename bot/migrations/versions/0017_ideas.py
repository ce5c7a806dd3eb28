"""rationalization proposals (合理化建议): ideas, the yearly review panel, scores and prizes

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 22:25:45.342225
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel types)
from alembic import op

import models.base

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "idea",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("author_member_id", sa.Integer(), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("proposal", sa.Text(), nullable=False),
        sa.Column("benefit", sa.Text(), nullable=False),
        sa.Column("client_token", sa.String(length=32), nullable=False),
        sa.Column("adopted", sa.Boolean(), nullable=False),
        sa.Column("adopted_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("prize_level", sa.Integer(), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_member_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("client_token", name="uq_idea_client_token"),
        sa.UniqueConstraint("organization_id", "year", "seq", name="uq_idea_number"),
    )
    with op.batch_alter_table("idea", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idea_author_member_id"), ["author_member_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_idea_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_idea_year"), ["year"], unique=False)

    op.create_table(
        "idea_panelist",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organization_id", "year", "member_id", name="uq_idea_panelist"),
    )
    with op.batch_alter_table("idea_panelist", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idea_panelist_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "idea_year",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("prizes", sa.String(length=64), nullable=False),
        sa.Column("awarded_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("awarded_by_member_id", sa.Integer(), nullable=True),
        sa.Column("published_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["awarded_by_member_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organization_id", "year", name="uq_idea_year"),
    )
    with op.batch_alter_table("idea_year", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idea_year_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "idea_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("scored_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["idea_id"],
            ["idea.id"],
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idea_id", "member_id", name="uq_idea_score"),
    )
    with op.batch_alter_table("idea_score", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idea_score_idea_id"), ["idea_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("idea_score", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idea_score_idea_id"))

    op.drop_table("idea_score")
    with op.batch_alter_table("idea_year", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idea_year_organization_id"))

    op.drop_table("idea_year")
    with op.batch_alter_table("idea_panelist", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idea_panelist_organization_id"))

    op.drop_table("idea_panelist")
    with op.batch_alter_table("idea", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idea_year"))
        batch_op.drop_index(batch_op.f("ix_idea_organization_id"))
        batch_op.drop_index(batch_op.f("ix_idea_author_member_id"))

    op.drop_table("idea")
