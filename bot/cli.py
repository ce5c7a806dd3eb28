"""`unionbot`: run the bot, migrate the database, import the staff roster, write a report."""

from __future__ import annotations

import argparse
import asyncio
import csv
import logging
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.engine import make_url

from bot import cli_district
from bot.backup import BackupError, create_backup, key_file, restore_backup
from bot.db import create_engine, create_session_factory, is_sqlite, make_revision, upgrade
from bot.files import PRIVATE_UMASK
from bot.i18n import LANGUAGES, I18n, Translator
from bot.logs import configure_logging
from bot.settings import Settings, SettingsError
from models.calendar import list_entries
from models.errors import DomainError
from models.exports import safe_cell, safe_row
from models.members import Member
from models.organizations import OrgKind, ensure_default_organization
from models.reports.charts import report_charts
from models.reports.period import (
    PeriodKind,
    ReportPeriod,
    likely_period,
    month_period,
    term_period,
    year_period,
)
from models.reports.queries import gather
from models.reports.report_text import figures_text, period_name
from models.reports.summary import summary_docx
from models.reports.workbook import books_workbook
from models.roster import import_roster, invited_members, parse_rows, read_table
from scheduler.calendar_defaults import seed_defaults
from scheduler.calendar_jobs import calendar_of_year, terms_of

logger = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="unionbot",
        description="Union Desk (工会助手): a Telegram bot for a school teachers' union.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "run",
        help="run the bot: long polling, or a webhook with WEBHOOK_URL; on PostgreSQL a second "
        "copy waits as a standby and takes over",
    )
    sandbox = commands.add_parser(
        "sandbox", help="try the bot in a terminal chat, without Telegram (no token needed)"
    )
    sandbox.add_argument(
        "--fresh", action="store_true", help="delete the sandbox's data and seed a new school"
    )
    sandbox.add_argument(
        "--database",
        type=Path,
        help="the sandbox's SQLite file (data/sandbox.db, or data/sandbox-district.db)",
    )
    sandbox.add_argument(
        "--district",
        action="store_true",
        help="a district union with two schools, their chairs and the district's chair",
    )
    db = commands.add_parser("db", help="database tasks")
    db_commands = db.add_subparsers(dest="db_command", metavar="TASK")
    db_commands.add_parser("upgrade", help="migrate the database to the latest schema")
    revision = db_commands.add_parser("revision", help="write a migration for model changes")
    revision.add_argument("-m", "--message", required=True)
    calendar = commands.add_parser("calendar", help="the union calendar")
    calendar_commands = calendar.add_subparsers(dest="calendar_command", metavar="TASK")
    show = calendar_commands.add_parser("show", help="print the computed dates of a year")
    show.add_argument("--year", type=int, required=True)
    members = commands.add_parser("members", help="roster tasks")
    member_commands = members.add_subparsers(dest="members_command", metavar="TASK")
    importer = member_commands.add_parser(
        "import", help="create invited members from a staff list (.csv or .xlsx)"
    )
    importer.add_argument("file", type=Path)
    links = member_commands.add_parser("links", help="print invitation links again")
    for sub in (importer, links):
        sub.add_argument("--bot-username", default="", help="the bot's @username, for full links")
        sub.add_argument(
            "--school", help="a district's school, by its name (`unionbot school list`)"
        )
        sub.add_argument("--out", type=Path, help="also write name, department, link to this CSV")
    _report_parser(commands)
    _backup_parsers(commands)
    cli_district.add_parsers(commands)
    return parser


def _report_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = commands.add_parser(
        "report",
        help="a year's, a term's or a month's figures; the books, the summary and the charts",
    )
    report.add_argument(
        "--year", type=int, required=True, help="the year (a term: its school year)"
    )
    span = report.add_mutually_exclusive_group()
    span.add_argument("--term", type=int, help="1 (autumn) or 2 (spring) of the school year")
    span.add_argument("--month", type=int, help="1 to 12")
    report.add_argument("--language", choices=LANGUAGES, help="zh-Hans (default), zh-Hant or en")
    report.add_argument("--out", type=Path, required=True, help="the folder to write the files to")
    report.add_argument(
        "--district",
        action="store_true",
        help="the district roll-up of every school (a deployment with a district only)",
    )


