"""email: an address email-validator accepts (syntax only, no DNS), stored lowercase."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import ClassVar

from email_validator import EmailNotValidError, validate_email

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
from schema_registry.types.web_url import ascii_host

# RFC 5321 caps a path at 256 octets; 320 leaves room for surrounding blanks and stops an
# oversize string before the (slow, pure-Python) validator looks at it.
_MAX_INPUT_LENGTH = 320

# Checking the part after the @ is half of email-validator's cost (~15 us of ~30), and domains
# repeat far more than addresses (a company's people share one). For short ASCII addresses the
# two halves are therefore validated apart: the local part against a fixed, valid domain, the
# domain once (cached) behind a fixed, valid local part. email-validator checks each half on its
# own terms; the one rule spanning both, the 254-octet length limit, cannot bite at 128
# characters of ASCII. Anything else, and every refusal, goes through the one full call, whose
# verdict and message are authoritative (tests check that both paths agree).
_SPLIT_MAX_LENGTH = 128
_PROBE_DOMAIN = "a.co"
_PROBE_LOCAL_PART = "a"


def _validated(address: str) -> tuple[str, str]:
    result = validate_email(address, check_deliverability=False)
    return result.normalized, result.ascii_domain


@lru_cache(maxsize=4096)
def _validated_domain(domain: str) -> tuple[str, str]:
    result = validate_email(f"{_PROBE_LOCAL_PART}@{domain}", check_deliverability=False)
    return result.domain, result.ascii_domain


def _validated_in_halves(address: str) -> tuple[str, str] | None:
    local, _, domain = address.rpartition("@")
    if not local or len(address) > _SPLIT_MAX_LENGTH or not address.isascii():
        return None
    try:
        local_part = validate_email(f"{local}@{_PROBE_DOMAIN}", check_deliverability=False).local_part
        domain_name, ascii_domain = _validated_domain(domain)
    except EmailNotValidError:
        return None
    return f"{local_part}@{domain_name}", ascii_domain


@lru_cache(maxsize=8192)
def _normalize_address(raw: str) -> tuple[str, str]:
    """(stored address, lowercase ASCII domain). Cached: addresses come back again and again
    (upserts, filters, imports)."""
    address = raw.strip()
    try:
        normalized, ascii_domain = _validated_in_halves(address) or _validated(address)
    except EmailNotValidError as err:
        raise InvalidValue(f"not a valid email address: {err}") from err
    return normalized.lower(), ascii_domain.lower()


def normalize_email(raw: JSON) -> str:
    """The stored form of an email address: email-validator's normalized form, lowercased."""
    return _normalize_address(storable_string(raw, max_length=_MAX_INPUT_LENGTH))[0]


_LOOKS_LIKE_EMAIL = re.compile(r"[^@\s]++@([^@\s]++)")  # and a dot inside the domain


class EmailType(AttributeType):
    """An email address. Facets: the address and its (ASCII, lowercase) domain."""

    name: ClassVar[AttributeTypeName] = AttributeTypeName.EMAIL
    unique_capable: ClassVar[bool] = True
    cell_separators: ClassVar[re.Pattern[str]] = CELL_SEPARATORS_WITH_COMMA
    facets: ClassVar[tuple[Facet, ...]] = (
        Facet("", StorageClass.TEXT),
        Facet("domain", StorageClass.TEXT),
    )

    def value_schema(self, attribute: AttributeDefinition) -> dict[str, JSON]:
        return {"type": "string", "format": "email", "maxLength": _MAX_INPUT_LENGTH}

    def normalize(self, raw: JSON, attribute: AttributeDefinition) -> JSON:
        return normalize_email(raw)

    def read(self, stored: JSON, attribute: AttributeDefinition) -> JSON:
        return stored

    def facet_values(self, stored: JSON, attribute: AttributeDefinition) -> list[FacetValue]:
        return [
            FacetValue("", StorageClass.TEXT, stored),
            FacetValue("domain", StorageClass.TEXT, _normalize_address(stored)[1]),
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
        return normalize_email(raw)

    def looks_like(self, text: str) -> bool:
        match = _LOOKS_LIKE_EMAIL.fullmatch(text)
        return match is not None and "." in match.group(1)[1:-1]
