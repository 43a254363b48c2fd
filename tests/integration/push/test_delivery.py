"""From the outbox to the citizen's inbox and phones: the done-when flow, id-only payloads, crash safety,
invalid tokens, retries in order per device."""

from __future__ import annotations

import asyncio
import time
import uuid

import msgspec

from push.fakes.server import Answer
from tests.helpers import citizen, item, key
from tests.integration.push.conftest import drain


async def _step(client, headers, cid, step, **fields):
    resp = await client.post(f"/api/v1/staff/complaints/{cid}/steps", headers=headers, json={"step": step, **fields})
    assert resp.status_code == 200, resp.text
    return resp.json()


async def _device(client, headers, channel, token=None):
    token = token or f"{channel}-{uuid.uuid4().hex}"
    platform = "ios" if channel == "apns" else "android"
    resp = await client.post("/api/v1/me/devices", headers=headers, json={
        "platform": platform, "channel": channel, "token": token, "appVersion": "1.4.0", "locale": "zh-CN"})
    assert resp.status_code in (200, 201), resp.text
    return token


async def _file(client, who):
    resp = await client.post("/api/v1/me/complaints", headers={**who, **key()}, json=item())
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def _for(fake, token):
    return [r for r in fake.requests if token in r.path or token in r.body.decode()]


async def test_closing_an_item_reaches_the_citizens_inbox_and_phones_within_a_second(
        client, staff, settings, providers, worker) -> None:
    me = await citizen(client, settings)
    apns_token = await _device(client, me, "apns")
    huawei_token = await _device(client, me, "huawei")
    cid = await _file(client, me)
    office = await staff("jinshan", "complaints_office")
    await _step(client, office, cid, "accept", template="accepted")
    await drain(worker)
    before = len(_for(providers["apns"], apns_token))

    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        closed_at = time.monotonic()
        await _step(client, office, cid, "close", disposition="已依法处理", template="closed")
        while len(_for(providers["apns"], apns_token)) == before or not _for(providers["huawei"], huawei_token):
            assert time.monotonic() - closed_at < 1.0, "no push within a second of the close"
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await running

    entries = (await client.get("/api/v1/me/inbox", headers=me)).json()["items"]
    closing = [e for e in entries if e["event"] == "complaint.close"]
    assert len(closing) == 1 and closing[0]["data"]["complaintId"] == cid and closing[0]["readAt"] is None
    # The push says there is a notification and which: its id and kind, nothing of the case.
    apns_req = _for(providers["apns"], apns_token)[-1]
    assert apns_req.http_version == "2"
    assert apns_req.headers["apns-push-type"] == "alert"
    assert apns_req.headers["apns-collapse-id"] == closing[0]["id"]
    body = apns_req.json()
    assert {k: v for k, v in body.items() if k != "aps"} == {"id": closing[0]["id"], "kind": "complaint.complainant"}
    assert "已依法处理" not in apns_req.body.decode() and cid not in apns_req.body.decode()
    hw = [r for r in _for(providers["huawei"], huawei_token) if closing[0]["id"] in r.body.decode()]
    assert len(hw) == 1
    assert hw[0].json()["message"]["token"] == [huawei_token]
    assert "已依法处理" not in hw[0].body.decode() and cid not in hw[0].body.decode()


async def test_a_crash_between_send_and_record_resends_with_the_same_id_and_never_doubles_the_inbox(
        client, staff, settings, providers, worker, conn) -> None:
    me = await citizen(client, settings)
    token = await _device(client, me, "apns")
    cid = await _file(client, me)
    await drain(worker)
    office = await staff("jinshan", "complaints_office")
    await _step(client, office, cid, "accept", template="accepted")
    await worker.fan_out()
    # The worker leases and sends, then dies before recording: the lease is all that is left.
    claimed = await worker.claim()
    details = await worker._details(claimed)
    mine = [c for c in claimed if details.get((c["notification_id"], c["device_id"])) is not None
            and details[(c["notification_id"], c["device_id"])]["token"] == token]
    assert len(mine) == 1
    await worker._send(mine[0], details)
    await conn.execute("update deliveries set leased_until = null where leased_until is not null"
                       " and id <> $1", mine[0]["id"])
    await worker._record([c for c in claimed if c["id"] != mine[0]["id"]],
                         [await worker._send(c, details) for c in claimed if c["id"] != mine[0]["id"]])
    # Fanning the same outbox row out again (as a crash before its commit would) adds nothing either.
    event_id = await conn.fetchval("select event_id from inbox where id = $1", mine[0]["notification_id"])
    await conn.execute("update outbox set delivered_at = null where id = $1", event_id)
    await conn.execute("update deliveries set leased_until = now() - interval '1 second' where id = $1",
                       mine[0]["id"])
    await drain(worker)

    sent = _for(providers["apns"], token)
    assert len(sent) == 2 and sent[0].headers["apns-collapse-id"] == sent[1].headers["apns-collapse-id"]
    entries = (await client.get("/api/v1/me/inbox", headers=me)).json()["items"]
    assert [e["id"] for e in entries if e["event"] == "complaint.accept"] == [sent[0].headers["apns-collapse-id"]]
    assert (await client.get("/api/v1/me/inbox/unread-count", headers=me)).json() == {"unread": len(entries)}


