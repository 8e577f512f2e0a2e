"""At-least-once webhook delivery across a worker killed with SIGKILL mid-delivery."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import orjson

from tessera.settings import Settings
from tests.isolated import IsolatedStack
from tests.receiver import running_receiver


async def test_kill_9_during_delivery_loses_nothing(settings: Settings) -> None:
    async with IsolatedStack(settings, "hooks_kill", redis_db=6, meili=False,
                             overrides={"webhook_allow_hosts": "127.0.0.1"}) as stack, \
            running_receiver() as receiver:
        receiver.delay_s = 0.5
        assert (await stack.call("POST", "/v1/webhooks", {"url": receiver.url, "events": ["task.created"]})
                ).status_code == 200
        for i in range(30):
            assert (await stack.call("POST", "/v1/tasks", {"title": f"t{i}"})).status_code == 200
        worker = stack.worker()
        worker.start()
        try:
            await receiver.wait_for(1, within=30)
            worker.kill()  # SIGKILL while deliveries are in flight
            worker.start()
            deadline = time.monotonic() + 90
            while await stack.scalar("SELECT count(*) FROM webhook_deliveries WHERE status <> 'succeeded'") or \
                    await stack.scalar("SELECT count(*) FROM webhook_deliveries") < 30:
                assert time.monotonic() < deadline, worker.tail()
                await asyncio.sleep(0.2)
        finally:
            worker.kill()
        seen = Counter(item.headers["webhook-id"] for item in receiver.requests)
        assert len(seen) == 30, "every event reached the receiver"
        titles = {orjson.loads(item.body)["data"]["title"] for item in receiver.requests}
        assert titles == {f"t{i}" for i in range(30)}
        duplicates = sum(count - 1 for count in seen.values())
        print(f"delivered 30 events, {duplicates} redelivered after the kill (receivers dedupe by webhook-id)")
