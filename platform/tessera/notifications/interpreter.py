"""The port through which the API reads a custom rule's description: implemented in ``workers``
(the AI-list interpreter's vocabulary plus a lexicon of concepts and their paraphrases, see
``workers/intelligence/rule_interpreter.py``) and wired in by the plugin, so ``tessera`` never
imports it. The matcher it returns is stored with the rule and evaluated by the worker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from tessera.wire import JsonObject


@dataclass(frozen=True, slots=True)
class RuleReading:
    """A description read into a matcher (None when it names no condition: ``explanation`` then
    says why), a name for the rule, and how it was read, in plain English."""

    matcher: JsonObject | None
    name: str
    explanation: str


class RuleInterpreterPort(Protocol):
    def interpret_rule(self, description: str) -> RuleReading:
        """Read ``description`` (deterministic, no I/O)."""
        ...
