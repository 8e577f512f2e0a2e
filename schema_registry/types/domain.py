"""domain: the registered domain of a bare domain or URL (``https://www.Acme.com/x`` ->
``acme.com``, ``blog.acme.co.uk`` -> ``acme.co.uk``), lowercase ASCII (IDNA punycode).

The public-suffix list comes from the snapshot bundled with tldextract: the extractor is
built without suffix-list URLs and without a cache directory, so it never touches the network
or the disk. Private suffixes (``github.io``) are not honoured: ``foo.github.io`` gives
``github.io``, which is what a company's domain means in a CRM.
"""

from __future__ import annotations

import ipaddress
import re
from functools import cache, lru_cache
from typing import ClassVar

import tldextract

from schema_registry.definitions import AttributeDefinition, AttributeTypeName
from schema_registry.types.base import (
    CELL_SEPARATORS_WITH_COMMA,
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
from schema_registry.types.web_url import MAX_URL_LENGTH, parse_http_url

_IP_CHARS = frozenset("0123456789abcdef.:")


def _could_be_ip(host: str) -> bool:
    """Cheap pre-check: an IP address has only hex digits, dots and colons (and a digit or a
    colon). Raising ValueError from ipaddress for every domain cost ~10% of a bulk load's CPU."""
    return (":" in host or host[:1].isdigit()) and set(host) <= _IP_CHARS


@cache
def _extractor() -> tldextract.TLDExtract:
    # Built on first use, not at import: reading the bundled snapshot takes ~20 ms.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


def host_of(raw: JSON) -> str:
    """The lowercase ASCII host named by a bare domain, a host with a path, or an http(s)
    URL. E-mail addresses and URLs with credentials are refused."""
    text = storable_string(raw, max_length=MAX_URL_LENGTH, what="domain").strip()
    if not text:
        raise InvalidValue("expected a domain such as acme.com")
    is_url = "://" in text
    if "@" in text and not is_url:
        raise InvalidValue("expected a domain, not an email address")
    url = parse_http_url(text if is_url else f"https://{text}")
    if url.username is not None or url.password is not None:
        raise InvalidValue("URLs with a user name or password are not accepted")
    if url.host is None:
        raise InvalidValue("expected a domain such as acme.com")
    return url.host


@lru_cache(maxsize=8192)
def registered_domain(host: str) -> str:
    """The registered domain of a lowercase ASCII host; IPs, single labels and hosts
    without a known public suffix are refused."""
    if host.startswith("["):
        raise InvalidValue("expected a domain, not an IP address")
    if _could_be_ip(host):
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            raise InvalidValue("expected a domain, not an IP address")
    parts = _extractor()(host)
    if not parts.suffix:
        raise InvalidValue("the domain does not end in a known public suffix")
    if not parts.domain:
        raise InvalidValue("the domain is a public suffix, not a registered domain")
    return f"{parts.domain}.{parts.suffix}".lower()


def normalize_domain(raw: JSON) -> str:
    """The stored form: the registered domain (one label below the public suffix)."""
    return registered_domain(host_of(raw))


_LOOKS_LIKE_DOMAIN = re.compile(r"^(?:www\.)?[a-z0-9-]+(\.[a-z0-9-]+)+$", re.IGNORECASE)


class DomainType(AttributeType):
    """A company's web domain."""

    name: ClassVar[AttributeTypeName] = AttributeTypeName.DOMAIN
    unique_capable: ClassVar[bool] = True
    cell_separators: ClassVar[re.Pattern[str]] = CELL_SEPARATORS_WITH_COMMA
    facets: ClassVar[tuple[Facet, ...]] = (Facet("", StorageClass.TEXT),)

    def value_schema(self, attribute: AttributeDefinition) -> dict[str, JSON]:
        return {"type": "string", "minLength": 1, "maxLength": MAX_URL_LENGTH}

    def normalize(self, raw: JSON, attribute: AttributeDefinition) -> JSON:
        return normalize_domain(raw)

    def read(self, stored: JSON, attribute: AttributeDefinition) -> JSON:
        return stored

    def facet_values(self, stored: JSON, attribute: AttributeDefinition) -> list[FacetValue]:
        return [FacetValue("", StorageClass.TEXT, stored)]

    def search_text(self, stored: JSON, attribute: AttributeDefinition) -> str:
        return str(stored)

    def filter_operand(
        self, operator: str, raw: JSON, facet: Facet, attribute: AttributeDefinition
    ) -> FacetScalar:
        check_operator(self, operator, facet)
        if operator in SUBSTRING_OPERATORS:
            return scalar_operand(self, operator, raw, facet)
        return normalize_domain(raw)

    def looks_like(self, text: str) -> bool:
        return bool(_LOOKS_LIKE_DOMAIN.match(text))
