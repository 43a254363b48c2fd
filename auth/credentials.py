"""Passwords in an account's life: the sign-in failure lock-out, one-time and expired passwords, confirming the
password again before a sensitive change, and setting a new one under the office's policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from api.errors import ErrorCode, ProblemError
from api.state import AppState
from auth.password_policy import Policy, check, policy_for, refuse_reuse, remember
from auth.passwords import hash_password, verify_password
from auth.ratelimit import Limit
from push.devices import forget_sessions

if TYPE_CHECKING:
    import asyncpg

    from auth.principal import Principal

__all__ = ("LOGIN_ACCOUNT", "ONE_TIME_TTL", "change_due", "confirm_password", "one_time_expired", "revoke_sessions",
           "set_password")

# Sign-in failures per account: 5 per 15 minutes, then the account is locked until the window ends (or an admin
# unlocks it). Confirming the password again before a sensitive change counts against the same budget.
LOGIN_ACCOUNT = Limit("login_account", 5, 900)
# A one-time password (first admin, new account, admin reset) is good for 72 hours.
ONE_TIME_TTL = timedelta(hours=72)


def one_time_expired(user: Any) -> bool:
    """Whether the account's password is a one-time password past its 72 hours."""
    expires = user["password_expires_at"]
    return bool(user["must_change_password"]) and expires is not None and expires < datetime.now(UTC)


def change_due(user: Any, max_age_days: int | None) -> bool:
    """Whether the next token may only change the password: a one-time password, or one older than the policy."""
    if user["must_change_password"]:
        return True
    changed = user["password_changed_at"]
    return bool(max_age_days and changed and changed + timedelta(days=max_age_days) < datetime.now(UTC))


async def confirm_password(state: AppState, p: Principal, password: str, *, field: str = "password") -> asyncpg.Record:
    """Check the caller's own password again (a stolen access token alone must not do this); answers the account.
    Counted against the account's sign-in failures, so the route cannot be used to guess the password."""
    async with state.db.connection() as conn:
        user = await conn.fetchrow("select * from users where id = $1", p.user_id)
    if user is None or user["username"] is None:
        raise ProblemError(ErrorCode.FORBIDDEN, "This account has no password.")
    attempt = await state.limiter.hit(LOGIN_ACCOUNT, user["username"], fail_open=False)
    if not attempt.allowed:
        raise ProblemError(ErrorCode.RATE_LIMITED, "Too many failed attempts; this account is locked for now.",
                           headers=attempt.headers())
    if not await verify_password(user["password_hash"], password):
        raise ProblemError(ErrorCode.WRONG_PASSWORD, "The password is wrong.",
                           errors=[{"field": field, "message": "wrong password"}])
    await state.limiter.clear(LOGIN_ACCOUNT, user["username"])
    return user


async def set_password(
    conn: asyncpg.Connection, user: Any, password: str, *, one_time: bool, policy: Policy | None = None,
    hashed: str | None = None,
) -> None:
    """Store a new password (inside the caller's transaction). A chosen one is checked against the office's policy
    and its history; a one-time one must be changed at first use and expires after ONE_TIME_TTL. `hashed` is
    its hash made before the transaction (a bulk import hashes first, so no lock waits on argon2)."""
    policy = policy or await policy_for(conn, user["office_id"])
    if not one_time:
        check(password, policy, username=user["username"])
        await refuse_reuse(conn, user["id"], password, policy, user["password_hash"])
    await remember(conn, user["id"], user["password_hash"], policy)
    await conn.execute(
        """
        update users set password_hash = $2, must_change_password = $3, updated_at = now(),
            password_changed_at = now(), password_expires_at = case when $3 then now() + $4::interval end
        where id = $1
        """,
        user["id"], hashed or await hash_password(password), one_time, ONE_TIME_TTL,
    )


async def revoke_sessions(state: AppState, conn: asyncpg.Connection, user_id: UUID) -> None:
    """Revoke every refresh token (PostgreSQL) and every access token issued so far (Redis) of the account."""
    await conn.execute("update refresh_tokens set revoked_at = now() where user_id = $1 and revoked_at is null",
                       user_id)
    # Signed out everywhere: no device of the account gets pushes any more.
    await forget_sessions(conn, user_id)
    await state.revocations.revoke_subject(f"user:{user_id}")
