"""Committee tools, /me, /language and /help, through the real application."""

from __future__ import annotations

import logging
from functools import cache

import pytest
from sqlmodel import select
from telegram.ext import ExtBot

from bot.app import build_application
from bot.callback import pack
from bot.i18n import I18n, Translator
from bot.settings import Settings
from handlers import FEATURES
from handlers.menu.commands import publish_default_commands
from models.members import Member, MemberRole, MemberStatus, Role
from models.organizations import Organization
from tests.support.factories import make_member
from tests.support.fake_telegram import TOKEN, Call, Failure, FakeTelegram
from tests.support.harness import CHAIR, COMMITTEE_GROUP_ID, BotHarness
from tests.support.updates import Person, group_chat

COMMITTEE = Person(1002, "刘", "zh-hans")
TEACHER = Person(2001, "王", "zh-hans")
GROUP = group_chat(COMMITTEE_GROUP_ID)


@cache
def tr(language: str = "zh-Hans") -> Translator:
    """What the bot says in `language`, to compare exact replies with."""
    return I18n(language).get(language)


# ---- helpers ---------------------------------------------------------------------------------


async def add_chair(bot: BotHarness) -> Member:
    """The harness's CHAIR (an owner) as an active chair."""
    return await make_member(
        bot.db,
        org_id=bot.org_id,
        person=CHAIR,
        name="张主席",
        department="校办",
        roles=[Role.CHAIR],
    )


async def add_committee(bot: BotHarness) -> Member:
    """COMMITTEE as an active committee member (not chair)."""
    return await make_member(
        bot.db, org_id=bot.org_id, person=COMMITTEE, name="刘委员", roles=[Role.COMMITTEE]
    )


async def add_teacher(
    bot: BotHarness,
    *,
    status: MemberStatus = MemberStatus.ACTIVE,
    language: str | None = "zh-Hans",
) -> Member:
    """TEACHER as a plain member (active unless told otherwise)."""
    return await make_member(
        bot.db,
        org_id=bot.org_id,
        person=TEACHER,
        name="王芳",
        department="数学组",
        status=status,
        language=language,
    )


async def roles_in_db(bot: BotHarness, member: Member) -> set[str]:
    """Roles stored for a member."""
    async with bot.db() as session:
        rows = await session.exec(select(MemberRole.role).where(MemberRole.member_id == member.id))
        return set(rows.all())


async def stored_member(bot: BotHarness, member: Member) -> Member:
    """The member as stored now."""
    async with bot.db() as session:
        stored = await session.get(Member, member.id)
    assert stored is not None
    return stored


async def committee_chat_id(bot: BotHarness) -> int | None:
    """The organization's bound committee group."""
    async with bot.db() as session:
        org = await session.get(Organization, bot.org_id)
    assert org is not None
    return org.committee_chat_id


def chat_menus(bot: BotHarness, user_id: int) -> list[Call]:
    """setMyCommands calls scoped to one person's private chat."""
    return [
        call
        for call in bot.telegram.sent("setMyCommands")
        if call.params.get("scope") == {"type": "chat", "chat_id": user_id}
    ]


def command_names(call: Call) -> set[str]:
    """The commands of a setMyCommands call."""
    return {command["command"] for command in call.params["commands"]}


def labels(call: Call) -> list[str]:
    """Button labels of a message."""
    return [label for label, _ in call.buttons()]


def names_on_page(call: Call) -> set[str]:
    """Member names shown as buttons on a /members page (`#id name · department`)."""
    return {
        label.split(" ", 1)[1].split(" · ")[0]
        for label, data in call.buttons()
        if data.startswith("mem:view:")
    }


async def open_card(bot: BotHarness, person: Person, member: Member) -> Call:
    """`person` opens a member card; returns the card message."""
    await bot.press(person, pack("mem", "view", member.id or 0))
    return bot.telegram.last(person.id)


def last_answer(bot: BotHarness) -> Call:
    """The latest answerCallbackQuery."""
    answers = bot.telegram.answers()
    assert answers, "no callback query was answered"
    return answers[-1]


# ---- /members: search and paging -------------------------------------------------------------


async def make_wangs(bot: BotHarness, count: int) -> None:
    """Members 王01, 王02, ... in the maths group (without Telegram accounts)."""
    for number in range(1, count + 1):
        await make_member(bot.db, org_id=bot.org_id, name=f"王{number:02d}", department="数学组")


