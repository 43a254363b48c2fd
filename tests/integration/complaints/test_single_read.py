"""A single-item read is one SQL statement on the request path (codes, calendars and switches come from per-worker
caches): the staff read and the complainant's own read alike."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from api.db import PooledConnection
from tests.helpers import citizen, item, key


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


async def test_the_staff_and_the_complainant_read_an_item_in_one_statement(client, staff, settings,  # noqa: ANN001
                                                                           monkeypatch) -> None:  # noqa: ANN001
    me = await citizen(client, settings)
    cid = (await client.post("/api/v1/me/complaints", headers={**me, **key()}, json=item())).json()["id"]
    office = await staff("jinshan", "complaints_office")
    reads = [(f"/api/v1/staff/complaints/{cid}", office), (f"/api/v1/me/complaints/{cid}", me)]
    for path, headers in reads:  # once first, so the per-worker caches (switches, permissions, codes) are warm
        assert (await client.get(path, headers=headers)).status_code == 200
    for path, headers in reads:
        with _counting(monkeypatch) as seen:
            answer = await client.get(path, headers=headers)
        assert answer.status_code == 200, answer.text
        assert len(seen) == 1, f"{path}: {len(seen)} statements: {seen}"
    mine = answer.json()
    assert mine["id"] == cid and {d["code"] for d in mine["deadlines"]} >= {"procedural_reply", "result_reply"}
    assert mine["timeline"] and all(e["public"] for e in mine["timeline"])
