"""The change stream's pure rules: which types a key reads, cursors, the object an event concerns."""

from __future__ import annotations

import pytest

from tessera.changes import EventRows, event_object
from tessera.errors import BadRequest, Gone
from tessera.events.repository import Head
from tessera.events.service import check_cursor, parse_cursor, readable_types


def test_readable_types_follow_the_webhook_scopes() -> None:
    assert readable_types(frozenset()) == ()
    assert readable_types(frozenset({"task.read"})) == ("task.created", "task.updated", "task.archived")
    records = readable_types(frozenset({"record.read"}))
    assert {t.split(".")[0] for t in records} == {"record", "list_entry"}
    assert {t.split(".")[0] for t in readable_types(frozenset({"object.read"}))} == {"object", "attribute"}


@pytest.mark.parametrize("raw", ["abc", "-1", "1.5", " 1", "1" * 19, "0x10"])
def test_malformed_cursors_are_refused(raw: str) -> None:
    with pytest.raises(BadRequest):
        parse_cursor(raw)


def test_cursor_bounds() -> None:
    assert parse_cursor(None) is None and parse_cursor("") is None and parse_cursor("42") == 42
    head = Head(last=10, purged_through=4)
    for fine in (4, 5, 10):
        check_cursor(fine, head)
    with pytest.raises(BadRequest):
        check_cursor(11, head)
    with pytest.raises(Gone):
        check_cursor(3, head)


def test_the_object_an_event_concerns() -> None:
    assert event_object("record.created", {"id": "1"}, {"object_slug": "person"}) == "person"
    assert event_object("object.updated", {"slug": "deal"}, None) == "deal"
    assert event_object("attribute.created", {"object_slug": "company"}, None) == "company"
    assert event_object("task.created", {"id": "1"}, None) is None


def test_events_are_kept_for_the_stream_without_webhooks() -> None:
    rows = EventRows()
    rows.webhook("task.created", "task", 7, {"id": "7"}, deliver=False)
    assert rows.ev_type == ["task.created"] and rows.ob_topic == [] and bool(rows)
    rows.webhook("task.updated", "task", 7, {"id": "7"})
    assert rows.ev_type == ["task.created", "task.updated"] and rows.ob_topic == ["webhook"]
