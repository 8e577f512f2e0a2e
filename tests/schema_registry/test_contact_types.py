"""email, phone, url, domain and social_profile: write forms, stored and read forms, facets,
refusals."""

from __future__ import annotations

import socket
from typing import Any

import phonenumbers
import pytest

from schema_registry.definitions import AttributeTypeName as T
from schema_registry.types import attribute_type
from schema_registry.types import domain as domain_module
from schema_registry.types.base import FacetValue, StorageClass

VALUE = "attributes.values[1]"


def _example(region: str) -> phonenumbers.PhoneNumber:
    number = phonenumbers.example_number(region)
    assert number is not None
    return number


def _e164(region: str) -> str:
    return phonenumbers.format_number(_example(region), phonenumbers.PhoneNumberFormat.E164)


def _international(region: str) -> str:
    return phonenumbers.format_number(_example(region), phonenumbers.PhoneNumberFormat.INTERNATIONAL)


US = _e164("US")  # +12015550123
GB = _e164("GB")


# --- email ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored", "domain"),
    [
        ("John.Doe@Example.COM", "john.doe@example.com", "example.com"),
        ("  jane@acme.io ", "jane@acme.io", "acme.io"),
        ("a+tag@mail.acme.co.uk", "a+tag@mail.acme.co.uk", "mail.acme.co.uk"),
        ("user@Bücher.de", "user@bücher.de", "xn--bcher-kva.de"),
    ],
)
def test_email_is_stored_lowercase(raw: str, stored: str, domain: str, make_attribute: Any) -> None:
    attribute = make_attribute(T.EMAIL)
    email = attribute_type(T.EMAIL)
    value = email.normalize(raw, attribute)
    assert value == stored
    assert email.read(value, attribute) == stored
    assert email.facet_values(value, attribute) == [
        FacetValue("", StorageClass.TEXT, stored),
        FacetValue("domain", StorageClass.TEXT, domain),
    ]
    assert email.search_text(value, attribute) == stored


@pytest.mark.parametrize(
    "bad",
    [
        "plainaddress",
        "a@b",
        "a@localhost",
        "a@@b.com",
        "a..b@example.com",
        "Jane <jane@example.com>",
        "user@test.test",
        "a@[1.2.3.4]",
        "jane@example.com\x00",
        "x" * 400 + "@example.com",
        "",
        5,
        None,
        {"email": "a@example.com"},
    ],
    ids=repr,
)
def test_email_refusals(bad: object, issue_paths: Any) -> None:
    assert issue_paths(T.EMAIL, "ok@example.com", bad) == [VALUE]


# --- phone ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        (_international("US"), US),
        (US, US),
        (_international("GB"), GB),
        ("+44 20 7946 0958", "+442079460958"),
        ("tel:+1-201-555-0123", US),
        ({"country_code": 1, "number": "2015550123"}, US),
        ({"country_code": "+1", "number": "(201) 555-0123"}, US),
        ({"number": "2015550123", "country": "us"}, US),
        # Fictional but possible numbers, like the spec's own example, are accepted.
        ("+1 555 123 4567", "+15551234567"),
        ({"country_code": 1, "number": "5551234567"}, "+15551234567"),
        ({"number": "2015550123", "country_code": "US"}, US),
        ({"number": 2015550123, "country_code": 1}, US),
        ({"number": GB}, GB),
    ],
    ids=repr,
)
def test_phone_is_stored_as_e164(raw: object, stored: str, make_attribute: Any) -> None:
    attribute = make_attribute(T.PHONE)
    phone = attribute_type(T.PHONE)
    value = phone.normalize(raw, attribute)
    assert value == stored
    assert phone.read(value, attribute) == stored


def test_phone_facets_and_search(make_attribute: Any) -> None:
    attribute = make_attribute(T.PHONE)
    phone = attribute_type(T.PHONE)
    assert phone.facet_values(US, attribute) == [
        FacetValue("", StorageClass.TEXT, US),
        FacetValue("country_code", StorageClass.TEXT, "US"),
    ]
    assert phone.search_text(US, attribute) == f"{US} 2015550123"
    toll_free = phonenumbers.example_number_for_non_geo_entity(800)
    assert toll_free is not None
    freephone = phonenumbers.format_number(toll_free, phonenumbers.PhoneNumberFormat.E164)
    assert [facet.facet for facet in phone.facet_values(phone.normalize(freephone, attribute), attribute)] == [""]


@pytest.mark.parametrize(
    ("bad", "path"),
    [
        ("2015550123", VALUE),
        ("+1 555 123", VALUE),
        ({"country_code": 44, "number": "12"}, VALUE),
        ("+1 201-555-0123 ext. 5", VALUE),
        ("call me", VALUE),
        ("+", VALUE),
        ("+" + "1" * 100, VALUE),
        (5, VALUE),
        (None, VALUE),
        ({"number": "2015550123"}, VALUE),
        ({"number": "2015550123", "country": "ZZ"}, f"{VALUE}.country"),
        ({"number": "2015550123", "country_code": 0}, f"{VALUE}.country_code"),
        ({"number": "2015550123", "country_code": True}, f"{VALUE}.country_code"),
        ({"number": "a\x00", "country_code": 1}, f"{VALUE}.number"),
        ({"number": US, "extension": "5"}, f"{VALUE}.extension"),
        ({"country_code": 1}, f"{VALUE}.number"),
    ],
    ids=repr,
)
def test_phone_refusals(bad: object, path: str, issue_paths: Any) -> None:
    assert issue_paths(T.PHONE, US, bad) == [path]


