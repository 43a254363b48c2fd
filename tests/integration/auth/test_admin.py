"""Office administration: scoped to the admin's own office (others' rows answer 404), permission lists as data."""

from __future__ import annotations

import uuid

import pytest

from tests.helpers import bearer, partner_token, token_for


@pytest.fixture(name="jinshan_admin")
async def fx_jinshan_admin(client) -> dict:  # noqa: ANN001
    return bearer(await token_for(client, "jinshan.admin"))


async def _id(conn, table: str, column: str, value: str):  # noqa: ANN001, ANN202
    return await conn.fetchval(f"select id from {table} where {column} = $1", value)  # noqa: S608


async def test_admin_lists_only_their_office(client, jinshan_admin, conn) -> None:  # noqa: ANN001
    seen, cursor = [], None
    while True:
        resp = await client.get("/api/v1/admin/users", headers=jinshan_admin,
                                params={"limit": 5, **({"cursor": cursor} if cursor else {})})
        assert resp.status_code == 200, resp.text
        page = resp.json()
        seen += [u["username"] for u in page["items"]]
        cursor = page.get("nextCursor")
        if not cursor:
            break
    jinshan = await conn.fetch("select username from users where office_id = "
                               "(select id from offices where code = 'jinshan')")
    assert sorted(seen) == sorted(r["username"] for r in jinshan)
    assert not any(name.startswith("chongming.") for name in seen)
    assert len(seen) == len(set(seen))


async def test_cross_office_reads_answer_404(client, jinshan_admin, conn) -> None:  # noqa: ANN001
    other_user = await _id(conn, "users", "username", "chongming.prosecutor")
    other_client = await _id(conn, "partner_clients", "client_id", "chongming-police")
    other_audit = await conn.fetchval("select id from audit_log where office_id = "
                                      "(select id from offices where code = 'chongming') limit 1")
    if other_audit is None:
        await token_for(client, "chongming.prosecutor")
        other_audit = await conn.fetchval("select id from audit_log where office_id = "
                                          "(select id from offices where code = 'chongming') limit 1")
    for path in (f"/api/v1/admin/users/{other_user}", f"/api/v1/admin/partner-clients/{other_client}",
                 f"/api/v1/admin/audit/{other_audit}", f"/api/v1/admin/users/{uuid.uuid4()}"):
        resp = await client.get(path, headers=jinshan_admin)
        assert resp.status_code == 404, path
        assert resp.json()["code"] == "not_found"


async def test_cross_office_writes_answer_404_and_change_nothing(client, jinshan_admin, conn) -> None:  # noqa: ANN001
    other_user = await _id(conn, "users", "username", "chongming.chief")
    other_client = await _id(conn, "partner_clients", "client_id", "chongming-ecoenv")
    assert (await client.patch(f"/api/v1/admin/users/{other_user}", headers=jinshan_admin,
                               json={"disabled": True})).status_code == 404
    assert (await client.post(f"/api/v1/admin/users/{other_user}/sessions/revoke",
                              headers=jinshan_admin)).status_code == 404
    assert (await client.patch(f"/api/v1/admin/partner-clients/{other_client}", headers=jinshan_admin,
                               json={"disabled": True})).status_code == 404
    assert await conn.fetchval("select disabled_at from users where id = $1", other_user) is None
    assert await conn.fetchval("select disabled_at from partner_clients where id = $1", other_client) is None
    # The chongming chief can still sign in.
    await token_for(client, "chongming.chief")


async def test_non_admins_are_forbidden(client) -> None:  # noqa: ANN001
    prosecutor = bearer(await token_for(client, "jinshan.prosecutor"))
    resp = await client.get("/api/v1/admin/users", headers=prosecutor)
    assert resp.status_code == 403
    assert resp.json()["code"] == "forbidden"


