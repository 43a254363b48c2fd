"""A suggestion's single read is one SQL statement for the office's staff and for the representative who made it."""

from __future__ import annotations

from tests.helpers import key
from tests.integration.liaison.helpers import REP, STAFF, rep_headers
from tests.statements import one_statement_each


async def test_staff_and_the_representative_read_a_suggestion_in_one_statement(client, staff,
                                                                               monkeypatch) -> None:
    deputy = await rep_headers(client, "jinshan.deputy")
    sent = await client.post(f"{REP}/suggestions", headers={**deputy, **key()},
                             json={"title": "关于加强河道污染治理的建议", "body": "建议对沿河企业排污开展专项监督。"})
    assert sent.status_code == 201, sent.text
    sid = sent.json()["id"]
    office = await staff("jinshan", "liaison_office")
    mine = await one_statement_each(client, monkeypatch, [(f"{STAFF}/suggestions/{sid}", office),
                                                          (f"{REP}/suggestions/{sid}", deputy)])
    assert mine["id"] == sid and [d["code"] for d in mine["deadlines"]] == ["suggestion_reply"]
    # Another representative's suggestion stays hidden: 404, not 403.
    other = await rep_headers(client, "jinshan.member")
    assert (await client.get(f"{REP}/suggestions/{sid}", headers=other)).status_code == 404
