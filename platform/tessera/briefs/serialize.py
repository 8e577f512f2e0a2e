"""Briefs and skills as the API shows them."""

from __future__ import annotations

from tessera.briefs.repository import PRIVATE, Brief, BriefVersion, Skill
from tessera.wire import JsonObject, JsonValue, iso


def brief_to_json(brief: Brief, *, content: bool) -> JsonObject:
    """A brief's fields (``content``, the markdown, only when asked: lists leave it out)."""
    out: JsonObject = {
        "id": str(brief.id), "title": brief.title, "slug": brief.slug, "scope_type": brief.scope_type,
        "context_id": str(brief.record_id) if brief.record_id is not None else None,
        "is_private": brief.scope_type == PRIVATE, "input_hash": brief.input_hash, "version": brief.version,
        "created_at": iso(brief.created_at), "updated_at": iso(brief.updated_at),
        "compiled_at": iso(brief.checked_at)}
    if content:
        out["content"] = brief.content
    return out


def page_json(items: list[JsonObject], total: int, limit: int, offset: int) -> JsonObject:
    return {"data": list[JsonValue](items), "total": total, "limit": limit, "offset": offset,
            "has_more": offset + len(items) < total}


def version_to_json(version: BriefVersion) -> JsonObject:
    return {"version": version.version, "input_hash": version.input_hash, "created_at": iso(version.created_at),
            "summary": version.summary, "changes": version.changes}


def skill_to_json(skill: Skill, *, content: bool) -> JsonObject:
    out: JsonObject = {
        "id": str(skill.id), "slug": skill.slug, "name": skill.slug, "title": skill.title,
        "description": skill.description, "trigger": skill.trigger, "confidence": skill.confidence,
        "rule_id": str(skill.rule_id), "version": skill.version, "input_hash": skill.input_hash,
        "created_at": iso(skill.created_at), "updated_at": iso(skill.updated_at)}
    if content:
        out["content"] = skill.content
    return out