# --- url --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored", "host"),
    [
        ("https://Acme.com", "https://acme.com/", "acme.com"),
        ("HTTP://www.acme.com/a?b=1#c", "http://www.acme.com/a?b=1#c", "www.acme.com"),
        ("http://Bücher.de/ä", "http://xn--bcher-kva.de/%C3%A4", "xn--bcher-kva.de"),
        (" https://acme.com/x ", "https://acme.com/x", "acme.com"),
        ("https://127.0.0.1:8080/x", "https://127.0.0.1:8080/x", "127.0.0.1"),
    ],
)
def test_url_is_normalized(raw: str, stored: str, host: str, make_attribute: Any) -> None:
    attribute = make_attribute(T.URL)
    url = attribute_type(T.URL)
    value = url.normalize(raw, attribute)
    assert value == stored
    assert url.read(value, attribute) == stored
    assert url.facet_values(value, attribute) == [
        FacetValue("", StorageClass.TEXT, stored),
        FacetValue("domain", StorageClass.TEXT, host),
    ]


@pytest.mark.parametrize(
    "bad",
    [
        "acme.com",
        "/relative/path",
        "ftp://acme.com",
        "javascript:alert(1)",
        "mailto:jane@acme.com",
        "https://user:secret@acme.com",
        "https://",
        "https://acme.com:99999",
        "https://" + "a" * 2050 + ".com",
        "https://acme.com/\x00",
        5,
        None,
    ],
    ids=lambda value: repr(value)[:40],
)
def test_url_refusals(bad: object, issue_paths: Any) -> None:
    assert issue_paths(T.URL, "https://acme.com", bad) == [VALUE]


# --- domain -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("https://www.Acme.com/x", "acme.com"),
        ("blog.acme.co.uk", "acme.co.uk"),
        ("acme.com", "acme.com"),
        ("ACME.COM.", "acme.com"),
        ("www.acme.com:8080/path?q=1", "acme.com"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("http://xn--e1afmkfd.xn--p1ai", "xn--e1afmkfd.xn--p1ai"),
        ("foo.github.io", "github.io"),
    ],
)
def test_domain_is_the_registered_domain(raw: str, stored: str, make_attribute: Any) -> None:
    attribute = make_attribute(T.DOMAIN)
    domain = attribute_type(T.DOMAIN)
    value = domain.normalize(raw, attribute)
    assert value == stored
    assert domain.read(value, attribute) == stored
    assert domain.facet_values(value, attribute) == [FacetValue("", StorageClass.TEXT, stored)]


@pytest.mark.parametrize(
    "bad",
    [
        "localhost",
        "127.0.0.1",
        "http://10.0.0.1/x",
        "[::1]",
        "acme",
        "foo.notatld",
        "co.uk",
        "jane@acme.com",
        "ftp://acme.com",
        "https://user:pw@acme.com",
        "",
        "   ",
        5,
        None,
    ],
    ids=repr,
)
def test_domain_refusals(bad: object, issue_paths: Any) -> None:
    assert issue_paths(T.DOMAIN, "acme.com", bad) == [VALUE]


# --- social_profile ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "url", "platform", "handle"),
    [
        ("linkedin.com/in/jane", "https://www.linkedin.com/in/jane", "linkedin", "jane"),
        ("https://www.LinkedIn.com/in/jane/?utm_source=x#top", "https://www.linkedin.com/in/jane", "linkedin", "jane"),
        ("https://www.linkedin.com/company/acme", "https://www.linkedin.com/company/acme", "linkedin", "acme"),
        ("twitter.com/jack", "https://x.com/jack", "twitter", "jack"),
        ("https://x.com/jack", "https://x.com/jack", "twitter", "jack"),
        ("x.com/home", "https://x.com/home", "twitter", None),
        ("github.com/octocat", "https://github.com/octocat", "github", "octocat"),
        ("https://m.facebook.com/zuck", "https://www.facebook.com/zuck", "facebook", "zuck"),
        ("instagram.com/natgeo/", "https://www.instagram.com/natgeo", "instagram", "natgeo"),
        ("youtube.com/@mkbhd", "https://www.youtube.com/@mkbhd", "youtube", "mkbhd"),
        ("tiktok.com/@khaby.lame", "https://www.tiktok.com/@khaby.lame", "tiktok", "khaby.lame"),
        ("https://mastodon.social/@jane?x=1#y", "https://mastodon.social/@jane?x=1", "other", None),
    ],
)
def test_social_profile_detects_platform(
    raw: str, url: str, platform: str, handle: str | None, make_attribute: Any
) -> None:
    attribute = make_attribute(T.SOCIAL_PROFILE)
    profile = attribute_type(T.SOCIAL_PROFILE)
    stored = profile.normalize(raw, attribute)
    assert stored == {"url": url, "platform": platform, "handle": handle}
    assert profile.read(stored, attribute) == url
    expected = [FacetValue("", StorageClass.TEXT, url), FacetValue("platform", StorageClass.TEXT, platform)]
    if handle:
        expected.append(FacetValue("handle", StorageClass.TEXT, handle))
    assert profile.facet_values(stored, attribute) == expected


@pytest.mark.parametrize(
    "bad",
    ["jane", "@jane", "localhost/jane", "ftp://github.com/jane", "https://user:pw@github.com/jane", "", 5, None],
    ids=repr,
)
def test_social_profile_refusals(bad: object, issue_paths: Any) -> None:
    assert issue_paths(T.SOCIAL_PROFILE, "github.com/octocat", bad) == [VALUE]


def test_domain_extraction_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the public-suffix list must come from the bundled snapshot")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    domain_module._extractor.cache_clear()
    domain_module.registered_domain.cache_clear()
    assert domain_module.normalize_domain("https://blog.acme.co.uk/about") == "acme.co.uk"
