"""The committee's proposal tools through the real application: /congress (sessions and opening
a window), /proposals (figures, the list, a proposal's card), /departments and their handlers,
and the daily proposal job (windows that closed, answers past their deadline)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlmodel import col, select

from bot.callback import pack
from models.desk import DeskCard
from models.members import Actor, Role
from models.outbox import OutboxMessage
from models.proposals import (
    CongressSession,
    Department,
    Filers,
    Implementation,
    ProposalSigner,
    ProposalStatus,
    Rating,
    answer,
    assign,
    close_by_committee,
    cosign,
    create_draft,
    merge,
    open_session,
    rate,
    triage,
    withdraw,
)
from scheduler.proposal_jobs import proposal_day
from scheduler.runtime import Runtime
from tests.support.factories import make_member
from tests.support.harness import CHAIR, COMMITTEE_GROUP_ID, BotHarness
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
    committee_actor,
    file_and_submit,
    proposals,
    reload,
    setup_congress,
    today,
    write_proposal,
)
from tests.support.updates import Person

T = TypeVar("T")
Status = ProposalStatus
NOT_COMMITTEE = "只有工会委员可以处理这一项。"
CHAIR_ONLY = "只有工会主席可以设置角色。"
FIRST_SESSION = "第八届教代会第一次会议"  # the session setup_congress makes

_tokens = itertools.count(1)


# ---- helpers -----------------------------------------------------------------------------


async def call(bot: BotHarness, function: Callable[..., Awaitable[T]], **arguments: Any) -> T:
    """One domain call of the bot's organization, in a session of its own."""
    async with bot.db() as session:
        return await function(session, org_id=bot.org_id, **arguments)


async def make_chair(bot: BotHarness) -> None:
    """The owner, stored as the chair."""
    await make_member(bot.db, org_id=bot.org_id, person=CHAIR, name="张主席", roles=[Role.CHAIR])


async def sessions(bot: BotHarness) -> list[CongressSession]:
    """Every stored congress session, oldest first."""
    async with bot.db() as session:
        statement = select(CongressSession).order_by(col(CongressSession.id))
        return list((await session.exec(statement)).all())


async def open_window(
    bot: BotHarness,
    person: Person,
    *,
    name: str,
    opens: date,
    closes: date,
    days: str = "30",
    cosigners: str = "2",
    filers: str = "representatives",
    confirm: str = "yes",
) -> None:
    """Walk the whole /congress opening conversation."""
    await bot.press(person, pack("cg", "new"))
    await bot.say(person, name)
    await bot.say(person, f"{opens.isoformat()} 至 {closes.isoformat()}")
    await bot.press(person, pack("cg", "days", days))
    await bot.press(person, pack("cg", "cos", cosigners))
    await bot.press(person, pack("cg", "filers", filers))
    await bot.press(person, pack("cg", "ok", confirm))


def last_text(bot: BotHarness, person: Person) -> str:
    """The latest message the bot sent to `person`."""
    return bot.telegram.last(person.id).text


def last_answer(bot: BotHarness) -> tuple[str, bool]:
    """The latest answer to a button press: (text, shown as an alert?)."""
    answered = bot.telegram.answers()[-1]
    return answered.text, bool(answered.params.get("show_alert"))


async def outbox_rows(bot: BotHarness) -> list[OutboxMessage]:
    """Every outbox row, oldest first."""
    async with bot.db() as session:
        statement = select(OutboxMessage).order_by(col(OutboxMessage.id))
        return list((await session.exec(statement)).all())


def runtime_of(bot: BotHarness) -> Runtime:
    """The runtime start-up installed (what the scheduler's jobs get)."""
    runtime = bot.app.state.runtime
    assert runtime is not None
    return runtime


async def run_day(bot: BotHarness, day: date) -> tuple[int, dict[int, list[str]]]:
    """Run the daily proposal job for `day`: (its count, the outbox texts it added by chat)."""
    before = {row.id for row in await outbox_rows(bot)}
    queued = await proposal_day(runtime_of(bot), today=day)
    added: dict[int, list[str]] = {}
    for row in await outbox_rows(bot):
        if row.id not in before:
            added.setdefault(row.chat_id, []).append(row.text)
    return queued, added


# ---- /congress ---------------------------------------------------------------------------


