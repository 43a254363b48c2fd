"""Early involvement 提前介入 from the partner's side: ask, answer the office's request, follow and add to the
exchange. Each client sees only its own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from api.errors import invalid, problem_docs
from api.idempotency import run_once
from api.pagination import Limit, Page, decode_cursor, page_of
from api.state import AppState
from auth.audit import actor_from
from auth.principal import current_principal
from modules.partners import queries, service
from modules.partners.access import client_of, partner_only
from modules.partners.examples import InvolvementBody
from modules.partners.schemas import (
    InvolvementAnswerIn,
    InvolvementOut,
    InvolvementState,
    InvolvementSummary,
    MessageIn,
)
from modules.registry import module_config

if TYPE_CHECKING:
    import asyncpg

__all__ = ("PartnerInvolvementController", "involvement_list")

ACTION = "partner.involvement"


def involvement_list(rows: list[Any], limit: int) -> Page[InvolvementSummary]:
    """A page of involvements as lists show them (one query for the page)."""
    return page_of(rows, limit, service.involvement_summary, lambda r: (r["created_at"], r["id"]))


class PartnerInvolvementController(Controller):
    """The partner's early involvements with the office."""

    path = "/partner/involvements"
    tags = ["partner"]
    security = [{"bearer": []}]
    guards = [partner_only]

    async def _command(self, request: Request[Any, Any, Any], state: AppState, involvement_id: UUID, data: Any,
                       act: Any, *, status: int = 200) -> Response[InvolvementOut]:
        p = current_principal(request)
        client = client_of(request)

        async def work(conn: asyncpg.Connection, row: Any) -> tuple[int, InvolvementOut]:
            await act(conn, row, actor_from(request, p))
            row = await queries.involvement_read(conn, involvement_id, client_uuid=client["id"])
            return status, await service.involvement_view(conn, row)
        return await run_once(state.db, request, p.sub, data, work, required=status == HTTP_201_CREATED,
                              authorize=lambda conn: queries.involvement(conn, involvement_id,
                                                                         client_uuid=client["id"], lock=True))

    @post("/", operation_id="partnerInvolvementRequest", summary="Ask the office for early involvement",
          opt={"location": "/api/v1/partner/involvements/{id}",
               "action": ACTION, "idempotency": "required"}, responses=problem_docs(400, 401, 403, 409, 422, 429),
          status_code=HTTP_201_CREATED)
    async def request_involvement(self, request: Request[Any, Any, Any], state: AppState,
                                  data: InvolvementBody) -> Response[InvolvementOut]:
        """Case summary, reason, urgency; the office's answer is due within its policy for the urgency."""
        p = current_principal(request)
        client = client_of(request)

        async def work(conn: asyncpg.Connection) -> tuple[int, InvolvementOut]:
            row = await service.request_involvement(conn, actor_from(request, p), client=client,
                                                    initiated_by="partner", data=data, config=module_config(request))
            row = await queries.involvement_read(conn, row["id"], client_uuid=client["id"])
            return HTTP_201_CREATED, await service.involvement_view(conn, row)
        return await run_once(state.db, request, p.sub, data, work)

    @get("/", operation_id="partnerInvolvementList", summary="The client's early involvements",
         opt={"action": ACTION}, responses=problem_docs(400, 401, 403, 429))
    async def list_involvements(
        self, request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
        limit: FromQuery[Limit] = 50,
        item_state: Annotated[InvolvementState | None, QueryParameter(name="state")] = None,
    ) -> Page[InvolvementSummary]:
        """Newest first, both directions, with the exchange; filter by state (unknown: 400). Cursor-paginated."""
        async with state.db.connection() as conn:
            rows = await queries.involvement_page(conn, client_uuid=client_of(request)["id"], state=item_state,
                                                  after=decode_cursor(cursor), limit=limit)
        return involvement_list(rows, limit)

    @get("/{involvement_id:uuid}", operation_id="partnerInvolvementGet", summary="One early involvement",
         opt={"action": ACTION}, responses=problem_docs(400, 401, 403, 404, 429))
    async def get_involvement(self, request: Request[Any, Any, Any], state: AppState,
                              involvement_id: FromPath[UUID]) -> InvolvementOut:
        """The request, the answer, the prosecutor's opinions and the partner's messages."""
        async with state.db.connection() as conn:
            row = await queries.involvement_read(conn, involvement_id, client_uuid=client_of(request)["id"])
            return await service.involvement_view(conn, row)

    @post("/{involvement_id:uuid}/answer", operation_id="partnerInvolvementAnswer",
          summary="Answer the office's request", opt={"action": ACTION, "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409, 422, 429), status_code=200)
    async def answer(self, request: Request[Any, Any, Any], state: AppState, involvement_id: FromPath[UUID],
                     data: JSONBody[InvolvementAnswerIn]) -> Response[InvolvementOut]:
        """agree, or refuse with a reason; only a request the office made (409 otherwise)."""
        if data.decision == "refuse" and not data.reason:
            raise invalid("Refusing needs a reason.", ("reason", "required to refuse"))

        async def act(conn: asyncpg.Connection, row: Any, actor: Any) -> None:
            await service.answer(conn, actor, row, side="partner", step=data.decision,
                                 fields={"reason": data.reason})
        return await self._command(request, state, involvement_id, data, act)

    @post("/{involvement_id:uuid}/messages", operation_id="partnerInvolvementMessage",
          summary="Add a message to the exchange",
          opt={"location": "/api/v1/partner/involvements/{involvement_id}",
               "action": ACTION, "idempotency": "required"},
          responses=problem_docs(400, 401, 403, 404, 409, 422, 429), status_code=HTTP_201_CREATED)
    async def add_message(self, request: Request[Any, Any, Any], state: AppState, involvement_id: FromPath[UUID],
                          data: JSONBody[MessageIn]) -> Response[InvolvementOut]:
        """More facts, questions, the partner's progress; refused once concluded (Idempotency-Key required)."""
        async def act(conn: asyncpg.Connection, row: Any, actor: Any) -> None:
            await service.message(conn, actor, row, text=data.text)
        return await self._command(request, state, involvement_id, data, act, status=HTTP_201_CREATED)
