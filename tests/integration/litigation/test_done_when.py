"""Issue 11's "done when", in one run over HTTP as the apps and the agency's client call it: a volunteer's clue from
the scene → evaluation → 立案 (prosecutor proposes, department head reviews, chief decides) → investigation with
field evidence in the chain → recommendation issued, numbered, delivered → the agency signs and replies with
evidence → follow-up review on site → closed; then a civil case through its 30-day notice to a suit."""

from __future__ import annotations

from tests.helpers import bearer, citizen, key, partner_token
from tests.integration.clocks.helpers import backdate
from tests.integration.litigation.test_case_steps import _photo, _review, _step
from tests.integration.litigation.test_flows import CASES, CLUES, PARTNER, _approve, _propose
from tests.unit.attachments.files import exif_with, jpeg

ME = "/api/v1/me/litigation"


async def _volunteer(client, staff, settings) -> dict[str, str]:  # noqa: ANN001
    """A citizen who applied to volunteer in jinshan and was approved: their Authorization header."""
    me = await citizen(client, settings)
    applied = await client.post(f"{ME}/volunteer-applications", headers={**me, **key()},
                                json={"office": "jinshan", "name": "钱志愿", "area": "金山区", "expertise": "水质"})
    assert applied.status_code == 201, applied.text
    decided = await client.post(f"/api/v1/staff/litigation/volunteers/{applied.json()['id']}/decision",
                                headers=await staff("jinshan", "dept_head"), json={"decision": "approve"})
    assert decided.json()["state"] == "approved"
    return me


