"""Properties of the rule extractor on arbitrary text: it never raises, it is deterministic,
and everything it reports as an address or domain is written in the text."""

from __future__ import annotations

import os
import tempfile

from hypothesis import given, settings
from hypothesis import strategies as st

from workers.intelligence.extractor import extract_entities
from workers.intelligence.grounding import ground_extraction
from workers.intelligence.question import resolve_question_terms

os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(tempfile.gettempdir(), "tessera-hypothesis"))

PIECES = st.sampled_from([
    "Hi Dan,", "Best,\n", "Sarah Chen", "<sarah@techflow.io>", "From: ", "at Acme Corp", " (acme.com) ",
    "+1 415 555 0132", "linkedin.com/in/jane", "We love it.", "by end of Q3", "$50k", "— ", "\n", ", ", " and ",
    "José Álvarez", "CTO", "Helix Biosciences:", "1. ", "too expensive", "gmail.com", "x@y", "@", ".", "Inc.",
])
TEXTS = st.one_of(st.text(max_size=300), st.lists(PIECES, max_size=25).map("".join))


@settings(max_examples=150, deadline=None)
@given(TEXTS)
def test_never_raises_and_is_deterministic(text: str) -> None:
    first = extract_entities(text)
    assert first == extract_entities(text)
    resolve_question_terms(text)


@settings(max_examples=150, deadline=None)
@given(TEXTS)
def test_reported_addresses_and_domains_are_in_the_text(text: str) -> None:
    extraction = extract_entities(text)
    folded = text.casefold()
    for person in extraction.people:
        assert all(email in folded for email in person.emails)
    for company in extraction.companies:
        assert all(domain in folded for domain in company.domains)
    grounded = ground_extraction(extraction, text)
    assert {e for p in grounded.people for e in p.emails} == {e for p in extraction.people for e in p.emails}
