"""``POST /v1/context/ask``: resolve the entities a question names, gather what the workspace knows
about them, and let the reasoner (port) answer from exactly those facts."""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from schema_registry.definitions import ObjectDefinition
from schema_registry.workspace import WorkspaceSchema
from tessera.app_state import IntelligencePort, MemoryPort, SearchPort
from tessera.context import repository
from tessera.context.facts import EntityFactsJson, PassageJson, RelationshipFactJson
from tessera.context.memory import RecalledPassage, Recollection, mention_counts, search_text
from tessera.context.serialize import AskJson, AskMetadataJson, EntityReferenceJson
from tessera.db.tenant import Tenant
from tessera.errors import NotFound
from tessera.fulltext.service import find
from tessera.records.repository import find_by_facet, find_by_unique, get_records
from tessera.records.values import primary_value, read_attributes, unique_keys
from tessera.wire import JsonObject, JsonValue, iso

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
    return await find_by_facet(tenant, emails.id, "domain", [d.lower() for d in domains], limit=5)


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


def _constant(tenant: Tenant) -> Callable[[], Awaitable[Tenant]]:
    async def get() -> Tenant:
        return tenant

    return get


async def gather(tenant: Tenant, schema: WorkspaceSchema, entities: list[tuple[int, str, float]]
                 ) -> list[EntityFactsJson]:
    """The facts about each entity: attributes, insights, notes, open tasks, relationships."""
    rows = {r.id: r for r in await get_records(tenant, [e[0] for e in entities])}
    facts: list[EntityFactsJson] = []
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
        insights = await repository.insights_on(tenant, record_id)
        notes = await repository.notes_on(tenant, record_id)
        tasks = await repository.open_tasks_on(tenant, record_id)
        links = await repository.links_of(tenant, record_id)
        other_ids = [link.entity_2_id if link.entity_1_id == record_id else link.entity_1_id for link in links]
        others = {r.id: r for r in await get_records(tenant, other_ids)}
        relationships: list[RelationshipFactJson] = []
        for link, other_id in zip(links, other_ids, strict=True):
            other = others.get(other_id)
            other_obj = schema.object_by_id(other.object_id) if other else None
            if other is None or other_obj is None:
                continue
            forward = link.entity_1_id == record_id
            predicate = link.entity_1_to_2_predicate if forward else link.entity_2_to_1_predicate
            relationships.append({"predicate": predicate or "related to",
                                  "other": primary_value(other_obj, other.data), "other_id": other_id})
        facts.append({
            "id": record_id, "type": _type_label(obj), "name": names.get(record_id, ""), "reason": reason,
            "score": score, "attributes": read_attributes(obj, row.data),
            "insights": [{"id": i.id, "type": i.type, "content": i.content, "confidence": i.confidence,
                          "created_at": iso(i.created_at)} for i in insights],
            "notes": [{"title": n.title, "excerpt": n.excerpt} for n in notes],
            "tasks": [{"title": t.title, "due_date": iso(t.due_date)} for t in tasks],
            "relationships": relationships,
        })
    return facts


PRONOUNS = frozenset({"he", "she", "him", "her", "his", "hers", "they", "them", "their", "theirs", "it", "its"})
_ELLIPSIS = re.compile(r"^\s*(?:and|what about|how about|and what about)\b", re.IGNORECASE)
_WORDS = re.compile(r"[^\W\d_]+")
MAX_REFERENCES = 20


@dataclass(frozen=True, slots=True)
class FollowUp:
    """The question to retrieve with, and the entities it leans on from the previous turn."""

    query: str
    entity_ids: tuple[int, ...] = ()
    entity_names: tuple[str, ...] = ()


def _listed(value: JsonValue | None) -> list[JsonValue]:
    return value if isinstance(value, list) else []


