"""Activities and sign-ups (文体活动报名): capacity, waitlist, eligibility, lottery, check-in.

Seats are counted on the activity row itself: taking one is a single guarded UPDATE
(`seats_taken < capacity`), which both SQLite (one writer at a time) and PostgreSQL (the row is
locked by the UPDATE and the condition re-checked) apply one at a time, so no rush can give
more seats than there are. A member signs up at most once per activity (a unique key).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from sqlalchemy import String, Text, UniqueConstraint, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import written
from models.base import UTCDateTime, utcnow
from models.errors import N_, DomainError, InputError
from models.groups import check_departments
from models.members import DEPARTMENT_LIMIT, Actor, Gender, Member, MemberStatus
from models.validation import clean_text

TITLE_LIMIT = 60
DESCRIPTION_LIMIT = 1000
PLACE_LIMIT = 60
CHOICE_LIMIT = 20
MAX_CHOICES = 8
MAX_FAMILY = 5
CHECK_IN_BEFORE = timedelta(hours=2)  # members check in from this long before the start
CHECK_IN_AFTER = timedelta(hours=12)  # until this long after it


class ActivityCategory(StrEnum):
    """What kind of activity."""

    SPORT = "sport"
    CULTURE = "culture"
    HEALTH = "health"  # 体检
    OUTING = "outing"
    LECTURE = "lecture"
    CONTEST = "contest"


class SelectionMode(StrEnum):
    """How seats are given when there are more people than seats."""

    FIRST_COME = "first_come"  # seats in order, then a waitlist
    LOTTERY = "lottery"  # everyone applies; a draw at the deadline


class ActivityStatus(StrEnum):
    """Where an activity stands."""

    OPEN = "open"
    CLOSED = "closed"  # sign-up closed early, or the lottery was drawn
    CANCELLED = "cancelled"


class SignupStatus(StrEnum):
    """One member's place."""

    SEAT = "seat"
    WAITLIST = "waitlist"
    APPLIED = "applied"  # lottery: waiting for the draw
    CANCELLED = "cancelled"


class Activity(SQLModel, table=True):
    """One activity and its sign-up rules."""

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    title: str = Field(max_length=TITLE_LIMIT)
    description: str = Field(default="", sa_type=Text)
    category: str = Field(sa_type=String(16))
    starts_at: datetime = Field(sa_type=UTCDateTime)
    place: str = Field(max_length=PLACE_LIMIT)
    capacity: int | None = None  # None: unlimited
    deadline: datetime = Field(sa_type=UTCDateTime)
    eligibility: str = Field(default='{"type": "everyone"}', sa_type=Text)  # JSON
    choices: str = Field(default="[]", sa_type=Text)  # JSON list of names
    family_max: int = 0  # family members a participant may bring
    mode: str = Field(default=SelectionMode.FIRST_COME, sa_type=String(16))
    status: str = Field(default=ActivityStatus.OPEN, sa_type=String(16), index=True)
    seats_taken: int = 0
    queue_counter: int = 0  # hands out waitlist order
    drawn: bool = False
    created_by_member_id: int = Field(foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    def choice_list(self) -> list[str]:
        """The event items members choose from (empty: no choice)."""
        value = json.loads(self.choices or "[]")
        return [str(item) for item in value] if isinstance(value, list) else []

    def rule(self) -> dict[str, Any]:
        """Who may sign up."""
        value = json.loads(self.eligibility or "{}")
        return value if isinstance(value, dict) else {"type": "everyone"}


class Signup(SQLModel, table=True):
    """A member's sign-up."""

    __table_args__ = (UniqueConstraint("activity_id", "member_id", name="uq_signup_member"),)

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    status: str = Field(sa_type=String(16), index=True)
    queue_no: int = 0  # order on the waitlist (or in the lottery)
    choice: str | None = Field(default=None, sa_type=String(CHOICE_LIMIT))
    family: int = 0
    checked_in_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


@dataclass(frozen=True)
class NewActivity:
    """What the committee entered."""

    title: str
    description: str
    category: ActivityCategory
    starts_at: datetime
    place: str
    capacity: int | None
    deadline: datetime
    eligibility: dict[str, Any]
    choices: tuple[str, ...] = ()
    family_max: int = 0
    mode: SelectionMode = SelectionMode.FIRST_COME


async def create_activity(
    session: AsyncSession, *, org_id: int, actor: Actor, new: NewActivity, now: datetime
) -> Activity:
    """The committee creates an activity (announcing it is the caller's next step)."""
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))
    if new.deadline > new.starts_at:
        raise DomainError(N_("activity.deadline_after_start"))
    if new.starts_at <= now:
        raise DomainError(N_("activity.start_past"))
    if new.capacity is not None and not 1 <= new.capacity <= 10000:
        raise DomainError(N_("activity.capacity_invalid"))
    if not 0 <= new.family_max <= MAX_FAMILY or len(new.choices) > MAX_CHOICES:
        raise DomainError(N_("activity.capacity_invalid"))
    eligibility = dict(new.eligibility)
    if eligibility.get("type") == "departments":  # union groups that exist now
        names = eligibility.get("departments", [])
        eligibility["departments"] = await check_departments(session, org_id=org_id, names=names)
    activity = Activity(
        organization_id=org_id,
        title=clean_text(new.title, limit=TITLE_LIMIT),
        description=clean_text(new.description, limit=DESCRIPTION_LIMIT, multiline=True)
        if new.description.strip()
        else "",
        category=new.category,
        starts_at=new.starts_at,
        place=clean_text(new.place, limit=PLACE_LIMIT),
        capacity=new.capacity,
        deadline=new.deadline,
        eligibility=json.dumps(eligibility, ensure_ascii=False),
        choices=json.dumps(
            [clean_text(choice, limit=CHOICE_LIMIT) for choice in new.choices], ensure_ascii=False
        ),
        family_max=new.family_max,
        mode=new.mode,
        created_by_member_id=actor.id,
    )
    session.add(activity)
    await session.commit()
    await session.refresh(activity)
    return activity


