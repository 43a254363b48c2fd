"""API4:2023 Unrestricted Resource Consumption: every input that is stored, signed, parsed or paged is bounded."""

from __future__ import annotations

from tests.helpers import item, key


def _form(**over: str) -> dict[str, str]:
    return {"grant_type": "password", "client_id": "staff-app", "username": "no-such-user", "password": "x", **over}


async def test_device_id_is_bounded_wherever_it_is_stored_or_signed(client, conn) -> None:  # noqa: ANN001
    before = await conn.fetchval("select max(id) from audit_log")
    huge = await client.post("/api/v1/auth/token", data=_form(device_id="d" * 300_000))
    assert huge.status_code == 400, huge.text[:300]
    header = await client.post("/api/v1/auth/token", data=_form(), headers={"X-Device-ID": "h" * 60_000})
    assert header.status_code == 400 and header.json()["errors"][0]["field"] == "X-Device-ID"
    filed = await client.post("/api/v1/public/complaints", headers={**key(), "X-Device-ID": "a b<script>"}, json=item())
    assert filed.status_code == 400
    longest = await conn.fetchval("select max(length(device_id)) from audit_log where id > $1", before or 0)
    assert longest is None or longest <= 128


async def test_token_form_fields_are_bounded(client) -> None:  # noqa: ANN001
    for field, size in (("password", 5000), ("username", 1000), ("refresh_token", 5000), ("scope", 10_000)):
        resp = await client.post("/api/v1/auth/token", data=_form(**{field: "p" * size}))
        # refused as malformed before any hashing or look-up, not judged as a wrong credential
        assert resp.status_code == 400 and resp.json()["code"] == "validation_failed", (field, resp.text[:200])
