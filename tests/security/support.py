"""Helpers of the security tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn

from tests.conftest import Workspace
from tests.isolated import free_port


@asynccontextmanager
async def served(app: Any) -> AsyncIterator[str]:
    """``app`` under uvicorn on a free loopback port (requests really run side by side); its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the API did not start"
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def until_status(ws: Workspace, path: str, statuses: tuple[str, ...], within: float = 30) -> dict[str, Any]:
    """``GET path`` until its ``status`` is one of ``statuses``; the last body."""
    deadline = time.monotonic() + within
    while (body := (await ws.get(path)).json())["status"] not in statuses:
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.05)
    result: dict[str, Any] = body
    return result
