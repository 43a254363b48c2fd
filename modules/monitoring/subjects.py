"""How flow monitoring finds the subject a clock belongs to, per module: its handler, department, reference and
title, and how to write on its timeline. The one place that knows any module's tables (rewire it to the case
kernel's generic timeline when that lands)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable
from uuid import UUID

if TYPE_CHECKING:
    import asyncpg

    from auth.audit import Actor

__all__ = ("SUBJECTS", "Subject", "lateral_join")

Timeline = Callable[["asyncpg.Connection", UUID, "Actor", str, str, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Subject:
    """A module's subjects: `select` names handler_id, department, ref, title for `k.subject_id`."""

    module: str
    select: str
    timeline: Timeline


async def _complaint_timeline(conn: asyncpg.Connection, subject_id: UUID, actor: Actor, type_: str, body: str,
                              data: dict[str, Any]) -> None:
    from modules.complaints.service import add_event

    # Internal: monitoring is between the office's staff, never shown to the complainant.
    await add_event(conn, subject_id, actor, type_, public=False, body=body, data=data)


SUBJECTS: dict[str, Subject] = {
    "complaints": Subject(
        module="complaints",
        select="select c.assignee_id as handler_id, c.department, c.receipt_no as ref, c.title from complaints c "
               "where c.id = k.subject_id",
        timeline=_complaint_timeline,
    ),
}


def lateral_join() -> str:
    """A LEFT JOIN LATERAL giving `s.handler_id, s.department, s.ref, s.title` for the clock `k` of any module."""
    parts = [f"({s.select} and k.module = '{s.module}')" for s in SUBJECTS.values()]
    return f"left join lateral ({' union all '.join(parts)} limit 1) s on true"
