"""Onboarding a partner client: its kind, actions and credentials (secret with rotation and overlap, or keys at a
JWKS URL on the allow-list), the networks it may call from, a daily quota, contact people, suspension within a
second, and every call on the audit trail with the client id."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from litestar.testing import AsyncTestClient

from api.app import create_app
from tests.helpers import bearer, key, token_for

TOKEN = "/api/v1/auth/token"


async def _register(client, admin: dict[str, str], **over: Any) -> dict[str, Any]:  # noqa: ANN001
    body = {"clientId": f"jinshan-t{uuid.uuid4().hex[:8]}", "name": "测试热线", "agencyKind": "hotline",
            "scopes": ["partner.hotline.transfer", "partner.contacts"], **over}
    resp = await client.post("/api/v1/admin/partner-clients", headers=admin, json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()


async def _token(client, client_id: str, secret: str) -> Any:  # noqa: ANN001
    return await client.post(TOKEN, data={"grant_type": "client_credentials", "client_id": client_id,
                                          "client_secret": secret})


async def test_register_rotate_quota_networks_and_suspend(client, conn) -> None:  # noqa: ANN001
    admin = bearer(await token_for(client, "jinshan.admin"))
    made = await _register(client, admin, agencyKind="court", dailyQuota=3)
    cid, secret, uid = made["client"]["clientId"], made["clientSecret"], made["client"]["id"]
    assert made["client"]["agencyKind"] == "court" and made["client"]["dailyQuota"] == 3
    # Staff powers can never be granted to a partner.
    bad = await client.post("/api/v1/admin/partner-clients", headers=admin,
                            json={"clientId": "jinshan-bad1", "name": "x", "agencyKind": "police",
                                  "scopes": ["complaint.read"]})
    assert bad.status_code == 400

    tok = bearer((await _token(client, cid, secret)).json())
    url = "/api/v1/partner/contacts"
    calls = [await client.get(url, headers=tok) for _ in range(4)]
    assert [c.status_code for c in calls] == [200, 200, 200, 429]
    # The daily quota is the tighter budget: its headers are the ones the client sees.
    assert calls[2].headers["ratelimit-limit"] == "3" and calls[2].headers["ratelimit-remaining"] == "0"
    assert int(calls[3].headers["retry-after"]) <= 86_400
    # Every call is on the audit trail with the client id, the refused one too.
    rows = await conn.fetch("select actor_id, detail from audit_log where action = 'partner.call' and object_id = $1 "
                            "order by id", cid)
    assert len(rows) == 4 and all(r["actor_id"] == cid for r in rows)
    assert rows[-1]["detail"]["refused"] == "rate_limited"

    # Contact people registered by the admin, shown to the admin masked.
    contacts = await client.put(f"/api/v1/admin/partner-clients/{uid}/contacts", headers=admin,
                                json={"contacts": [{"name": "张法官", "role": "立案庭联络人", "phone": "13700002222"}]})
    assert contacts.status_code == 200 and contacts.json()[0]["phone"] == "137****2222"
    other_admin = bearer(await token_for(client, "chongming.admin"))
    assert (await client.get(f"/api/v1/admin/partner-clients/{uid}/contacts",
                             headers=other_admin)).status_code == 404

    # An address allow-list is enforced on the token endpoint (and on every call).
    patched = await client.patch(f"/api/v1/admin/partner-clients/{uid}", headers=admin,
                                 json={"allowedNetworks": ["10.20.0.7/24"], "dailyQuota": None})
    assert patched.status_code == 200 and patched.json()["allowedNetworks"] == ["10.20.0.0/24"]
    assert patched.json()["dailyQuota"] is None
    assert (await _token(client, cid, secret)).status_code == 401
    bad_net = await client.patch(f"/api/v1/admin/partner-clients/{uid}", headers=admin,
                                 json={"allowedNetworks": ["not-a-network"]})
    assert bad_net.status_code == 400 and bad_net.json()["errors"][0]["field"] == "allowedNetworks[0]"
    await client.patch(f"/api/v1/admin/partner-clients/{uid}", headers=admin, json={"allowedNetworks": []})

    # Rotation with an overlap: both secrets work until the overlap ends; with none, the old one stops at once.
    rotated = await client.post(f"/api/v1/admin/partner-clients/{uid}/secret-rotation", headers=admin,
                                json={"overlapHours": 24})
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["clientSecret"]
    assert rotated.json()["client"]["previousSecretUntil"] is not None
    assert (await _token(client, cid, secret)).status_code == 200
    assert (await _token(client, cid, new)).status_code == 200
    newer = (await client.post(f"/api/v1/admin/partner-clients/{uid}/secret-rotation", headers=admin,
                               json={"overlapHours": 0})).json()["clientSecret"]
    assert (await _token(client, cid, new)).status_code == 401
    assert (await _token(client, cid, secret)).status_code == 401
    # No overlap (a leaked secret) also ends the tokens already issued, to the second: a token signed in the very
    # second of that revocation is refused too, so the agency's next sign-in waits for the next second.
    await asyncio.sleep(1.1)

    # Suspension: the client's tokens stop working within a second.
    tok = bearer((await _token(client, cid, newer)).json())
    assert (await client.get(url, headers=tok)).status_code == 200
    started = time.monotonic()
    assert (await client.patch(f"/api/v1/admin/partner-clients/{uid}", headers=admin,
                               json={"disabled": True})).status_code == 200
    locked = await client.get(url, headers=tok)
    assert locked.status_code == 401 and time.monotonic() - started < 1.0
    assert (await _token(client, cid, newer)).status_code == 401


class _Keys(BaseHTTPRequestHandler):
    """A partner's key server: its JWKS at /jwks.json."""

    jwks: dict[str, Any] = {}
    hits = 0

    def do_GET(self) -> None:  # noqa: N802
        type(self).hits += 1
        body = json.dumps(self.jwks).encode()
        self.send_response(200 if self.path == "/jwks.json" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture(name="key_server")
def fx_key_server() -> Iterator[tuple[str, Any]]:
    """A local HTTP server publishing one EC key; yields (host:port, private key)."""
    private = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(pyjwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
    _Keys.jwks = {"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "ES256"}]}
    server = HTTPServer(("127.0.0.1", 0), _Keys)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", private
    finally:
        server.shutdown()


async def test_private_key_jwt_with_keys_fetched_from_an_allowed_jwks_url(settings, key_server) -> None:  # noqa: ANN001
    host, private = key_server
    app = create_app(dataclasses.replace(settings, partner_jwks_hosts=host))
    async with AsyncTestClient(app=app, base_url="http://jianwu.test") as client:
        admin = bearer(await token_for(client, "jinshan.admin"))
        refused = await client.post("/api/v1/admin/partner-clients", headers=admin,
                                    json={"clientId": "jinshan-jwks-bad", "name": "x", "agencyKind": "police",
                                          "jwksUrl": "http://127.0.0.2:9/jwks.json"})
        assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "jwksUrl"
        made = await _register(client, admin, agencyKind="police", scopes=["partner.contacts"],
                               jwksUrl=f"http://{host}/jwks.json")
        assert made["clientSecret"] is None
        cid = made["client"]["clientId"]

        def assertion(kid: str = "k1") -> str:
            now = int(time.time())
            return pyjwt.encode({"iss": cid, "sub": cid, "aud": "http://jianwu.test" + TOKEN, "iat": now,
                                 "exp": now + 60, "jti": uuid.uuid4().hex}, private, algorithm="ES256",
                                headers={"kid": kid})
        form = {"grant_type": "client_credentials", "client_id": cid,
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}
        ok = await client.post(TOKEN, data={**form, "client_assertion": assertion()})
        assert ok.status_code == 200, ok.text
        tok = bearer(ok.json())
        put = await client.put("/api/v1/partner/contacts", headers={**tok, **key()}, json={"contacts": []})
        assert put.status_code == 200
        # A key the agency does not publish is refused; the key set is not fetched again for every forgery.
        stranger = ec.generate_private_key(ec.SECP256R1())
        now = int(time.time())
        forged = pyjwt.encode({"iss": cid, "sub": cid, "aud": "http://jianwu.test" + TOKEN, "iat": now,
                               "exp": now + 60, "jti": uuid.uuid4().hex}, stranger, algorithm="ES256",
                              headers={"kid": "k1"})
        hits = _Keys.hits
        for _ in range(3):
            assert (await client.post(TOKEN, data={**form, "client_assertion": forged})).status_code == 401
        unknown = await client.post(TOKEN, data={**form, "client_assertion": assertion("k9")})
        assert unknown.status_code == 401 and _Keys.hits - hits <= 1
        await asyncio.sleep(0)
