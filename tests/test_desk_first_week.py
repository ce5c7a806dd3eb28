"""Issue 16, the suggestions and proposals desk: no silent close, no false promise of
anonymity, a confirmed 立案 / 转为意见建议 with who and when on the card, co-signers told every
step, and our own deep links understood when pasted as text.

Everything goes through the real application over the fake transport; assertions are on what
Telegram was asked to send and on what the database holds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, select

from bot.callback import pack
from models.members import Member
from models.proposals import Proposal, ProposalSigner, ProposalStatus
from models.suggestions import EntryKind, Suggestion, SuggestionEntry, SuggestionStatus
from tests.support import proposals as congress
from tests.support.fake_telegram import BOT_USERNAME, Call
from tests.support.harness import COMMITTEE_GROUP_ID, BotHarness
from tests.support.updates import Person
from tests.test_suggestions import (
    AUTHOR,
    AUTHOR_NAME,
    COMMITTEE,
    GROUP,
    file_item,
    only_item,
    setup_school,
)

FOLLOW_UP = "二楼的也坏了，能一起修吗？"
CLOSING_NOTE = "二楼的灯已列入下周维修计划，本事项先办结。"


def t(bot: BotHarness, key: str, **params: object) -> str:
    """A catalog text as a zh-Hans reader sees it."""
    return bot.app.state.i18n.get("zh-Hans")(key, **params)


async def answered_then_followed_up(bot: BotHarness, *, anonymous: bool) -> Suggestion:
    """An item answered by the committee, then followed up by its author."""
    await setup_school(bot)
    await file_item(bot, body="一楼走廊的灯坏了。", anonymous=anonymous)
    item = await only_item(bot)
    await bot.press(COMMITTEE, pack("sug", "reply", item.id or 0), chat=GROUP)
    await bot.write(COMMITTEE, "已报修，本周五前修好。")
    await bot.press(AUTHOR, pack("sga", "more", item.id or 0))
    await bot.write(AUTHOR, FOLLOW_UP)
    return await only_item(bot)


async def entries(bot: BotHarness, item_id: int | None) -> list[SuggestionEntry]:
    """The item's thread, oldest first."""
    async with bot.db() as session:
        rows = await session.exec(
            select(SuggestionEntry)
            .where(SuggestionEntry.suggestion_id == item_id)
            .order_by(col(SuggestionEntry.id))
        )
        return list(rows.all())


# ---- 1. closing an item with an open follow-up --------------------------------------------


async def test_closing_after_an_unanswered_follow_up_asks_for_a_note_first(
    bot: BotHarness,
) -> None:
    item = await answered_then_followed_up(bot, anonymous=False)
    assert item.status == SuggestionStatus.OPEN
    bot.telegram.clear()

    await bot.press(COMMITTEE, pack("sug", "close", item.id or 0), chat=GROUP)

    # Not closed: the presser is told why, and asked for the note in private.
    assert (await only_item(bot)).status == SuggestionStatus.OPEN
    alert = bot.telegram.answers()[-1]
    assert alert.params["text"] == t(bot, "suggestion.close_note_in_private", number=item.number)
    prompt = bot.telegram.last(COMMITTEE.id).text
    assert t(bot, "suggestion.write_closing_note", number=item.number) in prompt
    assert FOLLOW_UP in prompt  # the question the note answers
    assert bot.telegram.texts(AUTHOR.id) == []

    # The note is shown back before it leaves (Send / Edit / Cancel), then sent.
    await bot.say(COMMITTEE, CLOSING_NOTE)
    shown = bot.telegram.last(COMMITTEE.id)
    assert CLOSING_NOTE in shown.text and len(shown.buttons()) == 3
    assert bot.telegram.texts(AUTHOR.id) == []
    await bot.press(COMMITTEE, pack("form", "out", "send"))

    closed = await only_item(bot)
    assert closed.status == SuggestionStatus.CLOSED
    last = (await entries(bot, item.id))[-1]
    assert (last.kind, last.body) == (EntryKind.CLOSED, CLOSING_NOTE)
    told = bot.telegram.last(AUTHOR.id)
    assert told.text == (
        t(bot, "suggestion.closed_to_author_note", number=item.number) + "\n\n" + CLOSING_NOTE
    )
    assert "刘委员" not in told.text
    assert bot.telegram.last(COMMITTEE.id).text == t(
        bot, "suggestion.closed_told", number=item.number
    )
    card = bot.telegram.last(COMMITTEE_GROUP_ID, method="editMessageText")
    assert t(bot, "suggestion.card_closing_note") in card.text
    assert CLOSING_NOTE not in card.text  # the note goes to the author, not to the group
    assert "办结：刘委员，" in card.text

    # /mine shows the note, not only 已办结.
    await bot.say(AUTHOR, "/mine")
    mine = "\n".join(bot.telegram.texts(AUTHOR.id)[-3:])
    assert t(bot, "suggestion.mine_closing_note", text=CLOSING_NOTE) in mine


