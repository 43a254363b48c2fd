"""A local APNs: HTTP/2 only, checks the ES256 provider token and the headers APNs requires, answers as APNs
does (200 with apns-id; 400 BadDeviceToken; 403 ExpiredProviderToken; 410 Unregistered; 429; 503)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt

from push.fakes.server import ProviderFake, Recorded

__all__ = ("FakeApns",)


class FakeApns(ProviderFake):
    """The ASGI app; `requests` holds every request, `delivered` those taken, `script` the answers to come."""

    def __init__(self, public_key_pem: str, *, team_id: str, key_id: str, topic: str) -> None:
        super().__init__()
        self.public_key_pem, self.team_id, self.key_id, self.topic = public_key_pem, team_id, key_id, topic
        self.unregistered: set[str] = set()
        self.bad_tokens: set[str] = set()
        self.unavailable_until = 0.0
        self.expired_tokens: set[str] = set()
        self._verified: dict[str, dict[str, Any]] = {}

    def answer(self, rec: Recorded) -> tuple[int, dict[str, Any] | None, dict[str, str]]:
        """APNs' answer, with the apns-id header it always sends."""
        status, body, extra = self._answer(rec)
        return status, body, {**extra, "apns-id": rec.headers.get("apns-id") or str(uuid.uuid4()).upper()}

    def _answer(self, rec: Recorded) -> tuple[int, dict[str, Any] | None, dict[str, str]]:
        if rec.http_version != "2":
            # APNs answers nothing over HTTP/1.1; a client that tries gets a hard failure.
            return 505, {"reason": "HTTP2Required"}, {}
        if time.time() < self.unavailable_until:
            return 503, {"reason": "ServiceUnavailable"}, {"retry-after": "1"}
        if rec.method != "POST" or not rec.path.startswith("/3/device/"):
            return 405 if rec.method != "POST" else 404, {"reason": "BadPath"}, {}
        problem = self._auth_problem(rec.headers)
        if problem:
            return 403, {"reason": problem}, {}
        if rec.headers.get("apns-topic") != self.topic:
            return 400, {"reason": "BadTopic" if "apns-topic" in rec.headers else "MissingTopic"}, {}
        if rec.headers.get("apns-push-type") not in ("alert", "background"):
            return 400, {"reason": "InvalidPushType"}, {}
        if len(rec.headers.get("apns-collapse-id", "").encode()) > 64:
            return 400, {"reason": "BadCollapseId"}, {}
        token = rec.path.removeprefix("/3/device/")
        if token in self.unregistered:
            return 410, {"reason": "Unregistered", "timestamp": int(time.time() * 1000)}, {}
        if token in self.bad_tokens:
            return 400, {"reason": "BadDeviceToken"}, {}
        try:
            aps = rec.json()["aps"]
        except (ValueError, KeyError, TypeError):
            return 400, {"reason": "PayloadEmpty"}, {}
        if len(rec.body) > 4096 or not aps:
            return 413, {"reason": "PayloadTooLarge"}, {}
        return 200, None, {}

    def _auth_problem(self, headers: dict[str, str]) -> str | None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return "MissingProviderToken"
        if token in self.expired_tokens:
            return "ExpiredProviderToken"
        claims = self._verified.get(token)
        if claims is None:
            try:
                head = jwt.get_unverified_header(token)
                claims = jwt.decode(token, self.public_key_pem, algorithms=["ES256"], options={"verify_iat": False})
            except jwt.PyJWTError:
                return "InvalidProviderToken"
            claims = {**claims, "kid": head.get("kid")}
            self._verified[token] = claims
        if claims.get("kid") != self.key_id or claims.get("iss") != self.team_id:
            return "InvalidProviderToken"
        if time.time() - int(claims.get("iat", 0)) > 3600:
            return "ExpiredProviderToken"
        return None
