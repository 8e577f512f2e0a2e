"""compile_schema: the JSON Schema document of a record's attributes."""

from __future__ import annotations

from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from schema_registry.compiler import MAX_VALUES_PER_ATTRIBUTE, SCHEMA_DIALECT, Mode, compile_schema
from schema_registry.definitions import AttributeTypeName as T
from schema_registry.definitions import ObjectDefinition
from schema_registry.types import REGISTRY


@pytest.fixture
def person(make_attribute: Any, make_object: Any) -> ObjectDefinition:
    obj: ObjectDefinition = make_object(
        make_attribute(T.FULL_NAME, "name", is_required=True, position=0),
        make_attribute(T.EMAIL, "email_addresses", is_multi_value=True, is_unique=True, position=1),
        make_attribute(T.TEXT, "job_title", position=2, description="What they do"),
        make_attribute(T.PHONE, "phone_numbers", is_multi_value=True, is_required=True, position=3),
        slug="person",
        name="Person",
    )
    return obj


def _validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("mode", ["create", "update"])
def test_document_is_a_valid_2020_12_schema_without_id(person: ObjectDefinition, mode: Any) -> None:
    schema = compile_schema(person, mode)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == SCHEMA_DIALECT
    assert "$id" not in schema
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert schema["title"] == f"Person attributes ({mode})"
    assert list(schema["properties"]) == ["name", "email_addresses", "job_title", "phone_numbers"]
    assert schema["properties"]["job_title"]["title"] == "Job Title"
    assert schema["properties"]["job_title"]["description"] == "What they do"


def test_compile_is_pure(person: ObjectDefinition) -> None:
    assert compile_schema(person, "create") == compile_schema(person, "create")


def test_required_only_in_create_mode(person: ObjectDefinition) -> None:
    assert compile_schema(person, "create")["required"] == ["name", "phone_numbers"]
    assert "required" not in compile_schema(person, "update")
    create, update = _validator(compile_schema(person, "create")), _validator(compile_schema(person, "update"))
    assert not create.is_valid({"job_title": "CTO"})
    assert update.is_valid({"job_title": "CTO"})


def test_null_clears_optional_attributes_but_never_required_ones(person: ObjectDefinition) -> None:
    modes: tuple[Mode, ...] = ("create", "update")
    for mode in modes:
        validator = _validator(compile_schema(person, mode))
        assert validator.is_valid({"name": "Jo", "phone_numbers": "+12015550123", "job_title": None})
        assert validator.is_valid({"name": "Jo", "phone_numbers": "+12015550123", "email_addresses": None})
        assert not validator.is_valid({"name": None, "phone_numbers": "+12015550123"})
        assert not validator.is_valid({"name": "Jo", "phone_numbers": None})
        assert not validator.is_valid({"name": "Jo", "phone_numbers": []})


def test_multi_value_takes_one_value_or_an_array_up_to_the_cap(person: ObjectDefinition) -> None:
    validator = _validator(compile_schema(person, "update"))
    assert validator.is_valid({"email_addresses": "a@example.com"})
    assert validator.is_valid({"email_addresses": ["a@example.com", "b@example.com"]})
    assert validator.is_valid({"email_addresses": []})
    assert validator.is_valid({"email_addresses": ["a@example.com"] * MAX_VALUES_PER_ATTRIBUTE})
    assert not validator.is_valid({"email_addresses": ["a@example.com"] * (MAX_VALUES_PER_ATTRIBUTE + 1)})
    assert not validator.is_valid({"email_addresses": [["a@example.com"]]})
    assert not validator.is_valid({"email_addresses": [None]})


def test_single_value_attributes_refuse_arrays(person: ObjectDefinition) -> None:
    validator = _validator(compile_schema(person, "update"))
    assert validator.is_valid({"job_title": "CTO"})
    assert not validator.is_valid({"job_title": ["CTO"]})
    assert not validator.is_valid({"name": ["Jo"]})


def test_unknown_slugs_are_refused(person: ObjectDefinition) -> None:
    validator = _validator(compile_schema(person, "update"))
    assert not validator.is_valid({"nickname": "Jo"})


def test_every_type_contributes_a_valid_value_schema(make_attribute: Any, make_object: Any) -> None:
    attributes = [make_attribute(name, name.value, position=index) for index, name in enumerate(REGISTRY)]
    schema = compile_schema(make_object(*attributes), "create")
    jsonschema.Draft202012Validator.check_schema(schema)
    for attribute in attributes:
        value_schema = REGISTRY[attribute.type].value_schema(attribute)
        assert value_schema.get("type") not in ("array", "null"), attribute.type


def test_select_schema_lists_option_names_as_examples(make_attribute: Any, make_object: Any) -> None:
    schema = compile_schema(make_object(make_attribute(T.SELECT, "stage")), "create")
    branches = schema["properties"]["stage"]["anyOf"]
    assert branches[0]["examples"] == ["Open", "Won", "Closed Lost"]
