"""Modules per office: switch each on or off and edit its configuration through a form generated from its schema;
saved by modules.switching.switch, the function behind PUT /api/v1/admin/modules/{module}."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Response, Template

from api.console.forms import FormError, config_fields, config_from_form, field_errors
from api.console.pages.signin import FORM
from api.console.render import page, see_other
from api.errors import ProblemError
from api.state import AppState
from auth.audit import actor_from
from auth.principal import current_principal
from modules.registry import manifest, manifests
from modules.switching import switch

__all__ = ("module_routes",)

_ACTION = {"action": "admin.modules.manage", "accepts": FORM}


@get("/modules", opt=_ACTION, include_in_schema=False)
async def modules_page(request: Request[Any, Any, Any], state: AppState,
                       done: FromQuery[str | None] = None) -> Template:
    """Every module with its switch for the admin's office."""
    p = current_principal(request)
    rows = []
    for m in manifests():
        enabled, _ = await state.modules.get(p.office_id, m.name)
        rows.append({"name": m.name, "enabled": enabled})
    return await page(request, "modules.html", modules=rows, done=done)


@get("/modules/{module:str}", opt=_ACTION, include_in_schema=False)
async def module_page(request: Request[Any, Any, Any], state: AppState, module: FromPath[str]) -> Template:
    """One module's switch and configuration form, filled with the office's values."""
    m = manifest(module)
    enabled, config = await state.modules.get(current_principal(request).office_id, m.name)
    return await page(request, "module.html", module=m.name, enabled=enabled,
                      fields=config_fields(m.config, config), errors={})


@post("/modules/{module:str}/switch", status_code=200, opt=_ACTION, include_in_schema=False)
async def module_switch(request: Request[Any, Any, Any], state: AppState, module: FromPath[str]) -> Response[Any]:
    """Switch on or off, keeping the configuration as it is."""
    p = current_principal(request)
    m = manifest(module)
    form = await request.form()
    _, config = await state.modules.get(p.office_id, m.name)
    await switch(state, actor_from(request, p), p.office_id, m.name, enabled=form.get("enabled") == "on",
                 config=config)
    return see_other(request, "/console/modules?done=switched")


@post("/modules/{module:str}", status_code=200, opt=_ACTION, include_in_schema=False)
async def module_save(request: Request[Any, Any, Any], state: AppState, module: FromPath[str]) -> Response[Any]:
    """Save the switch and the configuration; a value the schema refuses comes back beside its field."""
    p = current_principal(request)
    m = manifest(module)
    form = await request.form()
    values = {k: [str(v) for v in form.getall(k)] for k in form}
    enabled = form.get("enabled") == "on"
    errors: dict[str, str] = {}
    try:
        config = config_from_form(m.config, values)
        await switch(state, actor_from(request, p), p.office_id, m.name, enabled=enabled, config=config)
    except FormError as exc:
        errors = {exc.name: exc.message}
    except ProblemError as exc:
        if exc.status not in (400, 422):
            raise
        errors = field_errors(exc.errors, config_fields(m.config, {})) or {"config": exc.detail or "配置无效"}
    if errors:
        fields = config_fields(m.config, {})
        _refill(fields, values)
        return await page(request, "module.html", status=422, module=m.name, enabled=enabled, fields=fields,
                          errors=errors)
    return see_other(request, "/console/modules?done=saved")


def _refill(fields: list[Any], values: dict[str, list[str]]) -> None:
    """Put what was typed back into the form shown with its errors."""
    for f in fields:
        if f.widget == "group":
            _refill(f.children, values)
        elif f.widget == "checkboxes":
            f.value = values.get(f.name, [])
        elif f.widget == "checkbox":
            f.value = bool(values.get(f.name))
        else:
            f.value = (values.get(f.name) or [""])[0]


module_routes = [modules_page, module_page, module_switch, module_save]
