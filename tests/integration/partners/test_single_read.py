"""An early involvement's and a document's single reads are one SQL statement each, for the partner and for the
office's staff (besides the partner call's own audit record)."""

from __future__ import annotations

from tests.helpers import bearer, key, partner_token
from tests.statements import one_statement_each


async def test_both_sides_read_an_involvement_and_a_document_in_one_statement(client, staff, monkeypatch) -> None:  # noqa: ANN001
    police = bearer(await partner_token(client, "jinshan-police"))
    asked = await client.post("/api/v1/partner/involvements", headers={**police, **key()},
                              json={"caseRef": "JS-2026-0300", "summary": "某企业非法采砂，破坏河道。",
                                    "reason": "请求提前介入引导取证。", "urgency": "normal"})
    assert asked.status_code == 201, asked.text
    iid = asked.json()["id"]
    said = await client.post(f"/api/v1/partner/involvements/{iid}/messages", headers={**police, **key()},
                             json={"text": "补充：现场已固定。"})
    assert said.status_code in (200, 201), said.text
    prosecutor = await staff("jinshan", "prosecutor")
    involvement = await one_statement_each(client, monkeypatch, [
        (f"/api/v1/partner/involvements/{iid}", police), (f"/api/v1/staff/partner-involvements/{iid}", prosecutor)])
    assert [c["code"] for c in involvement["deadlines"]] == ["involvement_response"]
    assert "补充：现场已固定。" in [e["body"] for e in involvement["exchange"]]

    sent = await client.post("/api/v1/staff/partner-documents", headers={**prosecutor, **key()},
                             json={"clientId": "jinshan-police", "kind": "supplementary_investigation",
                                   "subject": "补充侦查提纲", "body": "请补充调取监控录像。"})
    assert sent.status_code == 201, sent.text
    did = sent.json()["id"]
    filed = await client.post(f"/api/v1/staff/partner-documents/{did}/attachments", headers={**prosecutor, **key()},
                              files={"file": ("提纲.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")})
    assert filed.status_code == 201, filed.text
    document = await one_statement_each(client, monkeypatch, [
        (f"/api/v1/partner/documents/{did}", police), (f"/api/v1/staff/partner-documents/{did}", prosecutor)])
    assert [a["id"] for a in document["attachments"]] == [filed.json()["id"]]
    # Another office's staff: 404 for both.
    other = await staff("chongming", "prosecutor")
    for path in (f"/api/v1/staff/partner-involvements/{iid}", f"/api/v1/staff/partner-documents/{did}"):
        assert (await client.get(path, headers=other)).status_code == 404