def follow_up(question: str, names: list[str], last: Mapping[str, JsonValue] | None) -> FollowUp:
    """Resolve a follow-up against the session's last turn (pure): a pronoun with no name in the
    question (``Where does she work?``) means the last turn's entities; an elliptic question
    (``And Kenji?``, ``What about the budget?``) takes the last question's topic."""
    if not last:
        return FollowUp(question)
    words = {w.casefold() for w in _WORDS.findall(question)}
    previous_names = [str(n) for n in _listed(last.get("entity_names"))]
    previous_ids = tuple(i for i in _listed(last.get("entity_ids")) if isinstance(i, int))
    if _ELLIPSIS.match(question):
        topic = str(last.get("query", ""))
        if names:  # a new subject, the old question: drop the old subject's name from it
            for name in previous_names:
                topic = re.sub(re.escape(name), "", topic, flags=re.IGNORECASE)
            return FollowUp(f"{question} {topic}".strip())
        return FollowUp(f"{question} {topic}".strip(), previous_ids, tuple(previous_names))
    if not names and words & PRONOUNS and (previous_ids or previous_names):
        return FollowUp(f"{question} ({', '.join(previous_names)})" if previous_names else question, previous_ids,
                        tuple(previous_names))
    return FollowUp(question)


def required_names(question: str, named: list[str], resolved: list[str], leaned_on: tuple[str, ...]) -> list[str]:
    """The names a passage must mention to answer ``question`` (pure): the records it names, its
    names of two words or more (``Yuki Tanaka``) and those it asks something of (``Kenji's``),
    and the entities a follow-up leans on. A lone capitalized word is often a description
    (``Swedish``, ``Golang``, ``Portugal's capital`` for Lisbon), so it alone is not required."""
    out: list[str] = []
    for name in named:
        possessive = re.search(rf"{re.escape(name)}['’]s\b", question) is not None
        if name in resolved or len(name.split()) > 1 or possessive:
            out.append(name)
    return out + [n for n in leaned_on if n not in out]


async def load_session(tenant: Tenant, session_id: str | None, now: datetime, ttl: timedelta
                       ) -> tuple[str, list[JsonObject]]:
    """The session's id and its turns, oldest first (a new session without ``session_id``); 404
    for an unknown session or one idle longer than ``ttl``."""
    if session_id is None:
        return secrets.token_urlsafe(12), []
    session = await repository.get_session(tenant, session_id)
    if session is None or session.updated_at < now - ttl:
        raise NotFound("Unknown or expired session_id: sessions end after "
                       f"{ttl.total_seconds() / 3600:g} h without a question; start a new one by leaving it out")
    return session_id, session.turns


def _passage_json(passage: RecalledPassage) -> PassageJson:
    item = passage.item
    return {"id": item.id, "source_type": item.source_type, "source_id": item.source_id, "context": item.context,
            "content": item.content, "sentence": passage.sentence, "created_at": iso(item.created_at),
            "score": passage.score, "entity_ids": list(item.entity_ids),
            "replaces": [_passage_json(p) for p in passage.replaces]}


async def _link_artifacts(tenant: Tenant, passages: list[PassageJson]) -> None:
    """Give every passage the artifact it came from (an insight's is the artifact it was read in)."""
    flat = [p for lead in passages for p in (lead, *lead["replaces"])]
    insight_ids = [p["source_id"] for p in flat if p["source_type"] == "insight"]
    found = await repository.insight_artifacts(tenant, insight_ids) if insight_ids else {}
    for p in flat:
        artifact = p["source_id"] if p["source_type"] == "artifact" else found.get(p["source_id"])
        if artifact is not None:
            p["artifact_id"] = artifact


async def _recall(tenant: Tenant, memory: MemoryPort | None, query: str, entity_ids: list[int],
                  names: list[str], required: list[str]) -> Recollection:
    if memory is not None:
        return await memory.recall(tenant, query, entity_ids=entity_ids, entity_names=names, required_names=required)
    found = await search_text(tenant, query, limit=10)  # no ranking model in this process: keywords only
    return Recollection(tuple(RecalledPassage(i, i.keyword_score, i.content) for i in found),
                        found[0].keyword_score if found else 0.0, False, "postgres_fulltext", True)


