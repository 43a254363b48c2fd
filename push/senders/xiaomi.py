"""Xiaomi MiPush (小米推送): no token exchange; each send is a form-encoded `POST /v3/message/regid` with
`Authorization: key=<AppSecret>`.

Followed: Xiaomi's server API "服务端 HTTP API" (dev.mi.com, pId=1163/230: `registration_id`,
`restricted_package_name`, `pass_through`, `title`, `description`, `payload`, `notify_type`, `notify_id`,
`time_to_live`, `extra.notify_effect`), and public MiPush server clients for the answers: `{"result": "ok",
"code": 0, ...}` on success, `{"result": "error", "code": N, "reason": ...}` otherwise. Mapped: 20301 the
registration id is invalid (device dropped; public clients agree on it); 21301 authentication failed (the
AppSecret is wrong: nothing to refresh, so failed and visible). The quota and rate codes -- 22103 the daily quota
used up (retry in an hour), 10016/22104 sending too fast (retry shortly) -- could not be confirmed from a public
source while this was written: check them against Xiaomi's error table before relying on them. Any code not
known here fails visibly (dead-lettered, requeueable by an admin) rather than being retried blindly; 429 and 5xx
are transient."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from push.senders.answer import Answer
from push.senders.base import Message, Outcome, retry_after, transient
from push.senders.h1client import H1Client
from push.senders.vendor import BODY, QUOTA_DELAY, RATE_DELAY, TITLE, data_json, notify_id

__all__ = ("XiaomiConfig", "XiaomiSender")

INVALID_TOKENS = frozenset({"20301"})
AUTH_FAILED = frozenset({"21301"})
QUOTA = frozenset({"22103"})
TOO_FAST = frozenset({"10016", "22104"})
# A day: the notification is still worth showing; older ones are not.
TIME_TO_LIVE_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class XiaomiConfig:
    """An app's MiPush AppSecret (never logged), its package name, and where to send."""

    app_secret: str
    package: str
    base_url: str = "https://api.xmpush.xiaomi.com"

    def __repr__(self) -> str:
        return f"XiaomiConfig(package={self.package!r})"


class XiaomiSender:
    """Sends id-only notification messages to Xiaomi phones (HyperOS/MIUI)."""

    channel = "xiaomi"

    def __init__(self, config: XiaomiConfig, *, concurrency: int = 32, timeout: float = 10.0) -> None:
        self.config = config
        self.concurrency = concurrency
        self._client = H1Client(timeout=timeout, max_connections=concurrency)

    def form(self, token: str, message: Message) -> dict[str, str]:
        """A notification-bar message carrying the id and kind as payload, the notify id from the notification's
        id (a resend replaces what the phone shows)."""
        return {"registration_id": token, "restricted_package_name": self.config.package, "pass_through": "0",
                "title": TITLE, "description": BODY, "payload": data_json(message), "notify_type": "-1",
                "notify_id": str(notify_id(message)), "time_to_live": str(TIME_TO_LIVE_MS),
                "extra.notify_effect": "1"}

    async def send(self, token: str, message: Message) -> Outcome:
        """One message to one registration id."""
        try:
            resp = await self._client.post(f"{self.config.base_url}/v3/message/regid", data=self.form(token, message),
                                           headers={"Authorization": f"key={self.config.app_secret}"})
        except httpx.HTTPError as exc:
            return Outcome("retry", None, type(exc).__name__)
        return self.outcome(resp)

    def outcome(self, resp: Answer) -> Outcome:
        """MiPush's result and code decide."""
        try:
            answer = resp.json()
            code, result = str(answer.get("code", "")), str(answer.get("result", ""))
        except (ValueError, AttributeError):
            code, result = "", ""
        if resp.status_code == 200 and code == "0" and result == "ok":
            return Outcome("sent", 200)
        if code in INVALID_TOKENS:
            return Outcome("invalid", resp.status_code, code)
        if code in AUTH_FAILED:
            return Outcome("failed", resp.status_code, code)
        if code in QUOTA:
            return Outcome("retry", resp.status_code, code, QUOTA_DELAY)
        if code in TOO_FAST or resp.status_code == 429:
            return Outcome("retry", resp.status_code, code or "429", retry_after(resp) or RATE_DELAY)
        return transient(resp, code or str(resp.status_code)) or Outcome("failed", resp.status_code,
                                                                         code or str(resp.status_code))

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
