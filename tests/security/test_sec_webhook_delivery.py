"""Webhook delivery against hostile receivers (issue 13, items 9 and 16): a receiver that trickles
one byte every 5 s and one that streams an endless body neither delay another subscription's
deliveries nor grow the worker; a cut-short send is a failed attempt on the retry schedule; the
delivery client ignores proxy settings; refusals do not tell a private name from a dead one."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tessera.settings import Settings
from tests.conftest import FakeClock, Workspace
from tests.receiver import running_receiver

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class RawReceiver:
    """A loopback TCP server that misbehaves at the HTTP level, as the handler scripts."""

    url: str = ""
    requests: int = 0
    open: int = 0
    most_open: int = 0
    hung_up: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


async def _read_request(reader: asyncio.StreamReader) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    await reader.readexactly(length)


@contextlib.asynccontextmanager
async def raw_receiver(script: Callable[[RawReceiver, asyncio.StreamReader, asyncio.StreamWriter],
                                        Awaitable[None]]) -> AsyncIterator[RawReceiver]:
    receiver = RawReceiver()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        receiver.tasks.add(task)
        receiver.open += 1
        receiver.most_open = max(receiver.most_open, receiver.open)
        try:
            await _read_request(reader)
            receiver.requests += 1
            await script(receiver, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            receiver.hung_up.set()
        except asyncio.CancelledError:
            pass  # the test is over (3.11's start_server logs a handler task that ends cancelled)
        finally:
            receiver.open -= 1
            writer.close()
            receiver.tasks.discard(task)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    receiver.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/hook"
    try:
        yield receiver
    finally:
        server.close()
        for task in list(receiver.tasks):
            task.cancel()
        await asyncio.gather(*receiver.tasks, return_exceptions=True)
        await server.wait_closed()


async def trickle_status_line(receiver: RawReceiver, reader: asyncio.StreamReader,
                              writer: asyncio.StreamWriter) -> None:
    """One byte of the answer every 5 s: each read succeeds in time, the answer never ends."""
    for byte in b"HTTP/1.1 200 OK\r\n":
        writer.write(bytes([byte]))
        await writer.drain()
        with contextlib.suppress(TimeoutError):
            if await asyncio.wait_for(reader.read(1), timeout=5) == b"":
                raise ConnectionResetError("the client hung up")
    await asyncio.sleep(3600)


async def endless_body(receiver: RawReceiver, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A 200 at once, then a chunked body that never ends (~3 MB/s, so old code grows but slowly)."""
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n")
    chunk = b"10000\r\n" + b"x" * 0x10000 + b"\r\n"
    while True:
        writer.write(chunk)
        await writer.drain()
        await asyncio.sleep(0.02)


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


async def _subscribe(ws: Workspace, url: str, events: list[str]) -> str:
    response = await ws.post("/v1/webhooks", {"url": url, "events": events})
    assert response.status_code == 200, response.text
    hook_id: str = response.json()["id"]
    return hook_id


