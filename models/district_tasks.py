"""Tasks the district union sends down to its schools (区工会下发任务): 四月底前报送校务公开评估,
五一前技能大赛报名, the monthly 月报 ...

A `DistrictTask` belongs to the district; it gets one `TaskAssignment` per school it was sent
to. A school answers once, by its chair (or vice-chair): "done", or a file sent back. The
change pending -> done is a conditional UPDATE, so a double press or two chairs at once give
one record, and the second is told who did it first. Who may answer is checked against the
database at the moment of the press (an active chair or vice-chair of that assignment's own
school), never from what the button says.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import String, Text, UniqueConstraint, case, func, or_, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import UTCDateTime, utcnow
from models.errors import N_, DomainError, InputError
from models.exports import append_row
from models.members import Member, MemberRole, MemberStatus, Role
from models.organizations import Organization, OrgKind
from models.outbox import withhold_pending_prefixed
from models.validation import clean_text

if TYPE_CHECKING:
    from bot.i18n import Translator

TITLE_LIMIT = 100
BODY_LIMIT = 3000
NOTE_LIMIT = 200
FILE_NAME_LIMIT = 255
REMIND_DAYS = 2  # pending schools are reminded from this many days before the deadline
MAX_DAYS_AHEAD = 366  # a deadline further away is a typo
# "03-05" typed in December means next March; a day this many days back or less is "past".
ROLL_OVER_AFTER_DAYS = 60
ANSWERING = (Role.CHAIR, Role.VICE_CHAIR)  # who answers for a school


class AnswerKind(StrEnum):
    """How a school answers."""

    FILE = "file"  # sends a file back (a form, a list, a report)
    DONE = "done"  # marks it done


class AssignmentStatus(StrEnum):
    """Where one school stands on one task."""

    PENDING = "pending"
    DONE = "done"


class DistrictTask(SQLModel, table=True):
    """A task the district sent to some or all of its schools."""

    __tablename__ = "district_task"

    id: int | None = Field(default=None, primary_key=True)
    district_id: int = Field(foreign_key="organization.id", index=True)
    title: str = Field(max_length=TITLE_LIMIT)
    body: str = Field(sa_type=Text)
    deadline: date = Field(index=True)
    file_id: str | None = Field(default=None, sa_type=String(255), nullable=True)
    file_name: str | None = Field(default=None, sa_type=String(255), nullable=True)
    answer_kind: str = Field(default=AnswerKind.DONE, sa_type=String(8))
    created_by_member_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Withdrawn by the district (sent in error): no answer, reminder or "remind now" after it.
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class TaskAssignment(SQLModel, table=True):
    """One school's copy of a task and its answer."""

    __tablename__ = "district_task_school"
    __table_args__ = (UniqueConstraint("task_id", "school_id", name="uq_district_task_school"),)

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="district_task.id", index=True)
    school_id: int = Field(foreign_key="organization.id", index=True)
    status: str = Field(default=AssignmentStatus.PENDING, sa_type=String(16), index=True)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_by_member_id: int | None = Field(default=None, foreign_key="member.id")
    reply_file_id: str | None = Field(default=None, sa_type=String(255), nullable=True)
    reply_file_name: str | None = Field(default=None, sa_type=String(255), nullable=True)
    note: str | None = Field(default=None, sa_type=String(NOTE_LIMIT), nullable=True)
    reminded_on: date | None = Field(default=None)


class RuleEvery(StrEnum):
    """How often a rule sends its task again."""

    MONTH = "month"  # the 月报
    YEAR = "year"  # 四月底前报送校务公开评估, every spring


class TaskRule(SQLModel, table=True):
    """A task sent again every month (the 月报) or every year (校务公开评估): on `day` of each
    month, or of `month` each year (the month's last day when it is shorter), to all the
    district's schools then, due `due_days` later."""

    __tablename__ = "district_task_rule"

    id: int | None = Field(default=None, primary_key=True)
    district_id: int = Field(foreign_key="organization.id", index=True)
    source_task_id: int = Field(foreign_key="district_task.id", unique=True)
    day: int
    due_days: int
    active: bool = True
    every: str = Field(default=RuleEvery.MONTH, sa_type=String(5))
    month: int | None = None  # a yearly rule's month (1-12)
    # The month ("2027-04") of the last task made, for either kind of rule: claimed in the
    # database (compared whole every month, by its year every year), so a period gets one.
    last_month: str | None = Field(default=None, sa_type=String(7), nullable=True)
    created_by_member_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# ---- the deadline ---------------------------------------------------------------------------

