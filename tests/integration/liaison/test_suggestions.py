"""Suggestions over HTTP, as the apps call them: submitted in the app, assigned, answered through review and approval,
rated, handled again, reclassified, turned into a complaint."""

from __future__ import annotations

import uuid
from typing import Any

from tests.helpers import key
from tests.integration.liaison.helpers import REP, STAFF, rep_headers
from tests.unit.attachments.files import jpeg

SUGGESTION = {"title": "关于加强河道污染治理的建议", "body": "建议对沿河企业排污开展专项监督。"}


async def _submit(client, deputy: dict[str, str]) -> dict[str, Any]:  # noqa: ANN001
    resp = await client.post(f"{REP}/suggestions", headers={**deputy, **key()}, json=SUGGESTION)
    assert resp.status_code == 201, resp.text
    return resp.json()


async def _answer(client, staff, url: str, text: str) -> dict[str, Any]:  # noqa: ANN001
    """Draft (prosecutor) → review (department head) → approve (chief): the reply is delivered."""
    drafted = await client.post(f"{url}/reply", headers=await staff("jinshan", "prosecutor"), json={"reply": text})
    assert drafted.status_code == 200, drafted.text
    proposal = drafted.json()["pendingProposal"]
    assert drafted.json()["state"] == "assigned" and proposal["nextAction"] == "liaison.suggestion.review"
    decision = f"{url}/proposals/{proposal['id']}/decision"
    # The chief cannot skip the department head's review; the drafter cannot approve their own draft.
    skipped = await client.post(decision, headers=await staff("jinshan", "chief"), json={"decision": "approve"})
    assert skipped.status_code == 403 and skipped.json()["extra"]["action"] == "liaison.suggestion.review"
    reviewed = await client.post(decision, headers=await staff("jinshan", "dept_head"), json={"decision": "approve"})
    assert reviewed.status_code == 200 and reviewed.json()["state"] == "assigned", reviewed.text
    approved = await client.post(decision, headers=await staff("jinshan", "chief"), json={"decision": "approve"})
    assert approved.status_code == 200, approved.text
    return approved.json()


