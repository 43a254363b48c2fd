"""Reads for the admin console: every SELECT of auth/admin/, each limited to the caller's office."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from api.pagination import keyset

if TYPE_CHECKING:
    import asyncpg

__all__ = (
    "VISIBLE_ROLE_REQUESTS", "audit_page", "audit_record", "office_code", "office_province", "own_list_exists",
    "partner_client", "partner_client_page", "permission_rows", "province_list_exists", "province_rows",
    "role_request_page", "user", "user_exists", "user_page",
)

# A role request is seen by its own office and the office directly above (`?`: the caller's office).
VISIBLE_ROLE_REQUESTS = "(rr.office_id = ? or rr.office_id in (select id from offices where parent_id = ?))"


async def user_page(conn: asyncpg.Connection, *, office_id: UUID | None, kind: str | None, after: Any,
                    limit: int) -> list[asyncpg.Record]:
    """One page of the office's accounts, newest first, optionally one kind."""
    q = keyset("created_at", "id")
    q.owner("office_id", office_id)
    if kind:
        q.add("kind = ?", kind)
    sql, args = q.sql("select * from users", after, limit)
    return await conn.fetch(sql, *args)


async def role_request_page(conn: asyncpg.Connection, *, office_id: UUID | None, pending: bool, after: Any,
                            limit: int) -> list[asyncpg.Record]:
    """One page of the changes of roles of the office and those directly below, newest first, each with the
    account's `username`; `pending` keeps those still waiting."""
    q = keyset("rr.requested_at", "rr.id")
    q.add(VISIBLE_ROLE_REQUESTS, office_id)
    if pending:
        q.add("rr.decided_at is null")
    sql, args = q.sql("select rr.*, u.username from role_requests rr join users u on u.id = rr.user_id", after,
                      limit)
    return await conn.fetch(sql, *args)


async def user(conn: asyncpg.Connection, *, user_id: UUID, office_id: UUID | None,
               for_update: bool = False) -> asyncpg.Record | None:
    """An account of the office, or None (locked for the caller's transaction when asked)."""
    sql = "select * from users where id = $1 and office_id = $2"
    return await conn.fetchrow(sql + (" for update" if for_update else ""), user_id, office_id)


async def user_exists(conn: asyncpg.Connection, *, user_id: UUID, office_id: UUID | None) -> bool:
    """Whether the account belongs to the office."""
    return bool(await conn.fetchval("select exists (select 1 from users where id = $1 and office_id = $2)",
                                    user_id, office_id))


async def partner_client_page(conn: asyncpg.Connection, *, office_id: UUID | None, after: Any,
                              limit: int) -> list[asyncpg.Record]:
    """One page of the office's partner clients, newest first."""
    q = keyset("created_at", "id")
    q.owner("office_id", office_id)
    sql, args = q.sql("select * from partner_clients", after, limit)
    return await conn.fetch(sql, *args)


async def partner_client(conn: asyncpg.Connection, *, client_uuid: UUID,
                         office_id: UUID | None) -> asyncpg.Record | None:
    """A partner client of the office, or None."""
    return await conn.fetchrow("select * from partner_clients where id = $1 and office_id = $2",
                               client_uuid, office_id)


async def office_code(conn: asyncpg.Connection, *, office_id: UUID | None) -> str | None:
    """The office's code (partner client ids start with it)."""
    return await conn.fetchval("select code from offices where id = $1", office_id)


async def office_province(conn: asyncpg.Connection, *, office_id: UUID | None, for_update: bool = False) -> Any:
    """The office's province and parent (locked when asked: one permission-list writer per office)."""
    sql = "select province, parent_id from offices where id = $1"
    return await conn.fetchrow(sql + (" for update" if for_update else ""), office_id)


async def own_list_exists(conn: asyncpg.Connection, *, office_id: UUID | None) -> bool:
    """Whether the office has a permission list of its own."""
    return bool(await conn.fetchval("select exists (select 1 from permission_grants where office_id = $1)",
                                    office_id))


async def province_list_exists(conn: asyncpg.Connection, *, province: str) -> bool:
    """Whether the province has a permission list of its own."""
    return bool(await conn.fetchval(
        "select exists (select 1 from permission_grants where office_id is null and province = $1)", province))


async def permission_rows(conn: asyncpg.Connection, *, level: str, office_id: UUID | None,
                          province: str) -> list[asyncpg.Record]:
    """The (role, action) rows of the list at the office or the province level."""
    return await conn.fetch(
        "select role, action from permission_grants where office_id = $1" if level == "office" else
        "select role, action from permission_grants where office_id is null and province = $1",
        office_id if level == "office" else province,
    )


async def province_rows(conn: asyncpg.Connection, *, province: str) -> list[asyncpg.Record]:
    """The (role, action) rows in force for the province: its own list, else the national one."""
    return await conn.fetch(
        """
        select role, action from permission_grants where office_id is null and province = $1
        union all
        select role, action from permission_grants where office_id is null and province = '*'
          and not exists (select 1 from permission_grants where office_id is null and province = $1)
        """, province)


async def audit_page(conn: asyncpg.Connection, *, office_id: UUID | None, before: int | None, action: str | None,
                     limit: int, actor_id: str | None = None, object_type: str | None = None,
                     object_id: str | None = None, since: datetime | None = None,
                     until: datetime | None = None) -> list[asyncpg.Record]:
    """Up to limit + 1 of the office's audit records before the given id, newest first; optionally only one
    person's, one object's, one action's, or those in [since, until)."""
    return await conn.fetch(
        """
        select * from audit_log where office_id = $1 and ($2::bigint is null or id < $2)
          and ($3::text is null or action = $3) and ($5::text is null or actor_id = $5)
          and ($6::text is null or object_type = $6) and ($7::text is null or object_id = $7)
          and ($8::timestamptz is null or at >= $8) and ($9::timestamptz is null or at < $9)
        order by id desc limit $4
        """,
        office_id, before, action, limit + 1, actor_id, object_type, object_id, since, until,
    )


async def audit_record(conn: asyncpg.Connection, *, record_id: int, office_id: UUID | None) -> asyncpg.Record | None:
    """An audit record of the office, or None."""
    return await conn.fetchrow("select * from audit_log where id = $1 and office_id = $2", record_id, office_id)
