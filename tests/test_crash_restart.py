"""Crash and restart: the bot process is killed (SIGKILL) and started again.

The bot runs as its own process against the emulator (tests/support/emulator.py); SIGKILL gives
it no chance to flush anything, as a power cut or an out-of-memory kill would not.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import col, func, select

from bot.db import SessionFactory
from models.conversation_state import has_states
from models.members import Member, MemberStatus, Role
from models.outbox import OutboxMessage
from models.suggestions import Suggestion
from tests.support.e2e_stack import (
    GROUP_ID,
    Stack,
    database_url,
    running_stack,
    seed,
    skip_without_emulator,
    with_db,
)
from tests.support.emulator import Seen, wait_until
from tests.support.updates import Person

CHAIR = Person(82001, "张", "zh-hans")
COMMITTEE = Person(82002, "刘", "zh-hans")
TEACHER = Person(82003, "Wang", "en")
STAFF = [
    (CHAIR, "张主席", (Role.CHAIR,), None),
    (COMMITTEE, "刘委员", (Role.COMMITTEE,), None),
    (TEACHER, "王芳", (), None),
]
CROWD = 1000
CROWD_FIRST_ID = 9_100_000
IN_FLIGHT = 32  # scheduler/outbox.py Pace.in_flight: at most this many sends are open at once


@pytest.fixture
def url(tmp_path: Path) -> str:
    """A fresh database for the bot process."""
    skip_without_emulator()
    return database_url(tmp_path)


def _seed_crowd(url: str, org_id: int) -> None:
    async def work(db: SessionFactory) -> None:
        async with db() as session:
            session.add_all(
                Member(
                    organization_id=org_id,
                    telegram_user_id=CROWD_FIRST_ID + index,
                    real_name=f"老师{index}",
                    department="语文组",
                    status=MemberStatus.ACTIVE,
                    language="zh-Hans",
                )
                for index in range(CROWD)
            )
            await session.commit()

    with_db(url, work)


def _outbox_by_status(url: str) -> dict[str, int]:
    async def work(db: SessionFactory) -> dict[str, int]:
        async with db() as session:
            rows = await session.exec(
                select(OutboxMessage.status, func.count()).group_by(col(OutboxMessage.status))
            )
            return {str(status): int(number) for status, number in rows.all()}

    result: dict[str, int] = with_db(url, work)
    return result


def _suggestions(url: str) -> list[Suggestion]:
    async def work(db: SessionFactory) -> list[Suggestion]:
        async with db() as session:
            return list((await session.exec(select(Suggestion))).all())

    result: list[Suggestion] = with_db(url, work)
    return result


def test_killed_in_the_middle_of_a_1000_recipient_broadcast(tmp_path: Path, url: str) -> None:
    org_id = seed(url, STAFF)
    _seed_crowd(url, org_id)
    with running_stack(tmp_path, url, [CHAIR.id], outbox_per_second="30") as stack:
        client = stack.client
        client.say(COMMITTEE, "/broadcast")
        client.tap(COMMITTEE, "bc:aud:everyone")
        client.say(COMMITTEE, "下周一教职工大会，请准时参加。")
        client.tap(COMMITTEE, "bc:confirm:yes")
        client.wait_for(COMMITTEE.id, str(CROWD + len(STAFF)))

        wait_until(lambda: _crowd_deliveries(stack).total() >= 300, "300 deliveries", 60)
        stack.bot.kill()
        before_restart = _crowd_deliveries(stack)
        assert 300 <= before_restart.total() < CROWD

        stack.bot.start(stack.adapter)
        wait_until(
            lambda: not {"pending", "sending"} & set(_outbox_by_status(url)),
            "the broadcast to finish after the restart",
            150,
        )
        report = client.wait_for(GROUP_ID, "群发完成", seconds=30)
        delivered = _crowd_deliveries(stack)
        stack.assert_clean_log()

    statuses = _outbox_by_status(url)
    # Nothing twice: no chat got the message more than once.
    assert max(delivered.values()) == 1
    # Nothing lost: every recipient got it, except the few that were in flight at the kill;
    # those are `uncertain` (they may or may not have arrived) and are never sent again.
    uncertain = statuses.get("uncertain", 0)
    assert set(statuses) <= {"sent", "uncertain"}, statuses
    # The broadcast's rows plus the committee's report.
    assert statuses.get("sent", 0) + uncertain == CROWD + len(STAFF) + 1
    assert uncertain <= IN_FLIGHT
    assert CROWD - uncertain <= delivered.total() <= CROWD
    # The broadcast completed and the committee was told its figures.
    assert f"共 {CROWD + len(STAFF)} 人，送达 {CROWD + len(STAFF) - uncertain}" in report.text


def _crowd_deliveries(stack: Stack) -> Counter[int]:
    """How many times each crowd member's chat received a message."""
    return Counter(
        seen.chat_id
        for seen in stack.client.everything()
        if CROWD_FIRST_ID <= seen.chat_id < CROWD_FIRST_ID + CROWD
    )


def _saved(tmp_path: Path, url: str) -> bool:
    """The periodic write happened: rows in the conversation_state table."""

    async def any_row(db: SessionFactory) -> bool:
        async with db() as session:
            return await has_states(session)

    return bool(with_db(url, any_row))


