"""The attribute-type registry: one ``AttributeType`` per ``AttributeTypeName``.

Everything type-specific (JSON Schema fragment, normalizer, read form, facets, search text,
filter operands, the options a type takes, spreadsheet cells) is looked up here by type name;
callers never branch on the type.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from schema_registry.definitions import AttributeTypeName
from schema_registry.types.base import AttributeType, InvalidValue, TypeOption
from schema_registry.types.boolean import BooleanType
from schema_registry.types.currency import CurrencyType
from schema_registry.types.date import DateType
from schema_registry.types.domain import DomainType
from schema_registry.types.email_address import EmailType
from schema_registry.types.full_name import FullNameType
from schema_registry.types.location import LocationType
from schema_registry.types.number import NumberType
from schema_registry.types.phone_number import PhoneType
from schema_registry.types.select_option import SelectType
from schema_registry.types.social_profile import SocialProfileType
from schema_registry.types.text import TextType
from schema_registry.types.web_url import UrlType

REGISTRY: Mapping[AttributeTypeName, AttributeType] = MappingProxyType(
    {
        attribute_type.name: attribute_type
        for attribute_type in (
            TextType(),
            NumberType(),
            EmailType(),
            PhoneType(),
            UrlType(),
            DateType(),
            BooleanType(),
            CurrencyType(),
            LocationType(),
            SelectType(),
            SocialProfileType(),
            DomainType(),
            FullNameType(),
        )
    }
)


def attribute_type(name: AttributeTypeName | str) -> AttributeType:
    """The registered type called ``name``; ``ValueError`` for a string that names no type
    (a definition can only hold a valid ``AttributeTypeName``, so that is a caller's bug)."""
    return REGISTRY[AttributeTypeName(name)]


_PLURAL_OPTIONS = frozenset({TypeOption.SELECT_OPTIONS})
"""Options whose names are plural nouns, for the grammar of the refusal."""


def check_options(name: AttributeTypeName | str, options: Mapping[str, object]) -> None:
    """Refuse, as ``InvalidValue``, attribute options the type does not take: a type-specific
    option (``TypeOption``) set on another type, or ``is_unique`` on a type that cannot be unique.
    Only options set to something truthy count (``is_whole_number: false`` is no request)."""
    kind = attribute_type(name)
    for option in TypeOption:
        if options.get(option) and option not in kind.options:
            takers = " and ".join(other.name.value for other in REGISTRY.values() if option in other.options)
            verb = "apply" if option in _PLURAL_OPTIONS else "applies"
            raise InvalidValue(f"{option.value} {verb} only to {takers} attributes")
    if options.get("is_unique") and not kind.unique_capable:
        raise InvalidValue(f"{kind.name.value} attributes cannot be unique")


INFERENCE_ORDER: tuple[AttributeTypeName, ...] = (
    AttributeTypeName.EMAIL,
    AttributeTypeName.URL,
    AttributeTypeName.DATE,
    AttributeTypeName.BOOLEAN,
    AttributeTypeName.NUMBER,
    AttributeTypeName.PHONE,
    AttributeTypeName.DOMAIN,
)
"""The types ``infer_type`` offers, in the order it tries them: the first that enough cells look
like wins (so a column of ``+14155552671`` is offered as a number, not a phone)."""
INFERENCE_SHARE = 0.8
"""The share of a column's non-empty cells that must look like a type for it to be offered
(the count rounded down, at least one)."""


def infer_type(samples: Iterable[str]) -> AttributeTypeName:
    """The attribute type most cells of a column look like (``text`` when unsure)."""
    values = [s.strip() for s in samples if s and s.strip()]
    if not values:
        return AttributeTypeName.TEXT
    needed = max(1, int(len(values) * INFERENCE_SHARE))
    for name in INFERENCE_ORDER:
        kind = REGISTRY[name]
        if sum(1 for v in values if kind.looks_like(v)) >= needed:
            return name
    return AttributeTypeName.TEXT


__all__ = ["INFERENCE_ORDER", "REGISTRY", "attribute_type", "check_options", "infer_type"]
