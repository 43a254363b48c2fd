"""Hearings 听证 and rectification evaluations over HTTP: staff schedule one with its panel, invite the office's
deputies and members, its approved volunteers and outsiders (names encrypted, shown masked); the invitees see and
answer their invitations from their own apps until it begins; staff write the record once it was held."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.helpers import bearer, citizen, key, token_for

CASES = "/api/v1/staff/litigation/cases"
ME = "/api/v1/me/litigation/invitations"


async def _case(conn: Any, state: str) -> str:
    return str(await conn.fetchval("select id from pil_cases where office_id = (select id from offices where code = "
                                   "'jinshan') and state = $1 order by created_at limit 1", state))


async def _user(conn: Any, username: str) -> str:
    return str(await conn.fetchval("select id from users where username = $1", username))


async def test_a_hearing_panel_is_invited_answers_and_the_record_is_written(client, staff, conn) -> None:  # noqa: ANN001
    prosecutor = await staff("jinshan", "prosecutor")
    url = f"{CASES}/{await _case(conn, 'investigating')}/hearings"
    deputy, member = await _user(conn, "jinshan.deputy"), await _user(conn, "jinshan.member")
    soon = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    body: dict[str, Any] = {"kind": "hearing", "topic": "是否提出检察建议", "scheduledAt": soon, "place": "本院听证室",
                            "invitees": [{"kind": "deputy", "userId": deputy},
                                         {"kind": "member", "userId": member},
                                         {"kind": "other", "name": "李专家", "organisation": "华东理工大学",
                                          "role": "participant"}]}
    # Idempotency-Key required; a deputy of another office, a member invited as a deputy, a panel-less hearing: 400.
    assert (await client.post(f"{url}/", headers=prosecutor, json=body)).status_code == 400
    stranger = await _user(conn, "chongming.deputy")
    for bad in ([{"kind": "deputy", "userId": stranger}], [{"kind": "deputy", "userId": member}],
                [{"kind": "other", "name": "王某", "role": "participant"}], [{"kind": "other"}]):
        resp = await client.post(f"{url}/", headers={**prosecutor, **key()}, json={**body, "invitees": bad})
        assert resp.status_code == 400, (bad, resp.text)
    evaluation = await client.post(f"{url}/", headers={**prosecutor, **key()}, json={**body, "kind": "evaluation"})
    assert evaluation.status_code == 409
    made = await client.post(f"{url}/", headers={**prosecutor, **key()}, json=body)
    assert made.status_code == 201, made.text
    hearing = made.json()
    assert made.headers["location"].endswith(f"/hearings/{hearing['id']}")
    names = {i["kind"]: i for i in hearing["invitations"]}
    assert names["deputy"]["name"] == "jinshan 人大代表" and names["other"]["name"] == "李**"
    assert all(i["answer"] == "pending" for i in hearing["invitations"])
    stored = await conn.fetchval("select name_enc from pil_invitations where hearing_id = $1 and user_id is null",
                                 hearing["id"])
    assert "李专家" not in stored
    assert (await client.get(f"{url}/", headers=await staff("chongming", "prosecutor"))).status_code == 404

    # The deputy sees the invitation (what, when, where; nothing of the case) and accepts; the member declines.
    as_deputy = bearer(await token_for(client, "jinshan.deputy", client_id="representative-app"))
    mine = (await client.get(f"{ME}/", headers=as_deputy)).json()["items"]
    inv = next(i for i in mine if i["topic"] == "是否提出检察建议" and i["scheduledAt"] == hearing["scheduledAt"])
    assert inv["office"] == "jinshan" and "caseId" not in inv and inv["answer"] == "pending"
    accepted = await client.post(f"{ME}/{inv['id']}/answer", headers=as_deputy, json={"answer": "accept"})
    assert accepted.status_code == 200 and accepted.json()["answer"] == "accepted"
    as_member = bearer(await token_for(client, "jinshan.member", client_id="representative-app"))
    assert (await client.post(f"{ME}/{inv['id']}/answer", headers=as_member,
                              json={"answer": "decline"})).status_code == 404
    theirs = next(i for i in (await client.get(f"{ME}/", headers=as_member)).json()["items"]
                  if i["scheduledAt"] == hearing["scheduledAt"])
    declined = await client.post(f"{ME}/{theirs['id']}/answer", headers=as_member,
                                 json={"answer": "decline", "note": "出差"})
    assert declined.json()["answer"] == "declined"
    assert (await client.get(f"{ME}/", headers=prosecutor)).status_code in (401, 403)

    # No record before it begins; once it has, answers are closed and the record is written once.
    record = f"{url}/{hearing['id']}/record"
    early = await client.post(record, headers=prosecutor, json={"record": "听证笔录"})
    assert early.status_code == 409
    await conn.execute("update pil_hearings set scheduled_at = now() - interval '1 hour' where id = $1", hearing["id"])
    late = await client.post(f"{ME}/{inv['id']}/answer", headers=as_deputy, json={"answer": "decline"})
    assert late.status_code == 409
    held = await client.post(record, headers=prosecutor, json={"record": "听证员一致认为应当提出检察建议。"})
    assert held.status_code == 200 and held.json()["state"] == "held" and held.json()["heldAt"]
    assert (await client.post(record, headers=prosecutor, json={"record": "再写"})).status_code == 409
    answers = {i["kind"]: i["answer"] for i in held.json()["invitations"]}
    assert answers == {"deputy": "accepted", "member": "declined", "other": "pending"}
    case = (await client.get(url.removesuffix("/hearings"), headers=prosecutor)).json()
    types = [e["type"] for e in case["timeline"]]
    assert {"hearing.scheduled", "hearing.answered", "hearing.held"} <= set(types)


async def test_a_volunteer_is_invited_to_a_rectification_evaluation(client, staff, settings, conn) -> None:  # noqa: ANN001
    me = await citizen(client, settings)
    applied = await client.post("/api/v1/me/litigation/volunteer-applications", headers={**me, **key()},
                                json={"office": "jinshan", "name": "钱志愿", "area": "金山区"})
    volunteer = str(await conn.fetchval("select user_id from pil_volunteers where id = $1", applied.json()["id"]))
    prosecutor = await staff("jinshan", "prosecutor")
    url = f"{CASES}/{await _case(conn, 'following_up')}/hearings"
    body = {"kind": "evaluation", "topic": "整改效果评估", "place": "整改现场",
            "scheduledAt": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
            "invitees": [{"kind": "volunteer", "userId": volunteer}]}
    # Not approved yet: not invitable.
    assert (await client.post(f"{url}/", headers={**prosecutor, **key()}, json=body)).status_code == 400
    decided = await client.post(f"/api/v1/staff/litigation/volunteers/{applied.json()['id']}/decision",
                                headers=await staff("jinshan", "dept_head"), json={"decision": "approve"})
    assert decided.status_code == 200
    made = await client.post(f"{url}/", headers={**prosecutor, **key()}, json=body)
    assert made.status_code == 201, made.text
    assert made.json()["invitations"][0]["name"] == "钱**"
    mine = (await client.get(f"{ME}/", headers=me)).json()["items"]
    assert [i["kind"] for i in mine] == ["evaluation"]
    ok = await client.post(f"{ME}/{mine[0]['id']}/answer", headers=me, json={"answer": "accept"})
    assert ok.status_code == 200 and ok.json()["answer"] == "accepted"
