"""url: an absolute http(s) URL, parsed and normalised by pydantic-core's WHATWG URL parser.

Decisions: only ``http`` and ``https``; a host is required; URLs carrying credentials
(``https://user:pass@host``) are refused, because a record field is read by everyone in the
workspace and a password must not end up there; at most 2,048 characters, before and after
normalisation (percent-encoding can make a URL longer). The stored form is the parser's
serialisation: lowercase scheme and host, IDNA hosts in punycode, an empty path as ``/``.
"""

from __future__ import annotations

import re
from typing import ClassVar

from pydantic_core import SchemaValidator, Url, ValidationError, core_schema

from schema_registry.definitions import AttributeDefinition, AttributeTypeName
from schema_registry.types.base import (
    JSON,
    AttributeType,
    Facet,
    FacetScalar,
    FacetValue,
    InvalidValue,
    StorageClass,
)
from schema_registry.types.operands import SUBSTRING_OPERATORS, check_operator, scalar_operand
from schema_registry.types.storable import storable_string

MAX_URL_LENGTH = 2048

_HTTP_URL = SchemaValidator(
    core_schema.url_schema(allowed_schemes=["http", "https"], max_length=MAX_URL_LENGTH, host_required=True)
)


def parse_http_url(raw: JSON) -> Url:
    """Parse an absolute http(s) URL; ``InvalidValue`` with the parser's reason otherwise."""
    text = storable_string(raw, max_length=MAX_URL_LENGTH, what="URL")
    try:
        url: Url = _HTTP_URL.validate_python(text)
    except ValidationError as err:
        reason = err.errors()[0]["msg"]
        raise InvalidValue(f"not an absolute http(s) URL: {reason}") from err
    return url


def ascii_host(text: str) -> str:
    """The WHATWG-normalised host of ``text`` given as a bare host name (lowercase, IDNA
    punycode); ``InvalidValue`` when it is not one."""
    url = parse_http_url(f"https://{text.strip()}/")
    if url.host is None or str(url) != f"https://{url.host}/":
        raise InvalidValue("not a host name")
    return url.host


def normalize_url(raw: JSON) -> str:
    """The stored form of a URL (see the module's decisions)."""
    url = parse_http_url(raw)
    if url.username is not None or url.password is not None:
        raise InvalidValue("URLs with a user name or password are not accepted")
    normalized = str(url)
    if len(normalized) > MAX_URL_LENGTH:
        raise InvalidValue(f"URL is longer than {MAX_URL_LENGTH} characters once normalized")
    return normalized


_LOOKS_LIKE_URL = re.compile(r"^https?://", re.IGNORECASE)


class UrlType(AttributeType):
    """A web address. Facets: the URL and its host."""

    name: ClassVar[AttributeTypeName] = AttributeTypeName.URL
    unique_capable: ClassVar[bool] = True
    facets: ClassVar[tuple[Facet, ...]] = (
        Facet("", StorageClass.TEXT),
        Facet("domain", StorageClass.TEXT),
    )

    def value_schema(self, attribute: AttributeDefinition) -> dict[str, JSON]:
        return {"type": "string", "format": "uri", "maxLength": MAX_URL_LENGTH}

    def normalize(self, raw: JSON, attribute: AttributeDefinition) -> JSON:
        return normalize_url(raw)

    def read(self, stored: JSON, attribute: AttributeDefinition) -> JSON:
        return stored

    def facet_values(self, stored: JSON, attribute: AttributeDefinition) -> list[FacetValue]:
        host = parse_http_url(stored).host or ""
        return [
            FacetValue("", StorageClass.TEXT, stored),
            FacetValue("domain", StorageClass.TEXT, host),
        ]

    def search_text(self, stored: JSON, attribute: AttributeDefinition) -> str:
        return str(stored)

    def filter_operand(
        self, operator: str, raw: JSON, facet: Facet, attribute: AttributeDefinition
    ) -> FacetScalar:
        check_operator(self, operator, facet)
        if operator in SUBSTRING_OPERATORS:
            return scalar_operand(self, operator, raw, facet)
        if facet.name == "domain":
            return ascii_host(str(scalar_operand(self, operator, raw, facet)))
        return normalize_url(raw)

    def looks_like(self, text: str) -> bool:
        return bool(_LOOKS_LIKE_URL.match(text))
