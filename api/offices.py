"""Office look-ups shared by every module (offices change rarely: cached per worker for a minute)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from api.errors import not_found
from api.ttl import TTLCache

if TYPE_CHECKING:
    import asyncpg

__all__ = ("forget_offices", "office_by_code", "office_by_id", "serving_offices")

_SELECT = "select id, code, name, parent_id from offices where "
_by_code: TTLCache[str, Any] = TTLCache(60.0)
_by_id: TTLCache[UUID, Any] = TTLCache(60.0)


async def office_by_code(conn: asyncpg.Connection, code: str) -> Any:
    """An office (id, code, name, parent_id) by its code, or 404."""
    row = await _by_code.get_or_load(code, lambda: conn.fetchrow(_SELECT + "code = $1", code))
    if row is None:
        raise not_found(f"No office {code!r}.")
    return row


async def office_by_id(conn: asyncpg.Connection, office_id: UUID) -> Any:
    """An office (id, code, name, parent_id) by its id, or 404."""
    row = await _by_id.get_or_load(office_id, lambda: conn.fetchrow(_SELECT + "id = $1", office_id))
    if row is None:
        raise not_found("No such office.")
    return row


def forget_offices() -> None:
    """Drop the cached offices (after this worker changed the office tree)."""
    _by_code.clear()
    _by_id.clear()


async def serving_offices(conn: asyncpg.Connection) -> list[Any]:
    """Every serving office by code, with its parent's code and the modules it has on (`modules`, sorted)."""
    return list(await conn.fetch(
        """
        select o.code, o.name, p.code as parent,
               coalesce(array_agg(m.module order by m.module) filter (where m.enabled), '{}') as modules
        from offices o left join offices p on p.id = o.parent_id
        left join office_modules m on m.office_id = o.id
        where o.retired_at is null
        group by o.code, o.name, p.code order by o.code
        """))
