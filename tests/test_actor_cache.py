"""The member behind each update, kept between updates (bot/actor_cache.py), through the real
application: a removed role refuses the next press whoever removed it (the bot, or a second
engine standing for another process), a new language shows on the next message, every update
gets its own copy, and a burst of cold presses loads its members in a few statements."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlmodel import col, delete, func, select, update

from bot.callback import pack
from bot.db import create_engine, create_session_factory, is_sqlite
from models.members import Member, MemberRole, Role
from models.organizations import Organization
from tests.support.factories import make_member
from tests.support.harness import CHAIR, BotHarness
from tests.support.member_cache import cache_of, until
from tests.support.updates import Person

COMMITTEE = Person(1002, "刘", "zh-hans")
TEACHER = Person(2001, "王", "zh-hans")
NOT_COMMITTEE = "只有工会委员可以处理这一项。"


def on_postgres(bot: BotHarness) -> bool:
    """True when the test database is PostgreSQL."""
    return not is_sqlite(bot.app.state.settings.database_url)


async def serving(bot: BotHarness) -> None:
    """PostgreSQL: wait until the change listener is up and the cache serves."""
    if on_postgres(bot):
        await until(cache_of(bot), lambda: cache_of(bot).serving)


async def settled(bot: BotHarness) -> None:
    """PostgreSQL: wait until the notifications of every write so far have reached the bot
    (they come in commit order, so a marker sent now arrives after all of them)."""
    if not on_postgres(bot):
        return
    listener = bot.app.state.member_listener
    assert listener is not None
    marker = f"settled-{cache_of(bot).generation}"
    async with bot.app.state.engine.begin() as connection:
        await connection.execute(text("SELECT pg_notify('member_changed', :m)"), {"m": marker})
    await until(cache_of(bot), lambda: listener.last_payload == marker)


@contextmanager
def member_loads(bot: BotHarness) -> Iterator[list[str]]:
    """The statements that load members for the cache, as the bot's engine sends them."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        statement = str(args[2])
        if "member_role.role" in statement and "telegram_user_id IN" in statement:
            seen.append(statement)

    engine = bot.app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def remove_roles_elsewhere(bot: BotHarness, member: Member) -> None:
    """Delete the member's roles by raw SQL on a second engine (another process, psql)."""
    other = create_engine(bot.app.state.settings.database_url)
    try:
        async with other.begin() as connection:
            await connection.execute(
                text("DELETE FROM member_role WHERE member_id = :id"), {"id": member.id}
            )
    finally:
        await other.dispose()


async def committee_and_chair(bot: BotHarness) -> Member:
    """An active chair and a committee member (returned)."""
    await make_member(bot.db, org_id=bot.org_id, person=CHAIR, name="张主席", roles=[Role.CHAIR])
    return await make_member(
        bot.db, org_id=bot.org_id, person=COMMITTEE, name="刘委员", roles=[Role.COMMITTEE]
    )


async def lists_members(bot: BotHarness, person: Person) -> bool:
    """`person` presses the members list's page button: True if it opened, False if refused."""
    await bot.press(person, pack("mem", "page", 0))
    answer = bot.telegram.answers()[-1]
    return not (answer.params.get("show_alert") and answer.text == NOT_COMMITTEE)


async def test_a_role_removed_in_the_bot_refuses_the_next_press(bot: BotHarness) -> None:
    committee = await committee_and_chair(bot)
    await serving(bot)
    assert await lists_members(bot, COMMITTEE)
    assert await lists_members(bot, COMMITTEE)  # now from what the cache holds

    await bot.press(CHAIR, pack("mem", "revoke", committee.id or 0, Role.COMMITTEE.value))

    assert not await lists_members(bot, COMMITTEE)


async def test_a_role_removed_by_another_process_refuses_the_next_press(
    bot: BotHarness,
) -> None:
    """A second engine is what a CLI command or another copy of the bot would use: no session
    event of this process sees its write, only the database's own signal."""
    committee = await committee_and_chair(bot)
    await serving(bot)
    cache = cache_of(bot)
    assert await lists_members(bot, COMMITTEE)
    assert await lists_members(bot, COMMITTEE)
    dropped = cache.generation

    other = create_engine(bot.app.state.settings.database_url)
    try:
        async with create_session_factory(other)() as session:
            await session.exec(delete(MemberRole).where(col(MemberRole.member_id) == committee.id))
            await session.commit()
    finally:
        await other.dispose()
    if on_postgres(bot):  # the notification comes after the commit, not with it
        await until(cache, lambda: cache.generation > dropped)

    assert not await lists_members(bot, COMMITTEE)


