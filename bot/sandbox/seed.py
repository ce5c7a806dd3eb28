"""A small school for the sandbox: people with roles and one open item of every kind.

Everything is created through the domain functions (registration, approval, roles, filing,
co-signing, sign-ups), and the desk cards are posted by the same handlers production uses, so
the sandbox starts in a state the real bot could have reached.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from bot.application import UnionApplication
from bot.context import UnionContext
from bot.i18n import Translator
from handlers.activities import admin as activity_admin
from handlers.aid import desk as aid_desk
from handlers.suggestions import desk as suggestion_desk
from models.activities import ActivityCategory, NewActivity, create_activity, sign_up
from models.aid import FEN, AidType, CaseDraft, file_case
from models.base import utcnow
from models.hardship import HardshipLevel, open_file
from models.members import (
    Actor,
    Gender,
    Profile,
    Role,
    decide_join_request,
    grant_role,
    load_actor,
    search_members,
    submit_registration,
)
from models.organizations import bind_committee_chat
from models.proposals import (
    Filers,
    ProposalCategory,
    add_department,
    cosign,
    create_draft,
    open_session,
    set_department_handler,
)
from models.suggestions import Draft, ensure_default_categories, list_categories, submit_suggestion
from models.validation import Birthday

GROUP_ID = -1009000000001  # the committee group of the sandbox


@dataclass(frozen=True)
class Persona:
    """Someone the user can play: a Telegram account and, once seeded, a member."""

    telegram_id: int
    name: str
    language_code: str  # what their Telegram app reports
    department_key: str = ""
    gender: Gender | None = None
    retired: bool = False
    language: str = "zh-Hans"  # the language kept on their member record
    roles: tuple[Role, ...] = ()
    birthday_today: bool = False
    registered: bool = True


# The order is the order of `:who`: a teacher, a second teacher, a committee member, the chair.
PERSONAS: tuple[Persona, ...] = (
    Persona(2001, "王芳", "zh-hans", "sandbox.seed_dept_chinese", Gender.FEMALE),
    Persona(2002, "李明", "zh-hant", "sandbox.seed_dept_math", Gender.MALE, language="zh-Hant"),
    Persona(1002, "刘强", "zh-hans", "sandbox.seed_dept_pe", Gender.MALE,
            roles=(Role.COMMITTEE, Role.TREASURER)),
    Persona(1001, "张主席", "zh-hans", "sandbox.seed_dept_office", Gender.FEMALE,
            roles=(Role.CHAIR,)),
    Persona(1003, "赵敏", "en", "sandbox.seed_dept_english", Gender.FEMALE, language="en",
            roles=(Role.COMMITTEE,)),
    Persona(2003, "陈建国", "zh-hans", "sandbox.seed_dept_retired", Gender.MALE, retired=True,
            birthday_today=True),
    Persona(2004, "周老师", "zh-hans", registered=False),
)  # fmt: skip
CHAIR = PERSONAS[3]


@dataclass(frozen=True)
class SeedReport:
    """What a fresh seed created, for the welcome text."""

    members: int
    proposal_id: int
    suggestion_number: str
    case_number: str
    activity_title: str


async def is_seeded(app: UnionApplication) -> bool:
    """True when the organization already has members (the seed never runs twice)."""
    async with app.state.db() as session:
        _, total = await search_members(session, org_id=app.state.org_id, query="", limit=1)
    return total > 0


async def _actor(app: UnionApplication, persona: Persona, org_id: int) -> Actor:
    async with app.state.db() as session:
        actor = await load_actor(session, org_id=org_id, telegram_user_id=persona.telegram_id)
    assert actor is not None, persona.name
    return actor


async def _register(
    app: UnionApplication,
    tr: Translator,
    persona: Persona,
    chair: Actor | None,
    today: date,
    org_id: int,
) -> Actor:
    """Join as the persona would (the chair approves), then receive the persona's roles."""
    birthday = (
        Birthday(month=today.month, day=today.day, year=1960) if persona.birthday_today else None
    )
    profile = Profile(
        real_name=persona.name,
        department=tr(persona.department_key),
        gender=persona.gender,
        birthday=birthday,
        retired=persona.retired,
    )
    async with app.state.db() as session:
        _member, request = await submit_registration(
            session,
            org_id=org_id,
            telegram_user_id=persona.telegram_id,
            profile=profile,
            language=persona.language,
            is_owner=chair is None,
        )
    if chair is not None:
        assert request is not None and request.id is not None
        async with app.state.db() as session:
            await decide_join_request(
                session, org_id=org_id, request_id=request.id, decider=chair, approve=True
            )
        actor = await _actor(app, persona, org_id)
        for role in persona.roles:
            async with app.state.db() as session:
                await grant_role(session, org_id=org_id, actor=chair, member_id=actor.id, role=role)
    return await _actor(app, persona, org_id)


