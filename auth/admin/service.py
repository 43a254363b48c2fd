"""Writes of the admin console: each runs in the caller's transaction and writes its audit record there."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec

from api.errors import ErrorCode, ProblemError
from api.state import AppState
from auth import queries
from auth.audit import Actor, record
from auth.credentials import revoke_sessions
from auth.permissions import replace_grants
from auth.principal import Principal
from auth.role_requests import refuse_without_approval

if TYPE_CHECKING:
    import asyncpg

__all__ = ("create_client", "replace_permission_list", "revoke_user_sessions", "rotate_client_secret",
           "set_office_totp", "update_client", "update_user")


async def update_user(conn: asyncpg.Connection, *, state: AppState, principal: Principal, actor: Actor, user_id: UUID,
                      disabled: bool | None, roles: list[str] | None, reset_totp: bool,
                      detail: dict[str, Any]) -> asyncpg.Record | None:
    """Disable, enable, re-role or reset the second factor of an account of the office; None when there is none.
    Any of these signs the account out everywhere at once."""
    row = await queries.user(conn, user_id=user_id, office_id=principal.office_id, for_update=True)
    if row is None:
        return None
    if roles is not None and row["kind"] != "staff":
        raise ProblemError(ErrorCode.UNPROCESSABLE, "Only staff accounts have roles.")
    if roles is not None:
        await refuse_without_approval(conn, principal, row, roles)
    if row["retired_at"] is not None and (disabled is False or roles is not None):
        raise ProblemError(ErrorCode.CONFLICT, "A retired account stays retired.")
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
        user_id, disabled, None if roles is None else sorted(set(roles)), reset_totp,
    )
    if disabled is True or roles is not None or reset_totp:
        await revoke_sessions(state, conn, user_id)
    await record(conn, actor, "admin.user.updated", object_type="user", object_id=user_id, detail=detail)
    return row


async def revoke_user_sessions(conn: asyncpg.Connection, *, state: AppState, actor: Actor, office_id: UUID | None,
                               user_id: UUID) -> bool:
    """Sign an account of the office out everywhere; False when the office has no such account."""
    if not await queries.user_exists(conn, user_id=user_id, office_id=office_id):
        return False
    await revoke_sessions(state, conn, user_id)
    await record(conn, actor, "admin.sessions.revoked", object_type="user", object_id=user_id)
    return True


async def replace_permission_list(conn: asyncpg.Connection, *, actor: Actor, office_id: UUID | None, level: str,
                                  grants: dict[str, list[str]], reason: str | None = None) -> None:
    """Put a whole list in place of the office's own, or (from the province's top office) the province's; the
    reason, when given (the console asks for one), is kept in the audit record."""
    # One writer per office at a time: concurrent saves would otherwise race on the unique index.
    office = await queries.office_province(conn, office_id=office_id, for_update=True)
    if level == "province" and office["parent_id"] is not None:
        raise ProblemError(ErrorCode.FORBIDDEN, "Only the province's top office sets the province list.")
    if level == "office":
        await _within_province(conn, office["province"], grants)
    await replace_grants(conn, province=office["province"], office_id=office_id if level == "office" else None,
                         grants=grants)
    await record(conn, actor, "admin.permissions.replaced", object_type="permission_list",
                 object_id=f"{level}:{office['province']}",
                 detail={"grants": grants, **({"reason": reason} if reason else {})})


async def _within_province(conn: asyncpg.Connection, province: str, grants: dict[str, list[str]]) -> None:
    """The province sets the list for all its offices: an office may narrow it, never widen it."""
    allowed = {(r["role"], r["action"]) for r in await queries.province_rows(conn, province=province)}
    wider = sorted((role, a) for role, actions in grants.items() for a in actions if (role, a) not in allowed)
    if wider:
        raise ProblemError(ErrorCode.VALIDATION_FAILED, "An office's list may only narrow its province's.",
                           errors=[{"field": f"grants.{role}", "message": f"{a} is not in the province's list"}
                                   for role, a in wider])


async def create_client(conn: asyncpg.Connection, *, actor: Actor, office_id: UUID | None, client_id: str, name: str,
                        agency_kind: str, secret_hash: str | None, public_jwk: dict[str, Any] | None,
                        scopes: list[str], rate_limit_per_minute: int, jwks_url: str | None = None,
                        allowed_networks: list[str] | None = None, daily_quota: int | None = None) -> asyncpg.Record:
    """Register a partner client of the office (409 when the office already has one with this id)."""
    row = await conn.fetchrow(
        """
        insert into partner_clients (office_id, client_id, name, agency_kind, secret_hash, public_jwk,
                                     scopes, rate_limit_per_minute, jwks_url, allowed_networks, daily_quota)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::cidr[], $11)
        on conflict (client_id) do nothing returning *
        """,
        office_id, client_id, name, agency_kind, secret_hash, public_jwk, sorted(set(scopes)), rate_limit_per_minute,
        jwks_url, allowed_networks or [], daily_quota,
    )
    if row is None:
        raise ProblemError(ErrorCode.CONFLICT, "Your office already has a client with this id.")
    await record(conn, actor, "admin.client.created", object_type="partner_client", object_id=client_id,
                 detail={"scopes": sorted(set(scopes))})
    return row


async def update_client(conn: asyncpg.Connection, *, state: AppState, actor: Actor, office_id: UUID | None,
                        client_uuid: UUID, scopes: list[str] | None, rate_limit_per_minute: int | None,
                        disabled: bool | None, detail: dict[str, Any], allowed_networks: list[str] | None = None,
                        daily_quota: Any = msgspec.UNSET) -> asyncpg.Record | None:
    """Change a partner client of the office (its tokens stop working at once); None when there is none.
    `daily_quota` None removes the quota; UNSET leaves it."""
    row = await conn.fetchrow(
        """
        update partner_clients set
            scopes = coalesce($3::text[], scopes),
            rate_limit_per_minute = coalesce($4::integer, rate_limit_per_minute),
            disabled_at = case when $5::boolean is null then disabled_at
                               when $5 then coalesce(disabled_at, now()) else null end,
            allowed_networks = coalesce($6::cidr[], allowed_networks),
            daily_quota = case when $7 then $8::integer else daily_quota end
        where id = $1 and office_id = $2 returning *
        """,
        client_uuid, office_id, None if scopes is None else sorted(set(scopes)), rate_limit_per_minute, disabled,
        allowed_networks, daily_quota is not msgspec.UNSET, None if daily_quota is msgspec.UNSET else daily_quota,
    )
    if row is None:
        return None
    await state.revocations.revoke_subject(f"client:{row['client_id']}")
    await record(conn, actor, "admin.client.updated", object_type="partner_client", object_id=row["client_id"],
                 detail=detail)
    return row


async def rotate_client_secret(conn: asyncpg.Connection, *, actor: Actor, office_id: UUID | None, client_uuid: UUID,
                               secret_hash: str, overlap_hours: int) -> asyncpg.Record | None:
    """Give a client of the office a new secret; the current one stays valid for the overlap. None when none."""
    row = await conn.fetchrow(
        """
        update partner_clients set previous_secret_hash = secret_hash,
            previous_secret_until = case when secret_hash is null then null
                                         else now() + make_interval(hours => $4) end,
            secret_hash = $3
        where id = $1 and office_id = $2 returning *
        """,
        client_uuid, office_id, secret_hash, overlap_hours)
    if row is None:
        return None
    await record(conn, actor, "admin.client.secret_rotated", object_type="partner_client", object_id=row["client_id"],
                 detail={"overlap_hours": overlap_hours})
    return row


async def set_office_totp(conn: asyncpg.Connection, *, actor: Actor, office_id: UUID | None,
                          require_totp: bool) -> None:
    """Require (or stop requiring) a second factor of every staff member of the office."""
    await conn.execute("update offices set require_totp = $2 where id = $1", office_id, require_totp)
    await record(conn, actor, "admin.office.updated", object_type="office", object_id=office_id,
                 detail={"require_totp": require_totp})
