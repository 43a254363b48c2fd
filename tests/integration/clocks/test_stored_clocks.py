"""Stored clocks never go stale: the item view and the monitoring lists agree across pauses, extensions,
calendar edits and the passing of a due date."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from modules.clocks.engine import Paused
from modules.clocks.store import clock_views, record_event, start_clock, today

from tests.integration.clocks.helpers import backdate, clock_of, enter_year, file_item
from tests.helpers import office_id


async def _listed(client, headers, within: int = 365) -> dict[tuple[str, str], dict]:  # noqa: ANN001
    """Every open deadline the monitoring list shows, by (subject, clock)."""
    out, cursor = {}, None
    while True:
        url = f"/api/v1/monitoring/deadlines?withinDays={within}&limit=200" + (f"&cursor={cursor}" if cursor else "")
        page = await client.get(url, headers=headers)
        assert page.status_code == 200, page.text
        for d in page.json()["items"]:
            out[(d["subjectId"], d["clock"])] = d
        cursor = page.json().get("nextCursor")
        if not cursor:
            return out


async def _agree(client, staff_h, monitor_h, cid: str) -> dict[str, dict]:  # noqa: ANN001
    view = (await client.get(f"/api/v1/staff/complaints/{cid}", headers=staff_h)).json()
    listed = await _listed(client, monitor_h)
    for c in view["clocks"]:
        if c["status"] in ("running", "paused", "overdue"):
            row = listed[(cid, c["code"])]
            assert (row["due"], row["status"], row["daysRemaining"], row["calendarEstimated"]) == (
                c["due"], c["status"], c["daysRemaining"], c["calendarEstimated"]), (c["code"], row, c)
        else:
            assert (cid, c["code"]) not in listed
    return {c["code"]: c for c in view["clocks"]}


async def test_item_view_and_monitoring_list_agree_as_time_passes_and_the_calendar_changes(  # noqa: ANN001
        client, staff, conn) -> None:
    office, monitor = await staff("jinshan", "complaints_office"), await staff("jinshan", "case_mgmt")
    admin, chief = await staff("jinshan", "admin"), await staff("jinshan", "chief")
    resp = await client.post("/api/v1/staff/complaints", headers={**office, "Idempotency-Key": uuid.uuid4().hex},
                             json={"channel": "walk_in", "category": "petition", "title": "信访事项",
                                   "body": "请求处理。", "visitor": {"name": "王五", "phone": "13912345679"}})
    assert resp.status_code == 201, resp.text
    cid = resp.json()["id"]
    await _agree(client, office, monitor, cid)
    # Accepting starts the 60-day handling opinion; the chief extends it by 30 days.
    assert (await client.post(f"/api/v1/staff/complaints/{cid}/steps", headers=office,
                              json={"step": "accept"})).status_code == 200
    url = f"/api/v1/staff/complaints/{cid}/clock-events"
    ask = await client.post(url, headers=office, json={"clock": "handling_opinion", "event": "extend_request",
                                                      "reason": "案情复杂", "amount": 30})
    assert ask.status_code == 200, ask.text
    ext = await client.post(url, headers=chief, json={"clock": "handling_opinion", "event": "extend", "reason": "同意"})
    assert ext.status_code == 200, ext.text
    await _agree(client, office, monitor, cid)
    # Time passes: the 3-month result reply falls past due without anyone touching the item.
    await backdate(conn, cid, "result_reply", 100)
    clocks = await _agree(client, office, monitor, cid)
    assert clocks["result_reply"]["status"] == "overdue"
    assert await conn.fetchval("select status from clocks where subject_id = $1::uuid and code = 'result_reply'",
                               cid) == "overdue"
    overdue = await client.get("/api/v1/monitoring/deadlines?overdue=true&module=complaints&limit=200",
                               headers=monitor)
    assert cid in {d["subjectId"] for d in overdue.json()["items"]}
    # A calendar edit moves the open handling opinion: both views follow.
    due = datetime.fromisoformat(clocks["handling_opinion"]["due"]).date()
    try:
        resp = await enter_year(client, admin, due.year, [{"date": due.isoformat(), "kind": "holiday", "name": "X"}])
        assert resp.status_code == 200, resp.text
        moved = await _agree(client, office, monitor, cid)
        assert moved["handling_opinion"]["due"] > due.isoformat()
    finally:
        await enter_year(client, admin, due.year, [])


async def test_a_paused_clock_is_not_listed_as_overdue_while_its_due_date_moves(client, staff, conn) -> None:  # noqa: ANN001
    monitor = await staff("jinshan", "case_mgmt")
    office = await office_id(conn, "jinshan")
    subject = uuid.uuid4()
    started = datetime.now(UTC) - timedelta(days=25)
    async with conn.transaction():
        await start_clock(conn, office_id=office, module="litigation", subject_id=subject,
                          code="delegated_investigation", started_at=started)
        await record_event(conn, subject_id=subject, code="delegated_investigation",
                           event=Paused(at=started + timedelta(days=20), reason="鉴定", reason_code="appraisal"))
    # Twenty days later the pause still runs: the stored due date (written at the pause) has passed by now.
    await backdate(conn, str(subject), "delegated_investigation", 20)
    stale = await conn.fetchrow("select due, status from clocks where subject_id = $1", subject)
    assert stale["status"] == "paused" and stale["due"] < today() + timedelta(days=1)
    listed = await _listed(client, monitor)
    fresh = (await clock_views(conn, [subject]))[subject][0]
    row = listed[(str(subject), "delegated_investigation")]
    assert row["status"] == "paused" == fresh.status
    assert row["due"] == fresh.due.isoformat() and fresh.due > today()
    assert await conn.fetchval("select due from clocks where subject_id = $1", subject) == fresh.due


async def test_the_periodic_sweep_marks_overdue_clocks_once_across_workers(client, staff, conn, settings) -> None:  # noqa: ANN001
    import asyncio

    from api.db import Database, create_pool
    from auth.audit import written_by_a_command
    from modules.monitoring.sweeper import sweep_all

    office = await staff("chongming", "complaints_office")
    cid = await file_item(client, office)
    await backdate(conn, cid, "procedural_reply", 10)
    assert await conn.fetchval("select status from clocks where subject_id = $1::uuid and code = "
                               "'procedural_reply'", cid) == "running"
    # Two workers start a sweep at once: one sweeps, the other sees the lock and skips.
    pool = await create_pool(settings, settings.database_url)
    try:
        db = Database(pool, settings.db_acquire_timeout)
        # These "workers" run on the test's event loop: the app's audit anchors write through the app's Redis
        # client, which belongs to the app's loop, so here the trail is written as a command writes it.
        with written_by_a_command(client.app.state.box):
            ran = await asyncio.gather(sweep_all(db), sweep_all(db))
    finally:
        await pool.close()
    assert True in ran  # one swept; the other skipped unless it started after the first had ended
    assert await conn.fetchval("select status from clocks where subject_id = $1::uuid and code = "
                               "'procedural_reply'", cid) == "overdue"
