"""The API's view of question answering (``tessera.app_state.IntelligencePort``), backed by the
reasoner of ``workers.intelligence`` (local summary, or an LLM when configured)."""

from __future__ import annotations

from datetime import datetime

from tessera.context.facts import AnswerJson, AskFactsJson, PassageJson
from tessera.wire import JsonObject, parse_rfc3339
from workers.intelligence import (
    AskFacts,
    EntityFacts,
    InsightFact,
    NoteFact,
    PassageFact,
    Reasoner,
    RelationshipFact,
    TaskFact,
    resolve_question_terms,
)


def _when(value: str | None) -> datetime | None:
    return parse_rfc3339(value) if value else None


def to_facts(facts: AskFactsJson) -> AskFacts:
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
                    total_entities_searched=int(facts.get("total_entities_searched", 0)),
                    passages=tuple(_passage(p) for p in facts.get("passages", [])),
                    answerable=bool(facts.get("answerable")))


def _passage(p: PassageJson) -> PassageFact:
    return PassageFact(id=int(p["id"]), source_type=p["source_type"], source_id=int(p["source_id"]),
                       content=p["content"], sentence=p["sentence"], created_at=_when(p.get("created_at")),
                       score=float(p["score"]), entity_ids=tuple(int(e) for e in p.get("entity_ids", [])),
                       replaces=tuple(_passage(r) for r in p.get("replaces", [])),
                       artifact_id=int(p["artifact_id"]) if p.get("artifact_id") is not None else None)


def passage_signal(passage: PassageFact) -> JsonObject:
    """A cited passage as a ``signals_used`` entry: the spec's fields (``entity_id`` is the first
    entity it mentions, 0 for none) plus where it came from (``artifact_id`` / ``note_id`` /
    ``insight_id``, ``memory_item_id``, ``created_at``)."""
    signal: JsonObject = {"entity_id": passage.entity_ids[0] if passage.entity_ids else 0,
                              "content": passage.sentence, "score": passage.score, "type": "memory",
                              "source_type": passage.source_type, f"{passage.source_type}_id": passage.source_id,
                              "memory_item_id": passage.id}
    if passage.artifact_id is not None:
        signal["artifact_id"] = passage.artifact_id
    if passage.created_at is not None:
        signal["created_at"] = passage.created_at.isoformat().replace("+00:00", "Z")
    return signal


class ReasonerPort:
    def __init__(self, reasoner: Reasoner) -> None:
        self.reasoner = reasoner

    def question_terms(self, question: str) -> dict[str, list[str]]:
        terms = resolve_question_terms(question)
        return {"domains": list(terms.domains), "emails": list(terms.emails), "names": list(terms.names),
                "keywords": list(terms.keywords)}

    async def answer(self, question: str, facts: AskFactsJson) -> AnswerJson:
        answer = await self.reasoner.answer(question, to_facts(facts))
        cited = [p for lead in answer.passages_cited for p in (lead, *lead.replaces)]
        return {"answer": answer.answer, "confidence": answer.confidence,
                "passages_cited": [p.id for p in cited],
                "signals_used": [passage_signal(p) for p in cited] + [
                    {"insight_id": s.insight_id, "entity_id": s.entity_id, "content": s.content, "score": s.score,
                     "type": s.type} for s in answer.signals_used]}
