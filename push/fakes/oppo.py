"""A local OPPO PUSH: `/server/v1/auth` (checks the sha256 signature and the timestamp) and the form-encoded
`/server/v1/message/notification/unicast`, answering with OPPO's codes (0 Success, 11 Invalid AuthToken, 33 the
daily limit when `quota_exhausted`, 10000 an invalid registration id)."""

from __future__ import annotations

import secrets
import time
import urllib.parse
from typing import Any

import msgspec

from push.fakes.server import Recorded, TokenFake, respond
from push.senders.oppo import oppo_sign

__all__ = ("FakeOppo",)


class FakeOppo(TokenFake):
    """The ASGI app: /server/v1/auth and /server/v1/message/notification/unicast on one port."""

    token_path = "/server/v1/auth"

    def __init__(self, *, app_key: str, master_secret: str) -> None:
        super().__init__()
        self.app_key, self.master_secret = app_key, master_secret
        self.quota_exhausted = False

    def accepted(self, status: int, answer: dict[str, Any] | None) -> bool:
        """OPPO took it when its code is 0."""
        return status == 200 and bool(answer) and answer.get("code") == 0  # type: ignore[union-attr]  # bool(answer) is checked first: answer is a dict here

    async def token(self, send: Any, body: bytes) -> None:
        """A signed request for an auth_token."""
        self.token_requests += 1
        form = dict(urllib.parse.parse_qsl(body.decode()))
        stamp = form.get("timestamp", "")
        if form.get("app_key") != self.app_key:
            await respond(send, 200, {"code": 14, "message": "Invalid App Key"})
        elif not stamp.isdigit() or abs(int(stamp) / 1000 - time.time()) > 600:
            await respond(send, 200, {"code": 19, "message": "Invalid Timestamp"})
        elif not secrets.compare_digest(form.get("sign", ""), oppo_sign(self.app_key, stamp, self.master_secret)):
            await respond(send, 200, {"code": 16, "message": "Invalid Signature"})
        else:
            token = secrets.token_hex(16)
            self.access[token] = time.time() + 24 * 3600
            await respond(send, 200, {"code": 0, "message": "Success",
                                      "data": {"auth_token": token, "create_time": int(time.time() * 1000)}})

    def answer(self, rec: Recorded) -> tuple[int, dict[str, Any] | None, dict[str, str]]:
        """OPPO's answer to a unicast notification."""
        if rec.method != "POST" or rec.path != "/server/v1/message/notification/unicast":
            return 404, {"code": 20, "message": "Invalid Method"}, {}
        form = dict(urllib.parse.parse_qsl(rec.body.decode()))
        if not form.get("auth_token"):
            return 200, {"code": 29, "message": "Missing Auth Token"}, {}
        if self.access.get(form["auth_token"], 0) < time.time():
            return 200, {"code": 11, "message": "Invalid AuthToken"}, {}
        try:
            message = msgspec.json.decode(form.get("message", ""))
            target, notification = message["target_value"], message["notification"]
            ok = message["target_type"] == 2 and notification["title"] and notification["content"]
        except (msgspec.DecodeError, KeyError, TypeError):
            ok = False
        if not ok:
            return 200, {"code": 41, "message": "Invalid Arguments"}, {}
        if self.quota_exhausted:
            return 200, {"code": 33, "message": "The number of messages exceeds the daily limit"}, {}
        if target in self.invalid_tokens:
            return 200, {"code": 10000, "message": "Invalid RegistrationId"}, {}
        return 200, {"code": 0, "message": "Success", "data": {"messageId": secrets.token_hex(12)}}, {}
