"""Where a webhook may be delivered: the SSRF guard.

A target must be an absolute http(s) URL without credentials, and EVERY address its host
resolves to must be public: loopback, private, link-local (cloud metadata 169.254.169.254),
shared (CGNAT), multicast, broadcast, reserved, documentation, benchmarking, unspecified and the
deprecated site-local ``fec0::/10`` are refused, in any encoding the resolver accepts
(``2130706433``, ``0x7f.1``, ``[::ffff:127.0.0.1]``, IPv4-compatible, and the IPv4 address a
6to4, Teredo or NAT64 address carries). Deliveries connect to the exact address that was checked
(no second lookup an attacker could rebind) and never follow redirects. A refusal at delivery
says the same thing whether the name resolved to a non-public address or did not resolve at all,
so the delivery log cannot be used to probe internal DNS. ``WEBHOOK_ALLOW_HOSTS`` (off by
default) names hosts exempt from the address check, for tests that deliver to loopback.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
from concurrent.futures import Executor
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL = 2048
IP = ipaddress.IPv4Address | ipaddress.IPv6Address
NOT_PUBLIC = "the host is not a public address or did not resolve"
"""The one refusal a delivery reports for every address reason and for a name that does not resolve."""

# Ranges refused by name, beyond what ``ipaddress`` flags: some it calls global (fec0::/10 is
# only ``is_site_local``; 192.0.0.9/32, 192.88.99.0/24 and 3fff::/20 pass ``is_global`` on 3.11).
_REFUSED: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.ip_network(net), reason) for net, reason in (
        ("0.0.0.0/8", "'this network'"),
        ("100.64.0.0/10", "shared (carrier-grade NAT)"),
        ("192.0.0.0/24", "IETF protocol assignment"),
        ("192.88.99.0/24", "deprecated 6to4 relay"),
        ("198.18.0.0/15", "benchmarking"),
        ("255.255.255.255/32", "broadcast"),
        ("240.0.0.0/4", "reserved"),
        ("::/96", "deprecated IPv4-compatible"),
        ("::ffff:0:0/96", "IPv4-mapped"),
        ("::ffff:0:0:0/96", "IPv4-translated"),
        ("64:ff9b:1::/48", "local-use NAT64"),
        ("100::/64", "discard-only"),
        ("3fff::/20", "documentation"),
        ("fec0::/10", "deprecated site-local"),
    ))
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


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
    """The address and every IPv4 address it carries (mapped, 6to4, Teredo client)."""
    found: list[IP] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        for inner in (ip.ipv4_mapped, ip.sixtofour, ip.teredo[1] if ip.teredo else None):
            if inner is not None:
                found.append(inner)
    return found


def _reason(ip: IP) -> str | None:
    if ip.is_loopback:
        return "loopback"
    if ip.is_unspecified:
        return "unspecified"
    for network, reason in _REFUSED:
        if ip.version == network.version and ip in network:
            return reason
    if ip.is_link_local:
        return "link-local (e.g. cloud metadata)"
    if ip.is_multicast:
        return "multicast"
    if ip.is_private:
        return "private"
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return "deprecated site-local"
    if ip.is_reserved or not ip.is_global:
        return "reserved or not globally routable"
    return None


def unsafe_reason(ip: IP) -> str | None:
    """Why an address must not be reached, or None when it is public."""
    if isinstance(ip, ipaddress.IPv6Address) and ip in _NAT64:
        # A NAT64 gateway reaches the IPv4 address in the low 32 bits: judge that one.
        ip = ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    for candidate in _embedded(ip):
        reason = _reason(candidate)
        if reason is not None:
            return reason
    return None


async def resolve_target(url: str, allow_hosts: frozenset[str], *,
                         resolver: Executor | None = None) -> tuple[Target, str]:
    """The parsed target and the one address to connect to; ``UnsafeTarget`` otherwise (with
    ``NOT_PUBLIC`` for every refusal that depends on what the name resolves to). ``resolver`` runs
    the blocking lookup (default: the loop's executor)."""
    target = parse_target(url)
    lookup = functools.partial(socket.getaddrinfo, target.host, target.port, type=socket.SOCK_STREAM)
    try:
        infos = await asyncio.get_running_loop().run_in_executor(resolver, lookup)
    except (socket.gaierror, UnicodeError) as err:
        raise UnsafeTarget(NOT_PUBLIC) from err
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if target.host not in allow_hosts and unsafe_reason(address) is not None:
            raise UnsafeTarget(NOT_PUBLIC)
        addresses.append(address)
    if not addresses:
        raise UnsafeTarget(NOT_PUBLIC)
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
