"""Context jobs: turn an artifact's text into records, links and insights; build AI lists.

Each job runs in two transactions: the first marks the row ``processing`` (visible to the API),
the second does all the work and marks it ``completed`` atomically. A crash between them leaves
the row ``processing`` with nothing half-written; the stranded-work sweep re-queues it and the
second transaction simply runs again. Entities are matched before they are created (unique
values first, then exact names), and insights carry a dedupe key, so a retried job never
duplicates records or insights.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog

from schema_registry.definitions import ObjectDefinition, RelationshipType
from schema_registry.workspace import WorkspaceSchema
from tessera.changes import Actor, Changes, Stamp
from tessera.context import memory
from tessera.db.ids import IdAllocator
from tessera.db.sql import Params
from tessera.db.tenant import Tenant
from tessera.errors import BadRequest, Conflict, NotFound
from tessera.records.repository import RecordRow, find_by_unique
from tessera.records.service import RecordService
from tessera.records.values import read_attributes, unique_keys
from tessera.registry.cache import SchemaCache
from tessera.registry.service import RegistryService
from tessera.wire import JsonValue
from workers.deps import deps
from workers.intelligence.model import CompanyMention, Extraction, PersonMention
from workers.intelligence.model import to_json as extraction_to_json
from workers.jobs import ARTIFACT, NOTIFY, claim, fail, leased
from workers.notification_jobs import queue_context_run

log = structlog.get_logger(__name__)
WORKS_AT = ("employs", "works at")
MAX_UNNAMED_SUBJECTS = 5
"""A signal that names no one (``our budget is $40,000``) is about the artifact's entities only
when it has at most this many; with more, it is about none of them in particular."""


@dataclass
class Resolved:
    """What one artifact's entities became."""

    companies: dict[int, RecordRow] = field(default_factory=dict)  # mention index -> record
    people: dict[int, RecordRow] = field(default_factory=dict)
    extracted: list[dict[str, Any]] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    relationships: int = 0


async def _find_by_name(tenant: Tenant, obj: ObjectDefinition, name: str) -> RecordRow | None:
    attribute = obj.primary_attribute
    if attribute is None or not name.strip():
        return None
    from tessera.records.repository import find_by_text, lock_record

    record_id = await find_by_text(tenant, attribute.id, name.strip())
    if record_id is None:
        return None
    return await lock_record(tenant, record_id)


def _props(mention: PersonMention | CompanyMention) -> dict[str, Any]:
    if isinstance(mention, PersonMention):
        out: dict[str, Any] = {"name": mention.name, "email": mention.emails[0] if mention.emails else None,
                               "job_title": mention.job_title}
    else:
        out = {"name": mention.name, "domain": mention.domains[0] if mention.domains else None}
    return {k: v for k, v in out.items() if v}


async def _resolve(service: RecordService, obj: ObjectDefinition, unique_slug: str, values: dict[str, Any],
                   name: str | None, mention: PersonMention | CompanyMention, kind: str, artifact_id: int,
                   resolved: Resolved) -> RecordRow | None:
    """``_resolve_once`` in a savepoint. A value the workspace refuses skips the mention; losing a
    unique value to a concurrent writer (an API call: artifacts of one workspace are applied one at
    a time) undoes the attempt and matches again, now against the committed winner."""
    tenant = service.tenant
    for attempt in range(2):
        await tenant.savepoint("mention")
        try:
            row = await _resolve_once(service, obj, unique_slug, dict(values), name, mention, kind, artifact_id,
                                      resolved)
        except (BadRequest, NotFound, Conflict) as err:
            await tenant.rollback_to("mention")
            if isinstance(err, Conflict) and attempt == 0:
                continue
            log.info("context_entity_skipped", kind=kind, error=err.message[:200])
            return None
        await tenant.release("mention")
        return row
    return None


