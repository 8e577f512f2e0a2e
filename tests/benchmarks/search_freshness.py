"""Search freshness for ``bench_search``: records created at a steady rate through the API and polled
through search until each appears, and where a write's way to the index spends its time (the relay
claiming its outbox row, Meilisearch's queue and tasks, a blocked relay nudge)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import httpx
from search_meili import meili_tasks
from workload_data import API, asyncpg_url, percentiles

POLL_INTERVAL_S = 0.05
FRESHNESS_GIVE_UP_S = 30.0


async def freshness(base_url: str, key: str, rate: float, seconds: float, token: str) -> dict[str, Any]:
    """Create ``rate``/s companies for ``seconds``; poll search until each appears."""
    headers = {"Authorization": f"Bearer {key}"}
    created: dict[str, float] = {}  # domain -> time the create answered
    seen: dict[str, float] = {}
    errors: list[str] = []
    create_ms: list[float] = []
    polls = 0
    poll_ms: list[float] = []
    writing = True
    async with httpx.AsyncClient(base_url=base_url + API, headers=headers, timeout=30) as writer, \
            httpx.AsyncClient(base_url=base_url + API, headers=headers, timeout=30) as poller:

        async def create(number: int) -> None:
            domain = f"{token}-{number}.com"
            started = time.perf_counter()
            reply = await writer.post("/v1/objects/company", json={"attributes": {
                "name": f"{token.capitalize()} Freshwave {number}", "domains": [domain],
                "industry": "Fintech", "description": "Created during the freshness run."}})
            if reply.status_code != 200:
                errors.append(f"{reply.status_code}: {reply.text[:200]}")
                return
            created[domain] = time.perf_counter()
            create_ms.append((created[domain] - started) * 1000)

        async def write() -> None:
            nonlocal writing
            tasks = []
            start = time.perf_counter()
            number = 0
            while time.perf_counter() - start < seconds:
                tasks.append(asyncio.create_task(create(number)))
                number += 1
                await asyncio.sleep(max(0.0, start + number / rate - time.perf_counter()))
            await asyncio.gather(*tasks)
            writing = False

        async def poll() -> None:
            nonlocal polls
            give_up = None
            while True:
                pending = [d for d in created if d not in seen]
                if not writing and not pending:
                    return
                if not writing:
                    give_up = give_up or time.perf_counter() + FRESHNESS_GIVE_UP_S
                    if time.perf_counter() > give_up:
                        return
                for offset in range(0, len(pending), 100):
                    chunk = pending[offset:offset + 100]
                    started = time.perf_counter()
                    reply = await poller.post("/v1/search", json={
                        "query": token, "object_types": ["company"], "limit": 100,
                        "filter": {"domains": {"$in": chunk}}})
                    now = time.perf_counter()
                    poll_ms.append((now - started) * 1000)
                    polls += 1
                    if reply.status_code != 200:
                        errors.append(f"poll {reply.status_code}: {reply.text[:200]}")
                        continue
                    for hit in reply.json()["results"].get("company", []):
                        domain = f"{token}-{hit['primary_value'].rsplit(' ', 1)[-1]}.com"
                        if domain in created and domain not in seen:
                            seen[domain] = now
                await asyncio.sleep(POLL_INTERVAL_S)

        await asyncio.gather(write(), poll())
    delays = [seen[d] - created[d] for d in created if d in seen]
    missing = len(created) - len(delays)
    figures = percentiles([d * 1000 for d in delays])
    return {"created": len(created), "seen": len(delays), "never_seen_within_s": FRESHNESS_GIVE_UP_S,
            "never_seen": missing, "freshness_ms": figures, "create_ms": percentiles(create_ms),
            "polls": polls, "poll_ms": percentiles(poll_ms), "errors": errors[:10], "error_count": len(errors),
            "rate_per_s": rate, "seconds": seconds}


async def _outbox_waits(url: str) -> list[float]:
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        rows = await conn.fetch("SELECT extract(epoch FROM processed_at - created_at) AS wait FROM outbox "
                                "WHERE topic = 'search' AND event_type = 'record.created' AND processed_at IS NOT NULL")
        return [float(r["wait"]) * 1000 for r in rows]
    finally:
        await conn.close()


def freshness_diagnosis(url: str, env: dict[str, str], uid: str, since_uid: int) -> dict[str, Any]:
    """Where a write's way to the index spends its time: waiting for the relay to claim its outbox
    row (claim = start of the relay transaction), then Meilisearch's tasks (``meili_tasks``)."""
    claim = asyncio.run(_outbox_waits(url))
    return {"relay_claim_wait_ms": percentiles(claim), **meili_tasks(env, uid, since_uid)}


def relay_nudge_blocked(env: dict[str, str]) -> float | None:
    """Seconds for which arq will refuse the API's ``relay_search`` nudges (a stored result of a
    failed ``relay_search`` job blocks re-enqueueing that job id until it expires), or None."""
    import redis

    client = redis.Redis.from_url(env["REDIS_URL"])
    try:
        ttl = client.pttl("arq:result:relay_search")
    finally:
        client.close()
    return round(ttl / 1000, 1) if ttl and ttl > 0 else None
