"""/healthz, /readyz and /metrics: the real server on an ephemeral port, plain HTTP over asyncio
streams, RunStatus driven through its states and counted by the real Application."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

import bot.health
from bot.health import HealthServer, start_health_server
from bot.run_status import Role, RunStatus
from bot.settings import Settings
from models.outbox import BroadcastKind, Recipient, enqueue
from scheduler.outbox import OutboxSender, Pace
from scheduler.quiet import QuietHours
from tests.support.fake_telegram import TOKEN, Failure
from tests.support.harness import BotHarness
from tests.support.updates import Person, text

TEACHERS = [Person(5100 + n, "王", "zh-hans") for n in range(3)]
SECRET_TEXT = "我的私事请保密"


async def get(port: int, raw: bytes) -> tuple[int, str]:
    """Send `raw` and return (status, body) of the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body.decode()


async def path(port: int, where: str, method: str = "GET") -> tuple[int, str]:
    """One request for `where`."""
    return await get(port, f"{method} {where} HTTP/1.1\r\nHost: x\r\n\r\n".encode())


def ephemeral(settings: Settings) -> Settings:
    """HEALTH_LISTEN on a free port (0 is not a valid setting: no operator wants it)."""
    return settings.model_copy(update={"health_listen": "127.0.0.1:0"})


@pytest.fixture
async def status() -> RunStatus:
    """A status as the runner would hold it."""
    return RunStatus(instance="copy-a")


@pytest.fixture
async def health(settings: Settings, status: RunStatus) -> AsyncIterator[HealthServer]:
    """The health server on a free port."""
    server = await start_health_server(ephemeral(settings), status)
    assert server is not None
    yield server
    await server.stop()


def ready(status: RunStatus, *, database: bool = True, scheduler: bool = True) -> None:
    """Make `status` active, with the probes answering as given."""

    async def database_ok() -> bool:
        return database

    status.role = Role.ACTIVE
    status.database_ok = database_ok
    status.scheduler_running = lambda: scheduler


async def test_off_means_no_server(settings: Settings, status: RunStatus) -> None:
    """HEALTH_LISTEN=off: nothing listens."""
    off = settings.model_copy(update={"health_listen": "off"})
    assert await start_health_server(off, status) is None


async def test_healthz_answers_in_every_role(health: HealthServer, status: RunStatus) -> None:
    """Alive is alive: starting, standby, active and stopping all answer 200."""
    for role in Role:
        status.role = role
        assert await path(health.port, "/healthz") == (200, f"ok {role.value}\n")


async def test_readyz_follows_the_role_the_database_and_the_scheduler(
    health: HealthServer, status: RunStatus
) -> None:
    """Only the active copy with a reachable database and a running scheduler is ready; a
    standby says "standby" so a reverse proxy sends the webhook to the other copy."""
    assert await path(health.port, "/readyz") == (503, "starting\n")
    status.role = Role.STANDBY
    assert await path(health.port, "/readyz") == (503, "standby\n")
    ready(status)
    assert await path(health.port, "/readyz") == (200, "ready\n")
    ready(status, database=False)
    assert await path(health.port, "/readyz") == (503, "database unreachable\n")
    ready(status, scheduler=False)
    assert await path(health.port, "/readyz") == (503, "scheduler not running\n")
    status.role = Role.STOPPING
    assert await path(health.port, "/readyz") == (503, "stopping\n")


