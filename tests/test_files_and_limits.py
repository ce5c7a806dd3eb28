"""Files, links and lengths: what the bot writes to disk is its own user's only, a link that is
not ours is refused plainly, and anything a person may type at its longest fits every column
it reaches (run it on PostgreSQL too: SQLite does not check the length of a VARCHAR).
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import SecretStr
from sqlmodel import col, select

from bot.callback import pack
from bot.cli import main
from bot.db import upgrade_async
from handlers.activities.buttons import ActivityButton, SignUpFor
from handlers.aid.buttons import AidAnswer, HardshipLevelChoice, HardshipMember, HardshipNew
from handlers.calendar.buttons import CalendarEntryButton
from handlers.members.buttons import JoinDecision, ProfileChangeDecision, ProfileEdit
from handlers.proposals.buttons import (
    CongressConfirm,
    CongressCosigners,
    CongressFilers,
    CongressOpen,
    CongressReplyDays,
)
from handlers.suggestions.buttons import AuthorButton, SuggestionCard
from models.activities import Activity, Signup, Team
from models.aid import AidCase, AidLedgerEntry
from models.base import utcnow
from models.calendar import CalendarEntry
from models.hardship import HardshipFile, HardshipLevel
from models.members import JoinRequest, Member, MemberStatus, ProfileChangeRequest, Role
from models.organizations import bind_committee_chat
from models.outbox import OutboxMessage
from models.proposals import CongressSession, Department, Filers, Proposal
from models.suggestions import Suggestion, SuggestionCategory, SuggestionEntry
from tests.support.factories import make_member
from tests.support.harness import CHAIR, COMMITTEE_GROUP_ID, SEND, BotHarness, make_settings
from tests.support.harness import running_bot as run_bot
from tests.support.updates import Person, group_chat

GROUP = group_chat(COMMITTEE_GROUP_ID)
COMMITTEE = Person(1002, "Liu", "zh-hans")
TREASURER = Person(1003, "Qian", "zh-hans")
NEWBIE = Person(2001, "Ouyang", "zh-hans")
MEMBER = Person(2002, "Wang", "en")


# ---- 14. data files are private from the start -----------------------------------------------


def mode(path: Path) -> int:
    """The permission bits of `path`."""
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def shared_umask() -> Iterator[None]:
    """The umask of a typical server (022: what is created is readable by everyone)."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture
def no_chmod(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, ...]]:
    """Permissions changed after creation: none may be needed for a new file or folder (a file
    made readable and narrowed afterwards was readable for a moment)."""
    calls: list[tuple[object, ...]] = []

    def refuse(*args: object, **kwargs: object) -> None:
        calls.append(args)

    monkeypatch.setattr(os, "chmod", refuse)
    return calls


async def test_data_files_and_folder_are_private_from_the_start(
    tmp_path: Path, shared_umask: None, no_chmod: list[tuple[object, ...]]
) -> None:
    data = tmp_path / "srv" / "data"
    url = f"sqlite+aiosqlite:///{data / 'unionbot.db'}"
    settings = make_settings(
        url, tmp_path, persistence_path=data / "conversations.pickle", secret_key=None
    )

    await upgrade_async(url)  # `unionbot run` migrates first
    async with run_bot(settings) as bot:
        await bot.say(NEWBIE, "/start")  # a form in progress: the store has something to keep
        await bot.app.update_persistence()
        running = {path.name: mode(path) for path in data.iterdir()}

    assert {"unionbot.db", "secret.key"} <= set(running)
    assert "conversations.pickle" not in running  # forms in progress are in the database
    assert any(name.endswith("-wal") for name in running)  # SQLite's own files too
    assert running == dict.fromkeys(running, 0o600)
    assert {path.name: mode(path) for path in data.iterdir()} == dict.fromkeys(
        (path.name for path in data.iterdir()), 0o600
    )
    assert (mode(data), mode(data.parent)) == (0o700, 0o700)
    assert no_chmod == []


