"""HTTP routes of the complaints module: the public app (signed in or anonymous), staff, and admins."""

from __future__ import annotations

import time
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED

from api.errors import ErrorCode, ProblemError, problem_docs
from api.idempotency import run_once
from api.outbox import emit
from api.net import client_ip
from api.pagination import Limit, Page, decode_cursor, page_of
from auth.audit import actor_from, record
from auth.principal import Principal, current_principal
from auth.ratelimit import Limit as RateLimit
from auth.tokens import normalize_phone
from modules.clocks.store import today
from modules.complaints import service
from modules.complaints.attachments import (
    DOWNLOAD_RESPONSES, UPLOAD_MAX_BODY, UPLOAD_OPT, AttachmentUpload, download, upload,
)
from modules.complaints.queries import (
    anonymous_item, attachment_row, office_by_code, own_item, public_view, staff_item, staff_view,
)
from modules.complaints.rules import KINDS, STATE_LABELS, WORKFLOW
from modules.complaints.schemas import (
    AnonymousCreate, AssignmentIn, AttachmentOut, Catalog, CategoryField, CategoryIn, CategoryOut, ClockEventIn,
    ComplaintCreate, ComplaintReceipt, ListItem, MaterialIn, NoteIn, PublicComplaint, RatingIn, ReplyIn, ReviewIn,
    StaffComplaint, StaffCreate, StepIn, TemplateIn, TemplateOut, TransferIn,
)

if TYPE_CHECKING:
    import asyncpg
    from litestar.datastructures import State

__all__ = ("AdminCatalogController", "CitizenController", "PublicController", "StaffController", "catalog_route")

MODULE = "complaints"
_BEARER = [{"bearer": []}]
QueryCode = Annotated[str, HeaderParameter(name="X-Query-Code", min_length=4, max_length=40,
                                           description="The query code given when the item was filed.")]
_LOOKUP_IP = RateLimit("complaint_lookup_ip", 120, 900)
_LOOKUP_RECEIPT = RateLimit("complaint_lookup_receipt", 20, 900)
_ANON_CREATE_IP = RateLimit("complaint_anonymous_ip", 30, 3600)
_fields_decoder = msgspec.json.Decoder(list[CategoryField])
# A multipart upload with one file in the field `file`; its type is sniffed from the bytes, never taken from here.
UploadForm = Annotated[AttachmentUpload, Body(media_type=RequestEncodingType.MULTI_PART,
                                              description="One file in the form field `file`.")]


async def _actions(state: State, p: Principal) -> frozenset[str]:
    grants = await state.permissions.grants(p.office_id)
    return frozenset().union(*(grants.get(r, frozenset()) for r in p.effective_roles))


_CATEGORY_TTL = 5.0
_categories: dict[tuple[UUID, str], tuple[float, Any]] = {}


async def _category(conn: asyncpg.Connection, office_id: UUID, code: str) -> Any:
    # Read on every filing; an admin's change reaches every worker within five seconds.
    hit = _categories.get((office_id, code))
    if hit and hit[0] > time.monotonic():
        return hit[1]
    row = await conn.fetchrow("select * from complaint_categories where office_id = $1 and code = $2 and active",
                              office_id, code)
    if row is not None:
        _categories[(office_id, code)] = (time.monotonic() + _CATEGORY_TTL, row)
    if row is None:
        raise ProblemError(400, ErrorCode.VALIDATION_FAILED, "No such category at this office.",
                           errors=[{"field": "category", "message": "unknown or inactive category"}])
    return row


def _receipt(row: Any, query_code: str | None) -> ComplaintReceipt:
    return ComplaintReceipt(id=row["id"], receipt_no=row["receipt_no"], state=row["state"],
                            created_at=row["created_at"], query_code=query_code,
                            possible_duplicates=len(row["possible_duplicates"]))


async def _open_office(state: State, conn: asyncpg.Connection, code: str) -> Any:
    office = await office_by_code(conn, code)
    await state.modules.require(office["id"], MODULE)
    return office


async def _file(state: State, request: Request[Any, Any, Any], conn: asyncpg.Connection, data: Any, *,
                principal: Principal | None, reporter: service.Reporter, channel: str) -> tuple[int, ComplaintReceipt]:
    if hasattr(data, "office"):
        office = await office_by_code(conn, data.office)
    else:
        office = await conn.fetchrow("select id, code, name from offices where id = $1", principal.office_id)  # type: ignore[union-attr]
    config = await state.modules.require(office["id"], MODULE)
    category = await _category(conn, office["id"], data.category)
    fields = service.check_fields(_fields_decoder.decode(msgspec.json.encode(category["fields"])), data.fields)
    citizen = principal if principal is not None and principal.kind == "citizen" else None
    row, code = await service.create(
        conn, state.box, actor_from(request, principal), office=office, category=category, title=data.title,
        body=data.body, location=data.location, persons=msgspec.to_builtins(data.persons_reported), fields=fields,
        channel=channel, reporter=reporter, complainant_id=citizen.user_id if citizen else None,
        created_by=principal.user_id if principal is not None and principal.kind == "staff" else None,
        received_at=getattr(data, "received_at", None), clock_overrides=config.get("clocks"),
    )
    return HTTP_201_CREATED, _receipt(row, code)


def _phone(raw: str | None) -> str | None:
    if raw is None:
        return None
    phone = normalize_phone(raw)
    if phone is None:
        raise ProblemError(400, ErrorCode.VALIDATION_FAILED, "Not a mainland mobile number.",
                           errors=[{"field": "phone", "message": "expected 11 digits starting with 1"}])
    return phone


@get("/offices/{office:str}/complaint-catalog", operation_id="complaintCatalog", tags=["complaints"],
     summary="Categories an office takes", opt={"public": True}, responses=problem_docs(400, 403, 404))
