"""member_change_signal: writes to members and roles tell the bots' member caches

The bot keeps members and their roles between updates (bot/actor_cache.py). Any writer, the
bot itself, a CLI command or an operator's psql / sqlite3 session, must make it load them
again, so the database signals every write itself:

- PostgreSQL: a statement trigger on `member` and `member_role` calls
  `pg_notify('member_changed', '')`; the notification is delivered to every listening copy
  of the bot when the writer's transaction commits (never for a rollback).
- SQLite: row triggers raise `member_version.version`, which the cache reads before it serves
  (one bot runs per SQLite file, but the operator's commands write beside it). The table
  exists on PostgreSQL too and stays empty.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-21 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("member", "member_role")
_EVENTS = ("INSERT", "UPDATE", "DELETE")
_BUMP = (
    "INSERT INTO member_version (id, version) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET version = member_version.version + 1"
)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "member_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    if op.get_bind().dialect.name == "sqlite":
        for table in _TABLES:
            for event in _EVENTS:
                op.execute(
                    f"CREATE TRIGGER {table}_{event.lower()}_version AFTER {event} ON {table} "
                    f"BEGIN {_BUMP}; END"
                )
        return
    op.execute(
        "CREATE FUNCTION member_changed_notify() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN PERFORM pg_notify('member_changed', ''); RETURN NULL; END $$"
    )
    for table in _TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_changed_notify "
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION member_changed_notify()"
        )


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == "sqlite":
        for table in _TABLES:
            for event in _EVENTS:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{event.lower()}_version")
    else:
        for table in _TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_changed_notify ON {table}")
        op.execute("DROP FUNCTION IF EXISTS member_changed_notify()")
    op.drop_table("member_version")