async def get_activity(session: AsyncSession, *, org_id: int, activity_id: int) -> Activity:
    """An activity of this organization (ids from buttons can be forged)."""
    activity = await session.get(Activity, activity_id, populate_existing=True)
    if activity is None or activity.organization_id != org_id:
        raise DomainError(N_("activity.not_found"))
    return activity


# ---- eligibility -------------------------------------------------------------------------


def age_on(member: Member, day: date) -> int | None:
    """Age in whole years on `day`, if the member gave a full birthday."""
    if member.birth_year is None or member.birth_month is None or member.birth_day is None:
        return None
    before_birthday = (day.month, day.day) < (member.birth_month, member.birth_day)
    return day.year - member.birth_year - int(before_birthday)


def is_eligible(activity: Activity, member: Member, day: date) -> bool:
    """Whether the member is in the activity's audience."""
    if member.status != MemberStatus.ACTIVE:
        return False
    rule = activity.rule()
    kind = rule.get("type", "everyone")
    if kind == "women":
        return member.gender == Gender.FEMALE
    if kind == "retirees":
        return bool(member.retired)
    if kind == "departments":
        return member.department in [str(d) for d in rule.get("departments", [])]
    if kind == "age":
        age = age_on(member, day)
        if age is None:
            return False
        low, high = int(rule.get("min") or 0), int(rule.get("max") or 200)
        return low <= age <= high
    return True


def not_eligible(activity: Activity, member: Member) -> DomainError:
    """Why the member may not sign up, in words they can act on: an age rule says the ages, and
    asks for the birthday in /me when it is missing."""
    rule = activity.rule()
    if member.status == MemberStatus.ACTIVE and rule.get("type") == "age":
        low, high = rule.get("min"), rule.get("max")
        ages = f"{low}–{high}" if low and high else (f"{low}+" if low else f"≤{high}")
        if None in (member.birth_year, member.birth_month, member.birth_day):
            return DomainError(N_("activity.no_birthday"), ages=ages)
        return DomainError(N_("activity.not_eligible_age"), ages=ages)
    return DomainError(N_("activity.not_eligible"))


async def eligible_members(
    session: AsyncSession, *, org_id: int, activity: Activity, day: date
) -> list[Member]:
    """Active members with Telegram who may sign up (the announcement's audience)."""
    members = (
        await session.exec(
            select(Member).where(
                Member.organization_id == org_id,
                Member.status == MemberStatus.ACTIVE,
                col(Member.telegram_user_id).is_not(None),
            )
        )
    ).all()
    return [member for member in members if is_eligible(activity, member, day)]


# ---- signing up --------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """What a member got."""

    signup: Signup
    position: int | None  # 1-based place on the waitlist (None with a seat)
    activity: Activity | None = None


