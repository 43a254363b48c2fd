"""Routes shared by the modules: which offices take what, and the admins' module switches."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get, put
from litestar.params import FromPath, JSONBody

from api.errors import problem_docs
from api.offices import serving_offices
from api.state import AppState
from auth.audit import actor_from
from auth.principal import current_principal
from modules.switching import switch

__all__ = ("module_routes",)


class OfficeOut(msgspec.Struct, rename="camel"):
    """An office and the modules it has switched on."""

    code: str
    name: str
    parent: str | None
    modules: list[str]


class ModuleSwitch(msgspec.Struct, forbid_unknown_fields=True):
    """Switch a module on or off for the admin's office, with its configuration."""

    enabled: bool
    config: dict[str, Any] = {}


@get("/offices", operation_id="officesList", tags=["offices"], summary="Offices and their modules",
     opt={"public": True}, responses=problem_docs(), cache_control=None)
async def list_offices(state: AppState) -> list[OfficeOut]:
    """Every serving office, with the modules it has on (the public app lists where one can file)."""
    async with state.db.connection() as conn:
        rows = await serving_offices(conn)
    return [OfficeOut(code=r["code"], name=r["name"], parent=r["parent"], modules=list(r["modules"])) for r in rows]


@put("/admin/modules/{module:str}", operation_id="adminSwitchModule", tags=["admin"],
     summary="Switch a module on or off", opt={"action": "admin.modules.manage"},
     responses=problem_docs(400, 401, 403, 404, 422), security=[{"bearer": []}])
async def switch_module(request: Request[Any, Any, Any], state: AppState,
                        module: FromPath[str], data: JSONBody[ModuleSwitch]) -> ModuleSwitch:
    """Off keeps every record; the module's routes answer `module_disabled` for the office until it is on again.
    The configuration is checked against the module's schema (400 naming the field)."""
    p = current_principal(request)
    await switch(state, actor_from(request, p), p.office_id, module, enabled=data.enabled, config=data.config)
    return data


module_routes = [list_offices, switch_module]
