"""The sandbox: the real bot in a terminal chat, driven here by scripted lines.

Each test starts the sandbox on the test database (SQLite, or PostgreSQL with
TEST_DATABASE_URL), types lines as the user would, and checks what the terminal printed and
what the database holds.
"""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import col, func, select

from bot import cli
from bot.sandbox import Sandbox, running_sandbox, sandbox_settings
from bot.sandbox.seed import GROUP_ID, PERSONAS, activity_start
from bot.settings import Settings
from models.activities import Activity, Signup, SignupStatus
from models.aid import AidCase, AidEvidence, CaseStatus
from models.desk import DeskCard
from models.members import Member, MemberRole, MemberStatus, Role
from models.organizations import Organization
from models.outbox import OutboxMessage, OutboxStatus
from models.proposals import (
    CongressSession,
    Filers,
    Proposal,
    ProposalSigner,
    ProposalStatus,
)
from models.suggestions import Suggestion, SuggestionCategory, SuggestionPhoto, SuggestionStatus

WANG, LI, LIU, CHAIR, ZHAO, CHEN, NEWCOMER = PERSONAS
WOMEN = {WANG.telegram_id, CHAIR.telegram_id, ZHAO.telegram_id}


@pytest.fixture
def sandbox_config(clean_database: str, tmp_path: Path) -> Settings:
    """Sandbox settings on the clean test database (nothing read from .env)."""
    base = Settings(  # type: ignore[call-arg]
        _env_file=None,
        default_language="zh-Hans",
        timezone="Asia/Shanghai",
        organization_name="实验中学工会",
    )
    return sandbox_settings(
        base, database_url=clean_database, persistence_path=tmp_path / "sandbox.pickle"
    )


@asynccontextmanager
async def sandbox(settings: Settings) -> AsyncIterator[tuple[Sandbox, io.StringIO]]:
    """A started sandbox and what it printed."""
    out = io.StringIO()
    async with running_sandbox(settings, out) as started:
        yield started, out


def since(out: io.StringIO, mark: int) -> str:
    """What was printed after `mark` characters."""
    return out.getvalue()[mark:]


def chat_texts(box: Sandbox, chat_id: int) -> list[str]:
    """Texts of the messages the bot left in a chat."""
    return [m.text for m in box.telegram.visible(chat_id) if m.from_bot]


async def count(box: Sandbox, model: type, *where: object) -> int:
    """Rows of `model` matching `where`."""
    async with box.app.state.db() as session:
        statement = select(func.count()).select_from(model)
        for condition in where:
            statement = statement.where(condition)  # type: ignore[arg-type]
        return int((await session.exec(statement)).one())


async def member(box: Sandbox, telegram_id: int) -> Member:
    """The member bound to a persona."""
    async with box.app.state.db() as session:
        return (
            await session.exec(select(Member).where(Member.telegram_user_id == telegram_id))
        ).one()


# ---- seeding -------------------------------------------------------------------------------


