"""Honor Push (荣耀推送): an OAuth 2.0 client-credentials access token from Honor's IAM service, then
`POST /api/v1/{appId}/sendMessage` with `Authorization: Bearer` and a `timestamp` header (milliseconds).

Followed: Honor's server guide "发送下行消息" (developer.honor.com, docs 11002: 获取鉴权接口 with
grant_type=client_credentials, client_id, client_secret; 下行消息接口 with `token`, `data`,
`android.notification` with `clickAction`, `notifyId`) as Honor republished it on its developer blogs (2023-11),
and the request shapes of public Honor server clients. Success is body `code` 200, as public Honor clients
check it. Honor's own table of response codes (下行消息响应码) was not reachable while this was written; the
error codes used are Push Kit's, from which Honor's service derives: 80300007 every token invalid, 80100000 some
invalid (one token here, so: invalid), 80200001/80200003 the OAuth token refused or expired (fetched again
once), 81000001 the service's own trouble; flow control as HTTP 429 (or 503) with Retry-After. Check them against
Honor's table before production; a code not known here fails visibly (dead-lettered, requeueable)."""

from __future__ import annotations

import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import httpx

from push.senders.answer import Answer
from push.senders.base import Message, OAuthSender, Outcome, retry_after, transient
from push.senders.vendor import BODY, RATE_DELAY, TITLE, body_field, data_json, notify_id

__all__ = ("HonorConfig", "HonorSender")

SUCCESS = "200"
INVALID_TOKENS = frozenset({"80300007", "80100000"})
AUTH_FAILED = frozenset({"80200001", "80200003"})
TRY_LATER = frozenset({"81000001"})


@dataclass(frozen=True, slots=True)
class HonorConfig:
    """An app's Honor Push credentials (the client secret never logged) and where to send."""

    app_id: str
    client_id: str
    client_secret: str
    token_url: str = "https://iam.developer.honor.com/auth/token"
    push_url: str = "https://push-api.cloud.honor.com"

    def __repr__(self) -> str:
        return f"HonorConfig(app_id={self.app_id!r}, client_id={self.client_id!r})"


class HonorSender(OAuthSender):
    """Sends id-only notification messages to Honor phones (MagicOS)."""

    channel = "honor"

    def __init__(self, config: HonorConfig, *, concurrency: int = 32, timeout: float = 10.0) -> None:
        self.config = config
        super().__init__(concurrency=concurrency, timeout=timeout)

    def fetch_token(self) -> Awaitable[httpx.Response]:
        """Client credentials at Honor's IAM token endpoint."""
        return self._client.post(self.config.token_url, data={
            "grant_type": "client_credentials", "client_id": self.config.client_id,
            "client_secret": self.config.client_secret})

    def headers(self) -> dict[str, str]:
        """Honor wants the send's time in milliseconds."""
        return {"timestamp": str(int(time.time() * 1000))}

    def request(self, token: str, message: Message) -> tuple[str, dict[str, Any]]:
        """A notification ("you have a new notification") carrying the id and kind as data; the notify id from
        the notification's id, so a resend replaces what the phone shows."""
        return f"{self.config.push_url}/api/v1/{self.config.app_id}/sendMessage", {
            "data": data_json(message),
            "android": {"notification": {"title": TITLE, "body": BODY, "clickAction": {"type": 3},
                                         "notifyId": notify_id(message)}},
            "token": [token]}

    def token_refused(self, outcome: Outcome) -> bool:
        """Honor says so with its codes (or a plain 401)."""
        return outcome.error in AUTH_FAILED or outcome.status == 401

    def outcome(self, resp: Answer) -> Outcome:
        """Honor's result code decides."""
        code = body_field(resp, "code")
        if resp.status_code == 200 and code == SUCCESS:
            return Outcome("sent", 200)
        if code in INVALID_TOKENS:
            return Outcome("invalid", resp.status_code, code)
        if code in AUTH_FAILED or resp.status_code == 401:
            return Outcome("failed", resp.status_code, code or "401")
        if resp.status_code == 429:
            return Outcome("retry", 429, code or "429", retry_after(resp) or RATE_DELAY)
        if code in TRY_LATER:
            return Outcome("retry", resp.status_code, code, retry_after(resp))
        return transient(resp, code or str(resp.status_code)) or Outcome("failed", resp.status_code, code)
