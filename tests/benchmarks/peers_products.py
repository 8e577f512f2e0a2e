"""The products ``bench_peers`` measures: Tessera, Directus and NocoDB, each started on loopback on
a fresh database of its own, bootstrapped (admin, token, the collection) and spoken to through its
own API (bulk create, create, get by id, filter + sort + count)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import string
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
from harness import BENCH_DIR, REPO, BenchmarkError, Server, create_workspace, free_port, serve, venv_bin
from peers_workload import BATCH_SIZE, COLLECTION, FIELDS, INDEXED, SELECT_OPTIONS

PEERS_SCRIPTS = BENCH_DIR / "peers"
TESSERA_API = "/api/developers"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Product:
    """One product under test. Subclasses know how to start it and speak its API."""

    label: str = ""
    server: Server | None = None
    headers: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    database_url: str = ""
    """The product's PostgreSQL database (empty for NocoDB on SQLite)."""

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return self.server.base_url

    @contextmanager
    def running(self, args: argparse.Namespace) -> Iterator[Product]:
        raise NotImplementedError

    def setup(self) -> None:
        """Create the collection (and anything else needed before the load)."""
        raise NotImplementedError

    # requests ------------------------------------------------------------------------------
    def bulk_request(self, records: list[dict[str, Any]]) -> tuple[str, bytes]:
        raise NotImplementedError

    def bulk_ids(self, reply: httpx.Response, size: int) -> list[str]:
        raise NotImplementedError

    def create_path(self) -> str:
        raise NotImplementedError

    def create_wrap(self) -> tuple[str, str]:
        return "", ""

    def get_path_prefix(self) -> str:
        raise NotImplementedError

    def query_request(self, stage: str) -> tuple[str, str, str | None]:
        """``(method, path, body)`` of: stage = ``stage``, sorted by close_date descending, 50 per
        page, with the total count."""
        raise NotImplementedError

    def query_total(self, data: Any) -> int:
        raise NotImplementedError

    def query_rows(self, data: Any) -> list[dict[str, Any]]:
        raise NotImplementedError

    def row_stage_and_date(self, row: dict[str, Any]) -> tuple[str, str]:
        raise NotImplementedError


def json_headers(extra: dict[str, str]) -> dict[str, str]:
    return {"Content-Type": "application/json", **extra}