_FULL = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")
_SHORT = re.compile(r"^\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")


def parse_deadline(text: str, *, today: date) -> date:
    """The deadline typed as YYYY-MM-DD or MM-DD (also 2027/4/30, 4月30日); InputError for
    anything else, a past day or one more than a year away."""
    full, short = _FULL.match(text), _SHORT.match(text)
    try:
        if full is not None:
            day = date(int(full[1]), int(full[2]), int(full[3]))
        elif short is not None:
            day = date(today.year, int(short[1]), int(short[2]))
            # A month-day well behind us means next year (December typing 01-15); a few days
            # back is a mistake the person should see, not a deadline a year away.
            if (today - day).days > ROLL_OVER_AFTER_DAYS:
                day = date(today.year + 1, day.month, day.day)
        else:
            raise InputError(N_("dtask.deadline_unreadable"))
    except ValueError:
        raise InputError(N_("dtask.deadline_unreadable")) from None
    if day < today:
        raise InputError(N_("dtask.deadline_past"), day=day.isoformat())
    if (day - today).days > MAX_DAYS_AHEAD:
        raise InputError(N_("dtask.deadline_far"), day=day.isoformat())
    return day


# ---- creating -------------------------------------------------------------------------------


async def create_task(
    session: AsyncSession,
    *,
    district_id: int,
    title: str,
    body: str,
    deadline: date,
    today: date,
    answer_kind: AnswerKind,
    school_ids: Sequence[int],
    created_by: int | None,
    file_id: str | None = None,
    file_name: str | None = None,
    commit: bool = True,
) -> tuple[DistrictTask, list[TaskAssignment]]:
    """Store a task and one pending assignment per school (each a school of this district);
    without `commit`, the caller commits (a monthly rule claims its month in the same
    transaction)."""
    district = await session.get(Organization, district_id)
    if district is None or district.kind != OrgKind.DISTRICT:
        raise DomainError(N_("dtask.not_district"))
    if deadline < today:  # it passed while the preview waited: the form asks for it again
        raise InputError(N_("dtask.deadline_past"), day=deadline.isoformat())
    wanted = sorted(set(school_ids))
    found = await session.exec(
        select(Organization.id).where(
            col(Organization.id).in_(wanted),
            Organization.parent_id == district_id,
            Organization.kind == OrgKind.SCHOOL,
        )
    )
    if not wanted or len(list(found)) != len(wanted):
        raise DomainError(N_("dtask.no_schools"))
    task = DistrictTask(
        district_id=district_id,
        title=clean_text(title, limit=TITLE_LIMIT, needs_words=True),
        body=clean_text(body, limit=BODY_LIMIT, multiline=True, needs_words=True),
        deadline=deadline,
        answer_kind=answer_kind,
        created_by_member_id=created_by,
        file_id=file_id,
        file_name=(file_name or "")[:FILE_NAME_LIMIT] or None,
    )
    session.add(task)
    await session.flush()
    assert task.id is not None
    assignments = [TaskAssignment(task_id=task.id, school_id=school) for school in wanted]
    session.add_all(assignments)
    if commit:
        await session.commit()
    else:
        await session.flush()
    return task, assignments


async def get_task(session: AsyncSession, *, district_id: int, task_id: int) -> DistrictTask:
    """A task of this district (ids from buttons can be forged)."""
    task = await session.get(DistrictTask, task_id)
    if task is None or task.district_id != district_id:
        raise DomainError(N_("dtask.unknown"))
    return task


async def get_assignment(
    session: AsyncSession, *, assignment_id: int
) -> tuple[TaskAssignment, DistrictTask]:
    """An assignment and its task, or DomainError."""
    assignment = await session.get(TaskAssignment, assignment_id)
    task = await session.get(DistrictTask, assignment.task_id) if assignment else None
    if assignment is None or task is None:
        raise DomainError(N_("dtask.unknown"))
    return assignment, task


# ---- who answers for a school ----------------------------------------------------------------


async def school_chairs(
    session: AsyncSession, *, school_ids: Sequence[int], roles: Sequence[Role] = (Role.CHAIR,)
) -> dict[int, list[Member]]:
    """The active holders of `roles` in each school (chairs by default), by name."""
    query = (
        select(Member)
        .join(MemberRole, col(MemberRole.member_id) == col(Member.id))
        .where(
            col(Member.organization_id).in_(list(school_ids)),
            Member.status == MemberStatus.ACTIVE,
            col(MemberRole.role).in_([role.value for role in roles]),
        )
        .order_by(col(Member.real_name), col(Member.id))
    )
    chairs: dict[int, list[Member]] = {school: [] for school in school_ids}
    for member in await session.exec(query):
        if all(member.id != known.id for known in chairs[member.organization_id]):
            chairs[member.organization_id].append(member)
    return chairs