async def test_a_fresh_sandbox_is_seeded_with_a_small_school(sandbox_config: Settings) -> None:
    async with sandbox(sandbox_config) as (box, out):
        printed = out.getvalue()
        async with box.app.state.db() as session:
            org = (await session.exec(select(Organization))).one()
            members = (await session.exec(select(Member))).all()
            roles = {
                (row.member_id, row.role) for row in (await session.exec(select(MemberRole))).all()
            }
            congress = (await session.exec(select(CongressSession))).one()
            proposal = (await session.exec(select(Proposal))).one()
            signers = (await session.exec(select(ProposalSigner))).all()
            suggestion = (await session.exec(select(Suggestion))).one()
            case = (await session.exec(select(AidCase))).one()
            activity = (await session.exec(select(Activity))).one()
            signups = (await session.exec(select(Signup).order_by(col(Signup.queue_no)))).all()
        today = datetime.now(sandbox_config.zone).date()
        by_name = {m.real_name: m for m in members}

        assert org.committee_chat_id == GROUP_ID
        assert sorted(by_name) == sorted(p.name for p in PERSONAS if p.registered)
        assert {m.status for m in members} == {MemberStatus.ACTIVE}
        assert roles == {
            (by_name[CHAIR.name].id, Role.CHAIR),
            (by_name[LIU.name].id, Role.COMMITTEE),
            (by_name[LIU.name].id, Role.TREASURER),
            (by_name[ZHAO.name].id, Role.COMMITTEE),
        }
        assert by_name[CHEN.name].retired is True
        assert (by_name[CHEN.name].birth_month, by_name[CHEN.name].birth_day) == (
            today.month,
            today.day,
        )
        assert by_name[LI.name].language == "zh-Hant"
        assert {m.real_name for m in members if m.gender == "female"} == {"王芳", "张主席", "赵敏"}
        assert congress.is_open(today) and congress.filers == Filers.MEMBERS
        assert proposal.status == ProposalStatus.COSIGNING
        assert [s.member_id for s in signers] == [by_name[CHEN.name].id]
        assert suggestion.status == SuggestionStatus.OPEN
        assert suggestion.author_member_id == by_name[LI.name].id
        assert case.status == CaseStatus.OPEN and case.subject_member_id == by_name[CHEN.name].id
        assert (activity.capacity, activity.seats_taken) == (2, 2)
        assert [s.status for s in signups] == [
            SignupStatus.SEAT,
            SignupStatus.SEAT,
            SignupStatus.WAITLIST,
        ]
        # The suggestion and the aid case wait on cards in the group; the aid card is masked.
        group = chat_texts(box, GROUP_ID)
        assert len(group) == 2
        assert suggestion.number in group[0] and "李明" in group[0]
        assert case.number in group[1] and "陈*" in group[1] and "陈建国" not in group[1]
        # Every member got the activity's announcement through the outbox, with its buttons.
        for persona in PERSONAS[:6]:
            (announcement,) = box.telegram.visible(persona.telegram_id)
            assert activity.title in announcement.text and announcement.buttons()
        assert "新建了沙盒学校「实验中学工会」：6 位会员" in printed
        assert f"/cosign {proposal.id}" in printed
        assert "[1] ✋ 报名" in printed  # the teacher's chat is shown at once
        assert printed.rstrip().endswith("[2] 取消报名")


async def test_the_seeded_canteen_suggestion_is_filed_under_canteen(
    sandbox_config: Settings,
) -> None:
    async with sandbox(sandbox_config) as (box, _out):
        async with box.app.state.db() as session:
            suggestion = (await session.exec(select(Suggestion))).one()
            category = await session.get(SuggestionCategory, suggestion.category_id)
        assert "食堂" in suggestion.body
        assert category is not None and category.code == "canteen"
        assert f"{suggestion.number} · 食堂" in chat_texts(box, GROUP_ID)[0]


def test_the_activity_starts_within_a_day_and_leaves_time_to_sign_up() -> None:
    zone = Settings(_env_file=None).zone  # type: ignore[call-arg]
    for hour in range(24):
        now = datetime(2027, 3, 8, hour, 30, tzinfo=zone)
        start = activity_start(now, zone)
        assert start.astimezone(zone).hour in (9, 15)
        assert 4 * 3600 <= (start - now).total_seconds() <= 24 * 3600


async def test_a_restart_on_the_same_database_does_not_seed_twice(
    sandbox_config: Settings,
) -> None:
    async with sandbox(sandbox_config) as (box, _out):
        await box.repl([":as 李明", "/cosign 1", ":press 1"])
    async with sandbox(sandbox_config) as (box, out):
        assert "继续使用沙盒数据库" in out.getvalue()
        assert "新建了沙盒学校" not in out.getvalue()
        assert await count(box, Member) == 6
        assert await count(box, AidCase) == 1
        assert await count(box, Suggestion) == 1
        assert await count(box, Proposal) == 1
        assert await count(box, DeskCard) == 3  # suggestion, aid case, the proposal submitted
        mark = len(out.getvalue())
        # Update ids go on after the last run's: this /help is not taken for a redelivery.
        await box.repl(["/help"])
        assert "/suggest" in since(out, mark).split("> /help", 1)[1]
        # New messages do not reuse the ids of cards posted in the first run.
        async with box.app.state.db() as session:
            card_ids = set((await session.exec(select(DeskCard.message_id))).all())
        assert not card_ids & {m.message_id for m in box.telegram.visible(WANG.telegram_id)}


