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


async def test_referring_an_accepted_item_stops_every_clock_and_leaves_it_out_of_the_rate(  # noqa: ANN001
        client, staff, conn) -> None:
    office, monitor = await staff("jinshan", "complaints_office"), await staff("jinshan", "case_mgmt")
    resp = await client.post("/api/v1/staff/complaints", headers={**office, **key()},
                             json={**WALK_IN, "category": "petition"})
    cid = resp.json()["id"]
    for step in ({"step": "accept"}, {"step": "refer", "referredTo": "区人民法院", "reply": "已转送区人民法院。"}):
        moved = await client.post(f"/api/v1/staff/complaints/{cid}/steps", headers=office, json=step)
        assert moved.status_code == 200, moved.text
    clocks = {c["code"]: c for c in moved.json()["clocks"]}
    # The 60-day opinion no longer runs; the 3-month reply is not applicable (with the reason), not met.
    assert clocks["handling_opinion"]["status"] == "not_applicable"
    assert clocks["result_reply"]["status"] == "not_applicable" and clocks["result_reply"]["exemption"] == "referred"
    assert clocks["procedural_reply"]["status"] == "met"
    assert await conn.fetchval("select count(*) from clocks where subject_id = $1::uuid and finished_at is null",
                               cid) == 0
    day = (await conn.fetchval("select started_at from clocks where subject_id = $1::uuid limit 1", cid))
    rates = await client.get("/api/v1/monitoring/rates?clock=result_reply&groupBy=code", headers=monitor)
    assert rates.status_code == 200, rates.text
    assert day is not None and rates.json()["rates"][0]["notCounted"] >= 1


async def test_stats_periods_begin_at_shanghai_midnight(client, staff, conn) -> None:  # noqa: ANN001
    office, monitor = await staff("jinshan", "complaints_office"), await staff("jinshan", "case_mgmt")
    cid = await file_item(client, office)
    # Filed at 07:30 in Shanghai on 5 March 2024, which is still 4 March in UTC.
    await conn.execute("update clocks set started_at = '2024-03-05 07:30+08' where subject_id = $1::uuid", cid)
    old = await client.get("/api/v1/staff/complaints/stats?since=2024-03-05&until=2024-03-06", headers=office)
    assert old.status_code == 200, old.text
    counted = {r["clock"]: r for r in old.json()["rates"]}
    assert "procedural_reply" in counted
    new = await client.get("/api/v1/monitoring/rates?since=2024-03-05&until=2024-03-06", headers=monitor)
    assert new.json()["timeZone"] == "Asia/Shanghai"
    assert "procedural_reply" in {r["clock"] for r in new.json()["rates"]}
    before = await client.get("/api/v1/monitoring/rates?since=2024-03-04&until=2024-03-05", headers=monitor)
    assert before.json()["rates"] == []


async def test_a_review_may_be_asked_for_until_24_00_of_the_30th_day(client, staff, settings, conn) -> None:  # noqa: ANN001
    from tests.helpers import citizen, item

    me = await citizen(client, settings)
    cid = (await client.post("/api/v1/me/complaints", headers={**me, **key()},
                             json=item(category="civil-appeal", title="民事判决申诉"))).json()["id"]
    office = await staff("jinshan", "complaints_office")
    for step in ({"step": "accept"}, {"step": "close", "disposition": "原判决并无不当。", "reply": "原判决并无不当。"}):
        assert (await client.post(f"/api/v1/staff/complaints/{cid}/steps", headers=office,
                                  json=step)).status_code == 200
    # Closed 30 days and a minute ago: more than 30×24 hours, but the 30th day (the day of closure not counted)
    # lasts until 24:00, later still when it is a rest day.
    await conn.execute("update complaints set closed_at = now() - interval '30 days 1 minute' where id = $1::uuid", cid)
    mine = (await client.get(f"/api/v1/me/complaints/{cid}", headers=me)).json()
    assert mine["canRequestReview"] is True
    review = await client.post(f"/api/v1/me/complaints/{cid}/reviews", headers={**me, **key()},
                               json={"reason": "有新证据"})
    assert review.status_code == 201, review.text


async def test_a_transferred_item_starts_the_receiving_offices_notice_and_objection_clocks(client, staff) -> None:  # noqa: ANN001
    jinshan = await staff("jinshan", "complaints_office")
    resp = await client.post("/api/v1/staff/complaints", headers={**jinshan, **key()},
                             json={**WALK_IN, "category": "petition"})
    cid = resp.json()["id"]
    moved = await client.post(f"/api/v1/staff/complaints/{cid}/transfer", headers=jinshan,
                              json={"office": "chongming", "reason": "属地管辖"})
    assert moved.status_code in (200, 201), moved.text
    chongming = await staff("chongming", "complaints_office")
    view = (await client.get(f"/api/v1/staff/complaints/{cid}", headers=chongming)).json()
    clocks = {(c["code"], c["occurrence"]): c for c in view["clocks"]}
    assert clocks[("receipt_notice", 1)]["status"] == "not_applicable"  # the sender's no longer counts
    assert clocks[("receipt_notice", 2)]["status"] == "running"
    objection = clocks[("wrong_route_objection", 1)]
    assert objection["status"] == "running" and objection["daysRemaining"] <= 5
    # Accepting it answers the objection period (the receiving office took the item).
    accepted = await client.post(f"/api/v1/staff/complaints/{cid}/steps", headers=chongming, json={"step": "accept"})
    assert clock_of(accepted.json(), "wrong_route_objection")["status"] == "met"


