"""One active form per person, through the real application: a typed text reaches only the form
whose prompt its writer saw last (or nobody), and the committee group never gets anything
private. Each test is a sequence a real person could send; assertions are on the exact chats
Telegram was asked to write to and on the stored rows.

Also: forms that wait too long end by themselves (told once, at the next input, nothing sent),
and a form survives a restart of the bot unless it expired meanwhile.
"""

from __future__ import annotations

from sqlmodel import select

from bot.callback import pack
from bot.settings import Settings
from models.aid import AidCase, CaseStatus, LedgerKind
from models.desk import cards_for
from models.members import Member, ProfileChangeRequest
from models.suggestions import EntryKind, Suggestion, SuggestionStatus
from tests.support.forms import (
    AID_CANCELLED,
    AID_LABEL,
    AUTHOR,
    AUTHOR_DEPARTMENT,
    AUTHOR_NAME,
    CHECK_BEFORE_SENDING,
    COMMITTEE,
    DESK_TEXT_LABEL,
    EXPIRED,
    FOLLOWUP_LABEL,
    GROUP,
    LEFT,
    MENU_TITLE,
    NOT_UNDERSTOOD,
    NOTHING_ACTIVE,
    PRIVATE_ONLY,
    REPLY_LABEL,
    REPLY_SENT,
    REQUESTER,
    SECOND,
    SEND,
    SUGGESTION_LABEL,
    UNKNOWN_COMMAND,
    WRITE_BODY,
    WRITING,
    Clock,
    alerts,
    entries_of,
    file_aid,
    file_suggestion,
    finish_aid,
    ledger_of,
    reached,
    reload_case,
    reload_member,
    reply_to,
    running_app,
    setup_school,
    to_aid_description,
    to_suggestion_body,
    use_clock,
)
from tests.support.harness import CHAIR, COMMITTEE_GROUP_ID, BotHarness

ANON_BODY = "食堂的菜越来越咸，希望能改进。"
SICK_STORY = "我因抑郁症住院两周，现在在家休养。"
QUESTION = "李老师，抑郁症住院的诊断书和住院科室请补充一下。"
FIRST_REPLY = "已转告食堂，下周起减盐。"
STALE = "这个按钮已失效"  # desk.stale_button
ROLE_LOST = "您的角色“工会委员”已取消。"  # roles.you_lost


async def asked_name(bot: BotHarness, member: Member) -> str | None:
    """The new name a member asked for, waiting for the committee (their name is unchanged)."""
    assert (await reload_member(bot, member)).real_name == AUTHOR_NAME
    async with bot.db() as session:
        waiting = (
            await session.exec(
                select(ProfileChangeRequest).where(ProfileChangeRequest.member_id == member.id)
            )
        ).first()
    return waiting.new_name if waiting else None


async def anonymous_item(bot: BotHarness) -> Suggestion:
    """The author's anonymous suggestion, on the desk, not answered yet."""
    return await file_suggestion(bot, AUTHOR, ANON_BODY, anonymous=True)


async def stored_item(bot: BotHarness, item: Suggestion) -> Suggestion:
    """The item as stored now."""
    async with bot.db() as session:
        stored = await session.get(Suggestion, item.id)
    assert stored is not None
    return stored


def notices(bot: BotHarness, person_id: int, fragment: str) -> list[str]:
    """Private messages to a person that carry `fragment`."""
    return [text for text in bot.telegram.texts(person_id) if fragment in text]


def left(bot: BotHarness, person_id: int, label: str) -> list[str]:
    """The lines that told a person the form called `label` ended unsent."""
    return [t for t in bot.telegram.texts(person_id) if f"「{label}」" in t and LEFT in t]


def expired(bot: BotHarness, person_id: int, label: str) -> list[str]:
    """The lines that told a person the form called `label` expired."""
    return [t for t in bot.telegram.texts(person_id) if f"「{label}」" in t and EXPIRED in t]


