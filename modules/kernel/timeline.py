"""The timeline of every subject of every module: each state change, reply, note, assignment and added material."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from api.schema import Output

if TYPE_CHECKING:
    import asyncpg

    from auth.audit import Actor

__all__ = ("EVENT_TYPES", "EventOut", "add_event", "declare_event_types", "events_out", "steps_only", "timeline")

# Every type a timeline entry can have (type -> label for people): the spec publishes them as an enum, so apps can
# switch on them, and `add_event` refuses any other. Modules declare theirs in their manifest; `step.<name>` is
# declared for each transition of a registered workflow.
EVENT_TYPES: dict[str, str] = {}


def declare_event_types(types: Mapping[str, str]) -> None:
    """Add timeline event types (type -> label). Modules may share a type (`step.close`); each keeps its own
    label in its manifest, the first one declared stands here."""
    for type_, label in types.items():
        EVENT_TYPES.setdefault(type_, label)


declare_event_types({
    "attachment": "上传附件", "linked_to": "转为其他事项", "linked_from": "由其他事项转来",
    "proposal.created": "提请审批", "proposal.approve": "审批同意", "proposal.return": "退回",
    "proposal.withdraw": "撤回提请",
})


class EventOut(Output):
    """One entry of a timeline."""

    at: datetime
    type: str
    body: str | None
    public: bool
    data: dict[str, Any] = {}


async def add_event(conn: asyncpg.Connection, module: str, subject_id: UUID, actor: Actor, type_: str, *,
                    public: bool, body: str | None = None, data: dict[str, Any] | None = None) -> None:
    """Append to a subject's timeline; the type must be declared (`declare_event_types`)."""
    if type_ not in EVENT_TYPES:
        raise ValueError(f"undeclared timeline event type {type_!r}: declare it in the module's manifest")
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
    return events_out(rows, public_only=public_only)


async def steps_only(conn: asyncpg.Connection, subject_id: UUID) -> list[EventOut]:
    """How a subject moved, for someone told nothing of its content: its creation and each step, by kind and date,
    without the text or data (reasons, names, findings) the entries carry."""
    rows = await conn.fetch(
        "select at, type, null::text as body, public, data from timeline_events where subject_id = $1 "
        "and (type = 'created' or type like 'step.%') order by id", subject_id)
    return events_out(rows, public_only=True)


def events_out(rows: Iterable[Any], *, public_only: bool) -> list[EventOut]:
    """Timeline rows already read (oldest first) as their viewer sees them."""
    return [EventOut(at=r["at"], type=r["type"], body=r["body"], public=r["public"],
                     data={} if public_only else r["data"]) for r in rows]
