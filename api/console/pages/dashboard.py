"""The overview 概览: the office's deadlines by module and state, its items by module and category, on-time rates per
clock this year and the overdue count, drawn by vendored ECharts from JSON endpoints over modules/monitoring's service
(the apps read the same figures from GET /api/v1/monitoring/rates and /categories)."""

from __future__ import annotations

from typing import Any, Literal

from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import Template

from api.console.render import allowed, page
from api.state import AppState
from auth.actions import AUTHENTICATED
from auth.principal import current_principal
from modules.clocks.rules import CLOCKS
from modules.clocks.store import sweep_stale, today
from modules.monitoring import service

__all__ = ("dashboard_routes",)

STATES = ("running", "paused", "overdue", "met_on_time", "met_late")


@get("/", opt={"action": AUTHENTICATED}, include_in_schema=False)
async def overview(request: Request[Any, Any, Any], state: AppState, done: FromQuery[str | None] = None,
                   period: FromQuery[Literal["year", "quarter", "month"]] = "year") -> Template:
    """The landing page: the figures when the caller may read them (and the offices below, for an upper one)."""
    async with state.db.connection() as conn:
        below = await conn.fetchval("select exists (select 1 from offices where parent_id = $1 and retired_at is null)",
                                    current_principal(request).office_id)
    return await page(request, "home.html", figures=await allowed(request, "monitoring.read"), below=below,
                      password_changed=done == "password", period=period)


@get("/data/figures", opt={"action": "monitoring.read"}, include_in_schema=False)
async def figures(request: Request[Any, Any, Any], state: AppState,
                  period: FromQuery[Literal["year", "quarter", "month"]] = "year") -> dict[str, Any]:
    """Deadlines per module and state, on-time rates per clock for this year (or quarter, or month; office-local
    periods as the monitoring bulletins use), and how many are overdue now."""
    p = current_principal(request)
    now = today()
    since, until = ((now.replace(month=1, day=1), now.replace(year=now.year + 1, month=1, day=1))
                    if period == "year" else service.period_bounds(now, period))
    async with state.db.read() as conn:
        # rates() brings stale clock states up to date first, so the counts below are current too.
        rates = await service.rates(conn, p.office, since=since, until=until,
                                    module=None, codes=None, group_by="code")
        counts = await conn.fetch(
            "select module, status, count(*) as n from clocks where office_id = $1 group by 1, 2 order by 1, 2",
            p.office_id)
        zone = await service.office_zone(conn, p.office)
        # An upper office (the municipal one) sees the offices directly below it, as it sees their role requests;
        # their stored states are brought up to date first, as rates() does for the caller's own office.
        for child in await conn.fetch("select id from offices where parent_id = $1 and retired_at is null",
                                      p.office_id):
            await sweep_stale(conn, office_id=child["id"])
        below = await conn.fetch(
            """
            select o.code, o.name, k.status, count(k.id) as n from offices o
            left join clocks k on k.office_id = o.id
            where o.parent_id = $1 and o.retired_at is null group by 1, 2, 3 order by 1
            """, p.office_id)
        # Deadlines started per office-local month over the last twelve months: the trend of new work.
        monthly = await conn.fetch(
            """
            select to_char(started_at at time zone $2, 'YYYY-MM') as month, module, count(*) as n from clocks
            where office_id = $1 and started_at >= date_trunc('month', now() at time zone $2) at time zone $2
                                                     - interval '11 months'
            group by 1, 2 order by 1, 2
            """, p.office_id, zone)
    modules = sorted({r["module"] for r in counts})
    by_state = {s: [next((r["n"] for r in counts if r["module"] == m and r["status"] == s), 0) for m in modules]
                for s in STATES}
    months = sorted({r["month"] for r in monthly})
    trend = {m: [next((r["n"] for r in monthly if r["month"] == mo and r["module"] == m), 0) for mo in months]
             for m in sorted({r["module"] for r in monthly})}
    codes = sorted({r["code"] for r in below})
    offices = {"offices": [next(r["name"] for r in below if r["code"] == c) for c in codes],
               "byState": {st: [sum(r["n"] for r in below if r["code"] == c and r["status"] == st) for c in codes]
                           for st in STATES}}
    return {"period": {"name": period, "since": since.isoformat(), "until": until.isoformat()},
            "modules": modules, "byState": by_state, "months": months, "startedByMonth": trend, "below": offices,
            "overdue": sum(by_state["overdue"]),
            "rates": [{"clock": r["clock"], "label": CLOCKS[r["clock"]].label_zh if r["clock"] in CLOCKS
                       else r["clock"], "rate": r["rate"], "metOnTime": r["met_on_time"], "metLate": r["met_late"],
                       "overdue": r["overdue"]} for r in rates]}


# What each module's subject is called on the chart, when a module counts more than one kind of item.
_SUBJECTS_ZH = {"clue": "线索", "case": "案件", "involvement": "提前介入", "document": "文书", "consultation": "会商",
                "suggestion": "建议", "invitation": "活动", "complaint": "来信来访"}


@get("/data/categories", opt={"action": "monitoring.read"}, include_in_schema=False)
async def categories(request: Request[Any, Any, Any], state: AppState) -> dict[str, Any]:
    """The office's items by module, category and state (service.category_counts, as GET
    /api/v1/monitoring/categories answers the apps), and the chart's form of it: one bar per category, one series
    per module."""
    p = current_principal(request)
    async with state.db.read() as conn:
        rows = await service.category_counts(conn, p.office)
    several = {m for m in {r["module"] for r in rows}
               if len({r["subject"] for r in rows if r["module"] == m}) > 1}
    bars: dict[tuple[str, str, str | None], dict[str, Any]] = {}
    for r in rows:
        key = (r["module"], r["subject"], r["category"])
        if key not in bars:
            kind = f" · {_SUBJECTS_ZH.get(r['subject'], r['subject'])}" if r["module"] in several else ""
            bars[key] = {"module": r["module"], "moduleLabel": r["module_label"], "subject": r["subject"],
                         "category": r["category"], "label": f"{r['module_label']}{kind} · {r['label']}", "count": 0,
                         "byState": {}}
        bars[key]["count"] += r["count"]
        bars[key]["byState"][r["state_label"]] = r["count"]
    items = list(bars.values())
    modules = list(dict.fromkeys(b["moduleLabel"] for b in items))
    return {"categories": items, "labels": [b["label"] for b in items], "modules": modules,
            "series": {m: [b["count"] if b["moduleLabel"] == m else None for b in items] for m in modules},
            "total": sum(b["count"] for b in items)}


dashboard_routes = [overview, figures, categories]
