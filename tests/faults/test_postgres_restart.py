"""Restart PostgreSQL under load: the API answers 503 (never 500, never a dropped connection)
while it is down, and the first 2xx comes within 10 s of PostgreSQL accepting connections again.
The worker rides through the restart too (the search outbox drains, 0 drift)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from tests.faults.harness import wait_until
from tests.faults.load import Load, check_acknowledged, seed_people

WARM_S = 5.0
DOWN_S = 5.0
AFTER_S = 15.0
RECOVERY_TARGET_S = 10.0


async def test_postgres_restart_under_load(deploy: Any, services: Any, figures: Any) -> None:
    figures.scenario("PostgreSQL restart under load",
                     f"pg_ctl stop -m fast, {DOWN_S:.0f} s down, start, during mixed reads/writes (4 clients)")
    deployment = await deploy("pg_restart")
    api = deployment.api()
    api.start()
    await api.wait_ready()
    worker = deployment.worker()
    worker.start()
    async with deployment.client(api, timeout=60) as http:
        load = Load(http, await seed_people(http, 40))
        stop = asyncio.Event()
        running = asyncio.create_task(load.run(stop, concurrency=4))
        await asyncio.sleep(WARM_S)
        down_at = time.monotonic()
        await services.pg_stop()
        stopped_at = time.monotonic()
        await asyncio.sleep(DOWN_S)
        restart = asyncio.create_task(services.restart_missing())
        await wait_until(services.pg_ready, within=90, what="PostgreSQL to accept connections again", every=0.05)
        back_at = time.monotonic()
        await restart
        await asyncio.sleep(AFTER_S)
        stop.set()
        await asyncio.wait_for(running, timeout=90)
        await wait_until(lambda: _drained(deployment), within=90, what="the worker to drain the search outbox",
                         detail=worker.tail)
    report = await deployment.verify_search()
    worker.kill()
    outage = [o for o in load.outcomes if o.done >= down_at and o.sent <= back_at]
    after = sorted((o for o in load.outcomes if o.done >= back_at and o.status is not None and o.status < 300),
                   key=lambda o: o.done)
    first_2xx_s = round(after[0].done - back_at, 2) if after else None
    statuses = load.statuses()
    acked = await check_acknowledged(deployment, load)
    figures.update(requests=len(load.outcomes), statuses=dict(statuses),
                   during_outage=dict(Load(load.http, [], outcomes=outage).statuses()),
                   stop_took_s=round(stopped_at - down_at, 2), down_s=round(back_at - stopped_at, 1),
                   first_2xx_after_recovery_s=first_2xx_s, **acked, search_drift=report["drift"])
    assert not load.bodies_500, load.bodies_500[:5]
    assert set(statuses) <= {"200", "503"}, statuses
    assert any(o.status == 503 for o in outage), "the outage was seen"
    assert first_2xx_s is not None and first_2xx_s <= RECOVERY_TARGET_S
    assert acked["acked_creates_lost"] == acked["acked_upserts_lost"] == acked["acked_patches_lost"] == 0
    assert report["drift"] == 0, report


async def _drained(deployment: Any) -> bool:
    return await deployment.search_pending() == 0