async def test_congress_lists_sessions_for_the_committee_only(bot: BotHarness) -> None:
    await make_chair(bot)
    await bot.say(CHAIR, "/congress")
    empty = bot.telegram.last(CHAIR.id)
    assert "教代会提案征集" in empty.text and "还没有教代会提案征集" in empty.text
    assert empty.button_data("开启新的提案征集") == pack("cg", "new")

    school = await setup_congress(bot, min_cosigners=3)
    await bot.say(COMMITTEE, "/congress")
    listing = bot.telegram.last(COMMITTEE.id)
    congress = school.congress
    assert f"{FIRST_SESSION}（正在征集）" in listing.text
    window = f"征集期 {congress.opens_on.isoformat()} 至 {congress.closes_on.isoformat()}"
    assert window in listing.text
    assert "仅教代会代表可提交；至少 3 位附议人；30 天内答复" in listing.text
    assert listing.button_data("开启新的提案征集") == pack("cg", "new")

    await bot.say(OUTSIDER, "/congress")
    assert last_text(bot, OUTSIDER) == NOT_COMMITTEE
    await bot.press(OUTSIDER, pack("cg", "new"))
    assert last_answer(bot) == (NOT_COMMITTEE, True)


async def test_opening_a_window_asks_again_for_bad_dates_and_stores_the_choices(
    bot: BotHarness,
) -> None:
    await setup_congress(bot, window=False)  # a planned window: day+5 .. day+19
    day = today(bot)

    await bot.press(COMMITTEE, pack("cg", "new"))
    assert "请写会议名称（不超过 60 字）" in last_text(bot, COMMITTEE)
    await bot.say(COMMITTEE, "第八届教代会第二次会议")
    assert "征集从哪天到哪天" in last_text(bot, COMMITTEE)

    first, last = day + timedelta(days=30), day + timedelta(days=44)
    refusals = [
        (first.isoformat(), "没看懂日期"),  # one date
        ("abc", "没看懂日期"),
        (f"{last.isoformat()} 至 {first.isoformat()}", "截止日期不能早于开始日期"),
        (
            f"{(day - timedelta(days=20)).isoformat()} 至 {(day - timedelta(days=6)).isoformat()}",
            "截止日期已经过去了",
        ),
    ]
    for typed, refusal in refusals:
        await bot.say(COMMITTEE, typed)
        assert refusal in last_text(bot, COMMITTEE), typed
    assert len(await sessions(bot)) == 1

    await bot.say(COMMITTEE, f"{first.isoformat()} 至 {last.isoformat()}")
    step = bot.telegram.last(COMMITTEE.id)
    assert "多少天内答复" in step.text
    assert [label for label, _ in step.buttons()] == ["15 天", "30 天 ✓", "60 天"]
    await bot.press(COMMITTEE, step.button_data("15 天"))
    step = bot.telegram.last(COMMITTEE.id)
    assert "至少需要几位附议人" in step.text
    assert [label for label, _ in step.buttons()] == ["0", "1", "2 ✓", "3", "5"]
    await bot.press(COMMITTEE, pack("cg", "cos", "3"))
    step = bot.telegram.last(COMMITTEE.id)
    assert "谁可以提交和附议提案" in step.text
    await bot.press(COMMITTEE, step.button_data("全体会员"))
    preview = bot.telegram.last(COMMITTEE.id)
    assert "请确认" in preview.text
    assert "第八届教代会第二次会议（尚未开始）" in preview.text
    assert f"征集期 {first.isoformat()} 至 {last.isoformat()}" in preview.text
    assert "全体会员可提交；至少 3 位附议人；15 天内答复" in preview.text
    assert len(await sessions(bot)) == 1  # nothing stored before the confirmation

    await bot.press(COMMITTEE, pack("cg", "ok", "yes"))
    assert "已开启「第八届教代会第二次会议」的提案征集" in last_text(bot, COMMITTEE)
    stored = (await sessions(bot))[-1]
    assert (stored.name, stored.opens_on, stored.closes_on) == (
        "第八届教代会第二次会议",
        first,
        last,
    )
    assert (stored.reply_days, stored.min_cosigners, stored.filers) == (15, 3, Filers.MEMBERS)

    await bot.say(COMMITTEE, "/congress")
    listing = last_text(bot, COMMITTEE)
    assert "第八届教代会第二次会议（尚未开始）" in listing
    assert f"{FIRST_SESSION}（尚未开始）" in listing


async def test_an_overlapping_window_is_refused_naming_the_other_session(
    bot: BotHarness,
) -> None:
    school = await setup_congress(bot, window=False)
    planned = school.congress
    await open_window(
        bot,
        COMMITTEE,
        name="第八届教代会第二次会议",
        opens=planned.closes_on - timedelta(days=2),
        closes=planned.closes_on + timedelta(days=10),
    )
    assert f"与「{FIRST_SESSION}」的征集期重叠" in last_text(bot, COMMITTEE)
    assert [s.name for s in await sessions(bot)] == [FIRST_SESSION]


