"""Carrying out steps: `apply` is the one way any module changes a subject's state, and approval chains hold a
step back until the people the permission list names have agreed. Everything runs in the caller's transaction:
the state, the clocks, the timeline, the audit record and the outbox event land together or not at all."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

import msgspec

from api.errors import conflict, not_found
from api.schema import Output
from auth.audit import record
from modules.clocks.store import end_open_clocks, start_next, stop_clock
from modules.kernel.approvals import Decision, next_approval, rule_on
from modules.kernel.timeline import add_event
from modules.kernel.workflow import Transition, Workflow

if TYPE_CHECKING:
    import asyncpg

    from auth.audit import Actor

__all__ = (
    "Decision", "ProposalOut", "Subject", "apply", "clock_settings", "decide", "pending_proposal", "propose",
    "take_step",
)

Notify = Callable[..., Awaitable[None]]


async def _every_clock(conn: asyncpg.Connection, row: Any, code: str) -> bool:
    return True


async def _no_notice(conn: asyncpg.Connection, row: Any, event: str, public: bool,
                     extra: Mapping[str, Any] | None = None) -> None:
    return None


@dataclass(frozen=True)
class Subject:
    """A kind of record a module moves through a workflow (a complaint, a clue, a case, a suggestion)."""

    module: str
    # Table holding the subject: it has id, office_id, state, updated_at (and `closed_column` when not None).
    table: str
    # Name used in audit actions and object types ("complaint" -> "complaint.accept").
    kind: str
    workflow: Workflow
    closed_column: str | None = "closed_at"
    # Step fields kept on the subject's row when given (field name -> column), e.g. the disposition of a close.
    field_columns: Mapping[str, str] = field(default_factory=dict)
    # Whether a clock a step starts applies to this subject (e.g. petition-only clocks): (conn, row, code).
    clock_applies: Callable[[asyncpg.Connection, Any, str], Awaitable[bool]] = _every_clock
    # Tells whoever must know (outbox events on the module's declared topics): (conn, row, event, public, extra ids).
    notify: Notify = _no_notice
    # How lists across modules (flow monitoring's deadlines, bulletins) show the subject: SQL expressions over the
    # table as `t` for `handler_id` (uuid), `department`, `ref` (its number) and `title`. None: not listed.
    listing: Mapping[str, str] | None = None
    # How counts by category (GET /api/v1/monitoring/categories, the console's overview) group the subject: SQL
    # expressions over the table as `t` for its category's `code` and Chinese `label`. None: not counted.
    category: Mapping[str, str] | None = None
    # What someone outside the office who raised the subject (a representative following a case of concern) sees of
    # its progress: "public", its public timeline (what its public party is told); "steps", the kind and date of
    # each step, without text or data (none of it is public, but that it moves is). None: it cannot be followed.
    # Followed subjects are found by their listing's `ref`.
    follow: Literal["public", "steps"] | None = None

    def __post_init__(self) -> None:
        if self.listing is not None and set(self.listing) != {"handler_id", "department", "ref", "title"}:
            raise ValueError(f"{self.kind}: listing names handler_id, department, ref and title")
        if self.category is not None and set(self.category) != {"code", "label"}:
            raise ValueError(f"{self.kind}: category names code and label")
        if self.follow is not None and self.listing is None:
            raise ValueError(f"{self.kind}: a followed subject is listed (it is found by its ref)")


def _stamp(subject: Subject) -> str:
    # A move between concluding states (closed, then archived) keeps the date the item was concluded.
    if subject.closed_column is None:
        return ""
    return (f", {subject.closed_column} = case when $2 = any($4::text[]) "
            f"then coalesce({subject.closed_column}, now()) else null end")


async def apply(
    conn: asyncpg.Connection, subject: Subject, actor: Actor, row: Any, step: str, fields: Mapping[str, Any], *,
    body: str | None = None, clock_overrides: Mapping[str, Any] | None = None,
    event_data: Mapping[str, Any] | None = None,
) -> Any:
    """Carry out `step` on `row`: check the move, update the state (only if nobody moved it meanwhile) and the
    columns its fields fill, stop and start clocks, append the timeline entry, audit it, tell whoever must know.
    Returns the updated row. `event_data` replaces the step's fields as the timeline entry's data."""
    t = subject.workflow.move(row["state"], step, fields)
    return await _carry_out(conn, subject, actor, row, t, fields, body=body, clock_overrides=clock_overrides,
                            event_data=event_data)


async def _carry_out(
    conn: asyncpg.Connection, subject: Subject, actor: Actor, row: Any, t: Transition, fields: Mapping[str, Any], *,
    body: str | None, clock_overrides: Mapping[str, Any] | None, event_data: Mapping[str, Any] | None,
) -> Any:
    if t.back:
        t = await _way_back(conn, subject, row, t)
    extra = {column: fields[name] for name, column in subject.field_columns.items() if fields.get(name)}
    sets = "".join(f", {name} = ${i}" for i, name in enumerate(extra, start=5))
    # Compare-and-set on the state: a concurrent step that got there first makes this one a 409, never a lost update.
    updated = await conn.fetchrow(
        f"update {subject.table} set state = $2, updated_at = now(){_stamp(subject)}{sets} "
        "where id = $1 and state = $3 returning *",
        row["id"], t.target, row["state"], list(subject.workflow.terminal), *extra.values())
    if updated is None:
        raise conflict("Someone else changed this item meanwhile; reload it.")
    now = datetime.now(UTC)
    for code in t.stops:
        await stop_clock(conn, row["id"], code, now)
    if t.target in subject.workflow.not_applicable_after:
        await end_open_clocks(conn, row["id"], now, subject.workflow.not_applicable_after[t.target])
    if t.starts and clock_overrides is None:
        clock_overrides = await clock_settings(conn, updated["office_id"], subject.module)
    for code in t.starts:
        if await subject.clock_applies(conn, row, code):
            # A clock the subject ran before (a reopened item's result reply) starts its next occurrence.
            await start_next(conn, office_id=updated["office_id"], module=subject.module, subject_id=row["id"],
                             code=code, started_at=now, overrides=(clock_overrides or {}).get(code))
    data = {"from": row["state"], "to": t.target, **(event_data if event_data is not None else
                                                      {k: v for k, v in fields.items() if v})}
    await add_event(conn, subject.module, row["id"], actor, f"step.{t.name}", public=t.public, body=body, data=data)
    await record(conn, actor, f"{subject.kind}.{t.name}", office_id=updated["office_id"], object_type=subject.kind,
                 object_id=row["id"], detail={"from": row["state"], "to": t.target})
    await subject.notify(conn, updated, f"{subject.kind}.{t.name}", t.public)
    return updated


async def _way_back(conn: asyncpg.Connection, subject: Subject, row: Any, t: Transition) -> Transition:
    """A move back goes to the state the subject left for its present one (the timeline's last step into it)."""
    prev = await conn.fetchval(
        "select data->>'from' from timeline_events where subject_id = $1 and module = $2 and type like 'step.%' "
        "and data->>'to' = $3 order by id desc limit 1", row["id"], subject.module, row["state"])
    if prev is None or prev == row["state"] or prev not in subject.workflow.states:
        return t
    return msgspec.structs.replace(t, target=prev)


async def clock_settings(conn: asyncpg.Connection, office_id: UUID, module: str) -> dict[str, Any]:
    """The office's day-type and lead-time settings per clock of a module (its config `clocks`)."""
    return await conn.fetchval("select config->'clocks' from office_modules where office_id = $1 and module = $2",
                               office_id, module) or {}


class ProposalOut(Output):
    """A step waiting for approval: who proposed it, which approval is next, what was decided so far."""

    id: UUID
    step: str
    status: str
    proposed_by: str
    next_action: str | None
    fields: dict[str, Any]
    body: str | None
    decisions: list[dict[str, Any]]
    created_at: datetime
    decided_at: datetime | None


def proposal_out(subject: Subject, r: Any) -> ProposalOut:
    """A proposal row as the apps see it."""
    nxt = next_approval(subject.workflow.transitions[r["step"]].approvals, r["stage"], r["status"])
    return ProposalOut(id=r["id"], step=r["step"], status=r["status"], proposed_by=r["proposed_by"], next_action=nxt,
                       fields=r["fields"], body=r["body"], decisions=r["decisions"], created_at=r["created_at"],
                       decided_at=r["decided_at"])


async def pending_proposal(conn: asyncpg.Connection, subject_id: UUID) -> Any:
    """The subject's proposal waiting for a decision, or None."""
    return await conn.fetchrow("select * from step_proposals where subject_id = $1 and status = 'pending'", subject_id)


async def propose(conn: asyncpg.Connection, subject: Subject, actor: Actor, row: Any, step: str,
                  fields: Mapping[str, Any], *, body: str | None = None) -> Any:
    """Propose a step that needs approval; it waits, visible on the subject, until decided. Returns the proposal."""
    t = subject.workflow.move(row["state"], step, fields)
    if not t.approvals:
        raise conflict(f"{step} needs no approval; take it directly.")
    proposal = await conn.fetchrow(
        """
        insert into step_proposals (module, subject_id, office_id, step, fields, body, proposed_by)
        values ($1, $2, $3, $4, $5, $6, $7) on conflict (subject_id) where status = 'pending' do nothing
        returning *
        """,
        subject.module, row["id"], row["office_id"], step, dict(fields), body, actor.id)
    if proposal is None:
        raise conflict("Another proposal for this item is waiting for a decision.")
    data = {"proposalId": str(proposal["id"]), "step": step, "next": t.approvals[0]}
    await add_event(conn, subject.module, row["id"], actor, "proposal.created", public=False, body=body, data=data)
    await record(conn, actor, f"{subject.kind}.proposal.created", office_id=row["office_id"], object_type=subject.kind,
                 object_id=row["id"], detail=data)
    await subject.notify(conn, row, f"{subject.kind}.proposal.created", False)
    return proposal


async def decide(
    conn: asyncpg.Connection, subject: Subject, actor: Actor, actions: frozenset[str], row: Any, proposal_id: UUID,
    decision: Decision, *, reason: str | None = None, clock_overrides: Mapping[str, Any] | None = None,
) -> tuple[Any, Any]:
    """Approve (the next approval in the chain; the last one carries the step out), return with a reason, or
    withdraw (the proposer only). Returns (proposal, subject row as it now stands)."""
    p = await conn.fetchrow("select * from step_proposals where id = $1 and subject_id = $2 for update",
                            proposal_id, row["id"])
    if p is None:
        raise not_found("No such proposal.")
    if p["status"] != "pending":
        raise conflict(f"The proposal is already {p['status']}.")
    t = subject.workflow.transitions[p["step"]]
    chain, stage = t.approvals, p["stage"]
    status = rule_on(chain, stage, proposed_by=p["proposed_by"], earlier=(d["by"] for d in p["decisions"]),
                     by=actor.id, actions=actions, decision=decision, reason=reason)
    entry = {"by": actor.id, "decision": decision, "action": None if decision == "withdraw" else chain[stage],
             "reason": reason, "at": datetime.now(UTC).isoformat()}
    p = await conn.fetchrow(
        """
        update step_proposals set stage = stage + $2, status = $3, decisions = decisions || $4::jsonb,
            decided_at = case when $3 = 'pending' then null else now() end
        where id = $1 returning *
        """,
        proposal_id, 1 if decision == "approve" else 0, status, [entry])
    data = {"proposalId": str(proposal_id), "step": t.name, "decision": decision, "reason": reason}
    await add_event(conn, subject.module, row["id"], actor, f"proposal.{decision}", public=False, body=reason,
                    data=data)
    await record(conn, actor, f"{subject.kind}.proposal.{decision}", office_id=row["office_id"],
                 object_type=subject.kind, object_id=row["id"], detail=data)
    if status == "approved":
        # The move is checked again against the state as it is now: the subject may have moved meanwhile.
        t = subject.workflow.move(row["state"], t.name, p["fields"])
        row = await _carry_out(conn, subject, actor, row, t, p["fields"], body=p["body"],
                               clock_overrides=clock_overrides, event_data=None)
    else:
        await subject.notify(conn, row, f"{subject.kind}.proposal.{decision}", False)
    return p, row


async def take_step(
    conn: asyncpg.Connection, subject: Subject, actor: Actor, row: Any, step: str, fields: Mapping[str, Any], *,
    body: str | None = None, clock_overrides: Mapping[str, Any] | None = None,
) -> Any:
    """A step as a caller asks for it: proposed when its transition needs approval, else applied. Returns the row."""
    t = subject.workflow.move(row["state"], step, fields)
    if t.approvals:
        await propose(conn, subject, actor, row, step, fields, body=body)
        return row
    return await _carry_out(conn, subject, actor, row, t, fields, body=body, clock_overrides=clock_overrides,
                            event_data=None)