def _backup_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = commands.add_parser(
        "backup",
        help="write the database, the key check value and the settings that matter into one "
        "archive (never the token, the proxy, SECRET_KEY or the database password)",
    )
    backup.add_argument("file", type=Path, help="the archive to write (.tar.gz)")
    restore = commands.add_parser(
        "restore",
        help="restore an archive written by `unionbot backup` (stop the bot first), then "
        "migrate the database to this release",
    )
    restore.add_argument("file", type=Path, help="the archive to restore")
    restore.add_argument(
        "--force",
        action="store_true",
        help="replace a database that already holds data (members or an organization)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `unionbot` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    # Whatever this process writes (the database and its journals, the conversation store,
    # secret.key, a list of invitation links) is readable by the bot's own user only.
    os.umask(PRIVATE_UMASK)
    # Plain text until the settings are read (they may be what fails), then LOG_FORMAT.
    configure_logging()
    settings: Settings | None = None
    try:
        settings = Settings()
        configure_logging(settings)
        if args.command == "run":
            return _run(settings)
        if args.command == "sandbox":
            return _sandbox(settings, args)
        if args.command == "db" and args.db_command == "upgrade":
            return _db_upgrade(settings)
        if args.command == "db" and args.db_command == "revision":
            upgrade(settings.database_url)
            make_revision(settings.database_url, args.message)
            return 0
        if args.command == "calendar" and args.calendar_command == "show":
            return asyncio.run(_calendar_show(settings, args.year))
        if args.command == "members" and args.members_command in ("import", "links"):
            return asyncio.run(_members(settings, args))
        if args.command == "report":
            return _report(settings, args)
        if args.command in ("backup", "restore"):
            return _backup_or_restore(settings, args)
        if cli_district.wants(args):
            return cli_district.run(settings, args)
    except SettingsError as exc:
        language = settings.default_language if settings else os.environ.get("DEFAULT_LANGUAGE")
        for line in _for_the_operator(_settings_key(exc.key), language):
            if settings is not None and settings.log_format == "json":
                # The reason the service stopped is the line a log collector must not drop.
                logger.error("%s", line)  # noqa: TRY400 (the sentence, no traceback)
            else:
                print(line, file=sys.stderr)
        # A fresh install without a token yet has its own status: `make run` explains it and
        # stops quietly; every other refusal stays an error for make, scripts and services.
        return NO_TOKEN_YET if exc.key == "settings.token_missing" else 2
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]).upper()
        print(f"Setting {field} is not valid: {first['msg']} (see .env.example).", file=sys.stderr)
        return 2
    parser.print_help()
    return 0 if args.command is None else 2


NO_TOKEN_YET = 3  # `unionbot run` without TELEGRAM_BOT_TOKEN (the Makefile relies on it)


def _settings_key(key: str) -> str:
    """Without a token and without a .env yet, the first step is to copy .env.example (never
    said when a .env exists: copying over it would lose what is in it)."""
    if key == "settings.token_missing" and not Path(".env").exists():
        return "settings.token_missing_no_env"
    return key


def _for_the_operator(key: str, language: str | None) -> list[str]:
    """The sentence in the deployment's language, then in English (whoever set up the server
    may not read the union's language)."""
    lines = [_translator(language)(key)]
    english = _translator("en")(key)
    if english not in lines:
        lines.append(english)
    return lines


def _translator(language: str | None) -> Translator:
    if language not in LANGUAGES:
        language = "zh-Hans"
    return I18n(language).get(language)


def _run(settings: Settings) -> int:
    from bot.runner import run

    return run(settings)