async def test_cancel_stores_nothing(bot: BotHarness) -> None:
    await setup_congress(bot, window=False)
    day = today(bot)
    await open_window(
        bot,
        COMMITTEE,
        name="第八届教代会第二次会议",
        opens=day + timedelta(days=40),
        closes=day + timedelta(days=50),
        confirm="cancel",
    )
    assert "已取消，没有开启征集" in last_text(bot, COMMITTEE)

    await bot.press(COMMITTEE, pack("cg", "new"))
    await bot.say(COMMITTEE, "第八届教代会第三次会议")
    await bot.say(COMMITTEE, "/cancel")
    assert "已取消，没有开启征集" in last_text(bot, COMMITTEE)
    await bot.say(COMMITTEE, f"{day.isoformat()} 至 {(day + timedelta(days=3)).isoformat()}")
    assert [s.name for s in await sessions(bot)] == [FIRST_SESSION]


async def test_a_window_opening_today_starts_waiting_drafts_for_cosigning(
    bot: BotHarness,
) -> None:
    school = await setup_congress(bot, window=False)
    await write_proposal(bot)
    (draft,) = await proposals(bot)
    assert (draft.status, draft.session_id) == (Status.DRAFT, None)

    day = today(bot)
    await open_window(
        bot, COMMITTEE, name="临时代表会议", opens=day, closes=day + timedelta(days=3)
    )
    opened = (await sessions(bot))[-1]
    assert opened.name == "临时代表会议" and opened.id != school.congress.id
    moved = await reload(bot, draft.id)
    assert (moved.status, moved.session_id, moved.number) == (Status.COSIGNING, opened.id, None)
    told = last_text(bot, PROPOSER)
    assert "「临时代表会议」开始征集提案" in told
    assert f"提案草稿 #{draft.id}「建议食堂延长晚餐供应时间」" in told
    assert "需要 2 人" in told
    assert f"?start=cosign-{draft.id}" in told and f"/cosign {draft.id}" in told
    assert bot.telegram.sent(chat_id=COMMITTEE_GROUP_ID) == []


async def test_a_window_without_cosigners_submits_waiting_drafts_at_once(
    bot: BotHarness,
) -> None:
    await setup_congress(bot, window=False)
    await write_proposal(bot)
    (draft,) = await proposals(bot)

    day = today(bot)
    await open_window(
        bot,
        COMMITTEE,
        name="临时代表会议",
        opens=day,
        closes=day + timedelta(days=3),
        cosigners="0",
    )
    submitted = await reload(bot, draft.id)
    assert (submitted.status, submitted.number) == (Status.SUBMITTED, 1)
    assert submitted.session_id == (await sessions(bot))[-1].id
    desk = card(bot)
    assert "提案第1号「建议食堂延长晚餐供应时间」" in desk.text
    assert desk.button_data("立案") == pack("pd", "file", draft.id or 0)
    assert "提案第1号「建议食堂延长晚餐供应时间」已提交" in last_text(bot, PROPOSER)


async def test_a_returned_draft_whose_kept_signatures_suffice_is_submitted_when_a_window_opens(
    bot: BotHarness,
) -> None:
    await setup_congress(bot, window=False)
    day = today(bot)
    spring = day - timedelta(days=30)
    committee = await committee_actor(bot)
    await call(
        bot,
        open_session,
        actor=committee,
        name="第八届教代会预备会议",
        opens_on=spring,
        closes_on=spring + timedelta(days=14),
    )
    wang = await committee_actor(bot, PROPOSER)
    pid = await draft_of(bot, wang, "建议增设教师休息室", spring)
    await call(
        bot, cosign, proposal_id=pid, actor=await committee_actor(bot, SIGNER_A), today=spring
    )
    await run_day(bot, day)  # the spring window closed: back to draft, signature kept
    assert (await reload(bot, pid)).status == Status.DRAFT

    await open_window(
        bot,
        COMMITTEE,
        name="临时代表会议",
        opens=day,
        closes=day + timedelta(days=3),
        cosigners="1",
    )
    stored = await reload(bot, pid)
    assert (stored.status, stored.number) == (Status.SUBMITTED, 1)
    assert "提案第1号「建议增设教师休息室」" in card(bot).text


# ---- /proposals --------------------------------------------------------------------------


def titled(n: int) -> str:
    """The title of proposal P<n> in the hand-computed session."""
    return f"议题{n:02d}"


async def draft_of(bot: BotHarness, proposer: Actor, title: str, day: date) -> int:
    """A confirmed proposal stored through the domain (co-signing when a window is open)."""
    proposal = await call(
        bot,
        create_draft,
        actor=proposer,
        title=title,
        reasons="理由。",
        measures="措施。",
        client_token=f"committee-test-{next(_tokens)}",
        today=day,
    )
    assert proposal.id is not None
    return proposal.id