def activity_start(now: datetime, zone: tzinfo) -> datetime:
    """The next 09:00 or 15:00 at least four hours away: within a day (so the day-before
    reminder is due at once) and with two hours left to sign up."""
    local = now.astimezone(zone)
    for day in (local.date(), local.date() + timedelta(days=1)):
        for hour in (9, 15):
            start = datetime.combine(day, time(hour), tzinfo=zone)
            if start >= local + timedelta(hours=4):
                return start.astimezone(UTC)
    return (local + timedelta(hours=4)).astimezone(UTC)  # not reached: kept for the type checker


async def seed_school(
    app: UnionApplication,
    *,
    tr: Translator,
    now: datetime,
    org_id: int | None = None,
    group_id: int = GROUP_ID,
) -> SeedReport:
    """Fill an empty school (the home organization unless `org_id` names one of a district):
    people, departments, a congress window and the open items."""
    state = app.state
    org_id = state.org_id if org_id is None else org_id
    today = now.astimezone(state.settings.zone).date()
    async with state.db() as session:
        await bind_committee_chat(session, org_id=org_id, chat_id=group_id)
    chair = await _register(app, tr, CHAIR, None, today, org_id)
    people = {CHAIR.telegram_id: chair}
    for persona in PERSONAS:
        if persona.registered and persona is not CHAIR:
            people[persona.telegram_id] = await _register(app, tr, persona, chair, today, org_id)
    wang, li, liu, _chair, zhao, chen = (people[p.telegram_id] for p in PERSONAS[:6])

    async with state.db() as session:
        academic = await add_department(
            session, org_id=org_id, actor=chair, name=tr("sandbox.seed_dept_academic")
        )
        await add_department(
            session, org_id=org_id, actor=chair, name=tr("sandbox.seed_dept_general")
        )
        await set_department_handler(
            session, org_id=org_id, actor=chair, department_id=academic.id or 0, member_id=zhao.id
        )
        await open_session(
            session,
            org_id=org_id,
            actor=chair,
            name=tr("sandbox.seed_session"),
            opens_on=today - timedelta(days=7),
            closes_on=today + timedelta(days=21),
            min_cosigners=2,
            filers=Filers.MEMBERS,
        )
        proposal = await create_draft(
            session,
            org_id=org_id,
            actor=wang,
            title=tr("sandbox.seed_proposal_title"),
            reasons=tr("sandbox.seed_proposal_reasons"),
            measures=tr("sandbox.seed_proposal_measures"),
            client_token="sandbox-proposal-1",
            today=today,
            category=ProposalCategory.WELFARE,
        )
        await cosign(session, org_id=org_id, proposal_id=proposal.id or 0, actor=chen, today=today)

    async with state.db() as session:
        await ensure_default_categories(session, org_id=org_id)
        # The canteen queue is filed under 食堂, not under the first category (教育教学).
        category = next(
            c for c in await list_categories(session, org_id=org_id) if c.code == "canteen"
        )
        suggestion = await submit_suggestion(
            session,
            org_id=org_id,
            author=li,
            draft=Draft(
                category_id=category.id or 0,
                body=tr("sandbox.seed_suggestion"),
                photos=(),
                anonymous=False,
                client_token="sandbox-suggestion-1",
            ),
            seal=state.seal,
            today=today,
        )
        # Filed ten days ago, so the committee's daily digest has something to list.
        suggestion.created_at = utcnow() - timedelta(days=10)
        session.add(suggestion)
        await session.commit()

    async with state.db() as session:
        case = await file_case(
            session,
            org_id=org_id,
            actor=chen,
            draft=CaseDraft(
                aid_type=AidType.HOSPITAL,
                description=tr("sandbox.seed_aid"),
                happened_on=today - timedelta(days=3),
                amount_asked=250 * FEN,
                evidence=(),
                client_token="sandbox-aid-1",
            ),
            today=today,
        )
        # On file for a year: the yearly review is due today (the aid job reminds the group).
        await open_file(
            session,
            org_id=org_id,
            actor=chair,
            member_id=li.id,
            level=HardshipLevel.GENERAL,
            reason=tr("sandbox.seed_hardship"),
            today=today - timedelta(days=366),
        )

    # A health check within a day, with two seats: both taken, the chair waiting.
    starts = activity_start(now, state.settings.zone)
    async with state.db() as session:
        activity = await create_activity(
            session,
            org_id=org_id,
            actor=liu,
            new=NewActivity(
                title=tr("sandbox.seed_activity_title"),
                description="",
                category=ActivityCategory.HEALTH,
                starts_at=starts,
                place=tr("sandbox.seed_activity_place"),
                capacity=2,
                deadline=starts - timedelta(hours=2),
                eligibility={"type": "everyone"},
            ),
            now=now,
        )
        for actor in (chen, zhao, chair):
            await sign_up(
                session,
                org_id=org_id,
                activity_id=activity.id or 0,
                actor=actor,
                choice=None,
                family=0,
                now=now,
            )

    context = UnionContext.for_org(app, org_id)
    await suggestion_desk.announce(context, suggestion)
    await aid_desk.announce(context, case)
    await activity_admin.announce(context, activity)
    return SeedReport(
        members=len(people),
        proposal_id=proposal.id or 0,
        suggestion_number=suggestion.number,
        case_number=case.number,
        activity_title=activity.title,
    )
