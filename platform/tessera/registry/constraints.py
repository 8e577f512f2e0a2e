"""Checks a schema change must pass against the records that already exist, and the
back-fill of uniqueness claims when ``is_unique`` is switched on."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func

from schema_registry.definitions import AttributeDefinition
from schema_registry.types import attribute_type
from tessera.db.tables import records
from tessera.db.tenant import Tenant
from tessera.records import repository as records_repository
from tessera.records.values import claim_key
from tessera.wire import JsonValue


async def count_records(tenant: Tenant, object_id: int) -> int:
    stmt = tenant.select(records, func.count()).where(records.c.object_id == object_id)
    return int((await tenant.execute(stmt)).scalar_one())


async def count_missing(tenant: Tenant, attribute: AttributeDefinition) -> int:
    """Records of the attribute's object that hold no value for it."""
    stmt = tenant.select(records, func.count()).where(
        records.c.object_id == attribute.object_id,
        ~records.c.data.has_key(str(attribute.id)),
    )
    return int((await tenant.execute(stmt)).scalar_one())


async def count_multi_valued(tenant: Tenant, attribute: AttributeDefinition) -> int:
    return await records_repository.count_multi_valued(tenant, attribute.id)


async def count_fractional(tenant: Tenant, attribute: AttributeDefinition) -> int:
    return await records_repository.count_fractional(tenant, attribute.id)


async def _stored_values(tenant: Tenant, attribute: AttributeDefinition) -> list[tuple[int, list[JsonValue]]]:
    """Each record holding the attribute, with the stored forms of its values."""
    key = str(attribute.id)
    stmt = tenant.select(records, records.c.id, records.c.data[key].label("stored")).where(
        records.c.object_id == attribute.object_id, records.c.data.has_key(key))
    return [(int(row["id"]), list(row["stored"] or [])) for row in (await tenant.execute(stmt)).mappings()]


async def claim_unique_values(tenant: Tenant, attribute: AttributeDefinition) -> int:
    """Switch uniqueness on for existing values. Returns how many records conflict (then nothing
    is written); 0 means every value now holds its claim."""
    kind = attribute_type(attribute.type)
    owners: dict[str, int] = {}
    counts: Counter[str] = Counter()
    holders: dict[str, set[int]] = {}
    for record_id, stored_list in await _stored_values(tenant, attribute):
        for stored in stored_list or []:
            key = claim_key(kind.unique_key(stored, attribute))
            holders.setdefault(key, set()).add(record_id)
            counts[key] += 1
            owners[key] = record_id
    conflicting = {r for key, ids in holders.items() if len(ids) > 1 for r in ids}
    if conflicting:
        return len(conflicting)
    await records_repository.add_claims(tenant, attribute.id, owners)
    return 0


async def release_unique_values(tenant: Tenant, attribute: AttributeDefinition) -> None:
    await records_repository.drop_claims(tenant, attribute.id)
