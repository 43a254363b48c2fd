"""Consultations 磋商 from both sides, and the agency's list of everything open with the office."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from api.errors import problem_docs
from api.idempotency import run_once
from api.pagination import Limit, Page, decode_cursor, page_of
from api.state import AppState
from auth.audit import actor_from
from auth.principal import current_principal
from modules.kernel.partner_items import PartnerItem
from modules.partners import consultations, queries
from modules.partners.access import caller_scope, client_of, partner_only
from modules.partners.schemas import (
    CancelIn,
    ConsultationIn,
    ConsultationOut,
    MinutesIn,
    OfficeConsultationIn,
    SlotIn,
)
from modules.partners.spec import partner_document
from modules.registry import manifests

if TYPE_CHECKING:
    import asyncpg

__all__ = ("OpenItemsController", "PartnerConsultationController", "StaffConsultationController", "partner_openapi")

ConsultationState = Literal["proposed", "confirmed", "held", "cancelled"]


class _Consultations(Controller):
    side: str

    async def _command(self, request: Request[Any, Any, Any], state: AppState, consultation_id: UUID, data: Any,
                       act: Any) -> Response[ConsultationOut]:
        p = current_principal(request)
        scope = caller_scope(request)

        async def work(conn: asyncpg.Connection, row: Any) -> tuple[int, ConsultationOut]:
            await act(conn, row, actor_from(request, p))
            return 200, consultations.view(await queries.consultation(conn, consultation_id, **scope))
        return await run_once(state.db, request, p.sub, data, work, required=False,
                              authorize=lambda conn: queries.consultation(conn, consultation_id, lock=True, **scope))

    async def _propose(self, request: Request[Any, Any, Any], state: AppState, data: ConsultationIn,
                       client_id: str | None) -> Response[ConsultationOut]:
        p = current_principal(request)
        scope = caller_scope(request)

        async def work(conn: asyncpg.Connection) -> tuple[int, ConsultationOut]:
            client = client_of(request) if client_id is None else \
                await queries.client_in_office(conn, client_id, p.office_id)
            row = await consultations.propose(conn, actor_from(request, p), client=client, side=self.side, data=data)
            return HTTP_201_CREATED, consultations.view(await queries.consultation(conn, row["id"], **scope))
        return await run_once(state.db, request, p.sub, data, work)

    async def _list(self, request: Request[Any, Any, Any], state: AppState, cursor: str | None, limit: int,
                    item_state: str | None) -> Page[ConsultationOut]:
        async with state.db.connection() as conn:
            rows = await queries.consultation_page(conn, state=item_state, after=decode_cursor(cursor), limit=limit,
                                                   **caller_scope(request))
        return page_of(rows, limit, consultations.view, lambda r: (r["created_at"], r["id"]))

    async def _get(self, request: Request[Any, Any, Any], state: AppState, consultation_id: UUID) -> ConsultationOut:
        async with state.db.connection() as conn:
            return consultations.view(await queries.consultation(conn, consultation_id, **caller_scope(request)))

    async def _confirm(self, request: Request[Any, Any, Any], state: AppState, consultation_id: UUID,
                       data: SlotIn) -> Response[ConsultationOut]:
        async def act(conn: asyncpg.Connection, row: Any, actor: Any) -> None:
            await consultations.confirm(conn, actor, row, side=self.side, slot=data.slot)
        return await self._command(request, state, consultation_id, data, act)


class PartnerConsultationController(_Consultations):
    """The agency's consultations with the office."""

    path = "/partner/consultations"
    tags = ["partner"]
    security = [{"bearer": []}]
    guards = [partner_only]
    side = "partner"

    @post("/", operation_id="partnerConsultationPropose", summary="Propose a consultation with time slots",
          opt={"location": "/api/v1/partner/consultations/{id}",
               "action": "partner.consultation", "idempotency": "required"},
          responses=problem_docs(400, 401, 403, 422, 429), status_code=HTTP_201_CREATED)
    async def propose(self, request: Request[Any, Any, Any], state: AppState,
                      data: JSONBody[ConsultationIn]) -> Response[ConsultationOut]:
        """The office confirms one of the slots (Idempotency-Key required)."""
        return await self._propose(request, state, data, None)

    @get("/", operation_id="partnerConsultationList", summary="The agency's consultations",
         opt={"action": "partner.consultation"}, responses=problem_docs(400, 401, 403, 429))
    async def list_consultations(
        self, request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
        limit: FromQuery[Limit] = 50,
        item_state: Annotated[ConsultationState | None, QueryParameter(name="state")] = None,
    ) -> Page[ConsultationOut]:
        """Newest first; filter by state (unknown: 400). Cursor-paginated."""
        return await self._list(request, state, cursor, limit, item_state)

    @get("/{consultation_id:uuid}", operation_id="partnerConsultationGet", summary="One consultation",
         opt={"action": "partner.consultation"}, responses=problem_docs(400, 401, 403, 404, 429))
    async def get_consultation(self, request: Request[Any, Any, Any], state: AppState,
                               consultation_id: FromPath[UUID]) -> ConsultationOut:
        """With the confirmed time and, once held, the minutes."""
        return await self._get(request, state, consultation_id)

    @post("/{consultation_id:uuid}/confirmation", operation_id="partnerConsultationConfirm",
          summary="Confirm one of the office's slots",
          opt={"action": "partner.consultation", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409, 422, 429), status_code=200)
    async def confirm(self, request: Request[Any, Any, Any], state: AppState, consultation_id: FromPath[UUID],
                      data: JSONBody[SlotIn]) -> Response[ConsultationOut]:
        """Only a consultation the office proposed (409 otherwise), one of its slots (400 otherwise)."""
        return await self._confirm(request, state, consultation_id, data)


