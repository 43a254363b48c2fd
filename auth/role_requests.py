"""Role changes that need a second admin: one's own roles, and any role that can see reporters' identities.

One admin alone could otherwise give themselves `chief` and read who reported whom (举报人保护). Such a change is
asked for here and takes effect only when another admin of the office, or an admin of the office above, approves.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from api.errors import ErrorCode, ProblemError, problem_docs
from api.idempotency import run_once
from api.pagination import Limit, Page, decode_cursor, page_of
from api.state import AppState
from auth.actions import IDENTITY_ACTIONS, STAFF_ROLES
from auth.audit import Actor, actor_from, record
from auth.credentials import revoke_sessions
from auth.permissions import effective_grants
from auth.principal import Principal, current_principal
from auth.queries import VISIBLE_ROLE_REQUESTS, role_request_page

if TYPE_CHECKING:
    import asyncpg

__all__ = ("RoleRequestController", "approval_reason", "decide_request", "open_request",
           "refuse_without_approval", "request_roles")


class RoleRequestIn(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """Ask for an account's roles to become exactly these."""

    user_id: UUID
    roles: list[str]


class RoleRequestOut(msgspec.Struct, rename="camel"):
    """A change of roles waiting for, or decided by, a second admin."""

    id: UUID
    user_id: UUID
    roles: list[str]
    reason: str
    requested_by: UUID
    requested_at: datetime
    decision: str | None
    decided_by: UUID | None
    decided_at: datetime | None


def _out(r: asyncpg.Record) -> RoleRequestOut:
    return RoleRequestOut(id=r["id"], user_id=r["user_id"], roles=list(r["roles"]), reason=r["reason"],
                          requested_by=r["requested_by"], requested_at=r["requested_at"], decision=r["decision"],
                          decided_by=r["decided_by"], decided_at=r["decided_at"])


def check_roles(roles: list[str]) -> None:
    """400 naming each role that is not a staff role."""
    bad = sorted(set(roles) - set(STAFF_ROLES))
    if bad:
        raise ProblemError(ErrorCode.VALIDATION_FAILED, "Unknown staff roles.",
                           errors=[{"field": "roles", "message": f"unknown role {r}"} for r in bad])


async def approval_reason(conn: asyncpg.Connection, p: Principal, user: Any, roles: list[str]) -> str | None:
    """Why giving `user` these roles needs a second admin, or None when the caller alone may."""
    if user["id"] == p.user_id and set(roles) != set(user["roles"]):
        return "own_roles"
    added = set(roles) - set(user["roles"])
    if added:
        grants = await effective_grants(conn, user["office_id"])
        if any(grants.get(role, frozenset()) & IDENTITY_ACTIONS for role in added):
            return "identity_access"
    return None


async def refuse_without_approval(conn: asyncpg.Connection, p: Principal, user: Any, roles: list[str]) -> None:
    """403 `approval_required` when the change needs a second admin (ask through POST /admin/role-requests)."""
    reason = await approval_reason(conn, p, user, roles)
    if reason is not None:
        raise ProblemError(ErrorCode.APPROVAL_REQUIRED,
                           "This change of roles needs a second admin's approval: ask with POST /admin/role-requests.",
                           extra={"reason": reason})


async def open_request(conn: asyncpg.Connection, p: Principal, user: Any, roles: list[str], reason: str) -> Any:
    """Record a pending change (409 when the account already has one open)."""
    row = await conn.fetchrow(
        """
        insert into role_requests (office_id, user_id, roles, reason, requested_by) values ($1, $2, $3, $4, $5)
        on conflict (user_id) where decided_at is null do nothing returning *
        """,
        user["office_id"], user["id"], sorted(set(roles)), reason, p.user_id)
    if row is None:
        raise ProblemError(ErrorCode.CONFLICT, "This account already has a change of roles waiting.")
    return row


async def request_roles(conn: asyncpg.Connection, p: Principal, actor: Actor, user_id: UUID,
                        roles: list[str]) -> Any:
    """Ask, in the caller's transaction, for a staff account of the office to get exactly these roles (404 for
    another office's; 409 when one is already waiting); answers the pending request."""
    user = await conn.fetchrow(
        "select * from users where id = $1 and office_id = $2 and kind = 'staff' and retired_at is null",
        user_id, p.office_id)
    if user is None:
        raise ProblemError(ErrorCode.NOT_FOUND, "No such account.")
    reason = await approval_reason(conn, p, user, roles) or "requested"
    row = await open_request(conn, p, user, roles, reason)
    await record(conn, actor, "admin.roles.requested", object_type="user", object_id=user["id"],
                 detail={"roles": sorted(set(roles)), "reason": reason, "request": str(row["id"])})
    return row


