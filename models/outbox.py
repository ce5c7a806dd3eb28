"""The broadcast outbox: one row per recipient per occurrence, so nothing is sent twice.

A broadcast has a unique key (e.g. `cal:12:2027-03-08`): a second scheduler run, or a restart,
enqueuing the same occurrence finds the key taken and adds nothing. Each row moves
pending -> sending -> sent (or unreachable / failed). A row found in `sending` after a crash may
or may not have reached Telegram; it becomes `uncertain` and is never sent again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    String,
    Text,
    UniqueConstraint,
    and_,
    exists,
    func,
    insert,
    not_,
    or_,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import UTCDateTime, utcnow
from models.lease import LeaseFence, held_by
from models.members import COMMITTEE_OFFICES, Member, MemberRole, MemberStatus, Role
from models.organizations import Organization

MAX_ATTEMPTS = 5
ENQUEUE_CHUNK = 1_000  # rows per INSERT when a broadcast is enqueued


class BroadcastKind(StrEnum):
    """What a broadcast is, which decides quiet hours and misfire grace."""

    GREETING = "greeting"  # to members: waits out quiet hours
    TASK = "task"  # to the committee
    ANNOUNCEMENT = "announcement"  # to members: waits out quiet hours
    REPORT = "report"  # the bot's own report to the committee


class OutboxStatus(StrEnum):
    """Where one message stands."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    UNREACHABLE = "unreachable"  # blocked the bot, or the chat is gone
    FAILED = "failed"  # gave up after MAX_ATTEMPTS
    UNCERTAIN = "uncertain"  # was being sent when the bot stopped; never sent again
    # Its member left the union (or was never let in), or no longer holds the office it was
    # for, or its group is no longer the committee's, before it went out.
    WITHHELD = "withheld"


class OutboxNeed(StrEnum):
    """What must still hold when a message goes out, checked in the claim itself: a committee
    task queued for a member or a group must not reach them once they are no longer it."""

    COMMITTEE = "committee"  # the member still holds a committee office
    CHAIR = "chair"  # the member is still their school's chair (工会主席)
    REPRESENTATIVE = "representative"  # the member is still a congress representative
    COMMITTEE_CHAT = "committee_chat"  # the chat is still the organization's committee group


