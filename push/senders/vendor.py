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

from push.senders.answer import Answer
from push.senders.base import Message, Outcome, client, retry_after, transient
from push.senders.h1client import H1Client

__all__ = ("BODY", "QUOTA_DELAY", "RATE_DELAY", "TITLE", "ProviderToken", "SignedTokenSender", "TokenRefused",
           "body_field", "client", "data_json", "notify_id")

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


def body_field(resp: Answer, name: str) -> str:
    """One field of a provider's JSON answer as text ('' when the answer is no JSON object)."""
    try:
        return str(resp.json().get(name, ""))
    except (ValueError, AttributeError):
        return ""


class SignedTokenSender:
    """A sender for providers whose auth token is handed out against a signed request (OPPO, vivo): one request
    per message with the token; a refused token is fetched again once; the answer's result code decides. Subclasses
    fetch the token, post one message, and name the field and the codes of their answers."""

    channel = ""
    code_field = "code"
    token_refused: frozenset[str] = frozenset()
    invalid_tokens: frozenset[str] = frozenset()
    quota: frozenset[str] = frozenset()
    too_fast: frozenset[str] = frozenset()
    try_later: frozenset[str] = frozenset()

    def __init__(self, *, concurrency: int, timeout: float) -> None:
        self.concurrency = concurrency
        # The auth endpoint (a request a day or so) through httpx; the sends through the lean keep-alive pool.
        self._client = client(timeout)
        self._sends = H1Client(timeout=timeout, max_connections=concurrency)
        self.token = ProviderToken(self._fetch_token)

    async def _fetch_token(self) -> tuple[str, float]:
        """(token, lifetime in seconds) from the provider's auth endpoint, or TokenRefused."""
        raise NotImplementedError

    async def _request(self, auth: str, token: str, message: Message) -> Answer:
        """Post one message to one device token with the auth token."""
        raise NotImplementedError

    async def send(self, token: str, message: Message) -> Outcome:
        """One message to one device token; a refused auth token is fetched again once."""
        outcome = await self._post(token, message, renew=False)
        if outcome.error in self.token_refused:
            outcome = await self._post(token, message, renew=True)
        return outcome

    async def _post(self, token: str, message: Message, *, renew: bool) -> Outcome:
        try:
            resp = await self._request(await self.token.get(renew=renew), token, message)
        except TokenRefused as exc:
            return exc.outcome
        except (httpx.HTTPError, KeyError, TypeError, ValueError) as exc:
            return Outcome("retry", None, type(exc).__name__)
        return self.outcome(resp)

    def outcome(self, resp: Answer) -> Outcome:
        """What the provider's result code means."""
        code = body_field(resp, self.code_field)
        if resp.status_code == 200 and code == "0":
            return Outcome("sent", 200)
        if code in self.invalid_tokens:
            return Outcome("invalid", resp.status_code, code)
        if code in self.quota:
            return Outcome("retry", resp.status_code, code, QUOTA_DELAY)
        if code in self.too_fast or resp.status_code == 429:
            return Outcome("retry", resp.status_code, code or "429", retry_after(resp) or RATE_DELAY)
        if code in self.try_later:
            return Outcome("retry", resp.status_code, code, retry_after(resp))
        if code in self.token_refused:
            return Outcome("failed", resp.status_code, code)
        return transient(resp, code or str(resp.status_code)) or Outcome("failed", resp.status_code,
                                                                         code or str(resp.status_code))

    async def aclose(self) -> None:
        """Close the connection pools."""
        await self._sends.aclose()
        await self._client.aclose()
