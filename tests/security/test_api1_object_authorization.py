"""API1:2023 Broken Object Level Authorization: another office's objects are invisible, and no answer (status,
code or count) depends on whether they exist."""

from __future__ import annotations

import uuid

from tests.helpers import bearer, item, key, token_for
from tests.security.spec import operations


def _client(client_id: str) -> dict:
    return {"clientId": client_id, "name": "测试机构", "agencyKind": "police"}


async def test_partner_client_id_of_another_office_is_not_revealed(client) -> None:  # noqa: ANN001
    admin = bearer(await token_for(client, "jinshan.admin"))
    # chongming-police exists at another office; a free name outside the office's prefix answers the same.
    taken = await client.post("/api/v1/admin/partner-clients", headers=admin, json=_client("chongming-police"))
    free = await client.post("/api/v1/admin/partner-clients", headers=admin,
                             json=_client(f"chongming-{uuid.uuid4().hex[:8]}"))
    assert taken.status_code == free.status_code == 400
    assert taken.json()["errors"] == free.json()["errors"]
    own = f"jinshan-{uuid.uuid4().hex[:8]}"
    assert (await client.post("/api/v1/admin/partner-clients", headers=admin, json=_client(own))).status_code == 201
    again = await client.post("/api/v1/admin/partner-clients", headers=admin, json=_client(own))
    assert again.status_code == 409  # only ever about the office's own clients, which it may list anyway


# Replay before authorization: a stored answer is only ever given to a caller who may do the command now.

async def _anonymous_item(client) -> dict:  # noqa: ANN001
    resp = await client.post("/api/v1/public/complaints", headers=key(), json=item(phone="13900001111"))
    assert resp.status_code == 201, resp.text
    return resp.json()


async def test_anonymous_replay_needs_the_right_code(client) -> None:  # noqa: ANN001
    filed = await _anonymous_item(client)
    url = f"/api/v1/public/complaints/{filed['receiptNo']}/materials"
    k = key()
    first = await client.post(url, headers={**k, "X-Query-Code": filed["queryCode"]}, json={"text": "补充材料"})
    assert first.status_code == 201, first.text
    wrong = {**k, "X-Query-Code": "WRONG-CODE"}
    replayed = await client.post(url, headers=wrong, json={"text": "补充材料"})
    assert replayed.status_code == 404 and "receiptNo" not in replayed.text
    other_body = await client.post(url, headers=wrong, json={"text": "别的"})
    assert other_body.status_code == 404  # not 422: the key's existence is not told either
    review = await client.post(f"/api/v1/public/complaints/{filed['receiptNo']}/reviews", headers=wrong,
                               json={"reason": "x"})
    assert review.status_code == 404


async def test_anonymous_filing_keys_are_per_filer(client) -> None:  # noqa: ANN001
    k, body = key(), item(title="同一个键")
    mine = await client.post("/api/v1/public/complaints", headers={**k, "X-Device-ID": "device-a"}, json=body)
    theirs = await client.post("/api/v1/public/complaints", headers={**k, "X-Device-ID": "device-b"}, json=body)
    again = await client.post("/api/v1/public/complaints", headers={**k, "X-Device-ID": "device-a"}, json=body)
    assert mine.status_code == theirs.status_code == 201
    assert theirs.json()["receiptNo"] != mine.json()["receiptNo"]
    assert "queryCode" not in theirs.text or theirs.json()["queryCode"] != mine.json()["queryCode"]
    assert again.json()["receiptNo"] == mine.json()["receiptNo"]  # the filer's own retry still replays


async def test_staff_replay_after_the_item_left_the_office_is_404(client, staff) -> None:  # noqa: ANN001
    chief = await staff("jinshan", "complaints_office")
    filed = await client.post("/api/v1/staff/complaints", headers={**chief, **key()},
                              json={**{k: v for k, v in item().items() if k != "office"}, "channel": "walk_in"})
    assert filed.status_code == 201, filed.text
    cid = filed.json()["id"]
    k = key()
    note = await client.post(f"/api/v1/staff/complaints/{cid}/notes", headers={**chief, **k}, json={"text": "内部"})
    assert note.status_code == 201, note.text
    assert (await client.post(f"/api/v1/staff/complaints/{cid}/steps", headers=chief,
                              json={"step": "accept"})).status_code == 200
    moved = await client.post(f"/api/v1/staff/complaints/{cid}/transfer", headers=chief,
                              json={"office": "chongming", "reason": "管辖"})
    assert moved.status_code == 200, moved.text
    replayed = await client.post(f"/api/v1/staff/complaints/{cid}/notes", headers={**chief, **k}, json={"text": "内部"})
    assert replayed.status_code == 404, replayed.text


