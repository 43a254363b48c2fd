"""Flow monitoring's rules: the lists, the on-time rates, and the escalation ladder. Every write runs inside the
caller's transaction and leaves a timeline entry on the subject, an audit record and an outbox event."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from api.db import atomic
from api.errors import ErrorCode, ProblemError
from api.outbox import emit
from auth.audit import Actor, record
from modules.clocks.calendar import SHANGHAI, local_date, shift_months
from modules.clocks.calendars import actor_uuid
from modules.clocks.engine import compliance_of
from modules.clocks.rules import CLOCKS
from modules.clocks.store import sweep_stale, today
from modules.kernel.timeline import add_event
from modules.monitoring.subjects import category_counts_sql, lateral_join
from modules.registry import manifests

if TYPE_CHECKING:
    import asyncpg

    from api.pagination import Cursor

__all__ = (
    "DEFAULT_SETTINGS", "answer_notice", "bulletin", "bulletins", "category_counts", "deadlines", "escalate",
    "last_period", "office_settings", "period_bounds", "rates", "run_ladder", "save_settings", "system_actor",
)

Rung = Literal["reminder", "notice"]
GroupBy = Literal["code", "module", "department", "handler", "office"]
DEFAULT_SETTINGS = {"automatic": True, "reminder_after_days": 0, "notice_after_days": 3, "bulletin_period": "month"}
_RUNG_ZH = {"reminder": "流程监控口头提示", "notice": "流程监控通知书"}

def _list_sql() -> str:
    """The deadline list's statement, with the subjects of every module registered now."""
    return f"""
select k.id, k.module, k.subject_id, k.code, k.occurrence, k.due, k.status, k.calendar_estimated,
       s.handler_id, s.department, s.ref, s.title
from clocks k {lateral_join()}
where k.office_id = $1 and k.finished_at is null and k.status in ('running', 'paused', 'overdue')
  and k.due <= $2::date and ($3::text is null or k.module = $3) and ($4::text is null or s.department = $4)
  and ($5::uuid is null or s.handler_id = $5) and ($6::boolean is false or k.status = 'overdue')
  and ($7::date is null or (k.due, k.id) > ($7, $8::uuid))
order by k.due, k.id limit $9
"""


def system_actor(office_id: UUID) -> Actor:
    """Who acts when the ladder climbs by itself."""
    return Actor(id=None, kind="system", office_id=office_id, device_id="sweep", ip=None, request_id=None)


async def deadlines(conn: asyncpg.Connection, office_id: UUID, *, within_days: int, overdue_only: bool,
                    module: str | None, department: str | None, handler: UUID | None,
                    after: Cursor | None, limit: int) -> list[Any]:
    """Open clocks of the office due within `within_days` (or already overdue), soonest first, `limit + 1` rows
    (for `page_of` with `deadline_key`), after the cursor's row. Stale stored states are brought up to date first,
    so the list says what the item views say."""
    await sweep_stale(conn, office_id=office_id)
    return await conn.fetch(_list_sql(), office_id, today() + timedelta(days=within_days), module, department, handler,
                            overdue_only, local_date(after.at) if after else None, after.id if after else None,
                            limit + 1)


def deadline_key(row: Any) -> tuple[datetime, UUID]:
    """The cursor key of a deadline row (its due day and clock id), the order `deadlines` pages in."""
    return datetime.combine(row["due"], time(12), SHANGHAI), row["id"]


async def office_zone(conn: asyncpg.Connection, office_id: UUID) -> str:
    """The office's time zone for period boundaries (Asia/Shanghai unless it names its own)."""
    return await conn.fetchval("select coalesce(time_zone, 'Asia/Shanghai') from offices where id = $1", office_id)


_RATE_KEYS = {"code": "k.code", "module": "k.module", "department": "coalesce(s.department, '')",
              "handler": "coalesce(s.handler_id::text, '')", "office": "k.office_id::text"}


async def category_counts(conn: asyncpg.Connection, office_id: UUID, *,
                          module: str | None = None) -> list[dict[str, Any]]:
    """The office's items of every module (or of one) by subject, category and state, with the module's, category's
    and state's labels: what the overview's chart draws and the apps read from GET /api/v1/monitoring/categories."""
    labels = {m.name: m.label_zh for m in manifests()}
    states = {(s.module, s.kind): s.workflow.states for m in manifests() for s in m.subjects}
    rows = await conn.fetch(category_counts_sql(), office_id, module)
    return [{"module": r["module"], "module_label": labels.get(r["module"], r["module"]), "subject": r["subject"],
             "category": r["category"], "label": r["label"] or r["category"] or "未分类", "state": r["state"],
             "state_label": states.get((r["module"], r["subject"]), {}).get(r["state"], r["state"]),
             "count": r["n"]} for r in rows]


