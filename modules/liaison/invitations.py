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

__all__ = ("SUBJECT", "attendance", "create", "opinion", "respond", "step")
MODULE = "liaison"


async def _notify(conn: asyncpg.Connection, row: Any, event: str, public: bool,
                  extra: dict[str, Any] | None = None) -> None:
    await tell(conn, row["office_id"], None, {"invitationId": str(row["id"]), "event": event, **(extra or {})})


SUBJECT = Subject(module=MODULE, table="liaison_invitations", kind="invitation", workflow=INVITATION_WORKFLOW,
                  notify=_notify)


async def create(conn: asyncpg.Connection, actor: Actor, office_id: UUID, data: InvitationIn) -> Any:
    """An event with its invited. For a public hearing the notice clock records whether its panellists were told at
    least 3 days before it."""
    now = datetime.now(UTC)
    if data.starts_at.tzinfo is None or data.starts_at <= now or data.starts_at > now + timedelta(days=730):
        raise ProblemError(400, ErrorCode.VALIDATION_FAILED, "startsAt must be in the next two years, with a zone.",
                           errors=[{"field": "startsAt", "message": "future time with a time zone"}])
    wanted = sorted(set(data.representative_ids))
    reps = await conn.fetch("select id, user_id from liaison_representatives where id = any($1::uuid[]) "
                            "and office_id = $2 and active", wanted, office_id)
    if len(reps) != len(wanted):
        raise ProblemError(422, ErrorCode.UNPROCESSABLE, "Some invited are not active on this office's register.",
                           errors=[{"field": "representativeIds", "message": "unknown or inactive representative"}])
    row = await conn.fetchrow(
        """
        insert into liaison_invitations (office_id, kind, title, place, body, starts_at, capacity, state, created_by)
        values ($1, $2, $3, $4, $5, $6, $7, 'open', $8) returning *
        """,
        office_id, data.kind, data.title, data.place, data.body, data.starts_at, data.capacity, UUID(actor.id))
    await conn.executemany("insert into liaison_invitees (invitation_id, representative_id) values ($1, $2)",
                           [(row["id"], r["id"]) for r in reps])
    data_: dict[str, Any] = {"invited": len(reps)}
    if data.kind == "hearing":
        # Panellists are told at least 3 days before the hearing: the notice clock counts back from the event and
        # stops as the invitations go out now, on time or late (flow monitoring counts the late ones).
        await start_clock(conn, office_id=office_id, module=MODULE, subject_id=row["id"], code=NOTICE_CLOCK,
                          started_at=now, event_at=data.starts_at,
                          overrides=(await clock_settings(conn, office_id, MODULE)).get(NOTICE_CLOCK))
        notice = await stop_clock(conn, row["id"], NOTICE_CLOCK, now)
        data_["notice"] = notice.status if notice else None
    await add_event(conn, MODULE, row["id"], actor, "invited", public=False, data=data_)
    await record(conn, actor, "invitation.created", office_id=office_id, object_type="invitation",
                 object_id=row["id"], detail={"kind": data.kind, "invited": len(reps)})
    for r in reps:
        if r["user_id"] is not None:
            await tell(conn, office_id, r["user_id"], {"invitationId": str(row["id"]), "event": "invitation.created"})
    return row


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
        raise ProblemError(422, ErrorCode.UNPROCESSABLE, "Only representatives who accepted can be recorded present.",
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
