"""Webhooks: subscriptions, signed deliveries to a real loopback receiver, retries on an injected
clock, filters, SSRF refusals."""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from standardwebhooks.webhooks import Webhook

from tessera.webhooks.address import UnsafeTarget, parse_target, resolve_target, unsafe_reason
from tests.conftest import Workspace, WorkspaceFactory
from tests.receiver import running_receiver
from workers.webhook_delivery import RETRY_DELAYS, deliver_webhooks, dispatch_webhooks


async def _subscribe(ws: Workspace, url: str, **extra: Any) -> dict[str, Any]:
    response = await ws.post("/v1/webhooks", {"url": url, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def settled_log(ws: Workspace, hook_id: str) -> list[dict[str, Any]]:
    """The delivery log once no delivery is still pending (the worker records results after the
    receiver has answered)."""
    import asyncio
    import time

    deadline = time.monotonic() + 10
    while True:
        log: list[dict[str, Any]] = (await ws.get(f"/v1/webhooks/{hook_id}/deliveries")).json()["data"]
        if log and all(d["status"] != "pending" for d in log):
            return log
        assert time.monotonic() < deadline, log
        await asyncio.sleep(0.05)


async def test_signed_delivery_of_record_events(ws: Workspace, worker: Any) -> None:
    async with running_receiver() as receiver:
        hook = await _subscribe(ws, receiver.url, events=["record.*"])
        assert hook["secret"].startswith("whsec_")
        assert "secret" not in (await ws.get(f"/v1/webhooks/{hook['id']}")).json()
        created = (await ws.post("/v1/objects/person", {"attributes": {"name": "Hook Person"}})).json()
        await ws.patch(f"/v1/records/{created['id']}", {"attributes": {"job_title": "CTO"}})
        await ws.post("/v1/tasks", {"title": "not subscribed"})
        await receiver.wait_for(2)
        verifier = Webhook(hook["secret"])
        events = []
        for item in receiver.requests:
            events.append(verifier.verify(item.body, item.headers))
            assert item.headers["webhook-id"].startswith("msg_")
        # Deliveries run in parallel: receivers get no ordering promise (the timestamp tells).
        by_type = {e["type"]: e for e in events}
        assert sorted(by_type) == ["record.created", "record.updated"]
        assert by_type["record.created"]["data"]["id"] == created["id"]
        assert by_type["record.created"]["data"]["attributes"]["name"] == "Hook Person"
        assert by_type["record.updated"]["data"]["field_changes"] == [
            {"field_name": "job_title", "old_value": None, "new_value": "CTO"}]
        assert all("state" not in e for e in events)
        forged = dict(receiver.requests[0].headers)
        forged["webhook-signature"] = "v1,AAAA"
        with pytest.raises(Exception):  # noqa: B017 - the library raises its own verification error
            verifier.verify(receiver.requests[0].body, forged)
        log = await settled_log(ws, hook["id"])
        assert {d["status"] for d in log} == {"succeeded"} and log[0]["last_status_code"] == 200
        assert log[0]["response_excerpt"] == "status 200" and log[0]["last_latency_ms"] >= 0


async def test_filters_and_object_scoping(ws: Workspace, worker: Any) -> None:
    await ws.post("/v1/objects/company/attributes", {"name": "Tier", "slug": "tier", "type": "select",
                                                     "options": {"select_options": [{"name": "Gold"},
                                                                                    {"name": "Free"}]}})
    async with running_receiver() as receiver:
        await _subscribe(ws, receiver.url, events=["record.created"], object_slugs=["company"],
                         filter={"tier": "Gold"})
        await ws.post("/v1/objects/company", {"attributes": {"name": "Free Co", "tier": "Free"}})
        await ws.post("/v1/objects/person", {"attributes": {"name": "Not a company"}})
        gold = (await ws.post("/v1/objects/company", {"attributes": {"name": "Gold Co", "tier": "Gold"}})).json()
        await receiver.wait_for(1)
        import asyncio

        await asyncio.sleep(1.5)
        assert len(receiver.requests) == 1
        assert orjson.loads(receiver.requests[0].body)["data"]["id"] == gold["id"]


@pytest.fixture
async def worker_engine(settings: Any) -> AsyncIterator[Any]:
    """A worker's engine: its statements span workspaces."""
    from tessera.db.engine import create_engine

    engine = create_engine(settings, pool_size=2)
    yield engine
    await engine.dispose()


async def test_retry_schedule_and_disable(ws: Workspace, settings: Any, worker_engine: Any) -> None:
    engine = worker_engine
    pepper = settings.key_pepper.get_secret_value().encode()
    allow = frozenset({"127.0.0.1"})
    async with running_receiver() as receiver:
        receiver.statuses = [500] * 20
        hook = await _subscribe(ws, receiver.url, events=["task.created"])
        # The session worker delivers too: take this webhook's deliveries off its hands by
        # scheduling from a clock far in the future that only this test uses.
        await ws.post("/v1/tasks", {"title": "retry me"})
        await dispatch_webhooks(engine)
        import asyncio
        import time

        import httpx
        from sqlalchemy import text

        # The write wakes the session worker, which makes the first attempt at once: let that
        # attempt end (its outcome recorded) before the count starts again.
        waited_until = time.monotonic() + 10
        while True:
            async with engine.connect() as conn:
                done = (await conn.execute(text(
                    "SELECT count(*) FROM webhook_deliveries WHERE workspace_id = :ws AND status = 'retrying'"),
                    {"ws": int(ws.id)})).scalar()
            if done:
                break
            assert time.monotonic() < waited_until, "the woken worker made no first attempt"
            await asyncio.sleep(0.05)
        start = datetime.now(UTC) + timedelta(days=365)
        async with engine.begin() as conn:

            # The session worker may have made an attempt before this; start the count again.
            await conn.execute(text("UPDATE webhook_deliveries SET next_attempt_at = :t, attempt = 0, "
                                    "status = 'pending' WHERE workspace_id = :ws"), {"t": start, "ws": int(ws.id)})
            await conn.execute(text("UPDATE webhooks SET failing_since = NULL WHERE workspace_id = :ws"),
                               {"ws": int(ws.id)})
        seen = len(receiver.requests)
        async with httpx.AsyncClient(follow_redirects=False) as http:
            now = start
            attempts = []
            # The far-future clock also makes other tests' leftover deliveries due, so drain every
            # due delivery and count this webhook's attempts (its receiver's requests).
            async def drain(at: datetime) -> None:
                while await deliver_webhooks(engine, http, pepper=pepper, allow_hosts=allow, now=at):
                    pass

            for delay in (0, *RETRY_DELAYS):
                now += timedelta(seconds=delay)
                if delay:
                    await drain(now - timedelta(seconds=1))
                    assert len(receiver.requests) - seen == len(attempts), "a retry ran before its time"
                await drain(now)
                attempts.append(now)
                assert len(receiver.requests) - seen == len(attempts)
            await drain(now + timedelta(days=2))
            assert len(receiver.requests) - seen == len(attempts)
        log = (await ws.get(f"/v1/webhooks/{hook['id']}/deliveries")).json()["data"]
        assert log[0]["status"] == "failed" and log[0]["attempt"] == 8 and log[0]["last_status_code"] == 500
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(attempts)]
        assert gaps == list(RETRY_DELAYS)
        assert (await ws.get(f"/v1/webhooks/{hook['id']}")).json()["failing_since"]
        # Still failing 5 days later: the subscription is disabled.
        await ws.post("/v1/webhooks/" + hook["id"] + "/test")
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE webhook_deliveries SET next_attempt_at = :t WHERE workspace_id = :ws "
                                    "AND status = 'pending'"), {"t": start + timedelta(days=6), "ws": int(ws.id)})
        async with httpx.AsyncClient(follow_redirects=False) as http:
            await deliver_webhooks(engine, http, pepper=pepper, allow_hosts=allow, now=start + timedelta(days=6))
        after = (await ws.get(f"/v1/webhooks/{hook['id']}")).json()
        assert after["status"] == "disabled" and "5 days" in after["disabled_reason"]


