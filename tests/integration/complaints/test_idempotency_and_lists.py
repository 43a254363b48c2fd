"""Retries never duplicate; lists are cursor-paginated, filterable and searchable in Chinese."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from api.idempotency import _open
from auth.secretbox import SecretBoxError
from tests.helpers import citizen, item, key


async def test_same_key_same_body_same_answer(client, settings, conn) -> None:  # noqa: ANN001
    me = await citizen(client, settings)
    headers = {**me, **key()}
    first = await client.post("/api/v1/me/complaints", headers=headers, json=item(title="重复提交测试"))
    retry = await client.post("/api/v1/me/complaints", headers=headers, json=item(title="重复提交测试"))
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    assert await conn.fetchval("select count(*) from complaints where receipt_no = $1", first.json()["receiptNo"]) == 1


async def test_an_anonymous_filers_stored_answer_is_sealed_and_its_retry_gets_the_query_code(client, conn) -> None:  # noqa: ANN001
    headers = key()
    first = await client.post("/api/v1/public/complaints", headers=headers, json=item(title="匿名重试测试"))
    assert first.status_code == 201, first.text
    code = first.json()["queryCode"]
    stored = await conn.fetchval("select response from idempotency_keys where key = $1", headers["Idempotency-Key"])
    # At rest, neither the query code nor the receipt shows: the row holds the sealed answer.
    assert code.encode() not in stored and first.json()["receiptNo"].encode() not in stored
    retry = await client.post("/api/v1/public/complaints", headers=headers, json=item(title="匿名重试测试"))
    assert retry.status_code == 201 and retry.headers["idempotent-replayed"] == "true"
    assert retry.json()["queryCode"] == code  # the filer who lost the first answer can still follow the item
    # A sealed answer copied onto another key's row does not open there: it is bound to its own key.
    scope = await conn.fetchval("select scope from idempotency_keys where key = $1", headers["Idempotency-Key"])
    with pytest.raises(SecretBoxError):
        _open(scope, "another-key-0001", stored)
    assert code in _open(scope, headers["Idempotency-Key"], stored).decode()


async def test_same_key_other_body_is_422(client, settings) -> None:  # noqa: ANN001
    me = await citizen(client, settings)
    headers = {**me, **key()}
    assert (await client.post("/api/v1/me/complaints", headers=headers, json=item(title="甲"))).status_code == 201
    other = await client.post("/api/v1/me/complaints", headers=headers, json=item(title="乙"))
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"


async def test_concurrent_duplicates_make_one_record(client, settings, conn) -> None:  # noqa: ANN001
    me = await citizen(client, settings)
    title = f"并发{uuid.uuid4().hex[:6]}"
    headers = {**me, **key()}
    results = await asyncio.gather(*(client.post("/api/v1/me/complaints", headers=headers, json=item(title=title))
                                     for _ in range(6)))
    assert {r.status_code for r in results} == {201}
    assert len({r.json()["id"] for r in results}) == 1
    assert await conn.fetchval("select count(*) from complaints where title = $1", title) == 1


async def test_key_is_required_on_create(client, settings) -> None:  # noqa: ANN001
    me = await citizen(client, settings)
    resp = await client.post("/api/v1/me/complaints", headers=me, json=item())
    assert resp.status_code == 400 and resp.json()["code"] == "idempotency_key_required"
    anon = await client.post("/api/v1/public/complaints", json=item())
    assert anon.status_code == 400 and anon.json()["code"] == "idempotency_key_required"


async def test_keys_of_different_callers_do_not_collide(client, settings) -> None:  # noqa: ANN001
    shared = key()
    a = await client.post("/api/v1/me/complaints", headers={**await citizen(client, settings), **shared}, json=item())
    b = await client.post("/api/v1/me/complaints", headers={**await citizen(client, settings), **shared}, json=item())
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


async def test_category_fields_are_validated(client, settings) -> None:  # noqa: ANN001
    me = await citizen(client, settings)
    resp = await client.post("/api/v1/me/complaints", headers={**me, **key()}, json=item(
        category="public-interest", fields={"domain": "外星人", "found_on": "yesterday", "color": "red"}))
    assert resp.status_code == 400
    fields = sorted(e["field"] for e in resp.json()["errors"])
    assert fields == ["fields.color", "fields.domain", "fields.found_on"]
    missing = await client.post("/api/v1/me/complaints", headers={**me, **key()}, json=item(category="duty-crime"))
    assert [e["field"] for e in missing.json()["errors"]] == ["fields.unit"]


async def test_catalog_is_versioned(client) -> None:  # noqa: ANN001
    resp = await client.get("/api/v1/offices/jinshan/complaint-catalog")
    assert resp.status_code == 200
    body = resp.json()
    assert {c["code"] for c in body["categories"]} >= {"duty-crime", "public-interest", "accusation"}
    assert resp.headers["etag"] == f'"jinshan-{body["version"]}"'
    pi = next(c for c in body["categories"] if c["code"] == "public-interest")
    assert pi["kindLabel"] == "举报" and pi["fields"][0]["type"] == "single_choice"
    # An app that kept its copy asks again with the tag and gets a 304 without a body while it is current.
    same = await client.get("/api/v1/offices/jinshan/complaint-catalog", headers={"If-None-Match": resp.headers["etag"]})
    assert same.status_code == 304 and same.content == b"" and same.headers["etag"] == resp.headers["etag"]
    stale = await client.get("/api/v1/offices/jinshan/complaint-catalog", headers={"If-None-Match": '"jinshan-0"'})
    assert stale.status_code == 200 and stale.json() == body


async def test_list_pages_filters_and_chinese_search(client, staff, settings) -> None:  # noqa: ANN001
    me = await citizen(client, settings)
    marker = f"蓝藻{uuid.uuid4().hex[:4]}"
    for i in range(3):
        r = await client.post("/api/v1/me/complaints", headers={**me, **key()},
                              json=item(title=f"湖泊{marker}暴发{i}", category="public-interest",
                                        fields={"domain": "生态环境"}))
        assert r.status_code == 201
    office = await staff("jinshan", "prosecutor")
    found = (await client.get("/api/v1/staff/complaints", headers=office, params={"q": marker})).json()
    assert len(found["items"]) == 3 and all(marker in i["title"] for i in found["items"])
    assert (await client.get("/api/v1/staff/complaints", headers=office,
                             params={"q": marker, "state": "closed"})).json()["items"] == []
    by_cat = (await client.get("/api/v1/staff/complaints", headers=office,
                               params={"q": marker, "category": "public-interest", "kind": "report"})).json()
    assert len(by_cat["items"]) == 3
    # A caller reads out the receipt number: the filter and the search box both find that one item.
    receipt = r.json()["receiptNo"]
    for params in ({"receiptNo": receipt}, {"q": receipt}):
        hits = (await client.get("/api/v1/staff/complaints", headers=office, params=params)).json()["items"]
        assert [i["receiptNo"] for i in hits] == [receipt], params
    # A misspelled state or kind is the app's bug, not an empty office: 400 naming the parameter.
    for params in ({"state": "nonsense"}, {"kind": "complaint"}):
        bad = await client.get("/api/v1/staff/complaints", headers=office, params=params)
        assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json"), params
        assert bad.json()["code"] == "validation_failed", bad.json()
    seen, cursor = [], None
    for _ in range(200):
        params = {"limit": 7, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/staff/complaints", headers=office, params=params)).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page.get("nextCursor")
        if not cursor:
            break
    assert len(seen) == len(set(seen)) >= 30
    bad = await client.get("/api/v1/staff/complaints", headers=office, params={"cursor": "garbage!"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "cursor"


async def test_monitoring_deadlines_and_rates(client, staff) -> None:  # noqa: ANN001
    monitor = await staff("jinshan", "case_mgmt")
    deadlines = await client.get("/api/v1/staff/complaints/deadlines", headers=monitor, params={"withinDays": 10})
    assert deadlines.status_code == 200, deadlines.text
    rows = deadlines.json()["items"]
    # The demo data has items received 15+ days ago never answered: their 7-day replies are overdue.
    assert any(d["overdue"] and d["clock"] == "procedural_reply" for d in rows)
    assert [d["due"] for d in rows] == sorted(d["due"] for d in rows)
    # Paged with the same cursor as every other list: small pages walk the same rows, none twice.
    walked, cursor = [], None
    while True:
        page = (await client.get("/api/v1/staff/complaints/deadlines", headers=monitor,
                                 params={"withinDays": 10, "limit": 7, **({"cursor": cursor} if cursor else {})})).json()
        walked += [(d["complaintId"], d["clock"], d["occurrence"]) for d in page["items"]]
        if not (cursor := page.get("nextCursor")):
            break
    assert walked == [(d["complaintId"], d["clock"], d["occurrence"]) for d in rows]
    stats = (await client.get("/api/v1/staff/complaints/stats", headers=monitor,
                              params={"since": "2020-01-01"})).json()
    rates = {r["clock"]: r for r in stats["rates"]}
    proc = rates["procedural_reply"]
    assert proc["overdue"] > 0 and proc["metOnTime"] + proc["metLate"] > 0
    assert 0 <= proc["rate"] <= 1
    assert proc["rate"] == round(proc["metOnTime"] / (proc["metOnTime"] + proc["metLate"] + proc["overdue"]), 4)
    assert (await client.get("/api/v1/staff/complaints/stats", headers=await staff("jinshan", "assistant"))
            ).status_code == 403


async def test_a_template_code_outside_the_allowed_characters_is_400_not_500(client) -> None:  # noqa: ANN001
    from tests.helpers import bearer, token_for

    admin = bearer(await token_for(client, "jinshan.admin"))
    for code in ("ë3", "AB", "x"):
        resp = await client.put(f"/api/v1/admin/complaints/templates/{code}", headers=admin,
                                json={"state": "referred", "title": "t", "body": "b"})
        assert resp.status_code == 400 and resp.json()["code"] == "validation_failed", (code, resp.text)


async def test_a_receipt_number_already_taken_is_drawn_again_not_a_500(client, settings, conn, monkeypatch) -> None:  # noqa: ANN001
    # Random tails meet now and then on a busy day (the creation bench met one in a few thousand): the filer
    # gets an item under a fresh number, and the first item keeps its own.
    from modules.complaints import service

    me = await citizen(client, settings)
    first = await client.post("/api/v1/me/complaints", headers={**me, **key()}, json=item(title="编号甲"))
    assert first.status_code == 201, first.text
    taken = first.json()["receiptNo"]
    draws = iter([taken, taken])
    real = service.new_receipt_no
    monkeypatch.setattr(service, "new_receipt_no", lambda code, at: next(draws, None) or real(code, at))
    second = await client.post("/api/v1/me/complaints", headers={**me, **key()}, json=item(title="编号乙"))
    assert second.status_code == 201, second.text
    assert second.json()["receiptNo"] != taken
    titles = await conn.fetch("select receipt_no, title from complaints where receipt_no = any($1::text[])",
                              [taken, second.json()["receiptNo"]])
    assert {r["receipt_no"]: r["title"] for r in titles} == {taken: "编号甲", second.json()["receiptNo"]: "编号乙"}
    # Nothing of the refused draws was left behind: one timeline entry and one notification per item.
    counts = await conn.fetchrow(
        "select (select count(*) from timeline_events where subject_id = $1) as events, "
        "(select count(*) from outbox where payload->>'complaintId' = $1::text) as notices",
        uuid.UUID(second.json()["id"]))
    assert (counts["events"], counts["notices"]) == (1, 1)
