"""The synthetic "deal" records of the record-engine benchmarks (``bench_records``,
``bench_storage``): one object definition and a seeded generator of write-form bodies.

Ten attributes of mixed types, values drawn with realistic skew: ``stage`` and ``region`` are
skewed selects, ``score`` is uniform 0-100, ``amount`` log-normal, ``owner_email`` Zipf-like over
250 owners. Every attribute but ``name`` is missing from about 10 % of the records, so sorts
exercise their NULLS LAST path. ``website`` is unique per workspace, so writes also take
uniqueness claims. ``tags`` (a multi-value select, 0-3 values) exists only when asked for: the
storage study needs a multi-value attribute for its containment filter, ``bench_records`` keeps
to the ten.

Batches are generated independently from ``(seed, stream, batch)``, so any batch can be
regenerated (the COPY floor rebuilds exactly the rows the HTTP load sent) without keeping
millions of records in memory.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from schema_registry.definitions import (
    AttributeDefinition,
    AttributeTypeName,
    ObjectDefinition,
    ObjectType,
    SelectOption,
)

OBJECT_SLUG = "deal"
MISSING = 0.10
"""Share of records without a value, per attribute (``name`` is always present)."""

STAGES = ("Lead", "Qualified", "Proposal", "Won", "Lost")
STAGE_WEIGHTS = (0.38, 0.24, 0.16, 0.12, 0.10)
REGIONS = ("NA East", "NA West", "EMEA North", "EMEA South", "APAC", "LATAM", "ANZ", "Africa")
REGION_WEIGHTS = (0.24, 0.20, 0.17, 0.12, 0.12, 0.07, 0.05, 0.03)
TAGS = ("enterprise", "smb", "renewal", "upsell", "partner", "inbound", "outbound", "priority",
        "at-risk", "expansion", "pilot", "strategic")
TAG_WEIGHTS = tuple(1 / (rank + 1) for rank in range(len(TAGS)))
CURRENCIES = ("USD", "EUR", "GBP")
CURRENCY_WEIGHTS = (0.70, 0.20, 0.10)
OWNERS = 250
OWNER_WEIGHTS = tuple(1 / (rank + 1) ** 0.8 for rank in range(OWNERS))
FIRST_CLOSE = date(2022, 1, 1)
CLOSE_DAYS = 6 * 365
ACTIVE_SHARE = 0.65
TLDS = ("com", "io", "co", "net", "org", "de", "co.uk", "fr")
WORDS = ("acme", "globex", "initech", "umbrella", "stark", "wayne", "wonka", "tyrell", "cyberdyne",
         "soylent", "hooli", "pied", "piper", "vandelay", "kramerica", "dunder", "mifflin", "prestige",
         "oscorp", "massive", "dynamic", "north", "blue", "river", "summit", "quantum", "vertex",
         "harbor", "atlas", "orbit", "crimson", "silver", "maple", "cedar", "falcon", "lumen")
NOTE_WORDS = ("call", "budget", "approved", "security", "review", "pending", "legal", "pricing",
              "champion", "decision", "maker", "demo", "scheduled", "follow", "up", "next", "quarter",
              "procurement", "signed", "renewal", "risk", "competitor", "discount", "timeline",
              "integration", "onboarding", "pilot", "expand", "seats", "contract", "the", "with", "and")


@dataclass(frozen=True)
class AttributeSpec:
    """One attribute as created through the API (``POST /v1/objects/{slug}/attributes``)."""

    slug: str
    name: str
    type: AttributeTypeName
    options: dict[str, Any] = field(default_factory=dict)

    def request(self) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name, "slug": self.slug, "type": self.type.value}
        if self.options:
            body["options"] = self.options
        return body


def _select(names: tuple[str, ...], **extra: Any) -> dict[str, Any]:
    return {"select_options": [{"name": name} for name in names], **extra}


ATTRIBUTES: tuple[AttributeSpec, ...] = (
    AttributeSpec("name", "Name", AttributeTypeName.TEXT),
    AttributeSpec("stage", "Stage", AttributeTypeName.SELECT, _select(STAGES)),
    AttributeSpec("amount", "Amount", AttributeTypeName.CURRENCY),
    AttributeSpec("owner_email", "Owner email", AttributeTypeName.EMAIL),
    AttributeSpec("region", "Region", AttributeTypeName.SELECT, _select(REGIONS)),
    AttributeSpec("score", "Score", AttributeTypeName.NUMBER, {"is_whole_number": True}),
    AttributeSpec("close_date", "Close date", AttributeTypeName.DATE),
    AttributeSpec("is_active", "Active", AttributeTypeName.BOOLEAN),
    AttributeSpec("website", "Website", AttributeTypeName.DOMAIN, {"is_unique": True}),
    AttributeSpec("notes", "Notes", AttributeTypeName.TEXT),
)
TAGS_ATTRIBUTE = AttributeSpec("tags", "Tags", AttributeTypeName.SELECT, _select(TAGS, is_multi_value=True))


def attribute_specs(with_tags: bool = False) -> tuple[AttributeSpec, ...]:
    return (*ATTRIBUTES, TAGS_ATTRIBUTE) if with_tags else ATTRIBUTES


def object_definition(workspace_id: int, object_id: int, first_attribute_id: int,
                      with_tags: bool = False) -> ObjectDefinition:
    """The object as the registry would load it, with the given ids; select option ids are
    ``opt_<slug>_<n>``. For experiments that write rows without the API (``bench_storage``)."""
    attributes = []
    for position, spec in enumerate(attribute_specs(with_tags)):
        options = spec.options
        select_options = tuple(SelectOption(f"opt_{spec.slug}_{n}", option["name"])
                               for n, option in enumerate(options.get("select_options", ())))
        attributes.append(AttributeDefinition(
            id=first_attribute_id + position, object_id=object_id, slug=spec.slug, name=spec.name, type=spec.type,
            is_unique=bool(options.get("is_unique")), is_multi_value=bool(options.get("is_multi_value")),
            is_whole_number=bool(options.get("is_whole_number")), select_options=select_options,
            position=position))
    return ObjectDefinition(id=object_id, workspace_id=workspace_id, slug=OBJECT_SLUG, name="Deal",
                            type=ObjectType.CUSTOM, schema_version=1, attributes=tuple(attributes))


def generate_batch(seed: int, stream: int, batch: int, size: int, with_tags: bool = False) -> list[dict[str, Any]]:
    """``size`` write-form attribute dicts, the same for the same arguments. ``stream`` separates
    workspaces; record ``n`` of the stream is ``batch * size + i``, and ``website`` holds both
    (unique across streams too, as long as every batch of a stream has the same ``size``)."""
    rng = random.Random(f"tessera-bench:{seed}:{stream}:{batch}")
    rand, choices, randrange = rng.random, rng.choices, rng.randrange
    records = []
    for i in range(size):
        n = batch * size + i
        word = WORDS[n % len(WORDS)]
        attributes: dict[str, Any] = {"name": f"{word.title()} {WORDS[randrange(len(WORDS))]} deal #{n}"}
        if rand() >= MISSING:
            attributes["stage"] = choices(STAGES, STAGE_WEIGHTS)[0]
        if rand() >= MISSING:
            attributes["amount"] = {"amount": round(rng.lognormvariate(9.0, 1.2), 2),
                                    "currency_code": choices(CURRENCIES, CURRENCY_WEIGHTS)[0]}
        if rand() >= MISSING:
            owner = choices(range(OWNERS), OWNER_WEIGHTS)[0]
            attributes["owner_email"] = f"Owner.{owner}@sales{owner % 7}.example.com"
        if rand() >= MISSING:
            attributes["region"] = choices(REGIONS, REGION_WEIGHTS)[0]
        if rand() >= MISSING:
            attributes["score"] = randrange(101)
        if rand() >= MISSING:
            attributes["close_date"] = (FIRST_CLOSE + timedelta(days=randrange(CLOSE_DAYS))).isoformat()
        if rand() >= MISSING:
            attributes["is_active"] = rand() < ACTIVE_SHARE
        if rand() >= MISSING:
            attributes["website"] = f"https://www.{word}-{stream}-{n}.{TLDS[n % len(TLDS)]}/"
        if rand() >= MISSING:
            words = rng.choices(NOTE_WORDS, k=6 + randrange(30))
            attributes["notes"] = " ".join(words).capitalize() + "."
        if with_tags and rand() >= MISSING:
            count = 1 + randrange(3)
            attributes["tags"] = sorted(set(choices(TAGS, TAG_WEIGHTS, k=count)))
        records.append(attributes)
    return records
