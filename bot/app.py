"""The application factory: production and tests build the bot the same way."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
from collections.abc import Sequence
from typing import Any

from telegram.ext import (
    Application,
    ApplicationBuilder,
    BasePersistence,
    BaseRateLimiter,
    ContextTypes,
)
from telegram.request import BaseRequest

from bot.application import UnionApplication
from bot.context import UnionContext
from bot.db import (
    create_engine,
    create_session_factory,
    create_single_statement_factory,
    is_sqlite,
)
from bot.db_persistence import DatabasePersistence
from bot.errors import handle_error
from bot.features import Feature, check_unique
from bot.files import narrow
from bot.forms import FORM_GATE_GROUP, FormEngine, FormGate
from bot.i18n import I18n
from bot.member_changes import ChangeListener, member_cache, watch_sessions
from bot.notifier import Notifier
from bot.processor import PerUserOrderedProcessor
from bot.rate_limiter import UnionRateLimiter
from bot.run_status import RunStatus
from bot.settings import Settings, SettingsError
from bot.state import AlertLimiter, AppState
from bot.telegram_request import TelegramRequest, telegram_requests
from handlers import FEATURES, fallback
from handlers.menu.commands import publish_default_commands
from models.anonymity import AuthorSeal, KeyCheck, check_secret_key
from models.errors import N_
from models.organizations import OrgKind, all_organizations, ensure_default_organization
from models.signup_batch import SignupBatcher
from models.suggestions import newest_sealed_token
from scheduler.outbox import OutboxSender, Pace
from scheduler.quiet import QuietHours
from scheduler.runtime import Runtime
from scheduler.setup import seed_default_calendar, start_sender, write_report
from scheduler.setup import start as start_scheduler
from scheduler.setup import stop as stop_scheduler

logger = logging.getLogger(__name__)


PERSISTENCE_SECONDS = 10  # how often conversations in progress are saved (file or database)
RATE_LIMITER_LOGGER = "telegram.ext.AIORateLimiter"


class RetriesExhaustedFilter(logging.Filter):
    """Drops AIORateLimiter's own ERROR when it gives up on a 429: the call then raises
    RetryAfter and our code that made it logs the failure once, so one 429 is one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        """False for "Rate limit hit after maximum of N retries", True for anything else."""
        return not str(record.msg).startswith("Rate limit hit after maximum")


def quiet_rate_limiter_give_up() -> None:
    """Install RetriesExhaustedFilter on PTB's rate limiter logger (once per process)."""
    limiter_logger = logging.getLogger(RATE_LIMITER_LOGGER)
    if not any(isinstance(f, RetriesExhaustedFilter) for f in limiter_logger.filters):
        limiter_logger.addFilter(RetriesExhaustedFilter())


# Connections the application's pool keeps (and may open beyond, closed again when returned).
# Members no longer take one per update (bot/actor_cache.py), but a burst of updates still
# opens sessions at once: kept connections cover it without opening and closing them (on
# SQLite a connection is a thread, opened with its pragmas). PostgreSQL's are counted across
# the copies of the bot sharing the server, so fewer.
SQLITE_POOL = 16
POSTGRES_POOL = 10


def build_state(settings: Settings) -> AppState:
    """Engine, sessions, catalogs and limits for one application."""
    kept = SQLITE_POOL if is_sqlite(settings.database_url) else POSTGRES_POOL
    kept = min(kept, settings.max_concurrent_updates)
    engine = create_engine(settings.database_url, pool_size=kept, max_overflow=kept)
    db = create_session_factory(engine)
    secret = settings.secret_bytes()
    actors, member_version = member_cache(settings.database_url, db)
    single_statement = create_single_statement_factory(engine)
    # Reads mostly; a write there commits on its own (PostgreSQL autocommit, no session
    # commit event): the database's own signal tells the cache then (bot/member_changes.py).
    watch_sessions(single_statement, actors)
    return AppState(
        settings=settings,
        engine=engine,
        db=db,
        single_statement=single_statement,
        i18n=I18n(settings.default_language),
        secret=secret,
        alerts=AlertLimiter(interval_seconds=settings.alert_interval_seconds),
        seal=AuthorSeal(secret),
        signups=SignupBatcher(db),
        actors=actors,
        member_version=member_version,
    )


