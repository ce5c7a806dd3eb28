"""The suggestion box (意见箱): items, their two-way thread, categories, anonymity limits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import String, Text, UniqueConstraint, case, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.anonymity import AuthorSeal
from models.base import UTCDateTime, utcnow
from models.desk import DeskCard
from models.errors import N_, DomainError
from models.members import Actor
from models.validation import clean_text

BODY_LIMIT = 2000
REPLY_LIMIT = 2000
CATEGORY_NAME_LIMIT = 20
MAX_PHOTOS = 3
DEFAULT_ANONYMOUS_DAILY_LIMIT = 5
# Floods: items one member may file per day (named and anonymous together), and what an author
# may send back on one item per day (follow-ups; verdicts: resolved / not resolved).
DEFAULT_SUGGESTION_DAILY_LIMIT = 10
DEFAULT_FOLLOWUP_DAILY_LIMIT = 5
DEFAULT_VERDICT_DAILY_LIMIT = 3
DEFAULT_CATEGORIES = ("teaching", "facilities", "canteen", "pay", "safety", "other")


class SuggestionStatus(StrEnum):
    """Where an item stands."""

    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"


class EntryKind(StrEnum):
    """One message in an item's thread."""

    REPLY = "reply"  # committee -> author
    FOLLOWUP = "followup"  # author -> committee
    RESOLVED = "resolved"  # author says the answer settled it
    NOT_RESOLVED = "not_resolved"  # author says it did not
    CLOSED = "closed"
    REOPENED = "reopened"


class SuggestionCategory(SQLModel, table=True):
    """A category; built-in ones have a `code` (translated), custom ones a `name`."""

    __tablename__ = "suggestion_category"
    __table_args__ = (UniqueConstraint("organization_id", "code", name="uq_category_org_code"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    code: str | None = Field(default=None, sa_type=String(16), nullable=True)
    name: str | None = Field(default=None, max_length=CATEGORY_NAME_LIMIT, nullable=True)
    position: int = 0
    active: bool = True


class Suggestion(SQLModel, table=True):
    """An item in the suggestion box.

    For an anonymous item `author_member_id` is NULL and `reply_token` holds the sealed author.
    """

    __table_args__ = (
        UniqueConstraint("organization_id", "year", "seq", name="uq_suggestion_number"),
        UniqueConstraint("client_token", name="uq_suggestion_client_token"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    year: int
    seq: int
    category_id: int = Field(foreign_key="suggestion_category.id")
    body: str = Field(sa_type=Text)
    anonymous: bool = False
    author_member_id: int | None = Field(default=None, foreign_key="member.id", nullable=True)
    reply_token: str | None = Field(default=None, sa_type=Text, nullable=True)
    # A random id of the confirmed draft: the same draft confirmed twice is stored once.
    client_token: str = Field(sa_type=String(32))
    status: str = Field(default=SuggestionStatus.OPEN, sa_type=String(16), index=True)
    version: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answered_by_member_id: int | None = Field(default=None, foreign_key="member.id")
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by_member_id: int | None = Field(default=None, foreign_key="member.id")
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def number(self) -> str:
        """The number people quote, e.g. 意-2026-0042 (per organization and year)."""
        return f"意-{self.year}-{self.seq:04d}"


class SuggestionPhoto(SQLModel, table=True):
    """A photo attached to an item (Telegram file id)."""

    __tablename__ = "suggestion_photo"

    id: int | None = Field(default=None, primary_key=True)
    suggestion_id: int = Field(foreign_key="suggestion.id", index=True)
    file_id: str = Field(sa_type=String(255))
    position: int


class SuggestionEntry(SQLModel, table=True):
    """One message of the thread; author-side entries name nobody."""

    __tablename__ = "suggestion_entry"

    id: int | None = Field(default=None, primary_key=True)
    suggestion_id: int = Field(foreign_key="suggestion.id", index=True)
    kind: str = Field(sa_type=String(16))
    body: str | None = Field(default=None, sa_type=Text, nullable=True)
    committee_member_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


@dataclass(frozen=True)
class Draft:
    """A confirmed item as the member composed it."""

    category_id: int
    body: str
    photos: tuple[str, ...]
    anonymous: bool
    client_token: str


# ---- categories --------------------------------------------------------------------------


async def ensure_default_categories(session: AsyncSession, *, org_id: int) -> None:
    """Give a new organization the default categories."""
    existing = (
        await session.exec(
            select(SuggestionCategory.code).where(SuggestionCategory.organization_id == org_id)
        )
    ).all()
    missing = [code for code in DEFAULT_CATEGORIES if code not in existing]
    if not missing:
        return
    for position, code in enumerate(DEFAULT_CATEGORIES):
        if code in missing:
            session.add(SuggestionCategory(organization_id=org_id, code=code, position=position))
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()  # another process added them at the same moment


async def list_categories(
    session: AsyncSession, *, org_id: int, include_inactive: bool = False
) -> Sequence[SuggestionCategory]:
    """Categories in display order."""
    statement = select(SuggestionCategory).where(SuggestionCategory.organization_id == org_id)
    if not include_inactive:
        statement = statement.where(col(SuggestionCategory.active).is_(True))
    return (
        await session.exec(
            statement.order_by(col(SuggestionCategory.position), col(SuggestionCategory.id))
        )
    ).all()


async def get_category(
    session: AsyncSession, *, org_id: int, category_id: int
) -> SuggestionCategory:
    """A category of this organization."""
    category = await session.get(SuggestionCategory, category_id)
    if category is None or category.organization_id != org_id:
        raise DomainError(N_("suggestion.category_unknown"))
    return category


async def add_category(
    session: AsyncSession, *, org_id: int, actor: Actor, name: str
) -> SuggestionCategory:
    """A committee member adds a custom category."""
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))
    clean = clean_text(name, limit=CATEGORY_NAME_LIMIT)
    last = (
        await session.exec(
            select(func.max(SuggestionCategory.position)).where(
                SuggestionCategory.organization_id == org_id
            )
        )
    ).one()
    category = SuggestionCategory(organization_id=org_id, name=clean, position=(last or 0) + 1)
    session.add(category)
    await session.commit()
    return category


async def set_category_active(
    session: AsyncSession, *, org_id: int, actor: Actor, category_id: int, active: bool
) -> SuggestionCategory:
    """Hide or show a category (items filed under it keep it)."""
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))
    category = await get_category(session, org_id=org_id, category_id=category_id)
    category.active = active
    session.add(category)
    await session.commit()
    return category


