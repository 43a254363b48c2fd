"""Single sign-on against a real OpenID Connect provider (oidc-provider, OpenID Certified) started by the test."""

from __future__ import annotations

import dataclasses
import re
import shutil
import socket
import subprocess
import time
from html import unescape
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import jwt as pyjwt
import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from tests.helpers import bearer

pytestmark = pytest.mark.slow

PROVIDER = Path(__file__).resolve().parents[2] / "oidc"
CLIENT_ID, CLIENT_SECRET, REDIRECT = "jianwu-staff", "test-client-secret-0123456789", "http://app.test/sso/callback"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module", name="issuer")
def fx_issuer() -> Iterator[str]:
    """The provider, installed from the committed package-lock.json the first time, on a free port."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed to run the OpenID Connect provider")
    if not (PROVIDER / "node_modules" / "oidc-provider").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PROVIDER, check=True, capture_output=True,
                       timeout=300)
    port = _free_port()
    proc = subprocess.Popen(["node", "provider.mjs", str(port), CLIENT_ID, CLIENT_SECRET, REDIRECT], cwd=PROVIDER,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    issuer = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise AssertionError("the OpenID Connect provider did not start")
        yield issuer
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(name="sso_client")
async def fx_sso_client(settings, issuer):  # noqa: ANN001, ANN201
    """The app with single sign-on configured (the suite's database and Redis)."""
    configured = dataclasses.replace(settings, oidc_issuer=issuer, oidc_client_id=CLIENT_ID,
                                     oidc_client_secret=CLIENT_SECRET, oidc_redirect_uri=REDIRECT)
    async with AsyncTestClient(app=create_app(configured), base_url="http://jianwu.test") as client:
        yield client


async def _sign_in_at_provider(url: str, login: str) -> dict[str, str]:
    """Drive the provider's own sign-in and consent pages as a browser would; answers the redirect's query."""
    async with httpx.AsyncClient(follow_redirects=False, timeout=10) as browser:
        resp = await browser.get(url)
        for _ in range(12):
            if resp.is_redirect:
                location = urljoin(str(resp.url), resp.headers["location"])
                if location.startswith(REDIRECT):
                    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
                resp = await browser.get(location)
                continue
            assert resp.status_code == 200, resp.text
            action = unescape(re.search(r'<form[^>]*action="([^"]+)"', resp.text).group(1))
            fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', resp.text))
            if 'name="login"' in resp.text:
                fields.update(login=login, password="any")
            resp = await browser.post(urljoin(str(resp.url), action), data=fields)
    raise AssertionError("the provider never redirected back")


async def _start(client) -> dict:  # noqa: ANN001
    started = await client.post("/api/v1/auth/sso/start")
    assert started.status_code == 200, started.text
    assert started.headers["cache-control"] == "no-store"
    return started.json()


def _grant(back: dict[str, str], **extra: str) -> dict[str, str]:
    return {"grant_type": "urn:jianwu:sso", "client_id": "staff-app", "code": back.get("code", ""),
            "state": back.get("state", ""), **extra}


async def test_staff_sign_in_through_the_identity_service(sso_client, make_user, conn) -> None:  # noqa: ANN001
    user = await make_user()
    start = await _start(sso_client)
    assert start["authorizationUrl"].startswith(start["authorizationUrl"].split("/auth")[0])
    assert "code_challenge_method=S256" in start["authorizationUrl"] and "nonce=" in start["authorizationUrl"]
    back = await _sign_in_at_provider(start["authorizationUrl"], user["username"])
    assert back["state"] == start["state"]
    tokens = await sso_client.post("/api/v1/auth/token", data=_grant(back))
    assert tokens.status_code == 200, tokens.text
    claims = pyjwt.decode(tokens.json()["access_token"], options={"verify_signature": False})
    assert claims["sub"] == str(user["id"]) and claims["amr"] == ["sso"]
    me = await sso_client.get("/api/v1/auth/me", headers=bearer(tokens.json()))
    assert me.status_code == 200 and me.json()["kind"] == "staff"
    # The code and the state are good once.
    again = await sso_client.post("/api/v1/auth/token", data=_grant(back))
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    logins = await conn.fetch("select detail from audit_log where action = 'auth.login' and object_id = $1",
                              str(user["id"]))
    assert [r["detail"]["grant"] for r in logins] == ["sso"]


async def test_no_account_is_created_for_an_unknown_identity(sso_client, conn) -> None:  # noqa: ANN001
    stranger = "stranger" + str(time.time_ns())[-8:]
    back = await _sign_in_at_provider((await _start(sso_client))["authorizationUrl"], stranger)
    refused = await sso_client.post("/api/v1/auth/token", data=_grant(back))
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant", refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert not await conn.fetchval("select exists (select 1 from users where username = $1)", stranger)


async def test_a_forged_state_or_code_is_refused(sso_client, make_user) -> None:  # noqa: ANN001
    user = await make_user()
    start = await _start(sso_client)
    back = await _sign_in_at_provider(start["authorizationUrl"], user["username"])
    forged = await sso_client.post("/api/v1/auth/token", data=_grant({**back, "state": "x" * 43}))
    assert forged.status_code == 400 and forged.json()["error"] == "invalid_grant"
    start = await _start(sso_client)
    wrong_code = await sso_client.post("/api/v1/auth/token", data=_grant({"code": "not-a-code",
                                                                          "state": start["state"]}))
    assert wrong_code.status_code == 400 and wrong_code.json()["error"] == "invalid_grant"


async def test_off_unless_configured(client) -> None:  # noqa: ANN001
    assert (await client.post("/api/v1/auth/sso/start")).status_code == 404
    grant = await client.post("/api/v1/auth/token", data=_grant({"code": "c", "state": "s"}))
    assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"