class Broadcast(SQLModel, table=True):
    """One occurrence of a message to many recipients."""

    __table_args__ = (UniqueConstraint("key", name="uq_broadcast_key"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    key: str = Field(sa_type=String(120))
    kind: str = Field(sa_type=String(16))
    total: int = 0
    # Where to report delivery figures when done (the committee group); None: no report.
    report_chat_id: int | None = Field(default=None, sa_type=BigInteger, nullable=True)
    reported_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OutboxMessage(SQLModel, table=True):
    """One message to one chat."""

    __tablename__ = "outbox_message"
    __table_args__ = (UniqueConstraint("broadcast_id", "chat_id", name="uq_outbox_recipient"),)

    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(foreign_key="broadcast.id", index=True)
    chat_id: int = Field(sa_type=BigInteger)
    member_id: int | None = Field(default=None, foreign_key="member.id")
    text: str = Field(sa_type=Text)
    # Inline buttons as JSON rows of [label, callback data] (e.g. Sign up), or none.
    buttons: str | None = Field(default=None, sa_type=Text, nullable=True)
    # Member messages respect quiet hours; committee tasks and reports do not.
    quiet: bool = True
    status: str = Field(default=OutboxStatus.PENDING, sa_type=String(16), index=True)
    attempts: int = 0
    not_before: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    # Indexed: the reports count what was delivered in a period.
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    error: str | None = Field(default=None, sa_type=String(60), nullable=True)
    # Telegram's id of the message once sent: an announcement can then be edited in place.
    telegram_message_id: int | None = Field(default=None, sa_type=BigInteger, nullable=True)
    # An OutboxNeed checked at delivery, or none.
    needs: str | None = Field(default=None, sa_type=String(16), nullable=True)


# Inline buttons of a message: rows of (label, callback data).
Buttons = tuple[tuple[tuple[str, str], ...], ...]


@dataclass(frozen=True)
class Recipient:
    """A chat to write to, and the text for it."""

    chat_id: int
    text: str
    member_id: int | None = None
    buttons: Buttons = ()
    needs: OutboxNeed | None = None


def to_chair(chair: Member, text: str, buttons: Buttons = ()) -> Recipient:
    """A message from the district to a school's chair, sent only while they are still the
    chair (one who hands over before it goes out does not get it)."""
    return Recipient(
        chat_id=chair.telegram_user_id or 0,
        text=text,
        member_id=chair.id,
        buttons=buttons,
        needs=OutboxNeed.CHAIR,
    )


@dataclass(frozen=True)
class DeliveryCounts:
    """How a broadcast went."""

    total: int
    sent: int
    unreachable: int
    failed: int
    uncertain: int
    waiting: int


async def enqueue(
    session: AsyncSession,
    *,
    org_id: int,
    key: str,
    kind: BroadcastKind,
    recipients: Sequence[Recipient],
    not_before: datetime,
    quiet: bool,
    report_chat_id: int | None = None,
) -> Broadcast | None:
    """Add a broadcast and its rows in one transaction; None if this key was enqueued before."""
    unique = {recipient.chat_id: recipient for recipient in recipients}
    broadcast = Broadcast(
        organization_id=org_id,
        key=key,
        kind=kind,
        total=len(unique),
        report_chat_id=report_chat_id,
    )
    session.add(broadcast)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        return None
    assert broadcast.id is not None
    # Plain multi-row INSERTs in chunks, not ORM objects: a district's 50,000 rows as ORM
    # objects held the event loop for seconds (bench/district.py); between chunks the
    # driver's await lets updates run. One transaction still: all rows or none.
    encoded: dict[Buttons, str] = {}
    everyone = list(unique.values())
    for start in range(0, len(everyone), ENQUEUE_CHUNK):
        rows = [
            {
                "broadcast_id": broadcast.id,
                "chat_id": recipient.chat_id,
                "member_id": recipient.member_id,
                "text": recipient.text,
                "buttons": _encoded_buttons(recipient.buttons, encoded),
                "quiet": quiet,
                "status": OutboxStatus.PENDING.value,
                "attempts": 0,
                "not_before": not_before,
                "needs": recipient.needs.value if recipient.needs else None,
            }
            for recipient in everyone[start : start + ENQUEUE_CHUNK]
        ]
        await session.exec(insert(OutboxMessage), params=rows)
    await session.commit()
    return broadcast


def _encoded_buttons(
    buttons: Buttons,
    encoded: dict[Buttons, str],
) -> str | None:
    """The buttons as stored (JSON rows), encoded once per distinct set."""
    if not buttons:
        return None
    if buttons not in encoded:
        encoded[buttons] = json.dumps(buttons, ensure_ascii=False)
    return encoded[buttons]


async def broadcast_exists(session: AsyncSession, *, key: str) -> bool:
    """True when an occurrence with this key was enqueued already."""
    return (
        await session.exec(select(Broadcast.id).where(Broadcast.key == key))
    ).first() is not None


async def due_messages(
    session: AsyncSession, *, now: datetime, include_quiet: bool, limit: int
) -> Sequence[OutboxMessage]:
    """Pending messages whose time has come, oldest first."""
    statement = select(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.PENDING, col(OutboxMessage.not_before) <= now
    )
    if not include_quiet:
        statement = statement.where(col(OutboxMessage.quiet).is_(False))
    return (await session.exec(statement.order_by(col(OutboxMessage.id)).limit(limit))).all()


async def follow_chat_migration(session: AsyncSession, *, old: int, new: int) -> int:
    """A group became a supergroup, and Telegram gave it a new id: the organization whose
    committee group or disclosure chat it was keeps it under the new id, and what waits in the
    outbox for it goes there; returns how many organizations' chats changed. A new id that
    is some organization's chat already is no upgrade Telegram would send: nothing moves."""
    taken = await session.exec(
        select(Organization.id).where(
            or_(
                col(Organization.committee_chat_id) == new,
                col(Organization.disclosure_chat_id) == new,
            )
        )
    )
    if old == new or taken.first() is not None:
        return 0
    changed = 0
    for column in ("committee_chat_id", "disclosure_chat_id"):
        result = await session.exec(
            update(Organization).where(getattr(Organization, column) == old).values({column: new})
        )
        changed += int(result.rowcount or 0)
    await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.chat_id) == old,
            col(OutboxMessage.status).in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
        )
        .values(chat_id=new)
    )
    await session.commit()
    return changed