# ---- filing ------------------------------------------------------------------------------


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


async def named_items_since(
    session: AsyncSession, *, org_id: int, member_id: int, since: datetime
) -> int:
    """Named items this member filed since `since` (anonymous ones are counted in memory)."""
    return int(
        (
            await session.exec(
                select(func.count())
                .select_from(Suggestion)
                .where(
                    Suggestion.organization_id == org_id,
                    Suggestion.author_member_id == member_id,
                    col(Suggestion.created_at) >= since,
                )
            )
        ).one()
    )


async def check_daily_limit(
    session: AsyncSession,
    *,
    org_id: int,
    author: Actor,
    seal: AuthorSeal,
    today: date,
    day_start: datetime | None = None,
    daily_limit: int = DEFAULT_SUGGESTION_DAILY_LIMIT,
) -> None:
    """Refuse a member who filed `daily_limit` items today, named and anonymous together."""
    since = day_start or _start_of(today)
    named = await named_items_since(session, org_id=org_id, member_id=author.id, since=since)
    if named + seal.tally.count(author.id, today) >= daily_limit:
        raise DomainError(N_("suggestion.daily_limit"), limit=daily_limit)


async def find_by_client_token(session: AsyncSession, *, client_token: str) -> Suggestion | None:
    """The item stored from this draft, if it was stored already."""
    return (
        await session.exec(select(Suggestion).where(Suggestion.client_token == client_token))
    ).first()