# Existence oracles, walked over every operation of the spec: another office's object answers exactly like one
# that does not exist (same status, same problem code), for every caller kind the route lets through.

async def _foreign_ids(conn) -> dict[str, str]:  # noqa: ANN001
    """Real ids of objects of the other demo office (chongming), by path parameter name."""
    other = "(select id from offices where code = 'chongming')"
    ids = {
        "complaint_id": await conn.fetchval(f"select id::text from complaints where office_id = {other} limit 1"),
        "user_id": await conn.fetchval(f"select id::text from users where office_id = {other} limit 1"),
        "client_uuid": await conn.fetchval(f"select id::text from partner_clients where office_id = {other} limit 1"),
        "record_id": await conn.fetchval(f"select id::text from audit_log where office_id = {other} limit 1"),
        "attachment_id": await conn.fetchval("select a.id::text from attachments a join complaints c "
                                             f"on c.id = a.subject_id where c.office_id = {other} limit 1"),
        "receipt_no": await conn.fetchval(f"select receipt_no from complaints where office_id = {other} limit 1"),
        "representative_id": await conn.fetchval(
            f"select id::text from liaison_representatives where office_id = {other} limit 1"),
        "suggestion_id": await conn.fetchval(f"select id::text from liaison_suggestions where office_id = {other} limit 1"),
        "invitation_id": await conn.fetchval(f"select id::text from liaison_invitations where office_id = {other} limit 1"),
        "bulletin_id": await conn.fetchval(f"select id::text from liaison_bulletins where office_id = {other} limit 1"),
    }
    return {name: value for name, value in ids.items() if value is not None}


def _missing_like(name: str, value: str) -> str:
    if name == "record_id":
        return "999999999"
    if name == "receipt_no":
        return value[:-6] + "ZZZZZZ"
    return str(uuid.uuid4())


async def test_no_route_tells_another_office_s_object_from_a_missing_one(app, client, callers, conn) -> None:  # noqa: ANN001
    foreign = await _foreign_ids(conn)
    walked = 0
    for op in operations(app):
        names = [p["name"] for p in op.params("path") if p["name"] in foreign]
        if not names:
            continue
        for headers in ([{"X-Query-Code": "WRONGCODE1"}] if op.public else list(callers.values())):
            answers = []
            for ids in ({n: foreign[n] for n in names}, {n: _missing_like(n, foreign[n]) for n in names}):
                resp = await client.request(op.method, op.url(**ids), headers={**headers, **key()},
                                            json={} if op.method != "GET" else None)
                code = resp.json().get("code") if resp.headers.get("content-type", "").endswith("json") else None
                answers.append((resp.status_code, code))
            assert answers[0] == answers[1], (str(op), answers)
            assert answers[0][0] != 200 and answers[0][0] < 500, (str(op), answers)
        walked += 1
    assert walked >= 15, walked


_VALID_BODIES = {"materials": {"text": "补充"}, "reviews": {"reason": "不服"}, "rating": {"score": 5}}


async def test_no_stored_answer_is_replayed_to_a_wrong_query_code(app, client) -> None:  # noqa: ANN001
    """Every POST on an item followed by receipt number: replaying the owner's key and body with a wrong code
    answers 404, exactly like no key at all."""
    walked = 0
    for op in operations(app):
        if op.method != "POST" or not op.public or "receipt_no" not in [p["name"] for p in op.params("path")]:
            continue
        filed = await _anonymous_item(client)
        url = op.url(receipt_no=filed["receiptNo"])
        k = key()
        multipart = "multipart/form-data" in op.spec.get("requestBody", {}).get("content", {})
        # A valid body per route (a new route fails here, by name, until it is given one).
        body = {"files": {"file": ("p.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")}} if multipart else \
            {"json": _VALID_BODIES[op.path.rsplit("/", 1)[1]]}
        first = await client.post(url, headers={**k, "X-Query-Code": filed["queryCode"]}, **body)
        assert first.status_code < 500, (str(op), first.text)
        again = await client.post(url, headers={**k, "X-Query-Code": "WRONGCODE1"}, **body)
        assert again.status_code == 404 and "Idempotent-Replayed" not in again.headers, (str(op), again.status_code)
        walked += 1
    assert walked >= 3, walked
