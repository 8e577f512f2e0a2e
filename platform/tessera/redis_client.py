"""The only module of ``tessera`` that talks to Redis: rate-limit state, job nudges and pub/sub.

Redis keeps nothing durable here (it runs without persistence); everything that must survive
lives in PostgreSQL. A Redis failure is therefore never fatal to a request: rate limiting fails
open and a lost nudge only delays work that the workers' periodic sweep picks up anyway.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import orjson
import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = structlog.get_logger(__name__)

# GCRA (generic cell rate algorithm): one key per API key holding the theoretical arrival time.
# ARGV: now_ms, limit (requests), period_ms. Returns {allowed, remaining, retry_after_ms, reset_ms}.
_GCRA = """
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local interval = period / limit
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - period
if now < allow_at then
  return {0, 0, math.ceil(allow_at - now), math.ceil(tat - now)}
end
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil(new_tat - now) + 1000)
local remaining = math.floor((period - (new_tat - now)) / interval)
return {1, remaining, 0, math.ceil(new_tat - now)}
"""

ARQ_QUEUE = "arq:queue"


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    retry_after_ms: int


class RedisClient:
    def __init__(self, url: str) -> None:
        self.redis: Redis = Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0,
                                           health_check_interval=30)
        self._gcra = self.redis.register_script(_GCRA)

    async def close(self) -> None:
        await self.redis.aclose()

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except (RedisError, OSError):
            return False

    async def rate_limit(self, bucket: str, *, limit: int, period_s: float, now_s: float) -> RateDecision | None:
        """Count one request against ``bucket``; None when Redis is unreachable (fail open)."""
        try:
            allowed, remaining, retry_ms, _reset = await self._gcra(
                keys=[f"tessera:rl:{bucket}"], args=[int(now_s * 1000), limit, int(period_s * 1000)]
            )
        except (RedisError, OSError) as err:
            log.warning("rate_limit_unavailable", error_type=type(err).__name__)
            return None
        return RateDecision(bool(allowed), limit, int(remaining), int(retry_ms))

    async def enqueue(self, function: str, *args: Any, job_id: str | None = None,
                      defer_ms: int = 0, now_ms: int = 0) -> bool:
        """Queue an arq job by function name (no import of the worker code). Returns False when
        Redis is unreachable; callers rely on the workers' periodic sweep in that case."""
        from arq.connections import ArqRedis

        try:
            arq = ArqRedis(connection_pool=self.redis.connection_pool)
            job = await arq.enqueue_job(function, *args, _job_id=job_id or uuid.uuid4().hex,
                                        _defer_by=defer_ms / 1000 if defer_ms else None)
            return job is not None
        except (RedisError, OSError) as err:
            log.warning("enqueue_failed", function=function, error_type=type(err).__name__)
            return False

    async def publish(self, channel: str, message: dict[str, Any]) -> bool:
        try:
            await self.redis.publish(channel, orjson.dumps(message))
            return True
        except (RedisError, OSError) as err:
            log.warning("publish_failed", channel=channel, error_type=type(err).__name__)
            return False
