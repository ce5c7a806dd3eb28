"""Proposals as members live them, through the real application: each person in their own
language at every step, similar-proposal hints, /mine with withdrawing, the main menu, filing
outside a window, and a long proposal on the desk."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import col, select

from bot.callback import pack
from models.members import Member, Role
from models.proposals import ProposalRating, ProposalSigner, ProposalStatus
from tests.support.factories import make_member
from tests.support.fake_telegram import Call
from tests.support.harness import COMMITTEE_GROUP_ID, BotHarness
from tests.support.proposals import (
    COMMITTEE,
    GROUP,
    HANDLER,
    OUTSIDER,
    PROPOSER,
    SIGNER_A,
    SIGNER_B,
    card,
    file_and_submit,
    proposals,
    reload,
    setup_congress,
    today,
    write_proposal,
)
from tests.support.updates import Person

SESSION = "第八届教代会第一次会议"
CANTEEN = "建议食堂延长晚餐供应时间"
CANTEEN_ALIKE = "食堂晚餐供应时间延长的建议"
CHECKUP = "增加教师体检项目"
TELEGRAM_LIMIT = 4096


# ---- helpers -----------------------------------------------------------------------------


def mark(bot: BotHarness) -> int:
    """A point in the recorded calls; `received` returns what came after it."""
    return len(bot.telegram.calls)


def received(bot: BotHarness, person: Person | int, since: int = 0) -> list[Call]:
    """Messages sent to a person's private chat (or any chat id) after `since`."""
    chat_id = person if isinstance(person, int) else person.id
    return [
        call
        for call in bot.telegram.calls[since:]
        if call.method == "sendMessage" and call.chat_id == chat_id
    ]


def texts(bot: BotHarness, person: Person | int, since: int = 0) -> list[str]:
    """Texts of the messages sent to a chat after `since`."""
    return [call.text for call in received(bot, person, since)]


def labels(call: Call) -> list[str]:
    """The button labels of a message."""
    return [label for label, _ in call.buttons()]


def last_text(bot: BotHarness, person: Person) -> str:
    """The text of the latest message to a person."""
    return bot.telegram.last(person.id).text


async def cosign_by_command(bot: BotHarness, person: Person, proposal_id: int | None) -> None:
    """`person` sends /cosign N and presses the Co-sign button."""
    await bot.say(person, f"/cosign {proposal_id}")
    await bot.press(person, pack("pp", "cosign", proposal_id or 0))


async def file_suggestion(bot: BotHarness, person: Person, body: str) -> None:
    """Walk /suggest with the first category, named, and confirm."""
    await bot.say(person, "/suggest")
    await bot.press(person, bot.telegram.last(person.id).buttons()[0][1])
    await bot.say(person, body)
    await bot.press(person, pack("sgf", "photos", "done"))
    await bot.press(person, pack("sgf", "anon", "named"))
    await bot.press(person, pack("sgf", "confirm", "yes"))


# ---- 1. three languages ------------------------------------------------------------------