async def build_session(bot: BotHarness, school: School) -> dict[int, int]:
    """Twenty proposals with known outcomes in the open session (one co-signer needed).

    P1..P18 by 王 co-signed by 赵, P19 and P20 by 孙 co-signed by 赵; P19 is merged into P1 and
    P20 into P2 (孙 and 赵 become co-authors). Not counted: P21 withdrawn after submission and
    P22 still co-signing.

        P      outcome                                                 status     verdict
        1      answered; co-author 孙 不满意, proposer 满意             closed     满意
        2-8    answered, 满意                                         closed     满意
        9-10   answered, 基本满意                                     closed     基本满意
        11     answered, 不满意 -> round 2, answered, 满意            closed     满意
        12     answered, 不满意 -> the committee closes with a note   closed     不满意
        13     answered, 不满意 -> back with the department           assigned   不满意
        14     answered, not rated yet                               answered   -
        15     filed, not assigned                                   filed      -
        16     converted to a suggestion                             converted  -
        17-18  not filed                                             not_filed  -
        19-20  merged                                                merged     -

        collected   = 18 + 2 merged                          = 20
        submitted   = P1..P18                                = 18
        filed       = P1..P15                                = 15
        answered    = P14 + closed P1..P12                   = 13
        closed      = P1..P12                                = 12
        rated       = proposers' latest verdicts P1..P13     = 13
        satisfied   = P1..P11                                = 11
        落实情况 (first answers: P1..P7 已落实, P8-P9 正在落实, P10 列入计划, P11 none then
        已落实 in round 2, P12 暂不能落实, P13 已落实 but back in round 2, P14 none) of the 13
        answered: 已落实 8 (P1..P7, P11), 正在落实 2, 列入计划 1, 暂不能落实 1, unknown 1 (P14)
        立案率 15/18 = 83.3%   办结率 12/15 = 80%   满意率 11/13 = 84.6%
        落实率 (8 + 2)/13 = 76.9%   below the 95% target
    """
    day = today(bot)
    wang = await committee_actor(bot, PROPOSER)
    zhao = await committee_actor(bot, SIGNER_A)
    sun = await committee_actor(bot, SIGNER_B)
    committee = await committee_actor(bot, COMMITTEE)
    p: dict[int, int] = {}
    for n in range(1, 21):
        proposer = sun if n >= 19 else wang
        p[n] = await draft_of(bot, proposer, titled(n), day)
        await call(bot, cosign, proposal_id=p[n], actor=zhao, today=day)
        assert (await reload(bot, p[n])).number == n
    withdrawn = await draft_of(bot, wang, "撤回的提案", day)
    await call(bot, cosign, proposal_id=withdrawn, actor=zhao, today=day)
    await call(bot, withdraw, proposal_id=withdrawn, actor=wang)
    await draft_of(bot, wang, "还在附议的提案", day)

    await call(bot, merge, survivor_id=p[1], merged_ids=[p[19]], actor=committee)
    await call(bot, merge, survivor_id=p[2], merged_ids=[p[20]], actor=committee)
    await call(bot, triage, proposal_id=p[16], actor=committee, outcome=Status.CONVERTED)
    for n in (17, 18):
        await call(
            bot,
            triage,
            proposal_id=p[n],
            actor=committee,
            outcome=Status.NOT_FILED,
            reason="不属于提案范围",
        )
    lead = school.logistics.id or 0
    for n in range(1, 16):
        await call(bot, triage, proposal_id=p[n], actor=committee, outcome=Status.FILED)
    done, doing, planned = Implementation.DONE, Implementation.DOING, Implementation.PLANNED
    said = [done] * 7 + [doing, doing, planned, None, Implementation.CANNOT, done, None]
    for n in range(1, 15):
        await call(
            bot, assign, proposal_id=p[n], actor=committee, lead_department_id=lead, today=day
        )
        await call(
            bot,
            answer,
            proposal_id=p[n],
            actor=committee,
            body="已落实。",
            implementation=said[n - 1],
            reason="经费所限。" if said[n - 1] == Implementation.CANNOT else None,
        )

    async def verdict(n: int, who: Actor, rating: Rating, comment: str | None = None) -> None:
        await call(
            bot, rate, proposal_id=p[n], actor=who, rating=rating, comment=comment, today=day
        )

    await verdict(1, sun, Rating.DISSATISFIED, "还不够")  # a co-author: recorded only
    for n in range(1, 9):
        await verdict(n, wang, Rating.SATISFIED)
    for n in (9, 10):
        await verdict(n, wang, Rating.BASIC)
    for n in (11, 12, 13):
        await verdict(n, wang, Rating.DISSATISFIED, "未落实")
    await call(
        bot,
        answer,
        proposal_id=p[11],
        actor=committee,
        body="第二轮：已落实。",
        implementation=Implementation.DONE,
    )
    await verdict(11, wang, Rating.SATISFIED)
    await call(bot, close_by_committee, proposal_id=p[12], actor=committee, note="经费所限。")

    outcomes = [Status.CLOSED] * 12 + [Status.ASSIGNED, Status.ANSWERED, Status.FILED]
    outcomes += [Status.CONVERTED, Status.NOT_FILED, Status.NOT_FILED]
    outcomes += [Status.MERGED, Status.MERGED]
    assert {n: (await reload(bot, p[n])).status for n in p} == dict(enumerate(outcomes, 1))
    return p


