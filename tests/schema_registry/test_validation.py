"""validate_attributes: stored values out, every issue with its path, and the validator cache."""

from __future__ import annotations

from typing import Any

import pytest

from schema_registry.definitions import AttributeTypeName as T
from schema_registry.definitions import ObjectDefinition
from schema_registry.validation import (
    MAX_ATTRIBUTES_PER_BODY,
    RecordValidationError,
    ValidationIssue,
    clear_validator_cache,
    compiled_validator,
    validate_attributes,
)

US = "+12015550123"


@pytest.fixture
def deal(make_attribute: Any, make_object: Any) -> ObjectDefinition:
    obj: ObjectDefinition = make_object(
        make_attribute(T.TEXT, "name", is_required=True),
        make_attribute(T.NUMBER, "amount"),
        make_attribute(T.EMAIL, "email_addresses", is_multi_value=True),
        make_attribute(T.SELECT, "stage"),
        make_attribute(T.DATE, "close_date"),
        make_attribute(T.BOOLEAN, "is_hot"),
        make_attribute(T.CURRENCY, "price"),
        make_attribute(T.PHONE, "phone_numbers", is_multi_value=True),
        make_attribute(T.FULL_NAME, "owner"),
    )
    return obj


def _issues(obj: ObjectDefinition, body: object, mode: Any = "create") -> list[ValidationIssue]:
    with pytest.raises(RecordValidationError) as caught:
        validate_attributes(obj, body, mode)
    return caught.value.issues


def test_valid_body_gives_stored_values_as_lists(deal: ObjectDefinition) -> None:
    body = {
        "name": "Big deal",
        "amount": 12.0,
        "email_addresses": "Jane@Example.com",
        "stage": "won",
        "close_date": "2026-01-02T03:04:05+02:00",
        "is_hot": False,
        "price": {"amount": 100, "currency_code": "eur"},
        "phone_numbers": [{"country_code": 1, "number": "2015550123"}],
        "owner": {"first_name": "Jane", "last_name": "Roe"},
    }
    assert validate_attributes(deal, body, "create") == {
        "name": ["Big deal"],
        "amount": [12],
        "email_addresses": ["jane@example.com"],
        "stage": ["opt_won"],
        "close_date": ["2026-01-02T01:04:05Z"],
        "is_hot": [False],
        "price": [{"amount": 100, "currency_code": "EUR"}],
        "phone_numbers": [US],
        "owner": [{"first_name": "Jane", "last_name": "Roe", "full_name": "Jane Roe"}],
    }


def test_null_and_empty_list_clear(deal: ObjectDefinition) -> None:
    assert validate_attributes(deal, {"amount": None, "email_addresses": []}, "update") == {
        "amount": None,
        "email_addresses": None,
    }


def test_duplicates_collapse_after_normalization_keeping_order(deal: ObjectDefinition) -> None:
    body = {"email_addresses": ["b@example.com", "A@example.com", "B@EXAMPLE.com", "a@example.com"]}
    assert validate_attributes(deal, body, "update") == {"email_addresses": ["b@example.com", "a@example.com"]}


def test_every_issue_is_reported_with_its_path_in_body_order(deal: ObjectDefinition) -> None:
    body = {
        "amount": "12",
        "email_addresses": ["ok@example.com", "not-an-email", 5],
        "stage": ["won"],
        "close_date": "2026-02-30",
        "price": {"amount": "1", "currency_code": "USD", "note": "x"},
        "nickname": "Jo",
        "phone_numbers": [US, "2015550123", {"number": "2015550123", "country": "ZZ"}],
        "owner": {"first_name": 5},
        "is_hot": "yes",
    }
    assert [issue.path for issue in _issues(deal, body)] == [
        "attributes.amount",
        "attributes.email_addresses[1]",
        "attributes.email_addresses[2]",
        "attributes.stage",
        "attributes.close_date",
        "attributes.price.amount",
        "attributes.price.note",
        "attributes.nickname",
        "attributes.phone_numbers[1]",
        "attributes.phone_numbers[2].country",
        "attributes.owner.first_name",
        "attributes.is_hot",
        "attributes.name",
    ]


def test_messages_are_specific(deal: ObjectDefinition) -> None:
    issues = {
        issue.path: issue.message
        for issue in _issues(deal, {"name": None, "stage": ["won"], "nickname": 1, "amount": float("nan")})
    }
    assert issues == {
        "attributes.name": "is required and cannot be null",
        "attributes.stage": "takes a single value, not an array",
        "attributes.nickname": "unknown attribute",
        "attributes.amount": "expected a number or null, got NaN or Infinity",
    }


