"""API-key lifecycle: create, read, update, rotate, revoke."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tessera.db.notify import announce
from tessera.db.tenant import Tenant
from tessera.errors import BadRequest, Conflict, Forbidden, NotFound
from tessera.http.models import iso
from tessera.keys import repository
from tessera.keys.crypto import PREFIX_LEN, generate_key, hash_key
from tessera.principal import Principal
from tessera.scopes import ALL_SCOPES


def check_scopes(requested: list[str], granter: Principal | None) -> list[str]:
    """Known scopes only, and never more than the key that grants them holds."""
    unknown = sorted(set(requested) - ALL_SCOPES)
    if unknown:
        raise BadRequest(f"Unknown scopes: {', '.join(unknown)}")
    if granter is not None:
        beyond = sorted(set(requested) - granter.scopes)
        if beyond:
            raise Forbidden(f"A key cannot grant scopes it does not hold: {', '.join(beyond)}")
    return sorted(set(requested))


def check_authority(target: dict[str, Any], granter: Principal) -> None:
    """A key may change, rotate or revoke only keys whose every scope it holds itself: otherwise a
    key with ``api_key.write`` alone could rotate the owner's key into one it holds (a takeover)
    or revoke it (a lock-out)."""
    beyond = sorted(set(target["scopes"]) - granter.scopes)
    if beyond:
        raise Forbidden(f"This API key cannot manage a key holding scopes it lacks: {', '.join(beyond)}")


def public(row: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    out = {
        "id": str(row["id"]),
        "name": row["name"],
        "prefix": row["prefix"],
        "scopes": list(row["scopes"]),
        "rate_limit_per_minute": row["rate_limit_per_minute"],
        "expires_at": iso(row["expires_at"]),
        "revoked_at": iso(row["revoked_at"]),
        "last_used_at": iso(row["last_used_at"]),
        "created_at": iso(row["created_at"]),
        "workspace_id": str(row["workspace_id"]),
    }
    if key is not None:
        out["key"] = key
    return out


async def create_key(tenant: Tenant, pepper: bytes, *, name: str, scopes: list[str],
                     rate_limit_per_minute: int | None, expires_at: datetime | None,
                     now: datetime, granter: Principal | None) -> tuple[dict[str, Any], str]:
    """Create a key; returns its row and the full key (the only time it exists in clear)."""
    if expires_at is not None and expires_at <= now:
        raise BadRequest("expires_at must be in the future")
    scopes = check_scopes(scopes, granter)
    key = generate_key()
    row = await repository.insert_key(
        tenant, name=name, prefix=key[:PREFIX_LEN], key_hash=hash_key(pepper, key), scopes=scopes,
        rate_limit_per_minute=rate_limit_per_minute, expires_at=expires_at)
    return row, key


async def get_key(tenant: Tenant, key_id: int | None) -> dict[str, Any]:
    row = await repository.get_key(tenant, key_id) if key_id is not None else None
    if row is None:
        raise NotFound("API key not found")
    return row


async def update_key(tenant: Tenant, key_id: int | None, changes: dict[str, Any], *,
                     now: datetime, granter: Principal) -> dict[str, Any]:
    row = await repository.get_key(tenant, key_id, for_update=True) if key_id is not None else None
    if row is None:
        raise NotFound("API key not found")
    check_authority(row, granter)
    if row["revoked_at"] is not None:
        raise Conflict("A revoked API key cannot be changed")
    if "scopes" in changes:
        changes["scopes"] = check_scopes(changes["scopes"], granter)
    if changes.get("expires_at") is not None and changes["expires_at"] <= now:
        raise BadRequest("expires_at must be in the future")
    if not changes:
        return row
    updated = await repository.update_key(tenant, row["id"], **changes)
    await announce(tenant.conn, f"api_key:{row['prefix']}")
    return updated


async def revoke_key(tenant: Tenant, key_id: int | None, *, now: datetime,
                     granter: Principal) -> dict[str, Any]:
    row = await repository.get_key(tenant, key_id, for_update=True) if key_id is not None else None
    if row is None:
        raise NotFound("API key not found")
    check_authority(row, granter)
    if row["revoked_at"] is None:
        row = await repository.update_key(tenant, row["id"], revoked_at=now)
        await announce(tenant.conn, f"api_key:{row['prefix']}")
    return row


async def rotate_key(tenant: Tenant, pepper: bytes, key_id: int | None, *,
                     now: datetime, granter: Principal) -> tuple[dict[str, Any], str, str]:
    """Issue a new key with the old one's settings and revoke the old one at once.
    Returns the new row, the new key and the old key's prefix."""
    row = await repository.get_key(tenant, key_id, for_update=True) if key_id is not None else None
    if row is None:
        raise NotFound("API key not found")
    check_authority(row, granter)
    if row["revoked_at"] is not None:
        raise Conflict("A revoked API key cannot be rotated")
    expires_at = row["expires_at"]
    if expires_at is not None and expires_at <= now:
        raise Conflict("An expired API key cannot be rotated")
    new_row, key = await create_key(
        tenant, pepper, name=row["name"], scopes=list(row["scopes"]),
        rate_limit_per_minute=row["rate_limit_per_minute"], expires_at=expires_at, now=now,
        granter=granter)
    await repository.update_key(tenant, row["id"], revoked_at=now)
    await announce(tenant.conn, f"api_key:{row['prefix']}")
    return new_row, key, row["prefix"]
