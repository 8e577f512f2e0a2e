"""The one module that talks to an OpenAI-compatible chat-completions endpoint, and the
extractor and reasoner built on it.

``OpenAICompatibleClient`` posts to ``{base_url}/chat/completions`` with a JSON-schema
``response_format`` (structured output) and returns the parsed JSON object of the first choice.
Servers that refuse OpenAI's ``{"type": "json_schema", ...}`` but take the schema in a
``json_object`` format (llama.cpp's server) are detected from the refusal, which names
``response_format``; the client then uses that dialect for this and later calls.
Timeouts, transport errors, 429/5xx answers and content that is not a JSON object are retried
with exponential backoff; after the last try it raises ``LLMError``. The API key is sent as a
bearer token and never logged or shown in ``repr``.

``LLMExtractor`` and ``LLMReasoner`` never fail because of the model: on any error they answer
with their fallback (the rule extractor, the summary reasoner). What a model returns is checked
against the input: an extraction keeps only values found in the text and is completed with the
rule extractor's finds; an answer may cite only insights it was given.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Final, Literal

import httpx

from workers.intelligence.extractor import Extractor
from workers.intelligence.grounding import ground_extraction, merge_extractions, normalize_model_json
from workers.intelligence.identifiers import find_domains, find_emails
from workers.intelligence.model import EXTRACTION_JSON_SCHEMA, SIGNAL_TYPES, Extraction, from_json
from workers.intelligence.reasoner import Answer, AskFacts, PassageFact, Reasoner, SignalUsed, render_value

log = logging.getLogger(__name__)

RETRY_STATUSES: Final = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
MAX_TEXT_CHARS: Final = 12_000


class LLMError(Exception):
    """The endpoint gave no usable answer (after retries when the error was transient)."""


class OpenAICompatibleClient:
    """A chat-completions client for structured output. ``base_url`` ends before
    ``/chat/completions`` (``http://127.0.0.1:8081/v1``)."""

    def __init__(self, base_url: str, model: str, api_key: str | None = None, *, timeout_s: float = 20.0,
                 retries: int = 2, backoff_s: float = 0.25, max_tokens: int = 1024,
                 response_format: Literal["json_schema", "json_object"] = "json_schema") -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self._api_key = api_key
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_tokens = max_tokens
        self.response_format = response_format

    def __repr__(self) -> str:
        key = "set" if self._api_key else "none"
        return f"OpenAICompatibleClient(url={self.url!r}, model={self.model!r}, api_key={key})"

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def _body(self, system: str, user: str, schema_name: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "temperature": 0,
            "max_tokens": self.max_tokens,
            "response_format": (
                {"type": "json_schema", "json_schema": {"name": schema_name, "schema": schema, "strict": True}}
                if self.response_format == "json_schema" else {"type": "json_object", "schema": schema}),
        }

    async def complete_json(self, system: str, user: str, schema_name: str, schema: dict[str, Any]) -> dict[str, Any]:
        """The JSON object the model returns for the prompt under ``schema``. Raises ``LLMError``
        when every try failed (the last error is chained)."""
        body = self._body(system, user, schema_name, schema)
        last: Exception | None = None
        async with httpx.AsyncClient(timeout=httpx.Timeout(self.timeout_s)) as http:
            for attempt in range(self.retries + 1):
                if attempt:
                    await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))
                try:
                    return await self._attempt(http, body)
                except _FormatRefused as err:
                    if self.response_format == "json_object":
                        raise LLMError("the endpoint refuses structured output") from err
                    log.info("endpoint refuses json_schema response_format; using json_object with a schema")
                    self.response_format = "json_object"
                    body = self._body(system, user, schema_name, schema)
                    try:
                        return await self._attempt(http, body)
                    except (httpx.TimeoutException, httpx.TransportError, _Retryable) as retry_err:
                        last = retry_err
                except (httpx.TimeoutException, httpx.TransportError) as err:
                    last = err
                except _Retryable as err:
                    last = err
                except LLMError:
                    raise
                log.warning("llm call failed (attempt %d of %d): %s", attempt + 1, self.retries + 1,
                            type(last).__name__ if not isinstance(last, _Retryable) else last)
        raise LLMError(f"no usable answer from the model after {self.retries + 1} tries") from last

    async def _attempt(self, http: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
        response = await http.post(self.url, json=body, headers=self._headers())
        if response.status_code in (400, 422, 500) and "response_format" in response.text \
                and "json_schema" in response.text:
            raise _FormatRefused(f"HTTP {response.status_code}")
        if response.status_code in RETRY_STATUSES:
            raise _Retryable(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise LLMError(f"HTTP {response.status_code} from the model endpoint")
        try:
            content = response.json()["choices"][0]["message"]["content"]
            parsed = json.loads(content)
        except (ValueError, KeyError, IndexError, TypeError) as err:
            raise _Retryable("the answer is not a JSON chat completion") from err
        if not isinstance(parsed, dict):
            raise _Retryable("the answer is not a JSON object")
        return parsed


class _Retryable(Exception):
    """A failure worth another try: 429/5xx, or content that is not the JSON asked for."""


class _FormatRefused(Exception):
    """The endpoint refused the ``json_schema`` response format (it names it in the error)."""


EXTRACTION_PROMPT: Final = (
    "You extract facts for a CRM from one text. Report only people, companies, e-mail addresses, "
    "domains, phone numbers and job titles that are written in the text; never guess or complete "
    "them. company on a person is the company the text says they work at (its name or domain). "
    f"Signals are short insights of these types: {', '.join(SIGNAL_TYPES)}; content is one sentence. "
    "Answer with JSON only."
)


class LLMExtractor:
    """An ``Extractor`` that asks a model for the ``Extraction`` JSON, keeps what the text
    grounds, completes it with ``fallback``'s finds, and answers ``fallback`` alone on any
    failure (see the module docstring)."""

    def __init__(self, client: OpenAICompatibleClient, fallback: Extractor) -> None:
        self.client = client
        self.fallback = fallback

    async def extract(self, text: str, context: str | None) -> Extraction:
        rules = await self.fallback.extract(text, context)
        user = (f"Context: {context}\n\n" if context else "") + f"Text:\n{text[:MAX_TEXT_CHARS]}"
        try:
            raw = await self.client.complete_json(EXTRACTION_PROMPT, user, "extraction", EXTRACTION_JSON_SCHEMA)
            model = ground_extraction(from_json(normalize_model_json(raw)), text)
        except Exception as err:
            log.warning("llm extraction failed, using the rule extractor: %s", type(err).__name__)
            return rules
        return merge_extractions(model, rules)


PASSAGES_IN_PROMPT: Final = 6
ANSWER_SCHEMA: Final[dict[str, Any]] = {
    "type": "object", "additionalProperties": False, "required": ["answer", "confidence", "insight_ids"],
    "properties": {"answer": {"type": "string"}, "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                   "insight_ids": {"type": "array", "items": {"type": "integer"}},
                   "passage_ids": {"type": "array", "items": {"type": "integer"}}},
}
ANSWER_PROMPT: Final = (
    "You answer questions about a CRM workspace using ONLY the facts given as JSON: records with their "
    "insights, and remembered passages (what the user told the workspace, with the date it was told). Do "
    "not add any fact, number, name, address or date that is not in them. When two passages disagree, the "
    "newer one is true now; say what changed. If the facts do not answer the question, say that you have "
    "no information on it. insight_ids and passage_ids list the ids your answer relies on. Answer with JSON only."
)


def _passage(passage: PassageFact) -> dict[str, Any]:
    return {"id": passage.id, "text": passage.content,
            "remembered_at": passage.created_at.isoformat() if passage.created_at else None}


def facts_to_prompt(facts: AskFacts) -> dict[str, Any]:
    """The facts as the JSON the model reads."""
    return {
        "workspace_wide": facts.workspace_wide,
        "total_entities_searched": facts.total_entities_searched,
        "entities": [{
            "id": e.id, "type": e.type, "name": e.name,
            "attributes": {k: render_value(v) for k, v in e.attributes.items() if render_value(v)},
            "insights": [{"id": i.id, "type": i.type, "content": i.content,
                          "created_at": i.created_at.isoformat() if i.created_at else None} for i in e.insights],
            "notes": [{"title": n.title, "excerpt": n.excerpt} for n in e.notes],
            "open_tasks": [{"title": t.title, "due_date": t.due_date.isoformat() if t.due_date else None}
                           for t in e.tasks],
            "relationships": [{"predicate": r.predicate, "other": r.other_name} for r in e.relationships],
        } for e in facts.entities],
        "passages": [{**_passage(p), "replaces": [_passage(r) for r in p.replaces]}
                     for p in (facts.passages[:PASSAGES_IN_PROMPT] if facts.answerable else ())],
    }


def _invented_identifiers(answer: str, known: str) -> bool:
    """Whether the answer names an address or domain that the facts do not contain."""
    folded = known.casefold()
    emails = find_emails(answer)
    values = [e.value for e in emails] + [d.value for d in find_domains(answer, [(e.start, e.end) for e in emails])]
    return any(value not in folded for value in values)


class LLMReasoner:
    """A ``Reasoner`` that asks a model, keeps only citations of insights it was given, refuses
    answers naming addresses or domains absent from the facts, and answers ``fallback``'s
    summary on any failure."""

    def __init__(self, client: OpenAICompatibleClient, fallback: Reasoner) -> None:
        self.client = client
        self.fallback = fallback

    async def answer(self, question: str, facts: AskFacts) -> Answer:
        payload = json.dumps(facts_to_prompt(facts), ensure_ascii=False)
        try:
            raw = await self.client.complete_json(ANSWER_PROMPT, f"Question: {question}\n\nFacts:\n{payload}",
                                                  "answer", ANSWER_SCHEMA)
            text = raw.get("answer")
            confidence = raw.get("confidence", 0.5)
            ids = raw.get("insight_ids", [])
            if not isinstance(text, str) or not text.strip() or not isinstance(ids, list):
                raise LLMError("the answer has no text")
            if isinstance(confidence, bool) or not isinstance(confidence, int | float):
                raise LLMError("the answer has no numeric confidence")
            if _invented_identifiers(text, payload + question):
                raise LLMError("the answer names an address or domain that is not in the facts")
        except Exception as err:
            log.warning("llm answer failed, using the summary reasoner: %s", type(err).__name__)
            return await self.fallback.answer(question, facts)
        cited = [(i, e) for e in facts.entities for i in e.insights if i.id in {x for x in ids if isinstance(x, int)}]
        used = tuple(SignalUsed(i.id, e.id, i.content, 1.0, i.type) for i, e in cited)
        wanted = {x for x in raw.get("passage_ids") or [] if isinstance(x, int)}
        shown = facts.passages[:PASSAGES_IN_PROMPT] if facts.answerable else ()
        passages = tuple(p for p in shown if p.id in wanted)  # only ids it was given
        return Answer(" ".join(text.split()) if "\n" not in text else text.strip(),
                      round(min(1.0, max(0.0, float(confidence))), 2), used, passages)
