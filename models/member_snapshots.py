"""Members and their roles as plain values, loaded many at once, and the signal that they changed.

The bot keeps these snapshots between updates (bot/actor_cache.py) and hands every update its
own `Member` built from one: a detached copy, as if just loaded, so a handler that changes it
and adds it to a session writes an UPDATE of that row, and no other update sees the change.

Whoever writes `member` or `member_role` (the bot, a CLI command, an operator in psql or the
sqlite3 shell) tells the caches by the database's own triggers (migration 0024): on PostgreSQL
they `pg_notify('member_changed')` in the writer's transaction, delivered when it commits; on
SQLite, where one bot runs beside the operator's commands, they raise the counter in
`member_version`, which the cache reads before it trusts what it holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, inspect
from sqlalchemy import select as wide_select
from sqlalchemy.orm import configure_mappers, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state
from sqlmodel import Field, SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from models.members import Actor, Member, MemberRole, Role

CHANGE_CHANNEL = "member_changed"  # the PostgreSQL NOTIFY channel of the triggers
# SQLite: the count of writes to members and roles, read by the cache on a connection of its own.
VERSION_QUERY = "SELECT version FROM member_version WHERE id = 1"
IN_LIST_SLICE = 500  # telegram ids per query: far below SQLite's and asyncpg's parameter limits


class MemberVersion(SQLModel, table=True):
    """SQLite: one row counting writes to `member` and `member_role` (raised by triggers).
    Stays empty on PostgreSQL, where the triggers notify instead."""

    __tablename__ = "member_version"

    id: int = Field(default=1, primary_key=True)
    version: int = 0


@dataclass(frozen=True)
class MemberSnapshot:
    """A member's column values and roles as loaded; never handed out itself."""

    values: Mapping[str, Any]
    roles: frozenset[Role]

    def actor(self) -> Actor:
        """A fresh Actor whose Member is this update's own detached copy."""
        member = _manager().new_instance()
        instance_state(member).dict.update(self.values)
        # As if loaded by a session that has closed: adding it to another one UPDATEs the row.
        make_transient_to_detached(member)
        return Actor(member=member, roles=self.roles)


def _manager() -> Any:
    configure_mappers()  # a no-op once the mappers are configured (the first query does it)
    return inspect(Member).class_manager


async def load_snapshots(
    session: AsyncSession,
    *,
    org_id: int,
    telegram_user_ids: Iterable[int],
    with_version: bool = False,
) -> tuple[dict[int, MemberSnapshot], int | None]:
    """The members bound to these Telegram accounts, by account (strangers are absent), and
    with `with_version` (SQLite) the `member_version` their first query read them under.

    One query per IN_LIST_SLICE accounts, columns only (no ORM objects are built here). The
    version comes in the same statement as the members, so from the same snapshot: it never
    claims members older than they are.
    """
    wanted = sorted(set(telegram_user_ids))
    columns = list(Member.__table__.columns)  # type: ignore[attr-defined]
    found: dict[int, tuple[dict[str, Any], set[Role]]] = {}
    version: int | None = None
    for start in range(0, len(wanted), IN_LIST_SLICE):
        bound = and_(
            col(Member.organization_id) == org_id,
            col(Member.telegram_user_id).in_(wanted[start : start + IN_LIST_SLICE]),
        )
        if with_version and start == 0:
            # One row however many members match (none: strangers): the version's.
            counter = wide_select(func.max(MemberVersion.version).label("version")).subquery()
            statement = (
                wide_select(counter.c.version, *columns, col(MemberRole.role))
                .select_from(counter)
                .outerjoin(Member, bound)
                .outerjoin(MemberRole, col(MemberRole.member_id) == col(Member.id))
            )
        else:
            statement = (
                wide_select(*columns, col(MemberRole.role))
                .outerjoin(MemberRole, col(MemberRole.member_id) == col(Member.id))
                .where(bound)
            )
        for row in (await session.exec(statement)).all():  # type: ignore[call-overload]
            mapping = row._mapping
            if with_version and start == 0:
                version = mapping["version"]
            if mapping["telegram_user_id"] is None:
                continue  # the version's row when no member matched
            _, roles = found.setdefault(
                mapping["telegram_user_id"],
                ({column.key: mapping[column] for column in columns}, set()),
            )
            if mapping["role"] is not None:
                roles.add(Role(mapping["role"]))
    snapshots = {
        telegram_id: MemberSnapshot(values=values, roles=frozenset(roles))
        for telegram_id, (values, roles) in found.items()
    }
    return snapshots, version