def build_persistence(settings: Settings, state: AppState) -> BasePersistence[Any, Any, Any]:
    """Forms in progress are kept in the bot's database, on PostgreSQL and SQLite alike.

    Each round writes only the rows that changed (bot/db_persistence.py), so a round costs the
    same with 50 or 50,000 people in a form; the pickle file SQLite used before was rewritten
    whole every round, on the event loop (170 ms with 5,225 people; bench/flush.py). On
    PostgreSQL a standby that takes over continues them. The file of the earlier version
    (PERSISTENCE_PATH) is imported once, then deleted; until then it stays the bot's own.
    """
    narrow(settings.persistence_path)
    return DatabasePersistence(
        state.db, update_interval=PERSISTENCE_SECONDS, old_file=settings.persistence_path
    )


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    rate_limiter: BaseRateLimiter | None = None,
    use_default_rate_limiter: bool = True,
    features: Sequence[Feature] = FEATURES,
    status: RunStatus | None = None,
) -> UnionApplication:
    """Build the bot: handlers, persistence, error handler, start-up and shut-down hooks.

    Tests pass a recording `request`; production uses PTB's HTTP client (through
    TELEGRAM_PROXY_URL when set). Either way 429 answers are counted into `status`.
    """
    # PTB 22 warns when RetryAfter.retry_after is read as an int; opt in to timedeltas.
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    state = build_state(settings)
    state.status = status = status or RunStatus(instance=settings.instance)
    persistence = build_persistence(settings, state)
    builder = (
        ApplicationBuilder()
        .token(settings.require_token())
        .application_class(UnionApplication, kwargs={"state": state})
        .context_types(ContextTypes(context=UnionContext))
        .persistence(persistence)
        .post_init(on_startup)
        .post_shutdown(on_shutdown)
        .concurrent_updates(PerUserOrderedProcessor(settings.max_concurrent_updates))
    )
    if settings.telegram_api_base_url:
        builder = builder.base_url(settings.telegram_api_base_url)
    if request is not None:
        wire = TelegramRequest(request, status)
        builder = builder.request(wire).get_updates_request(wire)
    else:
        calls, polling = telegram_requests(settings, status)
        builder = builder.request(calls).get_updates_request(polling)
    if rate_limiter is not None:
        builder = builder.rate_limiter(rate_limiter)
    elif use_default_rate_limiter:
        builder = builder.rate_limiter(UnionRateLimiter(max_retries=3))  # type: ignore[arg-type]
        quiet_rate_limiter_give_up()
    application = builder.build()
    assert isinstance(application, UnionApplication)
    state.notifier = Notifier(state, application.bot)
    register_handlers(application, features)
    return application


def register_handlers(
    application: UnionApplication, features: Sequence[Feature] = FEATURES
) -> None:
    """Every feature's handlers and forms. Order carries no meaning: each command, button
    family and form belongs to one feature, and typed text goes only to the active form."""
    check_unique(features)
    settings = application.state.settings
    application.state.features = tuple(features)
    engine = FormEngine(
        [form for feature in features for form in feature.forms()],
        member_idle_seconds=settings.member_form_idle_hours * 3600,
        committee_idle_seconds=settings.committee_form_idle_minutes * 60,
    )
    application.state.forms = engine
    fallback.register_first(application)
    application.add_handler(FormGate(engine), group=FORM_GATE_GROUP)
    engine.attach(application)
    for feature in features:
        feature.register(application)
    fallback.register_last(application, features)
    application.add_error_handler(handle_error)


