"""An agency that signed for a recommendation and never replied: once its reply period is over, flow monitoring
lists the overdue deadline with the case's number, and the sweep raises a reminder to the handler on its own,
as the office's monitoring settings say."""

from __future__ import annotations

from tests.helpers import bearer, key, partner_token
from tests.integration.clocks.helpers import backdate
from tests.integration.litigation.test_flows import CASES, CLUES, PARTNER, _approve, _clue, _propose


async def _served_case(client, staff) -> dict:  # noqa: ANN001
    """An administrative case whose recommendation jinshan-ecoenv has signed for: the case as staff see it."""
    prosecutor = await staff("jinshan", "prosecutor")
    made = await client.post(CLUES, headers={**prosecutor, **key()}, json=_clue(n=961))
    url = f"{CLUES}/{made.json()['id']}"
    await client.post(f"{url}/steps", headers=prosecutor, json={"step": "evaluate"})
    await _propose(client, url, staff, {"step": "open_case", "route": "administrative", "reason": "符合立案条件",
                                        "agency": "jinshan-ecoenv"})
    case_url = f"{CASES}/{(await _approve(client, url, staff))['caseId']}"
    await _propose(client, case_url, staff, {"step": "issue_recommendation", "content": "建议依法履职。"})
    rec = (await _approve(client, case_url, staff))["recommendation"]["id"]
    agency = bearer(await partner_token(client, "jinshan-ecoenv"))
    assert (await client.post(f"{PARTNER}/recommendations/{rec}/receipt", headers=agency)).status_code == 200
    return (await client.get(case_url, headers=prosecutor)).json()


async def test_an_unanswered_recommendation_escalates_through_flow_monitoring(client, staff, conn) -> None:  # noqa: ANN001
    case = await _served_case(client, staff)
    monitor = await staff("jinshan", "case_mgmt")
    handler = str(await conn.fetchval("select id from users where username = 'jinshan.prosecutor'"))
    assert case["handlerId"] == handler
    # Two months and a half since the agency signed: its two months are over, and it has not replied.
    await backdate(conn, case["id"], "agency_reply", 75)
    cfg = await client.put("/api/v1/monitoring/settings", headers=monitor,
                           json={"automatic": True, "reminderAfterDays": 0, "noticeAfterDays": 3})
    assert cfg.status_code == 200, cfg.text

    # Flow monitoring lists it as overdue, with the case's number, title and handler.
    page = await client.get("/api/v1/monitoring/deadlines", headers=monitor,
                            params={"module": "litigation", "overdue": "true", "limit": 200})
    assert page.status_code == 200, page.text
    [row] = [d for d in page.json()["items"] if d["subjectId"] == case["id"] and d["clock"] == "agency_reply"]
    assert row["status"] == "overdue" and row["ref"] == case["caseNo"] and row["title"] == case["title"]
    assert row["handlerId"] == handler

    # The sweep raises the reminder by itself, once; the handler is told (ids only) and it is on the case.
    swept = await client.post("/api/v1/monitoring/sweep", headers=monitor)
    assert swept.status_code == 200 and swept.json()["reminders"] >= 1, swept.text
    rungs = await conn.fetch("select rung, automatic, handler_id from monitoring_actions where clock_id = $1::uuid",
                             row["clockId"])
    assert [(r["rung"], r["automatic"], str(r["handler_id"])) for r in rungs] == [("reminder", True, handler)]
    again = await client.post("/api/v1/monitoring/sweep", headers=monitor)
    assert again.status_code == 200
    assert await conn.fetchval("select count(*) from monitoring_actions where clock_id = $1::uuid and "
                               "rung = 'reminder'", row["clockId"]) == 1
    pushed = await conn.fetch("select payload from outbox where topic = 'monitoring' and payload->>'clockId' = $1",
                              row["clockId"])
    assert pushed and pushed[0]["payload"]["handlerId"] == handler
    seen = (await client.get(f"{CASES}/{case['id']}", headers=await staff("jinshan", "prosecutor"))).json()
    reminded = [e for e in seen["timeline"] if e["type"] == "monitoring.reminder"]
    assert reminded and reminded[0]["data"]["clock"] == "agency_reply" and reminded[0]["data"]["automatic"] is True
    # The agency never sees the office's monitoring: its view of the recommendation carries none of it.
    agency = bearer(await partner_token(client, "jinshan-ecoenv"))
    theirs = await client.get(f"{PARTNER}/recommendations/{case['recommendation']['id']}", headers=agency)
    assert theirs.status_code == 200 and "monitoring" not in theirs.text
