"""API3:2023 Broken Object Property Level Authorization: no answer carries a property the caller may not see.

The reporter-identity oracle: a filing answer that counted earlier items by the same phone (or place) told anyone
whether that number had reported in the category (举报人保护 is a legal duty)."""

from __future__ import annotations

import uuid

from tests.helpers import citizen, item, key


def _phone() -> str:
    return f"139{uuid.uuid4().int % 10**8:08d}"


def _staff_body() -> dict:
    body = item(category="petition")
    del body["office"]
    return body


def _anon(phone: str) -> dict:
    return {**item(category="petition"), "phone": phone, "realName": "张三",
            "location": {"latitude": 30.74, "longitude": 121.34}}


async def test_no_filing_answer_reveals_earlier_items(client, settings, staff) -> None:  # noqa: ANN001
    phone = _phone()
    first = await client.post("/api/v1/public/complaints", headers=key(), json=_anon(phone))
    assert first.status_code == 201, first.text
    probes = [
        await client.post("/api/v1/public/complaints", headers=key(), json=_anon(phone)),
        await client.post("/api/v1/staff/complaints", headers={**await staff("jinshan", "complaints_office"), **key()},
                          json={**_staff_body(), "channel": "walk_in",
                                "visitor": {"name": "张三", "phone": phone}}),
        await client.post("/api/v1/me/complaints", headers={**await citizen(client, settings), **key()},
                          json={**item(category="petition"), "location": {"latitude": 30.74, "longitude": 121.34}}),
    ]
    for resp in probes:
        assert resp.status_code == 201, resp.text
        assert not any("uplicate" in k for k in resp.json()), resp.json()


async def test_duplicates_only_for_staff_who_may_see_identities(client, staff) -> None:  # noqa: ANN001
    phone = _phone()
    assert (await client.post("/api/v1/public/complaints", headers=key(), json=_anon(phone))).status_code == 201
    second = (await client.post("/api/v1/public/complaints", headers=key(), json=_anon(phone))).json()
    chief = await client.get(f"/api/v1/staff/complaints/{second['id']}", headers=await staff("jinshan", "chief"))
    assert len(chief.json()["possibleDuplicates"]) >= 1
    # complaints_office files for visitors and reads items, but may not see identities (demo permission list).
    clerk = await client.get(f"/api/v1/staff/complaints/{second['id']}",
                             headers=await staff("jinshan", "complaints_office"))
    assert clerk.status_code == 200
    assert clerk.json()["reporter"]["masked"] is True
    assert clerk.json()["possibleDuplicates"] == []