async def test_cancelling_the_note_leaves_the_item_open_and_the_author_untold(
    bot: BotHarness,
) -> None:
    item = await answered_then_followed_up(bot, anonymous=False)
    bot.telegram.clear()

    await bot.press(COMMITTEE, pack("sug", "close", item.id or 0), chat=GROUP)
    await bot.say(COMMITTEE, "/cancel")

    assert (await only_item(bot)).status == SuggestionStatus.OPEN
    assert bot.telegram.last(COMMITTEE.id).text == t(bot, "suggestion.close_cancelled")
    assert bot.telegram.texts(AUTHOR.id) == []


async def test_the_anonymous_author_gets_the_note_and_stays_anonymous(bot: BotHarness) -> None:
    item = await answered_then_followed_up(bot, anonymous=True)
    bot.telegram.clear()

    await bot.press(COMMITTEE, pack("sug", "close", item.id or 0), chat=GROUP)
    prompt = bot.telegram.last(COMMITTEE.id).text
    assert AUTHOR_NAME not in prompt and "匿名" in prompt
    await bot.write(COMMITTEE, CLOSING_NOTE)

    assert (await only_item(bot)).status == SuggestionStatus.CLOSED
    assert CLOSING_NOTE in bot.telegram.last(AUTHOR.id).text  # reached through the seal
    for call in bot.telegram.calls:
        if call.chat_id in (COMMITTEE_GROUP_ID, COMMITTEE.id):
            assert AUTHOR_NAME not in call.text and str(AUTHOR.id) not in str(call.params)