async def test_chair_searches_members_and_pages(bot: BotHarness) -> None:
    await add_chair(bot)
    await make_wangs(bot, 10)
    await make_member(bot.db, org_id=bot.org_id, name="李明", department="语文组")
    await make_member(bot.db, org_id=bot.org_id, name="赵静", department="英语组")

    await bot.say(CHAIR, "/members 王")

    first = bot.telegram.last(CHAIR.id)
    assert first.text == tr()("members.page", first=1, last=8, total=10)
    assert names_on_page(first) == {f"王{number:02d}" for number in range(1, 9)}
    assert tr()("common.previous") not in labels(first)

    await bot.press(CHAIR, first.button_data(tr()("common.next")))

    assert last_answer(bot).params.get("show_alert") is not True
    second = bot.telegram.last(CHAIR.id)
    assert second.text == tr()("members.page", first=9, last=10, total=10)
    assert names_on_page(second) == {"王09", "王10"}
    assert tr()("common.next") not in labels(second)

    await bot.press(CHAIR, second.button_data(tr()("common.previous")))

    assert names_on_page(bot.telegram.last(CHAIR.id)) == names_on_page(first)


async def test_search_finds_departments_and_reports_nothing_found(bot: BotHarness) -> None:
    await add_chair(bot)
    await make_wangs(bot, 2)
    await make_member(bot.db, org_id=bot.org_id, name="李明", department="语文组")

    await bot.say(CHAIR, "/members 语文")
    assert names_on_page(bot.telegram.last(CHAIR.id)) == {"李明"}

    await bot.say(CHAIR, "/members 钱")
    assert bot.telegram.last(CHAIR.id).text == tr()("members.none_found")

    await bot.say(CHAIR, "/members")
    assert bot.telegram.last(CHAIR.id).text == tr()("members.page", first=1, last=4, total=4)


async def test_search_text_is_not_a_wildcard(bot: BotHarness) -> None:
    """`%` and `_` are what the person typed, not SQL LIKE patterns."""
    await add_chair(bot)
    await make_wangs(bot, 3)

    await bot.say(CHAIR, "/members %")
    assert bot.telegram.last(CHAIR.id).text == tr()("members.none_found")

    await bot.say(CHAIR, "/members _")
    assert bot.telegram.last(CHAIR.id).text == tr()("members.none_found")


async def test_plain_member_cannot_list_members_or_page(bot: BotHarness) -> None:
    await add_teacher(bot)
    await make_wangs(bot, 3)

    await bot.say(TEACHER, "/members 王")
    assert bot.telegram.last(TEACHER.id).text == tr()("desk.not_committee")

    await bot.press(TEACHER, pack("mem", "page", 0))
    assert last_answer(bot).params["show_alert"] is True
    assert last_answer(bot).text == tr()("desk.not_committee")
    assert all("王01" not in text for text in bot.telegram.texts(TEACHER.id))


# ---- roles -----------------------------------------------------------------------------------


async def test_chair_grants_and_revokes_the_committee_role(bot: BotHarness) -> None:
    chair = await add_chair(bot)
    teacher = await add_teacher(bot)
    menus_before = len(chat_menus(bot, TEACHER.id))

    card = await open_card(bot, CHAIR, teacher)

    assert "王芳" in card.text
    assert tr()("members.roles", value=tr()("role.none")) in card.text
    assert f"+ {tr()('role.committee')}" in labels(card)

    await bot.press(CHAIR, card.button_data(tr()("role.committee")))

    async with bot.db() as session:
        row = await session.get(MemberRole, (teacher.id, Role.COMMITTEE))
    assert row is not None
    assert row.granted_by_member_id == chair.id
    assert last_answer(bot).text == tr()("roles.changed")
    edited = bot.telegram.last(CHAIR.id, method="editMessageText")
    assert f"✓ {tr()('role.committee')}" in labels(edited)
    assert tr()("role.committee") in edited.text
    assert bot.telegram.last(TEACHER.id).text == tr()("roles.you_got", role=tr()("role.committee"))
    menus = chat_menus(bot, TEACHER.id)
    assert len(menus) == menus_before + 1
    assert {"members", "joins"} <= command_names(menus[-1])

    await bot.press(CHAIR, edited.button_data(tr()("role.committee")))

    assert await roles_in_db(bot, teacher) == set()
    assert last_answer(bot).text == tr()("roles.changed")
    assert bot.telegram.last(TEACHER.id).text == tr()("roles.you_lost", role=tr()("role.committee"))
    menus = chat_menus(bot, TEACHER.id)
    assert len(menus) == menus_before + 2
    assert "members" not in command_names(menus[-1])
    assert f"+ {tr()('role.committee')}" in labels(
        bot.telegram.last(CHAIR.id, method="editMessageText")
    )


