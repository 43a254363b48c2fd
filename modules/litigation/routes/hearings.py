"""Hearings 听证 and rectification evaluations: staff schedule them on a case of their office and write the record;
the deputies, members and volunteers invited see and answer their invitations from their own apps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from api.errors import problem_docs
from api.idempotency import run_once
from api.pagination import Limit, Page, decode_cursor
from api.state import AppState
from auth.audit import actor_from
from auth.principal import current_principal
from modules.litigation import hearings, service
from modules.litigation.queries import staff_case
from modules.litigation.schemas import (
    HearingIn,
    HearingInvitationAnswerIn,
    HearingOut,
    HearingRecordIn,
    MyInvitationOut,
)

if TYPE_CHECKING:
    import asyncpg

__all__ = ("HearingController", "InvitationController")


class HearingController(Controller):
    """A case's hearings and evaluations."""

    path = "/staff/litigation/cases/{case_id:uuid}/hearings"
    tags = ["litigation"]
    security = [{"bearer": []}]

    @post("/", operation_id="litigationHearingSchedule", summary="Schedule a hearing or an evaluation and invite",
          opt={"location": "/api/v1/staff/litigation/cases/{case_id}/hearings/{id}",
               "action": "litigation.handle", "idempotency": "required"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=HTTP_201_CREATED)
    async def schedule(self, request: Request[Any, Any, Any], state: AppState, case_id: FromPath[UUID],
                       data: JSONBody[HearingIn]) -> Response[HearingOut]:
        """A hearing has a panel (at least one panelist); an evaluation follows the agency's reply. Deputies and
        members of the office and its approved volunteers are invited by account id, anyone else by name (kept
        encrypted, shown masked). Idempotency-Key required."""
        p = current_principal(request)

        async def work(conn: asyncpg.Connection, row: Any) -> tuple[int, HearingOut]:
            return 201, await hearings.schedule(conn, state.box, actor_from(request, p), row, data)
        return await run_once(state.db, request, p.sub, data, work,
                              authorize=lambda conn: staff_case(conn, case_id, p.office_id, lock=True))

    @get("/", operation_id="litigationHearingList", summary="The case's hearings and evaluations",
         opt={"action": "litigation.read"}, responses=problem_docs(400, 401, 403, 404))
    async def list_hearings(self, request: Request[Any, Any, Any], state: AppState,
                            case_id: FromPath[UUID]) -> list[HearingOut]:
        """In the order they are scheduled, each with its invitations and answers."""
        async with state.db.connection() as conn:
            row = await staff_case(conn, case_id, current_principal(request).office_id)
            return await hearings.hearings(conn, state.box, row["id"])

    @get("/{hearing_id:uuid}", operation_id="litigationHearingGet", summary="One hearing or evaluation",
         opt={"action": "litigation.read"}, responses=problem_docs(400, 401, 403, 404))
    async def get_hearing(self, request: Request[Any, Any, Any], state: AppState, case_id: FromPath[UUID],
                          hearing_id: FromPath[UUID]) -> HearingOut:
        """With its invitations, answers and, once held, its record."""
        async with state.db.connection() as conn:
            row = await staff_case(conn, case_id, current_principal(request).office_id)
            return await hearings.hearing_of(conn, state.box, row["id"], hearing_id)

    @post("/{hearing_id:uuid}/record", operation_id="litigationHearingRecord", summary="Write the hearing record",
          opt={"action": "litigation.handle", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=200)
    async def write_record(self, request: Request[Any, Any, Any], state: AppState, case_id: FromPath[UUID],
                           hearing_id: FromPath[UUID], data: JSONBody[HearingRecordIn]) -> Response[HearingOut]:
        """Once it has begun (409 before), and once only."""
        p = current_principal(request)

        async def work(conn: asyncpg.Connection, row: Any) -> tuple[int, HearingOut]:
            return 200, await hearings.write_record(conn, state.box, actor_from(request, p), row, hearing_id,
                                                    data.record)
        return await run_once(state.db, request, p.sub, data, work, required=False,
                              authorize=lambda conn: staff_case(conn, case_id, p.office_id, lock=True))


class InvitationController(Controller):
    """A deputy's, member's or volunteer's invitations to hearings and evaluations."""

    path = "/me/litigation/invitations"
    tags = ["litigation"]
    security = [{"bearer": []}]

    @get("/", operation_id="litigationInvitationList", summary="My invitations",
         opt={"action": "litigation.hearing.answer"}, responses=problem_docs(400, 401, 403))
    async def list_invitations(self, request: Request[Any, Any, Any], state: AppState,
                               cursor: FromQuery[str | None] = None,
                               limit: FromQuery[Limit] = 20) -> Page[MyInvitationOut]:
        """Newest first: the office, what, when and where, and my answer. Cursor-paginated."""
        after = decode_cursor(cursor)
        async with state.db.connection() as conn:
            return await hearings.my_invitations(conn, current_principal(request).user_id, limit=limit, after=after)

    @post("/{invitation_id:uuid}/answer", operation_id="litigationInvitationAnswer", summary="Accept or decline",
          opt={"action": "litigation.hearing.answer", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=200)
    async def answer(self, request: Request[Any, Any, Any], state: AppState, invitation_id: FromPath[UUID],
                     data: JSONBody[HearingInvitationAnswerIn]) -> Response[MyInvitationOut]:
        """Until the hearing begins (409 after); another person's invitation answers 404."""
        p = current_principal(request)

        async def find(conn: asyncpg.Connection) -> Any:
            row = await hearings.my_invitation(conn, invitation_id, p.user_id, lock=True)
            # Citizens belong to no office: the switch of the inviting office is checked here.
            await state.modules.require(row["office_id"], service.MODULE)
            return row

        async def work(conn: asyncpg.Connection, row: Any) -> tuple[int, MyInvitationOut]:
            return 200, await hearings.answer(conn, actor_from(request, p), row, data)
        return await run_once(state.db, request, p.sub, data, work, required=False, authorize=find)