async def past_session(bot: BotHarness) -> CongressSession:
    """A session that closed half a year ago, with one proposal closed to its proposer's
    satisfaction: every rate is 100%."""
    day = today(bot)
    opens = day - timedelta(days=200)
    committee = await committee_actor(bot, COMMITTEE)
    wang = await committee_actor(bot, PROPOSER)
    zhao = await committee_actor(bot, SIGNER_A)
    congress = await call(
        bot,
        open_session,
        actor=committee,
        name="第七届教代会第三次会议",
        opens_on=opens,
        closes_on=opens + timedelta(days=14),
        min_cosigners=1,
    )
    pid = await draft_of(bot, wang, "去年的提案", opens)
    await call(bot, cosign, proposal_id=pid, actor=zhao, today=opens)
    await call(bot, triage, proposal_id=pid, actor=committee, outcome=Status.FILED)
    async with bot.db() as session:
        department = (await session.exec(select(Department))).first()
    assert department is not None and department.id is not None
    await call(
        bot,
        assign,
        proposal_id=pid,
        actor=committee,
        lead_department_id=department.id,
        today=opens,
    )
    await call(
        bot,
        answer,
        proposal_id=pid,
        actor=committee,
        body="已解决。",
        implementation=Implementation.DONE,
    )
    await call(
        bot, rate, proposal_id=pid, actor=wang, rating=Rating.SATISFIED, comment=None, today=opens
    )
    assert (await reload(bot, pid)).status == Status.CLOSED
    return congress


async def test_proposals_shows_hand_computed_figures_and_the_list_by_status(
    bot: BotHarness,
) -> None:
    school = await setup_congress(bot, min_cosigners=1)
    await build_session(bot, school)
    past = await past_session(bot)

    await bot.say(COMMITTEE, "/proposals")
    shown = bot.telegram.last(COMMITTEE.id)
    text = shown.text
    assert f"📊 {FIRST_SESSION}" in text
    assert "征集 20 件，合并后 18 件" in text
    assert "立案 15 件（立案率 83.3%）" in text
    assert "已答复 13 件；办结 12 件（办结率 80%）" in text
    assert "满意率 84.6%（满意和基本满意，13 件已评价）" in text
    assert "落实率 76.9%（已落实和正在落实占已答复件数；目标 95%） ⚠️ 未达标" in text
    assert "落实情况：已落实 8 件，正在落实 2 件，列入计划 1 件，因条件限制暂不能落实 1 件" in text
    assert "另有 1 件已答复提案未填写落实情况（计入已答复件数，不算作落实）" in text
    assert "已达标" not in text

    groups = [
        "【已立案，待交办】1 件",
        "【承办中】1 件",
        "【已答复，待评价】1 件",
        "【已办结】12 件",
        "【征集附议中】1 件",
        "【不立案】2 件",
        "【已转为意见建议】1 件",
        "【已合并】2 件",
        "【已撤回】1 件",
    ]
    positions = [text.find(group) for group in groups]
    assert -1 not in positions, [g for g, at in zip(groups, positions, strict=True) if at < 0]
    assert positions == sorted(positions)
    assert "【已提交，待审查】" not in text
    assert f"• 提案第13号「{titled(13)}」 · 承办中（第 2 轮）" in text
    assert f"• 提案第15号「{titled(15)}」 · 已立案，待交办" in text
    assert "「还在附议的提案」 · 征集附议中" in text
    assert "/proposals 3" in text

    await bot.press(COMMITTEE, shown.button_data("第七届教代会第三次会议"))
    assert shown.button_data("第七届教代会第三次会议") == pack("cg", "fig", past.id or 0)
    earlier = last_text(bot, COMMITTEE)
    assert "📊 第七届教代会第三次会议" in earlier
    assert "征集 1 件，合并后 1 件" in earlier
    assert "立案 1 件（立案率 100%）" in earlier
    assert "已答复 1 件；办结 1 件（办结率 100%）" in earlier
    assert "满意率 100%（满意和基本满意，1 件已评价）" in earlier
    assert "落实率 100%（已落实和正在落实占已答复件数；目标 95%） ✅ 已达标" in earlier
    assert "未填写落实情况" not in earlier
    assert "「去年的提案」 · 已办结" in earlier
    assert titled(1) not in earlier


