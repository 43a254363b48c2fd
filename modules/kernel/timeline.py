"""The timeline of every subject of every module: each state change, reply, note, assignment and added material."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from api.schema import Output

if TYPE_CHECKING:
    import asyncpg

    from auth.audit import Actor

__all__ = ("EventOut", "add_event", "timeline")


class EventOut(Output):
    """One entry of a timeline."""

    at: datetime
    type: str
    body: str | None
    public: bool
    data: dict[str, Any] = {}


async def add_event(conn: asyncpg.Connection, module: str, subject_id: UUID, actor: Actor, type_: str, *,
                    public: bool, body: str | None = None, data: dict[str, Any] | None = None) -> None:
    """Append to a subject's timeline."""
    await conn.execute(
        "insert into timeline_events (module, subject_id, actor_id, actor_kind, type, public, body, data) "
        "values ($1, $2, $3, $4, $5, $6, $7, $8)",
        module, subject_id, actor.id, actor.kind, type_, public, body, data or {},
    )


async def timeline(conn: asyncpg.Connection, subject_id: UUID, *, public_only: bool) -> list[EventOut]:
    """A subject's timeline, oldest first; the public side sees public entries without their internal data."""
    rows = await conn.fetch(
        "select at, type, body, public, data from timeline_events where subject_id = $1"
        + (" and public" if public_only else "") + " order by id", subject_id)
    return [EventOut(at=r["at"], type=r["type"], body=r["body"], public=r["public"],
                     data={} if public_only else r["data"]) for r in rows]
