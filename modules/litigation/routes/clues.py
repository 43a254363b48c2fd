"""The office's clue registry 线索: registration from the field, conversion of a complaint, evaluation and the
chief's decision to open a case, decline or refer. Another office's clue answers 404."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED

from api.errors import problem_docs
from api.idempotency import run_once
from api.pagination import Limit, Page, decode_cursor
from api.state import AppState
from auth.audit import actor_from
from auth.principal import current_principal
from modules.kernel.files import (
    DOWNLOAD_RESPONSES,
    UPLOAD_MAX_BODY,
    UPLOAD_OPT,
    AttachmentOut,
)
from modules.litigation import service
from modules.litigation.queries import ClueFilter, clue_read, clue_view, list_clues, staff_clue
from modules.litigation.routes.common import UploadForm, actions, attach, command, original
from modules.litigation.rules import ClueSource, ClueState
from modules.litigation.schemas import (
    ClueCreate,
    ClueFromComplaint,
    ClueFromSuggestion,
    ClueItem,
    ClueOut,
    DomainCode,
    DomainIn,
    DomainOut,
    PilDecisionIn,
    PilStepIn,
)

if TYPE_CHECKING:
    import asyncpg

    from auth.audit import Actor

__all__ = ("ClueController", "DomainController")


class DomainController(Controller):
    """The office's PIL domains 领域 (the "4+N" areas), kept as data."""

    path = "/staff/litigation/domains"
    tags = ["litigation"]
    security = [{"bearer": []}]

    @get("/", operation_id="litigationDomains", summary="The office's domains", opt={"action": "litigation.read"},
         responses=problem_docs(401, 403))
    async def list_domains(self, request: Request[Any, Any, Any], state: AppState) -> list[DomainOut]:
        """Active and retired domains, in the office's order (the module's defaults until it keeps its own)."""
        async with state.db.connection() as conn:
            rows = await service.domains(conn, current_principal(request).office)
        return [DomainOut(code=c, label=lbl, active=a) for c, lbl, a in rows]

    @put("/{code:str}", operation_id="litigationDomainSet", summary="Add or change a domain",
         opt={"action": "litigation.domain.manage"}, responses=problem_docs(400, 401, 403))
    async def set_domain(self, request: Request[Any, Any, Any], state: AppState, code: FromPath[DomainCode],
                         data: JSONBody[DomainIn]) -> list[DomainOut]:
        """A retired domain (`active: false`) takes no new clues; existing ones keep it."""
        p = current_principal(request)
        async with state.db.transaction() as conn:
            await service.set_domain(conn, actor_from(request, p), p.office, code,
                                     label=data.label, active=data.active, position=data.position)
            rows = await service.domains(conn, p.office)
        return [DomainOut(code=c, label=lbl, active=a) for c, lbl, a in rows]