def _holds(roles: Sequence[Role]) -> ColumnElement[bool]:
    """The message's member holds one of `roles` now (never NULL: a row without a member
    does not hold it)."""
    return exists().where(
        col(MemberRole.member_id) == col(OutboxMessage.member_id),
        col(MemberRole.role).in_(list(roles)),
    )


def _needs_met() -> ColumnElement[bool]:
    """The row's OutboxNeed still holds (or it has none)."""
    committee_chat = exists().where(
        col(Broadcast.id) == col(OutboxMessage.broadcast_id),
        col(Organization.id) == col(Broadcast.organization_id),
        col(Organization.committee_chat_id) == col(OutboxMessage.chat_id),
    )
    return or_(
        col(OutboxMessage.needs).is_(None),
        and_(col(OutboxMessage.needs) == OutboxNeed.COMMITTEE, _holds(list(COMMITTEE_OFFICES))),
        and_(col(OutboxMessage.needs) == OutboxNeed.CHAIR, _holds([Role.CHAIR])),
        and_(col(OutboxMessage.needs) == OutboxNeed.REPRESENTATIVE, _holds([Role.REPRESENTATIVE])),
        and_(col(OutboxMessage.needs) == OutboxNeed.COMMITTEE_CHAT, committee_chat),
    )


async def claim(
    session: AsyncSession,
    *,
    message_id: int,
    fence: LeaseFence | None = None,
    chat_id: int | None = None,
) -> bool:
    """Take one message for sending; False if someone else took it, or if it is for a member
    who is no longer active, or its OutboxNeed no longer holds (then it is withheld: the role is
    checked at delivery, not only when the message was queued).

    With a `fence` (several copies on PostgreSQL) the claim takes effect only while that copy
    still holds the lease, checked in the same UPDATE: a copy that lost it without knowing yet
    (cut off, paused) cannot take a message the new active copy may send.
    """
    pending: tuple[ColumnElement[bool], ...] = (
        col(OutboxMessage.id) == message_id,
        col(OutboxMessage.status) == OutboxStatus.PENDING,
    )
    if chat_id is not None:
        # Still addressed where the sender read it: a row moved since (a group upgraded to a
        # supergroup) stays pending, for the next pass to send to its new address.
        pending = (*pending, col(OutboxMessage.chat_id) == chat_id)
    if fence is not None:
        pending = (*pending, held_by(fence))
    inactive = select(Member.id).where(Member.status != MemberStatus.ACTIVE)
    result = await session.exec(
        update(OutboxMessage)
        .where(
            *pending,
            or_(
                col(OutboxMessage.member_id).is_(None),
                col(OutboxMessage.member_id).not_in(inactive),
            ),
            _needs_met(),
        )
        .values(status=OutboxStatus.SENDING, attempts=OutboxMessage.attempts + 1)
    )
    if result.rowcount != 1:  # rare: taken by someone else, its member left or stepped down
        if await _readdress(session, pending):
            await session.commit()
            return False  # pending at its new address, for the next pass
        await session.exec(
            update(OutboxMessage)
            .where(*pending, or_(col(OutboxMessage.member_id).in_(inactive), not_(_needs_met())))
            .values(status=OutboxStatus.WITHHELD)
        )
    await session.commit()
    return bool(result.rowcount == 1)


async def _readdress(session: AsyncSession, pending: tuple[ColumnElement[bool], ...]) -> bool:
    """A message for what someone is goes to whoever is it now: a committee-group message to
    the group bound now (rebound by any path, a restart's setting included), a chair's message
    to the school's chair now (one who handed over never gets it). True when it moved; False
    when there is nobody to move it to (no group bound, no chair), and it is withheld."""
    row = (
        await session.exec(
            select(OutboxMessage.broadcast_id, OutboxMessage.needs, OutboxMessage.member_id)
            .where(*pending)
            .with_for_update()
        )
    ).first()
    if row is None:
        return False
    broadcast_id, needs, member_id = row
    target: tuple[int, int | None] | None = None
    if needs == OutboxNeed.COMMITTEE_CHAT:
        group = await session.exec(
            select(Organization.committee_chat_id)
            .join(Broadcast, col(Broadcast.organization_id) == col(Organization.id))
            .where(col(Broadcast.id) == broadcast_id)
        )
        chat = group.first()
        target = (chat, None) if chat is not None else None
    elif needs == OutboxNeed.CHAIR and member_id is not None:
        target = await _chair_now(session, member_id=member_id)
    if target is None:
        return False
    taken = await session.exec(
        select(OutboxMessage.id).where(
            OutboxMessage.broadcast_id == broadcast_id, OutboxMessage.chat_id == target[0]
        )
    )
    if taken.first() is not None:  # they have this one already
        return False
    moved = await session.exec(
        update(OutboxMessage).where(*pending).values(chat_id=target[0], member_id=target[1])
    )
    return bool(moved.rowcount == 1)


