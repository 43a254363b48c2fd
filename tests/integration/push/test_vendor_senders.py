"""The Honor, Xiaomi, OPPO and vivo senders against their local fakes, one request at a time (signed auth, each
provider's own codes for invalid tokens, quotas and refused auth tokens, 429, 5xx, slow answers), and a complaint
closed by staff reaching a device on each of those channels with an id-only push."""

from __future__ import annotations

import urllib.parse
import uuid
from typing import Any

import msgspec
import pytest

from api.settings import Settings, SettingsError
from push.fakes.server import Answer, Recorded
from push.process import senders_from_settings
from push.senders.base import Message
from push.senders.honor import HonorConfig, HonorSender
from push.senders.oppo import OppoConfig, OppoSender
from push.senders.vendor import QUOTA_DELAY, notify_id
from push.senders.vivo import VivoConfig, VivoSender
from push.senders.xiaomi import XiaomiConfig, XiaomiSender
from tests.helpers import citizen, item, key
from tests.integration.push.conftest import drain

VENDORS = ("honor", "xiaomi", "oppo", "vivo")
# A refused auth token is fetched again once; Xiaomi has none (its AppSecret goes with every request).
WITH_TOKENS = ("honor", "oppo", "vivo")


def _message() -> Message:
    return Message(id=str(uuid.uuid4()), kind="complaint.complainant")


def _form(rec: Recorded) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(rec.body.decode()))


def _pushed(name: str, rec: Recorded) -> tuple[str, dict[str, Any], str]:
    """(device token, the data the app reads, the provider's replace/de-duplication id) of one recorded send."""
    if name == "honor":
        body = rec.json()
        return body["token"][0], msgspec.json.decode(body["data"]), str(body["android"]["notification"]["notifyId"])
    if name == "xiaomi":
        form = _form(rec)
        return form["registration_id"], msgspec.json.decode(form["payload"]), form["notify_id"]
    if name == "oppo":
        message = msgspec.json.decode(_form(rec)["message"])
        notification = message["notification"]
        return (message["target_value"], msgspec.json.decode(notification["action_parameters"]),
                notification["app_message_id"])
    body = rec.json()
    return body["regId"], body["clientCustomMap"], body["requestId"]


def _sent_to(fake: Any, name: str, token: str) -> list[Recorded]:
    out = []
    for rec in fake.requests:
        try:
            if _pushed(name, rec)[0] == token:
                out.append(rec)
        except (ValueError, KeyError, TypeError, msgspec.DecodeError):
            continue
    return out


@pytest.mark.parametrize("name", VENDORS)
async def test_a_send_carries_the_id_and_kind_only_and_replaces_by_the_notifications_id(providers, name) -> None:
    message, token = _message(), f"{name}-{uuid.uuid4().hex}"
    outcome = await providers["senders"][name].send(token, message)
    assert outcome.result == "sent" and outcome.status == 200
    [rec] = _sent_to(providers[name], name, token)
    _, data, replace_id = _pushed(name, rec)
    assert data == {"id": message.id, "kind": message.kind}
    # Notify ids are numbers on Honor and Xiaomi; OPPO and vivo take the notification's id itself.
    assert replace_id == (str(notify_id(message)) if name in ("honor", "xiaomi") else message.id)
    again = await providers["senders"][name].send(token, message)
    assert again.result == "sent" and _pushed(name, _sent_to(providers[name], name, token)[1])[2] == replace_id


async def test_each_provider_sees_its_own_auth_scheme(providers) -> None:
    token = f"auth-{uuid.uuid4().hex}"
    for name in VENDORS:
        assert (await providers["senders"][name].send(token, _message())).result == "sent"
    honor = _sent_to(providers["honor"], "honor", token)[0]
    assert honor.headers["authorization"].startswith("Bearer ") and honor.headers["timestamp"].isdigit()
    xiaomi = _sent_to(providers["xiaomi"], "xiaomi", token)[0]
    assert xiaomi.headers["authorization"] == "key=mi-secret"
    assert xiaomi.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert _form(_sent_to(providers["oppo"], "oppo", token)[0])["auth_token"]
    assert _sent_to(providers["vivo"], "vivo", token)[0].headers["authtoken"]


