"""currency: ``{"amount": number, "currency_code": ISO 4217}``, read back as the same object.

The code is matched case-insensitively against ISO 4217 as pycountry knows it and stored
uppercase; the amount obeys the number bounds (see ``storable_number``).
"""

from __future__ import annotations

import re
from functools import cache
from typing import ClassVar

import pycountry

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
from schema_registry.types.cell_text import parse_number
from schema_registry.types.number import number_schema
from schema_registry.types.operands import SUBSTRING_OPERATORS, check_operator, scalar_operand
from schema_registry.types.storable import describe, member_path, require_object, storable_number, to_decimal

_KEYS = frozenset({"amount", "currency_code"})


@cache
def _currency_codes() -> frozenset[str]:
    return frozenset(currency.alpha_3 for currency in pycountry.currencies)


def normalize_currency_code(raw: JSON) -> str:
    """An ISO 4217 code, uppercase; ``InvalidValue`` for anything else."""
    code = raw.strip().upper() if isinstance(raw, str) else None
    if code not in _currency_codes():
        shown = "an unknown code" if isinstance(raw, str) else describe(raw)
        raise InvalidValue(f"expected an ISO 4217 currency code such as USD, got {shown}")
    return code


# Linear in the cell: possessive quantifiers (see schema_registry.types.cell_text).
_MONEY = re.compile(r"\s*+(?:([A-Za-z]{3})\s*+)?([$€£¥])?\s*+([+-]?[\d,]*+(?:\.\d++|(?<=\d)))\s*+([A-Za-z]{3})?\s*+")
_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}


class CurrencyType(AttributeType):
    """An amount of money. Facets: the amount (main, numeric) and the currency code."""

    name: ClassVar[AttributeTypeName] = AttributeTypeName.CURRENCY
    unique_capable: ClassVar[bool] = False
    members: ClassVar[tuple[str, ...]] = ("amount", "currency_code")
    facets: ClassVar[tuple[Facet, ...]] = (
        Facet("", StorageClass.NUMERIC),
        Facet("currency_code", StorageClass.TEXT),
    )
    composite: ClassVar[bool] = True

    def value_schema(self, attribute: AttributeDefinition) -> dict[str, JSON]:
        return {
            "type": "object",
            "properties": {
                "amount": number_schema(whole=False),
                "currency_code": {"type": "string", "minLength": 3, "maxLength": 3},
            },
            "required": ["amount", "currency_code"],
            "additionalProperties": False,
        }

    def normalize(self, raw: JSON, attribute: AttributeDefinition) -> JSON:
        value = require_object(raw, _KEYS, "an object with amount and currency_code")
        for key in ("amount", "currency_code"):
            if value.get(key) is None:
                raise InvalidValue("required", member_path(key))
        try:
            amount = storable_number(value["amount"])
        except InvalidValue as err:
            raise InvalidValue(err.message, member_path("amount")) from err
        try:
            code = normalize_currency_code(value["currency_code"])
        except InvalidValue as err:
            raise InvalidValue(err.message, member_path("currency_code")) from err
        return {"amount": amount, "currency_code": code}

    def read(self, stored: JSON, attribute: AttributeDefinition) -> JSON:
        return {"amount": stored["amount"], "currency_code": stored["currency_code"]}

    def facet_values(self, stored: JSON, attribute: AttributeDefinition) -> list[FacetValue]:
        return [
            FacetValue("", StorageClass.NUMERIC, to_decimal(stored["amount"])),
            FacetValue("currency_code", StorageClass.TEXT, stored["currency_code"]),
        ]

    def search_text(self, stored: JSON, attribute: AttributeDefinition) -> str:
        return f"{stored['amount']} {stored['currency_code']}"

    def unique_key(self, stored: JSON, attribute: AttributeDefinition) -> str:
        return f"{stored['currency_code']} {format(to_decimal(stored['amount']).normalize(), 'f')}"

    def filter_operand(
        self, operator: str, raw: JSON, facet: Facet, attribute: AttributeDefinition
    ) -> FacetScalar:
        check_operator(self, operator, facet)
        if facet.name == "currency_code" and operator not in SUBSTRING_OPERATORS:
            return normalize_currency_code(raw)
        return scalar_operand(self, operator, raw, facet)

    def coerce_cell(self, text: str) -> JSON:
        """``USD 12.50``, ``$12.50``, ``12.50 EUR`` (a code or one of $ € £ ¥)."""
        match = _MONEY.fullmatch(text)
        if match:
            code = match.group(1) or match.group(4) or _SYMBOLS.get(match.group(2) or "", "")
            amount = parse_number(match.group(3))
            if code and not isinstance(amount, str):
                return {"amount": amount, "currency_code": code}
        return text

    def coerce_member(self, member: str, text: str) -> JSON:
        return parse_number(text) if member == "amount" else text.strip()
