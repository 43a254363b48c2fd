"""The representative app: a deputy or member submits and follows their own suggestions, answers invitations and
reads bulletins of their office. Only their own: anything else answers 404."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED

from api.errors import forbidden, invalid, problem_docs
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
from modules.liaison import bulletins, concerns, invitations, queries, suggestions
from modules.liaison.routes.common import command
from modules.liaison.schemas import (
    Concern,
    ConcernIn,
    EventOpinionIn,
    FollowupIn,
    RepBulletin,
    RepInvitation,
    RepresentativeOut,
    RepSuggestion,
    ResponseIn,
    SuggestionItem,
    SuggestionSubmit,
)

if TYPE_CHECKING:
    import asyncpg

    from auth.audit import Actor
    from auth.principal import Principal

__all__ = ("RepController",)


def _representative_app(p: Principal) -> None:
    """403 for anyone but a deputy or member."""
    if p.kind not in ("deputy", "member"):
        raise forbidden("These routes are the representative app's.")


async def _me(conn: asyncpg.Connection, p: Principal, *, required: bool = True) -> Any:
    """The caller's register entry: representatives only; 403 for one not on the office's register."""
    _representative_app(p)
    rep = await queries.me(conn, p)
    if rep is None and required:
        raise forbidden("You are not on this office's register of deputies and members.")
    return rep


async def _own_page(request: Request[Any, Any, Any], state: AppState, cursor: str | None, limit: int,
                    lister: Callable[..., Awaitable[Any]]) -> Any:
    """One page of the caller's own items (empty when not on the register)."""
    after = decode_cursor(cursor)
    async with state.db.connection() as conn:
        rep = await _me(conn, current_principal(request), required=False)
        return await lister(conn, rep, after=after, limit=limit)


def _suggestion(suggestion_id: UUID) -> Any:
    async def find(conn: asyncpg.Connection, p: Principal) -> Any:
        return await queries.own_suggestion(conn, suggestion_id, await _me(conn, p, required=False), lock=True)
    return find


def _invitation(invitation_id: UUID) -> Any:
    async def find(conn: asyncpg.Connection, p: Principal) -> Any:
        rep = await _me(conn, p, required=False)
        return await queries.own_invitation(conn, invitation_id, rep, lock=True), rep
    return find


