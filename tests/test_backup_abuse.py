"""Backups tried the way a careless operator or a crafted archive would (issue 19, review):

- a restore while the bot runs on the SQLite database (it holds `<database>.lock`, bot/lease.py)
  is refused, and the lock is held while the restore runs;
- a PostgreSQL server that cannot be reached is one sentence for backup and restore, never a
  traceback and never the password; an unencoded @ in DATABASE_URL's password is refused;
- crafted archives (a manifest of the wrong types, a terminal escape, a database member that is
  a link or claims a petabyte, names outside the folder) are one sentence and touch nothing;
- a damaged database is replaced with --force only; the drafts of a replaced database go;
- the nightly pruning keeps tonight's archive and touches only regular archive files.
"""

from __future__ import annotations

import asyncio
import fcntl
import gzip
import io
import json
import os
import pickle
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.backup import MANIFEST, SETTINGS_FILE, SQLITE_MEMBER
from bot.db import upgrade
from models.anonymity import key_check_value
from scheduler.backup_job import run_nightly_backup
from tests.support.harness import running_bot
from tests.test_backup import (
    EN,
    KEY,
    add_member,
    head,
    night_settings,
    operator,
    snapshot,
    sqlite_url,
    unionbot,
)
from tests.test_suggestions import setup_school

DB_PASSWORD = "pw-never-on-the-terminal"


def manifest(**overrides: Any) -> dict[str, Any]:
    """What `unionbot backup` writes for a SQLite database, with `overrides`."""
    return {
        "format": 1,
        "app_version": "0.1.0",
        "revision": head(),
        "database": "sqlite",
        "created_at": "2026-12-01T19:30:00+00:00",
        "key_check": key_check_value(KEY.encode()),
        "key_source": "SECRET_KEY",
        "settings": {},
        **overrides,
    }


def _add(archive: tarfile.TarFile, info: tarfile.TarInfo, data: bytes = b"") -> None:
    info.size = len(data) if info.isfile() else 0
    archive.addfile(info, io.BytesIO(data) if info.isfile() else None)


def crafted(
    path: Path,
    meta: dict[str, Any] | bytes,
    database: bytes | tarfile.TarInfo | None,
    *extra: tuple[str, bytes],
) -> Path:
    """An archive as `unionbot backup` lays it out, with whatever members a test needs."""
    with tarfile.open(path, "w:gz") as archive:
        raw = meta if isinstance(meta, bytes) else json.dumps(meta).encode()
        _add(archive, tarfile.TarInfo(MANIFEST), raw)
        _add(archive, tarfile.TarInfo(SETTINGS_FILE), b"")
        if isinstance(database, bytes):
            _add(archive, tarfile.TarInfo(SQLITE_MEMBER), database)
        elif isinstance(database, tarfile.TarInfo):
            _add(archive, database)
        for name, data in extra:
            _add(archive, tarfile.TarInfo(name), data)
    return path


def claims_a_petabyte(path: Path) -> Path:
    """A database member whose header says 10**15 bytes (a few follow): a gzip bomb's shape."""
    crafted(path, manifest(), None)
    with tarfile.open(path, "r:gz") as archive:
        infos = [(info, archive.extractfile(info).read()) for info in archive]  # type: ignore[union-attr]
    body = b"".join(info.tobuf() + data + b"\0" * (-len(data) % 512) for info, data in infos)
    huge = tarfile.TarInfo(SQLITE_MEMBER)
    huge.size = 10**15
    body += huge.tobuf(format=tarfile.GNU_FORMAT) + b"SQLite format 3\0" + b"\0" * 496
    path.write_bytes(gzip.compress(body))
    return path


@pytest.fixture(scope="module")
def empty_database(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The bytes of a migrated, empty SQLite database."""
    path = tmp_path_factory.mktemp("empty") / "empty.db"
    upgrade(sqlite_url(path))
    return path.read_bytes()


@pytest.fixture
def in_use(tmp_path: Path) -> tuple[str, Path]:
    """A SQLite deployment with a member on its roster: its URL and its folder."""
    folder = tmp_path / "school"
    url = sqlite_url(folder / "data" / "unionbot.db")
    upgrade(url)
    asyncio.run(add_member(url, folder, "王老师"))
    return url, folder


def files_under(folder: Path) -> dict[str, bytes]:
    """Every file below `folder` with its bytes (left out: the lock file, empty, and the
    -wal and -shm files SQLite opens beside the database whenever it is read)."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.name.endswith((".lock", "-wal", "-shm"))
    }


# ---- the running bot ----------------------------------------------------------------------


