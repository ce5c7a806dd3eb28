"""Forged button data is refused in every feature.

A button's callback data comes back from the client, so anyone can send any string: the id of
another school's item, an item the presser may not touch, or garbage. Each case here presses
such a button on the real application and checks what was actually sent and stored: the presser
gets a refusal in their own language, no row of any table changed, nobody else was messaged,
and nothing was logged as an error or apologised for.

(tests/test_bad_input.py covers the join-request and member-card buttons; this file covers the
rest.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel, col, select

from bot.callback import pack
from models.activities import (
    Activity,
    ActivityCategory,
    Signup,
    SignupStatus,
    Team,
)
from models.aid import (
    AidCase,
    AidType,
    CaseStatus,
    ensure_standards,
    policy_for,
)
from models.base import utcnow
from models.calendar import CalendarEntry
from models.hardship import HardshipFile, HardshipLevel
from models.members import Member, MemberRole, MemberStatus, Role
from models.organizations import Organization
from models.proposals import (
    CongressSession,
    Department,
    Filers,
    Proposal,
    ProposalAnswer,
    ProposalAssignment,
    ProposalSigner,
    ProposalStatus,
)
from models.suggestions import (
    BODY_LIMIT,
    EntryKind,
    Suggestion,
    SuggestionCategory,
    SuggestionEntry,
    SuggestionStatus,
)
from tests.support.fake_telegram import Call
from tests.support.harness import CHAIR, COMMITTEE_GROUP_ID, SEND, BotHarness
from tests.support.updates import Person, button, group_chat

# ---- the people ---------------------------------------------------------------------------

COMMITTEE = Person(5001, "陳", "zh-hant")  # committee member, reads Traditional Chinese
TEACHER = Person(5002, "Wang", "en")  # staff representative, reads English
COLLEAGUE = Person(5003, "Zhao", "en")  # same department as TEACHER
HANDLER = Person(5004, "Zhou", "en")  # answers proposals for the logistics office
TREASURER = Person(5005, "錢", "zh-hant")  # records payments; not on the committee
STRANGER = Person(5006, "Nobody", "en")  # not a member anywhere
# The second school's people. TEACHER's own Telegram account is on that school's committee:
# a role held there must count for nothing here.
OTHER_CHAIR = Person(6001, "趙主席", "zh-hans")
OTHER_MEMBER = Person(6003, "孫老師", "zh-hans")
OTHER_PEOPLE = (OTHER_CHAIR.id, OTHER_MEMBER.id)

THEIRS = "二中"  # in every name and text of the second school: none may reach anyone here
LANGUAGE = {"zh-hans": "zh-Hans", "zh-hant": "zh-Hant", "en": "en"}
GROUP = group_chat(COMMITTEE_GROUP_ID)
DISCLOSURE_CHANNEL = -1009876543210


@dataclass
class World:
    """Ids of everything the forged buttons point at."""

    committee: int = 0
    teacher: int = 0
    colleague: int = 0
    handler: int = 0
    treasurer: int = 0
    chair: int = 0
    category: int = 0
    suggestion: int = 0  # TEACHER's, answered
    congress: int = 0
    logistics: int = 0  # HANDLER answers for it
    academic: int = 0  # the committee answers for it
    cosigning: int = 0  # TEACHER's proposal, collecting co-signatures
    colleagues_cosigning: int = 0  # COLLEAGUE's proposal, collecting co-signatures
    submitted: int = 0  # COLLEAGUE's, on the desk
    filed: int = 0  # COLLEAGUE's, filed
    assigned: int = 0  # COLLEAGUE's, assigned to the academic office
    answered: int = 0  # COLLEAGUE's, answered; TEACHER only co-signed it
    committee_case: int = 0  # COMMITTEE's own aid request, open
    teacher_case: int = 0  # TEACHER's aid request, open
    treasurer_case: int = 0  # TREASURER's own aid request, approved
    activity: int = 0  # a contest starting within the hour; TEACHER has a seat and a team
    hardship: int = 0  # COLLEAGUE's family on file
    entry: int = 0  # a calendar entry
    other: dict[str, int] = field(default_factory=dict)  # the second school's ids


# ---- building the world -------------------------------------------------------------------


def _today(bot: BotHarness) -> date:
    return datetime.now(bot.app.state.settings.zone).date()


class Seeder:
    """Adds rows in a few flushes (the world is rebuilt for every test) and records their ids."""

    def __init__(self, session: Any, world: World) -> None:
        self.session = session
        self.world = world
        self._named: list[tuple[str, Any]] = []

    def add(self, row: Any, name: str | None = None) -> Any:
        """Add `row`; after the next flush its id is the world's `name` (`other.x`: theirs)."""
        self.session.add(row)
        if name is not None:
            self._named.append((name, row))
        return row

    async def flush(self) -> None:
        """Write what was added and hand out the ids."""
        await self.session.flush()
        for name, row in self._named:
            assert row.id is not None
            if name.startswith("other."):
                self.world.other[name.removeprefix("other.")] = int(row.id)
            else:
                setattr(self.world, name, int(row.id))
        self._named.clear()


def _member(org: int, telegram_id: int, name: str, department: str, language: str) -> Member:
    return Member(
        organization_id=org,
        telegram_user_id=telegram_id,
        real_name=name,
        department=department,
        status=MemberStatus.ACTIVE,
        language=language,
    )


def _proposal(
    org: int, congress: int, proposer: int, name: str, status: ProposalStatus, number: int | None
) -> Proposal:
    answered = status in (ProposalStatus.ASSIGNED, ProposalStatus.ANSWERED)
    return Proposal(
        organization_id=org,
        session_id=congress,
        number=number,
        proposer_member_id=proposer,
        title=f"Proposal {name}",
        reasons="Reasons.",
        measures="Measures.",
        client_token=name,
        status=status,
        rounds=1 if answered else 0,
    )


def _case(
    org: int,
    day: date,
    seq: int,
    member: int,
    status: CaseStatus,
    approved: int | None = None,
    description: str = "In hospital for a week.",
) -> AidCase:
    number = f"助-{day.year}-{seq:04d}"
    return AidCase(
        organization_id=org,
        number=number,
        aid_type=AidType.HOSPITAL,
        subject_member_id=member,
        requester_member_id=member,
        description=description,
        happened_on=day,
        approved_amount=approved,
        status=status,
        client_token=f"case-{org}-{number}",
    )


