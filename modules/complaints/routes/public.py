"""Complaints without an account: the catalog, anonymous filing, and following an item with its query code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, HeaderParameter, JSONBody
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED

from api.errors import ProblemError, problem_docs
from api.headers import NOT_MODIFIED, matches_etag
from api.idempotency import run_once
from api.net import client_ip, device_id
from api.state import AppState
from auth.ratelimit import Limit as RateLimit
from modules.complaints import service
from modules.complaints.queries import anonymous_item, anonymous_read, catalog, public_view
from modules.complaints.routes import common
from modules.complaints.routes.common import UploadForm
from modules.complaints.schemas import (
    AnonymousCreate,
    Catalog,
    ComplaintReceipt,
    MaterialIn,
    PublicComplaint,
    RatingIn,
    ReviewIn,
)
from modules.kernel.files import DOWNLOAD_RESPONSES, UPLOAD_MAX_BODY, UPLOAD_OPT, AttachmentOut

if TYPE_CHECKING:
    import asyncpg


__all__ = ("PublicController", "catalog_route")

QueryCode = Annotated[str, HeaderParameter(name="X-Query-Code", min_length=4, max_length=40,
                                           description="The query code given when the item was filed.")]
_LOOKUP_IP = RateLimit("complaint_lookup_ip_failed", 120, 900)
_LOOKUP_RECEIPT = RateLimit("complaint_lookup_receipt_failed", 20, 900)


@get("/offices/{office:str}/complaint-catalog", operation_id="complaintCatalog", tags=["complaints"],
     summary="Categories an office takes", opt={"public": True},
     responses={**problem_docs(400, 403, 404), **NOT_MODIFIED})
async def catalog_route(request: Request[Any, Any, Any], state: AppState, office: FromPath[str]) -> Response[Catalog]:
    """Kinds and categories with their extra fields. Cache it; `version` (and the ETag) change when it does:
    send the ETag back in `If-None-Match` and a 304 without a body says the copy is still current."""
    async with state.db.connection() as conn:
        body = await catalog(conn, await common.open_office(state, conn, office))
    headers = {"ETag": f'"{body.office}-{body.version}"', "Cache-Control": "public, max-age=60"}
    if matches_etag(request, headers["ETag"]):
        return Response(b"", status_code=304, headers=headers)  # type: ignore[arg-type]  # 304 has no body
    return Response(body, headers=headers)

# Where what a 201 created is read: the new item, or the item material or a file was added to.
_ITEM = "/api/v1/public/complaints/{receiptNo}"
_ITEM_OF_PATH = "/api/v1/public/complaints/{receipt_no}"


class PublicController(Controller):
    """Filing and following an item without an account: the receipt number and query code are the key."""

    path = "/public/complaints"
    tags = ["complaints"]

    @post("/", operation_id="complaintFileAnonymous", summary="File without an account",
          opt={"public": True, "idempotency": "required", "location": _ITEM},
          responses=problem_docs(400, 403, 404, 409, 415, 422, 429), status_code=HTTP_201_CREATED)
    async def create(self, request: Request[Any, Any, Any], state: AppState,
                     data: JSONBody[AnonymousCreate]) -> Response[ComplaintReceipt]:
        """Answers the receipt number and a query code shown only now. Requires an Idempotency-Key."""
        await state.limiter.enforce(RateLimit("complaint_anonymous_ip", state.settings.anonymous_filing_ip_limit, 3600),
                                    client_ip(request), "Too many items filed from this address.")
        reporter = service.Reporter(name=data.real_name, phone=common.phone(data.phone), id_number=data.id_number,
                                    anonymous=data.real_name is None)
        # Each filer (address and device) has a key space of its own: a key and body another filer sent never
        # replay their receipt number and query code.
        filer = state.box.blind_index(f"{client_ip(request)}|{device_id(request) or ''}", purpose="anonymous-filer")
        return await run_once(state.db, request, f"anonymous:{filer}", data, lambda conn: common.file_item(
            state, request, conn, data, principal=None, reporter=reporter, channel="app"))

    @staticmethod
    def _finder(request: Request[Any, Any, Any], state: AppState, receipt_no: str, code: str, *,
                whole: bool = False) -> common.Finder:
        """The item (with `whole`, its whole public read, for a GET) behind a receipt number and query code."""
        async def find(conn: asyncpg.Connection, lock: bool) -> Any:
            # Only wrong codes count, per address and per receipt at that address: strangers guessing cannot lock
            # the filer out, and the right code always works (ten random characters: counting guesses is enough).
            try:
                found = (await anonymous_read(conn, state.box, receipt_no, code) if whole
                         else await anonymous_item(conn, state.box, receipt_no, code, lock=lock))
            except ProblemError:
                ip = client_ip(request)
                await state.limiter.enforce(_LOOKUP_IP, ip, "Too many wrong look-ups from this address.")
                await state.limiter.enforce(_LOOKUP_RECEIPT, f"{receipt_no}|{ip}",
                                            "Too many wrong look-ups of this receipt number from this address.")
                raise
            await common.require_on(state, (found["item"] if whole else found)["office_id"])
            return found
        return find

    @get("/{receipt_no:str}", operation_id="complaintGetAnonymous", summary="Follow an item by receipt number",
         opt={"public": True}, responses=problem_docs(400, 403, 404, 429))
    async def get_item(self, request: Request[Any, Any, Any], state: AppState, receipt_no: FromPath[str],
                       code: QueryCode) -> PublicComplaint:
        """Status, public replies and deadlines. A wrong code answers 404, like a missing item."""
        async with state.db.connection() as conn:
            read = await self._finder(request, state, receipt_no, code, whole=True)(conn, False)
            return await public_view(conn, None, read=read)

    @post("/{receipt_no:str}/materials", operation_id="complaintAddMaterialAnonymous", summary="Add material",
          opt={"public": True, "idempotency": "required", "location": _ITEM_OF_PATH},
          responses=problem_docs(400, 403, 404, 409, 422, 429), status_code=HTTP_201_CREATED)
    async def add_material(self, request: Request[Any, Any, Any], state: AppState, receipt_no: FromPath[str],
                           code: QueryCode, data: JSONBody[MaterialIn]) -> Response[PublicComplaint]:
        """More material for the item (it goes back to triage if material was asked for)."""
        return await common.add_material(state, request, None, f"anon:{receipt_no}",
                                         self._finder(request, state, receipt_no, code), data)

    @post("/{receipt_no:str}/rating", operation_id="complaintRateAnonymous", summary="Rate the handling",
          opt={"public": True}, responses=problem_docs(400, 403, 404, 409, 429), status_code=200)
    async def rate(self, request: Request[Any, Any, Any], state: AppState, receipt_no: FromPath[str], code: QueryCode,
                   data: JSONBody[RatingIn]) -> PublicComplaint:
        """1 to 5 and a comment, once, after closure."""
        return await common.rate(state, request, None, self._finder(request, state, receipt_no, code), data)

    @post("/{receipt_no:str}/reviews", operation_id="complaintReviewAnonymous", summary="Ask for a review",
          opt={"public": True, "idempotency": "required", "location": _ITEM},
          responses=problem_docs(400, 403, 404, 409, 422, 429), status_code=HTTP_201_CREATED)
    async def review(self, request: Request[Any, Any, Any], state: AppState, receipt_no: FromPath[str], code: QueryCode,
                     data: JSONBody[ReviewIn]) -> Response[ComplaintReceipt]:
        """复查 within 30 days of closure (复核 of a review); the review is followed with the same code."""
        return await common.review(state, request, None, f"anon:{receipt_no}",
                                   self._finder(request, state, receipt_no, code), data, code)

    @post("/{receipt_no:str}/attachments", operation_id="complaintAttachAnonymous", summary="Attach a file",
          opt={"public": True, **UPLOAD_OPT, "location": _ITEM_OF_PATH + "/attachments/{id}"},
          request_max_body_size=UPLOAD_MAX_BODY,
          responses=problem_docs(400, 403, 404, 409, 413, 415, 422, 429), status_code=HTTP_201_CREATED)
    async def attach(self, request: Request[Any, Any, Any], state: AppState, receipt_no: FromPath[str], code: QueryCode,
                     data: UploadForm) -> Response[AttachmentOut]:
        """A photo, recording, video or PDF as multipart/form-data (field `file`); its type is read from the bytes.
        Images up to 20 MiB, audio 50 MiB, video 200 MiB. Refused once the item is concluded (409).
        Requires an Idempotency-Key."""
        return await common.attach(state, request, None, f"anon:{receipt_no}",
                                   self._finder(request, state, receipt_no, code), data)

    @get("/{receipt_no:str}/attachments/{attachment_id:uuid}", operation_id="complaintAttachmentGetAnonymous",
         summary="Download an attachment", opt={"public": True},
         responses={**problem_docs(400, 403, 404, 429), **DOWNLOAD_RESPONSES})
    async def attachment(self, request: Request[Any, Any, Any], state: AppState, receipt_no: FromPath[str],
                         code: QueryCode, attachment_id: FromPath[UUID]) -> Stream:
        """The public copy only: photos re-encoded without EXIF (no location, no capture time). 404 when there is
        none to show."""
        return await common.attachment(state, request, self._finder(request, state, receipt_no, code), attachment_id)
