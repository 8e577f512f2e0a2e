"""CLI commands the worker layer adds to ``tessera``: ``worker`` and ``search reindex|verify``."""

from __future__ import annotations

import asyncio

import click

from tessera.settings import Settings


def register_commands(group: click.Group) -> None:
    @group.command()
    def worker() -> None:
        """Run the background worker (arq): outbox relay, search indexing, AI jobs, webhooks."""
        from arq.worker import Worker

        from tessera.cli import require_secrets
        from workers.settings import build_worker_settings

        settings = Settings()
        require_secrets(settings)
        Worker(**build_worker_settings(settings)).run()

    @group.group()
    def search() -> None:
        """Search index operations."""

    @search.command()
    @click.option("--workspace", "workspace_id", type=int, default=None, help="Only this workspace.")
    @click.option("--object", "object_slug", default=None, help="Only this object (needs --workspace).")
    @click.option("--restart", is_flag=True, help="Ignore the saved checkpoint and start from the first record.")
    def reindex(workspace_id: int | None, object_slug: str | None, restart: bool) -> None:
        """Rebuild search documents from PostgreSQL (idempotent; resumes from a checkpoint)."""
        from workers.search_maintenance import reindex as run

        if object_slug and workspace_id is None:
            raise click.UsageError("--object needs --workspace")
        count = asyncio.run(run(Settings(), workspace_id=workspace_id, object_slug=object_slug, restart=restart))
        click.echo(f"reindexed {count} records", err=True)

    @search.command()
    @click.option("--workspace", "workspace_id", type=int, default=None, help="Only this workspace.")
    @click.option("--repair", is_flag=True, help="Fix the drift found.")
    def verify(workspace_id: int | None, repair: bool) -> None:
        """Compare the index with PostgreSQL; report (and with --repair, fix) drift as JSON."""
        import orjson

        from workers.search_maintenance import verify as run

        report = asyncio.run(run(Settings(), workspace_id=workspace_id, repair=repair))
        click.echo(orjson.dumps(report).decode())
        if report["drift"] and not repair:
            raise SystemExit(1)
