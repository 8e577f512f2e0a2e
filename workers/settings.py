"""arq ``WorkerSettings``: declarative; the Redis address and the jobs come from here."""

from __future__ import annotations

from typing import Any, ClassVar

from arq.connections import RedisSettings
from arq.cron import cron

from tessera.settings import Settings
from workers import lifecycle


class WorkerSettings:
    functions: ClassVar[list[Any]] = []
    cron_jobs: ClassVar[list[Any]] = [cron(lifecycle.purge_expired_idempotency_keys, minute=set(range(0, 60, 10)),
                                           run_at_startup=True)]
    on_startup = lifecycle.startup
    on_shutdown = lifecycle.shutdown
    redis_settings = RedisSettings.from_dsn(Settings().redis_url)
    max_jobs = 20
    job_timeout = 600
    keep_result = 60
    health_check_interval = 10
