"""A client of one office never sees another office's data: every partner route, walked from the spec with the
other office's clients, answers another office's ticket, clue or involvement exactly like a missing one."""

from __future__ import annotations

import uuid

from tests.helpers import bearer, key, partner_token
from tests.security.spec import operations


async def test_every_partner_route_hides_the_other_office(app, client, conn) -> None:  # noqa: ANN001
    hotline = bearer(await partner_token(client, "jinshan-hotline"))
    police = bearer(await partner_token(client, "jinshan-police"))
    ticket, ref = f"ISO-{uuid.uuid4().hex[:8]}", f"ISO-{uuid.uuid4().hex[:8]}"
    base = {"category": "accusation", "title": "隔离测试", "body": "隔离测试内容。"}
    assert (await client.post("/api/v1/partner/hotline/tickets", headers={**hotline, **key()},
                              json={**base, "ticketNo": ticket})).status_code == 201
    assert (await client.post("/api/v1/partner/police/transfers", headers={**police, **key()},
                              json={**base, "caseRef": ref})).status_code == 201
    involvement = (await client.post("/api/v1/partner/involvements", headers={**police, **key()},
                                     json={"summary": "隔离", "reason": "隔离"})).json()["id"]
    mine = {"ticket_no": ticket, "case_ref": ref, "involvement_id": involvement}
    missing = {"ticket_no": "ISO-none", "case_ref": "ISO-none", "involvement_id": str(uuid.uuid4())}
    others = [bearer(await partner_token(client, f"chongming-{c}")) for c in ("hotline", "police")]

    walked = 0
    for op in operations(app):
        if not op.path.startswith("/api/v1/partner/"):
            continue
        names = [p["name"] for p in op.params("path")]
        for headers in others:
            answers = []
            for ids in (mine, missing):
                if op.path.endswith("/attachments"):
                    resp = await client.post(op.url(**ids), headers={**headers, **key()},
                                             files={"file": ("a.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")})
                else:
                    resp = await client.request(op.method, op.url(**ids), headers={**headers, **key()},
                                                json={} if op.method in ("POST", "PUT") else None)
                assert resp.status_code < 500, f"{op}: {resp.status_code}"
                answers.append((resp.status_code, resp.headers.get("content-type", "")[:20]))
                if op.method == "GET" and not names and resp.status_code == 200:
                    # A list of the other office's client holds nothing of this office's.
                    assert ticket not in resp.text and ref not in resp.text and involvement not in resp.text, op
            if names:
                assert answers[0] == answers[1], f"{op}: {answers}"
                assert answers[0][0] in (400, 403, 404, 422), f"{op}: {answers}"
            walked += 1
    assert walked >= 20
