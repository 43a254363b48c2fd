"""Bulletins 情况通报 to the office's representatives (work reports, typical cases), with read receipts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from api.errors import ErrorCode, ProblemError, invalid
from auth.audit import Actor, record
from modules.liaison.suggestions import tell

if TYPE_CHECKING:
    import asyncpg

    from modules.liaison.schemas import LiaisonBulletinIn

__all__ = ("mark_read", "publish")


async def publish(conn: asyncpg.Connection, actor: Actor, office_id: UUID, data: LiaisonBulletinIn) -> Any:
    """Publish at once; every representative with a sign-in in the audience is told (ids only). A `selected`
    audience names at least one active representative of the office, and only then are names allowed."""
    chosen = sorted(set(data.representative_ids))
    if (data.audience == "selected") != bool(chosen):
        raise invalid("Name the representatives exactly when the audience is `selected`.",
                      ("representativeIds", "required for `selected`, not allowed otherwise"))
    if chosen and await conn.fetchval("select count(*) from liaison_representatives where id = any($1::uuid[]) "
                                      "and office_id = $2 and active", chosen, office_id) != len(chosen):
        raise ProblemError(ErrorCode.UNPROCESSABLE, "Some named are not active on this office's register.",
                           errors=[{"field": "representativeIds", "message": "unknown or inactive representative"}])
    row = await conn.fetchrow(
        "insert into liaison_bulletins (office_id, kind, audience, title, body, published_by) "
        "values ($1, $2, $3, $4, $5, $6) returning *",
        office_id, data.kind, data.audience, data.title, data.body, UUID(actor.id))
    await record(conn, actor, "liaison.bulletin.published", office_id=office_id, object_type="bulletin",
                 object_id=row["id"], detail={"kind": data.kind, "audience": data.audience})
    await conn.executemany("insert into liaison_bulletin_recipients (bulletin_id, representative_id) values ($1, $2)",
                           [(row["id"], r) for r in chosen])
    users = await conn.fetch("select user_id from liaison_representatives where office_id = $1 and active "
                             "and user_id is not null and ($2 = 'all' or kind = $2 or id = any($3::uuid[]))",
                             office_id, data.audience, chosen)
    for u in users:
        await tell(conn, office_id, u["user_id"], {"bulletinId": str(row["id"]), "event": "bulletin.published"})
    return row


async def mark_read(conn: asyncpg.Connection, row: Any, rep: Any) -> None:
    """The representative's read receipt (the first reading counts; later ones change nothing)."""
    await conn.execute("insert into liaison_bulletin_reads (bulletin_id, representative_id) values ($1, $2) "
                       "on conflict do nothing", row["id"], rep["id"])
