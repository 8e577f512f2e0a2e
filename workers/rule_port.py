"""The API's reader of custom notification rules (``tessera.notifications.interpreter``), backed
by ``workers.intelligence.rule_interpreter``."""

from __future__ import annotations

import orjson

from tessera.notifications.interpreter import RuleReading
from tessera.wire import JsonObject
from workers.intelligence.rule_interpreter import interpret_rule


class RuleInterpreter:
    def interpret_rule(self, description: str) -> RuleReading:
        matcher, name, explanation = interpret_rule(description)
        return RuleReading(to_json(matcher) if matcher is not None else None, name, explanation)


def to_json(matcher: dict[str, object]) -> JsonObject:
    """The matcher as stored JSON (its values are strings, lists of strings, booleans and None)."""
    loaded = orjson.loads(orjson.dumps(matcher))
    assert isinstance(loaded, dict)
    return loaded
