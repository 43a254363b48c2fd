"""POST /api/v1/admin/partner-clients/{id}/secret-rotation with no overlap (a leaked secret): a new secret, shown
once; the old one and its tokens stop at once."""

from __future__ import annotations

import uuid

from tests.helpers import bearer, token_for


async def _client_token(client, client_id: str, secret: str):  # noqa: ANN001, ANN202
    return await client.post("/api/v1/auth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                          "client_secret": secret})


async def test_rotating_a_secret_ends_the_old_one_and_its_tokens(client) -> None:  # noqa: ANN001
    admin = bearer(await token_for(client, "jinshan.admin"))
    client_id = f"jinshan-rot{uuid.uuid4().hex[:8]}"
    made = await client.post("/api/v1/admin/partner-clients", headers=admin,
                             json={"clientId": client_id, "name": "测试局", "agencyKind": "government"})
    assert made.status_code == 201, made.text
    old = made.json()["clientSecret"]
    old_token = (await _client_token(client, client_id, old)).json()["access_token"]
    url = f"/api/v1/admin/partner-clients/{made.json()['client']['id']}/secret-rotation"
    rotated = await client.post(url, headers=admin, json={"overlapHours": 0})
    assert rotated.status_code == 200 and rotated.headers["cache-control"] == "no-store"
    new = rotated.json()["clientSecret"]
    assert new != old and rotated.json()["client"]["clientId"] == client_id
    assert (await _client_token(client, client_id, old)).status_code == 401
    assert (await _client_token(client, client_id, new)).status_code == 200
    me = await client.get("/api/v1/auth/me", headers=bearer(old_token))
    assert me.status_code == 401
    other = bearer(await token_for(client, "chongming.admin"))
    assert (await client.post(url, headers=other, json={"overlapHours": 0})).status_code == 404
    clerk = bearer(await token_for(client, "jinshan.prosecutor"))
    assert (await client.post(url, headers=clerk, json={"overlapHours": 0})).status_code == 403


async def test_a_client_that_signs_with_a_key_has_no_secret_to_rotate(client) -> None:  # noqa: ANN001
    admin = bearer(await token_for(client, "jinshan.admin"))
    jwk = {"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
           "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}
    made = await client.post("/api/v1/admin/partner-clients", headers=admin, json={
        "clientId": f"jinshan-key{uuid.uuid4().hex[:8]}", "name": "签名局", "agencyKind": "police", "publicJwk": jwk})
    assert made.status_code == 201, made.text
    rotated = await client.post(f"/api/v1/admin/partner-clients/{made.json()['client']['id']}/secret-rotation",
                                headers=admin, json={"overlapHours": 0})
    assert rotated.status_code == 409 and rotated.json()["code"] == "conflict"