def test_missing_required_attribute_only_in_create_mode(deal: ObjectDefinition) -> None:
    assert [(issue.path, issue.message) for issue in _issues(deal, {})] == [("attributes.name", "required")]
    assert validate_attributes(deal, {}, "update") == {}


@pytest.mark.parametrize("body", [None, [], "attributes", 5, [{"name": "x"}]], ids=repr)
def test_attributes_must_be_an_object(deal: ObjectDefinition, body: object) -> None:
    [issue] = _issues(deal, body)
    assert issue.path == "attributes"


def test_too_many_keys_is_one_issue(deal: ObjectDefinition) -> None:
    body = {f"k{index}": index for index in range(MAX_ATTRIBUTES_PER_BODY + 1)}
    [issue] = _issues(deal, body)
    assert issue.path == "attributes"
    assert "1000" in issue.message


def test_odd_unknown_keys_get_quoted_storable_paths(deal: ObjectDefinition) -> None:
    issues = _issues(deal, {"name": "x", "first name": 1, "nul\x00key": 1, "x" * 5000: 1})
    assert [issue.path for issue in issues] == [
        'attributes["first name"]',
        'attributes["nul\\u0000key"]',
        'attributes["' + "x" * 100 + '..."]',
    ]


def test_non_json_input_is_an_issue_not_a_crash(deal: ObjectDefinition) -> None:
    [issue] = _issues(deal, {"name": "x", 1: "y"})
    assert issue.path == "attributes"
    [issue] = _issues(deal, {"name": object()})
    assert issue.path == "attributes"


def test_deeply_nested_garbage_is_refused(deal: ObjectDefinition) -> None:
    nested: list[Any] = []
    for _ in range(10_000):
        nested = [nested]
    price = {"amount": [[[1]]], "currency_code": "USD"}
    issues = _issues(deal, {"name": "x", "email_addresses": nested, "amount": "1", "price": price})
    assert [(issue.path, issue.message) for issue in issues] == [
        ("attributes.email_addresses", "is nested too deeply"),
        ("attributes.amount", "expected a number or null, got a string"),
        ("attributes.price.amount", "expected a number, got an array"),
    ]


def test_error_carries_all_issues_in_its_message(deal: ObjectDefinition) -> None:
    with pytest.raises(RecordValidationError, match=r"attributes\.amount: .*\(and 1 more\)"):
        validate_attributes(deal, {"amount": "x", "is_hot": 1, "stage": 1, "close_date": 1}, "update")


# --- cache ------------------------------------------------------------------------------


def test_same_object_and_version_share_one_validator(deal: ObjectDefinition) -> None:
    assert compiled_validator(deal, "create") is compiled_validator(deal, "create")
    assert compiled_validator(deal, "create") is not compiled_validator(deal, "update")


def test_a_new_schema_version_compiles_a_new_validator(
    deal: ObjectDefinition, make_attribute: Any, make_object: Any
) -> None:
    before = compiled_validator(deal, "update")
    extended = ObjectDefinition(
        id=deal.id,
        workspace_id=deal.workspace_id,
        slug=deal.slug,
        name=deal.name,
        type=deal.type,
        schema_version=deal.schema_version + 1,
        attributes=(*deal.attributes, make_attribute(T.TEXT, "nickname")),
    )
    after = compiled_validator(extended, "update")
    assert after is not before
    assert validate_attributes(extended, {"nickname": "Jo"}, "update") == {"nickname": ["Jo"]}
    assert [issue.path for issue in _issues(deal, {"nickname": "Jo"}, "update")] == ["attributes.nickname"]


def test_clearing_the_cache_recompiles(deal: ObjectDefinition) -> None:
    before = compiled_validator(deal, "create")
    clear_validator_cache()
    assert compiled_validator(deal, "create") is not before


def test_cache_is_bounded(make_attribute: Any, make_object: Any) -> None:
    from schema_registry import validation

    attribute = make_attribute(T.TEXT, "name")
    first = make_object(attribute)
    kept = compiled_validator(first, "create")
    for _ in range(validation._CACHE_SIZE):
        compiled_validator(make_object(attribute), "create")
    assert len(validation._cache._entries) == validation._CACHE_SIZE
    assert compiled_validator(first, "create") is not kept


def test_lone_surrogates_are_reported_where_they_are(deal: ObjectDefinition) -> None:
    issues = _issues(deal, {"is_hot": "\ud800", "\udfff": 1, "amount": "x"})
    assert [issue.path for issue in issues] == [
        "attributes.is_hot",
        'attributes["\\udfff"]',
        "attributes.amount",
        "attributes.name",
    ]
    assert issues[0].message == "holds text that is not valid Unicode (a lone surrogate)"