async def test_wider_files_of_an_older_version_are_narrowed_at_start(
    tmp_path: Path, shared_umask: None
) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    url = f"sqlite+aiosqlite:///{data / 'unionbot.db'}"
    await upgrade_async(url)
    key = data / "secret.key"
    key.write_text("an-old-key-made-by-an-older-version")
    for path in (data / "unionbot.db", key):
        path.chmod(0o644)
    settings = make_settings(
        url, tmp_path, persistence_path=data / "conversations.pickle", secret_key=None
    )

    async with run_bot(settings) as bot:
        await bot.say(NEWBIE, "/start")
        await bot.app.update_persistence()

    assert {path.name: mode(path) for path in data.iterdir() if path.is_file()} == dict.fromkeys(
        (path.name for path in data.iterdir() if path.is_file()), 0o600
    )
    assert bot.app.state.secret == b"an-old-key-made-by-an-older-version"
    assert mode(data) == 0o755  # a folder the operator made is left as it is


def test_the_command_line_creates_the_database_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_umask: None
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{data / 'unionbot.db'}")
    monkeypatch.setenv("DEFAULT_LANGUAGE", "en")
    monkeypatch.chdir(tmp_path)

    assert main(["db", "upgrade"]) == 0

    assert (mode(data), mode(data / "unionbot.db")) == (0o700, 0o600)
    written = tmp_path / "links.csv"
    written.write_text("")  # anything else the command writes is the bot user's only too
    assert mode(written) == 0o600


# ---- 15. deep links that are not ours are refused plainly ----------------------------------

OURS_NOT_FOUND = [
    pytest.param("cosign-99999999999999999999", "proposal.not_found", id="cosign-beyond-64-bits"),
    pytest.param("cosign-2147483648", "proposal.not_found", id="cosign-beyond-an-int"),
    pytest.param("cosign-" + "9" * 57, "proposal.not_found", id="cosign-64-characters"),
    pytest.param("cosign-0", "proposal.not_found", id="cosign-zero"),
    pytest.param("inv-" + "A" * 60, "invite.unknown", id="invite-64-characters"),
]
NOT_OURS = [
    pytest.param("cosign-²", id="superscript-digit"),
    pytest.param("cosign-١٢", id="arabic-indic-digits"),
    pytest.param("cosign-１２", id="fullwidth-digits"),
    pytest.param("inv-" + "A" * 61, id="over-64-characters"),
    pytest.param("inv-王芳", id="chinese"),
    pytest.param("cosign-1%00", id="percent"),
]


def said(bot: BotHarness, key: str, **params: object) -> str:
    """A catalog text in Simplified Chinese."""
    return bot.app.state.i18n.get("zh-Hans")(key, **params)


def assert_no_failure(bot: BotHarness, caplog: pytest.LogCaptureFixture) -> None:
    """No apology, no owner alert, no error logged."""
    assert bot.telegram.texts(CHAIR.id) == []
    apology = said(bot, "error.apology", ref="@@").split("@@")[0]
    assert not any(text.startswith(apology) for text in bot.telegram.texts())
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize(("payload", "key"), OURS_NOT_FOUND)
async def test_a_link_to_nothing_of_ours_is_refused_plainly(
    bot: BotHarness, caplog: pytest.LogCaptureFixture, payload: str, key: str
) -> None:
    await make_member(bot.db, org_id=bot.org_id, person=MEMBER, name="王芳", language="zh-Hans")

    await bot.say(MEMBER, f"/start {payload}")

    assert bot.telegram.texts(MEMBER.id)[0] == said(bot, key)
    assert_no_failure(bot, caplog)


