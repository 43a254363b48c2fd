"""Clocks in PostgreSQL: start, record events, read fresh states. Modules call these inside their transactions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec

from api.db import primary_of
from api.errors import ErrorCode, ProblemError
from api.ttl import TTLCache
from modules.clocks.calendar import WorkCalendar, local_date
from modules.clocks.engine import (
    ClockEvent,
    ClockEventError,
    ClockState,
    Exempted,
    Extended,
    ExtensionRequested,
    NotApplicable,
    Paused,
    PeriodSet,
    Resumed,
    Stopped,
    admit,
    chain_start,
    evaluate,
)
from modules.clocks.rules import CLOCKS, ClockSpec, Period, resolve

if TYPE_CHECKING:
    import asyncpg

__all__ = (
    "LEVELS_SQL",
    "ClockView",
    "clock_request",
    "clock_views",
    "end_open_clocks",
    "forget_calendars",
    "insert_clocks_sql",
    "office_calendar",
    "plan_clocks",
    "record_event",
    "refresh",
    "start_chained",
    "start_clock",
    "start_clocks",
    "start_next",
    "stop_clock",
    "sweep_stale",
    "today",
    "views_of",
)

_events = msgspec.json.Decoder(list[ClockEvent])
_CAL_TTL = 60.0
_calendars: TTLCache[UUID, WorkCalendar] = TTLCache(_CAL_TTL)
# Views already evaluated, by everything they depend on (see views_of): replaying a clock's events through the
# engine was a third of a single read's own time, and a subject is read far more often than its clocks change.
# The key holds the local day, so an entry is never used past it; the TTL only lets yesterday's go.
_views: TTLCache[tuple[Any, ...], ClockView] = TTLCache(24 * 3600.0, max_entries=4096)


class ClockView(msgspec.Struct, rename="camel", frozen=True):
    """A deadline as the apps show it (frozen: evaluated views are shared between reads)."""

    code: str
    label: str
    occurrence: int
    status: str
    due: date
    days_remaining: int
    warning: int | None
    calendar_estimated: bool
    finished_at: datetime | None = None
    exemption: str | None = None


# The levels an office sees, the lowest first: on a day entered at several levels the lowest wins.
LEVELS_SQL = """
with o as (select id, province from offices where id = $1)
select {columns} from {table} t, o
where ((t.level = 'national' and t.scope = '*') or (t.level = 'province' and t.scope = o.province)
   or (t.level = 'office' and t.scope = o.id::text))
"""
_DAYS_SQL = LEVELS_SQL.format(columns="distinct on (t.day) t.day, t.working", table="calendar_days") + \
    " order by t.day, array_position(array['office', 'province', 'national'], t.level)"
_YEARS_SQL = LEVELS_SQL.format(columns="distinct t.year", table="calendar_years") + " and t.complete"


async def office_calendar(conn: asyncpg.Connection, office_id: UUID, *, fresh: bool = False) -> WorkCalendar:
    """The office's calendar: the national, province and office days entered over the package and the law
    (cached per worker for a minute; `fresh` reads the tables, as a recomputation after a change must)."""
    hit = None if fresh else _calendars.get(office_id)
    if hit is not None:
        return hit
    rows = await conn.fetch(_DAYS_SQL, office_id)
    years = await conn.fetch(_YEARS_SQL, office_id)
    cal = WorkCalendar(extra_holidays={r["day"] for r in rows if not r["working"]},
                       extra_workdays={r["day"] for r in rows if r["working"]},
                       known_years={r["year"] for r in years})
    return _calendars.put(office_id, cal)


def forget_calendars() -> None:
    """Drop this worker's cached calendars (after it changed one; other workers follow within a minute)."""
    _calendars.clear()


def _spec(row: Any) -> ClockSpec:
    return msgspec.structs.replace(CLOCKS[row["code"]], day_type=row["day_type"], lead_days=tuple(row["lead_days"]))