async def catalog_route(state: State, office: FromPath[str]) -> Response[Catalog]:
    """Kinds and categories with their extra fields. Cache it; `version` (and the ETag) change when it does."""
    async with state.db.connection() as conn:
        o = await _open_office(state, conn, office)
        rows = await conn.fetch("select * from complaint_categories where office_id = $1 and active "
                                "order by sort, code", o["id"])
    version = sum(r["version"] for r in rows) + len(rows)
    body = Catalog(office=o["code"], version=version, categories=[
        CategoryOut(code=r["code"], kind=r["kind"], kind_label=KINDS[r["kind"]], name=r["name"],
                    description=r["description"], fields=sorted(r["fields"], key=lambda f: f.get("order", 0)),
                    version=r["version"]) for r in rows])
    return Response(body, headers={"ETag": f'"{o["code"]}-{version}"', "Cache-Control": "public, max-age=60"})


class PublicController(Controller):
    """Filing and following an item without an account: the receipt number and query code are the key."""

    path = "/public/complaints"
    tags = ["complaints"]

    @post("/", operation_id="complaintFileAnonymous", summary="File without an account", opt={"public": True},
          responses=problem_docs(400, 403, 404, 409, 415, 422, 429), status_code=HTTP_201_CREATED)
    async def create(self, request: Request[Any, Any, Any], state: State,
                     data: JSONBody[AnonymousCreate]) -> Response[ComplaintReceipt]:
        """Answers the receipt number and a query code shown only now. Requires an Idempotency-Key."""
        await state.limiter.enforce(_ANON_CREATE_IP, client_ip(request), "Too many items filed from this address.")
        reporter = service.Reporter(name=data.real_name, phone=_phone(data.phone), id_number=data.id_number,
                                    anonymous=data.real_name is None)
        return await run_once(state.db, request, "anonymous", data, lambda conn: _file(
            state, request, conn, data, principal=None, reporter=reporter, channel="app"))

    async def _find(self, request: Request[Any, Any, Any], state: State, conn: asyncpg.Connection, receipt_no: str,
                    code: str, lock: bool = False) -> Any:
        await state.limiter.enforce(_LOOKUP_IP, client_ip(request), "Too many look-ups from this address.")
        await state.limiter.enforce(_LOOKUP_RECEIPT, receipt_no, "Too many look-ups of this receipt number.")
        row = await anonymous_item(conn, state.box, receipt_no, code, lock=lock)
        await state.modules.require(row["office_id"], MODULE)
        return row

    @get("/{receipt_no:str}", operation_id="complaintGetAnonymous", summary="Follow an item by receipt number",
         opt={"public": True}, responses=problem_docs(400, 403, 404, 429))
    async def get_item(self, request: Request[Any, Any, Any], state: State, receipt_no: FromPath[str],
                  code: QueryCode) -> PublicComplaint:
        """Status, public replies and deadlines. A wrong code answers 404, like a missing item."""
        async with state.db.connection() as conn:
            return await public_view(conn, await self._find(request, state, conn, receipt_no, code))

    @post("/{receipt_no:str}/materials", operation_id="complaintAddMaterialAnonymous", summary="Add material",
          opt={"public": True}, responses=problem_docs(400, 403, 404, 409, 422, 429), status_code=HTTP_201_CREATED)
    async def add_material(self, request: Request[Any, Any, Any], state: State, receipt_no: FromPath[str],
                           code: QueryCode, data: JSONBody[MaterialIn]) -> Response[PublicComplaint]:
        """More material for the item (it goes back to triage if material was asked for)."""
        async def work(conn: asyncpg.Connection) -> tuple[int, PublicComplaint]:
            row = await self._find(request, state, conn, receipt_no, code, lock=True)
            return 201, await _add_material(conn, request, None, row, data)
        return await run_once(state.db, request, f"anon:{receipt_no}", data, work)

    @post("/{receipt_no:str}/rating", operation_id="complaintRateAnonymous", summary="Rate the handling",
          opt={"public": True}, responses=problem_docs(400, 403, 404, 409, 429), status_code=200)
    async def rate(self, request: Request[Any, Any, Any], state: State, receipt_no: FromPath[str], code: QueryCode,
                   data: JSONBody[RatingIn]) -> PublicComplaint:
        """1 to 5 and a comment, once, after closure."""
        async with state.db.transaction() as conn:
            row = await self._find(request, state, conn, receipt_no, code, lock=True)
            return await _rate(conn, request, None, row, data)

    @post("/{receipt_no:str}/reviews", operation_id="complaintReviewAnonymous", summary="Ask for a review",
          opt={"public": True}, responses=problem_docs(400, 403, 404, 409, 422, 429), status_code=HTTP_201_CREATED)
    async def review(self, request: Request[Any, Any, Any], state: State, receipt_no: FromPath[str], code: QueryCode,
                     data: JSONBody[ReviewIn]) -> Response[ComplaintReceipt]:
        """复查 within 30 days of closure (复核 of a review); the review is followed with the same code."""
        async def work(conn: asyncpg.Connection) -> tuple[int, ComplaintReceipt]:
            row = await self._find(request, state, conn, receipt_no, code, lock=True)
            new = await _review(state, conn, request, None, row, data, code)
            return 201, _receipt(new, None)
        return await run_once(state.db, request, f"anon:{receipt_no}", data, work)

    @post("/{receipt_no:str}/attachments", operation_id="complaintAttachAnonymous", summary="Attach a file",
          opt={"public": True, **UPLOAD_OPT}, request_max_body_size=UPLOAD_MAX_BODY,
          responses=problem_docs(400, 403, 404, 409, 413, 415, 422, 429), status_code=HTTP_201_CREATED)
    async def attach(self, request: Request[Any, Any, Any], state: State, receipt_no: FromPath[str], code: QueryCode,
                     data: UploadForm) -> Response[AttachmentOut]:
        """A photo, recording, video or PDF as multipart/form-data (field `file`); its type is read from the bytes.
        Images up to 20 MiB, audio 50 MiB, video 200 MiB. Refused once the item is concluded (409).
        Requires an Idempotency-Key."""
        async with state.db.connection() as conn:
            row = await self._find(request, state, conn, receipt_no, code)
        return await upload(state, request, data, scope=f"anon:{receipt_no}", principal=None, row=row, public=True,
                            relock=lambda conn: anonymous_item(conn, state.box, receipt_no, code, lock=True))

    @get("/{receipt_no:str}/attachments/{attachment_id:uuid}", operation_id="complaintAttachmentGetAnonymous",
         summary="Download an attachment", opt={"public": True},
         responses={**problem_docs(400, 403, 404, 429), **DOWNLOAD_RESPONSES})
    async def attachment(self, request: Request[Any, Any, Any], state: State, receipt_no: FromPath[str],
                         code: QueryCode, attachment_id: FromPath[UUID]) -> Stream:
        """The public copy only: photos re-encoded without EXIF (no location, no capture time). 404 when there is
        none to show."""
        async with state.db.connection() as conn:
            row = await self._find(request, state, conn, receipt_no, code)
            att = await attachment_row(conn, row["id"], attachment_id, public=True)
        return await download(state, request, att, original=False)


