"""Ballots for departments: the committee ticks the union groups whose members vote (or types
their names); names that are not groups are refused, in the chat and in the model."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from handlers.ballots.buttons import BallotCreate, BallotKindChoice, BallotOpensNow, BallotWho
from models.ballots import (
    Ballot,
    BallotKind,
    Electorate,
    NewBallot,
    create_ballot,
    parse_items,
)
from models.base import utcnow
from models.errors import DomainError
from tests.support.harness import BotHarness
from tests.test_ballots import COMMITTEE, last_text, local, people, setup


async def start_ballot(bot: BotHarness) -> None:
    """/ballot up to "who votes": departments."""
    await setup(bot, people(10), departments=["语文组", "数学组"])
    await bot.say(COMMITTEE, "/ballot")
    await bot.say(COMMITTEE, "教研组长推荐")
    await bot.press(COMMITTEE, BallotKindChoice(BallotKind.RESOLUTION).pack())
    await bot.press(COMMITTEE, BallotWho(Electorate.DEPARTMENTS).pack())


async def finish_ballot(bot: BotHarness) -> Ballot:
    """Items, times, confirm; the stored ballot."""
    await bot.say(COMMITTEE, "同意推荐王芳任教研组长")
    await bot.press(COMMITTEE, BallotOpensNow().pack())
    await bot.say(COMMITTEE, local(utcnow() + timedelta(days=2), bot))
    await bot.press(COMMITTEE, BallotCreate("yes").pack())
    async with bot.db() as session:
        ballot = (await session.exec(select(Ballot).order_by(col(Ballot.id).desc()))).first()
    assert ballot is not None
    return ballot


async def test_a_ballot_for_one_group_chosen_by_button(bot: BotHarness) -> None:
    await start_ballot(bot)
    picker = bot.telegram.last(COMMITTEE.id)
    assert "参加投票的部门" in picker.text
    assert [label for label, _ in picker.buttons()][:2] == ["☐ 数学组（5）", "☐ 语文组（6）"]

    await bot.press(COMMITTEE, picker.button_data("语文组"))
    await bot.press(COMMITTEE, picker.button_data("✅ 完成"))
    ballot = await finish_ballot(bot)

    assert ballot.rule() == {"type": "departments", "departments": ["语文组"]}
    assert ballot.electorate_size == 6  # five teachers and the committee member of 语文组


async def test_typed_department_names_are_checked(bot: BotHarness) -> None:
    await start_ballot(bot)

    await bot.say(COMMITTEE, "数学组、物理组")
    assert "没有叫“物理组”的部门" in last_text(bot, COMMITTEE)
    await bot.say(COMMITTEE, "数学组")
    ballot = await finish_ballot(bot)

    assert ballot.rule() == {"type": "departments", "departments": ["数学组"]}


async def test_the_model_refuses_an_unknown_department(bot: BotHarness) -> None:
    await setup(bot, people(6))
    now = utcnow()
    async with bot.db() as session:
        with pytest.raises(DomainError) as refused:
            await create_ballot(
                session,
                org_id=bot.org_id,
                actor_id=1,
                new=NewBallot(
                    title="测评",
                    kind=BallotKind.RESOLUTION,
                    electorate={"type": "departments", "departments": ["外星组"]},
                    items=parse_items(BallotKind.RESOLUTION, "章程"),
                    max_choices=1,
                    opens_at=now,
                    closes_at=now + timedelta(days=1),
                ),
                quorum="2/3",
                majority="1/2",
                min_group=1,
                now=now,
            )
    assert refused.value.key == "groups.unknown"
    async with bot.db() as session:
        assert (await session.exec(select(Ballot))).all() == []
