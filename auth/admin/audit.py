"""Admin console: the office's audit trail."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromPath, FromQuery

from api.errors import problem_docs
from api.pagination import Limit, Page, decode_sequence_cursor, sequence_page
from api.state import AppState
from auth import queries
from auth.admin.common import SECURITY, AuditOut, audit_out, not_found
from auth.principal import current_principal

__all__ = ("AdminAuditController",)


class AdminAuditController(Controller):
    """The audit trail. Every query is limited to the caller's own office: others' rows answer 404."""

    path = "/admin"
    tags = ["admin"]
    security = SECURITY

    @get("/audit", operation_id="adminListAudit", summary="Read the office's audit trail",
         opt={"action": "admin.audit.read"}, responses=problem_docs(400, 401, 403))
    async def list_audit(
        self, request: Request[Any, Any, Any], state: AppState,
        cursor: FromQuery[str | None] = None, limit: FromQuery[Limit] = 50, action: FromQuery[str | None] = None,
    ) -> Page[AuditOut]:
        """Newest first; cursor-paginated."""
        p = current_principal(request)
        before = decode_sequence_cursor(cursor)
        async with state.db.connection() as conn:
            rows = await queries.audit_page(conn, office_id=p.office_id, before=before, action=action, limit=limit)
        return sequence_page(rows, limit, audit_out)

    @get("/audit/{record_id:int}", operation_id="adminGetAudit", summary="One audit record",
         opt={"action": "admin.audit.read"}, responses=problem_docs(400, 401, 403, 404))
    async def get_audit(self, request: Request[Any, Any, Any], state: AppState, record_id: FromPath[int]) -> AuditOut:
        """An audit record of the caller's office."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            row = await queries.audit_record(conn, record_id=record_id, office_id=p.office_id)
        if row is None:
            raise not_found("audit record")
        return audit_out(row)
