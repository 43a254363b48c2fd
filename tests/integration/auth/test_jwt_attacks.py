"""The JWT attack suite over HTTP: every forged, stale or misdirected token answers 401 problem+json, never 500."""

from __future__ import annotations

import time
import uuid

import pytest

from auth.jwt import AUD_PARTNER, AUD_PUBLIC, AUD_REPRESENTATIVE, AUD_STAFF, SigningKey, encode_access_token
from auth.secretbox import SecretBox
from tests.forgery import ALL_FORGERIES

from tests.helpers import bearer, token_for

AUDIENCE_OF_KIND = {"staff": AUD_STAFF, "deputy": AUD_REPRESENTATIVE, "member": AUD_REPRESENTATIVE,
                    "citizen": AUD_PUBLIC, "partner": AUD_PARTNER}


@pytest.fixture(name="our_key")
async def fx_our_key(conn, settings) -> SigningKey:  # noqa: ANN001
    """The real current signing key, read the way the service reads it."""
    row = await conn.fetchrow("select kid, private_enc from signing_keys where retired_at is null "
                              "order by created_at desc limit 1")
    box = SecretBox(settings.secret_key)
    return SigningKey.from_pem(row["kid"], box.decrypt_text(row["private_enc"], aad=f"signing-key:{row['kid']}".encode()))


@pytest.fixture(name="staff_claims")
async def fx_staff_claims(conn) -> dict:  # noqa: ANN001
    user = await conn.fetchrow("select id, office_id from users where username = 'jinshan.prosecutor'")
    now = int(time.time())
    return {"iss": "jianwu", "sub": str(user["id"]), "aud": AUD_STAFF, "iat": now, "exp": now + 300,
            "jti": uuid.uuid4().hex, "tt": "access", "kind": "staff", "office": str(user["office_id"]),
            "roles": ["prosecutor"]}


def _assert_401(resp) -> None:  # noqa: ANN001
    assert resp.status_code == 401, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["code"] in {"invalid_token", "unauthenticated"}
    assert "Bearer" in resp.headers["www-authenticate"]


async def test_a_genuine_token_is_accepted(client, our_key, staff_claims) -> None:  # noqa: ANN001
    # The control: the forgeries below fail because of what they change, not because the claims are wrong.
    resp = await client.get("/api/v1/auth/me", headers=bearer(encode_access_token(our_key, staff_claims)))
    assert resp.status_code == 200, resp.text
    assert resp.json()["sub"] == staff_claims["sub"]


@pytest.mark.parametrize(("name", "build"), ALL_FORGERIES, ids=[n for n, _ in ALL_FORGERIES])
async def test_forged_tokens_are_refused(client, our_key, staff_claims, name, build) -> None:  # noqa: ANN001
    _assert_401(await client.get("/api/v1/auth/me", headers=bearer(build(our_key, staff_claims))))


@pytest.mark.parametrize("kind", sorted(AUDIENCE_OF_KIND))
@pytest.mark.parametrize("aud", sorted(set(AUDIENCE_OF_KIND.values())))
async def test_audience_must_match_the_kind_of_subject(client, our_key, staff_claims, kind, aud) -> None:  # noqa: ANN001
    claims = {**staff_claims, "kind": kind, "aud": aud, "jti": uuid.uuid4().hex}
    if kind == "partner":
        claims["scope"] = ""
    resp = await client.get("/api/v1/auth/me", headers=bearer(encode_access_token(our_key, claims)))
    if AUDIENCE_OF_KIND[kind] == aud:
        assert resp.status_code == 200, resp.text
    else:
        _assert_401(resp)


@pytest.mark.parametrize("aud", ["jianwu", "jianwu:admin", "https://other.example"])
async def test_foreign_audiences_are_refused(client, our_key, staff_claims, aud) -> None:  # noqa: ANN001
    _assert_401(await client.get("/api/v1/auth/me",
                                 headers=bearer(encode_access_token(our_key, {**staff_claims, "aud": aud}))))


@pytest.mark.parametrize("iss", ["jianwu-test", "https://jianwu", ""])
async def test_foreign_issuers_are_refused(client, our_key, staff_claims, iss) -> None:  # noqa: ANN001
    claims = {**staff_claims, "iss": iss or "x"}
    _assert_401(await client.get("/api/v1/auth/me", headers=bearer(encode_access_token(our_key, claims))))


async def test_refresh_token_is_not_an_access_token(client) -> None:  # noqa: ANN001
    tokens = await token_for(client, "jinshan.assistant")
    _assert_401(await client.get("/api/v1/auth/me", headers=bearer(tokens["refresh_token"])))


async def test_token_used_after_logout_is_refused(client) -> None:  # noqa: ANN001
    tokens = await token_for(client, "jinshan.assistant")
    assert (await client.get("/api/v1/auth/me", headers=bearer(tokens))).status_code == 200
    assert (await client.post("/api/v1/auth/logout", headers=bearer(tokens))).status_code == 204
    _assert_401(await client.get("/api/v1/auth/me", headers=bearer(tokens)))


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Basic abc", "bearer", "Token x", "Bearer a.b", "Bearer \x7f"])
async def test_malformed_authorization_headers(client, header) -> None:  # noqa: ANN001
    _assert_401(await client.get("/api/v1/auth/me", headers={"Authorization": header}))
