"""The compounding jobs' pure parts: key phrases, duplicate detection, themes, rules, decay, the schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from pydantic import ValidationError

from tessera.compounding.schedule import parse_schedule
from tessera.settings import Settings
from workers.compounding.consolidation import Candidate, find_merges
from workers.compounding.decay import decayed_confidence
from workers.compounding.patterns import InsightRow, find_themes, find_transitions
from workers.compounding.phrases import key_phrases, widest_phrase
from workers.compounding.synthesis import StoredPattern, write_rule

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_key_phrases_skip_stop_and_reporting_words() -> None:
    phrases = key_phrases("Acme Corp raised concerns about the security reviews before signing.")
    assert set(phrases) == {"acme corp", "security review"}
    assert "acme corp" not in key_phrases("Acme Corp raised concerns about the security review.", exclude=["Acme Corp"])
    texts = ["We will send the SOC 2 report within a day."] * 4 + ["The SOC 2 audit is pending."]
    assert widest_phrase("2 report", texts) == "SOC 2 report"


def candidate(id_: int, content: str, entities: tuple[int, ...] = (1,), type_: str = "objection") -> Candidate:
    from workers.compounding.phrases import words

    return Candidate(id=id_, type=type_, content=content, confidence=0.7, peak_confidence=None, entity_ids=entities,
                     artifacts=(100 + id_,), support_count=1, created_at=T0 + timedelta(minutes=id_),
                     reinforced_at=None, words=words(content))


def test_duplicates_need_the_same_type_records_and_meaning() -> None:
    same = "Acme raised concerns about the security review before signing."
    candidates = [candidate(1, same), candidate(2, same + " Again."), candidate(3, same, entities=(2,)),
                  candidate(4, same, type_="risk"), candidate(5, "Acme loves the dashboards.")]
    base = np.zeros(384, dtype=np.float32)
    base[0] = 1
    other = np.zeros(384, dtype=np.float32)
    other[1] = 1
    vectors = np.stack([base, base, base, base, other])
    merges = find_merges(candidates, vectors, threshold=0.9)
    assert [(m.survivor.id, [c.id for c in m.merged]) for m in merges] == [(1, [2])]
    # Without vectors, nearly the same words still merge; different words do not.
    merges = find_merges(candidates, np.zeros((5, 384), dtype=np.float32), threshold=0.9)
    assert [(m.survivor.id, [c.id for c in m.merged]) for m in merges] == [(1, [2])]
    # Survivors of one pass are not duplicates of each other: a second pass finds nothing.
    assert find_merges([candidates[0], *candidates[2:]], np.stack([base, base, base, other]), threshold=0.9) == []


def test_themes_count_distinct_records() -> None:
    rows = [InsightRow(n, "objection", f"Company {n} raised concerns about the security review.", 0.7,
                       (n % 4,), None) for n in range(8)]
    rows.append(InsightRow(99, "risk", "The security review slipped.", 0.7, (1,), None))
    themes = find_themes(rows, min_support=3)
    assert [(t.insight_type, t.label, t.support) for t in themes] == [("objection", "security review", 4)]
    assert len(themes[0].examples) == 4 and len({e["record_id"] for e in themes[0].examples}) == 4
    assert find_themes(rows, min_support=5) == []


def test_stage_transitions_and_rules() -> None:
    changes = [(r, "stage", {"title": "Demo"}, {"title": "Negotiation"}) for r in range(5)]
    changes.append((9, "stage", "Demo", "Lost"))
    (transition,) = find_transitions(changes, min_support=3)
    assert (transition.label, transition.support) == ("stage from Demo to Negotiation", 5)
    pattern = StoredPattern(1, "theme:x", "theme", "objection", "security review", "security review", 12,
                            tuple(range(12)), (), ({"insight_id": "7", "record_id": "1", "quote": "q"},), 0.75)
    rule = write_rule(pattern, [])
    assert (rule.trigger, rule.support, rule.fingerprint) == ("a prospect raises security review", 12,
                                                              "pattern:theme:x")
    step = StoredPattern(2, "theme:y", "theme", "next_step", "2 report", "SOC 2 report", 8, tuple(range(8)), (),
                         ({"quote": "We will send the SOC 2 report."},), 0.8)
    assert write_rule(pattern, [step]).action.endswith("We will send the SOC 2 report.")
    assert write_rule(pattern, [step]) == write_rule(pattern, [step])


def test_decay_is_stepwise_floored_and_a_function_of_age() -> None:
    period = timedelta(days=30)
    now = T0 + timedelta(days=95)
    assert decayed_confidence(0.8, T0, T0 + timedelta(days=29), period=period, rate=0.2, floor=0.1) == 0.8
    assert decayed_confidence(0.8, T0, now, period=period, rate=0.2, floor=0.1) == pytest.approx(0.8 * 0.8 ** 3)
    assert decayed_confidence(0.8, T0, T0 + timedelta(days=3000), period=period, rate=0.2, floor=0.1) == 0.1
    assert decayed_confidence(0.05, T0, now, period=period, rate=0.2, floor=0.1) == 0.05  # never raised


def test_the_schedule_is_read_or_refused_with_a_reason() -> None:
    assert parse_schedule("consolidation=1h, metrics=2d") == {"consolidation": timedelta(hours=1),
                                                              "metrics": timedelta(days=2)}
    assert parse_schedule("") == {}
    for bad, reason in (("compaction=1h", "unknown"), ("metrics=hourly", "interval"), ("metrics=0m", "at least"),
                        ("metrics=1h,metrics=2h", "twice")):
        with pytest.raises(ValueError, match=reason):
            parse_schedule(bad)
    with pytest.raises(ValidationError, match="interval"):  # the worker and the API refuse to start
        Settings(compounding_schedule="metrics=often")
