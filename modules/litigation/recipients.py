"""Who hears of each PIL topic: the delivery worker asks here (manifest `recipients`).

A step on a case reaches its handler; on a clue (which has none), or a case whose handler no longer serves, the
office's staff granted `litigation.handle`. A proposal waiting for approval also reaches those granted the approval
it waits for (the department head's review, then the chief's decision), and one returned reaches its proposer.
What is addressed to an agency reaches that agency alone, through its webhook or pull feed when it subscribed to
`litigation.partner` (partner clients have no inbox). Only serving accounts of the event's office."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from api.outbox import Audience, Event
from modules.kernel.audience import holders, serving, uuid_or_none
from modules.litigation.rules import CASE_WORKFLOW, CLUE_WORKFLOW

if TYPE_CHECKING:
    import asyncpg

__all__ = ("RECIPIENTS",)

_WORKFLOWS = {"clue": CLUE_WORKFLOW, "case": CASE_WORKFLOW}


async def _named_user(conn: object, event: Event) -> Audience:
    """The invited deputy, member or volunteer (their app); ids only."""
    user = event.payload.get("userId")
    return Audience(users=(UUID(user),) if user else ())


async def _proposal(conn: asyncpg.Connection, office: UUID, kind: str, subject: UUID | None,
                    ) -> tuple[tuple[UUID, ...], list[UUID | None]]:
    """Those granted the approval the subject's latest proposal waits for; its proposer when it was returned."""
    p = await conn.fetchrow("select step, stage, status, proposed_by from step_proposals where subject_id = $1"
                            " and office_id = $2 order by created_at desc limit 1", subject, office)
    if p is None:
        return (), []
    if p["status"] == "returned":
        return (), [uuid_or_none(p["proposed_by"])]
    chain = _WORKFLOWS[kind].transitions[p["step"]].approvals
    if p["status"] != "pending" or p["stage"] >= len(chain):
        return (), []
    return await holders(conn, office, chain[p["stage"]]), []


async def _staff(conn: asyncpg.Connection, event: Event) -> Audience:
    """The case's handler (else the office's handlers); a pending proposal's approvers; a returned one's proposer."""
    office, what = event.office_id, str(event.payload.get("event") or "")
    kind = what.partition(".")[0]
    if office is None or kind not in _WORKFLOWS:
        return Audience()
    subject = uuid_or_none(event.payload.get("subjectId"))
    handler = uuid_or_none(event.payload.get("handlerId"))
    if handler is None and kind == "case":
        handler = await conn.fetchval("select handler_id from pil_cases where id = $1 and office_id = $2",
                                      subject, office)
    users = await serving(conn, office, [handler]) or await holders(conn, office, "litigation.handle")
    if ".proposal." in what:
        approvers, named = await _proposal(conn, office, kind, subject)
        users = (*users, *approvers, *await serving(conn, office, named))
    return Audience(users=tuple(dict.fromkeys(users)))


async def _partner(conn: asyncpg.Connection, event: Event) -> Audience:
    """The agency a recommendation is addressed to (its client of the event's office), and no other."""
    if event.office_id is None:
        return Audience()
    client = await conn.fetchval("select id from partner_clients where client_id = $1 and office_id = $2",
                                 event.payload.get("client"), event.office_id)
    return Audience(partner_clients=(client,) if client else ())


RECIPIENTS = {"litigation.staff": _staff, "litigation.partner": _partner, "litigation.invitation": _named_user}
