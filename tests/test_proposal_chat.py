"""Staff congress proposals through the real application: the whole cycle in chat, from the
draft to the proposer's rating, as members and the committee see it."""

from __future__ import annotations

import re

from sqlmodel import select

from bot.callback import pack
from models.members import Member, MemberRole, Role
from models.proposals import ProposalAnswer, ProposalRating, ProposalSigner, ProposalStatus
from tests.support.fake_telegram import BOT_USERNAME
from tests.support.harness import BotHarness
from tests.support.proposals import (
    COMMITTEE,
    GROUP,
    HANDLER,
    PROPOSER,
    SIGNER_A,
    SIGNER_B,
    card,
    file_and_submit,
    proposals,
    reload,
    setup_congress,
    write_proposal,
)


async def test_the_whole_cycle_from_draft_to_satisfied(bot: BotHarness) -> None:
    school = await setup_congress(bot)

    await write_proposal(bot)
    (draft,) = await proposals(bot)
    assert draft.status == ProposalStatus.COSIGNING
    assert draft.session_id == school.congress.id and draft.number is None
    receipt = bot.telegram.last(PROPOSER.id).text
    assert f"https://t.me/{BOT_USERNAME}?start=cosign-{draft.id}" in receipt
    assert f"/cosign {draft.id}" in receipt

    # First co-signer comes by the deep link, the second by /cosign.
    await bot.say(SIGNER_A, f"/start cosign-{draft.id}")
    invite = bot.telegram.last(SIGNER_A.id)
    assert "建议食堂延长晚餐供应时间" in invite.text
    await bot.press(SIGNER_A, invite.button_data("附议"))
    assert "赵老师附议了" in bot.telegram.last(PROPOSER.id).text
    assert (await reload(bot, draft.id)).status == ProposalStatus.COSIGNING

    await bot.say(SIGNER_B, f"/cosign {draft.id}")
    await bot.press(SIGNER_B, bot.telegram.last(SIGNER_B.id).button_data("附议"))
    submitted = await reload(bot, draft.id)
    assert submitted.status == ProposalStatus.SUBMITTED and submitted.number == 1
    desk = card(bot)
    assert "提案第1号「建议食堂延长晚餐供应时间」" in desk.text
    assert re.search(r"王老师（#\d+，数学组）", desk.text)
    assert re.search(r"赵老师（#\d+，语文组）", desk.text)
    for person in (PROPOSER, SIGNER_A, SIGNER_B):
        assert "已提交" in bot.telegram.last(person.id).text

    # 立案, then assign to 总务处 (which has a handler) with 教务处 co-handling.
    await bot.press(COMMITTEE, desk.button_data("立案"), chat=GROUP)
    question = card(bot)  # asked once: it tells many people
    await bot.press(COMMITTEE, question.button_data("确定"), chat=GROUP)
    assert (await reload(bot, draft.id)).status == ProposalStatus.FILED
    assert "已立案" in bot.telegram.last(SIGNER_B.id).text
    await bot.press(COMMITTEE, pack("pd", "asg", draft.id or 0), chat=GROUP)
    await bot.press(
        COMMITTEE, pack("pd", "lead", draft.id or 0, school.logistics.id or 0), chat=GROUP
    )
    await bot.press(COMMITTEE, pack("pd", "co", draft.id or 0, school.academic.id or 0), chat=GROUP)
    await bot.press(COMMITTEE, pack("pd", "asgok", draft.id or 0), chat=GROUP)
    assigned = await reload(bot, draft.id)
    assert assigned.status == ProposalStatus.ASSIGNED and assigned.rounds == 1
    to_handler = bot.telegram.last(HANDLER.id)
    assert "总务处主办" in to_handler.text
    assert "晚餐供应延长到七点" in to_handler.text

    # The handler answers in chat.
    await bot.press(HANDLER, to_handler.button_data("答复"))
    await bot.press(HANDLER, bot.telegram.last(HANDLER.id).button_data("正在落实"))
    await bot.write(HANDLER, "已与食堂协商，下周起晚餐供应到七点。")
    answered = await reload(bot, draft.id)
    assert answered.status == ProposalStatus.ANSWERED
    to_proposer = bot.telegram.last(PROPOSER.id)
    assert "下周起晚餐供应到七点" in to_proposer.text
    assert "下周起晚餐供应到七点" in card(bot).text or any(
        "下周起晚餐供应到七点" in call.text for call in bot.telegram.sent(chat_id=GROUP["id"])
    )

    # 不满意 → a second round with the comment to the handler; then 满意 closes it.
    await bot.press(PROPOSER, to_proposer.button_data("不满意"))
    await bot.write(PROPOSER, "只延长到七点不够，晚自习到九点。")
    second = await reload(bot, draft.id)
    assert second.status == ProposalStatus.ASSIGNED and second.rounds == 2
    assert "晚自习到九点" in bot.telegram.last(HANDLER.id).text
    await bot.press(HANDLER, bot.telegram.last(HANDLER.id).button_data("答复"))
    await bot.press(HANDLER, bot.telegram.last(HANDLER.id).button_data("已落实"))
    await bot.write(HANDLER, "增加夜宵窗口，供应到九点。")
    await bot.press(PROPOSER, bot.telegram.last(PROPOSER.id).button_data("满意"))
    closed = await reload(bot, draft.id)
    assert closed.status == ProposalStatus.CLOSED
    async with bot.db() as session:
        answers = (await session.exec(select(ProposalAnswer))).all()
        ratings = (await session.exec(select(ProposalRating))).all()
    assert [(a.round, a.body) for a in answers] == [
        (1, "已与食堂协商，下周起晚餐供应到七点。"),
        (2, "增加夜宵窗口，供应到九点。"),
    ]
    assert [(r.round, r.rating) for r in ratings] == [(1, "dissatisfied"), (2, "satisfied")]

    # Excellent at the end of the session.
    await bot.press(COMMITTEE, pack("pd", "exc", draft.id or 0), chat=GROUP)
    assert (await reload(bot, draft.id)).excellent
    assert "优秀提案" in bot.telegram.last(PROPOSER.id).text


