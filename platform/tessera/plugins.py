"""Extension seam. ``tessera`` never imports ``search`` or ``workers``; instead the outer layer
registers a plugin under the ``tessera.plugins`` entry-point group, which wires adapters into
the running app (e.g. the Meilisearch search port) and adds CLI commands (``tessera worker``,
``tessera search ...``)."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Protocol

import click

if TYPE_CHECKING:
    from tessera.app_state import AppState

GROUP = "tessera.plugins"


class Plugin(Protocol):
    name: str

    async def startup(self, state: AppState) -> None: ...

    async def shutdown(self, state: AppState) -> None: ...

    def cli(self, group: click.Group) -> None: ...


def discover() -> list[Plugin]:
    """Every installed plugin, in entry-point name order."""
    found = sorted(entry_points(group=GROUP), key=lambda ep: ep.name)
    return [ep.load() for ep in found]
