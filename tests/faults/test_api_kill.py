"""kill -9 the API 20 times during a 10,000-record batch upsert driven with Idempotency-Keys.

A client sends 100 batches of 100 companies (unique domains, ``matching_attribute: domains``),
each batch with its own Idempotency-Key, three at a time, and retries the SAME request (same
key, same bytes) on connection errors, 503 and 409-still-in-progress until it gets a 2xx.
Meanwhile the API process is SIGKILLed 20 times, at random moments while batches are in flight,
and restarted. Afterwards PostgreSQL must hold exactly 10,000 companies, no domain twice, and
every item of every acknowledged batch under the id the acknowledgement named.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from typing import Any

import httpx
import orjson

from tests.faults.harness import wait_until

RECORDS = 10_000
BATCH = 100
KILLS = 20
CONCURRENCY = 3
DEADLINE_S = 300
PATH = "/v1/objects/company/records/batch"


def _batch(run: str, number: int) -> bytes:
    return orjson.dumps({"matching_attribute": "domains", "records": [
        {"attributes": {"name": f"Kill {number}-{i}", "domains": [f"k{run}-{number}-{i}.com"],
                        "employee_count": i}} for i in range(BATCH)]})


async def test_kill_9_api_during_batch_upsert(deploy: Any, figures: Any) -> None:
    figures.scenario("API kill -9 during batch upsert",
                     f"SIGKILL of the API process x{KILLS} during {RECORDS:,} upserts "
                     f"({RECORDS // BATCH} batches of {BATCH}, Idempotency-Key, retries)")
    deployment = await deploy("api_kill")
    api = deployment.api()
    api.start()
    await api.wait_ready()
    run = uuid.uuid4().hex[:6]
    batches = {n: (f"faults-{run}-{n}", _batch(run, n)) for n in range(RECORDS // BATCH)}
    acked: dict[int, dict[str, Any]] = {}
    statuses: Counter[str] = Counter()
    replayed = 0
    in_flight = 0
    kills_in_flight = 0
    restarts: list[float] = []
    started = time.monotonic()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for number in batches:
        queue.put_nowait(number)

    async def send(http: httpx.AsyncClient, number: int) -> None:
        nonlocal replayed, in_flight
        key, body = batches[number]
        while True:
            assert time.monotonic() - started < DEADLINE_S, f"batch {number} not acknowledged within {DEADLINE_S} s"
            in_flight += 1
            try:
                response = await http.post(PATH, content=body, headers={
                    "Idempotency-Key": key, "Content-Type": "application/json"})
            except httpx.TransportError as err:
                statuses[f"connection error ({type(err).__name__})"] += 1
                await asyncio.sleep(0.1)
                continue
            finally:
                in_flight -= 1
            statuses[str(response.status_code)] += 1
            if 200 <= response.status_code < 300:
                acked[number] = response.json()
                replayed += response.headers.get("idempotent-replayed") == "true"
                return
            if response.status_code == 503 or (
                    response.status_code == 409 and "still being processed" in response.text):
                await asyncio.sleep(0.05)
                continue
            raise AssertionError(f"batch {number}: unexpected {response.status_code} {response.text[:300]}")

    async def sender(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            await send(http, queue.get_nowait())

    async def killer() -> None:
        nonlocal kills_in_flight
        # Kill when the acknowledged count reaches random thresholds, a random instant later.
        for threshold in sorted(random.sample(range(1, len(batches) - CONCURRENCY), KILLS)):
            await wait_until(lambda t=threshold: _reached(t), within=DEADLINE_S, what=f"{threshold} acked batches",
                             every=0.01)
            await asyncio.sleep(random.uniform(0.0, 0.15))
            kills_in_flight += in_flight > 0
            api.kill()
            api.start()
            restarts.append(await api.wait_ready(within=60))

    async def _reached(threshold: int) -> bool:
        return len(acked) >= threshold

    async with deployment.client(api) as http:
        await asyncio.gather(killer(), *(sender(http) for _ in range(CONCURRENCY)))
    elapsed = time.monotonic() - started

    company = await deployment.object_id("company")
    domains = await deployment.attribute_id("company", "domains")
    ws = int(deployment.workspace_id)
    total = await deployment.scalar(
        "SELECT count(*) FROM records WHERE workspace_id = $1 AND object_id = $2", ws, company)
    duplicated = await deployment.scalar(
        "SELECT count(*) FROM (SELECT v_text FROM record_values WHERE workspace_id = $1 AND attribute_id = $2 "
        "AND facet = '' GROUP BY v_text HAVING count(DISTINCT record_id) > 1) d", ws, domains)
    owner = {r["v_text"]: r["record_id"] for r in await deployment.sql(
        "SELECT v_text, record_id FROM record_values WHERE workspace_id = $1 AND attribute_id = $2 AND facet = ''",
        ws, domains)}
    lost, not_created = 0, 0
    for number, answer in acked.items():
        for item in answer["results"]:
            domain = f"k{run}-{number}-{item['index']}.com"
            if item["status"] != "created":
                not_created += 1  # a retry ran the batch again instead of replaying the first answer
            if item.get("id") is None or owner.get(domain) != int(item["id"]):
                lost += 1
    figures.update(records=total, duplicate_domains=duplicated, acknowledged_batches=len(acked),
                   acknowledged_items_lost=lost, items_not_created_on_ack=not_created, kills=len(restarts),
                   kills_with_requests_in_flight=kills_in_flight, replayed_acks=replayed,
                   statuses=dict(statuses), mean_restart_s=round(sum(restarts) / max(len(restarts), 1), 2),
                   elapsed_s=round(elapsed, 1))
    assert len(restarts) == KILLS
    assert len(acked) == len(batches)
    assert total == RECORDS, f"{total} company records, expected {RECORDS}"
    assert duplicated == 0
    assert lost == 0
    assert not_created == 0
    assert "500" not in statuses, statuses