async def test_a_deputy_s_suggestion_is_answered_rated_unsatisfied_handled_again_and_closed(client, staff) -> None:  # noqa: ANN001
    deputy = await rep_headers(client, "jinshan.deputy")
    mine = await _submit(client, deputy)
    assert mine["number"].startswith("JINS-JY-") and mine["state"] == "submitted"
    assert [(d["code"], d["status"]) for d in mine["deadlines"]] == [("suggestion_reply", "running")]
    url = f"{STAFF}/suggestions/{mine['id']}"
    office = await staff("jinshan", "liaison_office")
    # The office's list shows it; the staff view names the representative with the phone masked.
    listed = await client.get(f"{STAFF}/suggestions", headers=office, params={"state": "submitted", "limit": 200})
    assert mine["id"] in [s["id"] for s in listed.json()["items"]]
    assert (await client.get(f"{STAFF}/suggestions", headers=office, params={"state": "lost"})).status_code == 400
    prosecutor_view = (await client.get(url, headers=await staff("jinshan", "prosecutor"))).json()
    assert prosecutor_view["representative"]["masked"] and "****" in prosecutor_view["representative"]["phone"]

    assigned = await client.post(f"{url}/assignment", headers=office, json={"department": "第八检察部"})
    assert assigned.status_code == 200 and assigned.json()["state"] == "assigned", assigned.text
    # A draft is not shown to the representative before it is approved.
    await client.post(f"{url}/reply", headers=await staff("jinshan", "prosecutor"), json={"reply": "草稿"})
    assert (await client.get(f"{REP}/suggestions/{mine['id']}", headers=deputy)).json()["reply"] is None
    pending = (await client.get(url, headers=office)).json()["pendingProposal"]
    withdrawn = await client.post(f"{url}/proposals/{pending['id']}/decision",
                                  headers=await staff("jinshan", "prosecutor"), json={"decision": "withdraw"})
    assert withdrawn.status_code == 200 and withdrawn.json()["pendingProposal"] is None

    replied = await _answer(client, staff, url, "经研究，我院已部署专项监督。")
    assert replied["state"] == "replied" and replied["reply"] == "经研究，我院已部署专项监督。"
    reply_clock = next(c for c in replied["clocks"] if c["code"] == "suggestion_reply")
    assert reply_clock["status"] == "met"

    seen = (await client.get(f"{REP}/suggestions/{mine['id']}", headers=deputy)).json()
    assert seen["reply"] == "经研究，我院已部署专项监督。" and seen["canRate"]
    assert "经研究，我院已部署专项监督。" in [e["body"] for e in seen["timeline"]]
    unhappy = await client.post(f"{REP}/suggestions/{mine['id']}/rating", headers=deputy,
                                json={"satisfaction": "not_satisfied", "comment": "措施不够具体"})
    assert unhappy.status_code == 200 and unhappy.json()["state"] == "assigned", unhappy.text
    assert unhappy.json()["satisfaction"] == "not_satisfied"
    # Rated once: the handling is open again, so rating now is a conflict.
    again = await client.post(f"{REP}/suggestions/{mine['id']}/rating", headers=deputy,
                              json={"satisfaction": "satisfied"})
    assert again.status_code == 409

    await _answer(client, staff, url, "已制定具体方案，每月通报进展。")
    happy = await client.post(f"{REP}/suggestions/{mine['id']}/rating", headers=deputy,
                              json={"satisfaction": "satisfied"})
    assert happy.status_code == 200 and happy.json()["state"] == "closed", happy.text
    final = (await client.get(url, headers=office)).json()
    assert final["closedAt"] and final["satisfaction"] == "satisfied"
    steps = [e["type"] for e in final["timeline"] if e["type"].startswith("step.")]
    assert steps == ["step.assign", "step.reply", "step.reopen", "step.reply", "step.conclude"]
    own = await client.get(f"{REP}/suggestions", headers=deputy, params={"limit": 200})
    assert mine["id"] in [s["id"] for s in own.json()["items"]]


async def test_reclassification_moves_the_deadline_without_meeting_the_three_months(client, staff, conn) -> None:  # noqa: ANN001
    office = await staff("jinshan", "liaison_office")
    rep = await conn.fetchval("select id from liaison_representatives where office_id = "
                              "(select id from offices where code = 'jinshan') and kind = 'member' limit 1")
    logged = await client.post(f"{STAFF}/suggestions", headers={**office, **key()},
                               json={"representativeId": str(rep), "channel": "session", **SUGGESTION})
    assert logged.status_code == 201, logged.text
    item = logged.json()
    assert item["number"].startswith("JINS-TA-") and item["channel"] == "session"
    url = f"{STAFF}/suggestions/{item['id']}"
    moved = await client.post(f"{url}/classification", headers=office, json={"reason": "涉及多个部门"})
    assert moved.status_code == 200, moved.text
    clocks = {c["code"]: c for c in moved.json()["clocks"]}
    assert moved.json()["classification"] == "difficult"
    assert clocks["suggestion_reply"]["status"] == "not_applicable"
    assert clocks["suggestion_reply_difficult"]["status"] == "running"
    # Six months from the same start, not from the day of reclassification.
    starts = await conn.fetch("select code, started_at from clocks where subject_id = $1 order by code", item["id"])
    assert starts[0]["started_at"] == starts[1]["started_at"]
    assert clocks["suggestion_reply_difficult"]["due"] > item["clocks"][0]["due"]
    assert (await client.post(f"{url}/classification", headers=office, json={"reason": "再次"})).status_code == 409
    # Not counted as met in the office's rates: the 3-month clock of this item is left out, not on time.
    assert await conn.fetchval("select status from clocks where subject_id = $1 and code = 'suggestion_reply'",
                               item["id"]) == "not_applicable"

    # Once the 3 months have run out, the deadline can no longer be moved (it would hide an overdue reply).
    late = await client.post(f"{STAFF}/suggestions", headers={**office, **key()},
                             json={"representativeId": str(rep), "channel": "letter", **SUGGESTION})
    # As if logged four months ago (the stored due date is what the sweep looks at; it recomputes from the start).
    await conn.execute("update clocks set started_at = now() - interval '4 months', due = current_date - 20 "
                       "where subject_id = $1", late.json()["id"])
    refused = await client.post(f"{STAFF}/suggestions/{late.json()['id']}/classification", headers=office,
                                json={"reason": "晚了"})
    assert refused.status_code == 409 and refused.json()["code"] == "conflict"
    # Flow monitoring lists the overdue reply with the suggestion's number, title and department.
    overdue = await client.get("/api/v1/monitoring/deadlines", headers=await staff("jinshan", "chief"),
                               params={"module": "liaison", "overdue": "true", "limit": 200})
    assert overdue.status_code == 200, overdue.text
    listed = [d for d in overdue.json()["items"] if d["subjectId"] == late.json()["id"]]
    assert [(d["ref"], d["title"]) for d in listed] == [(late.json()["number"], SUGGESTION["title"])]


