"""What the mainland Android vendors' senders (Honor, Xiaomi, OPPO, vivo) share: the notification shown on the
phone (a fixed "you have a new notification", never case content), a numeric notify id derived from the
notification's id (so a resend replaces the shown notification instead of adding one), an auth token the
provider hands out against a signed request, and the delays their quota answers call for."""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import Awaitable, Callable

import httpx
import msgspec

from push.senders.base import Message, Outcome

__all__ = ("BODY", "QUOTA_DELAY", "RATE_DELAY", "TITLE", "ProviderToken", "TokenRefused", "client", "data_json",
           "notify_id")

TITLE = "检务"
BODY = "您有一条新通知"
# A daily quota used up: try again in an hour (the worker's backoff takes over after that).
QUOTA_DELAY = 3600.0
# Sending too fast: a short pause.
RATE_DELAY = 30.0


def notify_id(message: Message) -> int:
    """A positive 31-bit number from the notification's id: the same notification always gets the same one."""
    return zlib.crc32(message.id.encode()) & 0x7FFFFFFF


def data_json(message: Message) -> str:
    """The id and kind as the JSON text the app reads (nothing else)."""
    return msgspec.json.encode({"id": message.id, "kind": message.kind}).decode()


class TokenRefused(Exception):
    """The provider's auth endpoint did not hand out a token; `outcome` says what that means for the send."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.error)
        self.outcome = outcome


class ProviderToken:
    """An auth token got from a provider with a signed request (OPPO, vivo): fetched once, again before it
    expires or when the provider refused it, by one caller at a time. `fetch` answers (token, lifetime in
    seconds) or raises TokenRefused."""

    def __init__(self, fetch: Callable[[], Awaitable[tuple[str, float]]]) -> None:
        self._fetch = fetch
        self._token: tuple[float, str] | None = None
        self._lock = asyncio.Lock()

    async def get(self, *, renew: bool = False) -> str:
        """The token (TokenRefused or httpx.HTTPError when it cannot be had)."""
        async with self._lock:
            if renew or self._token is None or time.time() >= self._token[0]:
                token, lifetime = await self._fetch()
                # An hour early, and never kept less than a minute.
                self._token = (time.time() + max(60.0, lifetime - 3600.0), token)
            return self._token[1]


def client(concurrency: int, timeout: float) -> httpx.AsyncClient:
    """A connection pool as large as the requests in flight (httpcore slows down with requests queued on it)."""
    return httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(
        max_connections=concurrency, max_keepalive_connections=concurrency))