async def test_webhook_management(ws: Workspace, make_workspace: WorkspaceFactory) -> None:
    hook = await _subscribe(ws, "https://hooks.example.com/tessera", events=["record.*", "task.created"],
                            description="CRM sync")
    assert hook["events"] == ["record.*", "task.created"] and hook["status"] == "active"
    rotated = (await ws.post(f"/v1/webhooks/{hook['id']}/rotate-secret")).json()
    assert rotated["secret"] != hook["secret"]
    disabled = (await ws.patch(f"/v1/webhooks/{hook['id']}", {"enabled": False})).json()
    assert disabled["status"] == "disabled"
    assert (await ws.patch(f"/v1/webhooks/{hook['id']}", {"enabled": True})).json()["status"] == "active"
    assert [h["id"] for h in (await ws.get("/v1/webhooks")).json()["data"]] == [hook["id"]]
    other = await make_workspace()
    assert (await other.get(f"/v1/webhooks/{hook['id']}")).status_code == 404
    assert (await other.delete(f"/v1/webhooks/{hook['id']}")).status_code == 404
    assert (await ws.delete(f"/v1/webhooks/{hook['id']}")).status_code == 200
    assert (await ws.get(f"/v1/webhooks/{hook['id']}")).status_code == 404


@pytest.mark.parametrize("body", [
    {"url": "ftp://example.com/x"}, {"url": "http://user:pw@example.com/"}, {"url": "not a url"},
    {"url": "http://127.0.0.2:9/"}, {"url": "http://localhost/x"}, {"url": "http://[::1]/"},
    {"url": "http://169.254.169.254/latest/meta-data/"}, {"url": "http://10.1.2.3/"},
    {"url": "https://example.com", "events": ["record.exploded"]},
    {"url": "https://example.com", "object_slugs": ["nope"]},
    {"url": "https://example.com", "filter": {"name": "x"}},
    {"url": "https://example.com", "object_slugs": ["person"], "filter": {"nope": 1}},
])
async def test_refused_subscriptions(ws: Workspace, body: dict[str, Any]) -> None:
    assert (await ws.post("/v1/webhooks", body)).status_code == 400
    assert (await ws.get("/v1/webhooks")).json()["data"] == []


