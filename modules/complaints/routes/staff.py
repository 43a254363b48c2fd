"""The office's intake queue and handling. Another office's items answer 404; the module's switch is checked by
the module guard before any of these run, and its configuration reaches them through `module_config`."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED

from api.errors import forbidden, invalid, problem_docs
from api.idempotency import run_once
from api.offices import office_by_id
from api.pagination import Limit, Page, decode_cursor
from api.state import AppState
from auth.audit import actor_from
from auth.principal import current_principal
from modules.complaints import service
from modules.complaints.queries import (
    ListFilter,
    list_items,
    listed,
    reply_template,
    staff_item,
    staff_read,
    staff_view,
)
from modules.complaints.routes import common
from modules.complaints.routes.common import UploadForm
from modules.complaints.schemas import (
    AssignmentIn,
    ClockEventIn,
    ComplaintReceipt,
    DecisionIn,
    ItemState,
    Kind,
    ListItem,
    NoteIn,
    ReplyIn,
    StaffComplaint,
    StaffCreate,
    StepIn,
    TransferIn,
)
from modules.kernel.files import (
    DOWNLOAD_RESPONSES,
    UPLOAD_MAX_BODY,
    UPLOAD_OPT,
    AttachmentOut,
    attachment_row,
    download,
    upload,
)
from modules.registry import module_config

if TYPE_CHECKING:
    import asyncpg

    from auth.principal import Principal

__all__ = ("StaffController",)


async def _view(state: AppState, conn: asyncpg.Connection, row: Any, p: Principal, read: Any = None) -> StaffComplaint:
    actions = await common.actions(state, p)
    return await staff_view(conn, state.box, row, may_see_identity="complaint.identity.view" in actions,
                            actions=actions, read=read)


async def _reply_text(conn: asyncpg.Connection, row: Any, text: str | None, template: str | None,
                      fields: dict[str, Any]) -> str | None:
    if not template:
        return text
    tpl = await reply_template(conn, row["office_id"], template)
    office = await office_by_id(conn, row["office_id"])
    return service.fill_template(tpl["body"], row, office["name"], {
        "referred_to": fields.get("referredTo"), "reason": fields.get("reason"),
        "disposition": fields.get("disposition")})

# Where what a 201 created is read: the new item, or the item a note, reply or file was added to.
_ITEM = "/api/v1/staff/complaints/{id}"
_ITEM_OF_PATH = "/api/v1/staff/complaints/{complaint_id}"


class StaffController(Controller):
    """The office's intake queue and handling. Another office's items answer 404."""

    path = "/staff/complaints"
    tags = ["complaints"]
    security = [{"bearer": []}]

    async def _command(self, request: Request[Any, Any, Any], state: AppState, complaint_id: UUID, data: Any,
                       act: Any, *, status: int = 200, required: bool = False, allowed: Any = None) -> Response[Any]:
        """Find the item (locked) and check `allowed` before any stored answer is replayed, then carry out
        `act(conn, row, actor, principal)` and answer the item as staff see it, in one transaction under the
        Idempotency-Key."""
        p = current_principal(request)

        async def authorize(conn: asyncpg.Connection) -> Any:
            row = await staff_item(conn, complaint_id, p, lock=True)
            if allowed is not None:
                await allowed(row, p)
            return row

        async def work(conn: asyncpg.Connection, row: Any) -> tuple[int, Any]:
            row = await act(conn, row, actor_from(request, p), p) or row
            return status, await _view(state, conn, row, p)
        return await run_once(state.db, request, p.sub, data, work, required=required, authorize=authorize)

    @post("/", operation_id="complaintFileForVisitor", summary="File for a visitor, caller or letter",
          opt={"action": "complaint.file_for_visitor", "idempotency": "required", "location": _ITEM},
          responses=problem_docs(400, 401, 403, 409, 415, 422),
          status_code=HTTP_201_CREATED)
    async def create(self, request: Request[Any, Any, Any], state: AppState,
                     data: JSONBody[StaffCreate]) -> Response[ComplaintReceipt]:
        """The channel is recorded; the office is the caller's own (Idempotency-Key required)."""
        p = current_principal(request)
        v = data.visitor
        reporter = service.Reporter(name=v.name if v else None, phone=common.phone(v.phone) if v else None,
                                    id_number=v.id_number if v else None, reachable=v.reachable if v else True,
                                    anonymous=v is None or v.name is None)
        return await run_once(state.db, request, p.sub, data, lambda conn: common.file_item(
            state, request, conn, data, principal=p, reporter=reporter, channel=data.channel))

    @get("/", operation_id="complaintList", summary="The office's items", opt={"action": "complaint.read"},
         responses=problem_docs(400, 401, 403))
    async def list_items(
        self, request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
        limit: FromQuery[Limit] = 50,
        item_state: Annotated[ItemState | None, QueryParameter(name="state")] = None,
        kind: FromQuery[Kind | None] = None, category: FromQuery[str | None] = None,
        assignee: FromQuery[UUID | None] = None,
        due_before: Annotated[date | None, QueryParameter(name="dueBefore")] = None,
        q: Annotated[str | None, QueryParameter(min_length=2, max_length=100)] = None,
        receipt_no: Annotated[str | None, QueryParameter(name="receiptNo", min_length=2, max_length=64)] = None,
    ) -> Page[ListItem]:
        """Newest first; filter by state, kind, category code, assignee, an open deadline due on or before a date,
        receipt number, and text (Chinese or not) in the title and body or the whole receipt number. An unknown
        state or kind is a 400. Cursor-paginated."""
        p = current_principal(request)
        after = decode_cursor(cursor)
        where = ListFilter(state=item_state, kind=kind, category=category, assignee=assignee, due_before=due_before,
                           q=q, receipt_no=receipt_no)
        async with state.db.read() as conn:
            return await list_items(conn, limit=limit, after=after, office_id=p.office_id, where=where)

    @get("/{complaint_id:uuid}", operation_id="complaintGet", summary="One item, with its timeline and deadlines",
         opt={"action": "complaint.read"}, responses=problem_docs(400, 401, 403, 404))
    async def get_item(self, request: Request[Any, Any, Any], state: AppState,
                       complaint_id: FromPath[UUID]) -> StaffComplaint:
        """Identities are masked unless the caller's permission list allows them."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            return await _view(state, conn, None, p, read=await staff_read(conn, complaint_id, p))

    @post("/{complaint_id:uuid}/steps", operation_id="complaintStep", summary="Take a workflow step",
          opt={"action": "complaint.read", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=200)
    async def step(self, request: Request[Any, Any, Any], state: AppState, complaint_id: FromPath[UUID],
                   data: JSONBody[StepIn]) -> Response[StaffComplaint]:
        """accept, request_material, refer, reject, close, reopen — each checked against the permission list. A step
        whose transition needs approval becomes a proposal (`pendingProposal`) instead."""
        fields = {"reason": data.reason, "referredTo": data.referred_to, "disposition": data.disposition}

        async def allowed(row: Any, p: Principal) -> None:
            # The step's right is checked before a stored answer could be replayed (the state has moved on by then).
            t = service.WORKFLOW.transitions.get(data.step)
            if t is not None and t.action not in await common.actions(state, p):
                raise forbidden(f"Your permission list does not allow {data.step}.", action=t.action)

        async def act(conn: asyncpg.Connection, row: Any, actor: Any, p: Principal) -> Any:
            actions = await common.actions(state, p)
            service.may_take(row, data.step, fields, actions)  # refused before any template is looked up
            text = await _reply_text(conn, row, data.reply, data.template, fields)
            return await service.step(conn, actor, row, step=data.step, fields=fields, reply_text=text,
                                      actions=actions)
        return await self._command(request, state, complaint_id, data, act, allowed=allowed)

    @post("/{complaint_id:uuid}/proposals/{proposal_id:uuid}/decision", operation_id="complaintDecide",
          summary="Approve, return or withdraw a proposed step",
          opt={"action": "complaint.read", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=200)
    async def decide(self, request: Request[Any, Any, Any], state: AppState, complaint_id: FromPath[UUID],
                     proposal_id: FromPath[UUID], data: JSONBody[DecisionIn]) -> Response[StaffComplaint]:
        """The next approval of the chain needs the action it names; the proposer may only withdraw."""
        async def act(conn: asyncpg.Connection, row: Any, actor: Any, p: Principal) -> Any:
            return await service.decide(conn, actor, row, proposal_id=proposal_id, decision=data.decision,
                                        reason=data.reason, actions=await common.actions(state, p))
        return await self._command(request, state, complaint_id, data, act)

    @post("/{complaint_id:uuid}/assignment", operation_id="complaintAssign", summary="Assign a handler",
          opt={"action": "complaint.assign", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=200)
    async def assign(self, request: Request[Any, Any, Any], state: AppState, complaint_id: FromPath[UUID],
                     data: JSONBody[AssignmentIn]) -> Response[StaffComplaint]:
        """Random among eligible handlers under the office's plan (recorded), or designated with a reason."""
        p = current_principal(request)
        if data.mode == "designate" and "complaint.designate" not in await common.actions(state, p):
            raise forbidden("Designation needs the chief's right (complaint.designate).")
        plan = module_config(request).get("assignment", {})

        async def act(conn: asyncpg.Connection, row: Any, actor: Any, p: Principal) -> Any:
            return await service.assign(conn, actor, row, mode=data.mode, assignee_id=data.assignee_id,
                                        reason=data.reason, plan=plan)
        return await self._command(request, state, complaint_id, data, act)

    @post("/{complaint_id:uuid}/transfer", operation_id="complaintTransfer", summary="Transfer an item",
          opt={"action": "complaint.transfer", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409), status_code=200)
    async def transfer(self, request: Request[Any, Any, Any], state: AppState, complaint_id: FromPath[UUID],
                       data: JSONBody[TransferIn]) -> Response[ListItem]:
        """To another office (it becomes responsible; this office keeps the record as first receiver)."""
        p = current_principal(request)

        async def work(conn: asyncpg.Connection, row: Any) -> tuple[int, ListItem]:
            to_office = None
            if data.office and data.office != (await office_by_id(conn, p.office))["code"]:
                to_office = await common.open_office(state, conn, data.office)
            updated = await service.transfer(conn, actor_from(request, p), row, to_office=to_office,
                                             department=data.department, reason=data.reason)
            return 200, await listed(conn, updated["id"])
        return await run_once(state.db, request, p.sub, data, work, required=False,
                              authorize=lambda conn: staff_item(conn, complaint_id, p, lock=True))

    @post("/{complaint_id:uuid}/notes", operation_id="complaintNote", summary="Add an internal note",
          opt={"action": "complaint.note", "idempotency": "required", "location": _ITEM_OF_PATH},
          responses=problem_docs(400, 401, 403, 404, 422),
          status_code=HTTP_201_CREATED)
    async def note(self, request: Request[Any, Any, Any], state: AppState, complaint_id: FromPath[UUID],
                   data: JSONBody[NoteIn]) -> Response[StaffComplaint]:
        """Never shown to the public (Idempotency-Key required)."""
        async def act(conn: asyncpg.Connection, row: Any, actor: Any, p: Principal) -> Any:
            await service.note(conn, actor, row, text=data.text)
        return await self._command(request, state, complaint_id, data, act, status=201, required=True)

    @post("/{complaint_id:uuid}/replies", operation_id="complaintReply", summary="Reply to the complainant",
          opt={"action": "complaint.reply", "idempotency": "required", "location": _ITEM_OF_PATH},
          responses=problem_docs(400, 401, 403, 404, 409, 422),
          status_code=HTTP_201_CREATED)
    async def reply(self, request: Request[Any, Any, Any], state: AppState, complaint_id: FromPath[UUID],
                    data: JSONBody[ReplyIn]) -> Response[StaffComplaint]:
        """Progress or result reply (answers the 3-month clock), or the monthly follow-up (Idempotency-Key required)."""
        async def act(conn: asyncpg.Connection, row: Any, actor: Any, p: Principal) -> Any:
            text = await _reply_text(conn, row, data.text, data.template, {})
            if not text:
                raise invalid("A reply needs text or a template.", ("text", "text or template required"))
            await service.reply(conn, actor, row, data.kind, text)
        return await self._command(request, state, complaint_id, data, act, status=201, required=True)

    @post("/{complaint_id:uuid}/clock-events", operation_id="complaintClockEvent", summary="Pause, resume, extend",
          opt={"action": "complaint.clock.manage", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409, 422),
          status_code=200)
    async def clock_event(self, request: Request[Any, Any, Any], state: AppState, complaint_id: FromPath[UUID],
                          data: JSONBody[ClockEventIn]) -> Response[StaffComplaint]:
        """Extensions need complaint.clock.extend and are told to the complainant with the reason."""
        p = current_principal(request)
        if data.event == "extend" and "complaint.clock.extend" not in await common.actions(state, p):
            raise forbidden("Extensions need approval rights (complaint.clock.extend).")

        async def act(conn: asyncpg.Connection, row: Any, actor: Any, p: Principal) -> Any:
            await service.clock_event(conn, actor, row, clock=data.clock, event=data.event, reason=data.reason,
                                      amount=data.amount, reason_code=data.reason_code)
        return await self._command(request, state, complaint_id, data, act)

    @post("/{complaint_id:uuid}/attachments", operation_id="complaintAttachStaff", summary="Attach an internal file",
          opt={"action": "complaint.note", **UPLOAD_OPT, "location": _ITEM_OF_PATH + "/attachments/{id}"},
          request_max_body_size=UPLOAD_MAX_BODY,
          responses=problem_docs(400, 401, 403, 404, 409, 413, 415, 422), status_code=HTTP_201_CREATED)
    async def attach(self, request: Request[Any, Any, Any], state: AppState, complaint_id: FromPath[UUID],
                     data: UploadForm) -> Response[AttachmentOut]:
        """Like a note, never shown to the complainant. Multipart/form-data (field `file`); the type is read from the
        bytes. Refused once the item is concluded (409). Requires an Idempotency-Key."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            row = await staff_item(conn, complaint_id, p)
        return await upload(state, request, data, subject=service.SUBJECT, scope=p.sub, principal=p, row=row,
                            public=False, relock=lambda conn: staff_item(conn, complaint_id, p, lock=True))

    @get("/{complaint_id:uuid}/attachments/{attachment_id:uuid}", operation_id="complaintAttachmentGet",
         summary="Download an attachment as received", opt={"action": "complaint.read"},
         responses={**problem_docs(400, 401, 403, 404), **DOWNLOAD_RESPONSES})
    async def attachment(self, request: Request[Any, Any, Any], state: AppState, complaint_id: FromPath[UUID],
                         attachment_id: FromPath[UUID]) -> Stream:
        """The original bytes exactly as received (sha256 as listed), EXIF and location included: evidence."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            row = await staff_item(conn, complaint_id, p)
            att = await attachment_row(conn, row["id"], attachment_id, public=False)
        return await download(state, request, att, original=True)  # type: ignore[return-value]  # download() answers a Stream; the route declares it for the spec's binary body
