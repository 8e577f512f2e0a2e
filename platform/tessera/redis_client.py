"""The only module of ``tessera`` that talks to Redis: rate-limit state, job nudges and pub/sub.

Redis keeps nothing durable here (it runs without persistence); everything that must survive
lives in PostgreSQL. A Redis failure is therefore never fatal to a request: rate limiting fails
open and a lost nudge only delays work that the workers' periodic sweep picks up anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

import orjson
import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from tessera.wire import JsonObject

if TYPE_CHECKING:
    from arq.connections import ArqRedis

log = structlog.get_logger(__name__)

JobArg: TypeAlias = int | str
"""What our jobs take as arguments (workspace and row ids, names): arq pickles them."""

# GCRA (generic cell rate algorithm): one key per API key holding the theoretical arrival time.
# Several checks travel in one call: KEYS[i] with ARGV[3i-2..3i] = now_ms, limit, period_ms, in
# order (two checks of one key in a batch apply one after the other). Returns, per check,
# allowed (0/1), remaining, retry_after_ms.
_GCRA = """
local out = {}
for i, key in ipairs(KEYS) do
  local now = tonumber(ARGV[3 * i - 2])
  local limit = tonumber(ARGV[3 * i - 1])
  local period = tonumber(ARGV[3 * i])
  local interval = period / limit
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  local new_tat = tat + interval
  local allow_at = new_tat - period
  if now < allow_at then
    table.insert(out, 0); table.insert(out, 0); table.insert(out, math.ceil(allow_at - now))
  else
    redis.call('SET', key, tostring(new_tat), 'PX', math.ceil(new_tat - now) + 1000)
    table.insert(out, 1)
    table.insert(out, math.floor((period - (new_tat - now)) / interval))
    table.insert(out, 0)
  end
