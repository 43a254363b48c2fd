"""What the clock and monitoring tests share: filing an item, moving a clock back in time, entering a year."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import msgspec

from modules.clocks.calendar import SHANGHAI
from modules.clocks.store import _events, _spec, _state, office_calendar

from tests.helpers import key

WALK_IN = {"channel": "walk_in", "category": "accusation", "title": "某单位违规收费",
           "body": "在某窗口办事时被收取不合理费用，请依法处理。", "visitor": {"name": "李四", "phone": "13912345678"}}


async def file_item(client, headers: dict[str, str]) -> str:  # noqa: ANN001
    """A walk-in item with reply clocks running; its id."""
    resp = await client.post("/api/v1/staff/complaints", headers={**headers, **key()}, json=WALK_IN)
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


async def backdate(conn, subject_id: str, code: str, days: int) -> None:  # noqa: ANN001
    """Move a clock's start and its events `days` earlier, as if that much time had passed: the stored state is
    what was written at its last event (then), and nothing has refreshed it since."""
    await conn.execute(
        """
        update clocks set started_at = started_at - make_interval(days => $3),
            events = coalesce((select jsonb_agg(e || jsonb_build_object('at',
                to_char(((e->>'at')::timestamptz - make_interval(days => $3)) at time zone 'UTC',
                        'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))) from jsonb_array_elements(events) e), '[]'::jsonb)
        where subject_id = $1::uuid and code = $2
        """, subject_id, code, days)
    for row in await conn.fetch("select * from clocks where subject_id = $1::uuid and code = $2", subject_id, code):
        events = _events.decode(msgspec.json.encode(row["events"]))
        written = max([row["started_at"], *(e.at for e in events)])
        state = _state(_spec(row), await office_calendar(conn, row["office_id"]), row, events, written)
        await conn.execute("update clocks set due = $2, status = $3 where id = $1", row["id"], state.due, state.status)


def start_for_due(due: date) -> Any:
    """A start instant (noon, Shanghai) seven calendar days before `due`."""
    from datetime import datetime, time

    return datetime.combine(due - timedelta(days=7), time(12), SHANGHAI)


async def enter_year(client, headers: dict[str, str], year: int, days: list[dict[str, Any]], *,  # noqa: ANN001
                     level: str = "office", **extra: Any) -> Any:
    """PUT a year's days at a level; the response."""
    return await client.put(f"/api/v1/admin/calendar/years/{year}?level={level}", headers=headers,
                            json={"year": year, "days": days, **extra})


def clock_of(view: dict[str, Any], code: str) -> dict[str, Any]:
    """One clock of an item's staff view."""
    return next(c for c in view["clocks"] if c["code"] == code)