async def test_a_new_language_shows_on_the_next_message(bot: BotHarness) -> None:
    await make_member(bot.db, org_id=bot.org_id, person=TEACHER, name="王芳", language="zh-Hans")
    await serving(bot)
    await bot.say(TEACHER, "/help")
    assert "/me - 我的资料" in bot.telegram.last(TEACHER.id).text

    await bot.press(TEACHER, pack("lang", "set", "en"))
    await bot.say(TEACHER, "/help")

    after = bot.telegram.last(TEACHER.id).text
    assert "我的资料" not in after
    assert "/me - " in after and after.isascii()


async def test_every_update_gets_its_own_copy(bot: BotHarness) -> None:
    teacher = await make_member(bot.db, org_id=bot.org_id, person=TEACHER, name="王芳")
    await serving(bot)
    cache = cache_of(bot)
    first = await cache.actor(org_id=bot.org_id, telegram_user_id=TEACHER.id)
    second = await cache.actor(org_id=bot.org_id, telegram_user_id=TEACHER.id)
    assert first is not None and second is not None
    assert first.member is not second.member

    first.member.real_name = "改了名"
    assert second.member.real_name == "王芳"

    # A copy added to a session writes an UPDATE of its row, never a second member.
    first.member.mute_greetings = True
    async with bot.db() as session:
        session.add(first.member)
        await session.commit()
    async with bot.db() as session:
        count = (await session.exec(select(func.count()).select_from(Member))).one()
        stored = await session.get(Member, teacher.id)
    assert count == 1
    assert stored is not None and stored.mute_greetings and stored.real_name == "改了名"
    third = await cache.actor(org_id=bot.org_id, telegram_user_id=TEACHER.id)
    assert third is not None and third.member.mute_greetings  # the commit dropped the old one


async def test_a_burst_of_cold_presses_loads_members_in_a_few_statements(
    bot: BotHarness,
) -> None:
    people = [Person(5000 + index, f"老师{index}", "zh-hans") for index in range(60)]
    for person in people:
        await make_member(bot.db, org_id=bot.org_id, person=person, name=person.first_name)
    strangers = [Person(9000 + index, f"陌生{index}", "zh-hans") for index in range(20)]
    await serving(bot)
    await settled(bot)

    with member_loads(bot) as loads:
        await asyncio.gather(*(bot.say(person, "/help") for person in people + strangers))

    assert 1 <= len(loads) <= 3
    for person in people + strangers:
        assert bot.telegram.texts(person.id)  # everyone had an answer

    with member_loads(bot) as again:
        await asyncio.gather(*(bot.say(person, "/help") for person in people + strangers))
    assert again == []  # all held now, strangers included


async def test_listening_lost_loads_from_the_database_until_it_is_back(bot: BotHarness) -> None:
    """PostgreSQL: with the listening connection killed a role change made meanwhile (its
    notification is lost) is still seen on the next press; once listening again, the cache
    serves again."""
    if not on_postgres(bot):
        pytest.skip("PostgreSQL only: SQLite has no listener")
    committee = await committee_and_chair(bot)
    await serving(bot)
    cache = cache_of(bot)
    listener = bot.app.state.member_listener
    assert listener is not None
    assert await lists_members(bot, COMMITTEE)
    pid = listener.server_pid

    other = create_engine(bot.app.state.settings.database_url)
    try:
        async with other.begin() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await until(cache, lambda: not cache.serving)
        await remove_roles_elsewhere(bot, committee)  # while the listener is down
    finally:
        await other.dispose()

    assert not await lists_members(bot, COMMITTEE)

    await until(cache, lambda: cache.serving)
    assert listener.server_pid != pid
    await settled(bot)
    await bot.say(COMMITTEE, "/help")
    with member_loads(bot) as loads:
        await bot.say(COMMITTEE, "/help")
    assert loads == []


