"""A local Xiaomi MiPush: form-encoded `/v3/message/regid` with `Authorization: key=<AppSecret>`, answering as
MiPush does (`result` ok and code 0; 20301 invalid registration id; 21301 authentication failed; 22103 daily quota
used up when `quota_exhausted`)."""

from __future__ import annotations

import secrets
import urllib.parse
from typing import Any

from push.fakes.server import ProviderFake, Recorded

__all__ = ("FakeXiaomi",)

REQUIRED = ("registration_id", "restricted_package_name", "title", "description", "payload")


def _error(code: int, reason: str) -> dict[str, Any]:
    return {"result": "error", "code": code, "reason": reason, "description": reason,
            "trace_id": secrets.token_hex(12)}


class FakeXiaomi(ProviderFake):
    """The ASGI app: /v3/message/regid."""

    def __init__(self, *, app_secret: str, package: str) -> None:
        super().__init__()
        self.app_secret, self.package = app_secret, package
        self.invalid_tokens: set[str] = set()
        self.quota_exhausted = False

    def accepted(self, status: int, answer: dict[str, Any] | None) -> bool:
        """MiPush took it when its code is 0."""
        return status == 200 and bool(answer) and answer.get("code") == 0  # type: ignore[union-attr]  # bool(answer) is checked first: answer is a dict here

    def answer(self, rec: Recorded) -> tuple[int, dict[str, Any] | None, dict[str, str]]:
        """MiPush's answer to a send by registration id."""
        if rec.method != "POST" or rec.path != "/v3/message/regid":
            return 404, None, {}
        if not secrets.compare_digest(rec.headers.get("authorization", ""), f"key={self.app_secret}"):
            return 200, _error(21301, "Authentication failed"), {}
        if not rec.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return 200, _error(10017, "Invalid arguments"), {}
        form = dict(urllib.parse.parse_qsl(rec.body.decode()))
        if any(not form.get(k) for k in REQUIRED) or form["restricted_package_name"] != self.package:
            return 200, _error(10017, "Invalid arguments"), {}
        if self.quota_exhausted:
            return 200, _error(22103, "The app's daily quota is used up"), {}
        if form["registration_id"] in self.invalid_tokens:
            return 200, _error(20301, "Invalid regids"), {}
        return 200, {"result": "ok", "code": 0, "description": "成功", "info": "Received push messages for 1 REGID",
                     "data": {"id": f"slm{secrets.token_hex(10)}"}, "trace_id": secrets.token_hex(12)}, {}
