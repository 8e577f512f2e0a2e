"""Restart Redis (which keeps nothing on disk) with work queued: the arq queue is gone, yet every
artifact, AI list job and search outbox row completes once the worker runs, rebuilt from
PostgreSQL (``requeue_stranded`` re-queues pending rows older than 10 s; the per-second sweeps
drain the outbox). The API keeps answering 2xx while Redis is down (rate limiting fails open)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from redis import Redis

from tests.faults.context import context_invariants, email_text
from tests.faults.harness import Deployment, wait_until

TEXTS = 20
LISTS = 2
RECORDS = 300
DEADLINE_S = 120


async def test_redis_restart_loses_no_queued_work(deploy: Any, services: Any, figures: Any) -> None:
    figures.scenario("Redis restart with queued work",
                     "Redis stopped (SIGTERM, no persistence) and restarted while jobs were queued; "
                     "requests during the outage")
    deployment = await deploy("redis_restart")
    api = deployment.api()
    api.start()
    await api.wait_ready()
    statuses: Counter[str] = Counter()
    redis = Redis.from_url(deployment.env()["REDIS_URL"])
    try:
        async with deployment.client(api) as http:
            async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
                response = await http.post(path, json=body)
                statuses[str(response.status_code)] += 1
                assert response.status_code == 200, response.text[:300]
                return dict(response.json())

            for i in range(TEXTS // 2):
                await post("/v1/context/text", {"content": email_text(i), "context": "Email"})
            await post("/v1/objects/company/records/batch", {"records": [
                {"attributes": {"name": f"Queued {i}", "domains": [f"rq{i}.com"]}} for i in range(RECORDS)]})
            await post("/v1/context/list/jobs", {"query": "companies", "object_type": "company"})
            queued_before = int(redis.zcard("arq:queue"))

            await services.redis_stop()
            for i in range(TEXTS // 2, TEXTS):  # while Redis is down: the nudge is lost, the row is not
                await post("/v1/context/text", {"content": email_text(i), "context": "Email"})
            await post("/v1/context/list/jobs", {"query": "people at techflow", "object_type": "contact"})
            await services.restart_missing()
            keys_after_restart = int(redis.dbsize())

            worker = deployment.worker()
            worker.start()
            waited = await wait_until(lambda: _all_done(deployment), within=DEADLINE_S, every=0.5,
                                      what="every queued job to complete after the Redis restart",
                                      detail=worker.tail)
            worker.kill()
    finally:
        redis.close()
    findings = await context_invariants(deployment)
    figures.update(queued_before=queued_before, redis_keys_after_restart=keys_after_restart,
                   artifacts=TEXTS, list_jobs=LISTS, outbox_rows=RECORDS, api_statuses=dict(statuses),
                   all_done_s=round(waited, 1), **{k: v for k, v in findings.items() if k.startswith("duplicate")})
    assert queued_before > 0 and keys_after_restart == 0, "the restart emptied the queue"
    assert set(statuses) == {"200"}
    assert findings["duplicate_people_by_email"] == findings["duplicate_companies_by_domain"] == 0
    assert findings["artifacts_with_wrong_insight_count"] == 0


async def _all_done(deployment: Deployment) -> bool:
    artifacts = await deployment.scalar("SELECT count(*) FROM artifacts WHERE status = 'completed'")
    lists = await deployment.scalar("SELECT count(*) FROM ai_list_jobs WHERE status = 'completed'")
    return bool(artifacts == TEXTS and lists == LISTS and await deployment.search_pending() == 0)
