"""Apple Push Notification service: HTTP/2, a provider token (ES256 JWT from a .p8 key) renewed well inside its
one-hour life, the notification's id as `apns-collapse-id`; 410 Unregistered and bad tokens drop the device."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
import jwt
import msgspec

from push.senders.answer import Answer
from push.senders.base import Message, Outcome, transient
from push.senders.h2client import H2Client

__all__ = ("ApnsConfig", "ApnsSender")

# APNs refuses a provider token older than an hour, and one renewed more often than every 20 minutes.
TOKEN_LIFETIME = 50 * 60
_INVALID = frozenset({"BadDeviceToken", "DeviceTokenNotForTopic", "Unregistered"})
_TOKEN_PROBLEMS = frozenset({"ExpiredProviderToken", "InvalidProviderToken"})


@dataclass(frozen=True, slots=True)
class ApnsConfig:
    """An app's APNs credentials (the key's PEM text, never logged) and where to send."""

    key_pem: str
    key_id: str
    team_id: str
    topic: str
    base_url: str = "https://api.push.apple.com"

    def __repr__(self) -> str:
        return f"ApnsConfig(key_id={self.key_id!r}, team_id={self.team_id!r}, topic={self.topic!r})"


class ApnsSender:
    """Sends id-only alerts over one HTTP/2 connection pool."""

    channel = "apns"

    def __init__(self, config: ApnsConfig, *, concurrency: int = 100, timeout: float = 10.0) -> None:
        self.config = config
        self.concurrency = concurrency
        # HTTP/2 only: APNs speaks nothing else (prior knowledge on a plain-text fake, ALPN over TLS).
        self._client = H2Client(config.base_url, timeout=timeout, max_connections=2)
        self._token: tuple[float, str] | None = None

    def provider_token(self, *, renew: bool = False) -> str:
        """The current provider token, signed anew once it is 50 minutes old (or when APNs refused it)."""
        now = time.time()
        if renew or self._token is None or now - self._token[0] >= TOKEN_LIFETIME:
            token = jwt.encode({"iss": self.config.team_id, "iat": int(now)}, self.config.key_pem, algorithm="ES256",
                               headers={"kid": self.config.key_id})
            self._token = (now, token)
        return self._token[1]

    async def send(self, token: str, message: Message) -> Outcome:
        """One alert to one device token."""
        outcome = await self._post(token, message, renew=False)
        if outcome.error in _TOKEN_PROBLEMS:
            outcome = await self._post(token, message, renew=True)
        return outcome

    async def _post(self, token: str, message: Message, *, renew: bool) -> Outcome:
        body = msgspec.json.encode({"aps": {"alert": {"loc-key": "NEW_NOTIFICATION"}, "sound": "default",
                                            "mutable-content": 1}, "id": message.id, "kind": message.kind})
        headers = {"apns-topic": self.config.topic, "apns-push-type": "alert", "apns-priority": "10"}
        # The token is a secret, the others change with every request: none goes into the compression table.
        literal = {"authorization": f"bearer {self.provider_token(renew=renew)}", "apns-collapse-id": message.id,
                   "apns-expiration": str(int(time.time()) + 86400)}
        try:
            resp = await self._client.post(f"/3/device/{token}", content=body, headers=headers, literal=literal)
        except httpx.HTTPError as exc:
            return Outcome("retry", None, f"{type(exc).__name__}")
        if resp.status_code == 200:
            return Outcome("sent", 200)
        reason = _reason(resp)
        if resp.status_code == 410 or reason in _INVALID:
            return Outcome("invalid", resp.status_code, reason)
        return transient(resp, reason) or Outcome("failed", resp.status_code, reason)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()


def _reason(resp: Answer) -> str:
    try:
        return str(msgspec.json.decode(resp.content).get("reason") or resp.status_code)
    except (msgspec.DecodeError, AttributeError):
        return str(resp.status_code)
