"""The office tree for admins: the office above creates, renames, moves and retires the offices below it; each
office sets its own password policy. Offices outside the caller's subtree answer 404."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from litestar import Controller, Request, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.types import ControllerRouterHandler

from api.errors import ErrorCode, ProblemError, problem_docs
from api.idempotency import run_once
from api.office_tree import (
    CODE,
    OfficeRecord,
    apply_change,
    create_below,
    history_page,
    in_reach,
    problems,
    refuse_retiring_occupied,
    subtree,
    subtree_page,
)
from api.pagination import Limit, Page, decode_cursor, decode_sequence_cursor, page_of, sequence_page
from api.state import AppState
from auth.audit import actor_from
from auth.password_policy import policy_for, set_policy
from auth.principal import current_principal

if TYPE_CHECKING:
    import asyncpg

__all__ = ("OfficeTreeController", "office_routes")


class OfficeDetail(msgspec.Struct, rename="camel"):
    """An office of the tree as its administrators see it."""

    code: str
    name: str
    level: str
    parent: str | None
    province: str
    time_zone: str
    retired: bool
    created_at: datetime


class OfficePatch(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """Rename, move under another office of the caller's subtree, change the time zone, retire or restore."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | msgspec.UnsetType = msgspec.UNSET
    parent: Annotated[str, msgspec.Meta(pattern=CODE)] | msgspec.UnsetType = msgspec.UNSET
    time_zone: Annotated[str, msgspec.Meta(max_length=64)] | msgspec.UnsetType = msgspec.UNSET
    retired: bool | msgspec.UnsetType = msgspec.UNSET


class HistoryEntry(msgspec.Struct, rename="camel"):
    """One change of an office."""

    id: int
    at: datetime
    change: str
    before: dict[str, Any]
    after: dict[str, Any]


class PasswordPolicy(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """The office's password policy (等级保护 2.0): minimum length, how many past passwords may not be reused,
    and after how many days a password must be changed (null: never)."""

    min_length: Annotated[int, msgspec.Meta(ge=8, le=128)] = 10
    history: Annotated[int, msgspec.Meta(ge=0, le=24)] = 5
    max_age_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] | None = None


def _detail(r: Any) -> OfficeDetail:
    return OfficeDetail(code=r["code"], name=r["name"], level=r["level"], parent=r["parent_code"],
                        province=r["province"], time_zone=r["time_zone"], retired=r["retired_at"] is not None,
                        created_at=r["created_at"])


def _invalid(rec: OfficeRecord) -> None:
    bad = problems(rec)
    if bad:
        raise ProblemError(ErrorCode.VALIDATION_FAILED, "Invalid office.",
                           errors=[{"field": b.split(":", 1)[0], "message": b.split(": ", 1)[1]} for b in bad])