async def answering_member(
    session: AsyncSession, *, assignment: TaskAssignment, telegram_user_id: int
) -> Member:
    """The person's membership that may answer this assignment: an active chair or vice-chair
    of the assignment's own school, read now; DomainError for anyone else, and for a task the
    district has withdrawn."""
    query = (
        select(Member)
        .join(MemberRole, col(MemberRole.member_id) == col(Member.id))
        .where(
            Member.organization_id == assignment.school_id,
            Member.telegram_user_id == telegram_user_id,
            Member.status == MemberStatus.ACTIVE,
            col(MemberRole.role).in_([role.value for role in ANSWERING]),
        )
    )
    member = (await session.exec(query)).first()
    if member is None:
        raise DomainError(N_("dtask.not_your_school"))
    task = await session.get(DistrictTask, assignment.task_id)
    if task is not None and task.withdrawn_at is not None:
        raise DomainError(N_("dtask.withdrawn"))
    return member


# ---- answering --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answered:
    """What a press did: `fresh` if this press stored the answer, else who answered first."""

    assignment: TaskAssignment
    task: DistrictTask
    fresh: bool
    by: Member | None


async def answer_assignment(
    session: AsyncSession,
    *,
    assignment_id: int,
    member: Member,
    now: datetime,
    file_id: str | None = None,
    file_name: str | None = None,
    note: str | None = None,
) -> Answered:
    """Mark the school's assignment done (with the file sent back, if any), once: guarded in
    the database, so a second press, or a second chair at the same moment, stores nothing and
    learns who answered first."""
    assignment, task = await get_assignment(session, assignment_id=assignment_id)
    if member.organization_id != assignment.school_id:
        raise DomainError(N_("dtask.not_your_school"))
    if task.answer_kind == AnswerKind.FILE and file_id is None:
        raise DomainError(N_("dtask.file_needed"))
    cleaned = clean_text(note, limit=NOTE_LIMIT) if note and note.strip() else None
    result = await session.exec(
        update(TaskAssignment)
        .where(
            col(TaskAssignment.id) == assignment_id,
            col(TaskAssignment.status) == AssignmentStatus.PENDING,
            # A withdrawal committed a moment earlier wins: nothing is stored after it.
            col(TaskAssignment.task_id).in_(
                select(DistrictTask.id).where(col(DistrictTask.withdrawn_at).is_(None))
            ),
        )
        .values(
            status=AssignmentStatus.DONE,
            done_at=now,
            done_by_member_id=member.id,
            reply_file_id=file_id,
            reply_file_name=(file_name or "")[:FILE_NAME_LIMIT] or None,
            note=cleaned,
        )
    )
    await session.commit()
    fresh = result.rowcount == 1
    await session.refresh(assignment)
    await session.refresh(task)
    if not fresh and assignment.status == AssignmentStatus.PENDING and task.withdrawn_at:
        raise DomainError(N_("dtask.withdrawn"))
    by = (
        await session.get(Member, assignment.done_by_member_id)
        if assignment.done_by_member_id
        else None
    )
    return Answered(assignment=assignment, task=task, fresh=fresh, by=by)


async def standing(session: AsyncSession, *, assignment_id: int) -> Answered:
    """The assignment as it stands (who answered, if anyone), storing nothing."""
    assignment, task = await get_assignment(session, assignment_id=assignment_id)
    by = (
        await session.get(Member, assignment.done_by_member_id)
        if assignment.done_by_member_id
        else None
    )
    return Answered(assignment=assignment, task=task, fresh=False, by=by)


# ---- what the district sees -------------------------------------------------------------------


@dataclass(frozen=True)
class TaskLine:
    """A task in the district's list, with how many schools are done."""

    task: DistrictTask
    done: int
    total: int


