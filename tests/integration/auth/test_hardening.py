"""Attacks found in review: each must stay fixed."""

from __future__ import annotations

import asyncio
import base64
import uuid

import msgspec
import pyotp

from tests.helpers import bearer, partner_token, token_for


def _form(username: str, password: str, **extra: str) -> dict[str, str]:
    return {"grant_type": "password", "username": username, "password": password, "client_id": "staff-app", **extra}


async def test_outsiders_can_never_be_granted_staff_powers(client, make_user, conn) -> None:  # noqa: ANN001
    code = f"hard{uuid.uuid4().hex[:6]}"
    await conn.execute("insert into offices (code, name, parent_id, province, level) values "
                       "($1, $1, (select id from offices where code = 'shanghai'), '上海', 'county')", code)
    admin = await make_user(office=code, roles=("admin",))
    h = bearer(await token_for(client, admin["username"], admin["password"]))
    for role in ("partner", "deputy", "citizen"):
        resp = await client.put("/api/v1/admin/permissions", headers=h,
                                json={"grants": {"admin": ["admin.users.read"], role: ["admin.users.manage"]}})
        assert resp.status_code == 400, (role, resp.text)
    scoped = await client.post("/api/v1/admin/partner-clients", headers=h, json={
        "clientId": f"{code}-evil-{uuid.uuid4().hex[:6]}", "name": "x", "agencyKind": "police",
        "scopes": ["admin.users.manage"]})
    assert scoped.status_code == 400
    # An office narrows its province's list; it cannot widen it.
    wider = await client.put("/api/v1/admin/permissions", headers=h, json={
        "grants": {"admin": ["admin.users.read"], "assistant": ["complaint.designate"]}})
    assert wider.status_code == 400 and "province" in wider.json()["detail"]


async def test_concurrent_wrong_passwords_cannot_pass_the_lockout(client, make_user) -> None:  # noqa: ANN001
    user = await make_user()
    results = await asyncio.gather(*(client.post("/api/v1/auth/token", data=_form(user["username"], f"guess{i}"))
                                     for i in range(12)))
    codes = [r.status_code for r in results]
    assert codes.count(400) <= 5 and codes.count(429) >= 7
    late = await client.post("/api/v1/auth/token", data=_form(user["username"], user["password"]))
    assert late.status_code == 429 and late.headers["cache-control"] == "no-store"


async def test_totp_codes_and_recovery_codes_work_once(client, make_user) -> None:  # noqa: ANN001
    user = await make_user()
    tokens = await token_for(client, user["username"], user["password"])
    secret = (await client.post("/api/v1/auth/totp/enrollment", headers=bearer(tokens),
                                json={"password": user["password"]})).json()["secret"]
    confirmed = await client.post("/api/v1/auth/totp/confirmation", headers=bearer(tokens),
                                  json={"code": pyotp.TOTP(secret).now()})
    recovery = confirmed.json()["recoveryCodes"]
    # Confirming ended every session, this one included: the next sign-in needs the second factor.
    assert (await client.get("/api/v1/auth/me", headers=bearer(tokens))).status_code == 401
    await asyncio.sleep(1.05)
    now = pyotp.TOTP(secret).now()
    first = await client.post("/api/v1/auth/token", data=_form(user["username"], user["password"], totp=now))
    replay = await client.post("/api/v1/auth/token", data=_form(user["username"], user["password"], totp=now))
    assert first.status_code == 200 and replay.status_code == 400
    racing = await asyncio.gather(*(client.post("/api/v1/auth/token", data=_form(
        user["username"], user["password"], totp=recovery[1])) for _ in range(4)))
    assert sorted(r.status_code for r in racing) == [200, 400, 400, 400]


async def test_logout_and_reuse_revoke_every_access_token_of_the_sign_in(client) -> None:  # noqa: ANN001
    tokens = await token_for(client, "chongming.prosecutor")
    refreshed = await client.post("/api/v1/auth/token", data={"grant_type": "refresh_token",
                                                               "refresh_token": tokens["refresh_token"]})
    newer = refreshed.json()
    assert (await client.post("/api/v1/auth/logout", headers=bearer(tokens))).status_code == 204
    # The access token issued by the refresh belongs to the same sign-in: it is refused too.
    assert (await client.get("/api/v1/auth/me", headers=bearer(newer))).status_code == 401


