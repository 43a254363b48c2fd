"""An office's first admin, created by the operator on the server (`jianwu admin create`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from api.db import atomic
from api.errors import ErrorCode, ProblemError
from auth.audit import record
from auth.credentials import set_password
from auth.password_policy import check, one_time_password, policy_for

if TYPE_CHECKING:
    import asyncpg

    from auth.audit import Actor

__all__ = ("create_first_admin",)

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


async def create_first_admin(
    conn: asyncpg.Connection, *, office_code: str, username: str, display_name: str, password: str | None,
    force: bool, actor: Actor,
) -> str | None:
    """Create the admin with a one-time password (generated, or the operator's own), forced to change it and to
    enrol TOTP at first sign-in. Refused when the office already has a serving admin, unless `force` (audited).
    Answers the generated password, or None when the operator gave one."""
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise ProblemError(ErrorCode.VALIDATION_FAILED,
                           "username: 3-64 of a-z 0-9 . _ -, starting with a letter or digit")
    if not 1 <= len(display_name) <= 100:
        raise ProblemError(ErrorCode.VALIDATION_FAILED, "name: 1-100 characters")
    async with atomic(conn):
        office = await conn.fetchrow("select id, retired_at from offices where code = $1 for update", office_code)
        if office is None or office["retired_at"] is not None:
            raise ProblemError(ErrorCode.NOT_FOUND,
                               f"no office {office_code} (import the offices first: jianwu offices import FILE)")
        if password is not None:
            check(password, await policy_for(conn, office["id"]), username=username, field="password")
        admins = await conn.fetchval(
            "select count(*) from users where office_id = $1 and 'admin' = any(roles) and disabled_at is null",
            office["id"])
        if admins and not force:
            raise ProblemError(ErrorCode.CONFLICT,
                               f"office {office_code} already has an admin; add --force to create another")
        row = await conn.fetchrow(
            """
            insert into users (kind, office_id, username, display_name, roles, totp_required)
            values ('staff', $1, $2, $3, '{admin}', true) on conflict (username) do nothing returning *
            """, office["id"], username, display_name)
        if row is None:
            raise ProblemError(ErrorCode.CONFLICT, f"the username {username} is taken")
        generated = one_time_password() if password is None else None
        await set_password(conn, row, password or generated, one_time=True)  # type: ignore[arg-type]  # one of the two is set: the given password or the generated one
        await record(conn, actor, "admin.first_admin.created", office_id=office["id"], object_type="user",
                     object_id=row["id"], detail={"username": username, "forced": bool(admins and force),
                                                  "admins_before": admins, "password": "stdin" if password else
                                                  "generated"})
    return generated
