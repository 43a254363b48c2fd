"""The complaints catalog 目录: the office's categories, and its reply templates edited in place (the complaints
module's own reads and modules/complaints/catalog.save_template, as behind /api/v1/admin/complaints/templates;
like those routes, usable before the module is switched on)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.params import FromQuery
from litestar.response import Response, Template

from api.console.pages.signin import FORM
from api.console.render import page, see_other
from api.errors import ProblemError
from api.state import AppState
from auth.audit import actor_from
from auth.principal import current_principal
from modules.complaints.catalog import save_template
from modules.complaints.queries import categories, templates
from modules.complaints.rules import STATE_LABELS
from modules.complaints.schemas import TemplateIn

__all__ = ("catalog_routes",)

_ACTION = "complaint.catalog.manage"


async def _render(request: Request[Any, Any, Any], state: AppState, *, status: int = 200,
                  errors: list[str] | None = None, done: bool = False, draft: dict[str, str] | None = None) -> Template:
    office_id = current_principal(request).office_id
    async with state.db.connection() as conn:
        cats = await categories(conn, office_id)  # type: ignore[arg-type]
        temps = await templates(conn, office_id)  # type: ignore[arg-type]
    return await page(request, "catalog.html", status=status, categories=cats, templates=temps,
                      states=STATE_LABELS, errors=errors or [], done=done, draft=draft or {})


@get("/catalog", opt={"action": _ACTION}, include_in_schema=False)
async def catalog_page(request: Request[Any, Any, Any], state: AppState,
                       done: FromQuery[str | None] = None) -> Template:
    """Categories and reply templates of the office."""
    return await _render(request, state, done=bool(done))


@post("/catalog/templates", status_code=200, opt={"action": _ACTION, "accepts": FORM}, include_in_schema=False)
async def save(request: Request[Any, Any, Any], state: AppState) -> Response[Any]:
    """Create or change a reply template."""
    p = current_principal(request)
    form = await request.form()
    draft = {k: str(form.get(k) or "").strip() for k in ("code", "state", "title", "body")}
    try:
        data = msgspec.convert({"state": draft["state"], "title": draft["title"], "body": draft["body"]}, TemplateIn)
        async with state.db.transaction() as conn:
            await save_template(conn, actor_from(request, p), p.office_id, draft["code"], data)
    except msgspec.ValidationError as exc:
        return await _render(request, state, status=400, errors=[str(exc)], draft=draft)
    except ProblemError as exc:
        if exc.status != 400:
            raise
        return await _render(request, state, status=400, draft=draft,
                             errors=[f"{e.get('field')}: {e.get('message')}" for e in exc.errors or []]
                             or [exc.detail or "无效"])
    return see_other(request, "/console/catalog?done=1")


catalog_routes = [catalog_page, save]
