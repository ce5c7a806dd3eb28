"""Public notices with an objection period (公示): the notice, its objections and their answers.

A notice's period runs from `starts_on` to `ends_on` (both included, in the union's time
zone; objections are taken from the moment it is posted). The caller works the period out
(`models.workdays` for a number of working days, a day the committee typed, or the aid
notice's own days). Members may object while it runs, named or anonymous: an anonymous
objection stores the sealed objector (`models.anonymity.AuthorSeal`) and no member id, as
anonymous suggestions do. After the end the notice is marked:

- 公示期满无异议 (`clear`): nobody objected;
- 有异议，已处理 (`handled`): every objection was answered by the end;
- 有异议，待处理 (`pending`): some objection was still unanswered at the end; when the last one
  is answered the notice becomes `handled`.

Who may object (and open the attached file): a notice posted to the disclosure channel is
public to the channel's readers, so any active member may; a notice that was only sent to an
audience (no channel post) concerns that audience only (`check_concerned`). An objection is
stored only while the notice is open and in its period, checked in the database in the same
transaction as the objection; ending a notice claims it first and counts its objections after,
so an objection is either refused or counted in the outcome.

Other features publish through `open_notice` (and the handler helpers
`handlers.notices.publishing.publish` and `publish_generated`): the aid notice, ballot results,
the prize winners of the rationalization proposals and a session's handling results.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, String, Text, UniqueConstraint, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.anonymity import AuthorSeal
from models.audiences import audience_members
from models.base import UTCDateTime, utcnow
from models.errors import N_, DomainError
from models.members import Actor
from models.validation import clean_text

TITLE_LIMIT = 100
BODY_LIMIT = 3500
# A notice written by another feature (ballot results, a session's handling results) may be
# longer than one message: it is posted in several, cut at line ends.
GENERATED_BODY_LIMIT = 30000
OBJECTION_LIMIT = 1000
ANSWER_LIMIT = 1500
NO_AUDIENCE = "none"  # posted to the disclosure channel only (e.g. an aid notice)


class NoticeStatus(StrEnum):
    """Where a notice is."""

    OPEN = "open"  # in its period: objections are taken
    CLEAR = "clear"  # 公示期满无异议
    HANDLED = "handled"  # 有异议，已处理
    PENDING = "pending"  # 有异议，待处理 (an objection was unanswered at the end)


class NoticeKind(StrEnum):
    """Who published a notice: the committee by /notice, or another feature."""

    MANUAL = "manual"
    AID = "aid"
    BALLOT = "ballot"  # a ballot's results
    IDEAS = "ideas"  # the prize winners of the year's rationalization proposals
    PROPOSALS = "proposals"  # a staff-congress session's handling results


class FileKind(StrEnum):
    """An attached file, kept as Telegram's file id."""

    DOCUMENT = "document"
    PHOTO = "photo"


