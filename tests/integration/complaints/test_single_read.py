"""A single-item read is one SQL statement on the request path (codes, calendars, switches and partner clients come
from per-worker caches): the staff read, the complainant's own read, an anonymous filer's read by receipt number and
code, and a partner following what it transferred, alike."""

from __future__ import annotations

import uuid

from tests.helpers import bearer, citizen, item, key, partner_token
from tests.statements import one_statement_each


async def test_the_staff_and_the_complainant_read_an_item_in_one_statement(client, staff, settings,
                                                                           monkeypatch) -> None:
    me = await citizen(client, settings)
    cid = (await client.post("/api/v1/me/complaints", headers={**me, **key()}, json=item())).json()["id"]
    office = await staff("jinshan", "complaints_office")
    mine = await one_statement_each(client, monkeypatch, [(f"/api/v1/staff/complaints/{cid}", office),
                                                           (f"/api/v1/me/complaints/{cid}", me)])
    assert mine["id"] == cid and {d["code"] for d in mine["deadlines"]} >= {"procedural_reply", "result_reply"}
    assert mine["timeline"] and all(e["public"] for e in mine["timeline"])


async def test_an_anonymous_filer_and_a_partner_follow_an_item_in_one_statement(client, monkeypatch) -> None:
    receipt = (await client.post("/api/v1/public/complaints", headers=key(), json=item())).json()
    hotline = bearer(await partner_token(client, "jinshan-hotline"))
    ticket = f"12345-{uuid.uuid4().hex[:10]}"
    call = {"ticketNo": ticket, "category": "accusation", "title": "热线来电：窗口违规收费",
            "body": "市民来电反映收费问题。"}
    sent = await client.post("/api/v1/partner/hotline/tickets", headers={**hotline, **key()}, json=call)
    assert sent.status_code == 201, sent.text
    seen = await one_statement_each(client, monkeypatch, [
        (f"/api/v1/public/complaints/{receipt['receiptNo']}", {"X-Query-Code": receipt["queryCode"]}),
        (f"/api/v1/partner/hotline/tickets/{ticket}", hotline),
    ])
    assert seen["reference"] == ticket and seen["item"]["state"] == "received"
    # A wrong code is still a 404, read in the same one statement.
    url = f"/api/v1/public/complaints/{receipt['receiptNo']}"
    assert (await client.get(url, headers={"X-Query-Code": "WRONGCODE00"})).status_code == 404