# ---- playing several people ----------------------------------------------------------------


async def test_anonymous_suggestion_is_answered_from_the_group_by_number(
    sandbox_config: Settings,
) -> None:
    async with sandbox(sandbox_config) as (box, out):
        mark = len(out.getvalue())
        await box.repl(
            [
                "/suggest",
                ":press 3",  # 食堂
                "食堂的菜太咸了，希望少放盐。",
                ":press 1",  # no photos
                ":press 2",  # anonymous
                ":press 1",  # confirm
            ]
        )
        teacher_side = since(out, mark)
        async with box.app.state.db() as session:
            item = (
                await session.exec(select(Suggestion).where(col(Suggestion.anonymous).is_(True)))
            ).one()
        assert item.author_member_id is None
        assert "[王芳 · 私聊] > :press 2\n👆 王芳按下了「匿名提交」" in teacher_side
        assert f"已收到，编号 {item.number}" in teacher_side
        assert "（别处有新消息：委员会群 1 条。" in teacher_side

        mark = len(out.getvalue())
        await box.repl([":as 刘强", ":group"])
        group_side = since(out, mark)
        assert "现在您是刘强，在委员会群。" in group_side
        assert f"意见箱 {item.number}" in group_side and "提出人：匿名" in group_side
        assert "[1] ✍️ 答复  [2] ✅ 办结" in group_side

        mark = len(out.getvalue())
        await box.repl(
            [":press 1", ":private", "我们会和食堂沟通，下周起减盐。", ":press 1"]  # ✅ 发送
        )
        reply_side = since(out, mark)
        assert "💬 请到与我的私聊中写答复。" in reply_side
        assert f"请写下对 {item.number} 的答复" in reply_side
        assert "👆 刘强按下了「✅ 发送」" in reply_side
        assert "（别处有新消息：王芳 1 条。" in reply_side

        mark = len(out.getvalue())
        await box.repl([":as 王芳"])
        assert "我们会和食堂沟通，下周起减盐。" in since(out, mark)
        async with box.app.state.db() as session:
            stored = await session.get(Suggestion, item.id, populate_existing=True)
        assert stored is not None and stored.status == SuggestionStatus.ANSWERED
        assert not any("王芳" in text for text in chat_texts(box, GROUP_ID))


async def test_second_teacher_cosigns_and_signs_up_by_button(sandbox_config: Settings) -> None:
    async with sandbox(sandbox_config) as (box, out):
        announcement = box.telegram.visible(LI.telegram_id)[0]
        mark = len(out.getvalue())
        await box.repl([":as 2", "/cosign 1", ":press 1", f":press {announcement.message_id}.1"])
        printed = since(out, mark)
        async with box.app.state.db() as session:
            proposal = (await session.exec(select(Proposal))).one()
            li = await member(box, LI.telegram_id)
            signup = (await session.exec(select(Signup).where(Signup.member_id == li.id))).one()
        assert proposal.status == ProposalStatus.SUBMITTED and proposal.number == 1
        assert any("提案" in text and proposal.title in text for text in chat_texts(box, GROUP_ID))
        assert "（别处有新消息：" in printed and "委员会群 1 条" in printed
        # The sign-up answer is the button's own reply (answerCallbackQuery), shown as a toast.
        assert signup.status == SignupStatus.WAITLIST
        assert "👆 李明按下了「✋ 報名」\n⚠️ 弹窗：名額已滿" in printed
        assert "候補第 2 位" in printed


