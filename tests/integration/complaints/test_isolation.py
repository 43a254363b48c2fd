"""Another office's staff and another citizen get 404 on every complaint route and change nothing;
a body cannot set state, office or assignee; a switched-off module says so."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.helpers import citizen, item, key


@pytest.fixture(name="filed")
async def fx_filed(client, settings, staff):  # noqa: ANN001, ANN201
    owner = await citizen(client, settings)
    resp = await client.post("/api/v1/me/complaints", headers={**owner, **key()}, json=item())
    assert resp.status_code == 201
    cid = resp.json()["id"]
    office = await staff("jinshan", "complaints_office")
    accepted = await client.post(f"/api/v1/staff/complaints/{cid}/steps", headers=office, json={"step": "accept"})
    assert accepted.status_code == 200
    return {"id": cid, "owner": owner}


async def _snapshot(conn, cid):  # noqa: ANN001, ANN202
    row = await conn.fetchrow("select state, office_id, assignee_id, updated_at, rating from complaints "
                              "where id = $1::uuid", cid)
    events = await conn.fetchval("select count(*) from timeline_events where subject_id = $1::uuid", cid)
    return dict(row), events


STAFF_CALLS = [
    ("GET", "", None),
    ("POST", "/steps", {"step": "close", "disposition": "x"}),
    ("POST", "/assignment", {"mode": "random"}),
    ("POST", "/transfer", {"office": "chongming", "reason": "x"}),
    ("POST", "/notes", {"text": "x"}),
    ("POST", "/replies", {"kind": "progress", "text": "x"}),
    ("POST", "/clock-events", {"clock": "result_reply", "event": "pause", "reason": "x"}),
]
CITIZEN_CALLS = [
    ("GET", "", None),
    ("POST", "/materials", {"text": "x"}),
    ("POST", "/rating", {"score": 1}),
    ("POST", "/reviews", {"reason": "x"}),
]


async def test_other_office_staff_get_404_and_change_nothing(client, staff, conn, filed) -> None:  # noqa: ANN001
    before = await _snapshot(conn, filed["id"])
    for role in ("chief", "complaints_office", "dept_head"):
        other = await staff("chongming", role)
        for method, suffix, body in STAFF_CALLS:
            resp = await client.request(method, f"/api/v1/staff/complaints/{filed['id']}{suffix}",
                                        headers={**other, **key()}, json=body)
            assert resp.status_code == 404, (role, method, suffix, resp.text)
            assert resp.json()["code"] == "not_found"
    listing = (await client.get("/api/v1/staff/complaints", headers=await staff("chongming", "chief"),
                                params={"limit": 200})).json()
    assert filed["id"] not in [i["id"] for i in listing["items"]]
    assert await _snapshot(conn, filed["id"]) == before


async def test_another_citizen_gets_404_and_changes_nothing(client, settings, conn, filed) -> None:  # noqa: ANN001
    before = await _snapshot(conn, filed["id"])
    stranger = await citizen(client, settings)
    for method, suffix, body in CITIZEN_CALLS:
        resp = await client.request(method, f"/api/v1/me/complaints/{filed['id']}{suffix}",
                                    headers={**stranger, **key()}, json=body)
        assert resp.status_code == 404, (method, suffix, resp.text)
    assert (await client.get("/api/v1/me/complaints", headers=stranger)).json()["items"] == []
    assert await _snapshot(conn, filed["id"]) == before


async def test_citizens_cannot_reach_staff_routes(client, filed) -> None:  # noqa: ANN001
    resp = await client.get(f"/api/v1/staff/complaints/{filed['id']}", headers=filed["owner"])
    assert resp.status_code == 403


@pytest.mark.parametrize("extra", [{"state": "closed"}, {"officeId": str(uuid.uuid4())}, {"assigneeId": str(uuid.uuid4())},
                                   {"complainantId": str(uuid.uuid4())}, {"receiptNo": "X"}, {"rating": 5}])
async def test_mass_assignment_is_rejected(client, settings, conn, extra) -> None:  # noqa: ANN001
    me = await citizen(client, settings)
    count = await conn.fetchval("select count(*) from complaints")
    resp = await client.post("/api/v1/me/complaints", headers={**me, **key()}, json=item(**extra))
    assert resp.status_code == 400
    assert resp.json()["code"] == "validation_failed"
    assert await conn.fetchval("select count(*) from complaints") == count


async def test_transfer_moves_responsibility(client, staff, filed) -> None:  # noqa: ANN001
    office = await staff("jinshan", "complaints_office")
    moved = await client.post(f"/api/v1/staff/complaints/{filed['id']}/transfer", headers=office,
                              json={"office": "chongming", "reason": "属地管辖"})
    assert moved.status_code == 200, moved.text
    assert (await client.get(f"/api/v1/staff/complaints/{filed['id']}", headers=office)).status_code == 404
    theirs = await client.get(f"/api/v1/staff/complaints/{filed['id']}", headers=await staff("chongming", "chief"))
    assert theirs.status_code == 200
    assert theirs.json()["office"] == "chongming" and theirs.json()["firstOffice"] == "jinshan"
    mine = (await client.get(f"/api/v1/me/complaints/{filed['id']}", headers=filed["owner"])).json()
    assert mine["office"] == "chongming"


async def test_switched_off_module_answers_module_disabled(client, staff, conn, make_user) -> None:  # noqa: ANN001
    code = f"off{uuid.uuid4().hex[:6]}"
    await conn.execute("insert into offices (code, name, parent_id, province, level) values "
                       "($1, $1, (select id from offices where code = 'shanghai'), '上海', 'county')", code)
    admin = await make_user(office=code, roles=("admin", "complaints_office"))
    from tests.helpers import bearer, token_for

    h = bearer(await token_for(client, admin["username"], admin["password"]))
    off = await client.get("/api/v1/staff/complaints", headers=h)
    assert off.status_code == 403 and off.json()["code"] == "module_disabled"
    on = await client.put("/api/v1/admin/modules/complaints", headers=h, json={"enabled": True})
    assert on.status_code == 200
    assert (await client.get("/api/v1/staff/complaints", headers=h)).status_code == 200
    anon = await client.post("/api/v1/public/complaints", headers=key(), json=item(office=code))
    assert anon.status_code == 400  # on, but no categories yet: the category is refused, not the module
    await client.put("/api/v1/admin/modules/complaints", headers=h, json={"enabled": False})
    await asyncio.sleep(0)
    gone = await client.post("/api/v1/public/complaints", headers=key(), json=item(office=code))
    assert gone.status_code == 403 and gone.json()["code"] == "module_disabled"


async def test_report_identity_is_hidden_without_the_right(client, staff, settings) -> None:  # noqa: ANN001
    me = await citizen(client, settings)
    cid = (await client.post("/api/v1/me/complaints", headers={**me, **key()}, json=item(
        category="duty-crime", fields={"unit": "某看守所"}, realName="李四", idNumber="31010119800101123X"))).json()["id"]
    seen = (await client.get(f"/api/v1/staff/complaints/{cid}", headers=await staff("jinshan", "prosecutor"))).json()
    assert seen["reporter"]["name"] is None and seen["reporter"]["masked"]
    assert seen["reporter"]["idNumber"] == "310101********123X"
    chief = (await client.get(f"/api/v1/staff/complaints/{cid}", headers=await staff("jinshan", "chief"))).json()
    assert chief["reporter"]["name"] == "李四"


async def test_offices_set_working_days_per_clock(client, conn, make_user) -> None:  # noqa: ANN001
    code = f"wd{uuid.uuid4().hex[:6]}"
    await conn.execute("insert into offices (code, name, parent_id, province, level) values "
                       "($1, $1, (select id from offices where code = 'shanghai'), '上海', 'county')", code)
    admin = await make_user(office=code, roles=("admin",))
    from tests.helpers import bearer, token_for

    h = bearer(await token_for(client, admin["username"], admin["password"]))
    bad = await client.put("/api/v1/admin/modules/complaints", headers=h,
                           json={"enabled": True, "config": {"clocks": {"procedural_reply": {"day_type": "lunar"}}}})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "config.clocks.procedural_reply"
    ok = await client.put("/api/v1/admin/modules/complaints", headers=h, json={
        "enabled": True, "config": {"clocks": {"procedural_reply": {"day_type": "working", "lead_days": [2]}}}})
    assert ok.status_code == 200
    cat = await client.put("/api/v1/admin/complaints/categories/general", headers=h,
                           json={"code": "general", "kind": "accusation", "name": "一般控告"})
    assert cat.status_code == 200, cat.text
    filed = await client.post("/api/v1/public/complaints", headers=key(),
                              json=item(office=code, category="general", phone="13800001111", realName="王五"))
    assert filed.status_code == 201, filed.text
    rows = {r["code"]: r for r in await conn.fetch("select code, day_type, lead_days from clocks "
                                                   "where subject_id = $1::uuid", filed.json()["id"])}
    assert rows["procedural_reply"]["day_type"] == "working" and rows["procedural_reply"]["lead_days"] == [2]
    assert rows["result_reply"]["day_type"] == "calendar"