async def test_three_languages_through_the_whole_cycle(bot: BotHarness) -> None:
    school = await setup_congress(bot, languages=("zh-Hant", "en", "zh-Hans"))
    title = "建議食堂延長晚餐供應時間"
    closes = school.congress.closes_on.isoformat()

    # The proposer walks /propose in Traditional Chinese.
    await bot.say(PROPOSER, "/propose")
    opening = last_text(bot, PROPOSER)
    assert f"「{SESSION}」正在徵集提案，截止 {closes}，每份需要 2 位附議人。" in opening
    assert "【案由】用一句話寫提案的題目（不超過 60 字）" in opening
    await bot.say(PROPOSER, title)
    assert "【理由】為什麼提這個？現狀和問題是什麼？" in last_text(bot, PROPOSER)
    await bot.say(PROPOSER, "晚自習老師下班晚，食堂六點就關門。")
    assert "【建議措施】怎麼解決？" in last_text(bot, PROPOSER)
    await bot.say(PROPOSER, "晚餐供應延長到七點。")
    ask = bot.telegram.last(PROPOSER.id)
    assert "這份提案屬於哪一類？" in ask.text
    assert labels(ask) == ["教育教學", "學校管理", "福利待遇", "後勤保障", "其他"]
    await bot.press(PROPOSER, ask.button_data("福利待遇"))
    preview = bot.telegram.last(PROPOSER.id)
    assert "請確認您的提案：" in preview.text
    assert f"案由：{title}" in preview.text and "類別：福利待遇" in preview.text
    assert labels(preview) == ["✅ 確認提交", "✏️ 修改某項", "取消"]
    await bot.press(PROPOSER, preview.button_data("確認提交"))
    (draft,) = await proposals(bot)
    pid = draft.id or 0
    assert draft.status == ProposalStatus.COSIGNING
    receipt = last_text(bot, PROPOSER)
    assert f"✅ 已儲存為提案草稿 #{pid}「{title}」。還需要 2 位附議人" in receipt
    assert f"或請他們發送 /cosign {pid}" in receipt

    # Signer A (English) comes by the link.
    await bot.say(SIGNER_A, f"/start cosign-{pid}")
    invite = bot.telegram.last(SIGNER_A.id)
    assert f"Draft proposal #{pid} “{title}” asks for your co-signature (0 of 2 so far)" in (
        invite.text
    )
    assert "Category: Pay and welfare" in invite.text and "[Reasons]" in invite.text
    assert labels(invite) == ["✍️ Co-sign"]
    await bot.press(SIGNER_A, invite.button_data("Co-sign"))
    assert bot.telegram.answers()[-1].text == "Co-signed"
    assert f"You co-signed Draft proposal #{pid} “{title}” (1/2). Thank you!" in last_text(
        bot, SIGNER_A
    )
    assert f"✍️ 赵老师附議了提案草稿 #{pid}「{title}」（1/2）。" in last_text(bot, PROPOSER)

    # Signer B (Simplified) by /cosign: the proposal is submitted.
    await bot.say(SIGNER_B, f"/cosign {pid}")
    invite = bot.telegram.last(SIGNER_B.id)
    assert "邀请您附议（已有 1 人附议，需要 2 人）" in invite.text
    assert labels(invite) == ["✍️ 附议"]
    since = mark(bot)
    await bot.press(SIGNER_B, invite.button_data("附议"))
    assert (await reload(bot, pid)).number == 1
    assert texts(bot, SIGNER_B, since) == [
        f"已附议提案第1号「{title}」（2/2）。谢谢！",
        f"🏛 提案第1号「{title}」已提交教代会提案工作委员会审查。",
    ]
    assert texts(bot, PROPOSER, since) == [
        f"🏛 提案第1號「{title}」已提交教代會提案工作委員會審查。"
    ]
    assert texts(bot, SIGNER_A, since) == [
        f"🏛 Proposal No. 1 “{title}” has been submitted to the congress proposals committee"
        " for review."
    ]

    # The committee's card speaks the default language (Simplified).
    desk = card(bot)
    assert f"🏛 提案第1号「{title}」\n{SESSION}" in desk.text
    assert re.search(r"提案人：王老师（#\d+，数学组）", desk.text)
    assert re.search(r"附议人：赵老师（#\d+，语文组）、孙老师（#\d+，英语组）", desk.text)
    assert "类别：福利待遇" in desk.text and "状态：已提交，待审查" in desk.text
    assert labels(desk) == ["✅ 立案", "↪️ 转为意见建议", "✖️ 不立案（附理由）", "🔗 合并到…"]

    # A duplicate by signer A, merged into the first: A and B become co-authors and rate too.
    await write_proposal(bot, SIGNER_A, title="晚餐时间太早的问题")
    duplicate = (await proposals(bot))[-1]
    for person in (PROPOSER, SIGNER_B):
        await cosign_by_command(bot, person, duplicate.id)
    assert (await reload(bot, duplicate.id)).number == 2
    since = mark(bot)
    await bot.press(COMMITTEE, pack("pd", "merge", duplicate.id or 0), chat=GROUP)
    await bot.press(COMMITTEE, pack("pd", "mrg", duplicate.id or 0, pid), chat=GROUP)
    assert (await reload(bot, duplicate.id)).status == ProposalStatus.MERGED
    assert "您是它的聯名提案人" in texts(bot, PROPOSER, since)[-1]
    assert f"was merged into Proposal No. 1 “{title}”" in texts(bot, SIGNER_A, since)[-1]
    assert "您是它的联名提案人" in texts(bot, SIGNER_B, since)[-1]

    # 立案.
    since = mark(bot)
    await bot.press(COMMITTEE, pack("pd", "file", pid), chat=GROUP)
    await bot.press(COMMITTEE, pack("pd", "fileok", pid), chat=GROUP)
    assert (await reload(bot, pid)).status == ProposalStatus.FILED
    assert texts(bot, PROPOSER, since) == [
        f"✅ 提案第1號「{title}」已立案，接下來會交承辦部門辦理。"
    ]
    assert texts(bot, SIGNER_A, since) == [
        f"✅ Proposal No. 1 “{title}” was filed; it will be assigned to a department."
    ]
    assert texts(bot, SIGNER_B, since) == [
        f"✅ 提案第1号「{title}」已立案，接下来会交承办部门办理。"
    ]
    edited = bot.telegram.last(COMMITTEE_GROUP_ID, method="editMessageText")
    assert "状态：已立案，待交办" in edited.text

    # Assignment to 总务处.
    since = mark(bot)
    await bot.press(COMMITTEE, pack("pd", "asg", pid), chat=GROUP)
    await bot.press(COMMITTEE, pack("pd", "lead", pid, school.logistics.id or 0), chat=GROUP)
    await bot.press(COMMITTEE, pack("pd", "asgok", pid), chat=GROUP)
    assigned = await reload(bot, pid)
    assert assigned.status == ProposalStatus.ASSIGNED and assigned.reply_due is not None
    due = assigned.reply_due.isoformat()
    assert texts(bot, PROPOSER, since) == [
        f"🏢 提案第1號「{title}」已交由总务处主辦，答覆期限 {due}。"
    ]
    assert texts(bot, SIGNER_A, since) == [
        f"🏢 Proposal No. 1 “{title}” is assigned to 总务处; the answer is due by {due}."
    ]
    assert texts(bot, SIGNER_B, since) == [
        f"🏢 提案第1号「{title}」已交由总务处主办，答复期限 {due}。"
    ]
    to_handler = bot.telegram.last(HANDLER.id)
    assert "交由总务处主办（第 1 轮）" in to_handler.text
    assert labels(to_handler) == ["✍️ 答复"]

    # The answer reaches every author with rating buttons in their language.
    since = mark(bot)
    await bot.press(HANDLER, to_handler.button_data("答复"))
    await bot.press(HANDLER, bot.telegram.last(HANDLER.id).button_data("已落实"))
    await bot.write(HANDLER, "已与食堂协商，下周起晚餐供应到七点。")
    assert (await reload(bot, pid)).status == ProposalStatus.ANSWERED
    (to_proposer,) = received(bot, PROPOSER, since)
    (to_a,) = received(bot, SIGNER_A, since)
    (to_b,) = received(bot, SIGNER_B, since)
    assert to_proposer.text.startswith(f"📬 提案第1號「{title}」收到第 1 輪答覆：")
    assert labels(to_proposer) == ["滿意", "基本滿意", "不滿意"]
    assert to_a.text.startswith(f"📬 Proposal No. 1 “{title}” has an answer (round 1):")
    assert labels(to_a) == ["Satisfied", "Basically satisfied", "Dissatisfied"]
    assert to_b.text.startswith(f"📬 提案第1号「{title}」收到第 1 轮答复：")
    assert labels(to_b) == ["满意", "基本满意", "不满意"]
    # The answer's 落实情况, in each reader's language.
    assert to_proposer.text.endswith("落實情況：已落實")
    assert to_a.text.endswith("Implementation: Implemented")
    assert to_b.text.endswith("落实情况：已落实")
    for message in (to_proposer, to_a, to_b):
        assert "下周起晚餐供应到七点" in message.text
        assert [data for _, data in message.buttons()] == [
            pack("pr", "rate", pid, rating) for rating in ("s", "b", "d")
        ]

    # Co-authors' ratings are recorded; the proposer's closes it.
    await bot.press(SIGNER_A, to_a.button_data("Basically"))
    assert bot.telegram.answers()[-1].text == "Rated"
    assert f"your rating of Proposal No. 1 “{title}” is recorded" in last_text(bot, SIGNER_A)
    await bot.press(SIGNER_B, to_b.button_data("满意"))
    assert f"谢谢，您对提案第1号「{title}」的评价已记录。" in last_text(bot, SIGNER_B)
    assert (await reload(bot, pid)).status == ProposalStatus.ANSWERED
    await bot.press(PROPOSER, to_proposer.button_data("滿意"))
    assert bot.telegram.answers()[-1].text == "已評價"
    assert f"謝謝評價，提案第1號「{title}」已辦結。" in last_text(bot, PROPOSER)
    assert (await reload(bot, pid)).status == ProposalStatus.CLOSED
    async with bot.db() as session:
        rated = (
            await session.exec(
                select(Member.telegram_user_id, ProposalRating.rating).join(
                    Member, col(Member.id) == ProposalRating.member_id
                )
            )
        ).all()
    assert dict(rated) == {SIGNER_A.id: "basic", SIGNER_B.id: "satisfied", PROPOSER.id: "satisfied"}
    group = texts(bot, COMMITTEE_GROUP_ID)
    assert f"💬 赵老师评价提案第1号「{title}」：基本满意" in group
    # The card names each rater with number and department, outside the round's brackets.
    rated_card = bot.telegram.last(COMMITTEE_GROUP_ID, method="editMessageText").text
    assert "（#" in rated_card and "）的评价（第 1 轮）：满意" in rated_card
    assert "轮，" not in rated_card


