"""The seed's year 2026, built through the real domain functions (seed 003, 篇四 and 篇一).

`build_year(db, org_id=...)` gives a union of 48 people on the roster and the year the seed
reports: hospital visits 16 paid × 250 = 4,000 yuan (14 people, one payment corrected from
300 to 250); childbirth 5 × 500 = 2,500; bereavement 2 × 10,000 = 20,000; retirement 2 × 1,000 =
2,000; hardship 6 × 1,000 = 6,000 with 6 hardship files opened: 34,500 yuan in all. One staff
congress session (二届五次教代会) collects 36 proposals and merges them into 18. Ten suggestions
(4 anonymous; 7 answered, 5 of them within 7 days; 3 closed), four activities held (one more
cancelled), two notices (one objected to), three ideas (one adopted), one announcement and
45 greetings delivered.

Domain functions take their `today`/`now` as arguments; where one stamps the wall clock
(`created_at` of a suggestion, a reply, a hardship file, a notice, an idea; a message's
`sent_at`), the row is moved to its day in 2026 afterwards, as if the year had been lived.
`SeedYear` keeps what a test needs: the people, and every payment day with its amount.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import col, select

from bot.db import SessionFactory
from models.activities import (
    ActivityCategory,
    NewActivity,
    cancel_activity,
    cancel_signup,
    check_in,
    create_activity,
    sign_up,
)
from models.aid import AidType, CaseDraft, approve, correct, file_case, mark_paid
from models.anonymity import AuthorSeal
from models.hardship import HardshipFile, HardshipLevel, open_file
from models.ideas import Idea, IdeaDraft, set_adopted, submit_idea
from models.members import (
    Actor,
    Gender,
    Member,
    MemberRole,
    MemberStatus,
    Role,
    load_actor,
    new_invite_code,
)
from models.notices import Notice, open_notice, raise_objection
from models.outbox import (
    BroadcastKind,
    OutboxMessage,
    OutboxStatus,
    Recipient,
    claim,
    enqueue,
    finish,
)
from models.proposals import (
    Filers,
    ProposalStatus,
    create_draft,
    merge,
    open_session,
    triage,
)
from models.suggestions import (
    Draft,
    Suggestion,
    SuggestionEntry,
    close_suggestion,
    ensure_default_categories,
    list_categories,
    reply_to_suggestion,
    submit_suggestion,
)

ZONE = ZoneInfo("Asia/Shanghai")
FEN = 100
CHAIR_TELEGRAM_ID = 1001  # tests.support.harness.CHAIR
TREASURER_TELEGRAM_ID = 1002
AUDITOR_TELEGRAM_ID = 1003
MEMBER_TELEGRAM_BASE = 50_000
SESSION_NAME = "二届五次教代会"


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A Beijing moment as an aware datetime."""
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE)


@dataclass
class SeedYear:
    """What was built: the people and the payments (day, type, fen)."""

    chair: Actor
    treasurer: Actor
    auditor: Actor
    members: list[Member]  # everyone created, chair first
    payments: list[tuple[date, AidType, int]] = field(default_factory=list)
    leaver_id: int = 0


