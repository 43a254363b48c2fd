"""Cases of concern 代表关注案件 over HTTP: a deputy follows a PIL case opened from their suggestion and sees how it
moves, never what its entries say; nobody else can follow it."""

from __future__ import annotations

import json

from tests.helpers import key
from tests.integration.liaison.helpers import REP, rep_headers
from tests.integration.litigation.test_flows import CASES, CLUES, _approve, _propose

SECRET = "约谈某化工公司法定代表人张某某"


async def test_a_deputy_follows_a_pil_case_opened_from_their_suggestion(client, staff, conn) -> None:  # noqa: ANN001
    deputy = await rep_headers(client, "jinshan.deputy")
    prosecutor = await staff("jinshan", "prosecutor")
    mine = await client.post(f"{REP}/suggestions", headers={**deputy, **key()},
                             json={"title": "关于整治化工园区河道排污的建议", "body": "建议检察机关督促治理。"})
    assert mine.status_code == 201, mine.text
    # The suggestion becomes a clue, the chief opens a case from it.
    clue = await client.post(f"{CLUES}/from-suggestion", headers={**prosecutor, **key()},
                             json={"suggestionId": mine.json()["id"], "domain": "ecology_environment"})
    assert clue.status_code == 201, clue.text
    url = f"{CLUES}/{clue.json()['id']}"
    await client.post(f"{url}/steps", headers=prosecutor, json={"step": "evaluate"})
    await _propose(client, url, staff, {"step": "open_case", "route": "civil", "reason": "侵害众多居民饮水安全",
                                        "respondent": "某化工公司"})
    case = (await client.get(f"{CASES}/{(await _approve(client, url, staff))['caseId']}", headers=prosecutor)).json()

    # The deputy follows it by its number: its state, and its creation as progress.
    followed = await client.post(f"{REP}/concerns", headers=deputy, json={"ref": case["caseNo"]})
    assert followed.status_code == 201, followed.text
    got = followed.json()
    assert (got["module"], got["id"], got["ref"], got["state"]) == ("litigation", case["id"], case["caseNo"],
                                                                     "investigating")
    assert [e["type"] for e in got["progress"]] == ["created"]

    # The investigation plan is approved: the deputy sees that the step was taken and when, not the plan, the
    # reason for opening the case or the respondent.
    case_url = f"{CASES}/{case['id']}"
    plan = await _propose(client, case_url, staff, {"step": "plan_investigation", "content": f"调查方案：{SECRET}"})
    step = await client.post(f"{case_url}/proposals/{plan['pendingProposal']['id']}/decision",
                             headers=await staff("jinshan", "dept_head"), json={"decision": "approve"})
    assert step.status_code == 200, step.text
    listed = (await client.get(f"{REP}/concerns", headers=deputy, params={"limit": 200})).json()
    [seen] = [c for c in listed["items"] if c["id"] == case["id"]]
    assert [e["type"] for e in seen["progress"]] == ["created", "step.plan_investigation"]
    assert all(e["body"] is None and e["data"] == {} for e in seen["progress"])
    text = json.dumps(listed, ensure_ascii=False)
    assert SECRET not in text and "某化工公司" not in text and "侵害众多居民饮水安全" not in text

    # Another representative of the office, a representative of another office, and the deputy for a case
    # they did not raise: not found, alike.
    other_case = await conn.fetchval(
        "select c.case_no from pil_cases c join offices o on o.id = c.office_id where o.code = 'jinshan' "
        "and c.id <> $1 and (select source from pil_clues l where l.id = c.clue_id) <> 'deputy' limit 1", case["id"])
    assert other_case is not None  # the demo's cases
    for headers, ref in ((await rep_headers(client, "jinshan.member"), case["caseNo"]),
                         (await rep_headers(client, "chongming.deputy"), case["caseNo"]), (deputy, other_case)):
        resp = await client.post(f"{REP}/concerns", headers=headers, json={"ref": ref})
        assert resp.status_code == 404 and resp.json()["code"] == "not_found", resp.text
    member = await rep_headers(client, "jinshan.member")
    assert case["id"] not in [c["id"] for c in (await client.get(f"{REP}/concerns", headers=member)).json()["items"]]
    # The number is given once, by one name.
    for body in ({}, {"ref": case["caseNo"], "receiptNo": case["caseNo"]}):
        resp = await client.post(f"{REP}/concerns", headers=deputy, json=body)
        assert resp.status_code == 400 and resp.json()["errors"][0]["field"] == "ref", resp.text