async def _add_material(conn: asyncpg.Connection, request: Request[Any, Any, Any], p: Principal | None, row: Any,
                        data: MaterialIn) -> PublicComplaint:
    if row["state"] in ("referred", "not_accepted", "closed"):
        raise ProblemError(409, ErrorCode.CONFLICT, f"The item is {row['state']}; ask for a review instead.")
    actor = actor_from(request, p)
    await service.add_event(conn, row["id"], actor, "material", public=True, body=data.text)
    if row["state"] == "awaiting_material":
        row = await conn.fetchrow("update complaints set state = 'received', updated_at = now() where id = $1 "
                                  "returning *", row["id"])
    await record(conn, actor, "complaint.material_added", office_id=row["office_id"], object_type="complaint",
                 object_id=row["id"])
    await emit(conn, "complaint.staff", {"complaintId": str(row["id"]), "event": "material"}, office_id=row["office_id"])
    return await public_view(conn, row)


async def _rate(conn: asyncpg.Connection, request: Request[Any, Any, Any], p: Principal | None, row: Any,
                data: RatingIn) -> PublicComplaint:
    if row["state"] != "closed":
        raise ProblemError(409, ErrorCode.CONFLICT, "An item can be rated once it is closed.")
    if row["rating"] is not None:
        raise ProblemError(409, ErrorCode.CONFLICT, "This item was already rated.")
    row = await conn.fetchrow("update complaints set rating = $2, rating_comment = $3, rated_at = now() "
                              "where id = $1 returning *", row["id"], data.score, data.comment)
    await record(conn, actor_from(request, p), "complaint.rated", office_id=row["office_id"], object_type="complaint",
                 object_id=row["id"], detail={"score": data.score})
    return await public_view(conn, row)


async def _review(state: State, conn: asyncpg.Connection, request: Request[Any, Any, Any], p: Principal | None,
                  row: Any, data: ReviewIn, code: str | None) -> Any:
    # 复查 and 复核 are for the organ one level up (信访工作条例 Art. 35, 36), where it runs this module.
    office = await conn.fetchrow("select id, code, name, parent_id from offices where id = $1", row["office_id"])
    if office["parent_id"] is not None and (await state.modules.get(office["parent_id"], MODULE))[0]:
        office = await conn.fetchrow("select id, code, name from offices where id = $1", office["parent_id"])
    category = await conn.fetchrow("select * from complaint_categories where id = $1", row["category_id"])
    return await service.request_review(conn, state.box, actor_from(request, p), row, data.reason, office, category,
                                        query_code=code)


async def _own(state: State, conn: asyncpg.Connection, complaint_id: UUID, p: Principal, *, lock: bool = False) -> Any:
    """The signed-in citizen's own item (else 404), in an office where the module is on."""
    row = await own_item(conn, complaint_id, p, lock=lock)
    await state.modules.require(row["office_id"], MODULE)
    return row


