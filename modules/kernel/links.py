"""Links between subjects of different modules, kept both ways and written on both timelines."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from api.schema import Output
from modules.kernel.timeline import add_event

if TYPE_CHECKING:
    import asyncpg

    from auth.audit import Actor

__all__ = ("LinkOut", "describe", "link", "link_columns", "links", "links_of", "origins")


class LinkOut(Output):
    """Another subject this one came from (`direction: from`) or became (`direction: to`)."""

    direction: str
    module: str
    id: UUID
    kind: str
    at: datetime


async def link(conn: asyncpg.Connection, actor: Actor, office_id: UUID, *, source: tuple[str, UUID],
               target: tuple[str, UUID], kind: str, public: bool = False, on_timelines: bool = True) -> None:
    """Record that `source` led to `target` (e.g. kind 'transferred_to_clue'), with an entry on both timelines
    (`on_timelines=False` when the module writes its own entries for the act)."""
    (from_module, from_id), (to_module, to_id) = source, target
    added = await conn.fetchval(
        "insert into subject_links (office_id, from_module, from_id, to_module, to_id, kind, created_by) "
        "values ($1, $2, $3, $4, $5, $6, $7) on conflict do nothing returning id",
        office_id, from_module, from_id, to_module, to_id, kind, actor.id or "system")
    if added is None or not on_timelines:  # already linked: a retried request adds nothing to either timeline
        return
    await add_event(conn, from_module, from_id, actor, "linked_to", public=public,
                    data={"kind": kind, "module": to_module, "id": str(to_id)})
    await add_event(conn, to_module, to_id, actor, "linked_from", public=False,
                    data={"kind": kind, "module": from_module, "id": str(from_id)})


def link_columns(subject_id: str) -> str:
    """A select-list column for a module's one-statement single read: every link of the subject whose id is the SQL
    expression `subject_id`, oldest first, as `subject_links` rows (read them with `links_of`)."""
    return (f"array(select l from subject_links l where l.from_id = {subject_id} or l.to_id = {subject_id}"
            " order by l.created_at) as links")


def links_of(rows: Any, subject_id: UUID) -> list[LinkOut]:
    """`subject_links` rows of one subject as the links it shows: what it became (to) and came from (from)."""
    return [LinkOut(direction="to", module=r["to_module"], id=r["to_id"], kind=r["kind"], at=r["created_at"])
            if r["from_id"] == subject_id else
            LinkOut(direction="from", module=r["from_module"], id=r["from_id"], kind=r["kind"], at=r["created_at"])
            for r in rows]


async def links(conn: asyncpg.Connection, subject_id: UUID) -> list[LinkOut]:
    """Every link of a subject, both directions, oldest first."""
    rows = await conn.fetch("select * from subject_links where from_id = $1 or to_id = $1 order by created_at",
                            subject_id)
    return links_of(rows, subject_id)


async def origins(conn: asyncpg.Connection, subject_id: UUID) -> list[UUID]:
    """Every subject this one came from, directly or through others (a case, its clue, the complaint or suggestion
    the clue came from), nearest first. The walk stops at eight links, so a cycle cannot run it away."""
    rows = await conn.fetch(
        "with recursive o (id, depth) as (select from_id, 1 from subject_links where to_id = $1 "
        "union select l.from_id, o.depth + 1 from subject_links l join o on l.to_id = o.id where o.depth < 8) "
        "select id from o group by id order by min(depth), id", subject_id)
    return [r["id"] for r in rows]


async def describe(conn: asyncpg.Connection, module: str, subject_id: UUID) -> tuple[str | None, str | None]:
    """A linked subject's reference number and state, read through its module's listing (None, None when the
    module lists no such subject): so one module shows what another's item became without knowing its tables."""
    from modules.registry import manifests

    for m in manifests():
        if m.name != module:
            continue
        for s in m.subjects:
            if s.listing is not None:
                row = await conn.fetchrow(f"select {s.listing['ref']} as ref, t.state from {s.table} t "
                                          "where t.id = $1", subject_id)
                if row is not None:
                    return row["ref"], row["state"]
    return None, None