async def _take_seat(session: AsyncSession, activity_id: int) -> bool:
    """One guarded UPDATE: True if a seat was free and is now taken."""
    result = await session.exec(
        update(Activity)
        .where(col(Activity.id) == activity_id, _SEAT_FREE)
        .values(seats_taken=Activity.seats_taken + 1)
    )
    return result.rowcount == 1


_SEAT_FREE = (col(Activity.capacity).is_(None)) | (col(Activity.seats_taken) < Activity.capacity)


def waitlist_places(signups: Iterable[Signup]) -> dict[int, int]:
    """The one numbering of a waitlist: member id -> 1-based place.

    A place is the person's current position among those waiting (queue order), so it is the
    place they were told when they joined and moves up as someone ahead cancels or is seated.
    The sign-up alert, /activities, /mine, the committee's list and the export all use it.
    """
    waiting = sorted(
        (s for s in signups if s.status == SignupStatus.WAITLIST), key=lambda s: s.queue_no
    )
    return {signup.member_id: place for place, signup in enumerate(waiting, start=1)}


async def waitlist_of(session: AsyncSession, *, activity_id: int) -> dict[int, int]:
    """The places on one activity's waitlist now (member id -> place)."""
    waiting = await signups_of(session, activity_id=activity_id, statuses=[SignupStatus.WAITLIST])
    return waitlist_places(waiting)


async def waitlist_position(session: AsyncSession, *, signup: Signup) -> int:
    """1-based place on the waitlist (0 when not waiting)."""
    return (await waitlist_of(session, activity_id=signup.activity_id)).get(signup.member_id, 0)


@dataclass(frozen=True)
class SignupRequest:
    """One press of Sign up."""

    actor: Actor
    choice: str | None = None
    family: int = 0
    choice_index: int | None = None  # a button's item, resolved against the activity
    arrival: int = 0  # Telegram's update id: the order presses reached Telegram
    # The union's local day of the press, on which an age rule counts birthdays (the UTC date
    # is a day behind in Shanghai before 08:00); None: the UTC date of `now`.
    today: date | None = None


def _check_request(activity: Activity, request: SignupRequest, now: datetime) -> None:
    """The rules a press must pass before it can take a place (nothing is written)."""
    if activity.status == ActivityStatus.CANCELLED:
        raise DomainError(N_("activity.cancelled"))
    if activity.status != ActivityStatus.OPEN or now > activity.deadline:
        raise DomainError(N_("activity.deadline_passed"))
    if not is_eligible(activity, request.actor.member, request.today or now.date()):
        raise not_eligible(activity, request.actor.member)
    choices = activity.choice_list()
    choice = request.choice
    if request.choice_index is not None or (choices and choice is None):
        choice = choice_at(activity, request.choice_index)
    if (choices and choice not in choices) or (not choices and choice is not None):
        raise DomainError(N_("activity.choice_unknown"))
    if not 0 <= request.family <= activity.family_max:
        raise DomainError(N_("activity.family_too_many"), max=activity.family_max)


async def sign_up_many(
    session: AsyncSession,
    *,
    org_id: int,
    activity_id: int,
    requests: Sequence[SignupRequest],
    now: datetime,
) -> list[Place | DomainError]:
    """Presses on one activity, in arrival order, in one transaction: each gets a seat, a
    waitlist place (in that order) or a lottery entry, or the reason it was refused.

    The activity row is locked by the first UPDATE (which also hands out the queue numbers),
    so a rush is written as a few batches instead of hundreds of transactions queueing on one
    row, and the seats given can never exceed the capacity. An IntegrityError (another
    process signed the same member up at this moment) rolls the whole batch back; the caller
    retries the presses one by one.
    """
    activity = await get_activity(session, org_id=org_id, activity_id=activity_id)
    results: list[Place | DomainError | None] = [None] * len(requests)
    member_ids = [request.actor.id for request in requests]
    existing = {
        row.member_id: row
        for row in (
            await session.exec(
                select(Signup).where(
                    Signup.activity_id == activity_id, col(Signup.member_id).in_(member_ids)
                )
            )
        ).all()
    }
    todo: list[int] = []
    taking: set[int] = set()
    for index, request in enumerate(requests):
        try:
            _check_request(activity, request, now)
        except DomainError as error:
            results[index] = error
            continue
        row = existing.get(request.actor.id)
        if request.actor.id in taking or (row is not None and row.status != SignupStatus.CANCELLED):
            results[index] = DomainError(N_("activity.signed_up_already"))
            continue
        taking.add(request.actor.id)
        todo.append(index)
    if todo:
        await _place_batch(session, activity, requests, todo, existing, results)
    return [
        result if result is not None else DomainError(N_("suggestion.busy")) for result in results
    ]


