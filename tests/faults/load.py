"""A mixed read/write load that records every answer, for scenarios that break a dependency
under load. Writes are tracked so a scenario can check afterwards that every acknowledged write
is in PostgreSQL (and, for patches, that the record shows the last acknowledged value or a
later attempted one: an unacknowledged write may or may not have committed)."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

READS = ("get", "list", "search")
WRITES = ("create", "patch", "batch")


@dataclass
class Outcome:
    op: str
    sent: float
    done: float
    status: int | None  # None: no HTTP answer (connection refused/reset)
    error: str = ""


@dataclass
class Load:
    http: httpx.AsyncClient
    seeds: list[str]
    """Existing person ids; loop k patches the seeds with index % concurrency == k."""
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    retry_writes: bool = False
    """Retry writes (same Idempotency-Key, same bytes) on no answer, 503 and 409-in-progress."""
    weights: dict[str, int] = field(default_factory=lambda: {"create": 3, "patch": 3, "batch": 1, "get": 3,
                                                             "list": 2, "search": 1})
    outcomes: list[Outcome] = field(default_factory=list)
    created: dict[str, str] = field(default_factory=dict)  # acknowledged person id -> email
    upserted: dict[str, str] = field(default_factory=dict)  # acknowledged company id -> domain
    patches: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)  # id -> [(job_title, acked)]
    bodies_500: list[str] = field(default_factory=list)
    counter: int = 0

    def statuses(self) -> Counter[str]:
        return Counter("no answer" if o.status is None else str(o.status) for o in self.outcomes)

    async def _call(self, op: str, method: str, path: str, body: Any = None, key: str | None = None
                    ) -> httpx.Response | None:
        content = orjson.dumps(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else {}
        if key is not None:
            headers["Idempotency-Key"] = key
        for attempt in range(40):
            sent = time.monotonic()
            try:
                response = await self.http.request(method, path, content=content, headers=headers)
            except httpx.TransportError as err:
                self.outcomes.append(Outcome(op, sent, time.monotonic(), None, type(err).__name__))
                if not (self.retry_writes and key is not None):
                    return None
                await asyncio.sleep(min(0.05 * (attempt + 1), 0.5))
                continue
            self.outcomes.append(Outcome(op, sent, time.monotonic(), response.status_code))
            if response.status_code >= 500 and response.status_code != 503:
                self.bodies_500.append(f"{op} {response.status_code} {response.text[:300]}")
            retryable = response.status_code == 503 or (
                response.status_code == 409 and "still being processed" in response.text)
            if retryable and self.retry_writes and key is not None:
                await asyncio.sleep(min(0.05 * (attempt + 1), 0.5))
                continue
            return response
        return None

    async def one(self, op: str, loop: int, concurrency: int) -> None:
        self.counter += 1
        n = self.counter
        if op == "create":
            email = f"load-{self.tag}-{n}@faults.example.com"
            body = {"attributes": {"name": f"Load {self.tag} {n}", "email_addresses": [email],
                                   "phone_numbers": [f"+1 415 555 {1000 + n % 9000:04d}"],
                                   "job_title": f"title {n}", "description": f"created by load {n}"}}
            response = await self._call(op, "POST", "/v1/objects/person", body, key=f"c-{self.tag}-{n}")
            if response is not None and response.status_code == 200:
                self.created[response.json()["id"]] = email
        elif op == "batch":
            domains = [f"lb-{self.tag}-{n}-{i}.com" for i in range(20)]
            body = {"matching_attribute": "domains", "records": [
                {"attributes": {"name": f"Batch {n}-{i}", "domains": [d], "employee_count": i,
                                "industry": "load"}} for i, d in enumerate(domains)]}
            response = await self._call(op, "POST", "/v1/objects/company/records/batch", body,
                                        key=f"b-{self.tag}-{n}")
            if response is not None and response.status_code == 200:
                for item, domain in zip(response.json()["results"], domains, strict=True):
                    self.upserted[item["id"]] = domain
        elif op == "patch":
            mine = [s for i, s in enumerate(self.seeds) if i % concurrency == loop]
            record = random.choice(mine)
            title = f"patched {self.tag} {n}"
            history = self.patches.setdefault(record, [])
            history.append((title, False))
            response = await self._call(op, "PATCH", f"/v1/records/{record}",
                                        {"attributes": {"job_title": title, "description": f"patch {n}"}},
                                        key=f"p-{self.tag}-{n}")
            if response is not None and response.status_code == 200:
                history[-1] = (title, True)
        elif op == "get":
            await self._call(op, "GET", f"/v1/records/{random.choice(self.seeds)}")
        elif op == "list":
            await self._call(op, "POST", "/v1/objects/person/records", {"limit": 10})
        elif op == "search":
            await self._call(op, "POST", "/v1/search", {"query": "Load"})
        else:
            raise ValueError(op)

    async def run(self, stop: asyncio.Event, *, concurrency: int = 4, pause: float = 0.0) -> None:
        ops = [op for op, weight in self.weights.items() for _ in range(weight)]

        async def loop(k: int) -> None:
            while not stop.is_set():
                await self.one(random.choice(ops), k, concurrency)
                if pause:
                    await asyncio.sleep(pause)

        await asyncio.gather(*(loop(k) for k in range(concurrency)))


async def seed_people(http: httpx.AsyncClient, count: int) -> list[str]:
    response = await http.post("/v1/objects/person/records/batch", json={"records": [
        {"attributes": {"name": f"Seed {i}", "email_addresses": [f"seed-{uuid.uuid4().hex[:8]}@faults.example.com"],
                        "job_title": "seed"}} for i in range(count)]})
    assert response.status_code == 200, response.text[:300]
    return [item["id"] for item in response.json()["results"]]


async def check_acknowledged(deployment: Any, load: Load) -> dict[str, int]:
    """Acknowledged creates, upserts and patches that PostgreSQL does not show."""
    ws = int(deployment.workspace_id)
    emails = await deployment.attribute_id("person", "email_addresses")
    domains = await deployment.attribute_id("company", "domains")
    titles = await deployment.attribute_id("person", "job_title")
    value_of: dict[tuple[int, int], str] = {}
    for row in await deployment.sql(
            "SELECT record_id, attribute_id, v_text FROM record_values WHERE workspace_id = $1 "
            "AND attribute_id = ANY($2::bigint[]) AND facet = ''", ws, [emails, domains, titles]):
        value_of[(row["record_id"], row["attribute_id"])] = row["v_text"]
    lost_creates = sum(value_of.get((int(i), emails)) != email for i, email in load.created.items())
    lost_upserts = sum(value_of.get((int(i), domains)) != domain for i, domain in load.upserted.items())
    lost_patches = 0
    for record, history in load.patches.items():
        acked = [i for i, (_, ok) in enumerate(history) if ok]
        if not acked:
            continue
        allowed = {title for title, _ in history[acked[-1]:]}
        lost_patches += value_of.get((int(record), titles)) not in allowed
    duplicate_emails = int(await deployment.scalar(
        "SELECT count(*) FROM (SELECT v_text FROM record_values WHERE workspace_id = $1 AND attribute_id = $2 "
        "AND facet = '' GROUP BY v_text HAVING count(DISTINCT record_id) > 1) d", ws, emails))
    return {"acked_creates": len(load.created), "acked_creates_lost": lost_creates,
            "acked_upserts": len(load.upserted), "acked_upserts_lost": lost_upserts,
            "acked_patches": sum(ok for h in load.patches.values() for _, ok in h),
            "acked_patches_lost": lost_patches, "duplicate_emails": duplicate_emails}
