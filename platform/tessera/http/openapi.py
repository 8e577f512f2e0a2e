"""OpenAPI 3.1, generated from the route table and the pydantic models (never hand-written)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from tessera.http.endpoint import Endpoint
from tessera.http.models import ErrorResponse
from tessera.wire import JsonObject, JsonValue

_PATH_PARAM = re.compile(r"{([^}]+)}")
_ERRORS = {
    "400": "Invalid input (malformed JSON, wrong shape, bad value)",
    "401": "Missing, malformed, unknown, revoked or expired API key",
    "403": "The API key lacks the endpoint's scope",
    "404": "Unknown id or slug (or one that belongs to another workspace)",
    "409": "Conflict (uniqueness, cardinality, Idempotency-Key reuse)",
    "413": "Request body over the size limit",
    "415": "Request body is not JSON",
    "429": "Rate limit exceeded (see Retry-After)",
    "500": "Unexpected failure",
    "503": "A dependency is unavailable; retry",
}


def _error_ref() -> JsonObject:
    return {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}


def _query_parameters(model: type[BaseModel], defs: JsonObject) -> list[JsonValue]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    defs.update(schema.pop("$defs", {}))
    required = set(schema.get("required", []))
    params: list[JsonValue] = []
    for name, prop in schema.get("properties", {}).items():
        description = prop.pop("description", None)
        prop.pop("title", None)
        param: JsonObject = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            param["description"] = description
        params.append(param)
    return params


def build_openapi(endpoints: Iterable[Endpoint], *, prefix: str, title: str, version: str,
                  description: str, extra_paths: Mapping[str, JsonObject] | None = None) -> JsonObject:
    """The OpenAPI 3.1 document of ``endpoints`` (under ``prefix``), plus ``extra_paths`` as given."""
    endpoints = list(endpoints)
    models: list[type[BaseModel]] = [ErrorResponse]
    for ep in endpoints:
        for model in (ep.body, ep.response):
            if isinstance(model, type) and issubclass(model, BaseModel) and model not in models:
                models.append(model)
    _, top = models_json_schema([(m, "validation") for m in models],
                                ref_template="#/components/schemas/{model}")
    schemas: JsonObject = dict(top.get("$defs", {}))
    paths: dict[str, JsonObject] = {}
    for ep in endpoints:
        parameters: list[JsonValue] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _PATH_PARAM.findall(ep.path)
        ]
        responses: JsonObject = {}
        operation: JsonObject = {
            "operationId": ep.operation_id,
            "summary": ep.summary,
            "description": (ep.description + "\n\n" if ep.description else "") + f"Scope: `{ep.scope}`",
            "tags": [ep.tag],
            "security": [{"bearerAuth": []}],
            "x-scope": ep.scope,
            "parameters": parameters,
            "responses": responses,
        }
        if ep.query is not None:
            parameters.extend(_query_parameters(ep.query, schemas))
        if ep.method in {"POST", "PUT", "PATCH", "DELETE"}:
            parameters.append({
                "name": "Idempotency-Key", "in": "header", "required": False,
                "schema": {"type": "string", "maxLength": 255},
                "description": "Replays return the first response; reuse with another body is 409.",
            })
        if ep.body is not None and not ep.raw_body:
            operation["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{ep.body.__name__}"}}}}
        ok: JsonObject
        if ep.streaming:
            ok = {"description": "A stream", "content": {
                media: {"schema": {"type": "string"}} for media in ep.media or ("text/event-stream",)}}
        elif ep.response is None:
            ok = {"description": "OK (empty body)"}
        else:
            content: JsonObject = {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{ep.response.__name__}"}}}
            for media in ep.media:
                content[media] = {"schema": {"type": "string"}}
            ok = {"description": "OK", "content": content}
        responses["200"] = ok
        for status, text in _ERRORS.items():
            responses[status] = {"description": text, **_error_ref()}
        paths.setdefault(prefix + ep.path, {})[ep.method.lower()] = operation
    for path, item in (extra_paths or {}).items():
        paths[path] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "servers": [{"url": "/"}],
        "paths": dict[str, JsonValue](paths),
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "An API key: sk-..."}},
        },
    }
