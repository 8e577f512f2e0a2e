"""How tasks and notes are shown, without I/O: responses leave out unset fields in the spec's
order, and an update reports exactly the fields whose shown value changed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from tessera.notes.repository import Note
from tessera.notes.serialize import field_changes as note_changes
from tessera.notes.serialize import note_to_json
from tessera.tasks.repository import Task
from tessera.tasks.serialize import field_changes as task_changes
from tessera.tasks.serialize import task_page_to_json, task_to_json

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
TASK = Task(id=11, title="Call", description="", priority="unspecified", due_date=None, is_completed=False,
            completed_at=None, assignee_ids=("u1",), entity_ids=(7, 9), created_by="developer_api",
            created_by_id="k1", created_at=T0, updated_at=T0, archived_at=None)
NOTE = Note(id=12, title="Met", content="Went well", entity_id=None, created_by="developer_api", created_by_id="k1",
            created_at=T0, updated_at=T0, archived_at=None)


def test_a_task_leaves_out_its_unset_dates_and_shows_ids_as_text() -> None:
    shown = task_to_json(replace(TASK, due_date=T0))
    assert list(shown) == ["id", "title", "description", "priority", "due_date", "is_completed", "assignee_ids",
                           "entity_ids", "created_by", "created_by_id", "created_at", "updated_at"]
    assert shown["id"] == "11" and shown["entity_ids"] == ["7", "9"] and shown["due_date"] == "2026-03-01T09:00:00Z"


def test_a_task_update_reports_the_fields_whose_shown_value_changed() -> None:
    after = replace(TASK, is_completed=True, completed_at=T0, entity_ids=(9,), updated_at=datetime.now(UTC))
    assert task_changes(TASK, after) == [
        {"field_name": "is_completed", "old_value": False, "new_value": True},
        {"field_name": "entity_ids", "old_value": ["7", "9"], "new_value": ["9"]},
    ]
    assert task_changes(TASK, replace(TASK, updated_at=datetime.now(UTC))) == []


def test_a_task_page_offers_the_next_offset_only_when_there_are_more() -> None:
    more = task_page_to_json([TASK, replace(TASK, id=10)], 5, limit=1, offset=3)
    assert [t["id"] for t in more["data"]] == ["11"] and more["has_more"] and more["next_offset"] == 4
    last = task_page_to_json([TASK], 5, limit=1, offset=4)
    assert last == {"data": [task_to_json(TASK)], "has_more": False, "total": 5}


def test_a_note_shows_its_record_only_when_it_has_one() -> None:
    assert "entity_id" not in note_to_json(NOTE)
    assert note_to_json(replace(NOTE, entity_id=7))["entity_id"] == "7"
    assert note_changes(NOTE, replace(NOTE, entity_id=7, content="Went well")) == [
        {"field_name": "entity_id", "old_value": None, "new_value": "7"}]
