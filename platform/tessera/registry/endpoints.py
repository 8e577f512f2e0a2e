"""HTTP handlers of the schema registry."""

from __future__ import annotations

from typing import Any

from schema_registry.compiler import compile_schema
from tessera.errors import BadRequest, NotFound
from tessera.http.context import RequestContext
from tessera.http.endpoint import RawJSON
from tessera.jsonio import dump_json
from tessera.registry.serialize import attribute_to_json, object_to_json, relationship_to_json
from tessera.registry.service import RegistryService
from tessera.wire import parse_id


async def _service(ctx: RequestContext) -> RegistryService:
    settings = ctx.state.settings
    return RegistryService(await ctx.tenant(), ctx.state.schemas, ctx.changes,
                           max_objects=settings.max_objects_per_workspace,
                           max_attributes=settings.max_attributes_per_object)


_LISTING_CACHE_SIZE = 10_000


async def list_objects(ctx: RequestContext) -> RawJSON:
    schema = await ctx.schema()
    include = ctx.query.include_attributes
    # The answer only depends on the schema version: serialize it once per version.
    cache: dict[tuple[int, int, bool], bytes] = ctx.state.extras.setdefault("object_listings", {})
    key = (ctx.workspace_id, schema.version, include)
    body = cache.get(key)
    if body is None:
        if len(cache) >= _LISTING_CACHE_SIZE:
            cache.clear()
        body = cache[key] = dump_json(
            {"data": [object_to_json(o, include_attributes=include) for o in schema.objects if not o.is_list]})
    return RawJSON(body)


async def create_object(ctx: RequestContext) -> dict[str, Any]:
    body = ctx.body
    service = await _service(ctx)
    obj = await service.create_object(name=body.name, slug=body.slug, name_plural=body.name_plural,
                                      description=body.description, type_=body.type)
    return object_to_json(obj)


async def get_object(ctx: RequestContext) -> dict[str, Any]:
    schema = await ctx.schema()
    return object_to_json(RegistryService.object_of(schema, ctx.path["slug"]))


async def get_object_schema(ctx: RequestContext) -> dict[str, Any]:
    schema = await ctx.schema()
    return compile_schema(RegistryService.object_of(schema, ctx.path["slug"]), "create")


async def update_object(ctx: RequestContext) -> dict[str, Any]:
    changes = {k: v for k, v in ctx.body.model_dump(exclude_unset=True).items() if v is not None}
    obj = await (await _service(ctx)).update_object(ctx.path["slug"], changes)
    return object_to_json(obj)


async def delete_object(ctx: RequestContext) -> None:
    await (await _service(ctx)).delete_object_by_slug(ctx.path["slug"])


async def create_attribute(ctx: RequestContext) -> dict[str, Any]:
    body = ctx.body
    options = body.options.model_dump(exclude_none=True) if body.options else {}
    attribute = await (await _service(ctx)).create_attribute(
        ctx.path["slug"], name=body.name, slug=body.slug, type_=body.type, description=body.description,
        options=options)
    return attribute_to_json(attribute)


async def update_attribute(ctx: RequestContext) -> dict[str, Any]:
    body = ctx.body
    if "type" in body.model_fields_set:
        raise BadRequest("An attribute's type cannot be changed; create a new attribute instead")
    changes: dict[str, Any] = {"name": body.name, "description": body.description}
    if body.options is not None:
        changes["options"] = body.options.model_dump(exclude_none=True)
    attribute = await (await _service(ctx)).update_attribute(ctx.path["slug"], ctx.path["attr_id"], changes)
    return attribute_to_json(attribute)


async def delete_attribute(ctx: RequestContext) -> None:
    await (await _service(ctx)).delete_attribute(ctx.path["slug"], ctx.path["attr_id"])


async def create_list(ctx: RequestContext) -> dict[str, Any]:
    body = ctx.body
    obj = await (await _service(ctx)).create_list(
        ctx.path["slug"], name=body.name, slug=body.slug, name_plural=body.name_plural,
        description=body.description)
    return object_to_json(obj)


async def list_lists(ctx: RequestContext) -> dict[str, Any]:
    schema = await ctx.schema()
    parent = RegistryService.object_of(schema, ctx.path["slug"])
    include = ctx.query.include_attributes
    return {"data": [object_to_json(o, include_attributes=include) for o in schema.lists_of(parent.id)]}


async def get_list(ctx: RequestContext) -> dict[str, Any]:
    schema = await ctx.schema()
    list_id = parse_id(ctx.path["id"])
    obj = schema.object_by_id(list_id) if list_id is not None else None
    if obj is None or not obj.is_list:
        raise NotFound("List not found")
    return object_to_json(obj)


async def delete_list(ctx: RequestContext) -> None:
    await (await _service(ctx)).delete_list(parse_id(ctx.path["id"]))


async def create_relationship_definition(ctx: RequestContext) -> dict[str, Any]:
    body = ctx.body
    definition = await (await _service(ctx)).create_relationship(
        type_=body.type, entity_definition_1_id=body.entity_definition_1_id,
        entity_definition_2_id=body.entity_definition_2_id, predicate_1_to_2=body.entity_1_to_2_predicate,
        predicate_2_to_1=body.entity_2_to_1_predicate)
    return relationship_to_json(definition)


async def list_relationship_definitions(ctx: RequestContext) -> dict[str, Any]:
    schema = await ctx.schema()
    return {"data": [relationship_to_json(d) for d in schema.relationships]}


async def delete_relationship_definition(ctx: RequestContext) -> None:
    await (await _service(ctx)).delete_relationship(ctx.path["id"])
