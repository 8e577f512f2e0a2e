"""Opaque, signed keyset cursors. A cursor names the position after the last row of a page and is
bound (HMAC) to the workspace, the object and the exact query it came from, so it cannot be
forged, replayed against another query or carried to another workspace."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from decimal import Decimal

import orjson

from schema_registry.types.base import StorageClass
from tessera.errors import BadRequest
from tessera.records.sql import SortValue
from tessera.wire import JsonValue


def _encode_value(value: SortValue) -> JsonValue:
    if isinstance(value, Decimal):
        return {"n": str(value)}
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    return value


def _decode_value(value: JsonValue) -> SortValue:
    if isinstance(value, dict) and "n" in value:
        return Decimal(str(value["n"]))
    if isinstance(value, dict) and "t" in value:
        return datetime.fromisoformat(str(value["t"]))
    if isinstance(value, (dict, list, float)):  # not what encode writes (and the cursor is signed)
        raise ValueError("shape")
    return value


class CursorCodec:
    def __init__(self, secret: bytes, workspace_id: int, scope: str) -> None:
        self._key = hmac.new(secret, f"cursor:{workspace_id}:{scope}".encode(), hashlib.sha256).digest()

    def encode(self, values: list[SortValue], last_id: int) -> str:
        body = orjson.dumps([[_encode_value(v) for v in values], last_id])
        tag = hmac.new(self._key, body, hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(tag + body).decode().rstrip("=")

    def decode(self, token: str, storages: list[StorageClass]) -> tuple[list[SortValue], int]:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            tag, body = raw[:16], raw[16:]
            if not hmac.compare_digest(tag, hmac.new(self._key, body, hashlib.sha256).digest()[:16]):
                raise ValueError("bad signature")
            values, last_id = orjson.loads(body)
            if len(values) != len(storages) or not isinstance(last_id, int):
                raise ValueError("shape")
            return [_decode_value(v) for v in values], last_id
        except (ValueError, TypeError, orjson.JSONDecodeError) as err:
            raise BadRequest("Invalid cursor: it does not belong to this query") from err
