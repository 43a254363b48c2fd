"""Whole flows over HTTP, as the public, staff and admin apps call them."""

from __future__ import annotations

import asyncio

from tests.helpers import citizen, item, key


async def _step(client, headers, cid, step, **fields):  # noqa: ANN001, ANN202
    resp = await client.post(f"/api/v1/staff/complaints/{cid}/steps", headers=headers, json={"step": step, **fields})
    assert resp.status_code == 200, resp.text
    return resp.json()


async def test_anonymous_intake_to_rated_closure(client, staff) -> None:  # noqa: ANN001
    filed = await client.post("/api/v1/public/complaints", headers=key(), json=item(category="public-interest",
                              fields={"domain": "生态环境", "found_on": "2026-11-20"}, title="河道偷排污水"))
    assert filed.status_code == 201, filed.text
    receipt = filed.json()
    assert receipt["queryCode"] and receipt["receiptNo"].startswith("JINS-")
    follow = {"X-Query-Code": receipt["queryCode"]}
    url = f"/api/v1/public/complaints/{receipt['receiptNo']}"
    seen = (await client.get(url, headers=follow)).json()
    assert seen["state"] == "received" and seen["kind"] == "report"
    # Anonymous items are exempt from reply clocks, so no deadline is promised to the public.
    assert seen["deadlines"] == [] or all(d["code"] == "procedural_reply" for d in seen["deadlines"])
    assert (await client.get(url, headers={"X-Query-Code": "WRONGCODE00"})).status_code == 404

    office = await staff("jinshan", "complaints_office")
    cid = receipt["id"]
    await _step(client, office, cid, "request_material", reason="请提供照片", reply="请补充现场照片。")
    added = await client.post(f"{url}/materials", headers={**follow, **key()}, json={"text": "照片已拍，排污口在桥下"})
    assert added.status_code == 201 and added.json()["state"] == "received"
    await _step(client, office, cid, "accept", template="accepted")
    chief = await staff("jinshan", "chief")
    assigned = await client.post(f"/api/v1/staff/complaints/{cid}/assignment", headers=office, json={"mode": "random"})
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["state"] == "in_progress" and assigned.json()["assigneeId"]
    note = await client.post(f"/api/v1/staff/complaints/{cid}/notes", headers={**chief, **key()},
                             json={"text": "内部：与区生态环境局会商"})
    assert note.status_code == 201
    closed = await _step(client, office, cid, "close", disposition="已督促整改，排污口已封堵", template="closed")
    assert closed["state"] == "closed"

    public = (await client.get(url, headers=follow)).json()
    assert public["canRate"] is True
    texts = " ".join(e["body"] or "" for e in public["timeline"])
    assert "排污口已封堵" in texts and "内部" not in texts
    assert all(e["public"] for e in public["timeline"])
    rated = await client.post(f"{url}/rating", headers=follow, json={"score": 5, "comment": "处理及时"})
    assert rated.status_code == 200 and rated.json()["rating"] == 5
    again = await client.post(f"{url}/rating", headers=follow, json={"score": 1})
    assert again.status_code == 409


async def test_staff_file_for_a_walk_in_visitor(client, staff, conn) -> None:  # noqa: ANN001
    office = await staff("jinshan", "complaints_office")
    body = {"channel": "walk_in", "category": "criminal-appeal", "title": "不服不起诉决定",
            "body": "本人对某案不起诉决定不服，申请复查。", "fields": {"case_no": "（2025）沪0116刑初12号"},
            "visitor": {"name": "张三丰", "phone": "13912345678", "idNumber": "310101199001011234"}}
    filed = await client.post("/api/v1/staff/complaints", headers={**office, **key()}, json=body)
    assert filed.status_code == 201, filed.text
    assert filed.json()["queryCode"]  # the visitor has no account: they follow it by code
    cid = filed.json()["id"]
    view = (await client.get(f"/api/v1/staff/complaints/{cid}", headers=office)).json()
    assert view["channel"] == "walk_in"
    # The complaints office sees masked numbers; the chief's permission list shows them in full.
    assert view["reporter"]["phone"] == "139****5678" and view["reporter"]["masked"] is True
    assert view["reporter"]["idNumber"] == "310101********1234"
    full = (await client.get(f"/api/v1/staff/complaints/{cid}", headers=await staff("jinshan", "chief"))).json()
    assert full["reporter"]["phone"] == "13912345678" and full["reporter"]["name"] == "张三丰"
    codes = {c["code"]: c for c in view["clocks"]}
    assert codes["procedural_reply"]["status"] == "running" and codes["result_reply"]["status"] == "running"
    stored = await conn.fetchrow("select reporter_phone_enc, created_by from complaints where id = $1::uuid", cid)
    assert "13912345678" not in stored["reporter_phone_enc"]  # encrypted at rest
    assert stored["created_by"] is not None


async def test_referral_to_another_organ(client, staff, settings) -> None:  # noqa: ANN001
    me = await citizen(client, settings)
    filed = await client.post("/api/v1/me/complaints", headers={**me, **key()},
                              json=item(category="petition", title="邻里噪音扰民"))
    assert filed.status_code == 201, filed.text
    cid = filed.json()["id"]
    office = await staff("jinshan", "complaints_office")
    view = await _step(client, office, cid, "refer", referredTo="区公安分局", template="referred")
    assert view["state"] == "referred" and view["referredTo"] == "区公安分局"
    clocks = {c["code"]: c for c in view["clocks"]}
    # The referral is the procedural reply; the 3-month reply no longer applies (left out of the rate, not met).
    assert clocks["procedural_reply"]["status"] == "met" and clocks["result_reply"]["status"] == "not_applicable"
    mine = (await client.get(f"/api/v1/me/complaints/{cid}", headers=me)).json()
    assert mine["state"] == "referred"
    assert any("区公安分局" in (e["body"] or "") for e in mine["timeline"])
    listing = (await client.get("/api/v1/me/complaints", headers=me)).json()
    assert [i["id"] for i in listing["items"]] == [cid]