def _activity(org: int, title: str, creator: int, seats: int) -> Activity:
    now = utcnow()
    return Activity(
        organization_id=org,
        title=title,
        category=ActivityCategory.CONTEST,
        starts_at=now + timedelta(hours=1),  # check-in is open already
        place="Library",
        capacity=10,
        deadline=now + timedelta(minutes=30),
        family_max=1,
        seats_taken=seats,
        queue_counter=seats,
        created_by_member_id=creator,
    )


def _hardship(org: int, member: int, opener: int, today: date, reason: str) -> HardshipFile:
    return HardshipFile(
        organization_id=org,
        member_id=member,
        level=HardshipLevel.GENERAL,
        reason=reason,
        review_on=today + timedelta(days=30),
        opened_by_member_id=opener,
    )


def _suggestion(org: int, year: int, category: int, author: int, body: str) -> Suggestion:
    return Suggestion(
        organization_id=org,
        year=year,
        seq=1,
        category_id=category,
        body=body,
        author_member_id=author,
        client_token=f"suggestion-{org}",
        status=SuggestionStatus.ANSWERED,
        answered_at=utcnow(),
    )


async def _people(seed: Seeder, org: int) -> None:
    """Both schools' people. TEACHER's Telegram account is also on the other committee."""
    seed.add(Organization(name="第二中学工会"), "other.org")
    ours = [
        ("chair", CHAIR, "張主席", "Office", "zh-Hans"),
        ("committee", COMMITTEE, "陳委員", "Office", "zh-Hant"),
        ("teacher", TEACHER, "Wang Fang", "Maths", "en"),
        ("colleague", COLLEAGUE, "Zhao Lei", "Maths", "en"),
        ("handler", HANDLER, "Zhou Min", "Logistics", "en"),
        ("treasurer", TREASURER, "錢會計", "Office", "zh-Hant"),
    ]
    for name, person, real_name, department, language in ours:
        seed.add(_member(org, person.id, real_name, department, language), name)
    await seed.flush()
    theirs = seed.world.other["org"]
    for name, telegram_id, real_name in (
        ("chair", OTHER_CHAIR.id, "二中趙主席"),
        ("twin", TEACHER.id, "二中王老師"),
        ("member", OTHER_MEMBER.id, "二中孫老師"),
    ):
        seed.add(_member(theirs, telegram_id, real_name, "数学组", "zh-Hans"), f"other.{name}")


async def build_world(bot: BotHarness) -> World:
    """Our school (with a disclosure channel) and a second school with one item of every
    kind, seeded directly in one transaction; the aid standards and this year's aid rules are
    seeded too, so that no press seeds them later."""
    world = World()
    org, today = bot.org_id, _today(bot)
    year = today.year
    async with bot.db() as session:
        seed = Seeder(session, world)
        organization = await session.get(Organization, org)
        assert organization is not None
        organization.disclosure_chat_id = DISCLOSURE_CHANNEL
        session.add(organization)
        template = (
            await session.exec(
                select(CalendarEntry)
                .where(col(CalendarEntry.organization_id) == org)
                .order_by(col(CalendarEntry.id))
            )
        ).first()
        assert template is not None
        assert template.id is not None
        world.entry = template.id
        await _people(seed, org)
        await seed.flush()
        w, theirs = world, world.other["org"]
        o = world.other
        for member, role in (
            (w.chair, Role.CHAIR),
            (w.committee, Role.COMMITTEE),
            (w.teacher, Role.REPRESENTATIVE),
            (w.colleague, Role.REPRESENTATIVE),
            (w.treasurer, Role.TREASURER),
            (o["chair"], Role.CHAIR),
            (o["twin"], Role.COMMITTEE),
        ):
            seed.add(MemberRole(member_id=member, role=role))
        opens, closes = today - timedelta(days=1), today + timedelta(days=14)
        for school, name in ((org, "congress"), (theirs, "other.congress")):
            seed.add(
                CongressSession(
                    organization_id=school,
                    name="Congress",
                    opens_on=opens,
                    closes_on=closes,
                    filers=Filers.REPRESENTATIVES,
                ),
                name,
            )
        seed.add(SuggestionCategory(organization_id=org, name="Canteen"), "category")
        seed.add(SuggestionCategory(organization_id=theirs, name="食堂"), "other.category")
        seed.add(
            Department(organization_id=org, name="Logistics", handler_member_id=w.handler),
            "logistics",
        )
        seed.add(Department(organization_id=org, name="Academic"), "academic")
        seed.add(
            Department(organization_id=theirs, name="总务处", handler_member_id=o["member"]),
            "other.department",
        )
        seed.add(_case(org, today, 1, w.committee, CaseStatus.OPEN), "committee_case")
        seed.add(_case(org, today, 2, w.teacher, CaseStatus.OPEN), "teacher_case")
        seed.add(
            _case(org, today, 3, w.treasurer, CaseStatus.APPROVED, 50_000),
            "treasurer_case",
        )
        seed.add(
            _case(theirs, today, 1, o["member"], CaseStatus.OPEN, description="二中住院"),
            "other.case",
        )
        seed.add(
            _case(theirs, today, 2, o["member"], CaseStatus.APPROVED, 50_000, "二中住院"),
            "other.approved_case",
        )
        seed.add(_activity(org, "Chess contest", w.committee, seats=1), "activity")
        seed.add(_activity(theirs, "二中活动", o["chair"], seats=0), "other.activity")
        seed.add(_hardship(org, w.colleague, w.committee, today, "Illness."), "hardship")
        seed.add(_hardship(theirs, o["member"], o["chair"], today, "二中困难"), "other.hardship")
        seed.add(
            CalendarEntry(
                organization_id=theirs,
                key=template.key,
                kind=template.kind,
                rule=dict(template.rule),
                time_of_day=template.time_of_day,
                audience=dict(template.audience),
                titles=dict(template.titles),
                messages=dict(template.messages),
            ),
            "other.entry",
        )
        await seed.flush()
        body = "The canteen closes too early."
        seed.add(_suggestion(org, year, w.category, w.teacher, body), "suggestion")
        seed.add(
            _suggestion(theirs, year, o["category"], o["member"], "二中的秘密意见"),
            "other.suggestion",
        )
        for name, proposer, status, number in (
            ("cosigning", w.teacher, ProposalStatus.COSIGNING, None),
            ("colleagues_cosigning", w.colleague, ProposalStatus.COSIGNING, None),
            ("submitted", w.colleague, ProposalStatus.SUBMITTED, 1),
            ("filed", w.colleague, ProposalStatus.FILED, 2),
            ("assigned", w.colleague, ProposalStatus.ASSIGNED, 3),
            ("answered", w.colleague, ProposalStatus.ANSWERED, 4),
        ):
            seed.add(_proposal(org, w.congress, proposer, name, status, number), name)
        seed.add(
            _proposal(theirs, o["congress"], o["member"], "二中提案", ProposalStatus.SUBMITTED, 1),
            "other.proposal",
        )
        seed.add(
            Signup(
                activity_id=w.activity, member_id=w.teacher, status=SignupStatus.SEAT, queue_no=1
            )
        )
        seed.add(
            Team(
                activity_id=w.activity,
                department="Maths",
                contact_member_id=w.teacher,
                names="Wang Fang、Li Na",
            )
        )
        await seed.flush()
        seed.add(
            SuggestionEntry(
                suggestion_id=w.suggestion,
                kind=EntryKind.REPLY,
                body="We will ask the kitchen.",
                committee_member_id=w.committee,
            )
        )
        for proposal in (w.assigned, w.answered):
            seed.add(ProposalAssignment(proposal_id=proposal, department_id=w.academic, lead=True))
        seed.add(ProposalSigner(proposal_id=w.answered, member_id=w.teacher))
        seed.add(
            ProposalAnswer(
                proposal_id=w.answered,
                round=1,
                body="The canteen will open later.",
                answered_by_member_id=w.committee,
            )
        )
        await ensure_standards(session, org_id=org)  # commits everything above
        await policy_for(session, org_id=org, year=year)
    return world


