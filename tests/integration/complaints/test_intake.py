"""Intake in one statement: earlier items flagged as possible duplicates by each of the three ways a person or
place recurs, and the item's clocks started with it."""

from __future__ import annotations

import asyncio
import uuid

from api.db import opaque
from modules.complaints.service import _duplicates_sql
from tests.helpers import citizen, index_reads, item, key


def _spot() -> dict[str, float]:
    # A place of this test's own (other tests file at fixed points): about 500 m around it is this test's alone.
    n = uuid.uuid4().int
    return {"latitude": 30.0 + (n % 10**6) / 10**7, "longitude": 121.0 + (n // 10**6 % 10**6) / 10**7}


async def _file(client, headers: dict[str, str], **over) -> dict:  # noqa: ANN001
    resp = await client.post("/api/v1/me/complaints" if "Authorization" in headers else "/api/v1/public/complaints",
                             headers={**headers, **key()}, json=item(**{"category": "petition", **over}))
    assert resp.status_code == 201, resp.text
    return resp.json()


async def _flagged(client, chief: dict[str, str], filed: dict) -> list[str]:  # noqa: ANN001
    resp = await client.get(f"/api/v1/staff/complaints/{filed['id']}", headers=chief)
    assert resp.status_code == 200, resp.text
    return resp.json()["possibleDuplicates"]


async def test_intake_flags_the_same_account_phone_or_place(client, settings, staff, conn) -> None:  # noqa: ANN001
    chief = await staff("jinshan", "chief")
    me = await citizen(client, settings)
    first = await _file(client, me)
    second = await _file(client, me)
    third = await _file(client, me)
    assert await _flagged(client, chief, first) == []
    assert await _flagged(client, chief, third) == [second["id"], first["id"]]  # newest first
    other_kind = await _file(client, me, category="accusation")
    assert await _flagged(client, chief, other_kind) == []  # another category is another matter

    phone = f"139{uuid.uuid4().int % 10**8:08d}"
    by_phone = [await _file(client, {}, phone=phone, realName="李四") for _ in range(2)]
    assert await _flagged(client, chief, by_phone[1]) == [by_phone[0]["id"]]

    here = _spot()
    near = {"latitude": here["latitude"] + 0.002, "longitude": here["longitude"] + 0.002}
    far = {"latitude": here["latitude"] + 0.02, "longitude": here["longitude"]}
    at_place = await _file(client, {}, location=here)
    assert await _flagged(client, chief, await _file(client, {}, location=near)) == [at_place["id"]]
    assert await _flagged(client, chief, await _file(client, {}, location=far)) == []

    audited = await conn.fetchval("select detail->>'duplicates' from audit_log where action = 'complaint.created' "
                                  "and object_id = $1", third["id"])
    assert audited == "2"


async def test_a_citizens_item_takes_the_accounts_phone_and_meets_a_caller_with_that_number(
        client, settings, staff, conn) -> None:  # noqa: ANN001
    phone = f"158{uuid.uuid4().int % 10**8:08d}"
    me = await citizen(client, settings, phone)
    filed = await _file(client, me)
    # Sealed as the account holds it (intake copies it): the same blind index, and the number reads back in full for
    # a permission list that shows identities, masked for one that does not.
    stored = await conn.fetchrow("select c.reporter_phone_index as item, u.phone_index as account from complaints c "
                                 "join users u on u.id = c.complainant_id where c.id = $1", uuid.UUID(filed["id"]))
    assert stored["item"] == stored["account"] is not None
    path = f"/api/v1/staff/complaints/{filed['id']}"
    assert (await client.get(path, headers=await staff("jinshan", "chief"))).json()["reporter"]["phone"] == phone
    masked = (await client.get(path, headers=await staff("jinshan", "complaints_office"))).json()["reporter"]
    assert masked["phone"] == phone[:3] + "****" + phone[-4:] and masked["masked"] is True
    # Someone filing later without an account, giving that number, is flagged as maybe the same person.
    caller = await _file(client, {}, phone=phone, realName="王五")
    assert await _flagged(client, await staff("jinshan", "chief"), caller) == [filed["id"]]
    # An account without a number gives none: no blind index either, so no one is matched on a phone not stored.
    await conn.execute("update users set phone_enc = null where phone_index = $1", stored["account"])
    second = await _file(client, me, category="accusation")
    bare = await conn.fetchrow("select reporter_phone_enc, reporter_phone_index from complaints where id = $1",
                               uuid.UUID(second["id"]))
    assert tuple(bare) == (None, None)


async def test_intake_starts_the_items_clocks_with_it(client, settings, staff, conn) -> None:  # noqa: ANN001
    filed = await _file(client, await citizen(client, settings))
    rows = await conn.fetch("select code, occurrence, status, started_at, events, lead_days, due from clocks "
                            "where subject_id = $1 order by code", uuid.UUID(filed["id"]))
    # A petition (信访) is also owed notice of whether it is taken up (receipt_notice).
    assert [r["code"] for r in rows] == ["procedural_reply", "receipt_notice", "result_reply"]
    created = await conn.fetchval("select created_at from complaints where id = $1", uuid.UUID(filed["id"]))
    assert all(r["started_at"] == created and r["occurrence"] == 1 and r["status"] == "running" for r in rows)
    assert all(r["lead_days"] and r["due"] > created.date() for r in rows)
    seen = (await client.get(f"/api/v1/staff/complaints/{filed['id']}", headers=await staff("jinshan", "chief")))
    assert {d["code"] for d in seen.json()["clocks"]} == {r["code"] for r in rows}

    # An anonymous filer cannot be replied to: the result clock starts exempt (an event of its own), not running.
    anonymous = await _file(client, {})
    exempt = await conn.fetchrow("select status, events from clocks where subject_id = $1 and code = 'result_reply'",
                                 uuid.UUID(anonymous["id"]))
    assert exempt["status"] != "running" and exempt["events"][0]["kind"] == "exempted", exempt


async def test_a_frequent_filers_duplicate_search_reads_ten_items_not_their_history(
        client, settings, conn) -> None:  # noqa: ANN001
    me = await citizen(client, settings)
    for category in ("petition", "accusation"):  # the newest twelve are in another category than the search's
        for _ in range(12):
            await _file(client, me, category=category)
    row = await conn.fetchrow("select office_id, category_id, complainant_id, reporter_phone_index from complaints "
                              "where complainant_id = (select complainant_id from complaints where receipt_no = $1) "
                              "order by created_at limit 1", (await _file(client, me, category="petition"))["receiptNo"])
    assert row["reporter_phone_index"]  # a citizen's filing searches by account and by phone
    search = _duplicates_sql(*map(opaque, ("$1::uuid", "$2::uuid", "$3::uuid", "$4::text", "$5::float8",
                                           "$6::float8")))
    values = [row[c] for c in ("office_id", "category_id", "complainant_id", "reporter_phone_index")]
    scans = await index_reads(conn, "complaints", search, [*values, None, None])
    assert len(scans) == 2 and all(read <= 10 for _, read in scans), scans  # the account and the phone branch


async def test_items_and_their_clocks_get_ids_that_start_with_their_time(client, settings, conn) -> None:  # noqa: ANN001
    # Time-ordered ids make intake append to the right end of the primary keys and subject indexes (migration 0023).
    me = await citizen(client, settings)
    first = uuid.UUID((await _file(client, me))["id"])
    await asyncio.sleep(0.002)
    second = uuid.UUID((await _file(client, me))["id"])
    created = await conn.fetchval("select created_at from complaints where id = $1", second)
    assert first.version == second.version == 7 and first < second
    assert abs(int.from_bytes(second.bytes[:6], "big") / 1000 - created.timestamp()) < 5  # milliseconds since 1970
    clocks = await conn.fetch("select id from clocks where subject_id = $1", second)
    assert clocks and all(c["id"].version == 7 for c in clocks)


async def test_a_filing_is_five_statements_and_its_audit_rows_chain(client, settings, conn, monkeypatch) -> None:  # noqa: ANN001
    from auth.audit import verify_chains
    from tests.statements import counting

    me = await citizen(client, settings)
    await _file(client, me)  # once first: the office, category and calendar caches are warm
    with counting(monkeypatch) as seen:
        filed = await _file(client, me)
    # The audit lane is claimed by the intake statement itself, and the audit row goes out with the stored answer.
    parts = ["BEGIN", "insert into idempotency_keys", "with contact as", "update idempotency_keys", "COMMIT"]
    assert len(seen) == len(parts) and all(p in q for p, q in zip(parts, seen, strict=True)), seen
    assert "audit_lane_claim" in seen[2] and "insert into audit_log" in seen[3]
    row = await conn.fetchrow("select chain, seq, action, object_id from audit_log where object_id = $1", filed["id"])
    assert row["action"] == "complaint.created" and row["chain"].split(":")[0] == str(
        await conn.fetchval("select office_id from complaints where id = $1", uuid.UUID(filed["id"])))
    # Filings racing in one office take lanes each; every lane still links from its first row to its head.
    done = await asyncio.gather(*(_file(client, me, title=f"并发{n}") for n in range(12)))
    assert len({d["id"] for d in done}) == 12
    checked, breaks = await verify_chains(conn)
    assert checked > 0 and breaks == []
