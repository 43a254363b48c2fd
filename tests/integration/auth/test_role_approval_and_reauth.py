"""Security round two, findings 13 and 16: an admin cannot give themselves (or anyone) a role that sees reporters'
identities alone, and enrolling a second factor asks for the password again."""

from __future__ import annotations

import uuid

from tests.helpers import bearer, key, token_for


async def _roles(conn, user_id) -> list[str]:  # noqa: ANN001
    return sorted(await conn.fetchval("select roles from users where id = $1", user_id))


async def test_an_admin_cannot_give_themselves_chief(client, make_user, conn) -> None:  # noqa: ANN001
    admin = await make_user(roles=("admin",))
    headers = bearer(await token_for(client, admin["username"], admin["password"]))
    resp = await client.patch(f"/api/v1/admin/users/{admin['id']}", headers=headers, json={"roles": ["admin", "chief"]})
    assert resp.status_code == 403, resp.text
    assert resp.json()["code"] == "approval_required" and resp.json()["extra"]["reason"] == "own_roles"
    assert await _roles(conn, admin["id"]) == ["admin"]


async def test_granting_a_role_that_sees_identities_needs_a_second_admin(client, make_user, conn) -> None:  # noqa: ANN001
    admin = bearer(await token_for(client, "jinshan.admin"))
    staff = await make_user(roles=("prosecutor",))
    for role in ("chief", "dept_head"):  # both carry complaint.identity.view in the national list
        resp = await client.patch(f"/api/v1/admin/users/{staff['id']}", headers=admin, json={"roles": [role]})
        assert resp.status_code == 403 and resp.json()["code"] == "approval_required", resp.text
        assert resp.json()["extra"]["reason"] == "identity_access"
    assert await _roles(conn, staff["id"]) == ["prosecutor"]
    # A role without that power is still the admin's own decision.
    ok = await client.patch(f"/api/v1/admin/users/{staff['id']}", headers=admin, json={"roles": ["assistant"]})
    assert ok.status_code == 200 and ok.json()["roles"] == ["assistant"]


async def test_a_second_admin_or_the_office_above_approves(client, make_user, conn) -> None:  # noqa: ANN001
    first = await make_user(roles=("admin",))
    first_h = bearer(await token_for(client, first["username"], first["password"]))
    asked = await client.post("/api/v1/admin/role-requests", headers={**first_h, **key()},
                              json={"userId": str(first["id"]), "roles": ["admin", "chief"]})
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["id"]
    assert asked.json()["reason"] == "own_roles" and asked.json()["decision"] is None
    # Not by the one who asked, not by another office's admin (404: not theirs to see).
    own = await client.post(f"/api/v1/admin/role-requests/{request_id}/approval", headers=first_h)
    assert own.status_code == 403 and own.json()["code"] == "approval_required"
    other = bearer(await token_for(client, "chongming.admin"))
    assert (await client.post(f"/api/v1/admin/role-requests/{request_id}/approval", headers=other)).status_code == 404
    assert await _roles(conn, first["id"]) == ["admin"]
    # The admin of the office above approves: the roles apply and the account's sessions end.
    upper = bearer(await token_for(client, "shanghai.admin"))
    listed = await client.get("/api/v1/admin/role-requests", headers=upper)
    assert request_id in [r["id"] for r in listed.json()["items"]]
    approved = await client.post(f"/api/v1/admin/role-requests/{request_id}/approval", headers=upper)
    assert approved.status_code == 200 and approved.json()["decision"] == "approved", approved.text
    assert await _roles(conn, first["id"]) == ["admin", "chief"]
    assert (await client.get("/api/v1/auth/me", headers=first_h)).status_code == 401
    again = await client.post(f"/api/v1/admin/role-requests/{request_id}/rejection", headers=upper)
    assert again.status_code == 409
    actions = await conn.fetch("select action from audit_log where object_id = $1", str(first["id"]))
    assert {"admin.roles.requested", "admin.roles.approved"} <= {r["action"] for r in actions}


async def test_a_second_admin_of_the_office_rejects(client, make_user, conn) -> None:  # noqa: ANN001
    staff = await make_user(roles=("prosecutor",))
    admin = bearer(await token_for(client, "jinshan.admin"))
    asked = await client.post("/api/v1/admin/role-requests", headers={**admin, **key()},
                              json={"userId": str(staff["id"]), "roles": ["chief"]})
    assert asked.status_code == 201 and asked.json()["reason"] == "identity_access"
    twice = await client.post("/api/v1/admin/role-requests", headers={**admin, **key()},
                              json={"userId": str(staff["id"]), "roles": ["dept_head"]})
    assert twice.status_code == 409
    second = await make_user(roles=("admin",))
    second_h = bearer(await token_for(client, second["username"], second["password"]))
    rejected = await client.post(f"/api/v1/admin/role-requests/{asked.json()['id']}/rejection", headers=second_h)
    assert rejected.status_code == 200 and rejected.json()["decision"] == "rejected"
    assert await _roles(conn, staff["id"]) == ["prosecutor"]


async def test_no_permission_list_gives_the_admin_role_identities(client, conn) -> None:  # noqa: ANN001
    # The same defect by another door: the province's top admin writing identity access into the admin role.
    upper = bearer(await token_for(client, "shanghai.admin"))
    current = (await client.get("/api/v1/admin/permissions", headers=upper)).json()["grants"]
    wider = {**current, "admin": [*current["admin"], "complaint.identity.view"]}
    resp = await client.put("/api/v1/admin/permissions?level=province", headers=upper, json={"grants": wider})
    assert resp.status_code == 400 and resp.json()["code"] == "validation_failed", resp.text
    assert not await conn.fetchval("select exists (select 1 from permission_grants where role = 'admin' "
                                   "and action = 'complaint.identity.view')")


async def test_totp_enrolment_asks_for_the_password_again(client, make_user, conn) -> None:  # noqa: ANN001
    user = await make_user()
    tokens = bearer(await token_for(client, user["username"], user["password"]))
    # An access token alone (say, stolen) no longer ties the attacker's authenticator to the account.
    bare = await client.post("/api/v1/auth/totp/enrollment", headers=tokens)
    assert bare.status_code == 400, bare.text
    wrong = await client.post("/api/v1/auth/totp/enrollment", headers=tokens, json={"password": "not-" + uuid.uuid4().hex})
    assert wrong.status_code == 403 and wrong.json()["code"] == "wrong_password"
    assert await conn.fetchval("select totp_secret_enc from users where id = $1", user["id"]) is None
    right = await client.post("/api/v1/auth/totp/enrollment", headers=tokens, json={"password": user["password"]})
    assert right.status_code == 200 and right.json()["secret"]


async def test_guessing_the_password_at_enrolment_locks_the_account(client, make_user) -> None:  # noqa: ANN001
    user = await make_user()
    tokens = bearer(await token_for(client, user["username"], user["password"]))
    codes = [(await client.post("/api/v1/auth/totp/enrollment", headers=tokens, json={"password": f"guess-{i}"})
              ).status_code for i in range(6)]
    assert codes == [403] * 5 + [429]
    # The right password is refused too until the lock-out ends (or an admin lifts it).
    assert (await client.post("/api/v1/auth/totp/enrollment", headers=tokens,
                              json={"password": user["password"]})).status_code == 429
