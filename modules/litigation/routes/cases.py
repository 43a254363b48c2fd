"""The office's PIL cases: the steps of both routes with the chief's approvals, filings owed to the agency and
the office above, files, the field evidence chain and the recommendation document. Another office's case
answers 404."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
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
from modules.litigation import evidence, service
from modules.litigation.document import DOCUMENT_RESPONSES, pdf_response
from modules.litigation.queries import (
    CaseFilter,
    case_read,
    case_view,
    list_cases,
    recommendation_of_case,
    staff_case,
)
from modules.litigation.routes.common import UploadForm, attach, command, original
from modules.litigation.rules import CaseRoute, CaseState
from modules.litigation.schemas import (
    CaseItem,
    CaseOut,
    ConsultationLinkIn,
    DomainCode,
    EvidenceIn,
    EvidenceOut,
    EvidenceVerdict,
    FilingIn,
    HandlerIn,
    PilClockEventIn,
    PilDecisionIn,
    PilStepIn,
    QuestionIn,
)

if TYPE_CHECKING:
    import asyncpg

    from auth.audit import Actor

__all__ = ("CaseController",)


async def _view(conn: asyncpg.Connection, row: Any, granted: frozenset[str], read: Any = None) -> CaseOut:
    return await case_view(conn, row, granted, read)


class CaseController(Controller):
    """The office's PIL cases."""

    path = "/staff/litigation/cases"
    tags = ["litigation"]
    security = [{"bearer": []}]

    @get("/", operation_id="litigationCaseList", summary="The office's cases", opt={"action": "litigation.read"},
         responses=problem_docs(400, 401, 403))
    async def list_cases(
        self, request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
        limit: FromQuery[Limit] = 50, case_state: Annotated[CaseState | None, QueryParameter(name="state")] = None,
        domain: FromQuery[DomainCode | None] = None, route: FromQuery[CaseRoute | None] = None,
        handler: FromQuery[UUID | None] = None,
        due_before: Annotated[date | None, QueryParameter(name="dueBefore")] = None,
        q: Annotated[str | None, QueryParameter(min_length=2, max_length=100)] = None,
    ) -> Page[CaseItem]:
        """Newest first, with each case's nearest open deadline; by state (step), domain, route, handler, an open
        deadline due on or before a date, and text in the title or the whole case number. Cursor-paginated."""
        after = decode_cursor(cursor)
        where = CaseFilter(state=case_state, domain=domain, route=route, handler=handler, due_before=due_before, q=q)
        async with state.db.read() as conn:
            return await list_cases(conn, office_id=current_principal(request).office_id, limit=limit, after=after,
                                    where=where)

    @get("/{case_id:uuid}", operation_id="litigationCaseGet", summary="One case, with its deadlines and timeline",
         opt={"action": "litigation.read"}, responses=problem_docs(400, 401, 403, 404))
    async def get_case(self, request: Request[Any, Any, Any], state: AppState, case_id: FromPath[UUID]) -> CaseOut:
        """The recommendation and the agency's reply, every clock, the steps open to the caller."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            read = await case_read(conn, case_id, p.office_id)
            return await _view(conn, None, await state.permissions.actions_of(p), read)

    @post("/{case_id:uuid}/steps", operation_id="litigationCaseStep", summary="Take or propose a step",
          opt={"action": "litigation.handle", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=200)
    async def step(self, request: Request[Any, Any, Any], state: AppState, case_id: FromPath[UUID],
                   data: JSONBody[PilStepIn]) -> Response[CaseOut]:
        """`issue_recommendation` (content, `urgent` for 15 days), `announce` (content), `sue`, `close`, `terminate`
        are proposed to the chief through the department head; `record_judgment` is taken at once."""
        async def act(conn: asyncpg.Connection, row: Any, actor: Actor, granted: frozenset[str]) -> Any:
            return await service.case_step(conn, actor, row, data)
        return await command(request, state, case_id, data, find=staff_case, act=act, view=_view)

    @post("/{case_id:uuid}/proposals/{proposal_id:uuid}/decision", operation_id="litigationCaseDecide",
          summary="Approve, return or withdraw a proposed step",
          opt={"action": "litigation.read", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=200)
    async def decide(self, request: Request[Any, Any, Any], state: AppState, case_id: FromPath[UUID],
                     proposal_id: FromPath[UUID], data: JSONBody[PilDecisionIn]) -> Response[CaseOut]:
        """The chief's approval of a recommendation issues it: numbered, addressed to the agency, immutable."""
        async def act(conn: asyncpg.Connection, row: Any, actor: Actor, granted: frozenset[str]) -> Any:
            return await service.decide(conn, service.CASE, actor, granted, row, proposal_id, data.decision,
                                        data.reason)
        return await command(request, state, case_id, data, find=staff_case, act=act, view=_view)

    @post("/{case_id:uuid}/handler", operation_id="litigationCaseAssign", summary="Assign the case's handler",
          opt={"action": "litigation.assign", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=200)
    async def assign(self, request: Request[Any, Any, Any], state: AppState, case_id: FromPath[UUID],
                     data: JSONBody[HandlerIn]) -> Response[CaseOut]:
        """The department head names who handles the case: staff of the office whose role the permission list lets
        handle cases (422 for anyone else); on the timeline with the reason."""
        grants = await state.permissions.grants(current_principal(request).office_id)
        roles = [role for role, acts in grants.items() if "litigation.handle" in acts]

        async def act(conn: asyncpg.Connection, row: Any, actor: Actor, granted: frozenset[str]) -> Any:
            return await service.assign_handler(conn, actor, row, data.handler_id, data.reason, roles)
        return await command(request, state, case_id, data, find=staff_case, act=act, view=_view)

    @post("/{case_id:uuid}/filings", operation_id="litigationCaseFiling",
          summary="Record a decision served or a filing with the office above",
          opt={"action": "litigation.handle", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=200)
    async def filing(self, request: Request[Any, Any, Any], state: AppState, case_id: FromPath[UUID],
                     data: JSONBody[FilingIn]) -> Response[CaseOut]:
        """Answers the clock it belongs to (7 days to serve the case decision, 5 to file a recommendation or a suit
        upward, 3 for a judgment); 409 when none is running."""
        async def act(conn: asyncpg.Connection, row: Any, actor: Actor, granted: frozenset[str]) -> Any:
            await service.file_report(conn, actor, row, data.kind, data.note)
        return await command(request, state, case_id, data, find=staff_case, act=act, view=_view)

    @post("/{case_id:uuid}/consultations", operation_id="litigationCaseConsultation",
          summary="Put a consultation with the agency on the case",
          opt={"action": "litigation.handle", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=200)
    async def consultation(self, request: Request[Any, Any, Any], state: AppState, case_id: FromPath[UUID],
                           data: JSONBody[ConsultationLinkIn]) -> Response[CaseOut]:
        """A consultation 磋商 of the office with the case's agency (proposed, confirmed or held, with its minutes,
        under /staff/partner-consultations) is linked to the case: in `links` (`kind: consultation`) and on both
        timelines. Another agency's: 400; another office's: 404; a civil or concluded case: 409."""
        async def act(conn: asyncpg.Connection, row: Any, actor: Actor, granted: frozenset[str]) -> Any:
            await service.link_consultation(conn, actor, row, data.consultation_id)
        return await command(request, state, case_id, data, find=staff_case, act=act, view=_view)

    @post("/{case_id:uuid}/questions/{question_id:uuid}/answer", operation_id="litigationCaseAnswer",
          summary="Answer the agency's question on the recommendation",
          opt={"action": "litigation.handle", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=200)
    async def answer(self, request: Request[Any, Any, Any], state: AppState, case_id: FromPath[UUID],
                     question_id: FromPath[UUID], data: JSONBody[QuestionIn]) -> Response[CaseOut]:
        """The questions are on the case's timeline (`recommendation.question`, `data.questionId`); each is answered
        once (409 after), and the agency reads the answer with its question."""
        async def act(conn: asyncpg.Connection, row: Any, actor: Actor, granted: frozenset[str]) -> Any:
            await service.answer(conn, actor, row, question_id, data.text)
        return await command(request, state, case_id, data, find=staff_case, act=act, view=_view)

    @post("/{case_id:uuid}/clock-events", operation_id="litigationCaseClockEvent",
          summary="Suspend, resume or extend a period", opt={"action": "litigation.handle", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=200)
    async def clock_event(self, request: Request[Any, Any, Any], state: AppState, case_id: FromPath[UUID],
                          data: JSONBody[PilClockEventIn]) -> Response[CaseOut]:
        """A suspension 中止审查 (reasonCode `suspension`) needs the chief's approval, so the chief records it; an
        appraisal is left out of the period; an extension is asked for, then approved by someone else (the chief
        for the first month of the review before suing; beyond that the office above)."""
        async def act(conn: asyncpg.Connection, row: Any, actor: Actor, granted: frozenset[str]) -> Any:
            await service.clock_event(conn, actor, row, data, granted)
        return await command(request, state, case_id, data, find=staff_case, act=act, view=_view)

    @post("/{case_id:uuid}/attachments", operation_id="litigationCaseAttach", summary="Attach a file to a case",
          opt={"location": "/api/v1/staff/litigation/cases/{case_id}/attachments/{id}",
               "action": "litigation.handle", **UPLOAD_OPT}, request_max_body_size=UPLOAD_MAX_BODY,
          responses=problem_docs(400, 401, 403, 404, 409, 413, 415, 422), status_code=HTTP_201_CREATED)
    async def attach(self, request: Request[Any, Any, Any], state: AppState, case_id: FromPath[UUID],
                     data: UploadForm) -> Response[AttachmentOut]:
        """Multipart/form-data (field `file`); record it in the evidence chain afterwards. Refused once the case is
        concluded (409). Requires an Idempotency-Key."""
        return await attach(request, state, data, subject=service.CASE, find=staff_case, item_id=case_id)

    @get("/{case_id:uuid}/attachments/{attachment_id:uuid}", operation_id="litigationCaseAttachmentGet",
         summary="Download a case's file as received", opt={"action": "litigation.read"},
         responses={**problem_docs(400, 401, 403, 404), **DOWNLOAD_RESPONSES})
    async def attachment(self, request: Request[Any, Any, Any], state: AppState, case_id: FromPath[UUID],
                         attachment_id: FromPath[UUID]) -> Stream:
        """The original bytes exactly as received (sha256 as listed), EXIF and location included: evidence."""
        return await original(request, state, find=staff_case, item_id=case_id,
                              attachment_id=attachment_id)

    @post("/{case_id:uuid}/evidence", operation_id="litigationEvidenceRecord",
          summary="Record a file in the evidence chain",
          opt={"location": "/api/v1/staff/litigation/cases/{case_id}/evidence",
               "action": "litigation.handle", "idempotency": "required"},
          responses=problem_docs(400, 401, 403, 404, 409, 422), status_code=HTTP_201_CREATED)
    async def record_evidence(self, request: Request[Any, Any, Any], state: AppState, case_id: FromPath[UUID],
                              data: JSONBody[EvidenceIn]) -> Response[EvidenceOut]:
        """The device's capture time and place are kept beside the file's own metadata and the server's time; the
        entry hashes the one before it. Idempotency-Key required."""
        p = current_principal(request)

        async def work(conn: asyncpg.Connection, row: Any) -> tuple[int, EvidenceOut]:
            return 201, await evidence.record_evidence(conn, actor_from(request, p), row, data)
        return await run_once(state.db, request, p.sub, data, work,
                              authorize=lambda conn: staff_case(conn, case_id, p.office_id, lock=True))

    @get("/{case_id:uuid}/evidence", operation_id="litigationEvidenceList", summary="The case's evidence chain",
         opt={"action": "litigation.read"}, responses=problem_docs(400, 401, 403, 404))
    async def list_evidence(self, request: Request[Any, Any, Any], state: AppState,
                            case_id: FromPath[UUID]) -> list[EvidenceOut]:
        """In order, each entry with its hash and the hash of the one before."""
        async with state.db.connection() as conn:
            row = await staff_case(conn, case_id, current_principal(request).office_id)
            return await evidence.entries(conn, row["id"])

    @get("/{case_id:uuid}/evidence/verification", operation_id="litigationEvidenceVerify",
         summary="Check the evidence chain", opt={"action": "litigation.read"},
         responses=problem_docs(400, 401, 403, 404))
    async def verify(self, request: Request[Any, Any, Any], state: AppState,
                     case_id: FromPath[UUID]) -> EvidenceVerdict:
        """Recomputes every entry's hash and link and compares each file's recorded SHA-256: `intact` or which
        entries were changed."""
        async with state.db.connection() as conn:
            row = await staff_case(conn, case_id, current_principal(request).office_id)
            return await evidence.verify(conn, row["id"])

    @get("/{case_id:uuid}/recommendation/document", operation_id="litigationRecommendationDocument",
         summary="The recommendation as a PDF", opt={"action": "litigation.read"},
         responses={**problem_docs(400, 401, 403, 404), **DOCUMENT_RESPONSES})
    async def document(self, request: Request[Any, Any, Any], state: AppState,
                       case_id: FromPath[UUID]) -> Response[bytes]:
        """检察建议书 with the office's header, as issued (the same bytes every time); 404 before it is issued."""
        async with state.db.connection() as conn:
            row = await staff_case(conn, case_id, current_principal(request).office_id)
            rec = await recommendation_of_case(conn, row["id"])
        return pdf_response(request, rec, rec["office_name"])
