"""Posts one partner event to the partner's endpoint, signed per Standard Webhooks, at an address the
allow-list permits (the connection goes to the address that was checked, so DNS cannot swap it afterwards)."""

from __future__ import annotations

import time
import urllib.parse
from typing import Any

import httpx
import msgspec

from push import signing
from push.senders.base import Outcome, retry_after
from push.targets import TargetRefused, resolve

__all__ = ("WebhookSender", "event_body")


def event_body(kind: str, created_at: Any, payload: dict[str, Any]) -> bytes:
    """The JSON a partner receives: the Standard Webhooks envelope (type, timestamp, data)."""
    return msgspec.json.encode({"type": kind, "timestamp": created_at, "data": payload})


class WebhookSender:
    """Delivers to partners' endpoints; any answer but 2xx is tried again later."""

    channel = "webhook"

    def __init__(self, *, concurrency: int = 50, timeout: float = 15.0) -> None:
        self.concurrency = concurrency
        # No redirects: a 30x to an internal address would walk around the allow-list.
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False)

    async def send(self, *, url: str, allowed: list[str], secrets_in_force: list[str], msg_id: str,
                   body: bytes) -> Outcome:
        """POST one signed event."""
        try:
            target = await resolve(url, allowed)
        except TargetRefused as exc:
            return Outcome("failed", None, str(exc))
        parts = urllib.parse.urlsplit(url)
        literal = f"[{target.address}]" if ":" in target.address else target.address
        pinned = parts._replace(netloc=f"{literal}:{target.port}").geturl()
        headers = signing.headers(secrets_in_force, msg_id, int(time.time()), body)
        headers["host"] = parts.netloc.rpartition("@")[2]
        try:
            resp = await self._client.post(pinned, content=body, headers=headers,
                                           extensions={"sni_hostname": target.host})
        except httpx.HTTPError as exc:
            return Outcome("retry", None, type(exc).__name__)
        if 200 <= resp.status_code < 300:
            return Outcome("sent", resp.status_code)
        return Outcome("retry", resp.status_code, f"endpoint answered {resp.status_code}", retry_after(resp))

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
