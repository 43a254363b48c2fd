"""The accounts a module's recipients resolver names, kept to the event office's serving staff: the ones an event
names (a handler, a proposer), else those whose roles the office's permission list grants the action that acts on
it. A disabled, retired or moved account is never told."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from auth.permissions import effective_grants

if TYPE_CHECKING:
    import asyncpg

__all__ = ("holders", "serving", "uuid_or_none")

_SERVING = "u.office_id = $1 and u.kind = 'staff' and u.disabled_at is null and u.retired_at is null"


def uuid_or_none(value: Any) -> UUID | None:
    """A payload's or column's id as a UUID; None for none, or for an id that is not an account's (a partner's)."""
    if isinstance(value, UUID) or value is None:
        return value
    try:
        return UUID(str(value))
    except ValueError:
        return None


async def serving(conn: asyncpg.Connection, office_id: UUID, ids: list[UUID | None]) -> tuple[UUID, ...]:
    """Those of `ids` that are serving staff of the office."""
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return ()
    rows = await conn.fetch(f"select u.id from users u where {_SERVING} and u.id = any($2::uuid[]) order by u.id",
                            office_id, wanted)
    return tuple(r["id"] for r in rows)


async def holders(conn: asyncpg.Connection, office_id: UUID, action: str) -> tuple[UUID, ...]:
    """The office's serving staff whose roles its permission list (as narrowed for it) grants `action`."""
    roles = [role for role, actions in (await effective_grants(conn, office_id)).items() if action in actions]
    if not roles:
        return ()
    rows = await conn.fetch(f"select u.id from users u where {_SERVING} and u.roles && $2::text[] order by u.id",
                            office_id, roles)
    return tuple(r["id"] for r in rows)
