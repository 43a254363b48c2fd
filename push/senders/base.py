"""What every channel's sender does: take one id-only message for one device token, answer one outcome."""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import httpx

from push.senders.answer import Answer, Response
from push.senders.h1client import H1Client

__all__ = ("AccessToken", "Answer", "Message", "OAuthSender", "Outcome", "Response", "Sender", "client", "retry_after",
           "transient")

Result = Literal["sent", "retry", "invalid", "failed"]


@dataclass(frozen=True, slots=True)
class Message:
    """A push: the notification's id (also the collapse id, so a resend replaces rather than repeats) and its
    kind. Nothing else, so the providers never see case content."""

    id: str
    kind: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one send ended: sent; retry later (at least `retry_after` seconds); the token is invalid (drop the
    device); or failed for good (a request the provider will never take)."""

    result: Result
    status: int | None = None
    error: str | None = None
    retry_after: float | None = None


class Sender(Protocol):
    """A channel's sender; `concurrency` bounds the requests in flight to that provider from one worker."""

    channel: str
    concurrency: int

    async def send(self, token: str, message: Message) -> Outcome:
        """Send one message to one device token."""
        ...

    async def aclose(self) -> None:
        """Close the connections."""
        ...


def retry_after(response: Answer) -> float | None:
    """Seconds the provider asks us to wait (Retry-After as seconds or an HTTP date), if it says."""
    raw = response.headers.get("retry-after")
    if not raw:
        return None
    if raw.strip().isdigit():
        return float(raw)
    try:
        return max(0.0, email.utils.parsedate_to_datetime(raw).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def transient(response: Answer, error: str) -> Outcome | None:
    """The outcome for answers every provider means the same way (429 and 5xx: try again), else None."""
    if response.status_code == 429 or response.status_code >= 500:
        return Outcome("retry", response.status_code, error, retry_after(response))
    return None


def client(timeout: float) -> httpx.AsyncClient:
    """The client for a provider's token endpoint (a request now and then; the sends go through H1Client)."""
    return httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(max_connections=2, max_keepalive_connections=2))


class AccessToken:
    """An OAuth access token a provider hands out (Huawei, FCM): fetched once, again five minutes before it
    expires or when the provider refused it, by one caller at a time."""

    def __init__(self, fetch: Callable[[], Awaitable[httpx.Response]]) -> None:
        self._fetch = fetch
        self._token: tuple[float, str] | None = None
        self._lock = asyncio.Lock()

    async def get(self, *, renew: bool = False) -> str:
        """The token (HTTPStatusError when the token endpoint refuses)."""
        async with self._lock:
            if renew or self._token is None or time.time() >= self._token[0]:
                resp = await self._fetch()
                resp.raise_for_status()
                answer: dict[str, Any] = resp.json()
                self._token = (time.time() + max(60, int(answer.get("expires_in", 3600)) - 300),
                               answer["access_token"])
            return self._token[1]


class OAuthSender:
    """A sender for providers that want an OAuth access token (Huawei, FCM): one POST per message with the
    token; a refused token is fetched again once. Subclasses say how to get the token, where and what to send,
    and what the answer means."""

    channel = ""

    def __init__(self, *, concurrency: int, timeout: float) -> None:
        self.concurrency = concurrency
        # The token endpoint (a request an hour) through httpx; the sends through the lean keep-alive pool.
        self._client = client(timeout)
        self._sends = H1Client(timeout=timeout, max_connections=concurrency)
        self.token = AccessToken(self.fetch_token)

    def fetch_token(self) -> Awaitable[httpx.Response]:
        """Ask the provider's token endpoint for an access token."""
        raise NotImplementedError

    def request(self, token: str, message: Message) -> tuple[str, dict[str, Any]]:
        """The URL and JSON body of one message to one device token."""
        raise NotImplementedError

    def outcome(self, resp: Answer) -> Outcome:
        """What the provider's answer means."""
        raise NotImplementedError

    def token_refused(self, outcome: Outcome) -> bool:
        """Whether the answer says the access token was not accepted."""
        return outcome.status == 401

    def headers(self) -> dict[str, str]:
        """Headers a provider wants besides the bearer token (none by default)."""
        return {}

    async def send(self, token: str, message: Message) -> Outcome:
        """One message to one device token."""
        outcome = await self._post(token, message, renew=False)
        if self.token_refused(outcome):
            outcome = await self._post(token, message, renew=True)
        return outcome

    async def _post(self, token: str, message: Message, *, renew: bool) -> Outcome:
        url, body = self.request(token, message)
        try:
            access = await self.token.get(renew=renew)
            resp = await self._sends.post(url, json=body, headers={"authorization": f"Bearer {access}",
                                                                   **self.headers()})
        except httpx.HTTPStatusError as exc:
            return transient(exc.response, "oauth") or Outcome("failed", exc.response.status_code, "oauth refused")
        except httpx.HTTPError as exc:
            return Outcome("retry", None, type(exc).__name__)
        return self.outcome(resp)

    async def aclose(self) -> None:
        """Close the connection pools."""
        await self._sends.aclose()
        await self._client.aclose()
