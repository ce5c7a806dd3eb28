"""Backups that restore (issue 19): `unionbot backup` / `unionbot restore` and the nightly job.

The operator's commands run through `cli.main` with the settings in the environment, as on a
server; the bot before and after runs as the real application over the recording transport.
On SQLite always; on PostgreSQL in the PG pass (TEST_DATABASE_URL), into a scratch database of
the same server named after the test database.
"""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import os
import shutil
import stat
import tarfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlmodel import select

from bot import cli
from bot.backup import (
    MANIFEST,
    POSTGRES_MEMBER,
    SETTINGS_FILE,
    SQLITE_MEMBER,
    create_backup,
    read_manifest,
)
from bot.callback import pack
from bot.db import alembic_config, create_engine, create_session_factory, upgrade, upgrade_async
from bot.i18n import I18n
from bot.settings import Settings
from models.anonymity import key_check_value
from models.lease import acquire
from models.members import Member
from models.organizations import Organization
from models.outbox import Broadcast, OutboxMessage
from models.suggestions import Suggestion, SuggestionStatus
from scheduler.backup_job import BACKUP_JOB, backup_jobs, run_nightly_backup
from tests.support.factories import make_member
from tests.support.fake_telegram import TOKEN
from tests.support.harness import CHAIR, COMMITTEE_GROUP_ID, make_settings, running_bot
from tests.test_suggestions import (
    AUTHOR,
    AUTHOR_NAME,
    COMMITTEE,
    GROUP,
    file_item,
    only_item,
    setup_school,
)

KEY = "test-secret-key-0123456789abcdef"  # the harness's SECRET_KEY
OTHER_KEY = "another-key-not-the-one-of-the-backup-42"
PROXY = "socks5://proxyuser:proxy-password-never-in-backup@127.0.0.1:1080"
WEBHOOK_SECRET = "webhook-secret-never-in-backup-0123"
DB_PASSWORD = "db-password-never-in-backup"
NEVER_IN_ARCHIVE = (TOKEN, TOKEN.split(":")[1], PROXY, "proxy-password", WEBHOOK_SECRET, KEY)
PG_URL = os.environ.get("TEST_DATABASE_URL")
EN = I18n("en").get("en")


# ---- places: a database and the folder beside it ------------------------------------------


def sqlite_url(path: Path) -> str:
    """A SQLite URL for a file."""
    return f"sqlite+aiosqlite:///{path}"


async def _admin(statement: str) -> None:
    assert PG_URL is not None
    engine = create_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(sqlalchemy.text(statement))
    finally:
        await engine.dispose()


@pytest.fixture
def scratch_postgres() -> Iterator[Any]:
    """Make fresh databases beside the test database (`<name>_<suffix>`); drop them after."""
    made: list[str] = []

    def make(suffix: str) -> str:
        assert PG_URL is not None
        name = f"{make_url(PG_URL).database}_{suffix}"
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    yield make
    for name in made:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def kind(request: pytest.FixtureRequest) -> str:
    """Each test here on SQLite, and on PostgreSQL in the PG pass."""
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("PostgreSQL: runs in the PG pass (TEST_DATABASE_URL)")
    return str(request.param)


@pytest.fixture
def source(kind: str, tmp_path: Path, scratch_postgres: Any) -> str:
    """The database of the deployment that is backed up, migrated and empty. On PostgreSQL
    its URL carries a password (trust authentication ignores it) that must not reach the
    archive."""
    if kind == "sqlite":
        url = sqlite_url(tmp_path / "old" / "data" / "unionbot.db")
    else:
        with_password = make_url(scratch_postgres("source")).set(password=DB_PASSWORD)
        url = with_password.render_as_string(hide_password=False)
    upgrade(url)
    return url


@pytest.fixture
def target(kind: str, tmp_path: Path, scratch_postgres: Any) -> str:
    """An empty database of a new server: no file yet on SQLite, no tables on PostgreSQL."""
    if kind == "sqlite":
        return sqlite_url(tmp_path / "new" / "data" / "unionbot.db")
    return str(scratch_postgres("target"))