async def test_member_is_told_in_their_own_language(bot: BotHarness) -> None:
    await add_chair(bot)
    teacher = await add_teacher(bot, language="en")

    await bot.press(CHAIR, pack("mem", "grant", teacher.id or 0, Role.REPRESENTATIVE))

    assert bot.telegram.last(TEACHER.id).text == tr("en")(
        "roles.you_got", role=tr("en")("role.representative")
    )


async def test_granting_a_role_twice_tells_the_member_once(bot: BotHarness) -> None:
    await add_chair(bot)
    teacher = await add_teacher(bot)
    grant = pack("mem", "grant", teacher.id or 0, Role.COMMITTEE)

    await bot.press(CHAIR, grant)
    await bot.press(CHAIR, grant)

    assert last_answer(bot).text == tr()("roles.unchanged")
    assert await roles_in_db(bot, teacher) == {Role.COMMITTEE}
    assert len(bot.telegram.texts(TEACHER.id)) == 1


async def test_roles_are_granted_only_to_active_members(bot: BotHarness) -> None:
    await add_chair(bot)
    teacher = await add_teacher(bot, status=MemberStatus.INACTIVE)

    card = await open_card(bot, CHAIR, teacher)
    await bot.press(CHAIR, pack("mem", "grant", teacher.id or 0, Role.COMMITTEE))

    assert not any(data.startswith("mem:grant:") for _, data in card.buttons())
    assert last_answer(bot).text == tr()("roles.member_not_active")
    assert await roles_in_db(bot, teacher) == set()


async def test_last_chair_cannot_revoke_their_own_chair_role(bot: BotHarness) -> None:
    chair = await add_chair(bot)

    card = await open_card(bot, CHAIR, chair)
    await bot.press(CHAIR, card.button_data(tr()("role.chair")))

    answer = last_answer(bot)
    assert answer.params["show_alert"] is True
    assert answer.text == tr()("roles.last_chair")
    assert await roles_in_db(bot, chair) == {Role.CHAIR}


async def test_a_chair_may_step_down_when_another_chair_remains(bot: BotHarness) -> None:
    await add_chair(bot)
    deputy = Person(1003, "陈", "zh-hans")
    second = await make_member(
        bot.db, org_id=bot.org_id, person=deputy, name="陈副主席", roles=[Role.CHAIR]
    )

    await bot.press(deputy, pack("mem", "revoke", second.id or 0, Role.CHAIR))

    assert last_answer(bot).text == tr()("roles.changed")
    assert await roles_in_db(bot, second) == set()


async def test_committee_member_sees_no_role_buttons(bot: BotHarness) -> None:
    await add_committee(bot)
    teacher = await add_teacher(bot)

    card = await open_card(bot, COMMITTEE, teacher)

    assert "王芳" in card.text
    assert card.buttons() == [(tr()("members.deactivate"), pack("mem", "deact", teacher.id or 0))]


@pytest.mark.parametrize("target", ["teacher", "self"])
@pytest.mark.parametrize("role", [Role.COMMITTEE, Role.CHAIR])
async def test_forged_grant_by_committee_member_is_refused(
    bot: BotHarness, target: str, role: Role
) -> None:
    committee = await add_committee(bot)
    teacher = await add_teacher(bot)
    member = teacher if target == "teacher" else committee
    roles_before = await roles_in_db(bot, member)

    await bot.press(COMMITTEE, pack("mem", "grant", member.id or 0, role))

    answer = last_answer(bot)
    assert answer.params["show_alert"] is True
    assert answer.text == tr()("roles.chair_only")
    assert await roles_in_db(bot, member) == roles_before
    assert bot.telegram.texts(TEACHER.id) == []
    assert chat_menus(bot, member.telegram_user_id or 0) == []


