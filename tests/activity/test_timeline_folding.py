"""The timeline's pure rules, without I/O: burst folding and note redaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tessera.timeline.aggregate import WINDOW_SECONDS, fold_bursts
from tessera.timeline.repository import TimelineEvent
from tessera.timeline.service import redact_notes
from tessera.wire import JsonObject

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _event(event_id: int, seconds: float, payload: JsonObject, *, event_type: str = "updated",
           resource_type: str = "entity", resource_id: int = 7, actor_id: str = "k1") -> TimelineEvent:
    return TimelineEvent(id=event_id, resource_type=resource_type, resource_id=resource_id, event_type=event_type,
                         payload=payload, actor="developer_api", actor_id=actor_id,
                         created_at=T0 + timedelta(seconds=seconds))


def _change(name: str, old: str, new: str) -> JsonObject:
    return {"field_name": name, "old_value": old, "new_value": new}


def test_a_burst_folds_into_its_newest_event_with_the_oldest_old_and_newest_new_values() -> None:
    events = [  # newest first
        _event(3, 20, {"entity": {"name": "c"}, "field_changes": [_change("title", "b", "c")]}),
        _event(2, 10, {"entity": {"name": "b"}, "field_changes": [_change("title", "a", "b"),
                                                                  _change("city", "x", "y")]}),
        _event(1, 0, {"entity": {"name": "a"}, "field_changes": [_change("city", "y", "x")]}),
    ]
    [folded] = fold_bursts(events)
    assert folded.id == 3 and folded.is_aggregated and folded.children == tuple(events)
    assert folded.payload == {"entity": {"name": "c"}, "field_changes": [_change("title", "a", "c")]}
    assert events[1].payload["field_changes"] == [_change("title", "a", "b"), _change("city", "x", "y")]


def test_folding_stops_at_another_actor_resource_kind_or_a_gap_beyond_the_window() -> None:
    gap = WINDOW_SECONDS + 1
    events = [
        _event(5, 3 * gap, {"field_changes": []}),
        _event(4, 2 * gap, {"field_changes": []}),
        _event(3, 2 * gap - 1, {"field_changes": []}, actor_id="k2"),
        _event(2, 2 * gap - 2, {"field_changes": []}, event_type="created"),
        _event(1, 2 * gap - 3, {"field_changes": []}, resource_id=8),
    ]
    assert [(e.id, e.is_aggregated) for e in fold_bursts(events)] == [(5, False), (4, False), (3, False),
                                                                      (2, False), (1, False)]


def test_unreadable_notes_keep_id_and_title_only() -> None:
    note = _event(1, 0, {"note": {"id": "9", "title": "T", "content": "secret"},
                         "field_changes": [_change("content", "s", "secret"), _change("title", "S", "T")]},
                  resource_type="note", resource_id=9)
    other = _event(2, 0, {"note": {"id": "10", "content": "shown"}}, resource_type="note", resource_id=10)
    hidden, shown = redact_notes([note, other], readable={10})
    assert hidden.payload == {"note": {"id": "9", "title": "T"},
                              "field_changes": [{"field_name": "content"}, _change("title", "S", "T")]}
    assert shown is other
    assert note.payload["note"] == {"id": "9", "title": "T", "content": "secret"}