async def _add_members(db: SessionFactory, org_id: int) -> list[Member]:
    """48 people: 42 members since 2025, 4 who joined in March 2026, 2 invited, 1 pending;
    one of the 42 leaves in July. 26 women among the 45 who stay; 3 retirees."""
    joined_before = at(date(2025, 9, 1))
    people: list[Member] = []
    async with db() as session:
        for index in range(46):
            telegram = {0: CHAIR_TELEGRAM_ID, 1: TREASURER_TELEGRAM_ID, 2: AUDITOR_TELEGRAM_ID}
            joined = joined_before if index < 42 else at(date(2026, 3, 10))
            member = Member(
                organization_id=org_id,
                telegram_user_id=telegram.get(index, MEMBER_TELEGRAM_BASE + index),
                real_name=f"教师{index:02d}" if index else "张主席",
                department=("语文组", "数学组", "英语组", "后勤")[index % 4],
                gender=Gender.FEMALE if index % 7 != 3 and index < 30 else Gender.MALE,
                retired=index in (40, 41, 44),
                status=MemberStatus.ACTIVE,
                language="zh-Hans",
                created_at=joined,
                joined_at=joined,
            )
            session.add(member)
            people.append(member)
        for index, status in enumerate(
            (MemberStatus.INVITED, MemberStatus.INVITED, MemberStatus.PENDING)
        ):
            created = at(date(2026, 2, 1)) if index < 2 else at(date(2026, 11, 20))
            member = Member(
                organization_id=org_id,
                telegram_user_id=None if index < 2 else MEMBER_TELEGRAM_BASE + 99,
                real_name=f"新人{index}",
                department="数学组",
                status=status,
                invite_code=new_invite_code() if status == MemberStatus.INVITED else None,
                created_at=created,
            )
            session.add(member)
            people.append(member)
        await session.flush()
        roles = {0: Role.CHAIR, 1: Role.TREASURER, 2: Role.AUDITOR}
        for index, role in roles.items():
            session.add(MemberRole(member_id=people[index].id or 0, role=role))
        session.add(MemberRole(member_id=people[3].id or 0, role=Role.COMMITTEE))
        await session.commit()
        for member in people:
            await session.refresh(member)
    return people


async def _actor(db: SessionFactory, org_id: int, telegram_id: int) -> Actor:
    async with db() as session:
        actor = await load_actor(session, org_id=org_id, telegram_user_id=telegram_id)
    assert actor is not None
    return actor


async def _member_actor(db: SessionFactory, member: Member) -> Actor:
    async with db() as session:
        actor = await load_actor(
            session, org_id=member.organization_id, telegram_user_id=member.telegram_user_id or 0
        )
    assert actor is not None
    return actor


async def _pay(
    db: SessionFactory,
    seed: SeedYear,
    *,
    org_id: int,
    subject: Member,
    aid_type: AidType,
    amount: int,
    day: date,
    token: str,
) -> int:
    """File (by the subject), approve (the chair) and pay (the treasurer) one case."""
    person = await _member_actor(db, subject)
    async with db() as session:
        case = await file_case(
            session,
            org_id=org_id,
            actor=person,
            draft=CaseDraft(
                aid_type, "住院治疗，请工会看望。", day - timedelta(days=3), None, (), token
            ),
            today=day,
        )
        await approve(
            session, org_id=org_id, case_id=case.id or 0, actor=seed.chair, amount=amount, today=day
        )
        await mark_paid(
            session,
            org_id=org_id,
            case_id=case.id or 0,
            actor=seed.treasurer,
            paid_on=day,
            method="现金",
            today=day,
        )
    seed.payments.append((day, aid_type, amount))
    return case.id or 0