def _state(spec: ClockSpec, cal: WorkCalendar, row: Any, events: list[Any], now: datetime) -> ClockState:
    return evaluate(spec, cal, row["started_at"], events, now=now, occurrence=row["occurrence"],
                    event_at=row["event_at"])


# A planned clock's row as `plan_clocks` gives it, read back from one jsonb array parameter: a subject's clocks go
# in with one statement, alone (`start_clocks`) or as part of a module's own insert (`insert_clocks_sql`).
_PLANNED = ("r(code text, occurrence integer, started_at timestamptz, day_type text, lead_days integer[], events jsonb,"
            " status text, due date, finished_at timestamptz, calendar_estimated boolean, event_at timestamptz)")


def insert_clocks_sql(*, office: str, module: str, subject: str, rows: str) -> str:
    """An INSERT of the clock rows `plan_clocks` gave (`rows`: the SQL expression of that jsonb array) for the
    subject whose office, module and id are the SQL expressions given; usable as a CTE of the subject's insert."""
    return f"""
        insert into clocks (office_id, module, subject_id, code, occurrence, started_at, day_type, lead_days, events,
                            status, due, finished_at, calendar_estimated, event_at)
        select {office}, {module}, {subject}, r.code, r.occurrence, r.started_at, r.day_type, r.lead_days, r.events,
               r.status, r.due, r.finished_at, r.calendar_estimated, r.event_at
        from jsonb_to_recordset({rows}) as {_PLANNED}"""


_INSERT_CLOCKS = insert_clocks_sql(office="$1", module="$2", subject="$3", rows="$4::jsonb")


async def plan_clocks(
    conn: asyncpg.Connection, *, office_id: UUID, started_at: datetime, clocks: list[tuple[str, str | None]],
    overrides: dict[str, Any] | None = None, occurrence: int = 1, periods: dict[str, Period] | None = None,
    event_at: datetime | None = None,
) -> tuple[list[ClockState], list[dict[str, Any]]]:
    """Evaluate clocks about to start, each (code, exemption reason or None): their states, and their rows for
    `insert_clocks_sql`. `periods` gives a case's own length for clocks whose rule offers a choice (e.g. 15 days
    when urgent); `event_at` the scheduled event a before-event clock counts back from (a hearing its panellists
    are told of)."""
    cal = await office_calendar(conn, office_id)
    now = max(datetime.now(UTC), started_at)
    rows, states = [], []
    for code, exempt in clocks:
        spec = resolve(CLOCKS[code], (overrides or {}).get(code, {}))
        events: list[Any] = []
        before = event_at if spec.anchor == "before_event" else None
        try:
            if periods and code in periods:
                events.append(admit(spec, [], PeriodSet(at=started_at, amount=periods[code].amount,
                                                       unit=periods[code].unit)))
            if exempt:
                events.append(Exempted(at=started_at, reason_code=exempt))
            state = evaluate(spec, cal, started_at, events, now=now, occurrence=occurrence, event_at=before)
        except ClockEventError as exc:
            raise ProblemError(ErrorCode.UNPROCESSABLE, str(exc), extra={"clock": code}) from None
        states.append(state)
        rows.append({"code": code, "occurrence": occurrence, "started_at": started_at, "day_type": spec.day_type,
                     "lead_days": list(spec.lead_days), "events": events, "status": state.status, "due": state.due,
                     "finished_at": state.finished_at, "calendar_estimated": state.calendar_estimated,
                     "event_at": before})
    return states, rows


async def start_clocks(
    conn: asyncpg.Connection, *, office_id: UUID, module: str, subject_id: UUID, started_at: datetime,
    clocks: list[tuple[str, str | None]], overrides: dict[str, Any] | None = None, occurrence: int = 1,
    periods: dict[str, Period] | None = None, event_at: datetime | None = None,
) -> list[ClockState]:
    """Start several clocks of one subject in one statement (see `plan_clocks` for the arguments)."""
    states, rows = await plan_clocks(conn, office_id=office_id, started_at=started_at, clocks=clocks,
                                     overrides=overrides, occurrence=occurrence, periods=periods, event_at=event_at)
    await conn.execute(_INSERT_CLOCKS, office_id, module, subject_id, rows)
    return states


