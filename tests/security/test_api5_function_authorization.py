"""API5:2023 Broken Function Level Authorization: the permission list in force is always within every list above
it, so narrowing a province's list takes a right away everywhere below, offices with their own list included."""

from __future__ import annotations

import uuid

from auth.permissions import effective_grants
from tests.helpers import bearer, token_for


async def test_province_narrowing_reaches_offices_with_their_own_list(client, conn, make_user, make_office) -> None:  # noqa: ANN001, E501
    province = f"省{uuid.uuid4().hex[:6]}"
    top = await make_office(parent=None, province=province, level="provincial")
    district = await make_office(parent=top, province=province)
    top_admin = bearer(await token_for(client, **_login(await make_user(office=top, roles=("admin",)))))
    admin = bearer(await token_for(client, **_login(await make_user(office=district, roles=("admin",)))))
    wide = ["admin.permissions.manage", "admin.permissions.read", "admin.users.read"]
    own = await client.put("/api/v1/admin/permissions", headers=admin, json={"grants": {"admin": wide}})
    assert own.status_code == 200, own.text
    assert (await client.get("/api/v1/admin/users", headers=admin)).status_code == 200
    narrowed = await client.put("/api/v1/admin/permissions", headers=top_admin, params={"level": "province"},
                                json={"grants": {"admin": ["admin.permissions.manage", "admin.permissions.read"]}})
    assert narrowed.status_code == 200, narrowed.text
    effective = (await client.get("/api/v1/admin/permissions", headers=admin)).json()
    assert "admin.users.read" not in effective["grants"]["admin"]
    # The list in force is cached per worker for a few seconds; a new worker (or this one soon) refuses at once.
    district_id = await conn.fetchval("select id from offices where code = $1", district)
    assert "admin.users.read" not in (await effective_grants(conn, district_id))["admin"]


def _login(user: dict) -> dict:
    return {"username": user["username"], "password": user["password"]}
