"""Where a webhook may be delivered: the SSRF guard.

A target must be an absolute http(s) URL without credentials, and EVERY address its host
resolves to must be public: loopback, private, link-local (cloud metadata 169.254.169.254),
shared, multicast, reserved and unspecified addresses are refused, in any encoding the resolver
accepts (``2130706433``, ``0x7f.1``, ``[::ffff:127.0.0.1]``, 6to4/Teredo wrappers). Deliveries
connect to the exact address that was checked (no second lookup an attacker could rebind) and
never follow redirects. ``WEBHOOK_ALLOW_HOSTS`` (off by default) names hosts exempt from the
address check, for tests that deliver to loopback.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL = 2048
IP = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeTarget(ValueError):
    """A webhook URL refused; the message says why without echoing internal details."""


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


def parse_target(url: str) -> Target:
    """Syntax checks (no network): scheme, credentials, host, port."""
    if len(url) > MAX_URL:
        raise UnsafeTarget(f"URL longer than {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as err:
        raise UnsafeTarget("not a valid URL") from err
    if parts.scheme not in ("http", "https"):
        raise UnsafeTarget("only http and https URLs can receive webhooks")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeTarget("URLs with credentials are refused")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeTarget("the URL has no host")
    try:
        host = host.encode("idna").decode("ascii").lower() if not host.isascii() else host.lower()
    except UnicodeError as err:
        raise UnsafeTarget("the host name is not valid") from err
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path)


def _embedded(ip: IP) -> list[IP]:
    found: list[IP] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        for inner in (ip.ipv4_mapped, ip.sixtofour, ip.teredo[1] if ip.teredo else None):
            if inner is not None:
                found.append(inner)
    return found


def unsafe_reason(ip: IP) -> str | None:
    """Why an address must not be reached, or None when it is public."""
    for candidate in _embedded(ip):
        if candidate.is_loopback:
            return "loopback"
        if candidate.is_link_local:
            return "link-local (e.g. cloud metadata)"
        if candidate.is_multicast:
            return "multicast"
        if candidate.is_unspecified:
            return "unspecified"
        if candidate.is_private:
            return "private"
        if candidate.is_reserved or not candidate.is_global:
            return "reserved or not globally routable"
    return None


async def resolve_target(url: str, allow_hosts: frozenset[str]) -> tuple[Target, str]:
    """The parsed target and the one address to connect to; ``UnsafeTarget`` otherwise."""
    target = parse_target(url)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as err:
        raise UnsafeTarget("the host does not resolve") from err
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if target.host not in allow_hosts:
            reason = unsafe_reason(address)
            if reason is not None:
                raise UnsafeTarget(f"the host resolves to a {reason} address")
        addresses.append(address)
    if not addresses:
        raise UnsafeTarget("the host does not resolve")
    first = addresses[0]
    return target, f"[{first}]" if isinstance(first, ipaddress.IPv6Address) else str(first)


def check_literal(url: str, allow_hosts: frozenset[str]) -> Target:
    """Checks that need no DNS (used when a webhook is created): syntax, and literal IPs."""
    target = parse_target(url)
    if target.host in allow_hosts:
        return target
    try:
        address = ipaddress.ip_address(target.host.strip("[]"))
    except ValueError:
        if target.host == "localhost" or target.host.endswith(".localhost"):
            raise UnsafeTarget("the host resolves to a loopback address") from None
        return target
    reason = unsafe_reason(address)
    if reason is not None:
        raise UnsafeTarget(f"the host is a {reason} address")
    return target
