"""Huawei Push Kit: an OAuth 2.0 client-credentials access token (renewed before it expires, or when refused),
then `POST /v1/{appId}/messages:send`; its result codes say which tokens are invalid (the device is dropped)."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec

from push.senders.answer import Answer
from push.senders.base import Message, OAuthSender, Outcome, retry_after, transient

__all__ = ("HuaweiConfig", "HuaweiSender")

SUCCESS = "80000000"
# 80100000: some tokens invalid (the answer lists them); 80300007: every token invalid.
INVALID_TOKENS = frozenset({"80100000", "80300007"})
# The access token expired or was not accepted: fetch a new one and send again.
AUTH_FAILED = frozenset({"80200001", "80200003"})
# Flow control or Push Kit's own trouble: later.
TRY_LATER = frozenset({"80300002", "80300010", "81000001"})


@dataclass(frozen=True, slots=True)
class HuaweiConfig:
    """An app's Push Kit credentials (the secret never logged) and where to send."""

    app_id: str
    client_secret: str
    token_url: str = "https://oauth-login.cloud.huawei.com/oauth2/v3/token"
    push_url: str = "https://push-api.cloud.huawei.com"

    def __repr__(self) -> str:
        return f"HuaweiConfig(app_id={self.app_id!r})"


class HuaweiSender(OAuthSender):
    """Sends id-only notification messages to Huawei and HarmonyOS phones."""

    channel = "huawei"

    def __init__(self, config: HuaweiConfig, *, concurrency: int = 32, timeout: float = 10.0) -> None:
        self.config = config
        super().__init__(concurrency=concurrency, timeout=timeout)

    def fetch_token(self) -> Awaitable[httpx.Response]:
        """Client credentials at Huawei's OAuth endpoint."""
        return self._client.post(self.config.token_url, data={
            "grant_type": "client_credentials", "client_id": self.config.app_id,
            "client_secret": self.config.client_secret})

    def request(self, token: str, message: Message) -> tuple[str, dict[str, Any]]:
        """A notification message ("you have a new notification") carrying the id and kind as data."""
        return f"{self.config.push_url}/v1/{self.config.app_id}/messages:send", {"validate_only": False, "message": {
            "data": msgspec.json.encode({"id": message.id, "kind": message.kind}).decode(),
            "android": {"urgency": "HIGH", "notification": {
                "title": "检务", "body": "您有一条新通知", "tag": message.id, "click_action": {"type": 3}}},
            "token": [token]}}

    def token_refused(self, outcome: Outcome) -> bool:
        """Push Kit says so with its own codes."""
        return outcome.error in AUTH_FAILED

    def outcome(self, resp: Answer) -> Outcome:
        """Push Kit's result code decides."""
        try:
            code = str(resp.json().get("code", ""))
        except ValueError:
            code = ""
        if resp.status_code == 200 and code == SUCCESS:
            return Outcome("sent", 200)
        if code in INVALID_TOKENS:
            return Outcome("invalid", resp.status_code, code)
        if code in AUTH_FAILED:
            return Outcome("failed", resp.status_code, code)
        if code in TRY_LATER:
            return Outcome("retry", resp.status_code, code, retry_after(resp))
        return transient(resp, code or str(resp.status_code)) or Outcome("failed", resp.status_code, code)
