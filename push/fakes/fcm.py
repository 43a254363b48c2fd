"""A local FCM HTTP v1: the OAuth token endpoint (JWT bearer assertion checked against the service account's
public key) and `messages:send`, answering with FCM's error shapes (UNREGISTERED 404, QUOTA_EXCEEDED 429,
UNAVAILABLE 503, 401 for an unknown access token)."""

from __future__ import annotations

import secrets
import time
import urllib.parse
from typing import Any

import jwt

from push.fakes.server import ProviderFake, Recorded, respond

__all__ = ("FakeFcm",)


def _error(status: int, code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "status": code if code in (
        "UNAVAILABLE", "INTERNAL", "UNAUTHENTICATED") else ("NOT_FOUND" if status == 404 else "INVALID_ARGUMENT"),
        "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}]}}


class FakeFcm(ProviderFake):
    """The ASGI app: /token and /v1/projects/{project}/messages:send on one port."""

    token_path = "/token"

    def __init__(self, *, project_id: str, client_email: str, public_key_pem: str) -> None:
        super().__init__()
        self.project_id, self.client_email, self.public_key_pem = project_id, client_email, public_key_pem
        self.unregistered: set[str] = set()
        self.access: dict[str, float] = {}

    async def token(self, send: Any, body: bytes) -> None:
        """A JWT bearer assertion for an access token."""
        form = dict(urllib.parse.parse_qsl(body.decode()))
        try:
            claims = jwt.decode(form.get("assertion", ""), self.public_key_pem, algorithms=["RS256"],
                                options={"verify_aud": False})
        except jwt.PyJWTError:
            await respond(send, 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
            return
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" \
                or claims.get("iss") != self.client_email:
            await respond(send, 400, {"error": "invalid_grant"})
            return
        token = "ya29." + secrets.token_urlsafe(24)
        self.access[token] = time.time() + 3600
        await respond(send, 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    def answer(self, rec: Recorded) -> tuple[int, dict[str, Any] | None, dict[str, str]]:
        """FCM's answer to messages:send."""
        if rec.path != f"/v1/projects/{self.project_id}/messages:send":
            return 404, _error(404, "NOT_FOUND", "Requested entity was not found."), {}
        _, _, access = rec.headers.get("authorization", "").partition(" ")
        if self.access.get(access, 0) < time.time():
            return 401, _error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."), {}
        try:
            token = rec.json()["message"]["token"]
        except (ValueError, KeyError, TypeError):
            return 400, _error(400, "INVALID_ARGUMENT", "Invalid JSON payload received."), {}
        if token in self.unregistered:
            return 404, _error(404, "UNREGISTERED", "Requested entity was not found."), {}
        return 200, {"name": f"projects/{self.project_id}/messages/{secrets.token_hex(8)}"}, {}
