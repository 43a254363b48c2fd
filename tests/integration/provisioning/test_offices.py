"""The office tree: CSV import (idempotent, history kept) and the admin API of the office above."""

from __future__ import annotations

import uuid

from api.office_tree import import_offices, parse_csv
from api.settings import master_secret
from auth.audit import Actor, written_by_a_command
from auth.secretbox import SecretBox
from tests.helpers import bearer, key, token_for

_OPERATOR = Actor(id="cli:test", kind="operator", office_id=None, device_id=None, ip=None, request_id=None)
_HEADER = "code,name,level,parent,province,time_zone\n"


async def test_import_is_idempotent_and_a_move_keeps_history(conn, settings) -> None:  # noqa: ANN001
    with written_by_a_command(SecretBox(master_secret(settings))):  # as `jianwu offices import` writes the trail
        await _import_twice_then_move(conn)


async def _import_twice_then_move(conn) -> None:  # noqa: ANN001
    a, b = "imp" + uuid.uuid4().hex[:6], "imp" + uuid.uuid4().hex[:6]
    text = _HEADER + f"{a},甲区人民检察院,county,shanghai,上海,Asia/Shanghai\n{b},乙分院,prefecture,shanghai,上海,\n"
    first = await import_offices(conn, parse_csv(text), _OPERATOR)
    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    again = await import_offices(conn, parse_csv(text), _OPERATOR)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    moved = text.replace(f"{a},甲区人民检察院,county,shanghai", f"{a},甲区人民检察院,county,{b}")
    result = await import_offices(conn, parse_csv(moved), _OPERATOR)
    assert (result.created, result.updated) == (0, 1)
    assert await conn.fetchval("select count(*) from offices where code = $1", a) == 1
    changes = [r["change"] for r in await conn.fetch(
        "select change from office_history where office_id = (select id from offices where code = $1) order by id", a)]
    assert changes == ["created", "moved"]


def test_a_bad_file_names_its_lines() -> None:
    text = _HEADER + "ok-one,名,county,shanghai,上海,\nBAD,名,county,shanghai,上海,\nx2,名,county,,上海,\n" \
                     "x3,名,planet,shanghai,上海,\nx4,名,county,shanghai,上海,Mars/Base\n"
    try:
        parse_csv(text)
    except ValueError as exc:
        message = str(exc)
    else:
        raise AssertionError("accepted")
    for line in ("line 3", "line 4", "line 5", "line 6"):
        assert line in message
    assert "line 2" not in message


async def test_the_office_above_creates_renames_moves_and_retires(client, conn) -> None:  # noqa: ANN001
    upper = bearer(await token_for(client, "shanghai.admin"))
    code = "api" + uuid.uuid4().hex[:6]
    body = {"code": code, "name": "测试区人民检察院", "level": "county", "province": "上海", "parent": "shanghai"}
    created = await client.post("/api/v1/admin/offices", headers={**upper, **key()}, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["timeZone"] == "Asia/Shanghai"
    taken = await client.post("/api/v1/admin/offices", headers={**upper, **key()}, json=body)
    assert taken.status_code == 409
    elsewhere = await client.post("/api/v1/admin/offices", headers={**upper, **key()},
                                  json={**body, "code": code + "x", "province": "北京"})
    assert elsewhere.status_code == 422 and elsewhere.json()["errors"][0]["field"] == "province"
    listed = await client.get("/api/v1/admin/offices", headers=upper, params={"limit": 200})
    assert code in {o["code"] for o in listed.json()["items"]} and "shanghai" not in {
        o["code"] for o in listed.json()["items"]}
    renamed = await client.patch(f"/api/v1/admin/offices/{code}", headers=upper, json={"name": "测试区检察院"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "测试区检察院"
    bad_parent = await client.patch(f"/api/v1/admin/offices/{code}", headers=upper, json={"parent": code})
    assert bad_parent.status_code in (400, 422)
    staff = await conn.fetchval("insert into users (kind, office_id, username, display_name) values "
                                "('staff', (select id from offices where code = $1), $2, '人') returning id",
                                code, "s" + uuid.uuid4().hex[:8])
    busy = await client.patch(f"/api/v1/admin/offices/{code}", headers=upper, json={"retired": True})
    assert busy.status_code == 409
    await conn.execute("update users set retired_at = now(), disabled_at = now() where id = $1", staff)
    retired = await client.patch(f"/api/v1/admin/offices/{code}", headers=upper, json={"retired": True})
    assert retired.status_code == 200 and retired.json()["retired"]
    assert code not in {o["code"] for o in (await client.get("/api/v1/offices")).json()}
    history = await client.get(f"/api/v1/admin/offices/{code}/history", headers=upper)
    assert [h["change"] for h in history.json()["items"]] == ["retired", "renamed", "created"]
    first = (await client.get(f"/api/v1/admin/offices/{code}/history", headers=upper, params={"limit": 2})).json()
    rest = (await client.get(f"/api/v1/admin/offices/{code}/history", headers=upper,
                             params={"cursor": first["nextCursor"]})).json()
    assert [h["change"] for h in first["items"] + rest["items"]] == ["retired", "renamed", "created"]
    assert "nextCursor" not in rest or rest["nextCursor"] is None


async def test_a_district_admin_cannot_touch_offices_outside_its_subtree(client) -> None:  # noqa: ANN001
    jinshan = bearer(await token_for(client, "jinshan.admin"))
    for code in ("shanghai", "chongming", "jinshan"):
        resp = await client.patch(f"/api/v1/admin/offices/{code}", headers=jinshan, json={"name": "改名"})
        assert resp.status_code == 404 and resp.json()["code"] == "not_found", code
    body = {"code": "x" + uuid.uuid4().hex[:6], "name": "甲", "level": "county", "province": "上海",
            "parent": "shanghai"}
    assert (await client.post("/api/v1/admin/offices", headers={**jinshan, **key()}, json=body)).status_code == 404
    assert (await client.get("/api/v1/admin/offices", headers=jinshan)).json()["items"] == []
