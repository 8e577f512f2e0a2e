"""Assert responses against the published Nex OpenAPI component schemas (tests/data/nex-openapi.json,
a copy of the vendor's spec that Tessera implements field for field)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SPEC_PATH = Path(__file__).parent / "data" / "nex-openapi.json"


@functools.cache
def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(SPEC_PATH.read_text())
    return spec


@functools.cache
def _registry() -> Registry:
    return Registry().with_resource("nex", Resource.from_contents(_spec(), default_specification=DRAFT4))


def assert_matches(component: str, instance: Any) -> None:
    """Fail with the first difference if ``instance`` does not satisfy the spec's component schema."""
    schema = {"$ref": f"nex#/components/schemas/{component}"}
    validator = OAS30Validator(schema, registry=_registry())
    try:
        validator.validate(instance)
    except ValidationError as err:
        raise AssertionError(f"response does not match {component}: {err.message} at {list(err.absolute_path)}"
                             ) from err