async def test_not_filed_reason_reaches_each_person_in_their_language(bot: BotHarness) -> None:
    await setup_congress(bot, languages=("zh-Hant", "en", "zh-Hans"))
    proposal = await file_and_submit(bot)
    pid = proposal.id or 0

    await bot.press(COMMITTEE, pack("pd", "nofile", pid), chat=GROUP)
    assert f"请写提案第1号「{CANTEEN}」不立案的理由" in last_text(bot, COMMITTEE)
    since = mark(bot)
    await bot.write(COMMITTEE, "属于个人诉求，请走意见箱。")

    assert (await reload(bot, pid)).status == ProposalStatus.NOT_FILED
    reason = "属于个人诉求，请走意见箱。"
    assert texts(bot, PROPOSER, since) == [f"提案第1號「{CANTEEN}」未予立案。理由：{reason}"]
    assert texts(bot, SIGNER_A, since) == [
        f"Proposal No. 1 “{CANTEEN}” was not filed. Reason: {reason}"
    ]
    assert texts(bot, SIGNER_B, since) == [f"提案第1号「{CANTEEN}」未予立案。理由：{reason}"]
    assert "状态：不立案" in bot.telegram.last(COMMITTEE_GROUP_ID, method="editMessageText").text


async def test_an_english_member_walks_propose_in_english(bot: BotHarness) -> None:
    school = await setup_congress(bot, languages=("en", "zh-Hans", "zh-Hans"))
    closes = school.congress.closes_on.isoformat()
    title = "Longer library hours"

    await bot.say(PROPOSER, "/propose")
    opening = last_text(bot, PROPOSER)
    assert f"“{SESSION}” is collecting proposals until {closes}; each needs 2 co-signers." in (
        opening
    )
    assert "[Subject] The proposal's title in one line (up to 60 characters)" in opening
    await bot.say(PROPOSER, title)
    assert "[Reasons] Why? What is the situation and the problem?" in last_text(bot, PROPOSER)
    await bot.say(PROPOSER, "The library closes at five, before most teachers are free.")
    assert "[Proposed measures] What should be done?" in last_text(bot, PROPOSER)
    await bot.say(PROPOSER, "Open it until seven on weekdays.")
    ask = bot.telegram.last(PROPOSER.id)
    assert ask.text == "Which category is this proposal?"
    assert labels(ask) == [
        "Teaching",
        "School management",
        "Pay and welfare",
        "Facilities and services",
        "Other",
    ]
    await bot.press(PROPOSER, ask.button_data("Facilities"))
    preview = bot.telegram.last(PROPOSER.id)
    assert preview.text.startswith("Please check your proposal:")
    assert f"Subject: {title}" in preview.text
    assert "Category: Facilities and services" in preview.text
    assert labels(preview) == ["✅ Confirm and send", "✏️ Edit a field", "Cancel"]
    await bot.press(PROPOSER, preview.button_data("Confirm"))

    (stored,) = await proposals(bot)
    assert stored.title == title and stored.category == "facilities"
    receipt = last_text(bot, PROPOSER)
    assert f"✅ Saved as Draft proposal #{stored.id} “{title}”. It needs 2 co-signers" in receipt
    assert f"or ask them to send /cosign {stored.id}" in receipt

    # A Chinese co-signer; the English proposer hears of it in English.
    await cosign_by_command(bot, SIGNER_A, stored.id)
    assert f"✍️ 赵老师 co-signed Draft proposal #{stored.id} “{title}” (1/2)." in last_text(
        bot, PROPOSER
    )

    # Cancelling at the preview stores nothing, and says so in English.
    await write_proposal(bot, title="Another idea", confirm=False)
    await bot.press(PROPOSER, pack("pp", "confirm", "cancel"))
    assert last_text(bot, PROPOSER) == "Cancelled; the proposal was not saved."
    assert len(await proposals(bot)) == 1