def operator(monkeypatch: pytest.MonkeyPatch, folder: Path, url: str, **more: str) -> None:
    """The server's environment: every secret set, as in production; English sentences."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    folder.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(folder)
    values = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "DATABASE_URL": url,
        "SECRET_KEY": KEY,
        "DEFAULT_LANGUAGE": "en",
        "OWNER_IDS": str(CHAIR.id),
        "ORGANIZATION_NAME": "实验中学工会",
        "PERSISTENCE_PATH": str(folder / "data" / "conversations.pickle"),
        "TELEGRAM_PROXY_URL": PROXY,
        "WEBHOOK_URL": "https://bot.example.org/telegram",
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        **more,
    }
    for name, value in values.items():
        if value:
            monkeypatch.setenv(name, value)


def bot_settings(url: str, folder: Path, **overrides: Any) -> Settings:
    """The bot of the deployment in `folder` (its conversation store and key file there);
    what `operator` put in the environment for the commands does not reach it."""
    values: dict[str, Any] = {
        "default_language": "zh-Hans",
        "telegram_proxy_url": None,
        "webhook_url": None,
        "webhook_secret": None,
        **overrides,
    }
    return make_settings(url, folder / "data", **values)


ANSWER = "恢复后答复：通风柜本周修好。"


async def anonymous_thread(url: str, folder: Path, **overrides: Any) -> int:
    """The school, and one anonymous suggestion on the committee's desk; its id."""
    async with running_bot(bot_settings(url, folder, **overrides)) as bot:
        await setup_school(bot)
        await file_item(bot, body="匿名：实验室的通风柜坏了。", anonymous=True)
        item = await only_item(bot)
    assert item.id is not None and item.reply_token is not None
    return item.id


async def committee_answers(url: str, folder: Path, item_id: int, **overrides: Any) -> None:
    """The committee answers the anonymous item; the sealed author receives the answer."""
    async with running_bot(bot_settings(url, folder, **overrides)) as bot:
        await bot.press(COMMITTEE, pack("sug", "reply", item_id), chat=GROUP)
        await bot.write(COMMITTEE, ANSWER)
        assert ANSWER in bot.telegram.last(AUTHOR.id).text
        assert (await only_item(bot)).status == SuggestionStatus.ANSWERED
        card = bot.telegram.last(COMMITTEE_GROUP_ID, method="editMessageText").text
        assert "匿名" in card and AUTHOR_NAME not in card


async def snapshot(url: str) -> tuple[list[str], list[str], int]:
    """Member names, organization names and the number of suggestions."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            members = (await connection.execute(select(Member.real_name))).scalars().all()
            orgs = (await connection.execute(select(Organization.name))).scalars().all()
            items = (await connection.execute(select(Suggestion.id))).scalars().all()
    finally:
        await engine.dispose()
    return sorted(members), sorted(orgs), len(items)


async def add_member(url: str, folder: Path, name: str) -> None:
    """A deployment in use: the bot has started once and someone is on the roster."""
    async with running_bot(bot_settings(url, folder)) as bot:
        await make_member(bot.db, org_id=bot.org_id, name=name)


def unionbot(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], list[str]]:
    """Run the command; its exit code, and its output and error lines."""
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out.strip().splitlines(), captured.err.strip().splitlines()


def head() -> str:
    """The newest migration."""
    revision = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert revision is not None
    return revision


# ---- backup, then restore into an empty database -----------------------------------------


def test_a_backup_restored_into_an_empty_database_answers_the_anonymous_thread(
    kind: str,
    source: str,
    target: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    item_id = asyncio.run(anonymous_thread(source, tmp_path / "old"))
    archive = tmp_path / "offsite" / "union.tar.gz"

    operator(monkeypatch, tmp_path / "old", source)
    started = time.perf_counter()
    code, out, err = unionbot(capsys, "backup", str(archive))
    took = {"backup": time.perf_counter() - started}

    assert (code, err) == (0, [])
    assert out == [
        EN("cli.backup_written", path=str(archive)),
        EN("cli.backup_key_is_setting"),
    ]
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert [p.name for p in archive.parent.iterdir()] == ["union.tar.gz"]  # no work files left

    operator(monkeypatch, tmp_path / "new", target)
    started = time.perf_counter()
    code, out, err = unionbot(capsys, "restore", str(archive))
    took["restore"] = time.perf_counter() - started

    assert (code, err) == (0, [])
    assert out[0].startswith("Restored " + str(archive)), out
    assert len(out) == 1  # the same settings: nothing to point out
    asyncio.run(committee_answers(target, tmp_path / "new", item_id))
    print(f"{kind}: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in took.items()))


def members_of(archive: Path) -> dict[str, bytes]:
    """Every member's bytes."""
    with tarfile.open(archive, "r:gz") as opened:
        return {
            info.name: opened.extractfile(info).read()  # type: ignore[union-attr]
            for info in opened.getmembers()
        }


