"""The ``tessera`` command: serve, migrate, admin tasks; plugins add worker and search commands."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import datetime

import click
import orjson

from tessera import plugins as plugin_registry
from tessera.clock import system_clock
from tessera.settings import Settings


def require_secrets(settings: Settings) -> None:
    """Exit with the reason (status 1) when the settings are not fit to serve."""
    try:
        settings.check_secrets()
    except ValueError as err:
        raise click.ClickException(str(err)) from err


@click.group()
def cli() -> None:
    """Tessera: a flexible-schema records platform."""


@cli.command()
@click.option("--host", default=None, help="Bind address (default: HOST or 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default: PORT or 8000).")
@click.option("--workers", default=1, show_default=True, help="API processes.")
@click.option("--with-worker/--no-worker", default=False, help="Also run a background worker.")
def serve(host: str | None, port: int | None, workers: int, with_worker: bool) -> None:
    """Serve the HTTP API with uvicorn."""
    import uvicorn

    settings = Settings()
    require_secrets(settings)
    worker: subprocess.Popen[bytes] | None = None
    if with_worker:
        worker = subprocess.Popen([sys.executable, "-m", "tessera.cli", "worker"])
    try:
        uvicorn.run("tessera.app:create_app", factory=True, host=host or settings.host,
                    port=port or settings.port, workers=workers, loop="uvloop", http="httptools",
                    access_log=False, log_config=None, server_header=False, date_header=False)
    finally:
        if worker is not None and worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()


@cli.command()
def migrate() -> None:
    """Apply database migrations (idempotent)."""
    from tessera.migrate import upgrade

    upgrade(Settings())
    click.echo("migrations applied", err=True)


@cli.group()
def admin() -> None:
    """Administrative tasks that need no API key."""


@admin.command("create-workspace")
@click.option("--name", required=True, help="Workspace name.")
def create_workspace(name: str) -> None:
    """Create a workspace; print {"workspace_id", "api_key"} (a key holding every scope)."""
    from tessera.db.engine import create_engine
    from tessera.workspaces import create_workspace as create

    settings = Settings()

    async def run() -> dict[str, str]:
        engine = create_engine(settings, pool_size=1)
        try:
            made = await create(engine, name=name, pepper=settings.key_pepper.get_secret_value().encode(),
                                clock=system_clock)
        finally:
            await engine.dispose()
        return {"workspace_id": str(made.workspace_id), "api_key": made.api_key}

    click.echo(orjson.dumps(asyncio.run(run())).decode())


@admin.command("create-key")
@click.option("--workspace", "workspace_id", required=True, type=int, help="Workspace id.")
@click.option("--name", required=True, help="Key name.")
@click.option("--scopes", required=True, help="Comma-separated scopes, or 'all'.")
@click.option("--rate-limit", type=int, default=None, help="Requests per minute (default: server default).")
@click.option("--expires-at", default=None, help="RFC3339 expiry.")
def create_key(workspace_id: int, name: str, scopes: str, rate_limit: int | None,
               expires_at: str | None) -> None:
    """Create an API key with chosen scopes; print it as JSON (the key is shown once)."""
    from tessera.clock import utcnow
    from tessera.db.engine import create_engine
    from tessera.db.tenant import Tenant
    from tessera.errors import TesseraError
    from tessera.keys import service
    from tessera.keys.serialize import ApiKeyJson, key_to_json
    from tessera.scopes import SCOPES
    from tessera.wire import parse_rfc3339
    from tessera.workspaces import workspace_exists

    settings = Settings()
    chosen = list(SCOPES) if scopes.strip() == "all" else [s.strip() for s in scopes.split(",") if s.strip()]
    expiry: datetime | None = parse_rfc3339(expires_at) if expires_at else None

    async def run() -> ApiKeyJson:
        engine = create_engine(settings, pool_size=1)
        try:
            async with engine.begin() as conn:
                if not await workspace_exists(conn, workspace_id):
                    raise click.ClickException(f"workspace {workspace_id} not found")
                row, key = await service.create_key(
                    Tenant(conn, workspace_id), settings.key_pepper.get_secret_value().encode(),
                    name=name, scopes=chosen, rate_limit_per_minute=rate_limit, expires_at=expiry,
                    now=utcnow(), granter=None)
        except TesseraError as err:
            raise click.ClickException(err.message) from err
        finally:
            await engine.dispose()
        return key_to_json(row, key)

    click.echo(orjson.dumps(asyncio.run(run())).decode())


def main() -> None:
    """Entry point: add the transfer commands and the installed plugins' commands, then run."""
    from tessera.transfer.cli import register_transfer_commands

    register_transfer_commands(cli, admin)
    if not os.environ.get("TESSERA_NO_PLUGINS"):
        for plugin in plugin_registry.discover():
            plugin.cli(cli)
    cli()


if __name__ == "__main__":
    main()
