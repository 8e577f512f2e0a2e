"""Request and response models of the schema-registry endpoints (the spec's field names)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from tessera.wire import Name, QueryModel, RequestModel, ResponseModel

Description = str
SLUG_PATTERN = r"^[a-z][a-z0-9_-]{0,62}$"
Slug = Annotated[str, Field(pattern=SLUG_PATTERN, description="Lowercase, starts with a letter, at most 63 chars")]


class IncludeAttributesQuery(QueryModel):
    include_attributes: bool = False


class CreateObjectRequest(RequestModel):
    name: Name
    slug: Slug
    name_plural: Name | None = None
    description: str | None = Field(default=None, max_length=2000)
    type: Literal["person", "company", "custom", "deal"] = "custom"


class UpdateObjectRequest(RequestModel):
    name: Name | None = None
    name_plural: Name | None = None
    description: str | None = Field(default=None, max_length=2000)


class CreateListRequest(RequestModel):
    name: Name
    slug: Slug
    name_plural: Name | None = None
    description: str | None = Field(default=None, max_length=2000)


class SelectOptionRequest(RequestModel):
    id: str | None = Field(default=None, max_length=64)
    name: str = Field(max_length=200)


class CreateAttributeOptions(RequestModel):
    is_required: bool | None = None
    is_unique: bool | None = None
    is_multi_value: bool | None = None
    use_raw_format: bool | None = None
    is_whole_number: bool | None = None
    select_options: list[SelectOptionRequest] | None = Field(default=None, max_length=1000)


class UpdateAttributeOptions(RequestModel):
    is_required: bool | None = None
    use_raw_format: bool | None = None
    is_whole_number: bool | None = None
    select_options: list[SelectOptionRequest] | None = Field(default=None, max_length=1000)
    is_unique: bool | None = Field(default=None, description="Beyond the spec: switch uniqueness")
    is_multi_value: bool | None = Field(default=None, description="Beyond the spec")


AttributeType = Literal["text", "number", "email", "phone", "url", "date", "boolean", "currency", "location",
                        "select", "social_profile", "domain", "full_name"]


class CreateAttributeRequest(RequestModel):
    name: Name
    slug: Slug
    type: AttributeType
    description: str | None = Field(default=None, max_length=2000)
    options: CreateAttributeOptions | None = None


class UpdateAttributeRequest(RequestModel):
    name: Name | None = None
    description: str | None = Field(default=None, max_length=2000)
    options: UpdateAttributeOptions | None = None
    type: object = Field(default=None, description="Refused: an attribute's type cannot change")


class CreateRelationshipDefinitionRequest(RequestModel):
    type: Literal["one_to_one", "one_to_many", "many_to_many"]
    entity_definition_1_id: str = Field(max_length=40)
    entity_definition_2_id: str = Field(max_length=40)
    entity_1_to_2_predicate: str | None = Field(default=None, max_length=200)
    entity_2_to_1_predicate: str | None = Field(default=None, max_length=200)


class SelectOptionResponse(ResponseModel):
    id: str
    name: str


class AttributeOptionsResponse(ResponseModel):
    is_required: bool
    is_unique: bool
    is_multi_value: bool
    use_raw_format: bool
    is_whole_number: bool
    select_options: list[SelectOptionResponse] | None = None


class AttributeDefinitionResponse(ResponseModel):
    id: str
    slug: str
    name: str
    type: str
    description: str
    options: AttributeOptionsResponse


class ObjectResponse(ResponseModel):
    id: str
    slug: str
    name: str
    name_plural: str
    type: str
    description: str
    created_at: str
    parent_object_id: str | None = None
    attributes: list[AttributeDefinitionResponse] | None = None


class ListObjectsResponse(ResponseModel):
    data: list[ObjectResponse]


class RelationshipDefinitionResponse(ResponseModel):
    id: str
    type: str
    entity_definition_1_id: str
    entity_definition_2_id: str
    entity_1_to_2_predicate: str
    entity_2_to_1_predicate: str
    created_at: str


class ListRelationshipDefinitionsResponse(ResponseModel):
    data: list[RelationshipDefinitionResponse]


class JsonSchemaResponse(ResponseModel):
    """A JSON Schema (2020-12) document."""
