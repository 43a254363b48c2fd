"""Admin console: the permission list of the office or its province."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any, Literal

import msgspec
from litestar import Controller, Request, get, put
from litestar.params import FromQuery, JSONBody

from api.errors import ErrorCode, ProblemError, problem_docs
from api.state import AppState
from auth import queries
from auth.actions import EXTERNAL_KINDS, STAFF_ROLES
from auth.admin import service
from auth.admin.common import SECURITY, check_actions
from auth.audit import actor_from
from auth.permissions import effective_grants
from auth.principal import Principal, current_principal

if TYPE_CHECKING:
    import asyncpg

__all__ = ("AdminPermissionsController", "PermissionList", "PermissionListIn")

_ROLES = frozenset(STAFF_ROLES) | frozenset(EXTERNAL_KINDS)


class PermissionList(msgspec.Struct, rename="camel"):
    """The permission list at one level, and where the list in force for the office comes from."""

    level: str
    province: str
    grants: dict[str, list[str]]
    in_force: str


class PermissionListIn(msgspec.Struct, forbid_unknown_fields=True):
    """A whole list to put in place of the one at this level: role -> actions."""

    grants: dict[str, list[str]]


class AdminPermissionsController(Controller):
    """The permission list. Every query is limited to the caller's own office."""

    path = "/admin"
    tags = ["admin"]
    security = SECURITY

    @get("/permissions", operation_id="adminGetPermissions", summary="Read a permission list",
         opt={"action": "admin.permissions.read"}, responses=problem_docs(400, 401, 403))
    async def get_permissions(
        self, request: Request[Any, Any, Any], state: AppState,
        level: FromQuery[Literal["office", "province", "effective"]] = "effective",
    ) -> PermissionList:
        """The list at the office or province level, or the one in force for the office."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            return await _permission_list(conn, p, level)

    @put("/permissions", operation_id="adminPutPermissions", summary="Replace a permission list",
         opt={"action": "admin.permissions.manage"}, responses=problem_docs(400, 401, 403, 404))
    async def put_permissions(
        self, request: Request[Any, Any, Any], state: AppState, data: JSONBody[PermissionListIn],
        level: FromQuery[Literal["office", "province"]] = "office",
    ) -> PermissionList:
        """Replace the office's own list, or (from the province's top office) the province's."""
        p = current_principal(request)
        bad_roles = sorted(set(data.grants) - _ROLES)
        if bad_roles:
            raise ProblemError(ErrorCode.VALIDATION_FAILED, "Unknown roles.",
                               errors=[{"field": f"grants.{r}", "message": "unknown role"} for r in bad_roles])
        for role, actions in data.grants.items():
            check_actions(actions, f"grants.{role}", role)
        async with state.db.transaction() as conn:
            await service.replace_permission_list(conn, actor=actor_from(request, p), office_id=p.office_id,
                                                  level=level, grants=data.grants)
            result = await _permission_list(conn, p, level)
        state.permissions.forget()
        return result


async def _permission_list(conn: asyncpg.Connection, p: Principal, level: str) -> PermissionList:
    office = await queries.office_province(conn, office_id=p.office_id)
    province = office["province"]
    own = await queries.own_list_exists(conn, office_id=p.office_id)
    prov = await queries.province_list_exists(conn, province=province)
    in_force = "office" if own else "province" if prov else "national"
    grants: Mapping[str, AbstractSet[str]]
    if level == "effective":
        grants = await effective_grants(conn, p.office_id)
    else:
        listed: dict[str, set[str]] = {}
        for r in await queries.permission_rows(conn, level=level, office_id=p.office_id, province=province):
            listed.setdefault(r["role"], set()).add(r["action"])
        grants = listed
    return PermissionList(level=level, province=province, in_force=in_force,
                          grants={role: sorted(actions) for role, actions in sorted(grants.items())})
