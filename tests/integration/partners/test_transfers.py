"""The 12345 hotline and the police transfer calls and clues into complaints over the partner API, and follow them."""

from __future__ import annotations

import uuid
from typing import Any

from tests.helpers import bearer, key, partner_token


def _call(ticket: str, **over: Any) -> dict[str, Any]:
    body = {"ticketNo": ticket, "category": "accusation", "title": "热线来电：某单位违规收费",
            "body": "市民来电反映在某窗口办事时被收取不合理费用。",
            "caller": {"name": "王小明", "phone": "13812345678", "idNumber": "31010119900101123X"}}
    body.update(over)
    return body


async def test_hotline_transfers_a_call_once_and_later_sees_the_result(client, staff, conn) -> None:
    hotline = bearer(await partner_token(client, "jinshan-hotline"))
    ticket = f"12345-{uuid.uuid4().hex[:10]}"
    first = await client.post("/api/v1/partner/hotline/tickets", headers={**hotline, **key()}, json=_call(ticket))
    assert first.status_code == 201, first.text
    got = first.json()
    assert got["reference"] == ticket and got["accepted"] is None and got["concluded"] is False
    assert got["item"]["state"] == "received" and got["resultReply"] is None
    assert "ratelimit-remaining" in first.headers
    # A second transfer of the same ticket (another key, even other text) answers the first item.
    again = await client.post("/api/v1/partner/hotline/tickets", headers={**hotline, **key()},
                              json=_call(ticket, title="重复转办"))
    assert again.status_code == 200 and again.json()["item"]["id"] == got["item"]["id"]
    assert await conn.fetchval("select count(*) from partner_transfers where reference = $1", ticket) == 1

    complaint_id = got["item"]["id"]
    row = await conn.fetchrow("select channel, reporter_name_enc, reporter_phone_index from complaints "
                              "where id = $1", uuid.UUID(complaint_id))
    # Caller details protected like any reporter's: encrypted, not in clear in the row.
    assert row["channel"] == "hotline" and "王小明" not in row["reporter_name_enc"]
    assert row["reporter_phone_index"] is not None
    # The clocks started as for any intake.
    codes = {r["code"] for r in await conn.fetch("select code from clocks where subject_id = $1",
                                                  uuid.UUID(complaint_id))}
    assert {"procedural_reply", "result_reply"} <= codes
    # Staff see the call in their queue, the caller's phone masked for roles without the identity right.
    office = await staff("jinshan", "complaints_office")
    seen = await client.get(f"/api/v1/staff/complaints/{complaint_id}", headers=office)
    assert seen.status_code == 200 and "13812345678" not in seen.text

    # Staff accept and close it; the hotline polls and gets the result reply to close its own ticket.
    step = f"/api/v1/staff/complaints/{complaint_id}/steps"
    assert (await client.post(step, headers=office, json={"step": "accept"})).status_code == 200
    closed = await client.post(step, headers=office, json={"step": "close", "disposition": "已责令退还多收费用",
                                                           "reply": "经核查，已责令该单位退还多收费用。"})
    assert closed.status_code == 200, closed.text
    polled = await client.get(f"/api/v1/partner/hotline/tickets/{ticket}", headers=hotline)
    assert polled.status_code == 200
    assert polled.json()["concluded"] is True and polled.json()["accepted"] is True
    assert polled.json()["resultReply"] == "经核查，已责令该单位退还多收费用。"
    listed = await client.get("/api/v1/partner/hotline/tickets?limit=1", headers=hotline)
    assert listed.status_code == 200 and len(listed.json()["items"]) == 1


async def test_police_transfer_a_clue_and_see_whether_it_was_accepted(client, staff) -> None:
    police = bearer(await partner_token(client, "jinshan-police"))
    ref = f"JS-{uuid.uuid4().hex[:8]}"
    body = {"caseRef": ref, "category": "duty-crime", "title": "办案中发现看守所民警违规收受财物线索",
            "body": "在办理某盗窃案中，犯罪嫌疑人供述曾向看守所民警行贿。", "fields": {"unit": "某看守所"}}
    sent = await client.post("/api/v1/partner/police/transfers", headers={**police, **key()}, json=body)
    assert sent.status_code == 201, sent.text
    item = sent.json()["item"]["id"]
    files = await client.post(f"/api/v1/partner/police/transfers/{ref}/attachments", headers={**police, **key()},
                              files={"file": ("transfer.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")})
    assert files.status_code == 201, files.text
    office = await staff("jinshan", "complaints_office")
    step = await client.post(f"/api/v1/staff/complaints/{item}/steps", headers=office,
                             json={"step": "reject", "reason": "不属于本院管辖"})
    assert step.status_code == 200, step.text
    seen = await client.get(f"/api/v1/partner/police/transfers/{ref}", headers=police)
    assert seen.json()["accepted"] is False and seen.json()["concluded"] is True
    # The hotline's routes are not the police's (its scopes), and the other office's client finds nothing.
    denied = await client.get("/api/v1/partner/hotline/tickets", headers=police)
    assert denied.status_code == 403
    other = bearer(await partner_token(client, "chongming-police"))
    assert (await client.get(f"/api/v1/partner/police/transfers/{ref}", headers=other)).status_code == 404
    # Staff cannot use the partner routes even with a valid token.
    assert (await client.get("/api/v1/partner/police/transfers", headers=office)).status_code == 403


async def test_a_transfer_with_a_bad_category_is_refused_and_files_nothing(client, conn) -> None:
    hotline = bearer(await partner_token(client, "jinshan-hotline"))
    ticket = f"T-{uuid.uuid4().hex[:8]}"
    bad = await client.post("/api/v1/partner/hotline/tickets", headers={**hotline, **key()},
                            json=_call(ticket, category="no-such-category"))
    assert bad.status_code in (400, 404, 422) and bad.headers["content-type"].startswith("application/problem+json")
    assert await conn.fetchval("select count(*) from partner_transfers where reference = $1", ticket) == 0
    nokey = await client.post("/api/v1/partner/hotline/tickets", headers=hotline, json=_call(ticket))
    assert nokey.status_code == 400 and nokey.json()["code"] == "idempotency_key_required"
