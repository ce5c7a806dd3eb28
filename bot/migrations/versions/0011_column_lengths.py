"""column lengths: every text a member may type fits every column it reaches

A team's department is copied from its contact's member record, where a department may have
60 characters; the team table allowed 40, so on PostgreSQL a department of 41-60 characters
could not enter a team.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-14 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.alter_column(
            "department",
            existing_type=sa.String(length=40),
            type_=sa.String(length=60),
            existing_nullable=False,
        )


def downgrade() -> None:
    """Revert this revision (a longer department is cut to 40 characters)."""
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.alter_column(
            "department",
            existing_type=sa.String(length=60),
            type_=sa.String(length=40),
            existing_nullable=False,
            postgresql_using="left(department, 40)",
        )
