"""Early involvement from the office's side: ask a partner, answer a partner's request and assign the prosecutor,
record opinions, conclude. Another office's involvement answers 404."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from api.errors import forbidden, invalid, problem_docs
from api.idempotency import run_once
from api.pagination import Limit, Page, decode_cursor
from api.state import AppState
from auth.audit import actor_from
from auth.principal import current_principal
from modules.complaints.routes.common import actions
from modules.kernel import steps
from modules.partners import queries, service
from modules.partners.routes.involvements import involvement_list
from modules.partners.schemas import (
    InvolvementOpinionIn,
    InvolvementOut,
    InvolvementState,
    InvolvementSummary,
    OfficeInvolvementIn,
    StaffAnswerIn,
)
from modules.registry import module_config

if TYPE_CHECKING:
    import asyncpg

    from auth.principal import Principal

__all__ = ("StaffInvolvementController",)


class StaffInvolvementController(Controller):
    """The office's early involvements with partner agencies."""

    path = "/staff/partner-involvements"
    tags = ["partners"]
    security = [{"bearer": []}]

    async def _command(self, request: Request[Any, Any, Any], state: AppState, involvement_id: UUID, data: Any,
                       act: Any, *, status: int = 200) -> Response[InvolvementOut]:
        p = current_principal(request)

        async def work(conn: asyncpg.Connection, row: Any) -> tuple[int, InvolvementOut]:
            await act(conn, row, actor_from(request, p), p)
            row = await queries.involvement_read(conn, involvement_id, office_id=p.office_id)
            return status, await service.involvement_view(conn, row)
        return await run_once(state.db, request, p.sub, data, work, required=status == HTTP_201_CREATED,
                              authorize=lambda conn: queries.involvement(conn, involvement_id,
                                                                         office_id=p.office_id, lock=True))

    @post("/", operation_id="involvementAskPartner", summary="Ask a partner for early involvement",
          opt={"location": "/api/v1/staff/partner-involvements/{id}",
               "action": "partner.involvement.handle", "idempotency": "required"},
          responses=problem_docs(400, 401, 403, 404, 422), status_code=HTTP_201_CREATED)
    async def ask(self, request: Request[Any, Any, Any], state: AppState,
                  data: JSONBody[OfficeInvolvementIn]) -> Response[InvolvementOut]:
        """To one of the office's partner clients by its client id; its answer is due within the office's policy."""
        p = current_principal(request)

        async def work(conn: asyncpg.Connection) -> tuple[int, InvolvementOut]:
            client = await queries.client_in_office(conn, data.client_id, p.office_id)
            row = await service.request_involvement(conn, actor_from(request, p), client=client,
                                                    initiated_by="office", data=data, config=module_config(request))
            row = await queries.involvement_read(conn, row["id"], office_id=p.office_id)
            return HTTP_201_CREATED, await service.involvement_view(conn, row)
        return await run_once(state.db, request, p.sub, data, work)

    @get("/", operation_id="involvementList", summary="The office's early involvements",
         opt={"action": "partner.read"}, responses=problem_docs(400, 401, 403))
    async def list_involvements(
        self, request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
        limit: FromQuery[Limit] = 50,
        item_state: Annotated[InvolvementState | None, QueryParameter(name="state")] = None,
    ) -> Page[InvolvementSummary]:
        """Newest first, both directions; filter by state (unknown: 400). Cursor-paginated."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            rows = await queries.involvement_page(conn, office_id=p.office_id, state=item_state,
                                                  after=decode_cursor(cursor), limit=limit)
        return involvement_list(rows, limit)

    @get("/{involvement_id:uuid}", operation_id="involvementGet", summary="One early involvement",
         opt={"action": "partner.read"}, responses=problem_docs(400, 401, 403, 404))
    async def get_involvement(self, request: Request[Any, Any, Any], state: AppState,
                              involvement_id: FromPath[UUID]) -> InvolvementOut:
        """The request, the answer and the exchange, as the partner sees it too."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            return await service.involvement_view(
                conn, await queries.involvement_read(conn, involvement_id, office_id=p.office_id))

    @post("/{involvement_id:uuid}/answer", operation_id="involvementAnswer",
          summary="Accept (assigning a prosecutor) or decline a partner's request",
          opt={"action": "partner.involvement.handle", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=200)
    async def answer(self, request: Request[Any, Any, Any], state: AppState, involvement_id: FromPath[UUID],
                     data: JSONBody[StaffAnswerIn]) -> Response[InvolvementOut]:
        """accept needs `prosecutorId` (a staff member of the office), decline a `reason`."""
        if data.decision == "accept" and data.prosecutor_id is None:
            raise invalid("Accepting assigns a prosecutor.", ("prosecutorId", "required to accept"))
        if data.decision == "decline" and not data.reason:
            raise invalid("Declining needs a reason.", ("reason", "required to decline"))

        async def act(conn: asyncpg.Connection, row: Any, actor: Any, p: Principal) -> None:
            await service.answer(conn, actor, row, side="office", step=data.decision,
                                 fields={"prosecutorId": data.prosecutor_id, "reason": data.reason})
        return await self._command(request, state, involvement_id, data, act)

    @post("/{involvement_id:uuid}/opinions", operation_id="involvementOpinion",
          summary="Record an opinion given to the partner",
          opt={"location": "/api/v1/staff/partner-involvements/{involvement_id}",
               "action": "partner.involvement.opinion", "idempotency": "required"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=HTTP_201_CREATED)
    async def opinion(self, request: Request[Any, Any, Any], state: AppState, involvement_id: FromPath[UUID],
                      data: JSONBody[InvolvementOpinionIn]) -> Response[InvolvementOut]:
        """By the assigned prosecutor (or one who handles involvements); the partner sees it in the exchange."""
        async def act(conn: asyncpg.Connection, row: Any, actor: Any, p: Principal) -> None:
            may_any = "partner.involvement.handle" in await actions(state, p)
            await service.opinion(conn, actor, row, user_id=p.user_id, text=data.text, may_any=may_any)
        return await self._command(request, state, involvement_id, data, act, status=HTTP_201_CREATED)

    @post("/{involvement_id:uuid}/conclusion", operation_id="involvementConclude", summary="Conclude",
          opt={"action": "partner.involvement.opinion", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409), status_code=200)
    async def conclude(self, request: Request[Any, Any, Any], state: AppState,
                       involvement_id: FromPath[UUID]) -> Response[InvolvementOut]:
        """The involvement ends (the case went on to review for arrest or prosecution, or was dropped)."""
        async def act(conn: asyncpg.Connection, row: Any, actor: Any, p: Principal) -> None:
            if row["prosecutor_id"] != p.user_id and "partner.involvement.handle" not in await actions(state, p):
                raise forbidden("Only the assigned prosecutor or a handler concludes it.")
            await steps.apply(conn, service.SUBJECT, actor, row, "conclude", {})
        return await self._command(request, state, involvement_id, None, act)