def _to_anonymity_step(stack: Stack) -> None:
    client = stack.client
    client.say(TEACHER, "/suggest")
    client.tap(TEACHER, "sgf:cat:")
    client.say(TEACHER, "The library closes too early on Fridays.")
    client.tap(TEACHER, "sgf:photos:done")
    client.wait_for(TEACHER.id, "name")


def _finish_named(stack: Stack) -> None:
    client = stack.client
    client.tap(TEACHER, "sgf:anon:named")
    client.tap(TEACHER, "sgf:confirm:yes")
    client.wait_for(TEACHER.id, "意-")


def test_killed_in_a_conversation_before_it_was_saved_the_member_starts_again(
    tmp_path: Path, url: str
) -> None:
    seed(url, STAFF)
    with running_stack(tmp_path, url, [CHAIR.id]) as stack:
        _to_anonymity_step(stack)
        stack.bot.kill()  # within the persistence interval: the step in memory is lost
        stack.bot.start(stack.adapter)

        answered = len(stack.adapter.answers())
        stack.client.tap(TEACHER, "sgf:anon:named")
        wait_until(lambda: len(stack.adapter.answers()) > answered, "an answer to the stale press")
        stale = stack.adapter.answers()[-1]
        # Told plainly, on the button, that it no longer works and how to start again.
        assert stale.get("show_alert") in (True, "true"), stale
        assert "start again" in str(stale.get("text")), stale
        _to_anonymity_step(stack)
        _finish_named(stack)
        stack.assert_clean_log()

    assert [s.body for s in _suggestions(url)] == ["The library closes too early on Fridays."]


def test_killed_in_a_conversation_after_it_was_saved_the_member_continues(
    tmp_path: Path, url: str
) -> None:
    seed(url, STAFF)
    with running_stack(tmp_path, url, [CHAIR.id]) as stack:
        _to_anonymity_step(stack)
        wait_until(lambda: _saved(tmp_path, url), "the conversations saved", 30)
        stack.bot.kill()
        stack.bot.start(stack.adapter)
        _finish_named(stack)
        stack.assert_clean_log()

    assert [s.body for s in _suggestions(url)] == ["The library closes too early on Fridays."]


def _preview(stack: Stack) -> Seen:
    _to_anonymity_step(stack)
    stack.client.tap(TEACHER, "sgf:anon:named")
    return stack.client.wait_for(TEACHER.id, "The library")


def test_killed_between_storing_a_confirmation_and_answering_it(tmp_path: Path, url: str) -> None:
    """The item is stored and carded, the receipt never leaves: the member presses again."""
    seed(url, STAFF)
    with running_stack(tmp_path, url, [CHAIR.id]) as stack:
        preview = _preview(stack)
        held = stack.adapter.hold("sendMessage", TEACHER.id)  # the receipt, after the commit
        confirm = preview.button("Confirm")
        stack.client.press_data(TEACHER, preview, confirm)
        assert held.reached.wait(20), "the bot never answered the confirmation"
        stack.bot.kill()
        held.released.set()

        stack.bot.start(stack.adapter)
        answered = len(stack.adapter.answers())
        stack.client.press_data(TEACHER, preview, confirm)  # no receipt came: press again
        wait_until(lambda: len(stack.adapter.answers()) > answered, "an answer to the press", 30)
        stack.client.say(TEACHER, "/mine")
        mine = stack.client.wait_for(TEACHER.id, "意-")
        card = stack.client.wait_for(GROUP_ID, "The library")
        stack.assert_clean_log()
        again = str(stack.adapter.answers()[-1].get("text"))
        later = list(stack.client.texts(TEACHER.id))

    [stored] = _suggestions(url)  # stored once, not twice
    assert stored.body == "The library closes too early on Fridays."
    assert "library" in mine.text and "王芳" in card.text
    # The second press says it was received (or where to look), never files it again.
    assert "/mine" in again or any("意-" in text and "/mine" not in text for text in later), (
        again,
        later,
    )


def test_killed_after_fetching_an_update_before_handling_it(tmp_path: Path, url: str) -> None:
    """PTB acknowledges updates when it fetches the next batch, so a press the bot was killed
    while handling is not delivered again: the member presses again and it works."""
    seed(url, STAFF)
    with running_stack(tmp_path, url, [CHAIR.id]) as stack:
        preview = _preview(stack)
        wait_until(lambda: _saved(tmp_path, url), "the conversations saved", 30)
        held = stack.adapter.hold("answerCallbackQuery", 0)  # the press's first call
        confirm = preview.button("Confirm")
        stack.client.press_data(TEACHER, preview, confirm)
        assert held.reached.wait(20)
        stack.bot.kill()
        held.released.set()

        stack.bot.start(stack.adapter)
        stack.client.press_data(TEACHER, preview, confirm)
        receipt = stack.client.wait_for(TEACHER.id, "意-")
        stack.assert_clean_log()

    [stored] = _suggestions(url)
    assert stored.body == "The library closes too early on Fridays."
    assert "意-" in receipt.text