class CitizenController(Controller):
    """A signed-in citizen's own items."""

    path = "/me/complaints"
    tags = ["complaints"]
    security = _BEARER

    @post("/", operation_id="complaintFile", summary="File an item", opt={"action": "complaint.create"},
          responses=problem_docs(400, 401, 403, 404, 409, 415, 422), status_code=HTTP_201_CREATED)
    async def create(self, request: Request[Any, Any, Any], state: State,
                     data: JSONBody[ComplaintCreate]) -> Response[ComplaintReceipt]:
        """File with an office. Requires an Idempotency-Key: a retry returns the first answer, never a second item."""
        p = current_principal(request)

        async def work(conn: asyncpg.Connection) -> tuple[int, ComplaintReceipt]:
            # The account's phone is the contact for replies (read in the command's own transaction).
            enc = await conn.fetchval("select phone_enc from users where id = $1", p.user_id)
            phone = state.box.decrypt_text(enc, aad=b"phone") if enc else None
            reporter = service.Reporter(name=data.real_name, phone=phone, id_number=data.id_number)
            return await _file(state, request, conn, data, principal=p, reporter=reporter, channel="app")
        return await run_once(state.db, request, p.sub, data, work)

    @get("/", operation_id="complaintListOwn", summary="My items", opt={"action": "complaint.own"},
         responses=problem_docs(400, 401, 403))
    async def list_items(self, request: Request[Any, Any, Any], state: State, cursor: FromQuery[str | None] = None,
                   limit: FromQuery[Limit] = 20) -> Page[ListItem]:
        """Newest first."""
        p = current_principal(request)
        after = decode_cursor(cursor)
        async with state.db.connection() as conn:
            rows = await conn.fetch(
                f"""{_LIST_SELECT} where c.complainant_id = $1
                  and ($2::timestamptz is null or (c.created_at, c.id) < ($2, $3::uuid))
                order by c.created_at desc, c.id desc limit $4""",
                p.user_id, after.at if after else None, after.id if after else None, limit + 1)
        return page_of(rows, limit, _list_item, lambda r: (r["created_at"], r["id"]))

    @get("/{complaint_id:uuid}", operation_id="complaintGetOwn", summary="One of my items",
         opt={"action": "complaint.own"}, responses=problem_docs(400, 401, 403, 404))
    async def get_item(self, request: Request[Any, Any, Any], state: State, complaint_id: FromPath[UUID]) -> PublicComplaint:
        """Status, public replies, deadlines."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            row = await _own(state, conn, complaint_id, p)
            return await public_view(conn, row)

    @post("/{complaint_id:uuid}/materials", operation_id="complaintAddMaterial", summary="Add material",
          opt={"action": "complaint.own"}, responses=problem_docs(400, 401, 403, 404, 409, 422),
          status_code=HTTP_201_CREATED)
    async def add_material(self, request: Request[Any, Any, Any], state: State, complaint_id: FromPath[UUID],
                           data: JSONBody[MaterialIn]) -> Response[PublicComplaint]:
        """More material (Idempotency-Key required)."""
        p = current_principal(request)

        async def work(conn: asyncpg.Connection) -> tuple[int, PublicComplaint]:
            row = await _own(state, conn, complaint_id, p, lock=True)
            return 201, await _add_material(conn, request, p, row, data)
        return await run_once(state.db, request, p.sub, data, work)

    @post("/{complaint_id:uuid}/rating", operation_id="complaintRate", summary="Rate the handling",
          opt={"action": "complaint.own"}, responses=problem_docs(400, 401, 403, 404, 409), status_code=200)
    async def rate(self, request: Request[Any, Any, Any], state: State, complaint_id: FromPath[UUID],
                   data: JSONBody[RatingIn]) -> PublicComplaint:
        """1 to 5 and a comment, once, after closure."""
        p = current_principal(request)
        async with state.db.transaction() as conn:
            row = await _own(state, conn, complaint_id, p, lock=True)
            return await _rate(conn, request, p, row, data)

    @post("/{complaint_id:uuid}/reviews", operation_id="complaintReview", summary="Ask for a review",
          opt={"action": "complaint.own"}, responses=problem_docs(400, 401, 403, 404, 409, 422),
          status_code=HTTP_201_CREATED)
    async def review(self, request: Request[Any, Any, Any], state: State, complaint_id: FromPath[UUID],
                     data: JSONBody[ReviewIn]) -> Response[ComplaintReceipt]:
        """复查 within 30 days of closure, or 复核 of a review (Idempotency-Key required)."""
        p = current_principal(request)

        async def work(conn: asyncpg.Connection) -> tuple[int, ComplaintReceipt]:
            row = await _own(state, conn, complaint_id, p, lock=True)
            return 201, _receipt(await _review(state, conn, request, p, row, data, None), None)
        return await run_once(state.db, request, p.sub, data, work)

    @post("/{complaint_id:uuid}/attachments", operation_id="complaintAttach", summary="Attach a file",
          opt={"action": "complaint.own", **UPLOAD_OPT}, request_max_body_size=UPLOAD_MAX_BODY,
          responses=problem_docs(400, 401, 403, 404, 409, 413, 415, 422), status_code=HTTP_201_CREATED)
    async def attach(self, request: Request[Any, Any, Any], state: State, complaint_id: FromPath[UUID],
                     data: UploadForm) -> Response[AttachmentOut]:
        """A photo, recording, video or PDF as multipart/form-data (field `file`); its type is read from the bytes.
        Images up to 20 MiB, audio 50 MiB, video 200 MiB. Refused once the item is concluded (409).
        Requires an Idempotency-Key."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            row = await own_item(conn, complaint_id, p)
        await state.modules.require(row["office_id"], MODULE)
        return await upload(state, request, data, scope=p.sub, principal=p, row=row, public=True,
                            relock=lambda conn: own_item(conn, complaint_id, p, lock=True))

    @get("/{complaint_id:uuid}/attachments/{attachment_id:uuid}", operation_id="complaintAttachmentGetOwn",
         summary="Download an attachment", opt={"action": "complaint.own"},
         responses={**problem_docs(400, 401, 403, 404), **DOWNLOAD_RESPONSES})
    async def attachment(self, request: Request[Any, Any, Any], state: State, complaint_id: FromPath[UUID],
                         attachment_id: FromPath[UUID]) -> Stream:
        """The public copy only: photos re-encoded without EXIF (no location, no capture time). 404 when there is
        none to show."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            row = await _own(state, conn, complaint_id, p)
            att = await attachment_row(conn, row["id"], attachment_id, public=True)
        return await download(state, request, att, original=False)


_LIST_SELECT = """
select c.id, c.receipt_no, c.kind, c.title, c.state, c.channel, c.assignee_id, c.created_at, cat.code as category,
       (select min(k.due) from clocks k where k.subject_id = c.id and k.status in ('running', 'paused')) as next_due