async def test_wrong_credentials_are_refused_by_the_fakes_and_the_send_fails_visibly(providers) -> None:
    # The fakes check the signatures: a sender with the wrong secret gets nothing through.
    wrong = [
        HonorSender(HonorConfig(app_id="104400123", client_id="honor-client", client_secret="nope",
                                token_url=providers["senders"]["honor"].config.token_url,
                                push_url=providers["senders"]["honor"].config.push_url)),
        XiaomiSender(XiaomiConfig(app_secret="nope", package="cn.jianwu.app",
                                  base_url=providers["senders"]["xiaomi"].config.base_url)),
        OppoSender(OppoConfig(app_key="oppo-key", master_secret="nope",
                              base_url=providers["senders"]["oppo"].config.base_url)),
        VivoSender(VivoConfig(app_id="10004", app_key="vivo-key", app_secret="nope",
                              base_url=providers["senders"]["vivo"].config.base_url)),
    ]
    try:
        for sender in wrong:
            outcome = await sender.send("some-device", _message())
            assert outcome.result == "failed", (sender.channel, outcome)
    finally:
        for sender in wrong:
            await sender.aclose()
    for name in VENDORS:
        assert not [r for r in providers[name].delivered if "some-device" in r.body.decode()], name


@pytest.mark.parametrize("name", VENDORS)
async def test_an_invalid_token_answer_means_the_device_is_dropped(providers, name) -> None:
    token = f"gone-{uuid.uuid4().hex}"
    providers[name].invalid_tokens.add(token)
    outcome = await providers["senders"][name].send(token, _message())
    expected = {"honor": "80300007", "xiaomi": "20301", "oppo": "10000", "vivo": "10302"}[name]
    assert outcome.result == "invalid" and outcome.error == expected


@pytest.mark.parametrize("name", VENDORS)
async def test_a_quota_answer_is_retried_later(providers, name) -> None:
    providers[name].quota_exhausted = True
    try:
        outcome = await providers["senders"][name].send(f"q-{uuid.uuid4().hex}", _message())
    finally:
        providers[name].quota_exhausted = False
    assert outcome.result == "retry"
    # Honor's flow control says how long (Retry-After); the others' daily quotas: an hour.
    assert outcome.retry_after == (60.0 if name == "honor" else QUOTA_DELAY)


@pytest.mark.parametrize("name", WITH_TOKENS)
async def test_an_expired_auth_token_is_fetched_again_once_and_the_send_goes_through(providers, name) -> None:
    token = f"renew-{uuid.uuid4().hex}"
    sender, fake = providers["senders"][name], providers[name]
    assert (await sender.send(f"warm-{uuid.uuid4().hex}", _message())).result == "sent"
    fake.expire_access_tokens()
    fetched = fake.token_requests
    outcome = await sender.send(token, _message())
    assert outcome.result == "sent" and fake.token_requests == fetched + 1
    assert len(_sent_to(fake, name, token)) == 2


@pytest.mark.parametrize("name", VENDORS)
async def test_429_with_retry_after_and_5xx_are_transient(providers, name) -> None:
    sender, fake = providers["senders"][name], providers[name]
    await sender.send(f"warm-{uuid.uuid4().hex}", _message())  # an auth token first, so the script hits the send
    fake.script.append(Answer(429, {}, retry_after=7))
    outcome = await sender.send(f"busy-{uuid.uuid4().hex}", _message())
    assert outcome.result == "retry" and outcome.status == 429 and outcome.retry_after == 7.0
    fake.script.append(Answer(503, {}))
    outcome = await sender.send(f"down-{uuid.uuid4().hex}", _message())
    assert outcome.result == "retry" and outcome.status == 503


@pytest.mark.parametrize("name", VENDORS)
async def test_a_slow_answer_is_given_up_on_and_retried(providers, name) -> None:
    config = providers["senders"][name].config
    sender = {"honor": HonorSender, "xiaomi": XiaomiSender, "oppo": OppoSender, "vivo": VivoSender}[name](
        config, timeout=0.3)  # type: ignore[arg-type]
    fake = providers[name]
    try:
        await sender.send(f"warm-{uuid.uuid4().hex}", _message())
        fake.delay = 1.0
        outcome = await sender.send(f"slow-{uuid.uuid4().hex}", _message())
    finally:
        fake.delay = 0.0
        await sender.aclose()
    assert outcome.result == "retry" and outcome.status is None and "Timeout" in (outcome.error or "")