async def _aid(db: SessionFactory, seed: SeedYear, org_id: int) -> None:
    people = seed.members
    # 16 hospital visits of 14 people (教师04 and 教师05 twice), one a month and more in spring.
    hospital = [people[4 + (i % 14)] for i in range(16)]
    for index, subject in enumerate(hospital):
        day = date(2026, 1 + index % 12, 10 + index // 12)
        amount = 300 * FEN if index == 0 else 250 * FEN
        case_id = await _pay(
            db,
            seed,
            org_id=org_id,
            subject=subject,
            aid_type=AidType.HOSPITAL,
            amount=amount,
            day=day,
            token=f"seed-hospital-{index}",
        )
        if index == 0:  # paid 300 by mistake: corrected to the standard 250
            async with db() as session:
                await correct(
                    session,
                    org_id=org_id,
                    case_id=case_id,
                    actor=seed.treasurer,
                    change=-50 * FEN,
                    note="按标准更正为250元",
                    today=date(2026, 1, 20),
                )
            seed.payments.append((day, AidType.HOSPITAL, -50 * FEN))
    plan = (
        (AidType.CHILDBIRTH, 500, [people[i] for i in (18, 19, 20, 21, 22)], 4),
        (AidType.BEREAVEMENT, 10_000, [people[23], people[24]], 6),
        (AidType.RETIREMENT, 1_000, [people[40], people[41]], 7),
        (AidType.HARDSHIP, 1_000, [people[i] for i in range(25, 31)], 12),
    )
    for aid_type, amount, subjects, month in plan:
        for index, subject in enumerate(subjects):
            await _pay(
                db,
                seed,
                org_id=org_id,
                subject=subject,
                aid_type=aid_type,
                amount=amount * FEN,
                day=date(2026, month, 5 + index),
                token=f"seed-{aid_type}-{index}",
            )
    async with db() as session:
        for index in range(25, 31):
            record = await open_file(
                session,
                org_id=org_id,
                actor=seed.chair,
                member_id=people[index].id or 0,
                level=HardshipLevel.GENERAL,
                reason="家庭困难，建档帮扶。",
                today=date(2026, 11, 20),
            )
            await session.exec(
                update(HardshipFile)
                .where(col(HardshipFile.id) == record.id)
                .values(created_at=at(date(2026, 11, 20)))
            )
        await session.commit()


async def _proposals(db: SessionFactory, seed: SeedYear, org_id: int) -> None:
    """36 proposals in 二届五次教代会 (March), merged pairwise into 18; 16 filed, 2 not."""
    async with db() as session:
        congress = await open_session(
            session,
            org_id=org_id,
            actor=seed.chair,
            name=SESSION_NAME,
            opens_on=date(2026, 3, 2),
            closes_on=date(2026, 3, 20),
            min_cosigners=0,
            filers=Filers.MEMBERS,
        )
    assert congress.id is not None
    ids = []
    for index in range(36):
        author = await _member_actor(db, seed.members[4 + index % 36])
        async with db() as session:
            proposal = await create_draft(
                session,
                org_id=org_id,
                actor=author,
                title=f"关于改进第{index // 2 + 1}项工作的提案",
                reasons="教职工反映较多，需要改进。",
                measures="建议学校研究落实。",
                client_token=f"seed-proposal-{index}",
                today=date(2026, 3, 5),
            )
            assert proposal.status == ProposalStatus.SUBMITTED
            ids.append(proposal.id or 0)
    async with db() as session:
        for pair in range(18):
            survivor, other = ids[2 * pair], ids[2 * pair + 1]
            await merge(
                session, org_id=org_id, survivor_id=survivor, merged_ids=[other], actor=seed.chair
            )
            outcome = ProposalStatus.FILED if pair < 16 else ProposalStatus.NOT_FILED
            await triage(
                session,
                org_id=org_id,
                proposal_id=survivor,
                actor=seed.chair,
                outcome=outcome,
                reason=None if outcome == ProposalStatus.FILED else "不属于教代会提案范围。",
            )


async def _suggestions(db: SessionFactory, seed: SeedYear, org_id: int, secret: bytes) -> None:
    """Ten items: categories canteen 4, facilities 3, teaching 3; 4 anonymous; replies to 7
    (5 within 7 days), 3 closed."""
    sealer = AuthorSeal(secret)
    async with db() as session:
        await ensure_default_categories(session, org_id=org_id)
        categories = {c.code: c.id or 0 for c in await list_categories(session, org_id=org_id)}
    codes = ["canteen"] * 4 + ["facilities"] * 3 + ["teaching"] * 3
    for index, code in enumerate(codes):
        author = await _member_actor(db, seed.members[5 + index])
        received = at(date(2026, 2 + index, 12))
        async with db() as session:
            item = await submit_suggestion(
                session,
                org_id=org_id,
                author=author,
                draft=Draft(
                    categories[code], "食堂饭菜可以再改进一些。", (), index < 4, f"seed-sug-{index}"
                ),
                seal=sealer,
                today=received.date(),
            )
            if index < 7:
                item = await reply_to_suggestion(
                    session,
                    org_id=org_id,
                    suggestion_id=item.id or 0,
                    actor=seed.chair,
                    body="已转学校后勤处办理，谢谢您的建议。",
                    expected_version=item.version,
                )
            if index in (0, 1, 2):
                item = await close_suggestion(
                    session, org_id=org_id, suggestion_id=item.id or 0, actor=seed.chair
                )
            replied = received + timedelta(days=3 if index < 5 else 20)
            await session.exec(
                update(Suggestion)
                .where(col(Suggestion.id) == item.id)
                .values(
                    created_at=received,
                    answered_at=replied if index < 7 else None,
                    closed_at=replied if index < 3 else None,
                )
            )
            await session.exec(
                update(SuggestionEntry)
                .where(col(SuggestionEntry.suggestion_id) == item.id)
                .values(created_at=replied)
            )
            await session.commit()


async def _activities(db: SessionFactory, seed: SeedYear, org_id: int) -> None:
    """Four held (basketball 10 seats 8 present; women's flower arranging 6 seats, no check-in;
    a lecture 12 seats 11 present; an outing 9 sign-ups, one cancelled: 8), one cancelled."""
    plan = (
        ("教工篮球赛", ActivityCategory.SPORT, date(2026, 4, 15), {"type": "everyone"}, 10, 8),
        ("三八节插花活动", ActivityCategory.CULTURE, date(2026, 3, 6), {"type": "women"}, 6, 0),
        ("心理健康讲座", ActivityCategory.LECTURE, date(2026, 5, 20), {"type": "everyone"}, 12, 11),
        ("秋季登山", ActivityCategory.OUTING, date(2026, 10, 20), {"type": "everyone"}, 9, 0),
        ("冬季长跑", ActivityCategory.SPORT, date(2026, 11, 28), {"type": "everyone"}, 3, 0),
    )
    women = [m for m in seed.members[3:46] if m.gender == Gender.FEMALE and m.id != seed.leaver_id]
    everyone = [m for m in seed.members[3:46] if m.id != seed.leaver_id]
    for title, category, day, rule, seats, present in plan:
        starts = at(day, 15)
        created = starts - timedelta(days=20)
        async with db() as session:
            activity = await create_activity(
                session,
                org_id=org_id,
                actor=seed.chair,
                new=NewActivity(
                    title=title,
                    description="",
                    category=category,
                    starts_at=starts,
                    place="学校",
                    capacity=None,
                    deadline=starts - timedelta(days=2),
                    eligibility=rule,
                ),
                now=created,
            )
        people = women if rule["type"] == "women" else everyone
        for member in people[:seats]:
            actor = await _member_actor(db, member)
            async with db() as session:
                await sign_up(
                    session,
                    org_id=org_id,
                    activity_id=activity.id or 0,
                    actor=actor,
                    choice=None,
                    family=0,
                    now=created + timedelta(days=1),
                )
        async with db() as session:
            for member in people[:present]:
                await check_in(
                    session,
                    org_id=org_id,
                    activity_id=activity.id or 0,
                    member_id=member.id or 0,
                    now=starts,
                    by_committee=True,
                )
            if title == "秋季登山":
                await cancel_signup(
                    session,
                    org_id=org_id,
                    activity_id=activity.id or 0,
                    actor=await _member_actor(db, people[0]),
                    now=created + timedelta(days=2),
                )
            if title == "冬季长跑":
                await cancel_activity(
                    session, org_id=org_id, activity_id=activity.id or 0, actor=seed.chair
                )


async def _democracy(db: SessionFactory, seed: SeedYear, org_id: int, secret: bytes) -> None:
    """Two notices (one objected to) and three ideas (one adopted)."""
    sealer = AuthorSeal(secret)
    async with db() as session:
        for index in range(2):
            posted = date(2026, 6, 1 + index * 10)
            notice = await open_notice(
                session,
                org_id=org_id,
                title=f"公示{index + 1}",
                body="公示内容。",
                starts_on=posted,
                ends_on=posted + timedelta(days=6),
                created_by=seed.chair.id,
            )
            if index == 1:
                await raise_objection(
                    session,
                    org_id=org_id,
                    notice_id=notice.id or 0,
                    actor=await _member_actor(db, seed.members[8]),
                    body="名单有误。",
                    anonymous=False,
                    seal=sealer,
                    today=posted + timedelta(days=1),
                )
            await session.exec(
                update(Notice).where(col(Notice.id) == notice.id).values(created_at=at(posted))
            )
            await session.commit()
    for index in range(3):
        author = await _member_actor(db, seed.members[10 + index])
        async with db() as session:
            idea = await submit_idea(
                session,
                org_id=org_id,
                author=author,
                draft=IdeaDraft("节约用电", "教室常亮灯。", "安装感应开关。", "每年节约电费。"),
                client_token=f"seed-idea-{index}",
                today=date(2026, 4, 1),
            )
            if index == 0:
                await set_adopted(
                    session, org_id=org_id, idea_id=idea.id or 0, actor=seed.chair, adopted=True
                )
            await session.exec(
                update(Idea).where(col(Idea.id) == idea.id).values(created_at=at(date(2026, 4, 1)))
            )
            await session.commit()


async def _messages(db: SessionFactory, seed: SeedYear, org_id: int) -> None:
    """One announcement to 5 members and a greeting to the 45 members, all delivered."""
    members = [m for m in seed.members[:46] if m.id != seed.leaver_id]
    for key, kind, people, day in (
        ("seed-announcement", BroadcastKind.ANNOUNCEMENT, members[:5], date(2026, 4, 1)),
        ("seed-greeting", BroadcastKind.GREETING, members, date(2026, 9, 10)),
    ):
        async with db() as session:
            broadcast = await enqueue(
                session,
                org_id=org_id,
                key=key,
                kind=kind,
                recipients=[Recipient(m.telegram_user_id or 0, "教师节快乐", m.id) for m in people],
                not_before=at(day, 8),
                quiet=False,
            )
            assert broadcast is not None
            rows = (
                await session.exec(
                    select(OutboxMessage.id).where(OutboxMessage.broadcast_id == broadcast.id)
                )
            ).all()
            for message_id in rows:
                assert message_id is not None
                assert await claim(session, message_id=message_id)
                await finish(session, message_id=message_id, status=OutboxStatus.SENT)
            await session.exec(
                update(OutboxMessage)
                .where(col(OutboxMessage.broadcast_id) == broadcast.id)
                .values(sent_at=at(day, 8).astimezone(UTC))
            )
            await session.commit()


async def build_year(db: SessionFactory, *, org_id: int, secret: bytes) -> SeedYear:
    """The seed's 2026 in the organization `org_id` (see the module docstring)."""
    people = await _add_members(db, org_id)
    seed = SeedYear(
        chair=await _actor(db, org_id, CHAIR_TELEGRAM_ID),
        treasurer=await _actor(db, org_id, TREASURER_TELEGRAM_ID),
        auditor=await _actor(db, org_id, AUDITOR_TELEGRAM_ID),
        members=people,
    )
    await _aid(db, seed, org_id)
    await _proposals(db, seed, org_id)
    await _suggestions(db, seed, org_id, secret)
    # 教师39 leaves in July (after taking part in the spring's proposals).
    leaver = people[39]
    seed.leaver_id = leaver.id or 0
    async with db() as session:
        await session.exec(
            update(Member)
            .where(col(Member.id) == leaver.id)
            .values(status=MemberStatus.INACTIVE, left_at=at(date(2026, 7, 15)))
        )
        await session.commit()
    await _activities(db, seed, org_id)
    await _democracy(db, seed, org_id, secret)
    await _messages(db, seed, org_id)
    return seed
