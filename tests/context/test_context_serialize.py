"""How artifacts and AI list jobs are shown, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime

from tessera.context.repository import Artifact, ListJob
from tessera.context.serialize import artifact_to_json, list_job_created, list_job_reply
from tessera.wire import JsonObject

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ENTITIES: JsonObject = {"entities": [{"id": "5", "name": "Alpha Pay", "attributes": {"employee_count": 120}}]}


def test_an_artifact_shows_its_result_error_and_completion_once_there_are_any() -> None:
    pending = Artifact(id=3, status="pending", result=None, error=None, created_at=T0, completed_at=None)
    assert artifact_to_json(pending) == {"operation_id": 3, "status": "pending", "created_at": "2026-03-01T09:00:00Z"}
    done = Artifact(id=3, status="completed", result={"records": []}, error="", created_at=T0, completed_at=T0)
    assert list(artifact_to_json(done)) == ["operation_id", "status", "created_at", "result", "completed_at"]


def test_a_list_job_shows_attributes_as_asked_or_as_it_was_created() -> None:
    job = ListJob(id=8, status="completed", interpretation="fintech companies", result=ENTITIES, error=None,
                  include_attributes=True, created_at=T0)
    reply = list_job_reply(job, None)
    assert reply["message"] == {key: value for key, value in reply.items() if key != "message"}
    assert reply["entities"] == ENTITIES["entities"] and reply["count"] == 1
    assert reply["query_interpretation"] == "fintech companies"
    assert list_job_reply(job, False)["entities"] == [{"id": "5", "name": "Alpha Pay"}]
    failed = ListJob(id=8, status="failed", interpretation=None, result=None, error="no object",
                     include_attributes=False, created_at=T0)
    assert list_job_reply(failed, None)["message"] == {"job_id": "8", "status": "failed",
                                                       "created_at": "2026-03-01T09:00:00Z", "error": "no object"}
    assert list_job_created(8) == {"message": {"job_id": "8", "status": "pending"}, "job_id": "8",
                                   "status": "pending"}
