"""Admin API of the holiday calendars: what each year holds for the office, and entering a year's notice."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, put
from litestar.params import FromPath, JSONBody, Parameter, QueryParameter

from api.errors import ErrorCode, ProblemError, problem_docs
from api.state import AppState
from auth.actions import register_actions
from auth.audit import actor_from
from auth.principal import current_principal
from modules.clocks.calendars import (
    CalendarYear,
    Level,
    YearSummary,
    apply_year,
    recompute,
    year_days,
    year_summaries,
)
from modules.clocks.statutory import statutory_holidays
from modules.clocks.store import today

__all__ = ("ACTIONS", "CalendarController")

ACTIONS: dict[str, str] = {
    "admin.calendar.read": "See which years the office's holiday calendar knows and which are estimated.",
    "admin.calendar.manage": "Enter a year's holidays and make-up working days (national and province levels only "
                             "from a top office).",
}
register_actions(ACTIONS)

# A path parameter's bounds must be a Parameter's: a msgspec.Meta in the alias is dropped by FromPath[...].
YearParam = Annotated[int, Parameter(ge=1950, le=2199, description="A year from 1950 to 2199.")]


class DayOut(msgspec.Struct, rename="camel"):
    """One entered day as the office sees it, with the level it comes from."""

    date: date
    kind: str
    name: str | None
    level: str


class StatutoryDay(msgspec.Struct):
    """A statutory holiday computed from the law."""

    date: date
    name: str


class YearDetail(msgspec.Struct, rename="camel"):
    """Everything a year holds for the office."""

    summary: YearSummary
    statutory: list[StatutoryDay]
    days: list[DayOut]


class YearEntered(msgspec.Struct, rename="camel"):
    """The year as now in force, and the clocks its change moved."""

    summary: YearSummary
    clocks_checked: int
    clocks_changed: int


class CalendarController(Controller):
    """Holiday calendars as data: national (the State Council's notice), province and office days."""

    path = "/admin/calendar"
    tags = ["admin"]
    security = [{"bearer": []}]

    @get("/years", operation_id="calendarYears", summary="Which years are known and which estimated",
         opt={"action": "admin.calendar.read"}, responses=problem_docs(400, 401, 403))
    async def years(self, request: Request[Any, Any, Any], state: AppState,
                    first: Annotated[int | None, QueryParameter(name="from", ge=1950, le=2199)] = None,
                    last: Annotated[int | None, QueryParameter(name="to", ge=1950, le=2199)] = None,
                    ) -> list[YearSummary]:
        """Default: last year to two years ahead. `estimated` years count Monday to Friday plus the statutory
        holidays computed from the law: enter their notice."""
        p = current_principal(request)
        now = today().year
        lo, hi = first or now - 1, last or now + 2
        async with state.db.connection() as conn:
            return await year_summaries(conn, p.office, range(lo, max(lo, hi) + 1))

    @get("/years/{year:int}", operation_id="calendarYear", summary="What one year holds",
         opt={"action": "admin.calendar.read"}, responses=problem_docs(400, 401, 403, 404))
    async def year(self, request: Request[Any, Any, Any], state: AppState, year: FromPath[YearParam]) -> YearDetail:
        """The statutory holidays by law, and the entered days in force for the office (lowest level wins)."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            summary = (await year_summaries(conn, p.office, range(year, year + 1)))[0]
            days = await year_days(conn, p.office, year)
        return YearDetail(summary=summary, statutory=[StatutoryDay(d, n) for d, n in statutory_holidays(year).items()],
                          days=[DayOut(**d) for d in days])

    @put("/years/{year:int}", operation_id="calendarEnterYear", summary="Enter a year's notice",
         opt={"action": "admin.calendar.manage"}, responses=problem_docs(400, 401, 403, 404, 422))
    async def enter(self, request: Request[Any, Any, Any], state: AppState, year: FromPath[YearParam],
                    data: JSONBody[CalendarYear],
                    level: Annotated[Level, QueryParameter(description="national, province or office")] = "office",
                    ) -> YearEntered:
        """Replaces the level's days of that year (format: docs/calendar-format.md), then recomputes every clock
        the change touches in batches, each audited."""
        p = current_principal(request)
        actor = actor_from(request, p)
        if data.year != year:
            raise ProblemError(ErrorCode.VALIDATION_FAILED, "The body is for another year.",
                               errors=[{"field": "year", "message": f"expected {year}"}])
        async with state.db.transaction() as conn:
            job = await apply_year(conn, actor, p.office, level, data)
        async with state.db.connection() as conn:
            totals = await recompute(conn, actor, p.office, job)
            summary = (await year_summaries(conn, p.office, range(year, year + 1)))[0]
        return YearEntered(summary=summary, clocks_checked=totals["checked"], clocks_changed=totals["changed"])