async def test_plain_member_cannot_open_cards_or_change_roles(bot: BotHarness) -> None:
    teacher = await add_teacher(bot)
    other = await make_member(bot.db, org_id=bot.org_id, name="李明")

    await bot.press(TEACHER, pack("mem", "view", other.id or 0))
    assert last_answer(bot).text == tr()("desk.not_committee")

    await bot.press(TEACHER, pack("mem", "grant", teacher.id or 0, Role.CHAIR))
    assert last_answer(bot).text == tr()("desk.not_committee")
    assert await roles_in_db(bot, teacher) == set()


@pytest.mark.parametrize(
    "data",
    [
        "mem:grant:999999:committee",
        "mem:grant:abc:committee",
        "mem:grant:{id}:pope",
        "mem:grant:{id}",
        "mem:grant:-{id}:committee",
    ],
)
async def test_stale_or_forged_role_buttons_change_nothing(bot: BotHarness, data: str) -> None:
    await add_chair(bot)
    teacher = await add_teacher(bot)

    await bot.press(CHAIR, data.format(id=teacher.id))

    answer = last_answer(bot)
    assert answer.params["show_alert"] is True
    assert answer.text in {tr()("desk.stale_button"), tr()("members.not_found")}
    assert await roles_in_db(bot, teacher) == set()


# ---- status ----------------------------------------------------------------------------------


async def test_committee_member_deactivates_and_reactivates_a_member(bot: BotHarness) -> None:
    await add_chair(bot)
    await add_committee(bot)
    teacher = await add_teacher(bot)

    card = await open_card(bot, COMMITTEE, teacher)
    await bot.press(COMMITTEE, card.button_data(tr()("members.deactivate")))

    assert (await stored_member(bot, teacher)).status == MemberStatus.INACTIVE
    assert last_answer(bot).text == tr()("members.status_changed")
    edited = bot.telegram.last(COMMITTEE.id, method="editMessageText")
    assert tr()("members.status", value=tr()("status.inactive")) in edited.text
    assert edited.buttons() == [(tr()("members.reactivate"), pack("mem", "react", teacher.id or 0))]

    await bot.say(TEACHER, "/me")
    assert bot.telegram.last(TEACHER.id).text == tr()("join.inactive")

    await bot.press(COMMITTEE, edited.button_data(tr()("members.reactivate")))

    assert (await stored_member(bot, teacher)).status == MemberStatus.ACTIVE
    await bot.say(TEACHER, "/me")
    assert tr()("profile.title") in bot.telegram.last(TEACHER.id).text


async def test_deactivating_twice_is_reported_not_repeated(bot: BotHarness) -> None:
    await add_chair(bot)
    await add_committee(bot)
    teacher = await add_teacher(bot)
    deactivate = pack("mem", "deact", teacher.id or 0)

    await bot.press(COMMITTEE, deactivate)
    await bot.press(COMMITTEE, deactivate)

    assert last_answer(bot).text == tr()("members.status_unchanged")
    assert (await stored_member(bot, teacher)).status == MemberStatus.INACTIVE


async def test_deactivating_oneself_is_refused(bot: BotHarness) -> None:
    await add_chair(bot)
    committee = await add_committee(bot)

    await bot.press(COMMITTEE, pack("mem", "deact", committee.id or 0))

    answer = last_answer(bot)
    assert answer.params["show_alert"] is True
    assert answer.text == tr()("members.not_yourself")
    assert (await stored_member(bot, committee)).status == MemberStatus.ACTIVE


async def test_only_the_chair_can_deactivate_a_chair(bot: BotHarness) -> None:
    chair = await add_chair(bot)
    await add_committee(bot)

    await bot.press(COMMITTEE, pack("mem", "deact", chair.id or 0))

    assert last_answer(bot).text == tr()("roles.chair_only")
    assert (await stored_member(bot, chair)).status == MemberStatus.ACTIVE


# ---- /bindgroup ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["/bindgroup", "/bindgroup@union_desk_test_bot"])
async def test_chair_binds_the_committee_group(bot: BotHarness, command: str) -> None:
    await add_chair(bot)

    await bot.say(CHAIR, command, chat=GROUP)

    assert await committee_chat_id(bot) == COMMITTEE_GROUP_ID
    reply = bot.telegram.last(COMMITTEE_GROUP_ID)
    assert reply.text == tr()("bind.done", org="实验中学工会")