async def _accepted(client, staff, me):
    """File an item as the citizen and have the office accept it (which the citizen is told of)."""
    cid = await _file(client, me)
    await _step(client, await staff("jinshan", "complaints_office"), cid, "accept", template="accepted")
    return cid


async def test_unregistered_and_invalid_tokens_drop_the_device(client, staff, settings, providers, worker) -> None:
    me = await citizen(client, settings)
    gone = await _device(client, me, "apns")
    bad = await _device(client, me, "huawei")
    kept = await _device(client, me, "apns")
    providers["apns"].unregistered.add(gone)
    providers["huawei"].invalid_tokens.add(bad)
    await drain(worker)
    await _accepted(client, staff, me)
    await drain(worker)
    left = (await client.get("/api/v1/me/devices", headers=me)).json()
    assert len(left) == 1 and left[0]["channel"] == "apns"
    assert _for(providers["apns"], gone) and _for(providers["huawei"], bad) and providers["apns"].delivered
    assert any(kept in r.path for r in providers["apns"].delivered)


async def test_a_refused_oauth_token_is_fetched_again(client, staff, settings, providers, worker) -> None:
    me = await citizen(client, settings)
    token = await _device(client, me, "huawei")
    await drain(worker)
    providers["huawei"].expire_access_tokens()
    fetched = providers["huawei"].token_requests
    await _accepted(client, staff, me)
    await drain(worker)
    assert providers["huawei"].token_requests == fetched + 1
    assert [r for r in providers["huawei"].delivered if token in r.body.decode()]


async def test_a_503_with_retry_after_is_retried_and_the_device_gets_its_pushes_in_order(
        client, staff, settings, providers, worker) -> None:
    me = await citizen(client, settings)
    token = await _device(client, me, "apns")
    await drain(worker)
    await _accepted(client, staff, me)
    await _accepted(client, staff, me)
    await worker.fan_out()
    providers["apns"].script[:] = [Answer(503, {"reason": "ServiceUnavailable"}, retry_after=1),
                                   Answer(429, {"reason": "TooManyRequests"})]
    started = time.monotonic()
    await drain(worker)
    sent = _for(providers["apns"], token)
    delivered = [r for r in providers["apns"].delivered if token in r.path]
    entries = (await client.get("/api/v1/me/inbox", headers=me)).json()["items"]
    oldest_first = [e["id"] for e in reversed(entries)]
    assert [r.headers["apns-collapse-id"] for r in delivered] == oldest_first
    # The first send was refused twice and the second waited behind it: order per device is kept.
    assert len(sent) == len(oldest_first) + 2
    assert sent[0].headers["apns-collapse-id"] == sent[1].headers["apns-collapse-id"] == oldest_first[0]
    assert time.monotonic() - started >= 1.0


async def test_after_the_last_try_a_delivery_is_dead_and_an_admin_requeues_it(
        client, staff, settings, providers, worker) -> None:
    me = await citizen(client, settings)
    token = await _device(client, me, "apns")
    await drain(worker)
    cid = await _file(client, me)
    await drain(worker)
    providers["apns"].script[:] = [Answer(500, {"reason": "InternalServerError"})] * worker.config.max_attempts
    await _step(client, await staff("jinshan", "complaints_office"), cid, "accept", template="accepted")
    await drain(worker)
    admin = await staff("jinshan", "admin")
    dead = (await client.get("/api/v1/admin/deliveries", headers=admin, params={"state": "dead"})).json()["items"]
    assert dead and dead[0]["lastStatus"] == 500 and dead[0]["attempts"] == worker.config.max_attempts
    assert (await client.get("/api/v1/admin/deliveries", headers=admin, params={"state": "lost"})).status_code == 400
    other = await staff("chongming", "admin")
    assert (await client.post(f"/api/v1/admin/deliveries/{dead[0]['id']}/requeue", headers=other)).status_code == 404
    requeued = await client.post(f"/api/v1/admin/deliveries/{dead[0]['id']}/requeue", headers=admin)
    assert requeued.status_code == 200 and requeued.json()["state"] == "pending"
    await drain(worker)
    assert [r for r in providers["apns"].delivered if token in r.path]