async def test_a_close_without_an_open_question_is_immediate_and_the_author_is_told(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    await file_item(bot, body="食堂的汤太咸。", anonymous=True)
    item = await only_item(bot)
    bot.telegram.clear()

    await bot.press(COMMITTEE, pack("sug", "close", item.id or 0), chat=GROUP)

    assert (await only_item(bot)).status == SuggestionStatus.CLOSED
    assert bot.telegram.last(AUTHOR.id).text == t(
        bot, "suggestion.closed_to_author", number=item.number
    )
    assert bot.telegram.answers()[-1].params["text"] == t(
        bot, "suggestion.closed_told", number=item.number
    )
    assert bot.telegram.texts(COMMITTEE.id) == []  # no note asked for


async def test_a_follow_up_answered_by_a_reply_needs_no_note(bot: BotHarness) -> None:
    item = await answered_then_followed_up(bot, anonymous=False)
    await bot.press(COMMITTEE, pack("sug", "reply", item.id or 0), chat=GROUP)
    await bot.write(COMMITTEE, "二楼的也一起报修了。")
    bot.telegram.clear()

    await bot.press(COMMITTEE, pack("sug", "close", item.id or 0), chat=GROUP)

    assert (await only_item(bot)).status == SuggestionStatus.CLOSED
    assert bot.telegram.last(AUTHOR.id).text == t(
        bot, "suggestion.closed_to_author", number=item.number
    )


# ---- 10. the follow-up prompt ---------------------------------------------------------------


async def test_the_follow_up_prompt_promises_anonymity_only_for_anonymous_items(
    bot: BotHarness,
) -> None:
    promise = "匿名事项仍保持匿名"
    await setup_school(bot)
    await file_item(bot, body="named item", anonymous=False)
    await file_item(bot, body="anonymous item", anonymous=True)
    async with bot.db() as session:
        named, anonymous = (
            await session.exec(select(Suggestion).order_by(col(Suggestion.id)))
        ).all()
    for item in (named, anonymous):
        await bot.press(COMMITTEE, pack("sug", "reply", item.id or 0), chat=GROUP)
        await bot.write(COMMITTEE, "收到。")

    await bot.press(AUTHOR, pack("sga", "more", named.id or 0))
    assert promise not in bot.telegram.last(AUTHOR.id).text
    await bot.say(AUTHOR, "/cancel")
    await bot.press(AUTHOR, pack("sga", "more", anonymous.id or 0))
    assert promise in bot.telegram.last(AUTHOR.id).text


# ---- 11. 立案 and 转为意见建议 ask once; who and when on the card; co-signers told -----------


def local(bot: BotHarness, moment: datetime | None) -> str:
    """A stored moment in the union's time zone, as the card shows it."""
    assert moment is not None
    return moment.astimezone(bot.app.state.settings.zone).strftime("%Y-%m-%d %H:%M")


def card_now(bot: BotHarness) -> Call:
    """The desk card as last edited in the committee group."""
    return bot.telegram.last(COMMITTEE_GROUP_ID, method="editMessageText")


def told(bot: BotHarness, person: Person, since: int) -> list[str]:
    """What `person` was sent since the `since`-th recorded call."""
    return [
        call.text
        for call in bot.telegram.calls[since:]
        if call.method == "sendMessage" and call.chat_id == person.id
    ]


EVERYONE = (congress.PROPOSER, congress.SIGNER_A, congress.SIGNER_B)


async def test_filing_asks_once_and_cancel_decides_nothing(bot: BotHarness) -> None:
    await congress.setup_congress(bot)
    proposal = await congress.file_and_submit(bot)
    pid = proposal.id or 0
    since = len(bot.telegram.calls)

    await bot.press(congress.COMMITTEE, pack("pd", "file", pid), chat=congress.GROUP)

    assert (await congress.reload(bot, pid)).status == ProposalStatus.SUBMITTED
    question = congress.card(bot)
    assert question.text.startswith("确定立案？将通知提案人和附议人")
    assert [label for label, _ in question.buttons()] == ["确定", "取消"]
    assert all(told(bot, person, since) == [] for person in EVERYONE)

    await bot.press(congress.COMMITTEE, question.button_data("取消"), chat=congress.GROUP)

    stored = await congress.reload(bot, pid)
    assert (stored.status, stored.decided_by_member_id) == (ProposalStatus.SUBMITTED, None)
    assert bot.telegram.last(COMMITTEE_GROUP_ID, method="editMessageText").text == t(
        bot, "proposal.confirm_cancelled"
    )
    assert all(told(bot, person, since) == [] for person in EVERYONE)


async def test_the_question_in_the_group_speaks_the_committees_language(bot: BotHarness) -> None:
    """An English committee member's press asks the whole committee, in the group's language;
    the same press in a private chat asks in theirs."""
    await congress.setup_congress(bot)
    proposal = await congress.file_and_submit(bot)
    async with bot.db() as session:
        member = (
            await session.exec(
                select(Member).where(col(Member.telegram_user_id) == congress.COMMITTEE.id)
            )
        ).one()
        member.language = "en"
        session.add(member)
        await session.commit()

    await bot.press(congress.COMMITTEE, pack("pd", "file", proposal.id or 0), chat=congress.GROUP)
    question = congress.card(bot)
    assert question.text.startswith("确定立案？")
    assert [label for label, _ in question.buttons()] == ["确定", "取消"]

    await bot.press(congress.COMMITTEE, pack("pd", "file", proposal.id or 0))
    assert bot.telegram.last(congress.COMMITTEE.id).text.startswith("File ")


async def test_every_decision_shows_who_and_when_and_cosigners_hear_the_answer_and_the_close(
    bot: BotHarness,
) -> None:
    school = await congress.setup_congress(bot)
    proposal = await congress.file_and_submit(bot)
    pid = proposal.id or 0

    await bot.press(congress.COMMITTEE, pack("pd", "file", pid), chat=congress.GROUP)
    question = congress.card(bot)
    await bot.press(congress.COMMITTEE, question.button_data("确定"), chat=congress.GROUP)
    filed = await congress.reload(bot, pid)
    assert filed.status == ProposalStatus.FILED
    assert f"立案：刘委员，{local(bot, filed.decided_at)}" in card_now(bot).text
    for person in EVERYONE:
        assert "已立案" in bot.telegram.last(person.id).text

    await bot.press(congress.COMMITTEE, pack("pd", "asg", pid), chat=congress.GROUP)
    await bot.press(
        congress.COMMITTEE, pack("pd", "lead", pid, school.academic.id or 0), chat=congress.GROUP
    )
    await bot.press(congress.COMMITTEE, pack("pd", "asgok", pid), chat=congress.GROUP)
    assigned = await congress.reload(bot, pid)
    assert assigned.assigned_by_member_id is not None
    assert f"交办：刘委员，{local(bot, assigned.assigned_at)}" in card_now(bot).text

    since = len(bot.telegram.calls)
    await bot.press(congress.COMMITTEE, pack("pd", "ans", pid), chat=congress.GROUP)
    await bot.press(congress.COMMITTEE, pack("pd", "ist", pid, "planned"))
    await bot.write(congress.COMMITTEE, "教务处答复：下学期起调整。")
    assert "答复：刘委员，" in card_now(bot).text
    # The proposer rates it; the co-signers read it too, without the rating buttons.
    assert "下学期起调整" in bot.telegram.last(congress.PROPOSER.id).text
    assert bot.telegram.last(congress.PROPOSER.id).buttons()
    for signer in (congress.SIGNER_A, congress.SIGNER_B):
        [answer] = told(bot, signer, since)
        assert answer.startswith("📬 您附议的提案第1号") and "下学期起调整" in answer
        assert bot.telegram.last(signer.id).buttons() == []

    # The proposer is satisfied: closed, and the co-signers hear of 办结.
    since = len(bot.telegram.calls)
    await bot.press(
        congress.PROPOSER, bot.telegram.last(congress.PROPOSER.id).button_data("基本满意")
    )
    closed = await congress.reload(bot, pid)
    assert (closed.status, closed.closed_by_member_id) == (ProposalStatus.CLOSED, None)
    for signer in (congress.SIGNER_A, congress.SIGNER_B):
        assert told(bot, signer, since) == [
            t(
                bot,
                "proposal.told_closed_rated",
                label="提案第1号「建议食堂延长晚餐供应时间」",
                rating="基本满意",
            )
        ]
    assert t(bot, "proposal.card_closed_rated", when=local(bot, closed.closed_at)) in (
        card_now(bot).text
    )


async def test_a_committee_close_tells_the_proposer_and_every_cosigner_the_note(
    bot: BotHarness,
) -> None:
    school = await congress.setup_congress(bot)
    proposal = await congress.file_and_submit(bot)
    pid = proposal.id or 0
    await bot.press(congress.COMMITTEE, pack("pd", "fileok", pid), chat=congress.GROUP)
    await bot.press(congress.COMMITTEE, pack("pd", "asg", pid), chat=congress.GROUP)
    await bot.press(
        congress.COMMITTEE, pack("pd", "lead", pid, school.academic.id or 0), chat=congress.GROUP
    )
    await bot.press(congress.COMMITTEE, pack("pd", "asgok", pid), chat=congress.GROUP)
    await bot.press(congress.COMMITTEE, pack("pd", "ans", pid), chat=congress.GROUP)
    await bot.press(congress.COMMITTEE, pack("pd", "ist", pid, "planned"))
    await bot.write(congress.COMMITTEE, "已纳入计划。")
    # Not satisfied: the proposer's comment waits for another answer...
    await bot.press(
        congress.PROPOSER, bot.telegram.last(congress.PROPOSER.id).button_data("不满意")
    )
    await bot.write(congress.PROPOSER, "没有时间表。")
    assert (await congress.reload(bot, pid)).status == ProposalStatus.ASSIGNED
    since = len(bot.telegram.calls)

    # ...and the committee closes it: the note is required and reaches everyone on it.
    await bot.press(congress.COMMITTEE, pack("pd", "close", pid), chat=congress.GROUP)
    assert "提案人和附议人" in bot.telegram.last(congress.COMMITTEE.id).text
    await bot.write(congress.COMMITTEE, "经费有限，明年预算中安排。")

    closed = await congress.reload(bot, pid)
    assert closed.status == ProposalStatus.CLOSED
    for person in EVERYONE:
        [message] = told(bot, person, since)
        assert "办结" in message and "经费有限，明年预算中安排。" in message
    assert f"办结：刘委员，{local(bot, closed.closed_at)}" in card_now(bot).text


async def test_converting_asks_once_and_the_card_says_who_and_when(bot: BotHarness) -> None:
    await congress.setup_congress(bot)
    proposal = await congress.file_and_submit(bot)
    pid = proposal.id or 0
    since = len(bot.telegram.calls)

    await bot.press(congress.COMMITTEE, pack("pd", "conv", pid), chat=congress.GROUP)
    question = congress.card(bot)
    assert question.text.startswith("确定转为意见建议？将通知提案人和附议人")
    assert (await congress.reload(bot, pid)).status == ProposalStatus.SUBMITTED
    assert all(told(bot, person, since) == [] for person in EVERYONE)

    await bot.press(congress.COMMITTEE, question.button_data("确定"), chat=congress.GROUP)

    async with bot.db() as session:
        converted = await session.get(Proposal, pid)
        items = (await session.exec(select(Suggestion))).all()
    assert converted is not None and converted.status == ProposalStatus.CONVERTED
    assert len(items) == 1
    when = local(bot, converted.decided_at)
    edits = [c.text for c in bot.telegram.sent("editMessageText", COMMITTEE_GROUP_ID)]
    assert any(f"转为意见建议：刘委员，{when}" in text for text in edits)  # the card
    assert any(f"刘委员于{when}将" in text for text in edits)  # the question, answered
    for person in EVERYONE:
        assert items[0].number in told(bot, person, since)[-1]


# ---- 13. our own deep links pasted as text ----------------------------------------------------


def sent_since(bot: BotHarness, person: Person, since: int) -> list[tuple[str, list[Any]]]:
    """(text, buttons) of every message `person` was sent since the `since`-th call."""
    return [
        (call.text, call.buttons())
        for call in bot.telegram.calls[since:]
        if call.method == "sendMessage" and call.chat_id == person.id
    ]


async def test_a_pasted_cosign_link_works_as_if_it_had_been_opened(bot: BotHarness) -> None:
    await congress.setup_congress(bot)
    await congress.write_proposal(bot)
    draft = (await congress.proposals(bot))[-1]
    signer = congress.SIGNER_A

    since = len(bot.telegram.calls)
    await bot.say(signer, f"/start cosign-{draft.id}")
    opened = sent_since(bot, signer, since)
    assert any(data == pack("pp", "cosign", draft.id or 0) for _, b in opened for _, data in b)

    for pasted in (
        f"https://t.me/{BOT_USERNAME}?start=cosign-{draft.id}",
        f"t.me/{BOT_USERNAME.upper()}?start=cosign-{draft.id}",
        f"请帮忙附议：https://t.me/{BOT_USERNAME}?start=cosign-{draft.id} 谢谢！",
    ):
        since = len(bot.telegram.calls)
        await bot.say(signer, pasted)
        assert sent_since(bot, signer, since) == opened, pasted

    await bot.press(signer, pack("pp", "cosign", draft.id or 0))
    async with bot.db() as session:
        signers = (
            await session.exec(select(ProposalSigner).where(ProposalSigner.proposal_id == draft.id))
        ).all()
    assert [row.member_id for row in signers] == [(await congress.committee_actor(bot, signer)).id]


async def test_a_pasted_link_to_another_bot_is_not_understood(bot: BotHarness) -> None:
    await congress.setup_congress(bot)
    await congress.write_proposal(bot)
    draft = (await congress.proposals(bot))[-1]
    since = len(bot.telegram.calls)

    await bot.say(congress.SIGNER_A, f"https://t.me/some_other_bot?start=cosign-{draft.id}")

    sent = sent_since(bot, congress.SIGNER_A, since)
    assert sent[0][0] == t(bot, "fallback.not_understood")
    cosign = pack("pp", "cosign", draft.id or 0)
    assert not any(data == cosign for _, buttons in sent for _, data in buttons)


async def test_a_stranger_pasting_a_link_is_answered_as_by_the_link(bot: BotHarness) -> None:
    await congress.setup_congress(bot)
    await congress.write_proposal(bot)
    draft = (await congress.proposals(bot))[-1]
    first, second = Person(4101, "Gao", "zh-hans"), Person(4102, "Ma", "zh-hans")

    since = len(bot.telegram.calls)
    await bot.say(first, f"/start cosign-{draft.id}")
    opened = sent_since(bot, first, since)
    assert opened[0][0] == t(bot, "proposal.cosign_join_first")  # then registration

    since = len(bot.telegram.calls)
    await bot.say(second, f"https://t.me/{BOT_USERNAME}?start=cosign-{draft.id}")
    assert sent_since(bot, second, since) == opened