async def _place_batch(
    session: AsyncSession,
    activity: Activity,
    requests: Sequence[SignupRequest],
    todo: list[int],
    existing: dict[int, Signup],
    results: list[Place | DomainError | None],
) -> None:
    activity_id = activity.id or 0
    claimed = (
        await session.exec(
            update(Activity)
            .where(col(Activity.id) == activity_id)
            .values(queue_counter=Activity.queue_counter + len(todo))
            .returning(
                col(Activity.queue_counter), col(Activity.seats_taken), col(Activity.capacity)
            )
        )
    ).one()
    last_no, taken, capacity = int(claimed[0]), int(claimed[1]), claimed[2]
    first_no = last_no - len(todo) + 1
    lottery = activity.mode == SelectionMode.LOTTERY
    free = len(todo) if capacity is None else max(0, int(capacity) - taken)
    seats = 0 if lottery else min(free, len(todo))
    if seats:
        await session.exec(
            update(Activity)
            .where(col(Activity.id) == activity_id)
            .values(seats_taken=Activity.seats_taken + seats)
        )
    placed: list[tuple[int, Signup]] = []
    fresh: list[dict[str, Any]] = []
    for offset, index in enumerate(todo):
        request = requests[index]
        if lottery:
            status = SignupStatus.APPLIED
        else:
            status = SignupStatus.SEAT if offset < seats else SignupStatus.WAITLIST
        choice = request.choice
        if request.choice_index is not None:
            choice = choice_at(activity, request.choice_index)
        values: dict[str, Any] = {
            "activity_id": activity_id,
            "member_id": request.actor.id,
            "status": status,
            "queue_no": first_no + offset,
            "choice": choice,
            "family": request.family,
            "created_at": utcnow(),
        }
        again = existing.get(request.actor.id)
        if again is None:
            fresh.append(values)
            signup = Signup(**values)
        else:
            # Signing up again after cancelling goes to the back of the queue.
            for key, value in values.items():
                setattr(again, key, value)
            session.add(again)
            signup = again
        placed.append((index, signup))
    if fresh:  # one multi-row INSERT: a rush is hundreds of rows at a time
        await session.exec(insert(Signup), params=fresh)
    await session.commit()
    places = await waitlist_of(session, activity_id=activity_id)
    for index, signup in placed:
        position = places.get(signup.member_id) if signup.status == SignupStatus.WAITLIST else None
        results[index] = Place(signup, position, activity)


async def sign_up(
    session: AsyncSession,
    *,
    org_id: int,
    activity_id: int,
    actor: Actor,
    choice: str | None,
    family: int,
    now: datetime,
) -> Place:
    """One press: a seat, a waitlist place, or (lottery) an application; all or nothing."""
    try:
        (result,) = await sign_up_many(
            session,
            org_id=org_id,
            activity_id=activity_id,
            requests=[SignupRequest(actor, choice, family)],
            now=now,
        )
    except IntegrityError as exc:
        await session.rollback()  # the same member pressed twice at once: one sign-up
        raise DomainError(N_("activity.signed_up_already")) from exc
    if isinstance(result, DomainError):
        raise result
    return result


@dataclass(frozen=True)
class Cancellation:
    """What a cancellation changed."""

    signup: Signup
    promoted: Signup | None  # the first on the waitlist, now seated
    waitlist_to_tell: tuple[int, ...]  # member ids told a seat freed (after the deadline)
    title: str = ""  # the activity's title, for the messages


