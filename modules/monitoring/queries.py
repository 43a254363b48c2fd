"""Reading the ladder's record: the rungs raised in an office, and the notices waiting for a handler's answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from api.pagination import Cursor, keyset

if TYPE_CHECKING:
    from uuid import UUID

    import asyncpg

__all__ = ("actions", "open_notices")


async def actions(conn: asyncpg.Connection, office_id: UUID, *, rung: Literal["reminder", "notice"] | None = None,
                  unanswered: bool = False, after: Cursor | None = None, limit: int) -> list[Any]:
    """The office's rungs, newest first: `limit + 1` rows (see `page_of`); `unanswered` keeps the notices still
    waiting for the handler."""
    q = keyset("created_at", "id")
    q.owner("office_id", office_id)
    if rung:
        q.add("rung = ?", rung)
    if unanswered:
        q.add("rung = ? and answered_at is null", "notice")
    sql, args = q.sql("select * from monitoring_actions", after, limit)
    return list(await conn.fetch(sql, *args))


async def open_notices(conn: asyncpg.Connection, office_id: UUID, handler_id: UUID | None) -> list[Any]:
    """The written notices on this handler's items not yet answered, oldest first (at most 200)."""
    return list(await conn.fetch(
        "select * from monitoring_actions where office_id = $1 and handler_id = $2 and rung = 'notice' "
        "and answered_at is null order by created_at, id limit 200", office_id, handler_id))
