"""Factories for schema-registry tests: pure values, no services."""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterator
from typing import Any, Protocol

import pytest

from schema_registry.definitions import (
    AttributeDefinition,
    AttributeTypeName,
    ObjectDefinition,
    ObjectType,
    SelectOption,
)
from schema_registry.validation import RecordValidationError, clear_validator_cache, validate_attributes

# Hypothesis keeps caches (unicode tables, constants of the code under test) under
# ./.hypothesis by default. The project's pytest config replaces pytest's default
# norecursedirs, so that directory in the repo makes collection warn, and warnings are errors:
# keep the caches out of the working tree unless the caller chose a place.
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(tempfile.gettempdir(), "tessera-hypothesis"))

STAGES = (SelectOption("opt_open", "Open"), SelectOption("opt_won", "Won"), SelectOption("opt_lost", "Closed Lost"))

_ids = itertools.count(1)


class AttributeFactory(Protocol):
    def __call__(self, type_: AttributeTypeName | str, slug: str = ..., **options: Any) -> AttributeDefinition: ...


class ObjectFactory(Protocol):
    def __call__(self, *attributes: AttributeDefinition, schema_version: int = ..., **fields: Any) -> ObjectDefinition:
        ...


@pytest.fixture(autouse=True)
def _fresh_validator_cache() -> Iterator[None]:
    clear_validator_cache()
    yield
    clear_validator_cache()


@pytest.fixture(scope="session")
def make_attribute() -> AttributeFactory:
    def make(type_: AttributeTypeName | str, slug: str = "value", **options: Any) -> AttributeDefinition:
        type_name = AttributeTypeName(type_)
        if type_name is AttributeTypeName.SELECT:
            options.setdefault("select_options", STAGES)
        return AttributeDefinition(
            id=next(_ids), object_id=0, slug=slug, name=slug.replace("_", " ").title(), type=type_name, **options
        )

    return make


@pytest.fixture(scope="session")
def make_object() -> ObjectFactory:
    # Every object gets a fresh id, so the validator cache (keyed on id and version) never
    # mixes up two test objects, with or without the cache-clearing fixture.
    def make(*attributes: AttributeDefinition, schema_version: int = 1, **fields: Any) -> ObjectDefinition:
        fields.setdefault("slug", "deal")
        fields.setdefault("name", "Deal")
        fields.setdefault("type", ObjectType.CUSTOM)
        return ObjectDefinition(
            id=next(_ids), workspace_id=1, schema_version=schema_version, attributes=attributes, **fields
        )

    return make


class IssuePaths(Protocol):
    def __call__(self, type_: AttributeTypeName | str, valid: object, bad: object, **options: Any) -> list[str]: ...


@pytest.fixture(scope="session")
def issue_paths(make_attribute: AttributeFactory, make_object: ObjectFactory) -> IssuePaths:
    """Validate ``{"values": [valid, bad]}`` against a multi-value attribute of ``type_`` and
    return the paths of the issues (an empty list when the body passes)."""

    def paths(type_: AttributeTypeName | str, valid: object, bad: object, **options: Any) -> list[str]:
        obj = make_object(make_attribute(type_, "values", is_multi_value=True, **options))
        try:
            validate_attributes(obj, {"values": [valid, bad]}, "create")
        except RecordValidationError as err:
            return [issue.path for issue in err.issues]
        return []

    return paths