async def _resolve_once(service: RecordService, obj: ObjectDefinition, unique_slug: str, values: dict[str, Any],
                        name: str | None, mention: PersonMention | CompanyMention, kind: str, artifact_id: int,
                        resolved: Resolved) -> RecordRow | None:
    """Match a mention to an existing record (unique values first, then exact name) and fill in
    what it lacks, or create it."""
    tenant = service.tenant
    row: RecordRow | None = None
    attribute = obj.attribute(unique_slug)
    if attribute is not None and values.get(unique_slug):
        stored = []
        from schema_registry.types import attribute_type
        from schema_registry.types.base import InvalidValue

        for raw in values[unique_slug]:
            try:
                stored.append(attribute_type(attribute.type).normalize(raw, attribute))
            except InvalidValue:
                continue
        values[unique_slug] = stored
        owners = set((await find_by_unique(tenant, attribute.id, unique_keys(attribute, stored))).values())
        if owners:
            _, row = await service.record(min(owners), lock=True)
    if row is None and name:
        row = await _find_by_name(tenant, obj, name)
    clean = {k: v for k, v in values.items() if v}
    if row is None and not (name or clean.get(unique_slug)):
        # Nothing left that could find this record again (say its only address was refused):
        # creating it would add an unnamed record on every run.
        log.info("context_entity_skipped", kind=kind, error="no name and no usable unique value")
        return None
    if row is None:
        row = await service.create(obj, clean)
        resolved.created += 1
        resolved.extracted.append({"type": kind, "context_id": artifact_id, "canonical_entity_id": row.id,
                                   "properties": _props(mention), "is_new": True})
        return row
    before = read_attributes(obj, row.data)
    missing = {}
    for slug, value in clean.items():
        current = before.get(slug)
        if not current:
            missing[slug] = value
        elif isinstance(current, list) and isinstance(value, list):
            merged = current + [v for v in value if v not in current]
            if merged != current:
                missing[slug] = merged
    if missing:
        row = await service.update(obj, row, missing)
        resolved.updated += 1
    entry = {"type": kind, "context_id": artifact_id, "canonical_entity_id": row.id,
             "properties": _props(mention), "is_new": False}
    if missing:
        entry["previous_properties"] = {k: before.get(k) for k in missing}
    resolved.extracted.append(entry)
    return row


async def _works_at(registry: RegistryService, schema: WorkspaceSchema, company: ObjectDefinition,
                    person: ObjectDefinition) -> int:
    for definition in schema.relationships:
        if (definition.entity_definition_1_id, definition.entity_definition_2_id) == (company.id, person.id) and \
                (definition.entity_1_to_2_predicate, definition.entity_2_to_1_predicate) == WORKS_AT:
            return definition.id
    created = await registry.relate_objects(RelationshipType.MANY_TO_MANY, company, person,
                                            predicate_1_to_2=WORKS_AT[0], predicate_2_to_1=WORKS_AT[1])
    return created.id


def _subject_records(subjects: tuple[str, ...], extraction: Extraction, resolved: Resolved) -> list[int]:
    """The records a signal is about: those its subjects name. Subjects that name no resolved
    record attach it to none (before, it was attached to every entity of the artifact)."""
    wanted = {s.casefold() for s in subjects}
    ids = []
    for index, person in enumerate(extraction.people):
        keys = {k.casefold() for k in (person.name, *person.emails) if k}
        if wanted & keys and index in resolved.people:
            ids.append(resolved.people[index].id)
    for index, company in enumerate(extraction.companies):
        keys = {k.casefold() for k in (company.name, *company.domains) if k}
        if wanted & keys and index in resolved.companies:
            ids.append(resolved.companies[index].id)
    if not ids and not subjects:
        everyone = [r.id for r in (*resolved.people.values(), *resolved.companies.values())]
        ids = everyone if len(set(everyone)) <= MAX_UNNAMED_SUBJECTS else []
    return sorted(set(ids))


@dataclass(frozen=True, slots=True)
class Caps:
    """At most this many entities (people and companies together) and insights come from one
    artifact; the rest are counted in its result as skipped."""

    entities: int = 100
    insights: int = 100


