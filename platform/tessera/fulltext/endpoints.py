"""``POST /v1/search``: Meilisearch through the search port, PostgreSQL when it is down."""

from __future__ import annotations

from typing import TypedDict

from tessera.app_state import SearchHit
from tessera.errors import BadRequest, FieldError, NotFound
from tessera.fulltext.models import SearchRequest
from tessera.fulltext.service import find
from tessera.http.context import RequestContext


class SearchResultJson(TypedDict):
    id: str
    primary_value: str
    matched_value: str
    score: float
    entity_definition_id: str


class SearchResponseJson(TypedDict):
    results: dict[str, list[SearchResultJson]]
    errored_search_types: list[str]
    degraded: bool


def _result(hit: SearchHit) -> SearchResultJson:
    return {"id": hit["id"], "primary_value": hit["primary_value"], "matched_value": hit["matched_value"],
            "score": hit["score"], "entity_definition_id": hit["object_id"]}


async def search(ctx: RequestContext[SearchRequest, None]) -> SearchResponseJson:
    body = ctx.body
    schema = await ctx.schema()
    if body.object_types:
        objects = []
        for index, slug in enumerate(body.object_types):
            obj = schema.object(slug)
            if obj is None or obj.is_list:
                raise NotFound(f"Object '{slug[:80]}' not found",
                               errors=[FieldError(f"object_types[{index}]", "unknown object")])
            objects.append(obj)
    else:
        objects = [o for o in schema.objects if not o.is_list]
    node = None
    if body.filter is not None:
        if len(objects) != 1:
            raise BadRequest("A filter needs exactly one entry in object_types",
                             errors=[FieldError("object_types", "give exactly one object with a filter")])
        from schema_registry.query import parse_filter

        node = parse_filter(objects[0], body.filter)
    found = await find(ctx.state.search, ctx.tenant, ctx.workspace_id, body.query, objects, limit=body.limit,
                       node=node)
    return {"results": {slug: [_result(h) for h in hits] for slug, hits in found.hits.items()},
            "errored_search_types": found.errored, "degraded": found.degraded}
