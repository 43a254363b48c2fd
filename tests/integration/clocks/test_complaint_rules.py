"""The complaint clocks as the law says (信访工作条例 2022; 件件有回复): each test failed on the code before."""

from __future__ import annotations

from tests.integration.clocks.helpers import WALK_IN, clock_of, file_item
from tests.helpers import key


async def test_reply_clocks_cannot_be_paused(client, staff) -> None:  # noqa: ANN001
    office = await staff("jinshan", "complaints_office")
    cid = await file_item(client, office)
    for clock in ("procedural_reply", "result_reply"):
        resp = await client.post(f"/api/v1/staff/complaints/{cid}/clock-events", headers=office,
                                 json={"clock": clock, "event": "pause", "reason": "等待材料"})
        assert resp.status_code == 422, resp.text
        assert "cannot be paused" in resp.json()["detail"]
    view = (await client.get(f"/api/v1/staff/complaints/{cid}", headers=office)).json()
    assert clock_of(view, "procedural_reply")["status"] == "running"


async def test_the_handling_opinion_cannot_be_paused_and_its_extension_needs_a_second_person(  # noqa: ANN001
        client, staff) -> None:
    office, chief = await staff("jinshan", "complaints_office"), await staff("jinshan", "chief")
    resp = await client.post("/api/v1/staff/complaints", headers={**office, **key()},
                             json={**WALK_IN, "category": "petition"})
    cid = resp.json()["id"]
    assert (await client.post(f"/api/v1/staff/complaints/{cid}/steps", headers=office,
                              json={"step": "accept"})).status_code == 200
    url = f"/api/v1/staff/complaints/{cid}/clock-events"
    paused = await client.post(url, headers=chief, json={"clock": "handling_opinion", "event": "pause",
                                                        "reason": "x", "reasonCode": "hearing"})
    assert paused.status_code == 422
    # Approving with nothing asked for, or approving one's own request, is refused.
    alone = await client.post(url, headers=chief, json={"clock": "handling_opinion", "event": "extend",
                                                       "reason": "x", "amount": 10})
    assert alone.status_code == 422 and "asked for first" in alone.json()["detail"]
    asked = await client.post(url, headers=chief, json={"clock": "handling_opinion", "event": "extend_request",
                                                       "reason": "案情复杂", "amount": 10})
    assert asked.status_code == 200
    own = await client.post(url, headers=chief, json={"clock": "handling_opinion", "event": "extend",
                                                     "reason": "同意"})
    assert own.status_code == 422 and "cannot approve" in own.json()["detail"]
    # Department heads no longer hold the approval by default.
    rights = await client.get("/api/v1/admin/permissions", headers=await staff("jinshan", "admin"))
    grants = rights.json()["grants"]
    assert "complaint.clock.extend" in grants["chief"] and "complaint.clock.extend" not in grants["dept_head"]