async def submit_suggestion(
    session: AsyncSession,
    *,
    org_id: int,
    author: Actor,
    draft: Draft,
    seal: AuthorSeal,
    today: date,
    anonymous_daily_limit: int = DEFAULT_ANONYMOUS_DAILY_LIMIT,
    daily_limit: int | None = None,
    day_start: datetime | None = None,
) -> Suggestion:
    """Store a confirmed item and number it; an anonymous one keeps no trace of its author
    (its daily count is kept in memory by `seal.tally`, see models/anonymity.py)."""
    if not author.is_active:
        raise DomainError(N_("member.not_registered"))
    body = clean_text(draft.body, limit=BODY_LIMIT, multiline=True, needs_words=True)
    if len(draft.photos) > MAX_PHOTOS:
        raise DomainError(N_("suggestion.too_many_photos"), limit=MAX_PHOTOS)
    category = await get_category(session, org_id=org_id, category_id=draft.category_id)
    if not category.active:
        raise DomainError(N_("suggestion.category_unknown"))
    stored = await find_by_client_token(session, client_token=draft.client_token)
    if stored is not None:
        raise DomainError(N_("suggestion.already_submitted"), number=stored.number)
    if daily_limit is not None:
        await check_daily_limit(
            session,
            org_id=org_id,
            author=author,
            seal=seal,
            today=today,
            day_start=day_start,
            daily_limit=daily_limit,
        )
    if draft.anonymous and not seal.tally.take(author.id, today, anonymous_daily_limit):
        raise DomainError(N_("suggestion.anonymous_limit"), limit=anonymous_daily_limit)
    try:
        return await _store(
            session,
            org_id=org_id,
            author=author,
            draft=draft,
            body=body,
            category_id=category.id or 0,
            seal=seal,
            today=today,
        )
    except BaseException:
        if draft.anonymous:
            seal.tally.give_back(author.id, today)  # not stored: it does not count
        raise


async def _store(
    session: AsyncSession,
    *,
    org_id: int,
    author: Actor,
    draft: Draft,
    body: str,
    category_id: int,
    seal: AuthorSeal,
    today: date,
) -> Suggestion:
    for _attempt in range(5):
        try:
            item = Suggestion(
                organization_id=org_id,
                year=today.year,
                seq=await _next_seq(session, org_id=org_id, year=today.year),
                category_id=category_id,
                body=body,
                anonymous=draft.anonymous,
                author_member_id=None if draft.anonymous else author.id,
                reply_token=seal.seal(author.id) if draft.anonymous else None,
                client_token=draft.client_token,
            )
            session.add(item)
            await session.flush()
            for position, file_id in enumerate(draft.photos):
                session.add(
                    SuggestionPhoto(suggestion_id=item.id or 0, file_id=file_id, position=position)
                )
            await session.commit()
            return item
        except IntegrityError as exc:
            await session.rollback()
            stored = await find_by_client_token(session, client_token=draft.client_token)
            if stored is not None:
                raise DomainError(N_("suggestion.already_submitted"), number=stored.number) from exc
            # Two items took the same number at once: take the next one.
    raise DomainError(N_("suggestion.busy"))


async def add_named_suggestion(
    session: AsyncSession,
    *,
    org_id: int,
    author_member_id: int,
    category_code: str,
    body: str,
    client_token: str,
    today: date,
) -> Suggestion:
    """Add a named item inside the caller's transaction (the caller commits, or rolls back and
    retries when two items took the same number)."""
    await ensure_default_categories(session, org_id=org_id)
    category = (
        await session.exec(
            select(SuggestionCategory).where(
                SuggestionCategory.organization_id == org_id,
                SuggestionCategory.code == category_code,
            )
        )
    ).one()
    item = Suggestion(
        organization_id=org_id,
        year=today.year,
        seq=await _next_seq(session, org_id=org_id, year=today.year),
        category_id=category.id or 0,
        body=clean_text(body, limit=BODY_LIMIT, multiline=True),
        anonymous=False,
        author_member_id=author_member_id,
        client_token=client_token,
    )
    session.add(item)
    await session.flush()
    return item


async def _next_seq(session: AsyncSession, *, org_id: int, year: int) -> int:
    current = (
        await session.exec(
            select(func.max(Suggestion.seq)).where(
                Suggestion.organization_id == org_id, Suggestion.year == year
            )
        )
    ).one()
    return int(current or 0) + 1


