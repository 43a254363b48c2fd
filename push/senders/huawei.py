"""Huawei Push Kit: an OAuth 2.0 client-credentials access token (renewed before it expires, or when refused),
then `POST /v1/{appId}/messages:send`; its result codes say which tokens are invalid (the device is dropped)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import msgspec

from push.senders.base import AccessToken, Message, Outcome, retry_after, transient

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


class HuaweiSender:
    """Sends id-only notification messages to Huawei and HarmonyOS phones."""

    channel = "huawei"

    def __init__(self, config: HuaweiConfig, *, concurrency: int = 32, timeout: float = 10.0) -> None:
        self.config = config
        self.concurrency = concurrency
        # As many connections as requests in flight: httpcore's pool slows down sharply with requests queued on it.
        self._client = httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(
            max_connections=concurrency, max_keepalive_connections=concurrency))
        self.token = AccessToken(lambda: self._client.post(self.config.token_url, data={
            "grant_type": "client_credentials", "client_id": self.config.app_id,
            "client_secret": self.config.client_secret}))

    async def send(self, token: str, message: Message) -> Outcome:
        """One notification message to one device token."""
        outcome = await self._post(token, message, renew=False)
        if outcome.error in AUTH_FAILED:
            outcome = await self._post(token, message, renew=True)
        return outcome

    async def _post(self, token: str, message: Message, *, renew: bool) -> Outcome:
        body = {"validate_only": False, "message": {
            "data": msgspec.json.encode({"id": message.id, "kind": message.kind}).decode(),
            "android": {"urgency": "HIGH", "notification": {
                "title": "检务", "body": "您有一条新通知", "tag": message.id, "click_action": {"type": 3}}},
            "token": [token]}}
        try:
            access = await self.token.get(renew=renew)
            resp = await self._client.post(f"{self.config.push_url}/v1/{self.config.app_id}/messages:send",
                                           json=body, headers={"Authorization": f"Bearer {access}"})
        except httpx.HTTPStatusError as exc:
            return transient(exc.response, "oauth") or Outcome("failed", exc.response.status_code, "oauth refused")
        except httpx.HTTPError as exc:
            return Outcome("retry", None, type(exc).__name__)
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

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
