"""Following a subject from outside the office (a representative's case of concern 代表关注案件): found by its
number among the subjects the modules declare followable, seen as its number, state and the progress its
`Subject.follow` allows, whatever module keeps it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, NamedTuple
from uuid import UUID

from modules.kernel.timeline import EventOut, steps_only, timeline

if TYPE_CHECKING:
    import asyncpg

    from modules.kernel.steps import Subject

__all__ = ("Followed", "find", "view")


class Followed(NamedTuple):
    """A followed subject as its follower sees it."""

    ref: str
    state: str
    progress: list[EventOut]


def _followable(module: str | None = None) -> Iterator[Subject]:
    from modules.registry import manifests

    for m in manifests():
        if module is None or m.name == module:
            yield from (s for s in m.subjects if s.follow is not None)


async def find(conn: asyncpg.Connection, office_id: UUID, ref: str) -> tuple[str, UUID] | None:
    """The followable subject of the office numbered `ref`, in a module the office has on: (module, id), or None."""
    on = {r["module"] for r in await conn.fetch(
        "select module from office_modules where office_id = $1 and enabled", office_id)}
    for s in _followable():
        if s.module not in on or s.listing is None:
            continue
        found = await conn.fetchval(f"select t.id from {s.table} t where {s.listing['ref']} = $1 "
                                    "and t.office_id = $2", ref, office_id)
        if found is not None:
            return s.module, found
    return None


async def view(conn: asyncpg.Connection, module: str, subject_id: UUID) -> Followed | None:
    """The subject's number, state and progress as its `follow` allows (None when no followable subject has it)."""
    for s in _followable(module):
        assert s.listing is not None  # checked when the subject is declared
        row = await conn.fetchrow(f"select {s.listing['ref']} as ref, t.state from {s.table} t where t.id = $1",
                                  subject_id)
        if row is not None:
            progress = (await timeline(conn, subject_id, public_only=True) if s.follow == "public"
                        else await steps_only(conn, subject_id))
            return Followed(ref=row["ref"], state=row["state"], progress=progress)
    return None