# ---- reading -----------------------------------------------------------------------------


async def get_suggestion(session: AsyncSession, *, org_id: int, suggestion_id: int) -> Suggestion:
    """An item of this organization (ids from buttons can be forged)."""
    item = await session.get(Suggestion, suggestion_id)
    if item is None or item.organization_id != org_id:
        raise DomainError(N_("desk.item_not_found"))
    return item


async def photos_of(session: AsyncSession, *, suggestion_id: int) -> list[str]:
    """File ids of an item's photos, in order."""
    rows = await session.exec(
        select(SuggestionPhoto.file_id)
        .where(SuggestionPhoto.suggestion_id == suggestion_id)
        .order_by(col(SuggestionPhoto.position))
    )
    return list(rows.all())


async def thread_of(session: AsyncSession, *, suggestion_id: int) -> Sequence[SuggestionEntry]:
    """The item's thread, oldest first."""
    return (
        await session.exec(
            select(SuggestionEntry)
            .where(SuggestionEntry.suggestion_id == suggestion_id)
            .order_by(col(SuggestionEntry.created_at), col(SuggestionEntry.id))
        )
    ).all()


def author_id(item: Suggestion, seal: AuthorSeal) -> int | None:
    """The author's member id (opening the seal of an anonymous item), for routing only."""
    return seal.open(item.reply_token) if item.anonymous else item.author_member_id


def require_author(item: Suggestion, actor: Actor, seal: AuthorSeal) -> None:
    """Refuse anyone but the item's author (and say so when an anonymous item's seal no longer
    opens: the key was changed, and nobody can be recognised as its author any more)."""
    if item.anonymous and seal.open(item.reply_token) is None:
        raise DomainError(N_("suggestion.author_link_lost"), number=item.number)
    if author_id(item, seal) != actor.id:
        raise DomainError(N_("suggestion.not_yours"))


def author_unreachable(item: Suggestion, seal: AuthorSeal) -> bool:
    """An anonymous item whose seal this key cannot open: its author can no longer be reached."""
    return item.anonymous and seal.open(item.reply_token) is None


async def newest_sealed_token(session: AsyncSession) -> str | None:
    """The sealed author of the newest anonymous item (for the start-up check of the key)."""
    return (
        await session.exec(
            select(Suggestion.reply_token)
            .where(col(Suggestion.anonymous).is_(True), col(Suggestion.reply_token).is_not(None))
            .order_by(col(Suggestion.id).desc())
            .limit(1)
        )
    ).first()


async def without_desk_card(
    session: AsyncSession, *, org_id: int, kind: str, skip: Sequence[int] = (), limit: int = 20
) -> Sequence[Suggestion]:
    """Stored items that never reached the desk (no card recorded), oldest first."""
    carded = select(DeskCard.item_id).where(DeskCard.kind == kind)
    statement = select(Suggestion).where(
        Suggestion.organization_id == org_id, col(Suggestion.id).not_in(carded)
    )
    if skip:
        statement = statement.where(col(Suggestion.id).not_in(list(skip)))
    return (await session.exec(statement.order_by(col(Suggestion.id)).limit(limit))).all()


async def items_of_member(
    session: AsyncSession, *, org_id: int, member_id: int, seal: AuthorSeal, limit: int = 20
) -> list[Suggestion]:
    """A member's own items, anonymous ones included (found by opening each seal), newest first."""
    named = (
        await session.exec(
            select(Suggestion).where(
                Suggestion.organization_id == org_id, Suggestion.author_member_id == member_id
            )
        )
    ).all()
    anonymous = (
        await session.exec(
            select(Suggestion).where(
                Suggestion.organization_id == org_id, col(Suggestion.anonymous).is_(True)
            )
        )
    ).all()
    mine = [*named, *(item for item in anonymous if seal.open(item.reply_token) == member_id)]
    mine.sort(key=lambda item: (item.created_at, item.id or 0), reverse=True)
    return mine[:limit]


