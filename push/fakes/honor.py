"""A local Honor Push: the IAM token endpoint (client credentials) and `/api/v1/{appId}/sendMessage`, answering
with Honor's codes (200 success, 80300007 every token invalid, 80200003 the OAuth token expired, 81000001 its own
trouble) and 429 with Retry-After when its flow control is on (`quota_exhausted`)."""

from __future__ import annotations

import secrets
import time
import urllib.parse
from typing import Any

from push.fakes.server import Recorded, TokenFake, respond

__all__ = ("FakeHonor",)


class FakeHonor(TokenFake):
    """The ASGI app: /auth/token and /api/v1/{appId}/sendMessage on one port."""

    token_path = "/auth/token"

    def __init__(self, *, app_id: str, client_id: str, client_secret: str) -> None:
        super().__init__()
        self.app_id, self.client_id, self.client_secret = app_id, client_id, client_secret
        self.quota_exhausted = False

    def accepted(self, status: int, answer: dict[str, Any] | None) -> bool:
        """Honor took it when its code says success."""
        return status == 200 and bool(answer) and answer.get("code") == 200  # type: ignore[union-attr]  # bool(answer) is checked first: answer is a dict here

    async def token(self, send: Any, body: bytes) -> None:
        """Client credentials for an access token."""
        self.token_requests += 1
        form = dict(urllib.parse.parse_qsl(body.decode()))
        if form.get("grant_type") != "client_credentials" or form.get("client_id") != self.client_id \
                or not secrets.compare_digest(form.get("client_secret", ""), self.client_secret):
            await respond(send, 401, {"error": "invalid_client", "error_description": "Invalid client credentials"})
            return
        token = secrets.token_urlsafe(24)
        self.access[token] = time.time() + 3600
        await respond(send, 200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"})

    def answer(self, rec: Recorded) -> tuple[int, dict[str, Any] | None, dict[str, str]]:
        """Honor's answer to sendMessage."""
        if rec.method != "POST" or rec.path != f"/api/v1/{self.app_id}/sendMessage":
            return 404, {"code": 404, "message": "Not Found"}, {}
        _, _, access = rec.headers.get("authorization", "").partition(" ")
        if self.access.get(access, 0) < time.time():
            return 200, {"code": 80200003, "message": "OAuth token expired"}, {}
        if not rec.headers.get("timestamp", "").isdigit():
            return 200, {"code": 80100003, "message": "timestamp header missing"}, {}
        if self.quota_exhausted:
            return 429, {"code": 429, "message": "flow control"}, {"retry-after": "60"}
        try:
            body = rec.json()
            tokens, data = body["token"], body.get("data")
        except (ValueError, KeyError, TypeError):
            return 200, {"code": 80100003, "message": "Incorrect message structure"}, {}
        if not isinstance(tokens, list) or not tokens or not isinstance(data, str):
            return 200, {"code": 80100003, "message": "Incorrect message structure"}, {}
        bad = [t for t in tokens if t in self.invalid_tokens]
        if bad and len(bad) == len(tokens):
            return 200, {"code": 80300007, "message": "All the tokens are invalid"}, {}
        return 200, {"code": 200, "message": "Success", "data": {"sendResult": True,
                                                                 "requestId": secrets.token_hex(12)}}, {}
