"""What the liaison tests share: representatives' sign-ins, fresh register entries."""

from __future__ import annotations

import uuid
from typing import Any

from tests.helpers import bearer, key, token_for

STAFF = "/api/v1/staff/liaison"
REP = "/api/v1/rep/liaison"


async def rep_headers(client, username: str) -> dict[str, str]:  # noqa: ANN001
    """A demo representative signed in through the representative app."""
    return bearer(await token_for(client, username, client_id="representative-app"))


async def add_rep(client, headers: dict[str, str], **over: Any) -> dict[str, Any]:  # noqa: ANN001
    """Add a register entry; the answer as staff see it."""
    body = {"kind": "deputy", "level": "district", "name": f"代表{uuid.uuid4().hex[:4]}", "phone": "13912345678",
            "address": "上海市金山区卫零路100号", **over}
    resp = await client.post(f"{STAFF}/representatives", headers={**headers, **key()}, json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()


async def own_entry(client, headers: dict[str, str]) -> dict[str, Any]:  # noqa: ANN001
    """The signed-in representative's register entry."""
    resp = await client.get(f"{REP}/me", headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()
