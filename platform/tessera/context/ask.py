"""``POST /v1/context/ask``: resolve the entities a question names, gather what the workspace knows
about them, and let the reasoner (port) answer from exactly those facts."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import orjson

from schema_registry.definitions import ObjectDefinition
from schema_registry.workspace import WorkspaceSchema
from tessera.app_state import IntelligencePort, SearchPort
from tessera.db.tenant import Tenant
from tessera.errors import NotFound
from tessera.fulltext.service import find
from tessera.http.models import iso
from tessera.records.repository import find_by_unique, get_records
from tessera.records.values import primary_value, read_attributes, unique_keys

MAX_ENTITIES = 10
MAX_TURNS = 10


def _type_label(obj: ObjectDefinition) -> str:
    return obj.type.value.upper() if obj.type.value in ("person", "company") else obj.slug


async def _by_unique(tenant: Tenant, obj: ObjectDefinition | None, slug: str, values: list[str]) -> list[int]:
    attribute = obj.attribute(slug) if obj is not None else None
    if attribute is None or not attribute.is_unique or not values:
        return []
    keys = []
    from schema_registry.types import attribute_type
    from schema_registry.types.base import InvalidValue

    kind = attribute_type(attribute.type)
    for value in values:
        try:
            keys.extend(unique_keys(attribute, [kind.normalize(value, attribute)]))
        except InvalidValue:
            continue
    return list((await find_by_unique(tenant, attribute.id, keys)).values()) if keys else []


async def _people_at_domains(tenant: Tenant, person: ObjectDefinition | None, domains: list[str]) -> list[int]:
    emails = person.attribute("email_addresses") if person is not None else None
    if emails is None or not domains:
        return []
    rows = await tenant.fetch(
        "SELECT DISTINCT record_id FROM record_values WHERE workspace_id = $1 AND attribute_id = $2 "
        "AND facet = 'domain' AND left(v_text, 200) COLLATE \"C\" = ANY($3::text[]) LIMIT 5",
        emails.id, [d.lower() for d in domains])
    return [r["record_id"] for r in rows]


async def resolve(tenant: Tenant, schema: WorkspaceSchema, search: SearchPort | None, terms: dict[str, list[str]],
                  remembered: list[int]) -> tuple[list[tuple[int, str, float]], int]:
    """(record id, reason, score) of the entities a question is about, and how many were searched."""
    person, company = schema.object("person"), schema.object("company")
    found: dict[int, tuple[str, float]] = {}

    def note(ids: list[int], reason: str, score: float) -> None:
        for record_id in ids:
            found.setdefault(record_id, (reason, score))

    note(await _by_unique(tenant, person, "email_addresses", terms.get("emails", [])), "Email address named", 0.98)
    note(await _by_unique(tenant, company, "domains", terms.get("domains", [])), "Domain named", 0.95)
    note(await _people_at_domains(tenant, person, terms.get("domains", [])), "Email at the named domain", 0.8)
    searched = 0
    names = terms.get("names", [])
    objects = [o for o in (person, company) if o is not None]
    for name in names[:5]:
        result = await find(search, _constant(tenant), tenant.workspace_id, name, objects, limit=3)
        for hits in result.hits.values():
            searched += len(hits)
            for hit in hits:
                if hit["primary_value"].casefold() == name.casefold() or hit["score"] >= 0.9:
                    note([int(hit["id"])], f"Name matches '{name}'", round(float(hit["score"]) * 0.9, 3))
    if not found and remembered:
        note(remembered, "Discussed earlier in this session", 0.7)
    if not found and terms.get("keywords"):
        result = await find(search, _constant(tenant), tenant.workspace_id, " ".join(terms["keywords"][:6]), objects,
                            limit=3)
        for hits in result.hits.values():
            searched += len(hits)
            note([int(h["id"]) for h in hits if h["score"] >= 0.5], "Matches the question's keywords", 0.5)
    ranked = sorted(found.items(), key=lambda item: -item[1][1])[:MAX_ENTITIES]
    return [(record_id, reason, score) for record_id, (reason, score) in ranked], max(searched, len(found))


def _constant(tenant: Tenant) -> Any:
    async def get() -> Tenant:
        return tenant

    return get


async def gather(tenant: Tenant, schema: WorkspaceSchema, entities: list[tuple[int, str, float]]
                 ) -> list[dict[str, Any]]:
    """The facts about each entity: attributes, insights, notes, open tasks, relationships."""
    rows = {r.id: r for r in await get_records(tenant, [e[0] for e in entities])}
    facts = []
    names: dict[int, str] = {}
    for record_id, _reason, _score in entities:
        row = rows.get(record_id)
        obj = schema.object_by_id(row.object_id) if row else None
        if row is not None and obj is not None:
            names[record_id] = primary_value(obj, row.data)
    for record_id, reason, score in entities:
        row = rows.get(record_id)
        obj = schema.object_by_id(row.object_id) if row else None
        if row is None or obj is None:
            continue
        insights = await tenant.fetch(
            "SELECT id, type, content, confidence, created_at FROM insights WHERE workspace_id = $1 "
            "AND entity_ids @> ARRAY[$2]::bigint[] ORDER BY created_at DESC, id DESC LIMIT 10", record_id)
        notes = await tenant.fetch(
            "SELECT title, left(content, 300) AS excerpt, created_at FROM notes WHERE workspace_id = $1 "
            "AND entity_id = $2 AND archived_at IS NULL ORDER BY id DESC LIMIT 5", record_id)
        tasks = await tenant.fetch(
            "SELECT t.title, t.due_date FROM tasks t JOIN task_entities te ON te.workspace_id = t.workspace_id "
            "AND te.task_id = t.id WHERE t.workspace_id = $1 AND te.record_id = $2 AND NOT t.is_completed "
            "AND t.archived_at IS NULL ORDER BY t.id DESC LIMIT 5", record_id)
        links = await tenant.fetch(
            "SELECT r.entity_1_id, r.entity_2_id, d.entity_1_to_2_predicate, d.entity_2_to_1_predicate "
            "FROM relationships r JOIN relationship_definitions d ON d.workspace_id = r.workspace_id "
            "AND d.id = r.definition_id WHERE r.workspace_id = $1 AND (r.entity_1_id = $2 OR r.entity_2_id = $2) "
            "LIMIT 10", record_id)
        other_ids = [link["entity_2_id"] if link["entity_1_id"] == record_id else link["entity_1_id"] for link in links]
        others = {r.id: r for r in await get_records(tenant, other_ids)}
        relationships = []
        for link, other_id in zip(links, other_ids, strict=True):
            other = others.get(other_id)
            other_obj = schema.object_by_id(other.object_id) if other else None
            if other is None or other_obj is None:
                continue
            forward = link["entity_1_id"] == record_id
            predicate = link["entity_1_to_2_predicate"] if forward else link["entity_2_to_1_predicate"]
            relationships.append({"predicate": predicate or "related to",
                                  "other": primary_value(other_obj, other.data), "other_id": other_id})
        facts.append({
            "id": record_id, "type": _type_label(obj), "name": names.get(record_id, ""), "reason": reason,
            "score": score, "attributes": read_attributes(obj, row.data),
            "insights": [{"id": i["id"], "type": i["type"], "content": i["content"],
                          "confidence": i["confidence"], "created_at": iso(i["created_at"])} for i in insights],
            "notes": [{"title": n["title"], "excerpt": n["excerpt"]} for n in notes],
            "tasks": [{"title": t["title"], "due_date": iso(t["due_date"])} for t in tasks],
            "relationships": relationships,
        })
    return facts


async def load_session(tenant: Tenant, session_id: str | None) -> tuple[str, list[dict[str, Any]]]:
    if session_id is None:
        return secrets.token_urlsafe(12), []
    row = await tenant.fetchrow("SELECT turns FROM ask_sessions WHERE workspace_id = $1 AND id = $2", session_id)
    if row is None:
        raise NotFound("Unknown session_id")
    turns = row["turns"]
    return session_id, orjson.loads(turns) if isinstance(turns, str) else turns


async def save_session(tenant: Tenant, session_id: str, turns: list[dict[str, Any]], now: datetime) -> None:
    await tenant.fetch(
        "INSERT INTO ask_sessions (workspace_id, id, turns, updated_at) VALUES ($1, $2, $3::jsonb, $4) "
        "ON CONFLICT (workspace_id, id) DO UPDATE SET turns = EXCLUDED.turns, updated_at = EXCLUDED.updated_at",
        session_id, orjson.dumps(turns[-MAX_TURNS:]).decode(), now)


async def ask(tenant: Tenant, schema: WorkspaceSchema, search: SearchPort | None, intelligence: IntelligencePort,
              question: str, session_id: str | None, now: datetime) -> dict[str, Any]:
    session_id, turns = await load_session(tenant, session_id)
    remembered = [int(i) for i in turns[-1]["entity_ids"]] if turns else []
    terms = intelligence.question_terms(question)
    entities, searched = await resolve(tenant, schema, search, terms, remembered)
    facts = await gather(tenant, schema, entities)
    answer = await intelligence.answer(question, {"entities": facts, "workspace_wide": not facts,
                                                  "total_entities_searched": searched, "terms": terms})
    turns.append({"query": question, "entity_ids": [f["id"] for f in facts], "answer": answer["answer"]})
    await save_session(tenant, session_id, turns, now)
    return {
        "answer": answer["answer"],
        "entities_considered": [{"id": f["id"], "name": f["name"], "type": f["type"], "reason": f["reason"],
                                 "insights_matched": len(f["insights"]), "score": f["score"]} for f in facts],
        "signals_used": answer.get("signals_used", []),
        "metadata": {"query_type": "entity_specific" if facts else "workspace_wide",
                     "total_entities_searched": searched, "confidence": answer.get("confidence", 0.0)},
        "session_id": session_id,
    }