from complaints c left join complaint_categories cat on cat.id = c.category_id
"""


def _list_item(r: Any) -> ListItem:
    return ListItem(id=r["id"], receipt_no=r["receipt_no"], kind=r["kind"], category=r["category"], title=r["title"],
                    state=r["state"], channel=r["channel"], assignee_id=r["assignee_id"], created_at=r["created_at"],
                    next_due=r["next_due"])


class Deadline(msgspec.Struct, rename="camel"):
    """An open deadline of the office that is overdue or due soon."""

    complaint_id: UUID
    receipt_no: str
    title: str
    clock: str
    occurrence: int
    due: date
    overdue: bool
    assignee_id: UUID | None
    # The due date falls in (or the period crosses) a year whose holiday notice is not entered yet.
    calendar_estimated: bool = False


class Rate(msgspec.Struct, rename="camel"):
    """On-time figures of one clock over a period: rate = met on time / (met + late + overdue)."""

    clock: str
    met_on_time: int
    met_late: int
    overdue: int
    pending: int
    exempt: int
    rate: float | None
    # How many of these clocks' due dates are estimates (a year without its holiday notice).
    calendar_estimated: int = 0


class Stats(msgspec.Struct, rename="camel"):
    """The office's reply compliance (7-day procedural and 3-month result replies, as reported nationally)."""

    office: str
    since: date
    until: date
    rates: list[Rate]


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class StaffController(Controller):
    """The office's intake queue and handling. Another office's items answer 404."""

    path = "/staff/complaints"
    tags = ["complaints"]
    security = _BEARER

    async def _item(self, state: State, conn: asyncpg.Connection, complaint_id: UUID, p: Principal) -> Any:
        await state.modules.require(p.office_id, MODULE)  # type: ignore[arg-type]
        return await staff_item(conn, complaint_id, p, lock=True)

    async def _view(self, state: State, conn: asyncpg.Connection, row: Any, p: Principal) -> StaffComplaint:
        actions = await _actions(state, p)
        return await staff_view(conn, state.box, row, may_see_identity="complaint.identity.view" in actions,
                                actions=actions)

    @post("/", operation_id="complaintFileForVisitor", summary="File for a visitor, caller or letter",
          opt={"action": "complaint.file_for_visitor"}, responses=problem_docs(400, 401, 403, 409, 415, 422),
          status_code=HTTP_201_CREATED)
    async def create(self, request: Request[Any, Any, Any], state: State,
                     data: JSONBody[StaffCreate]) -> Response[ComplaintReceipt]:
        """The channel is recorded; the office is the caller's own (Idempotency-Key required)."""
        p = current_principal(request)
        v = data.visitor
        reporter = service.Reporter(name=v.name if v else None, phone=_phone(v.phone) if v else None,
                                    id_number=v.id_number if v else None, reachable=v.reachable if v else True,
                                    anonymous=v is None or v.name is None)
        return await run_once(state.db, request, p.sub, data, lambda conn: _file(
            state, request, conn, data, principal=p, reporter=reporter, channel=data.channel))

    @get("/", operation_id="complaintList", summary="The office's items", opt={"action": "complaint.read"},
         responses=problem_docs(400, 401, 403))
    async def list_items(
        self, request: Request[Any, Any, Any], state: State, cursor: FromQuery[str | None] = None,
        limit: FromQuery[Limit] = 50,
        item_state: Annotated[str | None, QueryParameter(name="state", max_length=40)] = None,
        kind: FromQuery[str | None] = None, category: FromQuery[str | None] = None,
        assignee: FromQuery[UUID | None] = None,
        due_before: Annotated[date | None, QueryParameter(name="dueBefore")] = None,
        q: Annotated[str | None, QueryParameter(min_length=2, max_length=100)] = None,
    ) -> Page[ListItem]:
        """Newest first; filter by state, kind, category code, assignee, an open deadline due on or before a date,
        and text (Chinese or not) in the title and body. Cursor-paginated."""
        p = current_principal(request)
        await state.modules.require(p.office_id, MODULE)  # type: ignore[arg-type]
        after = decode_cursor(cursor)
        where, args = ["c.office_id = $1"], [p.office_id]

        def add(clause: str, value: Any) -> None:
            args.append(value)
            where.append(clause.replace("?", f"${len(args)}"))

        if item_state:
            add("c.state = ?", item_state)
        if kind:
            add("c.kind = ?", kind)
        if category:
            add("c.category_id = (select id from complaint_categories where office_id = $1 and code = ?)", category)
        if assignee:
            add("c.assignee_id = ?", assignee)
        if due_before:
            add("exists (select 1 from clocks k where k.subject_id = c.id and k.status in ('running', 'paused') "
                "and k.due <= ?::date)", due_before)
        if q:
            add("(c.title || ' ' || c.body) ilike ?", _like(q))
        if after:
            args.extend([after.at, after.id])
            where.append(f"(c.created_at, c.id) < (${len(args) - 1}, ${len(args)}::uuid)")
        args.append(limit + 1)
        sql = f"{_LIST_SELECT} where {' and '.join(where)} order by c.created_at desc, c.id desc limit ${len(args)}"
        async with state.db.connection() as conn:
            rows = await conn.fetch(sql, *args)
        return page_of(rows, limit, _list_item, lambda r: (r["created_at"], r["id"]))

    @get("/{complaint_id:uuid}", operation_id="complaintGet", summary="One item, with its timeline and deadlines",
         opt={"action": "complaint.read"}, responses=problem_docs(400, 401, 403, 404))
    async def get_item(self, request: Request[Any, Any, Any], state: State, complaint_id: FromPath[UUID]) -> StaffComplaint:
        """Identities are masked unless the caller's permission list allows them."""
        p = current_principal(request)
        await state.modules.require(p.office_id, MODULE)  # type: ignore[arg-type]
        async with state.db.connection() as conn:
            return await self._view(state, conn, await staff_item(conn, complaint_id, p), p)

    @post("/{complaint_id:uuid}/steps", operation_id="complaintStep", summary="Take a workflow step",
          opt={"action": "complaint.read"}, responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=200)
    async def step(self, request: Request[Any, Any, Any], state: State, complaint_id: FromPath[UUID],
                   data: JSONBody[StepIn]) -> Response[StaffComplaint]:
        """accept, request_material, refer, reject, close, reopen — each checked against the permission list."""
        p = current_principal(request)

        async def work(conn: asyncpg.Connection) -> tuple[int, StaffComplaint]:
            row = await self._item(state, conn, complaint_id, p)
            fields = {"reason": data.reason, "referredTo": data.referred_to, "disposition": data.disposition}
            t = WORKFLOW.move(row["state"], data.step, fields)
            if t.action not in await _actions(state, p):
                raise ProblemError(403, ErrorCode.FORBIDDEN, f"Your permission list does not allow {data.step}.",
                                   extra={"action": t.action})
            text = await _reply_text(conn, row, data.reply, data.template, fields)
            updated = await service.apply_step(conn, actor_from(request, p), row, data.step, fields, text)
            return 200, await self._view(state, conn, updated, p)
        return await run_once(state.db, request, p.sub, data, work, required=False)

    @post("/{complaint_id:uuid}/assignment", operation_id="complaintAssign", summary="Assign a handler",
          opt={"action": "complaint.assign"}, responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=200)
    async def assign(self, request: Request[Any, Any, Any], state: State, complaint_id: FromPath[UUID],
                     data: JSONBody[AssignmentIn]) -> Response[StaffComplaint]:
        """Random among eligible handlers under the office's plan (recorded), or designated with a reason."""
        p = current_principal(request)
        if data.mode == "designate" and "complaint.designate" not in await _actions(state, p):
            raise ProblemError(403, ErrorCode.FORBIDDEN, "Designation needs the chief's right (complaint.designate).")

        async def work(conn: asyncpg.Connection) -> tuple[int, StaffComplaint]:
            row = await self._item(state, conn, complaint_id, p)
            config = await state.modules.require(p.office_id, MODULE)  # type: ignore[arg-type]
            updated = await service.assign(conn, actor_from(request, p), row, mode=data.mode,
                                           assignee_id=data.assignee_id, reason=data.reason,
                                           plan=config.get("assignment", {}))
            return 200, await self._view(state, conn, updated, p)
        return await run_once(state.db, request, p.sub, data, work, required=False)

    @post("/{complaint_id:uuid}/transfer", operation_id="complaintTransfer", summary="Transfer an item",
          opt={"action": "complaint.transfer"}, responses=problem_docs(400, 401, 403, 404, 409), status_code=200)
    async def transfer(self, request: Request[Any, Any, Any], state: State, complaint_id: FromPath[UUID],
                       data: JSONBody[TransferIn]) -> Response[ListItem]:
        """To another office (it becomes responsible; this office keeps the record as first receiver)."""
        p = current_principal(request)

        async def work(conn: asyncpg.Connection) -> tuple[int, ListItem]:
            row = await self._item(state, conn, complaint_id, p)
            to_office = None
            if data.office and data.office != (await conn.fetchval("select code from offices where id = $1",
                                                                    p.office_id)):
                to_office = await _open_office(state, conn, data.office)
            updated = await service.transfer(conn, actor_from(request, p), row, to_office=to_office,
                                             department=data.department, reason=data.reason)
            listed = await conn.fetchrow(f"{_LIST_SELECT} where c.id = $1", updated["id"])
            return 200, _list_item(listed)
        return await run_once(state.db, request, p.sub, data, work, required=False)

    @post("/{complaint_id:uuid}/notes", operation_id="complaintNote", summary="Add an internal note",
          opt={"action": "complaint.note"}, responses=problem_docs(400, 401, 403, 404, 422),
          status_code=HTTP_201_CREATED)
    async def note(self, request: Request[Any, Any, Any], state: State, complaint_id: FromPath[UUID],
                   data: JSONBody[NoteIn]) -> Response[StaffComplaint]:
        """Never shown to the public (Idempotency-Key required)."""
        p = current_principal(request)

        async def work(conn: asyncpg.Connection) -> tuple[int, StaffComplaint]:
            row = await self._item(state, conn, complaint_id, p)
            actor = actor_from(request, p)
            await service.add_event(conn, row["id"], actor, "note", public=False, body=data.text)
            await record(conn, actor, "complaint.note", office_id=row["office_id"], object_type="complaint",
                         object_id=row["id"])
            return 201, await self._view(state, conn, row, p)
        return await run_once(state.db, request, p.sub, data, work)

    @post("/{complaint_id:uuid}/replies", operation_id="complaintReply", summary="Reply to the complainant",
          opt={"action": "complaint.reply"}, responses=problem_docs(400, 401, 403, 404, 409, 422),
          status_code=HTTP_201_CREATED)
    async def reply(self, request: Request[Any, Any, Any], state: State, complaint_id: FromPath[UUID],
                    data: JSONBody[ReplyIn]) -> Response[StaffComplaint]:
        """Progress or result reply (answers the 3-month clock), or the monthly follow-up (Idempotency-Key required)."""
        p = current_principal(request)

        async def work(conn: asyncpg.Connection) -> tuple[int, StaffComplaint]:
            row = await self._item(state, conn, complaint_id, p)
            text = await _reply_text(conn, row, data.text, data.template, {})
            if not text:
                raise ProblemError(400, ErrorCode.VALIDATION_FAILED, "A reply needs text or a template.",
                                   errors=[{"field": "text", "message": "text or template required"}])
            await service.reply(conn, actor_from(request, p), row, data.kind, text)
            return 201, await self._view(state, conn, row, p)
        return await run_once(state.db, request, p.sub, data, work)

    @post("/{complaint_id:uuid}/clock-events", operation_id="complaintClockEvent", summary="Pause, resume, extend",
          opt={"action": "complaint.clock.manage"}, responses=problem_docs(400, 401, 403, 404, 409, 422),
          status_code=200)
    async def clock_event(self, request: Request[Any, Any, Any], state: State, complaint_id: FromPath[UUID],
                          data: JSONBody[ClockEventIn]) -> Response[StaffComplaint]:
        """Extensions need complaint.clock.extend and are told to the complainant with the reason."""
        p = current_principal(request)
        if data.event == "extend" and "complaint.clock.extend" not in await _actions(state, p):
            raise ProblemError(403, ErrorCode.FORBIDDEN, "Extensions need approval rights (complaint.clock.extend).")

        async def work(conn: asyncpg.Connection) -> tuple[int, StaffComplaint]:
            row = await self._item(state, conn, complaint_id, p)
            await service.clock_event(conn, actor_from(request, p), row, clock=data.clock, event=data.event,
                                      reason=data.reason, amount=data.amount, reason_code=data.reason_code)
            return 200, await self._view(state, conn, row, p)
        return await run_once(state.db, request, p.sub, data, work, required=False)

    @post("/{complaint_id:uuid}/attachments", operation_id="complaintAttachStaff", summary="Attach an internal file",
          opt={"action": "complaint.note", **UPLOAD_OPT}, request_max_body_size=UPLOAD_MAX_BODY,
          responses=problem_docs(400, 401, 403, 404, 409, 413, 415, 422), status_code=HTTP_201_CREATED)
    async def attach(self, request: Request[Any, Any, Any], state: State, complaint_id: FromPath[UUID],
                     data: UploadForm) -> Response[AttachmentOut]:
        """Like a note, never shown to the complainant. Multipart/form-data (field `file`); the type is read from the
        bytes. Refused once the item is concluded (409). Requires an Idempotency-Key."""
        p = current_principal(request)
        await state.modules.require(p.office_id, MODULE)  # type: ignore[arg-type]
        async with state.db.connection() as conn:
            row = await staff_item(conn, complaint_id, p)
        return await upload(state, request, data, scope=p.sub, principal=p, row=row, public=False,
                            relock=lambda conn: staff_item(conn, complaint_id, p, lock=True))

    @get("/{complaint_id:uuid}/attachments/{attachment_id:uuid}", operation_id="complaintAttachmentGet",
         summary="Download an attachment as received", opt={"action": "complaint.read"},
         responses={**problem_docs(400, 401, 403, 404), **DOWNLOAD_RESPONSES})
    async def attachment(self, request: Request[Any, Any, Any], state: State, complaint_id: FromPath[UUID],
                         attachment_id: FromPath[UUID]) -> Stream:
        """The original bytes exactly as received (sha256 as listed), EXIF and location included: evidence."""
        p = current_principal(request)
        await state.modules.require(p.office_id, MODULE)  # type: ignore[arg-type]
        async with state.db.connection() as conn:
            row = await staff_item(conn, complaint_id, p)
            att = await attachment_row(conn, row["id"], attachment_id, public=False)
        return await download(state, request, att, original=True)

    @get("/deadlines", operation_id="complaintDeadlines", summary="Overdue and due-soon deadlines",
         opt={"action": "complaint.monitor"}, responses=problem_docs(400, 401, 403))
    async def deadlines(self, request: Request[Any, Any, Any], state: State,
                        within_days: Annotated[int, QueryParameter(name="withinDays", ge=0, le=90)] = 5,
                        limit: FromQuery[Limit] = 100) -> list[Deadline]:
        """Flow monitoring 流程监控: every open deadline already past or due within `within_days`, soonest first."""
        p = current_principal(request)
        await state.modules.require(p.office_id, MODULE)  # type: ignore[arg-type]
        now = today()
        async with state.db.connection() as conn:
            rows = await conn.fetch(
                """
                select k.subject_id, k.code, k.occurrence, k.due, k.calendar_estimated, c.receipt_no, c.title,
                       c.assignee_id
                from clocks k join complaints c on c.id = k.subject_id
                where k.office_id = $1 and k.module = 'complaints' and k.status in ('running', 'paused', 'overdue')
                  and k.due <= $2::date + $3::integer
                order by k.due, k.subject_id limit $4
                """,
                p.office_id, now, within_days, limit)
        return [Deadline(complaint_id=r["subject_id"], receipt_no=r["receipt_no"], title=r["title"], clock=r["code"],
                         occurrence=r["occurrence"], due=r["due"], overdue=r["due"] < now,
                         assignee_id=r["assignee_id"], calendar_estimated=r["calendar_estimated"]) for r in rows]

    @get("/stats", operation_id="complaintStats", summary="On-time reply rates",
         opt={"action": "complaint.monitor"}, responses=problem_docs(400, 401, 403))
    async def stats(self, request: Request[Any, Any, Any], state: State, since: FromQuery[date | None] = None,
                    until: FromQuery[date | None] = None) -> Stats:
        """7-day procedural and 3-month result reply rates for items received in [since, until) (default: this year)."""
        p = current_principal(request)
        await state.modules.require(p.office_id, MODULE)  # type: ignore[arg-type]
        now = today()
        start = since or now.replace(month=1, day=1)
        end = until or now.replace(year=now.year + 1, month=1, day=1)
        async with state.db.connection() as conn:
            office = await conn.fetchval("select code from offices where id = $1", p.office_id)
            rows = await conn.fetch(
                """
                select code,
                    count(*) filter (where status = 'met') as met,
                    count(*) filter (where status = 'met_late') as late,
                    count(*) filter (where status = 'overdue' or (status in ('running', 'paused') and due < $5)) as overdue,
                    count(*) filter (where status in ('running', 'paused') and due >= $5) as pending,
                    count(*) filter (where status = 'exempt') as exempt,
                    count(*) filter (where calendar_estimated) as estimated
                from clocks
                where office_id = $1 and module = 'complaints' and code = any($2::text[])
                  and started_at >= $3::timestamp at time zone 'Asia/Shanghai'
                  and started_at < $4::timestamp at time zone 'Asia/Shanghai'
                group by code
                """,
                p.office_id, ["procedural_reply", "result_reply", "followup_reply"], start, end, now)
        rates = []
        for r in rows:
            due = r["met"] + r["late"] + r["overdue"]
            rates.append(Rate(clock=r["code"], met_on_time=r["met"], met_late=r["late"], overdue=r["overdue"],
                              pending=r["pending"], exempt=r["exempt"], rate=round(r["met"] / due, 4) if due else None,
                              calendar_estimated=r["estimated"]))
        return Stats(office=office, since=start, until=end, rates=sorted(rates, key=lambda r: r.clock))


