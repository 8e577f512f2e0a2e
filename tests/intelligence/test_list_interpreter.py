"""AI list queries read as filters over the object's real attributes, and candidate ranking."""

from __future__ import annotations

from typing import Any

import pytest

from schema_registry.definitions import AttributeTypeName, ObjectDefinition
from schema_registry.query import parse_filter
from workers.intelligence.list_interpreter import interpret_list_query, rank_candidates


def _valid(obj: ObjectDefinition, query_filter: dict[str, Any] | None) -> None:
    parse_filter(obj, query_filter)  # raises QueryError when the filter does not fit the object


def test_head_count_and_industry(company_object: Any) -> None:
    obj = company_object()
    result = interpret_list_query("fintech companies with more than 50 employees", "company", obj)
    assert result.filter == {"$and": [{"employee_count": {"$gt": 50}}, {"industry": {"$contains": "fintech"}}]}
    assert result.terms == ()
    assert "employee count > 50" in result.explanation and "fintech" in result.explanation
    _valid(obj, result.filter)


@pytest.mark.parametrize(("phrase", "bounds"), [
    ("over 50 people", {"$gt": 50}),
    ("at least 10 staff", {"$gte": 10}),
    ("fewer than 1,000 employees", {"$lt": 1000}),
    ("200+ employees", {"$gte": 200}),
    ("between 10 and 50 employees", {"$gte": 10, "$lte": 50}),
])
def test_head_count_phrasings(company_object: Any, phrase: str, bounds: dict[str, int]) -> None:
    result = interpret_list_query(f"companies with {phrase}", "company", company_object())
    assert result.filter == {"employee_count": bounds}


def test_country_uses_a_location_attribute_when_there_is_one(company_object: Any) -> None:
    plain = interpret_list_query("SaaS companies in Germany", "company", company_object())
    assert plain.filter == {"industry": {"$contains": "saas"}}
    assert plain.terms == ("germany",)
    located = company_object(("headquarters", "Headquarters", AttributeTypeName.LOCATION))
    result = interpret_list_query("SaaS companies in Germany", "company", located)
    assert result.filter == {"$and": [{"headquarters.country_code": {"$eq": "DE"}},
                                      {"industry": {"$contains": "saas"}}]}
    _valid(located, result.filter)
    city = interpret_list_query("companies based in Berlin", "company", located)
    assert city.filter == {"headquarters.city": {"$contains": "Berlin"}}


def test_select_industry_matches_option_names(company_object: Any) -> None:
    obj = company_object(industry=AttributeTypeName.SELECT, industry_options=("Fintech", "Healthcare", "Retail"))
    result = interpret_list_query("healthcare companies", "company", obj)
    assert result.filter == {"industry": {"$in": ["Healthcare"]}}
    _valid(obj, result.filter)


def test_contacts_at_a_domain_and_titles(person_object: ObjectDefinition) -> None:
    result = interpret_list_query("CTOs who work at acme.com", "contact", person_object)
    assert result.filter == {"$and": [{"email_addresses.domain": {"$eq": "acme.com"}},
                                      {"job_title": {"$contains": "CTO"}}]}
    _valid(person_object, result.filter)
    founders = interpret_list_query("founders at Acme", "contact", person_object)
    assert founders.filter == {"job_title": {"$contains": "founder"}}
    assert founders.terms == ("acme",)


@pytest.mark.parametrize("query", ["all companies", "Everyone", "show me all contacts"])
def test_everyone_means_no_filter(company_object: Any, query: str) -> None:
    result = interpret_list_query(query, "company", company_object())
    assert (result.filter, result.terms) == (None, ())
    assert "no filter" in result.explanation


def test_what_is_not_understood_becomes_terms(company_object: Any) -> None:
    result = interpret_list_query("all companies who have asked for a contract", "company", company_object())
    assert result.filter is None
    assert result.terms == ("contract",)


def test_head_count_without_attribute_is_explained(person_object: ObjectDefinition) -> None:
    result = interpret_list_query("contacts at companies with over 50 employees", "contact", person_object)
    assert result.filter is None
    assert "ignored" in result.explanation


CANDIDATES = [
    (1, "Acme", {"industry": "Manufacturing"}, ["Asked about pricing", "Pricing too high"]),
    (2, "Fintrust", {"industry": "Fintech"}, ["Signed the contract", "Loves the API", "pricing call", "pricing again"]),
    (3, "Globex", {"industry": "Retail"}, []),
]


def test_ranking_scores_name_attributes_and_insights() -> None:
    ranked = rank_candidates(CANDIDATES, ["fintech", "pricing"], 10)
    assert [r.id for r in ranked] == [2, 1]
    assert ranked[0].reason == "Matches 'fintech' in industry; 2 insights mention 'pricing'."
    assert ranked[0].highlights == ("pricing call", "pricing again")
    assert len(ranked[1].highlights) <= 3


def test_ranking_without_terms_keeps_order_and_limit() -> None:
    ranked = rank_candidates(CANDIDATES, [], 2)
    assert [r.id for r in ranked] == [1, 2]
    assert ranked[0].reason == "Matches the query's filter."


def test_interpretation_and_ranking_are_deterministic(company_object: Any) -> None:
    obj = company_object()
    query = "healthcare companies over 20 employees that mentioned churn"
    assert interpret_list_query(query, "company", obj) == interpret_list_query(query, "company", obj)
    assert rank_candidates(CANDIDATES, ["pricing"], 5) == rank_candidates(CANDIDATES, ["pricing"], 5)