async def recreate_database(env: dict[str, str], name: str) -> str:
    """Drop and create database ``name`` on the server of ``DATABASE_URL``; returns its URL."""
    server = env["DATABASE_URL"].rsplit("/", 1)[0]
    conn = await asyncpg.connect(server.replace("postgresql+asyncpg://", "postgresql://", 1) + "/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"{server}/{name}"


def pg_parts(url: str) -> dict[str, str]:
    parsed = urllib.parse.urlsplit(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    return {"host": parsed.hostname or "127.0.0.1", "port": str(parsed.port or 5432),
            "user": urllib.parse.unquote(parsed.username or "postgres"),
            "password": urllib.parse.unquote(parsed.password or ""), "database": parsed.path.lstrip("/")}


def in_dir(directory: Path, argv: list[str]) -> list[str]:
    """``argv`` run from ``directory`` (``serve`` starts servers in the repository; the peers
    must write nothing there). ``exec`` keeps the pid: it is the server's own."""
    quoted = " ".join(_sh_quote(a) for a in argv)
    return ["bash", "-c", f"cd {_sh_quote(str(directory))} && exec {quoted}"]


def _sh_quote(value: str) -> str:
    safe = string.ascii_letters + string.digits + "@%+=:,./-_"
    if value and all(c in safe for c in value):
        return value
    return "'" + value.replace("'", "'\"'\"'") + "'"


class Tessera(Product):
    def __init__(self, env: dict[str, str]) -> None:
        super().__init__(label="tessera")
        self.env = env

    @contextmanager
    def running(self, args: argparse.Namespace) -> Iterator[Product]:
        url = asyncio.run(recreate_database(self.env, "peers_tessera"))
        self.database_url = url
        env = {**self.env, "DATABASE_URL": url}
        migrated = subprocess.run([venv_bin("tessera"), "migrate"], env=env, cwd=REPO, capture_output=True,
                                  text=True, check=False)
        if migrated.returncode != 0:
            raise BenchmarkError(f"`tessera migrate` failed on {url}:\n{migrated.stderr[-3000:]}")
        key = create_workspace(env, "peers")["api_key"]
        self.headers = json_headers({"Authorization": f"Bearer {key}"})
        self.info = {"version": _tessera_version(), "database": "peers_tessera (PostgreSQL)",
                     "worker": "not running (outbox rows accumulate; no search indexing during the run)"}
        with serve(env, free_port()) as server:
            self.server = server
            yield self

    def setup(self) -> None:
        kinds = {"text": "text", "select": "select", "decimal": "number", "email": "email", "integer": "number",
                 "date": "date", "boolean": "boolean", "url": "url", "longtext": "text"}
        with httpx.Client(base_url=self.base_url + TESSERA_API, headers=self.headers, timeout=30) as client:
            reply = client.post("/v1/objects", json={"name": "Deal", "slug": "deal", "type": "custom"})
            expect_success(reply, "create object")
            for slug, kind in FIELDS:
                body: dict[str, Any] = {"name": slug.replace("_", " ").title(), "slug": slug, "type": kinds[kind]}
                if kind == "select":
                    body["options"] = {"select_options": [{"name": o} for o in SELECT_OPTIONS[slug]]}
                if kind == "integer":
                    body["options"] = {"is_whole_number": True}
                expect_success(client.post("/v1/objects/deal/attributes", json=body), f"create attribute {slug}")

    def bulk_request(self, records: list[dict[str, Any]]) -> tuple[str, bytes]:
        return (f"{TESSERA_API}/v1/objects/deal/records/batch",
                orjson.dumps({"records": [{"attributes": r} for r in records]}))

    def bulk_ids(self, reply: httpx.Response, size: int) -> list[str]:
        data = reply.json()
        if data.get("created") != size:
            raise BenchmarkError(f"tessera batch created {data.get('created')} of {size}: {reply.text[:500]}")
        return [item["id"] for item in data["results"]]

    def create_path(self) -> str:
        return f"{TESSERA_API}/v1/objects/deal"

    def create_wrap(self) -> tuple[str, str]:
        return '{"attributes":', "}"

    def get_path_prefix(self) -> str:
        return f"{TESSERA_API}/v1/records/"

    def query_request(self, stage: str) -> tuple[str, str, str | None]:
        body = {"filter": {"stage": stage}, "sort": {"attribute": "close_date", "direction": "desc"}, "limit": 50}
        return "POST", f"{TESSERA_API}/v1/objects/deal/records", json.dumps(body)

    def query_total(self, data: Any) -> int:
        return int(data["total"])

    def query_rows(self, data: Any) -> list[dict[str, Any]]:
        return list(data["data"])

    def row_stage_and_date(self, row: dict[str, Any]) -> tuple[str, str]:
        return row["attributes"].get("stage"), row["attributes"].get("close_date")


class Directus(Product):
    def __init__(self, env: dict[str, str], peers: dict[str, str]) -> None:
        super().__init__(label="directus")
        self.env = env
        self.peers = peers
        self.token = secrets.token_urlsafe(32)

    @contextmanager
    def running(self, args: argparse.Namespace) -> Iterator[Product]:
        url = asyncio.run(recreate_database(self.env, "peers_directus"))
        self.database_url = url
        pg = pg_parts(url)
        directory = Path(self.peers["PEERS_DIRECTUS_DIR"])
        node = self.peers["PEERS_NODE"]
        port = free_port()
        config = directory / "bench.env"
        config.write_text("# written by bench_peers.py; the settings are in the environment\n")
        env = {
            "PATH": f"{Path(node).parent}:{os.environ.get('PATH', '')}", "HOME": os.environ.get("HOME", "/root"),
            "CONFIG_PATH": str(config),
            "HOST": "127.0.0.1", "PORT": str(port), "PUBLIC_URL": f"http://127.0.0.1:{port}",
            "DB_CLIENT": "pg", "DB_HOST": pg["host"], "DB_PORT": pg["port"], "DB_DATABASE": pg["database"],
            "DB_USER": pg["user"], "DB_PASSWORD": pg["password"] or "postgres",
            "SECRET": secrets.token_hex(32), "KEY": secrets.token_hex(16),
            "ADMIN_EMAIL": "admin@example.com", "ADMIN_PASSWORD": secrets.token_urlsafe(16), "ADMIN_TOKEN": self.token,
            "LOG_LEVEL": "warn", "LOG_STYLE": "raw", "TELEMETRY": "false", "RATE_LIMITER_ENABLED": "false",
            "CACHE_ENABLED": "false", "WEBSOCKETS_ENABLED": "false", "MAX_PAYLOAD_SIZE": "50mb",
            "ACCESS_TOKEN_TTL": "24h", "EXTENSIONS_PATH": str(directory / "extensions"),
            "STORAGE_LOCATIONS": "local", "STORAGE_LOCAL_ROOT": str(directory / "uploads"),
            "NODE_ENV": "production",
        }
        cli = str(directory / "node_modules" / "directus" / "cli.js")
        boot = subprocess.run([node, cli, "bootstrap"], env=env, cwd=directory, capture_output=True, text=True,
                              check=False, timeout=300)
        if boot.returncode != 0:
            raise BenchmarkError(f"directus bootstrap failed:\n{boot.stdout[-2000:]}\n{boot.stderr[-2000:]}")
        self.headers = json_headers({"Authorization": f"Bearer {self.token}"})
        self.info = {"version": self.peers.get("PEERS_DIRECTUS_VERSION"), "database": "peers_directus (PostgreSQL)",
                     "node": _node_version(node), "settings": "cache off, rate limiter off, websockets off, "
                     "log level warn, NODE_ENV=production"}
        with serve(env, port, argv=in_dir(directory, [node, cli, "start"]), health_path="/server/ping",
                   startup_timeout=120) as server:
            self.server = server
            yield self

    def setup(self) -> None:
        types = {"text": "string", "select": "string", "decimal": "decimal", "email": "string",
                 "integer": "integer", "date": "date", "boolean": "boolean", "url": "string", "longtext": "text"}
        fields: list[dict[str, Any]] = [{"field": "id", "type": "integer", "meta": {"hidden": True},
                                         "schema": {"is_primary_key": True, "has_auto_increment": True}}]
        for slug, kind in FIELDS:
            spec: dict[str, Any] = {"field": slug, "type": types[kind], "meta": {}, "schema": {}}
            if kind == "decimal":
                spec["schema"] = {"numeric_precision": 14, "numeric_scale": 2}
            if kind == "select":
                spec["meta"] = {"interface": "select-dropdown",
                                "options": {"choices": [{"text": o, "value": o} for o in SELECT_OPTIONS[slug]]}}
            if slug in INDEXED:
                spec["schema"]["is_indexed"] = True
            fields.append(spec)
        with httpx.Client(base_url=self.base_url, headers=self.headers, timeout=60) as client:
            expect_success(client.post("/collections", json={"collection": COLLECTION, "meta": {}, "schema": {},
                                                      "fields": fields}), "create collection")
        self.info["indexes"] = f"{', '.join(INDEXED)} (schema.is_indexed)"

    def bulk_request(self, records: list[dict[str, Any]]) -> tuple[str, bytes]:
        return f"/items/{COLLECTION}?fields=id", orjson.dumps(records)

    def bulk_ids(self, reply: httpx.Response, size: int) -> list[str]:
        data = reply.json()["data"]
        if len(data) != size:
            raise BenchmarkError(f"directus created {len(data)} of {size}")
        return [str(item["id"]) for item in data]

    def create_path(self) -> str:
        return f"/items/{COLLECTION}"

    def get_path_prefix(self) -> str:
        return f"/items/{COLLECTION}/"

    def query_request(self, stage: str) -> tuple[str, str, str | None]:
        query = urllib.parse.urlencode({"filter[stage][_eq]": stage, "sort": "-close_date", "limit": 50,
                                        "meta": "filter_count"})
        return "GET", f"/items/{COLLECTION}?{query}", None

    def query_total(self, data: Any) -> int:
        return int(data["meta"]["filter_count"])

    def query_rows(self, data: Any) -> list[dict[str, Any]]:
        return list(data["data"])

    def row_stage_and_date(self, row: dict[str, Any]) -> tuple[str, str]:
        return row.get("stage"), row.get("close_date")


class NocoDB(Product):
    def __init__(self, env: dict[str, str], peers: dict[str, str], backend: str) -> None:
        super().__init__(label="nocodb")
        self.env = env
        self.peers = peers
        self.backend = backend
        self.table_id = ""
        self.table_name = ""

    @contextmanager
    def running(self, args: argparse.Namespace) -> Iterator[Product]:
        directory = Path(self.peers["PEERS_NOCODB_DIR"])
        node = self.peers["PEERS_NODE"]
        port = free_port()
        data_dir = directory / "data"
        data_dir.mkdir(exist_ok=True)
        if self.backend == "pg":
            self.database_url = asyncio.run(recreate_database(self.env, "peers_nocodb"))
            pg = pg_parts(self.database_url)
            nc_db = (f"pg://{pg['host']}:{pg['port']}?u={pg['user']}&p={pg['password'] or 'postgres'}"
                     f"&d={pg['database']}")
            where = "peers_nocodb (PostgreSQL)"
        else:
            for old in data_dir.glob("noco.db*"):
                old.unlink()
            nc_db = ""  # no NC_DB: NocoDB keeps everything in noco.db under NC_TOOL_DIR
            where = f"{data_dir / 'noco.db'} (SQLite)"
        self.admin_email = "admin@example.com"
        self.admin_password = "Pw-" + secrets.token_urlsafe(16)
        env = {
            "PATH": f"{Path(node).parent}:{os.environ.get('PATH', '')}", "HOME": os.environ.get("HOME", "/root"),
            "NODE_PATH": str(directory / "node_modules"), "PORT": str(port), "HOST": "127.0.0.1",
            "NC_AUTH_JWT_SECRET": secrets.token_hex(32),
            "NC_ADMIN_EMAIL": self.admin_email, "NC_ADMIN_PASSWORD": self.admin_password,
            "NC_DISABLE_TELE": "true", "NC_DISABLE_ERR_REPORT": "true", "NC_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "NC_TOOL_DIR": str(data_dir), "NODE_ENV": "production", "NC_DISABLE_AUDIT": "true",
            # API-token requests may carry at most 100 records unless this is raised.
            "NC_DATA_PAYLOAD_LIMIT": str(BATCH_SIZE),
        }
        if nc_db:
            env["NC_DB"] = nc_db
        self.info = {"version": self.peers.get("PEERS_NOCODB_VERSION"), "database": where, "node": _node_version(node),
                     "settings": "NODE_ENV=production, telemetry off, in-process cache (no Redis)"}
        argv = in_dir(data_dir, [node, str(PEERS_SCRIPTS / "nocodb_server.js")])
        with serve(env, port, argv=argv, health_path="/api/v1/health", startup_timeout=240) as server:
            self.server = server
            self.bootstrap()
            yield self

    def bootstrap(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=60) as client:
            signin = client.post("/api/v1/auth/user/signin",
                                 json={"email": self.admin_email, "password": self.admin_password})
            expect_success(signin, "nocodb sign-in")
            auth = {"xc-auth": signin.json()["token"]}
            made = client.post("/api/v1/tokens", headers=auth, json={"description": "bench"})
            expect_success(made, "nocodb api token")
            self.headers = json_headers({"xc-token": made.json()["token"]})

    def setup(self) -> None:
        uidts = {"text": "SingleLineText", "select": "SingleSelect", "decimal": "Decimal", "email": "Email",
                 "integer": "Number", "date": "Date", "boolean": "Checkbox", "url": "URL", "longtext": "LongText"}
        columns: list[dict[str, Any]] = []
        for slug, kind in FIELDS:
            column: dict[str, Any] = {"column_name": slug, "title": slug, "uidt": uidts[kind]}
            if kind == "select":
                column["colOptions"] = {"options": [{"title": o} for o in SELECT_OPTIONS[slug]]}
            if kind == "date":
                column["meta"] = {"date_format": "YYYY-MM-DD"}
            columns.append(column)
        with httpx.Client(base_url=self.base_url, headers=self.headers, timeout=120) as client:
            base = client.post("/api/v2/meta/bases", json={"title": "bench"})
            expect_success(base, "nocodb create base")
            base_id = base.json()["id"]
            table = client.post(f"/api/v2/meta/bases/{base_id}/tables",
                                json={"table_name": COLLECTION, "title": COLLECTION, "columns": columns})
            expect_success(table, "nocodb create table")
            self.table_id = table.json()["id"]
            self.table_name = table.json()["table_name"]
            self.info["table"] = {"id": self.table_id, "table_name": self.table_name}
        if self.backend == "pg":
            asyncio.run(self._create_indexes())

    async def _create_indexes(self) -> None:
        """NocoDB's API has no index option: create them in PostgreSQL, as its operator would."""
        conn = await asyncpg.connect(self.database_url.replace("postgresql+asyncpg://", "postgresql://", 1))
        try:
            schema_table = await conn.fetchrow(
                "SELECT table_schema, table_name FROM information_schema.tables WHERE table_name = $1",
                self.table_name)
            if schema_table is None:
                raise BenchmarkError(f"nocodb table {self.table_name!r} not found in PostgreSQL")
            qualified = f'"{schema_table["table_schema"]}"."{schema_table["table_name"]}"'
            for column in INDEXED:
                await conn.execute(f'CREATE INDEX IF NOT EXISTS "bench_{column}" ON {qualified} ("{column}")')
            self.info["indexes"] = f"{', '.join(INDEXED)} on {qualified}"
        finally:
            await conn.close()

    def bulk_request(self, records: list[dict[str, Any]]) -> tuple[str, bytes]:
        return f"/api/v2/tables/{self.table_id}/records", orjson.dumps(records)

    def bulk_ids(self, reply: httpx.Response, size: int) -> list[str]:
        data = reply.json()
        if not isinstance(data, list) or len(data) != size:
            raise BenchmarkError(f"nocodb bulk insert answered {reply.text[:300]}")
        return [str(item.get("Id", item.get("id"))) for item in data]

    def create_path(self) -> str:
        return f"/api/v2/tables/{self.table_id}/records"

    def get_path_prefix(self) -> str:
        return f"/api/v2/tables/{self.table_id}/records/"

    def query_request(self, stage: str) -> tuple[str, str, str | None]:
        query = urllib.parse.urlencode({"where": f"(stage,eq,{stage})", "sort": "-close_date", "limit": 50})
        return "GET", f"/api/v2/tables/{self.table_id}/records?{query}", None

    def query_total(self, data: Any) -> int:
        return int(data["pageInfo"]["totalRows"])

    def query_rows(self, data: Any) -> list[dict[str, Any]]:
        return list(data["list"])

    def row_stage_and_date(self, row: dict[str, Any]) -> tuple[str, str]:
        return row.get("stage"), row.get("close_date")


def expect_success(reply: httpx.Response, what: str) -> None:
    if not 200 <= reply.status_code < 300:
        raise BenchmarkError(f"{what}: HTTP {reply.status_code} {reply.text[:800]}")


def _node_version(node: str) -> str:
    return subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout.strip()


def _tessera_version() -> str:
    from importlib.metadata import version

    try:
        return version("tessera")
    except Exception:  # an editable install without metadata
        return "unknown"