class Notice(SQLModel, table=True):
    """A public notice (公示)."""

    __table_args__ = (UniqueConstraint("organization_id", "year", "seq", name="uq_notice_number"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    year: int
    seq: int
    kind: str = Field(default=NoticeKind.MANUAL, sa_type=String(16))
    title: str = Field(max_length=TITLE_LIMIT)
    body: str = Field(sa_type=Text)
    file_id: str | None = Field(default=None, sa_type=String(255), nullable=True)
    file_kind: str | None = Field(default=None, sa_type=String(16), nullable=True)
    audience: str = Field(default="everyone", sa_type=String(16))
    starts_on: date  # the first day of the period (a /notice: the working day after posting)
    ends_on: date  # the last day of the period, included
    status: str = Field(default=NoticeStatus.OPEN, sa_type=String(16), index=True)
    channel_chat_id: int | None = Field(default=None, sa_type=BigInteger, nullable=True)
    channel_message_id: int | None = Field(default=None, sa_type=BigInteger, nullable=True)
    created_by_member_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def number(self) -> str:
        """The number people quote, e.g. 公示-2026-003 (per organization and year)."""
        return f"公示-{self.year}-{self.seq:03d}"


class NoticeObjection(SQLModel, table=True):
    """An objection to a notice. An anonymous one names nobody: `member_id` is NULL and
    `reply_token` holds the sealed objector."""

    __tablename__ = "notice_objection"
    __table_args__ = (UniqueConstraint("notice_id", "seq", name="uq_notice_objection_number"),)

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id", index=True)
    seq: int
    body: str = Field(sa_type=Text)
    anonymous: bool = False
    member_id: int | None = Field(default=None, foreign_key="member.id", nullable=True)
    reply_token: str | None = Field(default=None, sa_type=Text, nullable=True)
    answer: str | None = Field(default=None, sa_type=Text, nullable=True)
    answered_by_member_id: int | None = Field(default=None, foreign_key="member.id")
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    def label(self, notice: Notice) -> str:
        """异议 公示-2026-003-1."""
        return f"{notice.number}-{self.seq}"


@dataclass(frozen=True)
class ArchiveLine:
    """A notice in the yearly archive, with how many objections it had (never who)."""

    notice: Notice
    objections: int
    unanswered: int


def _cleaned(text: str, limit: int) -> str:
    return clean_text(text, limit=limit, multiline=True, needs_words=True)


async def open_notice(
    session: AsyncSession,
    *,
    org_id: int,
    title: str,
    body: str,
    starts_on: date,
    ends_on: date,
    audience: str = "everyone",
    kind: NoticeKind = NoticeKind.MANUAL,
    file_id: str | None = None,
    file_kind: FileKind | None = None,
    created_by: int | None = None,
    body_limit: int = BODY_LIMIT,
    posted_on: date | None = None,
) -> Notice:
    """Store a new notice, numbered per organization and the year it is posted (`posted_on`,
    by default the first day of its period); its period ends `ends_on`. `body_limit`:
    GENERATED_BODY_LIMIT for a text another feature wrote."""
    title = clean_text(title, limit=TITLE_LIMIT)
    body = clean_text(body, limit=body_limit, multiline=True) if body else ""
    if not body and file_id is None:
        raise DomainError(N_("notice.body_missing"))
    if ends_on < starts_on:
        raise DomainError(N_("notice.end_too_early"))
    year = (posted_on or starts_on).year
    for _attempt in range(5):
        seq = (
            await session.exec(
                select(func.coalesce(func.max(Notice.seq), 0)).where(
                    Notice.organization_id == org_id, Notice.year == year
                )
            )
        ).one()
        notice = Notice(
            organization_id=org_id,
            year=year,
            seq=int(seq) + 1,
            kind=kind,
            title=title,
            body=body,
            file_id=file_id,
            file_kind=file_kind,
            audience=audience,
            starts_on=starts_on,
            ends_on=ends_on,
            created_by_member_id=created_by,
        )
        session.add(notice)
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()  # two notices took one number at once: the next one
            continue
        return notice
    raise DomainError(N_("notice.busy"))


async def get_notice(session: AsyncSession, *, org_id: int, notice_id: int) -> Notice:
    """A notice of this organization, or a refusal."""
    notice = await session.get(Notice, notice_id)
    if notice is None or notice.organization_id != org_id:
        raise DomainError(N_("notice.not_found"))
    return notice


async def record_channel_post(
    session: AsyncSession, *, notice_id: int, chat_id: int, message_id: int
) -> None:
    """Where the notice was posted, so its outcome can be added to the post at the end."""
    await session.exec(
        update(Notice)
        .where(col(Notice.id) == notice_id)
        .values(channel_chat_id=chat_id, channel_message_id=message_id)
    )
    await session.commit()


def check_open(notice: Notice, *, today: date) -> None:
    """Refuse an objection once the period is over (the last day is included)."""
    if notice.status != NoticeStatus.OPEN or today > notice.ends_on:
        raise DomainError(N_("notice.objection_closed"), title=notice.title, number=notice.number)


async def check_concerned(session: AsyncSession, *, notice: Notice, actor: Actor) -> None:
    """Refuse a member the notice does not concern: posted to the channel, it concerns every
    active member; only sent to an audience, it concerns that audience."""
    if actor.is_active and notice.channel_chat_id is not None:
        return
    if actor.is_active and notice.audience != NO_AUDIENCE:
        members = await audience_members(
            session,
            org_id=notice.organization_id,
            audience={"type": notice.audience},
            today=notice.created_at.date(),
            respect_mute=False,
        )
        if any(member.id == actor.id for member in members):
            return
    raise DomainError(N_("notice.not_concerned"), number=notice.number, title=notice.title)


async def raise_objection(
    session: AsyncSession,
    *,
    org_id: int,
    notice_id: int,
    actor: Actor,
    body: str,
    anonymous: bool,
    seal: AuthorSeal,
    today: date,
) -> tuple[Notice, NoticeObjection]:
    """Store an objection while the notice runs; an anonymous one keeps only the sealed author."""
    body = _cleaned(body, OBJECTION_LIMIT)
    notice = await get_notice(session, org_id=org_id, notice_id=notice_id)
    check_open(notice, today=today)
    await check_concerned(session, notice=notice, actor=actor)
    closed = DomainError(N_("notice.objection_closed"), title=notice.title, number=notice.number)
    for _attempt in range(5):
        # The notice's row, written only while it is open and in its period, stays locked
        # until the objection is committed: `end_notice` waits for it, or it is refused.
        held = await session.exec(
            update(Notice)
            .where(
                col(Notice.id) == notice_id,
                col(Notice.status) == NoticeStatus.OPEN,
                col(Notice.ends_on) >= today,
            )
            .values(status=Notice.status)
        )
        if held.rowcount != 1:
            await session.rollback()
            raise closed
        seq = (
            await session.exec(
                select(func.coalesce(func.max(NoticeObjection.seq), 0)).where(
                    NoticeObjection.notice_id == notice_id
                )
            )
        ).one()
        objection = NoticeObjection(
            notice_id=notice_id,
            seq=int(seq) + 1,
            body=body,
            anonymous=anonymous,
            member_id=None if anonymous else actor.id,
            reply_token=seal.seal(actor.id) if anonymous else None,
        )
        session.add(objection)
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            continue
        return notice, objection
    raise DomainError(N_("notice.busy"))


def objector_id(objection: NoticeObjection, seal: AuthorSeal) -> int | None:
    """Who objected (opening the seal of an anonymous objection), for routing the answer only."""
    return seal.open(objection.reply_token) if objection.anonymous else objection.member_id


async def get_objection(
    session: AsyncSession, *, org_id: int, objection_id: int
) -> tuple[Notice, NoticeObjection]:
    """An objection and its notice, or a refusal."""
    objection = await session.get(NoticeObjection, objection_id)
    if objection is None:
        raise DomainError(N_("notice.objection_not_found"))
    notice = await get_notice(session, org_id=org_id, notice_id=objection.notice_id)
    return notice, objection


async def answer_objection(
    session: AsyncSession, *, org_id: int, objection_id: int, actor: Actor, body: str
) -> tuple[Notice, NoticeObjection]:
    """Store the committee's answer, once (two members answering at once: the first stands)."""
    body = _cleaned(body, ANSWER_LIMIT)
    notice, objection = await get_objection(session, org_id=org_id, objection_id=objection_id)
    result = await session.exec(
        update(NoticeObjection)
        .where(col(NoticeObjection.id) == objection_id, col(NoticeObjection.answer).is_(None))
        .values(answer=body, answered_by_member_id=actor.id, answered_at=utcnow())
    )
    await session.commit()
    if result.rowcount != 1:
        raise DomainError(N_("notice.objection_answered_before"), label=objection.label(notice))
    await session.refresh(objection)
    return notice, objection


async def objections_of(session: AsyncSession, *, notice_id: int) -> Sequence[NoticeObjection]:
    """A notice's objections, in order."""
    return (
        await session.exec(
            select(NoticeObjection)
            .where(NoticeObjection.notice_id == notice_id)
            .order_by(col(NoticeObjection.seq))
        )
    ).all()


async def due_notices(session: AsyncSession, *, org_id: int, today: date) -> Sequence[Notice]:
    """Open notices whose period is over (their last day is before `today`)."""
    return (
        await session.exec(
            select(Notice)
            .where(
                Notice.organization_id == org_id,
                Notice.status == NoticeStatus.OPEN,
                col(Notice.ends_on) < today,
            )
            .order_by(col(Notice.id))
        )
    ).all()


def outcome_of(objections: Sequence[NoticeObjection]) -> NoticeStatus:
    """How a notice ends with these objections."""
    if not objections:
        return NoticeStatus.CLEAR
    if any(objection.answer is None for objection in objections):
        return NoticeStatus.PENDING
    return NoticeStatus.HANDLED


async def end_notice(session: AsyncSession, *, notice_id: int, now: datetime) -> Notice | None:
    """Mark an open notice with its outcome; None if it was ended already (a rerun).

    The notice is claimed first (its row locked until the end is committed), its objections
    counted after: an objection being stored at that moment is waited for, then counted."""
    claimed = await session.exec(
        update(Notice)
        .where(col(Notice.id) == notice_id, col(Notice.status) == NoticeStatus.OPEN)
        .values(ended_at=now)
    )
    if claimed.rowcount != 1:
        await session.rollback()
        return None
    outcome = outcome_of(await objections_of(session, notice_id=notice_id))
    await session.exec(update(Notice).where(col(Notice.id) == notice_id).values(status=outcome))
    await session.commit()
    return await session.get(Notice, notice_id, populate_existing=True)


async def settle_if_handled(session: AsyncSession, *, notice_id: int) -> Notice | None:
    """An ended notice whose last unanswered objection was just answered becomes 有异议，已处理;
    returns it then (once), else None."""
    objections = await objections_of(session, notice_id=notice_id)
    if outcome_of(objections) != NoticeStatus.HANDLED:
        return None
    result = await session.exec(
        update(Notice)
        .where(col(Notice.id) == notice_id, col(Notice.status) == NoticeStatus.PENDING)
        .values(status=NoticeStatus.HANDLED)
    )
    await session.commit()
    if result.rowcount != 1:
        return None
    return await session.get(Notice, notice_id, populate_existing=True)


async def archive(session: AsyncSession, *, org_id: int, year: int) -> list[ArchiveLine]:
    """The year's notices, oldest first, with counts of objections (never who raised them)."""
    notices = (
        await session.exec(
            select(Notice)
            .where(Notice.organization_id == org_id, Notice.year == year)
            .order_by(col(Notice.seq))
        )
    ).all()
    lines = []
    for notice in notices:
        objections = await objections_of(session, notice_id=notice.id or 0)
        unanswered = sum(1 for objection in objections if objection.answer is None)
        lines.append(ArchiveLine(notice, len(objections), unanswered))
    return lines
