"""A local vivo Push: `/message/auth` (checks the md5 signature and the timestamp) and `/message/send` with the
`authToken` header, answering with vivo's result codes (0 success, 10000 authentication failed, 10302 invalid
regId, 10070 the day's limit when `quota_exhausted`)."""

from __future__ import annotations

import secrets
import time
from typing import Any

import msgspec

from push.fakes.server import Recorded, TokenFake, respond
from push.senders.vivo import vivo_sign

__all__ = ("FakeVivo",)


class FakeVivo(TokenFake):
    """The ASGI app: /message/auth and /message/send on one port."""

    token_path = "/message/auth"

    def __init__(self, *, app_id: str, app_key: str, app_secret: str) -> None:
        super().__init__()
        self.app_id, self.app_key, self.app_secret = app_id, app_key, app_secret
        self.quota_exhausted = False

    def accepted(self, status: int, answer: dict[str, Any] | None) -> bool:
        """vivo took it when its result is 0."""
        return status == 200 and bool(answer) and answer.get("result") == 0  # type: ignore[union-attr]  # bool(answer) is checked first: answer is a dict here

    async def token(self, send: Any, body: bytes) -> None:
        """A signed request for an authToken."""
        self.token_requests += 1
        try:
            form = msgspec.json.decode(body)
            app_id, app_key, stamp, sign = str(form["appId"]), form["appKey"], str(form["timestamp"]), form["sign"]
        except (msgspec.DecodeError, KeyError, TypeError):
            await respond(send, 200, {"result": 10050, "desc": "参数错误"})
            return
        if app_id != self.app_id or app_key != self.app_key:
            await respond(send, 200, {"result": 10054, "desc": "appId 或 appKey 不合法"})
        elif not stamp.isdigit() or abs(int(stamp) / 1000 - time.time()) > 600:
            await respond(send, 200, {"result": 10053, "desc": "timestamp 不合法"})
        elif not secrets.compare_digest(str(sign), vivo_sign(app_id, app_key, stamp, self.app_secret)):
            await respond(send, 200, {"result": 10200, "desc": "sign 不合法"})
        else:
            token = secrets.token_hex(16)
            self.access[token] = time.time() + 24 * 3600
            await respond(send, 200, {"result": 0, "desc": "请求成功", "authToken": token})

    def answer(self, rec: Recorded) -> tuple[int, dict[str, Any] | None, dict[str, str]]:
        """vivo's answer to a single send."""
        if rec.method != "POST" or rec.path != "/message/send":
            return 404, None, {}
        if self.access.get(rec.headers.get("authtoken", ""), 0) < time.time():
            return 200, {"result": 10000, "desc": "权限认证失败"}, {}
        try:
            body = rec.json()
            reg_id, ok = body["regId"], str(body["appId"]) == self.app_id and body["title"] and body["requestId"]
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            return 200, {"result": 10050, "desc": "参数错误"}, {}
        if self.quota_exhausted:
            return 200, {"result": 10070, "desc": "发送总量超出限制"}, {}
        if reg_id in self.invalid_tokens:
            return 200, {"result": 10302, "desc": "regId 不合法"}, {}
        return 200, {"result": 0, "desc": "请求成功", "taskId": str(secrets.randbelow(10**12))}, {}