async def test_a_failing_recipients_resolver_holds_back_only_its_own_event(client, staff, settings, conn,
                                                                        worker) -> None:
    from api.outbox import TOPICS, emit, register_recipients, register_topics

    if "test.push.broken" not in TOPICS:
        async def broken(_conn, _event):
            raise RuntimeError("resolver bug")
        register_topics({"test.push.broken": "A topic whose resolver fails (test only)."})
        register_recipients({"test.push.broken": broken})
    await emit(conn, "test.push.broken", {"n": 1})
    me = await citizen(client, settings)
    await _accepted(client, staff, me)
    await worker.fan_out()
    held = await conn.fetchrow("select delivered_at, available_at > now() as later, attempts from outbox"
                               " where topic = 'test.push.broken' order by id desc limit 1")
    assert held["delivered_at"] is None and held["later"] and held["attempts"] == 1
    await drain(worker)
    assert (await client.get("/api/v1/me/inbox/unread-count", headers=me)).json() == {"unread": 1}


async def test_fcm_gets_a_data_only_message_and_unregistered_drops_the_device(client, staff, settings, providers,
                                                                              worker) -> None:
    me = await citizen(client, settings)
    token = await _device(client, me, "fcm")
    gone = await _device(client, me, "fcm")
    providers["fcm"].unregistered.add(gone)
    await drain(worker)
    await _accepted(client, staff, me)
    await drain(worker)
    sent = [r for r in providers["fcm"].delivered if token in r.body.decode()]
    entry = (await client.get("/api/v1/me/inbox", headers=me)).json()["items"][0]
    assert len(sent) == 1
    message = sent[0].json()["message"]
    assert message["data"] == {"id": entry["id"], "kind": "complaint.complainant"}
    assert message["android"]["collapse_key"] == entry["id"] and "notification" not in message
    assert [d["channel"] for d in (await client.get("/api/v1/me/devices", headers=me)).json()] == ["fcm"]


async def test_web_push_is_encrypted_for_the_browser_and_a_gone_subscription_is_dropped(
        client, staff, settings, conn, providers, worker) -> None:
    me = await citizen(client, settings)
    # The API takes subscriptions only for the push services it allows (the fake's address is not one of them).
    fake_sub = providers["webpush"].subscribe()
    refused = await client.post("/api/v1/me/devices", headers=me, json={
        "platform": "web", "channel": "webpush", "token": fake_sub, "appVersion": "1", "locale": "zh-CN"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "token"
    not_json = await client.post("/api/v1/me/devices", headers=me, json={
        "platform": "web", "channel": "webpush", "token": "nope", "appVersion": "1", "locale": "zh-CN"})
    assert not_json.status_code == 422
    assert (await client.get("/api/v1/me/devices/webpush-key", headers=me)).status_code == 404
    user = (await client.get("/api/v1/auth/me", headers=me)).json()["sub"]
    gone = providers["webpush"].subscribe()
    await conn.executemany(
        "insert into push_devices (user_id, platform, channel, token, app_version, locale)"
        " values ($1::uuid, 'web', 'webpush', $2, '1', 'zh-CN')", [(user, fake_sub), (user, gone)])
    providers["webpush"].gone.add(msgspec.json.decode(gone)["endpoint"].rsplit("/", 1)[1])
    await drain(worker)
    await _accepted(client, staff, me)
    await drain(worker)
    entry = (await client.get("/api/v1/me/inbox", headers=me)).json()["items"][0]
    got = [m for m in providers["webpush"].messages if m["id"] == entry["id"]]
    assert got == [{"subscription": msgspec.json.decode(fake_sub)["endpoint"].rsplit("/", 1)[1],
                    "topic": entry["id"].replace("-", ""), "id": entry["id"], "kind": "complaint.complainant"}]
    assert len((await client.get("/api/v1/me/devices", headers=me)).json()) == 1


async def test_an_assignment_reaches_the_handler_once(client, staff, settings, conn, worker) -> None:
    me = await citizen(client, settings)
    cid = await _accepted(client, staff, me)
    office = await staff("jinshan", "complaints_office")
    assigned = await client.post(f"/api/v1/staff/complaints/{cid}/assignment", headers=office, json={"mode": "random"})
    assert assigned.status_code == 200, assigned.text
    await drain(worker)
    rows = await conn.fetch("select kind, event from inbox where user_id = $1::uuid and payload->>'complaintId' = $2",
                            assigned.json()["assigneeId"], cid)
    assert [(r["kind"]) for r in rows] == ["complaint.assigned"]