async def test_a_suggestion_converted_into_a_complaint_shows_in_both_modules(client, staff, conn) -> None:  # noqa: ANN001
    deputy = await rep_headers(client, "jinshan.deputy")
    mine = await _submit(client, deputy)
    office = await staff("jinshan", "liaison_office")
    url = f"{STAFF}/suggestions/{mine['id']}"
    unknown = await client.post(f"{url}/conversion", headers=office, json={"category": "nope", "reason": "属控告"})
    assert unknown.status_code == 400
    converted = await client.post(f"{url}/conversion", headers=office,
                                  json={"category": "accusation", "reason": "反映的是具体违法行为，转控告办理"})
    assert converted.status_code == 200, converted.text
    body = converted.json()
    assert body["state"] == "converted" and body["closedAt"]
    [outcome] = body["links"]
    assert outcome["module"] == "complaints" and outcome["direction"] == "to" and outcome["state"] == "received"
    # The staff read (one statement for the suggestion and its kernel rows) shows exactly what the step answered.
    assert (await client.get(url, headers=office)).json() == body
    assert {c["status"] for c in body["clocks"]} == {"not_applicable"}
    # The complaint exists in the complaints module, filed for the deputy, and says where it came from.
    complaint = await client.get(f"/api/v1/staff/complaints/{outcome['id']}",
                                 headers=await staff("jinshan", "complaints_office"))
    assert complaint.status_code == 200 and complaint.json()["receiptNo"] == outcome["ref"]
    linked = [e for e in complaint.json()["timeline"] if e["type"] == "linked_from"]
    assert linked and linked[0]["data"] == {"kind": "converted_to_complaint", "module": "liaison", "id": mine["id"]}
    # The deputy sees what became of it: the complaint's number and state.
    seen = (await client.get(f"{REP}/suggestions/{mine['id']}", headers=deputy)).json()
    assert seen["state"] == "converted" and seen["outcomes"][0]["ref"] == outcome["ref"]
    # ... and follows its public progress: the complaint accepted shows on the deputy's suggestion.
    accepted = await client.post(f"/api/v1/staff/complaints/{outcome['id']}/steps",
                                 headers=await staff("jinshan", "complaints_office"), json={"step": "accept"})
    assert accepted.status_code == 200, accepted.text
    seen = (await client.get(f"{REP}/suggestions/{mine['id']}", headers=deputy)).json()
    assert seen["outcomes"][0]["state"] == "accepted"
    assert [e["type"] for e in seen["outcomes"][0]["progress"]][-1] == "step.accept"
    assert all(e["data"] == {} for e in seen["outcomes"][0]["progress"])  # public entries, no internal data
    again = await client.post(f"{url}/conversion", headers=office, json={"category": "accusation", "reason": "再"})
    assert again.status_code == 409
    assert await conn.fetchval("select count(*) from subject_links where from_id = $1", mine["id"]) == 1


