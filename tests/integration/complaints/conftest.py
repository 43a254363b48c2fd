"""Fixtures for complaint tests."""

from __future__ import annotations

import pytest

from tests.helpers import bearer, token_for


@pytest.fixture(name="staff")
async def fx_staff(client):  # noqa: ANN001, ANN201
    """Headers for demo staff by role, per office: staff('jinshan', 'chief')."""
    cache: dict[tuple[str, str], dict[str, str]] = {}

    async def get(office: str = "jinshan", role: str = "complaints_office") -> dict[str, str]:
        if (office, role) not in cache:
            cache[(office, role)] = bearer(await token_for(client, f"{office}.{role}"))
        return cache[(office, role)]
    return get
