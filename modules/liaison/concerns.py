"""Cases of concern 代表关注案件: a representative follows a complaint or a PIL case they raised and sees its
progress."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from auth.audit import Actor, record

if TYPE_CHECKING:
    import asyncpg

__all__ = ("follow",)


async def follow(conn: asyncpg.Connection, actor: Actor, rep: Any, module: str, subject_id: UUID) -> Any:
    """Follow the item (again: nothing changes); answers the row with the day it was first followed."""
    row = await conn.fetchrow(
        "insert into liaison_concerns (representative_id, module, subject_id) values ($1, $2, $3) "
        "on conflict do nothing returning *", rep["id"], module, subject_id)
    if row is None:
        return await conn.fetchrow("select * from liaison_concerns where representative_id = $1 and subject_id = $2",
                                   rep["id"], subject_id)
    await record(conn, actor, "liaison.concern.followed", office_id=rep["office_id"], object_type="representative",
                 object_id=rep["id"], detail={"module": module, "subject": str(subject_id)})
    return row