@pytest.mark.parametrize("payload", NOT_OURS)
async def test_a_link_we_never_make_is_an_unknown_link(
    bot: BotHarness, caplog: pytest.LogCaptureFixture, payload: str
) -> None:
    await make_member(bot.db, org_id=bot.org_id, person=MEMBER, name="王芳", language="zh-Hans")

    await bot.say(MEMBER, f"/start {payload}")  # a member: told, then welcomed back
    await bot.say(NEWBIE, f"/start {payload}")  # not a member yet: told, then registration

    assert bot.telegram.texts(MEMBER.id)[:2] == [
        said(bot, "start.link_unknown"),
        said(bot, "start.welcome_back", name="王芳"),
    ]
    assert bot.telegram.texts(NEWBIE.id)[0] == said(bot, "start.link_unknown")
    organization = bot.app.state.settings.organization_name
    assert bot.telegram.texts(NEWBIE.id)[1] == said(bot, "start.welcome", org=organization)
    assert_no_failure(bot, caplog)


# ---- 15. every typed field at its longest is stored ----------------------------------------


def longest(limit: int, seed: str) -> str:
    """Exactly `limit` characters: `seed` repeated (Chinese, with 𠮷, a four-byte character
    used in names)."""
    return (seed * limit)[:limit]


async def send(bot: BotHarness, person: Person, body: str) -> None:
    """`person` types `body`; a text shown back before it leaves is sent with Send."""
    await bot.say(person, body)
    last = bot.telegram.last(person.id)
    if SEND in [data for _, data in last.buttons()]:
        await bot.press(person, SEND)


def today(bot: BotHarness) -> date:
    """Today where the school is."""
    return datetime.now(bot.app.state.settings.zone).date()


async def one(bot: BotHarness, statement: Any) -> Any:
    """The single row (or value) a query finds."""
    async with bot.db() as session:
        return (await session.exec(statement)).one()


NAME = longest(40, "欧阳𠮷")
DEPARTMENT = longest(60, "初中部数学教研组")
NEW_NAME = longest(40, "司马")
NEW_DEPARTMENT = longest(60, "高中部物理教研组第二备课组")


async def register_and_approve(bot: BotHarness) -> Member:
    """NEWBIE registers with the longest name and department; the committee approves."""
    await bot.say(NEWBIE, "/start")
    await bot.press(NEWBIE, pack("reg", "lang", "zhs"))
    await bot.say(NEWBIE, NAME)
    await bot.say(NEWBIE, DEPARTMENT)
    await bot.press(NEWBIE, pack("reg", "gender", "female"))
    await bot.press(NEWBIE, pack("reg", "birthday", "skip"))
    await bot.press(NEWBIE, pack("reg", "retired", "no"))
    await bot.press(NEWBIE, pack("reg", "confirm", "yes"))
    request = await one(bot, select(JoinRequest))
    assert isinstance(request, JoinRequest) and request.id is not None
    await bot.press(COMMITTEE, JoinDecision("approve", request.id).pack(), chat=GROUP)
    member = await one(bot, select(Member).where(Member.telegram_user_id == NEWBIE.id))
    assert isinstance(member, Member)
    assert (member.real_name, member.department, member.status) == (
        NAME,
        DEPARTMENT,
        MemberStatus.ACTIVE,
    )
    return member


async def change_profile(bot: BotHarness, field: Literal["name", "dept"], value: str) -> None:
    """A /me edit of the name or the department, approved by the committee."""
    await bot.press(NEWBIE, ProfileEdit(field).pack())
    await bot.say(NEWBIE, value)
    async with bot.db() as session:
        request = (
            await session.exec(
                select(ProfileChangeRequest).order_by(col(ProfileChangeRequest.id).desc())
            )
        ).first()
    assert request is not None and request.id is not None
    assert value in (request.new_name, request.new_department)
    await bot.press(COMMITTEE, ProfileChangeDecision("approve", request.id).pack(), chat=GROUP)


