"""Bad input never crashes, never half-stores, and always says what to do instead.

Everything goes through the real application (`bot` fixture): real update JSON in, recorded
Bot API calls and database rows out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from bot.callback import pack
from models.members import JoinRequest, JoinStatus, Member, MemberRole, MemberStatus, Role
from models.organizations import Organization
from tests.support.factories import make_member
from tests.support.fake_telegram import BOT_USERNAME, Call
from tests.support.harness import CHAIR, COMMITTEE_GROUP_ID, BotHarness
from tests.support.updates import Person, button, group_chat, sticker, voice

TEACHER = Person(2001, "Wang", "en")
STRANGER = Person(2002, "Li", "en")
COMMITTEE = Person(1002, "刘", "zh-hans")

# English texts from the catalog, as the person reads them.
EMPTY = "That was empty. Please type some text"
TEXT_EXPECTED = "This step needs text."
USE_BUTTONS = "Please choose with the buttons on the message above"
CANCELLED = "Cancelled; nothing was saved."
LEFT_REGISTRATION = '(You left "joining the union" unfinished: nothing was saved or sent.)'
NOT_REGISTERED = "You are not a member of the union desk yet. Send /start to apply"
UNKNOWN_COMMAND = "I don't know that command."
BIRTHDAY_FORMAT = "I could not read that date."
ASK_NAME = "Please type your real name"
ASK_DEPARTMENT = "Please type your department"
ASK_GENDER = "Gender (optional)"
ASK_BIRTHDAY = "Birthday (optional)"
ASK_RETIRED = "Are you retired?"
PREVIEW = "Please check your request to join:"

# Simplified Chinese texts (committee members and group chats use zh-Hans).
STALE_BUTTON = "这个按钮已失效"
ITEM_NOT_FOUND = "找不到这一项"
MEMBER_NOT_FOUND = "找不到这位会员"
PRIVATE_ONLY = "这个命令请私聊我使用"
OPEN_PRIVATE = "私聊工会助手"


# ---- helpers ------------------------------------------------------------------------------


async def to_name_step(bot: BotHarness, person: Person = TEACHER) -> None:
    """/start and choose English: the bot now asks for the real name."""
    await bot.say(person, "/start")
    await bot.press(person, pack("reg", "lang", "en"))
    assert ASK_NAME in bot.telegram.last(person.id).text


async def to_gender_step(bot: BotHarness, person: Person = TEACHER) -> None:
    """Name and department given: the bot asks for gender with buttons."""
    await to_name_step(bot, person)
    await bot.say(person, "Wang Fang")
    await bot.say(person, "Grade 8 team")
    assert ASK_GENDER in bot.telegram.last(person.id).text


async def to_birthday_step(bot: BotHarness, person: Person = TEACHER) -> None:
    """Gender chosen: the bot asks for the birthday as text."""
    await to_gender_step(bot, person)
    await bot.press(person, pack("reg", "gender", "female"))
    assert ASK_BIRTHDAY in bot.telegram.last(person.id).text


async def members(bot: BotHarness) -> list[Member]:
    """Every member row."""
    async with bot.db() as session:
        return list((await session.exec(select(Member).order_by(col(Member.id)))).all())


async def join_requests(bot: BotHarness) -> list[JoinRequest]:
    """Every join request row."""
    async with bot.db() as session:
        return list((await session.exec(select(JoinRequest).order_by(col(JoinRequest.id)))).all())


async def snapshot(bot: BotHarness) -> tuple[list[tuple[Any, ...]], ...]:
    """Everything a button press could change, as plain tuples."""
    async with bot.db() as session:
        member_rows = (await session.exec(select(Member).order_by(col(Member.id)))).all()
        role_rows = (await session.exec(select(MemberRole))).all()
        request_rows = (await session.exec(select(JoinRequest).order_by(col(JoinRequest.id)))).all()
    return (
        [(m.id, m.organization_id, m.status, m.real_name, m.department) for m in member_rows],
        sorted((r.member_id, r.role) for r in role_rows),
        [(r.id, r.organization_id, r.status, r.decided_by_member_id) for r in request_rows],
    )


def answers_to(bot: BotHarness, query_id: str) -> list[Call]:
    """answerCallbackQuery calls for one press."""
    return [c for c in bot.telegram.answers() if c.params.get("callback_query_id") == query_id]


def error_handler_ran(bot: BotHarness) -> bool:
    """The owner (CHAIR) is alerted by the error handler and by nothing else in these tests."""
    return bool(bot.telegram.texts(CHAIR.id))


# ---- registration: the name step ----------------------------------------------------------


@pytest.mark.parametrize(
    "blank",
    ["   ", "\u200b", "\u200b\u200b\u200b", " \u200b \u2060\ufeff ", "\t \u00ad"],
    ids=["spaces", "one-zero-width", "zero-widths", "mixed-invisible", "tab-soft-hyphen"],
)
async def test_name_that_is_empty_after_cleaning_is_asked_again(
    bot: BotHarness, blank: str
) -> None:
    await to_name_step(bot)

    await bot.say(TEACHER, blank)

    assert EMPTY in bot.telegram.last(TEACHER.id).text
    assert await members(bot) == []
    await bot.say(TEACHER, "Wang Fang")  # still at the name step
    assert ASK_DEPARTMENT in bot.telegram.last(TEACHER.id).text


async def test_over_long_name_states_the_limit_and_the_count(bot: BotHarness) -> None:
    await to_name_step(bot)

    await bot.say(TEACHER, "王" * 41)

    reply = bot.telegram.last(TEACHER.id).text
    assert "at most 40 characters, and yours has 41" in reply
    assert ASK_DEPARTMENT not in reply
    await bot.say(TEACHER, "王" * 40)  # exactly at the limit is fine
    assert ASK_DEPARTMENT in bot.telegram.last(TEACHER.id).text


async def test_over_long_name_counts_characters_after_cleaning(bot: BotHarness) -> None:
    await to_name_step(bot)

    # 40 visible characters padded with invisible ones and spaces: accepted.
    await bot.say(TEACHER, "  " + "\u200b".join("王" * 40) + "  ")

    assert ASK_DEPARTMENT in bot.telegram.last(TEACHER.id).text


async def test_control_characters_are_stripped_before_storing(bot: BotHarness) -> None:
    await to_name_step(bot)
    await bot.say(TEACHER, "王\u0007芳\u200b")
    await bot.say(TEACHER, "初二\u0000年级\u202e组")
    await bot.press(TEACHER, pack("reg", "gender", "skip"))
    await bot.press(TEACHER, pack("reg", "birthday", "skip"))
    await bot.press(TEACHER, pack("reg", "retired", "no"))

    preview = bot.telegram.last(TEACHER.id).text
    assert "王芳" in preview
    assert "\u0007" not in preview and "\u202e" not in preview

    await bot.press(TEACHER, pack("reg", "confirm", "yes"))

    [member] = await members(bot)
    assert member.real_name == "王芳"
    assert member.department == "初二年级组"


@pytest.mark.parametrize("make_update", [sticker, voice], ids=["sticker", "voice"])
async def test_sticker_or_voice_where_text_is_expected(
    bot: BotHarness, make_update: Callable[[Person], dict[str, Any]]
) -> None:
    await to_name_step(bot)

    await bot.feed(make_update(TEACHER))

    reply = bot.telegram.last(TEACHER.id).text
    assert TEXT_EXPECTED in reply
    assert "/cancel" in reply
    assert await members(bot) == []
    await bot.say(TEACHER, "Wang Fang")  # the conversation still waits for the name
    assert ASK_DEPARTMENT in bot.telegram.last(TEACHER.id).text


async def test_sticker_at_the_department_step_keeps_the_name(bot: BotHarness) -> None:
    await to_name_step(bot)
    await bot.say(TEACHER, "Wang Fang")

    await bot.feed(sticker(TEACHER))
    assert TEXT_EXPECTED in bot.telegram.last(TEACHER.id).text
    await bot.say(TEACHER, "Grade 8 team")
    await bot.press(TEACHER, pack("reg", "gender", "skip"))
    await bot.press(TEACHER, pack("reg", "birthday", "skip"))
    await bot.press(TEACHER, pack("reg", "retired", "no"))

    preview = bot.telegram.last(TEACHER.id).text
    assert "Wang Fang" in preview
    assert "Grade 8 team" in preview


async def test_nothing_is_stored_until_confirm(bot: BotHarness) -> None:
    await to_birthday_step(bot)
    await bot.say(TEACHER, "1985-03-08")
    await bot.press(TEACHER, pack("reg", "retired", "no"))
    assert PREVIEW in bot.telegram.last(TEACHER.id).text

    assert await members(bot) == []
    assert await join_requests(bot) == []

    await bot.press(TEACHER, pack("reg", "confirm", "yes"))

    [member] = await members(bot)
    assert member.status == MemberStatus.PENDING
    assert len(await join_requests(bot)) == 1


async def test_cancel_button_at_the_preview_stores_nothing(bot: BotHarness) -> None:
    await to_birthday_step(bot)
    await bot.press(TEACHER, pack("reg", "birthday", "skip"))
    await bot.press(TEACHER, pack("reg", "retired", "no"))

    await bot.press(TEACHER, pack("reg", "confirm", "cancel"))

    assert CANCELLED in bot.telegram.last(TEACHER.id).text
    assert await members(bot) == []
    assert await join_requests(bot) == []


# ---- registration: buttons, /cancel, other commands ----------------------------------------


async def test_typing_at_the_language_step_asks_for_the_buttons(bot: BotHarness) -> None:
    await bot.say(TEACHER, "/start")

    await bot.say(TEACHER, "English")

    assert USE_BUTTONS in bot.telegram.last(TEACHER.id).text
    await bot.press(TEACHER, pack("reg", "lang", "en"))  # the buttons still work
    assert ASK_NAME in bot.telegram.last(TEACHER.id).text


async def test_typing_at_the_gender_step_asks_for_the_buttons(bot: BotHarness) -> None:
    await to_gender_step(bot)

    await bot.say(TEACHER, "female")

    assert USE_BUTTONS in bot.telegram.last(TEACHER.id).text
    await bot.press(TEACHER, pack("reg", "gender", "female"))
    assert ASK_BIRTHDAY in bot.telegram.last(TEACHER.id).text


async def test_sticker_at_a_button_step_asks_for_the_buttons(bot: BotHarness) -> None:
    await to_gender_step(bot)

    await bot.feed(sticker(TEACHER))

    assert USE_BUTTONS in bot.telegram.last(TEACHER.id).text


async def test_cancel_leaves_registration_and_stores_nothing(bot: BotHarness) -> None:
    await to_name_step(bot)
    await bot.say(TEACHER, "Wang Fang")

    await bot.say(TEACHER, "/cancel")

    assert CANCELLED in bot.telegram.last(TEACHER.id).text
    assert await members(bot) == []
    assert await join_requests(bot) == []

    await bot.say(TEACHER, "Grade 8 team")  # no longer read as the department

    reply = bot.telegram.last(TEACHER.id).text
    assert NOT_REGISTERED in reply
    assert ASK_GENDER not in reply
    assert await members(bot) == []


async def test_start_again_after_cancel_begins_with_an_empty_draft(bot: BotHarness) -> None:
    await to_name_step(bot)
    await bot.say(TEACHER, "Old Name")
    await bot.say(TEACHER, "/cancel")

    await to_name_step(bot)
    await bot.say(TEACHER, "Wang Fang")
    await bot.say(TEACHER, "Grade 8 team")
    await bot.press(TEACHER, pack("reg", "gender", "skip"))
    await bot.press(TEACHER, pack("reg", "birthday", "skip"))
    await bot.press(TEACHER, pack("reg", "retired", "no"))

    preview = bot.telegram.last(TEACHER.id).text
    assert "Wang Fang" in preview
    assert "Old Name" not in preview


@pytest.mark.parametrize("command", ["/me", "/members", "/help", "/menu"])
async def test_another_command_during_registration_leaves_it(bot: BotHarness, command: str) -> None:
    """One rule for every form: a command leaves the form, and one line says so."""
    await to_name_step(bot)

    await bot.say(TEACHER, command)

    assert LEFT_REGISTRATION in bot.telegram.texts(TEACHER.id)
    await bot.say(TEACHER, "Wang Fang")  # no longer taken as the name
    assert ASK_DEPARTMENT not in bot.telegram.last(TEACHER.id).text
    async with bot.db() as session:
        stored = await session.exec(select(Member).where(Member.telegram_user_id == TEACHER.id))
        assert stored.first() is None


# ---- registration: birthday ---------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["13-40", "abc", "02-30", "1985-02-29", "1985-13-01", "03/08/1985", "0308"],
)
async def test_unreadable_birthday_asks_for_the_format(bot: BotHarness, typed: str) -> None:
    await to_birthday_step(bot)

    await bot.say(TEACHER, typed)

    reply = bot.telegram.last(TEACHER.id).text
    assert BIRTHDAY_FORMAT in reply
    assert "03-08 or 1985-03-08" in reply
    await bot.say(TEACHER, "03-08")  # still at the birthday step
    assert ASK_RETIRED in bot.telegram.last(TEACHER.id).text


@pytest.mark.parametrize("years_ago", [0, 5, 15, 101])
async def test_implausible_birth_year_states_the_range(bot: BotHarness, years_ago: int) -> None:
    this_year = datetime.now(ZoneInfo("Asia/Shanghai")).year
    await to_birthday_step(bot)

    await bot.say(TEACHER, f"{this_year - years_ago}-03-08")

    reply = bot.telegram.last(TEACHER.id).text
    assert f"between {this_year - 100} and {this_year - 16}" in reply
    assert ASK_RETIRED not in reply
    await bot.say(TEACHER, f"{this_year - 40}-03-08")
    assert ASK_RETIRED in bot.telegram.last(TEACHER.id).text


async def test_birthday_refusals_store_nothing(bot: BotHarness) -> None:
    await to_birthday_step(bot)
    await bot.say(TEACHER, "13-40")
    await bot.say(TEACHER, "3月8日")
    await bot.press(TEACHER, pack("reg", "retired", "no"))
    await bot.press(TEACHER, pack("reg", "confirm", "yes"))

    [member] = await members(bot)
    assert (member.birth_year, member.birth_month, member.birth_day) == (None, 3, 8)


# ---- private-only commands in a group ------------------------------------------------------


@pytest.mark.parametrize("command", ["/me", "/members", f"/me@{BOT_USERNAME}", "/joins"])
async def test_private_only_command_in_a_group_points_to_the_private_chat(
    bot: BotHarness, command: str
) -> None:
    await make_member(
        bot.db, org_id=bot.org_id, person=COMMITTEE, name="刘委员", roles=[Role.COMMITTEE]
    )

    await bot.say(COMMITTEE, command, chat=group_chat(COMMITTEE_GROUP_ID))

    [reply] = bot.telegram.sent("sendMessage")
    assert reply.chat_id == COMMITTEE_GROUP_ID
    assert PRIVATE_ONLY in reply.text
    assert "刘委员" not in reply.text  # no profile details in the group
    assert reply.buttons() == [(OPEN_PRIVATE, f"https://t.me/{BOT_USERNAME}")]


async def test_private_only_command_in_a_group_from_a_stranger(bot: BotHarness) -> None:
    await bot.say(STRANGER, "/me", chat=group_chat(COMMITTEE_GROUP_ID))

    # In the stranger's own language (Telegram's language_code), not the group's default.
    reply = bot.telegram.last(COMMITTEE_GROUP_ID)
    assert "Please use this command in a private chat with me" in reply.text
    assert reply.buttons() == [("Message the union desk", f"https://t.me/{BOT_USERNAME}")]
    assert bot.telegram.texts(STRANGER.id) == []


# ---- strangers and unknown commands ---------------------------------------------------------


@pytest.mark.parametrize("body", ["hello", "/me", "/members", "/joins"])
async def test_a_stranger_is_told_how_to_join(bot: BotHarness, body: str) -> None:
    await bot.say(STRANGER, body)

    [reply] = bot.telegram.texts(STRANGER.id)
    assert NOT_REGISTERED in reply
    assert await members(bot) == []


async def test_a_stranger_sending_a_sticker_is_told_how_to_join(bot: BotHarness) -> None:
    await bot.feed(sticker(STRANGER))

    assert NOT_REGISTERED in bot.telegram.last(STRANGER.id).text


async def test_a_pending_applicant_sending_me_is_told_to_wait(bot: BotHarness) -> None:
    await make_member(
        bot.db, org_id=bot.org_id, person=TEACHER, status=MemberStatus.PENDING, language="en"
    )

    await bot.say(TEACHER, "/me")

    assert "waiting for the union committee" in bot.telegram.last(TEACHER.id).text


@pytest.mark.parametrize("registered", [False, True], ids=["stranger", "member"])
async def test_unknown_command(bot: BotHarness, registered: bool) -> None:
    if registered:
        await make_member(bot.db, org_id=bot.org_id, person=TEACHER, language="en")

    await bot.say(TEACHER, "/frobnicate now")

    [reply] = bot.telegram.texts(TEACHER.id)
    assert UNKNOWN_COMMAND in reply
    assert "/help" in reply


# ---- forged and stale buttons ---------------------------------------------------------------


async def _desk_with_a_pending_request(bot: BotHarness) -> None:
    await make_member(
        bot.db, org_id=bot.org_id, person=COMMITTEE, name="刘委员", roles=[Role.COMMITTEE]
    )
    await to_birthday_step(bot)
    await bot.press(TEACHER, pack("reg", "birthday", "skip"))
    await bot.press(TEACHER, pack("reg", "retired", "no"))
    await bot.press(TEACHER, pack("reg", "confirm", "yes"))
    [request] = await join_requests(bot)
    assert request.status == JoinStatus.PENDING


async def _press_and_expect_alert(bot: BotHarness, data: str, expected: str) -> None:
    before = await snapshot(bot)
    bot.telegram.clear()
    update = button(COMMITTEE, data)

    await bot.feed(update)

    answers = answers_to(bot, update["callback_query"]["id"])
    assert len(answers) == 1, [a.params for a in answers]  # Telegram takes one answer per press
    [answer] = answers
    assert answer.params.get("show_alert") is True
    assert expected in answer.text
    assert not error_handler_ran(bot), bot.telegram.texts(CHAIR.id)
    assert bot.telegram.sent("editMessageText") == []
    assert bot.telegram.texts(TEACHER.id) == []
    assert await snapshot(bot) == before


@pytest.mark.parametrize(
    "data",
    [
        "nonsense",
        "join",
        "join:approve",
        "join:approve:abc",
        "join:approve:0",
        "join:approve:-1",
        "join:approve:1:2:3;DROP TABLE member",
        "join:approve:" + "1" * 60,
        "join:approve:" + "王" * 10,
        "reg:confirm:yes",
        "mem:view:" + "1" * 60,
        "mem:view:abc",
        "mem:view:0",
        "mem:deact:abc",
        "mem:grant:abc:chair",
        "menu:" + "x" * 70,
        "menu:me!",
        "me:gender:" + "f" * 60,
        "lang:set:" + "e" * 60,
    ],
)
async def test_forged_button_data_gets_a_stale_alert_and_changes_nothing(
    bot: BotHarness, data: str
) -> None:
    await _desk_with_a_pending_request(bot)

    await _press_and_expect_alert(bot, data, STALE_BUTTON)


async def test_approve_for_a_request_that_does_not_exist(bot: BotHarness) -> None:
    await _desk_with_a_pending_request(bot)

    await _press_and_expect_alert(bot, pack("join", "approve", 999999), ITEM_NOT_FOUND)


async def test_reject_for_a_request_that_does_not_exist(bot: BotHarness) -> None:
    await _desk_with_a_pending_request(bot)

    await _press_and_expect_alert(bot, pack("join", "reject", 999999), ITEM_NOT_FOUND)


async def test_view_of_a_member_that_does_not_exist(bot: BotHarness) -> None:
    await _desk_with_a_pending_request(bot)

    await _press_and_expect_alert(bot, pack("mem", "view", 999999), MEMBER_NOT_FOUND)


@pytest.mark.parametrize("action", ["deact", "react"])
async def test_status_change_of_a_member_that_does_not_exist(bot: BotHarness, action: str) -> None:
    await _desk_with_a_pending_request(bot)

    await _press_and_expect_alert(bot, pack("mem", action, 999999), MEMBER_NOT_FOUND)


async def _other_organization(bot: BotHarness) -> tuple[int, int, int]:
    """A second school's union with one pending applicant: (org id, member id, request id)."""
    async with bot.db() as session:
        org = Organization(name="第二中学工会")
        session.add(org)
        await session.flush()
        assert org.id is not None
        member = Member(
            organization_id=org.id,
            telegram_user_id=4001,
            real_name="赵老师",
            department="数学组",
            status=MemberStatus.PENDING,
        )
        session.add(member)
        await session.flush()
        assert member.id is not None
        request = JoinRequest(organization_id=org.id, member_id=member.id)
        session.add(request)
        await session.commit()
        assert request.id is not None
        return org.id, member.id, request.id