async def _log(ws: Workspace, hook_id: str, status: str | None = None) -> list[dict[str, Any]]:
    query = f"?status={status}&limit=200" if status else "?limit=200"
    response = await ws.get(f"/v1/webhooks/{hook_id}/deliveries{query}")
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def _until(check: Callable[[], Awaitable[bool]], within: float, what: str) -> float:
    """Seconds it took ``check`` to hold; fails after ``within``."""
    started = time.monotonic()
    while not await check():
        assert time.monotonic() - started < within, f"{what}: not within {within} s"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def test_stuck_and_endless_receivers_do_not_delay_another_subscription(
        ws: Workspace, worker: Any, settings: Settings) -> None:
    deadline = settings.webhook_send_timeout_seconds
    async with raw_receiver(trickle_status_line) as stuck, raw_receiver(endless_body) as endless, \
            running_receiver() as fast:
        stuck_hook = await _subscribe(ws, stuck.url, ["task.created"])
        endless_hook = await _subscribe(ws, endless.url, ["task.created"])
        fast_hook = await _subscribe(ws, fast.url, ["task.created", "note.created"])
        rss_before = rss_bytes()
        sent_at = time.monotonic()
        # One event for all three, due at the same time (old code sent them as one batch).
        assert (await ws.post("/v1/tasks", {"title": "to every receiver"})).status_code == 200
        # Then a backlog for the stuck receiver, more than a worker sends at once.
        for _ in range(settings.webhook_max_concurrent_sends + 16):
            assert (await ws.post(f"/v1/webhooks/{stuck_hook}/test")).status_code == 200

        # The fast subscription's delivery arrives and is recorded on time, while the stuck
        # receiver holds its sends and the endless body streams.
        async def fast_recorded() -> bool:
            return [d["status"] for d in await _log(ws, fast_hook)] == ["succeeded"]

        await _until(fast_recorded, 3, "the fast subscription's delivery recorded as succeeded")
        assert stuck.requests >= 1
        # Later events too, still while the stuck sends hang.
        for i in range(3):
            assert (await ws.post("/v1/notes", {"title": f"later {i}"})).status_code == 200
        await fast.wait_for(4, within=3)
        await _until(lambda: _all_succeeded(ws, fast_hook, 4), 3, "the later deliveries recorded")
        assert time.monotonic() - sent_at < deadline, "the fast deliveries waited for a stuck send"

        # The endless body: read to the cap, then the worker hung up; the answer's 200 stands.
        await asyncio.wait_for(endless.hung_up.wait(), timeout=5)
        await _until(lambda: _all_succeeded(ws, endless_hook, 1), 3, "the endless-body delivery recorded")
        # One stuck subscription holds only its own share of the worker's sends.
        assert 1 <= stuck.most_open <= settings.webhook_max_sends_per_subscription

        # The stuck sends end at the deadline as failed attempts with a retry time.
        async def timed_out() -> bool:
            return any("timed out" in d.get("last_error", "") for d in await _log(ws, stuck_hook, "retrying"))

        await _until(timed_out, deadline + 5, "a stuck send recorded as a timed-out attempt")
        retrying = [d for d in await _log(ws, stuck_hook, "retrying") if "timed out" in d.get("last_error", "")]
        for delivery in retrying:
            assert delivery["attempt"] == 1 and delivery["last_error"] == f"timed out after {deadline:g} s"
            assert "last_status_code" not in delivery
            # The first retry is 5 s after the attempt ended.
            retry_at = datetime.fromisoformat(delivery["next_attempt_at"].replace("Z", "+00:00"))
            assert timedelta(seconds=3) < retry_at - datetime.now(UTC) <= timedelta(seconds=5)
        growth = rss_bytes() - rss_before
        assert growth < 20 * 1024 * 1024, f"worker RSS grew {growth / 2**20:.1f} MB"
        for hook in (stuck_hook, endless_hook, fast_hook):
            assert (await ws.delete(f"/v1/webhooks/{hook}")).status_code == 200


async def _all_succeeded(ws: Workspace, hook_id: str, count: int) -> bool:
    log = await _log(ws, hook_id)
    return len(log) == count and all(d["status"] == "succeeded" for d in log)