async def test_run_womens_day_greets_the_women_only(sandbox_config: Settings) -> None:
    async with sandbox(sandbox_config) as (box, out):
        mark = len(out.getvalue())
        await box.repl([":run", ":run womens_day", ":run 三八"])
        printed = since(out, mark)
        async with box.app.state.db() as session:
            rows = (
                await session.exec(
                    select(OutboxMessage).where(col(OutboxMessage.text).contains("妇女节"))
                )
            ).all()
        english = [t for t in chat_texts(box, ZHAO.telegram_id) if "Women's Day" in t]
        assert "  5. womens_day · 三八妇女节祝福" in printed
        assert "已执行「三八妇女节祝福」：3 条消息放进发件箱" in printed
        assert "王芳老师，三八妇女节快乐" in printed  # the teacher's own chat is on screen
        assert "（别处有新消息：张主席 1 条 · 赵敏 1 条。" in printed
        assert "已执行「三八妇女节祝福」：这次没有要发的消息" in printed  # once a day
        assert {row.chat_id for row in rows} == WOMEN - {ZHAO.telegram_id}
        assert {row.status for row in rows} == {OutboxStatus.SENT}
        assert len(english) == 1
        for persona in (LI, LIU, CHEN):
            assert not any(
                "妇女节" in t or "婦女節" in t for t in chat_texts(box, persona.telegram_id)
            )


async def test_birthdays_and_daily_jobs_run_by_hand(sandbox_config: Settings) -> None:
    async with sandbox(sandbox_config) as (box, out):
        mark = len(out.getvalue())
        await box.repl([":run birthdays", ":run digest", ":run aid", ":run activities"])
        printed = since(out, mark)
        group = "\n".join(chat_texts(box, GROUP_ID))
        assert "已执行「生日祝福（每天）」：1 条消息" in printed
        assert any("陈建国" in text for text in chat_texts(box, CHEN.telegram_id)[1:])
        assert "意-" in group.split("教工食堂")[0] or "教工食堂" in group  # digest lists it
        assert "已执行「委员会每日提醒：久未答复的意见」：1 条消息" in printed
        assert "已执行「帮扶：困难档案年审提醒」：1 条消息" in printed
        assert "李*" in group and "家人长期患病" not in group
        # The health check is within a day: its two seated people are reminded.
        assert "已执行「活动：抽签和开始前的提醒」：1 条消息" in printed
        reminded = {
            persona.name
            for persona in PERSONAS
            if len(chat_texts(box, persona.telegram_id)) > 1 and persona is not CHEN
        }
        assert reminded == {"赵敏"}


# ---- photos, files and stickers -------------------------------------------------------------


async def test_a_photo_a_sticker_and_help_at_the_suggestion_photo_step(
    sandbox_config: Settings,
) -> None:
    async with sandbox(sandbox_config) as (box, out):
        await box.repl([":help"])
        help_text = out.getvalue().rsplit("> :help", 1)[1]
        assert ":photo [说明]" in help_text and ":file 文件名" in help_text
        assert ":sticker" in help_text
        await box.repl(["/suggest", ":press 3", "午饭窗口太少了"])

        await box.repl([":sticker"])
        assert "贴纸无法附上" in chat_texts(box, WANG.telegram_id)[-1]
        mark = len(out.getvalue())
        await box.repl([":photo 排队的照片"])
        assert "已收到第 1 张照片" in since(out, mark)
        await box.repl([":press 1", ":press 1", ":press 1"])  # done, named, confirm

        async with box.app.state.db() as session:
            [photo] = (await session.exec(select(SuggestionPhoto))).all()
        assert photo.file_id.startswith("sandbox-photo-")
        # The desk posts it under the card, and the group shows it as a photo.
        [posted] = [m for m in box.telegram.visible(GROUP_ID) if m.kind == "photo"]
        sent = [p for method, p in box.telegram.calls if method == "sendPhoto"]
        assert [p["photo"] for p in sent] == [photo.file_id]
        # What the teacher sent is in the chat as she sent it.
        mine = [m for m in box.telegram.visible(WANG.telegram_id) if not m.from_bot]
        assert [(m.kind, m.text) for m in mine if m.kind != "text"] == [
            ("sticker", ""),
            ("photo", "排队的照片"),
        ]
        mark = len(out.getvalue())
        await box.repl([":show 20"])
        assert "🙂 贴纸" in since(out, mark) and "🖼 图片\n  排队的照片" in since(out, mark)
        assert posted.from_bot