class ClueController(Controller):
    """The office's clue registry."""

    path = "/staff/litigation/clues"
    tags = ["litigation"]
    security = [{"bearer": []}]

    async def _view(self, state: AppState, conn: asyncpg.Connection, row: Any, granted: frozenset[str]) -> ClueOut:
        return await clue_view(conn, state.box, row, granted)

    async def _created(self, request: Request[Any, Any, Any], state: AppState, data: Any,
                       make: Any) -> Response[ClueOut]:
        p = current_principal(request)
        granted = await actions(request)

        async def work(conn: asyncpg.Connection) -> tuple[int, ClueOut]:
            row = await make(conn, actor_from(request, p), p.office_id)
            return 201, await self._view(state, conn, row, granted)
        return await run_once(state.db, request, p.sub, data, work)

    @post("/", operation_id="litigationClueCreate", summary="Register a clue (from the field)",
          opt={"location": "/api/v1/staff/litigation/clues/{id}",
               "action": "litigation.clue.create", "idempotency": "required"},
          responses=problem_docs(400, 401, 403, 409, 422), status_code=HTTP_201_CREATED)
    async def create(self, request: Request[Any, Any, Any], state: AppState,
                     data: JSONBody[ClueCreate]) -> Response[ClueOut]:
        """Numbered in the office's registry; clues of the same domain and place are flagged as possible duplicates
        (never merged). Photos and video follow as attachments. Idempotency-Key required."""
        def make(conn: asyncpg.Connection, actor: Actor, office_id: UUID) -> Any:
            return service.create_clue(
                conn, state.box, actor, office_id=office_id, source="field", domain=data.domain, title=data.title,
                description=data.description, address=data.place.address, latitude=data.place.latitude,
                longitude=data.place.longitude, public_interest=data.public_interest,
                responsible_party=data.responsible_party)
        return await self._created(request, state, data, make)

    @post("/from-complaint", operation_id="litigationClueFromComplaint", summary="Convert a complaint into a clue",
          opt={"location": "/api/v1/staff/litigation/clues/{id}",
               "action": "litigation.clue.create", "idempotency": "required"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=HTTP_201_CREATED)
    async def from_complaint(self, request: Request[Any, Any, Any], state: AppState,
                             data: JSONBody[ClueFromComplaint]) -> Response[ClueOut]:
        """A complaint of the office becomes a clue; both keep the link (the complaint's timeline says it was
        transferred to a PIL clue, the clue shows its origin). Once per complaint. Idempotency-Key required."""
        def make(conn: asyncpg.Connection, actor: Actor, office_id: UUID) -> Any:
            return service.clue_from_complaint(conn, state.box, actor, office_id=office_id,
                                               complaint_id=data.complaint_id, domain=data.domain,
                                               public_interest=data.public_interest,
                                               responsible_party=data.responsible_party)
        return await self._created(request, state, data, make)

    @post("/from-suggestion", operation_id="litigationClueFromSuggestion",
          summary="Convert a deputy's suggestion into a clue",
          opt={"location": "/api/v1/staff/litigation/clues/{id}",
               "action": "litigation.clue.create", "idempotency": "required"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=HTTP_201_CREATED)
    async def from_suggestion(self, request: Request[Any, Any, Any], state: AppState,
                              data: JSONBody[ClueFromSuggestion]) -> Response[ClueOut]:
        """A suggestion 代表建议 or proposal 政协提案 of the office becomes a clue (source `deputy`); both keep the
        link, and the representative sees the clue's number and state. Once per suggestion. Idempotency-Key
        required."""
        def make(conn: asyncpg.Connection, actor: Actor, office_id: UUID) -> Any:
            return service.clue_from_suggestion(conn, state.box, actor, office_id=office_id,
                                                suggestion_id=data.suggestion_id, domain=data.domain,
                                                public_interest=data.public_interest,
                                                responsible_party=data.responsible_party)
        return await self._created(request, state, data, make)

    @get("/", operation_id="litigationClueList", summary="The office's clue registry",
         opt={"action": "litigation.read"}, responses=problem_docs(400, 401, 403))
    async def list_clues(
        self, request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
        limit: FromQuery[Limit] = 50, clue_state: Annotated[ClueState | None, QueryParameter(name="state")] = None,
        domain: FromQuery[DomainCode | None] = None, source: FromQuery[ClueSource | None] = None,
        q: Annotated[str | None, QueryParameter(min_length=2, max_length=100)] = None,
    ) -> Page[ClueItem]:
        """Newest first; by state, domain, source, and text (Chinese or not) in the title, description and place,
        or the whole clue number. Cursor-paginated."""
        after = decode_cursor(cursor)
        async with state.db.read() as conn:
            return await list_clues(conn, office_id=current_principal(request).office_id, limit=limit, after=after,
                                    where=ClueFilter(state=clue_state, domain=domain, source=source, q=q))

    @get("/{clue_id:uuid}", operation_id="litigationClueGet", summary="One clue, with its origin and timeline",
         opt={"action": "litigation.read"}, responses=problem_docs(400, 401, 403, 404))
    async def get_clue(self, request: Request[Any, Any, Any], state: AppState, clue_id: FromPath[UUID]) -> ClueOut:
        """Possible duplicates, links (a complaint it came from, the case it became), steps open to the caller."""
        async with state.db.connection() as conn:
            read = await clue_read(conn, clue_id, current_principal(request).office_id)
            return await clue_view(conn, state.box, None, await actions(request), read=read)

    @post("/{clue_id:uuid}/steps", operation_id="litigationClueStep", summary="Evaluate, or propose a decision",
          opt={"action": "litigation.handle", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=200)
    async def step(self, request: Request[Any, Any, Any], state: AppState, clue_id: FromPath[UUID],
                   data: JSONBody[PilStepIn]) -> Response[ClueOut]:
        """`evaluate` at once; `open_case` (route, reason, and on the administrative route the agency), `decline`
        and `refer` become a proposal the department head reviews and the chief decides."""
        async def act(conn: asyncpg.Connection, row: Any, actor: Actor, granted: frozenset[str]) -> Any:
            return await service.clue_step(conn, actor, row, data)
        return await command(request, state, clue_id, data, find=staff_clue, act=act,
                             view=lambda conn, row, g: self._view(state, conn, row, g))

    @post("/{clue_id:uuid}/proposals/{proposal_id:uuid}/decision", operation_id="litigationClueDecide",
          summary="Approve, return or withdraw a proposed decision",
          opt={"action": "litigation.read", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=200)
    async def decide(self, request: Request[Any, Any, Any], state: AppState, clue_id: FromPath[UUID],
                     proposal_id: FromPath[UUID], data: JSONBody[PilDecisionIn]) -> Response[ClueOut]:
        """The next approval of the chain needs the action it names; the proposer may only withdraw. The chief's
        approval of `open_case` opens the case."""
        async def act(conn: asyncpg.Connection, row: Any, actor: Actor, granted: frozenset[str]) -> Any:
            return await service.decide(conn, service.CLUE, actor, granted, row, proposal_id, data.decision,
                                        data.reason)
        return await command(request, state, clue_id, data, find=staff_clue, act=act,
                             view=lambda conn, row, g: self._view(state, conn, row, g))

    @post("/{clue_id:uuid}/attachments", operation_id="litigationClueAttach", summary="Attach a photo, video or file",
          opt={"location": "/api/v1/staff/litigation/clues/{clue_id}/attachments/{id}",
               "action": "litigation.clue.create", **UPLOAD_OPT}, request_max_body_size=UPLOAD_MAX_BODY,
          responses=problem_docs(400, 401, 403, 404, 409, 413, 415, 422), status_code=HTTP_201_CREATED)
    async def attach(self, request: Request[Any, Any, Any], state: AppState, clue_id: FromPath[UUID],
                     data: UploadForm) -> Response[AttachmentOut]:
        """Multipart/form-data (field `file`); the type is read from the bytes, EXIF location and time kept for staff.
        Refused once the clue is decided (409). Requires an Idempotency-Key."""
        return await attach(request, state, data, subject=service.CLUE, find=staff_clue, item_id=clue_id)

    @get("/{clue_id:uuid}/attachments/{attachment_id:uuid}", operation_id="litigationClueAttachmentGet",
         summary="Download a clue's file as received", opt={"action": "litigation.read"},
         responses={**problem_docs(400, 401, 403, 404), **DOWNLOAD_RESPONSES})
    async def attachment(self, request: Request[Any, Any, Any], state: AppState, clue_id: FromPath[UUID],
                         attachment_id: FromPath[UUID]) -> Stream:
        """The original bytes exactly as received (sha256 as listed), EXIF and location included."""
        return await original(request, state, find=staff_clue, item_id=clue_id,
                              attachment_id=attachment_id)
