"""vivo Push (also iQOO phones, OriginOS): an `authToken` from `POST /message/auth` signed with
md5(appId + appKey + timestamp + appSecret) (valid a day), then `POST /message/send` (JSON) with the token in
the `authToken` header.

Followed: vivo's "vivo 推送服务端 API 接口文档" (dev.vivo.com.cn documentCenter, v2.9: 鉴权 with `appId`,
`appKey`, `timestamp` in milliseconds, lower-case hex `sign`; 单推 `/message/send` with `appId`, `regId`,
`notifyType`, `title`, `content`, `skipType`, `requestId` -- vivo's de-duplication id, set to the notification's
id -- `classification`, `clientCustomMap`, `pushMode`) and its result codes: 0 success, 10000 authentication
failed / authToken expired (fetched again once), 10302 the regId is not valid (dropped), 10070 the total sends
exceed the day's limit (retry in an hour), 10072 sending too fast (retry shortly)."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from push.senders.answer import Answer
from push.senders.base import Message, Outcome, transient
from push.senders.vendor import BODY, TITLE, SignedTokenSender, TokenRefused, body_field

__all__ = ("VivoConfig", "VivoSender", "vivo_sign")

TOKEN_REFUSED = frozenset({"10000"})
INVALID_TOKENS = frozenset({"10302"})
QUOTA = frozenset({"10070"})
TOO_FAST = frozenset({"10072"})
TOKEN_LIFETIME = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class VivoConfig:
    """An app's vivo Push credentials (the AppSecret never logged) and where to send."""

    app_id: str
    app_key: str
    app_secret: str
    base_url: str = "https://api-push.vivo.com.cn"

    def __repr__(self) -> str:
        return f"VivoConfig(app_id={self.app_id!r}, app_key={self.app_key!r})"


def vivo_sign(app_id: str, app_key: str, timestamp: str, app_secret: str) -> str:
    """The auth request's signature: md5 of appId, appKey, timestamp and appSecret, lower-case hex."""
    # md5 is vivo's choice for this signature, not ours.
    return hashlib.md5(f"{app_id}{app_key}{timestamp}{app_secret}".encode()).hexdigest()


class VivoSender(SignedTokenSender):
    """Sends id-only notifications to vivo and iQOO phones."""

    channel = "vivo"
    code_field = "result"
    token_refused, invalid_tokens, quota, too_fast = TOKEN_REFUSED, INVALID_TOKENS, QUOTA, TOO_FAST

    def __init__(self, config: VivoConfig, *, concurrency: int = 32, timeout: float = 10.0) -> None:
        self.config = config
        super().__init__(concurrency=concurrency, timeout=timeout)

    async def _fetch_token(self) -> tuple[str, float]:
        timestamp = str(int(time.time() * 1000))
        resp = await self._client.post(f"{self.config.base_url}/message/auth", json={
            "appId": self.config.app_id, "appKey": self.config.app_key, "timestamp": int(timestamp),
            "sign": vivo_sign(self.config.app_id, self.config.app_key, timestamp, self.config.app_secret)})
        result = body_field(resp, "result")
        if resp.status_code == 200 and result == "0":
            return str(resp.json()["authToken"]), TOKEN_LIFETIME
        raise TokenRefused(transient(resp, f"auth {result}") or Outcome(
            "failed", resp.status_code, f"auth {result or resp.status_code}"))

    def body(self, token: str, message: Message) -> dict[str, Any]:
        """A notification (system-message class, as a government service's notices are) with the id and kind in
        the client's custom map, the notification's id as vivo's de-duplication id."""
        return {"appId": self.config.app_id, "regId": token, "notifyType": 4, "title": TITLE, "content": BODY,
                "skipType": 1, "timeToLive": 86400, "networkType": -1, "requestId": message.id,
                "classification": 1, "clientCustomMap": {"id": message.id, "kind": message.kind}, "pushMode": 0}

    async def _request(self, auth: str, token: str, message: Message) -> Answer:
        return await self._sends.post(f"{self.config.base_url}/message/send", json=self.body(token, message),
                                      headers={"authToken": auth})