async def cancel_signup(
    session: AsyncSession, *, org_id: int, activity_id: int, actor: Actor, now: datetime
) -> Cancellation:
    """Cancel one's own sign-up; before the deadline the first on the waitlist gets the seat."""
    activity = await get_activity(session, org_id=org_id, activity_id=activity_id)
    # Read now: a rollback below expires the loaded activity (no lazy loads in async).
    promote = activity.status == ActivityStatus.OPEN and now <= activity.deadline
    title = activity.title
    for _attempt in range(3):
        signup = (
            await session.exec(
                select(Signup)
                .where(
                    Signup.activity_id == activity_id,
                    Signup.member_id == actor.id,
                    col(Signup.status) != SignupStatus.CANCELLED,
                )
                .execution_options(populate_existing=True)
            )
        ).first()
        if signup is None:
            raise DomainError(N_("activity.no_signup"))
        # Read before the UPDATE: the ORM brings the loaded object up to date with it.
        was = signup.status
        guarded = await session.exec(
            update(Signup)
            .where(col(Signup.id) == signup.id, col(Signup.status) == was)
            .values(status=SignupStatus.CANCELLED)
        )
        if guarded.rowcount == 1:
            break
        # Promoted (or drawn) at this very moment: read the new place and cancel that.
        await session.rollback()
    else:
        raise DomainError(N_("suggestion.busy"))
    had_seat = was == SignupStatus.SEAT
    promoted: Signup | None = None
    told: tuple[int, ...] = ()
    if had_seat:
        await session.exec(
            update(Activity)
            .where(col(Activity.id) == activity_id)
            .values(seats_taken=Activity.seats_taken - 1)
        )
        if promote:
            promoted = await _promote_first(session, activity_id)
        else:
            told = tuple(await _waitlisted_ids(session, activity_id))
    await session.commit()
    await session.refresh(signup)
    return Cancellation(signup, promoted, told, title)


async def _waitlisted_ids(session: AsyncSession, activity_id: int) -> list[int]:
    return list(
        (
            await session.exec(
                select(Signup.member_id)
                .where(Signup.activity_id == activity_id, Signup.status == SignupStatus.WAITLIST)
                .order_by(col(Signup.queue_no))
            )
        ).all()
    )


async def _promote_first(session: AsyncSession, activity_id: int) -> Signup | None:
    """Seat the first on the waitlist if a seat is free (in the caller's transaction)."""
    first = (
        await session.exec(
            select(Signup)
            .where(Signup.activity_id == activity_id, Signup.status == SignupStatus.WAITLIST)
            .order_by(col(Signup.queue_no))
        )
    ).first()
    if first is None or not await _take_seat(session, activity_id):
        return None
    moved = await session.exec(
        update(Signup)
        .where(col(Signup.id) == first.id, col(Signup.status) == SignupStatus.WAITLIST)
        .values(status=SignupStatus.SEAT)
    )
    if moved.rowcount != 1:  # cancelled at this very moment: give the seat back
        await session.exec(
            update(Activity)
            .where(col(Activity.id) == activity_id)
            .values(seats_taken=Activity.seats_taken - 1)
        )
        return None
    first.status = SignupStatus.SEAT
    return first


# ---- the lottery -------------------------------------------------------------------------


@dataclass(frozen=True)
class Draw:
    """Who won and who waits, in the drawn order."""

    seated: tuple[int, ...]
    waiting: tuple[int, ...]


async def draw_lottery(
    session: AsyncSession, *, org_id: int, activity_id: int, now: datetime, rng: random.Random
) -> Draw | None:
    """At the deadline: everyone if there is room, else a draw; the rest wait in drawn order.
    None if it was drawn already (a second run does nothing)."""
    activity = await get_activity(session, org_id=org_id, activity_id=activity_id)
    if activity.mode != SelectionMode.LOTTERY or now < activity.deadline:
        return None
    claimed = await session.exec(
        update(Activity)
        .where(col(Activity.id) == activity_id, col(Activity.drawn).is_(False))
        .values(drawn=True, status=ActivityStatus.CLOSED)
    )
    if claimed.rowcount != 1:
        await session.rollback()
        return None
    applied = list(
        (
            await session.exec(
                select(Signup)
                .where(Signup.activity_id == activity_id, Signup.status == SignupStatus.APPLIED)
                .order_by(col(Signup.queue_no))
            )
        ).all()
    )
    rng.shuffle(applied)
    room = len(applied) if activity.capacity is None else activity.capacity
    for order, signup in enumerate(applied, start=1):
        signup.queue_no = order
        signup.status = SignupStatus.SEAT if order <= room else SignupStatus.WAITLIST
        session.add(signup)
    seated = [s.member_id for s in applied if s.status == SignupStatus.SEAT]
    await session.exec(
        update(Activity).where(col(Activity.id) == activity_id).values(seats_taken=len(seated))
    )
    await session.commit()
    return Draw(
        tuple(seated), tuple(s.member_id for s in applied if s.status == SignupStatus.WAITLIST)
    )


# ---- the committee -----------------------------------------------------------------------