async def on_startup(application: Application) -> None:
    """Create the organization on first start and publish the command menus."""
    assert isinstance(application, UnionApplication)
    state = application.state
    await check_secret_key_unchanged(state)
    async with state.db() as session:
        org = await ensure_default_organization(
            session,
            name=state.settings.organization_name,
            committee_chat_id=state.settings.committee_chat_id,
        )
    assert org.id is not None
    state.org_id = org.id
    if org.kind == OrgKind.DISTRICT:
        state.district_id = org.id
        if state.settings.committee_chat_id is not None:
            logger.warning(
                "COMMITTEE_CHAT_ID is not used in a district: each school (and the district "
                "union) binds its own committee group with /bindgroup"
            )
    if state.actors is not None and not is_sqlite(state.settings.database_url):
        state.member_listener = ChangeListener(state.engine.url, state.actors, state.db)
        state.member_listener.start()
    await application.load_redelivery_horizon()
    state.bot_username = application.bot.username
    await publish_default_commands(application.bot, state.i18n, state.features)
    await start_calendar(application)
    await put_missing_cards(application)
    if state.district_id is not None:
        logger.info("Union Desk ready as @%s for district %s", state.bot_username, org.id)
    else:
        logger.info("Union Desk ready as @%s for organization %s", state.bot_username, org.id)


async def check_secret_key_unchanged(state: AppState) -> None:
    """Refuse to start with a SECRET_KEY other than the one the database was used with (every
    anonymous author would be lost without a word), unless ACCEPT_NEW_SECRET_KEY accepts it."""
    async with state.db() as session:
        found = await check_secret_key(
            session,
            seal=state.seal,
            secret=state.secret,
            accept_new=state.settings.accept_new_secret_key,
            sealed_sample=await newest_sealed_token(session),
        )
    if found == KeyCheck.CHANGED:
        raise SettingsError(N_("settings.secret_key_changed"))
    if found == KeyCheck.ACCEPTED:
        logger.warning(
            "SECRET_KEY changed and ACCEPT_NEW_SECRET_KEY accepts it: the authors of earlier "
            "anonymous suggestions can no longer be reached"
        )


async def put_missing_cards(application: UnionApplication) -> None:
    """Items stored just before a stop (a crash after Confirm) reach the desk and their
    authors now, without anyone pressing again; every feature with a desk declares how."""
    for org_id in await organization_ids(application.state):
        context = UnionContext.for_org(application, org_id)
        for feature in application.state.features:
            if feature.recover is None:
                continue
            try:
                carded = await feature.recover(context)
            except Exception:
                logger.exception(
                    "Could not put the %s stored before the stop on the desk", feature.name
                )
                continue
            if carded:
                logger.info(
                    "Put %s %s item(s) of organization %s on the desk after the restart",
                    carded,
                    feature.name,
                    org_id,
                )


async def organization_ids(state: AppState) -> list[int]:
    """The home organization alone, or in a district the district union and every school."""
    if state.district_id is None:
        return [state.org_id]
    async with state.db() as session:
        return [org.id for org in await all_organizations(session) if org.id is not None]


async def start_calendar(application: UnionApplication) -> None:
    """The outbox sender and the calendar scheduler (unless BACKGROUND_TASKS is off)."""
    state = application.state
    settings = state.settings
    quiet = QuietHours.parse(settings.quiet_hours, settings.zone)
    sender = OutboxSender(
        db=state.db,
        bot=application.bot,
        quiet=quiet,
        pace=Pace(per_second=settings.outbox_per_second),
        fence=state.lease,
    )
    runtime = Runtime(
        db=state.db,
        i18n=state.i18n,
        settings=settings,
        sender=sender,
        quiet=quiet,
        org_id=state.org_id,
        district_id=state.district_id,
    )
    sender.report = functools.partial(write_report, runtime)
    state.runtime = runtime
    await seed_default_calendar(runtime)
    if settings.background_tasks:
        state.sender_task = start_sender(runtime)
        await start_scheduler(runtime, [job for f in state.features for job in f.jobs])


async def on_shutdown(application: Application) -> None:
    """Stop the scheduler and the sender, close database connections."""
    assert isinstance(application, UnionApplication)
    state = application.state
    await application.finish_processed()
    if state.runtime is not None:
        await stop_scheduler(state.runtime)
    if state.sender_task is not None:
        state.sender_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await state.sender_task
    if state.member_listener is not None:
        await state.member_listener.stop()
    if state.member_version is not None:
        await state.member_version.close()
    await state.engine.dispose()