# ---- (1) two desk buttons, one text ---------------------------------------------------------


async def reply_then_ask(bot: BotHarness) -> tuple[Suggestion, AidCase]:
    """An anonymous item and an aid case on the desk; the committee member presses ✍️ 答复 on
    the item, types nothing, and presses ❓ 请补充材料 on the case."""
    await setup_school(bot)
    item = await anonymous_item(bot)
    case = await file_aid(bot, REQUESTER, SICK_STORY)
    bot.telegram.clear()
    await bot.press(COMMITTEE, pack("sug", "reply", item.id or 0), chat=GROUP)
    assert WRITING in bot.telegram.last(COMMITTEE.id).text
    await bot.press(COMMITTEE, pack("ak", "ask", case.id or 0), chat=GROUP)
    prompts = [t for t in bot.telegram.texts(COMMITTEE.id) if WRITING in t]
    assert len(prompts) == 2 and case.number in prompts[1]
    return item, case


async def check_only_the_requester_got_the_question(
    bot: BotHarness, item: Suggestion, case: AidCase
) -> None:
    """The question went to the requester (and, shown back, to its writer), nowhere else."""
    assert reached(bot, QUESTION) == {REQUESTER.id, COMMITTEE.id}
    told = bot.telegram.last(REQUESTER.id)
    assert case.number in told.text and told.button_data("回复") == pack("ad", "info", case.id or 0)
    # The anonymous author heard nothing; the item has no answer.
    assert bot.telegram.texts(AUTHOR.id) == []
    assert await entries_of(bot, item) == []
    unchanged = await stored_item(bot, item)
    assert unchanged.status == SuggestionStatus.OPEN
    assert unchanged.answered_by_member_id is None and unchanged.answered_at is None
    # The case holds the question; the group only heard that one was asked.
    ledger = await ledger_of(bot, case)
    assert [(e.kind, e.note) for e in ledger][-1] == (LedgerKind.INFO_ASKED, QUESTION)
    group = bot.telegram.texts(COMMITTEE_GROUP_ID)
    assert group and not [text for text in group if "抑郁症" in text or "诊断书" in text]
    # The writer was told, once, that the reply was left unsent.
    assert len(left(bot, COMMITTEE.id, REPLY_LABEL)) == 1


async def test_a_question_typed_after_two_desk_buttons_reaches_only_the_aid_requester(
    bot: BotHarness,
) -> None:
    item, case = await reply_then_ask(bot)

    await bot.say(COMMITTEE, QUESTION)
    shown_back = bot.telegram.last(COMMITTEE.id)
    assert bot.telegram.texts(REQUESTER.id) == [], "sent before its writer pressed Send"
    assert CHECK_BEFORE_SENDING in shown_back.text and case.number in shown_back.text
    assert QUESTION in shown_back.text and shown_back.button_data("发送") == SEND
    await bot.press(COMMITTEE, SEND)

    await check_only_the_requester_got_the_question(bot, item, case)


# ---- (2) a pending follow-up, then the author's own forms -----------------------------------


