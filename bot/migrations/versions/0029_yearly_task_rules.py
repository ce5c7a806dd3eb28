"""yearly_task_rules: a district task rule repeats every month or every year

`every` ("month" for the rules made so far, "year" for a dated point such as 四月底前报送校务
公开评估) and a yearly rule's `month`; `last_month` keeps the month of the last task made for
both (a yearly rule compares its year).

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 09:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("district_task_rule") as batch:
        batch.add_column(
            sa.Column("every", sa.String(length=5), nullable=False, server_default="month")
        )
        batch.add_column(sa.Column("month", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("district_task_rule") as batch:
        batch.drop_column("month")
        batch.drop_column("every")
