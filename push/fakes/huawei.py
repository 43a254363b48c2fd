"""A local Huawei Push Kit: the OAuth token endpoint (client credentials) and `messages:send`, answering with
Push Kit's result codes (80000000 success, 80300007 invalid token, 80200003 token expired, 503 flow control)."""

from __future__ import annotations

import secrets
import time
import urllib.parse
from typing import Any

from push.fakes.server import Recorded, TokenFake, respond

__all__ = ("FakeHuawei",)


class FakeHuawei(TokenFake):
    """The ASGI app: /oauth2/v3/token and /v1/{appId}/messages:send on one port."""

    token_path = "/oauth2/v3/token"

    def __init__(self, *, app_id: str, client_secret: str) -> None:
        super().__init__()
        self.app_id, self.client_secret = app_id, client_secret
        self.unavailable_until = 0.0

    def accepted(self, status: int, answer: dict[str, Any] | None) -> bool:
        """Push Kit took it when its result code says success."""
        return bool(answer) and answer.get("code") == "80000000"  # type: ignore[union-attr]  # bool(answer) is checked first: answer is a dict here

    async def token(self, send: Any, body: bytes) -> None:
        """Client credentials for an access token."""
        self.token_requests += 1
        form = dict(urllib.parse.parse_qsl(body.decode()))
        if form.get("grant_type") != "client_credentials" or form.get("client_id") != self.app_id \
                or not secrets.compare_digest(form.get("client_secret", ""), self.client_secret):
            await respond(send, 400, {"error": 1101, "sub_error": 20152, "error_description": "invalid client"})
            return
        token = secrets.token_urlsafe(24)
        self.access[token] = time.time() + 3600
        await respond(send, 200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"})

    def answer(self, rec: Recorded) -> tuple[int, dict[str, Any] | None, dict[str, str]]:
        """Push Kit's answer to messages:send."""
        if time.time() < self.unavailable_until:
            return 503, {"code": "81000001", "msg": "System inner error"}, {"retry-after": "1"}
        if rec.method != "POST" or rec.path != f"/v1/{self.app_id}/messages:send":
            return 404, {"code": "80300002", "msg": "No permission to send message to these tokens"}, {}
        _, _, access = rec.headers.get("authorization", "").partition(" ")
        if self.access.get(access, 0) < time.time():
            return 401, {"code": "80200003", "msg": "OAuth token expired"}, {}
        try:
            message = rec.json()["message"]
            tokens = message["token"]
        except (ValueError, KeyError, TypeError):
            return 400, {"code": "80100003", "msg": "Incorrect message structure"}, {}
        bad = [t for t in tokens if t in self.invalid_tokens]
        if bad and len(bad) == len(tokens):
            return 400, {"code": "80300007", "msg": "All the tokens are invalid"}, {}
        if bad:
            detail = f'{{"success":{len(tokens) - len(bad)},"illegal_tokens":{bad}}}'
            return 200, {"code": "80100000", "msg": detail}, {}
        return 200, {"code": "80000000", "msg": "Success", "requestId": secrets.token_hex(8)}, {}
