"""Holiday calendars as data: entering a year through the admin API and the CLI, and every clock following."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from modules.clocks.calendar import PACKAGE_YEARS, WorkCalendar, local_date
from modules.clocks.statutory import statutory_holidays
from modules.clocks.store import refresh, today

from tests.integration.clocks.helpers import backdate, clock_of, enter_year, file_item

UNKNOWN = max(PACKAGE_YEARS) + 1


async def test_a_year_the_package_does_not_know_is_listed_as_estimated(client, staff) -> None:  # noqa: ANN001
    admin = await staff("jinshan", "admin")
    years = await client.get(f"/api/v1/admin/calendar/years?from={UNKNOWN - 1}&to={UNKNOWN}", headers=admin)
    assert years.status_code == 200, years.text
    by_year = {y["year"]: y for y in years.json()}
    assert by_year[UNKNOWN - 1]["source"] == "package" and not by_year[UNKNOWN - 1]["estimated"]
    assert by_year[UNKNOWN]["estimated"] is True
    detail = (await client.get(f"/api/v1/admin/calendar/years/{UNKNOWN}", headers=admin)).json()
    assert len(detail["statutory"]) == len(statutory_holidays(UNKNOWN))
    # Not everyone may see it.
    assert (await client.get("/api/v1/admin/calendar/years", headers=await staff("jinshan", "assistant"))).status_code \
        == 403


async def test_bad_year_data_is_refused_naming_each_problem(client, staff) -> None:  # noqa: ANN001
    admin = await staff("jinshan", "admin")
    statutory = next(iter(statutory_holidays(UNKNOWN)))
    days = [{"date": f"{UNKNOWN}-03-02", "kind": "holiday", "name": "X"},
            {"date": f"{UNKNOWN}-03-02", "kind": "holiday", "name": "X"},
            {"date": f"{UNKNOWN}-03-05", "kind": "holiday", "name": "X"},
            {"date": statutory.isoformat(), "kind": "workday"},
            {"date": f"{UNKNOWN + 1}-01-05", "kind": "holiday"}]
    resp = await enter_year(client, admin, UNKNOWN, days, complete=True)
    assert resp.status_code == 400, resp.text
    messages = " | ".join(e["message"] for e in resp.json()["errors"])
    for expected in ("more than once", "not given", "statutory holiday", f"not in {UNKNOWN}", "notice"):
        assert expected in messages, messages
    # National days come only from a top office.
    national = await enter_year(client, admin, UNKNOWN, [], level="national")
    assert national.status_code == 403


async def test_entering_a_bridging_holiday_and_a_make_up_day_moves_open_and_finished_clocks(  # noqa: ANN001
        client, staff, conn) -> None:
    office, admin = await staff("jinshan", "complaints_office"), await staff("jinshan", "admin")
    cal = WorkCalendar()
    # An open item: its 3-month result reply falls due on a working day D.
    open_id = await file_item(client, office)
    view = (await client.get(f"/api/v1/staff/complaints/{open_id}", headers=office)).json()
    due = datetime.fromisoformat(clock_of(view, "result_reply")["due"]).date()
    # A replied item: its 7-day reply was due on the last working day before today and answered today: late.
    late_id = await file_item(client, office)
    replied_due = cal.roll_back(today() - timedelta(days=1))
    started = await conn.fetchval("select started_at from clocks where subject_id = $1::uuid and code = $2",
                                  late_id, "procedural_reply")
    await backdate(conn, late_id, "procedural_reply", (local_date(started) - replied_due).days + 7)
    step = await client.post(f"/api/v1/staff/complaints/{late_id}/steps", headers=office, json={"step": "accept"})
    assert step.status_code == 200, step.text
    late = (await client.get(f"/api/v1/staff/complaints/{late_id}", headers=office)).json()
    assert clock_of(late, "procedural_reply")["status"] == "met_late"

    # The office enters a bridging holiday on D and D's replied-to day, and makes the day after D a working day.
    after = due + timedelta(days=1)
    assert after not in statutory_holidays(after.year) and after.year == due.year
    days = [{"date": due.isoformat(), "kind": "holiday", "name": "调休"},
            {"date": after.isoformat(), "kind": "workday", "name": "调休"}]
    extra = [{"date": replied_due.isoformat(), "kind": "holiday", "name": "补休"}]
    try:
        if replied_due.year == due.year:
            days += extra
        else:
            resp = await enter_year(client, admin, replied_due.year, extra)
            assert resp.status_code == 200, resp.text
        resp = await enter_year(client, admin, due.year, days)
        assert resp.status_code == 200, resp.text
        assert resp.json()["clocksChanged"] >= 2
        moved = (await client.get(f"/api/v1/staff/complaints/{open_id}", headers=office)).json()
        assert clock_of(moved, "result_reply")["due"] == after.isoformat()
        stored = await conn.fetchval("select due from clocks where subject_id = $1::uuid and code = 'result_reply'",
                                     open_id)
        assert stored == after
        # The reply answered today is on time now: its period ends on the first working day after the holiday.
        now_on_time = (await client.get(f"/api/v1/staff/complaints/{late_id}", headers=office)).json()
        assert clock_of(now_on_time, "procedural_reply")["status"] == "met"
        assert await conn.fetchval("select status from clocks where subject_id = $1::uuid and code = $2",
                                   late_id, "procedural_reply") == "met"
        audit = await conn.fetchval("select count(*) from audit_log where action = 'calendar.clocks_recomputed'")
        assert audit >= 1
    finally:
        for year in {due.year, replied_due.year}:
            await enter_year(client, admin, year, [])


async def test_the_cli_enters_the_national_notice_and_open_items_follow(  # noqa: ANN001
        client, staff, settings, conn, tmp_path) -> None:
    office = await staff("jinshan", "complaints_office")
    cid = await file_item(client, office)
    due = await conn.fetchval("select due from clocks where subject_id = $1::uuid and code = 'result_reply'", cid)
    year = due.year
    # The top office types the notice: every statutory holiday, plus a bridging holiday on that due date.
    days = {**statutory_holidays(year), due: "调休"}
    rows = ["date,kind,name"] + [f"{d.isoformat()},holiday,{n}" for d, n in sorted(days.items())]
    path = tmp_path / f"{year}.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    env = {**os.environ, "DATABASE_URL": settings.database_url, "JIANWU_SECRET_KEY": settings.secret_key,
           "JIANWU_ENV": "test", "JIANWU_DATA_DIR": str(settings.data_dir), "REDIS_URL": settings.redis_url}
    jianwu = [sys.executable, "-c", "from api.cli import main; main()", "calendar"]
    try:
        done = subprocess.run([*jianwu, "import", str(path), "--office", "shanghai", "--level", "national",
                               "--notice", "测试通知", "--complete"], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert f"{len(days)} holidays" in done.stdout
        moved = await conn.fetchval("select due from clocks where subject_id = $1::uuid and code = 'result_reply'",
                                    cid)
        assert moved > due
        listed = subprocess.run([*jianwu, "list", "--office", "jinshan", "--from", str(year), "--to", str(year)],
                                env=env, capture_output=True, text=True, timeout=120)
        assert listed.returncode == 0, listed.stderr
        assert f"{year} entered" in listed.stdout and "levels=national" in listed.stdout
    finally:
        path.write_text("date,kind,name\n", encoding="utf-8")
        undo = subprocess.run([*jianwu, "import", str(path), "--office", "shanghai", "--level", "national",
                               "--year", str(year)], env=env, capture_output=True, text=True, timeout=120)
        assert undo.returncode == 0, undo.stderr
    assert await conn.fetchval("select due from clocks where subject_id = $1::uuid and code = 'result_reply'",
                               cid) == due
    bad = path.with_name("bad.csv")
    bad.write_text(f"date,kind,name\n{year}-01-01,workday,元旦\n", encoding="utf-8")
    refused = subprocess.run([*jianwu, "import", str(bad), "--office", "chongming"], env=env, capture_output=True,
                             text=True, timeout=120)
    assert refused.returncode != 0 and "statutory holiday" in refused.stderr


async def test_start_warns_while_next_year_is_estimated_and_stops_once_entered(client, staff, conn) -> None:  # noqa: ANN001
    from modules.clocks.calendars import calendar_warnings

    warnings = await calendar_warnings(conn, UNKNOWN - 1)
    assert any(w.startswith(f"calendar {UNKNOWN} is estimated for") and "jinshan" in w for w in warnings)
    admin = await staff("jinshan", "admin")
    days = [{"date": d.isoformat(), "kind": "holiday", "name": n} for d, n in statutory_holidays(UNKNOWN).items()]
    resp = await enter_year(client, admin, UNKNOWN, days, notice="测试", complete=True)
    assert resp.status_code == 200, resp.text
    try:
        assert resp.json()["summary"]["estimated"] is False
        after = await calendar_warnings(conn, UNKNOWN - 1)
        assert not any("jinshan" in w.split(":")[0] and f"calendar {UNKNOWN}" in w for w in after)
    finally:
        await enter_year(client, admin, UNKNOWN, [])


async def test_deadlines_in_an_estimated_year_say_so_in_lists_and_stats(client, staff, conn) -> None:  # noqa: ANN001
    office, monitor = await staff("jinshan", "complaints_office"), await staff("jinshan", "case_mgmt")
    cid = await file_item(client, office)
    # Started 89 days before the first of the unknown year, so the 3-month reply falls due inside it.
    await conn.execute("update clocks set started_at = make_date($2, 1, 1)::timestamp at time zone 'Asia/Shanghai' "
                       "- interval '89 days' + interval '12 hours' where subject_id = $1::uuid", cid, UNKNOWN)
    await refresh(conn, await conn.fetch("select * from clocks where subject_id = $1::uuid", cid), datetime.now(UTC))
    assert await conn.fetchval("select calendar_estimated from clocks where subject_id = $1::uuid and code = "
                               "'result_reply'", cid) is True
    view = (await client.get(f"/api/v1/staff/complaints/{cid}", headers=office)).json()
    assert clock_of(view, "result_reply")["calendarEstimated"] is True
    since = (datetime(UNKNOWN, 1, 1) - timedelta(days=120)).date()
    stats = await client.get(f"/api/v1/staff/complaints/stats?since={since}&until={UNKNOWN}-01-01", headers=office)
    assert {r["clock"]: r for r in stats.json()["rates"]}["result_reply"]["calendarEstimated"] >= 1
    rates = await client.get(f"/api/v1/monitoring/rates?since={since}&until={UNKNOWN}-01-01", headers=monitor)
    assert {r["clock"]: r for r in rates.json()["rates"]}["result_reply"]["calendarEstimated"] >= 1


async def test_a_year_outside_the_calendar_range_is_400_not_500(client) -> None:  # noqa: ANN001
    from tests.helpers import bearer, token_for

    admin = bearer(await token_for(client, "jinshan.admin"))
    for year in (0, 1949, 2200):
        resp = await client.get(f"/api/v1/admin/calendar/years/{year}", headers=admin)
        assert resp.status_code == 400 and resp.json()["code"] == "validation_failed", (year, resp.text)
    assert (await client.get("/api/v1/admin/calendar/years/2026", headers=admin)).status_code == 200
