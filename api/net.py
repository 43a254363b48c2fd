"""The client's address, trusting X-Forwarded-For only from our own load balancers."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from api.errors import ErrorCode, ProblemError

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection

__all__ = ("DEVICE_ID_PATTERN", "address_in", "client_ip", "device_id")

# What a device id may be wherever it is stored (audit trail, refresh tokens) or signed (the `did` claim).
DEVICE_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
_DEVICE_ID = re.compile(DEVICE_ID_PATTERN)


@lru_cache(maxsize=8)
def _trusted(raw: str) -> frozenset[str]:
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


def client_ip(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The peer address, or the last untrusted hop of X-Forwarded-For when the peer is a trusted proxy."""
    client = connection.scope.get("client")
    peer = client[0] if client else "unknown"
    trusted = _trusted(connection.app.state.settings.trusted_proxies)
    if peer not in trusted:
        return peer
    hops = [h.strip() for h in connection.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    # Walk from the nearest hop back: the first address we do not run ourselves is the client.
    for hop in reversed(hops):
        if hop not in trusted:
            return hop[:64]
    return peer


def device_id(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The X-Device-ID header (1-128 of A-Z a-z 0-9 . _ : -), or None; any other value is a 400, never stored."""
    raw = connection.headers.get("x-device-id")
    if raw is None or _DEVICE_ID.match(raw):
        return raw
    raise ProblemError(ErrorCode.VALIDATION_FAILED, "The X-Device-ID header is malformed.",
                       errors=[{"field": "X-Device-ID", "message": "1-128 of A-Z a-z 0-9 . _ : -", "source": "header"}])


def address_in(address: str, networks: Iterable[Any]) -> bool:
    """Whether an address lies in any of the networks (CIDR strings or ipaddress networks); an address that is not
    an IP address (a test client's name) lies in none."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(str(n), strict=False) for n in networks)
