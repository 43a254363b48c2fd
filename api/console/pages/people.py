"""People: the office's accounts and roles; disable, enable, re-role, sign out everywhere. The writes are
auth/admin/service.py's, as behind PATCH /api/v1/admin/users/{id} and POST .../sessions/revoke."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Response, Template

from api.console.pages.signin import FORM
from api.console.render import allowed, page, see_other
from api.errors import ProblemError, not_found
from api.pagination import decode_cursor, page_of
from auth import queries
from auth.actions import STAFF_ROLES
from auth.admin import service
from auth.admin.common import user_out
from auth.audit import actor_from
from auth.principal import current_principal

if TYPE_CHECKING:
    from litestar.datastructures import State

__all__ = ("people_routes",)

_PAGE = 50
_DONE = {"disabled": "账户已停用，其所有会话已退出。", "enabled": "账户已启用。",
         "roles": "角色已更新，其所有会话已退出。", "signed_out": "已在所有设备上退出该账户。"}


@get("/people", opt={"action": "admin.users.read"}, include_in_schema=False)
async def people_page(request: Request[Any, Any, Any], state: State, cursor: FromQuery[str | None] = None,
                      done: FromQuery[str | None] = None) -> Template:
    """The office's accounts, newest first, a page at a time."""
    p = current_principal(request)
    async with state.db.connection() as conn:
        rows = await queries.user_page(conn, office_id=p.office_id, kind=None, after=decode_cursor(cursor),
                                       limit=_PAGE)
    users = page_of(rows, _PAGE, user_out, lambda r: (r["created_at"], r["id"]))
    return await page(request, "people.html", users=users.items, next_cursor=users.next_cursor,
                      roles=STAFF_ROLES, done=_DONE.get(done or ""),
                      can_manage=await allowed(request, "admin.users.manage"),
                      can_revoke=await allowed(request, "admin.sessions.revoke"))


async def _update(request: Request[Any, Any, Any], state: State, user_id: UUID, *, disabled: bool | None = None,
                  roles: list[str] | None = None, detail: dict[str, Any]) -> None:
    p = current_principal(request)
    async with state.db.transaction() as conn:
        row = await service.update_user(conn, state=state, principal=p, actor=actor_from(request, p), user_id=user_id,
                                        disabled=disabled, roles=roles, reset_totp=False, detail=detail)
    if row is None:
        raise not_found("No such account.")


@post("/people/{user_id:uuid}/disable", opt={"action": "admin.users.manage", "accepts": FORM},
      include_in_schema=False)
async def disable(request: Request[Any, Any, Any], state: State, user_id: FromPath[UUID]) -> Response[Any]:
    """Disable an account (it is signed out everywhere at once)."""
    await _update(request, state, user_id, disabled=True, detail={"disabled": True})
    return see_other(request, "/console/people?done=disabled")


@post("/people/{user_id:uuid}/enable", opt={"action": "admin.users.manage", "accepts": FORM},
      include_in_schema=False)
async def enable(request: Request[Any, Any, Any], state: State, user_id: FromPath[UUID]) -> Response[Any]:
    """Enable an account again."""
    await _update(request, state, user_id, disabled=False, detail={"disabled": False})
    return see_other(request, "/console/people?done=enabled")


@post("/people/{user_id:uuid}/roles", opt={"action": "admin.users.manage", "accepts": FORM},
      include_in_schema=False)
async def set_roles(request: Request[Any, Any, Any], state: State, user_id: FromPath[UUID]) -> Response[Any]:
    """Set a staff member's roles; a role that sees identities needs a second admin's approval (the API's rule)."""
    form = await request.form()
    roles = sorted({str(r) for r in form.getall("roles")} & set(STAFF_ROLES))
    try:
        await _update(request, state, user_id, roles=roles, detail={"roles": roles})
    except ProblemError as exc:
        if exc.status in (403, 409, 422) and (exc.extra or {}).get("reason") != "csrf":
            return await page(request, "error.html", status=exc.status, code=exc.code,
                              message=f"未能更改角色：{exc.detail}")
        raise
    return see_other(request, "/console/people?done=roles")


@post("/people/{user_id:uuid}/sign-out", opt={"action": "admin.sessions.revoke", "accepts": FORM},
      include_in_schema=False)
async def sign_out_everywhere(request: Request[Any, Any, Any], state: State, user_id: FromPath[UUID]) -> Response[Any]:
    """Sign the account out on every device."""
    p = current_principal(request)
    async with state.db.transaction() as conn:
        done = await service.revoke_user_sessions(conn, state=state, actor=actor_from(request, p),
                                                  office_id=p.office_id, user_id=user_id)
    if not done:
        raise not_found("No such account.")
    return see_other(request, "/console/people?done=signed_out")


people_routes = [people_page, disable, enable, set_roles, sign_out_everywhere]
