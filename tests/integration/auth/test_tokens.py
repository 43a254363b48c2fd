"""The token endpoint: each grant, RFC 6749 errors, refresh rotation with reuse detection, sign-out."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from auth.jwt import AUD_PARTNER, AUD_PUBLIC, AUD_REPRESENTATIVE, AUD_STAFF

from tests.helpers import bearer, partner_token, token_for


def _claims(token: str) -> dict:
    return pyjwt.decode(token, options={"verify_signature": False})


async def _refresh(client, refresh_token: str):  # noqa: ANN001, ANN202
    return await client.post("/api/v1/auth/token", data={"grant_type": "refresh_token",
                                                          "refresh_token": refresh_token})


def _oauth_error(resp, status: int, error: str) -> None:  # noqa: ANN001
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["error"] == error and body["code"] == error
    assert body["error_description"]
    assert resp.headers["cache-control"] == "no-store"


async def test_staff_password_grant(client) -> None:  # noqa: ANN001
    tokens = await token_for(client, "jinshan.prosecutor", device_id="phone-1")
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] <= 600
    assert tokens["refresh_token"].startswith("rt_")
    header = pyjwt.get_unverified_header(tokens["access_token"])
    assert header["alg"] == "ES256" and header["kid"]
    claims = _claims(tokens["access_token"])
    assert claims["aud"] == AUD_STAFF and claims["kind"] == "staff" and claims["roles"] == ["prosecutor"]
    assert claims["did"] == "phone-1" and claims["exp"] - claims["iat"] <= 600
    assert {"exp", "iat", "iss", "aud", "sub", "jti", "tt"} <= set(claims)
    me = (await client.get("/api/v1/auth/me", headers=bearer(tokens))).json()
    assert me["kind"] == "staff" and me["officeId"] == claims["office"]


async def test_representatives_get_their_own_audience(client) -> None:  # noqa: ANN001
    tokens = await token_for(client, "chongming.deputy", client_id="representative-app")
    assert _claims(tokens["access_token"])["aud"] == AUD_REPRESENTATIVE
    # A deputy cannot sign in through the staff app, nor staff through the representative app.
    resp = await client.post("/api/v1/auth/token", data={"grant_type": "password", "username": "chongming.deputy",
                                                          "password": "jianwu-demo", "client_id": "staff-app"})
    _oauth_error(resp, 400, "invalid_grant")


@pytest.mark.parametrize(("form", "status", "error"), [
    ({"grant_type": "password", "username": "jinshan.chief", "password": "wrong", "client_id": "staff-app"},
     400, "invalid_grant"),
    ({"grant_type": "password", "username": "jinshan.chief", "password": "jianwu-demo", "client_id": "nope"},
     401, "invalid_client"),
    ({"grant_type": "password", "client_id": "staff-app"}, 400, "invalid_request"),
    ({"grant_type": "magic"}, 400, "unsupported_grant_type"),
    ({}, 400, "invalid_request"),
    ({"grant_type": "password", "username": "jinshan.chief", "password": "jianwu-demo", "client_id": "public-app"},
     400, "unauthorized_client"),
    ({"grant_type": "client_credentials", "client_id": "jinshan-police", "client_secret": "wrong"},
     401, "invalid_client"),
    ({"grant_type": "client_credentials", "client_id": "jinshan-police", "client_secret": "jianwu-demo-secret",
      "scope": "admin.users.manage"}, 400, "invalid_scope"),
    ({"grant_type": "refresh_token", "refresh_token": "rt_not_a_token"}, 400, "invalid_grant"),
    ({"grant_type": "refresh_token"}, 400, "invalid_request"),
])
async def test_rfc6749_errors(client, form, status, error) -> None:  # noqa: ANN001
    _oauth_error(await client.post("/api/v1/auth/token", data=form), status, error)


async def test_token_endpoint_wants_a_form(client) -> None:  # noqa: ANN001
    resp = await client.post("/api/v1/auth/token", json={"grant_type": "password"})
    assert resp.status_code == 415
    assert resp.json()["code"] == "unsupported_media_type"


async def test_partner_client_credentials_with_secret(client) -> None:  # noqa: ANN001
    tokens = await partner_token(client)
    assert "refresh_token" not in tokens
    claims = _claims(tokens["access_token"])
    assert claims["aud"] == AUD_PARTNER and claims["sub"] == "jinshan-police" and claims["kind"] == "partner"
    basic = await client.post("/api/v1/auth/token", data={"grant_type": "client_credentials"},
                              auth=("jinshan-police", "jianwu-demo-secret"))
    assert basic.status_code == 200, basic.text


async def test_partner_private_key_jwt(client, conn) -> None:  # noqa: ANN001
    admin = await token_for(client, "jinshan.admin")
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(pyjwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    client_id = f"jinshan-kp-{uuid.uuid4().hex[:8]}"
    created = await client.post("/api/v1/admin/partner-clients", headers=bearer(admin), json={
        "clientId": client_id, "name": "检政通 test agency", "agencyKind": "government", "publicJwk": jwk})
    assert created.status_code == 201, created.text
    assert created.json()["clientSecret"] is None
    now = int(time.time())
    assertion = pyjwt.encode({"iss": client_id, "sub": client_id, "aud": "http://jianwu.test/api/v1/auth/token",
                              "iat": now, "exp": now + 60, "jti": uuid.uuid4().hex}, key, algorithm="ES256")
    form = {"grant_type": "client_credentials", "client_id": client_id,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion}
    ok = await client.post("/api/v1/auth/token", data=form)
    assert ok.status_code == 200, ok.text
    assert _claims(ok.json()["access_token"])["sub"] == client_id
    # An assertion is single use (RFC 7523 §3).
    _oauth_error(await client.post("/api/v1/auth/token", data=form), 401, "invalid_client")
    # One signed by another key is refused.
    other = ec.generate_private_key(ec.SECP256R1())
    forged = pyjwt.encode({"iss": client_id, "sub": client_id, "aud": "jianwu", "iat": now, "exp": now + 60,
                           "jti": uuid.uuid4().hex}, other, algorithm="ES256")
    _oauth_error(await client.post("/api/v1/auth/token", data={**form, "client_assertion": forged}),
                 401, "invalid_client")


async def test_citizen_one_time_code(client, settings) -> None:  # noqa: ANN001
    phone = f"139{uuid.uuid4().int % 10**8:08d}"
    sent = await client.post("/api/v1/auth/otp", json={"phone": phone})
    assert sent.status_code == 202, sent.text
    outbox = settings.data_path / "sms-outbox.jsonl"
    messages = [json.loads(line) for line in outbox.read_text().splitlines()]
    text = [m for m in messages if m["to"] == phone][-1]["text"]
    code = re.search(r"\d{6}", text).group()
    wrong = await client.post("/api/v1/auth/token", data={"grant_type": "urn:jianwu:otp", "phone": phone,
                                                           "code": "000000" if code != "000000" else "111111",
                                                           "client_id": "public-app"})
    _oauth_error(wrong, 400, "invalid_grant")
    ok = await client.post("/api/v1/auth/token", data={"grant_type": "urn:jianwu:otp", "phone": phone, "code": code,
                                                        "client_id": "public-app"})
    assert ok.status_code == 200, ok.text
    claims = _claims(ok.json()["access_token"])
    assert claims["aud"] == AUD_PUBLIC and claims["kind"] == "citizen" and "office" not in claims
    # The code is single use.
    again = await client.post("/api/v1/auth/token", data={"grant_type": "urn:jianwu:otp", "phone": phone,
                                                           "code": code, "client_id": "public-app"})
    _oauth_error(again, 400, "invalid_grant")


async def test_otp_requests_are_limited_per_phone(client) -> None:  # noqa: ANN001
    phone = f"137{uuid.uuid4().int % 10**8:08d}"
    assert (await client.post("/api/v1/auth/otp", json={"phone": phone})).status_code == 202
    second = await client.post("/api/v1/auth/otp", json={"phone": phone})
    assert second.status_code == 429
    assert int(second.headers["retry-after"]) > 0
    assert second.json()["code"] == "rate_limited"


async def test_otp_rejects_non_mainland_numbers(client) -> None:  # noqa: ANN001
    resp = await client.post("/api/v1/auth/otp", json={"phone": "12345678901"})
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["field"] == "phone"


async def test_refresh_rotates_and_reuse_revokes_the_family(client, conn) -> None:  # noqa: ANN001
    first = await token_for(client, "jinshan.dept_head")
    r1 = first["refresh_token"]
    second = await _refresh(client, r1)
    assert second.status_code == 200
    r2 = second.json()["refresh_token"]
    assert r2 != r1
    third = await _refresh(client, r2)
    assert third.status_code == 200
    r3 = third.json()["refresh_token"]
    reused = await _refresh_after_grace(client, conn, r1)
    _oauth_error(reused, 400, "invalid_grant")
    # The whole family is gone: even the newest token no longer works.
    _oauth_error(await _refresh(client, r3), 400, "invalid_grant")


async def _refresh_after_grace(client, conn, token: str):  # noqa: ANN001, ANN202
    from auth.tokens import ROTATION_GRACE, hash_refresh

    # Age the rotation beyond the grace window instead of sleeping through it.
    await conn.execute("update refresh_tokens set rotated_at = rotated_at - make_interval(secs => $2) "
                       "where token_hash = $1", hash_refresh(token), ROTATION_GRACE + 1)
    return await _refresh(client, token)


async def test_lost_response_retry_gets_the_same_pair(client) -> None:  # noqa: ANN001
    r1 = (await token_for(client, "jinshan.case_mgmt"))["refresh_token"]
    first = await _refresh(client, r1)
    retry = await _refresh(client, r1)
    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    # The family is intact: the new token keeps working.
    assert (await _refresh(client, first.json()["refresh_token"])).status_code == 200


async def test_concurrent_refreshes_yield_exactly_one_new_pair(client, conn) -> None:  # noqa: ANN001
    tokens = await token_for(client, "jinshan.liaison_office")
    family = _claims(tokens["access_token"])["fam"]
    results = await asyncio.gather(*(_refresh(client, tokens["refresh_token"]) for _ in range(5)))
    assert {r.status_code for r in results} == {200}
    assert len({r.json()["refresh_token"] for r in results}) == 1
    assert await conn.fetchval("select count(*) from refresh_tokens where family_id = $1", uuid.UUID(family)) == 2


async def test_logout_revokes_the_refresh_family(client) -> None:  # noqa: ANN001
    tokens = await token_for(client, "jinshan.complaints_office")
    assert (await client.post("/api/v1/auth/logout", headers=bearer(tokens))).status_code == 204
    _oauth_error(await _refresh(client, tokens["refresh_token"]), 400, "invalid_grant")


async def test_failed_logins_lock_the_account(client, make_user) -> None:  # noqa: ANN001
    user = await make_user()
    for _ in range(5):
        resp = await client.post("/api/v1/auth/token", data={"grant_type": "password", "username": user["username"],
                                                              "password": "wrong", "client_id": "staff-app"})
        assert resp.status_code == 400
    locked = await client.post("/api/v1/auth/token", data={"grant_type": "password", "username": user["username"],
                                                            "password": user["password"], "client_id": "staff-app"})
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0


async def test_jwks_publishes_the_signing_key(client) -> None:  # noqa: ANN001
    tokens = await token_for(client, "jinshan.assistant")
    kid = pyjwt.get_unverified_header(tokens["access_token"])["kid"]
    keys = (await client.get("/.well-known/jwks.json")).json()["keys"]
    published = {k["kid"]: k for k in keys}
    assert kid in published
    assert "d" not in published[kid]
    public = pyjwt.PyJWK(published[kid]).key
    assert pyjwt.decode(tokens["access_token"], public, algorithms=["ES256"], audience=AUD_STAFF)


async def test_a_refresh_clears_the_previous_retry_copy_and_leaves_older_rotations_alone(client, conn) -> None:  # noqa: ANN001
    # Only the newest rotation keeps the encrypted answer a lost-response retry gets back; clearing the one before
    # must not rewrite every earlier row of the family (a month of ten-minute refreshes is thousands of rows).
    tokens = await token_for(client, "jinshan.assistant")
    family = uuid.UUID(_claims(tokens["access_token"])["fam"])
    token = tokens["refresh_token"]
    for _ in range(4):
        resp = await _refresh(client, token)
        assert resp.status_code == 200, resp.text
        token = resp.json()["refresh_token"]
    rows = await conn.fetch("select id, xmin::text::bigint as version, rotation_response_enc is not null as copy "
                            "from refresh_tokens where family_id = $1 and rotated_at is not null "
                            "order by rotated_at", family)
    assert [r["copy"] for r in rows] == [False, False, False, True]
    assert (await _refresh(client, token)).status_code == 200
    after = {r["id"]: r for r in await conn.fetch(
        "select id, xmin::text::bigint as version, rotation_response_enc is not null as copy "
        "from refresh_tokens where family_id = $1", family)}
    assert [after[r["id"]]["version"] for r in rows[:3]] == [r["version"] for r in rows[:3]]  # untouched
    assert not after[rows[3]["id"]]["copy"]  # the previous rotation's copy is gone
    assert sum(r["copy"] for r in after.values()) == 1  # and the new rotation holds the only one