async def tasks_of(session: AsyncSession, *, district_id: int, limit: int = 30) -> list[TaskLine]:
    """The district's tasks, the latest deadline first, with done/total counts."""
    done = func.sum(case((col(TaskAssignment.status) == AssignmentStatus.DONE, 1), else_=0))
    counts = (
        select(
            col(TaskAssignment.task_id),
            func.count(col(TaskAssignment.id)).label("total"),
            done.label("done"),
        )
        .group_by(col(TaskAssignment.task_id))
        .subquery()
    )
    query = (
        select(DistrictTask, counts.c.done, counts.c.total)
        .join(counts, counts.c.task_id == col(DistrictTask.id))
        .where(DistrictTask.district_id == district_id)
        .order_by(col(DistrictTask.deadline).desc(), col(DistrictTask.id).desc())
        .limit(limit)
    )
    return [
        TaskLine(task=task, done=int(done_count or 0), total=int(total))
        for task, done_count, total in await session.exec(query)
    ]


@dataclass(frozen=True)
class SchoolLine:
    """One school's standing on one task."""

    assignment: TaskAssignment
    school: Organization
    done_by: Member | None
    chairs: int  # active chairs who were (or would be) told; 0: "no chair"


async def task_schools(
    session: AsyncSession, *, district_id: int, task_id: int
) -> tuple[DistrictTask, list[SchoolLine]]:
    """One task and each school's status, pending schools first, then by name."""
    task = await get_task(session, district_id=district_id, task_id=task_id)
    rows = list(
        await session.exec(
            select(TaskAssignment, Organization)
            .join(Organization, col(Organization.id) == col(TaskAssignment.school_id))
            .where(TaskAssignment.task_id == task_id)
            .order_by(col(Organization.name), col(Organization.id))
        )
    )
    chairs = await school_chairs(session, school_ids=[school.id or 0 for _a, school in rows])
    done_by_ids = [a.done_by_member_id for a, _s in rows if a.done_by_member_id is not None]
    members = {
        member.id: member
        for member in await session.exec(select(Member).where(col(Member.id).in_(done_by_ids)))
    }
    lines = [
        SchoolLine(
            assignment=assignment,
            school=school,
            done_by=members.get(assignment.done_by_member_id),
            chairs=len(chairs.get(school.id or 0, [])),
        )
        for assignment, school in rows
    ]
    lines.sort(key=lambda line: line.assignment.status != AssignmentStatus.PENDING)
    return task, lines


# ---- reminders --------------------------------------------------------------------------------


async def due_reminders(
    session: AsyncSession, *, today: date, days: int = REMIND_DAYS
) -> list[tuple[DistrictTask, TaskAssignment]]:
    """Pending assignments of every district whose deadline is today or within `days`, not
    reminded yet today."""
    query = (
        select(DistrictTask, TaskAssignment)
        .join(TaskAssignment, col(TaskAssignment.task_id) == col(DistrictTask.id))
        .where(
            col(DistrictTask.deadline) >= today,
            col(DistrictTask.deadline) <= today + timedelta(days=days),
            col(DistrictTask.withdrawn_at).is_(None),
            col(TaskAssignment.status) == AssignmentStatus.PENDING,
            or_(
                col(TaskAssignment.reminded_on).is_(None),
                col(TaskAssignment.reminded_on) < today,
            ),
        )
        .order_by(col(DistrictTask.id), col(TaskAssignment.id))
    )
    return [(task, assignment) for task, assignment in await session.exec(query)]


async def pending_of(session: AsyncSession, *, task_id: int) -> list[TaskAssignment]:
    """The task's schools that have not answered."""
    query = select(TaskAssignment).where(
        TaskAssignment.task_id == task_id, TaskAssignment.status == AssignmentStatus.PENDING
    )
    return list(await session.exec(query.order_by(col(TaskAssignment.id))))


@dataclass(frozen=True)
class Withdrawal:
    """What a withdrawal did: the task, the schools still pending on it, whether this call
    withdrew it, and whether the repeat rule it was the source of was stopped with it."""

    task: DistrictTask
    pending: list[TaskAssignment]
    fresh: bool
    rule_stopped: bool
    # The rule a month's (or year's) copy was made by goes on: the next copy may carry the
    # same text, so the staff are told and offered ⏹.
    rule_going_on: TaskRule | None = None


