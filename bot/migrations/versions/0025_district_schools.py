"""district_schools: a district union (区教育工会) and its schools in one deployment

`organization.kind` says what an organization is: a school union (基层工会, every existing
row) or a district union; `parent_id` ties a school to its district. A deployment without a
district row stays a single school, exactly as before.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    # Plain ADD COLUMN on both databases: a batch rebuild of `organization` on SQLite would
    # drop the table every other table refers to.
    op.add_column(
        "organization",
        sa.Column("kind", sa.String(length=16), nullable=False, server_default="school"),
    )
    if op.get_bind().dialect.name == "sqlite":
        # Alembic will not add a constraint on SQLite; SQLite itself takes REFERENCES here.
        op.execute(
            "ALTER TABLE organization ADD COLUMN parent_id INTEGER REFERENCES organization (id)"
        )
    else:
        op.add_column(
            "organization",
            sa.Column(
                "parent_id",
                sa.Integer(),
                sa.ForeignKey("organization.id", name="fk_organization_parent_id_organization"),
                nullable=True,
            ),
        )
    op.create_index("ix_organization_parent_id", "organization", ["parent_id"])
    # In a district each private update finds the person's schools by their Telegram id.
    op.create_index("ix_member_telegram_user_id", "member", ["telegram_user_id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_member_telegram_user_id", table_name="member")
    op.drop_index("ix_organization_parent_id", table_name="organization")
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.drop_column("parent_id")
        batch_op.drop_column("kind")
