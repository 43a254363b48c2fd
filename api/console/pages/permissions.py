"""Permission lists: the office's own list beside its province's and the nation's, differences highlighted, edited
one role at a time and saved with a reason through auth/admin/service.replace_permission_list, the function behind
PUT /api/v1/admin/permissions (with the same checks on what may be granted)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, get, post
from litestar.params import FromQuery
from litestar.response import Response, Template

from api.console.pages.signin import FORM
from api.console.render import allowed, page, see_other
from api.errors import ErrorCode, ProblemError
from api.state import AppState
from auth import queries
from auth.actions import ACTIONS, EXTERNAL_KINDS, STAFF_ROLES
from auth.admin import service
from auth.admin.common import check_actions
from auth.audit import actor_from
from auth.permissions import NATIONAL, effective_grants
from auth.principal import current_principal

if TYPE_CHECKING:
    import asyncpg

__all__ = ("permission_routes",)

ROLES = (*STAFF_ROLES, *EXTERNAL_KINDS)


def _by_role(rows: list[Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for r in rows:
        out.setdefault(r["role"], set()).add(r["action"])
    return out


async def _levels(conn: asyncpg.Connection, office_id: Any) -> dict[str, Any]:
    """The national, province and office lists (None where a level has none of its own) and the one in force."""
    office = await queries.office_province(conn, office_id=office_id)
    province = office["province"]
    own = _by_role(await queries.permission_rows(conn, level="office", office_id=office_id, province=province))
    prov = _by_role(await queries.permission_rows(conn, level="province", office_id=office_id, province=province))
    return {"province": province, "national": _by_role(await queries.province_rows(conn, province=NATIONAL)),
            "province_list": prov or None, "office_list": own or None,
            "in_force": await effective_grants(conn, office_id),
            "province_in_force": _by_role(await queries.province_rows(conn, province=province))}


async def _render(request: Request[Any, Any, Any], state: AppState, role: str, *, status: int = 200,
                  errors: list[str] | None = None, done: FromQuery[bool] = False) -> Template:
    p = current_principal(request)
    async with state.db.connection() as conn:
        lv = await _levels(conn, p.office_id)
    rows = []
    for action, text in ACTIONS.items():
        national = action in lv["national"].get(role, ())
        prov = None if lv["province_list"] is None else action in lv["province_list"].get(role, ())
        own = None if lv["office_list"] is None else action in lv["office_list"].get(role, ())
        upstream = action in lv["province_in_force"].get(role, ())
        effective = action in lv["in_force"].get(role, ())
        if not (national or prov or own or effective):
            continue
        rows.append({"action": action, "text": text, "national": national, "province": prov, "office": own,
                     "effective": effective, "differs": effective != upstream, "upstream": upstream})
    return await page(request, "permissions.html", status=status, role=role, roles=ROLES, rows=rows,
                      province=lv["province"], has_province=lv["province_list"] is not None,
                      has_office=lv["office_list"] is not None, errors=errors or [], done=done,
                      can_manage=await allowed(request, "admin.permissions.manage"))


@get("/permissions", opt={"action": "admin.permissions.read"}, include_in_schema=False)
async def permissions_page(request: Request[Any, Any, Any], state: AppState, role: FromQuery[str] = "prosecutor",
                           done: FromQuery[str | None] = None) -> Template:
    """One role's actions at each level."""
    if role not in ROLES:
        raise ProblemError(ErrorCode.VALIDATION_FAILED, f"Unknown role {role!r}.")
    return await _render(request, state, role, done=bool(done))


@post("/permissions", status_code=200, opt={"action": "admin.permissions.manage", "accepts": FORM},
      include_in_schema=False)
async def save_permissions(request: Request[Any, Any, Any], state: AppState) -> Response[Any]:
    """Replace the office's own list with this role's actions changed (the other roles' as they are in force)."""
    p = current_principal(request)
    form = await request.form()
    role = str(form.get("role") or "")
    reason = str(form.get("reason") or "").strip()[:500]
    if role not in ROLES:
        raise ProblemError(ErrorCode.VALIDATION_FAILED, f"Unknown role {role!r}.")
    if not reason:
        return await _render(request, state, role, status=400, errors=["请填写修改理由。"])
    actions = sorted({str(a) for a in form.getall("actions", [])})
    try:
        check_actions(actions, f"grants.{role}", role)
        async with state.db.transaction() as conn:
            lv = await _levels(conn, p.office_id)
            base = lv["office_list"] if lv["office_list"] is not None else lv["province_in_force"]
            grants = {r: sorted(a) for r, a in base.items() if r != role}
            grants[role] = actions
            await service.replace_permission_list(conn, actor=actor_from(request, p), office_id=p.office_id,
                                                  level="office", grants=grants, reason=reason)
    except ProblemError as exc:
        if exc.status != 400:
            raise
        return await _render(request, state, role, status=400,
                             errors=[str(e.get("message")) for e in exc.errors or []] or [exc.detail or "无效"])
    state.permissions.forget()
    return see_other(request, f"/console/permissions?role={role}&done=1")


permission_routes = [permissions_page, save_permissions]
