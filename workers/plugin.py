"""The ``tessera.plugins`` entry point: wires the outer layer into the API and the CLI.

``tessera`` cannot import ``search`` or ``workers``; this plugin, living in the outermost layer,
hands the API its search adapter at start-up and adds the ``worker`` command (and, later,
``search``/``import`` commands) to the ``tessera`` CLI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from tessera.app_state import AppState


class WorkersPlugin:
    name = "workers"

    async def startup(self, state: AppState) -> None:
        return None

    async def shutdown(self, state: AppState) -> None:
        return None

    def cli(self, group: click.Group) -> None:
        @group.command()
        def worker() -> None:
            """Run the background worker (arq): outbox relay, search indexing, AI jobs."""
            from arq.worker import run_worker

            from workers.settings import WorkerSettings

            run_worker(WorkerSettings)  # type: ignore[arg-type]


plugin = WorkersPlugin()
