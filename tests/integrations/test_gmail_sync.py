"""Gmail messages into context artifacts, end to end: a real worker syncs from the fake Gmail API."""

from __future__ import annotations

import time
from typing import Any

import asyncpg

from tests.conftest import Workspace
from tests.fake_google import FakeGoogle, Message
from tests.integrations.helpers import connect, connection, wait_synced


def _message(n: int, account: str, *, minutes_ago: float) -> Message:
    return Message(id=f"{account.split('@')[0]}-{n}", internal_ms=int((time.time() - minutes_ago * 60) * 1000),
                   subject=f"Renewal question {n}", sender="Dana Reyes <dana@northwind.example>", to=account,
                   body=f"Hi, this is message {n}. Northwind is reviewing the renewal; can you send pricing?",
                   history_id=str(100 + n))


async def _artifacts(db: asyncpg.Connection, ws: Workspace, account: str) -> list[Any]:
    return list(await db.fetch(
        "SELECT m.message_id, a.content, a.context FROM integration_messages m JOIN artifacts a "
        "ON a.workspace_id = m.workspace_id AND a.id = m.artifact_id WHERE m.workspace_id = $1 AND m.source = $2 "
        "ORDER BY m.message_id", int(ws.id), f"google:{account}"))


async def _sync(ws: Workspace, connection_id: int) -> dict[str, Any]:
    answer = await ws.post(f"/v1/integrations/connections/{connection_id}/sync")
    assert answer.status_code == 200, answer.text
    return await wait_synced(ws, connection_id)


async def test_gmail_sync_end_to_end(ws: Workspace, fake_google: FakeGoogle, worker: Any,
                                     db: asyncpg.Connection) -> None:
    account = "sync@mail.test"
    for n in range(3):
        fake_google.add_message(account, _message(n, account, minutes_ago=30 - n))
    fake_google.add_message(account, _message(9, account, minutes_ago=60 * 24 * 90))  # before the first window
    connection_id = await connect(ws, fake_google, account)
    synced = await wait_synced(ws, connection_id)  # connecting queues the first sync
    assert synced["sync"]["status"] == "completed", synced
    assert synced["sync"]["messages_synced"] == 3 and synced["sync"]["last_run"]["messages_imported"] == 3
    rows = await _artifacts(db, ws, account)
    assert [r["message_id"] for r in rows] == ["sync-0", "sync-1", "sync-2"]
    first = rows[0]["content"]
    assert first.startswith("Subject: Renewal question 0\nFrom: Dana Reyes <dana@northwind.example>\n"
                            "To: sync@mail.test")
    assert "Northwind is reviewing the renewal" in first and "<p>" not in first
    assert account in rows[0]["context"]

    # a new message: the next run adds exactly one
    fake_google.add_message(account, _message(3, account, minutes_ago=1))
    synced = await _sync(ws, connection_id)
    assert synced["sync"]["messages_synced"] == 4 and synced["sync"]["last_run"]["messages_imported"] == 1
    assert len(await _artifacts(db, ws, account)) == 4
    # nothing new: nothing added
    synced = await _sync(ws, connection_id)
    assert synced["sync"]["last_run"]["messages_imported"] == 0 and len(await _artifacts(db, ws, account)) == 4

    # the access token expires: a 401 from Gmail triggers a refresh, and the run goes on
    refreshes = fake_google.grant_types(account).count("refresh_token")
    fake_google.expire_access_tokens(account)
    fake_google.add_message(account, _message(4, account, minutes_ago=0.5))
    synced = await _sync(ws, connection_id)
    assert synced["sync"]["status"] == "completed" and synced["status"] == "active"
    assert fake_google.grant_types(account).count("refresh_token") == refreshes + 1
    assert len(await _artifacts(db, ws, account)) == 5
    # a token about to expire is refreshed before use (no 401 needed)
    await db.execute("UPDATE integration_connections SET token_expires_at = now() + interval '10 seconds' "
                     "WHERE workspace_id = $1 AND id = $2", int(ws.id), connection_id)
    calls = len(fake_google.gmail_calls)
    await _sync(ws, connection_id)
    assert fake_google.grant_types(account).count("refresh_token") == refreshes + 2
    assert all(status == 200 for _, _, status in fake_google.gmail_calls[calls:])

    # disconnect: revoked at Google, deleted here; the artifacts stay
    gone = await ws.delete(f"/v1/integrations/connections/{connection_id}")
    assert gone.status_code == 200 and gone.content == b""
    assert account in fake_google.revoked
    assert await connection(ws, connection_id) is None
    assert (await ws.delete(f"/v1/integrations/connections/{connection_id}")).status_code == 404
    assert len(await _artifacts(db, ws, account)) == 5

    # connecting the same account again imports nothing twice
    again = await connect(ws, fake_google, account)
    synced = await wait_synced(ws, again)
    assert synced["sync"]["last_run"]["messages_imported"] == 0 and len(await _artifacts(db, ws, account)) == 5


