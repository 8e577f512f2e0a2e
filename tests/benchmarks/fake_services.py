"""The fake services of the write-path benchmarks, in one subprocess: a webhook receiver that
records each delivery, and a Meilisearch stand-in that accepts everything at once."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from harness import BENCH_DIR, REPO, BenchmarkError


def _fakes_app(out_path: str) -> Any:
    """Starlette app: ``/hook/...`` records each webhook delivery (arrival time, webhook-id,
    event type, event timestamp, record id) as a line of ``out_path``; every other path answers
    like a Meilisearch that accepts everything at once (tasks succeed immediately, searches find
    nothing). ``GET /_stats`` counts both."""
    import orjson
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    out = open(out_path, "a", buffering=1)  # noqa: SIM115 - open for the process's lifetime
    state = {"deliveries": 0, "documents": 0, "task": 0}

    async def hook(request: Request) -> Response:
        arrived = time.time()
        body = orjson.loads(await request.body())
        data = body.get("data") or {}
        out.write(f"{arrived:.6f}\t{request.headers.get('webhook-id', '')}\t{request.url.path}\t{body.get('type')}\t"
                  f"{body.get('timestamp')}\t{data.get('id', '')}\n")
        state["deliveries"] += 1
        return Response("ok")

    def task() -> JSONResponse:
        state["task"] += 1
        return JSONResponse({"taskUid": state["task"], "status": "enqueued"}, status_code=202)

    async def documents(request: Request) -> JSONResponse:
        if request.method == "POST" and request.url.path.endswith("/documents"):
            state["documents"] += len(orjson.loads(await request.body()))
        return task()

    async def get_task(request: Request) -> JSONResponse:
        return JSONResponse({"uid": int(request.path_params["uid"]), "status": "succeeded"})

    async def settings(request: Request) -> JSONResponse:
        return task() if request.method == "PATCH" else JSONResponse({})

    async def multi_search(request: Request) -> JSONResponse:
        queries = orjson.loads(await request.body()).get("queries", [])
        return JSONResponse({"results": [{"hits": [], "indexUid": q.get("indexUid")} for q in queries]})

    async def search(request: Request) -> JSONResponse:
        return JSONResponse({"hits": []})

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "available"})

    async def stats(request: Request) -> JSONResponse:
        return JSONResponse({"deliveries": state["deliveries"], "documents": state["documents"]})

    async def index_op(request: Request) -> JSONResponse:
        return task()

    return Starlette(routes=[
        Route("/hook/{name}", hook, methods=["POST"]),
        Route("/_stats", stats),
        Route("/health", health),
        Route("/tasks/{uid:int}", get_task),
        Route("/indexes", index_op, methods=["POST"]),
        Route("/indexes/{uid}", index_op, methods=["DELETE"]),
        Route("/indexes/{uid}/settings", settings, methods=["GET", "PATCH"]),
        Route("/indexes/{uid}/documents", documents, methods=["POST"]),
        Route("/indexes/{uid}/documents/{op}", documents, methods=["POST"]),
        Route("/indexes/{uid}/search", search, methods=["POST"]),
        Route("/indexes/{uid}/stats", stats),
        Route("/multi-search", multi_search, methods=["POST"]),
    ])


def fakes_main(port: int, out_path: str) -> None:
    import uvicorn

    uvicorn.run(_fakes_app(out_path), host="127.0.0.1", port=port, log_level="warning", access_log=False,
                loop="uvloop", http="httptools", lifespan="off")


@contextmanager
def run_fakes(port: int, out_path: str) -> Iterator[str]:
    """The fake services in a subprocess on ``port``; yields their base URL once they answer."""
    code = (f"import sys; sys.path.insert(0, {str(BENCH_DIR)!r}); import fake_services; "
            f"fake_services.fakes_main({port}, {out_path!r})")
    process = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(base + "/_stats", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise BenchmarkError("the fake webhook receiver / Meilisearch did not start")
            time.sleep(0.1)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
