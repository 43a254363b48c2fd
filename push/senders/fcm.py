"""Firebase Cloud Messaging HTTP v1, for phones outside the mainland: an OAuth 2.0 access token from a service
account (an RS256 JWT assertion), then `POST /v1/projects/{project}/messages:send` with a data-only message;
UNREGISTERED and an invalid token drop the device."""

from __future__ import annotations

import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from push.senders.answer import Answer
from push.senders.base import Message, OAuthSender, Outcome, retry_after, transient

__all__ = ("FcmConfig", "FcmSender")

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
TOKEN_URI = "https://oauth2.googleapis.com/token"
BASE_URL = "https://fcm.googleapis.com"


@dataclass(frozen=True, slots=True)
class FcmConfig:
    """A service account's key (never logged) and where to send."""

    project_id: str
    client_email: str
    private_key: str
    token_uri: str = TOKEN_URI
    base_url: str = BASE_URL

    def __repr__(self) -> str:
        return f"FcmConfig(project_id={self.project_id!r}, client_email={self.client_email!r})"

    @classmethod
    def from_service_account(cls, info: dict[str, Any], base_url: str | None = None) -> FcmConfig:
        """From the service account JSON an admin downloads."""
        return cls(project_id=info["project_id"], client_email=info["client_email"], private_key=info["private_key"],
                   token_uri=info.get("token_uri") or TOKEN_URI, base_url=base_url or BASE_URL)


def _error_code(resp: Answer) -> str:
    try:
        error = resp.json().get("error", {})
    except ValueError:
        return str(resp.status_code)
    for detail in error.get("details") or ():
        if isinstance(detail, dict) and detail.get("errorCode"):
            return str(detail["errorCode"])
    return str(error.get("status") or resp.status_code)


class FcmSender(OAuthSender):
    """Sends data-only messages (id and kind) through FCM HTTP v1."""

    channel = "fcm"

    def __init__(self, config: FcmConfig, *, concurrency: int = 32, timeout: float = 10.0) -> None:
        self.config = config
        super().__init__(concurrency=concurrency, timeout=timeout)

    def fetch_token(self) -> Awaitable[httpx.Response]:
        """A JWT bearer assertion signed with the service account's key."""
        now = int(time.time())
        assertion = jwt.encode({"iss": self.config.client_email, "scope": SCOPE, "aud": self.config.token_uri,
                                "iat": now, "exp": now + 3600}, self.config.private_key, algorithm="RS256")
        return self._client.post(self.config.token_uri, data={
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion})

    def request(self, token: str, message: Message) -> tuple[str, dict[str, Any]]:
        """A data-only message, collapsed by the notification id."""
        return f"{self.config.base_url}/v1/projects/{self.config.project_id}/messages:send", {"message": {
            "token": token, "data": {"id": message.id, "kind": message.kind},
            "android": {"priority": "high", "collapse_key": message.id}}}

    def outcome(self, resp: Answer) -> Outcome:
        """FCM's status and error code decide."""
        if resp.status_code == 200:
            return Outcome("sent", 200)
        code = _error_code(resp)
        if code in ("UNREGISTERED", "SENDER_ID_MISMATCH") or (code == "INVALID_ARGUMENT" and resp.status_code == 400
                                                               and "token" in resp.text.lower()):
            return Outcome("invalid", resp.status_code, code)
        if code in ("QUOTA_EXCEEDED", "UNAVAILABLE", "INTERNAL"):
            return Outcome("retry", resp.status_code, code, retry_after(resp))
        return transient(resp, code) or Outcome("failed", resp.status_code, code)
