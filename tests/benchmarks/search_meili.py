"""Meilisearch's own account of ``bench_search``'s work, read from its ``/tasks`` and
``/indexes/<uid>/stats``: how long its tasks took, how long they queued, and what the index holds."""

from __future__ import annotations

import re
from typing import Any

import httpx
from workload_data import meili_headers, percentiles


def meili_tasks_seconds(env: dict[str, str], uid: str, since_uid: int) -> dict[str, Any]:
    """Sum of Meilisearch's own durations of the index's tasks after ``since_uid``."""
    url = env.get("MEILI_URL", "http://127.0.0.1:7700").rstrip("/")
    total = 0.0
    count = 0
    documents = 0
    with httpx.Client(base_url=url, headers=meili_headers(env), timeout=30) as client:
        cursor: int | None = None
        while True:
            params: dict[str, Any] = {"indexUids": uid, "limit": 1000}
            if cursor is not None:
                params["from"] = cursor
            page = client.get("/tasks", params=params).json()
            for task in page.get("results", []):
                if task["uid"] <= since_uid:
                    continue
                count += 1
                total += iso_duration(task.get("duration") or "PT0S")
                documents += int((task.get("details") or {}).get("indexedDocuments") or 0)
            cursor = page.get("next")
            if cursor is None:
                break
    return {"tasks": count, "seconds": round(total, 1), "indexed_documents": documents}


def iso_duration(text: str) -> float:
    match = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?", text)
    if not match:
        return 0.0
    hours, minutes, seconds = match.groups()
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)


def last_task_uid(env: dict[str, str]) -> int:
    url = env.get("MEILI_URL", "http://127.0.0.1:7700").rstrip("/")
    with httpx.Client(base_url=url, headers=meili_headers(env), timeout=30) as client:
        results = client.get("/tasks", params={"limit": 1}).json().get("results", [])
    return int(results[0]["uid"]) if results else -1


def index_stats(env: dict[str, str], uid: str) -> dict[str, Any]:
    url = env.get("MEILI_URL", "http://127.0.0.1:7700").rstrip("/")
    with httpx.Client(base_url=url, headers=meili_headers(env), timeout=30) as client:
        reply = client.get(f"/indexes/{uid}/stats")
        return dict(reply.json()) if reply.status_code == 200 else {}


def _stamp(text: str | None) -> float | None:
    if not text:
        return None
    from datetime import datetime

    head, _, frac = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(head + "+00:00").timestamp() + float(f"0.{frac or 0}")


def meili_tasks(env: dict[str, str], uid: str, since_uid: int) -> dict[str, Any]:
    """Meilisearch's document tasks of ``uid`` enqueued after ``since_uid``: time waiting in its
    queue (one queue for every index of the instance) and running; tasks of other indexes that
    ran meanwhile are counted (this Meilisearch may be shared)."""
    base = env.get("MEILI_URL", "http://127.0.0.1:7700").rstrip("/")
    ours_wait, ours_run, others_run = [], [], []
    with httpx.Client(base_url=base, headers=meili_headers(env), timeout=30) as client:
        cursor: int | None = None
        while True:
            params: dict[str, Any] = {"limit": 1000}
            if cursor is not None:
                params["from"] = cursor
            page = client.get("/tasks", params=params).json()
            results = page.get("results", [])
            for task in results:
                if task["uid"] <= since_uid:
                    continue
                started, enqueued, finished = (_stamp(task.get(k)) for k in ("startedAt", "enqueuedAt", "finishedAt"))
                if started is None or finished is None or enqueued is None:
                    continue
                if task.get("indexUid") == uid and task["type"] == "documentAdditionOrUpdate":
                    ours_wait.append((started - enqueued) * 1000)
                    ours_run.append((finished - started) * 1000)
                elif task.get("indexUid") != uid:
                    others_run.append((finished - started) * 1000)
            cursor = page.get("next")
            if cursor is None or not results or results[-1]["uid"] <= since_uid:
                break
    return {"meili_queue_wait_ms": percentiles(ours_wait), "meili_task_run_ms": percentiles(ours_run),
            "other_index_tasks": len(others_run), "other_index_task_seconds": round(sum(others_run) / 1000, 1)}
