"""Volunteers 益心为公: a signed-in citizen applies to an office, the office approves, and the volunteer submits
clues from the scene (photos and video as attachments) and follows them. Staff list and decide applications.
Citizens belong to no office, so the module's switch is checked against the office they name or their item's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from api.errors import problem_docs
from api.idempotency import run_once
from api.offices import office_by_code
from api.pagination import Limit, Page, decode_cursor
from api.state import AppState
from auth.audit import actor_from
from auth.principal import current_principal
from modules.kernel.files import UPLOAD_MAX_BODY, UPLOAD_OPT, AttachmentOut, upload
from modules.litigation import service, volunteers
from modules.litigation.routes.common import UploadForm
from modules.litigation.schemas import (
    VolunteerApply,
    VolunteerClueIn,
    VolunteerClueOut,
    VolunteerDecision,
    VolunteerItem,
    VolunteerOut,
    VolunteerState,
)

if TYPE_CHECKING:
    import asyncpg

__all__ = ("StaffVolunteerController", "VolunteerController")


async def _open_office(state: AppState, conn: asyncpg.Connection, code: str) -> Any:
    """An office by code that has the module on (404 for no such office, 403 `module_disabled` when it is off)."""
    office = await office_by_code(conn, code)
    await state.modules.require(office["id"], service.MODULE)
    return office


class VolunteerController(Controller):
    """A citizen as a volunteer: applications, clues, their fate."""

    path = "/me/litigation"
    tags = ["litigation"]
    security = [{"bearer": []}]

    @post("/volunteer-applications", operation_id="litigationVolunteerApply", summary="Apply to volunteer",
          opt={"location": "/api/v1/me/litigation/volunteer-applications",
               "action": "litigation.volunteer", "idempotency": "required"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=HTTP_201_CREATED)
    async def apply(self, request: Request[Any, Any, Any], state: AppState,
                    data: JSONBody[VolunteerApply]) -> Response[VolunteerOut]:
        """The office approves or turns down the application; the name is stored encrypted. Idempotency-Key
        required."""
        p = current_principal(request)

        async def work(conn: asyncpg.Connection) -> tuple[int, VolunteerOut]:
            office = await _open_office(state, conn, data.office)
            return 201, await volunteers.apply(conn, state.box, actor_from(request, p), user_id=p.account,
                                               office=office, name=data.name, area=data.area,
                                               expertise=data.expertise)
        return await run_once(state.db, request, p.sub, data, work)

    @get("/volunteer-applications", operation_id="litigationVolunteerApplications", summary="My applications",
         opt={"action": "litigation.volunteer"}, responses=problem_docs(401, 403))
    async def applications(self, request: Request[Any, Any, Any], state: AppState) -> list[VolunteerOut]:
        """One per office at most, newest first."""
        async with state.db.connection() as conn:
            return await volunteers.own_applications(conn, current_principal(request).account)

    @post("/clues", operation_id="litigationVolunteerClue", summary="Submit a clue from the scene",
          opt={"location": "/api/v1/me/litigation/clues/{id}",
               "action": "litigation.volunteer", "idempotency": "required"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=HTTP_201_CREATED)
    async def submit(self, request: Request[Any, Any, Any], state: AppState,
                     data: JSONBody[VolunteerClueIn]) -> Response[VolunteerClueOut]:
        """Only to an office that approved the volunteer (403 otherwise). Idempotency-Key required."""
        p = current_principal(request)

        async def work(conn: asyncpg.Connection) -> tuple[int, VolunteerClueOut]:
            office = await _open_office(state, conn, data.office)
            await volunteers.approved_at(conn, p.account, office["id"])
            row = await service.create_clue(
                conn, state.box, actor_from(request, p), office_id=office["id"], source="volunteer",
                domain=data.domain, title=data.title, description=data.description, address=data.place.address,
                latitude=data.place.latitude, longitude=data.place.longitude, public_interest=data.public_interest,
                responsible_party=data.responsible_party, volunteer_user=p.user_id)
            return 201, volunteers.clue_out(await volunteers.own_clue(conn, row["id"], p.user_id))
        return await run_once(state.db, request, p.sub, data, work)

    @get("/clues", operation_id="litigationVolunteerClues", summary="My clues", opt={"action": "litigation.volunteer"},
         responses=problem_docs(400, 401, 403))
    async def list_clues(self, request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
                         limit: FromQuery[Limit] = 20) -> Page[VolunteerClueOut]:
        """Newest first, each with what became of it. Cursor-paginated."""
        after = decode_cursor(cursor)
        async with state.db.connection() as conn:
            return await volunteers.own_clues(conn, current_principal(request).user_id, limit=limit, after=after)

    @get("/clues/{clue_id:uuid}", operation_id="litigationVolunteerClueGet", summary="One of my clues",
         opt={"action": "litigation.volunteer"}, responses=problem_docs(400, 401, 403, 404))
    async def get_clue(self, request: Request[Any, Any, Any], state: AppState,
                       clue_id: FromPath[UUID]) -> VolunteerClueOut:
        """Received, under evaluation, accepted (a case was opened), not accepted or referred: nothing internal."""
        async with state.db.connection() as conn:
            row = await volunteers.own_clue(conn, clue_id, current_principal(request).user_id)
            await state.modules.require(row["office_id"], service.MODULE)
            return volunteers.clue_out(row)

    @post("/clues/{clue_id:uuid}/attachments", operation_id="litigationVolunteerAttach",
          summary="Attach a photo or video from the scene", opt={"location": "/api/v1/me/litigation/clues/{clue_id}",
                                                                 "action": "litigation.volunteer", **UPLOAD_OPT},
          request_max_body_size=UPLOAD_MAX_BODY, responses=problem_docs(400, 401, 403, 404, 409, 413, 415, 422),
          status_code=HTTP_201_CREATED)
    async def attach(self, request: Request[Any, Any, Any], state: AppState, clue_id: FromPath[UUID],
                     data: UploadForm) -> Response[AttachmentOut]:
        """Multipart/form-data (field `file`); its time and place stay with staff. Refused once the clue is decided
        (409). Requires an Idempotency-Key."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            row = await volunteers.own_clue(conn, clue_id, p.user_id)
            await state.modules.require(row["office_id"], service.MODULE)
        return await upload(state, request, data, subject=service.CLUE, scope=p.sub, principal=p, row=row,
                            public=True, relock=lambda conn: volunteers.own_clue(conn, clue_id, p.user_id, lock=True))