def capped(extraction: Extraction, caps: Caps) -> tuple[Extraction, int, int]:
    """The extraction within ``caps`` (first mentions first; each kind keeps at least half of the
    entity cap when it has that many), with the numbers of entities and signals left out."""
    people, companies = extraction.people, extraction.companies
    if len(people) + len(companies) > caps.entities:
        keep_companies = min(len(companies), max(caps.entities - len(people), caps.entities // 2))
        keep_people = min(len(people), caps.entities - keep_companies)
        people, companies = people[:keep_people], companies[:keep_companies]
    signals = extraction.signals[:caps.insights]
    skipped_entities = len(extraction.people) + len(extraction.companies) - len(people) - len(companies)
    return (dataclasses.replace(extraction, people=people, companies=companies, signals=signals), skipped_entities,
            len(extraction.signals) - len(signals))


async def apply_extraction(tenant: Tenant, schemas: SchemaCache, ids: IdAllocator, artifact_id: int,
                           extraction: Extraction, now: datetime,
                           caps: Caps = Caps(), told_at: datetime | None = None) -> tuple[dict[str, Any], list[int]]:
    """Write an extraction's records, links, insights and the artifact's result (one transaction).
    Returns the result and the ids of the insights created. Entities and insights past ``caps``
    are left out and counted (``entities_skipped``, ``insights_skipped``).

    Each insight becomes a memory item dated ``told_at`` (when the artifact was received), and the
    artifact's passages are tagged with the records they name.

    Artifacts of one workspace are applied one at a time (a transaction-scoped advisory lock,
    taken before the schema lock): matching mentions by name cannot be guarded by a constraint,
    and two artifacts naming the same new person must not both create her."""
    await (await tenant.driver()).execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                                          f"tessera:context:{tenant.workspace_id}")
    extraction, skipped_entities, skipped_insights = capped(extraction, caps)
    schema = await schemas.for_write(tenant)
    changes = Changes(ids, Stamp(Actor("context_extraction", str(artifact_id)), now))
    service = RecordService(tenant, schema, changes)
    person, company = schema.object("person"), schema.object("company")
    resolved = Resolved()
    for index, company_mention in enumerate(extraction.companies):
        if company is None:
            break
        row = await _resolve(service, company, "domains",
                             {"name": company_mention.name, "domains": list(company_mention.domains)},
                             company_mention.name, company_mention, "COMPANY", artifact_id, resolved)
        if row is not None:
            resolved.companies[index] = row
    for index, mention in enumerate(extraction.people):
        if person is None:
            break
        values = {"name": mention.name, "email_addresses": list(mention.emails),
                  "phone_numbers": list(mention.phones), "job_title": mention.job_title}
        row = await _resolve(service, person, "email_addresses", values, mention.name, mention, "PERSON",
                             artifact_id, resolved)
        if row is not None:
            resolved.people[index] = row
    if person is not None and company is not None:
        registry = RegistryService(tenant, schemas, changes)
        definition_id: int | None = None
        for index, mention in enumerate(extraction.people):
            target = _company_of(mention, extraction, resolved)
            if index not in resolved.people or target is None:
                continue
            if definition_id is None:
                definition_id = await _works_at(registry, await schemas.for_write(tenant), company, person)
            (rel_id,) = await ids.take(tenant.conn, 1)
            params = Params()
            relationship, definition = params.add(rel_id), params.add(definition_id)
            ends = ", ".join(params.add(v) for v in (target.id, resolved.people[index].id, now))
            created = await tenant.fetch(
                "INSERT INTO relationships (workspace_id, id, definition_id, type, entity_1_id, entity_2_id, "
                f"created_at) VALUES ($1, {relationship}, {definition}, 'many_to_many', {ends}) "
                "ON CONFLICT DO NOTHING RETURNING id", *params.values)
            resolved.relationships += len(created)
    insight_ids: list[int] = []
    for signal in extraction.signals:
        entity_ids = _subject_records(signal.subjects, extraction, resolved)
        key = hashlib.sha256(f"{artifact_id}|{signal.type}|{signal.content}".encode()).hexdigest()
        (insight_id,) = await ids.take(tenant.conn, 1)
        params = Params()
        insight = ", ".join(params.add(v) for v in (insight_id, artifact_id, signal.type, signal.content,
                                                     signal.confidence, entity_ids, key, now))
        inserted = await tenant.fetch(
            "INSERT INTO insights (workspace_id, id, artifact_id, type, content, confidence, entity_ids, dedupe_key, "
            f"created_at) VALUES ($1, {insight}) ON CONFLICT (workspace_id, dedupe_key) DO NOTHING RETURNING id",
            *params.values)
        insight_ids.extend(r["id"] for r in inserted)
        for r in inserted:
            await memory.remember(tenant, changes, "insight", r["id"], signal.content, context=signal.type,
                                  created_at=told_at or now, entity_ids=entity_ids)
    touched = sorted({r.id for r in (*resolved.people.values(), *resolved.companies.values())})
    await memory.tag_entities(tenant, changes, "artifact", artifact_id, _names(extraction, resolved))
    if touched:
        params = Params()
        artifact, records = params.add(artifact_id), params.add(touched, "bigint[]")
        new = params.add([e["canonical_entity_id"] for e in resolved.extracted if e["is_new"]], "bigint[]")
        await tenant.fetch(
            "INSERT INTO artifact_entities (workspace_id, artifact_id, record_id, is_new) "
            f"SELECT $1, {artifact}, r, r = ANY({new}) FROM unnest({records}) AS r ON CONFLICT DO NOTHING",
            *params.values)
    await changes.flush(tenant)
    result = {"entities_extracted": resolved.extracted, "entities_created": resolved.created,
              "entities_updated": resolved.updated, "relationships_created": resolved.relationships,
              "insights_created": len(insight_ids), "tasks_suggested": 0,
              "entities_skipped": skipped_entities, "insights_skipped": skipped_insights}
    return result, insight_ids


def _names(extraction: Extraction, resolved: Resolved) -> dict[int, list[str]]:
    """The names each resolved record goes by in text: a person's full, first and last name, a
    company's name."""
    names: dict[int, list[str]] = {}
    for index, row in resolved.people.items():
        full = extraction.people[index].name
        if not full:
            continue
        parts = full.split()
        names.setdefault(row.id, []).extend([full, *([parts[0], parts[-1]] if len(parts) > 1 else [])])
    for index, row in resolved.companies.items():
        if name := extraction.companies[index].name:
            names.setdefault(row.id, []).append(name)
    return names


def _company_of(mention: PersonMention, extraction: Extraction, resolved: Resolved) -> RecordRow | None:
    if mention.company:
        wanted = mention.company.casefold()
        for index, company in enumerate(extraction.companies):
            keys = {k.casefold() for k in (company.name, *company.domains) if k}
            if wanted in keys and index in resolved.companies:
                return resolved.companies[index]
    domains = {e.split("@", 1)[1] for e in mention.emails if "@" in e}
    for index, company in enumerate(extraction.companies):
        if domains & set(company.domains) and index in resolved.companies:
            return resolved.companies[index]
    return None


@leased(ARTIFACT)
async def process_artifact(ctx: dict[str, Any], workspace_id: int, artifact_id: int) -> str:
    """arq job: extract, resolve and store one artifact (idempotent)."""
    worker = deps(ctx)
    db = worker.engine
    row = await claim(db, ARTIFACT, workspace_id, artifact_id)
    if row is None:
        return "skipped"
    try:
        extraction = await worker.extractor.extract(row["content"], row["context"] or None)
    except Exception as err:  # the extractor is ours or a remote model: anything can go wrong
        log.warning("context_extraction_failed", artifact_id=artifact_id, error_type=type(err).__name__)
        await fail(db, ARTIFACT, workspace_id, artifact_id, row["attempts"], err, prefix="extraction failed: ")
        return "failed"
    now = datetime.now(UTC)
    notification_run: int | None = None
    try:
        async with db.begin() as conn:
            tenant = Tenant(conn, workspace_id)
            locked = Params()
            current = await tenant.fetchrow(
                f"SELECT status FROM artifacts WHERE workspace_id = $1 AND id = {locked.add(artifact_id)} FOR UPDATE",
                *locked.values)
            if current is None or current["status"] == "completed":
                return "skipped"
            settings = worker.settings
            caps = Caps(settings.context_max_entities_per_artifact, settings.context_max_insights_per_artifact)
            result, insight_ids = await apply_extraction(tenant, worker.schemas_cache, worker.ids, artifact_id,
                                                         extraction, now, caps, told_at=row["created_at"])
            params = Params()
            artifact = params.add(artifact_id)
            read = params.add(orjson.dumps(result).decode(), "jsonb")
            extracted = params.add(orjson.dumps(extraction_to_json(extraction)).decode(), "jsonb")
            at = params.add(now)
            await tenant.fetch(
                f"UPDATE artifacts SET status = 'completed', result = {read}, extraction = {extracted}, error = NULL, "
                f"completed_at = {at}, updated_at = {at} WHERE workspace_id = $1 AND id = {artifact}", *params.values)
            notification_run = await queue_context_run(tenant, worker.ids, artifact_id)
    except Exception as err:  # e.g. the database went away: back to pending, the sweep retries it in seconds
        cause = err.__cause__
        log.warning("context_apply_failed", artifact_id=artifact_id, error_type=type(err).__name__,
                    cause=type(cause).__name__ if cause else None, sqlstate=getattr(cause, "sqlstate", None))
        with contextlib.suppress(Exception):
            await fail(db, ARTIFACT, workspace_id, artifact_id, row["attempts"], err, prefix="storing failed: ")
        return "failed"
    if insight_ids:
        await worker.redis_client.publish(f"tessera:insights:{workspace_id}",
                                          {"insight_ids": list[JsonValue](insight_ids)})
    await worker.redis_client.enqueue("relay_search", job_id="relay_search")
    await worker.redis_client.enqueue("relay_memory", job_id="relay_memory")
    if notification_run is not None:  # custom rules read the new context (workers/notification_jobs.py)
        await worker.redis_client.enqueue(NOTIFY.function, workspace_id, notification_run,
                                          job_id=NOTIFY.job_id(notification_run))
    return "completed"
