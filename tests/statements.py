"""Counting the SQL statements a request runs, for the tests that hold single reads to one."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from api.db import PooledConnection

__all__ = ("counting", "one_statement_each")


@contextlib.contextmanager
def counting(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The statements run on pooled connections inside the block."""
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


async def one_statement_each(client: Any, monkeypatch: pytest.MonkeyPatch,
                             reads: list[tuple[str, dict[str, str]]]) -> Any:
    """Each GET (after one warm-up call) runs one statement, besides a partner call's audit record; the last
    answer's JSON."""
    for path, headers in reads:  # once first, so the per-worker caches (switches, permissions, codes) are warm
        assert (await client.get(path, headers=headers)).status_code == 200
    for path, headers in reads:
        with counting(monkeypatch) as seen:
            answer = await client.get(path, headers=headers)
        assert answer.status_code == 200, answer.text
        recorded = [q for q in seen if any(part in q for part in _CALL_RECORD)]
        assert len(recorded) == (4 if "/partner/" in path else 0), recorded
        read = [q for q in seen if q not in recorded]
        assert len(read) == 1, f"{path}: {len(read)} statements besides the call's record: {read}"
    return answer.json()