async def test_representatives_and_offices_see_only_their_own(client, staff) -> None:  # noqa: ANN001
    deputy = await rep_headers(client, "jinshan.deputy")
    member = await rep_headers(client, "jinshan.member")
    mine = await _submit(client, deputy)
    # Another representative of the same office, and another office's staff: not found.
    assert (await client.get(f"{REP}/suggestions/{mine['id']}", headers=member)).status_code == 404
    other = await client.get(f"{STAFF}/suggestions/{mine['id']}", headers=await staff("chongming", "liaison_office"))
    assert other.status_code == 404
    listed = await client.get(f"{REP}/suggestions", headers=member, params={"limit": 200})
    assert mine["id"] not in [s["id"] for s in listed.json()["items"]]
    # The representative app is for representatives; staff routes are not for them.
    assert (await client.get(f"{REP}/suggestions", headers=await staff("jinshan", "chief"))).status_code == 403
    assert (await client.get(f"{STAFF}/suggestions", headers=deputy)).status_code == 403
    # Submitting needs an Idempotency-Key; a retry answers the first suggestion, never a second.
    assert (await client.post(f"{REP}/suggestions", headers=deputy, json=SUGGESTION)).status_code == 400
    k = key()
    first = await client.post(f"{REP}/suggestions", headers={**deputy, **k}, json=SUGGESTION)
    second = await client.post(f"{REP}/suggestions", headers={**deputy, **k}, json=SUGGESTION)
    assert first.json()["id"] == second.json()["id"] and second.headers["Idempotent-Replayed"] == "true"


async def test_files_of_a_suggestion_the_representative_s_and_the_office_s(client, staff) -> None:  # noqa: ANN001
    deputy = await rep_headers(client, "jinshan.deputy")
    mine = await _submit(client, deputy)
    photo = jpeg()
    files = {"file": ("现场照片.jpg", photo, "image/jpeg")}
    up = await client.post(f"{REP}/suggestions/{mine['id']}/attachments", headers={**deputy, **key()}, files=files)
    assert up.status_code == 201, up.text
    office = await staff("jinshan", "liaison_office")
    internal = await client.post(f"{STAFF}/suggestions/{mine['id']}/attachments", headers={**office, **key()},
                                 files={"file": ("内部.jpg", jpeg(), "image/jpeg")})
    assert internal.status_code == 201, internal.text
    # The representative sees only their own file; staff see both and download the original as received.
    seen = (await client.get(f"{REP}/suggestions/{mine['id']}", headers=deputy)).json()
    assert [a["id"] for a in seen["attachments"]] == [up.json()["id"]]
    got = await client.get(f"{REP}/suggestions/{mine['id']}/attachments/{up.json()['id']}", headers=deputy)
    assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
    hidden = await client.get(f"{REP}/suggestions/{mine['id']}/attachments/{internal.json()['id']}", headers=deputy)
    assert hidden.status_code == 404
    staff_view = (await client.get(f"{STAFF}/suggestions/{mine['id']}", headers=office)).json()
    assert {a["id"] for a in staff_view["attachments"]} == {up.json()["id"], internal.json()["id"]}
    original = await client.get(f"{STAFF}/suggestions/{mine['id']}/attachments/{up.json()['id']}", headers=office)
    assert original.status_code == 200 and original.content == photo
    member = await rep_headers(client, "jinshan.member")
    other = await client.post(f"{REP}/suggestions/{mine['id']}/attachments", headers={**member, **key()}, files=files)
    assert other.status_code == 404


