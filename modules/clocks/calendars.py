"""Holiday calendars as data: the year file format, its validation, entering a year at a level, listing what a
year holds, and recomputing the clocks a change touches (in bounded batches, audited)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal
from uuid import UUID

import msgspec
from chinese_calendar import constants

from api.db import atomic
from api.errors import ErrorCode, ProblemError
from auth.audit import Actor, record
from modules.clocks.calendar import PACKAGE_YEARS
from modules.clocks.statutory import statutory_holidays
from modules.clocks.store import LEVELS_SQL, forget_calendars, refresh

if TYPE_CHECKING:
    import asyncpg

__all__ = (
    "CalendarDay",
    "CalendarYear",
    "Level",
    "YearSummary",
    "actor_uuid",
    "apply_year",
    "calendar_warnings",
    "estimated_years",
    "package_year",
    "parse_year_file",
    "recompute",
    "resume_recomputes",
    "to_csv",
    "validate_year",
    "year_days",
    "year_summaries",
)

Level = Literal["national", "province", "office"]
Kind = Literal["holiday", "workday"]
RECOMPUTE_BATCH = 500


class CalendarDay(msgspec.Struct, frozen=True):
    """One day of a notice: a holiday (rest day) or a make-up working day, with the festival it belongs to."""

    date: date
    kind: Kind
    name: Annotated[str, msgspec.Meta(max_length=50)] | None = None


class CalendarYear(msgspec.Struct, frozen=True, rename="camel"):
    """A year's holiday and make-up days as an office types them from the State Council's notice."""

    year: int
    days: Annotated[list[CalendarDay], msgspec.Meta(max_length=366)]
    # The notice's reference (e.g. 国办发明电〔2026〕号); a year is complete only once it is given.
    notice: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    complete: bool = False


class YearSummary(msgspec.Struct, rename="camel"):
    """What one year holds for an office."""

    year: int
    source: Literal["package", "entered", "estimated"]
    estimated: bool
    levels: list[str]
    holidays: int
    workdays: int
    notice: str | None = None


_year_decoder = msgspec.json.Decoder(CalendarYear)


def parse_year_file(text: str, *, filename: str, year: int | None = None, notice: str | None = None,
                    complete: bool = False) -> CalendarYear:
    """A year from a JSON file (the format in docs/calendar-format.md) or a CSV of `date,kind,name` rows."""
    if filename.endswith(".json"):
        try:
            return _year_decoder.decode(text)
        except msgspec.ValidationError as exc:
            raise ValueError(f"{filename}: {exc}") from None
    rows = [r for r in csv.reader(io.StringIO(text)) if r and not r[0].startswith("#")]
    if rows and rows[0][0].strip().lower() == "date":
        rows = rows[1:]
    days = []
    for n, r in enumerate(rows, start=1):
        try:
            days.append(CalendarDay(date=date.fromisoformat(r[0].strip()), kind=r[1].strip(),  # type: ignore[arg-type]  # kind is a free string here; msgspec checks it against the Literal when the Struct is validated
                                    name=(r[2].strip() or None) if len(r) > 2 else None))
        except (IndexError, ValueError) as exc:
            raise ValueError(f"{filename} row {n}: {exc}") from None
        if days[-1].kind not in ("holiday", "workday"):
            raise ValueError(f"{filename} row {n}: kind must be holiday or workday")
    if year is None:
        years = {d.date.year for d in days}
        if len(years) != 1:
            raise ValueError(f"{filename}: give the year (the rows span {sorted(years)})")
        year = years.pop()
    return CalendarYear(year=year, days=days, notice=notice, complete=complete)


_FESTIVAL_ZH = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
                "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "Mid-autumn Festival": "中秋节",
                "National Day": "国庆节", "Anti-Fascist 70th Day": "抗战胜利70周年纪念日"}


def package_year(year: int) -> CalendarYear:
    """A year the package publishes, in the data file format (the model for typing in the next one)."""
    if year not in PACKAGE_YEARS:
        raise ValueError(f"the installed chinesecalendar knows {PACKAGE_YEARS.start}-{PACKAGE_YEARS.stop - 1}")
    days = []
    for day, name in sorted((d, n) for d, n in constants.holidays.items() if d.year == year):
        label = _FESTIVAL_ZH.get(str(getattr(name, "value", name)))
        # The package lists weekend days inside a break too; a weekday holiday or a named one is what a notice says.
        if label or day.weekday() < 5:
            days.append(CalendarDay(date=day, kind="holiday", name=label))
    for day, name in sorted((d, n) for d, n in constants.workdays.items() if d.year == year):
        days.append(CalendarDay(date=day, kind="workday", name=_FESTIVAL_ZH.get(str(getattr(name, "value", name)))))
    return CalendarYear(year=year, days=days, notice=f"chinesecalendar {year}", complete=True)


def to_csv(data: CalendarYear) -> str:
    """The year as the CSV the import reads: a header, then one `date,kind,name` row per day."""
    lines = ["date,kind,name"] + [f"{d.date.isoformat()},{d.kind},{d.name or ''}" for d in data.days]
    return "\n".join(lines) + "\n"


def validate_year(data: CalendarYear, level: Level) -> list[dict[str, str]]:
    """Every problem with a year's data, each naming its field: a date appears once and inside the year, a named
    holiday run has every day between its first and last, statutory holidays are never working days, and a
    complete year names its notice (and, nationally, lists every statutory holiday)."""
    errors: list[dict[str, str]] = []
    if not 1950 <= data.year <= 2199:
        return [{"field": "year", "message": "expected a year from 1950 to 2199"}]
    statutory = statutory_holidays(data.year)
    seen: set[date] = set()
    runs: dict[str, list[date]] = {}
    for i, day in enumerate(data.days):
        field = f"days[{i}]"
        if day.date.year != data.year:
            errors.append({"field": field, "message": f"{day.date} is not in {data.year}"})
        if day.date in seen:
            errors.append({"field": field, "message": f"{day.date} appears more than once"})
        seen.add(day.date)
        if day.name is not None and len(day.name) > 50:
            errors.append({"field": f"{field}.name", "message": "at most 50 characters"})
        if day.kind == "workday" and day.date in statutory:
            errors.append({"field": field, "message": f"{day.date} is a statutory holiday ({statutory[day.date]})"})
        if day.kind == "holiday" and day.name:
            runs.setdefault(day.name, []).append(day.date)
    for name, days in runs.items():
        span = (max(days) - min(days)).days + 1
        missing = [min(days) + timedelta(days=k) for k in range(span)]
        missing = [d for d in missing if d not in set(days)]
        if missing:
            errors.append({"field": "days", "message": f"{name} runs {min(days)} to {max(days)} but "
                                                       f"{', '.join(d.isoformat() for d in missing)} not given"})
    if len(data.notice or "") > 200:
        errors.append({"field": "notice", "message": "at most 200 characters"})
    if data.complete:
        if not (data.notice or "").strip():
            errors.append({"field": "notice", "message": "a year is complete only once its notice is entered"})
        holidays = {d.date for d in data.days if d.kind == "holiday"}
        left_out = sorted(set(statutory) - holidays)
        if level == "national" and left_out:
            errors.append({"field": "days", "message": "the notice always includes the statutory holidays; missing "
                                                       + ", ".join(d.isoformat() for d in left_out)})
    return errors


async def _scope(conn: asyncpg.Connection, office_id: UUID, level: Level) -> tuple[str, list[UUID]]:
    """The scope key of a level seen from the caller's office, and the offices a change there reaches."""
    office = await conn.fetchrow("select id, province, parent_id from offices where id = $1", office_id)
    if level != "office" and office["parent_id"] is not None:
        raise ProblemError(ErrorCode.FORBIDDEN, f"Only a top office enters {level} calendar days.")
    if level == "national":
        return "*", [r["id"] for r in await conn.fetch("select id from offices")]
    if level == "province":
        ids = await conn.fetch("select id from offices where province = $1", office["province"])
        return office["province"], [r["id"] for r in ids]
    return str(office_id), [office_id]


