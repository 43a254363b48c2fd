"""Document exchange: typed messages with files either way, signed for on receipt, answered where the kind asks."""

from __future__ import annotations

from tests.helpers import bearer, key, partner_token


async def test_office_sends_police_sign_and_answer_with_a_file(client, staff, conn) -> None:  # noqa: ANN001
    police = bearer(await partner_token(client, "jinshan-police"))
    kinds = await client.get("/api/v1/partner/documents/kinds", headers=police)
    assert kinds.status_code == 200
    by_code = {k["code"]: k for k in kinds.json()}
    assert by_code["supplementary_investigation"]["needsAnswer"] is True

    prosecutor = await staff("jinshan", "prosecutor")
    sent = await client.post("/api/v1/staff/partner-documents", headers={**prosecutor, **key()},
                             json={"clientId": "jinshan-police", "kind": "supplementary_investigation",
                                   "subject": "关于张某盗窃案的补充侦查提纲", "body": "请补充调取案发当日监控录像。"})
    assert sent.status_code == 201, sent.text
    doc = sent.json()
    assert doc["state"] == "sent" and doc["direction"] == "to_partner" and doc["receivedAt"] is None
    did = doc["id"]
    filed = await client.post(f"/api/v1/staff/partner-documents/{did}/attachments", headers={**prosecutor, **key()},
                              files={"file": ("提纲.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")})
    assert filed.status_code == 201, filed.text

    # The police's inbox of documents still to sign for; the sender cannot sign its own.
    inbox = await client.get("/api/v1/partner/documents?direction=to_partner&state=sent", headers=police)
    assert did in [d["id"] for d in inbox.json()["items"]]
    assert (await client.post(f"/api/v1/staff/partner-documents/{did}/receipt", headers=prosecutor)).status_code == 409
    early = await client.post(f"/api/v1/partner/documents/{did}/answer", headers={**police, **key()},
                              json={"subject": "答复", "body": "x"})
    assert early.status_code == 409  # signed for first
    signed = await client.post(f"/api/v1/partner/documents/{did}/receipt", headers=police)
    assert signed.status_code == 200 and signed.json()["state"] == "received" and signed.json()["receivedAt"]
    assert (await client.post(f"/api/v1/partner/documents/{did}/receipt", headers=police)).status_code == 409
    got = (await client.get(f"/api/v1/partner/documents/{did}", headers=police)).json()
    [att] = got["attachments"]
    file = await client.get(f"/api/v1/partner/documents/{did}/attachments/{att['id']}", headers=police)
    assert file.status_code == 200 and file.content.startswith(b"%PDF")

    answered = await client.post(f"/api/v1/partner/documents/{did}/answer", headers={**police, **key()},
                                 json={"subject": "补充侦查情况说明", "body": "监控录像已调取，随附光盘。"})
    assert answered.status_code == 201, answered.text
    assert answered.json()["replyTo"] == did and answered.json()["direction"] == "to_office"
    original = (await client.get(f"/api/v1/staff/partner-documents/{did}", headers=prosecutor)).json()
    assert original["state"] == "answered" and original["answerId"] == answered.json()["id"]

    # Kinds are data: one the agency does not exchange, or going the wrong way, is refused.
    wrong = await client.post("/api/v1/partner/documents", headers={**police, **key()},
                              json={"kind": "correction_notice", "subject": "x", "body": "x"})
    assert wrong.status_code == 400
    await conn.execute("insert into partner_message_kinds (code, label_zh, direction, needs_answer, agency_kinds) "
                       "values ('detention_notice', '羁押必要性审查告知', 'to_office', false, '{police}') "
                       "on conflict do nothing")
    new_kind = await client.post("/api/v1/partner/documents", headers={**police, **key()},
                                 json={"kind": "detention_notice", "subject": "告知", "body": "已变更强制措施。"})
    assert new_kind.status_code == 201, new_kind.text
    # Another office sees none of it.
    other = bearer(await partner_token(client, "chongming-police"))
    assert (await client.get(f"/api/v1/partner/documents/{did}", headers=other)).status_code == 404
    other_staff = await staff("chongming", "prosecutor")
    assert (await client.get(f"/api/v1/staff/partner-documents/{did}", headers=other_staff)).status_code == 404
