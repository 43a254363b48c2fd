"""API4:2023 Unrestricted Resource Consumption: every input that is stored, signed, parsed or paged is bounded."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from litestar.testing import AsyncTestClient

from api.app import create_app

from tests.helpers import bearer, item, key, token_for
from tests.unit.attachments.files import exif_with, jpeg
from tests.security.conftest import first_allowed
from tests.security.spec import operations


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


async def test_every_list_bounds_its_limit(app, client, callers, make_user) -> None:  # noqa: ANN001
    # The office tree's lists are for the office above: jinshan's history is read by Shanghai's admin.
    upper = await make_user(office="shanghai", roles=("admin",))
    callers = {"upper_admin": bearer(await token_for(client, upper["username"], upper["password"])), **callers}
    walked = []
    for op in operations(app):
        if op.method != "GET" or not any(p["name"] == "limit" for p in op.params("query")):
            continue
        url = op.url(office="jinshan", code="jinshan")
        headers = await first_allowed(client, callers, "GET", url, params={"limit": 5})
        assert headers is not None, f"{op}: no caller may list"
        assert (await client.get(url, headers=headers, params={"limit": 5})).status_code == 200, str(op)
        for bad in (0, -1, 201, 100_000):
            resp = await client.get(url, headers=headers, params={"limit": bad})
            assert resp.status_code == 400, (str(op), bad, resp.status_code)
            assert any(e["field"] == "limit" for e in resp.json()["errors"]), resp.text
        walked.append(str(op))
    assert len(walked) >= 6, walked


async def test_deeply_nested_json_is_400_on_every_body_route(app, client, callers) -> None:  # noqa: ANN001
    deep = {"array": b"[" * 1000 + b"]" * 1000, "object": b'{"a":' * 1000 + b"1" + b"}" * 1000}
    walked = 0
    for op in operations(app):
        content = op.spec.get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            continue
        for body in deep.values():
            answers = set()
            for headers in ([{}] if op.public else callers.values()):
                resp = await client.request(op.method, op.url(office="jinshan"), content=body,
                                            headers={**headers, **key(), "Content-Type": "application/json"})
                answers.add(resp.status_code)
            assert answers - {401, 403} == {400}, (str(op), answers)
        walked += 1
    assert walked >= 15, walked


async def test_brackets_inside_strings_are_not_nesting(client) -> None:  # noqa: ANN001
    resp = await client.post("/api/v1/public/complaints", headers=key(), json=item(body="[{" * 200 + "\\\"]"))
    assert resp.status_code == 201, resp.text


async def test_staff_received_at_must_be_plausible(client, staff) -> None:  # noqa: ANN001
    office = await staff("jinshan", "complaints_office")
    body = {k: v for k, v in item().items() if k != "office"} | {"channel": "letter"}
    for when in ("9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00Z", "2100-01-01T00:00:00Z",
                 "2001-01-01T00:00:00Z"):
        resp = await client.post("/api/v1/staff/complaints", headers={**office, **key()},
                                 json=body | {"receivedAt": when})
        assert resp.status_code == 400, (when, resp.status_code)
        assert resp.json()["errors"][0]["field"] == "receivedAt"
    recent = await client.post("/api/v1/staff/complaints", headers={**office, **key()},
                               json=body | {"receivedAt": (datetime.now(UTC) - timedelta(days=9)).isoformat()})
    assert recent.status_code == 201, recent.text


async def test_an_impossible_exif_date_keeps_the_file_and_drops_the_date(client, conn) -> None:  # noqa: ANN001
    filed = (await client.post("/api/v1/public/complaints", headers=key(), json=item())).json()
    for taken, offset in (("9999:12:31 23:59:59", "-12:00"), ("0001:01:01 00:00:00", "+14:00"),
                          ("2999:01:01 00:00:00", "+08:00")):
        photo = jpeg(exif=exif_with(taken=taken, offset=offset))
        up = await client.post(f"/api/v1/public/complaints/{filed['receiptNo']}/attachments",
                               headers={**key(), "X-Query-Code": filed["queryCode"]},
                               files={"file": ("photo.jpg", photo, "image/jpeg")})
        assert up.status_code == 201, (taken, up.text)
        row = await conn.fetchrow("select captured_at from attachments where id = $1::uuid",
                                  up.json()["id"])
        assert row["captured_at"] is None
        why = await conn.fetchval("select detail from audit_log where action = 'complaint.attachment_added' "
                                  "and object_id = $1 order by id desc limit 1", filed["id"])
        assert "out of range" in why["dropped"][0]


async def test_no_route_stores_an_oversized_header_or_fails_on_long_inputs(app, client, callers, conn) -> None:  # noqa: ANN001
    """Every operation, called by every caller kind with a 60 KB X-Device-ID and 5,000-character query strings:
    never a 5xx, and nothing over the bound reaches the append-only audit trail."""
    before = await conn.fetchval("select coalesce(max(id), 0) from audit_log")
    walked = 0
    for op in operations(app):
        # One long parameter at a time: several at once would pass the URL length a client can send at all.
        long_params = [{p["name"]: "长" * 5000} for p in op.params("query")
                       if p.get("schema", {}).get("type") == "string" and "enum" not in p.get("schema", {})]
        for headers in ([{}] if op.public else list(callers.values())):
            for extra, params in (({"X-Device-ID": "d" * 60_000}, {}), *(({}, one) for one in long_params)):
                resp = await client.request(op.method, op.url(office="jinshan"), params=params,
                                            headers={**headers, **extra, **key()},
                                            json={} if op.method in ("POST", "PUT", "PATCH") else None)
                assert resp.status_code < 500, (str(op), extra.keys(), resp.status_code)
        walked += 1
    assert walked == len(operations(app)) and walked >= 50
    longest = await conn.fetchval("select max(length(device_id)) from audit_log where id > $1", before)
    assert longest is None or longest <= 128


async def test_filings_without_an_account_are_limited_per_address(settings) -> None:  # noqa: ANN001
    # The suite's own app lifts the limit (all its requests share one address); here it is as an office sets it.
    limited = dataclasses.replace(settings, anonymous_filing_ip_limit=2, redis_prefix=f"{settings.redis_prefix}anon:")
    async with AsyncTestClient(app=create_app(limited), base_url="http://jianwu.test") as client:
        for _ in range(2):
            assert (await client.post("/api/v1/public/complaints", headers=key(), json=item())).status_code == 201
        third = await client.post("/api/v1/public/complaints", headers=key(), json=item())
        assert third.status_code == 429 and third.json()["code"] == "rate_limited", third.text
        assert "retry-after" in third.headers
