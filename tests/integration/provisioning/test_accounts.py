"""Creating accounts, the password policy, one's own change, admin reset, move, retire and unlock."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.helpers import bearer, key, token_for


def _login(username: str, password: str) -> dict[str, str]:
    return {"grant_type": "password", "client_id": "staff-app", "username": username, "password": password}


@pytest.fixture(name="office")
async def fx_office(client, conn, make_user):  # noqa: ANN001, ANN201
    """A fresh district office with an admin of its own, so policy changes touch no other test."""
    code = "pw" + uuid.uuid4().hex[:8]
    await conn.execute("insert into offices (code, name, parent_id, province, level) values "
                       "($1, $1, (select id from offices where code = 'shanghai'), '上海', 'county')", code)
    admin = await make_user(office=code, roles=("admin",))
    return {"code": code, "admin": bearer(await token_for(client, admin["username"], admin["password"]))}


async def _create(client, headers, **body):  # noqa: ANN001, ANN003, ANN202
    body = {"username": "u" + uuid.uuid4().hex[:10], "displayName": "张三", **body}
    return await client.post("/api/v1/admin/users", headers={**headers, **key()}, json=body)


async def _first_sign_in(client, username: str, one_time: str, new: str) -> dict:  # noqa: ANN001
    pending = await client.post("/api/v1/auth/token", data=_login(username, one_time))
    assert pending.status_code == 200 and pending.json()["scope"] == "password_change", pending.text
    changed = await client.post("/api/v1/auth/password", headers=bearer(pending.json()),
                                json={"oldPassword": one_time, "newPassword": new})
    assert changed.status_code == 200, changed.text
    return changed.json()


async def test_create_needs_a_key_and_a_retry_never_sees_the_password_again(client, office, conn) -> None:  # noqa: ANN001
    body = {"username": "u" + uuid.uuid4().hex[:10], "displayName": "李四", "roles": ["prosecutor"],
            "department": "第一检察部"}
    missing = await client.post("/api/v1/admin/users", headers=office["admin"], json=body)
    assert missing.status_code == 400 and missing.json()["code"] == "idempotency_key_required"
    headers = {**office["admin"], **key()}
    first = await client.post("/api/v1/admin/users", headers=headers, json=body)
    assert first.status_code == 201, first.text
    created = first.json()
    assert created["delivery"] == "shown_once" and created["account"]["mustChangePassword"]
    assert first.headers["cache-control"] == "no-store"
    retry = await client.post("/api/v1/admin/users", headers=headers, json=body)
    assert retry.status_code == 201 and retry.headers["idempotent-replayed"] == "true"
    assert retry.json()["account"]["id"] == created["account"]["id"] and "oneTimePassword" not in retry.json()
    stored = await conn.fetchval("select response from idempotency_keys where key = $1", headers["Idempotency-Key"])
    assert created["oneTimePassword"].encode() not in stored
    taken = await _create(client, office["admin"], username=body["username"])
    assert taken.status_code == 409 and taken.json()["code"] == "conflict"


async def test_a_phone_gets_the_password_by_text(client, office, settings) -> None:  # noqa: ANN001
    phone = f"137{uuid.uuid4().int % 10**8:08d}"
    resp = await _create(client, office["admin"], phone=phone)
    assert resp.status_code == 201 and resp.json()["delivery"] == "sms" and "oneTimePassword" not in resp.json()
    outbox = (settings.data_path / "sms-outbox.jsonl").read_text()
    assert phone in outbox and resp.json()["account"]["username"] in outbox


async def test_a_new_account_with_a_role_that_sees_identities_waits_for_approval(client, office) -> None:  # noqa: ANN001
    resp = await _create(client, office["admin"], roles=["dept_head"])
    assert resp.status_code == 201, resp.text
    assert resp.json()["account"]["roles"] == [] and resp.json()["roleRequest"]


async def test_a_bad_row_creates_nothing(client, office, conn) -> None:  # noqa: ANN001
    name = "b" + uuid.uuid4().hex[:8]
    csv = (f"name,username,roles,department,phone\n甲,{name}1,prosecutor,,\n乙,{name}2,pope,,\n"
           f"丙,{name}3,assistant,,12345\n")
    resp = await client.post("/api/v1/admin/users/bulk", headers={**office["admin"], **key(),
                                                                  "Content-Type": "text/csv"}, content=csv.encode())
    assert resp.status_code == 400 and resp.json()["code"] == "validation_failed", resp.text
    fields = {e["field"] for e in resp.json()["errors"]}
    assert fields == {"line 3", "line 4"}
    assert not await conn.fetchval("select count(*) from users where username like $1", name + "%")
    as_json = await client.post("/api/v1/admin/users/bulk", headers={**office["admin"], **key()}, json={})
    assert as_json.status_code == 415
    # Found by the fuzzer: a field the csv module cannot read is the client's error, not a 500.
    unreadable = await client.post("/api/v1/admin/users/bulk", headers={**office["admin"], **key(),
                                   "Content-Type": "text/csv"}, content=b'name,username\n"a"b"\x00' + b"x" * 200_000)
    assert unreadable.status_code == 400 and unreadable.json()["code"] in ("malformed_body", "validation_failed")
    lone_cr = await client.post("/api/v1/admin/users/bulk", headers={**office["admin"], **key(),
                                "Content-Type": "text/csv"}, content=b"na\rme,username\n")
    assert lone_cr.status_code == 400


async def test_the_password_policy_refuses_weak_common_and_reused_passwords(client, office) -> None:  # noqa: ANN001
    created = (await _create(client, office["admin"])).json()
    username, one_time = created["account"]["username"], created["oneTimePassword"]
    pending = bearer((await client.post("/api/v1/auth/token", data=_login(username, one_time))).json())
    for weak, rule in (("short1A!", "at least 10"), ("alllowercaseletters", "three of"),
                       ("P@ssw0rd123", "commonly used"), (f"{username}-X9!", "username")):
        resp = await client.post("/api/v1/auth/password", headers=pending,
                                 json={"oldPassword": one_time, "newPassword": weak})
        assert resp.status_code == 400 and resp.json()["code"] == "weak_password", weak
        assert any(rule in e["message"] for e in resp.json()["errors"]), (weak, resp.json())
    first = "First-pass-8421"
    tokens = await _first_sign_in(client, username, one_time, first)
    second = "Second-pass-5530"
    assert (await client.post("/api/v1/auth/password", headers=bearer(tokens),
                              json={"oldPassword": first, "newPassword": second})).status_code == 200
    tokens = await token_for(client, username, second)
    back = await client.post("/api/v1/auth/password", headers=bearer(tokens),
                             json={"oldPassword": second, "newPassword": first})
    assert back.status_code == 400 and back.json()["code"] == "password_reused"


async def test_changing_ones_password_ends_every_other_session(client, office) -> None:  # noqa: ANN001
    created = (await _create(client, office["admin"])).json()
    username = created["account"]["username"]
    await _first_sign_in(client, username, created["oneTimePassword"], "Mine-own-pass-1")
    phone = await token_for(client, username, "Mine-own-pass-1")
    laptop = await token_for(client, username, "Mine-own-pass-1")
    wrong = await client.post("/api/v1/auth/password", headers=bearer(laptop),
                              json={"oldPassword": "not-it", "newPassword": "Mine-own-pass-2"})
    assert wrong.status_code == 403 and wrong.json()["code"] == "wrong_password"
    changed = await client.post("/api/v1/auth/password", headers=bearer(laptop),
                                json={"oldPassword": "Mine-own-pass-1", "newPassword": "Mine-own-pass-2"})
    assert changed.status_code == 200
    for old in (phone, laptop):
        assert (await client.get("/api/v1/auth/me", headers=bearer(old))).status_code == 401
        refreshed = await client.post("/api/v1/auth/token", data={"grant_type": "refresh_token",
                                                                   "refresh_token": old["refresh_token"]})
        assert refreshed.status_code == 400
    assert (await client.get("/api/v1/auth/me", headers=bearer(changed.json()))).status_code == 200


async def test_expiry_as_office_policy_and_one_time_passwords_last_72_hours(client, office, conn) -> None:  # noqa: ANN001
    set_policy = await client.put("/api/v1/admin/office/password-policy", headers=office["admin"],
                                  json={"minLength": 12, "history": 3, "maxAgeDays": 90})
    assert set_policy.status_code == 200
    created = (await _create(client, office["admin"])).json()
    username = created["account"]["username"]
    await _first_sign_in(client, username, created["oneTimePassword"], "Twelve-chars-ok")
    await conn.execute("update users set password_changed_at = now() - interval '91 days' where username = $1",
                       username)
    expired = await client.post("/api/v1/auth/token", data=_login(username, "Twelve-chars-ok"))
    assert expired.status_code == 200 and expired.json()["scope"] == "password_change"
    late = (await _create(client, office["admin"])).json()
    await conn.execute("update users set password_expires_at = now() - interval '1 second' where username = $1",
                       late["account"]["username"])
    refused = await client.post("/api/v1/auth/token", data=_login(late["account"]["username"], late["oneTimePassword"]))
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


async def test_reset_retire_and_unlock(client, office, conn) -> None:  # noqa: ANN001
    created = (await _create(client, office["admin"])).json()
    user_id, username = created["account"]["id"], created["account"]["username"]
    await _first_sign_in(client, username, created["oneTimePassword"], "Before-reset-1")
    session = await token_for(client, username, "Before-reset-1")
    reset = await client.post(f"/api/v1/admin/users/{user_id}/password-reset", headers=office["admin"])
    assert reset.status_code == 200 and reset.json()["oneTimePassword"]
    assert (await client.get("/api/v1/auth/me", headers=bearer(session))).status_code == 401
    await asyncio.sleep(1.05)  # the reset's "signed out before" mark is in whole seconds: sign in after it
    await _first_sign_in(client, username, reset.json()["oneTimePassword"], "After-reset-22")
    # Five failures lock the account; the admin lifts the lock.
    for _ in range(5):
        assert (await client.post("/api/v1/auth/token", data=_login(username, "nope"))).status_code == 400
    assert (await client.post("/api/v1/auth/token", data=_login(username, "After-reset-22"))).status_code == 429
    assert (await client.post(f"/api/v1/admin/users/{user_id}/unlock", headers=office["admin"])).status_code == 204
    assert (await client.post("/api/v1/auth/token", data=_login(username, "After-reset-22"))).status_code == 200
    # Retired: no sign-in, but kept (and listed) for the audit trail.
    retired = await client.post(f"/api/v1/admin/users/{user_id}/retire", headers=office["admin"])
    assert retired.status_code == 200 and retired.json()["retired"]
    assert (await client.post("/api/v1/auth/token", data=_login(username, "After-reset-22"))).status_code == 400
    assert (await client.get(f"/api/v1/admin/users/{user_id}", headers=office["admin"])).json()["disabled"]
    revive = await client.patch(f"/api/v1/admin/users/{user_id}", headers=office["admin"], json={"disabled": False})
    assert revive.status_code == 409
    actions = {r["action"] for r in await conn.fetch("select action from audit_log where object_id = $1", user_id)}
    assert {"admin.user.created", "admin.user.password_reset", "admin.user.unlocked", "admin.user.retired",
            "auth.password.changed"} <= actions


async def test_lifecycle_routes_are_scoped_to_the_office(client, office, conn) -> None:  # noqa: ANN001
    other = await conn.fetchval("select id from users where username = 'chongming.prosecutor'")
    for path in ("password-reset", "retire", "unlock"):
        resp = await client.post(f"/api/v1/admin/users/{other}/{path}", headers=office["admin"])
        assert resp.status_code == 404 and resp.json()["code"] == "not_found", path
    moved = await client.post(f"/api/v1/admin/users/{other}/move", headers=office["admin"], json={"office": "jinshan"})
    assert moved.status_code == 404
    me = (await client.get("/api/v1/auth/me", headers=office["admin"])).json()["sub"]
    assert (await client.post(f"/api/v1/admin/users/{me}/retire", headers=office["admin"])).status_code == 409


async def test_a_move_keeps_the_history_with_the_old_office(client, office, conn) -> None:  # noqa: ANN001
    created = (await _create(client, office["admin"], roles=["prosecutor"])).json()
    user_id = created["account"]["id"]
    moved = await client.post(f"/api/v1/admin/users/{user_id}/move", headers=office["admin"],
                              json={"office": "chongming"})
    assert moved.status_code == 200 and moved.json()["office"] == "chongming" and moved.json()["roles"] == []
    history = await conn.fetchrow("select o.code from user_office_history h join offices o on o.id = h.office_id "
                                  "where h.user_id = $1", uuid.UUID(user_id))
    assert history["code"] == office["code"]
    old_trail = await conn.fetchval(
        "select count(*) from audit_log where object_id = $1 and office_id = (select id from offices where code = $2)",
        user_id, office["code"])
    assert old_trail >= 2  # created and moved out, both still with the old office
    chongming = bearer(await token_for(client, "chongming.admin"))
    assert (await client.get(f"/api/v1/admin/users/{user_id}", headers=chongming)).status_code == 200


async def test_representatives_come_from_the_same_file_and_change_their_password_too(client, office) -> None:  # noqa: ANN001
    name = "d" + uuid.uuid4().hex[:8]
    csv = f"name,username,roles,department,phone,kind\n王代表,{name},,,,deputy\n"
    resp = await client.post("/api/v1/admin/users/bulk", headers={**office["admin"], **key(),
                                                                  "Content-Type": "text/csv"}, content=csv.encode())
    assert resp.status_code == 201, resp.text
    created = resp.json()["created"][0]
    assert created["account"]["kind"] == "deputy"
    form = {**_login(name, created["oneTimePassword"]), "client_id": "representative-app"}
    pending = await client.post("/api/v1/auth/token", data=form)
    assert pending.status_code == 200 and pending.json()["scope"] == "password_change"
    changed = await client.post("/api/v1/auth/password", headers=bearer(pending.json()),
                                json={"oldPassword": created["oneTimePassword"], "newPassword": "Deputy-pass-2026x"})
    assert changed.status_code == 200 and changed.json()["scope"] == ""
    me = await client.get("/api/v1/auth/me", headers=bearer(changed.json()))
    assert me.json()["kind"] == "deputy" and me.json()["audience"] == "jianwu:representative"