@pytest.mark.parametrize("who", ["committee", "stranger"])
async def test_bindgroup_by_a_non_chair_is_refused(bot: BotHarness, who: str) -> None:
    await add_committee(bot)
    person = COMMITTEE if who == "committee" else Person(3001, "路人", "zh-hans")

    await bot.say(person, "/bindgroup", chat=GROUP)

    assert await committee_chat_id(bot) is None
    assert bot.telegram.last(COMMITTEE_GROUP_ID).text == tr()("bind.chair_only")


async def test_bindgroup_in_private_explains_where_to_send_it(bot: BotHarness) -> None:
    await add_chair(bot)

    await bot.say(CHAIR, "/bindgroup")

    assert await committee_chat_id(bot) is None
    assert bot.telegram.last(CHAIR.id).text == tr()("bind.in_group_only")


# ---- /me -------------------------------------------------------------------------------------


async def test_me_shows_the_profile_and_edits_the_name(bot: BotHarness) -> None:
    teacher = await add_teacher(bot)

    await bot.say(TEACHER, "/me")

    profile = bot.telegram.last(TEACHER.id)
    assert tr()("profile.title") in profile.text
    assert tr()("profile.name", value="王芳") in profile.text
    assert tr()("profile.department", value="数学组") in profile.text

    await bot.press(TEACHER, profile.button_data(tr()("profile.edit_name")))
    assert tr()("reg.ask_name", limit=40) in bot.telegram.last(TEACHER.id).text

    await bot.say(TEACHER, "  王芳芳 ")

    # A new name waits for the committee (tests/test_profile_changes.py); the old one stays.
    assert (await stored_member(bot, teacher)).real_name == "王芳"
    change = tr()("profile_change.name_line", old="王芳", new="王芳芳")
    assert bot.telegram.last(TEACHER.id).text == tr()("profile_change.sent", change=change)


async def test_over_long_name_is_refused_with_limit_and_count(bot: BotHarness) -> None:
    teacher = await add_teacher(bot)
    await bot.press(TEACHER, pack("me", "edit", "name"))

    await bot.say(TEACHER, "王" * 41)

    assert bot.telegram.last(TEACHER.id).text == tr()("input.too_long", limit=40, count=41)
    assert (await stored_member(bot, teacher)).real_name == "王芳"

    await bot.say(TEACHER, "王" * 40)  # still waiting for the name

    change = tr()("profile_change.name_line", old="王芳", new="王" * 40)
    assert bot.telegram.last(TEACHER.id).text == tr()("profile_change.sent", change=change)


async def test_cancel_leaves_the_name_alone(bot: BotHarness) -> None:
    teacher = await add_teacher(bot)
    await bot.press(TEACHER, pack("me", "edit", "name"))

    await bot.say(TEACHER, "/cancel")
    await bot.say(TEACHER, "李四")

    assert tr()("profile.edit_cancelled") in bot.telegram.texts(TEACHER.id)
    assert (await stored_member(bot, teacher)).real_name == "王芳"


async def test_gender_is_chosen_from_the_buttons_and_can_be_cleared(bot: BotHarness) -> None:
    teacher = await add_teacher(bot)

    await bot.press(TEACHER, pack("me", "gender", "ask"))
    choices = bot.telegram.last(TEACHER.id)
    assert tr()("reg.ask_gender") == choices.text
    await bot.press(TEACHER, choices.button_data(tr()("gender.female")))

    assert (await stored_member(bot, teacher)).gender == "female"

    await bot.press(TEACHER, pack("me", "gender", "none"))

    assert (await stored_member(bot, teacher)).gender is None
    assert tr()("profile.saved") in bot.telegram.texts(TEACHER.id)


# ---- /language -------------------------------------------------------------------------------


async def test_language_choice_is_stored_and_used(bot: BotHarness) -> None:
    teacher = await add_teacher(bot)

    await bot.say(TEACHER, "/language")
    choices = bot.telegram.last(TEACHER.id)
    assert pack("lang", "set", "zht") in [data for _, data in choices.buttons()]

    await bot.press(TEACHER, pack("lang", "set", "zht"))

    assert (await stored_member(bot, teacher)).language == "zh-Hant"
    assert bot.telegram.last(TEACHER.id).text == tr("zh-Hant")("language.saved")

    await bot.say(TEACHER, "/me")
    profile = bot.telegram.last(TEACHER.id)
    assert tr("zh-Hant")("profile.title") in profile.text
    assert tr("zh-Hant")("profile.department", value="数学组") in profile.text
    assert tr("zh-Hans")("profile.title") not in profile.text

    await bot.say(TEACHER, "/help")
    assert bot.telegram.last(TEACHER.id).text.startswith(tr("zh-Hant")("help.title"))