async def _reply_text(conn: asyncpg.Connection, row: Any, text: str | None, template: str | None,
                      fields: dict[str, Any]) -> str | None:
    if template:
        tpl = await conn.fetchrow("select body from complaint_reply_templates where office_id = $1 and code = $2",
                                  row["office_id"], template)
        if tpl is None:
            raise ProblemError(400, ErrorCode.VALIDATION_FAILED, "No such reply template.",
                               errors=[{"field": "template", "message": "unknown template"}])
        office_name = await conn.fetchval("select name from offices where id = $1", row["office_id"])
        return service.fill_template(tpl["body"], row, office_name, {
            "referred_to": fields.get("referredTo"), "reason": fields.get("reason"),
            "disposition": fields.get("disposition")})
    return text


class AdminCatalogController(Controller):
    """The office's categories (with their extra fields) and reply templates."""

    path = "/admin/complaints"
    tags = ["complaints", "admin"]
    security = _BEARER

    @get("/categories", operation_id="complaintCategoriesList", summary="All categories, inactive included",
         opt={"action": "complaint.catalog.manage"}, responses=problem_docs(401, 403))
    async def list_categories(self, request: Request[Any, Any, Any], state: State) -> list[CategoryOut]:
        """The office's categories."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            rows = await conn.fetch("select * from complaint_categories where office_id = $1 order by sort, code",
                                    p.office_id)
        return [CategoryOut(code=r["code"], kind=r["kind"], kind_label=KINDS[r["kind"]], name=r["name"],
                            description=r["description"], fields=r["fields"], version=r["version"]) for r in rows]

    @put("/categories/{code:str}", operation_id="complaintCategoryPut", summary="Create or change a category",
         opt={"action": "complaint.catalog.manage"}, responses=problem_docs(400, 401, 403))
    async def put_category(self, request: Request[Any, Any, Any], state: State, code: FromPath[str],
                           data: JSONBody[CategoryIn]) -> CategoryOut:
        """Each change bumps the category's version, and so the catalog's."""
        p = current_principal(request)
        if data.code != code:
            raise ProblemError(400, ErrorCode.VALIDATION_FAILED, "The code in the path and the body differ.",
                               errors=[{"field": "code", "message": "must equal the path"}])
        keys = [f.key for f in data.fields]
        bad = [f for f in data.fields if f.type.endswith("choice") and not f.options]
        if len(keys) != len(set(keys)) or bad:
            raise ProblemError(400, ErrorCode.VALIDATION_FAILED, "Field keys must be unique; choices need options.",
                               errors=[{"field": "fields", "message": "duplicate key or choice without options"}])
        fields = msgspec.to_builtins(data.fields)
        async with state.db.transaction() as conn:
            r = await conn.fetchrow(
                """
                insert into complaint_categories (office_id, kind, code, name, description, fields, sort, active,
                                                  handling_opinion)
                values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                on conflict (office_id, code) do update set kind = excluded.kind, name = excluded.name,
                    description = excluded.description, fields = excluded.fields, sort = excluded.sort,
                    active = excluded.active, handling_opinion = excluded.handling_opinion,
                    version = complaint_categories.version + 1, updated_at = now()
                returning *
                """,
                p.office_id, data.kind, code, data.name, data.description, fields, data.sort, data.active,
                data.handling_opinion)
            await record(conn, actor_from(request, p), "complaint.category.saved", object_type="complaint_category",
                         object_id=code, detail={"version": r["version"]})
        return CategoryOut(code=r["code"], kind=r["kind"], kind_label=KINDS[r["kind"]], name=r["name"],
                           description=r["description"], fields=r["fields"], version=r["version"])

    @get("/templates", operation_id="complaintTemplatesList", summary="Reply templates",
         opt={"action": "complaint.catalog.manage"}, responses=problem_docs(401, 403))
    async def list_templates(self, request: Request[Any, Any, Any], state: State) -> list[TemplateOut]:
        """The office's reply templates."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            rows = await conn.fetch("select * from complaint_reply_templates where office_id = $1 order by code",
                                    p.office_id)
        return [TemplateOut(code=r["code"], state=r["state"], title=r["title"], body=r["body"]) for r in rows]

    @put("/templates/{code:str}", operation_id="complaintTemplatePut", summary="Create or change a reply template",
         opt={"action": "complaint.catalog.manage"}, responses=problem_docs(400, 401, 403))
    async def put_template(self, request: Request[Any, Any, Any], state: State, code: FromPath[str],
                           data: JSONBody[TemplateIn]) -> TemplateOut:
        """Templates are filled with the item's receipt number, office, title, and the step's reason."""
        p = current_principal(request)
        if data.state not in STATE_LABELS or not (2 <= len(code) <= 64) or not code.replace("_", "").isalnum():
            raise ProblemError(400, ErrorCode.VALIDATION_FAILED, "Unknown state or malformed code.",
                               errors=[{"field": "state", "message": f"one of {', '.join(STATE_LABELS)}"}])
        async with state.db.transaction() as conn:
            await conn.execute(
                """
                insert into complaint_reply_templates (office_id, code, state, title, body) values ($1, $2, $3, $4, $5)
                on conflict (office_id, code) do update set state = excluded.state, title = excluded.title,
                    body = excluded.body, updated_at = now()
                """,
                p.office_id, code, data.state, data.title, data.body)
            await record(conn, actor_from(request, p), "complaint.template.saved", object_type="reply_template",
                         object_id=code)
        return TemplateOut(code=code, state=data.state, title=data.title, body=data.body)
