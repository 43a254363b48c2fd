"""Where a webhook may go: only to hosts an admin allowed for that partner, and never to an internal address
unless the admin named that address or network itself (no SSRF through a partner's endpoint)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import urllib.parse
from dataclasses import dataclass

__all__ = ("Target", "TargetRefused", "check_url", "resolve")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TargetRefused(ValueError):
    """The endpoint is outside the client's allow-list, or resolves to an address it may not reach."""


@dataclass(frozen=True, slots=True)
class Target:
    """A checked endpoint: connect to `address`, present `host` (Host header, TLS name)."""

    url: str
    host: str
    address: str
    port: int


def _networks(allowed: list[str]) -> tuple[set[str], list[Network]]:
    names, nets = set(), []
    for entry in allowed:
        try:
            nets.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            names.add(entry.strip().lower().rstrip("."))
    return names, nets


def check_url(url: str, allowed: list[str]) -> urllib.parse.SplitResult:
    """The parsed URL when its scheme and host are acceptable for this allow-list (TargetRefused otherwise)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.username or parts.password:
        raise TargetRefused("the endpoint must be an http(s) URL with a host and no credentials")
    names, nets = _networks(allowed)
    host = parts.hostname.lower().rstrip(".")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    # An entry starting with a dot allows the subdomains of a name (".notify.windows.com").
    by_name = host in names or any(n.startswith(".") and host.endswith(n) for n in names)
    if not (by_name or (ip is not None and any(ip in n for n in nets))):
        raise TargetRefused(f"{host} is not on this client's allow-list")
    return parts


async def resolve(url: str, allowed: list[str]) -> Target:
    """Check the URL, resolve its host, and pick an address it may reach: one inside a network the admin listed,
    or a public one when the host was allowed by name (a name resolving to 10.x, 127.x or 169.254.x is refused)."""
    parts = check_url(url, allowed)
    _, nets = _networks(allowed)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise TargetRefused(f"{host} does not resolve") from exc
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    for addr in addresses:
        if not (any(addr in n for n in nets) or addr.is_global):
            raise TargetRefused(f"{host} resolves to {addr}, an internal address not on the allow-list")
    if not addresses:
        raise TargetRefused(f"{host} does not resolve")
    return Target(url=url, host=host, address=str(addresses[0]), port=port)
