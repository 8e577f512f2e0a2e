"""The API's view of question answering (``tessera.app_state.IntelligencePort``), backed by the
reasoner of ``workers.intelligence`` (local summary, or an LLM when configured)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tessera.http.models import parse_rfc3339
from workers.intelligence import (
    AskFacts,
    EntityFacts,
    InsightFact,
    NoteFact,
    Reasoner,
    RelationshipFact,
    TaskFact,
    resolve_question_terms,
)


def _when(value: str | None) -> datetime | None:
    return parse_rfc3339(value) if value else None


def to_facts(facts: dict[str, Any]) -> AskFacts:
    """The API's gathered facts (plain JSON) as the reasoner's dataclasses."""
    entities = tuple(EntityFacts(
        id=int(e["id"]), type=e["type"], name=e["name"], attributes=e["attributes"],
        insights=tuple(InsightFact(id=int(i["id"]), content=i["content"], type=i["type"],
                                   created_at=_when(i.get("created_at"))) for i in e["insights"]),
        notes=tuple(NoteFact(title=n["title"], excerpt=n.get("excerpt") or "") for n in e["notes"]),
        tasks=tuple(TaskFact(title=t["title"], due_date=_when(t.get("due_date"))) for t in e["tasks"]),
        relationships=tuple(RelationshipFact(predicate=r["predicate"], other_name=r["other"])
                            for r in e["relationships"]),
    ) for e in facts["entities"])
    return AskFacts(entities=entities, workspace_wide=bool(facts.get("workspace_wide")),
                    total_entities_searched=int(facts.get("total_entities_searched", 0)))


class ReasonerPort:
    def __init__(self, reasoner: Reasoner) -> None:
        self.reasoner = reasoner

    def question_terms(self, question: str) -> dict[str, list[str]]:
        terms = resolve_question_terms(question)
        return {"domains": list(terms.domains), "emails": list(terms.emails), "names": list(terms.names),
                "keywords": list(terms.keywords)}

    async def answer(self, question: str, facts: dict[str, Any]) -> dict[str, Any]:
        answer = await self.reasoner.answer(question, to_facts(facts))
        return {"answer": answer.answer, "confidence": answer.confidence,
                "signals_used": [{"insight_id": s.insight_id, "entity_id": s.entity_id, "content": s.content,
                                  "score": s.score, "type": s.type} for s in answer.signals_used]}
