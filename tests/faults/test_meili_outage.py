"""Stop Meilisearch for 60 s under writes: search keeps answering 200 (``degraded: true``, served
from PostgreSQL), writes keep succeeding; once Meilisearch is back the worker catches up and
``tessera search verify`` finds 0 drift."""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from typing import Any

from tests.faults.harness import wait_until

OUTAGE_S = float(os.environ.get("FAULTS_MEILI_OUTAGE_S", "60"))


async def test_meilisearch_stopped_60s_under_writes(deploy: Any, services: Any, figures: Any) -> None:
    figures.scenario("Meilisearch stopped under writes",
                     f"SIGTERM of Meilisearch, {OUTAGE_S:.0f} s down, creates/patches/deletes + searches")
    deployment = await deploy("meili_outage")
    api = deployment.api()
    api.start()
    await api.wait_ready()
    worker = deployment.worker()
    worker.start()
    writes: Counter[str] = Counter()
    searches: Counter[str] = Counter()
    degraded = 0
    slowest_search = 0.0
    async with deployment.client(api, timeout=30) as http:
        live: list[str] = []
        for i in range(50):
            response = await http.post("/v1/objects/person", json={"attributes": {"name": f"Before {i}"}})
            assert response.status_code == 200, response.text[:300]
            live.append(response.json()["id"])
        await wait_until(lambda: _drained(deployment), within=60, what="the initial indexing", detail=worker.tail)

        await services.meili_stop()
        stopped = time.monotonic()
        i = 0
        while time.monotonic() - stopped < OUTAGE_S:
            i += 1
            created = await http.post("/v1/objects/person", json={"attributes": {
                "name": f"During {i}", "job_title": "outage", "email_addresses": [f"during{i}@faults.example.com"]}})
            writes[str(created.status_code)] += 1
            if created.status_code == 200:
                live.append(created.json()["id"])
            if i % 3 == 0:
                patched = await http.patch(f"/v1/records/{random.choice(live)}",
                                           json={"attributes": {"job_title": f"moved {i}"}})
                writes[str(patched.status_code)] += 1
            if i % 5 == 0:
                deleted = await http.delete(f"/v1/records/{live.pop(random.randrange(len(live)))}")
                writes[str(deleted.status_code)] += 1
            began = time.monotonic()
            found = await http.post("/v1/search", json={"query": "During"})
            slowest_search = max(slowest_search, time.monotonic() - began)
            searches[str(found.status_code)] += 1
            if found.status_code == 200:
                degraded += found.json().get("degraded") is True
            await asyncio.sleep(0.2)
        pending_at_recovery = await deployment.search_pending()
        await services.restart_missing()
        back = time.monotonic()
        await wait_until(lambda: _drained(deployment), within=180, what="the worker to catch up", detail=worker.tail)
        caught_up_s = time.monotonic() - back
        after = await http.post("/v1/search", json={"query": "During"})
    report = await deployment.verify_search()
    worker.kill()
    figures.update(outage_s=OUTAGE_S, writes=dict(writes), searches=dict(searches), degraded_answers=degraded,
                   slowest_search_s=round(slowest_search, 2), pending_at_recovery=pending_at_recovery,
                   caught_up_s=round(caught_up_s, 1), records=report["records"], drift=report["drift"],
                   degraded_after=after.json().get("degraded"))
    assert set(writes) == {"200"}, writes
    assert set(searches) == {"200"}, searches
    assert degraded == sum(searches.values()), "every search during the outage said degraded"
    assert pending_at_recovery > 0
    assert after.status_code == 200 and after.json()["degraded"] is False
    assert report["drift"] == 0, report


async def _drained(deployment: Any) -> bool:
    return await deployment.search_pending() == 0
