"""Invitations to open days, public hearings, inspections, court observation and PIL evaluations: the invited answer
in the app, staff record attendance, those who attended leave their opinions. Each function runs in the caller's
transaction with its timeline entry and audit record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from api.errors import ErrorCode, ProblemError, conflict
from auth.audit import Actor, record
from modules.clocks.store import start_clock, stop_clock
from modules.kernel import steps
from modules.kernel.steps import Subject, clock_settings
from modules.kernel.timeline import add_event
from modules.liaison.rules import INVITATION_WORKFLOW, NOTICE_CLOCK
from modules.liaison.suggestions import tell

if TYPE_CHECKING:
    import asyncpg

    from modules.liaison.schemas import InvitationIn

__all__ = ("SUBJECT", "attendance", "create", "invite_more", "opinion", "respond", "step")
MODULE = "liaison"


async def _notify(conn: asyncpg.Connection, row: Any, event: str, public: bool,
                  extra: dict[str, Any] | None = None) -> None:
    await tell(conn, row["office_id"], None, {"invitationId": str(row["id"]), "event": event, **(extra or {})})


SUBJECT = Subject(module=MODULE, table="liaison_invitations", kind="invitation", workflow=INVITATION_WORKFLOW,
                  notify=_notify, listing={"handler_id": "t.created_by", "department": "null::text",
                                           "ref": "t.kind", "title": "t.title"})


async def _active(conn: asyncpg.Connection, office_id: UUID, ids: list[UUID]) -> list[Any]:
    """The named representatives, each active on the office's register (422 naming the field otherwise)."""
    wanted = sorted(set(ids))
    reps = await conn.fetch("select id, user_id from liaison_representatives where id = any($1::uuid[]) "
                            "and office_id = $2 and active", wanted, office_id)
    if len(reps) != len(wanted):
        raise ProblemError(ErrorCode.UNPROCESSABLE, "Some invited are not active on this office's register.",
                           errors=[{"field": "representativeIds", "message": "unknown or inactive representative"}])
    return list(reps)


async def _invite(conn: asyncpg.Connection, actor: Actor, row: Any, reps: list[Any], event: str) -> int:
    """Send the invitations to those not yet invited; for a public hearing the notice clock (one occurrence per
    batch) counts back from the hearing and stops as they go out, on time or late (flow monitoring counts the late
    ones). How many were newly invited."""
    now = datetime.now(UTC)
    added = await conn.fetch(
        "insert into liaison_invitees (invitation_id, representative_id) select $1, unnest($2::uuid[]) "
        "on conflict do nothing returning representative_id", row["id"], [r["id"] for r in reps])
    new = {a["representative_id"] for a in added}
    data: dict[str, Any] = {"invited": len(new)}
    if row["kind"] == "hearing" and new:
        last = await conn.fetchval("select max(occurrence) from clocks where subject_id = $1 and code = $2",
                                   row["id"], NOTICE_CLOCK)
        await start_clock(conn, office_id=row["office_id"], module=MODULE, subject_id=row["id"], code=NOTICE_CLOCK,
                          started_at=now, event_at=row["starts_at"], occurrence=(last or 0) + 1,
                          overrides=(await clock_settings(conn, row["office_id"], MODULE)).get(NOTICE_CLOCK))
        notice = await stop_clock(conn, row["id"], NOTICE_CLOCK, now)
        data["notice"] = notice.status if notice else None
    await add_event(conn, MODULE, row["id"], actor, event, public=False, data=data)
    await record(conn, actor, f"invitation.{event}", office_id=row["office_id"], object_type="invitation",
                 object_id=row["id"], detail={"kind": row["kind"], **data})
    for r in reps:
        if r["id"] in new and r["user_id"] is not None:
            await tell(conn, row["office_id"], r["user_id"], {"invitationId": str(row["id"]),
                                                              "event": "invitation.created"})
    return len(new)


async def create(conn: asyncpg.Connection, actor: Actor, office_id: UUID, data: InvitationIn) -> Any:
    """An event with its invited. For a public hearing the notice clock records whether its panellists were told at
    least 3 days before it."""
    now = datetime.now(UTC)
    if data.starts_at.tzinfo is None or data.starts_at <= now or data.starts_at > now + timedelta(days=730):
        raise ProblemError(ErrorCode.VALIDATION_FAILED, "startsAt must be in the next two years, with a zone.",
                           errors=[{"field": "startsAt", "message": "future time with a time zone"}])
    reps = await _active(conn, office_id, data.representative_ids)
    row = await conn.fetchrow(
        """
        insert into liaison_invitations (office_id, kind, title, place, body, starts_at, capacity, state, created_by)
        values ($1, $2, $3, $4, $5, $6, $7, 'open', $8) returning *
        """,
        office_id, data.kind, data.title, data.place, data.body, data.starts_at, data.capacity, UUID(actor.id))
    await _invite(conn, actor, row, reps, "created")
    return row


