"""Briefs, the workspace playbook and agent skills: compile (a new version only when the inputs'
hash changed), read with private briefs shown only to the key that compiled them, history."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final, Literal

from schema_registry.definitions import ObjectDefinition, ObjectType
from schema_registry.workspace import WorkspaceSchema
from tessera.briefs import repository
from tessera.briefs.compose import PLAYBOOK_SLUG, compose_brief, compose_playbook
from tessera.briefs.document import (
    Document,
    changes_json,
    diff_sections,
    digest_sections,
    hash_inputs,
    parse_digests,
    summarize_changes,
    to_markdown,
)
from tessera.briefs.gather import evidence_records, gather_brief
from tessera.briefs.repository import Brief, BriefVersion, Skill
from tessera.briefs.skills import Person, assign_slugs, compose_skill
from tessera.compounding.rules import MAX_RULES, list_rules
from tessera.db.tenant import Tenant
from tessera.errors import BadRequest, FieldError, NotFound
from tessera.records.repository import RecordRow, get_records
from tessera.records.values import primary_value
from tessera.wire import parse_id

Outcome = Literal["created", "updated", "unchanged"]
PEOPLE_PER_SKILL: Final = 10
WORKSPACE_SLUGS: Final = (PLAYBOOK_SLUG,)


@dataclass(frozen=True, slots=True)
class Compiled:
    brief: Brief
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class SkillCompilation:
    created: int
    updated: int
    unchanged: int
    removed: int
    skills: list[Skill]


def brief_key(record_id: int, owner_key_id: int | None) -> str:
    return f"private:{owner_key_id}:{record_id}" if owner_key_id is not None else f"entity:{record_id}"


class BriefService:
    """Briefs as one API key sees them (``viewer_key_id``: its private briefs are its own)."""

    def __init__(self, tenant: Tenant, schema: WorkspaceSchema, now: datetime, viewer_key_id: int) -> None:
        self.tenant = tenant
        self.schema = schema
        self.now = now
        self.viewer = viewer_key_id

    async def record(self, raw: str) -> tuple[ObjectDefinition, RecordRow]:
        """The record ``raw`` names; 404 unless it is a record (not a list entry) of this workspace."""
        record_id = parse_id(raw)
        rows = await get_records(self.tenant, [record_id]) if record_id is not None else []
        obj = self.schema.object_by_id(rows[0].object_id) if rows else None
        if not rows or obj is None or obj.type == ObjectType.LIST:
            raise NotFound("context_id does not name a record of this workspace")
        return obj, rows[0]

    async def _save(self, doc: Document, *, key: str, scope_type: int, record_id: int | None, slug: str | None,
                    owner_key_id: int | None) -> Compiled:
        await repository.lock_key(self.tenant, key)
        existing = await repository.by_key(self.tenant, key)
        input_hash = hash_inputs(doc)
        digests = digest_sections(doc)
        if existing is None:
            brief = await repository.insert_brief(
                self.tenant, scope_type=scope_type, key=key, record_id=record_id, slug=slug, owner_key_id=owner_key_id,
                title=doc.title, content=to_markdown(doc), sections=digests, input_hash=input_hash, now=self.now)
            await repository.insert_version(self.tenant, brief, changes=changes_json(diff_sections([], digests)),
                                            summary=summarize_changes(diff_sections([], digests), first=True))
            return Compiled(brief, "created")
        if existing.input_hash == input_hash:
            await repository.mark_checked(self.tenant, existing.id, self.now)
            return Compiled(replace(existing, checked_at=self.now), "unchanged")
        changes = diff_sections(parse_digests(existing.sections), digests)
        brief = await repository.update_brief(self.tenant, existing.id, title=doc.title, content=to_markdown(doc),
                                              sections=digests, input_hash=input_hash, now=self.now)
        await repository.insert_version(self.tenant, brief, changes=changes_json(changes),
                                        summary=summarize_changes(changes, first=False))
        return Compiled(brief, "updated")

    async def compile_record(self, obj: ObjectDefinition, row: RecordRow, *, owner_key_id: int | None) -> Compiled:
        """Compile the record's brief (shared, or private to ``owner_key_id``)."""
        doc = compose_brief(await gather_brief(self.tenant, self.schema, obj, row))
        return await self._save(doc, key=brief_key(row.id, owner_key_id), scope_type=repository.PRIVATE
                                if owner_key_id is not None else repository.ENTITY, record_id=row.id, slug=None,
                                owner_key_id=owner_key_id)

    async def compile(self, context_id: str | None, *, private: bool) -> Compiled:
        """``POST /v1/playbooks/compile``: the record's brief, or without ``context_id`` the
        workspace playbook (which is never private)."""
        if context_id is None:
            if private:
                raise BadRequest("is_private needs a context_id: the workspace playbook is shared",
                                 errors=[FieldError("is_private", "needs context_id")])
            return await self.compile_playbook()
        obj, row = await self.record(context_id)
        return await self.compile_record(obj, row, owner_key_id=self.viewer if private else None)

    async def compile_playbook(self) -> Compiled:
        doc = compose_playbook(await list_rules(self.tenant))
        return await self._save(doc, key=f"workspace:{PLAYBOOK_SLUG}", scope_type=repository.WORKSPACE_PLAYBOOK,
                                record_id=None, slug=PLAYBOOK_SLUG, owner_key_id=None)

    async def refresh_playbook(self) -> None:
        """Bring the workspace playbook up to date with the rules (compiled on read, so it never
        lags them): only once there is a rule or a playbook already."""
        if await repository.by_key(self.tenant, f"workspace:{PLAYBOOK_SLUG}") is not None \
                or await list_rules(self.tenant, limit=1):
            await self.compile_playbook()

    async def get(self, raw_id: str) -> Brief:
        brief_id = parse_id(raw_id)
        brief = await repository.get_brief(self.tenant, brief_id, self.viewer) if brief_id is not None else None
        if brief is None:
            raise NotFound("Brief not found")
        return brief

    async def by_context(self, context_id: str) -> Brief:
        """The record's shared brief, else the caller's private one; 404 when it has neither."""
        _, row = await self.record(context_id)
        found = await repository.briefs_of_record(self.tenant, row.id, self.viewer)
        if not found:
            raise NotFound("No brief exists for this record yet; compile one with POST /v1/playbooks/compile")
        return found[0]

    async def workspace(self, slug: str) -> Brief:
        if slug not in WORKSPACE_SLUGS:
            raise NotFound(f"No workspace playbook '{slug[:80]}' (there is: {', '.join(WORKSPACE_SLUGS)})")
        return (await self.compile_playbook()).brief

    async def page(self, *, scope_type: int | None, limit: int, offset: int) -> tuple[list[Brief], int]:
        if scope_type in (None, repository.WORKSPACE_PLAYBOOK):
            await self.refresh_playbook()
        return await repository.list_briefs(self.tenant, self.viewer, scope_type=scope_type, limit=limit,
                                            offset=offset)

    async def history(self, raw_id: str, *, limit: int) -> tuple[Brief, list[BriefVersion]]:
        brief = await self.get(raw_id)
        return brief, await repository.versions(self.tenant, brief.id, limit=limit)


