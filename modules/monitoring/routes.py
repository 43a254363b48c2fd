"""HTTP routes of flow monitoring (/api/v1/monitoring): lists, rates, the ladder, bulletins, settings, the sweep."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from api.errors import invalid, problem_docs
from api.idempotency import run_once
from api.pagination import Limit, Page, decode_cursor, page_of
from api.state import AppState
from auth.audit import actor_from
from auth.principal import current_principal
from modules.clocks.rules import CLOCKS
from modules.clocks.store import clock_views, today
from modules.monitoring import queries, service
from modules.monitoring.service import GroupBy
from modules.registry import manifests

__all__ = ("MonitoringController",)

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class DeadlineOut(msgspec.Struct, rename="camel"):
    """An open deadline of any module, as flow monitoring lists it."""

    clock_id: UUID
    module: str
    subject_id: UUID
    ref: str | None
    title: str | None
    clock: str
    label: str
    occurrence: int
    due: date
    status: str
    days_remaining: int
    warning: int | None
    calendar_estimated: bool
    handler_id: UUID | None
    department: str | None


class RateOut(msgspec.Struct, rename="camel"):
    """On-time figures of one clock (and group): rate = met on time / (met + met late + overdue)."""

    clock: str
    module: str | None
    group: str | None
    met_on_time: int
    met_late: int
    overdue: int
    pending: int
    not_counted: int
    rate: float | None
    # How many of the clocks counted have estimated due dates (a year without its holiday notice).
    calendar_estimated: int = 0


class Rates(msgspec.Struct, rename="camel"):
    """Rates for clocks started in [since, until), office-local midnight to midnight."""

    since: date
    until: date
    time_zone: str
    group_by: str
    rates: list[RateOut]


class CategoryCount(msgspec.Struct, rename="camel"):
    """How many items of one module's subject are in one category and state (e.g. complaints, 控告 accusation,
    accepted)."""

    module: str
    module_label: str
    subject: str
    category: str | None
    label: str
    state: str
    state_label: str
    count: int


class CategoryCounts(msgspec.Struct, rename="camel"):
    """The office's items by module, subject, category and state (every item, whatever its age)."""

    counts: list[CategoryCount]


class RungIn(msgspec.Struct, forbid_unknown_fields=True):
    """Raise a rung by hand."""

    rung: Literal["reminder", "notice"]
    note: Text | None = None


class ActionOut(msgspec.Struct, rename="camel"):
    """One rung raised on one deadline."""

    id: UUID
    clock_id: UUID
    module: str
    subject_id: UUID
    rung: str
    automatic: bool
    raised_by: UUID | None
    handler_id: UUID | None
    note: str | None
    created_at: datetime
    answer_reason: str | None
    answer_plan: str | None
    answered_by: UUID | None
    answered_at: datetime | None


class AnswerIn(msgspec.Struct, forbid_unknown_fields=True):
    """The handler's answer to a written monitoring notice."""

    reason: Text
    plan: Text