def _db_upgrade(settings: Settings) -> int:
    """`unionbot db upgrade`, also run by `unionbot run` as a child process (bot/runner.py):
    under the same PostgreSQL lock, so an upgrade by hand while a copy starts never runs one
    migration twice at once. A failure is one sentence (then in English), not a traceback."""
    from bot.runner import migrate

    tr = _translator(settings.default_language)
    try:
        asyncio.run(migrate(settings.database_url))
    except Exception as error:
        reason = _failure_reason(error)
        sentences = [tr("cli.db_upgrade_failed", reason=reason)]
        english = _translator("en")("cli.db_upgrade_failed", reason=reason)
        for sentence in sentences if english in sentences else [*sentences, english]:
            if settings.log_format == "json":
                logger.error("%s", sentence)  # noqa: TRY400 (the sentence, no traceback)
            else:
                print(sentence, file=sys.stderr)
        return 1
    print(tr("cli.db_upgraded"))
    return 0


def _sandbox(settings: Settings, args: argparse.Namespace) -> int:
    from bot.sandbox import DEFAULT_DATABASE, DISTRICT_DATABASE, run_terminal

    # The terminal is the chat: run_terminal sends log lines to a file beside its database.
    database = args.database or (DISTRICT_DATABASE if args.district else DEFAULT_DATABASE)
    return run_terminal(settings, database=database, fresh=args.fresh, district=args.district)


async def _members(settings: Settings, args: argparse.Namespace) -> int:
    tr = _translator(settings.default_language)
    await asyncio.to_thread(upgrade, settings.database_url)
    engine = create_engine(settings.database_url)
    sessions = create_session_factory(engine)
    try:
        async with sessions() as session:
            org = await ensure_default_organization(session, name=settings.organization_name)
            if org.kind == OrgKind.DISTRICT and not args.school:
                # A forgotten --school would put a school's roster into the district union.
                print(tr("cli.schools_name_one"), file=sys.stderr)
                return 2
            if args.school:
                found = await cli_district.school_named(session, args.school)
                if found is None:
                    print(tr("cli.schools_unknown", name=args.school), file=sys.stderr)
                    return 1
                org = found
            assert org.id is not None
            if args.members_command == "links":
                members = await invited_members(session, org_id=org.id)
                _print_links(tr, members, args)
                return 0
            try:
                table = read_table(args.file)
                today = datetime.now(settings.zone).date()
                rows, errors = parse_rows(table, today=today)
            except DomainError as error:
                print(tr(error.key, **error.params), file=sys.stderr)
                return 1
            except OSError:
                print(tr("roster.cannot_read", path=str(args.file)), file=sys.stderr)
                return 1
            report = await import_roster(session, org_id=org.id, rows=rows, errors=errors)
    finally:
        await engine.dispose()
    for row_error in report.errors:
        reason = tr(row_error.key, **row_error.params)
        print(tr("roster.line_error", line=row_error.line, reason=reason))
    print(
        tr(
            "roster.summary",
            created=len(report.created),
            updated=len(report.updated),
            unchanged=report.unchanged,
            errors=len(report.errors),
        )
    )
    _print_links(tr, report.created + report.updated, args)
    return 1 if report.errors and not (report.created or report.updated or report.unchanged) else 0


