"""Partner clients: the office's list, suspend and resume (auth/admin/service.update_client, as behind PATCH
/api/v1/admin/partner-clients/{id}: a suspended client's tokens stop working at once)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Response, Template

from api.console.pages.signin import FORM
from api.console.render import allowed, page, see_other
from api.errors import ProblemError, not_found
from api.pagination import decode_cursor, page_of
from api.state import AppState
from auth import queries
from auth.actions import EXTERNAL_GRANTABLE
from auth.admin import service
from auth.admin.clients import ClientIn, register_client, rotate_client_secret
from auth.admin.common import client_out
from auth.audit import actor_from
from auth.principal import current_principal

__all__ = ("client_routes",)

_PAGE = 50


@get("/clients", opt={"action": "admin.clients.read"}, include_in_schema=False)
async def clients_page(request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
                       done: FromQuery[str | None] = None) -> Template:
    """The office's partner-agency clients, newest first."""
    p = current_principal(request)
    async with state.db.connection() as conn:
        rows = await queries.partner_client_page(conn, office_id=p.office_id, after=decode_cursor(cursor),
                                                 limit=_PAGE)
    found = page_of(rows, _PAGE, client_out, lambda r: (r["created_at"], r["id"]))
    return await page(request, "clients.html", clients=found.items, next_cursor=found.next_cursor, done=done,
                      can_manage=await allowed(request, "admin.clients.manage"),
                      can_see_deliveries=await allowed(request, "push.deliveries.manage"))


@post("/clients/{client_uuid:uuid}/{verb:str}", status_code=200,
      opt={"action": "admin.clients.manage", "accepts": FORM}, include_in_schema=False)
async def suspend_or_resume(request: Request[Any, Any, Any], state: AppState, client_uuid: FromPath[UUID],
                            verb: FromPath[str]) -> Response[Any]:
    """`suspend` or `resume` a client of the office."""
    if verb not in ("suspend", "resume"):
        raise not_found()
    p = current_principal(request)
    disabled = verb == "suspend"
    async with state.db.transaction() as conn:
        row = await service.update_client(conn, state=state, actor=actor_from(request, p), office_id=p.office_id,
                                          client_uuid=client_uuid, scopes=None, rate_limit_per_minute=None,
                                          disabled=disabled, detail={"disabled": disabled})
    if row is None:
        raise not_found()
    return see_other(request, f"/console/clients?done={verb}")


def _partner_scopes() -> list[str]:
    return sorted(EXTERNAL_GRANTABLE["partner"])


@get("/clients/new", opt={"action": "admin.clients.manage"}, include_in_schema=False)
async def new_client_form(request: Request[Any, Any, Any]) -> Template:
    """The form to register a partner agency's client."""
    office = await _office_code(request)
    return await page(request, "client_new.html", scopes=_partner_scopes(), errors=[],
                      values={"client_id": f"{office}-", "rate": "600"})


async def _office_code(request: Request[Any, Any, Any]) -> str | None:
    async with request.app.state.db.connection() as conn:
        return await queries.office_code(conn, office_id=current_principal(request).office_id)


@post("/clients/new", status_code=200, opt={"action": "admin.clients.manage", "accepts": FORM}, include_in_schema=False)
async def register(request: Request[Any, Any, Any], state: AppState) -> Template:
    """Register a client with a generated secret, shown this once (as POST /api/v1/admin/partner-clients)."""
    p = current_principal(request)
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in ("client_id", "name", "agency_kind", "rate")}
    scopes = sorted({str(x) for x in form.getall("scopes", [])})
    raw = {"clientId": values["client_id"], "name": values["name"], "agencyKind": values["agency_kind"],
           "scopes": scopes, "rateLimitPerMinute": int(values["rate"]) if values["rate"].isdigit() else 0}
    errors: list[str] = []
    try:
        created = await register_client(state, actor_from(request, p), p.office_id, msgspec.convert(raw, ClientIn))
    except msgspec.ValidationError as exc:
        errors = [str(exc)]
    except ProblemError as exc:
        if exc.status not in (400, 409):
            raise
        errors = [f"{e.get('field')}: {e.get('message')}" for e in exc.errors or []] or [exc.detail or "无效"]
    if errors:
        return await page(request, "client_new.html", status=400, scopes=_partner_scopes(), errors=errors,
                          values={**values, "scopes": scopes})
    return await page(request, "client_created.html", created=created)


@post("/clients/{client_uuid:uuid}/secret", status_code=200,
      opt={"action": "admin.clients.manage", "accepts": FORM}, include_in_schema=False)
async def rotate(request: Request[Any, Any, Any], state: AppState, client_uuid: FromPath[UUID]) -> Template:
    """A new secret, shown this once; the old one and its tokens stop at once (as POST
    /api/v1/admin/partner-clients/{id}/secret-rotation with `overlapHours: 0`)."""
    p = current_principal(request)
    try:
        created = await rotate_client_secret(state, actor_from(request, p), p.office_id, client_uuid, overlap_hours=0)
    except ProblemError as exc:
        if exc.status != 409:
            raise
        return await page(request, "error.html", status=409, code=exc.code,
                          message="此客户端使用公钥签名，没有密钥可更换。")
    return await page(request, "client_created.html", created=created, rotated=True)


client_routes = [clients_page, new_client_form, register, rotate, suspend_or_resume]
