"""Calls from the 12345 hotline and clues from the police, transferred into complaints, and followed by reference;
the agency's contact people. Partner clients only; each sees only its own transfers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from litestar import Controller, Request, Response, get, post, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromQuery, JSONBody, Parameter
from litestar.status_codes import HTTP_201_CREATED

from api.errors import problem_docs
from api.idempotency import run_once
from api.pagination import Limit, Page, decode_cursor, page_of
from api.state import AppState
from auth.audit import actor_from
from auth.principal import current_principal
from modules.complaints.routes import common as intake
from modules.complaints.routes.common import UploadForm
from modules.complaints.service import SUBJECT as COMPLAINT
from modules.complaints.service import Reporter
from modules.kernel.files import (
    UPLOAD_MAX_BODY,
    UPLOAD_OPT,
    AttachmentOut,
    upload,
)
from modules.partners import queries, service
from modules.partners.access import client_of, partner_only
from modules.partners.examples import ClueTransferBody, HotlineCallBody
from modules.partners.schemas import ContactsIn, PartnerContactOut, TransferOut, TransferSummary

if TYPE_CHECKING:
    import asyncpg

__all__ = ("ContactsController", "HotlineController", "PoliceTransferController")

SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]
Ref = Annotated[str, Parameter(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$", max_length=64)]


# The same ticket or case reference sent again answers the first transfer (200), never a second item.
_AGAIN = {200: ResponseSpec(data_container=TransferOut, description="Transferred before: the first transfer.",
                            generate_examples=False)}


class _Transfers(Controller):
    """What the hotline and the police share: transfer once per reference, follow it, add files."""

    kind: str
    channel: str

    async def _transfer(self, request: Request[Any, Any, Any], state: AppState, data: Any,
                        reference: str) -> Response[TransferOut]:
        p = current_principal(request)
        client = client_of(request)
        c = data.caller
        reporter = Reporter(name=c.name if c else None, phone=intake.phone(c.phone) if c else None,
                            id_number=c.id_number if c else None, reachable=c.reachable if c else True,
                            anonymous=c is None or c.name is None)

        async def file(conn: asyncpg.Connection) -> Any:
            # The complaints intake, as for any item: category and fields checked, clocks started, reporter sealed.
            _, receipt = await intake.file_item(state, request, conn, data, principal=p, reporter=reporter,
                                                channel=self.channel)
            return receipt.id

        async def work(conn: asyncpg.Connection) -> tuple[int, TransferOut]:
            _, new = await service.transfer_in(conn, actor_from(request, p), client=client, kind=self.kind,
                                               reference=reference, file=file)
            read = await queries.transfer_read(conn, client["id"], self.kind, reference)
            return (HTTP_201_CREATED if new else 200), await service.transfer_view(conn, read)
        return await run_once(state.db, request, p.sub, data, work)

    async def _list(self, request: Request[Any, Any, Any], state: AppState, cursor: str | None,
                    limit: int) -> Page[TransferSummary]:
        async with state.db.connection() as conn:
            rows = await queries.transfer_page(conn, client_uuid=client_of(request)["id"], kind=self.kind,
                                               after=decode_cursor(cursor), limit=limit)
        return page_of(rows, limit, service.transfer_summary, lambda r: (r["created_at"], r["id"]))

    async def _get(self, request: Request[Any, Any, Any], state: AppState, reference: str) -> TransferOut:
        client = client_of(request)
        async with state.db.connection() as conn:
            return await service.transfer_view(conn, await queries.transfer_read(conn, client["id"], self.kind,
                                                                                 reference))

    async def _attach(self, request: Request[Any, Any, Any], state: AppState, reference: str,
                      data: Any) -> Response[AttachmentOut]:
        p = current_principal(request)
        client = client_of(request)

        async def find(conn: asyncpg.Connection) -> Any:
            return (await queries.transferred_item(conn, client["id"], self.kind, reference, lock=True))[1]
        async with state.db.connection() as conn:
            _, item = await queries.transferred_item(conn, client["id"], self.kind, reference)
        # Filed by the agency, read by staff: an internal file of the item (the complainant's side never sees it).
        return await upload(state, request, data, subject=COMPLAINT, scope=p.sub, principal=p, row=item,
                            public=False, relock=find)


class HotlineController(_Transfers):
    """The 12345 hotline transfers calls and follows its tickets until it can close them."""

    path = "/partner/hotline/tickets"
    tags = ["partner"]
    security = SECURITY
    guards = [partner_only]
    kind = "hotline_call"
    channel = "hotline"

    @post("/", operation_id="partnerHotlineTransfer", summary="Transfer a hotline call",
          opt={"location": "/api/v1/partner/hotline/tickets/{reference}",
               "action": "partner.hotline.transfer", "idempotency": "required"},
          responses={**problem_docs(400, 401, 403, 404, 409, 422, 429), **_AGAIN}, status_code=HTTP_201_CREATED)
    async def transfer(self, request: Request[Any, Any, Any], state: AppState,
                       data: HotlineCallBody) -> Response[TransferOut]:
        """Into complaints, with its clocks started as for any intake (201); the same ticket again answers the
        first item (200). Idempotency-Key required."""
        return await self._transfer(request, state, data, data.ticket_no)

    @get("/", operation_id="partnerHotlineList", summary="The hotline's tickets", opt={"action":
         "partner.hotline.transfer"}, responses=problem_docs(400, 401, 403, 429))
    async def list_tickets(self, request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
                           limit: FromQuery[Limit] = 50) -> Page[TransferSummary]:
        """Newest first, with where each item stands (the detail has the timeline and the reply); cursor-paginated."""
        return await self._list(request, state, cursor, limit)

    @get("/{ticket_no:str}", operation_id="partnerHotlineGet", summary="One ticket's status and result reply",
         opt={"action": "partner.hotline.transfer"}, responses=problem_docs(400, 401, 403, 404, 429))
    async def get_ticket(self, request: Request[Any, Any, Any], state: AppState,
                         ticket_no: Ref) -> TransferOut:
        """`concluded` with `resultReply` once the item is closed, refused or referred (the hotline closes its
        ticket then)."""
        return await self._get(request, state, ticket_no)

    @post("/{ticket_no:str}/attachments", operation_id="partnerHotlineAttach", summary="Attach a file to a ticket",
          opt={"location": "/api/v1/partner/hotline/tickets/{ticket_no}",
               "action": "partner.hotline.transfer", **UPLOAD_OPT}, request_max_body_size=UPLOAD_MAX_BODY,
          responses=problem_docs(400, 401, 403, 404, 409, 413, 415, 422, 429), status_code=HTTP_201_CREATED)
    async def attach(self, request: Request[Any, Any, Any], state: AppState,
                     ticket_no: Ref,
                     data: UploadForm) -> Response[AttachmentOut]:
        """A recording or document of the call (multipart, field `file`); refused once the item is concluded."""
        return await self._attach(request, state, ticket_no, data)


class PoliceTransferController(_Transfers):
    """The police transfer clues met in criminal cases into complaints or reports, and see whether each was
    accepted (clues for public-interest litigation go to the litigation module's own route)."""

    path = "/partner/police/transfers"
    tags = ["partner"]
    security = SECURITY
    guards = [partner_only]
    kind = "police_clue"
    channel = "letter"  # a written transfer (移送函) between organs

    @post("/", operation_id="partnerClueTransfer", summary="Transfer a clue into complaints or reports",
          opt={"location": "/api/v1/partner/police/transfers/{reference}",
               "action": "partner.clue.transfer", "idempotency": "required"},
          responses={**problem_docs(400, 401, 403, 404, 409, 422, 429), **_AGAIN}, status_code=HTTP_201_CREATED)
    async def transfer(self, request: Request[Any, Any, Any], state: AppState,
                       data: ClueTransferBody) -> Response[TransferOut]:
        """201 with the new item; the same `caseRef` again answers the first (200). Idempotency-Key required."""
        return await self._transfer(request, state, data, data.case_ref)

    @get("/", operation_id="partnerClueList", summary="The client's transferred clues",
         opt={"action": "partner.clue.transfer"}, responses=problem_docs(400, 401, 403, 429))
    async def list_clues(self, request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
                         limit: FromQuery[Limit] = 50) -> Page[TransferSummary]:
        """Newest first, each with `accepted` (null while undecided); cursor-paginated."""
        return await self._list(request, state, cursor, limit)

    @get("/{case_ref:str}", operation_id="partnerClueGet", summary="Whether a transferred clue was accepted",
         opt={"action": "partner.clue.transfer"}, responses=problem_docs(400, 401, 403, 404, 429))
    async def get_clue(self, request: Request[Any, Any, Any], state: AppState,
                       case_ref: Ref) -> TransferOut:
        """The item's public status; `accepted` true once taken on, false when refused or referred out."""
        return await self._get(request, state, case_ref)

    @post("/{case_ref:str}/attachments", operation_id="partnerClueAttach", summary="Attach a document to a clue",
          opt={"location": "/api/v1/partner/police/transfers/{case_ref}",
               "action": "partner.clue.transfer", **UPLOAD_OPT}, request_max_body_size=UPLOAD_MAX_BODY,
          responses=problem_docs(400, 401, 403, 404, 409, 413, 415, 422, 429), status_code=HTTP_201_CREATED)
    async def attach(self, request: Request[Any, Any, Any], state: AppState,
                     case_ref: Ref,
                     data: UploadForm) -> Response[AttachmentOut]:
        """A document of the transfer (multipart, field `file`); refused once the item is concluded."""
        return await self._attach(request, state, case_ref, data)


class ContactsController(Controller):
    """The agency's own contact people, kept by the agency."""

    path = "/partner/contacts"
    tags = ["partner"]
    security = SECURITY
    guards = [partner_only]

    @get("/", operation_id="partnerContactsGet", summary="The agency's contact people",
         opt={"action": "partner.contacts"}, responses=problem_docs(401, 403, 429))
    async def get_contacts(self, request: Request[Any, Any, Any], state: AppState) -> list[PartnerContactOut]:
        """In the agency's order, with their numbers."""
        async with state.db.connection() as conn:
            rows = await queries.contacts(conn, client_of(request)["id"])
        return service.contact_views(state.box, rows, masked=False)

    @put("/", operation_id="partnerContactsPut", summary="Replace the agency's contact people",
         opt={"action": "partner.contacts"}, responses=problem_docs(400, 401, 403, 429))
    async def put_contacts(self, request: Request[Any, Any, Any], state: AppState,
                           data: JSONBody[ContactsIn]) -> list[PartnerContactOut]:
        """At most 20; the whole list is replaced (names and phones stored encrypted)."""
        p = current_principal(request)
        async with state.db.transaction() as conn:
            rows = await service.replace_contacts(conn, state.box, actor_from(request, p), client_of(request),
                                                  data.contacts)
        return service.contact_views(state.box, rows, masked=False)
