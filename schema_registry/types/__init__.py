"""The attribute-type registry: one ``AttributeType`` per ``AttributeTypeName``.

Everything type-specific (JSON Schema fragment, normalizer, read form, facets, search text,
filter operands) is looked up here by type name; callers never branch on the type.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from schema_registry.definitions import AttributeTypeName
from schema_registry.types.base import AttributeType
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


__all__ = ["REGISTRY", "attribute_type"]