async def decide_request(conn: asyncpg.Connection, state: AppState, p: Principal, actor: Actor, request_id: UUID,
                         decision: Literal["approval", "rejection"]) -> Any:
    """Approve or reject a waiting change of roles of the office or one below, in the caller's transaction, as an
    admin other than the one who asked and the account concerned; approval applies the roles and signs the
    account out everywhere. Answers the decided request."""
    row = await conn.fetchrow("select rr.* from role_requests rr where rr.id = $2 and "
                              + VISIBLE_ROLE_REQUESTS.replace("?", "$1") + " for update", p.office_id, request_id)
    if row is None:
        raise ProblemError(ErrorCode.NOT_FOUND, "No such role request.")
    if row["decided_at"] is not None:
        raise ProblemError(ErrorCode.CONFLICT, "This request was already decided.")
    if p.user_id in (row["requested_by"], row["user_id"]):
        raise ProblemError(ErrorCode.APPROVAL_REQUIRED,
                           "Another admin must decide: not the one who asked, nor the account concerned.")
    verdict = "approved" if decision == "approval" else "rejected"
    if verdict == "approved":
        changed = await conn.fetchval(
            "update users set roles = $2, updated_at = now() where id = $1 and office_id = $3 "
            "and retired_at is null returning id", row["user_id"], list(row["roles"]), row["office_id"])
        if changed is None:
            raise ProblemError(ErrorCode.CONFLICT, "The account has left the office or retired.")
        await revoke_sessions(state, conn, row["user_id"])
    row = await conn.fetchrow(
        "update role_requests set decision = $2, decided_by = $3, decided_at = now() where id = $1 "
        "returning *", request_id, verdict, p.user_id)
    await record(conn, actor, f"admin.roles.{verdict}", office_id=row["office_id"],
                 object_type="user", object_id=row["user_id"],
                 detail={"roles": list(row["roles"]), "request": str(request_id)})
    return row


class RoleRequestController(Controller):
    """Changes of roles that wait for a second admin."""

    path = "/admin/role-requests"
    tags = ["admin"]
    security = [{"bearer": []}]

    @post("", operation_id="adminRequestRoles", summary="Ask for a change of roles that needs a second admin",
          opt={"action": "admin.users.manage", "idempotency": "required"},
          responses=problem_docs(400, 401, 403, 404, 409, 422))
    async def create(self, request: Request[Any, Any, Any], state: AppState, data: JSONBody[RoleRequestIn]) -> Any:
        """Answers the pending request; the roles change when another admin approves. Needs an Idempotency-Key."""
        p = current_principal(request)
        check_roles(data.roles)

        async def work(conn: asyncpg.Connection) -> tuple[int, RoleRequestOut]:
            return 201, _out(await request_roles(conn, p, actor_from(request, p), data.user_id, data.roles))

        return await run_once(state.db, request, f"user:{p.sub}", msgspec.structs.asdict(data), work)

    @get("", operation_id="adminListRoleRequests", summary="Changes of roles of this office and those below",
         opt={"action": "admin.users.read"}, responses=problem_docs(400, 401, 403))
    async def list_requests(
        self, request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
        limit: FromQuery[Limit] = 50, pending: FromQuery[bool] = True,
    ) -> Page[RoleRequestOut]:
        """Newest first; by default only those still waiting."""
        p = current_principal(request)
        after = decode_cursor(cursor)
        async with state.db.connection() as conn:
            rows = await role_request_page(conn, office_id=p.office_id, pending=pending, after=after, limit=limit)
        return page_of(rows, limit, _out, lambda r: (r["requested_at"], r["id"]))

    @post("/{request_id:uuid}/{decision:str}", operation_id="adminDecideRoleRequest",
          summary="Approve or reject a change of roles", opt={"action": "admin.roles.approve"},
          responses=problem_docs(400, 401, 403, 404, 409), status_code=200)
    async def decide(
        self, request: Request[Any, Any, Any], state: AppState, request_id: FromPath[UUID],
        decision: FromPath[Literal["approval", "rejection"]],
    ) -> RoleRequestOut:
        """By an admin other than the one who asked and the account concerned; approval applies the roles and
        signs the account out everywhere."""
        p = current_principal(request)
        async with state.db.transaction() as conn:
            row = await decide_request(conn, state, p, actor_from(request, p), request_id, decision)
        return _out(row)
