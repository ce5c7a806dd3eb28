"""Adding a calendar entry in chat: the steps are worded for adding (not editing, not a
broadcast), the text is asked in each language the bot speaks with "use the Simplified text"
as a button, and each member gets the text of their language or the Simplified one."""

from __future__ import annotations

from datetime import date

from sqlmodel import col, select

from bot.callback import pack
from handlers.calendar.buttons import CalendarEntryButton
from handlers.common import EditField
from models.calendar import CalendarEntry
from scheduler.calendar_jobs import recipients_for
from tests.support.factories import make_member
from tests.support.harness import BotHarness
from tests.support.updates import Person
from tests.test_calendar import runtime_of
from tests.test_calendar_chat import COLLEAGUE, COMMITTEE, TEACHER, school

HANT_READER = Person(2004, "Chan", "zh-hant")
SIMPLIFIED = "{name}老师，中秋快乐！"
TRADITIONAL = "{name}老師，中秋快樂！"


async def to_the_text_step(bot: BotHarness, kind: str = "greeting") -> list[str]:
    """/calendar → ➕ → kind (→ everyone) → date → time → title; the prompts seen on the way."""
    await school(bot)
    await make_member(
        bot.db, org_id=bot.org_id, person=HANT_READER, name="陳美玲", language="zh-Hant"
    )
    await bot.say(COMMITTEE, "/calendar")
    await bot.press(COMMITTEE, CalendarEntryButton("add", 0).pack())
    await bot.press(COMMITTEE, pack("cal", "kind", kind))
    if kind != "task":
        await bot.press(COMMITTEE, pack("cal", "aud", "everyone"))
    await bot.say(COMMITTEE, "农历8-15")
    await bot.say(COMMITTEE, "9:00")
    await bot.say(COMMITTEE, "中秋节祝福")
    return bot.telegram.texts(COMMITTEE.id)


async def added(bot: BotHarness) -> list[CalendarEntry]:
    """The entries added in chat."""
    async with bot.db() as session:
        return list(
            (
                await session.exec(
                    select(CalendarEntry).where(col(CalendarEntry.key).startswith("custom_"))
                )
            ).all()
        )


async def greetings(bot: BotHarness, entry: CalendarEntry) -> dict[int, str]:
    """What each member would receive on the next Mid-Autumn day, by chat."""
    recipients = await recipients_for(runtime_of(bot), entry, date(2027, 9, 15))
    return {item.chat_id: item.text for item in recipients}


async def test_adding_words_each_step_for_adding(bot: BotHarness) -> None:
    said = await to_the_text_step(bot)

    assert "这个项目发给谁？" in said
    assert not any("群发通知" in text for text in said)
    assert "几点发送？请输入时间，例如 08:30。" in said
    assert not any("新的发送时间" in text or "不修改" in text for text in said)
    assert said[-1] == (
        "请输入发给会员的内容（简体中文版本）。可以用 {name} 代表会员姓名、{org} 代表工会名称。"
    )
    assert bot.telegram.last(COMMITTEE.id).buttons() == []


