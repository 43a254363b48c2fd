"""Flow monitoring 流程监控: overdue and due-soon deadlines of every module, raising the next rung of the ladder
(reminder, notice, and the bulletin 通报 of a period), and the rungs raised with the handlers' answers
(modules/monitoring/service.py, as behind /api/v1/monitoring)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Response, Template

from api.console.pages.signin import FORM
from api.console.render import allowed, page, see_other
from api.errors import ProblemError
from api.state import AppState
from auth.audit import actor_from
from auth.principal import current_principal
from modules.clocks.rules import CLOCKS
from modules.clocks.store import today
from modules.monitoring import queries, service

__all__ = ("monitoring_routes",)

_LIMIT = 100


@get("/monitoring", opt={"action": "monitoring.read"}, include_in_schema=False)
async def monitoring_page(request: Request[Any, Any, Any], state: AppState, overdue: FromQuery[bool] = False,
                          done: FromQuery[str | None] = None) -> Template:
    """Deadlines due within a week (or only the overdue ones), soonest first, and the latest rungs raised."""
    p = current_principal(request)
    async with state.db.connection() as conn:
        rows = await service.deadlines(conn, p.office, within_days=7, overdue_only=overdue, module=None,
                                       department=None, handler=None, after=None, limit=_LIMIT)
        actions = (await queries.actions(conn, p.office, limit=50))[:50]
        bulletins = await service.bulletins(conn, p.office, limit=12)
        settings = await service.office_settings(conn, p.office)
    deadlines = [{**dict(r), "label": CLOCKS[r["code"]].label_zh if r["code"] in CLOCKS else r["code"]}
                 for r in rows[:_LIMIT]]
    start, end = service.last_period(today(), settings["bulletin_period"])
    return await page(request, "monitoring.html", deadlines=deadlines, actions=actions, overdue=overdue,
                      done=done, can_escalate=await allowed(request, "monitoring.escalate"), bulletins=bulletins,
                      period={"start": start.isoformat(), "end": end.isoformat()})


@post("/monitoring/{clock_id:uuid}/rungs", status_code=200, opt={"action": "monitoring.escalate", "accepts": FORM},
      include_in_schema=False)
async def raise_rung(request: Request[Any, Any, Any], state: AppState, clock_id: FromPath[UUID]) -> Response[Any]:
    """Raise a reminder or a written notice on a deadline (each once; a notice only when overdue)."""
    p = current_principal(request)
    form = await request.form()
    rung: Literal["reminder", "notice"] = "notice" if form.get("rung") == "notice" else "reminder"
    note = str(form.get("note") or "").strip()[:2000] or None
    try:
        async with state.db.transaction() as conn:
            await service.escalate(conn, actor_from(request, p), p.office, clock_id, rung,
                                   note=note)
    except ProblemError as exc:
        if exc.status != 409:
            raise
        return await page(request, "error.html", status=409, code=exc.code, message=f"未能发出：{exc.detail}")
    return see_other(request, f"/console/monitoring?done={rung}")


@post("/monitoring/bulletins", status_code=200, opt={"action": "monitoring.escalate", "accepts": FORM},
      include_in_schema=False)
async def issue_bulletin(request: Request[Any, Any, Any], state: AppState) -> Response[Any]:
    """Issue the bulletin 通报 of a period [start, end), as POST /api/v1/monitoring/bulletins: one per period."""
    p = current_principal(request)
    form = await request.form()
    try:
        start, end = date.fromisoformat(str(form.get("start") or "")), date.fromisoformat(str(form.get("end") or ""))
    except ValueError:
        return await page(request, "error.html", status=400, code="validation_failed", message="请填写起止日期。")
    try:
        async with state.db.transaction() as conn:
            await service.bulletin(conn, actor_from(request, p), p.office, start=start, end=end)
    except ProblemError as exc:
        if exc.status not in (400, 409):
            raise
        return await page(request, "error.html", status=exc.status, code=exc.code,
                          message=f"未能发出通报：{exc.detail}")
    return see_other(request, "/console/monitoring?done=bulletin")


monitoring_routes = [monitoring_page, raise_rung, issue_bulletin]
