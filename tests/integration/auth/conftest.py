"""Helpers for signing in as the demo accounts and for making accounts of our own."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from auth.demo import DEMO_CLIENT_SECRET, DEMO_PASSWORD
from auth.passwords import hash_password

CLIENT_FOR_KIND = {"staff": "staff-app", "deputy": "representative-app", "member": "representative-app"}


async def token_for(client, username: str, password: str = DEMO_PASSWORD, *, client_id: str = "staff-app",  # noqa: ANN001
                    **extra: str) -> dict[str, Any]:
    """Sign in with the password grant; assert success; return the token response."""
    resp = await client.post("/api/v1/auth/token", data={
        "grant_type": "password", "username": username, "password": password, "client_id": client_id, **extra})
    assert resp.status_code == 200, resp.text
    return resp.json()


def bearer(tokens: dict[str, Any] | str) -> dict[str, str]:
    """The Authorization header for an access token (or a token response)."""
    token = tokens if isinstance(tokens, str) else tokens["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def partner_token(client, client_id: str = "jinshan-police", secret: str = DEMO_CLIENT_SECRET) -> dict:  # noqa: ANN001
    """client_credentials with the demo secret."""
    resp = await client.post("/api/v1/auth/token", data={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
    assert resp.status_code == 200, resp.text
    return resp.json()


async def office_id(conn, code: str) -> uuid.UUID:  # noqa: ANN001
    """The id of a demo office."""
    return await conn.fetchval("select id from offices where code = $1", code)


@pytest.fixture(name="make_user")
def fx_make_user(conn):  # noqa: ANN001, ANN201
    """Create a fresh account (so tests that lock, disable or enrol never disturb the demo ones)."""
    async def make(office: str = "jinshan", roles: tuple[str, ...] = ("prosecutor",), kind: str = "staff",
                   password: str = "pw-" + uuid.uuid4().hex[:8]) -> dict[str, Any]:
        username = f"t{uuid.uuid4().hex[:10]}"
        row = await conn.fetchrow(
            """
            insert into users (kind, office_id, username, display_name, password_hash, roles)
            values ($1, (select id from offices where code = $2), $3, $3, $4, $5) returning id
            """,
            kind, office, username, await hash_password(password), list(roles),
        )
        return {"id": row["id"], "username": username, "password": password,
                "client_id": CLIENT_FOR_KIND[kind]}
    return make