async def file_suggestion(bot: BotHarness) -> None:
    """A suggestion, the committee's reply and the author's follow-up, each at its longest."""
    body, reply, more = (longest(2000, seed) for seed in ("食堂排队太长", "已经协调", "还是没改"))
    await bot.say(NEWBIE, "/suggest")
    category = await one(
        bot, select(SuggestionCategory).where(SuggestionCategory.code == "canteen")
    )
    assert isinstance(category, SuggestionCategory)
    await bot.press(NEWBIE, pack("sgf", "cat", category.id or 0))
    await bot.say(NEWBIE, body)
    await bot.press(NEWBIE, pack("sgf", "photos", "done"))
    await bot.press(NEWBIE, pack("sgf", "anon", "named"))
    await bot.press(NEWBIE, pack("sgf", "confirm", "yes"))
    item = await one(bot, select(Suggestion))
    assert isinstance(item, Suggestion) and item.body == body
    await bot.press(COMMITTEE, SuggestionCard("reply", item.id or 0).pack(), chat=GROUP)
    await send(bot, COMMITTEE, reply)
    await bot.press(NEWBIE, AuthorButton("more", item.id or 0).pack())
    await send(bot, NEWBIE, more)
    async with bot.db() as session:
        bodies = (await session.exec(select(SuggestionEntry.body))).all()
    assert {reply, more} <= set(bodies)

    name = longest(20, "宿舍")
    await bot.say(COMMITTEE, f"/categories add {name}")
    assert isinstance(
        await one(bot, select(SuggestionCategory).where(SuggestionCategory.name == name)),
        SuggestionCategory,
    )


async def file_proposal(bot: BotHarness) -> None:
    """A congress window, a handling department and a proposal, each at its longest."""
    name = longest(60, "第八届教代会第一次会议")
    opens, closes = today(bot), today(bot) + timedelta(days=14)
    await bot.say(COMMITTEE, "/congress")
    await bot.press(COMMITTEE, CongressOpen().pack())
    await bot.say(COMMITTEE, name)
    await bot.say(COMMITTEE, f"{opens.isoformat()} 至 {closes.isoformat()}")
    await bot.press(COMMITTEE, CongressReplyDays("30").pack())
    await bot.press(COMMITTEE, CongressCosigners("0").pack())
    await bot.press(COMMITTEE, CongressFilers(Filers.MEMBERS).pack())
    await bot.press(COMMITTEE, CongressConfirm("yes").pack())
    assert isinstance(await one(bot, select(CongressSession)), CongressSession)
    assert (await one(bot, select(CongressSession.name))) == name

    department = longest(30, "后勤保障处")
    await bot.say(COMMITTEE, f"/departments add {department}")
    assert (await one(bot, select(Department.name))) == department

    title, reasons, measures = (
        longest(60, "建议延长晚餐供应时间"),
        longest(2000, "晚自习老师下班晚"),
        longest(2000, "晚餐延长到七点"),
    )
    await bot.say(NEWBIE, "/propose")
    await bot.say(NEWBIE, title)
    if any(data == pack("pp", "sim", "mine") for _, data in bot.telegram.last(NEWBIE.id).buttons()):
        await bot.press(NEWBIE, pack("pp", "sim", "mine"))
    await bot.say(NEWBIE, reasons)
    await bot.say(NEWBIE, measures)
    await bot.press(NEWBIE, pack("pp", "cat", "welfare"))
    await bot.press(NEWBIE, pack("pp", "confirm", "yes"))
    proposal = await one(bot, select(Proposal))
    assert isinstance(proposal, Proposal)
    assert (proposal.title, proposal.reasons, proposal.measures) == (title, reasons, measures)