async def rates(conn: asyncpg.Connection, office_id: UUID, *, since: date, until: date, module: str | None,
                codes: list[str] | None, group_by: GroupBy) -> list[dict[str, Any]]:
    """On-time figures of clocks started in [since, until) office-local, per clock code and `group_by`; the rate
    is the engine's own compliance() of the counts."""
    await sweep_stale(conn, office_id=office_id)
    key = _RATE_KEYS[group_by]
    rows = await conn.fetch(
        f"""
        select k.code, {key} as grp, k.status, count(*) as n, count(*) filter (where k.calendar_estimated) as est
        from clocks k {lateral_join()}
        where k.office_id = $1 and ($2::text is null or k.module = $2) and ($3::text[] is null or k.code = any($3))
          and k.started_at >= $4::timestamp at time zone $6 and k.started_at < $5::timestamp at time zone $6
        group by 1, 2, 3
        """, office_id, module, codes, since, until, await office_zone(conn, office_id))
    grouped: dict[tuple[str, str], dict[str, int]] = {}
    estimated: dict[tuple[str, str], int] = {}
    for r in rows:
        grouped.setdefault((r["code"], r["grp"]), {})[r["status"]] = r["n"]
        estimated[(r["code"], r["grp"])] = estimated.get((r["code"], r["grp"]), 0) + r["est"]
    out = []
    for (code, grp), counts in sorted(grouped.items()):
        c = compliance_of(counts)
        out.append({"clock": code, "module": CLOCKS[code].module if code in CLOCKS else None, "group": grp or None,
                    "met_on_time": c.met_on_time, "met_late": counts.get("met_late", 0),
                    "overdue": counts.get("overdue", 0), "pending": counts.get("running", 0) + counts.get("paused", 0),
                    "not_counted": counts.get("exempt", 0) + counts.get("not_applicable", 0),
                    "rate": round(c.rate, 4) if c.rate is not None else None,
                    "calendar_estimated": estimated[(code, grp)]})
    return out


async def office_settings(conn: asyncpg.Connection, office_id: UUID) -> dict[str, Any]:
    """The office's ladder settings, or the defaults."""
    row = await conn.fetchrow("select * from monitoring_settings where office_id = $1", office_id)
    return {k: row[k] for k in DEFAULT_SETTINGS} if row else dict(DEFAULT_SETTINGS)


async def save_settings(conn: asyncpg.Connection, actor: Actor, office_id: UUID, *, automatic: bool,
                        reminder_after_days: int, notice_after_days: int, bulletin_period: str) -> None:
    """Replace the office's ladder settings, in the caller's transaction, and audit the change."""
    await conn.execute(
        """
        insert into monitoring_settings (office_id, automatic, reminder_after_days, notice_after_days,
                                         bulletin_period) values ($1, $2, $3, $4, $5)
        on conflict (office_id) do update set automatic = excluded.automatic,
            reminder_after_days = excluded.reminder_after_days,
            notice_after_days = excluded.notice_after_days, bulletin_period = excluded.bulletin_period,
            updated_at = now()
        """, office_id, automatic, reminder_after_days, notice_after_days, bulletin_period)
    await record(conn, actor, "monitoring.settings", office_id=office_id, object_type="monitoring_settings",
                 detail={"automatic": automatic, "reminderAfterDays": reminder_after_days,
                         "noticeAfterDays": notice_after_days, "bulletinPeriod": bulletin_period})


async def _clock(conn: asyncpg.Connection, office_id: UUID, clock_id: UUID) -> Any:
    row = await conn.fetchrow(f"select k.*, s.handler_id, s.department, s.ref, s.title from clocks k {lateral_join()} "
                              "where k.id = $1 and k.office_id = $2 for update of k", clock_id, office_id)
    if row is None:
        raise ProblemError(ErrorCode.NOT_FOUND, "No such deadline.")
    return row


