"""Partner agencies: a subscription set by an admin, a delivery verified with the Standard Webhooks algorithm
written here independently, the pull feed carrying the same event, the delivery log and replay, secret rotation,
and no delivery outside the allow-list."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid

from tests.helpers import bearer, item, key, partner_token
from tests.integration.push.conftest import drain


def verify(secret: str, headers: dict[str, str], body: bytes) -> None:
    """The Standard Webhooks verification, as a partner would write it from the specification."""
    msg_id, stamp = headers["webhook-id"], headers["webhook-timestamp"]
    assert abs(time.time() - int(stamp)) < 300
    key_bytes = base64.b64decode(secret.split("_", 1)[1])
    expected = base64.b64encode(hmac.new(key_bytes, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest())
    given = [s.split(",", 1)[1] for s in headers["webhook-signature"].split(" ") if s.startswith("v1,")]
    assert any(hmac.compare_digest(expected.decode(), g) for g in given), "no valid signature"


async def _client_uuid(conn, client_id: str):
    return await conn.fetchval("select id from partner_clients where client_id = $1", client_id)


async def _refer(client, staff) -> str:
    filed = await client.post("/api/v1/public/complaints", headers=key(), json=item(title="需要移送公安的线索"))
    assert filed.status_code == 201, filed.text
    cid = filed.json()["id"]
    office = await staff("jinshan", "complaints_office")
    resp = await client.post(f"/api/v1/staff/complaints/{cid}/steps", headers=office,
                             json={"step": "refer", "referredTo": "金山公安分局", "reply": "已移送公安机关。"})
    assert resp.status_code == 200, resp.text
    return cid


async def test_a_partner_gets_a_signed_webhook_and_the_same_event_from_the_feed(
        client, staff, conn, providers, worker) -> None:
    endpoint = providers["endpoint"]
    police = await _client_uuid(conn, "jinshan-police")
    admin = await staff("jinshan", "admin")
    url = f"{providers['endpoint_url']}/hooks/jianwu"
    await drain(worker)

    outside = await client.put(f"/api/v1/admin/partner-clients/{police}/webhook", headers=admin,
                               json={"kinds": ["complaint.staff"], "url": "http://169.254.169.254/latest"})
    assert outside.status_code == 422 and outside.json()["errors"][0]["field"] == "url"
    unknown = await client.put(f"/api/v1/admin/partner-clients/{police}/webhook", headers=admin,
                               json={"kinds": ["weather"], "url": url, "allowedHosts": ["127.0.0.1"]})
    assert unknown.status_code == 422
    other_office = await staff("chongming", "admin")
    assert (await client.put(f"/api/v1/admin/partner-clients/{police}/webhook", headers=other_office,
                             json={"kinds": ["complaint.staff"]})).status_code == 404
    made = await client.put(f"/api/v1/admin/partner-clients/{police}/webhook", headers=admin,
                            json={"kinds": ["complaint.staff"], "url": url, "allowedHosts": ["127.0.0.1"]})
    assert made.status_code == 201, made.text
    secret = made.json()["secret"]
    assert secret.startswith("whsec_")
    assert (await client.get(f"/api/v1/admin/partner-clients/{police}/webhook",
                             headers=admin)).json()["secret"] is None

    before = len(endpoint.received)
    cid = await _refer(client, staff)
    await drain(worker)
    got = [r for r in endpoint.received[before:] if cid in r.body.decode()]
    assert len(got) == 1 and got[0].path == "/hooks/jianwu"
    verify(secret, got[0].headers, got[0].body)
    event = got[0].json()
    assert event["type"] == "complaint.staff" and event["data"] == {"complaintId": cid, "event": "complaint.refer"}

    partner = bearer(await partner_token(client, "jinshan-police"))
    feed = (await client.get("/api/v1/partner/events", headers=partner, params={"after": 0, "limit": 200})).json()
    pulled = [e for e in feed["events"] if e["data"].get("complaintId") == cid]
    assert [e["id"] for e in pulled] == [got[0].headers["webhook-id"]] and pulled[0]["data"] == event["data"]
    seqs = [e["seq"] for e in feed["events"]]
    assert seqs == sorted(seqs)
    # Long poll: nothing after the end, answered empty once the wait is over.
    started = time.monotonic()
    empty = (await client.get("/api/v1/partner/events", headers=partner,
                              params={"after": feed["next"], "wait": 1})).json()
    assert empty["events"] == [] and empty["next"] == feed["next"] and time.monotonic() - started >= 1
    assert (await client.get("/api/v1/partner/events", headers=partner, params={"wait": 31})).status_code == 400
    # Another agency of the office did not subscribe: its feed stays empty.
    ecoenv = bearer(await partner_token(client, "jinshan-ecoenv"))
    assert (await client.get("/api/v1/partner/events", headers=ecoenv)).json()["events"] == []

    log = (await client.get("/api/v1/partner/webhook-deliveries", headers=partner)).json()["items"]
    mine = [d for d in log if d["eventId"] == got[0].headers["webhook-id"]]
    assert mine[0]["state"] == "sent" and mine[0]["lastStatus"] == 204
    replayed = await client.post(f"/api/v1/partner/webhook-deliveries/{mine[0]['id']}/replay", headers=partner)
    assert replayed.status_code == 201
    assert (await client.post(f"/api/v1/partner/webhook-deliveries/{mine[0]['id']}/replay",
                              headers=ecoenv)).status_code == 404
    await drain(worker)
    again = [r for r in endpoint.received if r.headers["webhook-id"] == got[0].headers["webhook-id"]]
    assert len(again) == 2
    verify(secret, again[1].headers, again[1].body)

    # Rotation: both secrets verify during the overlap.
    rotated = await client.put(f"/api/v1/admin/partner-clients/{police}/webhook", headers=admin, json={
        "kinds": ["complaint.staff"], "url": url, "allowedHosts": ["127.0.0.1"], "rotateSecret": True})
    assert rotated.status_code == 200 and rotated.json()["secret"] != secret
    assert rotated.json()["previousSecretUntil"]
    cid = await _refer(client, staff)
    await drain(worker)
    last = next(r for r in endpoint.received if cid in r.body.decode())
    verify(secret, last.headers, last.body)
    verify(rotated.json()["secret"], last.headers, last.body)
    assert len(last.headers["webhook-signature"].split(" ")) == 2


async def test_a_name_allowed_but_resolving_inside_is_never_called(client, staff, conn, providers, worker) -> None:
    ecoenv = await _client_uuid(conn, "jinshan-ecoenv")
    admin = await staff("jinshan", "admin")
    port = providers["endpoint_url"].rsplit(":", 1)[1]
    made = await client.put(f"/api/v1/admin/partner-clients/{ecoenv}/webhook", headers=admin, json={
        "kinds": ["complaint.staff"], "url": f"http://localhost:{port}/hook", "allowedHosts": ["localhost"]})
    assert made.status_code == 201, made.text
    await _refer(client, staff)
    await drain(worker)
    assert [r for r in providers["endpoint"].received if r.path == "/hook"] == []
    partner = bearer(await partner_token(client, "jinshan-ecoenv"))
    log = (await client.get("/api/v1/partner/webhook-deliveries", headers=partner)).json()["items"]
    assert log[0]["state"] == "dead" and "internal address" in log[0]["lastError"]
    assert (await client.delete(f"/api/v1/admin/partner-clients/{ecoenv}/webhook", headers=admin)).status_code == 204


async def test_an_event_for_one_agency_reaches_only_that_agency(client, staff, conn, worker) -> None:
    from api.outbox import TOPICS, Audience, emit, register_recipients, register_topics

    police, ecoenv = await _client_uuid(conn, "jinshan-police"), await _client_uuid(conn, "jinshan-ecoenv")
    if "test.push.one_agency" not in TOPICS:
        async def to_named_agency(_conn, event):
            return Audience(partner_clients=(uuid.UUID(event.payload["agency"]),))
        register_topics({"test.push.one_agency": "An event for one partner agency (test only)."})
        register_recipients({"test.push.one_agency": to_named_agency})
    admin = await staff("jinshan", "admin")
    for client_uuid in (police, ecoenv):
        made = await client.put(f"/api/v1/admin/partner-clients/{client_uuid}/webhook", headers=admin,
                                json={"kinds": ["test.push.one_agency", "complaint.staff"]})
        assert made.status_code in (200, 201), made.text
    office = await conn.fetchval("select office_id from partner_clients where id = $1", ecoenv)
    marker = uuid.uuid4().hex
    await emit(conn, "test.push.one_agency", {"agency": str(ecoenv), "marker": marker}, office_id=office)
    await drain(worker)

    async def pulled(client_id: str) -> list[dict]:
        token = bearer(await partner_token(client, client_id))
        feed = (await client.get("/api/v1/partner/events", headers=token, params={"limit": 200})).json()
        return [e for e in feed["events"] if e["data"].get("marker") == marker]
    assert len(await pulled("jinshan-ecoenv")) == 1
    assert await pulled("jinshan-police") == []
