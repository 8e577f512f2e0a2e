"""Factories for the intelligence tests: pure values, and the fake OpenAI-compatible endpoint
of ``fake_llm.py`` (a real HTTP server on loopback)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fake_llm import FakeLLM, serve_fake_llm

from schema_registry.definitions import (
    AttributeDefinition,
    AttributeTypeName,
    ObjectDefinition,
    ObjectType,
    SelectOption,
)


@pytest.fixture(scope="session")
def fake_llm_server() -> Iterator[FakeLLM]:
    with serve_fake_llm() as fake:
        yield fake


@pytest.fixture
def fake_llm(fake_llm_server: FakeLLM) -> FakeLLM:
    """The session's fake endpoint with an empty script (each test scripts its replies)."""
    fake_llm_server.script()
    return fake_llm_server


def _attribute(index: int, object_id: int, slug: str, name: str, kind: AttributeTypeName,
               **extra: Any) -> AttributeDefinition:
    return AttributeDefinition(id=object_id * 100 + index, object_id=object_id, slug=slug, name=name, type=kind,
                               position=index, **extra)


ObjectFactory = Callable[..., ObjectDefinition]


@pytest.fixture
def company_object() -> ObjectFactory:
    """The default company object (name, domains, description, industry, employee_count), plus
    any extra attributes given as (slug, name, type, options)."""

    def make(*extra: tuple[str, str, AttributeTypeName], industry: AttributeTypeName = AttributeTypeName.TEXT,
             industry_options: tuple[str, ...] = ()) -> ObjectDefinition:
        options = tuple(SelectOption(f"opt_{i}", name) for i, name in enumerate(industry_options))
        attributes = [
            _attribute(0, 2, "name", "Name", AttributeTypeName.TEXT),
            _attribute(1, 2, "domains", "Domains", AttributeTypeName.DOMAIN, is_multi_value=True, is_unique=True),
            _attribute(2, 2, "description", "Description", AttributeTypeName.TEXT),
            _attribute(3, 2, "industry", "Industry", industry, select_options=options),
            _attribute(4, 2, "employee_count", "Employee count", AttributeTypeName.NUMBER, is_whole_number=True),
        ]
        attributes += [_attribute(10 + i, 2, slug, name, kind) for i, (slug, name, kind) in enumerate(extra)]
        return ObjectDefinition(id=2, workspace_id=1, slug="company", name="Company", type=ObjectType.COMPANY,
                                name_plural="Companies", attributes=tuple(attributes))

    return make


@pytest.fixture
def person_object() -> ObjectDefinition:
    """The default person object: name, email_addresses, phone_numbers, job_title, description."""
    attributes = (
        _attribute(0, 1, "name", "Name", AttributeTypeName.FULL_NAME),
        _attribute(1, 1, "email_addresses", "Email addresses", AttributeTypeName.EMAIL, is_multi_value=True,
                   is_unique=True),
        _attribute(2, 1, "phone_numbers", "Phone numbers", AttributeTypeName.PHONE, is_multi_value=True),
        _attribute(3, 1, "job_title", "Job title", AttributeTypeName.TEXT),
        _attribute(4, 1, "description", "Description", AttributeTypeName.TEXT),
    )
    return ObjectDefinition(id=1, workspace_id=1, slug="person", name="Person", type=ObjectType.PERSON,
                            name_plural="People", attributes=attributes)
