"""aid ledger refuses delete; aid cases keep the day of their decision

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:00:00.000000

- `aid_ledger` refuses DELETE as it already refused UPDATE (0006): a BEFORE DELETE trigger on
  SQLite and PostgreSQL. (PostgreSQL's TRUNCATE fires no row trigger: the bot's database role
  should hold no TRUNCATE or DELETE on the table, see README.)
- `aid_case.approved_on`: caps and the budget count by the year of the decision, not of the
  event. Cases decided before this revision take the day of their "approved" ledger row (in
  UTC), else the day of the event.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DECIDED = "('approved', 'paid')"


def upgrade() -> None:
    """Apply this revision."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("aid_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approved_on", sa.Date(), nullable=True))
    day_of = (
        "date(MIN(l.created_at))"
        if sqlite
        else "CAST(MIN(l.created_at) AT TIME ZONE 'UTC' AS DATE)"
    )
    op.execute(
        f"UPDATE aid_case SET approved_on = (SELECT {day_of} FROM aid_ledger l "
        "WHERE l.case_id = aid_case.id AND l.kind = 'approved') "
        f"WHERE status IN {_DECIDED}"
    )
    op.execute(
        "UPDATE aid_case SET approved_on = happened_on "
        f"WHERE approved_on IS NULL AND status IN {_DECIDED}"
    )
    # The aid ledger is append-only: the database itself refuses to delete a row too.
    if sqlite:
        op.execute(
            "CREATE TRIGGER aid_ledger_refuses_delete BEFORE DELETE ON aid_ledger "
            "BEGIN SELECT RAISE(ABORT, 'aid_ledger is append-only'); END"
        )
    else:
        # aid_ledger_append_only() (0006) raises whatever the operation.
        op.execute(
            "CREATE TRIGGER aid_ledger_refuses_delete BEFORE DELETE ON aid_ledger "
            "FOR EACH ROW EXECUTE FUNCTION aid_ledger_append_only()"
        )


def downgrade() -> None:
    """Revert this revision."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.execute(
        "DROP TRIGGER IF EXISTS aid_ledger_refuses_delete" + ("" if sqlite else " ON aid_ledger")
    )
    with op.batch_alter_table("aid_case", schema=None) as batch_op:
        batch_op.drop_column("approved_on")