async def signups_of(
    session: AsyncSession, *, activity_id: int, statuses: Sequence[SignupStatus]
) -> Sequence[Signup]:
    """Sign-ups in these states, in queue order."""
    return (
        await session.exec(
            select(Signup)
            .where(Signup.activity_id == activity_id, col(Signup.status).in_(list(statuses)))
            .order_by(col(Signup.queue_no))
        )
    ).all()


async def close_early(
    session: AsyncSession, *, org_id: int, activity_id: int, actor: Actor
) -> Activity:
    """Stop taking sign-ups now."""
    return await _set_status(session, org_id, activity_id, actor, ActivityStatus.CLOSED)


async def cancel_activity(
    session: AsyncSession, *, org_id: int, activity_id: int, actor: Actor
) -> Activity:
    """Cancel the activity (everyone signed up is told by the caller)."""
    return await _set_status(session, org_id, activity_id, actor, ActivityStatus.CANCELLED)


async def _set_status(
    session: AsyncSession, org_id: int, activity_id: int, actor: Actor, status: ActivityStatus
) -> Activity:
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))
    await get_activity(session, org_id=org_id, activity_id=activity_id)
    result = await session.exec(
        update(Activity)
        .where(col(Activity.id) == activity_id, col(Activity.status) == ActivityStatus.OPEN)
        .values(status=status)
    )
    if result.rowcount != 1 and status == ActivityStatus.CLOSED:
        await session.rollback()
        raise DomainError(N_("activity.not_open"))
    if result.rowcount != 1:
        cancelled = await session.exec(
            update(Activity)
            .where(col(Activity.id) == activity_id, col(Activity.status) == ActivityStatus.CLOSED)
            .values(status=status)
        )
        if cancelled.rowcount != 1:
            await session.rollback()
            raise DomainError(N_("activity.cancelled"))
    await session.commit()
    return await get_activity(session, org_id=org_id, activity_id=activity_id)


async def reschedule(
    session: AsyncSession,
    *,
    org_id: int,
    activity_id: int,
    actor: Actor,
    starts_at: datetime | None,
    place: str | None,
    now: datetime,
) -> Activity:
    """Change the time or the place (the caller tells everyone signed up)."""
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))
    activity = await get_activity(session, org_id=org_id, activity_id=activity_id)
    if activity.status == ActivityStatus.CANCELLED:
        raise DomainError(N_("activity.cancelled"))
    if starts_at is not None:
        if starts_at <= now:
            raise DomainError(N_("activity.start_past"))
        activity.starts_at = starts_at
        if activity.deadline > starts_at:
            activity.deadline = starts_at
    if place is not None:
        activity.place = clean_text(place, limit=PLACE_LIMIT)
    session.add(activity)
    await session.commit()
    return await get_activity(session, org_id=org_id, activity_id=activity_id)


@dataclass(frozen=True)
class CapacityChange:
    """What a new capacity did."""

    activity: Activity
    moved: list[int]  # seated members moved to the head of the waitlist
    promoted: list[int]  # waiting members who got a new seat


async def change_capacity(
    session: AsyncSession,
    *,
    org_id: int,
    activity_id: int,
    actor: Actor,
    capacity: int,
    now: datetime,
) -> CapacityChange:
    """Set a new capacity. Below the number seated, the latest seated move to the head of the
    waitlist in their order; above it (before the deadline), the first waiting get the seats."""
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))
    if not 1 <= capacity <= 10000:
        raise DomainError(N_("activity.capacity_invalid"))
    activity = (
        await session.exec(
            select(Activity)
            .where(Activity.id == activity_id)
            .with_for_update()  # sign-ups wait while the seats are recounted
            .execution_options(populate_existing=True)
        )
    ).first()
    if activity is None or activity.organization_id != org_id:
        raise DomainError(N_("activity.not_found"))
    if activity.status == ActivityStatus.CANCELLED:
        raise DomainError(N_("activity.cancelled"))
    seated = list(await signups_of(session, activity_id=activity_id, statuses=[SignupStatus.SEAT]))
    moved = seated[capacity:]
    waiting = await signups_of(session, activity_id=activity_id, statuses=[SignupStatus.WAITLIST])
    first_waiting = min((s.queue_no for s in waiting), default=0)
    for offset, signup in enumerate(moved):
        signup.status = SignupStatus.WAITLIST
        signup.queue_no = first_waiting - len(moved) + offset
        session.add(signup)
    await session.exec(
        update(Activity)
        .where(col(Activity.id) == activity_id)
        .values(capacity=capacity, seats_taken=min(len(seated), capacity))
    )
    promoted: list[int] = []
    growing = len(seated) < capacity and activity.mode == SelectionMode.FIRST_COME
    if growing and activity.status == ActivityStatus.OPEN and now <= activity.deadline:
        while (first := await _promote_first(session, activity_id)) is not None:
            promoted.append(first.member_id)
    await session.commit()
    fresh = await get_activity(session, org_id=org_id, activity_id=activity_id)
    return CapacityChange(fresh, [s.member_id for s in moved], promoted)