async def test_a_database_probe_that_hangs_or_raises_is_not_ready(
    health: HealthServer, status: RunStatus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A probe that never returns is cut after PROBE_SECONDS; one that raises is a "no"."""
    monkeypatch.setattr(bot.health, "PROBE_SECONDS", 0.2)
    ready(status)

    async def hangs() -> bool:
        await asyncio.sleep(3600)
        return True

    async def raises() -> bool:
        raise ConnectionRefusedError

    status.database_ok = hangs
    began = time.monotonic()
    assert await path(health.port, "/readyz") == (503, "database unreachable\n")
    print(f"hanging probe answered in {time.monotonic() - began:.2f} s")
    status.database_ok = raises
    assert await path(health.port, "/readyz") == (503, "database unreachable\n")


async def test_the_real_database_probe(settings: Settings, bot: BotHarness) -> None:
    """With the probe the runner would give it (a SELECT 1 on the bot's engine), the active
    copy is ready; on the test database (SQLite or PostgreSQL) that probe answers."""
    from sqlalchemy import text as sql

    status = bot.app.state.status
    assert status is not None

    async def database_ok() -> bool:
        async with bot.app.state.engine.connect() as connection:
            await connection.execute(sql("SELECT 1"))
        return True

    status.role = Role.ACTIVE
    status.database_ok = database_ok
    status.scheduler_running = lambda: True
    server = await start_health_server(ephemeral(settings), status)
    assert server is not None
    try:
        assert await path(server.port, "/readyz") == (200, "ready\n")
    finally:
        await server.stop()


async def test_bad_requests_never_crash_it(health: HealthServer, status: RunStatus) -> None:
    """Unknown paths 404, other methods 405, garbage 400, a huge head 431, a client that says
    nothing is dropped without holding up others; the server answers afterwards."""
    assert (await path(health.port, "/"))[0] == 404
    assert (await path(health.port, "/healthz/../metrics"))[0] == 404
    assert (await path(health.port, "/healthz", method="POST"))[0] == 405
    assert (await get(health.port, b"\x16\x03\x01 hello\r\n\r\n"))[0] == 400
    assert (await get(health.port, b"GET /healthz\r\n\r\n"))[0] == 400
    huge = b"GET /healthz HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n"
    assert (await get(health.port, huge))[0] == 431
    silent_reader, silent = await asyncio.open_connection("127.0.0.1", health.port)
    half = await asyncio.open_connection("127.0.0.1", health.port)
    half[1].write(b"GET /hea")
    half[1].close()  # gone before the end of its head
    assert await path(health.port, "/healthz?probe=1") == (200, "ok starting\n")
    status_code, _ = await get(health.port, b"HEAD /metrics HTTP/1.1\r\n\r\n")
    assert status_code == 200
    silent.close()
    await silent.wait_closed()
    del silent_reader
    assert await path(health.port, "/healthz") == (200, "ok starting\n")


def samples(body: str) -> dict[str, float]:
    """`name{labels}` -> value of every sample line."""
    found = {}
    for line in body.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            found[name] = float(value)
    return found


async def test_metrics_count_real_updates_errors_and_429s(
    settings: Settings, bot: BotHarness
) -> None:
    """Updates through the real Application (a redelivery is not counted), a 429 from the
    transport that makes a handler fail (one 429, one error), then /metrics."""
    status = bot.app.state.status
    assert status is not None
    for teacher in TEACHERS:
        await bot.say(teacher, "/start")
    repeated = text(TEACHERS[0], SECRET_TEXT)
    await bot.feed(repeated)
    await bot.app.flush_processed()
    await bot.feed(repeated)  # a redelivery: skipped, not counted
    assert status.updates_handled == len(TEACHERS) + 1
    assert (status.errors, status.rate_limited) == (0, 0)

    bot.telegram.failures.append(
        Failure("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    )
    await bot.say(TEACHERS[1], "/start")  # its reply gets the 429: the handler fails
    assert status.rate_limited == 1
    assert status.errors == 1
    assert status.updates_handled == len(TEACHERS) + 2

    status.role = Role.ACTIVE
    status.lease_holder = "copy-a"

    async def backlog() -> int:
        return 7

    status.outbox_backlog = backlog
    server = await start_health_server(ephemeral(settings), status)
    assert server is not None
    try:
        code, body = await path(server.port, "/metrics")
    finally:
        await server.stop()
    assert code == 200
    values = samples(body)
    assert values["unionbot_updates_handled_total"] == len(TEACHERS) + 2
    assert values["unionbot_errors_total"] == 1
    assert values["unionbot_telegram_429_total"] == 1
    assert values["unionbot_outbox_backlog"] == 7
    assert values['unionbot_role{role="active"}'] == 1
    assert values['unionbot_role{role="standby"}'] == 0
    lease = f'unionbot_lease_info{{holder="copy-a",instance_name="{status.instance}"}}'
    assert values[lease] == 1
    assert values["unionbot_uptime_seconds"] >= 0
    assert "# TYPE unionbot_updates_handled_total counter" in body
    # Nothing a person typed, no token, no setting.
    assert SECRET_TEXT not in body
    assert TOKEN not in body
    assert settings.database_url not in body


async def test_an_unknown_backlog_is_left_out_and_the_lease_may_be_free(
    health: HealthServer, status: RunStatus
) -> None:
    """A standby has no outbox figure: the sample is absent (not a false zero)."""
    status.role = Role.STANDBY
    code, body = await path(health.port, "/metrics")
    values = samples(body)
    assert code == 200
    assert "unionbot_outbox_backlog" not in values
    assert values['unionbot_lease_info{holder="",instance_name="copy-a"}'] == 1
    status.lease_holder = 'odd"name\\x'
    values = samples((await path(health.port, "/metrics"))[1])
    assert values['unionbot_lease_info{holder="odd\\"name\\\\x",instance_name="copy-a"}'] == 1


async def test_a_429_in_the_outbox_is_counted_once(bot: BotHarness) -> None:
    """Real time (about one second, the retry_after). The outbox handles RetryAfter itself and
    the transport counts the answer: one 429 on the wire is one in the counter, not two."""
    status = bot.app.state.status
    assert status is not None
    bot.telegram.failures.append(
        Failure("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    )
    zone = ZoneInfo("Asia/Shanghai")
    async with bot.db() as session:
        await enqueue(
            session,
            org_id=bot.org_id,
            key="news",
            kind=BroadcastKind.ANNOUNCEMENT,
            recipients=[Recipient(chat_id=861, text="msg")],
            not_before=datetime(2026, 1, 1, tzinfo=zone),
            quiet=False,
        )
    sender = OutboxSender(
        db=bot.db,
        bot=bot.app.bot,
        quiet=QuietHours.parse("00:00-00:00", zone),
        pace=Pace(per_second=1000, private_chat_interval=0, group_interval=0),
    )
    deadline = time.monotonic() + 10
    while len(bot.telegram.sent("sendMessage", 861)) < 2:
        assert time.monotonic() < deadline
        await sender.drain()
        await asyncio.sleep(0.1)
    assert status.rate_limited == 1
    assert status.errors == 0


def open_files() -> int:
    """File descriptors this process holds (Linux)."""
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts descriptors in /proc")
async def test_a_flood_of_silent_clients_holds_few_sockets(health: HealthServer) -> None:
    """Two hundred clients that connect and say nothing (a slowloris) hold at most
    MAX_CONNECTIONS of the server's descriptors (the bot needs the rest for Telegram and the
    database), and the service manager's probe still gets its answer right away."""
    before = open_files()
    clients = [await asyncio.open_connection("127.0.0.1", health.port) for _ in range(200)]
    await asyncio.sleep(0.2)  # let the server accept them all
    held_by_server = open_files() - before - len(clients)
    print(f"200 silent clients: the server holds {held_by_server} sockets")
    assert held_by_server <= getattr(bot.health, "MAX_CONNECTIONS", 16) + 1
    assert await path(health.port, "/healthz") == (200, "ok starting\n")
    for _, writer in clients:
        writer.close()


async def test_clients_asking_at_once_share_one_database_probe(
    health: HealthServer, status: RunStatus
) -> None:
    """Ten /readyz and /metrics at the same moment run the database probe once and the backlog
    query once: each run takes a connection from the pool the lease and the bot need."""
    ready(status)
    runs = {"database": 0, "backlog": 0}
    release = asyncio.Event()

    async def database_ok() -> bool:
        runs["database"] += 1
        await release.wait()
        return True

    async def backlog() -> int:
        runs["backlog"] += 1
        await release.wait()
        return 3

    status.database_ok = database_ok
    status.outbox_backlog = backlog
    asking = [asyncio.ensure_future(path(health.port, "/readyz")) for _ in range(5)]
    asking += [asyncio.ensure_future(path(health.port, "/metrics")) for _ in range(5)]
    await asyncio.sleep(0.2)
    release.set()
    answers = await asyncio.gather(*asking)
    assert answers[:5] == [(200, "ready\n")] * 5
    assert all(samples(body)["unionbot_outbox_backlog"] == 3 for _, body in answers[5:])
    assert runs == {"database": 1, "backlog": 1}


async def test_readyz_does_not_wait_for_a_probe_slow_to_cancel(
    health: HealthServer, status: RunStatus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A probe cut at PROBE_SECONDS that needs long to let go (closing a dead database
    connection) does not hold the answer: asyncio.wait_for would wait for it."""
    monkeypatch.setattr(bot.health, "PROBE_SECONDS", 0.2)
    ready(status)
    let_go = asyncio.Event()

    async def hangs_and_lingers() -> bool:
        try:
            await asyncio.sleep(3600)
        finally:
            await let_go.wait()
        return True

    status.database_ok = hangs_and_lingers
    try:
        answer = await asyncio.wait_for(path(health.port, "/readyz"), 10)
    finally:
        let_go.set()
    assert answer == (503, "database unreachable\n")


async def test_bare_line_feeds_and_a_stop_with_clients_still_connected(
    health: HealthServer,
) -> None:
    """A head whose lines end in LF alone is answered (not left to time out), and stop()
    drops a client still connected instead of leaving it to the loop's end."""
    assert await get(health.port, b"GET /healthz HTTP/1.0\nHost: x\n\n") == (200, "ok starting\n")
    reader, writer = await asyncio.open_connection("127.0.0.1", health.port)
    await asyncio.sleep(0.1)
    await health.stop()
    assert await asyncio.wait_for(reader.read(), bot.health.READ_SECONDS / 2) == b""
    writer.close()
