"""Web Push for the admin console and H5 pages: the message encrypted per RFC 8291 (aes128gcm, through the
http_ece library), a VAPID JWT (RFC 8292, ES256) naming us to the push service, `Topic` = the notification id so
a resend replaces rather than repeats; 404 and 410 mean the subscription is gone (the device is dropped). The
endpoint comes from a browser, so it must be on the allow-list of push services (no SSRF)."""

from __future__ import annotations

import base64
import time
import urllib.parse
from dataclasses import dataclass

import httpx
import jwt
import msgspec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from push.senders.base import Message, Outcome, transient
from push.targets import TargetRefused, check_url

__all__ = ("Subscription", "VapidKey", "WebPushSender", "parse_subscription")


class Keys(msgspec.Struct):
    """The browser's keys for the subscription."""

    p256dh: str
    auth: str


class Subscription(msgspec.Struct):
    """What `PushManager.subscribe()` gives the page, registered as the device's token (its JSON text)."""

    endpoint: str
    keys: Keys


def _b64(raw: str) -> bytes:
    return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))


def parse_subscription(token: str, allowed: list[str]) -> Subscription:
    """The subscription in a device token; ValueError saying why it is not acceptable."""
    try:
        sub = msgspec.json.decode(token, type=Subscription)
        if len(_b64(sub.keys.p256dh)) != 65 or len(_b64(sub.keys.auth)) != 16:
            raise ValueError("keys.p256dh must be a P-256 point and keys.auth 16 bytes (base64url)")
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ValueError(f"not a Web Push subscription: {exc}") from None
    except (ValueError, TypeError) as exc:
        raise ValueError(str(exc)) from None
    try:
        check_url(sub.endpoint, allowed)
    except TargetRefused as exc:
        raise ValueError(f"the push service is not allowed: {exc}") from None
    return sub


@dataclass(frozen=True, slots=True)
class VapidKey:
    """Our VAPID key pair (the private PEM never logged) and a contact the push services may write to."""

    private_pem: str
    subject: str = "mailto:push@jianwu.invalid"

    def __repr__(self) -> str:
        return f"VapidKey(subject={self.subject!r})"

    def public_key(self) -> str:
        """The application server key a page passes to `subscribe()` (base64url, uncompressed point)."""
        key = serialization.load_pem_private_key(self.private_pem.encode(), None)
        raw = key.public_key().public_bytes(serialization.Encoding.X962,
                                            serialization.PublicFormat.UncompressedPoint)
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def authorization(self, endpoint: str) -> str:
        """`vapid t=<JWT>, k=<public key>` for the endpoint's push service, valid 12 hours."""
        parts = urllib.parse.urlsplit(endpoint)
        token = jwt.encode({"aud": f"{parts.scheme}://{parts.netloc}", "exp": int(time.time()) + 12 * 3600,
                            "sub": self.subject}, self.private_pem, algorithm="ES256")
        return f"vapid t={token}, k={self.public_key()}"


class WebPushSender:
    """Sends encrypted id-only messages to browsers' push services."""

    channel = "webpush"

    def __init__(self, vapid: VapidKey, allowed_hosts: list[str], *, concurrency: int = 32,
                 timeout: float = 10.0) -> None:
        self.vapid = vapid
        self.allowed = allowed_hosts
        self.concurrency = concurrency
        # No redirects: the allow-list is checked on the endpoint, not on wherever it points.
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False, limits=httpx.Limits(
            max_connections=concurrency, max_keepalive_connections=concurrency))

    async def send(self, token: str, message: Message) -> Outcome:
        """One encrypted message to one subscription."""
        try:
            sub = parse_subscription(token, self.allowed)
        except ValueError as exc:
            return Outcome("invalid", None, str(exc))
        import http_ece  # only the delivery worker encrypts; API workers import this module for the key

        body = http_ece.encrypt(msgspec.json.encode({"id": message.id, "kind": message.kind}),
                                private_key=ec.generate_private_key(ec.SECP256R1()), dh=_b64(sub.keys.p256dh),
                                auth_secret=_b64(sub.keys.auth), version="aes128gcm")
        headers = {"authorization": self.vapid.authorization(sub.endpoint), "content-encoding": "aes128gcm",
                   "content-type": "application/octet-stream", "ttl": "86400", "urgency": "high",
                   "topic": message.id.replace("-", "")[:32]}
        try:
            resp = await self._client.post(sub.endpoint, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return Outcome("retry", None, type(exc).__name__)
        if resp.status_code in (200, 201, 202):
            return Outcome("sent", resp.status_code)
        if resp.status_code in (404, 410):
            return Outcome("invalid", resp.status_code, "subscription gone")
        return transient(resp, f"push service answered {resp.status_code}") or Outcome(
            "failed", resp.status_code, f"push service answered {resp.status_code}")

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