async def invite_more(conn: asyncpg.Connection, actor: Actor, row: Any, ids: list[UUID]) -> int:
    """Invite more representatives to an open event still ahead (those already invited are left as they are)."""
    if row["state"] != "open" or row["starts_at"] <= datetime.now(UTC):
        raise conflict("Only an open event still ahead takes more invitations.")
    return await _invite(conn, actor, row, await _active(conn, row["office_id"], ids), "invited")


async def respond(conn: asyncpg.Connection, actor: Actor, row: Any, rep: Any, *, response: str) -> None:
    """Accept or decline while the event is open and ahead; accepting a full event is refused (409). The
    invitation row is locked by the caller, so two acceptances of the last seat serialise."""
    if row["state"] != "open" or row["starts_at"] <= datetime.now(UTC):
        raise conflict("This invitation can no longer be answered.")
    if response == "accept":
        taken = await conn.fetchval("select count(*) from liaison_invitees where invitation_id = $1 "
                                    "and response = 'accepted' and representative_id <> $2", row["id"], rep["id"])
        if taken >= row["capacity"]:
            raise conflict("The event is full.", capacity=row["capacity"])
    answer = "accepted" if response == "accept" else "declined"
    await conn.execute("update liaison_invitees set response = $3, responded_at = now() "
                       "where invitation_id = $1 and representative_id = $2", row["id"], rep["id"], answer)
    await add_event(conn, MODULE, row["id"], actor, f"invitation.{answer}", public=False,
                    data={"representativeId": str(rep["id"])})
    await record(conn, actor, f"invitation.{answer}", office_id=row["office_id"], object_type="invitation",
                 object_id=row["id"])
    await _notify(conn, row, f"invitation.{answer}", False)


async def attendance(conn: asyncpg.Connection, actor: Actor, row: Any, *, attended: list[UUID]) -> None:
    """Who came, once the event has begun: everyone listed must have accepted; the others who accepted are
    recorded absent."""
    if row["state"] == "cancelled" or row["starts_at"] > datetime.now(UTC):
        raise conflict("Attendance is recorded once the event has begun.")
    accepted = {r["representative_id"] for r in await conn.fetch(
        "select representative_id from liaison_invitees where invitation_id = $1 and response = 'accepted'",
        row["id"])}
    if not set(attended) <= accepted:
        raise ProblemError(ErrorCode.UNPROCESSABLE, "Only representatives who accepted can be recorded present.",
                           errors=[{"field": "attended", "message": "not an accepted invitee"}])
    await conn.execute("update liaison_invitees set attended = representative_id = any($2::uuid[]) "
                       "where invitation_id = $1 and response = 'accepted'", row["id"], list(set(attended)))
    data = {"attended": len(set(attended)), "absent": len(accepted - set(attended))}
    await add_event(conn, MODULE, row["id"], actor, "attendance", public=False, data=data)
    await record(conn, actor, "invitation.attendance", office_id=row["office_id"], object_type="invitation",
                 object_id=row["id"], detail=data)


async def step(conn: asyncpg.Connection, actor: Actor, row: Any, *, name: str, reason: str | None) -> Any:
    """`hold` once the event has begun, or `cancel` (with a reason); through the kernel's apply."""
    if name == "hold" and row["starts_at"] > datetime.now(UTC):
        raise conflict("An event is marked held once it has begun.")
    return await steps.apply(conn, SUBJECT, actor, row, name, {"reason": reason}, body=reason)


async def opinion(conn: asyncpg.Connection, actor: Actor, row: Any, rep: Any, invitee: Any, *, text: str) -> None:
    """A representative who attended leaves an opinion (once; a second one is refused)."""
    if invitee["attended"] is not True:
        raise conflict("Opinions are left by those recorded as present.")
    if invitee["opinion"] is not None:
        raise conflict("You already left an opinion on this event.")
    await conn.execute("update liaison_invitees set opinion = $3, opinion_at = now() "
                       "where invitation_id = $1 and representative_id = $2", row["id"], rep["id"], text)
    await add_event(conn, MODULE, row["id"], actor, "opinion", public=False, body=text,
                    data={"representativeId": str(rep["id"])})
    await record(conn, actor, "invitation.opinion", office_id=row["office_id"], object_type="invitation",
                 object_id=row["id"])
    await _notify(conn, row, "invitation.opinion", False)
