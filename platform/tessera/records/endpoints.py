"""HTTP handlers of records, list entries, relationship instances and batches."""

from __future__ import annotations

from schema_registry.definitions import AttributeDefinition, ObjectDefinition
from schema_registry.query import parse_filter, parse_sorts
from tessera.errors import BadRequest, FieldError
from tessera.http.context import RequestContext
from tessera.records import repository
from tessera.records.admission import check_cost
from tessera.records.aggregate import GroupRequest, MetricRequest, aggregate_json, plan_aggregate
from tessera.records.aggregate_sql import run_aggregate
from tessera.records.cursor import CursorCodec
from tessera.records.listing import Page, RecordQuery, query_fingerprint
from tessera.records.models import (
    AggregateRequest,
    AttributesMode,
    BatchRequest,
    CreateRelationshipRequest,
    CustomAttributes,
    GroupBucketParam,
    ListMemberRequest,
    ListRecordsRequest,
    RecordBody,
    UpdateListRecordRequest,
    UpdateRecordRequest,
    UpsertRecordRequest,
)
from tessera.records.relationships import RelationshipService
from tessera.records.serialize import entry_to_json, record_to_json, relationship_to_json
from tessera.records.service import ItemResult, RecordService
from tessera.records.values import read_attributes
from tessera.wire import JsonObject, JsonValue, iso, parse_id


async def writer(ctx: RequestContext) -> RecordService:
    """A record service for writes: the schema locked for the transaction (``for_write``)."""
    tenant = await ctx.tenant()
    return RecordService(tenant, await ctx.state.schemas.for_write(tenant), ctx.changes)


async def reader(ctx: RequestContext) -> RecordService:
    schema = await ctx.schema()
    return RecordService(await ctx.tenant(), schema, ctx.changes)


# --- records ------------------------------------------------------------------------------

async def create_record(ctx: RequestContext[RecordBody, None]) -> JsonObject:
    service = await writer(ctx)
    obj = service.object(ctx.path["slug"])
    row = await service.create(obj, ctx.body.attributes)
    return record_to_json(obj, row, ctx.workspace_id)


async def upsert_record(ctx: RequestContext[UpsertRecordRequest, None]) -> JsonObject:
    service = await writer(ctx)
    obj = service.object(ctx.path["slug"])
    row, _created = await service.upsert(obj, ctx.body.matching_attribute, ctx.body.attributes)
    return record_to_json(obj, row, ctx.workspace_id)


async def get_record(ctx: RequestContext[None, None]) -> JsonObject:
    service = await reader(ctx)
    obj, row = await service.record(parse_id(ctx.path["record_id"]))
    return record_to_json(obj, row, ctx.workspace_id)


async def update_record(ctx: RequestContext[UpdateRecordRequest, None]) -> JsonObject:
    service = await writer(ctx)
    obj, row = await service.record(parse_id(ctx.path["record_id"]), lock=True)
    row = await service.update(obj, row, ctx.body.attributes)
    return record_to_json(obj, row, ctx.workspace_id)


async def delete_record(ctx: RequestContext[None, None]) -> None:
    await (await writer(ctx)).delete(parse_id(ctx.path["record_id"]))


def _selection(obj: ObjectDefinition, mode: AttributesMode | CustomAttributes) -> list[AttributeDefinition] | None:
    if mode == "all":
        return None
    if mode == "none":
        return []
    if mode == "primary":
        primary = obj.primary_attribute
        return [primary] if primary else []
    chosen = []
    for index, slug in enumerate(mode.slugs):
        attribute = obj.attribute(slug)
        if attribute is None:
            raise BadRequest(f"Unknown attribute '{slug[:80]}' in attributes.slugs",
                             errors=[FieldError(f"attributes.slugs[{index}]", "unknown attribute")])
        chosen.append(attribute)
    return chosen


