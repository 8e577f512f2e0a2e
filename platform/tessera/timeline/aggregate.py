"""Fold bursts of updates into one timeline event (pure).

Rule: consecutive events of one page (newest first) are folded together when each is an
``updated`` event of the same resource by the same actor and happened within
``WINDOW_SECONDS`` of the next newer one. The folded event keeps the newest event's id, time and
resource payload, lists every original event in ``children`` (newest first) and merges
``field_changes``: for each field, the oldest ``old_value`` and the newest ``new_value``.
Folding never crosses a page boundary, so a cursor walk still meets every event exactly once,
either on its own or as a child.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

WINDOW_SECONDS = 60.0


def _same_burst(newer: dict[str, Any], older: dict[str, Any], newer_at: datetime, older_at: datetime) -> bool:
    return (newer["event_type"] == older["event_type"] == "updated"
            and newer["resource_type"] == older["resource_type"]
            and newer["resource_id"] == older["resource_id"]
            and newer["created_by_id"] == older["created_by_id"]
            and (newer_at - older_at).total_seconds() <= WINDOW_SECONDS)


def _merge(group: list[dict[str, Any]]) -> dict[str, Any]:
    newest = group[0]
    merged: dict[str, dict[str, Any]] = {}
    for event in reversed(group):  # oldest first
        for change in event["event_payload"].get("field_changes", []):
            name = change["field_name"]
            if name in merged:
                merged[name]["new_value"] = change.get("new_value")
            else:
                merged[name] = dict(change)
    payload = {k: v for k, v in newest["event_payload"].items() if k != "field_changes"}
    payload["field_changes"] = [c for c in merged.values() if c.get("old_value") != c.get("new_value")]
    return {**newest, "event_payload": payload, "is_aggregated": True, "children": group}


def fold_bursts(events: list[dict[str, Any]], timestamps: list[datetime]) -> list[dict[str, Any]]:
    """Events (newest first, as the API shows them) with bursts folded."""
    out: list[dict[str, Any]] = []
    group: list[dict[str, Any]] = []
    group_at: datetime | None = None
    for event, at in zip(events, timestamps, strict=True):
        if group and group_at is not None and _same_burst(group[-1], event, group_at, at):
            group.append(event)
        else:
            if group:
                out.append(_merge(group) if len(group) > 1 else group[0])
            group = [event]
        group_at = at
    if group:
        out.append(_merge(group) if len(group) > 1 else group[0])
    return out