async def ask_for_aid(bot: BotHarness, newbie: Member) -> None:
    """An aid request, the committee's question, the answer and the payment, at their longest;
    and a hardship file."""
    description, question, answer = (
        longest(1000, "住院两周"),
        longest(500, "请补充诊断"),
        longest(1000, "诊断书已交"),
    )
    method, note = longest(32, "银行转账"), longest(500, "已转入工资卡")
    await bot.say(NEWBIE, "/aid")
    await bot.press(NEWBIE, pack("ad", "who", "me"))
    await bot.press(NEWBIE, pack("ad", "type", "hospital"))
    await bot.say(NEWBIE, description)
    await bot.say(NEWBIE, "今天")
    await bot.press(NEWBIE, pack("ad", "amt", "std"))
    await bot.press(NEWBIE, pack("ad", "ev", "done"))
    await bot.press(NEWBIE, pack("ad", "ok", "yes"))
    case = await one(bot, select(AidCase))
    assert isinstance(case, AidCase) and case.description == description
    case_id = case.id or 0
    await bot.press(COMMITTEE, pack("ak", "ask", case_id), chat=GROUP)
    await send(bot, COMMITTEE, question)
    await bot.press(NEWBIE, AidAnswer(case_id).pack())
    await send(bot, NEWBIE, answer)
    await bot.press(COMMITTEE, pack("ak", "yes", case_id, 50_000), chat=GROUP)
    await bot.press(TREASURER, pack("ak", "pay", case_id), chat=GROUP)
    await send(bot, TREASURER, f"今天 {method} {note}")
    async with bot.db() as session:
        ledger = (await session.exec(select(AidLedgerEntry))).all()
    assert {question, answer, note} <= {entry.note for entry in ledger}
    assert method in {entry.method for entry in ledger}

    reason = longest(500, "家人长期患病")
    await bot.press(COMMITTEE, HardshipNew().pack())
    await bot.say(COMMITTEE, NAME[:20])
    await bot.press(COMMITTEE, HardshipMember(newbie.id or 0).pack())
    await bot.press(COMMITTEE, HardshipLevelChoice(HardshipLevel.GENERAL).pack())
    await send(bot, COMMITTEE, reason)
    assert (await one(bot, select(HardshipFile.reason))) == reason


async def run_a_contest(bot: BotHarness) -> None:
    """A contest with every text at its longest; a sign-up for the longest choice, and the
    longest team from the department with the longest name."""
    title, place, description = (
        longest(60, "教职工拔河比赛"),
        longest(60, "学校东区体育馆"),
        longest(1000, "每个部门一队"),
    )
    choices = [longest(20, f"{n}号项目") for n in range(1, 9)]
    start = (utcnow() + timedelta(days=3)).astimezone(bot.app.state.settings.zone)
    await bot.say(COMMITTEE, "/newactivity")
    await bot.say(COMMITTEE, title)
    await bot.press(COMMITTEE, pack("ag", "cat", "contest"))
    await bot.say(COMMITTEE, start.strftime("%Y-%m-%d %H:%M"))
    await bot.say(COMMITTEE, place)
    await bot.press(COMMITTEE, pack("ag", "cap", "none"))
    await bot.press(COMMITTEE, pack("ag", "dl", "start"))
    await bot.press(COMMITTEE, pack("ag", "who", "everyone"))
    await bot.say(COMMITTEE, "、".join(choices))
    await bot.press(COMMITTEE, pack("ag", "fam", "0"))
    await bot.press(COMMITTEE, pack("ag", "mode", "first_come"))
    await bot.say(COMMITTEE, description)
    await bot.press(COMMITTEE, pack("ag", "ok", "yes"))
    activity = await one(bot, select(Activity))
    assert isinstance(activity, Activity)
    assert (activity.title, activity.place, activity.description) == (title, place, description)
    assert activity.choice_list() == choices
    activity_id = activity.id or 0

    await bot.press(NEWBIE, SignUpFor(activity_id, 7).pack())
    assert (await one(bot, select(Signup.choice))) == choices[7]

    players = [longest(19, f"{n:02d}号队员") for n in range(30)]  # 599 characters typed
    await bot.press(NEWBIE, ActivityButton("team", activity_id).pack())
    await bot.say(NEWBIE, "、".join(players))
    team = await one(bot, select(Team))
    assert isinstance(team, Team)
    assert (team.department, team.name_list()) == (NEW_DEPARTMENT, players)


