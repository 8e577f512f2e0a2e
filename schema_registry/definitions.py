"""Domain models of the schema registry: object, attribute, list and relationship definitions.

These are plain immutable values. Persistence lives in ``tessera``; this package imports nothing
of ours, so the models carry only what the registry, the record engine and search need.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class AttributeTypeName(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    DATE = "date"
    BOOLEAN = "boolean"
    CURRENCY = "currency"
    LOCATION = "location"
    SELECT = "select"
    SOCIAL_PROFILE = "social_profile"
    DOMAIN = "domain"
    FULL_NAME = "full_name"


class ObjectType(StrEnum):
    PERSON = "person"
    COMPANY = "company"
    CUSTOM = "custom"
    DEAL = "deal"
    LIST = "list"


class RelationshipType(StrEnum):
    ONE_TO_ONE = "one_to_one"
    ONE_TO_MANY = "one_to_many"
    MANY_TO_MANY = "many_to_many"


@dataclass(frozen=True, slots=True)
class SelectOption:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class AttributeDefinition:
    id: int
    object_id: int
    slug: str
    name: str
    type: AttributeTypeName
    description: str = ""
    is_required: bool = False
    is_unique: bool = False
    is_multi_value: bool = False
    use_raw_format: bool = False
    is_whole_number: bool = False
    select_options: tuple[SelectOption, ...] = ()
    position: int = 0
    created_at: datetime | None = None

    def option_by_id(self, option_id: str) -> SelectOption | None:
        for option in self.select_options:
            if option.id == option_id:
                return option
        return None

    def option_by_name(self, name: str) -> SelectOption | None:
        folded = name.casefold()
        for option in self.select_options:
            if option.name.casefold() == folded:
                return option
        return None


@dataclass(frozen=True, slots=True)
class ObjectDefinition:
    id: int
    workspace_id: int
    slug: str
    name: str
    type: ObjectType
    name_plural: str = ""
    description: str = ""
    parent_object_id: int | None = None
    created_at: datetime | None = None
    schema_version: int = 0
    attributes: tuple[AttributeDefinition, ...] = field(default=())

    @property
    def is_list(self) -> bool:
        return self.type is ObjectType.LIST

    def attribute(self, slug: str) -> AttributeDefinition | None:
        for attribute in self.attributes:
            if attribute.slug == slug:
                return attribute
        return None

    def attribute_by_id(self, attribute_id: int) -> AttributeDefinition | None:
        for attribute in self.attributes:
            if attribute.id == attribute_id:
                return attribute
        return None

    @property
    def primary_attribute(self) -> AttributeDefinition | None:
        """The attribute whose value names a record: ``name`` if present, else the first text-like one."""
        named = self.attribute("name")
        if named is not None:
            return named
        for attribute in sorted(self.attributes, key=lambda a: a.position):
            if attribute.type in (AttributeTypeName.TEXT, AttributeTypeName.FULL_NAME,
                                  AttributeTypeName.EMAIL, AttributeTypeName.DOMAIN):
                return attribute
        return None


@dataclass(frozen=True, slots=True)
class RelationshipDefinition:
    id: int
    workspace_id: int
    type: RelationshipType
    entity_definition_1_id: int
    entity_definition_2_id: int
    entity_1_to_2_predicate: str = ""
    entity_2_to_1_predicate: str = ""
    created_at: datetime | None = None
