"""Who hears of a rung of the flow-monitoring ladder (topic `monitoring`): the delivery worker asks here.

A reminder 口头提示 goes to the handler; a written notice 流程监控通知书 to the handler and the department head
above them (the notice is on the record and must be answered); the handler's answer to the head and to whoever
raised the notice; a bulletin 通报 to every handler it lists and their department heads. Only accounts of the
event's office, serving and enabled: monitoring never reaches across offices."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from api.outbox import Audience, Event

if TYPE_CHECKING:
    import asyncpg

__all__ = ("RECIPIENTS",)

# The department heads of the office over each department named, or over each handler's own department when the
# item names none; with the handlers themselves when asked. $1 office, $2 handlers, $3 departments of the items.
_HEADS_SQL = """
with wanted as (
    select coalesce(w.department, h.department) as department
    from unnest($2::uuid[], $3::text[]) as w(handler_id, department)
    left join users h on h.id = w.handler_id and h.office_id = $1
)
select u.id from users u
where u.office_id = $1 and u.kind = 'staff' and u.disabled_at is null and u.retired_at is null
  and (u.id = any($4::uuid[])
       or ('dept_head' = any(u.roles) and u.department in (select department from wanted where department is not null)))
order by u.id
"""


async def _staff_of(conn: asyncpg.Connection, office_id: UUID, items: list[tuple[UUID | None, str | None]], *,
                    handlers: bool, others: tuple[UUID, ...] = ()) -> tuple[UUID, ...]:
    """The office's serving accounts among the items' handlers (when `handlers`), their department heads, and
    `others`."""
    named = [h for h, _ in items if h is not None] if handlers else []
    rows = await conn.fetch(_HEADS_SQL, office_id, [h for h, _ in items], [d for _, d in items],
                            [*named, *others])
    return tuple(r["id"] for r in rows)


def _uuid(value: Any) -> UUID | None:
    return UUID(value) if value else None


async def _monitoring(conn: asyncpg.Connection, event: Event) -> Audience:
    """The handler and/or the department head, by rung; a bulletin's handlers and their heads."""
    office, what = event.office_id, event.payload.get("event")
    if office is None:
        return Audience()
    if what == "monitoring.bulletin":
        row = await conn.fetchrow("select items from monitoring_bulletins where id = $1 and office_id = $2",
                                  _uuid(event.payload.get("bulletinId")), office)
        items = [(_uuid(i.get("handlerId")), i.get("department")) for i in (row["items"] if row else [])]
        return Audience(users=await _staff_of(conn, office, items, handlers=True)) if items else Audience()
    item = [(_uuid(event.payload.get("handlerId")), event.payload.get("department"))]
    if what == "monitoring.reminder":
        # 口头提示: the handler alone; the head hears from the written notice on.
        return Audience(users=await _staff_of(conn, office, [], handlers=False, others=(item[0][0],))
                        if item[0][0] else ())
    if what == "monitoring.notice":
        return Audience(users=await _staff_of(conn, office, item, handlers=True))
    if what == "monitoring.notice_answered":
        raiser = await conn.fetchval("select raised_by from monitoring_actions where id = $1 and office_id = $2",
                                     _uuid(event.payload.get("actionId")), office)
        return Audience(users=await _staff_of(conn, office, item, handlers=False,
                                              others=(raiser,) if raiser else ()))
    return Audience()


RECIPIENTS = {"monitoring": _monitoring}
