"""Proposals: implementation, not only satisfaction (issue 17).

Through the real application: an answer carries its 落实情况 (已落实 / 正在落实 / 列入计划 /
因条件限制暂不能落实 with a reason shown back first), the committee changes it later from the
card and the proposer and co-signers are told, /proposals gives 落实率 with the answers that
have none counted and stated, the export has the column, and the handling results go to the
disclosure channel on a committee press only.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import col, select

from bot.callback import pack
from models.errors import InputError
from models.notices import NoticeKind
from models.organizations import bind_disclosure_chat
from models.proposals import (
    Implementation,
    ProposalAnswer,
    ProposalImplementationChange,
    ProposalStatus,
    answer,
)
from tests.support.fake_telegram import Call
from tests.support.harness import COMMITTEE_GROUP_ID, BotHarness
from tests.support.notices import check_published_notice, object_through_the_link
from tests.support.proposals import (
    COMMITTEE,
    GROUP,
    OUTSIDER,
    PROPOSER,
    SIGNER_A,
    SIGNER_B,
    School,
    committee_actor,
    file_and_submit,
    reload,
    setup_congress,
)
from tests.support.updates import Person
from tests.test_calendar_chat import drain

CHANNEL = -100777
NOT_COMMITTEE = "只有工会委员可以处理这一项。"
STATUS_LABELS = ["已落实", "正在落实", "列入计划", "因条件限制暂不能落实"]
TITLES = {
    Implementation.DONE: "建议食堂延长晚餐供应时间",
    Implementation.DOING: "改善教师办公室通风条件",
    Implementation.PLANNED: "增设教职工体检项目",
    Implementation.CANNOT: "新建室内体育馆",
}


# ---- helpers -----------------------------------------------------------------------------


async def assigned(bot: BotHarness, school: School, title: str) -> int:
    """PROPOSER's proposal, co-signed by both signers, filed and given to 教务处 (the committee
    answers for it)."""
    proposal = await file_and_submit(bot, title=title)
    pid = proposal.id or 0
    await bot.press(COMMITTEE, pack("pd", "fileok", pid), chat=GROUP)
    await bot.press(COMMITTEE, pack("pd", "asg", pid), chat=GROUP)
    await bot.press(COMMITTEE, pack("pd", "lead", pid, school.academic.id or 0), chat=GROUP)
    await bot.press(COMMITTEE, pack("pd", "asgok", pid), chat=GROUP)
    assert (await reload(bot, pid)).status == ProposalStatus.ASSIGNED
    return pid


async def answer_in_chat(
    bot: BotHarness, pid: int, status: str, text: str, reason: str | None = None
) -> None:
    """The committee presses 答复 on the card, picks the status, (gives the reason,) answers."""
    await bot.press(COMMITTEE, pack("pd", "ans", pid), chat=GROUP)
    await bot.press(COMMITTEE, bot.telegram.last(COMMITTEE.id).button_data(status))
    if reason is not None:
        await bot.write(COMMITTEE, reason)
    await bot.write(COMMITTEE, text)


def since(bot: BotHarness) -> int:
    return len(bot.telegram.calls)


def told(bot: BotHarness, person: Person, start: int) -> list[str]:
    """What `person` was sent since the `start`-th recorded call."""
    return [
        call.text
        for call in bot.telegram.calls[start:]
        if call.method == "sendMessage" and call.chat_id == person.id
    ]


def card_now(bot: BotHarness) -> Call:
    """The desk card as last edited in the committee group."""
    return bot.telegram.last(COMMITTEE_GROUP_ID, method="editMessageText")


def last_alert(bot: BotHarness) -> str:
    answered = bot.telegram.answers()[-1]
    assert answered.params.get("show_alert"), answered.params
    return answered.text


async def changes(bot: BotHarness, pid: int) -> list[ProposalImplementationChange]:
    async with bot.db() as session:
        statement = (
            select(ProposalImplementationChange)
            .where(ProposalImplementationChange.proposal_id == pid)
            .order_by(col(ProposalImplementationChange.id))
        )
        return list((await session.exec(statement)).all())


def local(bot: BotHarness, change: ProposalImplementationChange) -> str:
    zone = bot.app.state.settings.zone
    return change.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")


async def old_style_answer(bot: BotHarness, pid: int) -> None:
    """An answer stored the way answers were before 落实情况 was asked (no status)."""
    async with bot.db() as session:
        await answer(
            session,
            org_id=bot.org_id,
            proposal_id=pid,
            actor=await committee_actor(bot),
            body="已研究。",
        )


def keeping_files(bot: BotHarness, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bytes]]:
    """Record (file name, bytes) of every document the bot uploads from now on."""
    files: list[tuple[str, bytes]] = []
    recorded = bot.telegram.do_request

    async def keeping(url: str, method: str, request_data: Any = None, **kwargs: Any) -> Any:
        if url.endswith("/sendDocument") and request_data is not None:
            for value in (request_data.multipart_data or {}).values():
                files.append((str(value[0]), bytes(value[1])))
        return await recorded(url, method, request_data, **kwargs)

    monkeypatch.setattr(bot.telegram, "do_request", keeping)
    return files


# ---- the answer carries its 落实情况 ------------------------------------------------------


async def test_an_answer_with_each_status_is_stored_shown_and_told(bot: BotHarness) -> None:
    school = await setup_congress(bot)
    reason = "学校用地不足，近两年无法立项。"
    for status, title in TITLES.items():
        pid = await assigned(bot, school, title)
        await bot.press(COMMITTEE, pack("pd", "ans", pid), chat=GROUP)
        question = bot.telegram.last(COMMITTEE.id)
        assert "请先选择" in question.text and "落实情况" in question.text
        assert [label for label, _ in question.buttons()] == STATUS_LABELS
        assert question.button_data("已落实") == pack("pd", "ist", pid, "done")
        # Typing instead of choosing asks for the buttons again; nothing is stored.
        await bot.say(COMMITTEE, "已落实")
        assert (
            bot.telegram.last(COMMITTEE.id).text == "请先点按钮选择落实情况，或发送 /cancel 放弃。"
        )
        assert (await reload(bot, pid)).status == ProposalStatus.ASSIGNED

        start = since(bot)
        name = STATUS_LABELS[list(Implementation).index(status)]
        await bot.press(COMMITTEE, pack("pd", "ist", pid, status.value))
        if status == Implementation.CANNOT:
            await bot.write(COMMITTEE, reason)
        await bot.write(COMMITTEE, f"关于「{title}」的答复。")

        stored = await reload(bot, pid)
        assert stored.status == ProposalStatus.ANSWERED
        assert stored.implementation == status
        shown = f"{name}（原因：{reason}）" if status == Implementation.CANNOT else name
        assert stored.implementation_reason == (reason if status == Implementation.CANNOT else None)
        (change,) = await changes(bot, pid)
        committee = await committee_actor(bot)
        assert (change.status, change.with_answer, change.member_id, change.round) == (
            status,
            True,
            committee.id,
            1,
        )
        # The proposer (with the rating buttons) and both co-signers read the status.
        (to_proposer,) = told(bot, PROPOSER, start)
        assert to_proposer.endswith(f"落实情况：{shown}")
        assert f"关于「{title}」的答复。" in to_proposer
        for signer in (SIGNER_A, SIGNER_B):
            (to_signer,) = told(bot, signer, start)
            assert to_signer.startswith("📬 您附议的") and to_signer.endswith(f"落实情况：{shown}")
        # The card: the status, and who set it when, like the other decisions.
        card = card_now(bot).text
        assert f"落实情况：{shown}" in card
        assert f"　{name}（随答复填写）：刘委员，{local(bot, change)}" in card
        assert card_now(bot).button_data("更新落实情况") == pack("pd", "impl", pid)

    # /mine: the proposer sees each proposal's 落实情况.
    await bot.say(PROPOSER, "/mine")
    mine = bot.telegram.last(PROPOSER.id).text
    for name in ("已落实", "正在落实", "列入计划", f"因条件限制暂不能落实（原因：{reason}）"):
        assert f"  落实情况：{name}" in mine


async def test_not_possible_needs_a_reason_shown_back_before_it_is_sent(bot: BotHarness) -> None:
    school = await setup_congress(bot)
    pid = await assigned(bot, school, TITLES[Implementation.CANNOT])
    await bot.press(COMMITTEE, pack("pd", "ans", pid), chat=GROUP)
    await bot.press(COMMITTEE, pack("pd", "ist", pid, "cannot"))
    prompt = bot.telegram.last(COMMITTEE.id).text
    assert "✍️ 正在填写：提案第1号「新建室内体育馆」暂不能落实的原因（发给提案人和附议人）" in prompt
    assert "请写明提案第1号「新建室内体育馆」因条件限制暂不能落实的原因" in prompt

    # Symbols are no reason: asked again, nothing shown back.
    await bot.say(COMMITTEE, "🙏🙏")
    assert bot.telegram.last(COMMITTEE.id).buttons() == []
    # The reason comes back with Send / Edit / Cancel; Edit lets it be typed again.
    await bot.say(COMMITTEE, "没钱")
    shown = bot.telegram.last(COMMITTEE.id)
    assert shown.text.startswith(
        "请核对，下面是将要发出的提案第1号「新建室内体育馆」暂不能落实的原因"
    )
    assert shown.text.endswith("没钱")
    assert [label for label, _ in shown.buttons()] == ["✅ 发送", "✏️ 修改", "取消"]
    await bot.press(COMMITTEE, shown.button_data("修改"))
    await bot.write(COMMITTEE, "市里尚未批复建设用地。")
    # Only then the answer is asked, and shown back too.
    assert "请写提案第1号「新建室内体育馆」的答复" in bot.telegram.last(COMMITTEE.id).text
    assert (await reload(bot, pid)).status == ProposalStatus.ASSIGNED
    await bot.write(COMMITTEE, "学校已向上级反映，待批复后再议。")

    stored = await reload(bot, pid)
    assert (stored.status, stored.implementation, stored.implementation_reason) == (
        ProposalStatus.ANSWERED,
        Implementation.CANNOT,
        "市里尚未批复建设用地。",
    )
    assert bot.telegram.last(PROPOSER.id).text.endswith(
        "落实情况：因条件限制暂不能落实（原因：市里尚未批复建设用地。）"
    )


async def test_the_rule_refuses_not_possible_without_a_reason(bot: BotHarness) -> None:
    school = await setup_congress(bot)
    pid = await assigned(bot, school, TITLES[Implementation.CANNOT])
    for reason in (None, "  ", "？？"):
        with pytest.raises(InputError):
            async with bot.db() as session:
                await answer(
                    session,
                    org_id=bot.org_id,
                    proposal_id=pid,
                    actor=await committee_actor(bot),
                    body="暂不能落实。",
                    implementation=Implementation.CANNOT,
                    reason=reason,
                )
    stored = await reload(bot, pid)
    assert (stored.status, stored.implementation) == (ProposalStatus.ASSIGNED, None)
    async with bot.db() as session:
        assert list((await session.exec(select(ProposalAnswer))).all()) == []
    assert await changes(bot, pid) == []


async def test_cancel_while_choosing_stores_nothing(bot: BotHarness) -> None:
    school = await setup_congress(bot)
    pid = await assigned(bot, school, TITLES[Implementation.DONE])
    await bot.press(COMMITTEE, pack("pd", "ans", pid), chat=GROUP)
    await bot.say(COMMITTEE, "/cancel")
    # The old question's button no longer starts anything.
    await bot.press(COMMITTEE, pack("pd", "ist", pid, "done"))
    assert (await reload(bot, pid)).status == ProposalStatus.ASSIGNED
    assert await changes(bot, pid) == []


# ---- a later change by the committee -----------------------------------------------------


async def test_the_committee_updates_the_status_and_proposer_and_cosigners_are_told(
    bot: BotHarness,
) -> None:
    school = await setup_congress(bot)
    pid = await assigned(bot, school, TITLES[Implementation.PLANNED])
    await answer_in_chat(bot, pid, "列入计划", "已列入下学期计划。")
    label = "提案第1号「增设教职工体检项目」"

    # The card's button, pressed in the group: the question comes privately, with the status.
    await bot.press(COMMITTEE, card_now(bot).button_data("更新落实情况"), chat=GROUP)
    question = bot.telegram.last(COMMITTEE.id)
    assert question.text.startswith(f"{label}现在的落实情况：列入计划。")
    assert [label for label, _ in question.buttons()] == STATUS_LABELS
    start = since(bot)
    await bot.press(COMMITTEE, question.button_data("已落实"))

    stored = await reload(bot, pid)
    assert (stored.implementation, stored.implementation_reason) == (Implementation.DONE, None)
    first, second = await changes(bot, pid)
    committee = await committee_actor(bot)
    assert (first.status, first.with_answer) == (Implementation.PLANNED, True)
    assert (second.status, second.with_answer, second.member_id) == (
        Implementation.DONE,
        False,
        committee.id,
    )
    for person in (PROPOSER, SIGNER_A, SIGNER_B):
        assert told(bot, person, start) == [
            f"📌 {label}的落实情况已更新为：已落实（原为：列入计划）。"
        ]
    assert told(bot, OUTSIDER, start) == []
    card = card_now(bot).text
    assert "落实情况：已落实" in card
    assert f"　列入计划（随答复填写）：刘委员，{local(bot, first)}" in card
    assert f"　改为已落实：刘委员，{local(bot, second)}" in card

    # The same status again changes nothing and tells nobody.
    await bot.press(COMMITTEE, pack("pd", "impl", pid), chat=GROUP)
    start = since(bot)
    await bot.press(COMMITTEE, pack("pd", "ist", pid, "done"))
    assert bot.telegram.last(COMMITTEE.id).text == "落实情况没有变化，未作更新。"
    assert told(bot, PROPOSER, start) == []
    assert len(await changes(bot, pid)) == 2

    # A change to 暂不能落实 asks for the reason first; the proposer reads it.
    await bot.press(COMMITTEE, pack("pd", "impl", pid), chat=GROUP)
    await bot.press(COMMITTEE, pack("pd", "ist", pid, "cannot"))
    start = since(bot)
    await bot.write(COMMITTEE, "体检机构合同到期，需重新招标。")
    assert (await reload(bot, pid)).implementation == Implementation.CANNOT
    assert told(bot, SIGNER_A, start) == [
        f"📌 {label}的落实情况已更新为：因条件限制暂不能落实（原因：体检机构合同到期，"
        "需重新招标。）（原为：已落实）。"
    ]


async def test_a_non_committee_press_cannot_update_the_status(bot: BotHarness) -> None:
    school = await setup_congress(bot)
    pid = await assigned(bot, school, TITLES[Implementation.PLANNED])
    await answer_in_chat(bot, pid, "列入计划", "已列入下学期计划。")

    await bot.press(OUTSIDER, pack("pd", "impl", pid))
    assert NOT_COMMITTEE in last_alert(bot)
    await bot.press(OUTSIDER, pack("pd", "ist", pid, "done"))
    await bot.press(PROPOSER, pack("pd", "impl", pid))
    assert NOT_COMMITTEE in last_alert(bot)
    assert (await reload(bot, pid)).implementation == Implementation.PLANNED
    assert len(await changes(bot, pid)) == 1


# ---- 落实率 in /proposals, answers without a status ----------------------------------------


async def test_implementation_rate_counts_answered_proposals_and_states_the_unknown(
    bot: BotHarness,
) -> None:
    """Five answered proposals: 已落实, 正在落实, 列入计划, 暂不能落实, and one answered before
    the status was asked. 落实率 = (1 + 1) / 5 answered = 40%; one is stated as unknown."""
    school = await setup_congress(bot)
    for status, title in TITLES.items():
        pid = await assigned(bot, school, title)
        name = STATUS_LABELS[list(Implementation).index(status)]
        reason = "用地不足。" if status == Implementation.CANNOT else None
        await answer_in_chat(bot, pid, name, "答复。", reason)
    old = await assigned(bot, school, "教师子女入园问题")
    await old_style_answer(bot, old)
    unanswered = await assigned(bot, school, "延长图书馆开放时间")

    await bot.say(COMMITTEE, "/proposals")
    text = bot.telegram.last(COMMITTEE.id).text
    assert "已答复 5 件" in text
    assert "满意率 —（满意和基本满意，0 件已评价）" in text  # its own figure, untouched
    assert "落实率 40%（已落实和正在落实占已答复件数；目标 95%） ⚠️ 未达标" in text
    assert "落实情况：已落实 1 件，正在落实 1 件，列入计划 1 件，因条件限制暂不能落实 1 件" in text
    assert "另有 1 件已答复提案未填写落实情况（计入已答复件数，不算作落实）" in text

    # The old answer's card says so, and the committee can fill it in.
    await bot.say(COMMITTEE, "/proposals 5")
    card = bot.telegram.last(COMMITTEE.id)
    assert "落实情况：未填写落实情况" in card.text
    assert card.button_data("更新落实情况") == pack("pd", "impl", old)
    await bot.say(COMMITTEE, "/proposals 6")
    unanswered_card = bot.telegram.last(COMMITTEE.id)
    assert "落实情况" not in unanswered_card.text
    assert (await reload(bot, unanswered)).implementation is None
    await bot.say(PROPOSER, "/mine")
    assert "  落实情况：未填写落实情况" in bot.telegram.last(PROPOSER.id).text

    await bot.press(COMMITTEE, pack("pd", "impl", old), chat=GROUP)
    await bot.press(COMMITTEE, pack("pd", "ist", old, "doing"))
    assert "（原为：未填写落实情况）" in told(bot, PROPOSER, 0)[-1]
    await bot.say(COMMITTEE, "/proposals")
    text = bot.telegram.last(COMMITTEE.id).text
    assert "落实率 60%（已落实和正在落实占已答复件数；目标 95%）" in text
    assert "未填写落实情况" not in text


# ---- the export --------------------------------------------------------------------------


async def test_the_export_has_the_implementation_column(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    school = await setup_congress(bot)
    done = await assigned(bot, school, TITLES[Implementation.DONE])
    await answer_in_chat(bot, done, "已落实", "已办好。")
    cannot = await assigned(bot, school, TITLES[Implementation.CANNOT])
    await answer_in_chat(bot, cannot, "因条件限制", "暂缓。", "=用地不足")
    old = await assigned(bot, school, "教师子女入园问题")
    await old_style_answer(bot, old)
    await assigned(bot, school, "延长图书馆开放时间")
    files = keeping_files(bot, monkeypatch)

    await bot.say(COMMITTEE, "/proposals")
    figures = bot.telegram.last(COMMITTEE.id)
    await bot.press(COMMITTEE, figures.button_data("导出提案办理表"))

    ((filename, content),) = files
    assert filename == f"proposals-{school.congress.id}.xlsx"
    rows = [
        list(row) for row in load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True)
    ]
    assert rows[0] == [
        "提案号",
        "案由",
        "类别",
        "提案人",
        "办理状态",
        "主办部门",
        "协办部门",
        "落实情况",
        "暂不能落实的原因",
        "提案人评价",
    ]
    assert [(row[0], row[1], row[5], row[7], row[8]) for row in rows[1:]] == [
        (1, TITLES[Implementation.DONE], "教务处", "已落实", None),
        (2, TITLES[Implementation.CANNOT], "教务处", "因条件限制暂不能落实", "'=用地不足"),
        (3, "教师子女入园问题", "教务处", "未填写落实情况", None),
        (4, "延长图书馆开放时间", "教务处", None, None),
    ]
    assert rows[1][3] == "王老师 · 数学组"

    # Not for anyone else.
    await bot.press(OUTSIDER, pack("cg", "xlsx", school.congress.id or 0))
    assert NOT_COMMITTEE in last_alert(bot)
    assert len(files) == 1


# ---- publishing the handling results -----------------------------------------------------


async def test_the_handling_results_are_published_on_a_committee_press(bot: BotHarness) -> None:
    school = await setup_congress(bot)
    session_id = school.congress.id or 0
    done = await assigned(bot, school, TITLES[Implementation.DONE])
    await answer_in_chat(bot, done, "已落实", "已办好。")
    planned = await assigned(bot, school, TITLES[Implementation.PLANNED])
    await answer_in_chat(bot, planned, "列入计划", "下学期。")
    old = await assigned(bot, school, "教师子女入园问题")
    await old_style_answer(bot, old)
    await assigned(bot, school, "延长图书馆开放时间")

    # No channel bound yet: said plainly, nothing posted.
    await bot.say(COMMITTEE, "/proposals")
    await bot.press(COMMITTEE, bot.telegram.last(COMMITTEE.id).button_data("公示办理结果"))
    assert "还没有绑定校务公开栏频道" in last_alert(bot)
    async with bot.db() as session:
        await bind_disclosure_chat(session, org_id=bot.org_id, chat_id=CHANNEL)

    # Asked once, with what will be posted.
    await bot.press(COMMITTEE, pack("cg", "pub", session_id, "ask"))
    question = bot.telegram.last(COMMITTEE.id)
    assert question.text.startswith("以下办理结果将发到校务公开栏频道")
    assert bot.telegram.sent(chat_id=CHANNEL) == []

    # A non-committee press is refused, even with the question's own button.
    await bot.press(OUTSIDER, question.button_data("确定公示"))
    assert NOT_COMMITTEE in last_alert(bot)
    assert bot.telegram.sent(chat_id=CHANNEL) == []

    await bot.press(COMMITTEE, question.button_data("确定公示"))
    # Published as a 公示 notice: stored with the default period, posted with 提出异议.
    notice, post = await check_published_notice(
        bot, kind=NoticeKind.PROPOSALS, channel_id=CHANNEL, audience="representatives"
    )
    assert notice.title == "第八届教代会第一次会议提案办理结果"
    assert (post,) == tuple(bot.telegram.sent(chat_id=CHANNEL))
    assert post.text.split("\n")[2:11] == [
        "立案 4 件，已答复 3 件，落实率 33.3%（已落实和正在落实占已答复件数）。",
        "另有 1 件已答复提案未填写落实情况（计入已答复件数，不算作落实）",
        "",
        f"• 提案第1号「{TITLES[Implementation.DONE]}」 · 主办：教务处 · 已落实",
        f"• 提案第2号「{TITLES[Implementation.PLANNED]}」 · 主办：教务处 · 列入计划",
        "• 提案第3号「教师子女入园问题」 · 主办：教务处 · 未填写落实情况",
        "• 提案第4号「延长图书馆开放时间」 · 主办：教务处 · 承办中",
        "",
        post.text.split("\n")[10],
    ]
    assert post.text.split("\n")[10].startswith("公示期自")
    assert "王老师" not in post.text and "赵老师" not in post.text
    edited = bot.telegram.last(COMMITTEE.id, method="editMessageText")
    assert edited.text.startswith(
        f"已将第八届教代会第一次会议的提案办理结果作为公示（{notice.number}）发到校务公开栏，"
        "并发给3位代表"
    )
    # The representatives get it with 提出异议; the ordinary member does not.
    await drain(bot)
    (copy,) = [c for c in bot.telegram.sent(chat_id=SIGNER_A.id) if c.text == post.text]
    assert copy.button_data("提出异议") == pack("nto", "ask", notice.id or 0)
    assert notice.title not in "\n".join(bot.telegram.texts(OUTSIDER.id))
    # Anyone may object through the channel's link: it reaches the committee as a card.
    await object_through_the_link(bot, OUTSIDER, notice, "第4号提案至今没有答复，请说明原因。")

    # Cancel under a new question: nothing more is posted.
    await bot.press(COMMITTEE, pack("cg", "pub", session_id, "ask"))
    await bot.press(COMMITTEE, bot.telegram.last(COMMITTEE.id).button_data("取消"))
    assert len(bot.telegram.sent(chat_id=CHANNEL)) == 1
    assert bot.telegram.last(COMMITTEE.id, method="editMessageText").text == "已取消，没有公示。"
