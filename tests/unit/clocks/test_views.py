"""Clock views as the apps get them: an evaluated view is reused only while nothing it depends on has changed."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import pytest

from modules.clocks import store
from modules.clocks.calendar import WorkCalendar
from modules.clocks.engine import Stopped

OFFICE = uuid.UUID(int=7)
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 2 March 2026, 09:00 in Shanghai


def _row(code: str = "procedural_reply", day_type: str = "calendar", events: tuple[Any, ...] = ()) -> dict[str, Any]:
    return {"id": uuid.UUID(int=1), "subject_id": uuid.UUID(int=2), "office_id": OFFICE, "code": code,
            "day_type": day_type, "lead_days": [5, 2], "started_at": START, "occurrence": 1, "event_at": None,
            "events": [msgspec.to_builtins(e) for e in events]}


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> dict[str, datetime]:
    """The moment views_of reads as now (set `["at"]`), with a plain calendar cached for the office."""
    moment = {"at": START + timedelta(hours=1)}

    class Fixed(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            return moment["at"]

    monkeypatch.setattr(store, "datetime", Fixed)
    store.forget_calendars()
    store._calendars.put(OFFICE, WorkCalendar())
    yield moment
    store.forget_calendars()


async def _view(row: dict[str, Any]) -> store.ClockView:
    return (await store.views_of(None, [row]))[row["subject_id"]][0]  # type: ignore[arg-type]  # calendar cached


async def test_a_second_read_the_same_day_reuses_the_view_and_the_next_day_counts_on(now: dict[str, datetime]) -> None:
    first = await _view(_row())
    now["at"] = START + timedelta(hours=9)  # 18:00 in Shanghai, the same day
    assert await _view(_row()) is first
    now["at"] = START + timedelta(days=1)
    later = await _view(_row())
    assert (first.due, later.due) == (date(2026, 3, 9), date(2026, 3, 9))
    assert later.days_remaining == first.days_remaining - 1


async def test_a_new_event_is_evaluated(now: dict[str, datetime]) -> None:
    running = await _view(_row())
    now["at"] = START + timedelta(hours=3)
    stopped = await _view(_row(events=(Stopped(at=START + timedelta(hours=2)),)))
    assert (running.status, stopped.status) == ("running", "met")


async def test_a_changed_calendar_is_evaluated(now: dict[str, datetime]) -> None:
    # Five working days from Monday 2 March end on Monday 9 March; a holiday on Wednesday moves that to Tuesday.
    before = await _view(_row("wrong_route_objection", "working"))
    store._calendars.put(OFFICE, WorkCalendar(extra_holidays={date(2026, 3, 4)}))
    after = await _view(_row("wrong_route_objection", "working"))
    assert (before.due, after.due) == (date(2026, 3, 9), date(2026, 3, 10))
