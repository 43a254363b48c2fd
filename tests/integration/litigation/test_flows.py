"""Public-interest litigation over HTTP as the apps and partner clients call it: a transferred clue evaluated and
opened by the chief, a recommendation issued, signed for and answered by the agency, the case closed; a civil case
through its notice to a suit; a complaint converted into a clue; duplicates flagged."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from modules.litigation.service import _DUPLICATES
from tests.helpers import bearer, index_reads, item, key, partner_token
from tests.integration.clocks.helpers import backdate
from tests.unit.attachments.files import exif_with, jpeg

CLUES = "/api/v1/staff/litigation/clues"
CASES = "/api/v1/staff/litigation/cases"
PARTNER = "/api/v1/partner/litigation"


def _clue(**over: Any) -> dict[str, Any]:
    body = {"domain": "ecology_environment", "title": "河道企业偷排污水", "description": "巡查发现排污口持续排放污水。",
            "place": {"address": f"上海市金山区测试路{over.pop('n', 1)}号", "latitude": 30.7, "longitude": 121.3},
            "publicInterest": "河道水质受损"}
    body.update(over)
    return body


async def _approve(client: Any, url: str, staff: Any, office: str = "jinshan") -> dict[str, Any]:
    """The department head reviews, the chief decides the pending proposal; the subject as it then stands."""
    got = (await client.get(url, headers=await staff(office, "chief"))).json()
    proposal = got["pendingProposal"]["id"]
    for role in ("dept_head", "chief"):
        resp = await client.post(f"{url}/proposals/{proposal}/decision", headers=await staff(office, role),
                                 json={"decision": "approve"})
        assert resp.status_code == 200, resp.text
    return resp.json()


async def _propose(client: Any, url: str, staff: Any, body: dict[str, Any]) -> dict[str, Any]:
    resp = await client.post(f"{url}/steps", headers=await staff("jinshan", "prosecutor"), json=body)
    assert resp.status_code == 200, resp.text
    assert resp.json()["pendingProposal"]["step"] == body["step"]
    return resp.json()


async def test_a_partner_clue_becomes_a_case_whose_recommendation_the_agency_answers(client, staff, conn) -> None:  # noqa: ANN001
    police = bearer(await partner_token(client, "jinshan-police"))
    agency = bearer(await partner_token(client, "jinshan-ecoenv"))
    prosecutor = await staff("jinshan", "prosecutor")
    ref = f"JA-{key()['Idempotency-Key'][-10:]}"

    # The police transfer a clue (Idempotency-Key required; once per reference) and follow whether it is taken up.
    body = {**_clue(n=901), "reference": ref, "informant": {"name": "王小明", "phone": "13912345678"}}
    assert (await client.post(f"{PARTNER}/clues", headers=police, json=body)).status_code == 400
    sent = await client.post(f"{PARTNER}/clues", headers={**police, **key()}, json=body)
    assert sent.status_code == 201, sent.text
    clue_id = sent.json()["id"]
    assert sent.headers["location"] == f"{PARTNER}/clues/{clue_id}"
    assert sent.json()["status"] == "received" and set(sent.json()) == {"id", "clueNo", "reference", "status",
                                                                         "receivedAt"}
    again = await client.post(f"{PARTNER}/clues", headers={**police, **key()}, json=body)
    assert again.status_code == 409 and again.json()["extra"]["clueId"] == clue_id
    # Staff see it with the informant masked; another office and another partner do not see it at all.
    url = f"{CLUES}/{clue_id}"
    seen = (await client.get(url, headers=prosecutor)).json()
    assert seen["source"] == "partner" and seen["partnerReference"] == ref
    assert seen["informant"] == "王** 139****5678" and "王小明" not in str(seen)
    assert (await client.get(url, headers=await staff("chongming", "prosecutor"))).status_code == 404
    assert (await client.get(f"{PARTNER}/clues/{clue_id}", headers=agency)).status_code == 404

    # Evaluation, then the proposal to open an administrative case against the agency: the chief decides.
    evaluated = await client.post(f"{url}/steps", headers=prosecutor, json={"step": "evaluate"})
    assert evaluated.json()["state"] == "evaluating"
    names = {s["name"]: s for s in evaluated.json()["availableSteps"]}
    assert set(names) == {"open_case", "decline", "refer", "preliminary_inquiry"}
    assert names["open_case"]["approvals"] == ["litigation.review", "litigation.decide"]
    bad = await client.post(f"{url}/steps", headers=prosecutor, json={
        "step": "open_case", "route": "administrative", "reason": "符合立案条件", "agency": "jinshan-police"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "agency"
    await _propose(client, url, staff, {"step": "open_case", "route": "administrative", "reason": "符合立案条件",
                                        "agency": "jinshan-ecoenv", "respondent": "某化工公司"})
    # The chief cannot skip the department head's review.
    pending = (await client.get(url, headers=prosecutor)).json()["pendingProposal"]["id"]
    skipped = await client.post(f"{url}/proposals/{pending}/decision", headers=await staff("jinshan", "chief"),
                                json={"decision": "approve"})
    assert skipped.status_code == 403
    opened = await _approve(client, url, staff)
    assert opened["state"] == "opened" and opened["caseId"]
    followed = (await client.get(f"{PARTNER}/clues/{clue_id}", headers=police)).json()
    assert followed["status"] == "accepted"

    # The case: the decision is to be served on the agency within 7 days.
    case_url = f"{CASES}/{opened['caseId']}"
    case = (await client.get(case_url, headers=prosecutor)).json()
    assert case["route"] == "administrative" and case["agency"] == "jinshan-ecoenv" and case["state"] == "investigating"
    # The prosecutor who proposed it handles it: the list finds it by handler.
    handler = str(await conn.fetchval("select id from users where username = 'jinshan.prosecutor'"))
    assert case["handlerId"] == handler
    by_handler = (await client.get(CASES, headers=prosecutor, params={"handler": handler, "limit": 200})).json()
    assert case["id"] in {c["id"] for c in by_handler["items"]}
    assert [c["code"] for c in case["clocks"]] == ["pil_case_decision_service"]
    assert {s["name"] for s in case["availableSteps"]} == {"plan_investigation", "investigate", "issue_recommendation",
                                                         "delegate_investigation", "suspend", "terminate"}
    served = await client.post(f"{case_url}/filings", headers=prosecutor, json={"kind": "case_decision_served"})
    assert served.status_code == 200 and served.json()["clocks"][0]["status"] == "met"
    assert (await client.post(f"{case_url}/filings", headers=prosecutor,
                              json={"kind": "case_decision_served"})).status_code == 409
    civil_only = await client.post(f"{case_url}/steps", headers=prosecutor, json={"step": "announce", "content": "x"})
    assert civil_only.status_code == 409

    # Field evidence: a geotagged photo, recorded in the chain.
    up = await client.post(f"{case_url}/attachments", headers={**prosecutor, **key()},
                           files={"file": ("现场.jpg", jpeg(exif=exif_with(gps=True)), "image/jpeg")})
    assert up.status_code == 201, up.text
    # The urgent recommendation, numbered and issued on the chief's decision.
    await _propose(client, case_url, staff, {"step": "issue_recommendation", "urgent": True,
                                             "content": "建议你局依法履行监管职责，责令企业停止排污并修复河道。"})
    issued = await _approve(client, case_url, staff)
    rec = issued["recommendation"]
    assert issued["state"] == "recommendation_issued" and rec["urgent"] and rec["recNo"].startswith("JINSHAN-JJ-")
    open_clocks = {c["code"]: c for c in issued["clocks"] if c["status"] == "running"}
    assert set(open_clocks) == {"recommendation_service", "recommendation_filing_upward"}

    # The document: the office's header and the text, the same bytes every time, for staff and the agency alike.
    doc = await client.get(f"{case_url}/recommendation/document", headers=prosecutor)
    assert doc.status_code == 200 and doc.headers["content-type"] == "application/pdf"
    assert doc.content.startswith(b"%PDF") and b"STSong-Light" in doc.content
    assert (await client.get(f"{case_url}/recommendation/document", headers={
        **prosecutor, "If-None-Match": doc.headers["etag"]})).status_code == 304
    theirs = await client.get(f"{PARTNER}/recommendations/{rec['id']}/document", headers=agency)
    assert theirs.status_code == 200 and theirs.content == doc.content

    # The agency's inbox holds it; another agency's does not; nothing internal goes with it.
    inbox = (await client.get(f"{PARTNER}/recommendations", headers=agency)).json()["items"]
    mine = [r for r in inbox if r["id"] == rec["id"]]
    assert mine and mine[0]["content"] == rec["content"] and "timeline" not in mine[0] and mine[0]["receivedAt"] is None
    other = bearer(await partner_token(client, "chongming-ecoenv"))
    assert (await client.get(f"{PARTNER}/recommendations/{rec['id']}", headers=other)).status_code == 404
    assert (await client.get(f"{PARTNER}/recommendations/{rec['id']}/document", headers=other)).status_code == 404
    assert (await client.post(f"{PARTNER}/recommendations/{rec['id']}/receipt", headers=police)).status_code == 403
    # Replying before signing is refused; signing records the time and starts the 15-day reply period.
    early = await client.post(f"{PARTNER}/recommendations/{rec['id']}/reply", headers=agency,
                              json={"text": "已整改", "rectified": True})
    assert early.status_code == 409
    signed = await client.post(f"{PARTNER}/recommendations/{rec['id']}/receipt", headers=agency)
    assert signed.status_code == 200 and signed.json()["receivedAt"] and signed.json()["replyDue"]
    case = (await client.get(case_url, headers=prosecutor)).json()
    clocks = {c["code"]: c for c in case["clocks"]}
    assert case["state"] == "recommendation_served" and clocks["recommendation_service"]["status"] == "met"
    reply_clock = await conn.fetchrow("select * from clocks where subject_id = $1 and code = 'agency_reply'",
                                      case["id"])
    assert reply_clock["events"][0]["kind"] == "period_set" and reply_clock["events"][0]["amount"] == 15
    review = await conn.fetchrow("select * from clocks where subject_id = $1 and code = 'rectification_review'",
                                 case["id"])
    # The review before suing counts from the end of the reply period.
    assert review["started_at"].date() >= reply_clock["due"] - timedelta(days=1)

    # The agency replies with evidence; staff see the reply and the file on the case.
    ev = await client.post(f"{PARTNER}/recommendations/{rec['id']}/attachments", headers={**agency, **key()},
                           files={"file": ("整改.jpg", jpeg(), "image/jpeg")})
    assert ev.status_code == 201, ev.text
    replied = await client.post(f"{PARTNER}/recommendations/{rec['id']}/reply", headers=agency,
                                json={"text": "已责令企业停产整改，排污口已封堵。", "rectified": True})
    assert replied.status_code == 200 and replied.json()["replyLate"] is False
    case = (await client.get(case_url, headers=prosecutor)).json()
    assert case["state"] == "agency_replied" and case["recommendation"]["replyRectified"] is True
    assert ev.json()["id"] in {a["id"] for a in case["attachments"]}
    assert {c["code"]: c["status"] for c in case["clocks"]}["agency_reply"] == "met"

    # Follow-up review finds it rectified: the chief closes the case.
    await _propose(client, case_url, staff, {"step": "close", "disposition": "经跟进调查，行政机关已整改到位。"})
    closed = await _approve(client, case_url, staff)
    assert closed["state"] == "closed" and closed["closedAt"]
    assert {c["code"]: c["status"] for c in closed["clocks"]}["rectification_review"] == "met"
    types = [e["type"] for e in closed["timeline"]]
    assert types[0] == "created" and "recommendation.issued" in types and "step.serve" in types
    assert "step.agency_reply" in types and types[-1] == "step.close"


async def test_a_civil_case_runs_through_its_notice_to_a_suit(client, staff, conn) -> None:  # noqa: ANN001
    prosecutor = await staff("jinshan", "prosecutor")
    made = await client.post(CLUES, headers={**prosecutor, **key()}, json=_clue(n=902, domain="food_drug_safety"))
    assert made.status_code == 201, made.text
    url = f"{CLUES}/{made.json()['id']}"
    await client.post(f"{url}/steps", headers=prosecutor, json={"step": "evaluate"})
    await _propose(client, url, staff, {"step": "open_case", "route": "civil", "reason": "侵害众多消费者权益"})
    case_url = f"{CASES}/{(await _approve(client, url, staff))['caseId']}"
    case = (await client.get(case_url, headers=prosecutor)).json()
    assert case["clocks"] == [] and {s["name"] for s in case["availableSteps"]} == {
        "plan_investigation", "investigate", "delegate_investigation", "announce", "suspend", "terminate"}
    await _propose(client, case_url, staff,
                   {"step": "announce", "content": "公告：法律规定的机关和有关组织可提起诉讼。"})
    announced = await _approve(client, case_url, staff)
    clocks = {c["code"]: c for c in announced["clocks"]}
    assert announced["state"] == "announced" and clocks["public_notice"]["status"] == "running"
    # The review before suing is counted from the end of the 30-day notice.
    assert clocks["civil_review"]["due"] > clocks["public_notice"]["due"]
    early = await client.post(f"{case_url}/steps", headers=prosecutor, json={"step": "sue", "reason": "无适格主体起诉"})
    assert early.status_code == 409 and "noticeEnds" in early.json()["extra"]
    # Thirty days later (the notice's clock moved back in time), the suit is proposed and decided.
    await backdate(conn, case["id"], "public_notice", 40)
    await _propose(client, case_url, staff, {"step": "sue", "reason": "公告期满，无适格主体提起诉讼"})
    sued = await _approve(client, case_url, staff)
    clocks = {c["code"]: c for c in sued["clocks"]}
    assert sued["state"] == "suing" and clocks["suit_filing_upward"]["status"] == "running"
    assert clocks["civil_review"]["status"] == "met"
    filed = await client.post(f"{case_url}/filings", headers=prosecutor, json={"kind": "suit_filed_upward"})
    assert {c["code"]: c["status"] for c in filed.json()["clocks"]}["suit_filing_upward"] == "met"
    judged = await client.post(f"{case_url}/steps", headers=prosecutor,
                               json={"step": "record_judgment", "judgment": "判决被告赔偿损失并公开赔礼道歉"})
    assert judged.status_code == 200 and judged.json()["state"] == "judged"


async def test_a_complaint_becomes_a_clue_linked_both_ways(client, staff) -> None:  # noqa: ANN001
    office = await staff("jinshan", "complaints_office")
    filed = await client.post("/api/v1/staff/complaints", headers={**office, **key()},
                              json={**{k: v for k, v in item(category="public-interest").items() if k != "office"},
                                    "fields": {"domain": "生态环境"}, "channel": "walk_in",
                                    "visitor": {"name": "李四", "phone": "13800001111"}})
    assert filed.status_code == 201, filed.text
    complaint_id = filed.json()["id"]
    body = {"complaintId": complaint_id, "domain": "ecology_environment"}
    made = await client.post(f"{CLUES}/from-complaint", headers={**office, **key()}, json=body)
    assert made.status_code == 201, made.text
    clue = made.json()
    assert clue["source"] == "complaint" and clue["title"] == item()["title"] and "李四" not in str(clue)
    assert [(x["direction"], x["module"], x["id"], x["kind"]) for x in clue["links"]] == [
        ("from", "complaints", complaint_id, "transferred_to_clue")]
    seen = (await client.get(f"/api/v1/staff/complaints/{complaint_id}", headers=office)).json()
    linked = [e for e in seen["timeline"] if e["type"] == "linked_to"]
    assert linked and linked[0]["data"] == {"kind": "transferred_to_clue", "module": "litigation", "id": clue["id"]}
    twice = await client.post(f"{CLUES}/from-complaint", headers={**office, **key()}, json=body)
    assert twice.status_code == 409
    # Another office's complaint is not found; a case-management account may not convert.
    other = await client.post(f"{CLUES}/from-complaint", headers={**await staff("chongming", "complaints_office"),
                                                                   **key()}, json=body)
    assert other.status_code == 404
    refused = await client.post(f"{CLUES}/from-complaint", headers={**await staff("jinshan", "case_mgmt"), **key()},
                                json=body)
    assert refused.status_code == 403


async def test_a_busy_address_duplicate_search_reads_ten_clues_not_its_history(client, staff, conn) -> None:  # noqa: ANN001
    prosecutor = await staff("jinshan", "prosecutor")
    address = f"上海市金山区测试路{uuid.uuid4().int % 10**6}号"
    for n in range(24):  # twelve at the address, then the domain's twelve newest elsewhere
        where = address if n < 12 else f"{address}{n}室"
        filed = await client.post(CLUES, headers={**prosecutor, **key()},
                                  json=_clue(place={"address": where}, domain="minors"))
        assert filed.status_code == 201, filed.text
    office_id = await conn.fetchval("select office_id from pil_clues where id = $1", uuid.UUID(filed.json()["id"]))
    scans = await index_reads(conn, "pil_clues", _DUPLICATES, [office_id, "minors", address, None, None, None])
    assert len(scans) == 1 and scans[0][1] <= 10, scans  # the address branch, the place branch having no point


async def test_duplicates_are_flagged_never_merged_and_lists_page_and_filter(client, staff) -> None:  # noqa: ANN001
    prosecutor = await staff("jinshan", "prosecutor")
    first = (await client.post(CLUES, headers={**prosecutor, **key()}, json=_clue(n=903, domain="minors"))).json()
    second = (await client.post(CLUES, headers={**prosecutor, **key()}, json=_clue(n=903, domain="minors"))).json()
    assert first["possibleDuplicates"] == [] and second["possibleDuplicates"] == [first["id"]]
    assert first["clueNo"] != second["clueNo"]
    unknown = await client.post(CLUES, headers={**prosecutor, **key()}, json=_clue(domain="astrology"))
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "domain"
    page = await client.get(CLUES, headers=prosecutor, params={"domain": "minors", "limit": 1})
    assert page.status_code == 200 and len(page.json()["items"]) == 1 and page.json()["nextCursor"]
    nxt = await client.get(CLUES, headers=prosecutor, params={"domain": "minors", "limit": 1,
                                                               "cursor": page.json()["nextCursor"]})
    assert nxt.json()["items"][0]["id"] != page.json()["items"][0]["id"]
    found = await client.get(CLUES, headers=prosecutor, params={"q": "测试路903"})
    assert {i["id"] for i in found.json()["items"]} == {first["id"], second["id"]}
    assert (await client.get(CLUES, headers=prosecutor, params={"state": "dreaming"})).status_code == 400
    assert (await client.get(CASES, headers=prosecutor, params={"route": "criminal"})).status_code == 400
    cases = await client.get(CASES, headers=prosecutor, params={"state": "announced"})
    assert cases.status_code == 200 and all(c["state"] == "announced" for c in cases.json()["items"])
    assert all(c["route"] == "civil" for c in cases.json()["items"])
