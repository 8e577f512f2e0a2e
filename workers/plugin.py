"""The ``tessera.plugins`` entry point: wires the outer layer into the API and the CLI.

``tessera`` cannot import ``search`` or ``workers``; this plugin, living in the outermost layer,
hands the API its search adapter at start-up and adds the ``worker`` and ``search`` commands to
the ``tessera`` CLI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from workers.cli import register_commands

if TYPE_CHECKING:
    from tessera.app_state import AppState


class WorkersPlugin:
    name = "workers"

    async def startup(self, state: AppState) -> None:
        from workers.intelligence import build_reasoner
        from workers.intelligence_port import ReasonerPort
        from workers.lifecycle import embedder, memory_index, search_engine
        from workers.memory.port import MemoryRecall
        from workers.rule_port import RuleInterpreter
        from workers.search_port import MeiliSearchPort

        settings = state.settings
        engine = search_engine(settings)
        state.search = MeiliSearchPort(engine)
        state.memory = MemoryRecall(memory_index(settings, engine.client), embedder(settings))
        state.rules = RuleInterpreter()
        state.intelligence = ReasonerPort(build_reasoner(
            llm_base_url=settings.llm_base_url, llm_model=settings.llm_model,
            llm_api_key=settings.llm_api_key.get_secret_value(), timeout_s=settings.llm_timeout_seconds))

    async def shutdown(self, state: AppState) -> None:
        if state.search is not None:
            await state.search.close()
            state.search = None
            state.memory = None

    def cli(self, group: click.Group) -> None:
        register_commands(group)


plugin = WorkersPlugin()
