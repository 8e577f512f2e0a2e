"""Preferences, rules and feed items as the API shows them (the spec's ``developer.*`` shapes)."""

from __future__ import annotations

from typing import TypedDict

from tessera.notifications.repository import FeedItem, Preferences, Rule
from tessera.wire import JsonObject, JsonValue, iso


class PreferencesJson(TypedDict):
    frequency_minutes: int
    enabled_types: list[str]
    digest_enabled: bool


class RuleJson(TypedDict):
    id: str
    name: str
    prompt: str
    is_enabled: bool
    schedule: str
    created_at: str | None
    interpretation: str


def preferences_to_json(prefs: Preferences) -> PreferencesJson:
    return {"frequency_minutes": prefs.frequency_minutes, "enabled_types": list(prefs.enabled_types),
            "digest_enabled": prefs.digest_enabled}


def rule_to_json(rule: Rule) -> RuleJson:
    """``interpretation`` (beyond the spec): how the description was read."""
    explanation = rule.matcher.get("explanation")
    return {"id": str(rule.id), "name": rule.name, "prompt": rule.prompt, "is_enabled": rule.is_enabled,
            "schedule": rule.schedule, "created_at": iso(rule.created_at),
            "interpretation": explanation if isinstance(explanation, str) else ""}


def item_to_json(item: FeedItem) -> JsonObject:
    """``content`` holds ``important_items`` and ``entity_changes`` (always lists) and, beyond the
    spec, ``title``, ``summary`` and for a custom rule's item ``rule_id`` / ``rule_name``."""
    content: JsonObject = dict(item.content)
    content.setdefault("important_items", list[JsonValue]())
    content.setdefault("entity_changes", list[JsonValue]())
    return {"id": str(item.id), "type": item.type, "status": item.status, "alert_time": iso(item.alert_time),
            "sent_at": iso(item.sent_at), "content": content}