async def apply_year(conn: asyncpg.Connection, actor: Actor, office_id: UUID, level: Level,
                     data: CalendarYear) -> UUID:
    """Replace a level's days of one year (in the caller's transaction, audited); the id of the recomputation
    the change needs, to be run with `recompute` after commit."""
    errors = validate_year(data, level)
    if errors:
        raise ProblemError(ErrorCode.VALIDATION_FAILED, "The calendar year has problems.", errors=errors)
    scope, offices = await _scope(conn, office_id, level)
    first, last = date(data.year, 1, 1), date(data.year, 12, 31)
    await conn.execute("delete from calendar_days where level = $1 and scope = $2 and day between $3 and $4",
                       level, scope, first, last)
    await conn.executemany(
        "insert into calendar_days (level, scope, day, working, name) values ($1, $2, $3, $4, $5)",
        [(level, scope, d.date, d.kind == "workday", d.name) for d in data.days])
    await conn.execute(
        """
        insert into calendar_years (level, scope, year, complete, notice, entered_by) values ($1, $2, $3, $4, $5, $6)
        on conflict (level, scope, year) do update
        set complete = excluded.complete, notice = excluded.notice, entered_by = excluded.entered_by,
            entered_at = now()
        """, level, scope, data.year, data.complete, data.notice, actor_uuid(actor))
    recompute_id = await conn.fetchval(
        "insert into calendar_recomputes (office_ids, first_day, last_day, requested_by) values ($1, $2, $3, $4) "
        "returning id", offices, first, last, actor_uuid(actor))
    detail = {"level": level, "scope": scope, "year": data.year, "complete": data.complete, "notice": data.notice,
              "holidays": sum(d.kind == "holiday" for d in data.days),
              "workdays": sum(d.kind == "workday" for d in data.days), "recomputeId": str(recompute_id)}
    await record(conn, actor, "calendar.year_entered", office_id=office_id, object_type="calendar_year",
                 object_id=None, detail=detail)
    forget_calendars()
    return recompute_id


