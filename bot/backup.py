"""Backups that restore: one archive with the database, a manifest and the settings that matter.

The archive (tar.gz, created 0600) holds

- `database.sqlite3` (SQLite's online backup API: a consistent copy while the bot runs) or
  `database.pgdump` (`pg_dump --format=custom`);
- `manifest.json`: format, app version, Alembic revision, database kind, when, the key check
  value (models/anonymity.py) that lets a restore tell whether SECRET_KEY is the right one, and
  the settings below;
- `settings.env`: the same settings as lines for .env.

Only the settings named in KEPT_SETTINGS are written, never by a rule that leaves things out:
a setting added later (a token, a password) stays out of the archive until someone decides
otherwise here. The bot token, the proxy URL, WEBHOOK_SECRET, SECRET_KEY and the database
password are never in it.

Nor is the generated key file (data/secret.key, used when SECRET_KEY is not set): it is what
seals the anonymous authors, and archives travel (another disk, another building). An archive
with its key inside would let whoever finds a copy read who wrote each anonymous suggestion, so
the key is kept apart and the operator is told so every time a backup is written.

Forms half filled in are not kept either (the rows of `conversation_state`, emptied in the
SQLite copy and left out by pg_dump): they hold drafts tied to a person, anonymous ones among
them, and a restored bot would only ask to start them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hmac
import io
import json
import logging
import os
import re
import shutil
import sqlite3
import tarfile
import tempfile
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import IO, Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError

from bot.db import create_engine, is_sqlite, upgrade_async
from bot.files import PRIVATE_FILE, private_dir
from bot.lease import sqlite_lock_path
from bot.settings import Settings
from models.anonymity import key_check_value
from models.errors import N_, DomainError

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
# Inside one folder, so that unpacking the archive by hand does not scatter files.
MANIFEST = "unionbot-backup/manifest.json"
SETTINGS_FILE = "unionbot-backup/settings.env"
SQLITE_MEMBER = "unionbot-backup/database.sqlite3"
POSTGRES_MEMBER = "unionbot-backup/database.pgdump"
SQLITE, POSTGRESQL = "sqlite", "postgresql"
NIGHTLY_PATTERN = re.compile(r"^unionbot-\d{8}-\d{4}\.tar\.gz$")

# The settings that give the stored data its meaning (dates, names, who decides); a new
# server restored from the archive needs the same values to read its data the same way.
KEPT_SETTINGS = (
    "timezone",
    "default_language",
    "organization_name",
    "organization_name_zh_hant",
    "organization_name_en",
    "term1_start",
    "term2_start",
    "owner_ids",
    "committee_chat_id",
    "quiet_hours",
    "suggestion_answer_days",
    "ballot_quorum",
    "ballot_majority",
    "ballot_min_group",
    "aid_notice_days",
    "aid_event_max_age_months",
)
# Tables whose rows mean the database is in use: a restore over them needs --force.
IN_USE_TABLES = ("organization", "member")
# Our manifests are a few hundred bytes; a bigger one is not ours (and is not read into memory).
MANIFEST_LIMIT = 64 * 1024
_REVISION = re.compile(r"^[0-9A-Za-z_]{1,64}$")
_VERSION = re.compile(r"^[0-9A-Za-z.+_-]{1,64}$")
_HEX = re.compile(r"^[0-9a-f]{1,128}$")


class BackupError(DomainError):
    """A backup or restore refused or failed; `key` is one sentence for the operator."""


@dataclass(frozen=True)
class Manifest:
    """What an archive says about itself."""

    format: int
    app_version: str
    revision: str | None
    database: str
    created_at: str
    key_check: str | None
    key_source: str  # "SECRET_KEY" or "secret.key": where the deployment's key came from
    settings: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Restored:
    """A finished restore: the archive's manifest and the kept settings that differ now."""

    manifest: Manifest
    differing: list[str]


# ---- the key ------------------------------------------------------------------------------


def key_file(settings: Settings) -> Path:
    """Where the generated key lives when SECRET_KEY is not set (as Settings.secret_bytes)."""
    return settings.persistence_path.parent / "secret.key"