async def test_a_client_named_like_a_user_cannot_sign_that_user_out(client, conn) -> None:  # noqa: ANN001
    victim = await token_for(client, "jinshan.assistant")
    victim_id = await conn.fetchval("select id from users where username = 'jinshan.assistant'")
    admin = bearer(await token_for(client, "jinshan.admin"))
    bare = await client.post("/api/v1/admin/partner-clients", headers=admin, json={
        "clientId": str(victim_id), "name": "look-alike", "agencyKind": "police"})
    assert bare.status_code == 400  # client ids carry the office prefix, so they never equal an account id
    created = await client.post("/api/v1/admin/partner-clients", headers=admin, json={
        "clientId": f"jinshan-{victim_id}", "name": "look-alike", "agencyKind": "police"})
    assert created.status_code == 201, created.text
    disabled = await client.patch(f"/api/v1/admin/partner-clients/{created.json()['client']['id']}", headers=admin,
                                  json={"disabled": True})
    assert disabled.status_code == 200
    assert (await client.get("/api/v1/auth/me", headers=bearer(victim))).status_code == 200


async def test_nul_bytes_and_forged_cursors_are_400_not_500(client) -> None:  # noqa: ANN001
    resp = await client.post("/api/v1/auth/token", data=_form("jinshan\x00admin", "x"))
    assert resp.status_code in (400, 429) and resp.status_code != 500
    admin = bearer(await token_for(client, "jinshan.admin"))
    audit = await client.get("/api/v1/admin/audit", headers=admin, params={"action": "a\x00b"})
    assert audit.status_code == 400
    forged = base64.urlsafe_b64encode(msgspec.json.encode(["2026-01-01T00:00:00Z", "not-a-uuid"])).decode()
    page = await client.get("/api/v1/admin/users", headers=admin, params={"cursor": forged})
    assert page.status_code == 400


async def test_concurrent_permission_saves_never_500(client, make_user, conn) -> None:  # noqa: ANN001
    code = f"race{uuid.uuid4().hex[:6]}"
    await conn.execute("insert into offices (code, name, parent_id, province, level) values "
                       "($1, $1, (select id from offices where code = 'shanghai'), '上海', 'county')", code)
    admin = await make_user(office=code, roles=("admin",))
    h = bearer(await token_for(client, admin["username"], admin["password"]))
    grants = {"admin": ["admin.permissions.manage", "admin.permissions.read"]}
    results = await asyncio.gather(*(client.put("/api/v1/admin/permissions", headers=h, json={"grants": grants})
                                     for _ in range(4)))
    assert [r.status_code for r in results] == [200] * 4


async def test_partners_see_their_budget_on_every_answer(client) -> None:  # noqa: ANN001
    token = await partner_token(client, "chongming-ecoenv")
    resp = await client.get("/api/v1/auth/me", headers=bearer(token))
    assert resp.status_code == 200
    assert int(resp.headers["ratelimit-limit"]) > 0 and "ratelimit-remaining" in resp.headers


async def test_refresh_keeps_the_sign_in_expiry_and_reapplies_policy(client, conn, make_user) -> None:  # noqa: ANN001
    user = await make_user()
    tokens = await token_for(client, user["username"], user["password"])
    first = await conn.fetchval("select expires_at from refresh_tokens where user_id = $1", user["id"])
    await conn.execute("update offices set require_totp = true where code = 'jinshan'")
    try:
        refreshed = await client.post("/api/v1/auth/token", data={"grant_type": "refresh_token",
                                                                   "refresh_token": tokens["refresh_token"]})
        assert refreshed.json()["scope"] == "mfa_enroll"
    finally:
        await conn.execute("update offices set require_totp = false where code = 'jinshan'")
    expiries = await conn.fetch("select expires_at from refresh_tokens where user_id = $1", user["id"])
    assert {r["expires_at"] for r in expiries} == {first}