async def withdraw_task(
    session: AsyncSession, *, district_id: int, task_id: int, now: datetime
) -> Withdrawal:
    """Withdraw a task sent in error, once (a conditional UPDATE: a second press or a second
    staff member at the same moment stores nothing). In the same transaction what the outbox
    has not sent of it is held back (the task in quiet hours, a reminder) and a repeat rule
    made from it stops, so its wrong text is not sent again next month. Answers stay."""
    task = await get_task(session, district_id=district_id, task_id=task_id)
    result = await session.exec(
        update(DistrictTask)
        .where(col(DistrictTask.id) == task_id, col(DistrictTask.withdrawn_at).is_(None))
        .values(withdrawn_at=now)
    )
    fresh = result.rowcount == 1
    stopped = 0
    if fresh:
        await withhold_pending_prefixed(session, prefix=f"dtask:{task_id}:")
        rules = await session.exec(
            update(TaskRule)
            .where(col(TaskRule.source_task_id) == task_id, col(TaskRule.active).is_(True))
            .values(active=False)
        )
        stopped = rules.rowcount
    await session.commit()
    await session.refresh(task)
    pending = await pending_of(session, task_id=task_id)
    going_on = None
    if stopped == 0:
        rule = await rule_of(session, task=task)
        going_on = rule if rule is not None and rule.active else None
    return Withdrawal(
        task=task,
        pending=pending,
        fresh=fresh,
        rule_stopped=stopped == 1,
        rule_going_on=going_on,
    )


async def still_sent(session: AsyncSession, *, task_id: int) -> bool:
    """Begin a write that depends on the task not being withdrawn: a no-op UPDATE of its row,
    which waits for a withdrawal in progress (the row lock on PostgreSQL, the one writer on
    SQLite); False if it is withdrawn. The caller's next commit ends the transaction."""
    result = await session.exec(
        update(DistrictTask)
        .where(col(DistrictTask.id) == task_id, col(DistrictTask.withdrawn_at).is_(None))
        .values(withdrawn_at=None)
    )
    return result.rowcount == 1


async def mark_reminded(session: AsyncSession, *, assignment_id: int, today: date) -> bool:
    """Record today's reminder; False if it was reminded today already (or is done)."""
    result = await session.exec(
        update(TaskAssignment)
        .where(
            col(TaskAssignment.id) == assignment_id,
            col(TaskAssignment.status) == AssignmentStatus.PENDING,
            or_(
                col(TaskAssignment.reminded_on).is_(None),
                col(TaskAssignment.reminded_on) < today,
            ),
        )
        .values(reminded_on=today)
    )
    await session.commit()
    return result.rowcount == 1


def local_time(at: datetime | None, zone: tzinfo) -> str:
    """A moment as the lists show it: 12-06 10:30 in the union's zone ("" for none)."""
    return at.astimezone(zone).strftime("%m-%d %H:%M") if at else ""


# ---- every month, every year ------------------------------------------------------------------


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _sent_in_period(rule: TaskRule, today: date) -> bool:
    """This month's (every month) or this year's (every year) task was made already:
    `last_month` always holds the real month of the last task made."""
    if rule.last_month is None:
        return False
    if rule.every == RuleEvery.YEAR:
        return rule.last_month[:4] == f"{today.year:04d}"
    return rule.last_month == _month(today)


async def rule_of(session: AsyncSession, *, task: DistrictTask) -> TaskRule | None:
    """The repeating rule this task belongs to: made from it, or (a period's copy, which
    keeps the title) the district's rule whose task has the same title; so 🔁 on a copy never
    makes a second rule."""
    query = select(TaskRule).where(TaskRule.source_task_id == task.id)
    rule = (await session.exec(query)).first()
    if rule is not None:
        return rule
    same_title = (
        select(TaskRule)
        .join(DistrictTask, col(DistrictTask.id) == col(TaskRule.source_task_id))
        .where(
            TaskRule.district_id == task.district_id,
            DistrictTask.title == task.title,
            # A withdrawn task is no rule's model: a corrected task of the same title makes
            # a rule of its own.
            col(DistrictTask.withdrawn_at).is_(None),
        )
        .order_by(col(TaskRule.active).desc(), col(TaskRule.id))
    )
    return (await session.exec(same_title)).first()


async def set_repeat(
    session: AsyncSession,
    *,
    district_id: int,
    task_id: int,
    every: RuleEvery | None,
    member_id: int,
    zone: tzinfo,
) -> TaskRule:
    """Send this task again every month or every year (on the day, and for a yearly rule the
    month, it first went out; due as many days later as this one), or stop (`every` None).
    The period this task went out in counts as sent."""
    task = await get_task(session, district_id=district_id, task_id=task_id)
    rule = await rule_of(session, task=task)
    sent_on = task.created_at.astimezone(zone).date()
    if rule is None:
        rule = TaskRule(
            district_id=district_id,
            source_task_id=task_id,
            day=sent_on.day,
            due_days=max((task.deadline - sent_on).days, 0),
            created_by_member_id=member_id,
        )
    if every is not None:
        rule.last_month = _last_sent(rule, sent_on)
        rule.every = every
        rule.month = sent_on.month if every == RuleEvery.YEAR else None
    rule.active = every is not None
    session.add(rule)
    await session.commit()
    return rule