async def test_every_kind_of_write_in_this_process_drops_the_cache_at_commit(
    bot: BotHarness,
) -> None:
    """An object flushed, an ORM bulk UPDATE or DELETE, a text() statement: each drops what
    the cache holds when its session commits (on PostgreSQL before any notification could:
    the listener is stopped here); a rolled-back write and a write elsewhere do not."""
    teacher = await make_member(bot.db, org_id=bot.org_id, person=TEACHER, name="王芳")
    if bot.app.state.member_listener is not None:
        await bot.app.state.member_listener.stop()
    cache = cache_of(bot)

    async def drops(write: Callable[[Any], Any], *, commit: bool = True) -> bool:
        before = cache.generation
        async with bot.db() as session:
            await write(session)
            if commit:
                await session.commit()
            else:
                await session.rollback()
        return cache.generation > before

    async def flushed(session: Any) -> None:
        member = await session.get(Member, teacher.id)
        member.language = "en"
        session.add(member)

    async def bulk_update(session: Any) -> None:
        await session.exec(update(Member).where(col(Member.id) == teacher.id).values(retired=True))

    async def bulk_delete(session: Any) -> None:
        await session.exec(delete(MemberRole).where(col(MemberRole.member_id) == teacher.id))

    async def raw(session: Any) -> None:
        await session.exec(
            text("UPDATE member SET mute_greetings = :on WHERE id = :id"),
            params={"on": True, "id": teacher.id},
        )

    async def elsewhere(session: Any) -> None:
        await session.exec(update(Organization).values(name="另一个工会"))

    assert await drops(flushed)
    assert await drops(bulk_update)
    assert await drops(bulk_delete)
    assert await drops(raw)
    assert not await drops(bulk_update, commit=False)
    assert not await drops(elsewhere)


async def _drop_member_role_triggers(bot: BotHarness) -> list[str]:
    """Drop the member_role triggers of migration 0024 (as a later table rebuild or a restore
    with --disable-triggers would); returns the statements that create them again."""
    engine = bot.app.state.engine
    async with engine.begin() as connection:
        if on_postgres(bot):
            rows = (
                await connection.execute(
                    text(
                        "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
                        "WHERE tgname = 'member_role_changed_notify'"
                    )
                )
            ).all()
            for name, _ in rows:
                await connection.execute(text(f"DROP TRIGGER {name} ON member_role"))
        else:
            rows = (
                await connection.execute(
                    text(
                        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                        "AND name LIKE 'member_role_%_version'"
                    )
                )
            ).all()
            for name, _ in rows:
                await connection.execute(text(f'DROP TRIGGER "{name}"'))
    assert rows, "the triggers were there to drop"
    return [str(create) for _, create in rows]


async def test_without_its_triggers_the_cache_never_serves_what_another_process_changed(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """The cache trusts the database's change signal only once it has seen the triggers
    (SQLite: at its first read; PostgreSQL: at every (re)connection of the listener). Without
    them a role removed by another process must still refuse the next press."""
    committee = await committee_and_chair(bot)
    restore = await _drop_member_role_triggers(bot)
    try:
        cache = cache_of(bot)
        if on_postgres(bot):
            listener = bot.app.state.member_listener
            assert listener is not None
            await serving(bot)  # it connected before the triggers went
            async with bot.app.state.engine.begin() as connection:
                await connection.execute(
                    text("SELECT pg_terminate_backend(:pid)"), {"pid": listener.server_pid}
                )
            await until(cache, lambda: not cache.serving)
        assert await lists_members(bot, COMMITTEE)
        assert await lists_members(bot, COMMITTEE)

        await remove_roles_elsewhere(bot, committee)

        assert not await lists_members(bot, COMMITTEE)
        # Said once, for the operator (on PostgreSQL by the listener's next attempt).
        for _ in range(400):
            if "triggers of migration 0024 are missing" in caplog.text:
                break
            await asyncio.sleep(0.025)
        assert caplog.text.count("triggers of migration 0024 are missing") == 1
        assert not (on_postgres(bot) and cache.serving)
    finally:
        async with bot.app.state.engine.begin() as connection:
            for create in restore:
                await connection.execute(text(create))