async def test_an_untyped_follow_up_does_not_take_the_aid_story_or_the_new_name(
    bot: BotHarness,
) -> None:
    school = await setup_school(bot)
    item = await anonymous_item(bot)
    await reply_to(bot, COMMITTEE, item, FIRST_REPLY)
    assert FIRST_REPLY in bot.telegram.last(AUTHOR.id).text
    answered = await stored_item(bot, item)
    bot.telegram.clear()

    # 继续追问, nothing typed; later /aid with a story that names the author.
    await bot.press(AUTHOR, pack("sga", "more", item.id or 0))
    assert WRITING in bot.telegram.last(AUTHOR.id).text
    story = f"我是{AUTHOR_NAME}（{AUTHOR_DEPARTMENT}），上周因腰椎间盘突出住院。"
    case = await file_aid(bot, AUTHOR, story)

    assert case.description == story
    assert len(left(bot, AUTHOR.id, FOLLOWUP_LABEL)) == 1
    assert [e.kind for e in await entries_of(bot, item)] == [EntryKind.REPLY]
    after_aid = await stored_item(bot, item)
    assert (after_aid.status, after_aid.version) == (SuggestionStatus.ANSWERED, answered.version)
    for fragment in (story, AUTHOR_NAME, "腰椎"):
        assert reached(bot, fragment) <= {AUTHOR.id}, fragment

    # Again 继续追问, nothing typed; then /me and ✏️ 姓名: the name goes to the profile only
    # (a change of name waits for the committee's approval on its own card).
    await bot.press(AUTHOR, pack("sga", "more", item.id or 0))
    await bot.say(AUTHOR, "/me")
    await bot.press(AUTHOR, pack("me", "edit", "name"))
    await bot.say(AUTHOR, "王芳")

    assert await asked_name(bot, school.author) == "王芳"
    assert [e.kind for e in await entries_of(bot, item)] == [EntryKind.REPLY]
    assert (await stored_item(bot, item)).status == SuggestionStatus.ANSWERED
    assert reached(bot, "王芳") <= {AUTHOR.id, COMMITTEE_GROUP_ID}
    # The group got the masked aid card and the name-change card, nothing about the suggestion.
    group = bot.telegram.texts(COMMITTEE_GROUP_ID)
    assert group[0].split()[0] == "🤝" and len(group) == 2
    assert not [text for text in group if item.number in text]


async def test_the_name_edit_pressed_under_an_old_profile_mid_follow_up_takes_the_name(
    bot: BotHarness,
) -> None:
    school = await setup_school(bot)
    item = await anonymous_item(bot)
    await reply_to(bot, COMMITTEE, item, FIRST_REPLY)
    await bot.say(AUTHOR, "/me")  # the profile with its edit buttons, shown before
    bot.telegram.clear()

    await bot.press(AUTHOR, pack("sga", "more", item.id or 0))
    await bot.press(AUTHOR, pack("me", "edit", "name"))  # under the older /me message
    await bot.say(AUTHOR, "王芳")

    assert await asked_name(bot, school.author) == "王芳"
    assert [e.kind for e in await entries_of(bot, item)] == [EntryKind.REPLY]
    assert reached(bot, "王芳") <= {AUTHOR.id, COMMITTEE_GROUP_ID}
    assert not [t for t in bot.telegram.texts(COMMITTEE_GROUP_ID) if item.number in t]
    assert len(left(bot, AUTHOR.id, FOLLOWUP_LABEL)) == 1


# ---- (3) /menu between the button and the text ---------------------------------------------


async def test_menu_ends_the_reply_and_ordinary_chat_is_not_an_answer(bot: BotHarness) -> None:
    await setup_school(bot)
    item = await anonymous_item(bot)
    bot.telegram.clear()

    await bot.press(COMMITTEE, pack("sug", "reply", item.id or 0), chat=GROUP)
    await bot.say(COMMITTEE, "/menu")
    after_menu = bot.telegram.texts(COMMITTEE.id)[1:]
    await bot.say(COMMITTEE, "好的，我下午再看看。")

    assert len(after_menu) == 2
    assert REPLY_LABEL in after_menu[0] and LEFT in after_menu[0]
    assert after_menu[1] == MENU_TITLE
    assert NOT_UNDERSTOOD in bot.telegram.texts(COMMITTEE.id)[3]
    assert bot.telegram.texts(AUTHOR.id) == []
    assert reached(bot, "下午再看看") == set()
    assert await entries_of(bot, item) == []
    assert (await stored_item(bot, item)).status == SuggestionStatus.OPEN