# ---- 2. similar proposals ----------------------------------------------------------------


async def test_a_similar_title_offers_to_cosign_instead(bot: BotHarness) -> None:
    await setup_congress(bot)
    await write_proposal(bot, title=CANTEEN)
    (first,) = await proposals(bot)
    assert first.status == ProposalStatus.COSIGNING

    await bot.say(SIGNER_A, "/propose")
    await bot.say(SIGNER_A, CANTEEN_ALIKE)
    hint = bot.telegram.last(SIGNER_A.id)
    assert "本次会议已有相似的提案" in hint.text
    assert f"• 提案草稿 #{first.id}「{CANTEEN}」 · 征集附议中" in hint.text
    assert hint.buttons() == [
        (f"改为附议 #{first.id}", pack("pp", "sim", first.id or 0)),
        ("继续写我的提案", pack("pp", "sim", "mine")),
    ]

    await bot.press(SIGNER_A, hint.button_data(f"改为附议 #{first.id}"))
    invite = bot.telegram.last(SIGNER_A.id)
    assert f"提案草稿 #{first.id}「{CANTEEN}」邀请您附议（已有 0 人附议，需要 2 人）" in (
        invite.text
    )
    assert invite.button_data("附议") == pack("pp", "cosign", first.id or 0)
    assert len(await proposals(bot)) == 1

    # The filing is over: typed text is not taken as reasons.
    await bot.say(SIGNER_A, "晚自习老师下班晚。")
    assert "【建议措施】" not in last_text(bot, SIGNER_A)
    assert len(await proposals(bot)) == 1

    # Co-signing from the invitation works.
    await bot.press(SIGNER_A, invite.button_data("附议"))
    async with bot.db() as session:
        signers = (await session.exec(select(ProposalSigner))).all()
    assert [(s.proposal_id, s.member_id) for s in signers] == [(first.id, signers[0].member_id)]
    assert "赵老师附议了" in last_text(bot, PROPOSER)


