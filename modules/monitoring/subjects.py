"""How flow monitoring finds the subject a clock belongs to, per module: its handler, department, reference and
title. The one place monitoring knows a module's tables; the timeline is the kernel's, shared by every module."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    import asyncpg

    from auth.audit import Actor

__all__ = ("SUBJECTS", "Subject", "lateral_join")

@dataclass(frozen=True, slots=True)
class Subject:
    """A module's subjects: `select` names handler_id, department, ref, title for `k.subject_id`."""

    module: str
    select: str

    async def timeline(self, conn: asyncpg.Connection, subject_id: UUID, actor: Actor, type_: str, body: str,
                       data: dict[str, Any]) -> None:
        """Write on the subject's timeline: internal, monitoring is between the office's staff."""
        from modules.kernel.timeline import add_event

        await add_event(conn, self.module, subject_id, actor, type_, public=False, body=body, data=data)


SUBJECTS: dict[str, Subject] = {
    "complaints": Subject(
        module="complaints",
        select="select c.assignee_id as handler_id, c.department, c.receipt_no as ref, c.title from complaints c "
               "where c.id = k.subject_id",
    ),
    # Early involvement: the answer to a request is watched like any deadline; its handler is the prosecutor.
    "partners": Subject(
        module="partners",
        select="select i.prosecutor_id as handler_id, null::text as department, i.case_ref as ref, "
               "left(i.summary, 200) as title from partner_involvements i where i.id = k.subject_id",
    ),
}


def lateral_join() -> str:
    """A LEFT JOIN LATERAL giving `s.handler_id, s.department, s.ref, s.title` for the clock `k` of any module."""
    parts = [f"({s.select} and k.module = '{s.module}')" for s in SUBJECTS.values()]
    return f"left join lateral ({' union all '.join(parts)} limit 1) s on true"
