"""Staff congress proposals: every refusal gets a clear answer and leaves no inconsistent state."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import select

from bot.callback import pack
from models.desk import cards_for
from models.members import Member, Role
from models.proposals import (
    CongressSession,
    Filers,
    ProposalAnswer,
    ProposalAssignment,
    ProposalRating,
    ProposalSigner,
    ProposalStatus,
)
from models.suggestions import Suggestion
from tests.support.factories import make_member
from tests.support.fake_telegram import Call
from tests.support.harness import COMMITTEE_GROUP_ID, SEND, BotHarness
from tests.support.proposals import (
    COMMITTEE,
    GROUP,
    HANDLER,
    OUTSIDER,
    PROPOSER,
    SIGNER_A,
    SIGNER_B,
    School,
    card,
    file_and_submit,
    proposals,
    reload,
    setup_congress,
    today,
    write_proposal,
)
from tests.support.updates import Person, button, sticker

THIRD_REP = Person(3006, "Qian", "zh-hans")
STRANGER = Person(3099, "Zheng", "zh-hans")  # a Telegram user who is not a member
SECOND_COMMITTEE = Person(1003, "Chen", "zh-hans")

# Distinctive fragments of the zh_Hans texts.
COSIGN_OWN = "不能附议自己的提案"
COSIGNED_ALREADY = "您已经附议过这份提案了"
COSIGN_NOT_OPEN = "现在不在征集附议（已提交、已撤回或已结束）"
NOT_COSIGNING = "这份提案现在不在征集附议"
WINDOW_CLOSED = "提案征集已截止，无法再附议"
NOT_ALLOWED = "只有教代会代表可以提交或附议提案"
NOT_FOUND = "找不到这份提案"
COSIGN_USAGE = "请在 /cosign 后面写草稿编号"
NOT_REGISTERED = "您还不是工会助手的会员"
ALREADY_DECIDED = "这份提案已经处理过了"
NOT_COMMITTEE = "只有工会委员可以处理这一项"
NOT_HANDLER = "只有承办部门的负责人或工会委员可以答复"
WITHDRAW_TOO_LATE = "不能再撤回"
NOT_YOURS = "这不是您的提案"
RATED_ALREADY = "您已经评价过这一轮答复了"
NOTHING_TO_RATE = "没有待评价的答复"
EMPTY = "内容是空的"
TEXT_EXPECTED = "这一步需要文字"
DRAFT_WINDOW_CLOSED = "您写的时候征集期已截止"


# ---- helpers ------------------------------------------------------------------------------


def last_answer(bot: BotHarness) -> Call:
    """The latest answer to a button press."""
    answers = bot.telegram.answers()
    assert answers, "no button press was answered"
    return answers[-1]


def last_alert(bot: BotHarness) -> str:
    """The text of the latest answer to a button press, which must be an alert."""
    answer = last_answer(bot)
    assert answer.params.get("show_alert") is True, answer.params
    return answer.text


def alerts(bot: BotHarness) -> list[str]:
    """Texts of every alert shown for a button press."""
    return [call.text for call in bot.telegram.answers() if call.params.get("show_alert") is True]


async def told_at_send(bot: BotHarness, person: Person, body: str) -> str:
    """`person` types `body` (shown back to them) and presses Send; everything the bot told
    them after the press (the press's answer, messages to their chat), joined."""
    await bot.say(person, body)
    before = len(bot.telegram.calls)
    await bot.press(person, SEND)
    after = bot.telegram.calls[before:]
    told = [call.text for call in after if call.method == "answerCallbackQuery"]
    told += [call.text for call in after if call.chat_id == person.id]
    return "\n".join(told)


def texts_to(bot: BotHarness, person: Person) -> list[str]:
    """Everything sent to a person's private chat."""
    return bot.telegram.texts(person.id)


async def signer_rows(bot: BotHarness, proposal_id: int | None) -> list[ProposalSigner]:
    """The co-signer and co-author rows of a proposal."""
    async with bot.db() as session:
        rows = await session.exec(
            select(ProposalSigner).where(ProposalSigner.proposal_id == proposal_id)
        )
        return list(rows.all())


async def signer_ids(bot: BotHarness, proposal_id: int | None) -> set[int]:
    """Member ids of the co-signers and co-authors of a proposal."""
    return {row.member_id for row in await signer_rows(bot, proposal_id)}


async def ratings(bot: BotHarness) -> list[ProposalRating]:
    """Every stored rating."""
    async with bot.db() as session:
        return list((await session.exec(select(ProposalRating))).all())


async def file_it(bot: BotHarness, proposal_id: int) -> None:
    """The committee presses 立案 on the card, then 确定 under the question."""
    await bot.press(COMMITTEE, pack("pd", "file", proposal_id), chat=GROUP)
    await bot.press(COMMITTEE, pack("pd", "fileok", proposal_id), chat=GROUP)
    assert (await reload(bot, proposal_id)).status == ProposalStatus.FILED


async def assign_to(bot: BotHarness, proposal_id: int, department_id: int | None) -> None:
    """The committee assigns a filed proposal to one lead department."""
    await bot.press(COMMITTEE, pack("pd", "asg", proposal_id), chat=GROUP)
    await bot.press(COMMITTEE, pack("pd", "lead", proposal_id, department_id or 0), chat=GROUP)
    await bot.press(COMMITTEE, pack("pd", "asgok", proposal_id), chat=GROUP)
    assert (await reload(bot, proposal_id)).status == ProposalStatus.ASSIGNED


async def answered(bot: BotHarness, school: School, proposal_id: int) -> None:
    """File, assign to 总务处, and let its handler answer: the proposal waits for ratings."""
    await file_it(bot, proposal_id)
    await assign_to(bot, proposal_id, school.logistics.id)
    await bot.press(HANDLER, pack("pd", "ans", proposal_id))
    await bot.press(HANDLER, pack("pd", "ist", proposal_id, "doing"))
    await bot.write(HANDLER, "已与食堂协商，下周起晚餐供应到七点。")
    assert (await reload(bot, proposal_id)).status == ProposalStatus.ANSWERED


# ---- 1. co-signing one's own proposal -----------------------------------------------------


async def test_cosign_command_on_own_proposal_is_refused(bot: BotHarness) -> None:
    await setup_congress(bot)
    await write_proposal(bot)
    (draft,) = await proposals(bot)

    await bot.say(PROPOSER, f"/cosign {draft.id}")

    reply = bot.telegram.last(PROPOSER.id)
    assert COSIGN_OWN in reply.text
    assert reply.buttons() == []
    assert await signer_rows(bot, draft.id) == []
    assert (await reload(bot, draft.id)).status == ProposalStatus.COSIGNING


async def test_pressing_cosign_on_own_proposal_is_refused(bot: BotHarness) -> None:
    await setup_congress(bot)
    await write_proposal(bot)
    (draft,) = await proposals(bot)

    await bot.press(PROPOSER, pack("pp", "cosign", draft.id or 0))

    assert COSIGN_OWN in last_alert(bot)
    assert await signer_rows(bot, draft.id) == []
    assert (await reload(bot, draft.id)).status == ProposalStatus.COSIGNING


# ---- 2. co-signing twice ------------------------------------------------------------------


async def test_second_cosign_press_is_refused_and_keeps_one_row(bot: BotHarness) -> None:
    school = await setup_congress(bot, min_cosigners=2)
    await write_proposal(bot)
    (draft,) = await proposals(bot)
    await bot.press(SIGNER_A, pack("pp", "cosign", draft.id or 0))
    assert await signer_ids(bot, draft.id) == {school.signer_a.id}

    await bot.press(SIGNER_A, pack("pp", "cosign", draft.id or 0))

    assert COSIGNED_ALREADY in last_alert(bot)
    assert await signer_ids(bot, draft.id) == {school.signer_a.id}
    assert len(await signer_rows(bot, draft.id)) == 1
    assert (await reload(bot, draft.id)).status == ProposalStatus.COSIGNING
    # The proposer heard of the one signature only.
    assert sum("赵老师附议了" in text for text in texts_to(bot, PROPOSER)) == 1


async def test_cosign_command_after_signing_says_already_signed(bot: BotHarness) -> None:
    await setup_congress(bot)
    await write_proposal(bot)
    (draft,) = await proposals(bot)
    await bot.press(SIGNER_A, pack("pp", "cosign", draft.id or 0))

    await bot.say(SIGNER_A, f"/cosign {draft.id}")

    reply = bot.telegram.last(SIGNER_A.id)
    assert COSIGNED_ALREADY in reply.text
    assert reply.buttons() == []
    assert len(await signer_rows(bot, draft.id)) == 1


# ---- 3. co-signing when co-signing is over ------------------------------------------------


async def test_cosign_after_submission_is_refused(bot: BotHarness) -> None:
    await setup_congress(bot)
    third = await make_member(
        bot.db, org_id=bot.org_id, person=THIRD_REP, name="钱老师", roles=[Role.REPRESENTATIVE]
    )
    proposal = await file_and_submit(bot)
    assert proposal.status == ProposalStatus.SUBMITTED

    await bot.say(THIRD_REP, f"/cosign {proposal.id}")
    reply = bot.telegram.last(THIRD_REP.id)
    assert COSIGN_NOT_OPEN in reply.text
    assert reply.buttons() == []

    await bot.press(THIRD_REP, pack("pp", "cosign", proposal.id or 0))
    assert NOT_COSIGNING in last_alert(bot)

    assert third.id not in await signer_ids(bot, proposal.id)
    assert len(await signer_rows(bot, proposal.id)) == 2
    stored = await reload(bot, proposal.id)
    assert stored.status == ProposalStatus.SUBMITTED and stored.number == 1


async def test_cosign_after_withdrawal_is_refused(bot: BotHarness) -> None:
    await setup_congress(bot)
    await write_proposal(bot)
    (draft,) = await proposals(bot)
    pid = draft.id or 0
    await bot.press(PROPOSER, pack("pp", "wd", pid))
    await bot.press(PROPOSER, pack("pp", "wdyes", pid))
    assert (await reload(bot, pid)).status == ProposalStatus.WITHDRAWN

    await bot.say(SIGNER_A, f"/cosign {pid}")
    assert COSIGN_NOT_OPEN in bot.telegram.last(SIGNER_A.id).text

    await bot.press(SIGNER_A, pack("pp", "cosign", pid))
    assert NOT_COSIGNING in last_alert(bot)

    assert await signer_rows(bot, pid) == []
    assert (await reload(bot, pid)).status == ProposalStatus.WITHDRAWN


async def test_cosign_after_the_window_closed_is_refused(bot: BotHarness) -> None:
    school = await setup_congress(bot)
    await write_proposal(bot)
    (draft,) = await proposals(bot)
    day = today(bot)
    async with bot.db() as session:
        congress = await session.get(CongressSession, school.congress.id)
        assert congress is not None
        congress.opens_on = day - timedelta(days=10)
        congress.closes_on = day - timedelta(days=1)
        session.add(congress)
        await session.commit()

    await bot.say(SIGNER_A, f"/cosign {draft.id}")
    assert WINDOW_CLOSED in bot.telegram.last(SIGNER_A.id).text
    await bot.press(SIGNER_A, pack("pp", "cosign", draft.id or 0))
    assert WINDOW_CLOSED in last_alert(bot)

    assert await signer_rows(bot, draft.id) == []


# ---- 4. who may co-sign -------------------------------------------------------------------


async def test_a_member_who_is_not_a_representative_may_not_cosign(bot: BotHarness) -> None:
    await setup_congress(bot)
    await write_proposal(bot)
    (draft,) = await proposals(bot)

    await bot.say(OUTSIDER, f"/cosign {draft.id}")
    reply = bot.telegram.last(OUTSIDER.id)
    assert NOT_ALLOWED in reply.text
    assert reply.buttons() == []

    await bot.press(OUTSIDER, pack("pp", "cosign", draft.id or 0))
    assert NOT_ALLOWED in last_alert(bot)

    assert await signer_rows(bot, draft.id) == []


async def test_any_member_may_cosign_when_the_session_allows_members(bot: BotHarness) -> None:
    school = await setup_congress(bot, filers=Filers.MEMBERS)
    await write_proposal(bot)
    (draft,) = await proposals(bot)

    await bot.say(OUTSIDER, f"/cosign {draft.id}")
    invite = bot.telegram.last(OUTSIDER.id)
    assert NOT_ALLOWED not in invite.text
    await bot.press(OUTSIDER, invite.button_data("附议"))

    assert await signer_ids(bot, draft.id) == {school.outsider.id}
    assert NOT_ALLOWED not in " ".join(alerts(bot))
    assert "吴老师附议了" in bot.telegram.last(PROPOSER.id).text


# ---- 5. links and arguments that lead nowhere ---------------------------------------------


async def test_cosign_link_to_a_missing_proposal_says_not_found(bot: BotHarness) -> None:
    await setup_congress(bot)

    await bot.say(SIGNER_A, "/start cosign-99999")
    assert NOT_FOUND in bot.telegram.last(SIGNER_A.id).text

    await bot.say(SIGNER_A, "/start cosign-abc")
    assert NOT_FOUND in bot.telegram.last(SIGNER_A.id).text

    await bot.say(SIGNER_A, "/cosign 99999")
    assert NOT_FOUND in bot.telegram.last(SIGNER_A.id).text

    async with bot.db() as session:
        assert list((await session.exec(select(ProposalSigner))).all()) == []


async def test_cosign_command_without_a_number_explains_its_use(bot: BotHarness) -> None:
    await setup_congress(bot)
    await write_proposal(bot)
    (draft,) = await proposals(bot)

    await bot.say(SIGNER_A, "/cosign")
    assert COSIGN_USAGE in bot.telegram.last(SIGNER_A.id).text
    await bot.say(SIGNER_A, "/cosign abc")
    assert COSIGN_USAGE in bot.telegram.last(SIGNER_A.id).text

    assert await signer_rows(bot, draft.id) == []


async def test_unregistered_user_opening_a_cosign_link_is_told_to_register(
    bot: BotHarness,
) -> None:
    await setup_congress(bot)
    await write_proposal(bot)
    (draft,) = await proposals(bot)

    await bot.say(STRANGER, f"/start cosign-{draft.id}")

    received = "\n".join(texts_to(bot, STRANGER))
    assert "要附议提案，先要加入工会助手" in received
    assert "链接无效" not in received
    async with bot.db() as session:
        stranger = (
            await session.exec(select(Member).where(Member.telegram_user_id == STRANGER.id))
        ).first()
    assert stranger is None
    assert await signer_rows(bot, draft.id) == []


async def test_unregistered_user_pressing_cosign_is_told_to_register(bot: BotHarness) -> None:
    await setup_congress(bot)
    await write_proposal(bot)
    (draft,) = await proposals(bot)

    await bot.press(STRANGER, pack("pp", "cosign", draft.id or 0))

    assert NOT_REGISTERED in bot.telegram.last(STRANGER.id).text
    assert await signer_rows(bot, draft.id) == []
    async with bot.db() as session:
        assert (
            await session.exec(select(Member).where(Member.telegram_user_id == STRANGER.id))
        ).first() is None


# ---- 6. deciding what is already decided --------------------------------------------------


async def test_filing_twice_is_refused(bot: BotHarness) -> None:
    await setup_congress(bot)
    proposal = await file_and_submit(bot)
    pid = proposal.id or 0
    await bot.press(COMMITTEE, pack("pd", "fileok", pid), chat=GROUP)
    first = await reload(bot, pid)
    assert first.status == ProposalStatus.FILED

    await bot.press(COMMITTEE, pack("pd", "file", pid), chat=GROUP)
    assert ALREADY_DECIDED in last_alert(bot)  # refused before asking
    await bot.press(COMMITTEE, pack("pd", "fileok", pid), chat=GROUP)

    assert ALREADY_DECIDED in last_alert(bot)
    second = await reload(bot, pid)
    assert second.status == ProposalStatus.FILED
    assert second.version == first.version and second.decided_at == first.decided_at
    assert sum("已立案" in text for text in texts_to(bot, PROPOSER)) == 1


async def test_not_filing_after_filing_is_refused_before_asking_for_a_reason(
    bot: BotHarness,
) -> None:
    await setup_congress(bot)
    proposal = await file_and_submit(bot)
    pid = proposal.id or 0
    await file_it(bot, pid)
    before = len(texts_to(bot, COMMITTEE))

    await bot.press(COMMITTEE, pack("pd", "nofile", pid), chat=GROUP)

    assert ALREADY_DECIDED in last_alert(bot)
    assert not any("不立案的理由" in text for text in texts_to(bot, COMMITTEE)[before:])
    # Text typed afterwards is not taken as a reason.
    await bot.write(COMMITTEE, "属于个人诉求。")
    stored = await reload(bot, pid)
    assert stored.status == ProposalStatus.FILED and stored.decision_reason is None


async def test_converting_twice_makes_one_suggestion(bot: BotHarness) -> None:
    await setup_congress(bot)
    proposal = await file_and_submit(bot)
    pid = proposal.id or 0
    await bot.press(COMMITTEE, pack("pd", "convok", pid), chat=GROUP)
    assert (await reload(bot, pid)).status == ProposalStatus.CONVERTED

    await bot.press(COMMITTEE, pack("pd", "convok", pid), chat=GROUP)

    assert ALREADY_DECIDED in last_alert(bot)
    assert (await reload(bot, pid)).status == ProposalStatus.CONVERTED
    async with bot.db() as session:
        items = list((await session.exec(select(Suggestion))).all())
    assert len(items) == 1


async def test_merging_an_already_merged_proposal_is_refused(bot: BotHarness) -> None:
    await setup_congress(bot)
    first = await file_and_submit(bot)
    second = await file_and_submit(bot, title="食堂晚餐时间太早的问题")
    merged_id, survivor_id = second.id or 0, first.id or 0
    await bot.press(COMMITTEE, pack("pd", "mrg", merged_id, survivor_id), chat=GROUP)
    assert (await reload(bot, merged_id)).status == ProposalStatus.MERGED
    rows_before = sorted((r.member_id, r.coauthor) for r in await signer_rows(bot, survivor_id))
    survivor_before = await reload(bot, survivor_id)
    told_before = len(texts_to(bot, SIGNER_A))

    await bot.press(COMMITTEE, pack("pd", "merge", merged_id), chat=GROUP)
    assert ALREADY_DECIDED in last_alert(bot)
    await bot.press(COMMITTEE, pack("pd", "mrg", merged_id, survivor_id), chat=GROUP)
    assert ALREADY_DECIDED in last_alert(bot)

    merged = await reload(bot, merged_id)
    assert merged.status == ProposalStatus.MERGED and merged.merged_into_id == survivor_id
    rows_after = sorted((r.member_id, r.coauthor) for r in await signer_rows(bot, survivor_id))
    assert rows_after == rows_before
    assert (await reload(bot, survivor_id)).version == survivor_before.version
    assert not any("合并" in text for text in texts_to(bot, SIGNER_A)[told_before:])


async def test_two_committee_members_filing_at_once_give_one_decision(bot: BotHarness) -> None:
    await setup_congress(bot)
    other = await make_member(
        bot.db,
        org_id=bot.org_id,
        person=SECOND_COMMITTEE,
        name="陈委员",
        roles=[Role.COMMITTEE],
    )
    proposal = await file_and_submit(bot)
    pid = proposal.id or 0
    before = len(bot.telegram.answers())

    await asyncio.gather(
        bot.press(COMMITTEE, pack("pd", "fileok", pid), chat=GROUP),
        bot.press(SECOND_COMMITTEE, pack("pd", "fileok", pid), chat=GROUP),
    )

    stored = await reload(bot, pid)
    assert stored.status == ProposalStatus.FILED
    assert stored.version == proposal.version + 1
    answers = [call.text for call in bot.telegram.answers()[before:]]
    assert len(answers) == 2
    assert sum(ALREADY_DECIDED in text for text in answers) == 1
    assert sum("已处理" in text for text in answers) == 1
    first = await _member_of(bot, COMMITTEE)
    assert first is not None
    assert stored.decided_by_member_id in (first.id, other.id)
    for person in (PROPOSER, SIGNER_A, SIGNER_B):
        assert sum("已立案" in text for text in texts_to(bot, person)) == 1


async def _member_of(bot: BotHarness, person: Person) -> Member | None:
    async with bot.db() as session:
        return (
            await session.exec(select(Member).where(Member.telegram_user_id == person.id))
        ).first()


# ---- 7. buttons pressed by the wrong people -----------------------------------------------


async def test_non_committee_member_cannot_file_or_reject(bot: BotHarness) -> None:
    await setup_congress(bot)
    proposal = await file_and_submit(bot)
    pid = proposal.id or 0

    for person in (OUTSIDER, PROPOSER):
        await bot.press(person, pack("pd", "file", pid), chat=GROUP)
        assert NOT_COMMITTEE in last_alert(bot)
        await bot.press(person, pack("pd", "fileok", pid), chat=GROUP)
        assert NOT_COMMITTEE in last_alert(bot)
        await bot.press(person, pack("pd", "nofile", pid), chat=GROUP)
        assert NOT_COMMITTEE in last_alert(bot)
        assert not any("不立案的理由" in text for text in texts_to(bot, person))

    await bot.write(OUTSIDER, "这不是提案。")
    stored = await reload(bot, pid)
    assert stored.status == ProposalStatus.SUBMITTED
    assert stored.version == proposal.version and stored.decided_by_member_id is None
    assert stored.decision_reason is None


async def test_non_committee_member_cannot_assign(bot: BotHarness) -> None:
    school = await setup_congress(bot)
    proposal = await file_and_submit(bot)
    pid = proposal.id or 0
    await file_it(bot, pid)

    await bot.press(OUTSIDER, pack("pd", "asg", pid), chat=GROUP)
    assert NOT_COMMITTEE in last_alert(bot)
    await bot.press(OUTSIDER, pack("pd", "lead", pid, school.logistics.id or 0), chat=GROUP)
    assert NOT_COMMITTEE in last_alert(bot)
    await bot.press(OUTSIDER, pack("pd", "asgok", pid), chat=GROUP)
    assert NOT_COMMITTEE in last_alert(bot)

    assert (await reload(bot, pid)).status == ProposalStatus.FILED
    async with bot.db() as session:
        assert list((await session.exec(select(ProposalAssignment))).all()) == []


async def test_only_the_lead_departments_handler_may_answer(bot: BotHarness) -> None:
    school = await setup_congress(bot)
    proposal = await file_and_submit(bot)
    pid = proposal.id or 0
    await file_it(bot, pid)
    await assign_to(bot, pid, school.logistics.id)

    await bot.press(OUTSIDER, pack("pd", "ans", pid))
    assert NOT_HANDLER in last_alert(bot)
    await bot.write(OUTSIDER, "我来替总务处答复。")

    stored = await reload(bot, pid)
    assert stored.status == ProposalStatus.ASSIGNED
    async with bot.db() as session:
        assert list((await session.exec(select(ProposalAnswer))).all()) == []


async def test_handler_of_a_co_department_may_not_answer(bot: BotHarness) -> None:
    school = await setup_congress(bot)
    proposal = await file_and_submit(bot)
    pid = proposal.id or 0
    await file_it(bot, pid)
    # 教务处 leads (no handler); 总务处 (HANDLER's) only co-handles.
    await bot.press(COMMITTEE, pack("pd", "asg", pid), chat=GROUP)
    await bot.press(COMMITTEE, pack("pd", "lead", pid, school.academic.id or 0), chat=GROUP)
    await bot.press(COMMITTEE, pack("pd", "co", pid, school.logistics.id or 0), chat=GROUP)
    await bot.press(COMMITTEE, pack("pd", "asgok", pid), chat=GROUP)
    assert (await reload(bot, pid)).status == ProposalStatus.ASSIGNED

    await bot.press(HANDLER, pack("pd", "ans", pid))
    assert NOT_HANDLER in last_alert(bot)
    await bot.write(HANDLER, "总务处意见：同意。")

    assert (await reload(bot, pid)).status == ProposalStatus.ASSIGNED
    async with bot.db() as session:
        assert list((await session.exec(select(ProposalAnswer))).all()) == []


# ---- 8. what is typed while writing -------------------------------------------------------


async def test_title_too_long_or_empty_is_refused_and_the_step_repeats(bot: BotHarness) -> None:
    await setup_congress(bot)
    await bot.say(PROPOSER, "/propose")

    await bot.say(PROPOSER, "长" * 61)
    reply = bot.telegram.last(PROPOSER.id).text
    assert "最多 60 个字" in reply and "您输入了 61 个" in reply

    await bot.say(PROPOSER, "   ")
    assert EMPTY in bot.telegram.last(PROPOSER.id).text

    await bot.say(PROPOSER, "题" * 60)
    assert "【理由】" in bot.telegram.last(PROPOSER.id).text
    await bot.say(PROPOSER, "晚自习老师下班晚。")
    await bot.say(PROPOSER, "晚餐供应延长到七点。")
    await bot.press(PROPOSER, pack("pp", "cat", "welfare"))
    await bot.press(PROPOSER, pack("pp", "confirm", "yes"))

    (stored,) = await proposals(bot)
    assert stored.title == "题" * 60


async def test_over_long_reasons_and_a_sticker_are_refused_and_the_step_repeats(
    bot: BotHarness,
) -> None:
    await setup_congress(bot)
    await bot.say(PROPOSER, "/propose")
    await bot.say(PROPOSER, "建议食堂延长晚餐供应时间")

    await bot.say(PROPOSER, "理" * 2001)
    reply = bot.telegram.last(PROPOSER.id).text
    assert "最多 2000 个字" in reply and "您输入了 2001 个" in reply

    await bot.feed(sticker(PROPOSER))
    assert TEXT_EXPECTED in bot.telegram.last(PROPOSER.id).text

    await bot.say(PROPOSER, "晚自习老师下班晚，食堂六点就关门。")
    assert "【建议措施】" in bot.telegram.last(PROPOSER.id).text

    await bot.say(PROPOSER, "措" * 2001)
    assert "最多 2000 个字" in bot.telegram.last(PROPOSER.id).text
    await bot.say(PROPOSER, "晚餐供应延长到七点。")
    assert "哪一类" in bot.telegram.last(PROPOSER.id).text
    await bot.press(PROPOSER, pack("pp", "cat", "welfare"))
    await bot.press(PROPOSER, pack("pp", "confirm", "yes"))

    (stored,) = await proposals(bot)
    assert stored.reasons == "晚自习老师下班晚，食堂六点就关门。"
    assert stored.measures == "晚餐供应延长到七点。"


async def test_nothing_is_stored_while_the_title_is_refused(bot: BotHarness) -> None:
    await setup_congress(bot)
    await bot.say(PROPOSER, "/propose")
    await bot.say(PROPOSER, "长" * 61)
    await bot.say(PROPOSER, "/cancel")

    assert await proposals(bot) == []


# ---- 9. the window closes while writing ---------------------------------------------------


async def test_window_closing_while_writing_keeps_a_draft(bot: BotHarness) -> None:
    school = await setup_congress(bot)
    await bot.say(PROPOSER, "/propose")
    await bot.say(PROPOSER, "建议食堂延长晚餐供应时间")
    day = today(bot)
    async with bot.db() as session:
        congress = await session.get(CongressSession, school.congress.id)
        assert congress is not None
        congress.opens_on = day - timedelta(days=10)
        congress.closes_on = day - timedelta(days=1)
        session.add(congress)
        await session.commit()

    await bot.say(PROPOSER, "晚自习老师下班晚，食堂六点就关门。")
    await bot.say(PROPOSER, "晚餐供应延长到七点。")
    await bot.press(PROPOSER, pack("pp", "cat", "welfare"))
    await bot.press(PROPOSER, pack("pp", "confirm", "yes"))

    (stored,) = await proposals(bot)
    assert stored.status == ProposalStatus.DRAFT
    assert stored.session_id is None and stored.number is None
    receipt = bot.telegram.last(PROPOSER.id).text
    assert DRAFT_WINDOW_CLOSED in receipt
    assert "start=cosign-" not in receipt
    assert bot.telegram.sent(chat_id=COMMITTEE_GROUP_ID) == []


# ---- 10. withdrawing ----------------------------------------------------------------------


async def test_withdrawing_while_cosigning_tells_the_cosigners(bot: BotHarness) -> None:
    await setup_congress(bot)
    await write_proposal(bot)
    (draft,) = await proposals(bot)
    pid = draft.id or 0
    await bot.press(SIGNER_A, pack("pp", "cosign", pid))

    await bot.press(PROPOSER, pack("pp", "wd", pid))
    ask = bot.telegram.last(PROPOSER.id)
    assert "确定撤回" in ask.text
    await bot.press(PROPOSER, ask.button_data("确认撤回"))

    assert (await reload(bot, pid)).status == ProposalStatus.WITHDRAWN
    assert "已撤回" in bot.telegram.last(PROPOSER.id).text
    assert "提案人撤回了" in bot.telegram.last(SIGNER_A.id).text
    assert not any("提案人撤回了" in text for text in texts_to(bot, SIGNER_B))
    assert bot.telegram.sent(chat_id=COMMITTEE_GROUP_ID) == []


async def test_withdrawing_a_submitted_proposal_updates_the_desk_card(bot: BotHarness) -> None:
    await setup_congress(bot)
    proposal = await file_and_submit(bot)
    pid = proposal.id or 0
    assert "已提交" in card(bot).text

    await bot.press(PROPOSER, pack("pp", "wd", pid))
    await bot.press(PROPOSER, pack("pp", "wdyes", pid))

    assert (await reload(bot, pid)).status == ProposalStatus.WITHDRAWN
    for person in (SIGNER_A, SIGNER_B):
        assert "提案人撤回了" in bot.telegram.last(person.id).text
    edited = bot.telegram.last(COMMITTEE_GROUP_ID, method="editMessageText")
    assert "已撤回" in edited.text
    assert edited.buttons() == []
    async with bot.db() as session:
        (desk_card,) = await cards_for(session, kind="prop", item_id=pid)
    assert desk_card.chat_id == COMMITTEE_GROUP_ID
    assert int(edited.params["message_id"]) == desk_card.message_id
    assert "提案人撤回了" in card(bot).text


async def test_withdrawing_after_filing_is_too_late(bot: BotHarness) -> None:
    await setup_congress(bot)
    proposal = await file_and_submit(bot)
    pid = proposal.id or 0
    await file_it(bot, pid)

    await bot.press(PROPOSER, pack("pp", "wd", pid))
    assert WITHDRAW_TOO_LATE in last_alert(bot)
    assert "确定撤回" not in bot.telegram.last(PROPOSER.id).text
    await bot.press(PROPOSER, pack("pp", "wdyes", pid))
    assert WITHDRAW_TOO_LATE in last_alert(bot)

    assert (await reload(bot, pid)).status == ProposalStatus.FILED
    assert not any("提案人撤回了" in text for text in texts_to(bot, SIGNER_A))


async def test_withdrawing_someone_elses_proposal_is_refused(bot: BotHarness) -> None:
    await setup_congress(bot)
    await write_proposal(bot)
    (draft,) = await proposals(bot)
    pid = draft.id or 0

    await bot.press(SIGNER_A, pack("pp", "wd", pid))
    assert NOT_YOURS in last_alert(bot)
    await bot.press(SIGNER_A, pack("pp", "wdyes", pid))
    assert NOT_YOURS in last_alert(bot)

    assert (await reload(bot, pid)).status == ProposalStatus.COSIGNING
    assert not any("撤回" in text for text in texts_to(bot, PROPOSER))


# ---- 11. rating ---------------------------------------------------------------------------


async def test_only_authors_may_rate(bot: BotHarness) -> None:
    school = await setup_congress(bot)
    proposal = await file_and_submit(bot)
    pid = proposal.id or 0
    await answered(bot, school, pid)

    for person in (OUTSIDER, SIGNER_A):  # a stranger to it, and a mere co-signer
        await bot.press(person, pack("pr", "rate", pid, "s"))
        assert NOT_YOURS in last_alert(bot)

    assert await ratings(bot) == []
    assert (await reload(bot, pid)).status == ProposalStatus.ANSWERED


async def test_proposer_rating_twice_is_refused(bot: BotHarness) -> None:
    school = await setup_congress(bot)
    proposal = await file_and_submit(bot)
    pid = proposal.id or 0
    await answered(bot, school, pid)
    await bot.press(PROPOSER, pack("pr", "rate", pid, "s"))
    assert (await reload(bot, pid)).status == ProposalStatus.CLOSED

    await bot.press(PROPOSER, pack("pr", "rate", pid, "b"))
    text = last_alert(bot)
    assert NOTHING_TO_RATE in text or RATED_ALREADY in text
    await bot.press(PROPOSER, pack("pr", "rate", pid, "d"))
    text = last_alert(bot)
    assert NOTHING_TO_RATE in text or RATED_ALREADY in text

    assert [(r.round, r.rating) for r in await ratings(bot)] == [(1, "satisfied")]
    stored = await reload(bot, pid)
    assert stored.status == ProposalStatus.CLOSED and stored.rounds == 1


async def test_coauthor_rating_twice_is_refused(bot: BotHarness) -> None:
    school = await setup_congress(bot)
    first = await file_and_submit(bot)
    second = await file_and_submit(bot, title="食堂晚餐时间太早的问题")
    pid = first.id or 0
    await bot.press(COMMITTEE, pack("pd", "mrg", second.id or 0, pid), chat=GROUP)
    await answered(bot, school, pid)

    await bot.press(SIGNER_A, pack("pr", "rate", pid, "s"))
    assert len(await ratings(bot)) == 1
    await bot.press(SIGNER_A, pack("pr", "rate", pid, "b"))

    assert RATED_ALREADY in last_alert(bot)
    (only,) = await ratings(bot)
    assert only.member_id == school.signer_a.id and only.rating == "satisfied"
    assert (await reload(bot, pid)).status == ProposalStatus.ANSWERED


async def test_dissatisfied_with_an_empty_comment_is_refused_and_asked_again(
    bot: BotHarness,
) -> None:
    school = await setup_congress(bot)
    proposal = await file_and_submit(bot)
    pid = proposal.id or 0
    await answered(bot, school, pid)

    await bot.press(PROPOSER, pack("pr", "rate", pid, "d"))
    assert "哪里不满意" in bot.telegram.last(PROPOSER.id).text
    # The empty comment is shown back; Send refuses it and the comment is asked for again.
    assert EMPTY in await told_at_send(bot, PROPOSER, "   ")
    assert await ratings(bot) == []
    assert (await reload(bot, pid)).status == ProposalStatus.ANSWERED

    await bot.write(PROPOSER, "只延长到七点不够。")
    (rating,) = await ratings(bot)
    assert rating.rating == "dissatisfied" and rating.comment == "只延长到七点不够。"
    stored = await reload(bot, pid)
    assert stored.status == ProposalStatus.ASSIGNED and stored.rounds == 2


# ---- 12. the same update twice ------------------------------------------------------------


async def test_the_same_confirm_update_delivered_twice_stores_one_proposal(
    bot: BotHarness,
) -> None:
    await setup_congress(bot)
    await write_proposal(bot, confirm=False)
    confirm = button(PROPOSER, pack("pp", "confirm", "yes"))

    await bot.feed(confirm)
    receipts = len(texts_to(bot, PROPOSER))
    await bot.feed(confirm)

    assert len(await proposals(bot)) == 1
    assert len(texts_to(bot, PROPOSER)) == receipts
    assert sum("已保存为" in text for text in texts_to(bot, PROPOSER)) == 1


async def test_pressing_confirm_again_stores_one_proposal(bot: BotHarness) -> None:
    await setup_congress(bot)
    await write_proposal(bot, confirm=False)

    await bot.press(PROPOSER, pack("pp", "confirm", "yes"))
    await bot.press(PROPOSER, pack("pp", "confirm", "yes"))

    assert len(await proposals(bot)) == 1
    assert sum("已保存为" in text for text in texts_to(bot, PROPOSER)) == 1