async def test_continuing_past_the_hint_goes_on_to_the_reasons(bot: BotHarness) -> None:
    await setup_congress(bot)
    await write_proposal(bot, title=CANTEEN)

    await bot.say(SIGNER_B, "/propose")
    await bot.say(SIGNER_B, CANTEEN_ALIKE)
    await bot.press(SIGNER_B, bot.telegram.last(SIGNER_B.id).button_data("继续写我的提案"))
    assert "【理由】为什么提这个？" in last_text(bot, SIGNER_B)
    await bot.say(SIGNER_B, "六点太早。")
    await bot.say(SIGNER_B, "延长到七点。")
    await bot.press(SIGNER_B, pack("pp", "cat", "welfare"))
    await bot.press(SIGNER_B, pack("pp", "confirm", "yes"))

    stored = await proposals(bot)
    assert [p.title for p in stored] == [CANTEEN, CANTEEN_ALIKE]
    assert stored[1].status == ProposalStatus.COSIGNING


async def test_an_unrelated_title_shows_no_hint(bot: BotHarness) -> None:
    await setup_congress(bot)
    await write_proposal(bot, title=CANTEEN)

    await bot.say(SIGNER_A, "/propose")
    await bot.say(SIGNER_A, CHECKUP)
    prompt = bot.telegram.last(SIGNER_A.id)
    assert "相似的提案" not in prompt.text
    assert "【理由】为什么提这个？" in prompt.text
    assert prompt.buttons() == []


