"""Activity at scale (issue 5): a record's timeline with 10,000 events, and task listing over
1,000,000 tasks (``--quick``: 2,000 events, 50,000 tasks).

One run, one fresh database (``tessera_bench_activity``, see ``docs/benchmarks.md``), one
Tessera server pinned to CPU 0, this process (the client) pinned to CPU 1:

1. **Data.** 10,000 people through ``POST /v1/objects/person/records/batch``. One target person
   gets real activity through the API (updates, a list entry, tasks, notes); those events are
   read back from ``timeline_events`` and used as templates for 10,000 events of that record
   in all, spread over two years (bursts of updates included, so the default folding has
   work to do), written with ``COPY``; 20 events per other person are added as background.
   1,000,000 tasks and their ``task_entities`` links go in with ``COPY`` (titles and
   descriptions that read like CRM tasks, 200 assignees and the linked records Zipf-like, so
   some records and assignees have tens of thousands of tasks and most have a few dozen, 75 %
   completed, 3 % archived), then ``VACUUM ANALYZE`` (what autovacuum does after a bulk load).
   Loading through the API would take hours on the reference machine and is not what is
   measured.
2. **Timeline.** ``GET /v1/records/{id}/timeline?limit=50``: the first page, and deep pages
   (cursors of pages 20 to the last, collected by one full cursor walk that also checks every
   event is met once), with the default folding and with ``aggregate=false``. One request at a
   time on a keep-alive connection; target **p95 <= 20 ms**.
3. **Tasks.** ``GET /v1/tasks`` default (newest 100), ``is_completed=false``, ``entity_id`` of
   the busiest and of a typical record, ``assignee_id`` of the busiest and of a typical
   assignee, ``search`` for a common word, a rare company name and a word that matches
   nothing, and ``assignee_id`` + ``is_completed=false`` ("my open tasks"). Target **p95 <= 30 ms**
   for each. For every variant over target, the product's own SQL (captured from
   ``TaskService.list``) is run under ``EXPLAIN (ANALYZE, BUFFERS)`` and kept in the results.

Run: ``python tests/benchmarks/bench_activity.py --quick`` while developing; full size is the
default; it first waits up to 5 minutes for the 1-minute load average to fall below 1.5
(``--force`` does not wait) and records the load average in the result. Writes ``results/activity.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import asyncpg
import orjson
from company_data import FIRST_NAMES, JOB_TITLES, LAST_NAMES, brand_words
from harness import (
    LOAD_CPU,
    BenchmarkError,
    Server,
    bench_database,
    create_workspace,
    free_port,
    load_average,
    serve,
    stack_env,
)
from profiling import profile_requests
from workload_data import (
    api_client,
    asyncpg_url,
    explain,
    log,
    percentiles,
    pin_self,
    run_sized,
    run_sql,
    sample,
    sized_parser,
    tessera_id,
    timed,
    vacuum_analyze,
)

from tessera.db.ids import EPOCH_S, SEQUENCE_BITS

NAME = "activity"
DATABASE = "tessera_bench_activity"
TIMELINE_TARGET_MS = 20.0
TASKS_TARGET_MS = 30.0
PRESETS = {"full": {"events": 10_000, "tasks": 1_000_000, "records": 10_000, "background": 20,
                    "timeline_samples": 300, "task_samples": 60},
           "quick": {"events": 2_000, "tasks": 50_000, "records": 2_000, "background": 5,
                     "timeline_samples": 80, "task_samples": 20}}
ASSIGNEES = 200
COPY_CHUNK = 50_000


# -- people and the target's real activity -----------------------------------------------------


def load_people(client: Any, count: int, rng: random.Random) -> list[str]:
    ids: list[str] = []
    for start in range(0, count, 1000):
        items = []
        for n in range(start, min(count, start + 1000)):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            items.append({"attributes": {"name": f"{first} {last}", "job_title": rng.choice(JOB_TITLES),
                                         "email_addresses": [f"{first}.{last}.{n}@example.com".lower()
                                                             .replace("'", "")]}})
        _, reply = timed(client, "POST", "/v1/objects/person/records/batch", json={"records": items})
        body = reply.json()
        if body["failed"]:
            raise BenchmarkError(f"batch refused {body['failed']} people: {body['results'][:2]}")
        ids += [r["id"] for r in body["results"]]
    return ids


def real_activity(client: Any, rng: random.Random) -> str:
    """A person with one of each kind of activity, made through the API; its id."""
    _, reply = timed(client, "POST", "/v1/objects/person", json={"attributes": {
        "name": "Tilda Timeline", "job_title": "Buyer", "email_addresses": ["tilda@timeline.example"]}})
    rid = reply.json()["id"]
    for title in ("Senior Buyer", "Head of Procurement", "VP Procurement"):
        timed(client, "PATCH", f"/v1/records/{rid}", json={"attributes": {"job_title": title}})
    timed(client, "PATCH", f"/v1/records/{rid}", json={"attributes": {
        "description": "Met at the Berlin trade fair; interested in the analytics add-on."}})
    _, made = timed(client, "POST", "/v1/objects/person/lists", json={"name": "Key accounts", "slug": "key-accounts"})
    list_id = made.json()["id"]
    timed(client, "POST", "/v1/objects/key-accounts/attributes",
          json={"name": "Stage", "slug": "stage", "type": "text"})
    timed(client, "POST", f"/v1/lists/{list_id}", json={"parent_id": rid, "attributes": {"stage": "Lead"}})
    timed(client, "PATCH", f"/v1/lists/{list_id}/records/{rid}", json={"attributes": {"stage": "Qualified"}})
    _, task = timed(client, "POST", "/v1/tasks", json={"title": "Send the renewal quote", "entity_ids": [rid],
                                                       "priority": "high", "assignee_ids": ["usr_7"]})
    timed(client, "PATCH", f"/v1/tasks/{task.json()['id']}", json={"is_completed": True})
    _, note = timed(client, "POST", "/v1/notes", json={"title": "Call summary", "entity_id": rid,
                                                       "content": "Budget confirmed for Q3. Wants SSO."})
    timed(client, "PATCH", f"/v1/notes/{note.json()['id']}", json={"content": "Budget confirmed for Q3."})
    del rng
    return str(rid)


# -- COPY loads --------------------------------------------------------------------------------


class IdClock:
    """Strictly increasing ids for increasing times (sequence bits count within a second)."""

    def __init__(self, base: int = 0) -> None:
        self.base = base
        self.last_s = 0
        self.seq = 0

    def take(self, at: datetime) -> int:
        second = int(at.timestamp())
        if second <= self.last_s:
            second = self.last_s
            self.seq += 1
        else:
            self.seq = 0
        self.last_s = second
        return tessera_id(second * 1000, self.base + self.seq)


def _vary(template: dict[str, Any], rng: random.Random, new_resource: int | None) -> dict[str, Any]:
    """A copy of an event payload with other values (job titles, task titles, note titles)."""
    payload = orjson.loads(orjson.dumps(template))
    for change in payload.get("field_changes", []):
        if isinstance(change.get("new_value"), str):
            change["old_value"], change["new_value"] = change["new_value"], rng.choice(JOB_TITLES)
    if "task" in payload:
        payload["task"]["title"] = rng.choice(("Call back", "Send quote", "Book demo", "Review contract",
                                               "Follow up on invoice"))
        if new_resource is not None:
            payload["task"]["id"] = str(new_resource)
    if "note" in payload and new_resource is not None:
        payload["note"]["id"] = str(new_resource)
    return payload


async def copy_timeline(url: str, workspace_id: int, record_id: int, total: int, people: list[int],
                        background: int, rng: random.Random) -> dict[str, Any]:
    """Fill the target's timeline to ``total`` events from its real events (templates), and give
    every other person ``background`` events."""
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        real = await conn.fetch("SELECT id, resource_type, resource_id, event_type, payload, actor, actor_id "
                                "FROM timeline_events WHERE workspace_id = $1 AND record_id = $2 ORDER BY id",
                                workspace_id, record_id)
        templates: dict[tuple[str, str], dict[str, Any]] = {}
        for row in real:
            templates.setdefault((row["resource_type"], row["event_type"]), orjson.loads(row["payload"]))
        actor = (real[0]["actor"], real[0]["actor_id"])
        kinds = [(("entity", "updated"), 55), (("task", "created"), 12), (("task", "updated"), 10),
                 (("note", "created"), 10), (("note", "updated"), 4), (("list_item", "updated"), 7),
                 (("entity", "created"), 0)]
        kinds = [(k, w) for k, w in kinds if k in templates and w]
        weights = [w for _, w in kinds]
        wanted = total - len(real)
        oldest = min(r["id"] for r in real)
        # Times: two years back from just before the real events, bursts of updates within 60 s.
        end = datetime.fromtimestamp((oldest >> SEQUENCE_BITS) + EPOCH_S - 3600, tz=UTC)
        start = end - timedelta(days=2 * 365)
        mean_gap = (end - start).total_seconds() / max(1, wanted)
        rows: list[tuple[Any, ...]] = []
        at = start
        ids = IdClock()
        resource_ids = IdClock(1_000_000)
        bursts = 0
        while len(rows) < wanted:
            (kind, event), = rng.choices([k for k, _ in kinds], weights)
            burst = 1
            if kind == "entity" and rng.random() < 0.15:
                burst = rng.randint(2, 5)
                bursts += 1
            resource = record_id if kind == "entity" else resource_ids.take(at - timedelta(days=1))
            if kind == "list_item":
                resource = int(real[[r["resource_type"] for r in real].index("list_item")]["resource_id"])
            for _ in range(min(burst, wanted - len(rows))):
                payload = _vary(templates[(kind, event)], rng, None if kind in ("entity", "list_item") else resource)
                rows.append((workspace_id, ids.take(at), record_id, kind, resource, event,
                             orjson.dumps(payload).decode(), actor[0], actor[1], at))
                at += timedelta(seconds=rng.uniform(2, 50))
            at += timedelta(seconds=rng.expovariate(1 / mean_gap))
        # The oldest event is the record's creation.
        created = templates.get(("entity", "created"))
        if created is not None:
            first = rows[0]
            rows[0] = (*first[:3], "entity", record_id, "created", orjson.dumps(created).decode(), *first[7:])
        columns = ["workspace_id", "id", "record_id", "resource_type", "resource_id", "event_type", "payload",
                   "actor", "actor_id", "created_at"]
        await conn.copy_records_to_table("timeline_events", records=rows, columns=columns)
        generic = orjson.dumps({"entity": {"id": "0", "type": "person", "name": "x"},
                                "field_changes": [{"field_name": "job_title", "old_value": "a",
                                                   "new_value": "b"}]}).decode()
        other: list[tuple[Any, ...]] = []
        bg_ids = IdClock(2_000_000)
        when = start
        step = (end - start) / max(1, len(people) * background)
        for _ in range(background):
            for person in people:
                other.append((workspace_id, bg_ids.take(when), person, "entity", person, "updated", generic,
                              actor[0], actor[1], when))
                when += step
        for offset in range(0, len(other), COPY_CHUNK):
            await conn.copy_records_to_table("timeline_events", records=other[offset:offset + COPY_CHUNK],
                                             columns=columns)
        count = await conn.fetchval("SELECT count(*) FROM timeline_events WHERE workspace_id = $1 AND record_id = $2",
                                    workspace_id, record_id)
        return {"target_events": int(count), "real_events": len(real), "bursts": bursts,
                "background_events": len(other), "templates": sorted(f"{k[0]}.{k[1]}" for k in templates)}
    finally:
        await conn.close()


_VERBS = ("Call", "Email", "Send proposal to", "Follow up with", "Book a demo with", "Prepare the QBR for",
          "Review the contract of", "Chase the invoice of", "Schedule onboarding for", "Renewal call with",
          "Send pricing to", "Check in with", "Get the security questionnaire back from", "Draft the SOW for")
_DETAILS = ("They asked about SSO and audit logs.", "Budget is approved for this quarter.",
            "Decision maker is the CFO; loop in finance.", "Send the updated proposal with volume discount.",
            "Waiting on legal review of the DPA.", "Mentioned a competitor during the last call.",
            "Needs the migration plan before signing.", "Invoice 4471 is 30 days overdue.",
            "Wants a reference customer in the same industry.", "Onboarding slipped by two weeks.")


async def copy_tasks(url: str, workspace_id: int, count: int, people: list[int], rng: random.Random
                     ) -> dict[str, Any]:
    """``count`` tasks and their record links with COPY, in chunks."""
    brands = brand_words(5000, rng)
    rare = brands[0]
    conn = await asyncpg.connect(asyncpg_url(url))
    task_columns = ["workspace_id", "id", "title", "description", "priority", "due_date", "is_completed",
                    "completed_at", "assignee_ids", "created_by", "created_by_id", "created_at", "updated_at",
                    "archived_at"]
    now = datetime.now(UTC)
    start = now - timedelta(days=2 * 365)
    step = (now - timedelta(days=2) - start) / count
    ids = IdClock(3_000_000)
    # Zipf-like popularity: index = n * u^3 puts ~4.6 % of links on the first of 10,000 records.
    assignee_weights = [1 / (i + 1) for i in range(ASSIGNEES)]
    assignees = [f"usr_{i}" for i in range(ASSIGNEES)]
    made = links = rare_count = 0
    started = time.monotonic()
    try:
        while made < count:
            tasks: list[tuple[Any, ...]] = []
            entity_rows: list[tuple[int, int, int]] = []
            for n in range(made, min(count, made + COPY_CHUNK)):
                at = start + step * n
                task_id = ids.take(at)
                brand = rare if rng.random() < 0.0005 else rng.choice(brands)
                rare_count += brand == rare
                if rng.random() < 0.5:
                    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                    title = f"{rng.choice(_VERBS)} {first} {last} ({brand})"
                else:
                    title = f"{rng.choice(_VERBS)} {brand} {rng.choice(('Labs', 'GmbH', 'Inc', 'Systems', ''))}"
                desc = " ".join(rng.sample(_DETAILS, rng.choice((0, 0, 1, 1, 2))))
                completed = rng.random() < (0.9 if n < count * 0.8 else 0.3)
                done_at = at + timedelta(days=rng.uniform(0.1, 20)) if completed else None
                due = at + timedelta(days=rng.uniform(1, 30)) if rng.random() < 0.6 else None
                picked = rng.choices(assignees, assignee_weights, k=rng.choice((0, 1, 1, 1, 1, 1, 1, 1, 2, 2)))
                archived = at + timedelta(days=30) if rng.random() < 0.03 else None
                tasks.append((workspace_id, task_id, title.strip(), desc,
                              rng.choice(("unspecified", "low", "medium", "high", "urgent")), due, completed,
                              done_at, list(dict.fromkeys(picked)), "developer_api", "key_1", at,
                              done_at or at, archived))
                roll = rng.random()
                linked = 0 if roll < 0.10 else 2 if roll > 0.95 else 1
                chosen = {people[min(len(people) - 1, int(len(people) * rng.random() ** 3))] for _ in range(linked)}
                entity_rows += [(workspace_id, task_id, record) for record in chosen]
            await conn.copy_records_to_table("tasks", records=tasks, columns=task_columns)
            await conn.copy_records_to_table("task_entities", records=entity_rows,
                                             columns=["workspace_id", "task_id", "record_id"])
            made += len(tasks)
            links += len(entity_rows)
            rate = made / (time.monotonic() - started)
            log(f"tasks: {made:,}/{count:,} ({rate:,.0f}/s)")
    finally:
        await conn.close()
    return {"tasks": made, "links": links, "rare_word": rare, "rare_word_tasks": rare_count,
            "seconds": round(time.monotonic() - started, 1)}


# -- measurements ------------------------------------------------------------------------------


def walk_timeline(client: Any, record_id: str, limit: int, aggregate: bool) -> tuple[list[str], list[float], int]:
    """Every page's cursor (the cursor that fetches it; None for the first), each page's
    latency, and how many events were met (children counted). Checks no event repeats."""
    cursors: list[str | None] = [None]
    latencies = []
    seen: set[str] = set()
    while True:
        cursor = cursors[-1]
        url = f"/v1/records/{record_id}/timeline?limit={limit}&aggregate={'true' if aggregate else 'false'}"
        if cursor:
            url += f"&cursor={cursor}"
        elapsed, reply = timed(client, "GET", url)
        latencies.append(elapsed)
        page = reply.json()
        for event in page["data"]:
            for item in event["children"] or [event]:
                if item["id"] in seen:
                    raise BenchmarkError(f"the cursor walk met event {item['id']} twice")
                seen.add(item["id"])
        if not page["has_next_page"]:
            break
        cursors.append(page["next_cursor"])
    return [c for c in cursors if c], latencies, len(seen)


def measure_timeline(client: Any, server: Server, record_id: str, samples: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for aggregate in (True, False):
        label = "folded" if aggregate else "aggregate_false"
        cursors, walk_ms, met = walk_timeline(client, record_id, 50, aggregate)
        log(f"timeline ({label}): walk of {len(cursors) + 1} pages met {met:,} events, "
            f"page p50 {percentiles(walk_ms)['p50']:.1f} ms")
        base = f"/v1/records/{record_id}/timeline?limit=50" + ("" if aggregate else "&aggregate=false")
        deep = cursors[19:] or cursors
        variants = {"first_page": [("GET", base, None)],
                    "deep_pages": [("GET", f"{base}&cursor={c}", None) for c in deep]}
        result: dict[str, Any] = {"pages": len(cursors) + 1, "events_met": met, "walk_ms": percentiles(walk_ms)}
        for name, requests in variants.items():
            before = server.cpu_seconds()
            rounds = max(1, samples // len(requests))
            latencies = sample(client, requests, rounds=rounds)
            if len(latencies) < samples:
                latencies += sample(client, requests[:samples - len(latencies)], rounds=1, warmup=0)
            figures = percentiles(latencies)
            figures["server_cpu_ms_per_request"] = round((server.cpu_seconds() - before) * 1000 / len(latencies), 2)
            result[name] = figures
            log(f"timeline ({label}) {name}: p50 {figures['p50']:.1f} ms, p95 {figures['p95']:.1f} ms, "
                f"p99 {figures['p99']:.1f} ms (server CPU {figures['server_cpu_ms_per_request']} ms/request)")
        if aggregate:
            result["profile"] = profile_requests(server.pid, client, (variants["deep_pages"] * 3)[:3 * samples])
            log(f"timeline profile (server, deep pages): {result['profile'].get('inclusive_pct', [])[:12]}")
        out[label] = result
    return out


def timeline_explain(url: str, workspace_id: int, record_id: int) -> dict[str, Any]:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of the timeline's page query (as in
    ``tessera/timeline/endpoints.py``) for the first page and for the last (oldest) one."""
    sql = ("SELECT id, resource_type, resource_id, event_type, payload, actor, actor_id, created_at "
           "FROM timeline_events WHERE workspace_id = $1 AND record_id = $2{extra} ORDER BY id DESC LIMIT $3")
    oldest = run_sql(url, "SELECT id FROM timeline_events WHERE workspace_id = $1 AND record_id = $2 "
                          "ORDER BY id LIMIT 1 OFFSET 49", workspace_id, record_id)
    out = {"first_page": explain(url, sql.format(extra=""), workspace_id, record_id, 51)}
    if oldest:
        out["last_page"] = explain(url, sql.format(extra=" AND id < $4"), workspace_id, record_id, 51,
                                   int(oldest[0]["id"]) + 1)
    for name, plan in out.items():
        log(f"timeline SQL {name}: {next((line for line in plan if line.startswith('Execution Time')), '?')}")
    return out


