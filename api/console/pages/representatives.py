"""People → representatives 代表委员: the office's deputies and members from the liaison register, their handler,
contact details masked exactly as the liaison API masks them (queries.representative_out, unmasked only with
`liaison.contact.view`), who is behind on the contact cadence this quarter, and a representative's sign-in created
from the register entry (register.create_sign_in, as behind POST /api/v1/staff/liaison/representatives/{id}/account,
needing `liaison.account.create`). Like the liaison routes, the pages stand behind the module's switch."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from api.console.pages.signin import FORM
from api.console.render import allowed, page
from api.errors import ProblemError
from api.offices import office_by_id
from api.pagination import decode_cursor
from api.state import AppState
from auth.accounts import one_time_passwords, send_one_time_password
from auth.audit import actor_from
from auth.principal import current_principal
from modules.clocks.store import today
from modules.liaison import queries, register
from modules.liaison.routes.register import AccountFor
from modules.registry import module_config, module_guard

__all__ = ("representative_routes",)

_PAGE = 50
_LIAISON = {"module": "liaison"}
KINDS = {"deputy": "人大代表", "member": "政协委员"}
LEVELS = {"national": "全国", "municipal": "市级", "district": "区级"}


async def _render(request: Request[Any, Any, Any], state: AppState, *, cursor: str | None = None, status: int = 200,
                  errors: dict[str, str] | None = None, values: dict[str, str] | None = None) -> Template:
    p = current_principal(request)
    may_see = await allowed(request, "liaison.contact.view")
    async with state.db.connection() as conn:
        found = await queries.representatives(conn, state.box, office_id=p.office, may_see=may_see,
                                              kind=None, handler=None, after=decode_cursor(cursor), limit=_PAGE)
        cadence = await queries.cadence(conn, p.office, module_config(request).get("cadence") or {},
                                        today())
        handlers = dict(await conn.fetch(
            "select id, display_name from users where office_id = $1 and id = any($2::uuid[])", p.office_id,
            [r.handler_id for r in found.items if r.handler_id]))
        accounts = dict(await conn.fetch(
            "select id, username from users where office_id = $1 and id = any($2::uuid[])", p.office_id,
            [r.user_id for r in found.items if r.user_id]))
    return await page(request, "representatives.html", status=status, reps=found.items,
                      next_cursor=found.next_cursor, handlers=handlers, accounts=accounts, cadence=cadence,
                      kinds=KINDS, levels=LEVELS, masked=not may_see, errors=errors or {}, values=values or {},
                      can_create=await allowed(request, "liaison.account.create"))


@get("/representatives", opt={"action": "liaison.read", **_LIAISON}, guards=[module_guard], include_in_schema=False)
async def representatives_page(request: Request[Any, Any, Any], state: AppState,
                               cursor: FromQuery[str | None] = None) -> Template:
    """The register, newest first, and the contact cadence of this quarter."""
    return await _render(request, state, cursor=cursor)


@post("/representatives/{representative_id:uuid}/account", status_code=200,
      opt={"action": "liaison.account.create", "accepts": FORM, **_LIAISON}, guards=[module_guard],
      include_in_schema=False)
async def create_account(request: Request[Any, Any, Any], state: AppState,
                         representative_id: FromPath[UUID]) -> Template:
    """The representative's sign-in from the register entry (name, kind and phone from it): the one-time password
    texted to the register's phone, or shown here once. Another office's entry answers 404."""
    p = current_principal(request)
    form = await request.form()
    username = str(form.get("username") or "").strip().lower()
    key = str(representative_id)
    try:
        data = msgspec.convert({"username": username}, AccountFor)
    except msgspec.ValidationError:
        return await _render(request, state, status=400, values={key: username},
                             errors={key: "用户名须为 3–64 位小写字母、数字或 . _ -，以字母或数字开头。"})
    secret = (await one_time_passwords(1))[0]
    try:
        async with state.db.transaction() as conn:
            row = await queries.representative(conn, representative_id, p.office_id, lock=True)
            office = await office_by_id(conn, row["office_id"])
            created, password, phone = await register.create_sign_in(conn, state, p, actor_from(request, p), row,
                                                                      office, data.username, secret)
    except ProblemError as exc:
        if exc.status not in (400, 409, 422):
            raise
        message = "该代表委员已有账户。" if exc.status == 409 and "already" in (exc.detail or "") else (
            "用户名已被使用。" if exc.status == 409 else exc.detail or "无法创建")
        return await _render(request, state, status=exc.status, values={key: username}, errors={key: message})
    if phone:
        await send_one_time_password(state, phone, data.username, password)
    return await page(request, "person_created.html", created=created, back="/console/representatives",
                      back_label="返回代表委员名册")


representative_routes = [representatives_page, create_account]