async def test_disabling_a_user_locks_them_out_at_once(client, jinshan_admin, make_user) -> None:  # noqa: ANN001
    user = await make_user()
    tokens = await token_for(client, user["username"], user["password"])
    assert (await client.get("/api/v1/auth/me", headers=bearer(tokens))).status_code == 200
    resp = await client.patch(f"/api/v1/admin/users/{user['id']}", headers=jinshan_admin, json={"disabled": True})
    assert resp.status_code == 200 and resp.json()["disabled"] is True
    assert (await client.get("/api/v1/auth/me", headers=bearer(tokens))).status_code == 401
    refreshed = await client.post("/api/v1/auth/token", data={"grant_type": "refresh_token",
                                                               "refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 400
    again = await client.post("/api/v1/auth/token", data={"grant_type": "password", "username": user["username"],
                                                           "password": user["password"], "client_id": "staff-app"})
    assert again.status_code == 400


async def test_revoke_all_sessions(client, jinshan_admin, make_user) -> None:  # noqa: ANN001
    user = await make_user()
    phone = await token_for(client, user["username"], user["password"], device_id="phone")
    tablet = await token_for(client, user["username"], user["password"], device_id="tablet")
    resp = await client.post(f"/api/v1/admin/users/{user['id']}/sessions/revoke", headers=jinshan_admin)
    assert resp.status_code == 204
    for tokens in (phone, tablet):
        assert (await client.get("/api/v1/auth/me", headers=bearer(tokens))).status_code == 401
    await _wait_next_second()
    fresh = await token_for(client, user["username"], user["password"])
    assert (await client.get("/api/v1/auth/me", headers=bearer(fresh))).status_code == 200


async def _wait_next_second() -> None:
    import asyncio
    import time

    # Revocation marks whole seconds: a token issued in the same second as the revocation counts as revoked.
    await asyncio.sleep(1.05 - (time.time() % 1))


async def test_permission_list_is_data_the_admin_changes(client, make_user, conn) -> None:  # noqa: ANN001
    office = f"perm{uuid.uuid4().hex[:6]}"
    await conn.execute("insert into offices (code, name, parent_id, province, level) values "
                       "($1, $1, (select id from offices where code = 'shanghai'), '上海', 'county')", office)
    admin = await make_user(office=office, roles=("admin",))
    case_mgmt = await make_user(office=office, roles=("case_mgmt",))
    admin_h = bearer(await token_for(client, admin["username"], admin["password"]))
    cm_h = bearer(await token_for(client, case_mgmt["username"], case_mgmt["password"]))
    assert (await client.get("/api/v1/admin/audit", headers=cm_h)).status_code == 200
    effective = (await client.get("/api/v1/admin/permissions", headers=admin_h)).json()
    assert effective["inForce"] == "national"
    grants = {role: actions for role, actions in effective["grants"].items() if role != "case_mgmt"}
    put = await client.put("/api/v1/admin/permissions", headers=admin_h, json={"grants": grants})
    assert put.status_code == 200, put.text
    assert put.json()["inForce"] == "office"
    assert (await client.get("/api/v1/admin/audit", headers=cm_h)).status_code == 403
    bad = await client.put("/api/v1/admin/permissions", headers=admin_h,
                           json={"grants": {"admin": ["admin.users.read", "launch.missiles"]}})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "grants.admin"
    province = await client.put("/api/v1/admin/permissions", headers=admin_h, params={"level": "province"},
                                json={"grants": grants})
    assert province.status_code == 403


async def test_partner_clients_are_rate_limited(client, jinshan_admin) -> None:  # noqa: ANN001
    client_id = f"jinshan-rl-{uuid.uuid4().hex[:8]}"
    created = await client.post("/api/v1/admin/partner-clients", headers=jinshan_admin, json={
        "clientId": client_id, "name": "12345 hotline", "agencyKind": "hotline", "rateLimitPerMinute": 3})
    assert created.status_code == 201, created.text
    secret = created.json()["clientSecret"]
    token = await partner_token(client, client_id, secret)
    codes = [(await client.get("/api/v1/auth/me", headers=bearer(token))) for _ in range(4)]
    assert [r.status_code for r in codes] == [200, 200, 200, 429]
    limited = codes[-1]
    assert limited.headers["ratelimit-limit"] == "3"
    assert limited.headers["ratelimit-remaining"] == "0"
    assert int(limited.headers["retry-after"]) > 0


async def test_an_audit_id_beyond_bigint_is_a_documented_400(client, jinshan_admin, app) -> None:  # noqa: ANN001
    # Found by the API fuzzing (tests/fuzz): the 400 was answered as problem+json but documented as Litestar's
    # default application/json validation body.
    resp = await client.get(f"/api/v1/admin/audit/{10**22}", headers=jinshan_admin)
    assert resp.status_code == 400, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    documented = app.openapi_schema.to_schema()["paths"]["/api/v1/admin/audit/{record_id}"]["get"]["responses"]
    assert list(documented["400"]["content"]) == ["application/problem+json"]
