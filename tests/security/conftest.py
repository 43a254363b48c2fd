"""Callers of every kind, for the tests that walk the whole API."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import bearer, citizen, partner_token, token_for


@pytest.fixture(name="callers")
async def fx_callers(client, settings) -> dict[str, dict[str, str]]:  # noqa: ANN001
    """Authorization headers of one caller of each kind at the demo office jinshan."""
    return {
        "admin": bearer(await token_for(client, "jinshan.admin")),
        "chief": bearer(await token_for(client, "jinshan.chief")),
        "complaints_office": bearer(await token_for(client, "jinshan.complaints_office")),
        "case_mgmt": bearer(await token_for(client, "jinshan.case_mgmt")),
        "liaison_office": bearer(await token_for(client, "jinshan.liaison_office")),
        "citizen": await citizen(client, settings),
        "partner": bearer(await partner_token(client)),
        "hotline": bearer(await partner_token(client, "jinshan-hotline")),
        "agency": bearer(await partner_token(client, "jinshan-ecoenv")),
        "deputy": bearer(await token_for(client, "jinshan.deputy", client_id="representative-app")),
    }


async def first_allowed(client, callers: dict[str, Any], method: str, url: str, **kw: Any) -> dict[str, str] | None:  # noqa: ANN001
    """The headers of the first caller the route lets through (neither 401 nor 403), or None."""
    for headers in callers.values():
        resp = await client.request(method, url, headers=headers, **kw)
        if resp.status_code not in (401, 403):
            return headers
    return None