async def _chair_now(session: AsyncSession, *, member_id: int) -> tuple[int, int | None] | None:
    """(chat, member) of the active, reachable chair of the school `member_id` belongs to."""
    school = select(Member.organization_id).where(col(Member.id) == member_id).scalar_subquery()
    chair = await session.exec(
        select(Member.telegram_user_id, Member.id)
        .join(MemberRole, col(MemberRole.member_id) == col(Member.id))
        .where(
            col(Member.organization_id) == school,
            col(MemberRole.role) == Role.CHAIR,
            col(Member.status) == MemberStatus.ACTIVE,
            col(Member.telegram_user_id).is_not(None),
            col(Member.unreachable_since).is_(None),
        )
        .order_by(col(Member.id))
    )
    found = chair.first()
    return (found[0], found[1]) if found is not None and found[0] is not None else None


async def pending_count(session: AsyncSession) -> int:
    """Messages still to send (any time, quiet or not): the outbox backlog for /metrics."""
    value = (
        await session.exec(
            select(func.count()).where(col(OutboxMessage.status) == OutboxStatus.PENDING)
        )
    ).one()
    return int(value or 0)


async def finish(
    session: AsyncSession,
    *,
    message_id: int,
    status: OutboxStatus,
    error: str | None = None,
    retry_at: datetime | None = None,
    telegram_message_id: int | None = None,
) -> None:
    """Record what happened to a claimed message (back to pending with `retry_at`)."""
    values: dict[str, object] = {"status": status, "error": error}
    if status == OutboxStatus.SENT:
        values["sent_at"] = utcnow()
        values["telegram_message_id"] = telegram_message_id
    if retry_at is not None:
        values["not_before"] = retry_at
    await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == message_id, col(OutboxMessage.status) == OutboxStatus.SENDING
        )
        .values(**values)
    )
    await session.commit()


async def mark_member_unreachable(session: AsyncSession, *, member_id: int) -> None:
    """Stop writing to a member who blocked the bot (until they write to it again)."""
    await session.exec(
        update(Member).where(col(Member.id) == member_id).values(unreachable_since=utcnow())
    )
    await session.commit()


async def release_claims(session: AsyncSession, *, message_ids: Sequence[int]) -> int:
    """Put back to `pending` claimed messages that were never handed to Telegram.

    For claims whose COMMIT may have taken effect though the sender saw an error: only rows
    still in `sending` change (a claim that never took effect left the row `pending`), and the
    attempt the claim counted is taken back. Safe because one sender serves a database.
    """
    if not message_ids:
        return 0
    result = await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id).in_(message_ids),
            col(OutboxMessage.status) == OutboxStatus.SENDING,
        )
        .values(status=OutboxStatus.PENDING, attempts=OutboxMessage.attempts - 1)
    )
    await session.commit()
    return int(result.rowcount or 0)


async def recover_after_crash(session: AsyncSession) -> int:
    """Rows left in `sending` by a stopped bot become `uncertain`: never sent twice."""
    result = await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.status) == OutboxStatus.SENDING)
        .values(status=OutboxStatus.UNCERTAIN)
    )
    await session.commit()
    return int(result.rowcount or 0)


