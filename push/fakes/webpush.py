"""A local Web Push service: hands out subscriptions as a browser would, checks the VAPID JWT (RFC 8292) and
decrypts each message with the subscription's private key (RFC 8291), answering 201, or 410 for one gone."""

from __future__ import annotations

import base64
import secrets
from typing import Any

import http_ece
import jwt
import msgspec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from push.fakes.server import ProviderFake, Recorded

__all__ = ("FakeWebPush",)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class FakeWebPush(ProviderFake):
    """The ASGI app: POST /push/{id}; `messages` holds what each delivered request decrypted to."""

    def __init__(self) -> None:
        super().__init__()
        self.url = ""
        self.keys: dict[str, tuple[ec.EllipticCurvePrivateKey, bytes]] = {}
        self.gone: set[str] = set()
        self.messages: list[dict[str, Any]] = []

    def subscribe(self) -> str:
        """A new subscription, as `PushManager.subscribe()` gives it to a page (its JSON text)."""
        key, auth, sid = ec.generate_private_key(ec.SECP256R1()), secrets.token_bytes(16), secrets.token_hex(8)
        self.keys[sid] = (key, auth)
        point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        return msgspec.json.encode({"endpoint": f"{self.url}/push/{sid}",
                                    "keys": {"p256dh": _b64(point), "auth": _b64(auth)}}).decode()

    def answer(self, rec: Recorded) -> tuple[int, dict[str, Any] | None, dict[str, str]]:
        """201 Created for a message that decrypts under a valid VAPID header."""
        sid = rec.path.removeprefix("/push/")
        if rec.method != "POST" or sid not in self.keys:
            return 404, {"error": "no such subscription"}, {}
        if sid in self.gone:
            return 410, {"error": "subscription expired"}, {}
        vapid = dict(part.strip().split("=", 1) for part in rec.headers.get("authorization", "vapid ")
                     .removeprefix("vapid ").split(",") if "=" in part)
        try:
            public = ec.EllipticCurvePublicKey.from_encoded_point(
                ec.SECP256R1(), base64.urlsafe_b64decode(vapid["k"] + "=" * (-len(vapid["k"]) % 4)))
            jwt.decode(vapid["t"], public, algorithms=["ES256"], audience=self.url)
        except (KeyError, ValueError, jwt.PyJWTError):
            return 401, {"error": "bad VAPID authorization"}, {}
        if rec.headers.get("content-encoding") != "aes128gcm" or "ttl" not in rec.headers:
            return 400, {"error": "aes128gcm and TTL required"}, {}
        key, auth = self.keys[sid]
        try:
            plain = http_ece.decrypt(rec.body, private_key=key, auth_secret=auth, version="aes128gcm")
        except Exception:  # noqa: BLE001  any decryption failure is the client's error
            return 400, {"error": "cannot decrypt"}, {}
        self.messages.append({"subscription": sid, "topic": rec.headers.get("topic"), **msgspec.json.decode(plain)})
        return 201, None, {"location": f"{self.url}/message/{secrets.token_hex(8)}"}

    def accepted(self, status: int, answer: dict[str, Any] | None) -> bool:
        """Taken when created."""
        return status == 201