SSRF_URLS = [
    "http://127.0.0.1/", "http://localhost/", "http://2130706433/", "http://0x7f000001/", "http://0177.0.0.1/",
    "http://127.1/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/",
    "http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/", "http://10.0.0.1/",
    "http://192.168.1.1/", "http://172.16.0.1/", "http://100.64.0.1/", "http://0.0.0.0/", "http://224.0.0.1/",
    "http://[fe80::1]/", "http://[2002:7f00:1::]/", "http://0/", "http://[::]/",
]


@pytest.mark.parametrize("url", SSRF_URLS)
async def test_ssrf_forms_are_refused_at_delivery(url: str) -> None:
    with pytest.raises(UnsafeTarget):
        await resolve_target(url, frozenset())


@pytest.mark.parametrize("url", ["ftp://example.com/", "file:///etc/passwd", "gopher://x/", "http://u:p@ex.com/",
                                 "http:///nohost", "javascript:alert(1)"])
def test_non_http_or_credentialed_urls_are_refused(url: str) -> None:
    with pytest.raises(UnsafeTarget):
        parse_target(url)


def test_public_addresses_pass() -> None:
    assert unsafe_reason(ipaddress.ip_address("93.184.216.34")) is None
    assert unsafe_reason(ipaddress.ip_address("2606:2800:220:1:248:1893:25c8:1946")) is None


async def test_no_redirects_are_followed(ws: Workspace, worker: Any) -> None:
    async with running_receiver() as receiver:
        receiver.statuses = [302] + [200] * 5
        hook = await _subscribe(ws, receiver.url, events=["note.created"])
        await ws.post("/v1/notes", {"title": "redirect"})
        await receiver.wait_for(1)
        import asyncio

        await asyncio.sleep(1.0)
        assert len(receiver.requests) == 1
        log = await settled_log(ws, hook["id"])
        assert log[0]["status"] == "retrying" and log[0]["last_status_code"] == 302
