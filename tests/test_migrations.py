"""Migrations: an empty database reaches head, models and migrations agree, base and back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table on SQLModel.metadata)
from bot.db import alembic_config, create_engine, upgrade, upgrade_async

OUR_TABLES = {table.name for table in SQLModel.metadata.sorted_tables}


def _sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def _head(url: str) -> str:
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert head is not None
    return head


def _schema(path: Path) -> tuple[set[str], str | None]:
    """Table names and the Alembic revision stored in the SQLite file at `path`."""
    engine = sqlalchemy.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            tables = set(sqlalchemy.inspect(connection).get_table_names())
            revision = MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
    return tables, revision


def test_empty_database_migrates_to_head(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "fresh.db"
    url = _sqlite_url(path)

    upgrade(url)

    tables, revision = _schema(path)
    assert tables >= OUR_TABLES
    assert revision == _head(url)


def test_upgrading_twice_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "twice.db"
    url = _sqlite_url(path)
    upgrade(url)
    before = _schema(path)

    upgrade(url)

    assert _schema(path) == before


async def test_upgrade_async_works_inside_a_running_loop(tmp_path: Path) -> None:
    path = tmp_path / "from_loop.db"
    url = _sqlite_url(path)

    await upgrade_async(url)

    tables, revision = _schema(path)
    assert tables >= OUR_TABLES
    assert revision == _head(url)


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, SQLModel.metadata))


async def test_models_and_migrations_agree(database_url: str) -> None:
    """Autogenerate finds nothing to do: every model change has its migration."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_differences)
    finally:
        await engine.dispose()

    assert differences == []


def test_downgrade_to_base_and_upgrade_again(tmp_path: Path) -> None:
    path = tmp_path / "roundtrip.db"
    url = _sqlite_url(path)
    upgrade(url)

    command.downgrade(alembic_config(url), "base")

    tables, revision = _schema(path)
    assert tables & OUR_TABLES == set()
    assert revision is None

    upgrade(url)

    tables, revision = _schema(path)
    assert tables >= OUR_TABLES
    assert revision == _head(url)


def test_unedited_default_greetings_are_reworded_and_edited_ones_kept(tmp_path: Path) -> None:
    """0014: a default text as first written gets the new wording (您, from the union); a text
    the committee changed stays as it is; a downgrade gives the first wording back."""
    path = tmp_path / "greetings.db"
    url = _sqlite_url(path)
    config = alembic_config(url)
    command.upgrade(config, "0013")
    old = "🎂 {name}老师，生日快乐！{org}祝你天天开心。"
    new = "🎂 {name}老师，生日快乐！{org}祝您天天开心、身体健康。"
    edited = "🎂 {name}老师，生日快乐！我们工会的小礼物在门卫室。"
    engine = sqlalchemy.create_engine(f"sqlite:///{path}")

    def messages() -> dict[str, Any]:
        with engine.connect() as connection:
            rows = connection.execute(
                sqlalchemy.text("SELECT organization_id, messages FROM calendar_entry")
            ).all()
        return {org: json.loads(value) for org, value in rows}

    try:
        with engine.begin() as connection:
            for org_id, text in ((1, old), (2, edited)):
                connection.execute(
                    sqlalchemy.text(
                        "INSERT INTO organization (id, name, created_at) "
                        "VALUES (:id, '学校工会', '2026-01-01 00:00:00')"
                    ),
                    {"id": org_id},
                )
                connection.execute(
                    sqlalchemy.text(
                        "INSERT INTO calendar_entry (organization_id, key, kind, rule, "
                        "time_of_day, audience, titles, messages, enabled, created_at, "
                        "updated_at) VALUES (:org, 'birthdays', 'greeting', '{}', '08:00', "
                        "'{}', '{}', :messages, 1, '2026-01-01 00:00:00', "
                        "'2026-01-01 00:00:00')"
                    ),
                    {"org": org_id, "messages": json.dumps({"zh-Hans": text, "en": "Hi"})},
                )

        command.upgrade(config, "head")
        assert messages() == {1: {"zh-Hans": new, "en": "Hi"}, 2: {"zh-Hans": edited, "en": "Hi"}}

        command.downgrade(config, "0013")
        assert messages() == {1: {"zh-Hans": old, "en": "Hi"}, 2: {"zh-Hans": edited, "en": "Hi"}}
    finally:
        engine.dispose()