async def counts(session: AsyncSession, *, broadcast_id: int) -> DeliveryCounts:
    """Delivery figures of one broadcast."""
    rows = await session.exec(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.broadcast_id == broadcast_id)
        .group_by(col(OutboxMessage.status))
    )
    by_status = {status: int(number) for status, number in rows.all()}
    return DeliveryCounts(
        total=sum(by_status.values()),
        sent=by_status.get(OutboxStatus.SENT, 0),
        # A member who left before it went out is counted with those it could not reach.
        unreachable=by_status.get(OutboxStatus.UNREACHABLE, 0)
        + by_status.get(OutboxStatus.WITHHELD, 0),
        failed=by_status.get(OutboxStatus.FAILED, 0),
        uncertain=by_status.get(OutboxStatus.UNCERTAIN, 0),
        waiting=by_status.get(OutboxStatus.PENDING, 0) + by_status.get(OutboxStatus.SENDING, 0),
    )


async def finished_unreported(session: AsyncSession, *, minimum_total: int) -> Sequence[Broadcast]:
    """Broadcasts over `minimum_total` recipients with nothing left to send and no report yet."""
    busy = select(OutboxMessage.broadcast_id).where(
        col(OutboxMessage.status).in_([OutboxStatus.PENDING, OutboxStatus.SENDING])
    )
    return (
        await session.exec(
            select(Broadcast).where(
                col(Broadcast.reported_at).is_(None),
                col(Broadcast.report_chat_id).is_not(None),
                Broadcast.total > minimum_total,
                col(Broadcast.id).not_in(busy),
            )
        )
    ).all()


async def mark_reported(session: AsyncSession, *, broadcast_id: int) -> bool:
    """Claim the right to report a broadcast (once)."""
    result = await session.exec(
        update(Broadcast)
        .where(col(Broadcast.id) == broadcast_id, col(Broadcast.reported_at).is_(None))
        .values(reported_at=utcnow())
    )
    await session.commit()
    return bool(result.rowcount == 1)


def backoff(attempts: int, now: datetime) -> datetime:
    """When to try a transient failure again: 10 s, 20 s, 40 s, ..."""
    return now + timedelta(seconds=10 * 2 ** max(0, attempts - 1))


async def messages_of(session: AsyncSession, *, key: str) -> Sequence[OutboxMessage]:
    """Every message of the broadcast `key` (any status), in the order they were queued."""
    return (
        await session.exec(
            select(OutboxMessage)
            .join(Broadcast, col(Broadcast.id) == OutboxMessage.broadcast_id)
            .where(Broadcast.key == key)
            .order_by(col(OutboxMessage.id))
        )
    ).all()


async def rewrite_pending(session: AsyncSession, *, message_id: int, text: str) -> bool:
    """Give a message not sent yet a new text; False if the sender took it meanwhile."""
    result = await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == message_id, col(OutboxMessage.status) == OutboxStatus.PENDING
        )
        .values(text=text)
    )
    await session.commit()
    return bool(result.rowcount == 1)


async def _withhold(session: AsyncSession, which: ColumnElement[bool]) -> int:
    """Mark withheld what the broadcasts matching `which` have not sent yet (no commit)."""
    broadcasts = select(Broadcast.id).where(which)
    result = await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.broadcast_id).in_(broadcasts),
            col(OutboxMessage.status) == OutboxStatus.PENDING,
        )
        .values(status=OutboxStatus.WITHHELD)
    )
    return int(result.rowcount or 0)


async def withhold_pending_prefixed(session: AsyncSession, *, prefix: str) -> int:
    """Keep back what the broadcasts whose key starts with `prefix` (e.g. "dtask:12:") have
    not sent yet, in the caller's transaction (it commits); returns how many messages."""
    return await _withhold(session, col(Broadcast.key).startswith(prefix, autoescape=True))


async def withhold_pending(session: AsyncSession, *, keys: Sequence[str]) -> int:
    """Keep back what the broadcasts `keys` have not sent yet (e.g. the invitations to a ballot
    cancelled before the quiet hours ended); returns how many messages were held back."""
    held = await _withhold(session, col(Broadcast.key).in_(list(keys)))
    await session.commit()
    return held


async def reached_members(session: AsyncSession, *, key: str) -> list[int]:
    """Members the broadcast `key` was sent to (or was being sent to when the bot stopped)."""
    reached = (OutboxStatus.SENT, OutboxStatus.SENDING, OutboxStatus.UNCERTAIN)
    return [
        row.member_id
        for row in await messages_of(session, key=key)
        if row.status in reached and row.member_id is not None
    ]
