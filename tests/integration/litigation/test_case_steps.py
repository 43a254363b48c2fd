"""The case steps after 立案 over HTTP: the investigation plan the department head approves, investigation acts
citing their evidence, 中止审查 and resumption to where the case was, the follow-up with an on-site visit and its
photos, the rectification evaluation, then the suit, the court's notice (its 3-day clock), the appearance, the
judgment, an appeal, enforcement supervision, closing and archiving."""

from __future__ import annotations

from typing import Any

from tests.helpers import bearer, key, partner_token
from tests.integration.clocks.helpers import backdate
from tests.integration.litigation.test_flows import CASES, CLUES, PARTNER, _approve, _clue, _propose
from tests.unit.attachments.files import exif_with, jpeg


async def _review(client: Any, url: str, staff: Any) -> dict[str, Any]:
    """The department head approves a step only they review (an investigation plan, an evaluation)."""
    got = (await client.get(url, headers=await staff("jinshan", "prosecutor"))).json()
    assert got["pendingProposal"]["nextAction"] == "litigation.review"
    resp = await client.post(f"{url}/proposals/{got['pendingProposal']['id']}/decision",
                             headers=await staff("jinshan", "dept_head"), json={"decision": "approve"})
    assert resp.status_code == 200, resp.text
    return resp.json()


async def _step(client: Any, url: str, headers: dict[str, str], body: dict[str, Any], want: str) -> dict[str, Any]:
    resp = await client.post(f"{url}/steps", headers=headers, json=body)
    assert resp.status_code == 200, resp.text
    assert resp.json()["state"] == want, resp.json()["state"]
    return resp.json()


async def _photo(client: Any, url: str, headers: dict[str, str], kind: str = "photo") -> int:
    """A geotagged photo uploaded and recorded in the case's evidence chain: its entry's number."""
    up = await client.post(f"{url}/attachments", headers={**headers, **key()},
                           files={"file": ("现场.jpg", jpeg(exif=exif_with(gps=True)), "image/jpeg")})
    assert up.status_code == 201, up.text
    ev = await client.post(f"{url}/evidence", headers={**headers, **key()},
                           json={"attachmentId": up.json()["id"], "kind": kind})
    assert ev.status_code == 201, ev.text
    return int(ev.json()["seq"])


