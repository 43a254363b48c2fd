"""Fixtures shared by the integration tests."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from auth.passwords import hash_password
from tests.helpers import CLIENT_FOR_KIND, bearer, token_for


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


@pytest.fixture(name="staff")
async def fx_staff(client):  # noqa: ANN001, ANN201
    """Headers for demo staff by role, per office: staff('jinshan', 'chief')."""
    cache: dict[tuple[str, str], dict[str, str]] = {}

    async def get(office: str = "jinshan", role: str = "complaints_office") -> dict[str, str]:
        if (office, role) not in cache:
            cache[(office, role)] = bearer(await token_for(client, f"{office}.{role}"))
        return cache[(office, role)]
    return get
