"""The admin console's API for one office: accounts, sessions, permission list, partner clients, audit trail."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_204_NO_CONTENT

from api.errors import ErrorCode, ProblemError, problem_docs
from api.pagination import Limit, Page, decode_cursor, keyset, page_of
from auth.actions import EXTERNAL_KINDS, STAFF_ROLES, grantable
from auth.audit import actor_from, record
from auth.credentials import revoke_sessions as _revoke_sessions
from auth.passwords import hash_password
from auth.permissions import effective_grants, replace_grants
from auth.principal import Principal, current_principal
from auth.role_requests import refuse_without_approval

if TYPE_CHECKING:
    import asyncpg
    from litestar.datastructures import State

__all__ = ("AdminController",)

_ROLES = frozenset(STAFF_ROLES) | frozenset(EXTERNAL_KINDS)
_SECURITY = [{"bearer": []}]


class UserOut(msgspec.Struct, rename="camel"):
    """An account as the office's admin sees it."""

    id: UUID
    kind: str
    username: str | None
    display_name: str
    roles: list[str]
    totp_enabled: bool
    disabled: bool
    created_at: datetime


class UserPatch(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """Change an account: disable or enable it, or set a staff member's roles."""

    disabled: bool | msgspec.UnsetType = msgspec.UNSET
    roles: list[str] | msgspec.UnsetType = msgspec.UNSET
    # Clear the second factor (a lost phone, or someone else enrolled first); the account enrols again.
    reset_totp: bool | msgspec.UnsetType = msgspec.UNSET


class PermissionList(msgspec.Struct, rename="camel"):
    """The permission list at one level, and where the list in force for the office comes from."""

    level: str
    province: str
    grants: dict[str, list[str]]
    in_force: str


class PermissionListIn(msgspec.Struct, forbid_unknown_fields=True):
    """A whole list to put in place of the one at this level: role -> actions."""

    grants: dict[str, list[str]]


class ClientOut(msgspec.Struct, rename="camel"):
    """A partner-agency client."""

    id: UUID
    client_id: str
    name: str
    agency_kind: str
    scopes: list[str]
    rate_limit_per_minute: int
    has_secret: bool
    has_public_key: bool
    disabled: bool
    created_at: datetime


class ClientIn(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """Register a partner client (`clientId` starts with the office code and `-`); a secret is generated unless a
    public key (JWK) is given."""

    client_id: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$")]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    agency_kind: Literal["police", "government", "hotline"]
    scopes: list[str] = []
    rate_limit_per_minute: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 600
    public_jwk: dict[str, Any] | None = None


class ClientCreated(msgspec.Struct, rename="camel"):
    """The new client, with its secret shown this once."""

    client: ClientOut
    client_secret: str | None


class ClientPatch(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """Change a partner client."""

    scopes: list[str] | msgspec.UnsetType = msgspec.UNSET
    disabled: bool | msgspec.UnsetType = msgspec.UNSET
    rate_limit_per_minute: Annotated[int, msgspec.Meta(ge=1, le=100_000)] | msgspec.UnsetType = msgspec.UNSET


class AuditOut(msgspec.Struct, rename="camel"):
    """One audit record."""

    id: int
    at: datetime
    actor_id: str | None
    actor_kind: str | None
    action: str
    object_type: str | None
    object_id: str | None
    device_id: str | None
    ip: str | None
    request_id: str | None
    detail: dict[str, Any]
    hash: str


class OfficeSettings(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """Office-wide sign-in settings."""

    require_totp: bool


def _user(r: asyncpg.Record) -> UserOut:
    return UserOut(id=r["id"], kind=r["kind"], username=r["username"], display_name=r["display_name"],
                   roles=list(r["roles"]), totp_enabled=r["totp_confirmed_at"] is not None,
                   disabled=r["disabled_at"] is not None, created_at=r["created_at"])


def _client(r: asyncpg.Record) -> ClientOut:
    return ClientOut(id=r["id"], client_id=r["client_id"], name=r["name"], agency_kind=r["agency_kind"],
                     scopes=list(r["scopes"]), rate_limit_per_minute=r["rate_limit_per_minute"],
                     has_secret=r["secret_hash"] is not None, has_public_key=r["public_jwk"] is not None,
                     disabled=r["disabled_at"] is not None, created_at=r["created_at"])


def _audit(r: asyncpg.Record) -> AuditOut:
    return AuditOut(id=r["id"], at=r["at"], actor_id=r["actor_id"], actor_kind=r["actor_kind"], action=r["action"],
                    object_type=r["object_type"], object_id=r["object_id"], device_id=r["device_id"], ip=r["ip"],
                    request_id=r["request_id"], detail=r["detail"], hash=r["hash"])


def _not_found(what: str) -> ProblemError:
    return ProblemError(404, ErrorCode.NOT_FOUND, f"No such {what}.")


def _check_actions(actions: list[str], field: str, role: str) -> None:
    """Refuse actions that do not exist, or that this role may never hold (no staff power for outsiders)."""
    bad = sorted(a for a in set(actions) if not grantable(role, a))
    if bad:
        raise ProblemError(400, ErrorCode.VALIDATION_FAILED, f"Actions {role} may not be granted.",
                           errors=[{"field": field, "message": f"{a} is unknown or not grantable to {role}"}
                                   for a in bad])


class AdminController(Controller):
    """Office administration. Every query is limited to the caller's own office: others' rows answer 404."""

    path = "/admin"
    tags = ["admin"]
    security = _SECURITY

    @get("/users", operation_id="adminListUsers", summary="List the office's accounts",
         opt={"action": "admin.users.read"}, responses=problem_docs(400, 401, 403))
    async def list_users(
        self, request: Request[Any, Any, Any], state: State, cursor: FromQuery[str | None] = None, limit: FromQuery[Limit] = 50,
        kind: FromQuery[Literal["staff", "deputy", "member"] | None] = None,
    ) -> Page[UserOut]:
        """Newest first, cursor-paginated, optionally one kind."""
        p = current_principal(request)
        q = keyset("created_at", "id")
        q.add("office_id = ?", p.office_id)
        if kind:
            q.add("kind = ?", kind)
        sql, args = q.sql("select * from users", decode_cursor(cursor), limit)
        async with state.db.connection() as conn:
            rows = await conn.fetch(sql, *args)
        return page_of(rows, limit, _user, lambda r: (r["created_at"], r["id"]))

    @get("/users/{user_id:uuid}", operation_id="adminGetUser", summary="One account",
         opt={"action": "admin.users.read"}, responses=problem_docs(400, 401, 403, 404))
    async def get_user(self, request: Request[Any, Any, Any], state: State, user_id: FromPath[UUID]) -> UserOut:
        """An account of the caller's office."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            row = await conn.fetchrow("select * from users where id = $1 and office_id = $2", user_id, p.office_id)
        if row is None:
            raise _not_found("account")
        return _user(row)

    @patch("/users/{user_id:uuid}", operation_id="adminUpdateUser", summary="Disable, enable or re-role an account",
           opt={"action": "admin.users.manage"}, responses=problem_docs(400, 401, 403, 404))
    async def update_user(
        self, request: Request[Any, Any, Any], state: State, user_id: FromPath[UUID], data: JSONBody[UserPatch]
    ) -> UserOut:
        """Disabling, re-roling or resetting the second factor signs the account out everywhere at once."""
        p = current_principal(request)
        if data.roles is not msgspec.UNSET:
            bad = sorted(set(data.roles) - set(STAFF_ROLES))
            if bad:
                raise ProblemError(400, ErrorCode.VALIDATION_FAILED, "Unknown staff roles.",
                                   errors=[{"field": "roles", "message": f"unknown role {r}"} for r in bad])
        async with state.db.transaction() as conn:
            row = await conn.fetchrow("select * from users where id = $1 and office_id = $2 for update",
                                      user_id, p.office_id)
            if row is None:
                raise _not_found("account")
            if data.roles is not msgspec.UNSET and row["kind"] != "staff":
                raise ProblemError(422, ErrorCode.UNPROCESSABLE, "Only staff accounts have roles.")
            if data.roles is not msgspec.UNSET:
                await refuse_without_approval(conn, p, row, data.roles)
            if row["retired_at"] is not None and (data.disabled is False or data.roles is not msgspec.UNSET):
                raise ProblemError(409, ErrorCode.CONFLICT, "A retired account stays retired.")
            row = await conn.fetchrow(
                """
                update users set
                    disabled_at = case when $2::boolean is null then disabled_at
                                       when $2 then coalesce(disabled_at, now()) else null end,
                    roles = coalesce($3::text[], roles), updated_at = now(),
                    totp_secret_enc = case when $4 then null else totp_secret_enc end,
                    totp_confirmed_at = case when $4 then null else totp_confirmed_at end,
                    totp_last_step = case when $4 then null else totp_last_step end,
                    recovery_codes = case when $4 then '{}' else recovery_codes end
                where id = $1 returning *
                """,
                user_id, None if data.disabled is msgspec.UNSET else data.disabled,
                None if data.roles is msgspec.UNSET else sorted(set(data.roles)), data.reset_totp is True,
            )
            if data.disabled is True or data.roles is not msgspec.UNSET or data.reset_totp is True:
                await _revoke_sessions(state, conn, user_id)
            await record(conn, actor_from(request, p), "admin.user.updated", object_type="user", object_id=user_id,
                         detail={k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET})
        return _user(row)

    @post("/users/{user_id:uuid}/sessions/revoke", operation_id="adminRevokeSessions",
          summary="Sign an account out everywhere", opt={"action": "admin.sessions.revoke"},
          status_code=HTTP_204_NO_CONTENT, responses=problem_docs(400, 401, 403, 404))
    async def revoke_sessions(self, request: Request[Any, Any, Any], state: State, user_id: FromPath[UUID]) -> None:
        """Revoke every refresh token and every access token issued so far to the account."""
        p = current_principal(request)
        async with state.db.transaction() as conn:
            if not await conn.fetchval("select exists (select 1 from users where id = $1 and office_id = $2)",
                                       user_id, p.office_id):
                raise _not_found("account")
            await _revoke_sessions(state, conn, user_id)
            await record(conn, actor_from(request, p), "admin.sessions.revoked", object_type="user",
                         object_id=user_id)

    @get("/permissions", operation_id="adminGetPermissions", summary="Read a permission list",
         opt={"action": "admin.permissions.read"}, responses=problem_docs(400, 401, 403))
    async def get_permissions(
        self, request: Request[Any, Any, Any], state: State, level: FromQuery[Literal["office", "province", "effective"]] = "effective",
    ) -> PermissionList:
        """The list at the office or province level, or the one in force for the office."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            return await _permission_list(conn, p, level)

    @put("/permissions", operation_id="adminPutPermissions", summary="Replace a permission list",
         opt={"action": "admin.permissions.manage"}, responses=problem_docs(400, 401, 403, 404))
    async def put_permissions(
        self, request: Request[Any, Any, Any], state: State, data: JSONBody[PermissionListIn],
        level: FromQuery[Literal["office", "province"]] = "office",
    ) -> PermissionList:
        """Replace the office's own list, or (from the province's top office) the province's."""
        p = current_principal(request)
        bad_roles = sorted(set(data.grants) - _ROLES)
        if bad_roles:
            raise ProblemError(400, ErrorCode.VALIDATION_FAILED, "Unknown roles.",
                               errors=[{"field": f"grants.{r}", "message": "unknown role"} for r in bad_roles])
        for role, actions in data.grants.items():
            _check_actions(actions, f"grants.{role}", role)
        async with state.db.transaction() as conn:
            # One writer per office at a time: concurrent saves would otherwise race on the unique index.
            office = await conn.fetchrow("select province, parent_id from offices where id = $1 for update",
                                         p.office_id)
            if level == "province" and office["parent_id"] is not None:
                raise ProblemError(403, ErrorCode.FORBIDDEN, "Only the province's top office sets the province list.")
            if level == "office":
                await _within_province(conn, office["province"], data.grants)
            await replace_grants(conn, province=office["province"], office_id=p.office_id if level == "office" else None,
                                 grants=data.grants)
            await record(conn, actor_from(request, p), "admin.permissions.replaced", object_type="permission_list",
                         object_id=f"{level}:{office['province']}", detail={"grants": data.grants})
            result = await _permission_list(conn, p, level)
        state.permissions.forget()
        return result

    @get("/partner-clients", operation_id="adminListClients", summary="List partner clients",
         opt={"action": "admin.clients.read"}, responses=problem_docs(400, 401, 403))
    async def list_clients(
        self, request: Request[Any, Any, Any], state: State, cursor: FromQuery[str | None] = None, limit: FromQuery[Limit] = 50
    ) -> Page[ClientOut]:
        """The office's partner-agency clients, newest first."""
        p = current_principal(request)
        q = keyset("created_at", "id")
        q.add("office_id = ?", p.office_id)
        sql, args = q.sql("select * from partner_clients", decode_cursor(cursor), limit)
        async with state.db.connection() as conn:
            rows = await conn.fetch(sql, *args)
        return page_of(rows, limit, _client, lambda r: (r["created_at"], r["id"]))

    @get("/partner-clients/{client_uuid:uuid}", operation_id="adminGetClient", summary="One partner client",
         opt={"action": "admin.clients.read"}, responses=problem_docs(400, 401, 403, 404))
    async def get_client(self, request: Request[Any, Any, Any], state: State, client_uuid: FromPath[UUID]) -> ClientOut:
        """A partner client of the caller's office."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            row = await conn.fetchrow("select * from partner_clients where id = $1 and office_id = $2",
                                      client_uuid, p.office_id)
        if row is None:
            raise _not_found("partner client")
        return _client(row)

    @post("/partner-clients", operation_id="adminCreateClient", summary="Register a partner client",
          opt={"action": "admin.clients.manage"}, responses=problem_docs(400, 401, 403, 409))
    async def create_client(
        self, request: Request[Any, Any, Any], state: State, data: JSONBody[ClientIn]
    ) -> ClientCreated:
        """Answers the generated secret once; only its hash is kept."""
        p = current_principal(request)
        _check_actions(data.scopes, "scopes", "partner")
        async with state.db.connection() as conn:
            office_code = await conn.fetchval("select code from offices where id = $1", p.office_id)
        if not data.client_id.startswith(f"{office_code}-"):
            # Client ids are one namespace for all offices: an office-prefixed id can only ever collide with the
            # caller's own clients, so the 409 below never tells whether another office has registered a name.
            raise ProblemError(400, ErrorCode.VALIDATION_FAILED, "A client id starts with your office's code.",
                               errors=[{"field": "clientId", "message": f"must start with {office_code}-"}])
        secret = None if data.public_jwk else "cs_" + secrets.token_urlsafe(32)
        if data.public_jwk:
            _check_jwk(data.public_jwk)
        secret_hash = await hash_password(secret) if secret else None
        async with state.db.transaction() as conn:
            row = await conn.fetchrow(
                """
                insert into partner_clients (office_id, client_id, name, agency_kind, secret_hash, public_jwk,
                                             scopes, rate_limit_per_minute)
                values ($1, $2, $3, $4, $5, $6, $7, $8)
                on conflict (client_id) do nothing returning *
                """,
                p.office_id, data.client_id, data.name, data.agency_kind, secret_hash, data.public_jwk,
                sorted(set(data.scopes)), data.rate_limit_per_minute,
            )
            if row is None:
                raise ProblemError(409, ErrorCode.CONFLICT, "Your office already has a client with this id.")
            await record(conn, actor_from(request, p), "admin.client.created", object_type="partner_client",
                         object_id=data.client_id, detail={"scopes": sorted(set(data.scopes))})
        return ClientCreated(client=_client(row), client_secret=secret)

    @patch("/partner-clients/{client_uuid:uuid}", operation_id="adminUpdateClient", summary="Change a partner client",
           opt={"action": "admin.clients.manage"}, responses=problem_docs(400, 401, 403, 404))
    async def update_client(
        self, request: Request[Any, Any, Any], state: State, client_uuid: FromPath[UUID], data: JSONBody[ClientPatch]
    ) -> ClientOut:
        """Change scopes, the rate limit, or disable (its tokens stop working at once)."""
        p = current_principal(request)
        if data.scopes is not msgspec.UNSET:
            _check_actions(data.scopes, "scopes", "partner")
        async with state.db.transaction() as conn:
            row = await conn.fetchrow(
                """
                update partner_clients set
                    scopes = coalesce($3::text[], scopes),
                    rate_limit_per_minute = coalesce($4::integer, rate_limit_per_minute),
                    disabled_at = case when $5::boolean is null then disabled_at
                                       when $5 then coalesce(disabled_at, now()) else null end
                where id = $1 and office_id = $2 returning *
                """,
                client_uuid, p.office_id, None if data.scopes is msgspec.UNSET else sorted(set(data.scopes)),
                None if data.rate_limit_per_minute is msgspec.UNSET else data.rate_limit_per_minute,
                None if data.disabled is msgspec.UNSET else data.disabled,
            )
            if row is None:
                raise _not_found("partner client")
            await state.revocations.revoke_subject(f"client:{row['client_id']}")
            await record(conn, actor_from(request, p), "admin.client.updated", object_type="partner_client",
                         object_id=row["client_id"],
                         detail={k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET})
        return _client(row)

    @get("/audit", operation_id="adminListAudit", summary="Read the office's audit trail",
         opt={"action": "admin.audit.read"}, responses=problem_docs(400, 401, 403))
    async def list_audit(
        self, request: Request[Any, Any, Any], state: State, before: Annotated[int | None, QueryParameter(ge=1)] = None,
        limit: FromQuery[Limit] = 50, action: FromQuery[str | None] = None,
    ) -> Page[AuditOut]:
        """Newest first; pass `nextCursor` as `before` for older records."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            rows = await conn.fetch(
                """
                select * from audit_log where office_id = $1 and ($2::bigint is null or id < $2)
                  and ($3::text is null or action = $3)
                order by id desc limit $4
                """,
                p.office_id, before, action, limit + 1,
            )
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(items=[_audit(r) for r in rows], next_cursor=str(rows[-1]["id"]) if more and rows else None)

    @get("/audit/{record_id:int}", operation_id="adminGetAudit", summary="One audit record",
         opt={"action": "admin.audit.read"}, responses=problem_docs(400, 401, 403, 404))
    async def get_audit(self, request: Request[Any, Any, Any], state: State, record_id: FromPath[int]) -> AuditOut:
        """An audit record of the caller's office."""
        p = current_principal(request)
        async with state.db.connection() as conn:
            row = await conn.fetchrow("select * from audit_log where id = $1 and office_id = $2", record_id,
                                      p.office_id)
        if row is None:
            raise _not_found("audit record")
        return _audit(row)

    @patch("/office", operation_id="adminUpdateOffice", summary="Change office sign-in settings",
           opt={"action": "admin.office.manage"}, responses=problem_docs(400, 401, 403))
    async def update_office(
        self, request: Request[Any, Any, Any], state: State, data: JSONBody[OfficeSettings]
    ) -> OfficeSettings:
        """Require a second factor of every staff member of the office (they enrol at their next sign-in)."""
        p = current_principal(request)
        async with state.db.transaction() as conn:
            await conn.execute("update offices set require_totp = $2 where id = $1", p.office_id, data.require_totp)
            await record(conn, actor_from(request, p), "admin.office.updated", object_type="office",
                         object_id=p.office_id, detail={"require_totp": data.require_totp})
        return data


async def _permission_list(conn: asyncpg.Connection, p: Principal, level: str) -> PermissionList:
    office = await conn.fetchrow("select province from offices where id = $1", p.office_id)
    province = office["province"]
    own = await conn.fetchval("select exists (select 1 from permission_grants where office_id = $1)", p.office_id)
    prov = await conn.fetchval(
        "select exists (select 1 from permission_grants where office_id is null and province = $1)", province)
    in_force = "office" if own else "province" if prov else "national"
    if level == "effective":
        grants = await effective_grants(conn, p.office_id)
    else:
        rows = await conn.fetch(
            "select role, action from permission_grants where office_id = $1" if level == "office" else
            "select role, action from permission_grants where office_id is null and province = $1",
            p.office_id if level == "office" else province,
        )
        grants = {}
        for r in rows:
            grants.setdefault(r["role"], set()).add(r["action"])  # type: ignore[attr-defined]
    return PermissionList(level=level, province=province, in_force=in_force,
                          grants={role: sorted(actions) for role, actions in sorted(grants.items())})


async def _within_province(conn: asyncpg.Connection, province: str, grants: dict[str, list[str]]) -> None:
    """The province sets the list for all its offices: an office may narrow it, never widen it."""
    rows = await conn.fetch(
        """
        select role, action from permission_grants where office_id is null and province = $1
        union all
        select role, action from permission_grants where office_id is null and province = '*'
          and not exists (select 1 from permission_grants where office_id is null and province = $1)
        """, province)
    allowed = {(r["role"], r["action"]) for r in rows}
    wider = sorted((role, a) for role, actions in grants.items() for a in actions if (role, a) not in allowed)
    if wider:
        raise ProblemError(400, ErrorCode.VALIDATION_FAILED, "An office's list may only narrow its province's.",
                           errors=[{"field": f"grants.{role}", "message": f"{a} is not in the province's list"}
                                   for role, a in wider])


def _check_jwk(jwk: dict[str, Any]) -> None:
    import jwt as pyjwt

    try:
        pyjwt.PyJWK(jwk)
    except (pyjwt.PyJWTError, ValueError, TypeError, KeyError):
        raise ProblemError(400, ErrorCode.VALIDATION_FAILED, "publicJwk is not a usable public key.",
                           errors=[{"field": "publicJwk", "message": "invalid JWK"}]) from None
    if any(k in jwk for k in ("d", "p", "q", "dp", "dq", "qi", "k")):
        raise ProblemError(400, ErrorCode.VALIDATION_FAILED, "Send only the public key.",
                           errors=[{"field": "publicJwk", "message": "contains private key material"}])
