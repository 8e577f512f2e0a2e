"""A chaotic TCP proxy: forwards 127.0.0.1:port to an upstream port, delays every chunk coming
back from upstream by a random latency (so every round trip takes 5-50 ms longer; order is kept)
and drops connections at random (an abortive close of both sides, as a failing network would).
Runs its own event loop in a thread, so the latency it adds does not depend on what the test's
loop is doing."""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
from dataclasses import dataclass, field


@dataclass
class ChaosProxy:
    upstream_port: int
    latency_s: tuple[float, float] = (0.005, 0.05)
    drop_per_chunk: float = 0.005
    """Probability that a chunk, instead of being forwarded, kills its connection."""
    refuse: float = 0.02
    """Probability that a new connection is closed at once."""
    port: int = 0
    chaos: bool = True
    connections: int = 0
    dropped: int = 0
    refused: int = 0
    chunks: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    _random: random.Random = field(default_factory=random.Random)

    def start(self) -> None:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._server = loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=run, name="chaos-proxy", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("proxy did not start")

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return

        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            await asyncio.sleep(0.05)
            for task in [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]:
                task.cancel()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop = None

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.chaos and self._random.random() < self.refuse:
            self.refused += 1
            client_writer.transport.abort()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            client_writer.transport.abort()
            return
        self._writers.update((client_writer, upstream_writer))
        pair = (client_writer, upstream_writer)
        try:
            await asyncio.gather(self._pump(client_reader, upstream_writer, pair, delay=False),
                                 self._pump(upstream_reader, client_writer, pair, delay=True))
        finally:
            for writer in pair:
                self._writers.discard(writer)
                writer.transport.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    pair: tuple[asyncio.StreamWriter, asyncio.StreamWriter], *, delay: bool) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                self.chunks += 1
                if self.chaos:
                    if delay:
                        await asyncio.sleep(self._random.uniform(*self.latency_s))
                    if self._random.random() < self.drop_per_chunk:
                        self.dropped += 1
                        for side in pair:
                            side.transport.abort()
                        return
                writer.write(chunk)
                await writer.drain()
        for side in pair:
            side.transport.abort()
