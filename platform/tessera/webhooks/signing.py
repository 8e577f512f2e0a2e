"""Webhook signing secrets (Standard Webhooks ``whsec_...``), encrypted at rest: the worker needs
them in clear to sign, so they are sealed with AES-GCM under a key derived from KEY_PEPPER."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


def _cipher(pepper: bytes) -> AESGCM:
    return AESGCM(hmac.new(pepper, b"webhook-secrets", hashlib.sha256).digest())


def seal(pepper: bytes, secret: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + _cipher(pepper).encrypt(nonce, secret.encode(), b"whsec")


def unseal(pepper: bytes, sealed: bytes) -> str:
    return _cipher(pepper).decrypt(sealed[:12], sealed[12:], b"whsec").decode()