async def entity_references(tenant: Tenant, schema: WorkspaceSchema, ordered: list[int]
                            ) -> list[EntityReferenceJson]:
    """``{id, name, type, count}`` of the entities an answer rests on, in the given (relevance) order;
    ``count`` is how many memory items mention the entity. Deleted records are left out."""
    ids = list(dict.fromkeys(ordered))[:MAX_REFERENCES]
    rows = {r.id: r for r in await get_records(tenant, ids)}
    counts = await mention_counts(tenant, ids)
    out: list[EntityReferenceJson] = []
    for record_id in ids:
        row = rows.get(record_id)
        obj = schema.object_by_id(row.object_id) if row is not None else None
        if row is not None and obj is not None:
            out.append({"id": record_id, "name": primary_value(obj, row.data), "type": _type_label(obj),
                        "count": counts.get(record_id, 0)})
    return out


async def ask(tenant: Tenant, schema: WorkspaceSchema, search: SearchPort | None, intelligence: IntelligencePort,
              memory: MemoryPort | None, question: str, session_id: str | None, now: datetime,
              session_ttl: timedelta) -> AskJson:
    session_id, turns = await load_session(tenant, session_id, now, session_ttl)
    terms = intelligence.question_terms(question)
    turn = follow_up(question, terms.get("names", []), turns[-1] if turns else None)
    if turn.query != question:
        terms = intelligence.question_terms(turn.query) if not turn.entity_ids else terms
    entities, searched = await resolve(tenant, schema, search, terms, list(turn.entity_ids))
    facts = await gather(tenant, schema, entities)
    names = [f["name"] for f in facts] or list(turn.entity_names)
    required = required_names(question, terms.get("names", []), [f["name"] for f in facts], turn.entity_names)
    recollection = await _recall(tenant, memory, turn.query, [f["id"] for f in facts], names, required)
    passages = [_passage_json(p) for p in recollection.passages]
    await _link_artifacts(tenant, passages)
    answer = await intelligence.answer(question, {
        "entities": facts, "workspace_wide": not facts, "total_entities_searched": searched, "terms": terms,
        "passages": passages, "recall_confidence": recollection.confidence, "answerable": recollection.answerable})
    cited = answer["passages_cited"]
    referenced = [f["id"] for f in facts] + [e for p in passages if p["id"] in cited for e in p["entity_ids"]]
    references = await entity_references(tenant, schema, referenced)
    turns.append({"query": turn.query, "entity_ids": list[JsonValue](r["id"] for r in references[:MAX_ENTITIES]),
                  "entity_names": list[JsonValue](r["name"] for r in references[:MAX_ENTITIES]),
                  "answer": answer["answer"]})
    await repository.save_session(tenant, session_id, turns[-MAX_TURNS:], now)
    metadata: AskMetadataJson = {
        "query_type": "entity_specific" if facts else "workspace_wide", "total_entities_searched": searched,
        "confidence": answer["confidence"], "retrieval": recollection.retrieval,
        "degraded": recollection.degraded, "recall_confidence": recollection.confidence,
        "recall_residual": recollection.residual,
        "passages_considered": len(passages), "answered_from_memory": bool(cited),
        "passages_ranked": [{"memory_item_id": p["id"], "source_type": p["source_type"], "source_id": p["source_id"],
                             "score": p["score"]} for p in passages[:5]]}
    if not recollection.answerable and recollection.why_not:
        metadata["not_answered_because"] = recollection.why_not
    if recollection.degraded:
        metadata["degraded_reason"] = ("the search engine could not answer; keyword matches from PostgreSQL full "
                                       "text were used without vector search")
    if turn.query != question:
        metadata["resolved_query"] = turn.query
    return {
        "answer": answer["answer"],
        "entities_considered": [{"id": f["id"], "name": f["name"], "type": f["type"], "reason": f["reason"],
                                 "insights_matched": len(f["insights"]), "score": f["score"]} for f in facts],
        "entity_references": references,
        "signals_used": answer["signals_used"],
        "metadata": metadata,
        "session_id": session_id,
    }