async def test_review_is_a_linked_item_with_its_own_clock(client, staff, settings) -> None:  # noqa: ANN001
    me = await citizen(client, settings)
    cid = (await client.post("/api/v1/me/complaints", headers={**me, **key()},
                             json=item(category="civil-appeal", title="民事判决申诉"))).json()["id"]
    office = await staff("jinshan", "complaints_office")
    await _step(client, office, cid, "accept")
    await _step(client, office, cid, "close", disposition="经审查，原判决并无不当。", reply="经审查，原判决并无不当。")
    review = await client.post(f"/api/v1/me/complaints/{cid}/reviews", headers={**me, **key()},
                               json={"reason": "有新证据"})
    assert review.status_code == 201, review.text
    rid = review.json()["id"]
    staff_view = (await client.get(f"/api/v1/staff/complaints/{rid}", headers=office)).json()
    assert staff_view["parentId"] == cid and staff_view["reviewLevel"] == "review"
    assert [c["code"] for c in staff_view["clocks"]] == ["review_answer"]
    twice = await client.post(f"/api/v1/me/complaints/{cid}/reviews", headers={**me, **key()}, json={"reason": "再次"})
    assert twice.status_code == 409


async def test_progress_reply_starts_monthly_followups(client, staff, settings) -> None:  # noqa: ANN001
    me = await citizen(client, settings)
    cid = (await client.post("/api/v1/me/complaints", headers={**me, **key()}, json=item())).json()["id"]
    office = await staff("jinshan", "complaints_office")
    await _step(client, office, cid, "accept")
    resp = await client.post(f"/api/v1/staff/complaints/{cid}/replies", headers={**office, **key()},
                             json={"kind": "progress", "text": "正在调查核实中。"})
    assert resp.status_code == 201, resp.text
    clocks = {(c["code"], c["occurrence"]): c for c in resp.json()["clocks"]}
    assert clocks[("result_reply", 1)]["status"] == "met"
    assert clocks[("followup_reply", 1)]["status"] == "running"
    follow = await client.post(f"/api/v1/staff/complaints/{cid}/replies", headers={**office, **key()},
                               json={"kind": "followup", "text": "仍在办理中。"})
    clocks = {(c["code"], c["occurrence"]): c for c in follow.json()["clocks"]}
    assert clocks[("followup_reply", 1)]["status"] == "met" and clocks[("followup_reply", 2)]["status"] == "running"
    assert clocks[("followup_reply", 2)]["due"] > clocks[("followup_reply", 1)]["due"]


async def test_pause_and_extension_rules(client, staff, settings) -> None:  # noqa: ANN001
    me = await citizen(client, settings)
    cid = (await client.post("/api/v1/me/complaints", headers={**me, **key()},
                             json=item(category="petition"))).json()["id"]
    office = await staff("jinshan", "complaints_office")
    await _step(client, office, cid, "accept")
    # The 60-day handling opinion of a petition may be extended by at most 30 days, by someone allowed to approve.
    refused = await client.post(f"/api/v1/staff/complaints/{cid}/clock-events", headers=office,
                                json={"clock": "handling_opinion", "event": "extend", "reason": "案情复杂", "amount": 30})
    assert refused.status_code == 403  # the complaints office may pause but not approve extensions
    # 本机关负责人批准 (信访工作条例 Art. 34): asked for by one, approved by the chief, not a department head.
    url = f"/api/v1/staff/complaints/{cid}/clock-events"
    too_long = await client.post(url, headers=office, json={"clock": "handling_opinion", "event": "extend_request",
                                                            "reason": "案情复杂", "amount": 31})
    assert too_long.status_code == 422
    asked = await client.post(url, headers=office, json={"clock": "handling_opinion", "event": "extend_request",
                                                        "reason": "案情复杂", "amount": 30})
    assert asked.status_code == 200, asked.text
    dept = await client.post(url, headers=await staff("jinshan", "dept_head"),
                             json={"clock": "handling_opinion", "event": "extend", "reason": "同意"})
    assert dept.status_code == 403
    head = await staff("jinshan", "chief")
    before = {c["code"]: c for c in (await client.get(f"/api/v1/staff/complaints/{cid}", headers=head)).json()["clocks"]}
    extended = await client.post(url, headers=head, json={"clock": "handling_opinion", "event": "extend",
                                                         "reason": "案情复杂"})
    assert extended.status_code == 200, extended.text
    after = {c["code"]: c for c in extended.json()["clocks"]}
    assert after["handling_opinion"]["due"] > before["handling_opinion"]["due"]
    mine = (await client.get(f"/api/v1/me/complaints/{cid}", headers=me)).json()
    assert any(e["type"] == "clock.extend" and "案情复杂" in e["body"] for e in mine["timeline"])


async def test_concurrent_steps_do_not_double_apply(client, staff, settings) -> None:  # noqa: ANN001
    me = await citizen(client, settings)
    cid = (await client.post("/api/v1/me/complaints", headers={**me, **key()}, json=item())).json()["id"]
    office = await staff("jinshan", "complaints_office")
    results = await asyncio.gather(*(client.post(f"/api/v1/staff/complaints/{cid}/steps", headers=office,
                                                 json={"step": "accept"}) for _ in range(3)))
    assert sorted(r.status_code for r in results) == [200, 409, 409]