class StaffConsultationController(_Consultations):
    """The office's consultations with agencies."""

    path = "/staff/partner-consultations"
    tags = ["partners"]
    security = [{"bearer": []}]
    side = "office"

    @post("/", operation_id="consultationPropose", summary="Propose a consultation to an agency",
          opt={"location": "/api/v1/staff/partner-consultations/{id}",
               "action": "partner.consultation.handle", "idempotency": "required"},
          responses=problem_docs(400, 401, 403, 404, 422), status_code=HTTP_201_CREATED)
    async def propose(self, request: Request[Any, Any, Any], state: AppState,
                      data: JSONBody[OfficeConsultationIn]) -> Response[ConsultationOut]:
        """To one of the office's clients (404 for any other); it confirms a slot. Idempotency-Key required."""
        return await self._propose(request, state, data, data.client_id)

    @get("/", operation_id="consultationList", summary="The office's consultations",
         opt={"action": "partner.read"}, responses=problem_docs(400, 401, 403))
    async def list_consultations(
        self, request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
        limit: FromQuery[Limit] = 50,
        item_state: Annotated[ConsultationState | None, QueryParameter(name="state")] = None,
    ) -> Page[ConsultationOut]:
        """Newest first; filter by state (unknown: 400). Cursor-paginated."""
        return await self._list(request, state, cursor, limit, item_state)

    @get("/{consultation_id:uuid}", operation_id="consultationGet", summary="One consultation",
         opt={"action": "partner.read"}, responses=problem_docs(400, 401, 403, 404))
    async def get_consultation(self, request: Request[Any, Any, Any], state: AppState,
                               consultation_id: FromPath[UUID]) -> ConsultationOut:
        """With the confirmed time and, once held, the minutes."""
        return await self._get(request, state, consultation_id)

    @post("/{consultation_id:uuid}/confirmation", operation_id="consultationConfirm",
          summary="Confirm one of the agency's slots",
          opt={"action": "partner.consultation.handle", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=200)
    async def confirm(self, request: Request[Any, Any, Any], state: AppState, consultation_id: FromPath[UUID],
                      data: JSONBody[SlotIn]) -> Response[ConsultationOut]:
        """Only a consultation the agency proposed (409 otherwise)."""
        return await self._confirm(request, state, consultation_id, data)

    @post("/{consultation_id:uuid}/minutes", operation_id="consultationMinutes", summary="Share the minutes",
          opt={"action": "partner.consultation.handle", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=200)
    async def minutes(self, request: Request[Any, Any, Any], state: AppState, consultation_id: FromPath[UUID],
                      data: JSONBody[MinutesIn]) -> Response[ConsultationOut]:
        """Of a confirmed consultation; the agency sees them."""
        async def act(conn: asyncpg.Connection, row: Any, actor: Any) -> None:
            await consultations.hold(conn, actor, row, minutes=data.minutes)
        return await self._command(request, state, consultation_id, data, act)

    @post("/{consultation_id:uuid}/cancellation", operation_id="consultationCancel", summary="Cancel",
          opt={"action": "partner.consultation.handle", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=200)
    async def cancellation(self, request: Request[Any, Any, Any], state: AppState, consultation_id: FromPath[UUID],
                           data: JSONBody[CancelIn]) -> Response[ConsultationOut]:
        """With the reason the agency is told."""
        async def act(conn: asyncpg.Connection, row: Any, actor: Any) -> None:
            await consultations.cancel(conn, actor, row, reason=data.reason)
        return await self._command(request, state, consultation_id, data, act)


class OpenItemsController(Controller):
    """Everything the agency has open with the office, whichever module holds it."""

    path = "/partner/open-items"
    tags = ["partner"]
    security = [{"bearer": []}]
    guards = [partner_only]

    @get("/", operation_id="partnerOpenItems", summary="Everything open with the office, with deadlines",
         opt={"action": "partner.items.read"}, responses=problem_docs(400, 401, 403, 429))
    async def open_items(self, request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
                         limit: FromQuery[Limit] = 50) -> Page[PartnerItem]:
        """Transfers, involvements, documents, consultations and what other modules contribute (their manifests'
        `partner_items`), newest first, each with whose move it is and its deadline. Cursor-paginated."""
        client = client_of(request)
        after = decode_cursor(cursor)
        items: list[PartnerItem] = []
        async with state.db.connection() as conn:
            for m in manifests():
                if m.partner_items is not None:
                    items += await m.partner_items(conn, client, after, limit + 1)
        items.sort(key=lambda i: (i.created_at, i.id), reverse=True)
        return page_of(items[:limit + 1], limit, lambda i: i, lambda i: (i.created_at, i.id))


@get("/partner/openapi.json", operation_id="partnerOpenApi", tags=["partner"], include_in_schema=False,
     summary="The partner-only OpenAPI document", opt={"public": True, "module_switch": False})
async def partner_openapi(request: Request[Any, Any, Any]) -> Response[bytes]:
    """The partner routes and the token endpoint with their schemas and errors; public, like /schema."""
    # Built once per app from its own document (the app's routes never change while it runs).
    body = request.app.state.get("partner_openapi")
    if body is None:
        body = request.app.state.partner_openapi = msgspec.json.encode(partner_document(request.app), order="sorted")
    return Response(body, media_type="application/vnd.oai.openapi+json",
                    headers={"Cache-Control": "public, max-age=300"})