# ---- 3. /mine ----------------------------------------------------------------------------


async def test_mine_with_nothing_says_so(bot: BotHarness) -> None:
    await setup_congress(bot)
    await write_proposal(bot)  # someone else's proposal is not "mine"

    for person in (SIGNER_B, OUTSIDER):
        since = mark(bot)
        await bot.say(person, "/mine")
        assert texts(bot, person, since) == ["您还没有提交过意见建议。发送 /suggest 提一条吧。"]


async def test_mine_lists_own_and_cosigned_proposals_and_withdraws(bot: BotHarness) -> None:
    await setup_congress(bot)
    await write_proposal(bot, title=CANTEEN)
    cosigning = (await proposals(bot))[-1]
    submitted = await file_and_submit(bot, title="改善教师办公室通风条件")
    filed = await file_and_submit(bot, title=CHECKUP)
    await bot.press(COMMITTEE, pack("pd", "file", filed.id or 0), chat=GROUP)
    await bot.press(COMMITTEE, pack("pd", "fileok", filed.id or 0), chat=GROUP)
    await write_proposal(bot, SIGNER_A, title="周末开放学校图书馆")
    theirs = (await proposals(bot))[-1]
    for person in (PROPOSER, SIGNER_B):
        await cosign_by_command(bot, person, theirs.id)
    assert (await reload(bot, theirs.id)).status == ProposalStatus.SUBMITTED

    since = mark(bot)
    await bot.say(PROPOSER, "/mine")
    (mine,) = received(bot, PROPOSER, since)
    lines = mine.text.split("\n")
    assert lines[0] == "🏛 我的提案和附议："
    assert sorted(lines[1:]) == sorted(
        [
            f"• 提案草稿 #{cosigning.id}「{CANTEEN}」 · 征集附议中 (我提的)",
            "• 提案第1号「改善教师办公室通风条件」 · 已提交，待审查 (我提的)",
            f"• 提案第2号「{CHECKUP}」 · 已立案，待交办 (我提的)",
            "• 提案第3号「周末开放学校图书馆」 · 已提交，待审查 (我附议)",
        ]
    )
    assert sorted(mine.buttons()) == sorted(
        [
            (f"撤回 #{cosigning.id}", pack("pp", "wd", cosigning.id or 0)),
            (f"撤回 #{submitted.id}", pack("pp", "wd", submitted.id or 0)),
        ]
    )

    # Keep it first.
    await bot.press(PROPOSER, mine.button_data(f"撤回 #{submitted.id}"))
    ask = bot.telegram.last(PROPOSER.id)
    assert ask.text == "确定撤回提案第1号「改善教师办公室通风条件」吗？附议人会收到通知。"
    assert labels(ask) == ["确认撤回", "不撤回"]
    await bot.press(PROPOSER, ask.button_data("不撤回"))
    assert bot.telegram.answers()[-1].text == "好的，没有撤回。"
    assert (await reload(bot, submitted.id)).status == ProposalStatus.SUBMITTED

    # Then withdraw it: co-signers and the desk are told.
    await bot.press(PROPOSER, mine.button_data(f"撤回 #{submitted.id}"))
    since = mark(bot)
    await bot.press(PROPOSER, bot.telegram.last(PROPOSER.id).button_data("确认撤回"))
    assert (await reload(bot, submitted.id)).status == ProposalStatus.WITHDRAWN
    assert texts(bot, PROPOSER, since) == ["已撤回提案第1号「改善教师办公室通风条件」。"]
    for signer in (SIGNER_A, SIGNER_B):
        assert texts(bot, signer, since) == ["↩️ 提案人撤回了提案第1号「改善教师办公室通风条件」。"]
    assert texts(bot, COMMITTEE_GROUP_ID, since) == [
        "↩️ 提案人撤回了提案第1号「改善教师办公室通风条件」。"
    ]
    edited = bot.telegram.last(COMMITTEE_GROUP_ID, method="editMessageText")
    assert "改善教师办公室通风条件" in edited.text and "状态：已撤回" in edited.text

    # A filed proposal cannot be withdrawn, even by a forged press.
    await bot.press(PROPOSER, pack("pp", "wd", filed.id or 0))
    refusal = bot.telegram.answers()[-1]
    assert "不能再撤回" in refusal.text and refusal.params.get("show_alert") is True
    assert (await reload(bot, filed.id)).status == ProposalStatus.FILED

    # /mine again: the withdrawn one shows its status and no button.
    since = mark(bot)
    await bot.say(PROPOSER, "/mine")
    (again,) = received(bot, PROPOSER, since)
    assert "• 提案第1号「改善教师办公室通风条件」 · 已撤回 (我提的)" in again.text
    assert again.buttons() == [(f"撤回 #{cosigning.id}", pack("pp", "wd", cosigning.id or 0))]


