"""Document exchange routes, one controller per side on one shared body: the partner's (its own documents only)
and the office's (another office's documents answer 404)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED

from api.errors import problem_docs
from api.idempotency import run_once
from api.pagination import Limit, Page, decode_cursor, page_of
from api.state import AppState
from auth.audit import actor_from
from auth.principal import current_principal
from modules.complaints.routes.common import UploadForm
from modules.kernel.files import (
    DOWNLOAD_RESPONSES,
    UPLOAD_MAX_BODY,
    UPLOAD_OPT,
    AttachmentOut,
    attachment_out,
    attachment_row,
    download,
    upload,
)
from modules.partners import documents, queries
from modules.partners.access import caller_scope, client_of, partner_only
from modules.partners.schemas import DocumentAnswerIn, DocumentIn, DocumentOut, MessageKindOut, OfficeDocumentIn

if TYPE_CHECKING:
    import asyncpg

__all__ = ("PartnerDocumentController", "StaffDocumentController")

Direction = Literal["to_office", "to_partner"]
DocState = Literal["sent", "received", "answered"]


class _Exchange(Controller):
    """What both sides share; `side` says whose controller it is."""

    side: str

    async def _client(self, request: Request[Any, Any, Any], conn: asyncpg.Connection, row: Any) -> Any:
        if self.side == "partner":
            return client_of(request)
        return await queries.client_by_uuid(conn, row["client_uuid"], row["office_id"])

    async def _command(self, request: Request[Any, Any, Any], state: AppState, document_id: UUID, data: Any,
                       act: Any, *, status: int = 200) -> Response[DocumentOut]:
        p = current_principal(request)
        scope = caller_scope(request)

        async def work(conn: asyncpg.Connection, row: Any) -> tuple[int, DocumentOut]:
            out = await act(conn, row, actor_from(request, p))
            return status, documents.view(await queries.message_read(conn, out["id"], **scope))
        return await run_once(state.db, request, p.sub, data, work, required=status == HTTP_201_CREATED,
                              authorize=lambda conn: queries.message(conn, document_id, lock=True, **scope))

    async def _list(self, request: Request[Any, Any, Any], state: AppState, cursor: str | None, limit: int,
                    direction: str | None, doc_state: str | None) -> Page[DocumentOut]:
        async with state.db.connection() as conn:
            rows = await queries.message_page(conn, direction=direction, state=doc_state,
                                              after=decode_cursor(cursor), limit=limit, **caller_scope(request))
            files: dict[Any, list[AttachmentOut]] = {r["id"]: [] for r in rows[:limit]}
            for f in await queries.attachments_of(conn, list(files)):
                files[f["subject_id"]].append(attachment_out(f, staff=True))
            views = {r["id"]: documents.view(r, files[r["id"]]) for r in rows[:limit]}
        return page_of(rows, limit, lambda r: views[r["id"]], lambda r: (r["created_at"], r["id"]))

    async def _get(self, request: Request[Any, Any, Any], state: AppState, document_id: UUID) -> DocumentOut:
        async with state.db.connection() as conn:
            return documents.view(await queries.message_read(conn, document_id, **caller_scope(request)))

    async def _sign(self, request: Request[Any, Any, Any], state: AppState, document_id: UUID) -> Response[DocumentOut]:
        async def act(conn: asyncpg.Connection, row: Any, actor: Any) -> Any:
            return await documents.sign(conn, actor, row, side=self.side)
        return await self._command(request, state, document_id, None, act)

    async def _answer(self, request: Request[Any, Any, Any], state: AppState, document_id: UUID,
                      data: DocumentAnswerIn) -> Response[DocumentOut]:
        async def act(conn: asyncpg.Connection, row: Any, actor: Any) -> Any:
            return await documents.answer(conn, actor, row, side=self.side, data=data,
                                          client=await self._client(request, conn, row))
        return await self._command(request, state, document_id, data, act, status=HTTP_201_CREATED)

    async def _attach(self, request: Request[Any, Any, Any], state: AppState, document_id: UUID,
                      data: Any) -> Response[AttachmentOut]:
        p = current_principal(request)
        scope = caller_scope(request)
        async with state.db.connection() as conn:
            row = await queries.message(conn, document_id, **scope)
        if row["direction"] != documents.DIRECTION[self.side]:
            raise documents.not_sender()
        return await upload(state, request, data, subject=documents.SUBJECT, scope=p.sub, principal=p, row=row,
                            public=True, relock=lambda conn: queries.message(conn, document_id, lock=True, **scope))

    async def _download(self, request: Request[Any, Any, Any], state: AppState, document_id: UUID,
                        attachment_id: UUID) -> Stream:
        async with state.db.connection() as conn:
            row = await queries.message(conn, document_id, **caller_scope(request))
            att = await attachment_row(conn, row["id"], attachment_id, public=False)
        return await download(state, request, att, original=True)  # type: ignore[return-value]  # download() answers a Stream; the route declares it for the spec's binary body


class PartnerDocumentController(_Exchange):
    """The partner's documents with the office."""

    path = "/partner/documents"
    tags = ["partner"]
    security = [{"bearer": []}]
    guards = [partner_only]
    side = "partner"

    @get("/kinds", operation_id="partnerDocumentKinds", summary="The kinds of document this agency exchanges",
         opt={"action": "partner.documents"}, responses=problem_docs(401, 403, 429))
    async def kinds(self, request: Request[Any, Any, Any], state: AppState) -> list[MessageKindOut]:
        """Which way each goes and whether it must be answered."""
        async with state.db.connection() as conn:
            rows = await queries.message_kinds(conn, client_of(request)["agency_kind"])
        return [MessageKindOut(code=r["code"], label=r["label_zh"], direction=r["direction"],
                               needs_answer=r["needs_answer"]) for r in rows]

    @post("/", operation_id="partnerDocumentSend", summary="Send a document to the office",
          opt={"location": "/api/v1/partner/documents/{id}", "action": "partner.documents", "idempotency": "required"},
          responses=problem_docs(400, 401, 403, 422, 429), status_code=HTTP_201_CREATED)
    async def send(self, request: Request[Any, Any, Any], state: AppState,
                   data: JSONBody[DocumentIn]) -> Response[DocumentOut]:
        """Of a kind the agency exchanges, going this way; attach files afterwards. Idempotency-Key required."""
        p = current_principal(request)
        client = client_of(request)

        async def work(conn: asyncpg.Connection) -> tuple[int, DocumentOut]:
            row = await documents.send(conn, actor_from(request, p), client=client, side="partner", data=data)
            return HTTP_201_CREATED, documents.view(await queries.message_read(conn, row["id"],
                                                                               client_uuid=client["id"]))
        return await run_once(state.db, request, p.sub, data, work)

    @get("/", operation_id="partnerDocumentList", summary="The agency's documents, both ways",
         opt={"action": "partner.documents"}, responses=problem_docs(400, 401, 403, 429))
    async def list_documents(
        self, request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
        limit: FromQuery[Limit] = 50, direction: FromQuery[Direction | None] = None,
        doc_state: Annotated[DocState | None, QueryParameter(name="state")] = None,
    ) -> Page[DocumentOut]:
        """Newest first; `direction=to_partner&state=sent` is the inbox still to sign for. Cursor-paginated."""
        return await self._list(request, state, cursor, limit, direction, doc_state)

    @get("/{document_id:uuid}", operation_id="partnerDocumentGet", summary="One document",
         opt={"action": "partner.documents"}, responses=problem_docs(400, 401, 403, 404, 429))
    async def get_document(self, request: Request[Any, Any, Any], state: AppState,
                           document_id: FromPath[UUID]) -> DocumentOut:
        """With its files, its receipt and its answer."""
        return await self._get(request, state, document_id)

    @post("/{document_id:uuid}/receipt", operation_id="partnerDocumentSign", summary="Sign for a document",
          opt={"action": "partner.documents", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409, 429), status_code=200)
    async def sign(self, request: Request[Any, Any, Any], state: AppState,
                   document_id: FromPath[UUID]) -> Response[DocumentOut]:
        """A document the office sent; the time of receipt is recorded (409 when already signed for)."""
        return await self._sign(request, state, document_id)

    @post("/{document_id:uuid}/answer", operation_id="partnerDocumentAnswer", summary="Answer a document",
          opt={"location": "/api/v1/partner/documents/{document_id}",
               "action": "partner.documents", "idempotency": "required"},
          responses=problem_docs(400, 401, 403, 404, 409, 422, 429), status_code=HTTP_201_CREATED)
    async def answer(self, request: Request[Any, Any, Any], state: AppState, document_id: FromPath[UUID],
                     data: JSONBody[DocumentAnswerIn]) -> Response[DocumentOut]:
        """A signed-for document whose kind asks for an answer; answers the new document (Idempotency-Key)."""
        return await self._answer(request, state, document_id, data)

    @post("/{document_id:uuid}/attachments", operation_id="partnerDocumentAttach", summary="Attach a file",
          opt={"location": "/api/v1/partner/documents/{document_id}/attachments/{id}",
               "action": "partner.documents", **UPLOAD_OPT}, request_max_body_size=UPLOAD_MAX_BODY,
          responses=problem_docs(400, 401, 403, 404, 409, 413, 415, 422, 429), status_code=HTTP_201_CREATED)
    async def attach(self, request: Request[Any, Any, Any], state: AppState, document_id: FromPath[UUID],
                     data: UploadForm) -> Response[AttachmentOut]:
        """To a document the agency sent (multipart, field `file`)."""
        return await self._attach(request, state, document_id, data)

    @get("/{document_id:uuid}/attachments/{attachment_id:uuid}", operation_id="partnerDocumentFile",
         summary="Download a file of a document", opt={"action": "partner.documents"},
         responses={**problem_docs(400, 401, 403, 404, 429), **DOWNLOAD_RESPONSES})
    async def attachment(self, request: Request[Any, Any, Any], state: AppState, document_id: FromPath[UUID],
                         attachment_id: FromPath[UUID]) -> Stream:
        """The file as sent."""
        return await self._download(request, state, document_id, attachment_id)


