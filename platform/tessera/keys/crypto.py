"""API-key material: generation, the non-secret lookup prefix and the peppered hash.

A key reads ``sk-`` + 12 lookup characters + 32 secret characters, all from [A-Za-z0-9]
(about 262 random bits in all). Only ``HMAC-SHA256(pepper, key)`` is stored; the first 15
characters (``sk-`` + lookup part) are stored in clear to find the row.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

KEY_PREFIX = "sk-"
_ALPHABET = string.ascii_letters + string.digits
_LOOKUP_LEN = 12
_SECRET_LEN = 32
PREFIX_LEN = len(KEY_PREFIX) + _LOOKUP_LEN
KEY_LEN = PREFIX_LEN + _SECRET_LEN


def generate_key() -> str:
    """A new random API key (shown once to its owner, never stored)."""
    body = "".join(secrets.choice(_ALPHABET) for _ in range(_LOOKUP_LEN + _SECRET_LEN))
    return KEY_PREFIX + body


def key_prefix(key: str) -> str | None:
    """The lookup prefix of a well-formed key, or None when the string cannot be one of ours."""
    if len(key) != KEY_LEN or not key.startswith(KEY_PREFIX):
        return None
    if not all(ch in _ALPHABET for ch in key[len(KEY_PREFIX):]):
        return None
    return key[:PREFIX_LEN]


def hash_key(pepper: bytes, key: str) -> bytes:
    return hmac.new(pepper, key.encode(), hashlib.sha256).digest()


def verify_key(pepper: bytes, key: str, stored_hash: bytes) -> bool:
    """Constant-time comparison of a presented key with a stored hash."""
    return hmac.compare_digest(hash_key(pepper, key), stored_hash)
