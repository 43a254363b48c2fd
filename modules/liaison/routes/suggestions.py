"""Suggestions as the office's staff handle them: log, assign, reclassify, draft the reply and decide on it, record
the follow-up, turn into a complaint. Another office's suggestions answer 404."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED

from api.errors import problem_docs
from api.offices import office_by_id
from api.pagination import Limit, Page, decode_cursor
from api.state import AppState
from auth.principal import current_principal
from modules.kernel.files import (
    DOWNLOAD_RESPONSES,
    UPLOAD_MAX_BODY,
    UPLOAD_OPT,
    AttachmentOut,
    UploadForm,
    attachment_row,
    download,
    upload,
)
from modules.liaison import queries, suggestions
from modules.liaison.routes.common import command, locked
from modules.liaison.schemas import (
    AssignIn,
    Classification,
    ConvertIn,
    DraftIn,
    FollowupIn,
    ReclassifyIn,
    ReplyDecisionIn,
    StaffSuggestion,
    SuggestionItem,
    SuggestionLog,
    SuggestionState,
)

if TYPE_CHECKING:
    import asyncpg

    from auth.audit import Actor
    from auth.principal import Principal

__all__ = ("SuggestionController",)


async def view(state: AppState, conn: asyncpg.Connection, row: Any, p: Principal, read: Any = None) -> StaffSuggestion:
    """The suggestion as this caller sees it (contact details masked unless allowed, steps they may take); `read`:
    a `queries.suggestion_read` answer, which holds everything shown."""
    actions = await state.permissions.actions_of(p)
    return await queries.staff_view(conn, state.box, row, may_see="liaison.contact.view" in actions, actions=actions,
                                    read=read)


class SuggestionController(Controller):
    """The office's suggestions 代表建议 / 政协提案."""

    path = "/staff/liaison/suggestions"
    tags = ["liaison"]
    security = [{"bearer": []}]

    async def _act(self, request: Request[Any, Any, Any], state: AppState, suggestion_id: UUID, data: Any,
                   do: Any, *, status: int = 200) -> Response[StaffSuggestion]:
        async def act(conn: asyncpg.Connection, row: Any, actor: Actor, p: Principal) -> tuple[int, Any]:
            row = await do(conn, row, actor, p) or row
            return status, await view(state, conn, row, p)
        return await command(request, state, data, locked(queries.suggestion, suggestion_id), act)

    @post("/", operation_id="liaisonSuggestionLog", summary="Log a suggestion from a session, visit or letter",
          opt={"location": "/api/v1/staff/liaison/suggestions/{id}",
               "action": "liaison.suggestion.log", "idempotency": "required"},
          responses=problem_docs(400, 401, 403, 404, 422), status_code=HTTP_201_CREATED)
    async def log(self, request: Request[Any, Any, Any], state: AppState,
                  data: JSONBody[SuggestionLog]) -> Response[StaffSuggestion]:
        """Numbered, its 3-month reply clock started (Idempotency-Key required)."""
        async def find(conn: asyncpg.Connection, p: Principal) -> Any:
            return await queries.representative(conn, data.representative_id, p.office_id)

        async def act(conn: asyncpg.Connection, rep: Any, actor: Actor, p: Principal) -> tuple[int, Any]:
            office = await office_by_id(conn, rep["office_id"])
            row = await suggestions.submit(conn, actor, office, rep, channel=data.channel, title=data.title,
                                           body=data.body, created_by=p.user_id)
            return 201, await view(state, conn, row, p)
        return await command(request, state, data, find, act, required=True)

    @get("/", operation_id="liaisonSuggestionList", summary="The office's suggestions", opt={"action": "liaison.read"},
         responses=problem_docs(400, 401, 403))
    async def list_items(
        self, request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
        limit: FromQuery[Limit] = 50,
        item_state: Annotated[SuggestionState | None, QueryParameter(name="state")] = None,
        department: Annotated[str | None, QueryParameter(max_length=100)] = None,
        classification: FromQuery[Classification | None] = None,
        representative: FromQuery[UUID | None] = None,
        due_before: Annotated[date | None, QueryParameter(name="dueBefore")] = None,
    ) -> Page[SuggestionItem]:
        """Newest first; by state, department, classification, representative, an open deadline due by a date."""
        p = current_principal(request)
        after = decode_cursor(cursor)
        where = queries.SuggestionFilter(state=item_state, department=department, classification=classification,
                                         representative=representative, due_before=due_before)
        async with state.db.read() as conn:
            return await queries.suggestions(conn, office_id=p.office_id, where=where, after=after, limit=limit)

    @get("/{suggestion_id:uuid}", operation_id="liaisonSuggestionGet", summary="One suggestion, with its deadlines",
         opt={"action": "liaison.read"}, responses=problem_docs(400, 401, 403, 404))
    async def get_item(self, request: Request[Any, Any, Any], state: AppState,
                       suggestion_id: FromPath[UUID]) -> StaffSuggestion:
        """Timeline, clocks, the pending reply proposal, and what it became in other modules."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            read = await queries.suggestion_read(conn, suggestion_id, p.office_id)
            return await view(state, conn, read["item"], p, read)

    @post("/{suggestion_id:uuid}/assignment", operation_id="liaisonSuggestionAssign",
          summary="Assign to the owning department", opt={"action": "liaison.suggestion.assign",
                                                          "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=200)
    async def assign(self, request: Request[Any, Any, Any], state: AppState, suggestion_id: FromPath[UUID],
                     data: JSONBody[AssignIn]) -> Response[StaffSuggestion]:
        """The department (and its handler, a staff member of the office); again to move it."""
        async def do(conn: asyncpg.Connection, row: Any, actor: Actor, p: Principal) -> Any:
            return await suggestions.assign(conn, actor, row, department=data.department, handler_id=data.handler_id)
        return await self._act(request, state, suggestion_id, data, do)

    @post("/{suggestion_id:uuid}/classification", operation_id="liaisonSuggestionReclassify",
          summary="Classify as wide-ranging or difficult (6 months)",
          opt={"action": "liaison.suggestion.reclassify", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409), status_code=200)
    async def reclassify(self, request: Request[Any, Any, Any], state: AppState, suggestion_id: FromPath[UUID],
                         data: JSONBody[ReclassifyIn]) -> Response[StaffSuggestion]:
        """The 3-month deadline stops applying (not met) and the 6-month one runs from the same day; refused once
        the 3 months have run out."""
        async def do(conn: asyncpg.Connection, row: Any, actor: Actor, p: Principal) -> Any:
            return await suggestions.reclassify(conn, actor, row, reason=data.reason)
        return await self._act(request, state, suggestion_id, data, do)

    @post("/{suggestion_id:uuid}/reply", operation_id="liaisonSuggestionDraftReply",
          summary="Draft the reply (reviewed, then approved, then delivered)",
          opt={"action": "liaison.suggestion.reply", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409), status_code=200)
    async def draft(self, request: Request[Any, Any, Any], state: AppState, suggestion_id: FromPath[UUID],
                    data: JSONBody[DraftIn]) -> Response[StaffSuggestion]:
        """The draft waits as `pendingProposal` for the department head's review and the chief's approval."""
        async def do(conn: asyncpg.Connection, row: Any, actor: Actor, p: Principal) -> Any:
            return await suggestions.draft_reply(conn, actor, row, text=data.reply)
        return await self._act(request, state, suggestion_id, data, do)

    @post("/{suggestion_id:uuid}/proposals/{proposal_id:uuid}/decision", operation_id="liaisonSuggestionDecide",
          summary="Review, approve, return or withdraw the drafted reply",
          opt={"action": "liaison.read", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=200)
    async def decide(self, request: Request[Any, Any, Any], state: AppState, suggestion_id: FromPath[UUID],
                     proposal_id: FromPath[UUID], data: JSONBody[ReplyDecisionIn]) -> Response[StaffSuggestion]:
        """Each approval needs the action the chain names next (review, then approve); the last delivers it."""
        async def do(conn: asyncpg.Connection, row: Any, actor: Actor, p: Principal) -> Any:
            return await suggestions.decide(conn, actor, await state.permissions.actions_of(p), row,
                                            proposal_id=proposal_id, decision=data.decision, reason=data.reason)
        return await self._act(request, state, suggestion_id, data, do)

    @post("/{suggestion_id:uuid}/followup", operation_id="liaisonSuggestionFollowup",
          summary="Record the satisfaction follow-up", opt={"action": "liaison.suggestion.followup",
                                                            "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409), status_code=200)
    async def followup(self, request: Request[Any, Any, Any], state: AppState, suggestion_id: FromPath[UUID],
                       data: JSONBody[FollowupIn]) -> Response[StaffSuggestion]:
        """Satisfied or basically satisfied concludes it; not satisfied reopens the handling."""
        async def do(conn: asyncpg.Connection, row: Any, actor: Actor, p: Principal) -> Any:
            return await suggestions.followup(conn, actor, row, satisfaction=data.satisfaction, comment=data.comment)
        return await self._act(request, state, suggestion_id, data, do)

    @post("/{suggestion_id:uuid}/conversion", operation_id="liaisonSuggestionConvert",
          summary="Turn into a complaint", opt={"action": "liaison.suggestion.convert", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=200)
    async def convert(self, request: Request[Any, Any, Any], state: AppState, suggestion_id: FromPath[UUID],
                      data: JSONBody[ConvertIn]) -> Response[StaffSuggestion]:
        """Files a complaint of the category for the representative and links both ways; needs the complaints
        module on for the office."""
        from modules.complaints.queries import category

        await state.modules.require(current_principal(request).office_id, "complaints")

        async def do(conn: asyncpg.Connection, row: Any, actor: Actor, p: Principal) -> Any:
            cat = await category(conn, row["office_id"], data.category)
            office = await office_by_id(conn, row["office_id"])
            row, _ = await suggestions.convert(conn, state.box, actor, row, office=office, category=cat,
                                               reason=data.reason)
            return row
        return await self._act(request, state, suggestion_id, data, do)

    @post("/{suggestion_id:uuid}/attachments", operation_id="liaisonSuggestionAttachStaff",
          summary="Attach an internal file",
          opt={"location": "/api/v1/staff/liaison/suggestions/{suggestion_id}/attachments/{id}",
               "action": "liaison.suggestion.reply", **UPLOAD_OPT},
          request_max_body_size=UPLOAD_MAX_BODY, responses=problem_docs(400, 401, 403, 404, 409, 413, 415, 422),
          status_code=HTTP_201_CREATED)
    async def attach(self, request: Request[Any, Any, Any], state: AppState, suggestion_id: FromPath[UUID],
                     data: UploadForm) -> Response[AttachmentOut]:
        """Never shown to the representative. Multipart/form-data (field `file`); the type is read from the bytes.
        Refused once the suggestion is concluded (409). Requires an Idempotency-Key."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            row = await queries.staff_suggestion(conn, suggestion_id, p)
        return await upload(state, request, data, subject=suggestions.SUBJECT, scope=p.sub, principal=p, row=row,
                            public=False, relock=lambda conn: queries.staff_suggestion(conn, suggestion_id, p,
                                                                                       lock=True))

    @get("/{suggestion_id:uuid}/attachments/{attachment_id:uuid}", operation_id="liaisonSuggestionAttachmentGet",
         summary="Download an attachment as received", opt={"action": "liaison.read"},
         responses={**problem_docs(400, 401, 403, 404), **DOWNLOAD_RESPONSES})
    async def attachment(self, request: Request[Any, Any, Any], state: AppState, suggestion_id: FromPath[UUID],
                         attachment_id: FromPath[UUID]) -> Stream:
        """The original bytes exactly as received."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            row = await queries.staff_suggestion(conn, suggestion_id, p)
            att = await attachment_row(conn, row["id"], attachment_id, public=False)
        return await download(state, request, att, original=True)  # type: ignore[return-value]  # download() answers a Stream; the route declares it for the spec's binary body
