"""An agency schedules a consultation 磋商 with the office, gets the minutes, and sees everything open with the
office with its deadlines."""

from __future__ import annotations

from tests.helpers import bearer, key, partner_token

SLOTS = ["2026-12-03T09:30:00+08:00", "2026-12-04T14:00:00+08:00"]


async def test_agency_proposes_office_confirms_and_shares_minutes(client, staff) -> None:  # noqa: ANN001
    agency = bearer(await partner_token(client, "jinshan-ecoenv"))
    proposed = await client.post("/api/v1/partner/consultations", headers={**agency, **key()},
                                 json={"topic": "关于某河道污染整改的磋商", "agenda": "整改方案与时限", "slots": SLOTS})
    assert proposed.status_code == 201, proposed.text
    cid = proposed.json()["id"]
    assert proposed.json()["state"] == "proposed"
    # The proposer cannot confirm its own slots; the office confirms one of them (not another time).
    own = await client.post(f"/api/v1/partner/consultations/{cid}/confirmation", headers=agency,
                            json={"slot": SLOTS[0]})
    assert own.status_code == 409
    handler = await staff("jinshan", "prosecutor")
    url = f"/api/v1/staff/partner-consultations/{cid}"
    other = await client.post(f"{url}/confirmation", headers=handler, json={"slot": "2026-12-05T09:00:00+08:00"})
    assert other.status_code == 400
    confirmed = await client.post(f"{url}/confirmation", headers=handler, json={"slot": SLOTS[1]})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["state"] == "confirmed"

    # It is on the agency's list of open items, with its date.
    items = (await client.get("/api/v1/partner/open-items", headers=agency)).json()["items"]
    [mine] = [i for i in items if i["id"] == cid]
    assert mine["kind"] == "consultation" and mine["due"] == "2026-12-04" and mine["waitingOn"] == "office"

    held = await client.post(f"{url}/minutes", headers=handler, json={"minutes": "双方确认整改方案，30日内完成清淤。"})
    assert held.status_code == 200 and held.json()["state"] == "held"
    seen = (await client.get(f"/api/v1/partner/consultations/{cid}", headers=agency)).json()
    assert seen["minutes"] == "双方确认整改方案，30日内完成清淤。" and seen["scheduledAt"].startswith("2026-12-04")
    items = (await client.get("/api/v1/partner/open-items", headers=agency)).json()["items"]
    assert cid not in [i["id"] for i in items]
    assert (await client.post(f"{url}/minutes", headers=handler, json={"minutes": "再次"})).status_code == 409


async def test_office_proposes_agency_confirms_and_the_open_list_pages(client, staff) -> None:  # noqa: ANN001
    chief = await staff("jinshan", "chief")
    made = [await client.post("/api/v1/staff/partner-consultations", headers={**chief, **key()},
                              json={"clientId": "jinshan-ecoenv", "topic": f"磋商 {n}", "slots": SLOTS})
            for n in range(3)]
    assert all(m.status_code == 201 for m in made), made[0].text
    agency = bearer(await partner_token(client, "jinshan-ecoenv"))
    first = (await client.get("/api/v1/partner/open-items?limit=2", headers=agency)).json()
    assert len(first["items"]) == 2 and first["nextCursor"]
    assert all(i["waitingOn"] == "partner" for i in first["items"])
    second = (await client.get(f"/api/v1/partner/open-items?limit=2&cursor={first['nextCursor']}",
                               headers=agency)).json()
    ids = [i["id"] for i in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) and {m.json()["id"] for m in made} <= set(ids)
    ok = await client.post(f"/api/v1/partner/consultations/{made[0].json()['id']}/confirmation", headers=agency,
                           json={"slot": SLOTS[0]})
    assert ok.status_code == 200 and ok.json()["state"] == "confirmed"
    # The other office's agency sees none of these.
    other = bearer(await partner_token(client, "chongming-ecoenv"))
    theirs = (await client.get("/api/v1/partner/open-items?limit=200", headers=other)).json()["items"]
    assert not {m.json()["id"] for m in made} & {i["id"] for i in theirs}