def test_the_archive_holds_data_key_check_and_settings_but_no_secret(
    kind: str,
    source: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    asyncio.run(anonymous_thread(source, tmp_path / "old"))
    archive = tmp_path / "union.tar.gz"
    operator(monkeypatch, tmp_path / "old", source, TIMEZONE="Asia/Urumqi", TERM1_START="08-25")

    assert unionbot(capsys, "backup", str(archive))[0] == 0

    members = members_of(archive)
    database = SQLITE_MEMBER if kind == "sqlite" else POSTGRES_MEMBER
    assert set(members) == {MANIFEST, SETTINGS_FILE, database}
    manifest = json.loads(members[MANIFEST])
    assert manifest["format"] == 1 and manifest["database"] == kind
    assert manifest["revision"] == head()
    assert manifest["key_check"] == key_check_value(KEY.encode())
    assert manifest["key_source"] == "SECRET_KEY"
    assert manifest["settings"]["TIMEZONE"] == "Asia/Urumqi"
    assert manifest["settings"]["TERM1_START"] == "08-25"
    assert manifest["settings"]["ORGANIZATION_NAME"] == "实验中学工会"
    assert manifest["settings"]["OWNER_IDS"] == str(CHAIR.id)
    assert "TIMEZONE=Asia/Urumqi\n" in members[SETTINGS_FILE].decode()
    for name in manifest["settings"]:
        assert not any(word in name for word in ("TOKEN", "SECRET", "PROXY", "PASSWORD", "URL"))
    assert AUTHOR_NAME.encode() in members[database] or kind == "postgresql"  # pg: compressed
    everything = [archive.read_bytes(), gzip.decompress(archive.read_bytes()), *members.values()]
    never = [*NEVER_IN_ARCHIVE, DB_PASSWORD]
    for blob in everything:
        for secret in never:
            assert secret.encode() not in blob, secret


# ---- restores that are refused -----------------------------------------------------------


def test_a_restore_over_data_is_refused_without_force_and_replaces_it_with_force(
    kind: str,
    source: str,
    target: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    item_id = asyncio.run(anonymous_thread(source, tmp_path / "old"))
    archive = tmp_path / "union.tar.gz"
    operator(monkeypatch, tmp_path / "old", source)
    assert unionbot(capsys, "backup", str(archive))[0] == 0
    upgrade(target)
    asyncio.run(add_member(target, tmp_path / "new", "新服务器上的成员"))
    before = asyncio.run(snapshot(target))

    operator(monkeypatch, tmp_path / "new", target)
    code, out, err = unionbot(capsys, "restore", str(archive))

    assert (code, out, err) == (1, [], [EN("cli.restore_not_empty")])
    assert asyncio.run(snapshot(target)) == before

    code, out, err = unionbot(capsys, "restore", str(archive), "--force")

    assert (code, err) == (0, [])
    members, _orgs, items = asyncio.run(snapshot(target))
    assert AUTHOR_NAME in members and "新服务器上的成员" not in members and items == 1
    asyncio.run(committee_answers(target, tmp_path / "new", item_id))


def test_a_wrong_key_is_refused_before_anything_is_touched(
    kind: str,
    source: str,
    target: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    asyncio.run(anonymous_thread(source, tmp_path / "old"))
    archive = tmp_path / "union.tar.gz"
    operator(monkeypatch, tmp_path / "old", source)
    assert unionbot(capsys, "backup", str(archive))[0] == 0

    operator(monkeypatch, tmp_path / "new", target, SECRET_KEY=OTHER_KEY)
    code, out, err = unionbot(capsys, "restore", str(archive), "--force")

    assert (code, out, err) == (1, [], [EN("cli.restore_key_mismatch")])
    if kind == "sqlite":  # not even created
        assert not (tmp_path / "new" / "data" / "unionbot.db").exists()
    upgrade(target)
    asyncio.run(add_member(target, tmp_path / "new", "新服务器上的成员"))
    before = asyncio.run(snapshot(target))

    assert unionbot(capsys, "restore", str(archive), "--force")[:2] == (1, [])  # --force too

    assert asyncio.run(snapshot(target)) == before


def test_the_generated_key_file_stays_out_of_the_archive_and_a_restore_needs_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    source = sqlite_url(old / "data" / "unionbot.db")
    target = sqlite_url(new / "data" / "unionbot.db")
    upgrade(source)
    item_id = asyncio.run(anonymous_thread(source, old, secret_key=None))
    key_file = old / "data" / "secret.key"
    generated = key_file.read_text().strip()
    archive = tmp_path / "union.tar.gz"

    operator(monkeypatch, old, source, SECRET_KEY="")
    code, out, _err = unionbot(capsys, "backup", str(archive))

    assert code == 0
    assert out[1] == EN("cli.backup_key_is_file", path=str(key_file))
    assert read_manifest(archive).key_check == key_check_value(generated.encode())
    assert read_manifest(archive).key_source == "secret.key"
    for blob in [gzip.decompress(archive.read_bytes()), *members_of(archive).values()]:
        assert generated.encode() not in blob

    operator(monkeypatch, new, target, SECRET_KEY="")
    code, out, err = unionbot(capsys, "restore", str(archive))

    missing = EN("cli.restore_key_missing", path=str(new / "data" / "secret.key"))
    assert (code, err) == (1, [missing])
    assert not (new / "data" / "unionbot.db").exists()
    assert not (new / "data" / "secret.key").exists()  # the check never makes a key

    (new / "data").mkdir(parents=True)
    shutil.copy2(key_file, new / "data" / "secret.key")
    assert unionbot(capsys, "restore", str(archive))[0] == 0
    asyncio.run(committee_answers(target, new, item_id, secret_key=None))


def test_without_pg_dump_one_sentence_and_no_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"postgresql+asyncpg://unionbot:{DB_PASSWORD}@127.0.0.1:9/unionbot"
    operator(monkeypatch, tmp_path, url)
    monkeypatch.setenv("PATH", "")

    code, out, err = unionbot(capsys, "backup", str(tmp_path / "union.tar.gz"))

    assert (code, out, err) == (1, [], [EN("cli.backup_pg_dump_missing")])
    assert "postgresql-client" in err[0]
    assert not (tmp_path / "union.tar.gz").exists()


def handmade_archive(path: Path, manifest: dict[str, Any]) -> Path:
    """An archive with only a manifest (what the restore reads first)."""
    with tarfile.open(path, "w:gz") as archive:
        data = json.dumps(manifest).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return path


def test_without_pg_restore_or_with_a_strange_file_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = {
        "format": 1,
        "app_version": "0.1.0",
        "revision": head(),
        "database": "postgresql",
        "created_at": "2026-12-01T19:30:00+00:00",
        "key_check": key_check_value(KEY.encode()),
        "key_source": "SECRET_KEY",
        "settings": {},
    }
    archive = handmade_archive(tmp_path / "pg.tar.gz", manifest)
    operator(monkeypatch, tmp_path, "postgresql+asyncpg://unionbot@127.0.0.1:9/unionbot")
    monkeypatch.setenv("PATH", "")

    assert unionbot(capsys, "restore", str(archive)) == (
        1,
        [],
        [EN("cli.backup_pg_restore_missing")],
    )

    operator(monkeypatch, tmp_path, sqlite_url(tmp_path / "data" / "unionbot.db"))
    assert unionbot(capsys, "restore", str(archive))[2] == [
        EN("cli.restore_kind_mismatch", archive="postgresql", target="sqlite")
    ]
    newer = handmade_archive(tmp_path / "newer.tar.gz", {**manifest, "format": 2})
    assert unionbot(capsys, "restore", str(newer))[2] == [
        EN("cli.restore_newer_format", version="0.1.0")
    ]
    (tmp_path / "notes.tar.gz").write_bytes(b"not an archive")
    assert unionbot(capsys, "restore", str(tmp_path / "notes.tar.gz"))[2] == [
        EN("cli.restore_not_an_archive", path=str(tmp_path / "notes.tar.gz"))
    ]
    assert not (tmp_path / "data" / "unionbot.db").exists()


# ---- the nightly job ---------------------------------------------------------------------


async def night_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """A SQLite deployment whose backups go to tmp_path/data/backups."""
    url = sqlite_url(tmp_path / "data" / "unionbot.db")
    await upgrade_async(url)
    return bot_settings(url, tmp_path, **overrides)


async def test_the_nightly_job_writes_an_archive_and_keeps_the_newest(tmp_path: Path) -> None:
    settings = await night_settings(tmp_path, backup_keep=3)
    folder = settings.backup_dir
    folder.mkdir(parents=True)
    older = [f"unionbot-202611{day:02d}-0330.tar.gz" for day in (1, 2, 3, 4)]
    for day, name in enumerate(older):
        (folder / name).write_bytes(b"an older night")
        two_days_ago = time.time() - (10 - day) * 86400
        os.utime(folder / name, (two_days_ago, two_days_ago))
    (folder / "notes.txt").write_text("the operator's own file")

    async with running_bot(settings) as bot:
        await setup_school(bot)
        runtime = bot.app.state.runtime
        assert runtime is not None
        written = await run_nightly_backup(runtime)
        again = await run_nightly_backup(runtime)  # a restart right after: nothing more

    assert written is not None and again is None
    stamp = datetime.now(settings.zone).strftime("%Y%m%d")
    assert written.name.startswith(f"unionbot-{stamp}-") and written.name.endswith(".tar.gz")
    kept = sorted(path.name for path in folder.iterdir())
    assert kept == sorted([*older[-2:], written.name, "notes.txt"])
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    manifest = read_manifest(written)
    assert manifest.database == "sqlite" and manifest.revision == head()
    assert AUTHOR_NAME.encode() in members_of(written)[SQLITE_MEMBER]


async def test_a_backup_while_the_bot_writes_is_one_consistent_moment(tmp_path: Path) -> None:
    settings = await night_settings(tmp_path)
    async with running_bot(settings) as bot:
        await setup_school(bot)

        under_way = asyncio.Event()

        async def keep_writing() -> int:
            for number in range(200):
                await make_member(bot.db, org_id=bot.org_id, name=f"新成员{number}")
                if number == 50:
                    under_way.set()
            return 200

        writer = asyncio.create_task(keep_writing())
        await under_way.wait()
        archive = tmp_path / "during.tar.gz"
        await create_backup(settings, archive)
        print(f"members written beside the backup: {await writer}")

    copy = tmp_path / "copy.db"
    copy.write_bytes(members_of(archive)[SQLITE_MEMBER])
    engine = sqlalchemy.create_engine(f"sqlite:///{copy}")
    try:
        with engine.connect() as connection:
            assert connection.execute(sqlalchemy.text("PRAGMA integrity_check")).scalar() == "ok"
            count = connection.execute(sqlalchemy.text("SELECT count(*) FROM member")).scalar()
    finally:
        engine.dispose()
    assert count is not None and 3 + 51 <= count <= 3 + 200
    print(f"members in the copy: {count}")


def test_the_nightly_job_is_planned_on_sqlite_only_and_not_when_off(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(sqlite_url(tmp_path / "x.db"), tmp_path, backup_time="02:15")
    [job] = backup_jobs(settings)
    assert (job.id, dict(job.when)) == (BACKUP_JOB, {"hour": 2, "minute": 15})
    assert backup_jobs(settings.model_copy(update={"backup_keep": 0})) == ()

    caplog.set_level("INFO", logger="scheduler.backup_job")
    on_postgres = settings.model_copy(update={"database_url": "postgresql+asyncpg://u@h/db"})
    assert backup_jobs(on_postgres) == ()
    [line] = [r.getMessage() for r in caplog.records if r.name == "scheduler.backup_job"]
    assert "unionbot backup" in line and "cron" in line


async def test_a_failed_night_alerts_the_owners_once_without_data(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("BACKUP_DIR cannot be made under a file")
    settings = await night_settings(tmp_path, backup_dir=blocked / "backups")

    async with running_bot(settings) as bot:
        await setup_school(bot)
        runtime = bot.app.state.runtime
        assert runtime is not None
        assert await run_nightly_backup(runtime) is None
        assert await run_nightly_backup(runtime) is None  # the same night again: no 2nd alert
        async with bot.db() as session:
            broadcasts = (
                await session.exec(select(Broadcast).where(Broadcast.key.startswith("backup")))
            ).all()
            [message] = (await session.exec(select(OutboxMessage))).all()

    assert len(broadcasts) == 1
    assert message.chat_id == CHAIR.id
    assert "⚠️" in message.text and "BACKUP_DIR" in message.text
    for private in (AUTHOR_NAME, "刘委员", str(AUTHOR.id)):
        assert private not in message.text


DRAFT = "匿名草稿：食堂的问题"


async def _drafts(url: str, insert: bool = False) -> int:
    """Rows in the conversation store (a draft is put there first when `insert`)."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            if insert:
                await connection.execute(
                    sqlalchemy.text(
                        "INSERT INTO conversation_state (kind, name, key, value, updated_at) "
                        "VALUES ('user', '', '1001', :value, CURRENT_TIMESTAMP)"
                    ),
                    {"value": json.dumps({"draft": DRAFT}, ensure_ascii=False)},
                )
            counted = await connection.execute(
                sqlalchemy.text("SELECT count(*) FROM conversation_state")
            )
            return int(counted.scalar_one())
    finally:
        await engine.dispose()


def test_forms_half_filled_in_are_not_in_a_backup(
    kind: str,
    source: str,
    target: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A draft (an anonymous text in progress, tied to the person) is not data to keep: the
    # table comes back empty, and on SQLite the archived file holds no trace of the text
    # (not in a free page either), while the database backed up keeps its drafts.
    assert asyncio.run(_drafts(source, insert=True)) == 1
    archive = tmp_path / "drafts.tar.gz"
    operator(monkeypatch, tmp_path / "old", source)
    assert unionbot(capsys, "backup", str(archive))[0] == 0
    assert asyncio.run(_drafts(source)) == 1
    if kind == "sqlite":
        copy = members_of(archive)[SQLITE_MEMBER]
        assert DRAFT.encode() not in copy
    operator(monkeypatch, tmp_path / "new", target)
    assert unionbot(capsys, "restore", str(archive))[0] == 0
    assert asyncio.run(_drafts(target)) == 0


async def _take_lease(url: str, holder: str, seconds: int) -> None:
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            assert await acquire(session, holder=holder, seconds=seconds) is not None
    finally:
        await engine.dispose()


def test_a_postgresql_restore_is_refused_while_a_copy_holds_the_lease(
    source: str,
    target: str,
    kind: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # pg_restore would replace the tables under a running bot: refused even with --force, and
    # the sentence names the copy to stop.
    if kind != "postgresql":
        pytest.skip("SQLite: the lock file refuses it (test_backup_abuse.py)")
    archive = tmp_path / "union.tar.gz"
    operator(monkeypatch, tmp_path / "old", source)
    assert unionbot(capsys, "backup", str(archive))[0] == 0
    upgrade(target)
    asyncio.run(add_member(target, tmp_path / "new", "新服务器上的成员"))
    asyncio.run(_take_lease(target, "school-a", 60))
    before = asyncio.run(snapshot(target))

    operator(monkeypatch, tmp_path / "new", target)
    code, out, err = unionbot(capsys, "restore", str(archive), "--force")

    assert (code, out, err) == (1, [], [EN("cli.restore_bot_active", holder="school-a")])
    assert asyncio.run(snapshot(target)) == before