async def check_in(
    session: AsyncSession,
    *,
    org_id: int,
    activity_id: int,
    member_id: int,
    now: datetime,
    by_committee: bool = False,
) -> Signup:
    """Check in a seated participant: by themselves around the start, or by the committee."""
    activity = await get_activity(session, org_id=org_id, activity_id=activity_id)
    if activity.status == ActivityStatus.CANCELLED:
        raise DomainError(N_("activity.cancelled"))
    opens, closes = activity.starts_at - CHECK_IN_BEFORE, activity.starts_at + CHECK_IN_AFTER
    if not by_committee and not opens <= now <= closes:
        raise DomainError(N_("activity.check_in_closed"))
    signup = (
        await session.exec(
            select(Signup).where(
                Signup.activity_id == activity_id,
                Signup.member_id == member_id,
                Signup.status == SignupStatus.SEAT,
            )
        )
    ).first()
    if signup is None:
        raise DomainError(N_("activity.no_seat"))
    if signup.checked_in_at is None:
        signup.checked_in_at = now
        session.add(signup)
        await session.commit()
        await session.refresh(signup)
    return signup


@dataclass(frozen=True)
class Participation:
    """An activity's figures."""

    eligible: int
    signed_up: int  # seats
    waiting: int
    attended: int


async def participation(
    session: AsyncSession, *, org_id: int, activity: Activity, day: date
) -> Participation:
    """Eligible, signed up (seated), waiting, attended."""
    eligible = len(await eligible_members(session, org_id=org_id, activity=activity, day=day))
    rows = await signups_of(
        session,
        activity_id=activity.id or 0,
        statuses=[SignupStatus.SEAT, SignupStatus.WAITLIST, SignupStatus.APPLIED],
    )
    return Participation(
        eligible=eligible,
        signed_up=sum(1 for s in rows if s.status == SignupStatus.SEAT),
        waiting=sum(1 for s in rows if s.status != SignupStatus.SEAT),
        attended=sum(1 for s in rows if s.checked_in_at is not None),
    )


async def open_activities(
    session: AsyncSession, *, org_id: int, now: datetime
) -> Sequence[Activity]:
    """Activities not yet started and not cancelled, soonest first."""
    return (
        await session.exec(
            select(Activity)
            .where(
                Activity.organization_id == org_id,
                col(Activity.status) != ActivityStatus.CANCELLED,
                col(Activity.starts_at) > now,
            )
            .order_by(col(Activity.starts_at))
        )
    ).all()


async def signup_of(session: AsyncSession, *, activity_id: int, member_id: int) -> Signup | None:
    """A member's live sign-up, if any."""
    return (
        await session.exec(
            select(Signup).where(
                Signup.activity_id == activity_id,
                Signup.member_id == member_id,
                col(Signup.status) != SignupStatus.CANCELLED,
            )
        )
    ).first()


def parse_when(text: str, *, now: datetime, zone: tzinfo) -> datetime:
    """A local date and time as people type them (下周五下午三点半, 明天上午9点, 12月5日14点,
    2026-12-05 14:00); a date without a year is the next one from now. Returned in UTC."""
    moment = written.moment(text, now=now, zone=zone, direction="future")
    if moment is None:
        raise DomainError(N_("activity.when_format"))
    return moment.astimezone(UTC)


def choice_at(activity: Activity, index: int | None) -> str | None:
    """The choice a button carries (by position), checked against the activity."""
    choices = activity.choice_list()
    if index is not None and not 0 <= index < len(choices):
        raise DomainError(N_("activity.choice_unknown"))
    if choices and index is None:
        raise DomainError(N_("activity.choice_needed"))
    return choices[index] if index is not None else None


async def set_family(
    session: AsyncSession, *, org_id: int, activity_id: int, member_id: int, count: int
) -> Signup:
    """How many family members come along."""
    activity = await get_activity(session, org_id=org_id, activity_id=activity_id)
    signup = await signup_of(session, activity_id=activity_id, member_id=member_id)
    if signup is None:
        raise DomainError(N_("activity.no_signup"))
    if not 0 <= count <= activity.family_max:
        raise DomainError(N_("activity.family_too_many"), max=activity.family_max)
    signup.family = count
    session.add(signup)
    await session.commit()
    return signup


