"""Office policy watched over time: flow monitoring's sweep warns each leader still behind on the quarterly contact
cadence as the quarter's end nears, and the liaison staff when fewer open days were held than the year's policy
asks by now. Each warning is raised once per person (or the office) and quarter, with an audit record."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from api.db import atomic
from api.outbox import emit
from auth.audit import record
from modules.clocks.store import today
from modules.liaison import queries
from modules.liaison.register import quarter

if TYPE_CHECKING:
    import asyncpg

    from auth.audit import Actor

__all__ = ("sweep",)


async def _warn(conn: asyncpg.Connection, actor: Actor, office_id: UUID, kind: str, staff_id: UUID | None,
                period_start: Any, detail: dict[str, Any]) -> bool:
    """Record the warning once, tell whoever must know, audit it; False when it was already raised."""
    async with atomic(conn):
        added = await conn.fetchval(
            "insert into liaison_warnings (office_id, kind, staff_id, period_start, detail) "
            "values ($1, $2, $3, $4, $5) on conflict do nothing returning id",
            office_id, kind, staff_id, period_start, detail)
        if added is None:
            return False
        payload = {"event": f"liaison.{kind}_behind", **detail, **({"userId": str(staff_id)} if staff_id else {})}
        await emit(conn, "liaison.warning", payload, office_id=office_id)
        await record(conn, actor, f"liaison.{kind}.warned", office_id=office_id, object_type="office",
                     object_id=str(staff_id or office_id), detail=detail)
    return True


async def sweep(conn: asyncpg.Connection, office_id: UUID) -> int:
    """The office's liaison policy warnings due today (none where the module is off); how many were raised."""
    from modules.monitoring.service import office_zone, system_actor

    row = await conn.fetchrow("select enabled, config from office_modules where office_id = $1 "
                              "and module = 'liaison'", office_id)
    if row is None or not row["enabled"]:
        return 0
    config, day, actor, raised = row["config"] or {}, today(), system_actor(office_id), 0
    policy = config.get("cadence") or {}
    first, last = quarter(day)
    if (last - day).days <= policy.get("warn_days", 30):
        view = await queries.cadence(conn, office_id, policy, day)
        for r in view.rows:
            if r.behind:
                detail = {"quarterEnd": last.isoformat(), "deputies": r.deputies, "members": r.members,
                          "requiredDeputies": view.required_deputies, "requiredMembers": view.required_members}
                raised += await _warn(conn, actor, office_id, "cadence", r.staff_id, first, detail)
    required = int(config.get("open_days_per_year", 2))
    held = await queries.open_days_held(conn, office_id, day.year, await office_zone(conn, office_id))
    owed = queries.open_days_owed(required, day.year, day)
    if held < owed:
        detail = {"year": day.year, "held": held, "owed": owed, "required": required}
        raised += await _warn(conn, actor, office_id, "open_days", None, first, detail)
    return raised
