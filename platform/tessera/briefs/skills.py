"""Agent skills: an executable workflow written from one playbook rule, grounded in the workspace's
schema (real object and attribute slugs), the records its evidence names and the Tessera endpoints
an agent calls to carry it out. Markdown with YAML frontmatter. Pure functions, no I/O."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import orjson
import yaml

from schema_registry.definitions import ObjectDefinition
from tessera.briefs.compose import describe_evidence
from tessera.briefs.document import RENDERER, one_line, slugify
from tessera.compounding.rules import PlaybookRule

_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Tool:
    method: str
    path: str
    purpose: str


@dataclass(frozen=True, slots=True)
class Person:
    """A record the rule's evidence names."""

    id: int
    name: str
    object_slug: str


@dataclass(frozen=True, slots=True)
class SkillDocument:
    slug: str
    title: str
    description: str
    trigger: str
    confidence: float
    content: str
    input_hash: str


ALWAYS: Final = (
    Tool("GET", "/v1/playbooks/by-context/{context_id}", "read the record's brief before acting"),
    Tool("POST", "/v1/context/ask", "check what the workspace knows about the situation"),
)
_BY_WORDS: Final = (
    (frozenset({"send", "email", "call", "schedule", "follow", "book", "share", "reply", "remind", "meeting",
                "within", "day", "days", "week"}),
     Tool("POST", "/v1/tasks", "create the follow-up task, linked to the record, with its due date")),
    (frozenset({"update", "stage", "status", "mark", "move", "set", "change", "tag", "flag"}),
     Tool("PATCH", "/v1/records/{record_id}", "update the record's attributes")),
    (frozenset({"find", "search", "look", "similar", "other", "lookup", "identify"}),
     Tool("POST", "/v1/search", "find the records the step applies to")),
)
LOG: Final = Tool("POST", "/v1/notes", "log what was done and the outcome on the record")


def words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def choose_tools(rule: PlaybookRule) -> list[Tool]:
    """The endpoints the skill uses: reading the brief and asking always, then those the action's
    words call for, and logging the outcome."""
    said = words(f"{rule.trigger} {rule.action}")
    return [*ALWAYS, *(tool for vocabulary, tool in _BY_WORDS if said & vocabulary), LOG]


def touched_objects(rule: PlaybookRule, objects: Sequence[ObjectDefinition], people: Sequence[Person]
                    ) -> list[tuple[ObjectDefinition, list[str]]]:
    """The objects the skill touches (those of the records its evidence names, and any whose name
    the rule says), each with the attribute slugs it reads or writes: the primary one and those
    whose name or slug the rule's words name."""
    said = words(f"{rule.title} {rule.trigger} {rule.action}")
    named = {p.object_slug for p in people}
    out = []
    for obj in objects:
        if obj.type.value == "list":
            continue
        mentioned = obj.slug in named or bool(said & (words(obj.name) | words(obj.slug) | words(obj.name_plural)))
        if not mentioned:
            continue
        primary = obj.primary_attribute
        slugs = [a.slug for a in obj.attributes
                 if (primary is not None and a.id == primary.id)
                 or said & (words(a.name) | words(a.slug.replace("_", " ")))]
        out.append((obj, list(dict.fromkeys(slugs))))
    return out


def compose_skill(rule: PlaybookRule, slug: str, objects: Sequence[ObjectDefinition], people: Sequence[Person]
                  ) -> SkillDocument:
    """The skill for ``rule`` under ``slug``: frontmatter (name, slug, description, trigger, action,
    confidence, support, tools, people, objects, source rule) and a body of steps and evidence."""
    tools = choose_tools(rule)
    touched = touched_objects(rule, objects, people)
    description = one_line(f"When {rule.trigger}, {rule.action}.", 300)
    frontmatter: dict[str, Any] = {
        "name": slug, "slug": slug, "title": rule.title, "description": description, "trigger": rule.trigger,
        "action": rule.action, "confidence": round(float(rule.confidence), 4), "support": rule.support,
        "tools": [{"method": t.method, "path": t.path, "purpose": t.purpose} for t in tools],
        "people": [{"id": str(p.id), "name": p.name, "object": p.object_slug} for p in people],
        "objects": [{"slug": obj.slug, "name": obj.name, "attributes": attrs} for obj, attrs in touched],
        "source": {"rule_id": str(rule.id), "fingerprint": rule.fingerprint},
    }
    steps = [f"Confirm the trigger: {rule.trigger}. Read the record's brief "
             f"(`GET /v1/playbooks/by-context/{{context_id}}`) and ask what is known (`POST /v1/context/ask`).",
             f"Act: {rule.action}."]
    steps += [f"{t.purpose[0].upper()}{t.purpose[1:]} (`{t.method} {t.path}`)." for t in tools[len(ALWAYS):]]
    steps = [f"{n}. {step}" for n, step in enumerate(steps, 1)]
    body = [f"# {rule.title}", "", description, "", "## Steps", "", *steps]
    if touched:
        body += ["", "## Schema", ""]
        body += [f"- `{obj.slug}` ({obj.name}): " + ", ".join(f"`{a}`" for a in attrs) for obj, attrs in touched]
    if people:
        body += ["", "## People involved", ""]
        body += [f"- {p.name} (`{p.object_slug}`) [record {p.id}]" for p in people]
    body += ["", "## Evidence", "", f"- Support: {rule.support} · confidence {rule.confidence:.2f} [rule {rule.id}]"]
    body += [f"- {describe_evidence(item)}" for item in rule.evidence[:10]]
    content = "---\n" + yaml.safe_dump(frontmatter, sort_keys=False, allow_unicode=True) + "---\n\n" \
        + "\n".join(body) + "\n"
    digest = hashlib.sha256(orjson.dumps([RENDERER, content])).hexdigest()
    return SkillDocument(slug, rule.title, description, rule.trigger, float(rule.confidence), content,
                         f"sha256:{digest}")


def assign_slugs(rules: Sequence[PlaybookRule]) -> dict[int, str]:
    """A distinct slug per rule, from its title (a rule whose title's slug an earlier rule took
    gets its id appended), in the rules' order."""
    taken: set[str] = set()
    out = {}
    for rule in rules:
        slug = slugify(rule.title)
        if slug in taken:
            slug = f"{slug[:40]}-{rule.id}"
        taken.add(slug)
        out[rule.id] = slug
    return out


def parse_frontmatter(content: str) -> dict[str, Any]:
    """The YAML frontmatter of a skill document (empty when it has none)."""
    if not content.startswith("---\n"):
        return {}
    head, _, _ = content[4:].partition("\n---\n")
    loaded = yaml.safe_load(head)
    return loaded if isinstance(loaded, dict) else {}