def _sort_pairs(body: ListRecordsRequest) -> list[tuple[str, str]]:
    if body.sorts:
        return [(s.attribute, s.direction) for s in body.sorts]
    if body.sort:
        return [(body.sort.attribute, body.sort.direction)]
    return []


async def _query(ctx: RequestContext[ListRecordsRequest, None], service: RecordService, obj: ObjectDefinition,
                 parent: ObjectDefinition | None) -> tuple[Page, ListRecordsRequest]:
    body = ctx.body
    pairs = _sort_pairs(body)
    node = parse_filter(obj, body.filter, parent=parent)
    settings = ctx.state.settings
    check_cost(node, body.offset, max_offset=settings.query_max_offset,
               max_wildcards=settings.query_max_substring_conditions)
    sorts = parse_sorts(obj, pairs, parent=parent)
    codec = CursorCodec(ctx.state.settings.key_pepper.get_secret_value().encode(), ctx.workspace_id,
                        f"{obj.id}:{query_fingerprint(body.filter, pairs)}")
    page = await RecordQuery(service.tenant, obj, node=node, sorts=sorts, codec=codec).page(
        limit=body.limit, offset=body.offset, cursor=body.cursor)
    return page, body


def _page_json(page: Page, body: ListRecordsRequest, data: list[JsonValue]) -> JsonObject:
    out: JsonObject = {"data": data, "total": page.total, "limit": body.limit, "offset": body.offset,
                       "has_more": page.has_more}
    if page.has_more and body.cursor is None:
        out["next_offset"] = body.offset + len(data)
    if page.next_cursor:
        out["next_cursor"] = page.next_cursor
    return out


async def list_records(ctx: RequestContext[ListRecordsRequest, None]) -> JsonObject:
    async with ctx.state.query_gate.slot(ctx.workspace_id):
        service = await reader(ctx)
        obj = service.object(ctx.path["slug"])
        only = _selection(obj, ctx.body.attributes)
        page, body = await _query(ctx, service, obj, None)
    return _page_json(page, body, [record_to_json(obj, row, ctx.workspace_id, only) for row in page.rows])


async def batch_records(ctx: RequestContext[BatchRequest, None]) -> JsonObject:
    service = await writer(ctx)
    obj = service.object(ctx.path["slug"])
    items = [item.attributes for item in ctx.body.records]
    if ctx.body.matching_attribute:
        results = await service.upsert_batch(obj, items, ctx.body.matching_attribute)
    else:
        results = await service.create_batch(obj, items)
    counts = {status: sum(1 for r in results if r.status == status) for status in ("created", "updated", "error")}
    return {"results": [_item_json(r) for r in results], "created": counts["created"],
            "updated": counts["updated"], "failed": counts["error"]}


def _item_json(result: ItemResult) -> JsonObject:
    out: JsonObject = {"index": result.index, "status": result.status}
    if result.id is not None:
        out["id"] = str(result.id)
    if result.error is not None:
        out["error"] = result.error.as_json()
    return out


# --- list entries -------------------------------------------------------------------------

async def add_list_member(ctx: RequestContext[ListMemberRequest, None]) -> JsonObject:
    service = await writer(ctx)
    lst = service.list_object(parse_id(ctx.path["id"]))
    parent = await service.parent_for(lst, ctx.body.parent_id)
    entry = await service.add_entry(lst, parent, ctx.body.attributes)
    return entry_to_json(lst, service.parent_object(lst), entry, ctx.workspace_id)


async def upsert_list_member(ctx: RequestContext[ListMemberRequest, None]) -> JsonObject:
    service = await writer(ctx)
    lst = service.list_object(parse_id(ctx.path["id"]))
    parent = await service.parent_for(lst, ctx.body.parent_id)
    entry = await service.upsert_entry(lst, parent, ctx.body.attributes)
    return entry_to_json(lst, service.parent_object(lst), entry, ctx.workspace_id)