async def test_a_menu_button_in_private_ends_the_reply_too(bot: BotHarness) -> None:
    await setup_school(bot)
    item = await anonymous_item(bot)
    await bot.press(COMMITTEE, pack("sug", "reply", item.id or 0), chat=GROUP)
    await bot.say(COMMITTEE, FIRST_REPLY)  # shown back, not sent
    bot.telegram.clear()

    await bot.press(COMMITTEE, pack("menu", "mine"))
    await bot.press(COMMITTEE, SEND)
    await bot.say(COMMITTEE, "好的，我下午再看看。")

    assert len(left(bot, COMMITTEE.id, REPLY_LABEL)) == 1
    assert reached(bot, FIRST_REPLY) == set() and bot.telegram.texts(AUTHOR.id) == []
    assert STALE in bot.telegram.answers()[-1].text
    assert NOT_UNDERSTOOD in bot.telegram.texts(COMMITTEE.id)[-2]
    assert await entries_of(bot, item) == []


# ---- a refused press leaves the work as it was ---------------------------------------------


async def test_a_refused_press_of_another_desk_button_keeps_the_reply_shown_back(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    item = await anonymous_item(bot)
    case = await file_aid(bot, REQUESTER, SICK_STORY)
    await bot.press(COMMITTEE, pack("ak", "yes", case.id or 0, 25000), chat=GROUP)  # decided
    await bot.press(COMMITTEE, pack("sug", "reply", item.id or 0), chat=GROUP)
    await bot.say(COMMITTEE, FIRST_REPLY)
    bot.telegram.clear()

    await bot.press(COMMITTEE, pack("ak", "ask", case.id or 0), chat=GROUP)  # refused
    await bot.press(COMMITTEE, SEND)

    assert "已经处理过了" in bot.telegram.answers()[0].text
    assert reached(bot, FIRST_REPLY) == {AUTHOR.id}
    assert [e.body for e in await entries_of(bot, item)] == [FIRST_REPLY]
    assert not left(bot, COMMITTEE.id, REPLY_LABEL)


async def test_a_refused_press_of_the_same_desk_button_keeps_the_reply_shown_back(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    item = await anonymous_item(bot)
    closed = await file_suggestion(bot, AUTHOR, "操场的灯坏了。", anonymous=True)
    await bot.press(COMMITTEE, pack("sug", "close", closed.id or 0), chat=GROUP)
    await bot.press(COMMITTEE, pack("sug", "reply", item.id or 0), chat=GROUP)
    await bot.say(COMMITTEE, FIRST_REPLY)
    bot.telegram.clear()

    await bot.press(COMMITTEE, pack("sug", "reply", closed.id or 0), chat=GROUP)  # refused
    await bot.press(COMMITTEE, SEND)

    assert "已办结" in bot.telegram.answers()[0].text
    # Either the reply still goes out, or its writer is told it was dropped: never silence.
    delivered = reached(bot, FIRST_REPLY) == {AUTHOR.id}
    assert delivered or left(bot, COMMITTEE.id, REPLY_LABEL)
    assert delivered, "the reply shown back was dropped by a press that was refused"


# ---- (4) /suggest, then /aid ----------------------------------------------------------------


async def test_the_story_typed_after_aid_is_the_aid_story_not_the_suggestion(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    await to_suggestion_body(bot, AUTHOR)
    assert WRITE_BODY in bot.telegram.last(AUTHOR.id).text
    bot.telegram.clear()

    await to_aid_description(bot, AUTHOR)
    await bot.say(AUTHOR, SICK_STORY)
    await finish_aid(bot, AUTHOR)

    async with bot.db() as session:
        suggestions = (await session.exec(select(Suggestion))).all()
        cases = (await session.exec(select(AidCase))).all()
    assert suggestions == []
    assert [case.description for case in cases] == [SICK_STORY]
    assert len(left(bot, AUTHOR.id, SUGGESTION_LABEL)) == 1
    assert reached(bot, SICK_STORY) == {AUTHOR.id}  # the preview, nothing else
    assert not [t for t in bot.telegram.texts(COMMITTEE_GROUP_ID) if "抑郁症" in t]


async def test_one_cancel_ends_the_aid_form_and_a_second_says_nothing_is_in_progress(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    await to_suggestion_body(bot, AUTHOR)
    await to_aid_description(bot, AUTHOR)
    await bot.say(AUTHOR, SICK_STORY)
    bot.telegram.clear()

    await bot.say(AUTHOR, "/cancel")
    await bot.say(AUTHOR, "/cancel")
    await bot.say(AUTHOR, "昨天")

    texts = bot.telegram.texts(AUTHOR.id)
    assert texts[0] == AID_CANCELLED
    assert NOTHING_ACTIVE in texts[1] and UNKNOWN_COMMAND not in texts[1]
    assert len(texts) == 4 and NOT_UNDERSTOOD in texts[2] and texts[3] == MENU_TITLE
    assert not [t for t in texts if SUGGESTION_LABEL in t or WRITE_BODY in t]
    async with bot.db() as session:
        assert (await session.exec(select(AidCase))).all() == []
        assert (await session.exec(select(Suggestion))).all() == []


# ---- (5) the menu in the committee group ----------------------------------------------------


async def test_the_menu_in_the_group_shows_nothing_private_there(bot: BotHarness) -> None:
    await setup_school(bot)
    bot.telegram.clear()

    await bot.say(COMMITTEE, "/menu", chat=GROUP)
    await bot.say(COMMITTEE, f"/menu@{bot.app.bot.username}", chat=GROUP)
    for action in ("mine", "aidbooks", "suggestions", "me"):
        await bot.press(COMMITTEE, pack("menu", action), chat=GROUP)
    await bot.press(AUTHOR, pack("menu", "mine"), chat=GROUP)

    group = bot.telegram.sent("sendMessage", COMMITTEE_GROUP_ID)
    assert [PRIVATE_ONLY in call.text for call in group] == [True, True]
    assert all(call.buttons()[0][1].startswith("https://t.me/") for call in group)
    assert [call.chat_id for call in bot.telegram.calls if call.chat_id is not None] == [
        COMMITTEE_GROUP_ID,
        COMMITTEE_GROUP_ID,
    ]
    refused = alerts(bot)
    assert len(refused) == 5 == len(bot.telegram.answers())
    assert all(PRIVATE_ONLY in call.text for call in refused)


async def test_a_command_in_the_group_does_not_end_the_private_reply(bot: BotHarness) -> None:
    await setup_school(bot)
    item = await anonymous_item(bot)
    bot.telegram.clear()

    await bot.press(COMMITTEE, pack("sug", "reply", item.id or 0), chat=GROUP)
    await bot.say(COMMITTEE, "/menu", chat=GROUP)
    await bot.press(COMMITTEE, pack("menu", "mine"), chat=GROUP)
    await bot.say(COMMITTEE, "大家下午开会吗？", chat=GROUP)  # chat in the group is not a reply
    await bot.write(COMMITTEE, FIRST_REPLY)

    assert reached(bot, FIRST_REPLY) == {COMMITTEE.id, AUTHOR.id}
    assert [e.body for e in await entries_of(bot, item)] == [FIRST_REPLY]
    assert reached(bot, "下午开会") == set()
    assert not notices(bot, COMMITTEE.id, LEFT)


# ---- (6) a committee role removed -----------------------------------------------------------


async def revoke_committee(bot: BotHarness, member: Member) -> None:
    """The chair removes the committee role on the member's card; the member is told."""
    await bot.press(CHAIR, pack("mem", "revoke", member.id or 0, "committee"))
    assert member.telegram_user_id is not None
    assert ROLE_LOST in bot.telegram.last(member.telegram_user_id).text


async def test_a_former_committee_members_private_card_copy_is_no_longer_edited(
    bot: BotHarness,
) -> None:
    school = await setup_school(bot)
    case = await file_aid(bot, REQUESTER, SICK_STORY)
    await bot.press(SECOND, pack("ak", "open", case.id or 0), chat=GROUP)
    private_copy = bot.telegram.last(SECOND.id)
    assert private_copy.button_data("批准").startswith("ak:yes:")
    await bot.press(COMMITTEE, pack("ak", "open", case.id or 0), chat=GROUP)
    bot.telegram.clear()

    await revoke_committee(bot, school.second)
    bot.telegram.clear()
    await bot.press(COMMITTEE, pack("ak", "yes", case.id or 0, 25000), chat=GROUP)

    assert (await reload_case(bot, case)).status == CaseStatus.APPROVED
    edited = {call.chat_id for call in bot.telegram.sent("editMessageText")}
    assert edited == {COMMITTEE_GROUP_ID, COMMITTEE.id}
    assert [call for call in bot.telegram.calls if call.chat_id == SECOND.id] == []
    async with bot.db() as session:
        copies = await cards_for(session, kind="aid", item_id=case.id or 0)
    assert sorted(card.chat_id for card in copies) == sorted([COMMITTEE_GROUP_ID, COMMITTEE.id])


async def test_the_answer_to_a_former_committee_members_question_does_not_reach_them(
    bot: BotHarness,
) -> None:
    school = await setup_school(bot)
    case = await file_aid(bot, REQUESTER, SICK_STORY)
    await bot.press(SECOND, pack("ak", "ask", case.id or 0), chat=GROUP)
    await bot.write(SECOND, QUESTION)
    assert QUESTION in bot.telegram.last(REQUESTER.id).text
    await revoke_committee(bot, school.second)
    bot.telegram.clear()

    answer = "诊断书明天拍照补上，住院科室是市精神卫生中心二病区。"
    await bot.press(REQUESTER, pack("ad", "info", case.id or 0))
    await bot.write(REQUESTER, answer)

    ledger = await ledger_of(bot, case)
    assert (ledger[-1].kind, ledger[-1].note) == (LedgerKind.INFO_GIVEN, answer)
    assert reached(bot, answer) == {REQUESTER.id}
    assert bot.telegram.calls and all(call.chat_id != SECOND.id for call in bot.telegram.calls)
    assert not [t for t in bot.telegram.texts(COMMITTEE_GROUP_ID) if "精神卫生" in t]


async def test_a_pending_reply_ends_when_the_role_is_removed(bot: BotHarness) -> None:
    school = await setup_school(bot)
    item = await anonymous_item(bot)
    await bot.press(SECOND, pack("sug", "reply", item.id or 0), chat=GROUP)
    bot.telegram.clear()

    await revoke_committee(bot, school.second)
    await bot.say(SECOND, "这件事我来回复：食堂下周整改。")

    assert await entries_of(bot, item) == []
    assert bot.telegram.texts(AUTHOR.id) == []
    assert reached(bot, "食堂下周整改") == set()
    assert NOT_UNDERSTOOD in bot.telegram.texts(SECOND.id)[-2]


async def test_a_reply_shown_back_is_not_sent_after_the_role_is_removed(bot: BotHarness) -> None:
    school = await setup_school(bot)
    item = await anonymous_item(bot)
    await bot.press(SECOND, pack("sug", "reply", item.id or 0), chat=GROUP)
    await bot.say(SECOND, "这件事我来回复：食堂下周整改。")
    assert CHECK_BEFORE_SENDING in bot.telegram.last(SECOND.id).text
    bot.telegram.clear()

    await revoke_committee(bot, school.second)
    await bot.press(SECOND, SEND)

    assert await entries_of(bot, item) == []
    assert bot.telegram.texts(AUTHOR.id) == []
    assert reached(bot, "食堂下周整改") == set()
    assert (await stored_item(bot, item)).status == SuggestionStatus.OPEN


async def test_removing_the_role_leaves_the_persons_own_suggestion_form_alone(
    bot: BotHarness,
) -> None:
    school = await setup_school(bot)
    await to_suggestion_body(bot, SECOND)
    await revoke_committee(bot, school.second)

    await bot.say(SECOND, "教师休息室的饮水机坏了。")
    await bot.press(SECOND, pack("sgf", "photos", "done"))
    await bot.press(SECOND, pack("sgf", "anon", "named"))
    await bot.press(SECOND, pack("sgf", "confirm", "yes"))

    async with bot.db() as session:
        items = (await session.exec(select(Suggestion))).all()
    assert [item.body for item in items] == ["教师休息室的饮水机坏了。"]


# ---- idle forms -----------------------------------------------------------------------------


async def test_a_member_form_expires_after_the_member_idle_hours(bot: BotHarness) -> None:
    await setup_school(bot)
    clock = Clock()
    use_clock(bot, clock)
    await to_aid_description(bot, AUTHOR)
    hours = bot.app.state.settings.member_form_idle_hours
    clock.advance(hours=hours, minutes=1)
    bot.telegram.clear()

    await bot.say(AUTHOR, SICK_STORY)
    await bot.say(AUTHOR, "昨天")

    texts = bot.telegram.texts(AUTHOR.id)
    assert AID_LABEL in texts[0] and EXPIRED in texts[0]
    assert NOT_UNDERSTOOD in texts[1] and len(texts) == 3
    assert len([t for t in texts if EXPIRED in t]) == 1
    assert reached(bot, SICK_STORY) == set()
    async with bot.db() as session:
        assert (await session.exec(select(AidCase))).all() == []


async def test_a_member_form_goes_on_within_the_member_idle_hours(bot: BotHarness) -> None:
    await setup_school(bot)
    clock = Clock()
    use_clock(bot, clock)
    await to_aid_description(bot, AUTHOR)
    clock.advance(hours=bot.app.state.settings.member_form_idle_hours, minutes=-1)

    await bot.say(AUTHOR, SICK_STORY)
    await finish_aid(bot, AUTHOR)

    assert not [t for t in bot.telegram.texts(AUTHOR.id) if EXPIRED in t]
    async with bot.db() as session:
        cases = (await session.exec(select(AidCase))).all()
    assert [case.description for case in cases] == [SICK_STORY]


async def test_a_committee_prompt_expires_after_the_committee_idle_minutes(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    clock = Clock()
    use_clock(bot, clock)
    item = await anonymous_item(bot)
    case = await file_aid(bot, REQUESTER, SICK_STORY)
    await bot.press(COMMITTEE, pack("ak", "ask", case.id or 0), chat=GROUP)
    await bot.say(COMMITTEE, QUESTION)  # shown back, not sent yet
    await bot.press(SECOND, pack("sug", "reply", item.id or 0), chat=GROUP)  # nothing typed
    clock.advance(minutes=bot.app.state.settings.committee_form_idle_minutes + 1)
    bot.telegram.clear()

    await bot.press(COMMITTEE, SEND)
    await bot.say(SECOND, FIRST_REPLY)
    await bot.say(SECOND, "再说一遍")

    assert reached(bot, QUESTION) == set()
    assert reached(bot, FIRST_REPLY) == set()
    assert bot.telegram.texts(REQUESTER.id) == [] and bot.telegram.texts(AUTHOR.id) == []
    assert [t for t in bot.telegram.texts(COMMITTEE.id) if EXPIRED in t] == [
        f"「{DESK_TEXT_LABEL}」" + EXPIRED + "。需要的话请重新开始。"
    ]
    second = bot.telegram.texts(SECOND.id)
    assert REPLY_LABEL in second[0] and EXPIRED in second[0]
    assert NOT_UNDERSTOOD in second[1] and len(second) == 3
    assert await entries_of(bot, item) == []
    assert (await reload_case(bot, case)).status == CaseStatus.OPEN


async def test_a_member_form_outlives_the_committee_idle_minutes(bot: BotHarness) -> None:
    await setup_school(bot)
    clock = Clock()
    use_clock(bot, clock)
    item = await anonymous_item(bot)
    await reply_to(bot, COMMITTEE, item, FIRST_REPLY)
    await bot.press(AUTHOR, pack("sga", "more", item.id or 0))
    clock.advance(minutes=bot.app.state.settings.committee_form_idle_minutes * 3)

    await bot.write(AUTHOR, "减盐后还是很咸，能否请食堂公示用盐量？")

    entries = await entries_of(bot, item)
    assert [(e.kind, e.body) for e in entries][-1] == (
        EntryKind.FOLLOWUP,
        "减盐后还是很咸，能否请食堂公示用盐量？",
    )
    assert reached(bot, "公示用盐量") == {AUTHOR.id, COMMITTEE_GROUP_ID}


# ---- restarts -------------------------------------------------------------------------------


async def test_a_reply_shown_back_survives_a_restart(settings: Settings) -> None:
    clock = Clock()
    async with running_app(settings) as bot:
        use_clock(bot, clock)
        await setup_school(bot)
        item = await anonymous_item(bot)
        await bot.press(COMMITTEE, pack("sug", "reply", item.id or 0), chat=GROUP)
        await bot.say(COMMITTEE, FIRST_REPLY)
    clock.advance(minutes=settings.committee_form_idle_minutes - 1)
    async with running_app(settings) as bot:
        use_clock(bot, clock)
        await bot.press(COMMITTEE, SEND)

        assert reached(bot, FIRST_REPLY) == {AUTHOR.id}
        assert REPLY_SENT in bot.telegram.last(COMMITTEE.id).text
        assert [e.body for e in await entries_of(bot, item)] == [FIRST_REPLY]


async def test_a_member_form_goes_on_after_a_restart(settings: Settings) -> None:
    clock = Clock()
    async with running_app(settings) as bot:
        use_clock(bot, clock)
        await setup_school(bot)
        await to_aid_description(bot, AUTHOR)
    clock.advance(hours=settings.member_form_idle_hours - 1)
    async with running_app(settings) as bot:
        use_clock(bot, clock)
        await bot.say(AUTHOR, SICK_STORY)
        await finish_aid(bot, AUTHOR)

        assert not [t for t in bot.telegram.texts(AUTHOR.id) if EXPIRED in t]
        async with bot.db() as session:
            cases = (await session.exec(select(AidCase))).all()
        assert [case.description for case in cases] == [SICK_STORY]


async def test_a_form_that_expired_while_the_bot_was_down_says_so(settings: Settings) -> None:
    clock = Clock()
    async with running_app(settings) as bot:
        use_clock(bot, clock)
        await setup_school(bot)
        item = await anonymous_item(bot)
        await bot.press(COMMITTEE, pack("sug", "reply", item.id or 0), chat=GROUP)
        await bot.say(COMMITTEE, FIRST_REPLY)
        await to_aid_description(bot, REQUESTER)
    clock.advance(hours=settings.member_form_idle_hours, minutes=1)
    async with running_app(settings) as bot:
        use_clock(bot, clock)
        await bot.press(COMMITTEE, SEND)
        await bot.say(REQUESTER, SICK_STORY)

        assert reached(bot, FIRST_REPLY) == set()
        assert reached(bot, SICK_STORY) == set()
        assert len(expired(bot, COMMITTEE.id, REPLY_LABEL)) == 1
        assert len(notices(bot, COMMITTEE.id, EXPIRED)) == 1
        assert len(expired(bot, REQUESTER.id, AID_LABEL)) == 1
        assert len(notices(bot, REQUESTER.id, EXPIRED)) == 1
        assert await entries_of(bot, item) == []
        async with bot.db() as session:
            assert (await session.exec(select(AidCase))).all() == []
