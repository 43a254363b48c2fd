"""Second factor for staff, office-wide TOTP requirement, key rotation, and failing closed without Redis."""

from __future__ import annotations

import dataclasses

import jwt as pyjwt
import pyotp
from litestar.testing import AsyncTestClient

from api.app import create_app
from auth.keyring import rotate_signing_key
from auth.secretbox import SecretBox

from tests.helpers import bearer, token_for


def _login(username: str, password: str, **extra: str) -> dict[str, str]:
    return {"grant_type": "password", "username": username, "password": password, "client_id": "staff-app", **extra}


async def test_totp_enrolment_and_sign_in(client, make_user) -> None:  # noqa: ANN001
    user = await make_user()
    tokens = await token_for(client, user["username"], user["password"])
    enrol = await client.post("/api/v1/auth/totp/enrollment", headers=bearer(tokens),
                                json={"password": user["password"]})
    assert enrol.status_code == 200, enrol.text
    secret = enrol.json()["secret"]
    assert enrol.json()["otpauthUri"].startswith("otpauth://totp/")
    wrong = await client.post("/api/v1/auth/totp/confirmation", headers=bearer(tokens), json={"code": "000000"})
    assert wrong.status_code == 400
    confirmed = await client.post("/api/v1/auth/totp/confirmation", headers=bearer(tokens),
                                  json={"code": pyotp.TOTP(secret).now()})
    assert confirmed.status_code == 200, confirmed.text
    recovery = confirmed.json()["recoveryCodes"]
    assert len(recovery) == 10

    without = await client.post("/api/v1/auth/token", data=_login(user["username"], user["password"]))
    assert without.status_code == 400 and without.json()["extra"]["reason"] == "mfa_required"
    with_code = await client.post("/api/v1/auth/token", data=_login(user["username"], user["password"],
                                                                     totp=pyotp.TOTP(secret).now()))
    assert with_code.status_code == 200
    assert pyjwt.decode(with_code.json()["access_token"], options={"verify_signature": False})["amr"] == ["pwd", "otp"]
    first = await client.post("/api/v1/auth/token", data=_login(user["username"], user["password"], totp=recovery[0]))
    assert first.status_code == 200
    reused = await client.post("/api/v1/auth/token", data=_login(user["username"], user["password"], totp=recovery[0]))
    assert reused.status_code == 400


async def test_office_requirement_limits_unenrolled_staff_to_enrolment(client, conn, make_user) -> None:  # noqa: ANN001
    office = "totp" + (await conn.fetchval("select substr(md5(random()::text), 1, 6)"))
    await conn.execute("insert into offices (code, name, parent_id, province, level, require_totp) values "
                       "($1, $1, (select id from offices where code = 'shanghai'), '上海', 'county', true)", office)
    user = await make_user(office=office, roles=("admin",))
    tokens = await token_for(client, user["username"], user["password"])
    assert tokens["scope"] == "mfa_enroll"
    blocked = await client.get("/api/v1/admin/users", headers=bearer(tokens))
    assert blocked.status_code == 403 and blocked.json()["extra"]["reason"] == "mfa_enrollment_required"
    assert (await client.post("/api/v1/auth/totp/enrollment", headers=bearer(tokens),
                                json={"password": user["password"]})).status_code == 200


async def test_key_rotation_keeps_old_tokens_valid(client, conn, settings) -> None:  # noqa: ANN001
    from api.db import Database, create_pool
    from auth.jwt import AUD_STAFF
    from auth.keyring import Keyring

    before = await token_for(client, "jinshan.prosecutor")
    old_kid = pyjwt.get_unverified_header(before["access_token"])["kid"]
    box = SecretBox(settings.secret_key)
    new_kid = await rotate_signing_key(conn, box)
    assert new_kid != old_kid
    pool = await create_pool(settings, settings.database_url)
    try:
        keyring = Keyring(Database(pool, 2.0), box)  # a worker as it starts after the rotation
        await keyring.load()
        assert {k["kid"] for k in keyring.jwks()["keys"]} >= {old_kid, new_kid}
        assert (await keyring.verify(before["access_token"], [AUD_STAFF]))["sub"]
        fresh = await keyring.sign({"iss": "jianwu", "sub": "x", "aud": AUD_STAFF, "iat": 1, "exp": 2, "jti": "j",
                                    "tt": "access"})
        assert pyjwt.get_unverified_header(fresh)["kid"] == new_kid
    finally:
        await pool.close()
    # The running app still accepts the token signed before the rotation.
    assert (await client.get("/api/v1/auth/me", headers=bearer(before))).status_code == 200


async def test_redis_down_fails_closed(client, settings) -> None:  # noqa: ANN001
    tokens = await token_for(client, "jinshan.prosecutor")
    app = create_app(dataclasses.replace(settings, redis_url="redis://127.0.0.1:9/0"))
    async with AsyncTestClient(app=app) as down:
        # No request that needs the revocation check is let through ...
        me = await down.get("/api/v1/auth/me", headers=bearer(tokens))
        # ... and no password is checked without the lockout counter that guards it.
        login = await down.post("/api/v1/auth/token", data=_login("jinshan.prosecutor", "jianwu-demo"))
    for resp in (me, login):
        assert resp.status_code == 503, resp.text
        assert resp.json()["code"] == "cache_unavailable"
        assert resp.headers["retry-after"]