class SkillService:
    def __init__(self, tenant: Tenant, schema: WorkspaceSchema, now: datetime) -> None:
        self.tenant = tenant
        self.schema = schema
        self.now = now

    async def _people(self, record_ids: list[int]) -> dict[int, Person]:
        out = {}
        for row in await get_records(self.tenant, record_ids):
            obj = self.schema.object_by_id(row.object_id)
            if obj is not None:
                out[row.id] = Person(row.id, primary_value(obj, row.data) or f"record {row.id}", obj.slug)
        return out

    async def compile(self, *, force: bool) -> SkillCompilation:
        """One skill per active rule: new rules' skills created, changed ones (or all, with
        ``force``) given a new version, unchanged ones left as they are, and the skills of rules
        no longer active removed."""
        await repository.lock_key(self.tenant, "skills")
        rules = await list_rules(self.tenant)
        slugs = assign_slugs(rules)
        existing = {s.rule_id: s for s in await repository.all_skills(self.tenant, limit=MAX_RULES * 2)}
        active = {r.id for r in rules}
        gone = [s.id for rule_id, s in existing.items() if rule_id not in active]
        await repository.delete_skills(self.tenant, gone)
        await repository.park_slugs(self.tenant, [s.id for rule_id, s in existing.items()
                                                  if rule_id in active and s.slug != slugs[rule_id]])
        named = {r.id: evidence_records(r.evidence)[:PEOPLE_PER_SKILL] for r in rules}
        people = await self._people(sorted({i for ids in named.values() for i in ids}))
        created = updated = unchanged = 0
        skills = []
        for rule in rules:
            doc = compose_skill(rule, slugs[rule.id], self.schema.objects,
                                [people[i] for i in named[rule.id] if i in people])
            before = existing.get(rule.id)
            if before is not None and not force and before.input_hash == doc.input_hash and before.slug == doc.slug:
                unchanged += 1
                skills.append(before)
                continue
            skills.append(await repository.save_skill(
                self.tenant, before, rule_id=rule.id, slug=doc.slug, title=doc.title, description=doc.description,
                trigger=doc.trigger, confidence=doc.confidence, content=doc.content, input_hash=doc.input_hash,
                now=self.now))
            created, updated = (created + 1, updated) if before is None else (created, updated + 1)
        return SkillCompilation(created, updated, unchanged, len(gone), skills)

    async def get(self, raw_id: str) -> Skill:
        skill_id = parse_id(raw_id)
        skill = await repository.get_skill(self.tenant, skill_id) if skill_id is not None else None
        if skill is None:
            raise NotFound("Skill not found")
        return skill

    async def by_slug(self, slug: str) -> Skill:
        skill = await repository.skill_by_slug(self.tenant, slug) if len(slug) <= 200 else None
        if skill is None:
            raise NotFound("Skill not found")
        return skill

    async def page(self, *, limit: int, offset: int) -> tuple[list[Skill], int]:
        return await repository.list_skills(self.tenant, limit=limit, offset=offset)