@pytest.mark.parametrize("action", ["approve", "reject"])
async def test_join_request_of_another_organization_is_refused(
    bot: BotHarness, action: str
) -> None:
    await _desk_with_a_pending_request(bot)
    _, other_member_id, other_request_id = await _other_organization(bot)

    await _press_and_expect_alert(bot, pack("join", action, other_request_id), ITEM_NOT_FOUND)

    async with bot.db() as session:
        request = await session.get(JoinRequest, other_request_id)
        member = await session.get(Member, other_member_id)
    assert request is not None and request.status == JoinStatus.PENDING
    assert request.decided_by_member_id is None
    assert member is not None and member.status == MemberStatus.PENDING
    assert bot.telegram.texts(4001) == []


async def test_member_of_another_organization_cannot_be_viewed(bot: BotHarness) -> None:
    await _desk_with_a_pending_request(bot)
    _, other_member_id, _ = await _other_organization(bot)

    await _press_and_expect_alert(bot, pack("mem", "view", other_member_id), MEMBER_NOT_FOUND)
    assert all("赵老师" not in text for text in bot.telegram.texts())


async def test_member_of_another_organization_cannot_be_deactivated(bot: BotHarness) -> None:
    await _desk_with_a_pending_request(bot)
    async with bot.db() as session:
        org = Organization(name="第三中学工会")
        session.add(org)
        await session.flush()
        assert org.id is not None
        other = Member(
            organization_id=org.id,
            real_name="钱老师",
            department="英语组",
            status=MemberStatus.ACTIVE,
        )
        session.add(other)
        await session.commit()
        assert other.id is not None

    await _press_and_expect_alert(bot, pack("mem", "deact", other.id), MEMBER_NOT_FOUND)