async def test_committee_answers_for_a_department_without_handler_and_closes(
    bot: BotHarness,
) -> None:
    school = await setup_congress(bot)
    proposal = await file_and_submit(bot)
    pid = proposal.id or 0
    await bot.press(COMMITTEE, pack("pd", "file", pid), chat=GROUP)
    await bot.press(COMMITTEE, pack("pd", "fileok", pid), chat=GROUP)
    await bot.press(COMMITTEE, pack("pd", "asg", pid), chat=GROUP)
    await bot.press(COMMITTEE, pack("pd", "lead", pid, school.academic.id or 0), chat=GROUP)
    await bot.press(COMMITTEE, pack("pd", "asgok", pid), chat=GROUP)

    await bot.press(COMMITTEE, pack("pd", "ans", pid), chat=GROUP)
    await bot.press(COMMITTEE, pack("pd", "ist", pid, "planned"))
    await bot.write(COMMITTEE, "教务处答复：已纳入下学期计划。")
    assert (await reload(bot, pid)).status == ProposalStatus.ANSWERED
    await bot.press(PROPOSER, bot.telegram.last(PROPOSER.id).button_data("不满意"))
    await bot.write(PROPOSER, "没有时间表。")
    assert (await reload(bot, pid)).rounds == 2

    await bot.press(COMMITTEE, pack("pd", "close", pid), chat=GROUP)
    await bot.write(COMMITTEE, "学校经费有限，已说明情况，委员会决定办结。")
    closed = await reload(bot, pid)
    assert closed.status == ProposalStatus.CLOSED
    assert closed.closing_note == "学校经费有限，已说明情况，委员会决定办结。"
    assert "委员会决定办结" in bot.telegram.last(PROPOSER.id).text


async def test_not_filed_needs_a_reason_that_everyone_on_it_hears(bot: BotHarness) -> None:
    await setup_congress(bot)
    proposal = await file_and_submit(bot)
    pid = proposal.id or 0

    await bot.press(COMMITTEE, pack("pd", "nofile", pid), chat=GROUP)
    await bot.write(COMMITTEE, "   ")
    assert (await reload(bot, pid)).status == ProposalStatus.SUBMITTED
    await bot.write(COMMITTEE, "属于个人诉求，请走意见箱。")
    stored = await reload(bot, pid)
    assert stored.status == ProposalStatus.NOT_FILED
    assert stored.decision_reason == "属于个人诉求，请走意见箱。"
    for person in (PROPOSER, SIGNER_A, SIGNER_B):
        assert "属于个人诉求" in bot.telegram.last(person.id).text


async def test_convert_to_suggestion_continues_in_the_suggestion_box(bot: BotHarness) -> None:
    await setup_congress(bot)
    proposal = await file_and_submit(bot)

    await bot.press(COMMITTEE, pack("pd", "conv", proposal.id or 0), chat=GROUP)
    await bot.press(COMMITTEE, pack("pd", "convok", proposal.id or 0), chat=GROUP)

    assert (await reload(bot, proposal.id)).status == ProposalStatus.CONVERTED
    assert "意-" in bot.telegram.last(PROPOSER.id).text
    assert "意-" in card(bot).text


async def test_merge_makes_everyone_a_coauthor(bot: BotHarness) -> None:
    await setup_congress(bot)
    first = await file_and_submit(bot)
    second = await file_and_submit(bot, title="食堂晚餐时间太早的问题")
    await bot.press(COMMITTEE, pack("pd", "merge", second.id or 0), chat=GROUP)
    await bot.press(COMMITTEE, pack("pd", "mrg", second.id or 0, first.id or 0), chat=GROUP)

    assert (await reload(bot, second.id)).status == ProposalStatus.MERGED
    async with bot.db() as session:
        rows = (
            await session.exec(select(ProposalSigner).where(ProposalSigner.proposal_id == first.id))
        ).all()
    assert {row.coauthor for row in rows} == {True}
    assert "合并" in bot.telegram.last(SIGNER_A.id).text


async def test_an_unanswered_desk_prompt_does_not_swallow_a_later_proposal(
    bot: BotHarness,
) -> None:
    """A committee member presses 不立案, never types the reason, then writes a proposal of
    their own: the title goes to the new proposal, not into a decision."""
    await setup_congress(bot)
    proposal = await file_and_submit(bot)
    async with bot.db() as session:
        member = (await session.exec(select(Member).where(Member.real_name == "刘委员"))).one()
        session.add(MemberRole(member_id=member.id or 0, role=Role.REPRESENTATIVE))
        await session.commit()

    await bot.press(COMMITTEE, pack("pd", "nofile", proposal.id or 0), chat=GROUP)
    await write_proposal(bot, COMMITTEE, title="建议增加教师体检项目")

    assert (await reload(bot, proposal.id)).status == ProposalStatus.SUBMITTED
    titles = [p.title for p in await proposals(bot)]
    assert titles[-1] == "建议增加教师体检项目"