async def test_proposals_is_for_the_committee_and_an_empty_session_has_no_rates(
    bot: BotHarness,
) -> None:
    await setup_congress(bot)
    await bot.say(OUTSIDER, "/proposals")
    assert last_text(bot, OUTSIDER) == NOT_COMMITTEE

    await bot.say(COMMITTEE, "/proposals")
    text = last_text(bot, COMMITTEE)
    assert "征集 0 件，合并后 0 件" in text
    assert "立案 0 件（立案率 —）" in text
    assert "落实率 —（已落实和正在落实占已答复件数；目标 95%）" in text and "达标" not in text
    assert "这次会议还没有提案" in text


async def test_proposals_number_sends_a_card_that_later_changes_keep_up_to_date(
    bot: BotHarness,
) -> None:
    await setup_congress(bot)
    proposal = await file_and_submit(bot)
    assert proposal.number == 1

    await bot.say(COMMITTEE, "/proposals 1")
    private = bot.telegram.last(COMMITTEE.id)
    assert "提案第1号「建议食堂延长晚餐供应时间」" in private.text
    assert re.search(r"王老师（#\d+，数学组）", private.text)
    assert private.button_data("立案") == pack("pd", "file", proposal.id or 0)
    async with bot.db() as session:
        statement = select(DeskCard).where(
            DeskCard.kind == "prop", DeskCard.chat_id == COMMITTEE.id
        )
        (copy,) = (await session.exec(statement)).all()
    assert copy.item_id == proposal.id

    await bot.press(COMMITTEE, card(bot).button_data("立案"), chat=GROUP)
    await bot.press(COMMITTEE, card(bot).button_data("确定"), chat=GROUP)  # the question
    assert (await reload(bot, proposal.id)).status == Status.FILED
    edits = [
        edit
        for edit in bot.telegram.sent("editMessageText", chat_id=COMMITTEE.id)
        if int(edit.params["message_id"]) == copy.message_id
    ]
    assert edits, "the private copy of the card was not edited"
    assert "提案第1号「建议食堂延长晚餐供应时间」" in edits[-1].text
    assert "已立案，待交办" in edits[-1].text
    assert edits[-1].button_data("交办") == pack("pd", "asg", proposal.id or 0)

    # `#1` works too.
    await bot.say(COMMITTEE, "/proposals #1")
    assert "已立案，待交办" in last_text(bot, COMMITTEE)


async def test_proposals_with_an_unknown_or_malformed_number(bot: BotHarness) -> None:
    await setup_congress(bot)
    await file_and_submit(bot)
    await bot.say(COMMITTEE, "/proposals 99")
    assert last_text(bot, COMMITTEE) == "找不到这份提案，链接可能有误。"
    await bot.say(COMMITTEE, "/proposals abc")
    assert last_text(bot, COMMITTEE) == "请写提案号，例如 /proposals 3"


# ---- /departments ------------------------------------------------------------------------


async def departments(bot: BotHarness) -> dict[str, int | None]:
    """Department name -> handler member id."""
    async with bot.db() as session:
        rows = (await session.exec(select(Department).order_by(col(Department.id)))).all()
    return {row.name: row.handler_member_id for row in rows}


async def test_departments_list_add_and_usage(bot: BotHarness) -> None:
    school = await setup_congress(bot)

    await bot.say(COMMITTEE, "/departments")
    listing = last_text(bot, COMMITTEE)
    assert "提案承办部门" in listing
    assert "• 总务处：周主任" in listing
    assert "• 教务处：未指定，由工会委员代为录入答复" in listing

    await bot.say(COMMITTEE, "/departments add 后勤处")
    texts = bot.telegram.texts(COMMITTEE.id)
    assert "已添加部门：后勤处" in texts[-2]
    assert "• 后勤处：未指定，由工会委员代为录入答复" in texts[-1]
    assert await departments(bot) == {
        "总务处": school.handler.id,
        "教务处": None,
        "后勤处": None,
    }

    before = len(bot.telegram.texts(COMMITTEE.id))
    await bot.say(COMMITTEE, "/departments add 后勤处")
    texts = bot.telegram.texts(COMMITTEE.id)
    assert texts[before:] == ["已经有同名的部门了。"]
    assert list(await departments(bot)) == ["总务处", "教务处", "后勤处"]

    await bot.say(COMMITTEE, "/departments foo")
    assert last_text(bot, COMMITTEE).startswith("添加部门：/departments add 部门名称")
    assert len(await departments(bot)) == 3

    await bot.say(OUTSIDER, "/departments add 保卫处")
    assert last_text(bot, OUTSIDER) == NOT_COMMITTEE
    assert "保卫处" not in await departments(bot)


