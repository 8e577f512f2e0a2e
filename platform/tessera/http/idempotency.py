"""``Idempotency-Key`` with Stripe's semantics, stored in PostgreSQL.

Within the request's own transaction: take a transaction-scoped advisory lock on the key (a
concurrent copy that cannot take it is answered 409 at once), look the key up, replay the stored
response if the request is the same, answer 409 if it differs, else run the handler and store
its response in the same transaction as its writes. A crash before commit leaves neither the
write nor the record, so a retry simply runs again.

Uploads (``POST /v1/objects/{slug}/imports``) are matched on what was uploaded, not on the raw
multipart body, whose boundary every client draws at random: the form's fields, the file's name
and every byte of the file, hashed as the handler reads them (``PendingUpload``). The stored
answer is the first import's; the same key with another file is 409.

Only successful (2xx) responses are stored: a refused request wrote nothing and may be retried.
Stored responses are encrypted with AES-GCM under a key derived from the pepper and the raw
idempotency key (which is itself stored only as an HMAC), so a response that carries a secret,
such as a new API key, is never readable from the database alone.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import BinaryIO

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import func, text

from tessera.db.tables import idempotency_keys
from tessera.db.tenant import Tenant
from tessera.errors import BadRequest, Conflict

HEADER = "idempotency-key"
MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    body: bytes


def check_key(raw: str) -> str:
    if not raw or len(raw) > MAX_KEY_LENGTH or not raw.isprintable() or not raw.isascii():
        raise BadRequest(f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable ASCII characters")
    return raw


def request_fingerprint(method: str, path: str, query: str, body: bytes) -> bytes:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.digest()


class IdempotencyRecord:
    """The idempotency state of one request, bound to its transaction."""

    def __init__(self, pepper: bytes, api_key_id: int, raw_key: str, fingerprint: bytes) -> None:
        material = api_key_id.to_bytes(8, "big") + raw_key.encode()
        self._key_hash = hmac.new(pepper, b"idempotency-lookup:" + material, hashlib.sha256).digest()
        self._cipher = AESGCM(hmac.new(pepper, b"idempotency-seal:" + material, hashlib.sha256).digest())
        self._api_key_id = api_key_id
        self._fingerprint = fingerprint

    async def begin(self, tenant: Tenant) -> StoredResponse | None:
        """Lock the key for this transaction; return the stored response to replay, if any."""
        lock_id = int.from_bytes(self._key_hash[:8], "big", signed=True)
        locked = (await tenant.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": lock_id})).scalar()
        if not locked:
            raise Conflict("A request with this Idempotency-Key is still being processed; retry later")
        row = (await tenant.execute(
            tenant.select(idempotency_keys, idempotency_keys.c.request_hash, idempotency_keys.c.status_code,
                          idempotency_keys.c.response)
            .where(idempotency_keys.c.api_key_id == self._api_key_id,
                   idempotency_keys.c.key_hash == self._key_hash)
            .add_columns(idempotency_keys.c.expires_at > func.now())
        )).first()
        if row is None:
            return None
        if not row[-1]:  # expired but not yet purged: forget it and run afresh
            await tenant.execute(tenant.delete(idempotency_keys).where(
                idempotency_keys.c.api_key_id == self._api_key_id,
                idempotency_keys.c.key_hash == self._key_hash))
            return None
        if not hmac.compare_digest(bytes(row.request_hash), self._fingerprint):
            raise Conflict("This Idempotency-Key was already used with a different request")
        sealed = bytes(row.response)
        body = self._cipher.decrypt(sealed[:12], sealed[12:], self._fingerprint)
        return StoredResponse(row.status_code, body)

    async def store(self, tenant: Tenant, status_code: int, body: bytes, now: datetime, ttl: timedelta) -> None:
        nonce = os.urandom(12)
        sealed = nonce + self._cipher.encrypt(nonce, body, self._fingerprint)
        await tenant.execute(
            tenant.insert(idempotency_keys).values(
                api_key_id=self._api_key_id, key_hash=self._key_hash, request_hash=self._fingerprint,
                status_code=status_code, response=sealed, created_at=now, expires_at=now + ttl,
            )
        )


UPLOAD_READ = 1024 * 1024


def upload_fingerprint(method: str, path: str, query: str, fields: Mapping[str, str], filename: str,
                       file: BinaryIO) -> bytes:
    """The fingerprint of an upload: its request line, form fields (in name order), file name and
    file content, read from the start and left at the start (blocking I/O: run it in a thread)."""
    digest = hashlib.sha256()
    parts = [method, path, query, filename, *(f"{k}={v}" for k, v in sorted(fields.items()))]
    for part in parts:
        encoded = part.encode()
        digest.update(len(encoded).to_bytes(8, "big"))
        digest.update(encoded)
    file.seek(0)
    while chunk := file.read(UPLOAD_READ):
        digest.update(chunk)
    file.seek(0)
    return digest.digest()


@dataclass(slots=True)
class PendingUpload:
    """The Idempotency-Key of an upload, whose fingerprint exists only once the handler has the
    file: the handler calls ``begin`` with it; the endpoint wrapper stores the answer under
    ``record``."""

    pepper: bytes
    api_key_id: int
    raw_key: str
    record: IdempotencyRecord | None = None

    async def begin(self, tenant: Tenant, fingerprint: bytes) -> StoredResponse | None:
        self.record = IdempotencyRecord(self.pepper, self.api_key_id, self.raw_key, fingerprint)
        return await self.record.begin(tenant)


def erasure_receipt_hash(pepper: bytes, token: str, raw_key: str) -> bytes:
    """Where the answer of a workspace erasure is kept: derived from the erased API key itself
    (not its id, which is gone with it) and the Idempotency-Key, so only the key's holder can
    find it."""
    return hmac.new(pepper, b"erasure-receipt:" + token.encode() + b"\0" + raw_key.encode(), hashlib.sha256).digest()


async def purge_expired(tenant: Tenant) -> int:
    """Delete this workspace's expired records (the worker also purges globally)."""
    result = await tenant.execute(tenant.delete(idempotency_keys).where(idempotency_keys.c.expires_at <= func.now()))
    return result.rowcount


