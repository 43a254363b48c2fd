"""OPPO PUSH (also OnePlus and realme phones, ColorOS): an `auth_token` from `POST /server/v1/auth` signed with
sha256(app_key + timestamp + master_secret) (valid 24 hours), then a form-encoded
`POST /server/v1/message/notification/unicast` with `auth_token` and the `message` JSON.

Followed: OPPO's "OPPO PUSH 服务端API" (open.oppomobile.com developmentDoc: 鉴权 `app_key`, `sign`,
`timestamp` in milliseconds; 单推-通知栏消息 with `target_type` 2 = registration id, `target_value`,
`notification` with `title`, `content`, `click_action_type`, `action_parameters`, `app_message_id` -- OPPO's own
de-duplication id, set to the notification's id) and its table "调用地址，公共参数和返回码": 0 Success, -1 Service
Currently Unavailable and -2 Service in Flow Control (later), 11 Invalid AuthToken and 29 Missing Auth Token
(fetch a new token once), 13 App Call Limited and 55 App Call Frequency Limit (retry shortly), 33 the number of
messages exceeds the daily limit (retry in an hour). Business codes are 10000-20000, per endpoint; the unicast's
code for a registration id that is not (or no longer) valid is taken as 10000 (dropped) -- the unicast's own
code list was not reachable while this was written: check it before production. A code not known here fails
visibly (dead-lettered, requeueable)."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import msgspec

from push.senders.answer import Answer
from push.senders.base import Message, Outcome, retry_after, transient
from push.senders.vendor import BODY, TITLE, SignedTokenSender, TokenRefused, body_field, data_json

__all__ = ("OppoConfig", "OppoSender", "oppo_sign")

TOKEN_REFUSED = frozenset({"11", "29"})
INVALID_TOKENS = frozenset({"10000"})
QUOTA = frozenset({"33"})
TOO_FAST = frozenset({"13", "55"})
TRY_LATER = frozenset({"-1", "-2"})
TOKEN_LIFETIME = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class OppoConfig:
    """An app's OPPO PUSH AppKey and MasterSecret (never logged) and where to send."""

    app_key: str
    master_secret: str
    base_url: str = "https://api.push.oppomobile.com"

    def __repr__(self) -> str:
        return f"OppoConfig(app_key={self.app_key!r})"


def oppo_sign(app_key: str, timestamp: str, master_secret: str) -> str:
    """The auth request's signature: sha256 of AppKey, timestamp and MasterSecret, hex."""
    return hashlib.sha256(f"{app_key}{timestamp}{master_secret}".encode()).hexdigest()


class OppoSender(SignedTokenSender):
    """Sends id-only notification-bar messages to OPPO, OnePlus and realme phones."""

    channel = "oppo"
    code_field = "code"
    token_refused, invalid_tokens, quota = TOKEN_REFUSED, INVALID_TOKENS, QUOTA
    too_fast, try_later = TOO_FAST, TRY_LATER

    def __init__(self, config: OppoConfig, *, concurrency: int = 32, timeout: float = 10.0) -> None:
        self.config = config
        super().__init__(concurrency=concurrency, timeout=timeout)

    async def _fetch_token(self) -> tuple[str, float]:
        timestamp = str(int(time.time() * 1000))
        resp = await self._client.post(f"{self.config.base_url}/server/v1/auth", data={
            "app_key": self.config.app_key, "timestamp": timestamp,
            "sign": oppo_sign(self.config.app_key, timestamp, self.config.master_secret)})
        code = body_field(resp, "code")
        if resp.status_code == 200 and code == "0":
            return str(resp.json()["data"]["auth_token"]), TOKEN_LIFETIME
        raise TokenRefused(transient(resp, f"auth {code}") or Outcome(
            "retry" if code in TRY_LATER | TOO_FAST else "failed", resp.status_code, f"auth {code or resp.status_code}",
            retry_after(resp)))

    def message(self, token: str, message: Message) -> str:
        """The unicast `message` JSON: the registration id, a fixed notification, the id and kind as the action's
        parameters, and the notification's id as OPPO's de-duplication id."""
        return msgspec.json.encode({"target_type": 2, "target_value": token, "notification": {
            "title": TITLE, "content": BODY, "click_action_type": 0, "action_parameters": data_json(message),
            "app_message_id": message.id, "off_line": True, "off_line_ttl": 86400}}).decode()

    async def _request(self, auth: str, token: str, message: Message) -> Answer:
        return await self._sends.post(f"{self.config.base_url}/server/v1/message/notification/unicast",
                                      data={"auth_token": auth, "message": self.message(token, message)})
