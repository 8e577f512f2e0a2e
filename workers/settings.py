"""arq worker settings, built from Tessera's settings when the worker starts (no import-time I/O)."""

from __future__ import annotations

from typing import Any

from arq import func
from arq.connections import RedisSettings
from arq.cron import cron

from tessera.settings import Settings
from workers import context_jobs, jobs, lifecycle, list_jobs, search_indexer, transfer_jobs, webhook_delivery
from workers.memory import indexer

EVERY_SECOND = set(range(60))


def build_worker_settings(settings: Settings) -> dict[str, Any]:
    """The keyword arguments of ``arq.Worker`` for this deployment."""
    return {
        "functions": [
            func(search_indexer.relay_search, keep_result=0, max_tries=1),
            func(indexer.relay_memory, keep_result=0, max_tries=1),
            func(webhook_delivery.webhook_job, keep_result=0, max_tries=1),
            func(context_jobs.process_artifact, keep_result=0, max_tries=3),
            func(list_jobs.process_list_job, keep_result=0, max_tries=3),
            func(transfer_jobs.process_import, keep_result=0, max_tries=3, timeout=6 * 3600),
            func(transfer_jobs.process_export, keep_result=0, max_tries=3, timeout=6 * 3600),
        ],
        "cron_jobs": [
            cron(search_indexer.relay_search, name="relay_search_sweep", second=EVERY_SECOND, keep_result=0,
                 run_at_startup=True, unique=True),
            cron(indexer.relay_memory, name="relay_memory_sweep", second=EVERY_SECOND, keep_result=0,
                 run_at_startup=True, unique=True),
            cron(webhook_delivery.webhook_job, name="webhook_sweep", second=EVERY_SECOND, keep_result=0,
                 run_at_startup=True, unique=True),
            cron(jobs.requeue_stranded, name="requeue_stranded", second={0, 15, 30, 45}, keep_result=0,
                 run_at_startup=True, unique=True),
            cron(lifecycle.purge_expired, name="purge_expired", minute={0, 10, 20, 30, 40, 50},
                 run_at_startup=True, keep_result=0),
            cron(lifecycle.analyze_after_bulk_writes, name="analyze_after_bulk_writes", second={5, 35},
                 keep_result=0, unique=True),
        ],
        "on_startup": lifecycle.startup,
        "on_shutdown": lifecycle.shutdown,
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "max_jobs": 20,
        "job_timeout": 600,
        # Nothing reads job results (state lives in PostgreSQL), and a kept result of a failed job
        # would block re-queueing its job id (e.g. every API nudge of relay_search) until it expired.
        "keep_result": 0,
        "health_check_interval": 10,
        "ctx": {"settings": settings},
    }