async def test_files_and_a_photo_as_aid_evidence(sandbox_config: Settings) -> None:
    async with sandbox(sandbox_config) as (box, out):
        await box.repl(["/aid", ":press 1", ":press 1", "父亲住院做手术", "昨天", ":press 1"])
        mark = len(out.getvalue())
        await box.repl([":file", ":file 出院小结.pdf", ":file 录音.mp3", ":photo"])
        printed = since(out, mark)
        assert "用法：:file 文件名" in printed
        assert "已收到第 1 个" in printed and "已收到第 2 个" in printed
        assert "只接受照片、PDF" in printed  # an .mp3 is sent as audio/mpeg and refused
        await box.repl([":press 1", ":press 1"])  # done, confirm

        async with box.app.state.db() as session:
            case = (await session.exec(select(AidCase).order_by(col(AidCase.id).desc()))).first()
            assert case is not None
            files = (
                await session.exec(
                    select(AidEvidence)
                    .where(AidEvidence.case_id == case.id)
                    .order_by(col(AidEvidence.id))
                )
            ).all()
        assert case.description == "父亲住院做手术"
        assert [f.kind for f in files] == ["document", "photo"]
        assert files[0].file_id.startswith("sandbox-file-")
        assert files[1].file_id.startswith("sandbox-photo-")


# ---- mistakes and leaving ------------------------------------------------------------------


async def test_bad_presses_and_unknown_commands_get_a_clear_answer(
    sandbox_config: Settings,
) -> None:
    async with sandbox(sandbox_config) as (box, out):
        announcement = box.telegram.visible(WANG.telegram_id)[-1]
        mark = len(out.getvalue())
        await box.repl(
            [
                ":press 99",
                ":press 999.1",
                ":press two",
                ":foo",
                ":as 不存在的人",
                ":group",
                ":as 陈建国",
                ":press 2.6",
                ":quit",
                "/help",
            ]
        )
        printed = since(out, mark)
        assert f"第 {announcement.message_id} 号消息只有 2 个按钮，没有 [99]。" in printed
        assert "这个对话里没有第 999 号带按钮的消息。" in printed
        assert "用法：:press N" in printed
        assert "没有沙盒命令 :foo。输入 :help 查看全部命令。" in printed
        assert "没有找到「不存在的人」。" in printed
        assert "第 2 号消息只有 5 个按钮，没有 [6]。" in printed  # the aid card, by number
        assert "再见！沙盒的数据留在" in printed
        assert box.running is False
        assert "> /help" not in printed  # nothing after :quit is read
        assert not any(
            m.text == "/help" for chat in box.telegram.chats.values() for m in chat if m.sender
        )


async def test_who_lists_the_people_with_their_roles(sandbox_config: Settings) -> None:
    async with sandbox(sandbox_config) as (box, out):
        mark = len(out.getvalue())
        await box.repl([":who", ":as 7", "/start"])
        printed = since(out, mark)
        assert "→ 1. 王芳 · 语文组 · 正常 · zh-Hans" in printed
        assert "  3. 刘强 · 体育组 · 正常 · 工会委员 · 工会财务（经费管理） · zh-Hans" in printed
        assert "  7. 周老师 · 还没注册，发 /start 试试入会" in printed
        assert "[周老师 · 私聊] > /start" in printed
        assert await count(box, Member, Member.telegram_user_id == NEWCOMER.telegram_id) == 0


# ---- the command line ----------------------------------------------------------------------


