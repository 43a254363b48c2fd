"""Devices and the inbox over HTTP: several devices per account, a token changing hands, sign-out, the inbox
list, unread count, marking read, preferences and quiet hours."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, time

from push.inbox import push_due
from tests.helpers import bearer, citizen, item, key, partner_token, token_for
from tests.integration.push.conftest import drain


def _device(channel: str = "huawei", token: str | None = None) -> dict[str, str]:
    return {"platform": "ios" if channel == "apns" else "android", "channel": channel,
            "token": token or f"t-{uuid.uuid4().hex}", "appVersion": "2.0.1", "locale": "zh-CN"}


async def test_several_devices_a_token_changing_hands_and_sign_out(client, settings) -> None:
    first = await token_for(client, "jinshan.prosecutor")
    second = await token_for(client, "jinshan.prosecutor")
    deputy = bearer(await token_for(client, "jinshan.deputy", client_id="representative-app"))
    shared = f"t-{uuid.uuid4().hex}"
    made = await client.post("/api/v1/me/devices", headers=bearer(first), json=_device("apns", shared))
    assert made.status_code == 201 and "token" not in made.json()
    again = await client.post("/api/v1/me/devices", headers=bearer(first), json=_device("apns", shared))
    assert again.status_code == 200 and again.json()["id"] == made.json()["id"]
    assert (await client.post("/api/v1/me/devices", headers=bearer(second), json=_device())).status_code == 201
    mine = (await client.get("/api/v1/me/devices", headers=bearer(first))).json()
    assert len([d for d in mine if d["appVersion"] == "2.0.1"]) >= 2

    # The phone now belongs to the deputy: it leaves the prosecutor's list.
    moved = await client.post("/api/v1/me/devices", headers=deputy, json=_device("apns", shared))
    assert moved.status_code == 201
    assert made.json()["id"] not in [d["id"] for d in (await client.get("/api/v1/me/devices",
                                                                         headers=bearer(first))).json()]
    assert [d["id"] for d in (await client.get("/api/v1/me/devices", headers=deputy)).json()] == [moved.json()["id"]]
    # Someone else's device is not there to delete.
    gone = await client.delete(f"/api/v1/me/devices/{moved.json()['id']}", headers=bearer(first))
    assert gone.status_code == 404

    # Signing one session out drops the devices it registered, not the other session's.
    kept = (await client.post("/api/v1/me/devices", headers=bearer(first), json=_device())).json()["id"]
    other = (await client.post("/api/v1/me/devices", headers=bearer(second), json=_device())).json()["id"]
    assert (await client.post("/api/v1/auth/logout", headers=bearer(first))).status_code == 204
    third = await token_for(client, "jinshan.prosecutor")
    left = [d["id"] for d in (await client.get("/api/v1/me/devices", headers=bearer(third))).json()]
    assert other in left and kept not in left
    # Signing out everywhere (an admin revoking the sessions) drops them all.
    admin = bearer(await token_for(client, "jinshan.admin"))
    me = (await client.get("/api/v1/auth/me", headers=bearer(third))).json()["sub"]
    assert (await client.post(f"/api/v1/admin/users/{me}/sessions/revoke", headers=admin)).status_code == 204
    await asyncio.sleep(1.1)  # revocation covers every token issued up to its second
    fourth = await token_for(client, "jinshan.prosecutor")
    assert (await client.get("/api/v1/me/devices", headers=bearer(fourth))).json() == []


async def test_devices_refuse_bad_input_and_partners(client) -> None:
    me = bearer(await token_for(client, "jinshan.assistant"))
    bad = await client.post("/api/v1/me/devices", headers=me, json={**_device(), "channel": "carrier-pigeon"})
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json")
    assert (await client.post("/api/v1/me/devices", headers=me, json={**_device(), "extra": 1})).status_code == 400
    partner = bearer(await partner_token(client))
    assert (await client.get("/api/v1/me/devices", headers=partner)).status_code == 403
    assert (await client.get("/api/v1/me/inbox", headers=partner)).status_code == 403
    assert (await client.get("/api/v1/me/inbox")).status_code == 401


async def test_inbox_list_unread_marks_and_muted_kinds(client, staff, settings, worker, providers) -> None:
    me = await citizen(client, settings)
    phone = f"t-{uuid.uuid4().hex}"
    await client.post("/api/v1/me/devices", headers=me, json=_device("huawei", phone))
    office = await staff("jinshan", "complaints_office")
    for _ in range(3):
        cid = (await client.post("/api/v1/me/complaints", headers={**me, **key()}, json=item())).json()["id"]
        step = await client.post(f"/api/v1/staff/complaints/{cid}/steps", headers=office,
                                 json={"step": "accept", "template": "accepted"})
        assert step.status_code == 200, step.text
    await drain(worker)
    assert (await client.get("/api/v1/me/inbox/unread-count", headers=me)).json() == {"unread": 3}
    page = (await client.get("/api/v1/me/inbox", headers=me, params={"limit": 2})).json()
    rest = (await client.get("/api/v1/me/inbox", headers=me, params={"cursor": page["nextCursor"]})).json()
    assert len(page["items"]) == 2 and len(rest["items"]) == 1 and rest["nextCursor"] is None
    assert page["items"][0]["createdAt"] >= page["items"][1]["createdAt"] >= rest["items"][0]["createdAt"]
    read = await client.post(f"/api/v1/me/inbox/{page['items'][0]['id']}/read", headers=me)
    assert read.status_code == 200 and read.json()["readAt"]
    unread = (await client.get("/api/v1/me/inbox", headers=me, params={"unread": "true"})).json()["items"]
    assert len(unread) == 2 and page["items"][0]["id"] not in [e["id"] for e in unread]
    other = await citizen(client, settings)
    assert (await client.post(f"/api/v1/me/inbox/{unread[0]['id']}/read", headers=other)).status_code == 404
    assert (await client.get("/api/v1/me/inbox", headers=me, params={"cursor": "nope"})).status_code == 400
    assert (await client.post("/api/v1/me/inbox/read-all", headers=me)).json() == {"marked": 2}
    assert (await client.get("/api/v1/me/inbox/unread-count", headers=me)).json() == {"unread": 0}

    # A muted kind still reaches the inbox, but not the phone.
    prefs = (await client.get("/api/v1/me/inbox/preferences", headers=me)).json()
    assert "complaint.complainant" in prefs["kinds"] and prefs["mutedKinds"] == []
    wrong = await client.put("/api/v1/me/inbox/preferences", headers=me, json={"mutedKinds": ["weather"]})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "mutedKinds[0]"
    half = await client.put("/api/v1/me/inbox/preferences", headers=me, json={"quietStart": "22:00:00"})
    assert half.status_code == 422
    muted = await client.put("/api/v1/me/inbox/preferences", headers=me, json={"mutedKinds": ["complaint.complainant"]})
    assert muted.status_code == 200 and muted.json()["mutedKinds"] == ["complaint.complainant"]
    pushed = len([r for r in providers["huawei"].requests if phone in r.body.decode()])
    cid = (await client.post("/api/v1/me/complaints", headers={**me, **key()}, json=item())).json()["id"]
    await client.post(f"/api/v1/staff/complaints/{cid}/steps", headers=office,
                      json={"step": "accept", "template": "accepted"})
    await drain(worker)
    assert (await client.get("/api/v1/me/inbox/unread-count", headers=me)).json() == {"unread": 1}
    assert len([r for r in providers["huawei"].requests if phone in r.body.decode()]) == pushed


def test_quiet_hours_hold_a_push_until_they_end() -> None:
    # 23:30 in Beijing (15:30 UTC), quiet 22:00-07:00: the push waits for 07:00 Beijing (23:00 UTC).
    now = datetime(2026, 11, 29, 15, 30, tzinfo=UTC)
    assert push_due(now, (time(22, 0), time(7, 0))) == datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    assert push_due(now, (time(8, 0), time(12, 0))) == now
    assert push_due(now, None) == now