async def test_mine_shows_suggestions_and_proposals(bot: BotHarness) -> None:
    await setup_congress(bot)
    await file_and_submit(bot)
    await file_suggestion(bot, SIGNER_B, "教师停车位不够，能否在操场边划线？")

    since = mark(bot)
    await bot.say(SIGNER_B, "/mine")
    suggestions, own_proposals = texts(bot, SIGNER_B, since)
    assert suggestions.startswith("📋 我提交的意见建议：")
    assert "意-" in suggestions and "教师停车位不够" in suggestions
    assert own_proposals.startswith("🏛 我的提案和附议：")
    assert f"提案第1号「{CANTEEN}」 · 已提交，待审查 (我附议)" in own_proposals
    assert bot.telegram.last(SIGNER_B.id).buttons() == []


# ---- 4. the main menu --------------------------------------------------------------------


async def test_the_menu_offers_proposals_to_representatives_and_the_committee(
    bot: BotHarness,
) -> None:
    await setup_congress(bot)

    await bot.say(PROPOSER, "/menu")
    menu = bot.telegram.last(PROPOSER.id)
    assert "🏛 教代会提案" in labels(menu)
    assert "🏛 提案与统计" not in labels(menu)
    assert menu.button_data("教代会提案") == pack("menu", "propose")
    await bot.press(PROPOSER, menu.button_data("教代会提案"))
    opening = last_text(bot, PROPOSER)
    assert f"「{SESSION}」正在征集提案" in opening and "【案由】" in opening
    await bot.say(PROPOSER, CHECKUP)
    assert "【理由】为什么提这个？" in last_text(bot, PROPOSER)

    await bot.say(COMMITTEE, "/menu")
    committee_menu = bot.telegram.last(COMMITTEE.id)
    assert "🏛 提案与统计" in labels(committee_menu)
    await bot.press(COMMITTEE, committee_menu.button_data("提案与统计"))
    assert SESSION in last_text(bot, COMMITTEE)


# ---- 5. outside a window -----------------------------------------------------------------


async def test_outside_the_window_the_proposal_waits_as_a_draft(bot: BotHarness) -> None:
    school = await setup_congress(bot, window=False)
    opens = school.congress.opens_on
    assert opens == today(bot) + timedelta(days=5)

    since = mark(bot)
    await write_proposal(bot, title=CANTEEN)
    said = texts(bot, PROPOSER, since)
    window_next = f"现在不在征集期。「{SESSION}」将于 {opens.isoformat()} 开始征集"
    assert window_next in said[0] and "【案由】" in said[0]
    (stored,) = await proposals(bot)
    assert stored.status == ProposalStatus.DRAFT
    assert stored.session_id is None and stored.number is None
    assert said[-1].startswith(f"✅ 已保存为提案草稿 #{stored.id}「{CANTEEN}」（草稿），")
    assert window_next in said[-1]
    assert received(bot, COMMITTEE_GROUP_ID, since) == []