async def write_calendar_and_broadcast(bot: BotHarness) -> None:
    """A calendar entry (title and text), an edited text, and a broadcast, at their longest."""
    title = longest(30, "中秋节祝福")
    text, edited, notice = (
        "{name}" + longest(994, "中秋快乐"),
        "{org}" + longest(995, "节日快乐"),
        "{name}" + longest(994, "周五开会"),
    )
    await bot.say(COMMITTEE, "/calendar")
    await bot.press(COMMITTEE, CalendarEntryButton("add", 0).pack())
    await bot.press(COMMITTEE, pack("cal", "kind", "greeting"))
    await bot.press(COMMITTEE, pack("cal", "aud", "everyone"))
    await bot.say(COMMITTEE, "农历8-15")
    await bot.say(COMMITTEE, "9:00")
    await bot.say(COMMITTEE, title)
    await bot.say(COMMITTEE, text)
    await bot.press(COMMITTEE, pack("cal", "txt", "rest"))
    await bot.press(COMMITTEE, pack("cal", "new", "yes"))
    async with bot.db() as session:
        added = (
            await session.exec(
                select(CalendarEntry).where(col(CalendarEntry.key).startswith("custom_"))
            )
        ).one()
    assert (added.titles, added.messages) == ({"zh-Hans": title}, {"zh-Hans": text})
    await bot.press(COMMITTEE, CalendarEntryButton("text", added.id or 0).pack())
    await bot.say(COMMITTEE, edited)
    async with bot.db() as session:
        saved = await session.get(CalendarEntry, added.id)
    assert saved is not None and saved.messages == {"zh-Hans": edited}

    await bot.say(COMMITTEE, "/broadcast")
    await bot.press(COMMITTEE, pack("bc", "aud", "everyone"))
    await bot.say(COMMITTEE, notice)
    await bot.press(COMMITTEE, pack("bc", "confirm", "yes"))
    async with bot.db() as session:
        texts = (await session.exec(select(OutboxMessage.text))).all()
    assert NEW_NAME + notice.removeprefix("{name}") in texts


async def test_every_typed_field_at_its_longest_is_stored(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    async with bot.db() as session:
        await bind_committee_chat(session, org_id=bot.org_id, chat_id=COMMITTEE_GROUP_ID)
    for person, name, roles in (
        (CHAIR, "张主席", [Role.CHAIR]),
        (COMMITTEE, "刘委员", [Role.COMMITTEE]),
        (TREASURER, "钱会计", [Role.TREASURER]),
    ):
        await make_member(bot.db, org_id=bot.org_id, person=person, name=name, roles=roles)

    newbie = await register_and_approve(bot)
    await change_profile(bot, "name", NEW_NAME)
    await change_profile(bot, "dept", NEW_DEPARTMENT)
    member = await one(bot, select(Member).where(Member.telegram_user_id == NEWBIE.id))
    assert isinstance(member, Member)
    assert (member.real_name, member.department) == (NEW_NAME, NEW_DEPARTMENT)

    await file_suggestion(bot)
    await file_proposal(bot)
    await ask_for_aid(bot, newbie)
    await run_a_contest(bot)
    await write_calendar_and_broadcast(bot)

    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    apology = said(bot, "error.apology", ref="@@").split("@@")[0]
    assert not any(text.startswith(apology) for text in bot.telegram.texts())


def test_secret_key_setting_writes_no_file(tmp_path: Path) -> None:
    """With SECRET_KEY set, no key file is written at all."""
    settings = make_settings(
        "sqlite+aiosqlite:///:memory:",
        tmp_path,
        secret_key=SecretStr("a-secret-key-of-enough-length"),
    )
    assert settings.secret_bytes(tmp_path / "data") == b"a-secret-key-of-enough-length"
    assert not (tmp_path / "data").exists()