def current_secret(settings: Settings) -> bytes | None:
    """This deployment's key, without generating one (a backup or restore must not)."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    path = key_file(settings)
    return path.read_text().strip().encode() if path.exists() else None


def key_source(settings: Settings) -> str:
    """SECRET_KEY when it is set, else the generated key file."""
    return "SECRET_KEY" if settings.secret_key is not None else "secret.key"


def kept_settings(settings: Settings) -> dict[str, str]:
    """The settings that matter for the data, as .env would spell them."""
    kept: dict[str, str] = {}
    for name in KEPT_SETTINGS:
        value = getattr(settings, name)
        if isinstance(value, list):
            value = ",".join(str(part) for part in value)
        kept[name.upper()] = "" if value is None else str(value)
    return kept


def app_version() -> str:
    """The installed Union Desk's version."""
    try:
        return version("union-desk")
    except PackageNotFoundError:
        return "unknown"


# ---- writing -----------------------------------------------------------------------------


async def create_backup(settings: Settings, target: Path) -> Manifest:
    """Write the archive to `target` (replaced atomically, 0600); raise BackupError."""
    url = settings.database_url
    kind = SQLITE if is_sqlite(url) else POSTGRESQL
    if kind == POSTGRESQL and shutil.which("pg_dump") is None:
        raise BackupError(N_("cli.backup_pg_dump_missing"))
    _refuse_to_replace(target)
    folder = target.parent
    try:
        private_dir(folder)
    except OSError as exc:
        raise BackupError(N_("cli.backup_cannot_write"), path=str(target)) from exc
    with _work_dir(folder, target) as work:
        if kind == SQLITE:
            member = work / Path(SQLITE_MEMBER).name
            async with _database_answers(N_("cli.backup_database_failed")):
                revision, stored_check = await asyncio.to_thread(_sqlite_copy, url, member)
        else:
            member = work / Path(POSTGRES_MEMBER).name
            async with _database_answers(N_("cli.backup_database_failed")):
                revision, stored_check = await _postgres_facts(url)
            # Forms half filled in (drafts of anonymous texts and aid stories, tied to the
            # person) are not kept: the SQLite copy is emptied of them too.
            await _run_pg_tool(
                "pg_dump",
                url,
                [
                    "--format=custom",
                    "--exclude-table-data=conversation_state",
                    f"--file={member}",
                ],
            )
        secret = current_secret(settings)
        manifest = Manifest(
            format=FORMAT_VERSION,
            app_version=app_version(),
            revision=revision,
            database=kind,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            # The database's own check value (the key it was used with); before the first
            # start there is none, and the key this deployment would use stands in.
            key_check=stored_check or (key_check_value(secret) if secret else None),
            key_source=key_source(settings),
            settings=kept_settings(settings),
        )
        try:
            await asyncio.to_thread(_write_archive, target, work, member, manifest)
        except OSError as exc:
            raise BackupError(N_("cli.backup_cannot_write"), path=str(target)) from exc
    return manifest


def failure_reason(error: BaseException) -> str:
    """The kind of failure, for the operator: an OS error's own words ("Connection refused")
    or the driver's error class ("InvalidPasswordError"), never a URL, a host or a row."""
    if isinstance(error, DBAPIError) and error.orig is not None:
        error = error.orig
    cause = error.__cause__
    if not isinstance(error, OSError) and isinstance(cause, OSError):
        error = cause
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return type(error).__name__


def _refuse_to_replace(target: Path) -> None:
    """`unionbot backup data/unionbot.db` (or .env, or secret.key) would replace the very file
    it means to keep: only an archive of ours is ever replaced."""
    if not target.is_file():
        return
    try:
        read_manifest(target)
    except BackupError:
        raise BackupError(N_("cli.backup_would_replace"), path=str(target)) from None


@contextlib.asynccontextmanager
async def _database_answers(key: str) -> AsyncIterator[None]:
    """A database that cannot be reached (or read) is the sentence `key`, not a traceback."""
    try:
        yield
    except BackupError:
        raise
    except Exception as error:
        logger.debug("The database did not answer: %s", type(error).__name__)
        raise BackupError(key, reason=failure_reason(error)) from error


@contextlib.contextmanager
def _work_dir(folder: Path, target: Path) -> Iterator[Path]:
    """A 0700 scratch folder beside the target (same disk; not a shared /tmp)."""
    try:
        scratch = tempfile.TemporaryDirectory(prefix=".unionbot-work-", dir=folder)
    except OSError as exc:
        raise BackupError(N_("cli.backup_cannot_write"), path=str(target)) from exc
    with scratch as name:
        yield Path(name)


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(N_("cli.backup_not_a_file"))
    return Path(database)


