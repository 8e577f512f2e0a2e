"""API-key lifecycle: create, read, update, rotate, revoke.

A key's powers are its scopes, its rate limit and its lifetime; a key that manages keys (the
granter) never hands out more than it holds of any of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tessera.db.notify import announce
from tessera.db.tenant import Tenant
from tessera.errors import BadRequest, Conflict, Forbidden, NotFound
from tessera.keys import repository
from tessera.keys.crypto import PREFIX_LEN, generate_key, hash_key
from tessera.principal import Principal
from tessera.scopes import ALL_SCOPES
from tessera.wire import iso


@dataclass(frozen=True, slots=True)
class Granter:
    """The powers of the key that creates, changes, rotates or revokes a key."""

    scopes: frozenset[str]
    rate_limit_per_minute: int
    """Its effective limit: its own, or the server default when it has none."""
    expires_at: datetime | None
    default_rate_limit: int

    @classmethod
    def of(cls, principal: Principal, default_rate_limit: int) -> Granter:
        return cls(principal.scopes, principal.rate_limit_per_minute or default_rate_limit, principal.expires_at,
                   default_rate_limit)

    def check_rate_limit(self, limit: int | None) -> None:
        """403 when a key with ``limit`` (None: the default) could send more than this one."""
        if (limit or self.default_rate_limit) > self.rate_limit_per_minute:
            raise Forbidden(f"A key cannot grant a rate limit above its own ({self.rate_limit_per_minute} "
                            f"requests per minute)")

    def check_expiry(self, expires_at: datetime | None) -> None:
        """403 when a key expiring at ``expires_at`` (None: never) would outlive this one."""
        if self.expires_at is not None and (expires_at is None or expires_at > self.expires_at):
            raise Forbidden(f"A key cannot grant a life beyond its own (it expires at {iso(self.expires_at)})")


def check_scopes(requested: list[str], granter: Granter | None) -> list[str]:
    """Known scopes only, and never more than the key that grants them holds."""
    unknown = sorted(set(requested) - ALL_SCOPES)
    if unknown:
        raise BadRequest(f"Unknown scopes: {', '.join(unknown)}")
    if granter is not None:
        beyond = sorted(set(requested) - granter.scopes)
        if beyond:
            raise Forbidden(f"A key cannot grant scopes it does not hold: {', '.join(beyond)}")
    return sorted(set(requested))


def check_authority(target: dict[str, Any], granter: Granter) -> None:
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
                     now: datetime, granter: Granter | None) -> tuple[dict[str, Any], str]:
    """Create a key; returns its row and the full key (the only time it exists in clear). A key
    made by a granter that does not set its rate limit or expiry gets the granter's."""
    if expires_at is not None and expires_at <= now:
        raise BadRequest("expires_at must be in the future")
    scopes = check_scopes(scopes, granter)
    if granter is not None:
        if rate_limit_per_minute is None and granter.rate_limit_per_minute < granter.default_rate_limit:
            rate_limit_per_minute = granter.rate_limit_per_minute
        granter.check_rate_limit(rate_limit_per_minute)
        expires_at = expires_at or granter.expires_at
        granter.check_expiry(expires_at)
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
                     now: datetime, granter: Granter) -> dict[str, Any]:
    row = await repository.get_key(tenant, key_id, for_update=True) if key_id is not None else None
    if row is None:
        raise NotFound("API key not found")
    check_authority(row, granter)
    if row["revoked_at"] is not None:
        raise Conflict("A revoked API key cannot be changed")
    if "scopes" in changes:
        changes["scopes"] = check_scopes(changes["scopes"], granter)
    if "rate_limit_per_minute" in changes:
        granter.check_rate_limit(changes["rate_limit_per_minute"])
    if "expires_at" in changes:
        granter.check_expiry(changes["expires_at"])
    if changes.get("expires_at") is not None and changes["expires_at"] <= now:
        raise BadRequest("expires_at must be in the future")
    if not changes:
        return row
    updated = await repository.update_key(tenant, row["id"], **changes)
    await announce(tenant.conn, f"api_key:{row['prefix']}")
    return updated


async def revoke_key(tenant: Tenant, key_id: int | None, *, now: datetime,
                     granter: Granter) -> dict[str, Any]:
    row = await repository.get_key(tenant, key_id, for_update=True) if key_id is not None else None
    if row is None:
        raise NotFound("API key not found")
    check_authority(row, granter)
    if row["revoked_at"] is None:
        row = await repository.update_key(tenant, row["id"], revoked_at=now)
        await announce(tenant.conn, f"api_key:{row['prefix']}")
    return row


async def rotate_key(tenant: Tenant, pepper: bytes, key_id: int | None, *,
                     now: datetime, granter: Granter) -> tuple[dict[str, Any], str, str]:
    """Issue a new key with the old one's settings and revoke the old one at once. The caller
    receives the new key, so it must hold all of the old one's powers.
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
    granter.check_rate_limit(row["rate_limit_per_minute"])
    granter.check_expiry(expires_at)
    new_row, key = await create_key(
        tenant, pepper, name=row["name"], scopes=list(row["scopes"]),
        rate_limit_per_minute=row["rate_limit_per_minute"], expires_at=expires_at, now=now,
        granter=granter)
    await repository.update_key(tenant, row["id"], revoked_at=now)
    await announce(tenant.conn, f"api_key:{row['prefix']}")
    return new_row, key, row["prefix"]