async def test_a_volunteers_clue_runs_to_a_closed_case_and_a_civil_case_to_a_suit(client, staff, settings,  # noqa: ANN001
                                                                                  conn) -> None:
    volunteer = await _volunteer(client, staff, settings)
    prosecutor = await staff("jinshan", "prosecutor")
    agency = bearer(await partner_token(client, "jinshan-ecoenv"))

    # The volunteer's clue from the scene, with a geotagged photo.
    sent = await client.post(f"{ME}/clues", headers={**volunteer, **key()}, json={
        "office": "jinshan", "domain": "ecology_environment", "title": "河道沿岸企业夜间偷排",
        "description": "夜间排污口排放黑色污水，气味刺鼻。",
        "place": {"address": "上海市金山区完成路1号", "latitude": 30.72, "longitude": 121.33}})
    assert sent.status_code == 201, sent.text
    clue_id = sent.json()["id"]
    photo = await client.post(f"{ME}/clues/{clue_id}/attachments", headers={**volunteer, **key()},
                              files={"file": ("排污口.jpg", jpeg(exif=exif_with(gps=True)), "image/jpeg")})
    assert photo.status_code == 201, photo.text

    # Evaluation, then 立案: the prosecutor proposes, the department head reviews, the chief decides.
    url = f"{CLUES}/{clue_id}"
    await _step(client, url, prosecutor, {"step": "evaluate"}, "evaluating")
    assert (await client.get(f"{ME}/clues/{clue_id}", headers=volunteer)).json()["status"] == "under_evaluation"
    proposed = await _propose(client, url, staff, {"step": "open_case", "route": "administrative",
                                                   "reason": "行政机关未依法履行监管职责", "agency": "jinshan-ecoenv"})
    assert proposed["pendingProposal"]["nextAction"] == "litigation.review"
    opened = await _approve(client, url, staff)
    assert opened["state"] == "opened"
    decisions = await conn.fetchval("select decisions from step_proposals where subject_id = $1::uuid "
                                    "and step = 'open_case'", clue_id)
    assert [(d["action"], d["decision"]) for d in decisions] == [("litigation.review", "approve"),
                                                                 ("litigation.decide", "approve")]
    case_url = f"{CASES}/{opened['caseId']}"
    served = await client.post(f"{case_url}/filings", headers=prosecutor, json={"kind": "case_decision_served"})
    assert {c["code"]: c["status"] for c in served.json()["clocks"]}["pil_case_decision_service"] == "met"

    # Investigation: a plan, then a site inspection citing the photo recorded in the evidence chain.
    await _propose(client, case_url, staff, {"step": "plan_investigation", "content": "现场勘查，调取执法记录。"})
    await _review(client, case_url, staff)
    entry = await _photo(client, case_url, prosecutor)
    await _step(client, case_url, prosecutor, {"step": "investigate", "content": "现场勘查排污口",
                                               "evidence": [entry]}, "investigating")
    chain = await client.get(f"{case_url}/evidence/verification", headers=prosecutor)
    assert chain.status_code == 200 and chain.json()["intact"] is True and chain.json()["entries"] >= 1, chain.text

    # The recommendation: issued on the chief's decision, numbered, delivered to the agency's inbox.
    await _propose(client, case_url, staff, {"step": "issue_recommendation",
                                             "content": "建议你局依法查处偷排行为并督促修复河道。"})
    issued = await _approve(client, case_url, staff)
    rec = issued["recommendation"]
    assert issued["state"] == "recommendation_issued" and rec["recNo"].startswith("JINSHAN-JJ-")
    filed = await client.post(f"{case_url}/filings", headers=prosecutor, json={"kind": "recommendation_filed_upward"})
    assert {c["code"]: c["status"] for c in filed.json()["clocks"]}["recommendation_filing_upward"] == "met"
    inbox = (await client.get(f"{PARTNER}/recommendations", headers=agency)).json()["items"]
    assert rec["id"] in {r["id"] for r in inbox}

    # The agency signs for it (the reply clock starts), then replies with its evidence.
    signed = await client.post(f"{PARTNER}/recommendations/{rec['id']}/receipt", headers=agency)
    assert signed.status_code == 200 and signed.json()["replyDue"]
    report = await client.post(f"{PARTNER}/recommendations/{rec['id']}/attachments", headers={**agency, **key()},
                               files={"file": ("整改报告.jpg", jpeg(), "image/jpeg")})
    assert report.status_code == 201, report.text
    replied = await client.post(f"{PARTNER}/recommendations/{rec['id']}/reply", headers=agency,
                                json={"text": "已立案查处并封堵排污口。", "rectified": True})
    assert replied.status_code == 200 and replied.json()["replyLate"] is False
    case = (await client.get(case_url, headers=prosecutor)).json()
    assert case["state"] == "agency_replied" and report.json()["id"] in {a["id"] for a in case["attachments"]}

    # Follow-up review on site with a photo, the evaluation the department head reviews, then the chief closes.
    site = await _photo(client, case_url, prosecutor)
    await _step(client, case_url, prosecutor, {"step": "follow_up", "content": "现场回访，排污口已封堵",
                                               "onSite": True, "evidence": [site]}, "following_up")
    await _propose(client, case_url, staff, {"step": "evaluate_rectification", "content": "整改到位",
                                             "conclusion": "rectified"})
    assert (await _review(client, case_url, staff))["state"] == "rectification_evaluated"
    await _propose(client, case_url, staff, {"step": "close", "disposition": "行政机关已整改到位，结案。"})
    closed = await _approve(client, case_url, staff)
    assert closed["state"] == "closed" and closed["closedAt"]
    # Every deadline of the case was met: none is left running.
    assert {c["code"]: c["status"] for c in closed["clocks"]} == dict.fromkeys(
        ("pil_case_decision_service", "recommendation_service", "recommendation_filing_upward", "agency_reply",
         "rectification_review"), "met")
    types = [e["type"] for e in closed["timeline"]]
    for t in ("created", "step.plan_investigation", "step.investigate", "recommendation.issued", "step.serve",
              "step.agency_reply", "step.follow_up", "step.evaluate_rectification", "step.close"):
        assert t in types, t
    # The volunteer follows the public outcome of the clue, and nothing internal.
    followed = (await client.get(f"{ME}/clues/{clue_id}", headers=volunteer)).json()
    assert followed["status"] == "accepted" and "timeline" not in followed

    # The civil route: a notice of 30 days; the suit only once it has run (its clock moved back in time).
    made = await client.post(CLUES, headers={**prosecutor, **key()}, json={
        "domain": "food_drug_safety", "title": "网店销售假冒保健品", "description": "众多消费者购买后身体不适。",
        "place": {"address": "上海市金山区完成路2号"}, "publicInterest": "消费者生命健康"})
    assert made.status_code == 201, made.text
    civil_url = f"{CLUES}/{made.json()['id']}"
    await _step(client, civil_url, prosecutor, {"step": "evaluate"}, "evaluating")
    await _propose(client, civil_url, staff, {"step": "open_case", "route": "civil", "reason": "侵害众多消费者权益"})
    civil_case = f"{CASES}/{(await _approve(client, civil_url, staff))['caseId']}"
    await _propose(client, civil_case, staff,
                   {"step": "announce", "content": "公告：法律规定的机关和有关组织可提起诉讼。"})
    announced = await _approve(client, civil_case, staff)
    assert announced["state"] == "announced"
    early = await client.post(f"{civil_case}/steps", headers=prosecutor, json={"step": "sue", "reason": "公告期满"})
    assert early.status_code == 409
    await backdate(conn, announced["id"], "public_notice", 40)
    await _propose(client, civil_case, staff, {"step": "sue", "reason": "公告期满，无适格主体提起诉讼"})
    sued = await _approve(client, civil_case, staff)
    assert sued["state"] == "suing"
    assert {c["code"]: c["status"] for c in sued["clocks"]}["suit_filing_upward"] == "running"