async def latest_reply(session: AsyncSession, *, suggestion_id: int) -> SuggestionEntry | None:
    """The newest committee reply of an item."""
    return (
        await session.exec(
            select(SuggestionEntry)
            .where(
                SuggestionEntry.suggestion_id == suggestion_id,
                SuggestionEntry.kind == EntryKind.REPLY,
            )
            .order_by(col(SuggestionEntry.created_at).desc(), col(SuggestionEntry.id).desc())
        )
    ).first()


_STATUS_ORDER = case(
    (col(Suggestion.status) == SuggestionStatus.OPEN, 0),
    (col(Suggestion.status) == SuggestionStatus.ANSWERED, 1),
    else_=2,
)


async def committee_list(
    session: AsyncSession,
    *,
    org_id: int,
    status: SuggestionStatus | None = None,
    category_id: int | None = None,
    offset: int = 0,
    limit: int = 8,
) -> tuple[Sequence[Suggestion], int]:
    """Items for the committee: open first, then answered, then closed; oldest first within."""
    conditions = [Suggestion.organization_id == org_id]
    if status is not None:
        conditions.append(Suggestion.status == status)
    if category_id is not None:
        conditions.append(Suggestion.category_id == category_id)
    total = (
        await session.exec(select(func.count()).select_from(Suggestion).where(*conditions))
    ).one()
    rows = await session.exec(
        select(Suggestion)
        .where(*conditions)
        .order_by(_STATUS_ORDER, col(Suggestion.created_at), col(Suggestion.id))
        .offset(offset)
        .limit(limit)
    )
    return rows.all(), int(total)


async def unanswered_for_days(
    session: AsyncSession, *, org_id: int, now: datetime, days: int = 7
) -> Sequence[Suggestion]:
    """Open items filed more than `days` ago: the committee digest lists them."""
    cutoff = now - timedelta(days=days)
    return (
        await session.exec(
            select(Suggestion)
            .where(
                Suggestion.organization_id == org_id,
                Suggestion.status == SuggestionStatus.OPEN,
                col(Suggestion.created_at) < cutoff,
            )
            .order_by(col(Suggestion.created_at), col(Suggestion.id))
        )
    ).all()


# ---- the committee acts ------------------------------------------------------------------


async def _guarded_change(
    session: AsyncSession,
    *,
    item: Suggestion,
    allowed_from: tuple[SuggestionStatus, ...],
    expected_version: int | None,
    values: dict[str, object],
) -> None:
    conditions = [col(Suggestion.id) == item.id, col(Suggestion.status).in_(allowed_from)]
    if expected_version is not None:
        conditions.append(col(Suggestion.version) == expected_version)
    result = await session.exec(
        update(Suggestion)
        .where(*conditions)
        .values(version=Suggestion.version + 1, updated_at=utcnow(), **values)
    )
    if result.rowcount != 1:
        number = item.number  # read before the rollback expires the instance
        await session.rollback()
        raise DomainError(N_("suggestion.changed_meanwhile"), number=number)


async def reply_to_suggestion(
    session: AsyncSession,
    *,
    org_id: int,
    suggestion_id: int,
    actor: Actor,
    body: str,
    expected_version: int,
) -> Suggestion:
    """A committee reply: the item becomes answered, unless it changed since Reply was pressed."""
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))
    text = clean_text(body, limit=REPLY_LIMIT, multiline=True, needs_words=True)
    item = await get_suggestion(session, org_id=org_id, suggestion_id=suggestion_id)
    now = utcnow()
    await _guarded_change(
        session,
        item=item,
        allowed_from=(SuggestionStatus.OPEN, SuggestionStatus.ANSWERED),
        expected_version=expected_version,
        values={
            "status": SuggestionStatus.ANSWERED,
            "answered_at": now,
            "answered_by_member_id": actor.id,
        },
    )
    session.add(
        SuggestionEntry(
            suggestion_id=suggestion_id,
            kind=EntryKind.REPLY,
            body=text,
            committee_member_id=actor.id,
        )
    )
    await session.commit()
    await session.refresh(item)
    return item