class StaffDocumentController(_Exchange):
    """The office's documents with its partner agencies."""

    path = "/staff/partner-documents"
    tags = ["partners"]
    security = [{"bearer": []}]
    side = "office"

    @post("/", operation_id="documentSend", summary="Send a document to a partner agency",
          opt={"location": "/api/v1/staff/partner-documents/{id}",
               "action": "partner.documents.handle", "idempotency": "required"},
          responses=problem_docs(400, 401, 403, 404, 422), status_code=HTTP_201_CREATED)
    async def send(self, request: Request[Any, Any, Any], state: AppState,
                   data: JSONBody[OfficeDocumentIn]) -> Response[DocumentOut]:
        """To one of the office's partner clients (404 for any other). Idempotency-Key required."""
        p = current_principal(request)

        async def work(conn: asyncpg.Connection) -> tuple[int, DocumentOut]:
            client = await queries.client_in_office(conn, data.client_id, p.office_id)
            row = await documents.send(conn, actor_from(request, p), client=client, side="office", data=data)
            return HTTP_201_CREATED, documents.view(await queries.message_read(conn, row["id"],
                                                                               office_id=p.office_id))
        return await run_once(state.db, request, p.sub, data, work)

    @get("/", operation_id="documentList", summary="The office's documents with partners",
         opt={"action": "partner.read"}, responses=problem_docs(400, 401, 403))
    async def list_documents(
        self, request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
        limit: FromQuery[Limit] = 50, direction: FromQuery[Direction | None] = None,
        doc_state: Annotated[DocState | None, QueryParameter(name="state")] = None,
    ) -> Page[DocumentOut]:
        """Newest first; filter by direction and state (unknown values: 400). Cursor-paginated."""
        return await self._list(request, state, cursor, limit, direction, doc_state)

    @get("/{document_id:uuid}", operation_id="documentGet", summary="One document",
         opt={"action": "partner.read"}, responses=problem_docs(400, 401, 403, 404))
    async def get_document(self, request: Request[Any, Any, Any], state: AppState,
                           document_id: FromPath[UUID]) -> DocumentOut:
        """With its files, its receipt and its answer."""
        return await self._get(request, state, document_id)

    @post("/{document_id:uuid}/receipt", operation_id="documentSign", summary="Sign for a partner's document",
          opt={"action": "partner.documents.handle", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409), status_code=200)
    async def sign(self, request: Request[Any, Any, Any], state: AppState,
                   document_id: FromPath[UUID]) -> Response[DocumentOut]:
        """The time of receipt is recorded (409 when already signed for)."""
        return await self._sign(request, state, document_id)

    @post("/{document_id:uuid}/answer", operation_id="documentAnswer", summary="Answer a partner's document",
          opt={"location": "/api/v1/staff/partner-documents/{document_id}",
               "action": "partner.documents.handle", "idempotency": "required"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=HTTP_201_CREATED)
    async def answer(self, request: Request[Any, Any, Any], state: AppState, document_id: FromPath[UUID],
                     data: JSONBody[DocumentAnswerIn]) -> Response[DocumentOut]:
        """A signed-for document whose kind asks for an answer; answers the new document (Idempotency-Key)."""
        return await self._answer(request, state, document_id, data)

    @post("/{document_id:uuid}/attachments", operation_id="documentAttach", summary="Attach a file",
          opt={"location": "/api/v1/staff/partner-documents/{document_id}/attachments/{id}",
               "action": "partner.documents.handle", **UPLOAD_OPT}, request_max_body_size=UPLOAD_MAX_BODY,
          responses=problem_docs(400, 401, 403, 404, 409, 413, 415, 422), status_code=HTTP_201_CREATED)
    async def attach(self, request: Request[Any, Any, Any], state: AppState, document_id: FromPath[UUID],
                     data: UploadForm) -> Response[AttachmentOut]:
        """To a document the office sent (multipart, field `file`)."""
        return await self._attach(request, state, document_id, data)

    @get("/{document_id:uuid}/attachments/{attachment_id:uuid}", operation_id="documentFile",
         summary="Download a file of a document", opt={"action": "partner.read"},
         responses={**problem_docs(400, 401, 403, 404), **DOWNLOAD_RESPONSES})
    async def attachment(self, request: Request[Any, Any, Any], state: AppState, document_id: FromPath[UUID],
                         attachment_id: FromPath[UUID]) -> Stream:
        """The file as sent."""
        return await self._download(request, state, document_id, attachment_id)
