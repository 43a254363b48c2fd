"""An agency's questions on a recommendation addressed to it, over the partner API: asked once per Idempotency-Key,
seen by the case's staff on its timeline, answered once by them, and read back by the agency with the answer;
another agency never sees them, and a concluded case takes no more."""

from __future__ import annotations

from typing import Any

from tests.helpers import bearer, key, partner_token
from tests.integration.litigation.test_flows import CASES, PARTNER

_OPEN = """
select r.id, r.case_id from pil_recommendations r join pil_cases c on c.id = r.case_id
where c.office_id = (select id from offices where code = 'jinshan') and r.agency_client = 'jinshan-ecoenv'
  and c.state {} in ('closed', 'terminated', 'archived')
order by r.issued_at, r.id limit 1
"""


async def _recommendation(conn: Any, concluded: bool) -> tuple[str, str]:
    row = await conn.fetchrow(_OPEN.format("" if concluded else "not"))
    return str(row["id"]), str(row["case_id"])


async def test_an_agency_asks_about_its_recommendation_and_reads_the_answer(client, staff, conn) -> None:  # noqa: ANN001
    agency = bearer(await partner_token(client, "jinshan-ecoenv"))
    prosecutor = await staff("jinshan", "prosecutor")
    rec, case_id = await _recommendation(conn, concluded=False)
    url = f"{PARTNER}/recommendations/{rec}/questions"
    question = {"text": "建议书要求的“全面整改”是否包括已关停企业的历史遗留废渣？"}

    assert (await client.post(url, headers=agency, json=question)).status_code == 400  # no Idempotency-Key
    asked = await client.post(url, headers={**agency, **key()}, json=question)
    assert asked.status_code == 201, asked.text
    assert asked.headers["location"] == url
    body = asked.json()
    assert set(body) == {"id", "text", "askedAt", "answer", "answeredAt"}
    assert body["text"] == question["text"] and body["answer"] is None

    # Another agency (of another office) cannot see or ask about it.
    other = bearer(await partner_token(client, "chongming-ecoenv"))
    assert (await client.get(url, headers=other)).status_code == 404
    assert (await client.post(url, headers={**other, **key()}, json=question)).status_code == 404

    # The case's staff see it on the case and answer it once.
    case = (await client.get(f"{CASES}/{case_id}", headers=prosecutor)).json()
    seen = [e for e in case["timeline"] if e["type"] == "recommendation.question"]
    assert seen[-1]["body"] == question["text"] and seen[-1]["data"]["questionId"] == body["id"]
    answer_url = f"{CASES}/{case_id}/questions/{body['id']}/answer"
    reply = {"text": "包括。历史遗留废渣应一并清运处置，并提交处置凭证。"}
    assistant = await client.post(answer_url, headers=await staff("jinshan", "assistant"), json=reply)
    assert assistant.status_code == 403
    answered = await client.post(answer_url, headers=prosecutor, json=reply)
    assert answered.status_code == 200, answered.text
    assert answered.json()["timeline"][-1]["type"] == "recommendation.answer"
    again = await client.post(answer_url, headers=prosecutor, json=reply)
    assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json")
    unknown = await client.post(f"{CASES}/{case_id}/questions/{rec}/answer", headers=prosecutor, json=reply)
    assert unknown.status_code == 404

    # The agency reads its questions with the answers, nothing else of the case.
    listed = (await client.get(url, headers=agency)).json()
    mine = next(q for q in listed if q["id"] == body["id"])
    assert mine["answer"] == reply["text"] and mine["answeredAt"] >= mine["askedAt"]
    audited = {r["action"] for r in await conn.fetch("select action from audit_log where object_id = $1", case_id)}
    assert {"case.recommendation.question", "case.recommendation.answer"} <= audited
    told = await conn.fetchval("select count(*) from outbox where topic = 'litigation.partner' "
                               "and payload->>'questionId' = $1", body["id"])
    assert told == 1


async def test_a_concluded_case_takes_no_more_questions(client, conn) -> None:  # noqa: ANN001
    agency = bearer(await partner_token(client, "jinshan-ecoenv"))
    rec, _ = await _recommendation(conn, concluded=True)
    late = await client.post(f"{PARTNER}/recommendations/{rec}/questions", headers={**agency, **key()},
                             json={"text": "还需要补充材料吗？"})
    assert late.status_code == 409, late.text