class RepController(Controller):
    """One's own suggestions, invitations and the office's bulletins."""

    path = "/rep/liaison"
    tags = ["liaison"]
    security = [{"bearer": []}]

    @get("/me", operation_id="liaisonRepMe", summary="My register entry", opt={"action": "liaison.rep"},
         responses=problem_docs(401, 403))
    async def me(self, request: Request[Any, Any, Any], state: AppState) -> RepresentativeOut:
        """One's own entry, contact details in full."""
        async with state.db.connection() as conn:
            rep = await _me(conn, current_principal(request))
        return queries.representative_out(state.box, rep, may_see=True)

    @post("/suggestions", operation_id="liaisonRepSuggest", summary="Submit a suggestion",
          opt={"location": "/api/v1/rep/liaison/suggestions/{id}", "action": "liaison.rep", "idempotency": "required"},
          responses=problem_docs(400, 401, 403), status_code=HTTP_201_CREATED)
    async def submit(self, request: Request[Any, Any, Any], state: AppState,
                     data: JSONBody[SuggestionSubmit]) -> Response[RepSuggestion]:
        """One by one; numbered, answered within 3 months (Idempotency-Key required)."""
        async def find(conn: asyncpg.Connection, p: Principal) -> Any:
            return await _me(conn, p)

        async def act(conn: asyncpg.Connection, rep: Any, actor: Actor, p: Principal) -> tuple[int, Any]:
            office = await office_by_id(conn, rep["office_id"])
            row = await suggestions.submit(conn, actor, office, rep, channel="app", title=data.title, body=data.body,
                                           created_by=None)
            return 201, await queries.rep_suggestion(conn, row)
        return await command(request, state, data, find, act, required=True)

    @get("/suggestions", operation_id="liaisonRepSuggestionList", summary="My suggestions",
         opt={"action": "liaison.rep"}, responses=problem_docs(400, 401, 403))
    async def suggestions(self, request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
                          limit: FromQuery[Limit] = 20) -> Page[SuggestionItem]:
        """Newest first."""
        return await _own_page(request, state, cursor, limit, queries.own_suggestions)

    @get("/suggestions/{suggestion_id:uuid}", operation_id="liaisonRepSuggestionGet", summary="One of my suggestions",
         opt={"action": "liaison.rep"}, responses=problem_docs(400, 401, 403, 404))
    async def suggestion(self, request: Request[Any, Any, Any], state: AppState,
                         suggestion_id: FromPath[UUID]) -> RepSuggestion:
        """Its progress, deadline, the delivered reply, and what it became (a complaint's number and state)."""
        p = current_principal(request)
        _representative_app(p)
        async with state.db.connection() as conn:
            return await queries.rep_suggestion(conn, None, read=await queries.rep_read(conn, suggestion_id, p))

    @post("/suggestions/{suggestion_id:uuid}/rating", operation_id="liaisonRepRate",
          summary="Say whether the reply satisfies me", opt={"action": "liaison.rep", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409), status_code=200)
    async def rate(self, request: Request[Any, Any, Any], state: AppState, suggestion_id: FromPath[UUID],
                   data: JSONBody[FollowupIn]) -> Response[RepSuggestion]:
        """Satisfied or basically satisfied concludes it; not satisfied has it handled again."""
        async def act(conn: asyncpg.Connection, row: Any, actor: Actor, p: Principal) -> tuple[int, Any]:
            row = await suggestions.followup(conn, actor, row, satisfaction=data.satisfaction, comment=data.comment)
            return 200, await queries.rep_suggestion(conn, row)
        return await command(request, state, data, _suggestion(suggestion_id), act)

    @post("/suggestions/{suggestion_id:uuid}/attachments", operation_id="liaisonRepAttach",
          summary="Attach a file to my suggestion",
          opt={"location": "/api/v1/rep/liaison/suggestions/{suggestion_id}/attachments/{id}",
               "action": "liaison.rep", **UPLOAD_OPT},
          request_max_body_size=UPLOAD_MAX_BODY, responses=problem_docs(400, 401, 403, 404, 409, 413, 415, 422),
          status_code=HTTP_201_CREATED)
    async def attach(self, request: Request[Any, Any, Any], state: AppState, suggestion_id: FromPath[UUID],
                     data: UploadForm) -> Response[AttachmentOut]:
        """Multipart/form-data (field `file`); the type is read from the bytes, photos lose their metadata in the
        copy I am served back. Refused once the suggestion is concluded (409). Requires an Idempotency-Key."""
        p = current_principal(request)
        find = _suggestion(suggestion_id)
        async with state.db.connection() as conn:
            row = await queries.own_suggestion(conn, suggestion_id, await _me(conn, p, required=False))
        return await upload(state, request, data, subject=suggestions.SUBJECT, scope=p.sub, principal=p, row=row,
                            public=True, relock=lambda conn: find(conn, p))

    @get("/suggestions/{suggestion_id:uuid}/attachments/{attachment_id:uuid}", operation_id="liaisonRepAttachmentGet",
         summary="Download a file of my suggestion", opt={"action": "liaison.rep"},
         responses={**problem_docs(400, 401, 403, 404), **DOWNLOAD_RESPONSES})
    async def attachment(self, request: Request[Any, Any, Any], state: AppState, suggestion_id: FromPath[UUID],
                         attachment_id: FromPath[UUID]) -> Stream:
        """Only files I attached, as the copy without location metadata."""
        async with state.db.connection() as conn:
            rep = await _me(conn, current_principal(request), required=False)
            row = await queries.own_suggestion(conn, suggestion_id, rep)
            att = await attachment_row(conn, row["id"], attachment_id, public=True)
        return await download(state, request, att, original=False)  # type: ignore[return-value]  # download() answers a Stream; the route declares it for the spec's binary body

    @post("/concerns", operation_id="liaisonRepFollow", summary="Follow a complaint or PIL case I raised",
          opt={"location": "/api/v1/rep/liaison/concerns",
               "action": "liaison.rep", "idempotency": "optional"}, responses=problem_docs(400, 401, 403, 404),
          status_code=HTTP_201_CREATED)
    async def follow(self, request: Request[Any, Any, Any], state: AppState,
                     data: JSONBody[ConcernIn]) -> Response[Concern]:
        """By its number (`ref`): a complaint of my office whose reporter's phone is the one on my register entry,
        or a PIL case opened from my suggestion or such a complaint (anything else is 404). Following again changes
        nothing."""
        ref = data.ref or data.receipt_no
        if ref is None or (data.ref and data.receipt_no):
            raise invalid("Give the case's number as `ref`.", ("ref", "required, alone"))

        async def find(conn: asyncpg.Connection, p: Principal) -> Any:
            rep = await _me(conn, p)
            return rep, await queries.raised(conn, rep, ref)

        async def act(conn: asyncpg.Connection, found: Any, actor: Actor, p: Principal) -> tuple[int, Any]:
            rep, (module, subject_id) = found
            row = await concerns.follow(conn, actor, rep, module, subject_id)
            return 201, await queries.concern_out(conn, row["module"], row["subject_id"], row["created_at"])
        return await command(request, state, data, find, act)

    @get("/concerns", operation_id="liaisonRepConcernList", summary="Cases I follow",
         opt={"action": "liaison.rep"}, responses=problem_docs(400, 401, 403))
    async def followed(self, request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
                       limit: FromQuery[Limit] = 20) -> Page[Concern]:
        """Newest first, each with its state and public progress."""
        return await _own_page(request, state, cursor, limit, queries.concerns)

    @get("/invitations", operation_id="liaisonRepInvitationList", summary="My invitations",
         opt={"action": "liaison.rep"}, responses=problem_docs(400, 401, 403))
    async def invitations(self, request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
                          limit: FromQuery[Limit] = 20) -> Page[RepInvitation]:
        """Newest first, each with my answer."""
        return await _own_page(request, state, cursor, limit, queries.own_invitations)

    @get("/invitations/{invitation_id:uuid}", operation_id="liaisonRepInvitationGet", summary="One invitation",
         opt={"action": "liaison.rep"}, responses=problem_docs(400, 401, 403, 404))
    async def invitation(self, request: Request[Any, Any, Any], state: AppState,
                         invitation_id: FromPath[UUID]) -> RepInvitation:
        """What, where, when, and my answer."""
        async with state.db.connection() as conn:
            rep = await _me(conn, current_principal(request), required=False)
            row = await queries.own_invitation(conn, invitation_id, rep)
            return queries.rep_invitation(row, await queries.invitee(conn, row["id"], rep))

    @post("/invitations/{invitation_id:uuid}/response", operation_id="liaisonRepRespond",
          summary="Accept or decline", opt={"action": "liaison.rep", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409), status_code=200)
    async def respond(self, request: Request[Any, Any, Any], state: AppState, invitation_id: FromPath[UUID],
                      data: JSONBody[ResponseIn]) -> Response[RepInvitation]:
        """While the event is ahead; a full event refuses acceptance (409)."""
        async def act(conn: asyncpg.Connection, found: Any, actor: Actor, p: Principal) -> tuple[int, Any]:
            row, rep = found
            await invitations.respond(conn, actor, row, rep, response=data.response)
            return 200, queries.rep_invitation(row, await queries.invitee(conn, row["id"], rep))
        return await command(request, state, data, _invitation(invitation_id), act)

    @post("/invitations/{invitation_id:uuid}/opinion", operation_id="liaisonRepOpinion",
          summary="Leave an opinion after attending", opt={"action": "liaison.rep", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409), status_code=200)
    async def opinion(self, request: Request[Any, Any, Any], state: AppState, invitation_id: FromPath[UUID],
                      data: JSONBody[EventOpinionIn]) -> Response[RepInvitation]:
        """Once, by those recorded present."""
        async def act(conn: asyncpg.Connection, found: Any, actor: Actor, p: Principal) -> tuple[int, Any]:
            row, rep = found
            await invitations.opinion(conn, actor, row, rep, await queries.invitee(conn, row["id"], rep),
                                      text=data.text)
            return 200, queries.rep_invitation(row, await queries.invitee(conn, row["id"], rep))
        return await command(request, state, data, _invitation(invitation_id), act)

    @get("/bulletins", operation_id="liaisonRepBulletinList", summary="Bulletins for me",
         opt={"action": "liaison.rep"}, responses=problem_docs(400, 401, 403))
    async def bulletins(self, request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
                        limit: FromQuery[Limit] = 20) -> Page[RepBulletin]:
        """Newest first, each saying whether I have read it."""
        return await _own_page(request, state, cursor, limit, queries.own_bulletins)

    @post("/bulletins/{bulletin_id:uuid}/read", operation_id="liaisonRepBulletinRead",
          summary="Open a bulletin (records the read receipt)", opt={"action": "liaison.rep",
                                                                    "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404), status_code=200)
    async def read(self, request: Request[Any, Any, Any], state: AppState,
                   bulletin_id: FromPath[UUID]) -> Response[RepBulletin]:
        """The bulletin's text; the first opening is its read receipt."""
        async def find(conn: asyncpg.Connection, p: Principal) -> Any:
            rep = await _me(conn, p, required=False)
            return await queries.rep_bulletin(conn, bulletin_id, rep), rep

        async def act(conn: asyncpg.Connection, found: Any, actor: Actor, p: Principal) -> tuple[int, Any]:
            row, rep = found
            await bulletins.mark_read(conn, row, rep)
            return 200, queries.rep_bulletin_out({**row, "read": True})
        return await command(request, state, None, find, act)
