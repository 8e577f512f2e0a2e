"""social_profile: a profile URL, stored with the platform it belongs to and the handle.

Write form: a profile URL, with or without scheme (``linkedin.com/in/jane``). Stored:
``{"url", "platform", "handle"}``; platform is one of linkedin, twitter, github, facebook,
instagram, youtube, tiktok, other (twitter.com and x.com are both twitter). For a known
platform the URL is rewritten to its canonical form, ``https://`` plus the platform's
canonical host (x.com for twitter), the path without trailing slash, no query or fragment
(tracking parameters), so two spellings of one profile are one value. Other sites keep their
scheme, path and query; only the fragment goes. The host must end in a public suffix.
Read form: the URL string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

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
from schema_registry.types.domain import registered_domain
from schema_registry.types.operands import SUBSTRING_OPERATORS, check_operator, scalar_operand
from schema_registry.types.storable import storable_string
from schema_registry.types.web_url import MAX_URL_LENGTH, normalize_url, parse_http_url


@dataclass(frozen=True, slots=True)
class Platform:
    name: str
    host: str
    """Canonical host of profile URLs."""
    handle_pattern: re.Pattern[str]
    """Matches the path of a profile URL; group ``handle`` is the handle."""


_PLATFORMS: dict[str, Platform] = {
    "linkedin.com": Platform(
        "linkedin", "www.linkedin.com", re.compile(r"/(?:in|company|school)/(?P<handle>[^/]+)")
    ),
    "twitter.com": Platform(
        "twitter",
        "x.com",
        re.compile(r"/(?!(?:home|i|intent|share|search|explore|hashtag|settings)$)(?P<handle>[A-Za-z0-9_]{1,15})"),
    ),
    "github.com": Platform(
        "github",
        "github.com",
        re.compile(r"/(?:orgs/)?(?!(?:orgs|about|features|topics|explore|marketplace|settings|sponsors)$)"
                   r"(?P<handle>[A-Za-z0-9-]{1,39})"),
    ),
    "facebook.com": Platform(
        "facebook",
        "www.facebook.com",
        re.compile(r"/(?!(?:pages|groups|people|events|watch|profile\.php)$)(?P<handle>[A-Za-z0-9.]{1,50})"),
    ),
    "instagram.com": Platform(
        "instagram",
        "www.instagram.com",
        re.compile(r"/(?!(?:p|reel|reels|explore|stories|accounts)$)(?P<handle>[A-Za-z0-9._]{1,30})"),
    ),
    "youtube.com": Platform(
        "youtube", "www.youtube.com", re.compile(r"/(?:@|c/|user/|channel/)(?P<handle>[A-Za-z0-9._-]{1,100})")
    ),
    "tiktok.com": Platform("tiktok", "www.tiktok.com", re.compile(r"/@(?P<handle>[A-Za-z0-9._]{1,24})")),
}
_PLATFORMS["x.com"] = _PLATFORMS["twitter.com"]
_PLATFORMS["fb.com"] = _PLATFORMS["facebook.com"]
_PLATFORMS["youtu.be"] = _PLATFORMS["youtube.com"]

_EXAMPLE = "https://www.linkedin.com/in/jane"

PLATFORM_NAMES = ("linkedin", "twitter", "github", "facebook", "instagram", "youtube", "tiktok", "other")


def normalize_social_profile(raw: JSON) -> dict[str, JSON]:
    """The stored form of a profile URL (see the module's rules)."""
    text = storable_string(raw, max_length=MAX_URL_LENGTH, what="profile URL").strip()
    if "://" not in text:
        text = f"https://{text}"
    url = parse_http_url(text)
    if url.username is not None or url.password is not None:
        raise InvalidValue("URLs with a user name or password are not accepted")
    try:
        platform = _PLATFORMS.get(registered_domain(url.host or ""))
    except InvalidValue as err:
        raise InvalidValue(f"expected a profile URL such as {_EXAMPLE}: {err.message}") from err
    if platform is None:
        plain = normalize_url(text).split("#", 1)[0]
        return {"url": plain, "platform": "other", "handle": None}
    path = url.path.rstrip("/") if url.path else ""
    match = platform.handle_pattern.fullmatch(path)
    canonical = normalize_url(f"https://{platform.host}{path or '/'}")
    return {"url": canonical, "platform": platform.name, "handle": match["handle"] if match else None}


class SocialProfileType(AttributeType):
    """A profile on a social platform. Facets: url (main), platform, handle (when known)."""

    name: ClassVar[AttributeTypeName] = AttributeTypeName.SOCIAL_PROFILE
    unique_capable: ClassVar[bool] = True
    facets: ClassVar[tuple[Facet, ...]] = (
        Facet("", StorageClass.TEXT),
        Facet("platform", StorageClass.TEXT),
        Facet("handle", StorageClass.TEXT),
    )
    composite: ClassVar[bool] = True

    def value_schema(self, attribute: AttributeDefinition) -> dict[str, JSON]:
        # The stored form ({"url", "platform", "handle"}) is accepted too, so dumps restore as-is;
        # the platform and handle are always detected again from the URL.
        # String keywords apply to the URL form, object keywords to the stored form.
        url = {"type": "string", "minLength": 1, "maxLength": MAX_URL_LENGTH}
        return {"type": ["string", "object"], "minLength": 1, "maxLength": MAX_URL_LENGTH,
                "required": ["url"], "properties": {"url": url}}

    def normalize(self, raw: JSON, attribute: AttributeDefinition) -> JSON:
        if isinstance(raw, dict):
            if set(raw) - {"url", "platform", "handle"}:
                raise InvalidValue("a profile object takes only url (platform and handle are detected)")
            return normalize_social_profile(raw.get("url"))
        return normalize_social_profile(raw)

    def read(self, stored: JSON, attribute: AttributeDefinition) -> JSON:
        return stored["url"]

    def facet_values(self, stored: JSON, attribute: AttributeDefinition) -> list[FacetValue]:
        values = [
            FacetValue("", StorageClass.TEXT, stored["url"]),
            FacetValue("platform", StorageClass.TEXT, stored["platform"]),
        ]
        if stored.get("handle"):
            values.append(FacetValue("handle", StorageClass.TEXT, stored["handle"]))
        return values

    def search_text(self, stored: JSON, attribute: AttributeDefinition) -> str:
        return " ".join(part for part in (stored.get("handle"), stored["url"]) if part)

    def filter_operand(
        self, operator: str, raw: JSON, facet: Facet, attribute: AttributeDefinition
    ) -> FacetScalar:
        check_operator(self, operator, facet)
        if operator in SUBSTRING_OPERATORS or facet.name == "handle":
            return scalar_operand(self, operator, raw, facet)
        if facet.name == "platform":
            platform = str(scalar_operand(self, operator, raw, facet)).strip().lower()
            if platform not in PLATFORM_NAMES:
                raise InvalidValue("unknown platform; expected one of " + ", ".join(PLATFORM_NAMES))
            return platform
        return str(normalize_social_profile(raw)["url"])