class BulletinIn(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """A bulletin for a period [periodStart, periodEnd)."""

    period_start: date
    period_end: date


class BulletinOut(msgspec.Struct, rename="camel"):
    """A bulletin 通报 and the missed deadlines it lists."""

    id: UUID
    period_start: date
    period_end: date
    automatic: bool
    created_at: datetime
    items: list[dict[str, Any]]


class SettingsIO(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """How the ladder climbs for the office: days overdue before the reminder, days after it before the notice."""

    automatic: bool = True
    reminder_after_days: Annotated[int, msgspec.Meta(ge=0, le=365)] = 0
    notice_after_days: Annotated[int, msgspec.Meta(ge=0, le=365)] = 3
    bulletin_period: Literal["month", "quarter"] = "month"


class SweepOut(msgspec.Struct):
    """What one sweep did for the office."""

    clocks: int
    reminders: int
    notices: int
    bulletins: int
    # Warnings the modules raised on their own policies (contact cadence, open days).
    warnings: int = 0


def _action(r: Any) -> ActionOut:
    return ActionOut(**{f: r[f] for f in ActionOut.__struct_fields__})


def _bulletin(r: Any) -> BulletinOut:
    return BulletinOut(id=r["id"], period_start=r["period_start"], period_end=r["period_end"],
                       automatic=r["automatic"], created_at=r["created_at"], items=r["items"])


def _known(module: str | None, clocks: list[str] | None) -> None:
    """A filter naming a module or clock that does not exist is a mistake (400), not an empty answer."""
    if module is not None and module not in {m.name for m in manifests()}:
        raise invalid("No such module.", ("module", "unknown module"), source="query")
    unknown = [c for c in clocks or () if c not in CLOCKS]
    if unknown:
        raise invalid("No such clock.", ("clock", f"unknown clock {unknown[0]}"), source="query")


class MonitoringController(Controller):
    """Flow monitoring 案件流程监控 for every module of the caller's office (another office's rows answer 404)."""

    path = "/monitoring"
    tags = ["monitoring"]
    security = [{"bearer": []}]

    @get("/deadlines", operation_id="monitoringDeadlines", summary="Overdue and due-soon deadlines of every module",
         opt={"action": "monitoring.read"}, responses=problem_docs(400, 401, 403))
    async def deadlines(
        self, request: Request[Any, Any, Any], state: AppState,
        within_days: Annotated[int, QueryParameter(name="withinDays", ge=0, le=365)] = 7,
        overdue: FromQuery[bool] = False, module: FromQuery[str | None] = None,
        department: FromQuery[str | None] = None, handler: FromQuery[UUID | None] = None,
        cursor: FromQuery[str | None] = None, limit: FromQuery[Limit] = 50,
    ) -> Page[DeadlineOut]:
        """Soonest first; `warning` is the lead time reached (the office's lead days), `overdue=true` keeps only
        overdue ones. Filters: module, department, handler. Cursor-paginated."""
        _known(module, None)
        p = current_principal(request)
        after = decode_cursor(cursor)
        async with state.db.read() as conn:
            rows = await service.deadlines(
                conn, p.office, within_days=within_days, overdue_only=overdue, module=module,
                department=department, handler=handler,
                after=after, limit=limit)
            views = await clock_views(conn, {r["subject_id"] for r in rows[:limit]})
        fresh = {(v.code, v.occurrence, sid): v for sid, vs in views.items() for v in vs}

        def out(r: Any) -> DeadlineOut:
            v = fresh[(r["code"], r["occurrence"], r["subject_id"])]
            return DeadlineOut(clock_id=r["id"], module=r["module"], subject_id=r["subject_id"], ref=r["ref"],
                               title=r["title"], clock=r["code"], label=CLOCKS[r["code"]].label_zh,
                               occurrence=r["occurrence"], due=r["due"], status=r["status"],
                               days_remaining=v.days_remaining, warning=v.warning,
                               calendar_estimated=r["calendar_estimated"], handler_id=r["handler_id"],
                               department=r["department"])
        return page_of(rows, limit, out, service.deadline_key)

    @get("/rates", operation_id="monitoringRates", summary="On-time rates per clock, period and group",
         opt={"action": "monitoring.read"}, responses=problem_docs(400, 401, 403))
    async def rates(
        self, request: Request[Any, Any, Any], state: AppState, since: FromQuery[date | None] = None,
        until: FromQuery[date | None] = None, module: FromQuery[str | None] = None,
        clock: FromQuery[list[str] | None] = None,
        group_by: Annotated[GroupBy, QueryParameter(name="groupBy")] = "code",
    ) -> Rates:
        """Clocks started in [since, until) (default: this year), office-local midnight; exempt and not-applicable
        clocks are left out of the rate, open ones past due count as overdue."""
        _known(module, clock)
        p = current_principal(request)
        now = today()
        start = since or now.replace(month=1, day=1)
        end = until or now.replace(year=now.year + 1, month=1, day=1)
        async with state.db.read() as conn:
            found = await service.rates(conn, p.office, since=start, until=end, module=module,
                                        codes=clock, group_by=group_by)
            zone = await service.office_zone(conn, p.office)
        return Rates(since=start, until=end, time_zone=zone, group_by=group_by,
                     rates=[RateOut(**r) for r in found])

    @get("/categories", operation_id="monitoringCategories", summary="Items by module, category and state",
         opt={"action": "monitoring.read"}, responses=problem_docs(400, 401, 403))
    async def categories(self, request: Request[Any, Any, Any], state: AppState,
                         module: FromQuery[str | None] = None) -> CategoryCounts:
        """Every item of the office (of one module when asked) counted by category and state, with Chinese labels:
        complaints by catalog category, PIL clues and cases by domain, suggestions by classification, partner
        involvements by urgency and documents by kind."""
        _known(module, None)
        p = current_principal(request)
        async with state.db.read() as conn:
            rows = await service.category_counts(conn, p.office, module=module)
        return CategoryCounts(counts=[CategoryCount(**r) for r in rows])

    @post("/clocks/{clock_id:uuid}/rungs", operation_id="monitoringRaise", summary="Raise a reminder or a notice",
          opt={"action": "monitoring.escalate", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409),
          status_code=HTTP_201_CREATED)
    async def raise_rung(self, request: Request[Any, Any, Any], state: AppState, clock_id: FromPath[UUID],
                         data: JSONBody[RungIn]) -> Any:
        """A reminder 口头提示 (due soon or overdue) or a written notice 流程监控通知书 (overdue), on the item's
        timeline, the audit trail and the outbox. Idempotency-Key honoured."""
        p = current_principal(request)

        async def work(conn: Any) -> tuple[int, ActionOut]:
            row = await service.escalate(conn, actor_from(request, p), p.office, clock_id, data.rung,
                                         note=data.note)
            return 201, _action(row)
        return await run_once(state.db, request, p.sub, data, work, required=False)

    @get("/actions", operation_id="monitoringActions", summary="Rungs raised, newest first",
         opt={"action": "monitoring.read"}, responses=problem_docs(400, 401, 403))
    async def actions(self, request: Request[Any, Any, Any], state: AppState,
                      rung: FromQuery[Literal["reminder", "notice"] | None] = None,
                      unanswered: FromQuery[bool] = False, cursor: FromQuery[str | None] = None,
                      limit: FromQuery[Limit] = 50) -> Page[ActionOut]:
        """The ladder's record for the office; `unanswered=true` lists notices still waiting for the handler."""
        p = current_principal(request)
        after = decode_cursor(cursor)
        async with state.db.connection() as conn:
            rows = await queries.actions(conn, p.office, rung=rung, unanswered=unanswered, after=after, limit=limit)
        return page_of(rows, limit, _action, lambda r: (r["created_at"], r["id"]))

    @get("/my-notices", operation_id="monitoringMyNotices", summary="Notices the caller must answer",
         opt={"action": "monitoring.answer"}, responses=problem_docs(400, 401, 403))
    async def my_notices(self, request: Request[Any, Any, Any], state: AppState) -> list[ActionOut]:
        """Written monitoring notices on the caller's own items, not yet answered."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            rows = await queries.open_notices(conn, p.office, p.user_id)
        return [_action(r) for r in rows]

    @post("/notices/{action_id:uuid}/answer", operation_id="monitoringAnswer", summary="Answer a monitoring notice",
          opt={"action": "monitoring.answer", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409), status_code=200)
    async def answer(self, request: Request[Any, Any, Any], state: AppState, action_id: FromPath[UUID],
                     data: JSONBody[AnswerIn]) -> Any:
        """The handler named on the notice gives the reason for the delay and the plan, once."""
        p = current_principal(request)

        async def work(conn: Any) -> tuple[int, ActionOut]:
            row = await service.answer_notice(conn, actor_from(request, p), p.office, action_id,
                                              user_id=p.account, reason=data.reason, plan=data.plan)
            return 200, _action(row)
        return await run_once(state.db, request, p.sub, data, work, required=False)

    @post("/bulletins", operation_id="monitoringBulletin", summary="Issue a bulletin for a period",
          opt={"action": "monitoring.escalate", "idempotency": "required"}, responses=problem_docs(400, 401, 403, 409),
          status_code=HTTP_201_CREATED)
    async def issue_bulletin(self, request: Request[Any, Any, Any], state: AppState,
                             data: JSONBody[BulletinIn]) -> Any:
        """A bulletin 通报 listing the deadlines due in the period that were missed; each listed item's timeline
        says so. One per period (409 again). Idempotency-Key required."""
        p = current_principal(request)

        async def work(conn: Any) -> tuple[int, BulletinOut]:
            row = await service.bulletin(conn, actor_from(request, p), p.office,
                                         start=data.period_start, end=data.period_end)
            return 201, _bulletin(row)
        return await run_once(state.db, request, p.sub, data, work)

    @get("/bulletins", operation_id="monitoringBulletins", summary="Bulletins, newest period first",
         opt={"action": "monitoring.read"}, responses=problem_docs(400, 401, 403))
    async def bulletins(self, request: Request[Any, Any, Any], state: AppState) -> list[BulletinOut]:
        """The office's bulletins (the last 100 periods)."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            rows = await service.bulletins(conn, p.office)
        return [_bulletin(r) for r in rows]

    @get("/settings", operation_id="monitoringSettings", summary="The ladder's delays",
         opt={"action": "monitoring.read"}, responses=problem_docs(401, 403))
    async def get_settings(self, request: Request[Any, Any, Any], state: AppState) -> SettingsIO:
        """The office's settings, or the defaults."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            cfg = await service.office_settings(conn, p.office)
        return SettingsIO(**cfg)

    @put("/settings", operation_id="monitoringPutSettings", summary="Set the ladder's delays",
         opt={"action": "monitoring.configure"}, responses=problem_docs(400, 401, 403))
    async def put_settings(self, request: Request[Any, Any, Any], state: AppState,
                           data: JSONBody[SettingsIO]) -> SettingsIO:
        """Replace the office's settings (audited)."""
        p = current_principal(request)
        async with state.db.transaction() as conn:
            await service.save_settings(conn, actor_from(request, p), p.office, **msgspec.structs.asdict(data))
        return data

    @post("/sweep", operation_id="monitoringSweep", summary="Run the sweep for the office now",
          opt={"action": "monitoring.configure"}, responses=problem_docs(401, 403), status_code=200)
    async def sweep(self, request: Request[Any, Any, Any], state: AppState) -> SweepOut:
        """What the periodic sweep does: overdue clocks marked, due rungs raised, last period's bulletin issued."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            done = await service.run_ladder(conn, p.office)
        return SweepOut(**done)