async def _committee_transition(
    session: AsyncSession,
    *,
    org_id: int,
    suggestion_id: int,
    actor: Actor,
    allowed_from: tuple[SuggestionStatus, ...],
    values: dict[str, object],
    entry: EntryKind,
) -> Suggestion:
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))
    item = await get_suggestion(session, org_id=org_id, suggestion_id=suggestion_id)
    await _guarded_change(
        session, item=item, allowed_from=allowed_from, expected_version=None, values=values
    )
    session.add(
        SuggestionEntry(suggestion_id=suggestion_id, kind=entry, committee_member_id=actor.id)
    )
    await session.commit()
    await session.refresh(item)
    return item


def open_question(thread: Sequence[SuggestionEntry]) -> bool:
    """Whether the author's last word (a follow-up, or "not resolved") came after the
    committee's last (a reply, or a closing note): the author is waiting for an answer."""
    waiting = False
    for entry in thread:
        if entry.kind in (EntryKind.FOLLOWUP, EntryKind.NOT_RESOLVED):
            waiting = True
        elif entry.kind == EntryKind.REPLY or (entry.kind == EntryKind.CLOSED and entry.body):
            waiting = False
    return waiting


async def closing_note(session: AsyncSession, *, suggestion_id: int) -> str | None:
    """The note of the item's latest close, if it was closed with one."""
    entry = (
        await session.exec(
            select(SuggestionEntry)
            .where(
                SuggestionEntry.suggestion_id == suggestion_id,
                SuggestionEntry.kind == EntryKind.CLOSED,
            )
            .order_by(col(SuggestionEntry.created_at).desc(), col(SuggestionEntry.id).desc())
        )
    ).first()
    return entry.body if entry is not None else None


async def close_suggestion(
    session: AsyncSession,
    *,
    org_id: int,
    suggestion_id: int,
    actor: Actor,
    note: str | None = None,
    expected_version: int | None = None,
) -> Suggestion:
    """Close an open or answered item (once). An item whose author is waiting for an answer
    to a follow-up is closed only with a note for them (`suggestion.close_needs_note`); with
    `expected_version`, only if nothing happened to it since the note was asked for."""
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))
    text = clean_text(note, limit=REPLY_LIMIT, multiline=True) if note is not None else None
    item = await get_suggestion(session, org_id=org_id, suggestion_id=suggestion_id)
    if text is None and open_question(await thread_of(session, suggestion_id=suggestion_id)):
        raise DomainError(N_("suggestion.close_needs_note"), number=item.number)
    await _guarded_change(
        session,
        item=item,
        allowed_from=(SuggestionStatus.OPEN, SuggestionStatus.ANSWERED),
        expected_version=expected_version,
        values={
            "status": SuggestionStatus.CLOSED,
            "closed_at": utcnow(),
            "closed_by_member_id": actor.id,
        },
    )
    session.add(
        SuggestionEntry(
            suggestion_id=suggestion_id,
            kind=EntryKind.CLOSED,
            body=text,
            committee_member_id=actor.id,
        )
    )
    await session.commit()
    await session.refresh(item)
    return item


async def reopen_suggestion(
    session: AsyncSession, *, org_id: int, suggestion_id: int, actor: Actor
) -> Suggestion:
    """Reopen a closed item (once)."""
    return await _committee_transition(
        session,
        org_id=org_id,
        suggestion_id=suggestion_id,
        actor=actor,
        allowed_from=(SuggestionStatus.CLOSED,),
        values={"status": SuggestionStatus.OPEN, "closed_at": None, "closed_by_member_id": None},
        entry=EntryKind.REOPENED,
    )


async def mark_published(
    session: AsyncSession, *, org_id: int, suggestion_id: int, actor: Actor
) -> tuple[Suggestion, SuggestionEntry]:
    """Mark an answered item as published on the disclosure channel (once)."""
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))
    item = await get_suggestion(session, org_id=org_id, suggestion_id=suggestion_id)
    reply = await latest_reply(session, suggestion_id=suggestion_id)
    if reply is None:
        raise DomainError(N_("suggestion.publish_needs_reply"))
    result = await session.exec(
        update(Suggestion)
        .where(col(Suggestion.id) == suggestion_id, col(Suggestion.published_at).is_(None))
        .values(published_at=utcnow())
    )
    if result.rowcount != 1:
        number = item.number  # read before the rollback expires the instance
        await session.rollback()
        raise DomainError(N_("suggestion.already_published"), number=number)
    await session.commit()
    await session.refresh(item)
    return item, reply