async def test_an_administrative_case_runs_from_its_plan_to_the_archive(client, staff, conn) -> None:  # noqa: ANN001
    prosecutor = await staff("jinshan", "prosecutor")
    agency = bearer(await partner_token(client, "jinshan-ecoenv"))
    made = await client.post(CLUES, headers={**prosecutor, **key()}, json=_clue(n=931))
    url = f"{CLUES}/{made.json()['id']}"
    await client.post(f"{url}/steps", headers=prosecutor, json={"step": "evaluate"})
    await _propose(client, url, staff, {"step": "open_case", "route": "administrative", "reason": "符合立案条件",
                                        "agency": "jinshan-ecoenv"})
    case_url = f"{CASES}/{(await _approve(client, url, staff))['caseId']}"

    # 调查方案: proposed by the prosecutor, approved by the department head alone; the case stays in investigation.
    await _propose(client, case_url, staff, {"step": "plan_investigation", "content": "调取监测数据，现场勘查排污口。"})
    planned = await _review(client, case_url, staff)
    assert planned["state"] == "investigating" and planned["pendingProposal"] is None
    assert planned["timeline"][-1]["type"] == "step.plan_investigation"

    # 调查: each act cites the evidence it produced, entries of this case only.
    bare = await client.post(f"{case_url}/steps", headers=prosecutor, json={"step": "investigate", "content": "询问"})
    assert bare.status_code == 400 and bare.json()["errors"][0]["field"] == "evidence"
    unknown = await client.post(f"{case_url}/steps", headers=prosecutor, json={
        "step": "investigate", "content": "询问", "evidence": [99]})
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "evidence"
    entry = await _photo(client, case_url, prosecutor)
    act = {"step": "investigate", "content": "现场勘查排污口并拍照固定", "evidence": [entry]}
    acted = await _step(client, case_url, prosecutor, act, "investigating")
    assert acted["timeline"][-1]["data"]["evidence"] == [entry]

    # 中止审查 on the chief's decision, then resumed: back to investigation.
    await _propose(client, case_url, staff, {"step": "suspend", "reason": "被告企业进入破产清算"})
    suspended = await _approve(client, case_url, staff)
    assert suspended["state"] == "suspended" and suspended["stateLabel"] == "中止审查"
    assert {s["name"] for s in suspended["availableSteps"]} == {"resume"}
    await _step(client, case_url, prosecutor, {"step": "resume", "reason": "清算组已接管"}, "investigating")

    # The recommendation, signed for and answered by the agency.
    await _propose(client, case_url, staff, {"step": "issue_recommendation", "content": "建议依法履职。"})
    rec = (await _approve(client, case_url, staff))["recommendation"]["id"]
    assert (await client.post(f"{PARTNER}/recommendations/{rec}/receipt", headers=agency)).status_code == 200
    replied = await client.post(f"{PARTNER}/recommendations/{rec}/reply", headers=agency,
                                json={"text": "已责令整改。", "rectified": True})
    assert replied.status_code == 200, replied.text

    # 跟进调查: an on-site follow-up must cite a photo of the site.
    on_site = {"step": "follow_up", "content": "现场回访排污口", "onSite": True}
    nophoto = await client.post(f"{case_url}/steps", headers=prosecutor, json=on_site)
    assert nophoto.status_code == 400 and nophoto.json()["errors"][0]["field"] == "evidence"
    doc = await _photo(client, case_url, prosecutor, kind="document")
    wrong = await client.post(f"{case_url}/steps", headers=prosecutor, json={**on_site, "evidence": [doc]})
    assert wrong.status_code == 400
    site = await _photo(client, case_url, prosecutor)
    followed = await _step(client, case_url, prosecutor, {**on_site, "evidence": [site]}, "following_up")
    assert followed["timeline"][-1]["data"]["onSite"] is True

    # Suspended during the follow-up, once the review before suing runs (as if the reply period ended), the
    # review is paused until the case resumes the follow-up (not the investigation).
    await backdate(conn, followed["id"], "rectification_review", 70)
    await _propose(client, case_url, staff, {"step": "suspend", "reason": "等待鉴定机构复函"})
    suspended = await _approve(client, case_url, staff)
    assert suspended["state"] == "suspended"
    assert {c["code"]: c["status"] for c in suspended["clocks"]}["rectification_review"] == "paused"
    resumed = await _step(client, case_url, prosecutor, {"step": "resume", "reason": "复函已到"}, "following_up")
    assert {c["code"]: c["status"] for c in resumed["clocks"]}["rectification_review"] == "running"

    # 整改评估: not rectified, reviewed by the department head; then the chief decides to sue.
    await _propose(client, case_url, staff, {"step": "evaluate_rectification", "content": "排污口仍在排放",
                                             "conclusion": "not_rectified"})
    assert (await _review(client, case_url, staff))["state"] == "rectification_evaluated"
    await _propose(client, case_url, staff, {"step": "sue", "reason": "行政机关未整改到位"})
    assert (await _approve(client, case_url, staff))["state"] == "suing"

    # The court's notice starts its 3-day clock; naming the staff who appear answers it.
    summoned = await _step(client, case_url, prosecutor,
                           {"step": "receive_court_notice", "content": "出庭通知书：12月10日开庭"}, "summoned")
    assert {c["code"]: c["status"] for c in summoned["clocks"]}["court_notice_reply"] == "running"
    answered = await client.post(f"{case_url}/filings", headers=prosecutor,
                                 json={"kind": "court_notice_replied", "note": "派员出庭：张检察官"})
    assert {c["code"]: c["status"] for c in answered.json()["clocks"]}["court_notice_reply"] == "met"
    await _step(client, case_url, prosecutor, {"step": "appear_in_court", "content": "出庭支持起诉"}, "appeared")
    await _step(client, case_url, prosecutor, {"step": "record_judgment", "judgment": "驳回诉讼请求"}, "judged")

    # 上诉 is the chief's decision; the second instance has its own court notice and judgment.
    await _propose(client, case_url, staff, {"step": "appeal", "reason": "一审判决适用法律错误"})
    assert (await _approve(client, case_url, staff))["state"] == "appealed"
    again = await _step(client, case_url, prosecutor, {"step": "receive_court_notice", "content": "二审出庭通知"},
                        "summoned")
    assert [c["status"] for c in again["clocks"] if c["code"] == "court_notice_reply"].count("running") == 1
    await _step(client, case_url, prosecutor, {"step": "appear_in_court", "content": "二审出庭"}, "appeared")
    await _step(client, case_url, prosecutor, {"step": "record_judgment", "judgment": "改判支持诉讼请求"}, "judged")
    await _step(client, case_url, prosecutor, {"step": "supervise_enforcement", "content": "监督履行判决"}, "enforcing")

    # Closed by the chief, then archived: the closing date stays.
    await _propose(client, case_url, staff, {"step": "close", "disposition": "判决已执行完毕"})
    closed = await _approve(client, case_url, staff)
    assert closed["state"] == "closed" and {s["name"] for s in closed["availableSteps"]} == {"archive"}
    archived = await _step(client, case_url, prosecutor, {"step": "archive", "content": "归档号 2026-GY-001"},
                           "archived")
    assert archived["closedAt"] == closed["closedAt"] and archived["availableSteps"] == []
    types = [e["type"] for e in archived["timeline"]]
    for t in ("step.plan_investigation", "step.investigate", "step.suspend", "step.resume", "step.follow_up",
              "step.evaluate_rectification", "step.receive_court_notice", "step.appear_in_court", "step.appeal",
              "step.supervise_enforcement", "step.archive", "filing.court_notice_replied"):
        assert t in types, t
    audited = await conn.fetch("select action from audit_log where object_id = $1", closed["id"])
    assert {"case.suspend", "case.resume", "case.archive"} <= {r["action"] for r in audited}
