"""CSV and JSON-lines imports through the API and the CLI."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import subprocess
import sys
import time
from typing import Any

import orjson
import pytest

from tests.conftest import Workspace

pytestmark = pytest.mark.usefixtures("worker")

CSV = """Full Name,Email,Title,Phone
Ada Lovelace,ada@example.com,Analyst,+44 20 7946 0958
Grace Hopper,grace@navy.mil,"Rear Admiral, ret.",
Bad Row,not-an-email,=cmd|' /C calc'!A0,
"Multi
Line",multi@example.com,"line one
line two",
"""
MAPPING = {"Full Name": "name", "Email": "email_addresses", "Title": "job_title", "Phone": "phone_numbers"}


async def upload(ws: Workspace, content: bytes, *, filename: str = "people.csv", **fields: str) -> Any:
    files = {"file": (filename, content, "text/csv")}
    return await ws.http.post("/api/developers/v1/objects/person/imports", files=files, data=fields,
                              headers=ws.headers())


async def finished(ws: Workspace, import_id: str, within: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        body: dict[str, Any] = (await ws.get(f"/v1/imports/{import_id}")).json()
        if body["status"] in ("completed", "failed"):
            return body
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.1)


async def test_csv_import_with_mapping_errors_and_rerun(ws: Workspace) -> None:
    response = await upload(ws, CSV.encode(), mapping=orjson.dumps(MAPPING).decode(),
                            matching_attribute="email_addresses")
    assert response.status_code == 200, response.text
    job = await finished(ws, response.json()["id"])
    assert job["status"] == "completed"
    assert (job["processed"], job["created"], job["updated"], job["failed"]) == (4, 3, 0, 1)
    errors = (await ws.get(f"/v1/imports/{job['id']}/errors")).json()["data"]
    assert errors == [{"row": 3, "column": "Email", "message": errors[0]["message"]}]
    report = (await ws.get(f"/v1/imports/{job['id']}/errors?format=csv")).text
    assert next(iter(csv.reader(io.StringIO(report)))) == ["row", "column", "message"]
    people = (await ws.post("/v1/objects/person/records", {"sort": {"attribute": "name"}})).json()["data"]
    assert [p["attributes"]["name"] for p in people] == ["Ada Lovelace", "Grace Hopper", "Multi Line"]
    assert people[0]["attributes"]["phone_numbers"] == ["+442079460958"]
    assert people[1]["attributes"]["job_title"] == "Rear Admiral, ret."
    assert people[2]["attributes"]["job_title"] == "line one\nline two"
    # The same file again: matched by email, nothing duplicated.
    again = await finished(ws, (await upload(ws, CSV.encode(), mapping=orjson.dumps(MAPPING).decode(),
                                             matching_attribute="email_addresses")).json()["id"])
    assert (again["created"], again["updated"], again["failed"]) == (0, 3, 1)
    assert (await ws.post("/v1/objects/person/records", {})).json()["total"] == 3


async def test_jsonl_import_and_default_mapping(ws: Workspace) -> None:
    lines = b"\n".join(orjson.dumps(r) for r in [
        {"name": "Jo Json", "email_addresses": ["jo@json.io"], "job_title": "Dev"},
        {"name": "Bad", "email_addresses": ["bad"]},
        [1, 2, 3],
    ])
    response = await upload(ws, lines, filename="people.jsonl")
    job = await finished(ws, response.json()["id"])
    assert (job["format"], job["created"], job["failed"]) == ("jsonl", 1, 2)


async def test_preview_infers_types(ws: Workspace) -> None:
    response = await ws.http.post("/api/developers/v1/objects/person/imports/preview",
                                  files={"file": ("p.csv", CSV.encode(), "text/csv")}, headers=ws.headers())
    assert response.status_code == 200, response.text
    columns = {c["name"]: c for c in response.json()["columns"]}
    assert columns["Email"]["inferred_type"] == "email"
    assert columns["Phone"]["inferred_type"] == "phone"
    assert columns["Full Name"]["samples"][0] == "Ada Lovelace"


@pytest.mark.parametrize(("fields", "status"), [
    ({"mapping": "{not json"}, 400), ({"mapping": '{"Email": "nope"}'}, 400),
    ({"mapping": '{"Email": "email_addresses"}', "matching_attribute": "job_title"}, 400),
    ({"format": "xml"}, 400),
])
async def test_refused_imports(ws: Workspace, fields: dict[str, str], status: int) -> None:
    assert (await upload(ws, CSV.encode(), **fields)).status_code == status


async def test_upload_must_be_multipart(ws: Workspace) -> None:
    response = await ws.request("POST", "/v1/objects/person/imports", content=CSV.encode(),
                                headers={"content-type": "text/csv"})
    assert response.status_code == 400


def test_cli_import_shows_progress_and_counts(tmp_path: Any, ws_sync: tuple[str, dict[str, str]]) -> None:
    workspace_id, env = ws_sync
    path = tmp_path / "people.csv"
    path.write_text("name,email_addresses\n" + "".join(f"P{i},p{i}@cli.io\n" for i in range(2500)))
    result = subprocess.run([sys.executable, "-m", "tessera.cli", "import", str(path), "--workspace", workspace_id,
                             "--object", "person", "--matching-attribute", "email_addresses"],
                            capture_output=True, text=True, env={**os.environ, **env}, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert orjson.loads(result.stdout.strip().splitlines()[-1]) == {"processed": 2500, "created": 2500, "updated": 0,
                                                                     "failed": 0}
    assert "import" in result.stderr and "100%" in result.stderr


@pytest.fixture
async def ws_sync(ws: Workspace, settings: Any) -> tuple[str, dict[str, str]]:
    return ws.id, {"DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url}
