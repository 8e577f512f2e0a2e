"""API-key lifecycle: create, read, update, rotate, revoke.

A key's powers are its scopes, its rate limit and its lifetime; a key that manages keys (the
granter) never hands out more than it holds of any of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tessera.db.notify import announce
from tessera.db.tenant import Tenant
from tessera.errors import BadRequest, Conflict, Forbidden, NotFound
from tessera.keys import repository
from tessera.keys.crypto import PREFIX_LEN, generate_key, hash_key
from tessera.keys.models import UpdateApiKeyRequest
from tessera.keys.repository import ApiKey, KeyChanges
from tessera.principal import Principal
from tessera.quotas import Quota, check_rows
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


def check_scopes(requested: Sequence[str], granter: Granter | None) -> list[str]:
    """Known scopes only, and never more than the key that grants them holds."""
    unknown = sorted(set(requested) - ALL_SCOPES)
    if unknown:
        raise BadRequest(f"Unknown scopes: {', '.join(unknown)}")
    if granter is not None:
        beyond = sorted(set(requested) - granter.scopes)
        if beyond:
            raise Forbidden(f"A key cannot grant scopes it does not hold: {', '.join(beyond)}")
    return sorted(set(requested))


def check_authority(target: ApiKey, granter: Granter) -> None:
    """A key may change, rotate or revoke only keys whose every scope it holds itself: otherwise a
    key with ``api_key.write`` alone could rotate the owner's key into one it holds (a takeover)
    or revoke it (a lock-out)."""
    beyond = sorted(set(target.scopes) - granter.scopes)
    if beyond:
        raise Forbidden(f"This API key cannot manage a key holding scopes it lacks: {', '.join(beyond)}")


async def create_key(tenant: Tenant, pepper: bytes, *, name: str, scopes: Sequence[str],
                     rate_limit_per_minute: int | None, expires_at: datetime | None,
                     now: datetime, granter: Granter | None, quota: Quota | None = None) -> tuple[ApiKey, str]:
    """Create a key; returns it and the full key (the only time it exists in clear). A key made
    by a granter that does not set its rate limit or expiry gets the granter's. ``quota`` counts
    the workspace's unrevoked keys (409 when it is full)."""
    if quota is not None:
        await check_rows(tenant, "api_keys", "revoked_at IS NULL", quota)
    if expires_at is not None and expires_at <= now:
        raise BadRequest("expires_at must be in the future")
    granted = check_scopes(scopes, granter)
    if granter is not None:
        if rate_limit_per_minute is None and granter.rate_limit_per_minute < granter.default_rate_limit:
            rate_limit_per_minute = granter.rate_limit_per_minute
        granter.check_rate_limit(rate_limit_per_minute)
        expires_at = expires_at or granter.expires_at
        granter.check_expiry(expires_at)
    key = generate_key()
    row = await repository.insert_key(
        tenant, name=name, prefix=key[:PREFIX_LEN], key_hash=hash_key(pepper, key), scopes=granted,
        rate_limit_per_minute=rate_limit_per_minute, expires_at=expires_at)
    return row, key


async def _existing(tenant: Tenant, key_id: int | None, *, for_update: bool = False) -> ApiKey:
    """The key, or 404 (also for an id that cannot be one of ours: ``key_id`` None)."""
    key = await repository.get_key(tenant, key_id, for_update=for_update) if key_id is not None else None
    if key is None:
        raise NotFound("API key not found")
    return key


async def get_key(tenant: Tenant, key_id: int | None) -> ApiKey:
    return await _existing(tenant, key_id)


async def update_key(tenant: Tenant, key_id: int | None, request: UpdateApiKeyRequest, *,
                     now: datetime, granter: Granter) -> ApiKey:
    """Apply the fields the request sets (a field it leaves out keeps its value)."""
    current = await _existing(tenant, key_id, for_update=True)
    check_authority(current, granter)
    if current.revoked_at is not None:
        raise Conflict("A revoked API key cannot be changed")
    given = request.model_fields_set
    changes: KeyChanges = {}
    if "name" in given and request.name is not None:
        changes["name"] = request.name
    if "scopes" in given and request.scopes is not None:
        changes["scopes"] = check_scopes(request.scopes, granter)
    if "rate_limit_per_minute" in given:
        granter.check_rate_limit(request.rate_limit_per_minute)
        changes["rate_limit_per_minute"] = request.rate_limit_per_minute
    if "expires_at" in given:
        granter.check_expiry(request.expires_at)
        if request.expires_at is not None and request.expires_at <= now:
            raise BadRequest("expires_at must be in the future")
        changes["expires_at"] = request.expires_at
    if not changes:
        return current
    updated = await repository.update_key(tenant, current.id, changes)
    await announce(tenant.conn, f"api_key:{current.prefix}")
    return updated


async def revoke_key(tenant: Tenant, key_id: int | None, *, now: datetime, granter: Granter) -> ApiKey:
    key = await _existing(tenant, key_id, for_update=True)
    check_authority(key, granter)
    if key.revoked_at is None:
        key = await repository.update_key(tenant, key.id, {"revoked_at": now})
        await announce(tenant.conn, f"api_key:{key.prefix}")
    return key


async def rotate_key(tenant: Tenant, pepper: bytes, key_id: int | None, *,
                     now: datetime, granter: Granter) -> tuple[ApiKey, str, str]:
    """Issue a new key with the old one's settings and revoke the old one at once. The caller
    receives the new key, so it must hold all of the old one's powers.
    Returns the new key's row, the new key and the old key's prefix."""
    old = await _existing(tenant, key_id, for_update=True)
    check_authority(old, granter)
    if old.revoked_at is not None:
        raise Conflict("A revoked API key cannot be rotated")
    if old.expires_at is not None and old.expires_at <= now:
        raise Conflict("An expired API key cannot be rotated")
    granter.check_rate_limit(old.rate_limit_per_minute)
    granter.check_expiry(old.expires_at)
    new, key = await create_key(
        tenant, pepper, name=old.name, scopes=old.scopes, rate_limit_per_minute=old.rate_limit_per_minute,
        expires_at=old.expires_at, now=now, granter=granter)
    await repository.update_key(tenant, old.id, {"revoked_at": now})
    await announce(tenant.conn, f"api_key:{old.prefix}")
    return new, key, old.prefix
