"""A small HTTP proxy, a small SOCKS5 proxy and a tiny Bot API server, all on 127.0.0.1.

- `HttpProxy`: absolute-form requests (`POST http://host/path`, one request per connection) and
  `CONNECT host:port` tunnels (what a client does for an https:// target), with optional Basic
  proxy authentication (407 otherwise).
- `Socks5Proxy`: RFC 1928 CONNECT with IPv4, IPv6 or a host name (socks5h), no authentication or
  RFC 1929 user name and password.
- `BotApiServer`: answers getMe, getUpdates (with offset and a short long poll), sendMessage and
  anything else with `true`, over HTTP or HTTPS; can answer a method with 429.

Both proxies record the local address of every connection they open upstream, and the Bot API
server records the peer address of every call, so a test can tell for each call whether it came
through the proxy. Each proxy can be stopped (every connection cut, the port refused) and started
again on the same port.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import ipaddress
import json
import socket
import ssl
import struct
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.fake_telegram import BOT_ID, BOT_USERNAME

Address = tuple[str, int]


def _track(tasks: set[asyncio.Task[Any]]) -> None:
    task = asyncio.current_task()
    assert task is not None
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def _finish(tasks: set[asyncio.Task[Any]]) -> None:
    """Cancel the connection handlers still running (Python 3.11's Server.wait_closed does not
    wait for them) and wait until they are gone."""
    pending = [task for task in tasks if task is not asyncio.current_task()]
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(Exception):
        writer.close()


@dataclass
class _Proxy:
    """What both proxies share: listening, stopping, recording upstream connections."""

    user: str | None = None
    password: str | None = None
    host: str = "127.0.0.1"
    port: int = 0  # chosen at the first start, kept afterwards
    # Local (host, port) of every connection opened to an upstream server.
    outbound: set[Address] = field(default_factory=set)
    targets: list[Address] = field(default_factory=list)  # upstream (host, port) asked for
    refused_auth: int = 0
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    async def start(self) -> None:
        """Listen (again) on the port."""
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Refuse new connections and cut every open one."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        await _finish(self._tasks)

    def url(self, scheme: str, *, user: str | None = None, password: str | None = None) -> str:
        """This proxy as a TELEGRAM_PROXY_URL (with the given credentials, if any)."""
        credentials = ""
        if user is not None:
            credentials = urllib.parse.quote(user, safe="")
            if password is not None:
                credentials += ":" + urllib.parse.quote(password, safe="")
            credentials += "@"
        return f"{scheme}://{credentials}{self.host}:{self.port}"

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _track(self._tasks)
        self._writers.add(writer)
        try:
            await self._handle(reader, writer)
        # Cancelled by stop(): ending quietly (asyncio logs a handler that ends cancelled).
        except (ConnectionError, OSError, asyncio.IncompleteReadError, ValueError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    async def _open(
        self, host: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        upstream = await asyncio.open_connection(host, port)
        self._writers.add(upstream[1])
        self.targets.append((host, port))
        self.outbound.add(upstream[1].get_extra_info("sockname")[:2])
        return upstream

    def _authorized(self, user: str, password: str) -> bool:
        return (self.user, self.password) == (user, password)

    async def _relay(
        self,
        client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    ) -> None:
        await asyncio.gather(_pipe(client[0], upstream[1]), _pipe(upstream[0], client[1]))
        self._writers.discard(upstream[1])


@dataclass
class HttpProxy(_Proxy):
    """An HTTP proxy: absolute-form requests and CONNECT."""

    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, target) seen

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ")
        headers = [line for line in lines[1:] if line]
        if self.user is not None and not self._basic_ok(headers):
            self.refused_auth += 1
            writer.write(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                b'Proxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n'
                b"Connection: close\r\n\r\n"
            )
            await writer.drain()
            return
        self.requests.append((method, target))
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            upstream = await self._open(host.strip("[]"), int(port))
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await self._relay((reader, writer), upstream)
            return
        parts = urllib.parse.urlsplit(target)
        assert parts.scheme == "http" and parts.hostname, target
        upstream = await self._open(parts.hostname, parts.port or 80)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        kept = [
            line
            for line in headers
            if line.split(":", 1)[0].strip().lower()
            not in ("proxy-authorization", "proxy-connection", "connection")
        ]
        # One request per connection: the answer ends when the server closes.
        forwarded = [f"{method} {path} {version}", *kept, "Connection: close", "", ""]
        upstream[1].write("\r\n".join(forwarded).encode("latin-1"))
        await upstream[1].drain()
        await self._relay((reader, writer), upstream)

    def _basic_ok(self, headers: list[str]) -> bool:
        for line in headers:
            name, _, value = line.partition(":")
            if name.strip().lower() != "proxy-authorization":
                continue
            scheme, _, encoded = value.strip().partition(" ")
            if scheme.lower() != "basic":
                return False
            user, _, password = base64.b64decode(encoded).decode().partition(":")
            return self._authorized(user, password)
        return False


@dataclass
class Socks5Proxy(_Proxy):
    """A SOCKS5 proxy: CONNECT only."""

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        version, count = await reader.readexactly(2)
        assert version == 5
        methods = await reader.readexactly(count)
        wanted = 0x02 if self.user is not None else 0x00
        if wanted not in methods:
            writer.write(b"\x05\xff")
            await writer.drain()
            return
        writer.write(bytes([5, wanted]))
        await writer.drain()
        if wanted == 0x02:
            _, user_length = await reader.readexactly(2)
            user = (await reader.readexactly(user_length)).decode()
            (password_length,) = await reader.readexactly(1)
            password = (await reader.readexactly(password_length)).decode()
            if not self._authorized(user, password):
                self.refused_auth += 1
                writer.write(b"\x01\x01")
                await writer.drain()
                return
            writer.write(b"\x01\x00")
            await writer.drain()
        _, command, _, kind = await reader.readexactly(4)
        if kind == 1:
            host = str(ipaddress.IPv4Address(await reader.readexactly(4)))
        elif kind == 4:
            host = str(ipaddress.IPv6Address(await reader.readexactly(16)))
        else:
            (length,) = await reader.readexactly(1)
            host = (await reader.readexactly(length)).decode()
        (port,) = struct.unpack("!H", await reader.readexactly(2))
        if command != 1:
            writer.write(b"\x05\x07\x00\x01" + bytes(6))
            await writer.drain()
            return
        try:
            upstream = await self._open(host, port)
        except OSError:
            writer.write(b"\x05\x05\x00\x01" + bytes(6))
            await writer.drain()
            return
        writer.write(b"\x05\x00\x00\x01" + socket.inet_aton("0.0.0.0") + b"\x00\x00")
        await writer.drain()
        await self._relay((reader, writer), upstream)


@dataclass
class ApiCall:
    """One Bot API call as the server received it."""

    method: str
    params: dict[str, Any]
    peer: Address


@dataclass
class BotApiServer:
    """A tiny Bot API over HTTP (or HTTPS with `tls`), at `base_url`."""

    tls: ssl.SSLContext | None = None
    calls: list[ApiCall] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    fail_with_429: dict[str, int] = field(default_factory=dict)  # method -> times
    port: int = 0
    _server: asyncio.Server | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def base_url(self) -> str:
        """TELEGRAM_API_BASE_URL for this server."""
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}/bot"

    async def start(self) -> None:
        """Listen on a free port."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for writer in list(self._writers):
            writer.transport.abort()
        await _finish(self._tasks)

    def methods(self) -> list[str]:
        """The methods called, in order."""
        return [call.method for call in self.calls]

    def add_update(self, update: dict[str, Any]) -> None:
        """Queue an update for getUpdates."""
        self.updates.append(update)
        self._arrived.set()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _track(self._tasks)
        self._writers.add(writer)
        peer = writer.get_extra_info("peername")[:2]
        quiet = (ConnectionError, OSError, asyncio.IncompleteReadError, asyncio.CancelledError)
        with contextlib.suppress(*quiet):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                _, target, _ = lines[0].split(" ")
                headers = {
                    name.strip().lower(): value.strip()
                    for name, _, value in (line.partition(":") for line in lines[1:] if line)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                code, answer = await self._answer(target, body, peer)
                close = headers.get("connection", "").lower() == "close"
                payload = json.dumps(answer).encode()
                writer.write(
                    f"HTTP/1.1 {code} {'OK' if code == 200 else 'Error'}\r\n"
                    "Content-Type: application/json\r\n"
                    f"Content-Length: {len(payload)}\r\n"
                    f"Connection: {'close' if close else 'keep-alive'}\r\n\r\n".encode()
                    + payload
                )
                await writer.drain()
                if close:
                    break
        self._writers.discard(writer)
        with contextlib.suppress(Exception):
            writer.close()

    async def _answer(self, target: str, body: bytes, peer: Address) -> tuple[int, Any]:
        method = urllib.parse.urlsplit(target).path.rsplit("/", 1)[-1]
        params = {key: values[-1] for key, values in urllib.parse.parse_qs(body.decode()).items()}
        self.calls.append(ApiCall(method, params, peer))
        if self.fail_with_429.get(method, 0) > 0:
            self.fail_with_429[method] -= 1
            return 429, {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1},
            }
        return 200, {"ok": True, "result": await self._result(method, params)}

    async def _result(self, method: str, params: dict[str, str]) -> Any:
        if method == "getMe":
            return {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "工会助手",
                "username": BOT_USERNAME,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if method == "getUpdates":
            offset, wait = int(params.get("offset", 0)), float(params.get("timeout", 0))
            return await self._updates(offset, wait)
        if method == "sendMessage":
            return {
                "message_id": len(self.calls),
                "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "text": params.get("text", ""),
            }
        return True

    async def _updates(self, offset: int, wait: float) -> list[dict[str, Any]]:
        deadline = time.monotonic() + min(wait, 1.0)  # a short long poll keeps tests quick
        while True:
            due = [u for u in self.updates if u["update_id"] >= offset]
            left = deadline - time.monotonic()
            if due or left <= 0:
                return due
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), left)


def self_signed(folder: Path) -> tuple[Path, Path]:
    """(certificate, key) files for 127.0.0.1 and localhost, valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.IPv4Address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "api-cert.pem", folder / "api-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def server_tls(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    """A server-side TLS context for the Bot API server."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context
