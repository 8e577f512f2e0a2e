"""Identifiers in free text: e-mail addresses, phone numbers, links, bare domains and social
profiles, each with where it was found.

Everything is normalized the way the record engine stores it (lowercase e-mail, E.164 phone,
registered domain, canonical profile URL), reusing the attribute types of ``schema_registry``,
so what the extractor reports compares equal with what records hold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

import phonenumbers

from schema_registry.types.base import InvalidValue
from schema_registry.types.domain import registered_domain
from schema_registry.types.social_profile import normalize_social_profile
from workers.intelligence.lexicon import FREE_MAIL_DOMAINS, PLATFORM_DOMAINS, ROLE_LOCAL_PARTS
from workers.intelligence.spans import Spans


@dataclass(frozen=True, slots=True)
class Found:
    """A normalized value and the span of ``text`` it was read from."""

    value: str
    start: int
    end: int


# A local part has at most 64 characters (RFC 5321); unbounded, it was rescanned from each of its
# characters that may start an address (``O'O'O'...``: quadratic).
_EMAIL: Final = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+'-]{0,63}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}")
_URL: Final = re.compile(r"\b(?:https?://|www\.)[^\s<>\"'()\[\]]+", re.IGNORECASE)
_BARE_HOST: Final = re.compile(
    r"(?<![\w@./-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24})((?:/[^\s<>\"'()\[\],;]*)?)",
    re.IGNORECASE,
)
_TRAILING: Final = ".,;:!?)]}>'\"’”"

# Suffixes that are also file extensions or abbreviations: a bare ``setup.py`` or ``notes.md``
# is a file, not a domain. With a scheme or ``www.`` they are still read as hosts.
_FILE_LIKE_SUFFIXES: Final = frozenset({
    "py", "md", "sh", "rs", "pl", "ps", "cs", "js", "ts", "go", "ml", "sc", "so", "in", "is", "it",
    "at", "am", "pm", "me", "do", "no", "to", "be", "as", "us", "zip", "mov", "txt", "doc", "pdf",
    "csv", "exe", "jpg", "png", "gif", "json", "yaml", "yml", "xml", "html", "htm", "php", "rb",
    "java", "kt", "swift", "sql", "log", "cfg", "ini", "toml", "lock", "bak", "tmp", "eg", "ie",
})

# Generic suffixes longer than three letters that companies commonly use; any other long last
# label in running text is more likely two words with a missing space (``today.Thanks``).
_LONG_SUFFIXES: Final = frozenset({
    "info", "tech", "cloud", "online", "site", "store", "shop", "agency", "studio", "digital",
    "health", "finance", "capital", "group", "global", "systems", "solutions", "software", "network",
    "media", "company", "team", "tools", "works", "email", "design", "energy", "africa", "asia",
    "bank", "london", "berlin", "paris", "tokyo", "nyc", "travel", "legal", "consulting", "money",
})

_SOCIAL_HOSTS: Final = re.compile(
    r"(?:https?://)?(?:www\.|[a-z]{2}\.)?(?:linkedin\.com/in/[^\s/?#<>()]+|(?:twitter|x)\.com/[A-Za-z0-9_]{1,15}(?![\w/])"
    r"|github\.com/[A-Za-z0-9-]{1,39}(?![\w/-])|instagram\.com/[A-Za-z0-9_.]+|facebook\.com/[A-Za-z0-9.]+)",
    re.IGNORECASE,
)


def _strip_trailing(text: str, start: int, end: int) -> tuple[str, int]:
    raw = text[start:end]
    stripped = raw.rstrip(_TRAILING)
    return stripped, start + len(stripped)


def to_registered_domain(host: str) -> str | None:
    """The registered domain of a host (``mail.acme.co.uk`` -> ``acme.co.uk``), or None when the
    host has no known public suffix or is a public suffix itself."""
    try:
        return registered_domain(host.lower().strip("."))
    except InvalidValue:
        return None


def find_emails(text: str) -> list[Found]:
    """Every e-mail address in ``text``, lowercased, trailing punctuation removed, in order of
    appearance and without repeats. Addresses whose domain has no public suffix are skipped."""
    found: list[Found] = []
    seen: set[str] = set()
    for match in _EMAIL.finditer(text):
        raw, end = _strip_trailing(text, match.start(), match.end())
        address = raw.lower().strip("'")
        domain = address.rsplit("@", 1)[1]
        if to_registered_domain(domain) is None or address in seen:
            continue
        seen.add(address)
        found.append(Found(address, match.start(), end))
    return found


def find_phones(text: str, default_region: str = "US") -> list[Found]:
    """Every valid phone number in ``text`` as E.164. Numbers written with ``+`` carry their own
    country; others are read in ``default_region``. Runs of digits that are dates, times, ids or
    amounts are not valid numbers and are skipped."""
    found: list[Found] = []
    seen: set[str] = set()
    for match in phonenumbers.PhoneNumberMatcher(text, default_region, leniency=phonenumbers.Leniency.VALID):
        e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        if e164 not in seen:
            seen.add(e164)
            found.append(Found(e164, match.start, match.end))
    return found


def find_social_profiles(text: str) -> list[Found]:
    """Profile URLs (LinkedIn ``/in/``, X/Twitter, GitHub users, Instagram, Facebook) in their
    canonical form; links to posts, repositories or pages are not profiles."""
    found: list[Found] = []
    seen: set[str] = set()
    for match in _SOCIAL_HOSTS.finditer(text):
        raw, end = _strip_trailing(text, match.start(), match.end())
        try:
            profile = normalize_social_profile(raw)
        except InvalidValue:
            continue
        url = profile.get("url")
        if not isinstance(url, str) or profile.get("handle") is None or url in seen:
            continue
        seen.add(url)
        found.append(Found(url, match.start(), end))
    return found


def find_domains(text: str, exclude: list[tuple[int, int]]) -> list[Found]:
    """Registered domains of links (``https://www.acme.com/x``) and bare host names
    (``techflow.io``) outside the ``exclude`` spans (the e-mail addresses). A bare name must not
    look like a file (``setup.py``). Platform hosts are kept; ``is_company_domain`` tells them apart."""

    excluded = Spans(exclude)
    found: list[Found] = []
    taken: list[tuple[int, int]] = []
    for match in _URL.finditer(text):
        if excluded.holds(match.start()):
            continue
        raw, end = _strip_trailing(text, match.start(), match.end())
        host = re.sub(r"^(?:https?://)", "", raw, flags=re.IGNORECASE).split("/", 1)[0].split(":", 1)[0]
        domain = to_registered_domain(host.split("@")[-1])
        taken.append((match.start(), end))
        if domain is not None:
            found.append(Found(domain, match.start(), end))
    links = Spans(taken)
    for match in _BARE_HOST.finditer(text):
        start = match.start()
        if excluded.holds(start) or links.holds(start):
            continue
        host = match.group(1)
        suffix = host.rsplit(".", 1)[1].lower()
        if suffix in _FILE_LIKE_SUFFIXES or not any(c.isalpha() for c in host.split(".")[0]):
            continue
        last = host.rsplit(".", 1)[1]
        if last != last.lower() or (len(last) > 3 and last not in _LONG_SUFFIXES):
            continue
        domain = to_registered_domain(host)
        if domain is not None:
            found.append(Found(domain, start, match.end()))
    found.sort(key=lambda f: f.start)
    return found


def is_company_domain(domain: str) -> bool:
    """Whether a registered domain can stand for a company: not a free mail provider, not a
    platform or tool host (LinkedIn, Zoom, Calendly...)."""
    return domain not in FREE_MAIL_DOMAINS and domain not in PLATFORM_DOMAINS


def is_role_address(address: str) -> bool:
    """Whether an e-mail address is a function's mailbox (``sales@``, ``no-reply@``) rather
    than a person's."""
    local = address.split("@", 1)[0].lower()
    base = re.split(r"[+]", local, maxsplit=1)[0]
    return base in ROLE_LOCAL_PARTS or base.replace(".", "").replace("_", "-") in ROLE_LOCAL_PARTS


def domain_of_email(address: str) -> str | None:
    """The registered domain of an e-mail address."""
    return to_registered_domain(address.rsplit("@", 1)[-1])
