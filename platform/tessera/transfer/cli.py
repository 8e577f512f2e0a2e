"""CLI commands for bulk data: ``tessera import``, ``tessera admin export|restore|delete-workspace``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Never

import click
import orjson
from tqdm import tqdm

from tessera.settings import Settings

if TYPE_CHECKING:
    from tessera.wire import JsonObject

CHUNK = 1024 * 1024


async def _file_chunks(path: Path, bar: tqdm[Never]) -> AsyncIterator[bytes]:
    with path.open("rb") as handle:
        while data := handle.read(CHUNK):
            bar.update(len(data))
            yield data


def register_transfer_commands(cli: click.Group, admin: click.Group) -> None:
    @cli.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--workspace", "workspace_id", required=True, type=int)
    @click.option("--object", "object_slug", required=True)
    @click.option("--mapping", default=None, help="JSON object column -> attribute, or @file.json")
    @click.option("--matching-attribute", default=None, help="Upsert by this unique attribute")
    @click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default=None)
    def import_file(file: Path, workspace_id: int, object_slug: str, mapping: str | None,
                    matching_attribute: str | None, fmt: str | None) -> None:
        """Import a CSV or JSON-lines FILE into an object, with a progress bar."""
        from tessera.changes import Actor
        from tessera.db.engine import create_engine
        from tessera.db.ids import IdAllocator
        from tessera.db.tenant import Tenant
        from tessera.errors import TesseraError
        from tessera.registry.cache import SchemaCache
        from tessera.registry.repository import load_schema
        from tessera.transfer.imports import iter_rows, plan_import, run_import
        from tessera.transfer.service import parse_mapping

        raw_mapping = Path(mapping[1:]).read_text() if mapping and mapping.startswith("@") else mapping
        chosen = fmt or ("jsonl" if file.suffix.lower() in (".jsonl", ".ndjson") else "csv")
        size = file.stat().st_size

        async def run() -> dict[str, int]:
            engine = create_engine(Settings(), pool_size=2)
            try:
                async with engine.connect() as conn:
                    obj = (await load_schema(Tenant(conn, workspace_id))).object(object_slug)
                if obj is None:
                    raise click.ClickException(f"object '{object_slug}' not found in workspace {workspace_id}")
                with tqdm(total=size, unit="B", unit_scale=True, desc="import") as bar:
                    rows = iter_rows(_file_chunks(file, bar), chosen)
                    first = await anext(rows, None)
                    if first is None:
                        raise click.ClickException("the file holds no rows")

                    async def replay() -> AsyncIterator[tuple[list[str], JsonObject]]:
                        yield first
                        async for item in rows:
                            yield item

                    plan = plan_import(obj, first[0], parse_mapping(raw_mapping), matching_attribute, chosen)
                    done = await run_import(engine, workspace_id, plan, replay(),
                                            schemas=SchemaCache(ttl_seconds=5, clock=time.time), ids=IdAllocator(),
                                            actor=Actor("import", "cli"), now=lambda: datetime.now(UTC))
                for number, column, message in done.errors[:20]:
                    click.echo(f"row {number} {column}: {message}", err=True)
                return {"processed": done.processed, "created": done.created, "updated": done.updated,
                        "failed": done.failed}
            except TesseraError as err:
                raise click.ClickException(err.message) from err
            finally:
                await engine.dispose()

        click.echo(orjson.dumps(asyncio.run(run())).decode())

    @admin.command("export")
    @click.option("--workspace", "workspace_id", required=True, type=int)
    @click.option("--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--object", "object_slug", default=None)
    def export(workspace_id: int, output: Path, object_slug: str | None) -> None:
        """Write a JSON-lines dump of a workspace (or one object) to OUTPUT."""
        from tessera.db.engine import create_engine
        from tessera.transfer.dump import jsonl_dump

        async def run() -> dict[str, int]:
            engine = create_engine(Settings(), pool_size=2)
            counts: dict[str, int] = {}
            try:
                with output.open("wb") as handle:
                    async for piece in jsonl_dump(engine, workspace_id, object_slug, counts):
                        handle.write(piece)
            finally:
                await engine.dispose()
            return counts

        click.echo(orjson.dumps(asyncio.run(run())).decode())

    @admin.command("restore")
    @click.argument("dump", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--name", required=True, help="Name of the new workspace")
    def restore(dump: Path, name: str) -> None:
        """Create a new workspace from a JSON-lines dump; print its id and an API key."""
        from tessera.clock import system_clock
        from tessera.db.engine import create_engine
        from tessera.errors import TesseraError
        from tessera.transfer.restore import restore_dump

        settings = Settings()

        async def run() -> dict[str, str | int]:
            engine = create_engine(settings, pool_size=2)
            try:
                with dump.open("rb") as handle:
                    made, mapping = await restore_dump(engine, handle, name=name,
                                                       pepper=settings.key_pepper.get_secret_value().encode(),
                                                       clock=system_clock)
            except TesseraError as err:
                raise click.ClickException(err.message) from err
            finally:
                await engine.dispose()
            return {"workspace_id": str(made.workspace_id), "api_key": made.api_key, "restored": len(mapping)}

        click.echo(orjson.dumps(asyncio.run(run())).decode())

    @admin.command("delete-workspace")
    @click.option("--workspace", "workspace_id", required=True, type=int)
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation")
    def delete_workspace(workspace_id: int, yes: bool) -> None:
        """Erase a workspace everywhere: database, search index, Redis state, queued jobs."""
        from tessera.db.engine import create_engine
        from tessera.redis_client import RedisClient
        from tessera.workspaces import erase_workspace

        if not yes and not click.confirm(f"Erase workspace {workspace_id} and everything in it?"):
            raise click.Abort()
        settings = Settings()

        async def run() -> bool:
            engine = create_engine(settings, pool_size=1)
            redis = RedisClient(settings.redis_url)
            try:
                return await erase_workspace(engine, redis, workspace_id)
            finally:
                await redis.close()
                await engine.dispose()

        if not asyncio.run(run()):
            raise click.ClickException(f"workspace {workspace_id} not found")
        click.echo(f"workspace {workspace_id} erased", err=True)
