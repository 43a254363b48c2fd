"""The client's address, trusting X-Forwarded-For only from our own load balancers."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection

__all__ = ("client_ip",)


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