async def start_clock(
    conn: asyncpg.Connection, *, office_id: UUID, module: str, subject_id: UUID, code: str, started_at: datetime,
    overrides: dict[str, Any] | None = None, occurrence: int = 1, exempt: str | None = None,
    period: Period | None = None, event_at: datetime | None = None,
) -> ClockState:
    """Start one clock (optionally exempt from the outset, e.g. an anonymous item, with the case's own period, or
    counted back from a scheduled event) and store its state."""
    states = await start_clocks(conn, office_id=office_id, module=module, subject_id=subject_id,
                                started_at=started_at, clocks=[(code, exempt)],
                                overrides={code: overrides} if overrides else None, occurrence=occurrence,
                                periods={code: period} if period else None, event_at=event_at)
    return states[0]


async def start_next(
    conn: asyncpg.Connection, *, office_id: UUID, module: str, subject_id: UUID, code: str, started_at: datetime,
    overrides: dict[str, Any] | None = None,
) -> ClockState:
    """Start a clock again on a subject that may have run it before (a transfer, a reopening): the next occurrence,
    a full period from `started_at`."""
    last = await conn.fetchval("select max(occurrence) from clocks where subject_id = $1 and code = $2",
                               subject_id, code)
    return await start_clock(conn, office_id=office_id, module=module, subject_id=subject_id, code=code,
                             started_at=started_at, overrides=overrides, occurrence=(last or 0) + 1)


async def start_chained(
    conn: asyncpg.Connection, *, office_id: UUID, module: str, subject_id: UUID, code: str,
    overrides: dict[str, Any] | None = None,
) -> ClockState:
    """Start a clock counted from the end of the period its rule chains it to (e.g. the review before suing from
    the end of the rectification period), on the same subject; 409 when that clock was never started."""
    spec = CLOCKS[code]
    row = await conn.fetchrow("select * from clocks where subject_id = $1 and code = $2 order by occurrence desc "
                              "limit 1", subject_id, spec.chained_to)
    if spec.chained_to is None or row is None:
        raise ProblemError(ErrorCode.CONFLICT, f"{code} starts at the end of {spec.chained_to or 'nothing'}, "
                           "which has not started.")
    cal = await office_calendar(conn, row["office_id"])
    previous = _state(_spec(row), cal, row, _events.decode(msgspec.json.encode(row["events"])),
                      max(datetime.now(UTC), row["started_at"]))
    return await start_clock(conn, office_id=office_id, module=module, subject_id=subject_id, code=code,
                             started_at=chain_start(previous), overrides=overrides)


async def record_event(conn: asyncpg.Connection, *, subject_id: UUID, code: str, event: Any) -> ClockState | None:
    """Add an event to the subject's open clock of this code; None if there is no open one."""
    row = await conn.fetchrow(
        """
        select * from clocks where subject_id = $1 and code = $2 and finished_at is null
        order by occurrence desc limit 1 for update
        """,
        subject_id, code,
    )
    if row is None:
        return None
    spec = _spec(row)
    cal = await office_calendar(conn, row["office_id"])
    history = _events.decode(msgspec.json.encode(row["events"]))
    try:
        events = [*history, admit(spec, history, event)]
        state = _state(spec, cal, row, events, max(datetime.now(UTC), event.at))
    except ClockEventError as exc:
        raise ProblemError(ErrorCode.UNPROCESSABLE, str(exc), extra={"clock": code}) from None
    await conn.execute(
        "update clocks set events = $2, status = $3, due = $4, finished_at = $5, calendar_estimated = $6, "
        "updated_at = now() where id = $1",
        row["id"], msgspec.to_builtins(events), state.status, state.due, state.finished_at, state.calendar_estimated,
    )
    return state


