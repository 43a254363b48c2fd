"""A 201 says where the created thing is read (Location), on the first answer and on a replayed retry alike."""

from __future__ import annotations

from tests.helpers import citizen, item, key


async def test_every_create_names_where_to_read_it(client, settings, staff) -> None:
    me = await citizen(client, settings)
    headers = {**me, **key()}
    first = await client.post("/api/v1/me/complaints", headers=headers, json=item())
    retry = await client.post("/api/v1/me/complaints", headers=headers, json=item())
    where = first.headers["location"]
    assert where == f"/api/v1/me/complaints/{first.json()['id']}"
    assert retry.headers["idempotent-replayed"] == "true" and retry.headers["location"] == where
    assert (await client.get(where, headers=me)).json()["id"] == first.json()["id"]

    anonymous = await client.post("/api/v1/public/complaints", headers=key(), json=item())
    receipt = anonymous.json()
    assert anonymous.headers["location"] == f"/api/v1/public/complaints/{receipt['receiptNo']}"
    followed = await client.get(anonymous.headers["location"], headers={"X-Query-Code": receipt["queryCode"]})
    assert followed.status_code == 200, followed.text

    office = await staff("jinshan", "complaints_office")
    filed = await client.post("/api/v1/staff/complaints", headers={**office, **key()}, json={
        "channel": "walk_in", "category": "criminal-appeal", "title": "不服不起诉决定", "body": "申请复查。",
        "fields": {"case_no": "（2025）沪0116刑初12号"}, "visitor": {"name": "张三丰"}})
    assert filed.status_code == 201, filed.text
    assert filed.headers["location"] == f"/api/v1/staff/complaints/{filed.json()['id']}"
    note = await client.post(f"{filed.headers['location']}/notes", headers={**office, **key()},
                             json={"text": "已电话联系"})
    assert note.status_code == 201 and note.headers["location"] == filed.headers["location"]

def test_every_201_route_declares_its_location(app) -> None:
    """A route answering 201 names its Location template, unless what it makes has no address of its own."""
    unaddressed = {"adminCreateOffice", "adminCreateUsersFromCsv", "adminRequestRoles", "monitoringRaise",
                   "monitoringBulletin", "adminCreateClient"}
    missing = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            created = getattr(handler, "status_code", None) == 201 and handler.operation_id not in unaddressed
            if created and not handler.opt.get("location"):
                missing.append(handler.operation_id)
    assert missing == []
