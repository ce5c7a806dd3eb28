"""Rationalization proposals (合理化建议 / 金点子): named ideas numbered per year, a review panel
chosen by the committee each year, private scores (1-10), prize levels with their counts,
awards, adoption, and the year's figures.

Secrecy of the scores: a panelist's score is stored with their member id (one score per
panelist and idea, and a panelist sees their own), but nothing here returns who gave which
score to anyone else: `standings` gives the committee an average and a count per idea, and the
comments without names, sorted by their text. An average of one or two scores would give a
score away (and a committee member on the panel could take their own out of it), so it is
given only once `MIN_SCORES` panelists scored the idea; ideas with fewer are not ranked.

The prizes change (`set_prizes`, `propose_awards`, `move_idea`) only while the year is not
awarded, and that is checked in the database in the same transaction as the change
(`_hold_open_year`): a change cannot follow a confirmation that was pressed at the same time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import String, Text, UniqueConstraint, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import UTCDateTime, utcnow
from models.errors import N_, DomainError, InputError
from models.members import Actor, Member, MemberStatus
from models.validation import clean_text

SUBJECT_LIMIT = 60
TEXT_LIMIT = 1500
COMMENT_LIMIT = 300
MIN_SCORE, MAX_SCORE = 1, 10
MAX_LEVELS = 5  # 一等奖 ... 五等奖
MAX_PRIZES_PER_LEVEL = 100
MIN_SCORES = 3  # an average is shown, and an idea ranked, from this many scores on


class IdeaStatus(StrEnum):
    """Where an idea stands for its author."""

    RECEIVED = "received"  # 已收到，评审中
    ADOPTED = "adopted"  # 已采纳


class Idea(SQLModel, table=True):
    """One rationalization proposal, always named."""

    __table_args__ = (
        UniqueConstraint("organization_id", "year", "seq", name="uq_idea_number"),
        UniqueConstraint("client_token", name="uq_idea_client_token"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    year: int = Field(index=True)
    seq: int
    author_member_id: int = Field(foreign_key="member.id", index=True)
    subject: str = Field(max_length=SUBJECT_LIMIT)
    problem: str = Field(sa_type=Text)
    proposal: str = Field(sa_type=Text)
    benefit: str = Field(sa_type=Text)
    client_token: str = Field(sa_type=String(32))
    adopted: bool = False
    adopted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # 1 = 一等奖 ...; set while the committee prepares the awards, final once the year is awarded.
    prize_level: int | None = Field(default=None, nullable=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def number(self) -> str:
        """The number people quote, e.g. 合-2026-0007 (per organization and year)."""
        return f"合-{self.year}-{self.seq:04d}"

    @property
    def status(self) -> IdeaStatus:
        """Received or adopted."""
        return IdeaStatus.ADOPTED if self.adopted else IdeaStatus.RECEIVED


class IdeaYear(SQLModel, table=True):
    """One year of ideas: the prize levels' counts, when awarded and when published."""

    __tablename__ = "idea_year"
    __table_args__ = (UniqueConstraint("organization_id", "year", name="uq_idea_year"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    year: int
    prizes: str = Field(default="", sa_type=String(64))  # counts from 一等奖 on: "3,5,9"
    awarded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    awarded_by_member_id: int | None = Field(default=None, foreign_key="member.id")
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def counts(self) -> list[int]:
        """How many prizes of each level, 一等奖 first."""
        return [int(part) for part in self.prizes.split(",") if part]


class IdeaPanelist(SQLModel, table=True):
    """A member of the year's review panel (评审组)."""

    __tablename__ = "idea_panelist"
    __table_args__ = (
        UniqueConstraint("organization_id", "year", "member_id", name="uq_idea_panelist"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    year: int
    member_id: int = Field(foreign_key="member.id")


class IdeaScore(SQLModel, table=True):
    """One panelist's score of one idea (only they ever see it as theirs)."""

    __tablename__ = "idea_score"
    __table_args__ = (UniqueConstraint("idea_id", "member_id", name="uq_idea_score"),)

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    score: int
    comment: str | None = Field(default=None, sa_type=Text, nullable=True)
    scored_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


@dataclass(frozen=True)
class IdeaDraft:
    """What a member typed, before it is stored."""

    subject: str
    problem: str
    proposal: str
    benefit: str


# ---- filing ------------------------------------------------------------------------------


def clean_subject(text: str | None) -> str:
    """主题: one line, with words."""
    return clean_text(text, limit=SUBJECT_LIMIT, needs_words=True)


def clean_body(text: str | None) -> str:
    """现状/问题, 建议, 预期效益: several lines, with words."""
    return clean_text(text, limit=TEXT_LIMIT, multiline=True, needs_words=True)


async def submit_idea(
    session: AsyncSession,
    *,
    org_id: int,
    author: Actor,
    draft: IdeaDraft,
    client_token: str,
    today: date,
) -> Idea:
    """Store a confirmed idea and number it (the same draft confirmed twice is stored once)."""
    if not author.is_active:
        raise DomainError(N_("member.not_registered"))
    subject, problem = clean_subject(draft.subject), clean_body(draft.problem)
    proposal, benefit = clean_body(draft.proposal), clean_body(draft.benefit)
    for _attempt in range(5):
        stored = await _by_token(session, client_token)
        if stored is not None:
            raise DomainError(N_("idea.already_submitted"), number=stored.number)
        try:
            idea = Idea(
                organization_id=org_id,
                year=today.year,
                seq=await _next_seq(session, org_id=org_id, year=today.year),
                author_member_id=author.id,
                subject=subject,
                problem=problem,
                proposal=proposal,
                benefit=benefit,
                client_token=client_token,
            )
            session.add(idea)
            await session.commit()
            return idea
        except IntegrityError:
            await session.rollback()  # the same number taken at once, or the same draft: again
    raise DomainError(N_("idea.busy"))


async def add_idea(
    session: AsyncSession,
    *,
    org_id: int,
    author_member_id: int,
    subject: str,
    problem: str,
    proposal: str,
    benefit: str,
    client_token: str,
    year: int,
) -> Idea:
    """Add an idea inside the caller's transaction (imports and seeding; the caller commits)."""
    idea = Idea(
        organization_id=org_id,
        year=year,
        seq=await _next_seq(session, org_id=org_id, year=year),
        author_member_id=author_member_id,
        subject=clean_subject(subject),
        problem=clean_body(problem),
        proposal=clean_body(proposal),
        benefit=clean_body(benefit),
        client_token=client_token,
    )
    session.add(idea)
    await session.flush()
    return idea


async def _by_token(session: AsyncSession, client_token: str) -> Idea | None:
    return (await session.exec(select(Idea).where(Idea.client_token == client_token))).first()


async def _next_seq(session: AsyncSession, *, org_id: int, year: int) -> int:
    current = (
        await session.exec(
            select(func.max(Idea.seq)).where(Idea.organization_id == org_id, Idea.year == year)
        )
    ).one()
    return int(current or 0) + 1


# ---- reading -----------------------------------------------------------------------------


async def get_idea(session: AsyncSession, *, org_id: int, idea_id: int) -> Idea:
    """An idea of this organization (ids from buttons can be forged)."""
    idea = await session.get(Idea, idea_id)
    if idea is None or idea.organization_id != org_id:
        raise DomainError(N_("idea.not_found"))
    return idea


async def ideas_of_year(session: AsyncSession, *, org_id: int, year: int) -> Sequence[Idea]:
    """The year's ideas in number order."""
    return (
        await session.exec(
            select(Idea)
            .where(Idea.organization_id == org_id, Idea.year == year)
            .order_by(col(Idea.seq))
        )
    ).all()


async def ideas_of_member(session: AsyncSession, *, org_id: int, member_id: int) -> Sequence[Idea]:
    """A member's own ideas, newest first."""
    return (
        await session.exec(
            select(Idea)
            .where(Idea.organization_id == org_id, Idea.author_member_id == member_id)
            .order_by(col(Idea.year).desc(), col(Idea.seq).desc())
        )
    ).all()


async def year_of(session: AsyncSession, *, org_id: int, year: int) -> IdeaYear:
    """The year's settings (created empty on first use)."""
    found = (
        await session.exec(
            select(IdeaYear).where(IdeaYear.organization_id == org_id, IdeaYear.year == year)
        )
    ).first()
    if found is not None:
        return found
    row = IdeaYear(organization_id=org_id, year=year)
    session.add(row)
    try:
        await session.commit()
    except IntegrityError:  # created at the same moment by someone else
        await session.rollback()
        return await year_of(session, org_id=org_id, year=year)
    return row


async def awarded_years(session: AsyncSession, *, org_id: int) -> set[int]:
    """Years whose awards were confirmed (a prize shows to its author only then)."""
    rows = await session.exec(
        select(IdeaYear.year).where(
            IdeaYear.organization_id == org_id, col(IdeaYear.awarded_at).is_not(None)
        )
    )
    return set(rows.all())


# ---- the review panel --------------------------------------------------------------------


async def panel_of(session: AsyncSession, *, org_id: int, year: int) -> list[Member]:
    """The year's panel, by name."""
    rows = await session.exec(
        select(Member)
        .join(IdeaPanelist, col(IdeaPanelist.member_id) == col(Member.id))
        .where(IdeaPanelist.organization_id == org_id, IdeaPanelist.year == year)
        .order_by(col(Member.real_name))
    )
    return list(rows.all())


async def is_panelist(session: AsyncSession, *, org_id: int, year: int, member_id: int) -> bool:
    """True if the member is on the year's panel."""
    found = await session.exec(
        select(IdeaPanelist.id).where(
            IdeaPanelist.organization_id == org_id,
            IdeaPanelist.year == year,
            IdeaPanelist.member_id == member_id,
        )
    )
    return found.first() is not None


async def add_panelist(
    session: AsyncSession, *, org_id: int, year: int, actor: Actor, member_id: int
) -> Member:
    """The committee puts an active member on the year's panel (twice is once)."""
    _require_committee(actor)
    member = await session.get(Member, member_id)
    if member is None or member.organization_id != org_id or member.status != MemberStatus.ACTIVE:
        raise DomainError(N_("idea.member_not_found"))
    if not await is_panelist(session, org_id=org_id, year=year, member_id=member_id):
        session.add(IdeaPanelist(organization_id=org_id, year=year, member_id=member_id))
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
    return member


async def remove_panelist(
    session: AsyncSession, *, org_id: int, year: int, actor: Actor, member_id: int
) -> None:
    """The committee takes a member off the panel; scores already given stay."""
    _require_committee(actor)
    rows = await session.exec(
        select(IdeaPanelist).where(
            IdeaPanelist.organization_id == org_id,
            IdeaPanelist.year == year,
            IdeaPanelist.member_id == member_id,
        )
    )
    for row in rows.all():
        await session.delete(row)
    await session.commit()


def _require_committee(actor: Actor) -> None:
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))


# ---- scoring -----------------------------------------------------------------------------


def check_score(value: int) -> int:
    """A score from 1 to 10."""
    if not MIN_SCORE <= value <= MAX_SCORE:
        raise InputError(N_("idea.score_range"), low=MIN_SCORE, high=MAX_SCORE)
    return value


async def may_score(session: AsyncSession, *, org_id: int, idea: Idea, actor: Actor) -> None:
    """Refuse anyone but a panelist of the idea's year, the author, and a year already awarded."""
    if not actor.is_active or not await is_panelist(
        session, org_id=org_id, year=idea.year, member_id=actor.id
    ):
        raise DomainError(N_("idea.not_panelist"))
    if idea.author_member_id == actor.id:
        raise DomainError(N_("idea.own_idea"))
    year = await year_of(session, org_id=org_id, year=idea.year)
    if year.awarded_at is not None:
        raise DomainError(N_("idea.already_awarded"), year=idea.year)


async def score_idea(
    session: AsyncSession,
    *,
    org_id: int,
    idea_id: int,
    actor: Actor,
    score: int,
    comment: str | None,
) -> IdeaScore:
    """A panelist scores an idea (a second score of the same idea replaces the first)."""
    idea = await get_idea(session, org_id=org_id, idea_id=idea_id)
    await may_score(session, org_id=org_id, idea=idea, actor=actor)
    check_score(score)
    note = clean_text(comment, limit=COMMENT_LIMIT, multiline=True) if comment else None
    row = await own_score(session, idea_id=idea_id, member_id=actor.id)
    if row is None:
        row = IdeaScore(idea_id=idea_id, member_id=actor.id, score=score, comment=note)
    else:
        row.score, row.comment, row.scored_at = score, note, utcnow()
    session.add(row)
    try:
        await session.commit()
    except IntegrityError:  # the same press twice at once: the first stands
        await session.rollback()
        stored = await own_score(session, idea_id=idea_id, member_id=actor.id)
        assert stored is not None
        return stored
    return row


async def own_score(session: AsyncSession, *, idea_id: int, member_id: int) -> IdeaScore | None:
    """The score this panelist gave this idea, if any (shown to them only)."""
    rows = await session.exec(
        select(IdeaScore).where(IdeaScore.idea_id == idea_id, IdeaScore.member_id == member_id)
    )
    return rows.first()


@dataclass(frozen=True)
class ToScore:
    """An idea as a panelist sees it in their list: with their own score, if given."""

    idea: Idea
    mine: int | None


async def ideas_to_score(
    session: AsyncSession, *, org_id: int, year: int, member_id: int
) -> list[ToScore]:
    """The year's ideas a panelist may score (never their own), with their own scores."""
    ideas = [
        idea
        for idea in await ideas_of_year(session, org_id=org_id, year=year)
        if idea.author_member_id != member_id
    ]
    given = dict(
        (
            await session.exec(
                select(IdeaScore.idea_id, IdeaScore.score)
                .join(Idea, col(Idea.id) == col(IdeaScore.idea_id))
                .where(
                    Idea.organization_id == org_id,
                    Idea.year == year,
                    IdeaScore.member_id == member_id,
                )
            )
        ).all()
    )
    return [ToScore(idea, given.get(idea.id or 0)) for idea in ideas]


@dataclass(frozen=True)
class Standing:
    """An idea with its average score and how many scored it (never who gave what); the
    average is None below `MIN_SCORES` scores."""

    idea: Idea
    average: float | None
    count: int

    @property
    def too_few(self) -> bool:
        """Scored, but by fewer than `MIN_SCORES` panelists: not averaged, not ranked."""
        return 0 < self.count < MIN_SCORES


async def standings(session: AsyncSession, *, org_id: int, year: int) -> list[Standing]:
    """The year's ideas ranked: highest average first, then more scores, then number; ideas
    with fewer than `MIN_SCORES` scores come last, without an average."""
    ideas = await ideas_of_year(session, org_id=org_id, year=year)
    figures = {
        idea_id: (float(average), int(count))
        for idea_id, average, count in (
            await session.exec(
                select(IdeaScore.idea_id, func.avg(IdeaScore.score), func.count())
                .join(Idea, col(Idea.id) == col(IdeaScore.idea_id))
                .where(Idea.organization_id == org_id, Idea.year == year)
                .group_by(col(IdeaScore.idea_id))
            )
        ).all()
    }
    rows = []
    for idea in ideas:
        average, count = figures.get(idea.id or 0, (None, 0))
        rows.append(Standing(idea, average if count >= MIN_SCORES else None, count))
    return sorted(rows, key=lambda row: (-(row.average or 0), -row.count, row.idea.seq))


async def comments_of(session: AsyncSession, *, idea_id: int) -> list[str]:
    """The panel's comments on an idea, without names, in the order of their text."""
    rows = await session.exec(
        select(IdeaScore.comment).where(
            IdeaScore.idea_id == idea_id, col(IdeaScore.comment).is_not(None)
        )
    )
    return sorted(comment for comment in rows.all() if comment)


# ---- prizes and awards -------------------------------------------------------------------


def parse_prize_counts(text: str) -> list[int]:
    """ "3 5 9" (or 3、5、9 / 3,5,9): the counts of 一等奖, 二等奖, 三等奖..."""
    parts = text.replace("、", " ").replace(",", " ").replace("，", " ").split()
    if not parts or len(parts) > MAX_LEVELS:
        raise InputError(N_("idea.prizes_format"), levels=MAX_LEVELS)
    counts: list[int] = []
    for part in parts:
        if not (part.isascii() and part.isdigit()) or not 0 < int(part) <= MAX_PRIZES_PER_LEVEL:
            raise InputError(N_("idea.prizes_format"), levels=MAX_LEVELS)
        counts.append(int(part))
    return counts


async def set_prizes(
    session: AsyncSession, *, org_id: int, year: int, actor: Actor, counts: Sequence[int]
) -> IdeaYear:
    """The committee sets the prize levels and their counts (before the awards are confirmed);
    provisional prizes above the new levels are dropped."""
    _require_committee(actor)
    row = await _hold_open_year(
        session, org_id=org_id, year=year, prizes=",".join(str(count) for count in counts)
    )
    await session.exec(
        update(Idea)
        .where(
            col(Idea.organization_id) == org_id,
            col(Idea.year) == year,
            col(Idea.prize_level) > len(counts),
        )
        .values(prize_level=None)
    )
    await session.commit()
    await session.refresh(row)
    return row


def default_awards(ranked: Sequence[Standing], counts: Sequence[int]) -> dict[int, int]:
    """Prizes by ranking: the best `counts[0]` scored ideas 一等奖, the next 二等奖, ...
    (ideas with fewer than `MIN_SCORES` scores get none). Returns idea id -> level."""
    scored = [row.idea.id or 0 for row in ranked if row.average is not None]
    awards: dict[int, int] = {}
    start = 0
    for level, count in enumerate(counts, start=1):
        for idea_id in scored[start : start + count]:
            awards[idea_id] = level
        start += count
    return awards


async def propose_awards(
    session: AsyncSession, *, org_id: int, year: int, actor: Actor
) -> dict[int, int]:
    """Set the provisional prizes from the ranking by average (replacing earlier ones)."""
    _require_committee(actor)
    row = await _hold_open_year(session, org_id=org_id, year=year)
    if not row.counts:
        await session.rollback()
        raise DomainError(N_("idea.no_prizes"))
    awards = default_awards(await standings(session, org_id=org_id, year=year), row.counts)
    for idea in await ideas_of_year(session, org_id=org_id, year=year):
        idea.prize_level = awards.get(idea.id or 0)
        session.add(idea)
    await session.commit()
    return awards


async def move_idea(
    session: AsyncSession, *, org_id: int, idea_id: int, actor: Actor, level: int | None
) -> Idea:
    """The committee moves one idea to another prize level (or none) before confirming;
    a level that is full refuses it (move another idea out first)."""
    _require_committee(actor)
    idea = await get_idea(session, org_id=org_id, idea_id=idea_id)
    row = await _hold_open_year(session, org_id=org_id, year=idea.year)
    counts = row.counts
    if level is not None:
        if not 1 <= level <= len(counts):
            await session.rollback()
            raise DomainError(N_("idea.no_such_level"))
        taken = (
            await session.exec(
                select(func.count()).where(
                    Idea.organization_id == org_id,
                    Idea.year == idea.year,
                    Idea.prize_level == level,
                    col(Idea.id) != idea_id,
                )
            )
        ).one()
        if taken >= counts[level - 1]:
            await session.rollback()
            raise DomainError(N_("idea.level_full"), count=counts[level - 1], level=level)
    idea.prize_level = level
    session.add(idea)
    await session.commit()
    return idea


async def _hold_open_year(
    session: AsyncSession, *, org_id: int, year: int, prizes: str | None = None
) -> IdeaYear:
    """Begin a change of the year's prizes: the year's row is written (its prize counts, or
    as it is) only while it is not awarded, so the row stays locked until the caller commits
    and `confirm_awards` waits for the change or refuses it; the caller commits or rolls back.
    Refuses a year already awarded."""
    row = await year_of(session, org_id=org_id, year=year)
    held = await session.exec(
        update(IdeaYear)
        .where(col(IdeaYear.id) == row.id, col(IdeaYear.awarded_at).is_(None))
        .values(prizes=IdeaYear.prizes if prizes is None else prizes)
    )
    if held.rowcount != 1:
        await session.rollback()
        raise DomainError(N_("idea.already_awarded"), year=year)
    await session.refresh(row)
    return row


async def confirm_awards(
    session: AsyncSession, *, org_id: int, year: int, actor: Actor
) -> list[Idea]:
    """The committee confirms the prizes: guarded in the database (two presses, one award).
    Returns the winners, 一等奖 first."""
    _require_committee(actor)
    row = await year_of(session, org_id=org_id, year=year)
    done = await session.exec(
        update(IdeaYear)
        .where(col(IdeaYear.id) == row.id, col(IdeaYear.awarded_at).is_(None))
        .values(awarded_at=utcnow(), awarded_by_member_id=actor.id)
    )
    if done.rowcount != 1:
        await session.rollback()
        raise DomainError(N_("idea.already_awarded"), year=year)
    # Read under the year's lock: the prizes as they stand when they become final.
    winners = await winners_of(session, org_id=org_id, year=year)
    if not winners:
        await session.rollback()
        raise DomainError(N_("idea.no_winners"))
    await session.commit()
    return list(winners)


async def winners_of(session: AsyncSession, *, org_id: int, year: int) -> Sequence[Idea]:
    """Ideas with a prize (provisional until confirmed), 一等奖 first, then by number."""
    return (
        await session.exec(
            select(Idea)
            .where(
                Idea.organization_id == org_id,
                Idea.year == year,
                col(Idea.prize_level).is_not(None),
            )
            .order_by(col(Idea.prize_level), col(Idea.seq))
        )
    ).all()


async def mark_published(session: AsyncSession, *, org_id: int, year: int) -> IdeaYear:
    """Claim the one publication of the winners (after the awards are confirmed); guarded in
    the database, so two presses at once publish one 公示 notice."""
    row = await year_of(session, org_id=org_id, year=year)
    if row.awarded_at is None:
        raise DomainError(N_("idea.not_awarded_yet"))
    result = await session.exec(
        update(IdeaYear)
        .where(
            col(IdeaYear.id) == row.id,
            col(IdeaYear.awarded_at).is_not(None),
            col(IdeaYear.published_at).is_(None),
        )
        .values(published_at=utcnow())
    )
    await session.commit()
    if result.rowcount != 1:
        raise DomainError(N_("idea.already_published"), year=year)
    await session.refresh(row)
    return row


async def set_adopted(
    session: AsyncSession, *, org_id: int, idea_id: int, actor: Actor, adopted: bool
) -> Idea:
    """The committee marks an idea adopted (采纳), or takes that back; guarded in the database,
    so the author is told once. Raises when nothing changed."""
    _require_committee(actor)
    idea = await get_idea(session, org_id=org_id, idea_id=idea_id)
    done = await session.exec(
        update(Idea)
        .where(col(Idea.id) == idea_id, col(Idea.adopted) == (not adopted))
        .values(adopted=adopted, adopted_at=utcnow() if adopted else None)
    )
    await session.commit()
    if done.rowcount != 1:
        raise DomainError(N_("idea.adoption_unchanged"), number=idea.number)
    await session.refresh(idea)
    return idea


# ---- the year's figures ------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """共收到合理化建议 N 条，采纳 M 条，其中 a 条获一等奖..."""

    year: int
    received: int
    adopted: int
    prizes: tuple[tuple[int, int], ...]  # (level, how many), 一等奖 first
    awarded: bool


async def year_figures(session: AsyncSession, *, org_id: int, year: int) -> Figures:
    """The year's figures (prizes as set now; `awarded` says whether they are confirmed)."""
    ideas = await ideas_of_year(session, org_id=org_id, year=year)
    row = await year_of(session, org_id=org_id, year=year)
    levels = range(1, len(row.counts) + 1)
    return Figures(
        year=year,
        received=len(ideas),
        adopted=sum(1 for idea in ideas if idea.adopted),
        prizes=tuple(
            (level, sum(1 for idea in ideas if idea.prize_level == level)) for level in levels
        ),
        awarded=row.awarded_at is not None,
    )