async def test_a_draft_waiting_for_a_window_cannot_be_cosigned_yet(bot: BotHarness) -> None:
    await setup_congress(bot, window=False)
    await write_proposal(bot, title=CANTEEN)
    (stored,) = await proposals(bot)
    assert stored.status == ProposalStatus.DRAFT

    await bot.say(SIGNER_A, f"/cosign {stored.id}")
    assert f"提案草稿 #{stored.id}「{CANTEEN}」现在不在征集附议" in last_text(bot, SIGNER_A)
    await bot.say(SIGNER_B, f"/start cosign-{stored.id}")
    assert "现在不在征集附议" in last_text(bot, SIGNER_B)


async def test_with_no_session_planned_the_prompt_says_none_is_planned(bot: BotHarness) -> None:
    await make_member(
        bot.db,
        org_id=bot.org_id,
        person=PROPOSER,
        name="王老师",
        department="数学组",
        roles=[Role.REPRESENTATIVE],
    )
    await make_member(bot.db, org_id=bot.org_id, person=OUTSIDER, name="吴老师")

    since = mark(bot)
    await write_proposal(bot, title=CHECKUP)
    said = texts(bot, PROPOSER, since)
    assert "现在不在征集期，也还没有安排下次征集。" in said[0] and "【案由】" in said[0]
    (stored,) = await proposals(bot)
    assert stored.status == ProposalStatus.DRAFT and stored.session_id is None
    assert said[-1].startswith(f"✅ 已保存为提案草稿 #{stored.id}「{CHECKUP}」（草稿），")
    assert "也还没有安排下次征集" in said[-1]

    # An ordinary member is not a representative: without a session the default rule holds.
    await bot.say(OUTSIDER, "/propose")
    assert "只有教代会代表可以提交或附议提案" in last_text(bot, OUTSIDER)


# ---- 6. a long proposal ------------------------------------------------------------------


def long_text(start: str, end: str, size: int) -> str:
    """`size` characters opening with `start` and ending with `end`."""
    filler = "晚自习老师下班晚，食堂六点就关门，很多老师吃不上热饭。"
    middle = (filler * (size // len(filler) + 1))[: size - len(start) - len(end)]
    return start + middle + end


async def test_a_long_proposal_is_clipped_on_the_card_and_follows_in_full(
    bot: BotHarness,
) -> None:
    await setup_congress(bot)
    reasons = long_text("【开头】", "【理由结尾】", 1800)
    assert len(reasons) == 1800

    since = mark(bot)
    proposal = await file_and_submit(bot, reasons=reasons)
    assert proposal.reasons == reasons

    desk, *rest = received(bot, COMMITTEE_GROUP_ID, since)
    assert "🏛 提案第1号" in desk.text and desk.buttons()
    assert reasons[:699] + "…" in desk.text
    assert "【理由结尾】" not in desk.text
    assert rest, "the full text should follow the card"
    assert "".join(call.text for call in rest).count(reasons) == 1
    for call in (desk, *rest):
        assert len(call.text) <= TELEGRAM_LIMIT


async def test_proposal_longer_than_one_message_is_split(bot: BotHarness) -> None:
    await setup_congress(bot)
    reasons = long_text("【开头】", "【理由结尾】", 2000)
    measures = long_text("【措施】", "【措施结尾】", 2000)

    since = mark(bot)
    await file_and_submit(bot, reasons=reasons, measures=measures)

    desk, *rest = received(bot, COMMITTEE_GROUP_ID, since)
    assert "【理由结尾】" not in desk.text and "【措施结尾】" not in desk.text
    assert len(rest) >= 2
    joined = "".join(call.text for call in rest)
    assert reasons in joined and measures in joined
    for call in (desk, *rest):
        assert len(call.text) <= TELEGRAM_LIMIT