async def test_a_reopened_item_runs_a_new_result_clock_with_the_offices_settings(client, staff, conn) -> None:  # noqa: ANN001
    office, head = await staff("jinshan", "complaints_office"), await staff("jinshan", "dept_head")
    cid = await file_item(client, office)
    for step in ({"step": "accept"}, {"step": "close", "disposition": "已办结。", "reply": "已办结。"}):
        assert (await client.post(f"/api/v1/staff/complaints/{cid}/steps", headers=office,
                                  json=step)).status_code == 200
    jinshan = await conn.fetchval("select id from offices where code = 'jinshan'")
    config = await conn.fetchval("select config from office_modules where office_id = $1 and module = 'complaints'",
                                 jinshan)
    await conn.execute("update office_modules set config = $2 where office_id = $1 and module = 'complaints'",
                       jinshan, {**config, "clocks": {"result_reply": {"lead_days": [9]}}})
    try:
        reopened = await client.post(f"/api/v1/staff/complaints/{cid}/steps", headers=head,
                                     json={"step": "reopen", "reason": "发现新情况"})
        assert reopened.status_code == 200, reopened.text
        second = [c for c in reopened.json()["clocks"] if c["code"] == "result_reply" and c["occurrence"] == 2]
        assert second and second[0]["status"] == "running"
        assert await conn.fetchval("select lead_days from clocks where subject_id = $1::uuid and code = "
                                   "'result_reply' and occurrence = 2", cid) == [9]
    finally:
        await conn.execute("update office_modules set config = $2 where office_id = $1 and module = 'complaints'",
                           jinshan, config)


async def test_the_60_day_opinion_follows_the_categorys_setting(client, staff) -> None:  # noqa: ANN001
    office, admin = await staff("jinshan", "complaints_office"), await staff("jinshan", "admin")
    saved = await client.put("/api/v1/admin/complaints/categories/opinion-needed", headers=admin,
                             json={"kind": "accusation", "name": "需出具处理意见的控告", "handlingOpinion": True,
                                   "code": "opinion-needed"})
    assert saved.status_code in (200, 201), saved.text
    for category, expected in (("opinion-needed", True), ("accusation", False)):
        cid = (await client.post("/api/v1/staff/complaints", headers={**office, **key()},
                                 json={**WALK_IN, "category": category})).json()["id"]
        view = await client.post(f"/api/v1/staff/complaints/{cid}/steps", headers=office, json={"step": "accept"})
        assert ("handling_opinion" in {c["code"] for c in view.json()["clocks"]}) is expected


async def test_a_review_goes_to_the_office_above_which_sees_and_answers_it(  # noqa: ANN001
        client, staff, settings, conn, make_user, app) -> None:
    from tests.helpers import bearer, citizen, item, token_for

    shanghai = await conn.fetchval("select id from offices where code = 'shanghai'")
    await conn.execute("insert into office_modules (office_id, module, enabled, config) values ($1, 'complaints', "
                       "true, '{}'::jsonb) on conflict (office_id, module) do update set enabled = true", shanghai)
    app.state.modules.forget()  # the switch is cached per worker for a few seconds
    try:
        upper = await make_user("shanghai", ("complaints_office",))
        upper_h = bearer(await token_for(client, upper["username"], upper["password"]))
        me = await citizen(client, settings)
        cid = (await client.post("/api/v1/me/complaints", headers={**me, **key()},
                                 json=item(category="civil-appeal", title="民事判决申诉"))).json()["id"]
        office = await staff("jinshan", "complaints_office")
        for step in ({"step": "accept"}, {"step": "close", "disposition": "维持。", "reply": "维持。"}):
            assert (await client.post(f"/api/v1/staff/complaints/{cid}/steps", headers=office,
                                      json=step)).status_code == 200
        review = await client.post(f"/api/v1/me/complaints/{cid}/reviews", headers={**me, **key()},
                                   json={"reason": "不服，申请复查"})
        assert review.status_code == 201, review.text
        rid = review.json()["id"]
        seen = await client.get(f"/api/v1/staff/complaints/{rid}", headers=upper_h)
        assert seen.status_code == 200, seen.text
        assert seen.json()["office"] == "shanghai" and [c["code"] for c in seen.json()["clocks"]] == ["review_answer"]
        # The office above answers it; the review's answer clock may pause for a hearing (Art. 36).
        paused = await client.post(f"/api/v1/staff/complaints/{rid}/clock-events", headers=upper_h,
                                   json={"clock": "review_answer", "event": "pause", "reason": "组织听证",
                                         "reasonCode": "hearing"})
        assert paused.status_code == 200, paused.text
        accepted = await client.post(f"/api/v1/staff/complaints/{rid}/steps", headers=upper_h, json={"step": "accept"})
        assert accepted.status_code == 200, accepted.text
        assert (await client.get(f"/api/v1/staff/complaints/{rid}", headers=office)).status_code == 404
    finally:
        await conn.execute("update office_modules set enabled = false where office_id = $1 and module = 'complaints'",
                           shanghai)
        app.state.modules.forget()
