"""A signed-in citizen's own items."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED

from api.errors import problem_docs
from api.idempotency import run_once
from api.pagination import Limit, Page, decode_cursor
from api.state import AppState
from auth.principal import current_principal
from modules.complaints import service
from modules.complaints.queries import list_items, own_item, own_read, public_view
from modules.complaints.routes import common
from modules.complaints.routes.common import UploadForm
from modules.complaints.schemas import (
    ComplaintCreate,
    ComplaintReceipt,
    ListItem,
    MaterialIn,
    PublicComplaint,
    RatingIn,
    ReviewIn,
)
from modules.kernel.files import DOWNLOAD_RESPONSES, UPLOAD_MAX_BODY, UPLOAD_OPT, AttachmentOut

if TYPE_CHECKING:
    import asyncpg

    from auth.principal import Principal

__all__ = ("CitizenController",)


def _own(state: AppState, p: Principal, complaint_id: UUID) -> common.Finder:
    async def find(conn: asyncpg.Connection, lock: bool) -> Any:
        row = await own_item(conn, complaint_id, p, lock=lock)
        await common.require_on(state, row["office_id"])
        return row
    return find

# Where what a 201 created is read: the new item, or the item material or a file was added to.
_ITEM = "/api/v1/me/complaints/{id}"
_ITEM_OF_PATH = "/api/v1/me/complaints/{complaint_id}"


class CitizenController(Controller):
    """A signed-in citizen's own items."""

    path = "/me/complaints"
    tags = ["complaints"]
    security = [{"bearer": []}]

    @post("/", operation_id="complaintFile", summary="File an item",
          opt={"action": "complaint.create", "idempotency": "required", "location": _ITEM},
          responses=problem_docs(400, 401, 403, 404, 409, 415, 422), status_code=HTTP_201_CREATED)
    async def create(self, request: Request[Any, Any, Any], state: AppState,
                     data: JSONBody[ComplaintCreate]) -> Response[ComplaintReceipt]:
        """File with an office. Requires an Idempotency-Key: a retry returns the first answer, never a second item."""
        p = current_principal(request)

        # The account's phone is the contact for replies (copied by the intake statement, in its transaction).
        reporter = service.Reporter(name=data.real_name, phone=None, id_number=data.id_number, from_account=True)
        return await run_once(state.db, request, p.sub, data, lambda conn: common.file_item(
            state, request, conn, data, principal=p, reporter=reporter, channel="app"))

    @get("/", operation_id="complaintListOwn", summary="My items", opt={"action": "complaint.own"},
         responses=problem_docs(400, 401, 403))
    async def list_items(self, request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
                         limit: FromQuery[Limit] = 20) -> Page[ListItem]:
        """Newest first."""
        p = current_principal(request)
        after = decode_cursor(cursor)
        async with state.db.connection() as conn:
            return await list_items(conn, limit=limit, after=after, complainant_id=p.user_id)

    @get("/{complaint_id:uuid}", operation_id="complaintGetOwn", summary="One of my items",
         opt={"action": "complaint.own"}, responses=problem_docs(400, 401, 403, 404))
    async def get_item(self, request: Request[Any, Any, Any], state: AppState,
                       complaint_id: FromPath[UUID]) -> PublicComplaint:
        """Status, public replies, deadlines."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            read = await own_read(conn, complaint_id, p)
            await common.require_on(state, read["item"]["office_id"])
            return await public_view(conn, None, read=read)

    @post("/{complaint_id:uuid}/materials", operation_id="complaintAddMaterial", summary="Add material",
          opt={"action": "complaint.own", "idempotency": "required", "location": _ITEM_OF_PATH},
          responses=problem_docs(400, 401, 403, 404, 409, 422),
          status_code=HTTP_201_CREATED)
    async def add_material(self, request: Request[Any, Any, Any], state: AppState, complaint_id: FromPath[UUID],
                           data: JSONBody[MaterialIn]) -> Response[PublicComplaint]:
        """More material (Idempotency-Key required)."""
        p = current_principal(request)
        return await common.add_material(state, request, p, p.sub, _own(state, p, complaint_id), data)

    @post("/{complaint_id:uuid}/rating", operation_id="complaintRate", summary="Rate the handling",
          opt={"action": "complaint.own"}, responses=problem_docs(400, 401, 403, 404, 409), status_code=200)
    async def rate(self, request: Request[Any, Any, Any], state: AppState, complaint_id: FromPath[UUID],
                   data: JSONBody[RatingIn]) -> PublicComplaint:
        """1 to 5 and a comment, once, after closure."""
        p = current_principal(request)
        return await common.rate(state, request, p, _own(state, p, complaint_id), data)

    @post("/{complaint_id:uuid}/reviews", operation_id="complaintReview", summary="Ask for a review",
          opt={"action": "complaint.own", "idempotency": "required", "location": _ITEM},
          responses=problem_docs(400, 401, 403, 404, 409, 422),
          status_code=HTTP_201_CREATED)
    async def review(self, request: Request[Any, Any, Any], state: AppState, complaint_id: FromPath[UUID],
                     data: JSONBody[ReviewIn]) -> Response[ComplaintReceipt]:
        """复查 within 30 days of closure, or 复核 of a review (Idempotency-Key required)."""
        p = current_principal(request)
        return await common.review(state, request, p, p.sub, _own(state, p, complaint_id), data, None)

    @post("/{complaint_id:uuid}/attachments", operation_id="complaintAttach", summary="Attach a file",
          opt={"action": "complaint.own", **UPLOAD_OPT, "location": _ITEM_OF_PATH + "/attachments/{id}"},
          request_max_body_size=UPLOAD_MAX_BODY,
          responses=problem_docs(400, 401, 403, 404, 409, 413, 415, 422), status_code=HTTP_201_CREATED)
    async def attach(self, request: Request[Any, Any, Any], state: AppState, complaint_id: FromPath[UUID],
                     data: UploadForm) -> Response[AttachmentOut]:
        """A photo, recording, video or PDF as multipart/form-data (field `file`); its type is read from the bytes.
        Images up to 20 MiB, audio 50 MiB, video 200 MiB. Refused once the item is concluded (409).
        Requires an Idempotency-Key."""
        p = current_principal(request)
        return await common.attach(state, request, p, p.sub, _own(state, p, complaint_id), data)

    @get("/{complaint_id:uuid}/attachments/{attachment_id:uuid}", operation_id="complaintAttachmentGetOwn",
         summary="Download an attachment", opt={"action": "complaint.own"},
         responses={**problem_docs(400, 401, 403, 404), **DOWNLOAD_RESPONSES})
    async def attachment(self, request: Request[Any, Any, Any], state: AppState, complaint_id: FromPath[UUID],
                         attachment_id: FromPath[UUID]) -> Stream:
        """The public copy only: photos re-encoded without EXIF (no location, no capture time). 404 when there is
        none to show."""
        p = current_principal(request)
        return await common.attachment(state, request, _own(state, p, complaint_id), attachment_id)
