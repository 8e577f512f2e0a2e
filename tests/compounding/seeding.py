"""A workspace fed through the real pipeline (``POST /v1/context/text`` and the worker): 12
companies raise the same security objection (4 of them twice, in near-identical words), 8 of
those were promised the SOC 2 report, and 14 unrelated artifacts about other companies."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg

from tests.conftest import Workspace

SECURITY = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne", "Wonka", "Tyrell",
            "Cyberdyne", "Soylent"]
PROMISED = SECURITY[:8]
TWICE = SECURITY[:4]
UNRELATED = [
    "Pied Piper Inc (piedpiper.com) loves the new dashboards.",
    "Dunder Mifflin Inc (dundermifflin.com) wants to add 20 seats next quarter.",
    "Sterling Cooper (sterlingcooper.com) has a budget of $50,000 for this year.",
    "Bluth Company (bluth.com) is frustrated with the mobile app.",
    "Prestige Worldwide (prestigeworldwide.com) signed the contract yesterday.",
    "Oceanic Airlines (oceanic.com) is at risk of churning after the outage.",
    "Gringotts Bank (gringotts.com) asked for a formal quote for 40 seats.",
    "Monsters Inc (monstersinc.com) is happy with the onboarding.",
    "Nakatomi Trading (nakatomi.com) put the rollout on hold.",
    "Massive Dynamic (massivedynamic.com) wants a demo of the reporting module.",
    "Virtucon (virtucon.com) says the pricing is too expensive.",
    "Omni Consumer Products (ocp.com) plans the go-live for March 3.",
    "Wernham Hogg (wernhamhogg.com) needs an on-premise option.",
    "Los Pollos Hermanos (lospollos.com) is evaluating tools for the kitchen team.",
]


def texts() -> list[str]:
    out = []
    for name in SECURITY:
        text = (f"Call notes with {name} Corp ({name.lower()}.com). {name} Corp raised concerns about the "
                "security review before signing.")
        if name in PROMISED:
            text += " We will send the SOC 2 report within a day."
        out.append(text)
    out += [f"{name} Corp ({name.lower()}.com) raised concerns about the security review before signing the "
            "contract." for name in TWICE]
    return out + UNRELATED


async def processed(ws: Workspace, artifact_id: int, within: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        body: dict[str, Any] = (await ws.get(f"/v1/context/artifacts/{artifact_id}")).json()
        if body["status"] in ("completed", "failed"):
            return body
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.1)


async def indexed(db: asyncpg.Connection, ws: Workspace, within: float = 90) -> None:
    """Wait until the memory relay has embedded every memory item of ``ws`` (insight vectors included)."""
    deadline = time.monotonic() + within
    while await db.fetchval("SELECT count(*) FROM memory_items WHERE workspace_id = $1 AND indexed_at IS NULL",
                            int(ws.id)):
        assert time.monotonic() < deadline, "the memory relay did not index the seeded artifacts"
        await asyncio.sleep(0.2)


async def seed(ws: Workspace, db: asyncpg.Connection) -> None:
    """Feed the 30 artifacts (one after the other: the order of creation is the test's) and wait
    for them and their vectors."""
    for text in texts():
        response = await ws.post("/v1/context/text", {"content": text})
        assert response.status_code == 200, response.text
        assert (await processed(ws, response.json()["artifact_id"]))["status"] == "completed"
    await indexed(db, ws)


async def run_job(ws: Workspace, job_type: str, *, dry_run: bool | None = None, within: float = 60
                  ) -> dict[str, Any]:
    """Trigger a job and wait for it to end; its last status."""
    body: dict[str, Any] = {"job_type": job_type, **({"dry_run": dry_run} if dry_run is not None else {})}
    response = await ws.post("/v1/compounding/trigger", body)
    assert response.status_code == 200, response.text
    return await finished(ws, response.json()["job_run_id"], within=within)


async def finished(ws: Workspace, run_id: str, *, within: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        status: dict[str, Any] = (await ws.get(f"/v1/compounding/jobs/{run_id}")).json()
        if status.get("status") in ("completed", "failed"):
            return status
        assert time.monotonic() < deadline, status
        await asyncio.sleep(0.1)
