"""The default reasoner: faithful summaries, honest emptiness; question terms."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from workers.intelligence.question import resolve_question_terms
from workers.intelligence.reasoner import (
    AskFacts,
    EntityFacts,
    InsightFact,
    NoteFact,
    RelationshipFact,
    SummaryReasoner,
    TaskFact,
    summarize_facts,
)

TECHFLOW = EntityFacts(
    id=11, type="COMPANY", name="TechFlow",
    attributes={"name": "TechFlow", "domains": ["techflow.io"], "industry": "Fintech", "employee_count": 42,
                "description": None},
    insights=(
        InsightFact(101, "Asked for pricing for 40 seats.", "buying_signal", datetime(2025, 3, 1, tzinfo=UTC)),
        InsightFact(102, "Worried about SSO support.", "objection", datetime(2025, 2, 1, tzinfo=UTC)),
    ),
    notes=(NoteFact("Discovery call", "Spreadsheets today;  wants a CRM."),),
    tasks=(TaskFact("Send proposal", date(2025, 3, 10)),),
    relationships=(RelationshipFact("employs", "Sarah Chen"),),
)


def test_question_terms() -> None:
    terms = resolve_question_terms("What's the status with techflow.io and sarah@acme.com?")
    assert (terms.domains, terms.emails, terms.names, terms.keywords) == (
        ("techflow.io",), ("sarah@acme.com",), (), ("status",))
    compare = resolve_question_terms("Compare engagement levels of Acme Corp and TechFlow")
    assert compare.names == ("Acme Corp", "TechFlow")
    assert compare.keywords == ("engagement", "levels")
    assert resolve_question_terms("Which deals are most likely to close this quarter?").names == ()
    assert resolve_question_terms("What did Sarah Chen say about Acme's renewal?").names == ("Sarah Chen", "Acme")


async def test_nothing_found_is_said_honestly_with_the_terms() -> None:
    answer = await SummaryReasoner().answer("What's the status with techflow.io?",
                                            AskFacts(total_entities_searched=1204))
    assert answer.confidence == 0.0 and answer.signals_used == ()
    assert '"techflow.io"' in answer.answer and "1,204" in answer.answer
    assert answer.answer.startswith("I have no information on the status with techflow.io.")
    assert "Nothing in this workspace matches" in answer.answer


def test_summary_states_exactly_the_facts() -> None:
    answer = summarize_facts("What's the status with techflow.io? Any pricing news?", AskFacts((TECHFLOW,)))
    for fact in ("TechFlow (company)", "techflow.io", "Fintech", "42", "Asked for pricing for 40 seats.",
                 "Worried about SSO support.", "Send proposal (due 2025-03-10)", "employs: Sarah Chen",
                 "Discovery call", "Spreadsheets today; wants a CRM."):
        assert fact in answer.answer
    facts_text = repr(TECHFLOW) + "2025-03-01 2025-02-01 2025-03-10"
    for number in re.findall(r"\d+", answer.answer):
        assert number in facts_text, f"{number} is not a fact"
    assert [s.insight_id for s in answer.signals_used] == [101, 102]
    assert answer.signals_used[0].score > answer.signals_used[1].score
    assert {s.entity_id for s in answer.signals_used} == {11}
    assert 0 < answer.confidence <= 0.9


def test_workspace_wide_summary_counts_signal_types() -> None:
    answer = summarize_facts("Which deals are most likely to close this quarter?",
                             AskFacts((TECHFLOW,), workspace_wide=True, total_entities_searched=30))
    assert answer.answer.startswith("Across the workspace, 1 record relate")
    assert "1 buying signal, 1 objection insights" in answer.answer


def test_entity_without_insights_says_so() -> None:
    bare = EntityFacts(id=5, type="PERSON", name="Jim Halpert")
    answer = summarize_facts("Who is Jim Halpert?", AskFacts((bare,)))
    assert "Jim Halpert (person)" in answer.answer and "No insights recorded." in answer.answer
    assert answer.signals_used == ()


def test_reasoner_is_deterministic() -> None:
    facts = AskFacts((TECHFLOW,))
    assert summarize_facts("status?", facts) == summarize_facts("status?", facts)
