"""Flow monitoring end to end over HTTP: warning → reminder → written notice → the handler's answer → bulletin."""

from __future__ import annotations

from datetime import date, timedelta

from tests.integration.clocks.helpers import backdate, file_item
from tests.helpers import key


async def _row(client, headers, cid: str, clock: str, **query: str) -> dict | None:  # noqa: ANN001
    params = "&".join(f"{k}={v}" for k, v in {"withinDays": "30", "limit": "200", **query}.items())
    page = await client.get(f"/api/v1/monitoring/deadlines?{params}", headers=headers)
    assert page.status_code == 200, page.text
    return next((d for d in page.json()["items"] if d["subjectId"] == cid and d["clock"] == clock), None)


async def test_the_ladder_from_warning_to_bulletin(client, staff, conn) -> None:  # noqa: ANN001
    office, chief = await staff("jinshan", "complaints_office"), await staff("jinshan", "chief")
    monitor, handler = await staff("jinshan", "case_mgmt"), await staff("jinshan", "prosecutor")
    handler_id = await conn.fetchval("select id from users where username = 'jinshan.prosecutor'")
    cid = await file_item(client, office)
    assert (await client.post(f"/api/v1/staff/complaints/{cid}/steps", headers=office,
                              json={"step": "accept"})).status_code == 200
    assigned = await client.post(f"/api/v1/staff/complaints/{cid}/assignment", headers=chief,
                                 json={"mode": "designate", "assigneeId": str(handler_id), "reason": "熟悉案情"})
    assert assigned.status_code == 200, assigned.text

    # Warning: the 3-month reply is due in two days or so (the office's lead times are 5 and 2 days).
    await backdate(conn, cid, "result_reply", 89)
    row = await _row(client, monitor, cid, "result_reply", handler=str(handler_id))
    assert row is not None and row["warning"] in (2, 5) and row["status"] == "running", row
    assert row["handlerId"] == str(handler_id) and row["ref"].startswith("JINS-")
    # Reminder by hand (口头提示), on the timeline, the audit trail and the outbox.
    reminder = await client.post(f"/api/v1/monitoring/clocks/{row['clockId']}/rungs", headers=monitor,
                                 json={"rung": "reminder", "note": "请抓紧办理"})
    assert reminder.status_code == 201, reminder.text
    again = await client.post(f"/api/v1/monitoring/clocks/{row['clockId']}/rungs", headers=monitor,
                              json={"rung": "reminder"})
    assert again.status_code == 409
    early = await client.post(f"/api/v1/monitoring/clocks/{row['clockId']}/rungs", headers=monitor,
                              json={"rung": "notice"})
    assert early.status_code == 409  # a written notice is for an overdue deadline
    # Only those with the right raise rungs.
    assert (await client.post(f"/api/v1/monitoring/clocks/{row['clockId']}/rungs", headers=handler,
                              json={"rung": "reminder"})).status_code == 403

    # Ten days later it is overdue; the sweep raises the written notice by itself (delays set to 0 days).
    await backdate(conn, cid, "result_reply", 10)
    await conn.execute("update monitoring_actions set created_at = created_at - interval '10 days' "
                       "where clock_id = $1::uuid", row["clockId"])
    cfg = await client.put("/api/v1/monitoring/settings", headers=monitor,
                           json={"automatic": True, "reminderAfterDays": 0, "noticeAfterDays": 3})
    assert cfg.status_code == 200, cfg.text
    swept = await client.post("/api/v1/monitoring/sweep", headers=monitor)
    assert swept.status_code == 200 and swept.json()["notices"] >= 1, swept.text
    overdue = await _row(client, monitor, cid, "result_reply", overdue="true")
    assert overdue is not None and overdue["status"] == "overdue"

    # The handler sees the notice and answers it with a reason and a plan, once; nobody else may.
    mine = await client.get("/api/v1/monitoring/my-notices", headers=handler)
    notice = next(n for n in mine.json() if n["clockId"] == row["clockId"])
    assert notice["automatic"] is True and notice["rung"] == "notice"
    other = await client.post(f"/api/v1/monitoring/notices/{notice['id']}/answer",
                              headers=await staff("jinshan", "assistant"), json={"reason": "x", "plan": "y"})
    assert other.status_code == 403
    answered = await client.post(f"/api/v1/monitoring/notices/{notice['id']}/answer", headers=handler,
                                 json={"reason": "鉴定意见未出", "plan": "本周内出具答复"})
    assert answered.status_code == 200, answered.text
    assert answered.json()["answerPlan"] == "本周内出具答复"
    assert (await client.post(f"/api/v1/monitoring/notices/{notice['id']}/answer", headers=handler,
                              json={"reason": "x", "plan": "y"})).status_code == 409

    # A bulletin for the period lists the item, once.
    due = date.fromisoformat(overdue["due"])
    period = {"periodStart": due.isoformat(), "periodEnd": (due + timedelta(days=1)).isoformat()}
    bulletin = await client.post("/api/v1/monitoring/bulletins", headers={**monitor, **key()}, json=period)
    assert bulletin.status_code == 201, bulletin.text
    listed = [i for i in bulletin.json()["items"] if i["subjectId"] == cid]
    assert listed and listed[0]["rungs"] == 2 and listed[0]["handlerId"] == str(handler_id)
    assert (await client.post("/api/v1/monitoring/bulletins", headers={**monitor, **key()},
                              json=period)).status_code == 409

    # Every rung is on the item's timeline (internal), the audit trail and the outbox.
    view = (await client.get(f"/api/v1/staff/complaints/{cid}", headers=office)).json()
    types = [e["type"] for e in view["timeline"]]
    for t in ("monitoring.reminder", "monitoring.notice", "monitoring.notice_answered", "monitoring.bulletin"):
        assert t in types, types
    assert not any(e["public"] for e in view["timeline"] if e["type"].startswith("monitoring."))
    audit = await conn.fetch("select action from audit_log where object_id = $1", row["clockId"])
    assert {"monitoring.reminder", "monitoring.notice", "monitoring.notice_answered"} <= {a["action"] for a in audit}
    pushed = await conn.fetch("select payload from outbox where topic = 'monitoring' and payload->>'clockId' = $1",
                              row["clockId"])
    assert len(pushed) >= 3 and all(p["payload"]["handlerId"] == str(handler_id) for p in pushed)


async def test_another_office_cannot_see_or_escalate_the_deadline(client, staff, conn) -> None:  # noqa: ANN001
    office = await staff("jinshan", "complaints_office")
    cid = await file_item(client, office)
    clock_id = await conn.fetchval("select id from clocks where subject_id = $1::uuid and code = 'procedural_reply'",
                                   cid)
    other = await staff("chongming", "case_mgmt")
    assert await _row(client, other, cid, "procedural_reply") is None
    resp = await client.post(f"/api/v1/monitoring/clocks/{clock_id}/rungs", headers=other, json={"rung": "reminder"})
    assert resp.status_code == 404


async def test_an_unknown_module_or_clock_in_a_filter_is_a_400(client, staff) -> None:  # noqa: ANN001
    monitor = await staff("jinshan", "case_mgmt")
    for url in ("/api/v1/monitoring/deadlines?module=nonsense", "/api/v1/monitoring/rates?module=nonsense",
                "/api/v1/monitoring/rates?clock=result_reply&clock=nonsense"):
        resp = await client.get(url, headers=monitor)
        assert resp.status_code == 400, url
        assert resp.json()["errors"][0]["source"] == "query"
    assert (await client.get("/api/v1/monitoring/deadlines?module=complaints", headers=monitor)).status_code == 200
