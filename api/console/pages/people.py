"""People: the office's accounts and roles; disable, enable, re-role, sign out everywhere. The writes are
auth/admin/service.py's, as behind PATCH /api/v1/admin/users/{id} and POST .../sessions/revoke."""

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
from auth.accounts import (
    AccountIn,
    account_office,
    check_spec,
    create_account,
    one_time_passwords,
    send_one_time_password,
)
from auth.actions import STAFF_ROLES
from auth.admin import service
from auth.admin.common import user_out
from auth.audit import actor_from
from auth.principal import current_principal
from auth.role_requests import decide_request, request_roles

__all__ = ("people_routes",)

_PAGE = 50
_DONE = {"disabled": "账户已停用，其所有会话已退出。", "enabled": "账户已启用。",
         "roles": "角色已更新，其所有会话已退出。", "signed_out": "已在所有设备上退出该账户。",
         "requested": "此角色变更需另一名管理员批准，已提交申请。", "approval": "已批准，角色已生效。",
         "rejection": "已驳回。"}


@get("/people", opt={"action": "admin.users.read"}, include_in_schema=False)
async def people_page(request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
                      done: FromQuery[str | None] = None) -> Template:
    """The office's accounts, newest first, a page at a time."""
    p = current_principal(request)
    async with state.db.connection() as conn:
        rows = await queries.user_page(conn, office_id=p.office_id, kind=None, after=decode_cursor(cursor),
                                       limit=_PAGE)
        # The API's list, newest first; shown oldest first, as a queue.
        pending = (await queries.role_request_page(conn, office_id=p.office_id, pending=True, after=None,
                                                   limit=100))[:100][::-1]
    users = page_of(rows, _PAGE, user_out, lambda r: (r["created_at"], r["id"]))
    return await page(request, "people.html", users=users.items, next_cursor=users.next_cursor,
                      roles=STAFF_ROLES, done=_DONE.get(done or ""), pending=pending,
                      can_approve=await allowed(request, "admin.roles.approve"),
                      can_manage=await allowed(request, "admin.users.manage"),
                      can_revoke=await allowed(request, "admin.sessions.revoke"),
                      can_see_reps=await allowed(request, "liaison.read"))


async def _update(request: Request[Any, Any, Any], state: AppState, user_id: UUID, *, disabled: bool | None = None,
                  roles: list[str] | None = None, detail: dict[str, Any]) -> None:
    p = current_principal(request)
    async with state.db.transaction() as conn:
        row = await service.update_user(conn, state=state, principal=p, actor=actor_from(request, p), user_id=user_id,
                                        disabled=disabled, roles=roles, reset_totp=False, detail=detail)
    if row is None:
        raise not_found("No such account.")


@post("/people/{user_id:uuid}/disable", status_code=200, opt={"action": "admin.users.manage", "accepts": FORM},
      include_in_schema=False)
async def disable(request: Request[Any, Any, Any], state: AppState, user_id: FromPath[UUID]) -> Response[Any]:
    """Disable an account (it is signed out everywhere at once)."""
    await _update(request, state, user_id, disabled=True, detail={"disabled": True})
    return see_other(request, "/console/people?done=disabled")


@post("/people/{user_id:uuid}/enable", status_code=200, opt={"action": "admin.users.manage", "accepts": FORM},
      include_in_schema=False)
async def enable(request: Request[Any, Any, Any], state: AppState, user_id: FromPath[UUID]) -> Response[Any]:
    """Enable an account again."""
    await _update(request, state, user_id, disabled=False, detail={"disabled": False})
    return see_other(request, "/console/people?done=enabled")


@post("/people/{user_id:uuid}/roles", status_code=200, opt={"action": "admin.users.manage", "accepts": FORM},
      include_in_schema=False)
