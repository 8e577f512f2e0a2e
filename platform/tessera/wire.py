"""The API's wire format, shared by every layer: JSON types, RFC3339 timestamps, ids as text, and
the base classes of request, query and response models. Nothing here knows about HTTP (that is
``tessera.http``); services and repositories use it to speak types instead of raw JSON."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, TypeAlias

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from tessera.db.ids import id_from_text

JsonValue: TypeAlias = "str | int | float | bool | list[JsonValue] | dict[str, JsonValue] | None"
"""A JSON document as ``orjson`` reads it."""
JsonObject: TypeAlias = "dict[str, JsonValue]"
"""A JSON object: response bodies, event payloads, stored documents."""

_RFC3339 = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)


def parse_rfc3339(value: Any) -> datetime:
    """An RFC3339 date-time with an explicit offset, returned in UTC. Anything else is refused."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("date-time must carry a timezone offset")
        return value.astimezone(UTC)
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise ValueError("must be an RFC3339 date-time such as 2026-03-01T09:00:00Z")
    text = value.replace("z", "Z").replace("Z", "+00:00")
    fraction = re.search(r"\.([0-9]+)", text)
    if fraction and len(fraction.group(1)) > 6:  # Python keeps microseconds
        text = text.replace(fraction.group(0), "." + fraction.group(1)[:6], 1)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as err:
        raise ValueError("is not a valid date-time") from err
    return parsed.astimezone(UTC)


Rfc3339 = Annotated[datetime, BeforeValidator(parse_rfc3339)]
Text = Annotated[str, Field(max_length=10_000)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class RequestModel(BaseModel):
    """Request bodies: unknown fields refused, no silent type coercion."""

    model_config = ConfigDict(extra="forbid", strict=True)


class QueryModel(BaseModel):
    """Query strings: every value arrives as text, so coercion ("true", "50") is allowed."""

    model_config = ConfigDict(extra="forbid")


class ResponseModel(BaseModel):
    """Response documentation models (handlers return plain JSON built to match)."""

    model_config = ConfigDict(extra="allow")



def iso(value: datetime | None) -> str | None:
    """RFC3339 UTC with ``Z`` (what every response uses)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_id(raw: str) -> int | None:
    """A path id as the integer it stands for, or None when it cannot be one of ours."""
    return id_from_text(raw)