def _sqlite_copy(url: str, copy: Path) -> tuple[str | None, str | None]:
    """Copy the live database with SQLite's backup API; the copy's revision and check value."""
    source_path = _sqlite_path(url)
    if not source_path.exists():
        raise BackupError(N_("cli.backup_no_database"), path=str(source_path))
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
    try:
        destination = sqlite3.connect(copy)
        try:
            # pages=-1: the whole database in one step under one read lock, so the copy is
            # one moment of the database even while the bot writes.
            source.backup(destination, pages=-1)
            destination.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
            _leave_drafts_out(destination)
            return _sqlite_facts(destination)
        finally:
            destination.close()
    finally:
        source.close()


def _leave_drafts_out(copy: sqlite3.Connection) -> None:
    """Empty the copy's conversation_state (forms half filled in), as pg_dump leaves its data
    out. secure_delete overwrites the deleted rows and VACUUM rewrites the file from the live
    rows only, so no draft is left in a free page of the archived file."""
    tables = {row[0] for row in copy.execute("SELECT name FROM sqlite_master")}
    if "conversation_state" not in tables:
        return
    copy.execute("PRAGMA secure_delete=ON")
    copy.execute("DELETE FROM conversation_state")
    copy.commit()
    copy.execute("VACUUM")


def _sqlite_facts(connection: sqlite3.Connection) -> tuple[str | None, str | None]:
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    revision = check = None
    if "alembic_version" in tables:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = row[0] if row else None
    if "secret_key_check" in tables:
        row = connection.execute("SELECT check_value FROM secret_key_check").fetchone()
        check = row[0] if row else None
    return revision, check


def _sync_facts(connection: Connection) -> tuple[str | None, str | None]:
    tables = set(inspect(connection).get_table_names())
    revision = check = None
    if "alembic_version" in tables:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if "secret_key_check" in tables:
        check = connection.execute(text("SELECT check_value FROM secret_key_check")).scalar()
    return revision, check


async def _postgres_facts(url: str) -> tuple[str | None, str | None]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_sync_facts)
    finally:
        await engine.dispose()


def _write_archive(target: Path, work: Path, database: Path, manifest: Manifest) -> None:
    """The archive under a temporary name first (0600 from its creation), then renamed."""
    partial = work / "in-progress.tar.gz"
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    with os.fdopen(descriptor, "wb") as raw:
        with tarfile.open(fileobj=raw, mode="w:gz") as archive:
            _add_bytes(archive, MANIFEST, json.dumps(asdict(manifest), indent=2).encode())
            lines = "".join(f"{name}={value}\n" for name, value in manifest.settings.items())
            _add_bytes(archive, SETTINGS_FILE, lines.encode())
            member = SQLITE_MEMBER if manifest.database == SQLITE else POSTGRES_MEMBER
            info = archive.gettarinfo(database, arcname=member)
            _anonymous_owner(info)
            with database.open("rb") as source:
                archive.addfile(info, source)
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(partial, target)


def _anonymous_owner(info: tarfile.TarInfo) -> None:
    info.mode, info.uid, info.gid, info.uname, info.gname = PRIVATE_FILE, 0, 0, "", ""


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now(UTC).timestamp())
    _anonymous_owner(info)
    archive.addfile(info, io.BytesIO(data))


# ---- PostgreSQL's tools ------------------------------------------------------------------


def _pg_environment(url: str) -> dict[str, str]:
    """libpq's variables for the URL: the password travels in the environment, never in the
    command line (which every user of the server can read in `ps`)."""
    parsed = make_url(url)
    env = dict(os.environ)
    values = {
        "PGHOST": parsed.host or parsed.query.get("host"),
        "PGPORT": str(parsed.port) if parsed.port else None,
        "PGUSER": parsed.username,
        "PGPASSWORD": parsed.password,
        "PGDATABASE": parsed.database,
        "PGSSLMODE": parsed.query.get("sslmode") or parsed.query.get("ssl"),
    }
    for name, value in values.items():
        if isinstance(value, tuple):
            value = value[0] if value else None
        if value:
            env[name] = str(value)
    return env


# Per tool: the sentence when it is not installed, and when it fails.
_TOOL_KEYS = {
    "pg_dump": (N_("cli.backup_pg_dump_missing"), N_("cli.backup_pg_dump_failed")),
    "pg_restore": (N_("cli.backup_pg_restore_missing"), N_("cli.backup_pg_restore_failed")),
}


