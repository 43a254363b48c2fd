"""Senders against the fakes, one request at a time: provider tokens renewed, HTTP/2 required, Retry-After read."""

from __future__ import annotations

import httpx

from push.fakes.server import Answer
from push.senders import apns as apns_module
from push.senders.base import Message


async def test_apns_renews_its_provider_token_before_the_hour_and_when_refused(providers, monkeypatch) -> None:
    sender = providers["senders"]["apns"]
    first = sender.provider_token()
    assert sender.provider_token() == first
    # 50 minutes on, the token is signed anew (APNs refuses one older than an hour).
    later = apns_module.time.time() + apns_module.TOKEN_LIFETIME + 1
    monkeypatch.setattr(apns_module.time, "time", lambda: later)
    second = sender.provider_token()
    assert second != first
    monkeypatch.undo()
    # APNs says the token expired: one new token, one more try, sent.
    providers["apns"].expired_tokens.add(sender.provider_token())
    outcome = await sender.send("renew-token-device", Message(id="0b7c1f4e-0000-4000-8000-000000000001", kind="k"))
    assert outcome.result == "sent"
    tried = [r for r in providers["apns"].requests if r.path.endswith("/renew-token-device")]
    assert len(tried) == 2 and tried[0].headers["authorization"] != tried[1].headers["authorization"]


async def test_the_apns_fake_speaks_http2_only(providers) -> None:
    base = providers["senders"]["apns"]._client.base_url
    async with httpx.AsyncClient() as http1:
        resp = await http1.post(f"{base}/3/device/abc", content=b"{}")
    assert resp.status_code == 505 and resp.json()["reason"] == "HTTP2Required"


async def test_retry_after_from_a_provider_is_kept(providers) -> None:
    providers["huawei"].script.append(Answer(503, {"code": "81000001", "msg": "busy"}, retry_after=7))
    outcome = await providers["senders"]["huawei"].send("busy-device", Message(id="x", kind="k"))
    assert outcome.result == "retry" and outcome.retry_after == 7.0 and outcome.status == 503
    providers["apns"].script.append(Answer(429, {"reason": "TooManyRequests"}, retry_after=3))
    outcome = await providers["senders"]["apns"].send("busy-device", Message(id="x", kind="k"))
    assert outcome.result == "retry" and outcome.retry_after == 3.0
