"""Holiday calendars: which years the office knows and which are estimated, and importing a year's notice from a
file (modules/clocks/calendars.py: parse_year_file, apply_year, recompute, as behind PUT
/api/v1/admin/calendar/years/{year})."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromQuery
from litestar.response import Response, Template

from api.console.pages.signin import FORM
from api.console.render import allowed, page, see_other
from api.errors import ProblemError
from api.state import AppState
from auth.audit import actor_from
from auth.principal import current_principal
from modules.clocks.calendars import apply_year, parse_year_file, recompute, year_summaries
from modules.clocks.store import today

__all__ = ("calendar_routes",)

_LEVELS = ("office", "province", "national")
_MAX_FILE = 256 * 1024


async def _render(request: Request[Any, Any, Any], state: AppState, *, status: int = 200,
                  errors: list[str] | None = None, done: FromQuery[str | None] = None) -> Template:
    p = current_principal(request)
    now = today().year
    async with state.db.connection() as conn:
        years = await year_summaries(conn, p.office, range(now - 1, now + 3))
    return await page(request, "calendars.html", status=status, years=years, errors=errors or [], done=done,
                      levels=_LEVELS, can_manage=await allowed(request, "admin.calendar.manage"))


@get("/calendars", opt={"action": "admin.calendar.read"}, include_in_schema=False)
async def calendars_page(request: Request[Any, Any, Any], state: AppState,
                         done: FromQuery[str | None] = None) -> Template:
    """Last year to two years ahead: where each year's days come from, and which are estimated."""
    return await _render(request, state, done=done)


@post("/calendars", status_code=200, opt={"action": "admin.calendar.manage", "accepts": FORM}, include_in_schema=False)
async def import_year(request: Request[Any, Any, Any], state: AppState) -> Response[Any]:
    """Import a year from a CSV (`date,kind,name`) or JSON file; the clocks it touches are recomputed."""
    p = current_principal(request)
    form = await request.form()
    upload = form.get("file")
    level = str(form.get("level") or "office")
    if not isinstance(upload, UploadFile) or level not in _LEVELS:
        return await _render(request, state, status=400, errors=["请选择日历文件。"])
    raw = await upload.read(_MAX_FILE + 1)
    if len(raw) > _MAX_FILE:
        return await _render(request, state, status=400, errors=["文件过大。"])
    try:
        data = parse_year_file(raw.decode("utf-8-sig"), filename=upload.filename or "year.csv",
                               notice=str(form.get("notice") or "").strip()[:200] or None,
                               complete=form.get("complete") == "on")
    except (ValueError, UnicodeDecodeError) as exc:
        return await _render(request, state, status=400, errors=[f"文件无法读取：{exc}"])
    actor = actor_from(request, p)
    try:
        async with state.db.transaction() as conn:
            job = await apply_year(conn, actor, p.office, level, data)  # type: ignore[arg-type]  # level is one of _LEVELS (checked above)
    except ProblemError as exc:
        if exc.status not in (400, 403, 422):
            raise
        return await _render(request, state, status=exc.status,
                             errors=[f"{e.get('field')}: {e.get('message')}" for e in exc.errors or []]
                             or [exc.detail or "无效"])
    async with state.db.connection() as conn:
        await recompute(conn, actor, p.office, job)
    return see_other(request, f"/console/calendars?done={data.year}")


calendar_routes = [calendars_page, import_year]