async def _run_pg_tool(tool: str, url: str, arguments: list[str]) -> str:
    """Run pg_dump or pg_restore against the URL's database; its output, or BackupError."""
    missing, failed = _TOOL_KEYS[tool]
    program = shutil.which(tool)
    if program is None:
        raise BackupError(missing)
    process = await asyncio.create_subprocess_exec(
        program,
        *arguments,
        env=_pg_environment(url),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        lines = [line for line in err.decode(errors="replace").splitlines() if line.strip()]
        reason = lines[-1][:300] if lines else ""
        logger.error("%s ended with exit code %s: %s", tool, process.returncode, reason)
        raise BackupError(failed, code=process.returncode, reason=reason)
    return out.decode(errors="replace")


# ---- reading and restoring ---------------------------------------------------------------


def _member(archive: tarfile.TarFile, name: str) -> tarfile.TarInfo | None:
    """The first member called `name`, read no further than it (getmember would read the
    whole archive's headers first); None if there is none."""
    for info in archive:
        if info.name == name:
            return info
    return None


def read_manifest(archive_path: Path) -> Manifest:
    """The archive's manifest; BackupError if it is not one of our archives."""
    not_ours = BackupError(N_("cli.restore_not_an_archive"), path=str(archive_path))
    try:
        with tarfile.open(archive_path, mode="r:gz") as archive:
            info = _member(archive, MANIFEST)
            if info is None or not info.isfile() or info.size > MANIFEST_LIMIT:
                raise not_ours
            source = archive.extractfile(info)
            raw: Any = json.loads(source.read(MANIFEST_LIMIT)) if source is not None else None
    except FileNotFoundError as exc:
        raise BackupError(N_("cli.restore_no_file"), path=str(archive_path)) from exc
    except (OSError, EOFError, tarfile.TarError, KeyError, ValueError, RecursionError) as exc:
        raise not_ours from exc
    if not isinstance(raw, dict) or type(raw.get("format")) is not int:
        raise not_ours
    if raw["format"] > FORMAT_VERSION:
        version = raw.get("app_version")
        shown = version if isinstance(version, str) and _VERSION.match(version) else "?"
        raise BackupError(N_("cli.restore_newer_format"), version=shown)
    known = set(Manifest.__dataclass_fields__)
    try:
        manifest = Manifest(**{name: value for name, value in raw.items() if name in known})
    except TypeError as exc:
        raise not_ours from exc
    if not _well_formed(manifest):
        raise not_ours
    return manifest


def _well_formed(manifest: Manifest) -> bool:
    """Every field of the type and shape `create_backup` writes: what is printed to the
    operator's terminal or compared later cannot be a terminal escape or a wrong type."""
    try:
        datetime.fromisoformat(manifest.created_at)
    except (TypeError, ValueError):
        return False
    settings = manifest.settings
    return (
        manifest.database in (SQLITE, POSTGRESQL)
        and isinstance(manifest.app_version, str)
        and _VERSION.match(manifest.app_version) is not None
        and (manifest.revision is None or _matches(_REVISION, manifest.revision))
        and (manifest.key_check is None or _matches(_HEX, manifest.key_check))
        and manifest.key_source in ("SECRET_KEY", "secret.key")
        and isinstance(settings, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in settings.items())
    )


def _matches(pattern: re.Pattern[str], value: object) -> bool:
    return isinstance(value, str) and pattern.match(value) is not None


def check_key(settings: Settings, manifest: Manifest) -> None:
    """Refuse (BackupError) unless this deployment's key opens the archive's anonymous
    threads; nothing has been touched when this refuses."""
    if manifest.key_check is None:
        return
    secret = current_secret(settings)
    if secret is None:
        raise BackupError(N_("cli.restore_key_missing"), path=str(key_file(settings)))
    if not hmac.compare_digest(key_check_value(secret), manifest.key_check):
        raise BackupError(N_("cli.restore_key_mismatch"))


async def holds_data(url: str) -> bool:
    """True when the database has an organization or a member (it is in use)."""
    if is_sqlite(url):
        path = _sqlite_path(url)
        if not path.exists():
            return False
        return await asyncio.to_thread(_sqlite_holds_data, path)
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_sync_holds_data)
    finally:
        await engine.dispose()


