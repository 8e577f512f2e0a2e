"""HTTP handlers of the schema registry."""

from __future__ import annotations

from schema_registry.compiler import compile_schema
from schema_registry.definitions import AttributeTypeName, ObjectType
from tessera.errors import NotFound
from tessera.http.context import RequestContext
from tessera.http.endpoint import RawJSON
from tessera.jsonio import dump_json
from tessera.registry.models import (
    CreateAttributeRequest,
    CreateListRequest,
    CreateObjectRequest,
    CreateRelationshipDefinitionRequest,
    IncludeAttributesQuery,
    UpdateAttributeRequest,
    UpdateObjectRequest,
)
from tessera.registry.serialize import DefinitionListJson, attribute_to_json, object_to_json, relationship_to_json
from tessera.registry.service import RegistryService
from tessera.wire import JsonObject, parse_id


async def _service(ctx: RequestContext) -> RegistryService:
    settings = ctx.state.settings
    return RegistryService(await ctx.tenant(), ctx.state.schemas, ctx.changes,
                           max_objects=settings.max_objects_per_workspace,
                           max_attributes=settings.max_attributes_per_object)


_LISTING_CACHE_SIZE = 10_000


async def list_objects(ctx: RequestContext[None, IncludeAttributesQuery]) -> RawJSON:
    schema = await ctx.schema()
    include = ctx.query.include_attributes
    # The answer only depends on the schema version: serialize it once per version.
    cache: dict[tuple[int, int, bool], bytes] = ctx.state.extras.setdefault("object_listings", {})
    key = (ctx.workspace_id, schema.version, include)
    body = cache.get(key)
    if body is None:
        if len(cache) >= _LISTING_CACHE_SIZE:
            cache.clear()
        listing: DefinitionListJson = {
            "data": [object_to_json(o, include_attributes=include) for o in schema.objects if not o.is_list]}
        body = cache[key] = dump_json(listing)
    return RawJSON(body)


async def create_object(ctx: RequestContext[CreateObjectRequest, None]) -> JsonObject:
    body = ctx.body
    service = await _service(ctx)
    obj = await service.create_object(name=body.name, slug=body.slug, name_plural=body.name_plural,
                                      description=body.description, type_=ObjectType(body.type))
    return object_to_json(obj)


async def get_object(ctx: RequestContext[None, None]) -> JsonObject:
    schema = await ctx.schema()
    return object_to_json(RegistryService.object_of(schema, ctx.path["slug"]))


async def get_object_schema(ctx: RequestContext[None, None]) -> JsonObject:
    schema = await ctx.schema()
    return compile_schema(RegistryService.object_of(schema, ctx.path["slug"]), "create")


async def update_object(ctx: RequestContext[UpdateObjectRequest, None]) -> JsonObject:
    obj = await (await _service(ctx)).update_object(ctx.path["slug"], ctx.body)
    return object_to_json(obj)


async def delete_object(ctx: RequestContext[None, None]) -> None:
    await (await _service(ctx)).delete_object_by_slug(ctx.path["slug"])


async def create_attribute(ctx: RequestContext[CreateAttributeRequest, None]) -> JsonObject:
    body = ctx.body
    attribute = await (await _service(ctx)).create_attribute(
        ctx.path["slug"], name=body.name, slug=body.slug, type_=AttributeTypeName(body.type),
        description=body.description, options=body.options)
    return attribute_to_json(attribute)


async def update_attribute(ctx: RequestContext[UpdateAttributeRequest, None]) -> JsonObject:
    attribute = await (await _service(ctx)).update_attribute(ctx.path["slug"], ctx.path["attr_id"], ctx.body)
    return attribute_to_json(attribute)


async def delete_attribute(ctx: RequestContext[None, None]) -> None:
    await (await _service(ctx)).delete_attribute(ctx.path["slug"], ctx.path["attr_id"])


async def create_list(ctx: RequestContext[CreateListRequest, None]) -> JsonObject:
    body = ctx.body
    obj = await (await _service(ctx)).create_list(
        ctx.path["slug"], name=body.name, slug=body.slug, name_plural=body.name_plural,
        description=body.description)
    return object_to_json(obj)


async def list_lists(ctx: RequestContext[None, IncludeAttributesQuery]) -> DefinitionListJson:
    schema = await ctx.schema()
    parent = RegistryService.object_of(schema, ctx.path["slug"])
    include = ctx.query.include_attributes
    return {"data": [object_to_json(o, include_attributes=include) for o in schema.lists_of(parent.id)]}


async def get_list(ctx: RequestContext[None, None]) -> JsonObject:
    schema = await ctx.schema()
    list_id = parse_id(ctx.path["id"])
    obj = schema.object_by_id(list_id) if list_id is not None else None
    if obj is None or not obj.is_list:
        raise NotFound("List not found")
    return object_to_json(obj)


async def delete_list(ctx: RequestContext[None, None]) -> None:
    await (await _service(ctx)).delete_list(parse_id(ctx.path["id"]))


async def create_relationship_definition(ctx: RequestContext[CreateRelationshipDefinitionRequest, None],
                                         ) -> JsonObject:
    definition = await (await _service(ctx)).create_relationship(ctx.body)
    return relationship_to_json(definition)


async def list_relationship_definitions(ctx: RequestContext[None, None]) -> DefinitionListJson:
    schema = await ctx.schema()
    return {"data": [relationship_to_json(d) for d in schema.relationships]}


async def delete_relationship_definition(ctx: RequestContext[None, None]) -> None:
    await (await _service(ctx)).delete_relationship(parse_id(ctx.path["id"]))
