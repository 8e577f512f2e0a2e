"""Who is calling: the authenticated API key, its workspace and its scopes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Principal:
    api_key_id: int
    workspace_id: int
    name: str
    prefix: str
    scopes: frozenset[str]
    rate_limit_per_minute: int | None
    expires_at: datetime | None

    @property
    def actor(self) -> str:
        """``created_by`` as timeline events and tasks report it."""
        return "developer_api"