async def live_lease_holder(url: str) -> str | None:
    """PostgreSQL: the copy of the bot holding a lease that has not run out (None: no copy is
    active, or the database predates the lease)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            found = await connection.execute(text("SELECT to_regclass('run_lease') IS NOT NULL"))
            if not found.scalar_one():
                return None
            holder = await connection.execute(
                text("SELECT holder FROM run_lease WHERE expires_at > now() LIMIT 1")
            )
            return holder.scalar_one_or_none()
    finally:
        await engine.dispose()


def _sqlite_holds_data(path: Path) -> bool:
    """A file SQLite cannot read (damaged, or not a database) counts as holding data: it is
    replaced with --force only, which is what a damaged database needs."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error:
        return True
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        return any(
            connection.execute(f'SELECT 1 FROM "{name}" LIMIT 1').fetchone() is not None
            for name in IN_USE_TABLES
            if name in tables
        )
    except sqlite3.DatabaseError:
        return True
    finally:
        connection.close()


def _sync_holds_data(connection: Connection) -> bool:
    tables = set(inspect(connection).get_table_names())
    return any(
        connection.execute(text(f'SELECT 1 FROM "{name}" LIMIT 1')).first() is not None
        for name in IN_USE_TABLES
        if name in tables
    )


async def restore_backup(settings: Settings, archive_path: Path, *, force: bool) -> Restored:
    """Check, restore and migrate; BackupError (with nothing touched) when refused."""
    url = settings.database_url
    manifest = read_manifest(archive_path)
    kind = SQLITE if is_sqlite(url) else POSTGRESQL
    if manifest.database != kind:
        raise BackupError(N_("cli.restore_kind_mismatch"), archive=manifest.database, target=kind)
    if kind == POSTGRESQL and shutil.which("pg_restore") is None:
        raise BackupError(N_("cli.backup_pg_restore_missing"))
    check_key(settings, manifest)
    with _no_bot_running(url):
        async with _database_answers(N_("cli.restore_database_failed")):
            in_use = await holds_data(url)
            # A copy of the bot that holds the lease would go on writing into the tables
            # pg_restore replaces: refused, with --force too.
            holder = None if kind == SQLITE else await live_lease_holder(url)
        if holder is not None:
            raise BackupError(N_("cli.restore_bot_active"), holder=holder)
        if in_use and not force:
            raise BackupError(N_("cli.restore_not_empty"))
        if kind == SQLITE:
            await asyncio.to_thread(_restore_sqlite, url, archive_path)
        else:
            async with _database_answers(N_("cli.restore_database_failed")):
                await _restore_postgres(url, archive_path)
        # Drafts of the database just replaced would continue on the restored one, where the
        # ids they hold may name other items (another author's suggestion, say). The restored
        # database brings none (see above); a conversation file of an earlier version would
        # be imported at the next start, so it goes too.
        settings.persistence_path.unlink(missing_ok=True)
        async with _database_answers(N_("cli.restore_upgrade_failed")):
            await upgrade_async(url)
    now = kept_settings(settings)
    differing = sorted(name for name in now if manifest.settings.get(name, now[name]) != now[name])
    return Restored(manifest=manifest, differing=differing)


@contextlib.contextmanager
def _no_bot_running(url: str) -> Iterator[None]:
    """Hold the running bot's lock for the whole restore: refused while a bot runs on this
    SQLite database (it would keep writing the file that is replaced under it), and a bot
    started meanwhile refuses to start. PostgreSQL: nothing to hold here."""
    if not is_sqlite(url):
        yield
        return
    lock = sqlite_lock_path(url)
    assert lock is not None  # a SQLite database that is a file (checked before the restore)
    try:
        private_dir(lock.parent)
        descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
    except OSError as exc:
        raise BackupError(
            N_("cli.restore_cannot_write"), folder=str(lock.parent), reason=failure_reason(exc)
        ) from exc
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(N_("cli.restore_bot_running"), path=str(lock)) from None
        yield
    finally:
        os.close(descriptor)  # lets the lock go


def _extract(archive_path: Path, name: str, destination: IO[bytes], room_in: Path) -> None:
    """Copy the member `name` (a regular file, never a link) into `destination`, after
    checking that `room_in`'s disk has room for it."""
    try:
        with tarfile.open(archive_path, mode="r:gz") as archive:
            shutil.copyfileobj(_roomy_member(archive, archive_path, name, room_in), destination)
    except BackupError:
        raise
    except (EOFError, tarfile.TarError, zlib.error) as exc:
        raise BackupError(N_("cli.restore_not_an_archive"), path=str(archive_path)) from exc
    except OSError as exc:
        raise BackupError(
            N_("cli.restore_cannot_write"), folder=str(room_in), reason=failure_reason(exc)
        ) from exc


