"""Invitations to events and bulletins, as the office's staff run them. Another office's answer 404."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from api.errors import problem_docs
from api.pagination import Limit, Page, decode_cursor
from api.state import AppState
from auth.principal import current_principal
from modules.liaison import bulletins, invitations, queries
from modules.liaison.routes.common import command, locked, nothing
from modules.liaison.schemas import (
    AttendanceIn,
    InvitationIn,
    InvitationKind,
    InvitationOut,
    InvitationState,
    InvitationStepIn,
    InviteesIn,
    LiaisonBulletinIn,
    LiaisonBulletinOut,
)

if TYPE_CHECKING:
    import asyncpg

    from auth.audit import Actor
    from auth.principal import Principal

__all__ = ("BulletinController", "InvitationController")


class InvitationController(Controller):
    """Open days, public hearings, inspections, court observation and PIL evaluations."""

    path = "/staff/liaison/invitations"
    tags = ["liaison"]
    security = [{"bearer": []}]

    @post("/", operation_id="liaisonInvitationCreate", summary="Invite representatives to an event",
          opt={"location": "/api/v1/staff/liaison/invitations/{id}",
               "action": "liaison.invitation.manage", "idempotency": "required"},
          responses=problem_docs(400, 401, 403, 422), status_code=HTTP_201_CREATED)
    async def create(self, request: Request[Any, Any, Any], state: AppState,
                     data: JSONBody[InvitationIn]) -> Response[InvitationOut]:
        """Hearing panellists must be invited at least 3 days ahead (422 otherwise). Idempotency-Key required."""
        async def act(conn: asyncpg.Connection, _: Any, actor: Actor, p: Principal) -> tuple[int, Any]:
            row = await invitations.create(conn, actor, p.office, data)
            return 201, await queries.invitation_read(conn, row["id"], row["office_id"])
        return await command(request, state, data, nothing, act, required=True)

    @get("/", operation_id="liaisonInvitationList", summary="The office's events", opt={"action": "liaison.read"},
         responses=problem_docs(400, 401, 403))
    async def list_items(self, request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
                         limit: FromQuery[Limit] = 50, kind: FromQuery[InvitationKind | None] = None,
                         item_state: Annotated[InvitationState | None, QueryParameter(name="state")] = None,
                         ) -> Page[InvitationOut]:
        """Newest first; by kind and state; accepted counts (invitees in the single view)."""
        p = current_principal(request)
        after = decode_cursor(cursor)
        async with state.db.connection() as conn:
            return await queries.invitations(conn, p.office, kind=kind, state=item_state,
                                             after=after, limit=limit)

    @get("/{invitation_id:uuid}", operation_id="liaisonInvitationGet", summary="One event with its invitees",
         opt={"action": "liaison.read"}, responses=problem_docs(400, 401, 403, 404))
    async def get_item(self, request: Request[Any, Any, Any], state: AppState,
                       invitation_id: FromPath[UUID]) -> InvitationOut:
        """Answers, attendance and opinions of every invitee."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            return await queries.invitation_read(conn, invitation_id, p.office_id)

    @post("/{invitation_id:uuid}/invitees", operation_id="liaisonInvitationInviteMore",
          summary="Invite more representatives", opt={"action": "liaison.invitation.manage",
                                                      "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=200)
    async def invite_more(self, request: Request[Any, Any, Any], state: AppState, invitation_id: FromPath[UUID],
                          data: JSONBody[InviteesIn]) -> Response[InvitationOut]:
        """While the event is open and ahead; for a hearing each batch has its notice deadline, 3 days before."""
        async def act(conn: asyncpg.Connection, row: Any, actor: Actor, p: Principal) -> tuple[int, Any]:
            await invitations.invite_more(conn, actor, row, data.representative_ids)
            return 200, await queries.invitation_read(conn, row["id"], row["office_id"])
        return await command(request, state, data, locked(queries.invitation, invitation_id), act)

    @post("/{invitation_id:uuid}/attendance", operation_id="liaisonInvitationAttendance",
          summary="Record who attended", opt={"action": "liaison.invitation.manage", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=200)
    async def attendance(self, request: Request[Any, Any, Any], state: AppState, invitation_id: FromPath[UUID],
                         data: JSONBody[AttendanceIn]) -> Response[InvitationOut]:
        """Once the event has begun; every other invitee who accepted is recorded absent."""
        async def act(conn: asyncpg.Connection, row: Any, actor: Actor, p: Principal) -> tuple[int, Any]:
            await invitations.attendance(conn, actor, row, attended=data.attended)
            return 200, await queries.invitation_read(conn, row["id"], row["office_id"])
        return await command(request, state, data, locked(queries.invitation, invitation_id), act)

    @post("/{invitation_id:uuid}/steps", operation_id="liaisonInvitationStep", summary="Mark held, or cancel",
          opt={"action": "liaison.invitation.manage", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409), status_code=200)
    async def step(self, request: Request[Any, Any, Any], state: AppState, invitation_id: FromPath[UUID],
                   data: JSONBody[InvitationStepIn]) -> Response[InvitationOut]:
        """`hold` once the event has begun; `cancel` needs a reason."""
        async def act(conn: asyncpg.Connection, row: Any, actor: Actor, p: Principal) -> tuple[int, Any]:
            row = await invitations.step(conn, actor, row, name=data.step, reason=data.reason)
            return 200, await queries.invitation_read(conn, row["id"], row["office_id"])
        return await command(request, state, data, locked(queries.invitation, invitation_id), act)


class BulletinController(Controller):
    """Bulletins 情况通报 to the office's representatives."""

    path = "/staff/liaison/bulletins"
    tags = ["liaison"]
    security = [{"bearer": []}]

    @post("/", operation_id="liaisonBulletinPublish", summary="Publish a bulletin",
          opt={"location": "/api/v1/staff/liaison/bulletins/{id}",
               "action": "liaison.bulletin.publish", "idempotency": "required"},
          responses=problem_docs(400, 401, 403), status_code=HTTP_201_CREATED)
    async def publish(self, request: Request[Any, Any, Any], state: AppState,
                      data: JSONBody[LiaisonBulletinIn]) -> Response[LiaisonBulletinOut]:
        """To all representatives of the office, or its deputies or members (Idempotency-Key required)."""
        async def act(conn: asyncpg.Connection, _: Any, actor: Actor, p: Principal) -> tuple[int, Any]:
            row = await bulletins.publish(conn, actor, p.office, data)
            return 201, await queries.bulletin_read(conn, row["id"], row["office_id"])
        return await command(request, state, data, nothing, act, required=True)

    @get("/", operation_id="liaisonBulletinList", summary="The office's bulletins", opt={"action": "liaison.read"},
         responses=problem_docs(400, 401, 403))
    async def list_items(self, request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
                         limit: FromQuery[Limit] = 50) -> Page[LiaisonBulletinOut]:
        """Newest first, each with who has read it."""
        p = current_principal(request)
        after = decode_cursor(cursor)
        async with state.db.connection() as conn:
            return await queries.bulletins(conn, p.office, after=after, limit=limit)

    @get("/{bulletin_id:uuid}", operation_id="liaisonBulletinGet", summary="One bulletin with its read receipts",
         opt={"action": "liaison.read"}, responses=problem_docs(400, 401, 403, 404))
    async def get_item(self, request: Request[Any, Any, Any], state: AppState,
                       bulletin_id: FromPath[UUID]) -> LiaisonBulletinOut:
        """Who has read it, first reading first."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            return await queries.bulletin_read(conn, bulletin_id, p.office_id)