async def test_the_chair_names_a_handler_from_the_member_card_and_clears_it(
    bot: BotHarness,
) -> None:
    school = await setup_congress(bot)
    await make_chair(bot)
    wu = school.outsider.id or 0
    academic = school.academic.id or 0

    await bot.say(CHAIR, "/members 吴老师")
    await bot.press(CHAIR, bot.telegram.last(CHAIR.id).button_data("吴老师"))
    member_card = bot.telegram.last(CHAIR.id)
    await bot.press(CHAIR, member_card.button_data("指定为部门答复人"))
    choose = bot.telegram.last(CHAIR.id)
    assert "吴老师负责答复哪个部门的提案" in choose.text
    assert [label for label, _ in choose.buttons()] == ["+ 总务处", "+ 教务处"]
    assert choose.button_data("教务处") == pack("cg", "hset", wu, academic)

    told_before = len(bot.telegram.texts(OUTSIDER.id))
    await bot.press(CHAIR, choose.button_data("教务处"))
    assert last_answer(bot)[0] == "吴老师现在负责教务处的答复。"
    assert (await departments(bot))["教务处"] == wu
    told = bot.telegram.texts(OUTSIDER.id)[told_before:]
    assert len(told) == 1 and "工会指定您负责答复教务处承办的教代会提案" in told[0]
    await bot.say(COMMITTEE, "/departments")
    assert "• 教务处：吴老师" in last_text(bot, COMMITTEE)

    await bot.press(CHAIR, pack("cg", "hpick", wu))
    assert [label for label, _ in bot.telegram.last(CHAIR.id).buttons()] == [
        "+ 总务处",
        "✓ 教务处",
    ]
    await bot.press(CHAIR, pack("cg", "hset", wu, academic))
    assert last_answer(bot)[0] == "吴老师不再负责教务处的答复。"
    assert (await departments(bot))["教务处"] is None
    assert len(bot.telegram.texts(OUTSIDER.id)) == told_before + 1


async def test_a_committee_member_who_is_not_chair_cannot_name_handlers(bot: BotHarness) -> None:
    school = await setup_congress(bot)
    wu = school.outsider.id or 0

    await bot.say(COMMITTEE, "/members 吴老师")
    await bot.press(COMMITTEE, bot.telegram.last(COMMITTEE.id).button_data("吴老师"))
    labels = [label for label, _ in bot.telegram.last(COMMITTEE.id).buttons()]
    assert not any("部门答复人" in label for label in labels)

    await bot.press(COMMITTEE, pack("cg", "hpick", wu))
    assert last_answer(bot) == (CHAIR_ONLY, True)
    await bot.press(COMMITTEE, pack("cg", "hset", wu, school.academic.id or 0))
    assert last_answer(bot) == (CHAIR_ONLY, True)
    await bot.press(OUTSIDER, pack("cg", "hset", wu, school.academic.id or 0))
    assert last_answer(bot) == (NOT_COMMITTEE, True)
    assert (await departments(bot))["教务处"] is None
    assert not any("工会指定您负责答复" in text for text in bot.telegram.texts(OUTSIDER.id))


# ---- the daily job -----------------------------------------------------------------------


async def test_a_proposal_still_cosigning_when_its_window_closed_goes_back_to_draft(
    bot: BotHarness,
) -> None:
    school = await setup_congress(bot)
    await write_proposal(bot)
    (proposal,) = await proposals(bot)
    await bot.say(SIGNER_A, f"/cosign {proposal.id}")
    await bot.press(SIGNER_A, bot.telegram.last(SIGNER_A.id).button_data("附议"))
    assert (await reload(bot, proposal.id)).status == Status.COSIGNING
    after = school.congress.closes_on + timedelta(days=1)
    committee = await committee_actor(bot)
    upcoming = await call(
        bot,
        open_session,
        actor=committee,
        name="第八届教代会第二次会议",
        opens_on=after + timedelta(days=30),
        closes_on=after + timedelta(days=44),
    )

    queued, added = await run_day(bot, after)
    back = await reload(bot, proposal.id)
    assert (back.status, back.session_id, back.number) == (Status.DRAFT, None, None)
    async with bot.db() as session:
        statement = select(ProposalSigner).where(ProposalSigner.proposal_id == proposal.id)
        signers = (await session.exec(statement)).all()
    assert [row.member_id for row in signers] == [school.signer_a.id]
    assert queued == 1
    assert list(added) == [PROPOSER.id]
    (note,) = added[PROPOSER.id]
    assert f"提案草稿 #{proposal.id}「建议食堂延长晚餐供应时间」" in note
    assert "没有凑够附议人" in note and f"（{upcoming.opens_on.isoformat()}）" in note

    assert await run_day(bot, after) == (0, {})