async def test_a_deputy_follows_a_complaint_they_raised(client, staff) -> None:  # noqa: ANN001
    deputy, member = await rep_headers(client, "jinshan.deputy"), await rep_headers(client, "jinshan.member")
    office = await staff("jinshan", "complaints_office")
    filing = {"category": "accusation", "title": "某单位违规收费", "body": "代表来访反映的问题。", "channel": "walk_in"}
    mine = await client.post("/api/v1/staff/complaints", headers={**office, **key()},
                             json={**filing, "visitor": {"name": "王建国", "phone": "139 1600 0001"}})
    theirs = await client.post("/api/v1/staff/complaints", headers={**office, **key()},
                               json={**filing, "visitor": {"name": "某市民", "phone": "13800000000"}})
    assert mine.status_code == theirs.status_code == 201, mine.text
    followed = await client.post(f"{REP}/concerns", headers=deputy, json={"receiptNo": mine.json()["receiptNo"]})
    assert followed.status_code == 201, followed.text
    assert followed.json()["ref"] == mine.json()["receiptNo"] and followed.json()["state"] == "received"
    assert followed.json()["progress"][0]["type"] == "received"
    again = await client.post(f"{REP}/concerns", headers=deputy, json={"receiptNo": mine.json()["receiptNo"]})
    assert again.json()["followedAt"] == followed.json()["followedAt"]
    # Someone else's complaint, or the deputy's as another representative: not found, alike.
    for headers, receipt in ((deputy, theirs.json()["receiptNo"]), (member, mine.json()["receiptNo"]),
                             (deputy, "JINS-20260101-ZZZZZZ")):
        resp = await client.post(f"{REP}/concerns", headers=headers, json={"receiptNo": receipt})
        assert resp.status_code == 404 and resp.json()["code"] == "not_found", resp.text
    listed = await client.get(f"{REP}/concerns", headers=deputy, params={"limit": 200})
    assert mine.json()["id"] in [c["id"] for c in listed.json()["items"]]
    assert (await client.get(f"{REP}/concerns", headers=member)).json()["items"] == []


async def test_a_suggestion_converted_into_a_pil_clue_shows_what_it_became(client, staff, conn) -> None:  # noqa: ANN001
    deputy = await rep_headers(client, "jinshan.deputy")
    mine = await _submit(client, deputy)
    prosecutor = await staff("jinshan", "prosecutor")
    body = {"suggestionId": mine["id"], "domain": "ecology_environment", "publicInterest": "河道污染影响居民饮水"}
    made = await client.post("/api/v1/staff/litigation/clues/from-suggestion", headers={**prosecutor, **key()},
                             json=body)
    assert made.status_code == 201, made.text
    clue = made.json()
    assert made.headers["location"] == f"/api/v1/staff/litigation/clues/{clue['id']}"
    assert clue["source"] == "deputy" and clue["title"] == mine["title"]
    # Once per suggestion; another office's staff find no such suggestion.
    again = await client.post("/api/v1/staff/litigation/clues/from-suggestion", headers={**prosecutor, **key()},
                              json=body)
    assert again.status_code == 409 and again.json()["extra"]["clueId"] == clue["id"]
    other = await client.post("/api/v1/staff/litigation/clues/from-suggestion",
                              headers={**await staff("chongming", "prosecutor"), **key()}, json=body)
    assert other.status_code == 404
    # The deputy sees the clue's number and state on the suggestion; the clue shows its origin.
    seen = (await client.get(f"{REP}/suggestions/{mine['id']}", headers=deputy)).json()
    [outcome] = seen["outcomes"]
    assert (outcome["module"], outcome["kind"], outcome["ref"]) == ("litigation", "transferred_to_clue",
                                                                     clue["clueNo"])
    assert outcome["state"] == "registered" == clue["state"]
    assert await conn.fetchval("select count(*) from subject_links where from_id = $1 and to_id = $2",
                               uuid.UUID(mine["id"]), uuid.UUID(clue["id"])) == 1