async def test_committee_member_gets_their_menu_in_the_new_language(bot: BotHarness) -> None:
    await add_committee(bot)

    await bot.press(COMMITTEE, pack("lang", "set", "en"))

    menu = chat_menus(bot, COMMITTEE.id)[-1]
    descriptions = {c["command"]: c["description"] for c in menu.params["commands"]}
    assert descriptions["members"] == tr("en")("cmd.members")


# ---- /help -----------------------------------------------------------------------------------


async def test_help_lists_committee_commands_only_for_the_committee(bot: BotHarness) -> None:
    await add_committee(bot)
    await add_teacher(bot)

    await bot.say(COMMITTEE, "/help")
    await bot.say(TEACHER, "/help")

    committee_help = bot.telegram.last(COMMITTEE.id).text
    teacher_help = bot.telegram.last(TEACHER.id).text
    assert "/members" in committee_help
    assert "/joins" in committee_help
    assert "/bindgroup" not in committee_help
    assert "/me" in teacher_help
    assert "/members" not in teacher_help
    assert "/joins" not in teacher_help


async def test_help_for_a_deactivated_committee_member_hides_committee_commands(
    bot: BotHarness,
) -> None:
    await make_member(
        bot.db,
        org_id=bot.org_id,
        person=COMMITTEE,
        roles=[Role.COMMITTEE],
        status=MemberStatus.INACTIVE,
    )

    await bot.say(COMMITTEE, "/help")

    assert "/members" not in bot.telegram.last(COMMITTEE.id).text


# ---- the command menu when Telegram says no --------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        Failure("setMyCommands", 400, "Bad Request: BOT_COMMAND_INVALID"),
        Failure("setMyCommands", 429, "Too Many Requests: retry after 5", retry_after=5),
    ],
    ids=["bad-request", "flood"],
)
async def test_publish_default_commands_logs_a_failure(
    failure: Failure, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PTB 22.2+ warns that RetryAfter.retry_after becomes a timedelta; opt in, as warnings fail.
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    telegram = FakeTelegram(failures=[failure])
    async with ExtBot(TOKEN, request=telegram, get_updates_request=telegram) as bot:
        with caplog.at_level(logging.WARNING, logger="handlers.menu.commands"):
            await publish_default_commands(bot, I18n("zh-Hans"), FEATURES)

    assert telegram.sent("setMyCommands")
    warnings = [r for r in caplog.records if r.name == "handlers.menu.commands"]
    assert len(warnings) == 1
    assert "command menu" in warnings[0].getMessage()


async def test_command_menu_failure_at_startup_is_not_fatal(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    telegram = FakeTelegram(
        failures=[Failure("setMyCommands", 400, "Bad Request: BOT_COMMAND_INVALID", times=99)]
    )
    application = build_application(settings, request=telegram, use_default_rate_limiter=False)
    await application.initialize()
    try:
        assert application.post_init is not None
        with caplog.at_level(logging.WARNING, logger="handlers.menu.commands"):
            await application.post_init(application)
        harness = BotHarness(application, telegram)

        assert harness.org_id > 0
        assert any("command menu" in r.getMessage() for r in caplog.records)
        await harness.say(TEACHER, "/help")
        assert harness.telegram.last(TEACHER.id).text.startswith(tr()("help.title"))
    finally:
        await application.shutdown()
        assert application.post_shutdown is not None
        await application.post_shutdown(application)


async def test_a_failed_member_menu_does_not_undo_the_grant(bot: BotHarness) -> None:
    await add_chair(bot)
    teacher = await add_teacher(bot)
    bot.telegram.failures.append(Failure("setMyCommands", 400, "Bad Request: chat not found"))
    bot.telegram.failures.append(
        Failure("sendMessage", 403, "Forbidden: bot was blocked by the user")
    )

    await bot.press(CHAIR, pack("mem", "grant", teacher.id or 0, Role.COMMITTEE))

    assert await roles_in_db(bot, teacher) == {Role.COMMITTEE}
    assert last_answer(bot).text == tr()("roles.changed")
    assert [failure.times for failure in bot.telegram.failures] == [0, 0]  # both calls failed
    assert bot.telegram.sent("sendMessage", CHAIR.id) == []  # no owner alert: nothing broke