def hold_lock(path: Path) -> subprocess.Popen[str]:
    """Another process holding the lock as `unionbot run` does (bot/lease.py)."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys; f = open(sys.argv[1], 'a'); "
            "fcntl.flock(f.fileno(), fcntl.LOCK_EX); print('held', flush=True); sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_a_restore_while_the_bot_runs_on_sqlite_is_refused_and_touches_nothing(
    in_use: tuple[str, Path],
    empty_database: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, folder = in_use
    lock = folder / "data" / "unionbot.db.lock"
    archive = crafted(tmp_path / "empty.tar.gz", manifest(), empty_database)
    before = files_under(folder)
    holder = hold_lock(lock)
    try:
        operator(monkeypatch, folder, url)
        code, out, err = unionbot(capsys, "restore", "--force", str(archive))
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
        assert holder.stdout is not None
        holder.stdout.close()
    assert (code, out, err) == (1, [], [EN("cli.restore_bot_running", path=str(lock))])
    assert files_under(folder) == before

    # The bot stopped: the restore goes through, and it held the lock while it ran.
    seen: list[bool] = []
    real = Path.unlink

    def unlink_and_look(path: Path, missing_ok: bool = False) -> None:
        if path.name == "conversations.pickle":
            with lock.open("a") as other:
                try:
                    fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    seen.append(False)
                except BlockingIOError:
                    seen.append(True)
        real(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink_and_look)
    assert unionbot(capsys, "restore", "--force", str(archive))[0] == 0
    assert seen == [True]
    assert asyncio.run(snapshot(url)) == ([], [], 0)


# ---- a database that does not answer ------------------------------------------------------


@pytest.mark.skipif(
    not (shutil.which("pg_dump") and shutil.which("pg_restore")),
    reason="needs the PostgreSQL client tools (otherwise their own sentence comes first)",
)
def test_an_unreachable_postgresql_is_one_sentence_without_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    nowhere = f"postgresql+asyncpg://unionbot:{DB_PASSWORD}@127.0.0.1:1/unionbot"
    operator(monkeypatch, tmp_path, nowhere)
    out_folder = tmp_path / "backups"

    code, out, err = unionbot(capsys, "backup", str(out_folder / "pg.tar.gz"))
    assert (code, out, len(err)) == (1, [], 1), err
    assert err[0].startswith("No backup was written: the database could not be read (")
    assert list(out_folder.iterdir()) == []  # no archive, no work folder left

    archive = crafted(tmp_path / "pg.tar.gz", manifest(database="postgresql"), None)
    code, out, err = unionbot(capsys, "restore", str(archive))
    assert (code, out, len(err)) == (1, [], 1), err
    assert err[0].startswith("Nothing was restored: the database did not answer (")
    assert DB_PASSWORD not in capsys.readouterr().err + "\n".join(err)


def test_an_unencoded_at_in_the_database_password_is_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Left as it is, "pa@ss-REST" makes "ss-REST@127.0.0.1" the host, which connection errors
    # (pg_dump's "could not translate host name ...") would print.
    operator(monkeypatch, tmp_path, "postgresql+asyncpg://unionbot:pa@ss-REST@127.0.0.1/unionbot")
    code, out, err = unionbot(capsys, "backup", str(tmp_path / "x.tar.gz"))
    assert (code, out, len(err)) == (2, [], 1), err
    assert "DATABASE_URL" in err[0] and "%40" in err[0] and "REST" not in err[0]
    operator(monkeypatch, tmp_path, "postgresql+asyncpg://unionbot:pa%40ss@127.0.0.1:1/unionbot")
    assert unionbot(capsys, "backup", str(tmp_path / "x.tar.gz"))[0] == 1  # read, then refused


# ---- crafted archives ---------------------------------------------------------------------


CRAFTED: dict[str, Callable[[bytes], tuple[Any, Any]]] = {
    "settings not a mapping": lambda db: (manifest(settings=["TIMEZONE=UTC"]), db),
    "a key check of another type": lambda db: (manifest(key_check=12345), db),
    "a terminal escape in a field": lambda db: (manifest(database="sqlite\x1b[2J"), db),
    "a revision with an escape": lambda db: (manifest(revision="\x1b]0;owned\x07"), db),
    "a manifest of 2 MB": lambda db: (json.dumps(manifest()).encode() + b" " * 2_000_000, db),
    "a manifest nested deeply": lambda db: (b"[" * 100_000 + b"]" * 100_000, db),
    "the database a link to a file of the server": lambda db: (
        manifest(),
        _link(SQLITE_MEMBER, "/etc/passwd"),
    ),
    "the database a link outside the folder": lambda db: (
        manifest(),
        _link(SQLITE_MEMBER, "../../data/unionbot.db"),
    ),
}


def _link(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.SYMTYPE, target
    return info


@pytest.mark.parametrize("case", [*CRAFTED, "a database member of a petabyte"])
def test_a_crafted_archive_is_one_sentence_and_touches_nothing(
    case: str,
    in_use: tuple[str, Path],
    empty_database: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, folder = in_use
    path = tmp_path / "crafted.tar.gz"
    if case in CRAFTED:
        meta, database = CRAFTED[case](empty_database)
        crafted(path, meta, database)
    else:
        claims_a_petabyte(path)
    before = files_under(folder)
    operator(monkeypatch, folder, url)

    code, out, err = unionbot(capsys, "restore", "--force", str(path))

    assert (code, out, len(err)) == (1, [], 1), err
    assert err[0].startswith("Nothing was restored"), err
    assert not any(ord(char) < 32 for char in err[0])
    assert files_under(folder) == before  # no .restore-* file left either
    assert asyncio.run(snapshot(url))[0] == ["王老师"]


def test_names_outside_the_folder_in_an_archive_are_never_written(
    in_use: tuple[str, Path],
    empty_database: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, folder = in_use
    outside = tmp_path / "outside.txt"
    path = crafted(
        tmp_path / "extra.tar.gz",
        manifest(),
        empty_database,
        ("../../outside.txt", b"planted"),
        (str(tmp_path / "absolute.txt"), b"planted"),
    )
    operator(monkeypatch, folder, url)
    assert unionbot(capsys, "restore", "--force", str(path))[0] == 0
    assert not outside.exists() and not (tmp_path / "absolute.txt").exists()
    assert asyncio.run(snapshot(url)) == ([], [], 0)


# ---- a damaged database, and the drafts of a replaced one --------------------------------


def test_a_damaged_database_is_replaced_with_force_only(
    empty_database: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "school"
    database = folder / "data" / "unionbot.db"
    database.parent.mkdir(parents=True)
    database.write_bytes(b"SQLite format 3\0" + os.urandom(4096))  # a disk that went bad
    archive = crafted(tmp_path / "good.tar.gz", manifest(), empty_database)
    operator(monkeypatch, folder, sqlite_url(database))

    assert unionbot(capsys, "restore", str(archive)) == (
        1,
        [],
        [EN("cli.restore_not_empty")],
    )
    code, _, err = unionbot(capsys, "restore", "--force", str(archive))
    assert (code, err) == (0, []), err
    assert asyncio.run(snapshot(sqlite_url(database))) == ([], [], 0)


def test_the_drafts_of_the_replaced_database_do_not_continue_on_the_restored_one(
    in_use: tuple[str, Path],
    empty_database: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A committee member halfway through answering suggestion 7 of the old database: on the
    # restored one, 7 may be another author's suggestion.
    url, folder = in_use
    drafts = folder / "data" / "conversations.pickle"
    data = {"user_data": {1: {"reply_to": 7, "text": "答复草稿"}}, "conversations": {}}
    drafts.write_bytes(pickle.dumps(data))
    archive = crafted(tmp_path / "good.tar.gz", manifest(), empty_database)
    operator(monkeypatch, folder, url)

    assert unionbot(capsys, "restore", "--force", str(archive))[0] == 0
    assert not drafts.exists()


# ---- the nightly pruning ------------------------------------------------------------------


async def test_pruning_keeps_tonights_archive_and_deletes_only_regular_archives(
    tmp_path: Path,
) -> None:
    settings = await night_settings(tmp_path, backup_keep=2)
    folder = settings.backup_dir
    folder.mkdir(parents=True)
    # A clock that was once wrong: this name sorts after every real night.
    future = folder / "unionbot-20991231-2359.tar.gz"
    future.write_bytes(b"written when the clock said 2099")
    os.utime(future, (0, 0))
    old = folder / "unionbot-20200101-0330.tar.gz"
    old.write_bytes(b"an old night")
    os.utime(old, (0, 0))
    (folder / "unionbot-20190101-0330.tar.gz").mkdir()  # not a file of ours
    elsewhere = tmp_path / "elsewhere.tar.gz"
    elsewhere.write_bytes(b"the operator's archive elsewhere")
    (folder / "unionbot-20180101-0330.tar.gz").symlink_to(elsewhere)

    async with running_bot(settings) as bot:
        await setup_school(bot)
        runtime = bot.app.state.runtime
        assert runtime is not None
        written = await run_nightly_backup(runtime)

    assert written is not None and written.exists()
    names = sorted(path.name for path in folder.iterdir())
    assert names == sorted(
        [
            written.name,
            future.name,
            "unionbot-20190101-0330.tar.gz",
            "unionbot-20180101-0330.tar.gz",
        ]
    )
    assert elsewhere.read_bytes() == b"the operator's archive elsewhere"


# ---- a backup written over the wrong file -------------------------------------------------


@pytest.mark.parametrize("name", ["data/unionbot.db", ".env", "data/secret.key"])
def test_a_backup_never_replaces_a_file_that_is_not_an_archive(
    name: str,
    in_use: tuple[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, folder = in_use
    (folder / ".env").write_text("TELEGRAM_BOT_TOKEN=the-one-copy\n")
    (folder / "data" / "secret.key").write_text("the-one-copy-of-the-key\n")
    before = files_under(folder)
    operator(monkeypatch, folder, url)

    code, out, err = unionbot(capsys, "backup", name)

    assert (code, out, err) == (1, [], [EN("cli.backup_would_replace", path=name)])
    assert files_under(folder) == before
    assert asyncio.run(snapshot(url))[0] == ["王老师"]
    # An archive of ours is replaced, as the nightly job and scripts expect.
    assert unionbot(capsys, "backup", "data/backups/a.tar.gz")[0] == 0
    assert unionbot(capsys, "backup", "data/backups/a.tar.gz")[0] == 0
