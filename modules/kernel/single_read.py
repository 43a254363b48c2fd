"""A subject's single read in one statement: its related kernel rows (clocks, timeline, files, the pending
proposal) as sub-selects of the module's own query, each an array of its table's row type, so asyncpg decodes them
into records typed as a separate select would return them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from api.errors import not_found
from modules.clocks.store import ClockView, views_of
from modules.kernel.files import FROM_PUBLIC, AttachmentOut, attachment_out
from modules.kernel.timeline import EventOut, events_out

if TYPE_CHECKING:
    import asyncpg

__all__ = ("Related", "attachments_column", "clocks_column", "read_one", "related", "related_columns",
           "timeline_column")


def clocks_column(subject_id: str) -> str:
    """The select-list column `clocks`: the subject's clock rows (for `views_of`), in start order."""
    return (f"array(select k from clocks k where k.subject_id = {subject_id} order by k.started_at, k.code,"
            f" k.occurrence) as clocks")


def timeline_column(subject_id: str, *, public: bool) -> str:
    """The select-list column `timeline`: the subject's timeline rows (for `events_out`), oldest first; `public`:
    only its public entries."""
    return (f"array(select t from timeline_events t where t.subject_id = {subject_id}"
            f"{' and t.public' if public else ''} order by t.id) as timeline")


def attachments_column(subject_id: str, *, public: bool) -> str:
    """The select-list column `attachments`: the subject's file rows (for `attachment_out`), oldest first;
    `public`: only those the public side may see (not attached by staff)."""
    return (f"array(select a from attachments a where a.subject_id = {subject_id}"
            f"{f' and a.{FROM_PUBLIC}' if public else ''} order by a.created_at, a.id) as attachments")


def related_columns(subject_id: str, *, public: bool = False) -> str:
    """The select-list columns for the subject whose id is the SQL expression `subject_id` (e.g. "c.id"); `public`:
    only what the public side sees (public timeline entries, files not attached by staff, no proposal)."""
    proposal = ("null as proposal" if public else f"(select p from step_proposals p where p.subject_id = {subject_id}"
                                                  f" and p.status = 'pending' limit 1) as proposal")
    return (f"{clocks_column(subject_id)}, {timeline_column(subject_id, public=public)}, "
            f"{attachments_column(subject_id, public=public)}, {proposal}")


async def read_one(conn: asyncpg.Connection, sql: str, *args: Any, missing: str = "No such item.") -> Any:
    """The one row of a single read, or 404 with `missing` as its detail (also for what the caller may not see)."""
    found = await conn.fetchrow(sql, *args)
    if found is None:
        raise not_found(missing)
    return found


class Related(NamedTuple):
    """What a staff view shows beside the subject's own row."""

    clocks: list[ClockView]
    timeline: list[EventOut]
    attachments: list[AttachmentOut]
    proposal: Any


async def related(conn: asyncpg.Connection, read: Any, subject_id: Any, *, public: bool = False) -> Related:
    """The related rows of a read made with `related_columns` (with the same `public`), as its side sees them
    (clocks evaluated now)."""
    clocks = (await views_of(conn, read["clocks"])).get(subject_id, [])
    return Related(clocks, events_out(read["timeline"], public_only=public),
                   [attachment_out(a, staff=not public) for a in read["attachments"]], read["proposal"])