async def escalate(conn: asyncpg.Connection, actor: Actor, office_id: UUID, clock_id: UUID, rung: Rung, *,
                   note: str | None, automatic: bool = False) -> Any:
    """Raise one rung on a clock: a reminder while it is due soon or overdue, a written notice once it is overdue.
    Each rung once per clock (409 the second time)."""
    await sweep_stale(conn, office_id=office_id)
    k = await _clock(conn, office_id, clock_id)
    if k["finished_at"] is not None:
        raise ProblemError(ErrorCode.CONFLICT, "This deadline is no longer open.")
    if rung == "notice" and k["status"] != "overdue":
        raise ProblemError(ErrorCode.CONFLICT, "A written monitoring notice is for an overdue deadline.")
    row = await conn.fetchrow(
        """
        insert into monitoring_actions (office_id, clock_id, module, subject_id, rung, automatic, raised_by,
                                        handler_id, note)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9) on conflict (clock_id, rung) do nothing returning *
        """, office_id, clock_id, k["module"], k["subject_id"], rung, automatic, actor_uuid(actor), k["handler_id"],
        note)
    if row is None:
        raise ProblemError(ErrorCode.CONFLICT, f"A {rung} was already raised on this deadline.")
    data = {"actionId": str(row["id"]), "clockId": str(clock_id), "clock": k["code"], "due": k["due"].isoformat(),
            "rung": rung, "automatic": automatic, "note": note}
    body = (f"{_RUNG_ZH[rung]}：{CLOCKS[k['code']].label_zh}期限 {k['due'].isoformat()}"
            + (f"（{note}）" if note else ""))
    await _on_record(conn, actor, k, f"monitoring.{rung}", body, data)
    return row


async def answer_notice(conn: asyncpg.Connection, actor: Actor, office_id: UUID, action_id: UUID, *,
                        user_id: UUID, reason: str, plan: str) -> Any:
    """The handler's written answer to a monitoring notice: why it is late and what will be done, on the record."""
    row = await conn.fetchrow("select * from monitoring_actions where id = $1 and office_id = $2 and rung = 'notice' "
                              "for update", action_id, office_id)
    if row is None:
        raise ProblemError(ErrorCode.NOT_FOUND, "No such monitoring notice.")
    if row["handler_id"] != user_id:
        raise ProblemError(ErrorCode.FORBIDDEN, "Only the handler the notice names answers it.")
    if row["answered_at"] is not None:
        raise ProblemError(ErrorCode.CONFLICT, "This notice was already answered.")
    updated = await conn.fetchrow(
        "update monitoring_actions set answer_reason = $2, answer_plan = $3, answered_by = $4, answered_at = now() "
        "where id = $1 returning *", action_id, reason, plan, user_id)
    k = await _clock(conn, office_id, row["clock_id"])
    data = {"actionId": str(action_id), "clockId": str(row["clock_id"]), "reason": reason, "plan": plan}
    await _on_record(conn, actor, k, "monitoring.notice_answered",
                     f"流程监控通知书回复：{reason}；整改计划：{plan}", data)
    return updated


async def _on_record(conn: asyncpg.Connection, actor: Actor, k: Any, action: str, body: str,
                     data: dict[str, Any]) -> None:
    # On the subject's timeline, internal: monitoring is between the office's staff.
    await add_event(conn, k["module"], k["subject_id"], actor, action, public=False, body=body, data=data)
    # Ids only: the push delivery tells the handler and the department head, who fetch the content themselves.
    await emit(conn, "monitoring", {"event": action, "clockId": str(k["id"]), "subjectId": str(k["subject_id"]),
                                    "module": k["module"],
                                    "handlerId": str(k["handler_id"]) if k["handler_id"] else None,
                                    "department": k["department"], "actionId": data.get("actionId")},
               office_id=k["office_id"])
    await record(conn, actor, action, office_id=k["office_id"], object_type=f"{k['module']}.clock",
                 object_id=k["id"], detail={**data, "subjectId": str(k["subject_id"])})