def actor_uuid(actor: Actor) -> UUID | None:
    """The acting user's id as a UUID (None for the system, the CLI or a partner)."""
    try:
        return UUID(actor.id) if actor.id else None
    except ValueError:
        return None


_AFFECTED = """
select * from clocks
where office_id = any($1::uuid[]) and started_at < ($3::date + 1)::timestamp at time zone 'Asia/Shanghai'
  and (finished_at is null or due >= $2::date) and id > $4
order by id limit $5 for update
"""


async def recompute(conn: asyncpg.Connection, actor: Actor, office_id: UUID, recompute_id: UUID, *,
                    batch: int = RECOMPUTE_BATCH) -> dict[str, int]:
    """Recompute every clock a calendar change may move (open ones, and finished ones due on or after the first
    changed day), `batch` rows per transaction, each batch audited; resumable from where it stopped."""
    totals = {"checked": 0, "changed": 0}
    while True:
        async with atomic(conn):
            job = await conn.fetchrow("select * from calendar_recomputes where id = $1 for update", recompute_id)
            if job is None or job["done_at"] is not None:
                return totals
            rows = await conn.fetch(_AFFECTED, job["office_ids"], job["first_day"], job["last_day"],
                                    job["cursor"] or UUID(int=0), batch)
            changed = await refresh(conn, rows, datetime.now(UTC), fresh=True) if rows else 0
            done = len(rows) < batch
            await conn.execute(
                "update calendar_recomputes set cursor = $2, checked = checked + $3, changed = changed + $4, "
                "done_at = case when $5 then now() end where id = $1",
                recompute_id, rows[-1]["id"] if rows else job["cursor"], len(rows), changed, done)
            await record(conn, actor, "calendar.clocks_recomputed", office_id=office_id,
                         object_type="calendar_recompute", object_id=recompute_id,
                         detail={"checked": len(rows), "changed": changed, "done": done})
            totals["checked"] += len(rows)
            totals["changed"] += changed
        if done:
            return totals


async def resume_recomputes(conn: asyncpg.Connection, actor: Actor) -> int:
    """Finish recomputations a stopped process left half done; how many were resumed."""
    ids = await conn.fetch("select id, office_ids from calendar_recomputes where done_at is null order by created_at")
    for r in ids:
        await recompute(conn, actor, r["office_ids"][0], r["id"])
    return len(ids)


async def year_days(conn: asyncpg.Connection, office_id: UUID, year: int) -> list[dict[str, Any]]:
    """The entered days of a year an office sees, with the level each comes from (the lowest level wins)."""
    rows = await conn.fetch(
        LEVELS_SQL.format(columns="distinct on (t.day) t.day, t.working, t.name, t.level", table="calendar_days")
        + " and t.day between $2 and $3 order by t.day, array_position(array['office', 'province', 'national'], "
          "t.level)", office_id, date(year, 1, 1), date(year, 12, 31))
    return [{"date": r["day"], "kind": "workday" if r["working"] else "holiday", "name": r["name"],
             "level": r["level"]} for r in rows]


async def year_summaries(conn: asyncpg.Connection, office_id: UUID, years: range) -> list[YearSummary]:
    """For each year: where its calendar comes from and whether deadlines in it are estimates."""
    rows = await conn.fetch(
        LEVELS_SQL.format(columns="t.year, t.level, t.complete, t.notice", table="calendar_years")
        + " and t.year between $2 and $3 order by t.year, array_position(array['national', 'province', 'office'], "
          "t.level)", office_id, years.start, years.stop - 1)
    out = []
    for year in years:
        entered = [r for r in rows if r["year"] == year]
        days = await year_days(conn, office_id, year) if entered else []
        complete = any(r["complete"] for r in entered)
        source: Literal["package", "entered", "estimated"]
        source = "package" if year in PACKAGE_YEARS and not complete else "entered" if complete else "estimated"
        if source == "estimated" and entered and year in PACKAGE_YEARS:
            source = "package"
        out.append(YearSummary(
            year=year, source=source, estimated=source == "estimated", levels=[r["level"] for r in entered],
            holidays=sum(d["kind"] == "holiday" for d in days), workdays=sum(d["kind"] == "workday" for d in days),
            notice=next((r["notice"] for r in entered if r["notice"]), None)))
    return out


async def estimated_years(conn: asyncpg.Connection, office_id: UUID, years: range) -> list[int]:
    """The years among `years` whose deadlines the office can only estimate."""
    return [s.year for s in await year_summaries(conn, office_id, years) if s.estimated]


async def calendar_warnings(conn: asyncpg.Connection, current_year: int) -> list[str]:
    """One line per year (this one and the next) whose deadlines some office can only estimate."""
    offices = await conn.fetch("select id, code from offices order by code")
    years = range(current_year, current_year + 2)
    lines = []
    for year in years:
        codes = [o["code"] for o in offices if year in await estimated_years(conn, o["id"], range(year, year + 1))]
        if codes:
            lines.append(f"calendar {year} is estimated for {', '.join(codes)}: deadlines in it count only the "
                         f"statutory holidays; enter the State Council's notice (docs/calendar-format.md)")
    return lines