async def test_a_send_cancelled_by_a_stopping_worker_counts_as_an_attempt(
        ws: Workspace, settings: Settings, fake_clock: FakeClock) -> None:
    from tessera.db.engine import create_engine
    from workers.webhook_delivery import DeliverySender, delivery_client

    async with raw_receiver(trickle_status_line) as stuck:
        hook = await _subscribe(ws, stuck.url, ["task.created"])
        # A delivery due a year from now: the session's worker (real time) leaves it alone.
        fake_clock.advance(365 * 86400)
        assert (await ws.post(f"/v1/webhooks/{hook}/test")).status_code == 200
        engine = create_engine(settings, pool_size=2)
        http = delivery_client(settings)
        sender = DeliverySender(engine, http, settings, clock=fake_clock)
        try:
            # (It may also claim other tests' leftovers scheduled far ahead: this test reads its own.)
            assert await sender.fill() >= 1
            await _until(lambda: _true(stuck.requests == 1), 5, "the send reached the receiver")
        finally:
            await sender.close()
            await http.aclose()
            await engine.dispose()
        (delivery,) = await _log(ws, hook)
        assert delivery["status"] == "retrying" and delivery["attempt"] == 1
        assert delivery["last_error"].startswith("cancelled")
        retry_at = datetime.fromisoformat(delivery["next_attempt_at"].replace("Z", "+00:00"))
        assert timedelta(0) < retry_at - datetime.fromtimestamp(fake_clock(), tz=UTC) <= timedelta(seconds=5)
        assert (await ws.delete(f"/v1/webhooks/{hook}")).status_code == 200


async def _true(value: bool) -> bool:
    return value


async def test_delivery_client_ignores_proxy_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from workers.webhook_delivery import delivery_client

    async def record_and_answer(receiver: RawReceiver, reader: asyncio.StreamReader,
                                writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        await writer.drain()

    async with raw_receiver(record_and_answer) as proxy, running_receiver() as target:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            monkeypatch.setenv(name, proxy.url.removesuffix("/hook"))
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        async with delivery_client(settings) as http:
            response = await http.post(target.url, content=b"{}")
        assert response.status_code == 200
        assert len(target.requests) == 1 and proxy.requests == 0


@pytest.mark.parametrize("host", [
    "[fec0::1]", "[feff::1]", "[64:ff9b::a00:1]", "[2002:a00:1::]", "[::ffff:10.0.0.1]", "[::10.0.0.1]",
    "0.1.2.3", "100.64.0.1", "192.0.0.9", "192.88.99.1", "198.18.0.1", "255.255.255.255", "240.0.0.1",
    "224.0.0.1", "[ff02::1]", "[3fff::1]", "[64:ff9b:1::808:808]",
])
async def test_special_and_deprecated_ranges_are_refused(ws: Workspace, host: str) -> None:
    response = await ws.post("/v1/webhooks", {"url": f"http://{host}/hook", "events": ["task.created"]})
    assert response.status_code == 400, response.text
    assert response.json()["message"].startswith("Webhook URL refused")


async def test_public_addresses_behind_nat64_and_6to4_are_accepted(ws: Workspace) -> None:
    for host in ("[64:ff9b::808:808]", "[2002:808:808::1]", "93.184.216.34"):
        response = await ws.post("/v1/webhooks", {"url": f"http://{host}/hook", "events": ["task.created"]})
        assert response.status_code == 200, response.text
        assert (await ws.delete(f"/v1/webhooks/{response.json()['id']}")).status_code == 200


async def test_refusals_do_not_tell_a_private_name_from_one_that_does_not_resolve(
        ws: Workspace, worker: Any) -> None:
    # "127.1" and "2130706433" are names to the API (not IP literals) that the resolver maps to
    # 127.0.0.1; "*.invalid" never resolves.
    urls = ["http://127.1:9/hook", "http://2130706433:9/hook", "http://no-such-host.invalid/hook"]
    hooks = [await _subscribe(ws, url, ["task.created"]) for url in urls]
    assert (await ws.post("/v1/tasks", {"title": "probe"})).status_code == 200

    async def attempted() -> bool:
        statuses = [[d["status"] for d in await _log(ws, hook)] for hook in hooks]
        return statuses == [["retrying"]] * len(hooks)

    await _until(attempted, 5, "every refused delivery recorded")
    seen = []
    for hook in hooks:
        (delivery,) = await _log(ws, hook)
        seen.append({k: delivery.get(k) for k in ("last_error", "last_status_code", "last_latency_ms", "attempt")})
    assert seen[0]["last_error"] == "refused: the host is not a public address or did not resolve"
    assert seen[0] == seen[1] == seen[2]