async def test_each_language_is_asked_and_each_member_gets_their_own(bot: BotHarness) -> None:
    await to_the_text_step(bot)

    await bot.say(COMMITTEE, SIMPLIFIED)
    hant = bot.telegram.last(COMMITTEE.id)
    assert hant.text.startswith("请输入繁体中文版本（发给选用繁体中文的会员）。")
    assert [label for label, _ in hant.buttons()] == [
        "繁体中文也用简体中文版本",
        "其余语言都用简体中文版本",
    ]
    await bot.say(COMMITTEE, TRADITIONAL)
    english = bot.telegram.last(COMMITTEE.id)
    assert english.text.startswith("请输入英文版本（发给选用英文的会员）。")
    assert [label for label, _ in english.buttons()] == ["英文也用简体中文版本"]
    await bot.press(COMMITTEE, english.button_data("英文也用"))

    preview = bot.telegram.last(COMMITTEE.id)
    assert preview.text.startswith("请核对新的月历项目：\n中秋节祝福")
    assert preview.text.endswith(
        f"【简体中文版本】\n{SIMPLIFIED}\n\n【繁体中文版本】\n{TRADITIONAL}\n\n"
        "【英文版本】同简体中文版本"
    )
    await bot.press(COMMITTEE, preview.button_data("确认"))

    assert bot.telegram.last(COMMITTEE.id).text.startswith("已添加，会按时发送：\n\n中秋节祝福")
    [entry] = await added(bot)
    assert entry.messages == {"zh-Hans": SIMPLIFIED, "zh-Hant": TRADITIONAL}
    assert entry.titles == {"zh-Hans": "中秋节祝福"}
    sent = await greetings(bot, entry)
    assert sent[TEACHER.id] == "王芳老师，中秋快乐！"
    assert sent[HANT_READER.id] == "陳美玲老師，中秋快樂！"
    assert sent[COLLEAGUE.id] == "李丽老师，中秋快乐！"  # no English text: the Simplified one


async def test_the_simplified_text_for_all_is_one_press(bot: BotHarness) -> None:
    await to_the_text_step(bot)
    await bot.say(COMMITTEE, SIMPLIFIED)

    await bot.press(COMMITTEE, pack("cal", "txt", "rest"))

    preview = bot.telegram.last(COMMITTEE.id)
    assert preview.text.endswith(
        f"【简体中文版本】\n{SIMPLIFIED}\n\n【繁体中文版本】同简体中文版本\n\n"
        "【英文版本】同简体中文版本"
    )
    await bot.press(COMMITTEE, preview.button_data("确认"))
    [entry] = await added(bot)
    assert entry.messages == {"zh-Hans": SIMPLIFIED}
    assert set((await greetings(bot, entry)).values()) == {
        "刘委员老师，中秋快乐！",
        "王芳老师，中秋快乐！",
        "李丽老师，中秋快乐！",
        "赵强老师，中秋快乐！",
        "陳美玲老师，中秋快乐！",
    }


async def test_an_english_text_reaches_english_readers(bot: BotHarness) -> None:
    await to_the_text_step(bot)
    await bot.say(COMMITTEE, SIMPLIFIED)
    await bot.press(COMMITTEE, pack("cal", "txt", "same"))  # Traditional: the Simplified text

    await bot.say(COMMITTEE, "Happy Mid-Autumn Festival, {name}!")
    await bot.press(COMMITTEE, bot.telegram.last(COMMITTEE.id).button_data("确认"))

    [entry] = await added(bot)
    assert entry.messages == {"zh-Hans": SIMPLIFIED, "en": "Happy Mid-Autumn Festival, {name}!"}
    sent = await greetings(bot, entry)
    assert sent[COLLEAGUE.id] == "Happy Mid-Autumn Festival, 李丽!"
    assert sent[HANT_READER.id] == "陳美玲老师，中秋快乐！"


async def test_a_task_is_asked_once_with_its_own_placeholders(bot: BotHarness) -> None:
    said = await to_the_text_step(bot, "task")

    assert said[-1].startswith("请输入发给委员会的提醒内容。可以用 {members} 代表会员人数")
    await bot.say(COMMITTEE, "会员 {members} 人")
    preview = bot.telegram.last(COMMITTEE.id)
    assert "繁体中文" not in preview.text
    await bot.press(COMMITTEE, preview.button_data("确认"))
    [entry] = await added(bot)
    assert entry.messages == {"zh-Hans": "会员 {members} 人"}


async def test_the_main_text_cannot_be_skipped(bot: BotHarness) -> None:
    await to_the_text_step(bot)

    await bot.press(COMMITTEE, pack("cal", "txt", "rest"))

    assert bot.telegram.answers()[-1].params["show_alert"] is True
    await bot.say(COMMITTEE, SIMPLIFIED)  # still asked for the Simplified text
    assert bot.telegram.last(COMMITTEE.id).text.startswith("请输入繁体中文版本")