async def test_the_daily_job_starts_waiting_drafts_in_a_window_open_today(
    bot: BotHarness,
) -> None:
    await setup_congress(bot, window=False)
    await write_proposal(bot)
    await write_proposal(bot, SIGNER_A, title="建议增设教师休息室")
    first, second = await proposals(bot)
    assert {first.status, second.status} == {Status.DRAFT}
    day = today(bot)
    committee = await committee_actor(bot)
    congress = await call(
        bot,
        open_session,
        actor=committee,
        name="临时代表会议",
        opens_on=day,
        closes_on=day + timedelta(days=3),
        min_cosigners=0,
    )

    queued, added = await run_day(bot, day)
    stored = [await reload(bot, pid) for pid in (first.id, second.id)]
    assert {(p.status, p.session_id) for p in stored} == {(Status.SUBMITTED, congress.id)}
    assert sorted(p.number or 0 for p in stored) == [1, 2]
    assert queued == 3
    assert sorted(added) == sorted([PROPOSER.id, SIGNER_A.id, COMMITTEE_GROUP_ID])
    assert "已提交教代会提案工作委员会审查" in added[PROPOSER.id][0]
    assert "「建议食堂延长晚餐供应时间」" in added[PROPOSER.id][0]
    (note,) = added[COMMITTEE_GROUP_ID]
    assert note.count("已随征集开始自动提交") == 2
    assert "建议增设教师休息室" in note and "建议食堂延长晚餐供应时间" in note

    assert await run_day(bot, day) == (0, {})


async def overdue_proposal(bot: BotHarness, school: School, *, lead: Department, due: date) -> int:
    """A filed proposal assigned to `lead`, its answer due on `due`."""
    proposal = await file_and_submit(bot, title=f"{lead.name}的提案")
    pid = proposal.id or 0
    committee = await committee_actor(bot)
    await call(bot, triage, proposal_id=pid, actor=committee, outcome=Status.FILED)
    await call(
        bot,
        assign,
        proposal_id=pid,
        actor=committee,
        lead_department_id=lead.id or 0,
        today=due - timedelta(days=school.congress.reply_days),
    )
    assigned = await reload(bot, pid)
    assert (assigned.status, assigned.reply_due) == (Status.ASSIGNED, due)
    return pid


async def test_overdue_answers_remind_the_handler_weekly_and_the_committee_daily(
    bot: BotHarness,
) -> None:
    school = await setup_congress(bot)
    due = today(bot) - timedelta(days=1)
    await overdue_proposal(bot, school, lead=school.logistics, due=due)
    await overdue_proposal(bot, school, lead=school.academic, due=due)  # the committee answers
    await overdue_proposal(bot, school, lead=school.logistics, due=due + timedelta(days=10))
    late = "提案第1号「总务处的提案」"
    also_late = "提案第2号「教务处的提案」"
    not_yet = "提案第3号"

    # Day 1 after the deadline: the handler is reminded, the committee gets the list.
    queued, added = await run_day(bot, due + timedelta(days=1))
    assert queued == 2
    assert sorted(added) == sorted([HANDLER.id, COMMITTEE_GROUP_ID])
    (reminder,) = added[HANDLER.id]
    assert f"⏰ {late}由总务处主办，答复期限 {due.isoformat()} 已过 1 天" in reminder
    assert "教务处" not in reminder
    (digest,) = added[COMMITTEE_GROUP_ID]
    assert "⏰ 2 份提案答复已超期" in digest
    assert f"• {late}：总务处，期限 {due.isoformat()}，已超 1 天" in digest
    assert f"• {also_late}：教务处，期限 {due.isoformat()}，已超 1 天" in digest
    assert not_yet not in digest

    # Day 2: no reminder, still in the committee's list.
    queued, added = await run_day(bot, due + timedelta(days=2))
    assert queued == 1
    assert list(added) == [COMMITTEE_GROUP_ID]
    (digest,) = added[COMMITTEE_GROUP_ID]
    assert "⏰ 2 份提案答复已超期" in digest
    assert f"• {late}：总务处，期限 {due.isoformat()}，已超 2 天" in digest
    assert not_yet not in digest

    # Day 8: the handler is reminded again.
    queued, added = await run_day(bot, due + timedelta(days=8))
    assert queued == 2
    assert sorted(added) == sorted([HANDLER.id, COMMITTEE_GROUP_ID])
    (reminder,) = added[HANDLER.id]
    assert f"⏰ {late}由总务处主办，答复期限 {due.isoformat()} 已过 8 天" in reminder
    assert f"• {late}：总务处，期限 {due.isoformat()}，已超 8 天" in added[COMMITTEE_GROUP_ID][0]
    assert not_yet not in added[COMMITTEE_GROUP_ID][0]

    # The same day again: nothing new.
    assert await run_day(bot, due + timedelta(days=8)) == (0, {})