def period_bounds(day: date, period: str) -> tuple[date, date]:
    """The [start, end) of the month or quarter containing `day`."""
    months = 3 if period == "quarter" else 1
    start = date(day.year, (day.month - 1) // months * months + 1, 1)
    return start, shift_months(start, months)


def last_period(day: date, period: str) -> tuple[date, date]:
    """The [start, end) of the month or quarter before the one containing `day`: the bulletin that is due."""
    return period_bounds(period_bounds(day, period)[0] - timedelta(days=1), period)


async def bulletins(conn: asyncpg.Connection, office_id: UUID, *, limit: int = 100) -> list[Any]:
    """The office's bulletins, newest period first."""
    return await conn.fetch("select * from monitoring_bulletins where office_id = $1 "
                            "order by period_start desc, id limit $2", office_id, limit)


async def bulletin(conn: asyncpg.Connection, actor: Actor, office_id: UUID, *, start: date, end: date,
                   automatic: bool = False) -> Any:
    """A bulletin 通报 listing the office's deadlines due in [start, end) that were missed (overdue or met late)."""
    if end <= start:
        raise ProblemError(ErrorCode.VALIDATION_FAILED, "The period ends before it starts.",
                           errors=[{"field": "periodEnd", "message": "must be after periodStart"}])
    await sweep_stale(conn, office_id=office_id)
    rows = await conn.fetch(
        f"""
        select k.id, k.module, k.subject_id, k.code, k.due, k.status, s.handler_id, s.department, s.ref, s.title,
               (select count(*) from monitoring_actions a where a.clock_id = k.id) as rungs
        from clocks k {lateral_join()}
        where k.office_id = $1 and k.due >= $2 and k.due < $3 and k.status in ('overdue', 'met_late')
        order by k.due, k.id
        """, office_id, start, end)
    items = [{"clockId": str(r["id"]), "module": r["module"], "subjectId": str(r["subject_id"]), "clock": r["code"],
              "due": r["due"].isoformat(), "status": r["status"], "ref": r["ref"], "title": r["title"],
              "handlerId": str(r["handler_id"]) if r["handler_id"] else None, "department": r["department"],
              "rungs": r["rungs"]} for r in rows]
    row = await conn.fetchrow(
        "insert into monitoring_bulletins (office_id, period_start, period_end, items, automatic, created_by) "
        "values ($1, $2, $3, $4, $5, $6) on conflict (office_id, period_start, period_end) do nothing returning *",
        office_id, start, end, items, automatic, actor_uuid(actor))
    if row is None:
        raise ProblemError(ErrorCode.CONFLICT, "A bulletin for this period exists already.")
    for r in rows:
        await add_event(conn, r["module"], r["subject_id"], actor, "monitoring.bulletin", public=False,
                        body=f"列入流程监控通报（{start.isoformat()} 至 {(end - timedelta(days=1)).isoformat()}）",
                        data={"bulletinId": str(row["id"]), "clockId": str(r["id"])})
    await emit(conn, "monitoring", {"event": "monitoring.bulletin", "bulletinId": str(row["id"])}, office_id=office_id)
    await record(conn, actor, "monitoring.bulletin", office_id=office_id, object_type="monitoring_bulletin",
                 object_id=row["id"], detail={"periodStart": start.isoformat(), "periodEnd": end.isoformat(),
                                              "items": len(items), "automatic": automatic})
    return row


async def run_ladder(conn: asyncpg.Connection, office_id: UUID) -> dict[str, int]:
    """One sweep for an office: stale clocks brought up to date, then the rungs due by the office's delays
    (reminder after N days overdue, notice N days after an unheeded reminder, bulletin for the last period)."""
    done = {"clocks": await sweep_stale(conn, office_id=office_id), "reminders": 0, "notices": 0, "bulletins": 0}
    cfg = await office_settings(conn, office_id)
    if not cfg["automatic"]:
        return done
    actor, now = system_actor(office_id), today()
    due_reminders = await conn.fetch(
        "select k.id from clocks k where k.office_id = $1 and k.finished_at is null and k.status = 'overdue' "
        "and k.due <= $2::date and not exists (select 1 from monitoring_actions a where a.clock_id = k.id "
        "and a.rung = 'reminder') order by k.due, k.id limit 500",
        office_id, now - timedelta(days=cfg["reminder_after_days"] + 1))
    for r in due_reminders:
        async with atomic(conn):
            await escalate(conn, actor, office_id, r["id"], "reminder", note=None, automatic=True)
        done["reminders"] += 1
    cutoff = datetime.now(UTC) - timedelta(days=cfg["notice_after_days"])
    due_notices = await conn.fetch(
        "select a.clock_id from monitoring_actions a join clocks k on k.id = a.clock_id where a.office_id = $1 "
        "and a.rung = 'reminder' and a.created_at <= $2 and k.finished_at is null and k.status = 'overdue' "
        "and not exists (select 1 from monitoring_actions b where b.clock_id = a.clock_id and b.rung = 'notice') "
        "limit 500", office_id, cutoff)
    for r in due_notices:
        async with atomic(conn):
            await escalate(conn, actor, office_id, r["clock_id"], "notice", note=None, automatic=True)
        done["notices"] += 1
    # The bulletin of the period just ended, once.
    start, end = last_period(now, cfg["bulletin_period"])
    exists = await conn.fetchval("select exists (select 1 from monitoring_bulletins where office_id = $1 and "
                                 "period_start = $2 and period_end = $3)", office_id, start, end)
    if not exists:
        async with atomic(conn):
            await bulletin(conn, actor, office_id, start=start, end=end, automatic=True)
        done["bulletins"] += 1
    # Each module's own policy warnings (a contact cadence behind, too few open days).
    from modules.registry import manifests

    done["warnings"] = 0
    for m in manifests():
        if m.sweep is not None:
            done["warnings"] += await m.sweep(conn, office_id)
    return done

