"""✏️ 修改某项 under a long form's preview (issue 16, item 7): a button per field, that field's
question only, then the preview again with everything else kept. One piece
(handlers.common.PreviewEdits) serves /newactivity, /propose, /aid and the congress opening."""

from __future__ import annotations

from datetime import timedelta

from bot.callback import pack
from handlers.common import EditField
from models.base import utcnow
from tests.support.fake_telegram import Call
from tests.support.harness import BotHarness
from tests.support.proposals import PROPOSER, proposals, setup_congress, write_proposal
from tests.test_activity_rules import COMMITTEE, TITLE, add_committee, latest_activity, local
from tests.test_aid_flows import COLLEAGUE, MEMBER, STORY, latest_case, setup_school, to_amount_step


def labels(call: Call) -> list[str]:
    return [label for label, _ in call.buttons()]


async def _to_activity_preview(bot: BotHarness) -> Call:
    """/newactivity to its preview: 体育馆, 20 seats, open until the start."""
    await bot.say(COMMITTEE, "/newactivity")
    await bot.say(COMMITTEE, TITLE)
    await bot.press(COMMITTEE, pack("ag", "cat", "sport"))
    await bot.say(COMMITTEE, local(bot, utcnow() + timedelta(days=3)))
    await bot.say(COMMITTEE, "体育馆")
    await bot.say(COMMITTEE, "20")
    await bot.press(COMMITTEE, pack("ag", "dl", "start"))
    await bot.press(COMMITTEE, pack("ag", "who", "everyone"))
    await bot.press(COMMITTEE, pack("ag", "ch", "none"))
    await bot.press(COMMITTEE, pack("ag", "fam", "0"))
    await bot.press(COMMITTEE, pack("ag", "mode", "first_come"))
    await bot.press(COMMITTEE, pack("ag", "desc", "none"))
    preview = bot.telegram.last(COMMITTEE.id)
    assert "体育馆" in preview.text
    return preview


async def test_newactivity_preview_edits_one_field_and_keeps_the_rest(bot: BotHarness) -> None:
    await add_committee(bot)
    preview = await _to_activity_preview(bot)
    assert labels(preview)[1:] == ["✏️ 修改某项", "取消"]
    assert preview.button_data("修改某项") == EditField("activity", "menu").pack()

    await bot.press(COMMITTEE, EditField("activity", "menu").pack())
    menu = bot.telegram.last(COMMITTEE.id)
    assert "请选择要修改的一项" in menu.text
    assert labels(menu) == [
        "活动名称",
        "活动类别",
        "开始时间",
        "地点",
        "名额",
        "报名截止时间",
        "报名对象",
        "可选项目",
        "可带家属人数",
        "录取方式",
        "活动说明",
        "↩️ 不修改，返回预览",
    ]

    # The place only: its question, a typo refused and asked again, then the preview.
    sent_before = len(bot.telegram.sent("sendMessage", COMMITTEE.id))
    await bot.press(COMMITTEE, menu.button_data("地点"))
    assert "地点" in bot.telegram.last(COMMITTEE.id).text
    await bot.say(COMMITTEE, "   ")
    await bot.say(COMMITTEE, "学校体育馆二楼")
    again = bot.telegram.last(COMMITTEE.id)
    assert "学校体育馆二楼" in again.text and TITLE in again.text
    assert "✏️ 修改某项" in labels(again)
    texts = [c.text for c in bot.telegram.sent("sendMessage", COMMITTEE.id)[sent_before:]]
    assert not any("名额" in text and "不限" in text for text in texts), "went on to the seats"

    # The start moves two days later; the deadline chosen "at the start" follows it.
    later = utcnow() + timedelta(days=5)
    await bot.press(COMMITTEE, EditField("activity", "menu").pack())
    await bot.press(COMMITTEE, EditField("activity", "field", 3).pack())
    await bot.say(COMMITTEE, local(bot, later))
    assert "学校体育馆二楼" in bot.telegram.last(COMMITTEE.id).text  # the preview again

    # Back without a change shows the preview again.
    await bot.press(COMMITTEE, EditField("activity", "menu").pack())
    await bot.press(COMMITTEE, EditField("activity", "back").pack())
    assert "学校体育馆二楼" in bot.telegram.last(COMMITTEE.id).text

    await bot.press(COMMITTEE, pack("ag", "ok", "yes"))
    assert "已发布" in bot.telegram.last(COMMITTEE.id).text
    activity = await latest_activity(bot)
    assert activity is not None
    assert (activity.title, activity.place, activity.capacity) == (TITLE, "学校体育馆二楼", 20)
    assert local(bot, activity.starts_at) == local(bot, later)
    assert activity.deadline == activity.starts_at


async def test_an_unknown_field_button_is_refused_and_the_preview_stays(bot: BotHarness) -> None:
    await add_committee(bot)
    await _to_activity_preview(bot)
    await bot.press(COMMITTEE, EditField("activity", "field", 40).pack())
    assert "这个按钮已失效" in str(bot.telegram.answers()[-1].params.get("text", ""))
    await bot.press(COMMITTEE, pack("ag", "ok", "yes"))
    assert "已发布" in bot.telegram.last(COMMITTEE.id).text


