"""What a compounding job's work gets (``RunContext``) and gives back (``Outcome``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tessera.changes import Changes
from tessera.db.tenant import Tenant
from tessera.settings import Settings
from workers.memory.embedding import Embedder


@dataclass(frozen=True, slots=True)
class RunContext:
    """One run's transaction (``tenant``, ``changes``), settings, clock and embedder."""

    tenant: Tenant
    changes: Changes
    settings: Settings
    now: datetime
    job_id: int
    embedder: Embedder | None = None

    def model_id(self) -> str:
        """The embedder's model id ('' without an embedder: no stored vector is then used)."""
        return self.embedder.model_id if self.embedder is not None else ""


@dataclass(slots=True)
class Outcome:
    """The spec's counters of a run, and what it found (``result``, beyond the spec)."""

    insights_scanned: int = 0
    insights_affected: int = 0
    candidates_created: int = 0
    errors: int = 0
    result: dict[str, Any] = field(default_factory=dict)


Work = Callable[[RunContext], Any]