async def test_a_complaint_closed_by_staff_reaches_a_device_on_each_vendor_channel(
        client, staff, settings, providers, worker) -> None:
    me = await citizen(client, settings)
    tokens, stale = {}, {}
    for name in VENDORS:
        tokens[name], stale[name] = f"{name}-{uuid.uuid4().hex}", f"{name}-stale-{uuid.uuid4().hex}"
        # An app reinstalled long ago left a token the provider no longer knows: the first answer drops it.
        providers[name].invalid_tokens.add(stale[name])
        for token in (tokens[name], stale[name]):
            resp = await client.post("/api/v1/me/devices", headers=me, json={
                "platform": "android", "channel": name, "token": token, "appVersion": "1.4.0", "locale": "zh-CN"})
            assert resp.status_code in (200, 201), resp.text
    devices = (await client.get("/api/v1/me/devices", headers=me)).json()
    assert sorted(d["channel"] for d in devices) == sorted(VENDORS * 2)
    filed = await client.post("/api/v1/me/complaints", headers={**me, **key()}, json=item())
    assert filed.status_code == 201, filed.text
    cid = filed.json()["id"]
    office = await staff("jinshan", "complaints_office")
    for step in ({"step": "accept", "template": "accepted"},
                 {"step": "close", "disposition": "已依法处理", "template": "closed"}):
        resp = await client.post(f"/api/v1/staff/complaints/{cid}/steps", headers=office, json=step)
        assert resp.status_code == 200, resp.text
    await drain(worker)

    entries = (await client.get("/api/v1/me/inbox", headers=me)).json()["items"]
    [closing] = [e for e in entries if e["event"] == "complaint.close"]
    for name in VENDORS:
        pushes = [r for r in _sent_to(providers[name], name, tokens[name])
                  if _pushed(name, r)[1]["id"] == closing["id"]]
        assert len(pushes) == 1, name
        assert _pushed(name, pushes[0])[1] == {"id": closing["id"], "kind": "complaint.complainant"}
        raw = pushes[0].body.decode()
        assert "已依法处理" not in urllib.parse.unquote(raw) and cid not in raw, name
        assert pushes[0] in providers[name].delivered
    # The stale token of each channel was tried once and its device dropped; the live ones stay.
    left = (await client.get("/api/v1/me/devices", headers=me)).json()
    assert sorted(d["channel"] for d in left) == sorted(VENDORS)
    for name in VENDORS:
        assert len(_sent_to(providers[name], name, stale[name])) == 1, name


VENDOR_ENV = {
    "JIANWU_HONOR_APP_ID": "104400123", "JIANWU_HONOR_CLIENT_ID": "honor-client",
    "JIANWU_HONOR_CLIENT_SECRET": "honor-s3cret", "JIANWU_XIAOMI_APP_SECRET": "mi-s3cret",
    "JIANWU_XIAOMI_PACKAGE": "cn.jianwu.app", "JIANWU_OPPO_APP_KEY": "oppo-key",
    "JIANWU_OPPO_MASTER_SECRET": "oppo-s3cret",
    "JIANWU_VIVO_APP_ID": "10004", "JIANWU_VIVO_APP_KEY": "vivo-key", "JIANWU_VIVO_APP_SECRET": "vivo-s3cret",
}


@pytest.mark.parametrize("missing", ["JIANWU_HONOR_CLIENT_SECRET", "JIANWU_XIAOMI_PACKAGE",
                                     "JIANWU_OPPO_MASTER_SECRET", "JIANWU_VIVO_APP_KEY"])
def test_half_configured_vendor_credentials_stop_the_start(missing) -> None:
    env = {k: v for k, v in VENDOR_ENV.items() if k != missing}
    with pytest.raises(SettingsError, match=missing.split("_")[1]):
        Settings.from_env(env)


async def test_configured_vendors_get_a_sender_each_whose_config_never_shows_its_secret() -> None:
    senders = senders_from_settings(Settings.from_env(VENDOR_ENV))
    try:
        assert sorted(senders) == sorted(VENDORS)
        for sender in senders.values():
            assert "s3cret" not in repr(sender.config)  # type: ignore[attr-defined]
    finally:
        for sender in senders.values():
            await sender.aclose()
