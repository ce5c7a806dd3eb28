"""A TCP relay in front of a database server that tests can stop and start.

`stop()` is what a stopped server looks like from the bot: every open connection is cut at
once and new ones are refused (nothing listens on the port). `start()` listens on the same port
again. `cut_before` and `cut_after` stop it at an exact point of the conversation, recognized by
bytes the client sends: before a statement reaches the server (mid-transaction), or when the
server answers one (after a COMMIT took effect, with or without the client hearing so).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field


@dataclass(eq=False)
class _Link:
    """One client connection and its connection to the server."""

    client: asyncio.StreamWriter
    server: asyncio.StreamWriter
    cut_on_reply: bool = False
    forward_reply: bool = True

    def abort(self) -> None:
        """Drop both sides at once, without flushing."""
        self.client.transport.abort()
        self.server.transport.abort()


@dataclass
class TcpProxy:
    """Relays 127.0.0.1:`port` to `upstream_host`:`upstream_port`, until stopped."""

    upstream_host: str
    upstream_port: int
    host: str = "127.0.0.1"
    port: int = 0  # chosen by the system at the first start, kept afterwards
    connections: int = 0  # accepted so far
    cuts: int = 0  # how many times a trigger stopped it
    _server: asyncio.Server | None = None
    _links: set[_Link] = field(default_factory=set)
    _pumps: set[asyncio.Task[None]] = field(default_factory=set)
    _cut_before: bytes | None = None
    _cut_after: bytes | None = None
    _forward_reply: bool = True

    @property
    def running(self) -> bool:
        """True while it accepts connections."""
        return self._server is not None

    async def start(self) -> None:
        """Listen (again, on the same port) and relay new connections."""
        if self._server is not None:
            return
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Refuse new connections and cut every open one."""
        self.cut()
        await self.settle()

    def cut(self) -> None:
        """Stop at once, from code that cannot wait (a callback); `settle` finishes the job."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for link in list(self._links):
            link.abort()
        self._links.clear()

    async def settle(self) -> None:
        """Wait until the relays of cut connections have ended."""
        if self._pumps:
            await asyncio.gather(*list(self._pumps), return_exceptions=True)

    def cut_before(self, marker: bytes) -> None:
        """Stop when the client sends `marker`, before the server receives it."""
        self._cut_before = marker

    def cut_after(self, marker: bytes, *, forward_reply: bool = True) -> None:
        """Stop when the server answers the message that carried `marker`: after passing the
        answer on, or (`forward_reply=False`) dropping it, so the client cannot know the
        outcome (a COMMIT that took effect, reported as a broken connection)."""
        self._cut_after = marker
        self._forward_reply = forward_reply

    def _trigger(self) -> None:
        self.cuts += 1
        self._cut_before = self._cut_after = None
        self.cut()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(
                self.upstream_host, self.upstream_port
            )
        except OSError:
            writer.transport.abort()
            return
        if self._server is None:  # stopped while connecting upstream
            up_writer.transport.abort()
            writer.transport.abort()
            return
        link = _Link(client=writer, server=up_writer)
        self._links.add(link)
        for task in (
            asyncio.create_task(self._relay(link, reader, up_writer, from_client=True)),
            asyncio.create_task(self._relay(link, up_reader, writer, from_client=False)),
        ):
            self._pumps.add(task)
            task.add_done_callback(self._pumps.discard)

    async def _relay(
        self,
        link: _Link,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        from_client: bool,
    ) -> None:
        try:
            while data := await reader.read(65536):
                if from_client and self._cut_before is not None and self._cut_before in data:
                    self._trigger()
                    return
                if from_client and self._cut_after is not None and self._cut_after in data:
                    self._cut_after = None
                    link.cut_on_reply = True
                    link.forward_reply = self._forward_reply
                if not from_client and link.cut_on_reply and not link.forward_reply:
                    self._trigger()
                    return
                writer.write(data)
                await writer.drain()
                if not from_client and link.cut_on_reply:
                    self._trigger()
                    return
        except OSError:
            pass
        finally:
            self._links.discard(link)
            with contextlib.suppress(OSError):
                writer.close()