def cli_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stdin: str) -> Callable[..., int]:
    """Run `unionbot` in an empty directory (no .env), with no token and scripted stdin."""
    monkeypatch.chdir(tmp_path)
    for name in ("TELEGRAM_BOT_TOKEN", "DEFAULT_LANGUAGE", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return cli.main


def test_run_without_a_token_points_to_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    main = cli_in(tmp_path, monkeypatch, "")
    assert main(["run"]) == 3  # no token yet (bot.cli.NO_TOKEN_YET)
    error = capsys.readouterr().err
    assert "TELEGRAM_BOT_TOKEN" in error
    assert "make sandbox" in error and "沙盒" in error


def test_unionbot_sandbox_runs_on_its_own_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    main = cli_in(tmp_path, monkeypatch, ":who\n:quit\n")
    assert main(["sandbox"]) == 0
    first = capsys.readouterr().out
    assert "新建了沙盒学校" in first and "[王芳 · 私聊] > :who" in first
    assert (tmp_path / "data" / "sandbox.db").exists()
    assert not (tmp_path / "data" / "unionbot.db").exists()

    monkeypatch.setattr(sys, "stdin", io.StringIO(":quit\n"))
    assert main(["sandbox"]) == 0
    assert "继续使用沙盒数据库 data/sandbox.db" in capsys.readouterr().out

    monkeypatch.setattr(sys, "stdin", io.StringIO(":quit\n"))
    assert main(["sandbox", "--fresh"]) == 0
    assert "新建了沙盒学校" in capsys.readouterr().out


class ScriptWithLogs:
    """Scripted input (not a terminal) during which the bot logs a warning and an error."""

    def isatty(self) -> bool:
        """Piped input, like `unionbot sandbox < script.txt`."""
        return False

    def __iter__(self) -> Iterator[str]:
        yield ":who\n"
        logging.getLogger("handlers.somewhere").warning("Something looked odd")
        logging.getLogger("handlers.somewhere").error("Something failed")
        yield ":quit\n"


def test_sandbox_logs_go_to_a_file_not_into_the_chat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    main = cli_in(tmp_path, monkeypatch, "")
    monkeypatch.setenv("TIMEZONE", "Asia/Shanghai")
    monkeypatch.setattr(sys, "stdin", ScriptWithLogs())
    handlers_before = list(logging.getLogger().handlers)

    assert main(["sandbox"]) == 0

    captured = capsys.readouterr()
    assert "Something looked odd" not in captured.out + captured.err
    assert "WARNING" not in captured.out + captured.err
    assert "运行日志写在 data/sandbox.log" in captured.out
    # Errors also reach the terminal, on stderr, in local time.
    [error] = captured.err.strip().splitlines()
    assert error.endswith("ERROR handlers.somewhere: Something failed")
    assert "+08:00" in error
    log = (tmp_path / "data" / "sandbox.log").read_text(encoding="utf-8")
    assert "WARNING handlers.somewhere: Something looked odd" in log
    assert "ERROR handlers.somewhere: Something failed" in log
    assert "Running upgrade" in log  # the migration's lines too
    assert all("+08:00 " in line for line in log.splitlines() if line[:2] == "20")
    assert logging.getLogger().handlers == handlers_before  # put back as it was


# ---- a district ----------------------------------------------------------------------------


async def test_a_district_sandbox_has_two_schools_and_the_district_chair(
    sandbox_config: Settings,
) -> None:
    out = io.StringIO()
    async with running_sandbox(sandbox_config, out, district=True) as box:
        state = box.app.state
        assert state.district_id == state.org_id
        assert "钱区主席" in out.getvalue()
        # 吴老师 is at No. 2 Primary: her suggestion goes to its committee group, not to A's.
        await box.repl([":as 吴老师", "/start"])
        wu = await member(box, 2101)
        sun = await member(box, 1101)
        qian = await member(box, 1201)
        wang = await member(box, WANG.telegram_id)
        assert wu.organization_id == sun.organization_id != wang.organization_id
        assert qian.organization_id == state.district_id
        assert "吴老师" in chat_texts(box, 2101)[-2]
        await box.repl([":as 孙校主席", ":group", "/bindgroup"])
        assert any("第二小学" in text for text in chat_texts(box, -1009000000002))
    # The same file again: nothing is seeded twice.
    async with running_sandbox(sandbox_config, io.StringIO(), district=True) as box:
        assert await count(box, Member) == 9  # A's six, B's two, the district's chair