class StaffVolunteerController(Controller):
    """The office's volunteer applications."""

    path = "/staff/litigation/volunteers"
    tags = ["litigation"]
    security = [{"bearer": []}]

    @get("/", operation_id="litigationVolunteerList", summary="The office's volunteers and applications",
         opt={"action": "litigation.volunteer.manage"}, responses=problem_docs(400, 401, 403))
    async def list_volunteers(
        self, request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
        limit: FromQuery[Limit] = 50,
        volunteer_state: Annotated[VolunteerState | None, QueryParameter(name="state")] = None,
    ) -> Page[VolunteerItem]:
        """Newest first; names masked. Cursor-paginated."""
        after = decode_cursor(cursor)
        async with state.db.connection() as conn:
            return await volunteers.list_volunteers(conn, state.box, current_principal(request).office_id,
                                                    state=volunteer_state, limit=limit, after=after)

    @post("/{volunteer_id:uuid}/decision", operation_id="litigationVolunteerDecide",
          summary="Approve or turn down an application",
          opt={"action": "litigation.volunteer.manage", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=200)
    async def decide(self, request: Request[Any, Any, Any], state: AppState, volunteer_id: FromPath[UUID],
                     data: JSONBody[VolunteerDecision]) -> Response[VolunteerItem]:
        """An approved volunteer may submit clues to the office; a rejected one may apply again."""
        p = current_principal(request)

        async def work(conn: asyncpg.Connection, row: Any) -> tuple[int, VolunteerItem]:
            return 200, await volunteers.decide(conn, state.box, actor_from(request, p), row,
                                                decision=data.decision, reason=data.reason)
        return await run_once(state.db, request, p.sub, data, work, required=False,
                              authorize=lambda conn: volunteers.staff_volunteer(conn, volunteer_id, p.office_id,
                                                                                lock=True))