async def test_a_crashed_run_resumes_from_its_checkpoint(ws: Workspace, fake_google: FakeGoogle, worker: Any,
                                                         db: asyncpg.Connection) -> None:
    from workers.jobs import requeue_stranded

    account = "resume@mail.test"
    connection_id = await connect(ws, fake_google, account)
    await wait_synced(ws, connection_id)  # an empty mailbox: a run with nothing
    for n in range(5):
        fake_google.add_message(account, _message(n, account, minutes_ago=10 - n))
    # as a worker that died after checkpointing the first page (of two messages) leaves it
    watermark = int((time.time() - 3600) * 1000)
    await db.execute("UPDATE integration_syncs SET status = 'processing', page_token = '2', run_after_ms = $3, "
                     "run_seen = 2, attempts = 1 WHERE workspace_id = $1 AND id = $2", int(ws.id), connection_id,
                     watermark)
    calls = len(fake_google.gmail_calls)
    assert await requeue_stranded(worker.ctx) >= 1  # nobody holds its lease: queued again
    synced = await wait_synced(ws, connection_id)
    lists = [q for path, q, _ in fake_google.gmail_calls[calls:] if path == "/gmail/v1/users/me/messages"]
    assert lists[0].get("pageToken") == "2"  # it went on from the checkpoint
    assert synced["sync"]["last_run"]["messages_seen"] == 5
    assert len(await _artifacts(db, ws, account)) == 3  # the three older ones, on the second page
    # the next run lists after the newest message seen; the two newest (page one) come then, and once
    synced = await _sync(ws, connection_id)
    ids = [r["message_id"] for r in await _artifacts(db, ws, account)]
    assert sorted(ids) == [f"resume-{n}" for n in range(5)] and len(set(ids)) == 5


async def test_a_refused_refresh_marks_the_connection(ws: Workspace, fake_google: FakeGoogle, worker: Any) -> None:
    account = "revoked@mail.test"
    connection_id = await connect(ws, fake_google, account)
    await wait_synced(ws, connection_id)
    refresh = next(t for t, g in fake_google.grants.items() if g.account == account)
    assert fake_google.revoke({"token": refresh})[0] == 200  # the user revoked access at Google
    synced = await _sync(ws, connection_id)
    assert synced["sync"]["status"] == "failed" and "connect the account again" in synced["sync"]["error"]
    assert synced["status"] == "error" and "connect the account again" in synced["error"]
    # connecting again repairs it
    assert await connect(ws, fake_google, account) == connection_id
    found = await connection(ws, connection_id)
    assert found is not None and found["status"] == "active"


async def test_only_gmail_syncs(ws: Workspace, fake_google: FakeGoogle) -> None:
    from tests.integrations.helpers import authorize, callback, start

    started = await start(ws, "calendar", "google")
    assert (await callback(ws, await authorize(started["auth_url"], "cal@mail.test"))).status_code == 200
    status = await ws.get(f"/v1/integrations/connect/{started['connect_id']}/status")
    connection_id = status.json()["connection_id"]
    answer = await ws.post(f"/v1/integrations/connections/{connection_id}/sync")
    assert answer.status_code == 400 and "Gmail" in answer.json()["message"]
    found = await connection(ws, connection_id)
    assert found is not None and found["identifier"] == "cal@mail.test" and "sync" not in found


async def test_a_run_stops_at_its_budget_and_the_next_goes_on(ws: Workspace, fake_google: FakeGoogle, worker: Any,
                                                              db: asyncpg.Connection,
                                                              monkeypatch: Any) -> None:
    import dataclasses

    from workers.deps import DEPS_KEY

    account = "budget@mail.test"
    for n in range(5):
        fake_google.add_message(account, _message(n, account, minutes_ago=20 - n))
    current = worker.ctx[DEPS_KEY]
    small = current.settings.model_copy(update={"gmail_sync_max_messages_per_run": 2, "gmail_sync_page_size": 2})
    monkeypatch.setitem(worker.ctx, DEPS_KEY, dataclasses.replace(current, settings=small))
    connection_id = await connect(ws, fake_google, account)
    runs = [(await wait_synced(ws, connection_id))["sync"]]
    for _ in range(3):
        runs.append((await _sync(ws, connection_id))["sync"])
    assert [r["last_run"]["messages_imported"] for r in runs] == [2, 2, 1, 0]
    assert [r["last_run"]["messages_seen"] for r in runs][:3] == [2, 2, 1]  # the 4th sees the overlap minute
    assert [r["messages_synced"] for r in runs] == [2, 4, 5, 5]
    assert sorted(r["message_id"] for r in await _artifacts(db, ws, account)) == [f"budget-{n}" for n in range(5)]