def _last_sent(rule: TaskRule, sent_on: date) -> str:
    """The latest month a task of this rule went out: this task's or the rule's last one
    ("YYYY-MM" sorts as dates), so a rule switched between month and year never sends a
    second task in a month or a year that had one."""
    return max(_month(sent_on), rule.last_month or "")


def _due_day(rule: TaskRule, today: date) -> int:
    """The rule's day in this month (its last day when the month is shorter)."""
    following = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    return min(rule.day, (following - timedelta(days=1)).day)


def _is_due(rule: TaskRule, today: date) -> bool:
    """The rule's day has come in this period (a day missed while the bot was down is made
    up later in the same month)."""
    if rule.every == RuleEvery.YEAR and today.month != rule.month:
        return False
    return today.day >= _due_day(rule, today)


async def make_repeated_tasks(
    session: AsyncSession, *, today: date
) -> list[tuple[DistrictTask, list[TaskAssignment]]]:
    """This period's task of every active rule whose day has come, once per month or year:
    the period is claimed by a conditional UPDATE in the same transaction as the task."""
    rules = await session.exec(select(TaskRule).where(col(TaskRule.active).is_(True)))
    # Plain values: a rollback (a period claimed meanwhile by another copy) expires the rows.
    plans = [
        (rule.id, rule.district_id, rule.source_task_id, rule.due_days, rule.last_month, rule.every)
        for rule in rules
        if not _sent_in_period(rule, today) and _is_due(rule, today)
    ]
    made: list[tuple[DistrictTask, list[TaskAssignment]]] = []
    for rule_id, district_id, source_id, due_days, seen, every in plans:
        # Claimed only if no other copy made a task since this one read the rule.
        unchanged = (
            col(TaskRule.last_month).is_(None) if seen is None else col(TaskRule.last_month) == seen
        )
        claimed = await session.exec(
            update(TaskRule)
            .where(
                col(TaskRule.id) == rule_id,
                col(TaskRule.active).is_(True),
                col(TaskRule.every) == every,
                unchanged,
            )
            .values(last_month=_month(today))
        )
        if claimed.rowcount != 1:
            await session.rollback()
            continue
        source = await session.get(DistrictTask, source_id)
        if source is not None and source.withdrawn_at is not None:
            source = None  # its text was sent in error: nothing is made from it
        schools = await session.exec(
            select(Organization.id).where(
                Organization.parent_id == district_id, Organization.kind == OrgKind.SCHOOL
            )
        )
        school_ids = [school for school in schools if school is not None]
        if source is None or not school_ids:
            await session.commit()
            continue
        made.append(
            await create_task(
                session,
                district_id=district_id,
                title=source.title,
                body=source.body,
                deadline=today + timedelta(days=due_days),
                today=today,
                answer_kind=AnswerKind(source.answer_kind),
                school_ids=school_ids,
                created_by=source.created_by_member_id,
                file_id=source.file_id,
                file_name=source.file_name,
                commit=False,
            )
        )
        await session.commit()
    return made


# ---- the export -------------------------------------------------------------------------------


def export_xlsx(
    tr: Translator, task: DistrictTask, lines: Sequence[SchoolLine], *, zone: tzinfo
) -> bytes:
    """The schools of one task and their status, as an xlsx workbook (times in `zone`)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = tr("dtask.sheet")[:31]
    append_row(sheet, [task.title, tr("dtask.column_deadline"), task.deadline])
    append_row(sheet, [])
    append_row(
        sheet,
        [
            tr("dtask.column_school"),
            tr("dtask.column_status"),
            tr("dtask.column_by"),
            tr("dtask.column_at"),
            tr("dtask.column_file"),
            tr("dtask.column_note"),
        ],
    )
    for line in lines:
        a = line.assignment
        if a.status == AssignmentStatus.DONE:
            status = tr("dtask.status_done")
        elif line.chairs == 0:
            status = tr("dtask.status_no_chair")
        else:
            status = tr("dtask.status_pending")
        append_row(
            sheet,
            [
                line.school.name,
                status,
                line.done_by.real_name if line.done_by else "",
                a.done_at.astimezone(zone).replace(tzinfo=None) if a.done_at else None,
                a.reply_file_name or (tr("dtask.file_received") if a.reply_file_id else ""),
                a.note or "",
            ],
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
