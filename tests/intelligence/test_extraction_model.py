"""The extraction's JSON form: lossless round trip, strict reading, a schema that matches."""

from __future__ import annotations

import jsonschema
import pytest

from workers.intelligence.model import (
    EXTRACTION_JSON_SCHEMA,
    CompanyMention,
    Extraction,
    PersonMention,
    Signal,
    from_json,
    to_json,
)

SAMPLE = Extraction(
    people=(PersonMention("Sarah Chen", ("sarah@techflow.io",), ("+14155550132",), ("https://x.com/sarah",),
                          "VP of Operations", "TechFlow"),),
    companies=(CompanyMention("TechFlow", ("techflow.io",)),),
    signals=(Signal("buying_signal", "Could you send over pricing for 40 seats?", ("TechFlow",), 0.7),),
)


def test_round_trip_is_lossless() -> None:
    assert from_json(to_json(SAMPLE)) == SAMPLE


def test_json_form_matches_the_published_schema() -> None:
    jsonschema.validate(to_json(SAMPLE), EXTRACTION_JSON_SCHEMA)
    jsonschema.validate(to_json(Extraction()), EXTRACTION_JSON_SCHEMA)


def test_missing_lists_and_optional_fields_default() -> None:
    parsed = from_json({"people": [{"name": "Jim"}]})
    assert parsed.people == (PersonMention("Jim"),)
    assert parsed.companies == () and parsed.signals == ()


@pytest.mark.parametrize("raw", [
    [],
    {"people": "Jim"},
    {"people": [{"name": 3}]},
    {"people": [{"emails": "a@b.co"}]},
    {"signals": [{"type": "gossip", "content": "x"}]},
    {"signals": [{"type": "risk", "content": "x", "confidence": 1.5}]},
    {"signals": [{"type": "risk", "content": None}]},
])
def test_malformed_json_is_refused(raw: object) -> None:
    with pytest.raises(ValueError):
        from_json(raw)