async def _calendar_show(settings: Settings, year: int) -> int:
    tr = _translator(settings.default_language)
    await asyncio.to_thread(upgrade, settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session:
            org = await ensure_default_organization(session, name=settings.organization_name)
            assert org.id is not None
            await seed_defaults(session, org_id=org.id, i18n=I18n(settings.default_language))
            entries = await list_entries(session, org_id=org.id)
    finally:
        await engine.dispose()
    org_name = settings.organization_name_for(settings.default_language)
    print(tr("cli.calendar_title", year=year, org=org_name))
    for day, entry in calendar_of_year(entries, year, terms=terms_of(settings)):
        title = entry.titles.get(settings.default_language) or entry.key
        state = "" if entry.enabled else " " + tr("calendar.off")
        print(f"{day.isoformat()} {entry.time_of_day}  {title}{state}")
    print(tr("calendar.birthdays_note"))
    return 0


def _report_period(settings: Settings, args: argparse.Namespace) -> ReportPeriod:
    if args.term is not None:
        return term_period(
            args.year, args.term, term1_start=settings.term1_start, term2_start=settings.term2_start
        )
    if args.month is not None:
        return month_period(args.year, args.month)
    return year_period(args.year)


def _cli_args(period: ReportPeriod) -> str:
    """A period as `unionbot report` takes it."""
    if period.kind == PeriodKind.TERM:
        return f"--year {period.year} --term {period.number}"
    if period.kind == PeriodKind.MONTH:
        return f"--year {period.year} --month {period.number}"
    return f"--year {period.year}"


def _missing_sqlite_file(url: str) -> str | None:
    """The path of a SQLite database file that does not exist (None when it does, or when the
    database is not a SQLite file)."""
    if not is_sqlite(url):
        return None
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return None if Path(database).exists() else database


def _report(settings: Settings, args: argparse.Namespace) -> int:
    """Print the period's figures; write the books, the summary and the charts into --out."""
    language = args.language or settings.default_language
    tr = I18n(settings.default_language).get(language)
    try:
        period = _report_period(settings, args)
    except DomainError as error:
        print(tr(error.key, **error.params), file=sys.stderr)
        print(tr("cli.report_usage"), file=sys.stderr)
        return 2
    today = datetime.now(settings.zone).date()
    meant = likely_period(
        period, today, term1_start=settings.term1_start, term2_start=settings.term2_start
    )
    if meant is not None:  # no figures yet: today's numbers would pass as that period's
        print(
            tr(
                "cli.report_future",
                period=period_name(tr, period),
                example=period_name(tr, meant),
                args=_cli_args(meant),
            ),
            file=sys.stderr,
        )
        return 2
    missing = _missing_sqlite_file(settings.database_url)
    if missing is not None:  # a report of an empty new database would only print zeros
        print(tr("cli.report_no_database", path=missing), file=sys.stderr)
        return 1
    out: Path = args.out
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError:
        print(tr("cli.report_cannot_write", path=str(out)), file=sys.stderr)
        return 1
    try:
        if args.district:
            found = asyncio.run(_district_files(settings, period, tr))
            if found is None:
                print(tr("cli.district_no_district"), file=sys.stderr)
                return 2
            text, files = found
        else:
            text, files = asyncio.run(_report_files(settings, period, tr))
    except Exception as error:  # the operator gets one sentence, not a traceback
        logger.warning("unionbot report failed: %s", type(error).__name__)
        print(tr("cli.report_failed", reason=_failure_reason(error)), file=sys.stderr)
        return 1
    print(text)
    print()
    for name, data in files:
        path = out / name
        try:
            path.write_bytes(data)
        except OSError:
            print(tr("cli.report_cannot_write", path=str(path)), file=sys.stderr)
            return 1
        print(tr("cli.report_written", path=str(path)))
    return 0


def _failure_reason(error: BaseException) -> str:
    """What went wrong, without the data: the kind of error and, for a connection, its cause."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return type(error).__name__


async def _report_files(
    settings: Settings, period: ReportPeriod, tr: Translator
) -> tuple[str, list[tuple[str, bytes]]]:
    """The figures' text and the files (name, bytes) of a period."""
    await asyncio.to_thread(upgrade, settings.database_url)
    engine = create_engine(settings.database_url)
    organization = settings.organization_name_for(tr.language)
    try:
        async with create_session_factory(engine)() as session:
            org = await ensure_default_organization(session, name=settings.organization_name)
            assert org.id is not None
            figures = await gather(
                session,
                org_id=org.id,
                period=period,
                zone=settings.zone,
                organization=organization,
                answer_days=settings.suggestion_answer_days,
            )
            books = await books_workbook(
                session,
                org_id=org.id,
                period=period,
                tr=tr,
                zone=settings.zone,
                organization=organization,
            )
    finally:
        await engine.dispose()
    charts = await asyncio.to_thread(report_charts, figures, tr)
    summary = await asyncio.to_thread(summary_docx, figures, charts, tr)
    files = [
        (f"books-{period.key}.xlsx", books),
        (f"summary-{period.key}.docx", summary),
        *((f"chart-{period.key}-{chart.name}.png", chart.png) for chart in charts),
    ]
    return figures_text(tr, figures), files


async def _district_files(
    settings: Settings, period: ReportPeriod, tr: Translator
) -> tuple[str, list[tuple[str, bytes]]] | None:
    """The roll-up's text and files (the workbook, the charts); None without a district."""
    from models.district import schools_of, the_district
    from models.reports.district import district_rollup
    from models.reports.district_files import rollup_charts, rollup_text, rollup_workbook

    await asyncio.to_thread(upgrade, settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session:
            district = await the_district(session)
            if district is None or district.id is None:
                return None
            rollup = await district_rollup(
                session,
                district=district.name,
                schools=await schools_of(session, district_id=district.id),
                period=period,
                zone=settings.zone,
                answer_days=settings.suggestion_answer_days,
            )
    finally:
        await engine.dispose()
    made = datetime.now(settings.zone).replace(tzinfo=None)
    book = await asyncio.to_thread(rollup_workbook, tr, rollup, made=made)
    charts = await asyncio.to_thread(rollup_charts, tr, rollup)
    files = [
        (f"district-{period.key}.xlsx", book),
        *((f"district-{period.key}-{chart.name}.png", chart.png) for chart in charts),
    ]
    return rollup_text(tr, rollup), files


def _invite_link(member: Member, bot_username: str) -> str:
    payload = f"inv-{member.invite_code}"
    if bot_username:
        return f"https://t.me/{bot_username.lstrip('@')}?start={payload}"
    return f"/start {payload}"


def _print_links(tr: Translator, members: list[Member], args: argparse.Namespace) -> None:
    for member in members:
        name, department = safe_cell(member.real_name), safe_cell(member.department)
        print(f"{name}\t{department}\t{_invite_link(member, args.bot_username)}")
    if args.out and members:
        with args.out.open("w", newline="", encoding="utf-8-sig") as target:
            writer = csv.writer(target)
            writer.writerow(
                safe_row(
                    [tr("roster.col_name"), tr("roster.col_department"), tr("roster.col_link")]
                )
            )
            for member in members:
                link = _invite_link(member, args.bot_username)
                writer.writerow(safe_row([member.real_name, member.department, link]))
        print(tr("roster.links_written", path=str(args.out)))


def _say(tr: Translator, english: Translator, key: str, **params: object) -> list[str]:
    """One sentence in the deployment's language, then in English when that differs."""
    lines = [tr(key, **params)]
    if english(key, **params) not in lines:
        lines.append(english(key, **params))
    return lines


def _backup_or_restore(settings: Settings, args: argparse.Namespace) -> int:
    """`unionbot backup FILE` and `unionbot restore FILE [--force]` (bot/backup.py)."""
    tr, english = _translator(settings.default_language), _translator("en")
    path: Path = args.file
    lines: list[str] = []
    try:
        if args.command == "backup":
            manifest = asyncio.run(create_backup(settings, path))
            lines += _say(tr, english, "cli.backup_written", path=str(path))
            if manifest.key_source == "SECRET_KEY":
                lines += _say(tr, english, "cli.backup_key_is_setting")
            else:
                lines += _say(tr, english, "cli.backup_key_is_file", path=str(key_file(settings)))
        else:
            restored = asyncio.run(restore_backup(settings, path, force=args.force))
            made = restored.manifest
            lines += _say(
                tr,
                english,
                "cli.restore_done",
                path=str(path),
                created=made.created_at,
                revision=made.revision or "-",
            )
            if restored.differing:
                names = ", ".join(restored.differing)
                lines += _say(tr, english, "cli.restore_settings_differ", names=names)
    except BackupError as error:
        for line in _say(tr, english, error.key, **error.params):
            print(line, file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    return 0