async def unmark_published(session: AsyncSession, *, org_id: int, suggestion_id: int) -> None:
    """Undo `mark_published` when the post to the channel failed."""
    await get_suggestion(session, org_id=org_id, suggestion_id=suggestion_id)
    await session.exec(
        update(Suggestion).where(col(Suggestion.id) == suggestion_id).values(published_at=None)
    )
    await session.commit()


# ---- the author answers back -------------------------------------------------------------


_VERDICTS = (EntryKind.RESOLVED, EntryKind.NOT_RESOLVED)


async def check_may_respond(
    session: AsyncSession,
    *,
    org_id: int,
    suggestion_id: int,
    actor: Actor,
    seal: AuthorSeal,
    kind: EntryKind,
    since: datetime | None = None,
    daily_limit: int | None = None,
) -> Suggestion:
    """The item, if `actor` is its author and has not sent `daily_limit` follow-ups (or
    verdicts) on it since `since`: checked at the press, before any text is asked for."""
    item = await get_suggestion(session, org_id=org_id, suggestion_id=suggestion_id)
    require_author(item, actor, seal)
    if daily_limit is None:
        return item
    kinds = (EntryKind.FOLLOWUP,) if kind == EntryKind.FOLLOWUP else _VERDICTS
    sent = (
        await session.exec(
            select(func.count())
            .select_from(SuggestionEntry)
            .where(
                SuggestionEntry.suggestion_id == suggestion_id,
                col(SuggestionEntry.kind).in_(kinds),
                col(SuggestionEntry.created_at) >= (since or _start_of(utcnow().date())),
            )
        )
    ).one()
    if int(sent) >= daily_limit:
        key = (
            "suggestion.followup_limit"
            if kind == EntryKind.FOLLOWUP
            else "suggestion.verdict_limit"
        )
        raise DomainError(N_(key), number=item.number, limit=daily_limit)
    return item


async def author_responds(
    session: AsyncSession,
    *,
    org_id: int,
    suggestion_id: int,
    actor: Actor,
    seal: AuthorSeal,
    kind: EntryKind,
    body: str | None = None,
    since: datetime | None = None,
    daily_limit: int | None = None,
) -> Suggestion:
    """A follow-up or a verdict from the author; a follow-up or "not resolved" reopens it.
    With `daily_limit`, at most that many of its kind per item since `since` (floods)."""
    item = await check_may_respond(
        session,
        org_id=org_id,
        suggestion_id=suggestion_id,
        actor=actor,
        seal=seal,
        kind=kind,
        since=since,
        daily_limit=daily_limit,
    )
    text = (
        clean_text(body, limit=BODY_LIMIT, multiline=True, needs_words=True)
        if body is not None
        else None
    )
    allowed: tuple[SuggestionStatus, ...]
    if kind == EntryKind.RESOLVED:
        allowed = (SuggestionStatus.ANSWERED,)
        values: dict[str, object] = {"status": SuggestionStatus.CLOSED, "closed_at": utcnow()}
    elif kind in (EntryKind.FOLLOWUP, EntryKind.NOT_RESOLVED):
        allowed = (SuggestionStatus.OPEN, SuggestionStatus.ANSWERED, SuggestionStatus.CLOSED)
        values = {"status": SuggestionStatus.OPEN, "closed_at": None, "closed_by_member_id": None}
    else:
        raise DomainError(N_("desk.stale_button"))
    await _guarded_change(
        session, item=item, allowed_from=allowed, expected_version=None, values=values
    )
    session.add(SuggestionEntry(suggestion_id=suggestion_id, kind=kind, body=text))
    await session.commit()
    await session.refresh(item)
    return item
