"""Admin console: the office's accounts and their sessions."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from api.errors import ErrorCode, ProblemError, problem_docs
from api.pagination import Limit, Page, decode_cursor, page_of
from api.state import AppState
from auth import queries
from auth.actions import STAFF_ROLES
from auth.admin import service
from auth.admin.common import SECURITY, UserOut, not_found, user_out
from auth.audit import actor_from
from auth.principal import current_principal

__all__ = ("AdminUsersController", "UserPatch")


class UserPatch(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """Change an account: disable or enable it, or set a staff member's roles."""

    disabled: bool | msgspec.UnsetType = msgspec.UNSET
    roles: list[str] | msgspec.UnsetType = msgspec.UNSET
    # Clear the second factor (a lost phone, or someone else enrolled first); the account enrols again.
    reset_totp: bool | msgspec.UnsetType = msgspec.UNSET


class AdminUsersController(Controller):
    """The office's accounts. Every query is limited to the caller's own office: others' rows answer 404."""

    path = "/admin"
    tags = ["admin"]
    security = SECURITY

    @get("/users", operation_id="adminListUsers", summary="List the office's accounts",
         opt={"action": "admin.users.read"}, responses=problem_docs(400, 401, 403))
    async def list_users(
        self, request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
        limit: FromQuery[Limit] = 50, kind: FromQuery[Literal["staff", "deputy", "member"] | None] = None,
    ) -> Page[UserOut]:
        """Newest first, cursor-paginated, optionally one kind."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            rows = await queries.user_page(conn, office_id=p.office_id, kind=kind, after=decode_cursor(cursor),
                                           limit=limit)
        return page_of(rows, limit, user_out, lambda r: (r["created_at"], r["id"]))

    @get("/users/{user_id:uuid}", operation_id="adminGetUser", summary="One account",
         opt={"action": "admin.users.read"}, responses=problem_docs(400, 401, 403, 404))
    async def get_user(self, request: Request[Any, Any, Any], state: AppState, user_id: FromPath[UUID]) -> UserOut:
        """An account of the caller's office."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            row = await queries.user(conn, user_id=user_id, office_id=p.office_id)
        if row is None:
            raise not_found("account")
        return user_out(row)

    @patch("/users/{user_id:uuid}", operation_id="adminUpdateUser", summary="Disable, enable or re-role an account",
           opt={"action": "admin.users.manage"}, responses=problem_docs(400, 401, 403, 404))
    async def update_user(
        self, request: Request[Any, Any, Any], state: AppState, user_id: FromPath[UUID], data: JSONBody[UserPatch]
    ) -> UserOut:
        """Disabling, re-roling or resetting the second factor signs the account out everywhere at once."""
        p = current_principal(request)
        roles = None if isinstance(data.roles, msgspec.UnsetType) else data.roles
        if roles is not None:
            bad = sorted(set(roles) - set(STAFF_ROLES))
            if bad:
                raise ProblemError(ErrorCode.VALIDATION_FAILED, "Unknown staff roles.",
                                   errors=[{"field": "roles", "message": f"unknown role {r}"} for r in bad])
        async with state.db.transaction() as conn:
            row = await service.update_user(
                conn, state=state, principal=p, actor=actor_from(request, p), user_id=user_id,
                disabled=None if isinstance(data.disabled, msgspec.UnsetType) else data.disabled, roles=roles,
                reset_totp=data.reset_totp is True,
                detail={k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET},
            )
        if row is None:
            raise not_found("account")
        return user_out(row)

    @post("/users/{user_id:uuid}/sessions/revoke", operation_id="adminRevokeSessions",
          summary="Sign an account out everywhere", opt={"action": "admin.sessions.revoke"},
          status_code=HTTP_204_NO_CONTENT, responses=problem_docs(400, 401, 403, 404))
    async def revoke_sessions(self, request: Request[Any, Any, Any], state: AppState, user_id: FromPath[UUID]) -> None:
        """Revoke every refresh token and every access token issued so far to the account."""
        p = current_principal(request)
        async with state.db.transaction() as conn:
            done = await service.revoke_user_sessions(conn, state=state, actor=actor_from(request, p),
                                                      office_id=p.office_id, user_id=user_id)
        if not done:
            raise not_found("account")
