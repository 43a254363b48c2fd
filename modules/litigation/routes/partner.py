"""Partner clients over the partner API: agencies and the police transfer clues and see whether each was taken
up; the administrative agency a recommendation is addressed to lists, reads, signs for and answers it, with its
rectification evidence. A client sees only its own clues and the recommendations addressed to it: anything else
is 404, and nothing internal to the case ever reaches it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from api.errors import problem_docs
from api.idempotency import run_once
from api.pagination import Limit, Page, decode_cursor
from api.state import AppState
from auth.audit import actor_from
from auth.principal import current_principal
from modules.kernel.files import UPLOAD_MAX_BODY, UPLOAD_OPT, AttachmentOut, upload
from modules.litigation import service
from modules.litigation.document import DOCUMENT_RESPONSES, pdf_response
from modules.litigation.queries import (
    agency_recommendation,
    agency_recommendations,
    partner_clue,
    partner_clue_out,
    partner_clues,
    questions,
    recommendation_for_agency,
    staff_case,
)
from modules.litigation.routes.common import UploadForm
from modules.litigation.schemas import (
    AgencyRecommendation,
    AgencyReplyIn,
    PartnerClueIn,
    PartnerClueOut,
    QuestionIn,
    QuestionOut,
)

if TYPE_CHECKING:
    import asyncpg

__all__ = ("AgencyController", "PartnerClueController")


class PartnerClueController(Controller):
    """Clues transferred by partner agencies and the police (检警通 / 检政通)."""

    path = "/partner/litigation/clues"
    tags = ["litigation"]
    security = [{"bearer": []}]

    @post("/", operation_id="litigationPartnerClueSubmit", summary="Transfer a clue",
          opt={"location": "/api/v1/partner/litigation/clues/{id}",
               "action": "litigation.clue.submit", "idempotency": "required"},
          responses=problem_docs(400, 401, 403, 409, 422, 429), status_code=HTTP_201_CREATED)
    async def submit(self, request: Request[Any, Any, Any], state: AppState,
                     data: JSONBody[PartnerClueIn]) -> Response[PartnerClueOut]:
        """Registered in the office's clue registry under the client's own `reference` (once per reference: 409
        names the clue already made from it). An informant's name and phone are stored encrypted. Idempotency-Key
        required."""
        p = current_principal(request)

        async def work(conn: asyncpg.Connection) -> tuple[int, PartnerClueOut]:
            informant = {"name": data.informant.name, "phone": data.informant.phone} if data.informant else None
            row = await service.create_clue(
                conn, state.box, actor_from(request, p), office_id=p.office,
                source="partner", domain=data.domain, title=data.title, description=data.description,
                address=data.place.address, latitude=data.place.latitude, longitude=data.place.longitude,
                public_interest=data.public_interest, responsible_party=data.responsible_party,
                partner_client=p.sub, partner_ref=data.reference, informant=informant)
            return 201, partner_clue_out(row)
        return await run_once(state.db, request, p.sub, data, work)

    @get("/", operation_id="litigationPartnerClueList", summary="The clues this client transferred",
         opt={"action": "litigation.clue.submit"}, responses=problem_docs(400, 401, 403, 429))
    async def list_clues(self, request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
                         limit: FromQuery[Limit] = 50) -> Page[PartnerClueOut]:
        """Newest first, each with whether the procuratorate took it up. Cursor-paginated."""
        after = decode_cursor(cursor)
        async with state.db.connection() as conn:
            return await partner_clues(conn, current_principal(request).sub, limit=limit, after=after)

    @get("/{clue_id:uuid}", operation_id="litigationPartnerClueGet", summary="Whether a transferred clue was accepted",
         opt={"action": "litigation.clue.submit"}, responses=problem_docs(400, 401, 403, 404, 429))
    async def get_clue(self, request: Request[Any, Any, Any], state: AppState,
                       clue_id: FromPath[UUID]) -> PartnerClueOut:
        """received, under evaluation, accepted (a case was opened), not accepted, or referred elsewhere."""
        async with state.db.connection() as conn:
            return await partner_clue(conn, clue_id, current_principal(request).sub)


class AgencyController(Controller):
    """Procuratorial recommendations addressed to an administrative agency, and its replies."""

    path = "/partner/litigation/recommendations"
    tags = ["litigation"]
    security = [{"bearer": []}]

    async def _command(self, request: Request[Any, Any, Any], state: AppState, rec_id: UUID, data: Any,
                       act: Any) -> Response[AgencyRecommendation]:
        p = current_principal(request)

        async def find(conn: asyncpg.Connection) -> tuple[Any, Any]:
            rec = await recommendation_for_agency(conn, rec_id, p.sub, lock=True)
            return rec, await staff_case(conn, rec["case_id"], rec["office_id"], lock=True)

        async def work(conn: asyncpg.Connection, found: tuple[Any, Any]) -> tuple[int, AgencyRecommendation]:
            rec, case = found
            await act(conn, actor_from(request, p), case, rec)
            return 200, agency_recommendation(await recommendation_for_agency(conn, rec_id, p.sub))
        return await run_once(state.db, request, p.sub, data, work, required=False, authorize=find)

    @get("/", operation_id="litigationAgencyInbox", summary="Recommendations addressed to this agency",
         opt={"action": "litigation.recommendation.respond"}, responses=problem_docs(400, 401, 403, 429))
    async def inbox(self, request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
                    limit: FromQuery[Limit] = 50) -> Page[AgencyRecommendation]:
        """Newest first, with the date a reply is due once signed for. Cursor-paginated."""
        after = decode_cursor(cursor)
        async with state.db.connection() as conn:
            return await agency_recommendations(conn, current_principal(request).sub, limit=limit, after=after)

    @get("/{rec_id:uuid}", operation_id="litigationAgencyRecommendation", summary="One recommendation",
         opt={"action": "litigation.recommendation.respond"}, responses=problem_docs(400, 401, 403, 404, 429))
    async def get_one(self, request: Request[Any, Any, Any], state: AppState,
                      rec_id: FromPath[UUID]) -> AgencyRecommendation:
        """Its number, text, whether urgent, and where signing and the reply stand."""
        async with state.db.connection() as conn:
            return agency_recommendation(await recommendation_for_agency(conn, rec_id, current_principal(request).sub))

    @get("/{rec_id:uuid}/document", operation_id="litigationAgencyDocument", summary="The recommendation as a PDF",
         opt={"action": "litigation.recommendation.respond"},
         responses={**problem_docs(400, 401, 403, 404, 429), **DOCUMENT_RESPONSES})
    async def document(self, request: Request[Any, Any, Any], state: AppState,
                       rec_id: FromPath[UUID]) -> Response[bytes]:
        """检察建议书 with the issuing office's header, exactly as issued."""
        async with state.db.connection() as conn:
            rec = await recommendation_for_agency(conn, rec_id, current_principal(request).sub)
        return pdf_response(request, rec, rec["office_name"])

    @post("/{rec_id:uuid}/receipt", operation_id="litigationAgencyReceipt", summary="Sign for a recommendation",
          opt={"action": "litigation.recommendation.respond", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409, 429), status_code=200)
    async def receipt(self, request: Request[Any, Any, Any], state: AppState,
                      rec_id: FromPath[UUID]) -> Response[AgencyRecommendation]:
        """签收: the time of receipt is recorded and starts the reply period (two months, or 15 days when urgent).
        Signing again changes nothing."""
        return await self._command(request, state, rec_id, {"receipt": str(rec_id)},
                                   lambda conn, actor, case, rec: service.receive(conn, actor, case, rec))

    @post("/{rec_id:uuid}/reply", operation_id="litigationAgencyReply", summary="Reply with the rectification",
          opt={"action": "litigation.recommendation.respond", "idempotency": "optional"},
          responses=problem_docs(400, 401, 403, 404, 409, 422, 429), status_code=200)
    async def reply(self, request: Request[Any, Any, Any], state: AppState, rec_id: FromPath[UUID],
                    data: JSONBody[AgencyReplyIn]) -> Response[AgencyRecommendation]:
        """The written reply (evidence files through the attachments route); one reply, marked late when it comes
        after the period."""
        return await self._command(request, state, rec_id, data,
                                   lambda conn, actor, case, rec: service.reply(conn, actor, case, rec,
                                                                                text=data.text,
                                                                                rectified=data.rectified))

    @get("/{rec_id:uuid}/questions", operation_id="litigationAgencyQuestions",
         summary="The agency's questions on a recommendation, with the answers",
         opt={"action": "litigation.recommendation.respond"}, responses=problem_docs(400, 401, 403, 404, 429))
    async def list_questions(self, request: Request[Any, Any, Any], state: AppState,
                             rec_id: FromPath[UUID]) -> list[QuestionOut]:
        """Oldest first; `answer` is null until the office answers."""
        async with state.db.connection() as conn:
            rec = await recommendation_for_agency(conn, rec_id, current_principal(request).sub)
            return await questions(conn, rec)

    @post("/{rec_id:uuid}/questions", operation_id="litigationAgencyAsk", summary="Ask about a recommendation",
          opt={"location": "/api/v1/partner/litigation/recommendations/{rec_id}/questions",
               "action": "litigation.recommendation.respond", "idempotency": "required"},
          responses=problem_docs(400, 401, 403, 404, 409, 422, 429), status_code=HTTP_201_CREATED)
    async def ask(self, request: Request[Any, Any, Any], state: AppState, rec_id: FromPath[UUID],
                  data: JSONBody[QuestionIn]) -> Response[QuestionOut]:
        """A question for the office (what is asked, a deadline, how to rectify): the case's staff see it on the
        case and answer it; 409 once the case is concluded. Requires an Idempotency-Key."""
        p = current_principal(request)

        async def find(conn: asyncpg.Connection) -> tuple[Any, Any]:
            rec = await recommendation_for_agency(conn, rec_id, p.sub, lock=True)
            return rec, await staff_case(conn, rec["case_id"], rec["office_id"], lock=True)

        async def work(conn: asyncpg.Connection, found: tuple[Any, Any]) -> tuple[int, QuestionOut]:
            rec, case = found
            asked = await service.ask(conn, actor_from(request, p), case, rec, text=data.text)
            return 201, next(q for q in await questions(conn, rec) if q.id == asked)
        return await run_once(state.db, request, p.sub, data, work, authorize=find)

    @post("/{rec_id:uuid}/attachments", operation_id="litigationAgencyAttach",
          summary="Attach rectification evidence",
          opt={"location": "/api/v1/partner/litigation/recommendations/{rec_id}",
               "action": "litigation.recommendation.respond", **UPLOAD_OPT},
          request_max_body_size=UPLOAD_MAX_BODY,
          responses=problem_docs(400, 401, 403, 404, 409, 413, 415, 422, 429), status_code=HTTP_201_CREATED)
    async def attach(self, request: Request[Any, Any, Any], state: AppState, rec_id: FromPath[UUID],
                     data: UploadForm) -> Response[AttachmentOut]:
        """Photos and documents of the rectification, filed with the case for staff (the agency cannot list the
        case's other files). Multipart/form-data (field `file`). Requires an Idempotency-Key."""
        p = current_principal(request)

        async def relock(conn: asyncpg.Connection) -> Any:
            rec = await recommendation_for_agency(conn, rec_id, p.sub)
            return await staff_case(conn, rec["case_id"], rec["office_id"], lock=True)
        async with state.db.connection() as conn:
            rec = await recommendation_for_agency(conn, rec_id, p.sub)
            case = await staff_case(conn, rec["case_id"], rec["office_id"])
        return await upload(state, request, data, subject=service.CASE, scope=p.sub, principal=p, row=case,
                            public=False, relock=relock)
