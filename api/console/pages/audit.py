"""Audit trail search: by person, object, action and time, over the reads behind GET /api/v1/admin/audit; and the
result of the last `jianwu audit verify` (kept in Redis by the command)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import Template

from api.console.render import page
from api.pagination import decode_sequence_cursor, sequence_page
from api.state import AppState
from auth import queries
from auth.admin.common import audit_out
from auth.principal import current_principal

__all__ = ("audit_routes",)

_PAGE = 50
_Q = FromQuery[str | None]
_ZONE = ZoneInfo("Asia/Shanghai")


def _day(raw: str | None, *, end: bool = False) -> datetime | None:
    """An office-local day from a date input (the end of the range is the next midnight)."""
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None
    return datetime.combine(day + timedelta(days=1) if end else day, datetime.min.time(), _ZONE)


@get("/audit", opt={"action": "admin.audit.read"}, include_in_schema=False)
async def audit_page(request: Request[Any, Any, Any], state: AppState, person: _Q = None, object_type: _Q = None,
                     object_id: _Q = None, action: _Q = None, since: _Q = None, until: _Q = None,
                     cursor: _Q = None) -> Template:
    """The office's audit records, newest first, filtered."""
    p = current_principal(request)
    filters = {"person": person or "", "object_type": object_type or "", "object_id": object_id or "",
               "action": action or "", "since": since or "", "until": until or ""}
    async with state.db.connection() as conn:
        rows = await queries.audit_page(
            conn, office_id=p.office_id, before=decode_sequence_cursor(cursor), action=action or None, limit=_PAGE,
            actor_id=person or None, object_type=object_type or None, object_id=object_id or None,
            since=_day(since), until=_day(until, end=True))
    found = sequence_page(rows, _PAGE, audit_out)
    raw = await state.redis.get(f"{state.settings.redis_prefix}audit:last_verification")
    verification = json.loads(raw) if raw else None
    more = {k: v for k, v in filters.items() if v}
    return await page(request, "audit.html", records=found.items, next_cursor=found.next_cursor, filters=filters,
                      query=urlencode(more), verification=verification)


audit_routes = [audit_page]
