"""The module's deadlines on the shared clock engine: every one of them ends on a working day when its last day
falls in a holiday (National Day 2026), the urgent reply is the case's own 15 days, and the review before suing is
suspended, resumed and extended only as its rule allows (the chief's month, then only the office above)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

import pytest

from modules.clocks.calendar import SHANGHAI, shift_months
from modules.clocks.rules import CLOCKS, Period
from modules.clocks.store import office_calendar, start_clock
from modules.litigation.rules import CLOCKS as LITIGATION_CLOCKS
from tests.helpers import bearer, partner_token
from tests.integration.clocks.helpers import backdate

CASES = "/api/v1/staff/litigation/cases"
# The day before the National Day holiday of 2026 (1-7 October): periods of 3, 5, 7, 15, 30 days and months
# started here or ending in the holiday move to the first working day after it.
START = datetime.combine(date(2026, 9, 28), time(10), SHANGHAI)


@pytest.mark.parametrize("code", LITIGATION_CLOCKS)
async def test_every_litigation_deadline_moves_off_a_holiday(conn, code: str) -> None:  # noqa: ANN001
    spec = CLOCKS[code]
    office = await conn.fetchval("select id from offices where code = 'jinshan'")
    # A start that puts the period's last day on 2 October, inside the holiday.
    nominal = date(2026, 10, 2)
    if spec.length.unit == "months":
        start_day = shift_months(nominal, -spec.length.amount)
    else:
        start_day = nominal - timedelta(days=spec.length.amount)
    started = datetime.combine(start_day, time(10), SHANGHAI)
    tx = conn.transaction()
    await tx.start()
    try:
        state = await start_clock(conn, office_id=office, module="litigation", subject_id=uuid.uuid4(), code=code,
                                  started_at=started)
        cal = await office_calendar(conn, office)
    finally:
        await tx.rollback()  # the clocks of made-up subjects must not reach flow monitoring
    assert state.due > nominal and cal.is_working_day(state.due)
    assert not any(cal.is_working_day(nominal + timedelta(days=d)) for d in range((state.due - nominal).days))


async def test_the_urgent_reply_is_fifteen_days_across_the_holiday(conn) -> None:  # noqa: ANN001
    office = await conn.fetchval("select id from offices where code = 'jinshan'")
    tx = conn.transaction()
    await tx.start()
    try:
        urgent = await start_clock(conn, office_id=office, module="litigation", subject_id=uuid.uuid4(),
                                   code="agency_reply", started_at=START, period=Period(15))
        ordinary = await start_clock(conn, office_id=office, module="litigation", subject_id=uuid.uuid4(),
                                     code="agency_reply", started_at=START)
    finally:
        await tx.rollback()
    # 28 September + 15 days = 13 October, a working day: the holiday counts (calendar days), the end does not move.
    assert urgent.due == date(2026, 10, 13)
    assert ordinary.due == date(2026, 11, 30)  # 28 November is a Saturday: the next working day


async def test_the_review_before_suing_is_suspended_and_extended_as_its_rule_allows(client, staff, conn) -> None:  # noqa: ANN001
    prosecutor, chief = await staff("jinshan", "prosecutor"), await staff("jinshan", "chief")
    case_id = str(await conn.fetchval(
        "select id from pil_cases where office_id = (select id from offices where code = 'jinshan') "
        "and state = 'recommendation_served' order by created_at limit 1"))
    url = f"{CASES}/{case_id}/clock-events"
    # As if the two months of the reply period were over and the review had begun.
    await backdate(conn, case_id, "agency_reply", 75)
    await backdate(conn, case_id, "rectification_review", 75)

    def review(body: dict) -> dict:
        return {c["code"]: c for c in body["clocks"]}["rectification_review"]

    before = review((await client.get(f"{CASES}/{case_id}", headers=prosecutor)).json())
    # 中止审查 needs the chief's approval: the prosecutor cannot record it, the chief can; then it resumes.
    pause = {"clock": "rectification_review", "event": "pause", "reason": "整改受客观原因阻碍",
             "reasonCode": "suspension"}
    assert (await client.post(url, headers=prosecutor, json=pause)).status_code == 422
    assert (await client.post(url, headers=prosecutor, json={**pause, "reasonCode": None})).status_code == 422
    paused = await client.post(url, headers=chief, json=pause)
    assert paused.status_code == 200 and review(paused.json())["status"] == "paused"
    resumed = await client.post(url, headers=prosecutor, json={"clock": "rectification_review", "event": "resume",
                                                               "reason": "阻碍消除"})
    assert review(resumed.json())["status"] == "running"

    # An extension is asked for, then approved by someone else: the chief's month first.
    ask = {"clock": "rectification_review", "event": "extend_request", "reason": "需补充鉴定", "amount": 1}
    assert (await client.post(url, headers=prosecutor, json=ask)).status_code == 200
    approve = {"clock": "rectification_review", "event": "extend", "reason": "同意延长"}
    assert (await client.post(url, headers=prosecutor, json=approve)).status_code == 403
    extended = await client.post(url, headers=chief, json=approve)
    assert extended.status_code == 200
    assert review(extended.json())["due"] > before["due"]
    # A second month is beyond the chief: only the office above may grant it.
    assert (await client.post(url, headers=prosecutor, json=ask)).status_code == 200
    beyond = await client.post(url, headers=chief, json=approve)
    assert beyond.status_code == 422 and "office above" in beyond.json()["detail"]
    types = [e["type"] for e in extended.json()["timeline"]]
    assert {"clock.pause", "clock.resume", "clock.extend_request", "clock.extend"} <= set(types)
    # The case's public notice clock does not exist on the administrative route: 404.
    missing = await client.post(url, headers=prosecutor, json={**ask, "clock": "civil_review"})
    assert missing.status_code == 404

    # The agency answers after its two months: the reply is kept, marked late, and the clock says met_late.
    agency = bearer(await partner_token(client, "jinshan-ecoenv"))
    rec = await conn.fetchval("select id from pil_recommendations where case_id = $1", case_id)
    late = await client.post(f"/api/v1/partner/litigation/recommendations/{rec}/reply", headers=agency,
                             json={"text": "已整改。", "rectified": True})
    assert late.status_code == 200 and late.json()["replyLate"] is True
    case = (await client.get(f"{CASES}/{case_id}", headers=prosecutor)).json()
    assert {c["code"]: c["status"] for c in case["clocks"]}["agency_reply"] == "met_late"
    assert case["recommendation"]["replyLate"] is True and case["state"] == "agency_replied"


async def test_flow_monitoring_lists_a_case_deadline_with_its_number_and_title(client, staff, conn) -> None:  # noqa: ANN001
    resp = await client.get("/api/v1/monitoring/deadlines", headers=await staff("jinshan", "case_mgmt"),
                            params={"module": "litigation", "withinDays": 365, "limit": 200})
    assert resp.status_code == 200, resp.text
    rows = resp.json()["items"]
    cases = {str(r["id"]): r for r in await conn.fetch("select id, case_no, title from pil_cases")}
    # (Other tests start litigation clocks on made-up subjects: only the cases' rows are checked.)
    ours = [r for r in rows if r["subjectId"] in cases]
    assert ours and all(r["module"] == "litigation" for r in rows)
    assert all((r["ref"], r["title"]) == (cases[r["subjectId"]]["case_no"], cases[r["subjectId"]]["title"])
               for r in ours)
