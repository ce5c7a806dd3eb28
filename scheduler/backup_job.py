"""The nightly backup (SQLite): an archive in BACKUP_DIR at BACKUP_TIME, the newest BACKUP_KEEP
kept. Like every job it runs only in the active copy of the bot.

A PostgreSQL deployment is backed up by `unionbot backup` from cron instead: pg_dump needs the
client tools, and the database usually lives on another machine whose disk the bot's folder is
not. A failed night tells the owners once (one message per night, whatever the retries), with
the kind of error only: the log on the server has the rest.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path

from telegram.error import TelegramError

from bot.backup import BackupError, create_backup, nightly_archives, nightly_name, prune
from bot.db import is_sqlite
from bot.settings import Settings
from models.base import utcnow
from models.outbox import BroadcastKind, Recipient, enqueue
from scheduler.jobs import FixedJob
from scheduler.runtime import Runtime

logger = logging.getLogger(__name__)

BACKUP_JOB = "nightly-backup"
GRACE_SECONDS = 6 * 3600  # a bot that was down at BACKUP_TIME backs up when it comes back
FRESH_HOURS = 12  # a nightly archive younger than this makes another one needless


def backup_jobs(settings: Settings) -> tuple[FixedJob, ...]:
    """The nightly backup job, or none (BACKUP_KEEP=0, or PostgreSQL: said once in the log)."""
    if settings.backup_keep == 0:
        logger.info("Nightly backups are off (BACKUP_KEEP=0)")
        return ()
    if not is_sqlite(settings.database_url):
        logger.info(
            "PostgreSQL: no nightly backup job in the bot; run `unionbot backup FILE` from cron "
            "(see docs/deploy.zh-Hans.md)"
        )
        return ()
    hour, minute = (int(part) for part in settings.backup_time.split(":"))
    when = {"hour": hour, "minute": minute}
    return (FixedJob(BACKUP_JOB, run_nightly_backup, when, GRACE_SECONDS, per_school=False),)


async def run_nightly_backup(runtime: Runtime) -> Path | None:
    """Write tonight's archive and prune the older ones; tell the owners if it fails."""
    settings = runtime.settings
    now = datetime.now(settings.zone)
    if _written_lately(settings.backup_dir):
        # A start within the grace runs a missed job at once: restarts in a row must not
        # each write an archive and push the older nights out of BACKUP_KEEP.
        logger.info("Nightly backup skipped: the newest is less than %s hours old", FRESH_HOURS)
        return None
    target = settings.backup_dir / nightly_name(now)
    try:
        await create_backup(settings, target)
        removed = prune(settings.backup_dir, settings.backup_keep, written=target)
    except Exception as error:
        # BackupError and OSError messages name files and exit codes, never rows.
        logger.exception("Nightly backup %s failed", target.name)
        await alert_owners(runtime, error, now)
        return None
    logger.info(
        "Nightly backup written: %s (%s older removed, keeping %s)",
        target.name,
        len(removed),
        settings.backup_keep,
    )
    return target


def _written_lately(folder: Path) -> bool:
    """True when a nightly archive in `folder` is younger than FRESH_HOURS."""
    if not folder.is_dir():
        return False
    newest = max((path.stat().st_mtime for path in nightly_archives(folder)), default=None)
    return newest is not None and time.time() - newest < FRESH_HOURS * 3600


async def alert_owners(runtime: Runtime, error: BaseException, now: datetime) -> None:
    """One message per failed night to each owner, through the outbox after the quiet hours
    (a failed backup is not worth waking anyone at 03:30); straight away if the database that
    holds the outbox is what fails."""
    settings = runtime.settings
    if not settings.owner_ids:
        return
    tr = runtime.i18n.get(settings.default_language)
    # The reason's own sentence (a folder, a full disk) or the kind of error: never a row.
    kind = (
        tr(error.key, **error.params)
        if isinstance(error, BackupError)
        else type(error).__qualname__
    )
    text = tr("backup.nightly_failed", day=now.date().isoformat(), kind=kind)
    try:
        async with runtime.db() as session:
            await enqueue(
                session,
                org_id=runtime.org_id,
                key=f"backup-failed:{now:%Y%m%d}",
                kind=BroadcastKind.REPORT,
                recipients=[Recipient(chat_id=owner, text=text) for owner in settings.owner_ids],
                not_before=utcnow(),
                quiet=True,
            )
    except Exception:
        logger.warning("Could not put the backup alert in the outbox; sending it now")
        for owner in settings.owner_ids:
            try:
                await runtime.sender.bot.send_message(owner, text)
            except TelegramError:
                logger.warning("Could not alert an owner about the failed backup")
        return
    runtime.sender.wake()