async def update_list_member(ctx: RequestContext[UpdateListRecordRequest, None]) -> JsonObject:
    service = await writer(ctx)
    lst = service.list_object(parse_id(ctx.path["id"]))
    entry = await service.entry(lst, ctx.path["record_id"], lock=True)
    entry = await service.update(lst, entry, ctx.body.attributes)
    return entry_to_json(lst, service.parent_object(lst), entry, ctx.workspace_id)


async def remove_list_member(ctx: RequestContext[None, None]) -> None:
    service = await writer(ctx)
    lst = service.list_object(parse_id(ctx.path["id"]))
    await service.remove_entry(lst, ctx.path["record_id"])


async def list_list_members(ctx: RequestContext[ListRecordsRequest, None]) -> JsonObject:
    async with ctx.state.query_gate.slot(ctx.workspace_id):
        service = await reader(ctx)
        lst = service.list_object(parse_id(ctx.path["id"]))
        parent_obj = service.parent_object(lst)
        assert parent_obj is not None
        only = _selection(parent_obj, ctx.body.attributes)
        page, body = await _query(ctx, service, lst, parent_obj)
    parents = {p.id: p for p in await repository.get_records(
        service.tenant, [e.parent_record_id for e in page.rows if e.parent_record_id])}
    data: list[JsonValue] = []
    for entry in page.rows:
        parent = parents.get(entry.parent_record_id or 0)
        if parent is None:
            continue
        item = record_to_json(parent_obj, parent, ctx.workspace_id, only)
        item["list_entry"] = {"id": str(entry.id), "attributes": read_attributes(lst, entry.data),
                              "created_at": iso(entry.created_at)}
        data.append(item)
    return _page_json(page, body, data)


# --- aggregations -------------------------------------------------------------------------

async def _aggregate(ctx: RequestContext[AggregateRequest, None], service: RecordService, obj: ObjectDefinition,
                     parent: ObjectDefinition | None) -> JsonObject:
    body = ctx.body
    node = parse_filter(obj, body.filter, parent=parent)
    settings = ctx.state.settings
    check_cost(node, 0, max_offset=settings.query_max_offset, max_wildcards=settings.query_max_substring_conditions)
    groups = [GroupRequest(g.attribute, g.bucket) if isinstance(g, GroupBucketParam) else GroupRequest(g)
              for g in body.group_by]
    metrics = [MetricRequest(m.op, m.attribute) for m in body.metrics]
    plan = plan_aggregate(obj, node, groups, metrics, body.limit)
    return aggregate_json(plan, await run_aggregate(service.tenant, plan, obj.id))


async def aggregate_records(ctx: RequestContext[AggregateRequest, None]) -> JsonObject:
    async with ctx.state.query_gate.slot(ctx.workspace_id):
        service = await reader(ctx)
        return await _aggregate(ctx, service, service.object(ctx.path["slug"]), None)


async def aggregate_list_entries(ctx: RequestContext[AggregateRequest, None]) -> JsonObject:
    async with ctx.state.query_gate.slot(ctx.workspace_id):
        service = await reader(ctx)
        lst = service.list_object(parse_id(ctx.path["id"]))
        return await _aggregate(ctx, service, lst, service.parent_object(lst))


# --- relationship instances ---------------------------------------------------------------

async def create_relationship(ctx: RequestContext[CreateRelationshipRequest, None]) -> JsonObject:
    service = RelationshipService(await writer(ctx))
    body = ctx.body
    return relationship_to_json(
        await service.create(ctx.path["record_id"], body.definition_id, body.entity_1_id, body.entity_2_id))


async def delete_relationship(ctx: RequestContext[None, None]) -> None:
    await RelationshipService(await writer(ctx)).delete(ctx.path["record_id"], ctx.path["rel_id"])


async def list_relationships(ctx: RequestContext[None, None]) -> JsonObject:
    service = RelationshipService(await reader(ctx))
    return {"data": [relationship_to_json(r) for r in await service.of_record(ctx.path["record_id"])]}
