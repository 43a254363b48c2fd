"""The complaints catalog 目录: the office's categories and reply templates, edited in place through the complaints
module's own reads and modules/complaints/catalog.save_category and save_template, the functions behind PUT
/api/v1/admin/complaints/categories/{code} and /templates/{code}; like those routes, usable before the module is
switched on."""

from __future__ import annotations

import json
from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.params import FromQuery
from litestar.response import Response, Template

from api.console.forms import FormError, config_fields, config_from_form, conversion_errors, field_errors
from api.console.pages.signin import FORM
from api.console.render import page, see_other
from api.errors import ProblemError
from api.state import AppState
from auth.audit import actor_from
from auth.principal import current_principal
from modules.complaints.catalog import save_category, save_template
from modules.complaints.queries import categories, categories_as_written, templates
from modules.complaints.rules import KINDS, STATE_LABELS
from modules.complaints.schemas import CategoryIn, TemplateIn

__all__ = ("catalog_routes",)

_ACTION = "complaint.catalog.manage"


async def _render(request: Request[Any, Any, Any], state: AppState, *, status: int = 200,
                  errors: list[str] | None = None, done: str | None = None, draft: dict[str, str] | None = None,
                  category: dict[str, Any] | None = None, category_errors: dict[str, str] | None = None) -> Template:
    """The page; `category` is a category form sent back with its errors beside its fields (`code` names it)."""
    office_id = current_principal(request).office
    async with state.db.connection() as conn:
        cats = await categories(conn, office_id)
        written = await categories_as_written(conn, office_id)
        temps = await templates(conn, office_id)
    forms = {c.code: _category_form(msgspec.to_builtins(c)) for c in written}
    return await page(request, "catalog.html", status=status, categories=cats, category_forms=forms,
                      kinds=KINDS, templates=temps, states=STATE_LABELS, errors=errors or [], done=done,
                      draft=draft or {}, category=category, category_errors=category_errors or {})


def _category_form(c: dict[str, Any]) -> dict[str, Any]:
    """A category's values as its form shows them: the extra fields as JSON, the handling opinion as yes/no/unset."""
    opinion = c.get("handlingOpinion")
    return {**c, "fields": json.dumps(c.get("fields") or [], ensure_ascii=False, indent=1),
            "handlingOpinion": "" if opinion is None else ("true" if opinion else "false")}


@get("/catalog", opt={"action": _ACTION}, include_in_schema=False)
async def catalog_page(request: Request[Any, Any, Any], state: AppState,
                       done: FromQuery[str | None] = None) -> Template:
    """Categories and reply templates of the office."""
    return await _render(request, state, done=done)


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
    return see_other(request, "/console/catalog?done=template")


@post("/catalog/categories", status_code=200, opt={"action": _ACTION, "accepts": FORM}, include_in_schema=False)
async def save_category_form(request: Request[Any, Any, Any], state: AppState) -> Response[Any]:
    """Create or change a category (its version goes up); a value the API would refuse comes back beside its
    field."""
    p = current_principal(request)
    form = await request.form()
    values = {k: [str(v) for v in form.getall(k)] for k in form if k != "_csrf"}
    opinion = (values.pop("handlingOpinion", None) or [""])[0]
    fields = config_fields(CategoryIn, {})
    try:
        raw = config_from_form(CategoryIn, values)
        # A checkbox cannot say "unset", and unset (petitions only) is not "no": the form offers all three.
        raw["handlingOpinion"] = {"true": True, "false": False}.get(opinion)
        data = msgspec.convert(raw, CategoryIn)
        async with state.db.transaction() as conn:
            await save_category(conn, actor_from(request, p), p.office_id, data)
    except FormError as exc:
        errors = {exc.name: exc.message}
    except msgspec.ValidationError as exc:
        errors = field_errors(conversion_errors(exc), fields)
    except ProblemError as exc:
        if exc.status != 400:
            raise
        errors = field_errors(exc.errors, fields) or {"code": exc.detail or "无效"}
    else:
        return see_other(request, "/console/catalog?done=category")
    typed = {k: (v[0] if v else "") for k, v in values.items()}
    sent = {**typed, "active": "active" in values, "handlingOpinion": opinion}
    return await _render(request, state, status=400, category=sent, category_errors=errors)


catalog_routes = [catalog_page, save, save_category_form]
