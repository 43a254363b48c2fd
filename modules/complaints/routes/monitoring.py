"""Flow monitoring of the office's complaints: overdue and due-soon deadlines, on-time reply rates."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import FromQuery, QueryParameter

from api.errors import problem_docs
from api.pagination import Limit, Page, decode_cursor
from api.state import AppState
from auth.principal import current_principal
from modules.clocks.store import today
from modules.complaints.queries import Deadline, Stats, deadlines, stats

__all__ = ("MonitoringController",)


class MonitoringController(Controller):
    """What the case management office watches 流程监控."""

    path = "/staff/complaints"
    tags = ["complaints"]
    security = [{"bearer": []}]

    @get("/deadlines", operation_id="complaintDeadlines", summary="Overdue and due-soon deadlines",
         opt={"action": "complaint.monitor"}, responses=problem_docs(400, 401, 403))
    async def deadlines(self, request: Request[Any, Any, Any], state: AppState,
                        within_days: Annotated[int, QueryParameter(name="withinDays", ge=0, le=90)] = 5,
                        cursor: FromQuery[str | None] = None, limit: FromQuery[Limit] = 100) -> Page[Deadline]:
        """Flow monitoring 流程监控: every open deadline already past or due within `within_days`, soonest first;
        cursor-paginated."""
        p = current_principal(request)
        async with state.db.read() as conn:
            return await deadlines(conn, p.office, today(), within_days=within_days, after=decode_cursor(cursor),
                                   limit=limit)

    @get("/stats", operation_id="complaintStats", summary="On-time reply rates",
         opt={"action": "complaint.monitor"}, responses=problem_docs(400, 401, 403))
    async def stats(self, request: Request[Any, Any, Any], state: AppState, since: FromQuery[date | None] = None,
                    until: FromQuery[date | None] = None) -> Stats:
        """7-day procedural and 3-month result reply rates for items received in [since, until) (default: this year)."""
        p = current_principal(request)
        now = today()
        start = since or now.replace(month=1, day=1)
        end = until or now.replace(year=now.year + 1, month=1, day=1)
        async with state.db.read() as conn:
            return await stats(conn, p.office, start, end)