async def clock_request(conn: asyncpg.Connection, *, subject_id: UUID, clock: str, event: str, reason: str,
                        by: str, amount: int | None = None, reason_code: str | None = None,
                        approver: str | None = None, tier: str = "chief") -> ClockState:
    """What a person asks of an open clock: pause it (for a suspension its rule allows, `approver` where the rule
    wants one), resume it, ask for an extension (`amount`, in the rule's unit), or, as `by` at `tier`, approve the
    one asked for. 404 when the subject has no such open clock; the rule's refusals are 422."""
    now = datetime.now(UTC)
    spec = CLOCKS.get(clock)
    unit = spec.max_extension.unit if spec else "days"
    if event == "pause":
        ev: Any = Paused(at=now, reason=reason, reason_code=reason_code, approver=approver)
    elif event == "resume":
        ev = Resumed(at=now)
    elif event == "extend_request":
        if amount is None:
            raise ProblemError(ErrorCode.VALIDATION_FAILED, "An extension request needs an amount.",
                               errors=[{"field": "amount", "message": "required to ask for an extension"}])
        ev = ExtensionRequested(at=now, amount=amount, unit=unit, reason=reason, requested_by=by)
    else:
        ev = Extended(at=now, amount=amount or 0, unit=unit, reason=reason, approver=by, tier=tier)
    state = await record_event(conn, subject_id=subject_id, code=clock, event=ev)
    if state is None:
        raise ProblemError(ErrorCode.NOT_FOUND, f"This item has no open {clock} deadline.")
    return state


async def end_open_clocks(conn: asyncpg.Connection, subject_id: UUID, at: datetime, reason_code: str) -> int:
    """Every clock of the subject still open stops applying (e.g. the item was referred out); how many."""
    codes = await conn.fetch("select distinct code from clocks where subject_id = $1 and finished_at is null",
                             subject_id)
    for r in codes:
        await record_event(conn, subject_id=subject_id, code=r["code"], event=NotApplicable(at=at,
                                                                                            reason_code=reason_code))
    return len(codes)


async def stop_clock(conn: asyncpg.Connection, subject_id: UUID, code: str, at: datetime) -> ClockState | None:
    """What the clock waited for has happened; no-op when the clock is not open. A clock counted from the end of a
    period that has not ended yet (the review before suing, when the agency rectified early) stops at its start."""
    start = await conn.fetchval("select max(started_at) from clocks where subject_id = $1 and code = $2 "
                                "and finished_at is null", subject_id, code)
    return await record_event(conn, subject_id=subject_id, code=code,
                              event=Stopped(at=max(at, start) if start is not None else at))


async def clock_views(conn: asyncpg.Connection, subject_ids: Iterable[UUID]) -> dict[UUID, list[ClockView]]:
    """Every clock of the subjects, evaluated now (days remaining and warnings move with the calendar)."""
    rows = await conn.fetch("select * from clocks where subject_id = any($1::uuid[]) order by started_at, code, "
                            "occurrence", list(subject_ids))
    return await views_of(conn, rows)


async def views_of(conn: asyncpg.Connection, rows: Iterable[Any]) -> dict[UUID, list[ClockView]]:
    """Clock rows already read (e.g. as a sub-select of a subject's single read), evaluated now."""
    now = datetime.now(UTC)
    today = local_date(now)
    calendars: dict[UUID, WorkCalendar] = {}  # a subject's clocks share their office's calendar
    out: dict[UUID, list[ClockView]] = {}
    for row in rows:
        office_id = row["office_id"]
        cal = calendars.get(office_id)
        if cal is None:
            cal = calendars[office_id] = await office_calendar(conn, office_id)
        started = row["started_at"]
        at, day = (now, today) if started <= now else (started, local_date(started))
        events = msgspec.json.encode(row["events"])
        # Everything the view depends on: the row's rule inputs and events, the calendar and the local day
        # (evaluate() reads `now` only as the day it falls on, and as a bound the events are already behind).
        key = (row["id"], events, row["code"], row["day_type"], tuple(row["lead_days"]), started,
               row["occurrence"], row["event_at"], cal, day)
        view = _views.get(key)
        if view is None:
            spec = _spec(row)
            s = _state(spec, cal, row, _events.decode(events), at)
            view = ClockView(
                code=s.code, label=spec.label_zh, occurrence=s.occurrence, status=s.status, due=s.due,
                days_remaining=s.days_remaining, warning=s.warning, calendar_estimated=s.calendar_estimated,
                finished_at=s.finished_at, exemption=s.exemption,
            )
            _views.put(key, view)
        out.setdefault(row["subject_id"], []).append(view)
    return out


