"""A single-item read is one SQL statement on the request path (codes, calendars, switches and partner clients come
from per-worker caches): the staff read, the complainant's own read, an anonymous filer's read by receipt number and
code, and a partner following what it transferred, alike."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from api.db import PooledConnection
from tests.helpers import bearer, citizen, item, key, partner_token


@contextlib.contextmanager
def _counting(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    # Every statement the app runs on a pooled connection passes PooledConnection._note (it decides whether the
    # release needs a reset); counting there sees them all, and the statement still runs as before.
    seen: list[str] = []
    note = PooledConnection._note

    def counted(self: PooledConnection, query: str) -> None:
        seen.append(query)
        note(self, query)

    with monkeypatch.context() as m:
        m.setattr(PooledConnection, "_note", counted)
        yield seen


# Every partner call is also recorded on the audit trail, in a transaction of its own (modules/partners/access.py).
_CALL_RECORD = ("BEGIN;", "COMMIT;", "audit_lane_claim", "insert into audit_log")


async def _one_statement_each(client, monkeypatch, reads: list[tuple[str, dict[str, str]]]) -> Any:
    for path, headers in reads:  # once first, so the per-worker caches (switches, permissions, codes) are warm
        assert (await client.get(path, headers=headers)).status_code == 200
    for path, headers in reads:
        with _counting(monkeypatch) as seen:
            answer = await client.get(path, headers=headers)
        assert answer.status_code == 200, answer.text
        recorded = [q for q in seen if any(part in q for part in _CALL_RECORD)]
        assert len(recorded) == (4 if "/partner/" in path else 0), recorded
        read = [q for q in seen if q not in recorded]
        assert len(read) == 1, f"{path}: {len(read)} statements besides the call's record: {read}"
    return answer.json()


async def test_the_staff_and_the_complainant_read_an_item_in_one_statement(client, staff, settings,
                                                                           monkeypatch) -> None:
    me = await citizen(client, settings)
    cid = (await client.post("/api/v1/me/complaints", headers={**me, **key()}, json=item())).json()["id"]
    office = await staff("jinshan", "complaints_office")
    mine = await _one_statement_each(client, monkeypatch, [(f"/api/v1/staff/complaints/{cid}", office),
                                                           (f"/api/v1/me/complaints/{cid}", me)])
    assert mine["id"] == cid and {d["code"] for d in mine["deadlines"]} >= {"procedural_reply", "result_reply"}
    assert mine["timeline"] and all(e["public"] for e in mine["timeline"])


async def test_an_anonymous_filer_and_a_partner_follow_an_item_in_one_statement(client, monkeypatch) -> None:
    receipt = (await client.post("/api/v1/public/complaints", headers=key(), json=item())).json()
    hotline = bearer(await partner_token(client, "jinshan-hotline"))
    ticket = f"12345-{uuid.uuid4().hex[:10]}"
    call = {"ticketNo": ticket, "category": "accusation", "title": "热线来电：窗口违规收费",
            "body": "市民来电反映收费问题。"}
    sent = await client.post("/api/v1/partner/hotline/tickets", headers={**hotline, **key()}, json=call)
    assert sent.status_code == 201, sent.text
    seen = await _one_statement_each(client, monkeypatch, [
        (f"/api/v1/public/complaints/{receipt['receiptNo']}", {"X-Query-Code": receipt["queryCode"]}),
        (f"/api/v1/partner/hotline/tickets/{ticket}", hotline),
    ])
    assert seen["reference"] == ticket and seen["item"]["state"] == "received"
    # A wrong code is still a 404, read in the same one statement.
    url = f"/api/v1/public/complaints/{receipt['receiptNo']}"
    assert (await client.get(url, headers={"X-Query-Code": "WRONGCODE00"})).status_code == 404
