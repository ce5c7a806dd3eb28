"""Upgrades (issue 19): `unionbot db upgrade` is safe twice and from the first release on.

tests/test_migrations.py checks the schema (empty to head, twice, down and up, models agree);
here the operator's command runs on a database with data in it, on SQLite and on PostgreSQL
(PG pass), and the bot starts on the upgraded data and answers.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from sqlmodel import select

from bot.backup import read_manifest
from bot.db import create_engine, upgrade
from models.members import JoinRequest, Member, MemberRole, Role
from models.suggestions import SuggestionStatus
from tests.support.harness import COMMITTEE_GROUP_ID, running_bot
from tests.test_backup import (  # noqa: F401  (kind and scratch_postgres are fixtures)
    bot_settings,
    kind,
    operator,
    scratch_postgres,
    sqlite_url,
    unionbot,
)
from tests.test_suggestions import AUTHOR, AUTHOR_NAME, COMMITTEE, GROUP, file_item, only_item

MIGRATING = "Running upgrade"  # what Alembic logs for each migration it applies


@pytest.fixture
def empty(kind: str, tmp_path: Path, scratch_postgres: Any) -> str:  # noqa: F811
    """A database with nothing in it (no file yet on SQLite, no tables on PostgreSQL)."""
    if kind == "sqlite":
        return sqlite_url(tmp_path / "data" / "unionbot.db")
    return str(scratch_postgres("upgrade"))


async def rows(url: str) -> dict[str, list[Any]]:
    """Every table's rows, in a stable order."""
    engine = create_engine(url)

    def read(connection: sqlalchemy.Connection) -> dict[str, list[Any]]:
        names = sorted(sqlalchemy.inspect(connection).get_table_names())
        return {
            name: sorted(
                (
                    tuple(map(str, row))
                    for row in connection.execute(sqlalchemy.text(f'SELECT * FROM "{name}"'))
                ),
            )
            for name in names
        }

    try:
        async with engine.connect() as connection:
            return await connection.run_sync(read)
    finally:
        await engine.dispose()


def test_db_upgrade_twice_is_a_no_op_the_second_time(
    empty: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    operator(monkeypatch, tmp_path, empty)
    caplog.set_level(logging.INFO, logger="alembic")

    assert unionbot(capsys, "db", "upgrade") == (0, ["The database is up to date."], [])
    applied = [r for r in caplog.records if r.getMessage().startswith(MIGRATING)]
    before = asyncio.run(rows(empty))
    caplog.clear()

    assert unionbot(capsys, "db", "upgrade") == (0, ["The database is up to date."], [])

    assert [r for r in caplog.records if r.getMessage().startswith(MIGRATING)] == []
    assert asyncio.run(rows(empty)) == before
    assert len(applied) >= 21  # every migration ran the first time, none the second
    print(f"migrations applied the first time: {len(applied)}")


# Rows the first schema (0001) can hold: the union, its committee group, a committee member,
# a teacher, a newcomer waiting to be let in, and an update already handled.
FIRST_RELEASE_ROWS = (
    "INSERT INTO organization (id, name, committee_chat_id, created_at) "
    f"VALUES (1, '实验中学工会', {COMMITTEE_GROUP_ID}, '2026-09-01 08:00:00')",
    "INSERT INTO member (id, organization_id, telegram_user_id, real_name, department, retired, "
    "status, language, created_at, updated_at) VALUES "
    f"(1, 1, {COMMITTEE.id}, '刘委员', '工会', false, 'active', 'zh-Hans', "
    "'2026-09-01 08:00:00', '2026-09-01 08:00:00'), "
    f"(2, 1, {AUTHOR.id}, '{AUTHOR_NAME}', '初二年级组', false, 'active', 'zh-Hans', "
    "'2026-09-02 08:00:00', '2026-09-02 08:00:00'), "
    "(3, 1, 3003, '赵新人', '物理组', false, 'pending', 'zh-Hans', "
    "'2026-09-03 08:00:00', '2026-09-03 08:00:00')",
    "INSERT INTO member_role (member_id, role, granted_at) "
    "VALUES (1, 'committee', '2026-09-01 08:00:00')",
    "INSERT INTO join_request (id, organization_id, member_id, status, created_at) "
    "VALUES (1, 1, 3, 'pending', '2026-09-03 08:00:00')",
    "INSERT INTO processed_update (update_id, processed_at) VALUES (41, '2026-09-03 08:00:00')",
)


async def fill_first_release(url: str) -> None:
    """The first release's rows, written with its own schema."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for statement in FIRST_RELEASE_ROWS:
                await connection.execute(sqlalchemy.text(statement))
            if not url.startswith("sqlite"):  # ids given by hand: the sequences follow them
                for table in ("organization", "member", "join_request"):
                    await connection.execute(
                        sqlalchemy.text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT max(id) FROM {table}))"
                        )
                    )
    finally:
        await engine.dispose()


async def the_bot_answers_on_the_upgraded_data(url: str, folder: Path) -> None:
    """The first release's people are there, and they use the bot as today's release."""
    async with running_bot(bot_settings(url, folder)) as bot:
        assert bot.org_id == 1
        async with bot.db() as session:
            names = sorted(m.real_name for m in (await session.exec(select(Member))).all())
            roles = (await session.exec(select(MemberRole))).all()
            [waiting] = (await session.exec(select(JoinRequest))).all()
        assert names == sorted(["刘委员", AUTHOR_NAME, "赵新人"])
        assert [(r.member_id, r.role) for r in roles] == [(1, Role.COMMITTEE)]
        assert (waiting.member_id, waiting.status) == (3, "pending")

        await file_item(bot, body="升级后提出：图书馆开放时间能否延长？", anonymous=False)
        item = await only_item(bot)
        assert item.author_member_id == 2
        card = bot.telegram.last(COMMITTEE_GROUP_ID)
        assert AUTHOR_NAME in card.text
        await bot.press(COMMITTEE, card.button_data("答复"), chat=GROUP)
        await bot.write(COMMITTEE, "下周起延长到晚上八点。")
        assert "下周起延长到晚上八点。" in bot.telegram.last(AUTHOR.id).text
        assert (await only_item(bot)).status == SuggestionStatus.ANSWERED


def test_a_first_release_database_with_data_upgrades_and_the_bot_answers_on_it(
    empty: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    upgrade(empty, "0001")
    asyncio.run(fill_first_release(empty))
    operator(monkeypatch, tmp_path, empty)

    assert unionbot(capsys, "db", "upgrade")[0] == 0

    asyncio.run(the_bot_answers_on_the_upgraded_data(empty, tmp_path))


def test_a_backup_of_the_first_release_restores_and_comes_up_to_date(
    kind: str,  # noqa: F811
    empty: str,
    tmp_path: Path,
    scratch_postgres: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    upgrade(empty, "0001")
    asyncio.run(fill_first_release(empty))
    archive = tmp_path / "first-release.tar.gz"
    operator(monkeypatch, tmp_path / "old", empty)
    assert unionbot(capsys, "backup", str(archive))[0] == 0
    assert read_manifest(archive).revision == "0001"
    if kind == "sqlite":
        target = sqlite_url(tmp_path / "new" / "data" / "unionbot.db")
    else:
        target = str(scratch_postgres("restored"))

    operator(monkeypatch, tmp_path / "new", target)
    code, out, _err = unionbot(capsys, "restore", str(archive))

    assert code == 0 and "revision 0001" in out[0]
    asyncio.run(the_bot_answers_on_the_upgraded_data(target, tmp_path / "new"))