async def refresh(conn: asyncpg.Connection, rows: list[Any], now: datetime, *, fresh: bool = False) -> int:
    """Write the engine's current status, due date and estimate flag into stored rows that differ; the count."""
    changed = []
    for row in rows:
        cal = await office_calendar(conn, row["office_id"], fresh=fresh)
        s = _state(_spec(row), cal, row, _events.decode(msgspec.json.encode(row["events"])),
                   max(now, row["started_at"]))
        if (s.status, s.due, s.calendar_estimated) != (row["status"], row["due"], row["calendar_estimated"]):
            changed.append((row["id"], s.status, s.due, s.calendar_estimated))
    if changed:
        await conn.executemany("update clocks set status = $2, due = $3, calendar_estimated = $4, updated_at = now() "
                               "where id = $1", changed)
    return len(changed)


# Stale: a paused clock's due date moves every day; a running clock past its due date is overdue now. Each kind
# is read through a partial index of its own (migration 0019), in index order, so a sweep reads only the stale
# rows: a walk in id order over every open clock read a large office's whole backlog and hit the statement timeout.
_STALE_PAUSED = """
select * from clocks
where office_id = $1 and finished_at is null and status = 'paused' and id > $2
order by id limit $3 for update skip locked
"""
_STALE_RUNNING = """
select * from clocks
where office_id = $1 and finished_at is null and status = 'running' and due < $2::date
  and (due, id) > ($3::date, $4::uuid)
order by due, id limit $5 for update skip locked
"""
SWEEP_BATCH = 500


async def sweep_stale(conn: asyncpg.Connection, *, office_id: UUID, batch: int = SWEEP_BATCH) -> int:
    """Bring every open clock of the office whose stored state may have moved (paused, or running past its due
    date) up to date, in batches of `batch` rows, each in its own transaction; the number of rows changed."""
    primary = primary_of(conn)
    if primary is not None:  # a read routed to the replica (monitoring, statistics): the sweep writes on the primary
        async with primary.connection() as rw:
            return await sweep_stale(rw, office_id=office_id, batch=batch)
    now = datetime.now(UTC)
    changed, cursor = 0, UUID(int=0)
    while rows := await _stale_batch(conn, now, _STALE_PAUSED, office_id, cursor, batch):
        changed += rows[0]
        cursor = rows[1]["id"]
    day, cursor = date.min, UUID(int=0)
    while rows := await _stale_batch(conn, now, _STALE_RUNNING, office_id, local_date(now), day, cursor, batch):
        changed += rows[0]
        day, cursor = rows[1]["due"], rows[1]["id"]
    return changed


async def _stale_batch(conn: asyncpg.Connection, now: datetime, sql: str, *args: Any) -> tuple[int, Any] | None:
    """Lock and refresh one batch in a transaction of its own: (rows changed, the last row read), None when done."""
    async with conn.transaction():
        rows = await conn.fetch(sql, *args)
        if not rows:
            return None
        return await refresh(conn, rows, now), rows[-1]


def today() -> date:
    """Today in Asia/Shanghai, the day deadlines are counted in."""
    return local_date(datetime.now(UTC))