class _Capture:
    """A stand-in for ``Tenant`` that records the SQL ``TaskService.list`` runs."""

    def __init__(self, workspace_id: int) -> None:
        self.workspace_id = workspace_id
        self.statements: list[tuple[str, tuple[Any, ...]]] = []

    async def fetch(self, statement: str, *args: Any) -> list[Any]:
        self.statements.append((statement, args))
        return []

    async def fetchrow(self, statement: str, *args: Any) -> Any:
        self.statements.append((statement, args))
        return (0,)

    async def fetch_one(self, statement: str, *args: Any) -> Any:
        return await self.fetchrow(statement, *args)


def task_sql(workspace_id: int, params: dict[str, Any]) -> list[tuple[str, tuple[Any, ...]]]:
    """The statements (count, then page) the product runs for ``GET /v1/tasks?params``."""
    from tessera.changes import Actor, Changes, Stamp
    from tessera.db.ids import IdAllocator
    from tessera.tasks.models import ListTasksQuery
    from tessera.tasks.service import TaskService

    capture = _Capture(workspace_id)
    service = TaskService(capture, Changes(IdAllocator(), Stamp(Actor("x", "x"), datetime.now(UTC))))  # type: ignore[arg-type]
    asyncio.run(service.list(ListTasksQuery(**params)))
    return [(s, (workspace_id, *a)) for s, a in capture.statements]