class OfficeTreeController(Controller):
    """The offices below the caller's own."""

    path = "/admin/offices"
    tags = ["admin"]
    security = [{"bearer": []}]

    @get("", operation_id="adminListOffices", summary="The offices below the caller's",
         opt={"action": "admin.offices.manage"}, responses=problem_docs(400, 401, 403))
    async def list_offices(self, request: Request[Any, Any, Any], state: AppState, cursor: FromQuery[str | None] = None,
                           limit: FromQuery[Limit] = 50) -> Page[OfficeDetail]:
        """Every office under the caller's, retired ones included; oldest first."""
        p = current_principal(request)
        after = decode_cursor(cursor)
        async with state.db.connection() as conn:
            rows = await subtree_page(conn, p.office_id, after=after, limit=limit)
        return page_of(rows, limit, _detail, lambda r: (r["created_at"], r["id"]))

    @post("", operation_id="adminCreateOffice", summary="Create an office below the caller's",
          opt={"action": "admin.offices.manage", "idempotency": "required"},
          responses=problem_docs(400, 401, 403, 404, 409, 422))
    async def create(self, request: Request[Any, Any, Any], state: AppState, data: JSONBody[OfficeRecord]) -> Any:
        """Its parent is the caller's office or one below it. Needs an Idempotency-Key."""
        p = current_principal(request)
        _invalid(data)
        if data.parent is None:
            raise ProblemError(ErrorCode.VALIDATION_FAILED, "Name the parent office.",
                               errors=[{"field": "parent", "message": "required"}])

        parent = data.parent

        async def work(conn: asyncpg.Connection) -> tuple[int, OfficeDetail]:
            row = await create_below(conn, data, actor_from(request, p), office_id=p.office, parent=parent)
            return 201, _detail({**dict(row), "parent_code": data.parent})

        return await run_once(state.db, request, f"user:{p.sub}", msgspec.structs.asdict(data), work)

    @patch("/{code:str}", operation_id="adminUpdateOfficeInTree", summary="Rename, move, retire or restore an office",
           opt={"action": "admin.offices.manage"}, responses=problem_docs(400, 401, 403, 404, 409, 422))
    async def update(self, request: Request[Any, Any, Any], state: AppState, code: FromPath[str],
                     data: JSONBody[OfficePatch]) -> OfficeDetail:
        """Moving keeps the office's records and history; retiring needs it to have no serving accounts and no
        serving offices below."""
        p = current_principal(request)
        async with state.db.transaction() as conn:
            row = await subtree(conn, p.office_id, code)
            if row is None:
                raise ProblemError(ErrorCode.NOT_FOUND, "No such office under yours.")
            rec = OfficeRecord(
                code=code, level=row["level"], province=row["province"],
                name=row["name"] if data.name is msgspec.UNSET else data.name,
                parent=row["parent_code"] if data.parent is msgspec.UNSET else data.parent,
                time_zone=row["time_zone"] if data.time_zone is msgspec.UNSET else data.time_zone)
            _invalid(rec)
            if data.parent is not msgspec.UNSET:
                await in_reach(conn, p.office_id, data.parent)
            if data.retired is True:
                await refuse_retiring_occupied(conn, row["id"])
            _, new = await apply_change(conn, rec, actor_from(request, p),
                                        retired=None if data.retired is msgspec.UNSET else data.retired)
        return _detail({**dict(new), "parent_code": rec.parent})

    @get("/{code:str}/history", operation_id="adminOfficeHistory", summary="Every change of an office",
         opt={"action": "admin.offices.manage"}, responses=problem_docs(400, 401, 403, 404))
    async def history(self, request: Request[Any, Any, Any], state: AppState, code: FromPath[str],
                      cursor: FromQuery[str | None] = None, limit: FromQuery[Limit] = 50) -> Page[HistoryEntry]:
        """Newest first: created, renamed, moved, retired, restored; cursor-paginated."""
        p = current_principal(request)
        before = decode_sequence_cursor(cursor)
        async with state.db.connection() as conn:
            row = await subtree(conn, p.office_id, code)
            if row is None:
                raise ProblemError(ErrorCode.NOT_FOUND, "No such office under yours.")
            rows = await history_page(conn, row["id"], before=before, limit=limit)
        return sequence_page(rows, limit, lambda r: HistoryEntry(id=r["id"], at=r["at"], change=r["change"],
                                                                 before=r["before"], after=r["after"]))


@put("/admin/office/password-policy", operation_id="adminSetPasswordPolicy", tags=["admin"],
     summary="Set the office's password policy", opt={"action": "admin.office.manage"},
     responses=problem_docs(400, 401, 403), security=[{"bearer": []}])
async def set_password_policy(request: Request[Any, Any, Any], state: AppState,
                              data: JSONBody[PasswordPolicy]) -> PasswordPolicy:
    """Checked at every change of password; an expired password limits the next sign-in to changing it."""
    p = current_principal(request)
    async with state.db.transaction() as conn:
        await set_policy(conn, actor_from(request, p), p.office, min_length=data.min_length, history=data.history,
                         max_age_days=data.max_age_days)
    return data


@get("/admin/office/password-policy", operation_id="adminGetPasswordPolicy", tags=["admin"],
     summary="The office's password policy", opt={"action": "admin.users.read"},
     responses=problem_docs(401, 403), security=[{"bearer": []}])
async def get_password_policy(request: Request[Any, Any, Any], state: AppState) -> PasswordPolicy:
    """What every password change of the office is checked against."""
    p = current_principal(request)
    async with state.db.connection() as conn:
        policy = await policy_for(conn, p.office_id)
    return PasswordPolicy(min_length=policy.min_length, history=policy.history, max_age_days=policy.max_age_days)


office_routes: list[ControllerRouterHandler] = [OfficeTreeController, set_password_policy, get_password_policy]