# ---- what a refused press looks like ------------------------------------------------------


# Bookkeeping every update writes (the redelivery guard), not something a press changes.
NOT_SNAPSHOT = {"processed_update"}


async def snapshot(bot: BotHarness) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, as plain tuples."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    async with bot.app.state.engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in NOT_SNAPSHOT:
                continue
            # Plain SQL: nothing to compile, values as the database stores them.
            rows = (await connection.execute(text(f'SELECT * FROM "{table.name}"'))).all()
            tables[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return tables


def translate(bot: BotHarness, person: Person, key: str, **params: Any) -> str:
    """A catalog text in the presser's language."""
    assert person.language_code is not None
    return bot.app.state.i18n.get(LANGUAGE[person.language_code])(key, **params)


def _never_said(bot: BotHarness) -> list[str]:
    """Beginnings of the apology and the owners' alert, in every language."""
    i18n = bot.app.state.i18n
    starts = []
    for language in LANGUAGE.values():
        tr = i18n.get(language)
        starts.append(tr("error.apology", ref="@@").split("@@")[0][:12])
        starts.append(tr("error.owner_alert", ref="@@", kind="X", held_back=0)[:12])
    return starts


def answers_to(bot: BotHarness, query_id: str) -> list[Call]:
    """answerCallbackQuery calls for one press."""
    return [c for c in bot.telegram.answers() if c.params.get("callback_query_id") == query_id]


def assert_quiet(bot: BotHarness, presser: Person, caplog: pytest.LogCaptureFixture) -> None:
    """Nobody but the presser heard anything; nothing was logged as an error or apologised for."""
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    sent = [c for c in bot.telegram.calls if c.chat_id is not None]
    assert {c.chat_id for c in sent} <= {presser.id}, [(c.method, c.chat_id, c.text) for c in sent]
    for person_id in OTHER_PEOPLE:
        assert bot.telegram.sent("sendMessage", person_id) == []
    assert bot.telegram.sent("editMessageText") == []
    assert not any(THEIRS in c.text for c in bot.telegram.calls)
    for start in _never_said(bot):
        assert all(start not in c.text for c in bot.telegram.calls), start


async def press_refused(
    bot: BotHarness,
    caplog: pytest.LogCaptureFixture,
    presser: Person,
    data: str,
    key: str,
    *,
    params: dict[str, Any] | None = None,
    chat: dict[str, Any] | None = None,
) -> None:
    """Press `data`: exactly one answer, an alert with `key` in the presser's language, and
    nothing else anywhere."""
    before = await snapshot(bot)
    bot.telegram.clear()
    caplog.clear()
    update = button(presser, data, chat=chat)

    await bot.feed(update)

    answers = answers_to(bot, update["callback_query"]["id"])
    assert len(answers) == 1, [a.params for a in answers]  # Telegram takes one answer per press
    [answer] = answers
    resolved = {
        name: value() if callable(value) else value for name, value in (params or {}).items()
    }
    expected = translate(bot, presser, key, **resolved)
    assert (answer.text, answer.params.get("show_alert")) == (expected, True)
    assert bot.telegram.sent("sendMessage") == [], bot.telegram.texts()
    assert_quiet(bot, presser, caplog)
    assert await snapshot(bot) == before


async def press_told(
    bot: BotHarness,
    caplog: pytest.LogCaptureFixture,
    presser: Person,
    data: str,
    key: str,
    **params: Any,
) -> None:
    """Press `data`: the press is answered once and the refusal comes as a chat message to the
    presser (features that continue in the chat refuse there); nothing changes."""
    before = await snapshot(bot)
    bot.telegram.clear()
    caplog.clear()
    update = button(presser, data)

    await bot.feed(update)

    answers = answers_to(bot, update["callback_query"]["id"])
    assert len(answers) == 1, [a.params for a in answers]
    assert answers[0].text == ""  # answered first, without a word
    assert bot.telegram.texts(presser.id) == [translate(bot, presser, key, **params)]
    assert_quiet(bot, presser, caplog)
    assert await snapshot(bot) == before


@pytest.fixture
async def world(bot: BotHarness) -> World:
    """The seeded schools."""
    return await build_world(bot)


# ---- the cases ------------------------------------------------------------------------------

Data = Callable[[World], str]


def case(name: str, presser: Person, data: Data, key: str, **params: Any) -> Any:
    """One forged press: who presses, the data (built from the world's ids), the refusal."""
    return pytest.param(presser, data, key, params, id=name)


def other(name: str) -> Callable[[World], int]:
    """The second school's item called `name`."""
    return lambda w: w.other[name]


def forged(feature: str, action: str, *parts: Callable[[World], int] | int | str) -> Data:
    """`feature:action[:parts]`, each part an id taken from the world or a literal."""

    def build(w: World) -> str:
        return pack(feature, action, *(p(w) if callable(p) else p for p in parts))

    return build


def ours(name: str) -> Callable[[World], int]:
    """Our school's item called `name`."""
    return lambda w: int(getattr(w, name))


NOT_FOUND = "desk.item_not_found"
PROPOSAL_NOT_FOUND = "proposal.not_found"
ACTIVITY_NOT_FOUND = "activity.not_found"
NOT_COMMITTEE = "desk.not_committee"
STALE = "desk.stale_button"

# 1. Well-formed ids of the second school's items, pressed by people who could act on ours.
OTHER_SCHOOL = [
    case("sug-close", COMMITTEE, forged("sug", "close", other("suggestion")), NOT_FOUND),
    case("sug-publish", COMMITTEE, forged("sug", "pub", other("suggestion")), NOT_FOUND),
    case("sug-reply", COMMITTEE, forged("sug", "reply", other("suggestion")), NOT_FOUND),
    case("sgc-toggle", COMMITTEE, forged("sgc", "toggle", other("category")), STALE),
    case("sga-resolved", TEACHER, forged("sga", "ok", other("suggestion")), NOT_FOUND),
    case("pp-cosign", TEACHER, forged("pp", "cosign", other("proposal")), PROPOSAL_NOT_FOUND),
    case("pp-withdraw", TEACHER, forged("pp", "wd", other("proposal")), PROPOSAL_NOT_FOUND),
    case("pp-withdraw-yes", TEACHER, forged("pp", "wdyes", other("proposal")), PROPOSAL_NOT_FOUND),
    case("pd-file", COMMITTEE, forged("pd", "file", other("proposal")), PROPOSAL_NOT_FOUND),
    case("pd-excellent", COMMITTEE, forged("pd", "exc", other("proposal")), PROPOSAL_NOT_FOUND),
    case("pd-merge-pick", COMMITTEE, forged("pd", "merge", other("proposal")), NOT_FOUND),
    case(
        "pd-merge-into-theirs",
        COMMITTEE,
        forged("pd", "mrg", ours("submitted"), other("proposal")),
        PROPOSAL_NOT_FOUND,
    ),
    case("pd-assign", COMMITTEE, forged("pd", "asg", other("proposal")), NOT_FOUND),
    case("pd-not-file", COMMITTEE, forged("pd", "nofile", other("proposal")), PROPOSAL_NOT_FOUND),
    case(
        "pd-answer-by-handler",
        HANDLER,
        forged("pd", "ans", other("proposal")),
        "proposal.not_handler",
    ),
    case("pr-rate", TEACHER, forged("pr", "rate", other("proposal"), "s"), PROPOSAL_NOT_FOUND),
    case(
        "pr-rate-dissatisfied",
        TEACHER,
        forged("pr", "rate", other("proposal"), "d"),
        PROPOSAL_NOT_FOUND,
    ),
    case("cg-figures", COMMITTEE, forged("cg", "fig", other("congress")), NOT_FOUND),
    case("cg-handler-pick", CHAIR, forged("cg", "hpick", other("member")), NOT_FOUND),
    case(
        "cg-handler-their-member",
        CHAIR,
        forged("cg", "hset", other("member"), ours("logistics")),
        "members.not_found",
    ),
    case(
        "cg-handler-their-department",
        CHAIR,
        forged("cg", "hset", ours("handler"), other("department")),
        "proposal.department_unknown",
    ),
    case(
        "mem-grant",
        CHAIR,
        forged("mem", "grant", other("member"), "committee"),
        "members.not_found",
    ),
    case("ad-withdraw", TEACHER, forged("ad", "wd", other("case")), "aid.not_found"),
    # Buttons that ask for a text are refused at the press, before anything is typed.
    case("sga-follow-up", TEACHER, forged("sga", "more", other("suggestion")), NOT_FOUND),
    case("ad-answer", TEACHER, forged("ad", "info", other("case")), "aid.not_found"),
    case("ak-open", COMMITTEE, forged("ak", "open", other("case")), NOT_FOUND),
    case("ak-approve", COMMITTEE, forged("ak", "yes", other("case"), 50_000), "aid.not_found"),
    case("ak-reject", COMMITTEE, forged("ak", "no", other("case")), NOT_FOUND),
    case("ak-paid", TREASURER, forged("ak", "pay", other("approved_case")), NOT_FOUND),
    case("hf-review", COMMITTEE, forged("hf", "rev", other("hardship")), "hardship.not_found"),
    case("av-sign-up", TEACHER, forged("av", "su", other("activity")), ACTIVITY_NOT_FOUND),
    case("av-cancel", TEACHER, forged("av", "cx", other("activity")), ACTIVITY_NOT_FOUND),
    case("av-check-in", TEACHER, forged("av", "in", other("activity")), ACTIVITY_NOT_FOUND),
    case("av-family", TEACHER, forged("av", "fam", other("activity"), 0), ACTIVITY_NOT_FOUND),
    case("av-team-withdraw", TEACHER, forged("av", "teamx", other("activity")), ACTIVITY_NOT_FOUND),
    *[
        case(f"ag-{action}", COMMITTEE, forged("ag", action, other("activity")), ACTIVITY_NOT_FOUND)
        for action in ("mgr", "cxyes")
    ],
    case(
        "ag-mark",
        COMMITTEE,
        forged("ag", "mark", other("activity"), other("member")),
        ACTIVITY_NOT_FOUND,
    ),
    case("cal-toggle", COMMITTEE, forged("cal", "toggle", other("entry")), "calendar.not_found"),
]

# 2. Our own items, pressed by someone who may not touch them.
NOT_YOURS = [
    case(
        "sug-close-by-teacher", TEACHER, forged("sug", "close", ours("suggestion")), NOT_COMMITTEE
    ),
    case(
        "sgc-toggle-by-teacher", TEACHER, forged("sgc", "toggle", ours("category")), NOT_COMMITTEE
    ),
    case(
        "sug-close-by-stranger", STRANGER, forged("sug", "close", ours("suggestion")), NOT_COMMITTEE
    ),
    case(
        "sug-close-by-other-schools-chair",
        OTHER_CHAIR,
        forged("sug", "close", ours("suggestion")),
        NOT_COMMITTEE,
    ),
    case(
        "sga-resolved-by-colleague",
        COLLEAGUE,
        forged("sga", "ok", ours("suggestion")),
        "suggestion.not_yours",
    ),
    case(
        "sga-not-resolved-by-committee",
        COMMITTEE,
        forged("sga", "notok", ours("suggestion")),
        "suggestion.not_yours",
    ),
    case(
        "pp-cosign-own", TEACHER, forged("pp", "cosign", ours("cosigning")), "proposal.cosign_own"
    ),
    case(
        "pp-withdraw-colleagues",
        TEACHER,
        forged("pp", "wd", ours("colleagues_cosigning")),
        "proposal.not_yours",
    ),
    case(
        "pp-withdraw-yes-colleagues",
        TEACHER,
        forged("pp", "wdyes", ours("colleagues_cosigning")),
        "proposal.not_yours",
    ),
    case("pd-file-by-teacher", TEACHER, forged("pd", "file", ours("submitted")), NOT_COMMITTEE),
    case(
        "pd-not-file-by-teacher", TEACHER, forged("pd", "nofile", ours("submitted")), NOT_COMMITTEE
    ),
    case("pd-assign-by-handler", HANDLER, forged("pd", "asg", ours("filed")), NOT_COMMITTEE),
    case("pd-close-by-handler", HANDLER, forged("pd", "close", ours("assigned")), NOT_COMMITTEE),
    case(
        "pd-answer-other-department",
        HANDLER,
        forged("pd", "ans", ours("assigned")),
        "proposal.not_handler",
    ),
    case(
        "pd-file-by-other-schools-chair",
        OTHER_CHAIR,
        forged("pd", "file", ours("submitted")),
        NOT_COMMITTEE,
    ),
    case(
        "pr-rate-as-cosigner",
        TEACHER,
        forged("pr", "rate", ours("answered"), "s"),
        "proposal.not_yours",
    ),
    case(
        "pr-rate-dissatisfied-as-cosigner",
        TEACHER,
        forged("pr", "rate", ours("answered"), "d"),
        "proposal.not_yours",
    ),
    case(
        "pr-rate-as-committee",
        COMMITTEE,
        forged("pr", "rate", ours("answered"), "b"),
        "proposal.not_yours",
    ),
    case("cg-figures-by-teacher", TEACHER, forged("cg", "fig", ours("congress")), NOT_COMMITTEE),
    case(
        "cg-handler-pick-by-committee",
        COMMITTEE,
        forged("cg", "hpick", ours("handler")),
        "roles.chair_only",
    ),
    case(
        "cg-handler-set-by-committee",
        COMMITTEE,
        forged("cg", "hset", ours("teacher"), ours("logistics")),
        "roles.chair_only",
    ),
    case(
        "mem-grant-by-committee",
        COMMITTEE,
        forged("mem", "grant", ours("teacher"), "committee"),
        "roles.chair_only",
    ),
    case("mem-view-by-teacher", TEACHER, forged("mem", "view", ours("colleague")), NOT_COMMITTEE),
    case(
        "ad-withdraw-colleagues",
        COLLEAGUE,
        forged("ad", "wd", ours("teacher_case")),
        "aid.not_yours",
    ),
    # Buttons that ask for a text are refused at the press, before anything is typed.
    case(
        "sga-follow-up-not-author",
        COLLEAGUE,
        forged("sga", "more", ours("suggestion")),
        "suggestion.not_yours",
    ),
    case(
        "ad-answer-not-requester",
        COLLEAGUE,
        forged("ad", "info", ours("teacher_case")),
        "aid.not_yours",
    ),
    case(
        "ad-answer-no-question-asked",
        TEACHER,
        forged("ad", "info", ours("teacher_case")),
        "aid.no_question",
        # Read at the press, not when pytest collects: a run may cross the new year.
        number=lambda: f"助-{datetime.now(ZoneInfo('Asia/Shanghai')).year}-0002",
    ),
    *[
        case(
            f"ak-{action}-own-case",
            COMMITTEE,
            forged("ak", action, ours("committee_case"), *extra),
            "aid.conflict_of_interest",
        )
        for action, extra in (
            ("open", ()),
            ("yes", (50_000,)),
            ("no", ()),
        )
    ],
    case(
        "ak-approve-own-by-teacher",
        TEACHER,
        forged("ak", "yes", ours("teacher_case"), 50_000),
        NOT_COMMITTEE,
    ),
    case(
        "ak-open-own-by-teacher", TEACHER, forged("ak", "open", ours("teacher_case")), NOT_COMMITTEE
    ),
    case(
        "ak-paid-by-teacher",
        TEACHER,
        forged("ak", "pay", ours("treasurer_case")),
        "aid.treasurer_only",
    ),
    case(
        "ak-approve-by-treasurer",
        TREASURER,
        forged("ak", "yes", ours("teacher_case"), 50_000),
        NOT_COMMITTEE,
    ),
    case("an-publish-by-teacher", TEACHER, lambda w: pack("an", "pub", 2025), NOT_COMMITTEE),
    case("hf-review-by-teacher", TEACHER, forged("hf", "rev", ours("hardship")), NOT_COMMITTEE),
    case(
        "av-cancel-not-signed-up",
        COLLEAGUE,
        forged("av", "cx", ours("activity")),
        "activity.no_signup",
    ),
    case(
        "av-check-in-no-seat", COLLEAGUE, forged("av", "in", ours("activity")), "activity.no_seat"
    ),
    case(
        "av-family-not-signed-up",
        COLLEAGUE,
        forged("av", "fam", ours("activity"), 1),
        "activity.no_signup",
    ),
    case(
        "av-team-withdraw-not-contact",
        COLLEAGUE,
        forged("av", "teamx", ours("activity")),
        "activity.no_team",
    ),
    case(
        "av-sign-up-stranger",
        STRANGER,
        forged("av", "su", ours("activity")),
        "member.not_registered",
    ),
    case("ag-manage-by-teacher", TEACHER, forged("ag", "mgr", ours("activity")), NOT_COMMITTEE),
    case(
        "ag-mark-by-teacher",
        TEACHER,
        forged("ag", "mark", ours("activity"), ours("teacher")),
        NOT_COMMITTEE,
    ),
    case(
        "ag-capacity-ok-by-treasurer",
        TREASURER,
        forged("ag", "capok", ours("activity"), 1),
        NOT_COMMITTEE,
    ),
    case(
        "ag-mark-not-seated",
        COMMITTEE,
        forged("ag", "mark", ours("activity"), ours("colleague")),
        "activity.no_seat",
    ),
    case(
        "ag-mark-other-schools-member",
        COMMITTEE,
        forged("ag", "mark", ours("activity"), other("member")),
        "activity.no_seat",
    ),
    *[
        case(
            f"cal-{action}-by-teacher", TEACHER, forged("cal", action, ours("entry")), NOT_COMMITTEE
        )
        for action in ("toggle", "time")
    ],
    case("cal-add-by-teacher", TEACHER, lambda w: pack("cal", "add", 0), NOT_COMMITTEE),
    case("menu-members-by-teacher", TEACHER, forged("menu", "members"), "menu.not_for_you"),
    case("menu-unknown", COMMITTEE, lambda w: pack("menu", "selfdestruct"), "menu.not_for_you"),
]

# 3. Malformed data: missing, zero, negative, extra or huge ids, non-ASCII, over 64 bytes.
MALFORMED = [
    case("missing-id", COMMITTEE, lambda w: "sug:close", STALE),
    case("zero-id", COMMITTEE, lambda w: "sug:close:0", STALE),
    case("negative-id", COMMITTEE, lambda w: "sug:close:-3", STALE),
    case("fullwidth-digits", COMMITTEE, lambda w: "sug:close:１", STALE),
    case("over-64-bytes-chinese", TEACHER, lambda w: "pp:cosign:" + "提" * 20, STALE),
    case("semicolon-injection", COMMITTEE, lambda w: f"ak:open:{w.teacher_case};drop", STALE),
    case("merge-missing-survivor", COMMITTEE, forged("pd", "mrg", ours("submitted")), STALE),
    case("assign-lead-letters", COMMITTEE, forged("pd", "lead", ours("filed"), "abc"), STALE),
    case(
        "assign-lead-without-assigning",
        COMMITTEE,
        forged("pd", "lead", ours("filed"), ours("academic")),
        STALE,
    ),
    case(
        "assign-confirm-without-assigning", COMMITTEE, forged("pd", "asgok", ours("filed")), STALE
    ),
    case("approve-missing-amount", COMMITTEE, forged("ak", "yes", ours("teacher_case")), STALE),
    case("approve-negative-amount", COMMITTEE, lambda w: f"ak:yes:{w.teacher_case}:-50000", STALE),
    case("rate-unknown-verdict", TEACHER, forged("pr", "rate", ours("answered"), "x"), STALE),
    case("rate-missing-verdict", COLLEAGUE, forged("pr", "rate", ours("answered")), STALE),
    case("handler-missing-department", CHAIR, forged("cg", "hset", ours("handler")), STALE),
    case("grant-unknown-role", CHAIR, forged("mem", "grant", ours("teacher"), "pope"), STALE),
    case("mark-missing-member", COMMITTEE, forged("ag", "mark", ours("activity")), STALE),
    case("calendar-toggle-zero", COMMITTEE, lambda w: "cal:toggle:0", STALE),
    case("withdraw-negative", TEACHER, lambda w: "ad:wd:-1", STALE),
    case(
        "family-negative",
        TEACHER,
        forged("av", "fam", ours("activity"), "-1"),
        "activity.family_too_many",
        max=1,
    ),
    case(
        "sign-up-unknown-choice",
        COLLEAGUE,
        forged("av", "su", ours("activity"), 7),
        "activity.choice_unknown",
    ),
    # Typed buttons have an arity: one part too many is not a button we made.
    case(
        "extra-id-after-theirs",
        TEACHER,
        forged("ad", "wd", other("case"), ours("teacher_case")),
        STALE,
    ),
    case("menu-extra-part", TEACHER, lambda w: "menu:members:1", STALE),
    case("broadcast-confirm-outside", COMMITTEE, lambda w: "bc:confirm:yes", STALE),
    case("aid-confirm-outside", TEACHER, lambda w: "ad:ok:yes", STALE),
    case("unknown-feature", TEACHER, lambda w: "zz:top:1", STALE),
]


# 4. Refusals that come as a chat message to the presser: the press is answered without text
# first (menu entries that open a conversation, buttons that answer before deciding, people
# who are not members), then the refusal follows in the chat.
TOLD_IN_CHAT = [
    case(
        "ag-capacity-ok-theirs",
        COMMITTEE,
        forged("ag", "capok", other("activity"), 5),
        ACTIVITY_NOT_FOUND,
    ),
    case("sug-show-theirs", COMMITTEE, forged("sug", "show", other("suggestion")), NOT_FOUND),
    case("menu-broadcast-by-teacher", TEACHER, lambda w: "menu:broadcast", NOT_COMMITTEE),
    case("hf-new-by-teacher", TEACHER, lambda w: "hf:new", NOT_COMMITTEE),
    case("hf-close-by-teacher", TEACHER, forged("hf", "close", ours("hardship")), NOT_COMMITTEE),
    case(
        "pp-cosign-by-stranger",
        STRANGER,
        forged("pp", "cosign", ours("cosigning")),
        "member.not_registered",
    ),
    case(
        "ad-withdraw-by-stranger",
        STRANGER,
        forged("ad", "wd", ours("teacher_case")),
        "member.not_registered",
    ),
]


@pytest.mark.parametrize(("presser", "data", "key", "params"), OTHER_SCHOOL)
async def test_id_of_another_schools_item_is_refused(
    bot: BotHarness,
    world: World,
    caplog: pytest.LogCaptureFixture,
    presser: Person,
    data: Data,
    key: str,
    params: dict[str, Any],
) -> None:
    await press_refused(bot, caplog, presser, data(world), key, params=params)


@pytest.mark.parametrize(("presser", "data", "key", "params"), NOT_YOURS)
async def test_item_the_presser_may_not_touch_is_refused(
    bot: BotHarness,
    world: World,
    caplog: pytest.LogCaptureFixture,
    presser: Person,
    data: Data,
    key: str,
    params: dict[str, Any],
) -> None:
    await press_refused(bot, caplog, presser, data(world), key, params=params)


@pytest.mark.parametrize(("presser", "data", "key", "params"), MALFORMED)
async def test_malformed_data_is_refused(
    bot: BotHarness,
    world: World,
    caplog: pytest.LogCaptureFixture,
    presser: Person,
    data: Data,
    key: str,
    params: dict[str, Any],
) -> None:
    await press_refused(bot, caplog, presser, data(world), key, params=params)


@pytest.mark.parametrize(("presser", "data", "key", "params"), TOLD_IN_CHAT)
async def test_refusal_told_in_the_chat(
    bot: BotHarness,
    world: World,
    caplog: pytest.LogCaptureFixture,
    presser: Person,
    data: Data,
    key: str,
    params: dict[str, Any],
) -> None:
    await press_told(bot, caplog, presser, data(world), key, **params)


# ---- a forged id accepted at the press is refused when the text comes --------------------


async def press_then_type_refused(
    bot: BotHarness,
    caplog: pytest.LogCaptureFixture,
    presser: Person,
    data: str,
    typed: str,
    key: str,
    *,
    shown_back: bool = False,
) -> None:
    """Some buttons only ask for text and check the id when it comes: the typed text is
    refused in the presser's language and nothing changes. A text meant for someone else
    (`shown_back`) is shown back first, and the refusal comes when Send is pressed."""
    before = await snapshot(bot)
    bot.telegram.clear()
    caplog.clear()
    update = button(presser, data)

    await bot.feed(update)
    await bot.say(presser, typed)
    refusal = translate(bot, presser, key)
    if shown_back:
        shown = bot.telegram.last(presser.id)
        assert typed in shown.text and SEND in [choice for _, choice in shown.buttons()]
        send = button(presser, SEND)
        await bot.feed(send)
        [answer] = answers_to(bot, send["callback_query"]["id"])
        assert answer.text == refusal and answer.params.get("show_alert") is True
    else:
        assert bot.telegram.texts(presser.id)[-1] == refusal

    assert len(answers_to(bot, update["callback_query"]["id"])) == 1
    assert_quiet(bot, presser, caplog)
    assert await snapshot(bot) == before


# (A follow-up and an aid answer are refused at the press: see OTHER_SCHOOL and NOT_YOURS.)
TYPED_LATER = [
    pytest.param(
        COMMITTEE,
        forged("hf", "close", other("hardship")),
        "Recovered.",
        "hardship.not_found",
        False,
        id="hf-close-theirs",
    ),
    pytest.param(
        COMMITTEE,
        forged("cal", "time", other("entry")),
        "08:30",
        "calendar.not_found",
        False,
        id="cal-time-theirs",
    ),
    pytest.param(
        COMMITTEE,
        forged("cal", "text", other("entry")),
        "Hello",
        "calendar.not_found",
        False,
        id="cal-text-theirs",
    ),
    pytest.param(
        TEACHER,
        forged("av", "team", other("activity")),
        "Wang Fang、Li Na",
        ACTIVITY_NOT_FOUND,
        False,
        id="av-team-theirs",
    ),
]


@pytest.mark.parametrize(("presser", "data", "typed", "key", "shown_back"), TYPED_LATER)
async def test_forged_id_is_refused_when_the_text_comes(
    bot: BotHarness,
    world: World,
    caplog: pytest.LogCaptureFixture,
    presser: Person,
    data: Data,
    typed: str,
    key: str,
    shown_back: bool,
) -> None:
    await press_then_type_refused(
        bot, caplog, presser, data(world), typed, key, shown_back=shown_back
    )


# ---- a follow-up is refused at the press unless the item is the presser's and answered ----


async def _add_suggestion(
    bot: BotHarness, world: World, *, seq: int, anonymous: bool, answered: bool
) -> Suggestion:
    """Another of TEACHER's items (anonymous ones carry only the sealed author)."""
    item = Suggestion(
        organization_id=bot.org_id,
        year=_today(bot).year,
        seq=seq,
        category_id=world.category,
        body="The staff room is cold.",
        anonymous=anonymous,
        author_member_id=None if anonymous else world.teacher,
        reply_token=bot.app.state.seal.seal(world.teacher) if anonymous else None,
        client_token=f"extra-{seq}",
        status=SuggestionStatus.ANSWERED if answered else SuggestionStatus.OPEN,
        answered_at=utcnow() if answered else None,
    )
    async with bot.db() as session:
        session.add(item)
        await session.commit()
        await session.refresh(item)
    return item


async def test_follow_up_on_an_unanswered_item_is_refused_at_the_press(
    bot: BotHarness, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    item = await _add_suggestion(bot, world, seq=2, anonymous=False, answered=False)

    await press_refused(
        bot,
        caplog,
        TEACHER,
        pack("sga", "more", item.id or 0),
        "suggestion.followup_not_answered",
        params={"number": item.number},
    )


async def test_follow_up_on_an_anonymous_item_is_checked_through_the_seal(
    bot: BotHarness, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    item = await _add_suggestion(bot, world, seq=3, anonymous=True, answered=True)
    data = pack("sga", "more", item.id or 0)

    await press_refused(bot, caplog, COLLEAGUE, data, "suggestion.not_yours")

    await bot.press(TEACHER, data)  # the author: asked for the text
    purpose = translate(bot, TEACHER, "purpose.suggestion_followup")
    assert bot.telegram.texts(TEACHER.id) == [
        translate(bot, TEACHER, "form.writing", purpose=purpose)
        + "\n"
        + translate(bot, TEACHER, "suggestion.write_followup_anonymous", limit=BODY_LIMIT)
    ]


# ---- forged buttons inside conversations ---------------------------------------------------


async def test_other_schools_category_while_filing_a_suggestion(
    bot: BotHarness, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    await bot.say(TEACHER, "/suggest")

    await press_told(
        bot,
        caplog,
        TEACHER,
        pack("sgf", "cat", world.other["category"]),
        "suggestion.category_unknown",
    )

    await bot.press(TEACHER, pack("sgf", "cat", world.category))  # still choosing a category
    expected = translate(bot, TEACHER, "suggestion.write_body", limit=BODY_LIMIT)
    assert bot.telegram.last(TEACHER.id).text == expected


async def test_aid_report_about_other_schools_member_is_refused(
    bot: BotHarness, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    await bot.say(TEACHER, "/aid")
    await bot.press(TEACHER, pack("ad", "who", "other"))
    await bot.say(TEACHER, "Zhao")
    assert bot.telegram.last(TEACHER.id).buttons() == [
        ("Zhao Lei · Maths", pack("ad", "subj", world.colleague))
    ]
    await bot.press(TEACHER, pack("ad", "subj", world.other["member"]))  # not one of the buttons
    await bot.press(TEACHER, pack("ad", "type", "hospital"))
    await bot.say(TEACHER, "In hospital since Monday.")
    await bot.say(TEACHER, "today")
    await bot.press(TEACHER, pack("ad", "ev", "done"))

    # Confirm answers the press first; the refusal follows in the chat.
    await press_told(bot, caplog, TEACHER, pack("ad", "ok", "yes"), "aid.subject_unknown")


async def test_hardship_file_for_other_schools_member_is_refused(
    bot: BotHarness, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    await bot.press(COMMITTEE, pack("hf", "new"))
    await bot.say(COMMITTEE, "Zhao")
    await bot.press(COMMITTEE, pack("hf", "who", world.other["member"]))  # not one of the buttons
    await bot.press(COMMITTEE, pack("hf", "lvl", "general"))
    before = await snapshot(bot)
    bot.telegram.clear()

    await bot.say(COMMITTEE, "Long illness.")

    assert bot.telegram.texts(COMMITTEE.id) == [translate(bot, COMMITTEE, "aid.subject_unknown")]
    assert_quiet(bot, COMMITTEE, caplog)
    assert await snapshot(bot) == before


async def test_assigning_to_other_schools_department_is_refused(
    bot: BotHarness, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    await bot.press(COMMITTEE, pack("pd", "asg", world.filed))
    await bot.press(COMMITTEE, pack("pd", "lead", world.filed, world.other["department"]))
    assert all("总务处" not in call.text for call in bot.telegram.calls)

    await press_refused(
        bot, caplog, COMMITTEE, pack("pd", "asgok", world.filed), "proposal.department_unknown"
    )


async def test_filter_by_other_schools_category_shows_none_of_its_items(
    bot: BotHarness, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    before = await snapshot(bot)

    await bot.press(COMMITTEE, pack("sug", "fcat", world.other["category"]))

    [listing] = bot.telegram.sent("sendMessage")
    assert listing.text == translate(bot, COMMITTEE, "suggestion.list_empty")
    assert not any(
        world.other["suggestion"] == int(d.split(":")[-1])
        for _, d in listing.buttons()
        if d.startswith("sug:show:")
    )
    assert_quiet(bot, COMMITTEE, caplog)
    assert await snapshot(bot) == before


# ---- found by these tests, and fixed ---------------------------------------------------------


@pytest.mark.parametrize(
    ("presser", "data"),
    [
        pytest.param(TEACHER, "sga:more:0", id="suggestion-follow-up"),
        pytest.param(TEACHER, "ad:info:0", id="aid-answer"),
        pytest.param(COMMITTEE, "hf:close:0", id="hardship-close"),
        pytest.param(TEACHER, "av:team:0", id="activity-team"),
    ],
)
async def test_malformed_id_on_a_text_button_gets_an_alert(
    bot: BotHarness, world: World, caplog: pytest.LogCaptureFixture, presser: Person, data: str
) -> None:
    await press_refused(bot, caplog, presser, data, STALE)


@pytest.mark.parametrize(
    ("presser", "data", "key"),
    [
        pytest.param(COMMITTEE, "ak:open:" + "9" * 25, STALE, id="aid-open"),
        pytest.param(TEACHER, "av:cx:" + "9" * 25, STALE, id="activity-cancel"),
        pytest.param(COMMITTEE, "pd:file:" + "9" * 25, STALE, id="proposal-file"),
    ],
)
async def test_oversized_id_is_refused(
    bot: BotHarness,
    world: World,
    caplog: pytest.LogCaptureFixture,
    presser: Person,
    data: str,
    key: str,
) -> None:
    await press_refused(bot, caplog, presser, data, key)


async def test_id_beyond_32_bits_is_refused(
    bot: BotHarness, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    before = await snapshot(bot)
    bot.telegram.clear()
    caplog.clear()
    update = button(COMMITTEE, "ak:open:3000000000")

    await bot.feed(update)

    [answer] = answers_to(bot, update["callback_query"]["id"])
    refusals = {translate(bot, COMMITTEE, key) for key in (STALE, NOT_FOUND)}
    assert answer.text in refusals and answer.params.get("show_alert") is True
    assert_quiet(bot, COMMITTEE, caplog)
    assert await snapshot(bot) == before


async def test_extra_id_after_a_legitimate_one_is_refused(
    bot: BotHarness, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    data = pack("sug", "close", world.suggestion, world.other["suggestion"])

    await press_refused(bot, caplog, COMMITTEE, data, STALE)


async def test_forged_gender_choice_changes_nothing(
    bot: BotHarness, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    await press_refused(bot, caplog, TEACHER, pack("me", "gender", "bogus"), STALE)


async def test_paid_on_ones_own_case_is_refused_at_the_press(
    bot: BotHarness, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    data = pack("ak", "pay", world.treasurer_case)

    await press_refused(bot, caplog, TREASURER, data, "aid.conflict_of_interest")


@pytest.mark.parametrize(
    ("presser", "data", "key"),
    [
        pytest.param(
            COMMITTEE, forged("sug", "close", other("suggestion")), NOT_FOUND, id="theirs"
        ),
        pytest.param(
            TEACHER, forged("ak", "yes", ours("teacher_case"), 50_000), NOT_COMMITTEE, id="own-case"
        ),
        pytest.param(
            OTHER_CHAIR, forged("pd", "file", ours("submitted")), NOT_COMMITTEE, id="outsider"
        ),
    ],
)
async def test_desk_button_pressed_in_the_committee_group_is_refused_privately(
    bot: BotHarness,
    world: World,
    caplog: pytest.LogCaptureFixture,
    presser: Person,
    data: Data,
    key: str,
) -> None:
    """Anyone in the group can press a card's buttons: the refusal is the presser's alert."""
    await press_refused(bot, caplog, presser, data(world), key, chat=GROUP)