def task_variants(url: str, workspace_id: int, rare: str) -> dict[str, dict[str, Any]]:
    rows = asyncio.run(_popular(url, workspace_id))
    return {
        "default": {},
        "open": {"is_completed": "false"},
        "entity_busiest": {"entity_id": str(rows["busiest_record"][0])},
        "entity_typical": {"entity_id": str(rows["typical_record"][0])},
        "assignee_busiest": {"assignee_id": "usr_0"},
        "assignee_typical": {"assignee_id": f"usr_{ASSIGNEES // 2}"},
        "search_common": {"search": "proposal"},
        "search_rare": {"search": rare.lower()},
        "search_none": {"search": "zqxjv"},
        "my_open_tasks": {"assignee_id": f"usr_{ASSIGNEES // 10}", "is_completed": "false"},
    }, rows


async def _popular(url: str, workspace_id: int) -> dict[str, Any]:
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        counts = await conn.fetch("SELECT record_id, count(*) AS n FROM task_entities WHERE workspace_id = $1 "
                                  "GROUP BY record_id ORDER BY n DESC", workspace_id)
        typical = counts[len(counts) // 2]
        return {"busiest_record": (counts[0]["record_id"], counts[0]["n"]),
                "typical_record": (typical["record_id"], typical["n"]), "records_with_tasks": len(counts)}
    finally:
        await conn.close()


def measure_tasks(client: Any, server: Server, url: str, workspace_id: int, rare: str, samples: int
                  ) -> dict[str, Any]:
    variants, popular = task_variants(url, workspace_id, rare)
    out: dict[str, Any] = {"records": {k: list(v) if isinstance(v, tuple) else v for k, v in popular.items()},
                           "variants": {}}
    paths: dict[str, str] = {}
    for name, params in variants.items():
        query = "&".join(f"{k}={v}" for k, v in params.items())
        path = "/v1/tasks" + (f"?{query}" if query else "")
        _, first = timed(client, "GET", path)
        body = first.json()
        before = server.cpu_seconds()
        latencies = sample(client, [("GET", path, None)], rounds=samples, warmup=2)
        figures = percentiles(latencies)
        figures["server_cpu_ms_per_request"] = round((server.cpu_seconds() - before) * 1000 / len(latencies), 2)
        figures.update({"query": path, "total": body["total"], "returned": len(body["data"])})
        if figures["p95"] > TASKS_TARGET_MS:
            sql_params = {k: (v == "true" if v in ("true", "false") else v) for k, v in params.items()}
            figures["explain"] = [{"sql": statement, "args": [str(a) for a in args],
                                   "plan": explain(url, statement, *args)}
                                  for statement, args in task_sql(workspace_id, sql_params)]
            times = [next((line for line in e["plan"] if line.startswith("Execution Time")), "?")
                     for e in figures["explain"]]
            figures["sql_execution"] = times
        out["variants"][name] = figures
        paths[name] = path
        log(f"tasks {name} ({path}): total {body['total']:,}, p50 {figures['p50']:.1f} ms, "
            f"p95 {figures['p95']:.1f} ms (server CPU {figures['server_cpu_ms_per_request']} ms/request)"
            + (f"; SQL {figures['sql_execution']}" if "sql_execution" in figures else ""))
    worst = max(out["variants"], key=lambda n: out["variants"][n]["p95"])
    repeat = [("GET", paths[worst], None)] * max(30, 2 * samples)
    out["profile"] = {"variant": worst, **profile_requests(server.pid, client, repeat)}
    log(f"tasks profile (server, {worst}): {out['profile'].get('inclusive_pct', [])[:12]}")
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    preset = dict(PRESETS["quick" if args.quick else "full"])
    for name in ("events", "tasks"):
        if getattr(args, name) is not None:
            preset[name] = getattr(args, name)
    pin_self(LOAD_CPU)
    rng = random.Random(args.seed)
    env = stack_env()
    load_before = load_average()
    warnings: list[str] = []
    with bench_database(env, name=DATABASE) as url:
        env["DATABASE_URL"] = url
        made = create_workspace(env)
        key, workspace_id = made["api_key"], int(made["workspace_id"])
        with serve(env, free_port()) as server, api_client(server.base_url, key) as client:
            log(f"loading {preset['records']:,} people through the batch endpoint")
            people = [int(i) for i in load_people(client, preset["records"], rng)]
            target = real_activity(client, rng)
            log(f"timeline of person {target}: filling to {preset['events']:,} events")
            timeline_load = asyncio.run(copy_timeline(url, workspace_id, int(target), preset["events"], people,
                                                      preset["background"], rng))
            log(f"timeline loaded: {timeline_load}")
            log(f"loading {preset['tasks']:,} tasks with COPY")
            tasks_load = copy_tasks_sync(url, workspace_id, preset["tasks"], people, rng)
            tasks_load["vacuum_analyze_s"] = vacuum_analyze(url, ["tasks", "task_entities", "timeline_events"])
            log(f"tasks loaded: {tasks_load}")
            load_measure = load_average()
            timeline = measure_timeline(client, server, target, preset["timeline_samples"])
            timeline["explain"] = timeline_explain(url, workspace_id, int(target))
            tasks = measure_tasks(client, server, url, workspace_id, tasks_load["rare_word"],
                                  preset["task_samples"])
            memory = server.memory()
    if load_measure[0] > 1.5:
        warnings.append(f"1-minute load average was {load_measure[0]} when measuring: other work shared the machine")
    if not args.quick and args.start_load[0] >= 1.5:
        warnings.append(f"full run started with a 1-minute load average of {args.start_load[0]} (>= 1.5)")
    if args.quick:
        warnings.append(f"quick preset ({preset['events']:,} timeline events and {preset['tasks']:,} tasks), "
                        "not the issue's sizes: a development run")
    headline: dict[str, Any] = {
        "timeline_first_p95_ms": {"value": timeline["folded"]["first_page"]["p95"], "unit": "ms",
                                  "max": TIMELINE_TARGET_MS},
        "timeline_deep_p95_ms": {"value": timeline["folded"]["deep_pages"]["p95"], "unit": "ms",
                                 "max": TIMELINE_TARGET_MS},
        "timeline_first_p50_ms": {"value": timeline["folded"]["first_page"]["p50"], "unit": "ms"},
    }
    for name, figures in tasks["variants"].items():
        headline[f"tasks_{name}_p95_ms"] = {"value": figures["p95"], "unit": "ms", "max": TASKS_TARGET_MS}
    headline["api_peak_rss_mib"] = {"value": memory["peak_rss_mib"], "unit": "MiB"}
    return {
        "description": f"timeline of a record with {timeline_load['target_events']:,} events; GET /v1/tasks over "
                       f"{tasks_load['tasks']:,} tasks",
        "preset": "quick" if args.quick else "full",
        "settings": {**preset, "seed": args.seed, "database": DATABASE},
        "warnings": warnings,
        "headline": headline,
        "load_average": {"start": args.start_load,
                         "before": load_before, "measuring": load_measure, "after": load_average()},
        "data": {"people": len(people), "timeline": timeline_load, "tasks": tasks_load},
        "timeline": timeline,
        "tasks": tasks,
        "api_memory": memory,
    }


def copy_tasks_sync(url: str, workspace_id: int, count: int, people: list[int], rng: random.Random
                    ) -> dict[str, Any]:
    return asyncio.run(copy_tasks(url, workspace_id, count, people, rng))


def main() -> None:
    parser = sized_parser(__doc__)
    parser.add_argument("--events", type=int, default=None, help="timeline events of the target record")
    parser.add_argument("--tasks", type=int, default=None, help="tasks to load")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    run_sized(NAME, run, args)


if __name__ == "__main__":
    main()