def _roomy_member(
    archive: tarfile.TarFile, archive_path: Path, name: str, room_in: Path
) -> IO[bytes]:
    """The member's bytes to read; BackupError for a link, a missing member, or a size (as
    its header says: a crafted one may say a petabyte) the disk has no room for."""
    info = _member(archive, name)
    source = archive.extractfile(info) if info is not None and info.isfile() else None
    if info is None or source is None:
        raise BackupError(N_("cli.restore_not_an_archive"), path=str(archive_path))
    free = shutil.disk_usage(room_in).free
    if info.size > free:
        raise BackupError(
            N_("cli.restore_no_room"),
            folder=str(room_in),
            needed=_megabytes(info.size),
            free=_megabytes(free),
        )
    return source


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.0f}"


def _restore_sqlite(url: str, archive_path: Path) -> None:
    """The copy is written and checked beside the database, then renamed over it."""
    target = _sqlite_path(url)
    try:
        private_dir(target.parent)
        descriptor, name = tempfile.mkstemp(prefix=".restore-", suffix=".db", dir=target.parent)
    except OSError as exc:
        raise BackupError(
            N_("cli.restore_cannot_write"), folder=str(target.parent), reason=failure_reason(exc)
        ) from exc
    incoming = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as destination:
            _extract(archive_path, SQLITE_MEMBER, destination, target.parent)
            destination.flush()
            os.fsync(destination.fileno())
        check = sqlite3.connect(incoming)
        try:
            healthy = check.execute("PRAGMA quick_check").fetchone()
        except sqlite3.DatabaseError:
            healthy = None
        finally:
            check.close()
        if not healthy or healthy[0] != "ok":
            raise BackupError(N_("cli.restore_not_an_archive"), path=str(archive_path))
        # The old database's journals would be replayed onto the restored file.
        for suffix in ("-wal", "-shm", "-journal"):
            target.with_name(target.name + suffix).unlink(missing_ok=True)
        os.replace(incoming, target)
    except OSError as exc:
        raise BackupError(
            N_("cli.restore_cannot_write"), folder=str(target.parent), reason=failure_reason(exc)
        ) from exc
    finally:
        incoming.unlink(missing_ok=True)


async def _restore_postgres(url: str, archive_path: Path) -> None:
    """pg_restore in one transaction; with --force, tables the backup does not have (from a
    newer release) are dropped first, or the migrations after it could not create them."""
    with tempfile.TemporaryDirectory(prefix="unionbot-restore-") as work:
        dump = Path(work) / Path(POSTGRES_MEMBER).name
        with dump.open("wb") as destination:
            _extract(archive_path, POSTGRES_MEMBER, destination, Path(work))
        listing = await _run_pg_tool("pg_restore", url, ["--list", str(dump)])
        in_backup = set(re.findall(r"\bTABLE \S+ (\S+) ", listing))
        await _drop_tables_not_in(url, in_backup)
        await _run_pg_tool(
            "pg_restore",
            url,
            [
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-acl",
                "--single-transaction",
                "--exit-on-error",
                f"--dbname={make_url(url).database}",
                str(dump),
            ],
        )


async def _drop_tables_not_in(url: str, keep: set[str]) -> None:
    engine = create_engine(url)

    def drop(connection: Connection) -> None:
        for name in inspect(connection).get_table_names():
            if name not in keep:
                connection.execute(text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))

    try:
        async with engine.begin() as connection:
            await connection.run_sync(drop)
    finally:
        await engine.dispose()


# ---- the nightly archives ----------------------------------------------------------------


def nightly_name(moment: datetime) -> str:
    """unionbot-YYYYMMDD-HHMM.tar.gz (local time): names sort as their times do."""
    return f"unionbot-{moment:%Y%m%d-%H%M}.tar.gz"


def nightly_archives(folder: Path) -> list[Path]:
    """The nightly archives in `folder`, oldest name first: regular files named like one
    (a folder or a link that happens to have such a name is not ours)."""
    return sorted(
        path
        for path in folder.iterdir()
        if NIGHTLY_PATTERN.match(path.name) and path.is_file() and not path.is_symlink()
    )


def prune(folder: Path, keep: int, *, written: Path | None = None) -> list[Path]:
    """Delete all but the newest `keep` nightly archives in `folder`, never `written` (the
    archive just made: a name from a wrong clock must not push it out); other files stay."""
    archives = [path for path in nightly_archives(folder) if path != written]
    others = max(keep - 1 if written is not None else keep, 0)
    removed = archives[: max(len(archives) - others, 0)] if keep > 0 else []
    for path in removed:
        path.unlink(missing_ok=True)
    return removed
