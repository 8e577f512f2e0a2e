"""Request and response models of the record, list-entry and relationship-instance endpoints."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, GetPydanticSchema, model_validator
from pydantic_core import core_schema

from tessera.wire import JsonValue, RequestModel, ResponseModel

AttributesMode = Literal["all", "primary", "none"]

JsonMembers = Annotated[dict[str, JsonValue],
                        GetPydanticSchema(lambda _source, _handler: core_schema.dict_schema(core_schema.str_schema()))]
"""A JSON object, checked (and documented) only as an object with text keys. The body was parsed
from JSON, so its members are JSON values already: checking each again (pydantic's ``JsonValue``)
doubled the validation time of a record write (14 -> 27 µs for a body of ten values), and the
attribute-type registry validates the members anyway."""


class CustomAttributes(RequestModel):
    mode: Literal["custom"]
    slugs: list[str] = Field(min_length=1, max_length=500)


class SortParam(RequestModel):
    attribute: str = Field(max_length=200, description="Attribute slug or id (or created_at, updated_at, id)")
    direction: Literal["asc", "desc"] = "asc"


class RecordBody(RequestModel):
    attributes: JsonMembers


class UpdateRecordRequest(RequestModel):
    attributes: JsonMembers = Field(default_factory=dict)


class UpsertRecordRequest(RequestModel):
    matching_attribute: str = Field(max_length=200, description="Slug or id of a unique attribute")
    attributes: JsonMembers


class ListRecordsRequest(RequestModel):
    attributes: AttributesMode | CustomAttributes = "all"
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=10_000_000)
    sort: SortParam | None = None
    sorts: list[SortParam] | None = Field(default=None, max_length=5, description="Several sort keys (beyond the spec)")
    filter: JsonMembers | None = Field(default=None, description="Record query language (see docs/query.md)")
    cursor: str | None = Field(default=None, min_length=1, max_length=2000,
                               description="Keyset cursor from next_cursor")

    @model_validator(mode="after")
    def _one_sort_form(self) -> ListRecordsRequest:
        if self.sort is not None and self.sorts is not None:
            raise ValueError("give either sort or sorts, not both")
        if self.cursor is not None and self.offset:
            raise ValueError("give either cursor or offset, not both")
        return self


class ListMemberRequest(RequestModel):
    parent_id: str = Field(max_length=40)
    attributes: JsonMembers | None = None


class UpdateListRecordRequest(RequestModel):
    attributes: JsonMembers = Field(default_factory=dict)


class CreateRelationshipRequest(RequestModel):
    definition_id: str = Field(max_length=40)
    entity_1_id: str = Field(max_length=40)
    entity_2_id: str = Field(max_length=40)


class BatchItem(RequestModel):
    attributes: JsonMembers


class BatchRequest(RequestModel):
    records: list[BatchItem] = Field(min_length=1, max_length=1000)
    matching_attribute: str | None = Field(default=None, max_length=200,
                                           description="Upsert by this unique attribute; omit to create")


class RecordResponse(ResponseModel):
    id: str
    object_id: str
    type: str
    workspace_id: str
    created_at: str
    updated_at: str
    attributes: JsonMembers


class ListRecordsResponse(ResponseModel):
    data: list[RecordResponse]
    total: int
    limit: int
    offset: int
    has_more: bool
    next_offset: int | None = None
    next_cursor: str | None = None


class ListEntryResponse(ResponseModel):
    id: str
    object_id: str
    type: str
    workspace_id: str
    parent_id: str
    created_at: str
    updated_at: str
    attributes: JsonMembers


class RelationshipInstanceResponse(ResponseModel):
    id: str
    definition_id: str
    entity_1_id: str
    entity_2_id: str
    created_at: str


class RelationshipInstanceListResponse(ResponseModel):
    data: list[RelationshipInstanceResponse]


class BatchItemResult(ResponseModel):
    index: int
    status: Literal["created", "updated", "error"]
    id: str | None = None
    error: JsonMembers | None = None


class BatchResponse(ResponseModel):
    results: list[BatchItemResult]
    created: int
    updated: int
    failed: int


# --- aggregations (docs/query.md, "Aggregations") ----------------------------------------------

class GroupBucketParam(RequestModel):
    attribute: str = Field(max_length=200, description="A date attribute, created_at or updated_at")
    bucket: Literal["day", "week", "month", "quarter", "year"]


class MetricParam(RequestModel):
    op: Literal["count", "sum", "avg", "min", "max", "count_distinct"]
    attribute: str | None = Field(default=None, max_length=200,
                                  description="Number or currency for sum/avg/min/max; any attribute for "
                                              "count_distinct; none for count")


def _default_metrics() -> list[MetricParam]:
    return [MetricParam(op="count")]


class AggregateRequest(RequestModel):
    filter: JsonMembers | None = Field(default=None, description="Record query language (see docs/query.md)")
    group_by: list[Annotated[str, Field(max_length=200)] | GroupBucketParam] = Field(
        default_factory=list, max_length=3, description="Attribute, attribute.facet, or a bucketed date")
    metrics: list[MetricParam] = Field(default_factory=_default_metrics, min_length=1, max_length=10)
    limit: int = Field(default=100, ge=1, le=1000, description="Buckets returned; the rest fold into `other`")


class AggregateBucket(ResponseModel):
    group: list[Any] = Field(description="One value per group_by member (select: {id, title}; date bucket: "
                                         "its first day)")
    count: int
    metrics: list[Any] = Field(description="One value per requested metric")


class AggregateResponse(ResponseModel):
    buckets: list[AggregateBucket]
    other: AggregateBucket | None = None
    groups: int
    limit: int