async def set_roles(request: Request[Any, Any, Any], state: AppState, user_id: FromPath[UUID]) -> Response[Any]:
    """Set a staff member's roles; a role that sees identities needs a second admin's approval (the API's rule)."""
    form = await request.form()
    roles = sorted({str(r) for r in form.getall("roles", [])} & set(STAFF_ROLES))
    p = current_principal(request)
    try:
        try:
            await _update(request, state, user_id, roles=roles, detail={"roles": roles})
        except ProblemError as exc:
            if exc.code != "approval_required":
                raise
            # One's own roles, or a role that sees identities: asked for, as POST /api/v1/admin/role-requests does.
            async with state.db.transaction() as conn:
                await request_roles(conn, p, actor_from(request, p), user_id, roles)
            return see_other(request, "/console/people?done=requested")
    except ProblemError as exc:
        if exc.status in (403, 409, 422) and (exc.extra or {}).get("reason") != "csrf":
            return await page(request, "error.html", status=exc.status, code=exc.code,
                              message=f"未能更改角色：{exc.detail}")
        raise
    return see_other(request, "/console/people?done=roles")


@post("/role-requests/{request_id:uuid}/{decision:str}", status_code=200,
      opt={"action": "admin.roles.approve", "accepts": FORM}, include_in_schema=False)
async def decide(request: Request[Any, Any, Any], state: AppState, request_id: FromPath[UUID],
                 decision: FromPath[str]) -> Response[Any]:
    """Approve or reject a waiting change of roles (not one's own request, nor one about oneself)."""
    if decision not in ("approval", "rejection"):
        raise not_found("No such decision.")
    p = current_principal(request)
    try:
        async with state.db.transaction() as conn:
            await decide_request(conn, state, p, actor_from(request, p), request_id,
                                 "approval" if decision == "approval" else "rejection")
    except ProblemError as exc:
        if exc.status not in (403, 409):
            raise
        return await page(request, "error.html", status=exc.status, code=exc.code, message=f"未能决定：{exc.detail}")
    return see_other(request, f"/console/people?done={decision}")


@post("/people/{user_id:uuid}/sign-out", status_code=200, opt={"action": "admin.sessions.revoke", "accepts": FORM},
      include_in_schema=False)
async def sign_out_everywhere(request: Request[Any, Any, Any], state: AppState,
                              user_id: FromPath[UUID]) -> Response[Any]:
    """Sign the account out on every device."""
    p = current_principal(request)
    async with state.db.transaction() as conn:
        done = await service.revoke_user_sessions(conn, state=state, actor=actor_from(request, p),
                                                  office_id=p.office_id, user_id=user_id)
    if not done:
        raise not_found("No such account.")
    return see_other(request, "/console/people?done=signed_out")


@get("/people/new", opt={"action": "admin.users.manage"}, include_in_schema=False)
async def new_person_form(request: Request[Any, Any, Any]) -> Template:
    """The form for a new account of the office."""
    return await page(request, "person_new.html", roles=STAFF_ROLES, errors=[], values={})


@post("/people/new", status_code=200, opt={"action": "admin.users.manage", "accepts": FORM}, include_in_schema=False)
async def create_person(request: Request[Any, Any, Any], state: AppState) -> Template:
    """Create an account with a one-time password (as POST /api/v1/admin/users): texted when a phone is given,
    else shown once here; roles that need a second admin are asked for instead."""
    p = current_principal(request)
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in ("username", "display_name", "kind", "department", "phone")}
    raw = {"username": values["username"].lower(), "displayName": values["display_name"],
           "kind": values["kind"] or "staff", "roles": sorted({str(r) for r in form.getall("roles", [])}),
           "department": values["department"] or None, "phone": values["phone"] or None}
    try:
        spec = msgspec.convert(raw, AccountIn)
        problems = check_spec(spec)
    except msgspec.ValidationError as exc:
        problems = [str(exc)]
    if problems:
        return await page(request, "person_new.html", status=400, roles=STAFF_ROLES, errors=problems,
                          values={**values, "roles": raw["roles"]})
    secret = (await one_time_passwords(1))[0]
    try:
        async with state.db.transaction() as conn:
            created, password, phone = await create_account(conn, state, p, spec,
                                                            await account_office(conn, p.office_id),
                                                            actor_from(request, p), secret)
    except ProblemError as exc:
        if exc.status not in (400, 409, 422):
            raise
        return await page(request, "person_new.html", status=exc.status, roles=STAFF_ROLES,
                          errors=[exc.detail or "无法创建"], values={**values, "roles": raw["roles"]})
    if phone:
        await send_one_time_password(state, phone, spec.username, password)
    return await page(request, "person_created.html", created=created)


people_routes = [people_page, new_person_form, create_person, disable, enable, set_roles, decide, sign_out_everywhere]
