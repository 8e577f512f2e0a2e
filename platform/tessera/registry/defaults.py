"""The objects every workspace starts with (contract: person and company)."""

from __future__ import annotations

from typing import NotRequired, TypedDict

from tessera.db.tables import attribute_definitions, object_definitions
from tessera.db.tenant import Tenant


class DefaultAttribute(TypedDict):
    slug: str
    name: str
    type: str
    is_multi_value: NotRequired[bool]
    is_unique: NotRequired[bool]
    is_whole_number: NotRequired[bool]


class DefaultObject(TypedDict):
    slug: str
    name: str
    name_plural: str
    type: str
    description: str
    attributes: tuple[DefaultAttribute, ...]


DEFAULT_OBJECTS: tuple[DefaultObject, ...] = (
    {
        "slug": "person", "name": "Person", "name_plural": "People", "type": "person",
        "description": "People your workspace knows",
        "attributes": (
            {"slug": "name", "name": "Name", "type": "full_name"},
            {"slug": "email_addresses", "name": "Email addresses", "type": "email",
             "is_multi_value": True, "is_unique": True},
            {"slug": "phone_numbers", "name": "Phone numbers", "type": "phone",
             "is_multi_value": True},
            {"slug": "job_title", "name": "Job title", "type": "text"},
            {"slug": "description", "name": "Description", "type": "text"},
        ),
    },
    {
        "slug": "company", "name": "Company", "name_plural": "Companies", "type": "company",
        "description": "Companies your workspace knows",
        "attributes": (
            {"slug": "name", "name": "Name", "type": "text"},
            {"slug": "domains", "name": "Domains", "type": "domain", "is_multi_value": True,
             "is_unique": True},
            {"slug": "description", "name": "Description", "type": "text"},
            {"slug": "industry", "name": "Industry", "type": "text"},
            {"slug": "employee_count", "name": "Employee count", "type": "number",
             "is_whole_number": True},
        ),
    },
)


async def seed_default_objects(tenant: Tenant) -> None:
    """Insert person and company with their attributes into a new workspace."""
    for spec in DEFAULT_OBJECTS:
        object_id = (await tenant.execute(
            tenant.insert(object_definitions).values(
                slug=spec["slug"], name=spec["name"], name_plural=spec["name_plural"],
                type=spec["type"], description=spec["description"],
            ).returning(object_definitions.c.id)
        )).scalar_one()
        # executemany compiles one statement for all rows: give every row every column.
        rows: list[dict[str, object]] = [
            {"object_id": object_id, "position": i, "is_multi_value": False, "is_unique": False,
             "is_whole_number": False, **attr} for i, attr in enumerate(spec["attributes"])]
        await tenant.execute(attribute_definitions.insert(), tenant.rows(rows))