async def test_aid_preview_edits_the_amount_and_the_day_only(bot: BotHarness) -> None:
    await setup_school(bot)
    await to_amount_step(bot, MEMBER)
    await bot.say(MEMBER, "300")
    await bot.press(MEMBER, pack("ad", "ev", "done"))
    preview = bot.telegram.last(MEMBER.id)
    assert "¥300" in preview.text and "✏️ 修改某项" in labels(preview)

    await bot.press(MEMBER, EditField("aid", "menu").pack())
    menu = bot.telegram.last(MEMBER.id)
    assert labels(menu) == ["情况说明", "发生日期", "申请金额", "↩️ 不修改，返回预览"]
    await bot.press(MEMBER, menu.button_data("申请金额"))
    assert "申请多少钱" in bot.telegram.last(MEMBER.id).text
    await bot.say(MEMBER, "250")
    preview = bot.telegram.last(MEMBER.id)
    assert "¥250" in preview.text and "✏️ 修改某项" in labels(preview)
    assert "请发送证明材料" not in preview.text  # the evidence step was not asked again

    await bot.press(MEMBER, EditField("aid", "menu").pack())
    await bot.press(MEMBER, bot.telegram.last(MEMBER.id).button_data("发生日期"))
    await bot.say(MEMBER, "昨天")
    assert "¥250" in bot.telegram.last(MEMBER.id).text

    await bot.press(MEMBER, pack("ad", "ok", "yes"))
    case = await latest_case(bot)
    assert case.amount_asked == 25000
    assert case.happened_on == utcnow().astimezone(bot.app.state.settings.zone).date() - timedelta(
        days=1
    )


async def test_a_colleagues_report_offers_no_amount_to_edit(bot: BotHarness) -> None:
    await setup_school(bot)
    await bot.say(COLLEAGUE, "/aid")
    await bot.press(COLLEAGUE, pack("ad", "who", "other"))
    await bot.say(COLLEAGUE, "王芳")
    await bot.press(COLLEAGUE, bot.telegram.last(COLLEAGUE.id).button_data("王芳"))
    await bot.press(COLLEAGUE, pack("ad", "type", "hospital"))
    await bot.say(COLLEAGUE, STORY)
    await bot.say(COLLEAGUE, "今天")
    await bot.press(COLLEAGUE, pack("ad", "ev", "done"))
    await bot.press(COLLEAGUE, EditField("aid", "menu").pack())
    assert labels(bot.telegram.last(COLLEAGUE.id)) == [
        "情况说明",
        "发生日期",
        "↩️ 不修改，返回预览",
    ]
    await bot.press(COLLEAGUE, EditField("aid", "field", 3).pack())
    assert "这个按钮已失效" in str(bot.telegram.answers()[-1].params.get("text", ""))


async def test_a_proposal_preview_edits_the_measures_only(bot: BotHarness) -> None:
    await setup_congress(bot)
    await write_proposal(bot, confirm=False)
    await bot.press(PROPOSER, EditField("proposal", "menu").pack())
    menu = bot.telegram.last(PROPOSER.id)
    assert labels(menu) == ["案由", "理由", "建议措施", "类别", "↩️ 不修改，返回预览"]
    await bot.press(PROPOSER, menu.button_data("建议措施"))
    assert "【建议措施】" in bot.telegram.last(PROPOSER.id).text
    await bot.say(PROPOSER, "晚餐供应延长到七点半。")
    preview = bot.telegram.last(PROPOSER.id)
    assert "晚餐供应延长到七点半。" in preview.text and "✏️ 修改某项" in labels(preview)
    await bot.press(PROPOSER, pack("pp", "confirm", "yes"))
    (stored,) = await proposals(bot)
    assert stored.measures == "晚餐供应延长到七点半。"
    assert stored.reasons == "晚自习老师下班晚，食堂六点就关门。"


async def test_a_field_button_of_another_form_is_refused(bot: BotHarness) -> None:
    """A field list left over from /aid cannot re-ask a field of the /newactivity preview."""
    await add_committee(bot)
    await _to_activity_preview(bot)
    await bot.press(COMMITTEE, EditField("aid", "field", 2).pack())
    assert "这个按钮已失效" in str(bot.telegram.answers()[-1].params.get("text", ""))
    await bot.press(COMMITTEE, pack("ag", "ok", "yes"))
    activity = await latest_activity(bot)
    assert activity is not None and activity.category == "sport"  # not asked again


async def test_the_preview_pressed_for_an_edit_loses_its_buttons(bot: BotHarness) -> None:
    """An earlier preview must not confirm a draft that changed after it was shown."""
    await add_committee(bot)
    preview = await _to_activity_preview(bot)
    await bot.press(COMMITTEE, preview.button_data("修改某项"))
    [dropped] = bot.telegram.sent("editMessageReplyMarkup", COMMITTEE.id)
    assert not dropped.params.get("reply_markup")
