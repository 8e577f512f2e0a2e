"""A TCP proxy between the API and PostgreSQL adds 5-50 ms to every chunk and drops connections at
random while clients create, batch-upsert and patch (retrying with Idempotency-Keys). No request
may leave a partial write: the read model agrees with the value rows, every unique value is
claimed by its record, every record has its ``created`` event and every outbox row its record;
no answer is a 500, and every acknowledged write is there."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from tests.faults import invariants
from tests.faults.load import Load, check_acknowledged, seed_people
from tests.faults.proxy import ChaosProxy

LOAD_S = float(os.environ.get("FAULTS_PROXY_LOAD_S", "45"))
CLIENTS = 8


async def test_flaky_network_to_postgres_leaves_no_partial_writes(deploy: Any, services: Any, figures: Any) -> None:
    figures.scenario("latency + dropped connections API<->PostgreSQL",
                     f"TCP proxy: +5-50 ms per round trip, 0.5% of chunks kill the connection, 2% of "
                     f"connects refused, {LOAD_S:.0f} s of writes ({CLIENTS} clients)")
    deployment = await deploy("db_proxy")
    proxy = ChaosProxy(services.pg_port)
    proxy.start()
    try:
        proxied = deployment.database_url.replace(f":{services.pg_port}/", f":{proxy.port}/")
        api = deployment.api(DATABASE_URL=proxied)
        proxy.chaos = False
        api.start()
        await api.wait_ready()
        async with deployment.client(api, timeout=60) as http:
            load = Load(http, await seed_people(http, 40), retry_writes=True,
                        weights={"create": 4, "patch": 4, "batch": 2, "get": 1, "list": 1})
            proxy.chaos = True
            stop = asyncio.Event()
            running = asyncio.create_task(load.run(stop, concurrency=CLIENTS))
            waits = await _sample_lock_waits(deployment, LOAD_S)
            stop.set()
            await asyncio.wait_for(running, timeout=180)
            proxy.chaos = False
    finally:
        proxy.stop()
    statuses = load.statuses()
    found = await invariants.check(deployment.database_url, int(deployment.workspace_id))
    acked = await check_acknowledged(deployment, load)
    figures.update(requests=len(load.outcomes), statuses=dict(statuses), proxy_connections=proxy.connections,
                   proxy_drops=proxy.dropped, proxy_refusals=proxy.refused, **waits, **acked, **found)
    assert not load.bodies_500, load.bodies_500[:5]
    assert set(statuses) <= {"200", "409", "503"}, statuses
    assert proxy.dropped > 0
    assert all(value == 0 for key, value in found.items() if key != "records_checked"), found
    assert acked["acked_creates_lost"] == acked["acked_upserts_lost"] == acked["acked_patches_lost"] == 0, acked
    assert acked["duplicate_emails"] == 0


async def _sample_lock_waits(deployment: Any, seconds: float) -> dict[str, Any]:
    """Sample the API's backends (directly, not through the proxy) while the load runs: how
    often a write waits for a lock on its workspace's row, which only a schema change should
    hold exclusively."""
    samples = busy = on_workspace = 0
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.5)
        rows = await deployment.sql(
            "SELECT state, wait_event_type, query FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = 'tessera' AND pid <> pg_backend_pid()")
        samples += 1
        busy += sum(r["state"] != "idle" for r in rows)
        on_workspace += sum(r["wait_event_type"] == "Lock" and "FROM workspaces" in r["query"] for r in rows)
    return {"write_backends_sampled": busy, "waiting_for_workspace_row_lock": on_workspace,
            "workspace_lock_wait_share": round(on_workspace / busy, 2) if busy else 0.0}