@dataclass(frozen=True)
class PeriodLine:
    """One category's activities in a period."""

    category: str
    activities: int
    eligible: int
    signed_up: int
    attended: int


async def period_figures(
    session: AsyncSession, *, org_id: int, start: datetime, end: datetime, day: date
) -> list[PeriodLine]:
    """Activities that started in [start, end), not cancelled, summed by category. Eligible
    members are counted as the roster stands on `day`."""
    activities = (
        await session.exec(
            select(Activity).where(
                Activity.organization_id == org_id,
                col(Activity.status) != ActivityStatus.CANCELLED,
                col(Activity.starts_at) >= start,
                col(Activity.starts_at) < end,
            )
        )
    ).all()
    totals: dict[str, list[int]] = {}
    for activity in activities:
        figures = await participation(session, org_id=org_id, activity=activity, day=day)
        line = totals.setdefault(activity.category, [0, 0, 0, 0])
        line[0] += 1
        line[1] += figures.eligible
        line[2] += figures.signed_up
        line[3] += figures.attended
    return [PeriodLine(category, *values) for category, values in sorted(totals.items())]


TEAM_NAMES_MAX = 30


class Team(SQLModel, table=True):
    """A department's team for a contest between departments, entered by its contact."""

    __table_args__ = (UniqueConstraint("activity_id", "department", name="uq_team_department"),)

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True)
    # As long as a member's department may be (it is copied from the contact's record).
    department: str = Field(sa_type=String(DEPARTMENT_LIMIT))
    contact_member_id: int = Field(foreign_key="member.id")
    names: str = Field(sa_type=Text)  # the players, separated by 、
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    def name_list(self) -> list[str]:
        """The players."""
        return [name for name in self.names.split("、") if name]


def split_names(text: str) -> list[str]:
    """Names typed as 张三、李四，王五 or with commas or spaces."""
    cleaned = clean_text(text, limit=600)
    for separator in ("，", ",", " ", "　"):
        cleaned = cleaned.replace(separator, "、")
    return [name.strip() for name in cleaned.split("、") if name.strip()]


async def register_team(
    session: AsyncSession,
    *,
    org_id: int,
    activity_id: int,
    actor: Actor,
    names: list[str],
    now: datetime,
    today: date,
) -> Team:
    """A department contact enters their department's team (one per department); an age rule
    counts birthdays on `today`, the union's local day."""
    activity = await get_activity(session, org_id=org_id, activity_id=activity_id)
    if activity.category != ActivityCategory.CONTEST:
        raise DomainError(N_("activity.teams_contest_only"))
    if activity.status == ActivityStatus.CANCELLED:
        raise DomainError(N_("activity.cancelled"))
    if activity.status != ActivityStatus.OPEN or now > activity.deadline:
        raise DomainError(N_("activity.deadline_passed"))
    if not is_eligible(activity, actor.member, today):
        raise not_eligible(activity, actor.member)
    if not 1 <= len(names) <= TEAM_NAMES_MAX or any(len(name) > 20 for name in names):
        raise InputError(N_("activity.team_names_invalid"), max=TEAM_NAMES_MAX)
    team = Team(
        activity_id=activity_id,
        department=actor.member.department,
        contact_member_id=actor.id,
        names="、".join(names),
    )
    session.add(team)
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise DomainError(N_("activity.team_exists")) from exc
    await session.refresh(team)
    return team


async def withdraw_team(
    session: AsyncSession, *, org_id: int, activity_id: int, actor: Actor
) -> Team:
    """The contact (or the committee) withdraws the department's team."""
    await get_activity(session, org_id=org_id, activity_id=activity_id)
    team = (
        await session.exec(
            select(Team).where(
                Team.activity_id == activity_id, Team.department == actor.member.department
            )
        )
    ).first()
    if team is None or (team.contact_member_id != actor.id and not actor.is_committee):
        raise DomainError(N_("activity.no_team"))
    await session.delete(team)
    await session.commit()
    return team


async def teams_of(session: AsyncSession, *, activity_id: int) -> Sequence[Team]:
    """Teams entered for an activity, by department."""
    return (
        await session.exec(
            select(Team).where(Team.activity_id == activity_id).order_by(col(Team.department))
        )
    ).all()
