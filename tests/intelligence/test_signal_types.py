"""Signal classification: one sentence per type, look-alikes that are not cues, the content."""

from __future__ import annotations

import pytest

from workers.intelligence.extractor import extract_entities
from workers.intelligence.mail import read_message
from workers.intelligence.model import MAX_SIGNAL_CONTENT, SIGNAL_TYPES
from workers.intelligence.signals import classify_sentence, split_sentences, states_timeline

EXAMPLES = [
    ("buying_signal", "They asked us to send over pricing for 40 seats."),
    ("buying_signal", "Would love to book a demo for the team."),
    ("buying_signal", "The board approved the purchase."),
    ("risk", "They are threatening to cancel after the outage."),
    ("risk", "Usage dropped 40% and the renewal is at risk."),
    ("objection", "Their CFO said it's too expensive for them."),
    ("objection", "They already use Salesforce, so it's not a priority."),
    ("timeline", "The decision is expected by end of October."),
    ("timeline", "They want to sign before the end of Q3."),
    ("budget", "The budget for the CRM replacement is €80,000."),
    ("budget", "They have $120k approved."),
    ("sentiment", "The dispatch team loves the mobile app."),
    ("sentiment", "Honestly, this is really frustrating."),
    ("next_step", "Let's meet again next Thursday."),
    ("next_step", "I'll send over the implementation plan tomorrow."),
    ("next_step", "Please confirm the cancellation."),
]


def test_every_type_has_an_example() -> None:
    assert {kind for kind, _ in EXAMPLES} == set(SIGNAL_TYPES)


@pytest.mark.parametrize(("kind", "sentence"), EXAMPLES)
def test_sentence_states_its_type(kind: str, sentence: str) -> None:
    scores = classify_sentence(sentence)
    assert kind in scores
    assert 0 < scores[kind] <= 0.95


@pytest.mark.parametrize(("sentence", "absent"), [
    ("Great to meet you yesterday!", "sentiment"),
    ("We would love to chat sometime.", "sentiment"),
    ("Happy to run a refresher training.", "sentiment"),
    ("Let's meet next Tuesday at 2pm.", "timeline"),
    ("I'll send the deck tomorrow.", "timeline"),
    ("I have a client demo at 3.", "buying_signal"),
    ("Our Director of Engineering has no further questions.", "objection"),
    ("Kim Min-jun will join the call.", "timeline"),
])
def test_look_alikes_are_not_cues(sentence: str, absent: str) -> None:
    assert absent not in classify_sentence(sentence)


def test_timeline_needs_a_business_event_or_a_horizon() -> None:
    assert states_timeline("Maybe next year.")
    assert states_timeline("Contract renews on 2025-09-30.")
    assert states_timeline("If this isn't fixed by Friday we will escalate.")
    assert not states_timeline("Usage is down — we talked on March 3.")


def test_headers_and_signatures_are_not_prose() -> None:
    text = "From: A B <a@acme.com>\nTo: c@globex.com\n\nWe love it.\n\nBest,\nAnn Bell\nHead of Sales, Acme"
    sentences = split_sentences(text, read_message(text).structure)
    assert [s.text for s in sentences] == ["We love it.", "Best,"]


def test_signal_content_is_the_cleaned_sentence_with_its_subjects() -> None:
    result = extract_entities("- Kai Müller at Nordhaven says   pricing is the main issue.\n- Unrelated line.")
    (signal,) = result.signals
    assert signal.type == "objection"
    assert signal.content == "Kai Müller at Nordhaven says pricing is the main issue."
    assert signal.subjects == ("Kai Müller", "Nordhaven")


def test_long_sentences_are_cut_at_a_word() -> None:
    text = "We love " + "the product and " * 40 + "more."
    (signal,) = extract_entities(text).signals
    assert len(signal.content) <= MAX_SIGNAL_CONTENT and signal.content.endswith("…")


def test_one_sentence_may_carry_several_types() -> None:
    kinds = {s.type for s in extract_entities("No budget until the new fiscal year starts in April.").signals}
    assert kinds == {"objection", "budget", "timeline"}
