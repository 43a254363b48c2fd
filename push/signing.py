"""Standard Webhooks signatures: `v1,` + base64(HMAC-SHA256(secret, "{id}.{timestamp}.{body}")), the secret
written `whsec_` + base64; during a rotation the header carries one signature per valid secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = ("headers", "new_secret", "secret_bytes", "sign")


def new_secret() -> str:
    """A fresh 32-byte signing secret in the `whsec_` form partners paste into their verifier."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_bytes(secret: str) -> bytes:
    """The key bytes of a `whsec_` secret."""
    return base64.b64decode(secret.removeprefix("whsec_"))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,` signature of a message."""
    mac = hmac.new(secret_bytes(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def headers(secrets_in_force: list[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers of a delivery, signed with every secret in force (the new one first)."""
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": " ".join(sign(s, msg_id, timestamp, body) for s in secrets_in_force),
            "content-type": "application/json"}