async def test_cancelling_an_addition_says_nothing_was_added(bot: BotHarness) -> None:
    await to_the_text_step(bot)
    await bot.say(COMMITTEE, "/cancel")
    assert bot.telegram.last(COMMITTEE.id).text == "好的，没有添加。"

    await to_the_text_step_again(bot)
    await bot.say(COMMITTEE, SIMPLIFIED)
    await bot.press(COMMITTEE, pack("cal", "txt", "rest"))
    await bot.press(COMMITTEE, bot.telegram.last(COMMITTEE.id).button_data("取消"))

    assert bot.telegram.last(COMMITTEE.id).text == "好的，没有添加。"
    assert await added(bot) == []


async def to_the_text_step_again(bot: BotHarness) -> None:
    """The same steps once more, the members being there already."""
    await bot.press(COMMITTEE, CalendarEntryButton("add", 0).pack())
    await bot.press(COMMITTEE, pack("cal", "kind", "greeting"))
    await bot.press(COMMITTEE, pack("cal", "aud", "everyone"))
    await bot.say(COMMITTEE, "农历8-15")
    await bot.say(COMMITTEE, "9:00")
    await bot.say(COMMITTEE, "中秋节祝福")


async def test_the_preview_edits_one_field_and_keeps_the_rest(bot: BotHarness) -> None:
    await to_the_text_step(bot)
    await bot.say(COMMITTEE, SIMPLIFIED)
    await bot.press(COMMITTEE, pack("cal", "txt", "rest"))
    preview = bot.telegram.last(COMMITTEE.id)
    assert [label for label, _ in preview.buttons()] == ["✅ 确认提交", "✏️ 修改某项", "取消"]

    await bot.press(COMMITTEE, EditField("calendar_new", "menu").pack())
    menu = bot.telegram.last(COMMITTEE.id)
    assert [label for label, _ in menu.buttons()] == [
        "发给谁",
        "日期",
        "发送时间",
        "名称",
        "内容（各语言）",
        "↩️ 不修改，返回预览",
    ]
    await bot.press(COMMITTEE, menu.button_data("日期"))
    await bot.say(COMMITTEE, "端午节")
    preview = bot.telegram.last(COMMITTEE.id)
    assert "中秋节祝福" in preview.text and SIMPLIFIED in preview.text  # the rest is kept

    await bot.press(COMMITTEE, EditField("calendar_new", "menu").pack())
    await bot.press(COMMITTEE, bot.telegram.last(COMMITTEE.id).button_data("内容（各语言）"))
    await bot.say(COMMITTEE, "{name}老师，端午安康！")
    await bot.say(COMMITTEE, "{name}老師，端午安康！")
    await bot.press(COMMITTEE, pack("cal", "txt", "same"))
    preview = bot.telegram.last(COMMITTEE.id)
    assert "【繁体中文版本】\n{name}老師，端午安康！" in preview.text
    assert SIMPLIFIED not in preview.text

    await bot.press(COMMITTEE, preview.button_data("确认"))
    [entry] = await added(bot)
    assert entry.rule == {"type": "offset", "base": "dragon_boat", "days": 0}
    assert entry.time_of_day == "09:00"
    assert entry.titles == {"zh-Hans": "中秋节祝福"}
    assert entry.messages == {
        "zh-Hans": "{name}老师，端午安康！",
        "zh-Hant": "{name}老師，端午安康！",
    }


async def test_a_task_preview_offers_no_audience_to_edit(bot: BotHarness) -> None:
    await to_the_text_step(bot, kind="task")
    await bot.say(COMMITTEE, "请准备年终总结。")
    await bot.press(COMMITTEE, EditField("calendar_new", "menu").pack())
    labels = [label for label, _ in bot.telegram.last(COMMITTEE.id).buttons()]
    assert "发给谁" not in labels and "日期" in labels