end
return out
"""

ARQ_QUEUE = "arq:queue"

# Concurrent streams per API key: a sorted set of stream ids scored by their last heartbeat;
# entries not refreshed within ARGV[3] ms are dropped, so a crashed process frees its slots.
# ARGV: now_ms, stream id, stale_ms, max, ttl_s. Returns 1 (slot taken) or 0 (full).
_STREAM_SLOT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[3]))
if redis.call('ZSCORE', KEYS[1], ARGV[2]) == false and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    retry_after_ms: int


NUDGE_PATIENCE_S = 5.0
"""How long a nudge waits for a running job of the same name to end before it gives up (the
per-second sweep covers the rest)."""


class RedisClient:
    def __init__(self, url: str) -> None:
        self.redis: Redis = Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0,
                                           health_check_interval=30)
        self._gcra = self.redis.register_script(_GCRA)
        self._checks: list[tuple[str, int, int, int, asyncio.Future[RateDecision | None]]] = []
        self._flushing = False
        self._stream_slot = self.redis.register_script(_STREAM_SLOT)
        self._nudges: dict[str, bool] = {}  # function -> another nudge wanted after the one in flight
        self._tasks: set[asyncio.Task[None]] = set()
        self._arq: ArqRedis | None = None

    async def close(self) -> None:
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 2)
        await self.redis.aclose()

    def nudge(self, function: str) -> None:
        """Wake a worker job (queued under its own name as job id) without making the caller wait
        for Redis. Nudges that arrive while one is on its way are folded into one more after it,
        so a burst of writes costs two enqueues, and none is lost between the check and the
        commit it follows. The workers' periodic sweeps cover a nudge Redis never received."""
        if function in self._nudges:
            self._nudges[function] = True
            return
        self._nudges[function] = False
        task = asyncio.get_running_loop().create_task(self._send_nudges(function))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send_nudges(self, function: str) -> None:
        try:
            while True:
                await self._nudge_once(function)
                if not self._nudges.get(function):
                    return
                self._nudges[function] = False
        finally:
            self._nudges.pop(function, None)

    async def _nudge_once(self, function: str) -> None:
        """Queue ``function`` under its own name. arq refuses a job id that is queued (fine: that
        run is still to come and will see the rows just committed) or running (not fine: the run
        may be past them), so while a run is in progress the nudge is retried until that run ends,
        for at most ``NUDGE_PATIENCE_S``; the sweep covers a longer run."""
        deadline = asyncio.get_running_loop().time() + NUDGE_PATIENCE_S
        while not await self.enqueue(function, job_id=function):
            try:
                async with self.redis.pipeline(transaction=True) as pipe:
                    pipe.exists(f"arq:in-progress:{function}")
                    pipe.exists(f"arq:job:{function}")
                    running, queued = await pipe.execute()
            except (RedisError, OSError):
                return
            if (queued and not running) or asyncio.get_running_loop().time() > deadline:
                return
            if running:
                await asyncio.sleep(0.02)

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except (RedisError, OSError):
            return False

    async def rate_limit(self, bucket: str, *, limit: int, period_s: float, now_s: float) -> RateDecision | None:
        """Count one request against ``bucket``; None when Redis is unreachable (fail open).

        Checks made while another batch is on its way to Redis are sent together in the next
        call, so under load one round trip serves many requests (a redis-py call costs ~80 us of
        CPU; the per-check share of a batched one is a few)."""
        future: asyncio.Future[RateDecision | None] = asyncio.get_running_loop().create_future()
        self._checks.append((f"tessera:rl:{bucket}", int(now_s * 1000), limit, int(period_s * 1000), future))
        if not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().create_task(self._flush_checks())
        return await future

    async def _flush_checks(self) -> None:
        try:
            while self._checks:
                batch, self._checks = self._checks[:500], self._checks[500:]
                args: list[int] = []
                for _key, now_ms, limit, period_ms, _future in batch:
                    args.extend((now_ms, limit, period_ms))
                try:
                    flat = await self._gcra(keys=[c[0] for c in batch], args=args)
                except (RedisError, OSError) as err:
                    log.warning("rate_limit_unavailable", error_type=type(err).__name__)
                    flat = None
                for index, (_key, _now, limit, _period, future) in enumerate(batch):
                    if future.done():
                        continue
                    if flat is None:
                        future.set_result(None)
                    else:
                        allowed, remaining, retry_ms = flat[3 * index:3 * index + 3]
                        future.set_result(RateDecision(bool(allowed), limit, int(remaining), int(retry_ms)))
        finally:
            self._flushing = False

    async def enqueue(self, function: str, *args: JobArg, job_id: str | None = None, defer_ms: int = 0) -> bool:
        """Queue an arq job by function name (no import of the worker code). Returns False when
        Redis is unreachable; callers rely on the workers' periodic sweep in that case."""
        from arq.connections import ArqRedis

        try:
            if self._arq is None:
                self._arq = ArqRedis(connection_pool=self.redis.connection_pool)
            arq = self._arq
            job = await arq.enqueue_job(function, *args, _job_id=job_id or uuid.uuid4().hex,
                                        _defer_by=defer_ms / 1000 if defer_ms else None)
            return job is not None
        except (RedisError, OSError) as err:
            log.warning("enqueue_failed", function=function, error_type=type(err).__name__)
            return False

    async def requeue(self, function: str, *args: JobArg, job_id: str) -> bool:
        """Queue again a job that PostgreSQL says is stranded. A job still waiting in the queue is
        left alone. Otherwise arq's marks of the dead run go first: its in-progress mark outlives a
        killed worker by the longest job timeout (hours, for imports) and would make every worker
        skip the job. A worker that is in fact still running it only repeats an idempotent job."""
        keys = [f"arq:in-progress:{job_id}", f"arq:job:{job_id}", f"arq:retry:{job_id}", f"arq:result:{job_id}"]
        try:
            running = await self.redis.exists(keys[0])
            if not running and await self.redis.zscore(ARQ_QUEUE, job_id) is not None:
                return False
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.delete(*keys)
                pipe.zrem(ARQ_QUEUE, job_id)
                await pipe.execute()
        except (RedisError, OSError) as err:
            log.warning("requeue_failed", function=function, error_type=type(err).__name__)
            return False
        return await self.enqueue(function, *args, job_id=job_id)

    async def publish(self, channel: str, message: JsonObject) -> bool:
        try:
            await self.redis.publish(channel, orjson.dumps(message))
            return True
        except (RedisError, OSError) as err:
            log.warning("publish_failed", channel=channel, error_type=type(err).__name__)
            return False

    async def take_stream_slot(self, bucket: str, stream_id: str, *, limit: int, stale_s: float, now_s: float
                               ) -> bool | None:
        """Claim (or refresh) one of ``limit`` concurrent-stream slots; None when Redis is down."""
        try:
            taken = await self._stream_slot(keys=[f"tessera:streams:{bucket}"],
                                            args=[int(now_s * 1000), stream_id, int(stale_s * 1000), limit,
                                                  int(stale_s * 2) + 1])
        except (RedisError, OSError) as err:
            log.warning("stream_slot_unavailable", error_type=type(err).__name__)
            return None
        return bool(taken)

    async def release_stream_slot(self, bucket: str, stream_id: str) -> None:
        with contextlib.suppress(RedisError, OSError):  # else the slot goes stale on its own
            await self.redis.zrem(f"tessera:streams:{bucket}", stream_id)

    async def listen(self, pattern: str) -> AsyncIterator[tuple[str, bytes]]:
        """Messages published on channels matching ``pattern``, until the connection fails
        (``RedisError``/``OSError`` propagate: the caller reconnects)."""
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.psubscribe(pattern)
            while True:
                message = await pubsub.get_message(timeout=5.0)
                if message is not None and message.get("type") == "pmessage":
                    channel = message["channel"]
                    yield (channel.decode() if isinstance(channel, bytes) else str(channel)), message["data"]
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def forget_workspace(self, api_key_ids: list[int], workspace_id: int) -> int:
        """Remove what Redis holds for a workspace: its keys' rate-limit and stream state, and
        queued jobs whose first argument is the workspace. Returns how many entries went."""
        from arq.jobs import deserialize_job

        removed = 0
        try:
            names = [f"tessera:rl:{k}" for k in api_key_ids] + [f"tessera:streams:{k}" for k in api_key_ids]
            names.append(f"tessera:streams:ws:{workspace_id}")
            names.append(f"tessera:rl:ws:{workspace_id}")
            removed += int(await self.redis.delete(*names))
            for job_id in await self.redis.zrange(ARQ_QUEUE, 0, -1):
                key = job_id.decode() if isinstance(job_id, bytes) else str(job_id)
                data = await self.redis.get(f"arq:job:{key}")
                if data is None:
                    continue
                try:
                    job = deserialize_job(data)
                except Exception:  # noqa: S112 - not one of ours, or another arq version's: leave it
                    continue
                if job.args and job.args[0] == workspace_id:
                    await self.redis.zrem(ARQ_QUEUE, key)
                    await self.redis.delete(f"arq:job:{key}")
                    removed += 1
        except (RedisError, OSError) as err:
            log.warning("redis_erasure_incomplete", error_type=type(err).__name__)
        return removed
