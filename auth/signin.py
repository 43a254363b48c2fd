"""Writes behind the sign-in routes: one-time codes, sign-out and second-factor enrolment, each in the caller's
transaction with its audit record."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING
from uuid import UUID

import pyotp

from api.errors import ErrorCode, ProblemError
from api.state import AppState
from auth.audit import Actor, record
from auth.credentials import revoke_sessions
from auth.principal import Principal
from auth.tokens import hash_refresh
from push.devices import forget_sessions

if TYPE_CHECKING:
    import asyncpg

    from auth.secretbox import SecretBox

__all__ = ("confirm_totp", "end_session", "start_totp", "store_otp")


async def store_otp(conn: asyncpg.Connection, *, actor: Actor, phone: str, index: str, code: str, ttl: int) -> None:
    """Keep the hash of a one-time code for `ttl` seconds and record that one was sent (the number masked)."""
    await conn.execute(
        "insert into otp_codes (phone_index, code_hash, expires_at)"
        " values ($1, $2, now() + make_interval(secs => $3))",
        index, hashlib.sha256(f"{index}:{code}".encode()).digest(), ttl,
    )
    await record(conn, actor, "auth.otp.sent", detail={"phone": phone[:3] + "****" + phone[-4:]})


async def end_session(conn: asyncpg.Connection, *, actor: Actor, principal: Principal,
                      refresh_token: str | None) -> list[str]:
    """Revoke the session's refresh-token family and the named refresh token's (the caller's own only); answers
    the families revoked."""
    families = [principal.family] if principal.family else []
    if refresh_token:
        fam = await conn.fetchval("select family_id from refresh_tokens"
                                  " where token_hash = $1 and user_id::text = $2",
                                  hash_refresh(refresh_token), principal.sub)
        if fam:
            families.append(str(fam))
    if principal.user_id is not None:
        await conn.execute(
            "update refresh_tokens set revoked_at = now() where family_id = any($1::uuid[]) and user_id = $2 "
            "and revoked_at is null", families, principal.user_id,
        )
        # The phones signed in under these sessions stop getting pushes.
        await forget_sessions(conn, principal.user_id, families)
    await record(conn, actor, "auth.logout", detail={"families": families})
    return families


async def start_totp(conn: asyncpg.Connection, *, box: SecretBox, actor: Actor, user_id: UUID, secret: str) -> str:
    """Store a new, unconfirmed TOTP secret (409 when one is confirmed already); answers the account's username."""
    row = await conn.fetchrow(
        """
        update users set totp_secret_enc = $2, updated_at = now()
        where id = $1 and totp_confirmed_at is null returning username
        """,
        user_id, box.encrypt_text(secret, aad=f"totp:{user_id}".encode()),
    )
    if row is None:
        raise ProblemError(ErrorCode.CONFLICT, "A second factor is already confirmed for this account.")
    await record(conn, actor, "auth.totp.enrolment_started", object_type="user", object_id=user_id)
    return row["username"]


async def confirm_totp(conn: asyncpg.Connection, *, state: AppState, actor: Actor, user_id: UUID, code: str,
                       recovery_codes: list[str]) -> None:
    """Confirm the pending TOTP secret with a code from the app, keep the recovery codes' hashes, and end every
    session of the account (whoever else held one signed in without the second factor)."""
    enc = await conn.fetchval(
        "select totp_secret_enc from users where id = $1 and totp_confirmed_at is null for update", user_id
    )
    if enc is None:
        raise ProblemError(ErrorCode.CONFLICT, "Start an enrolment first (or it is already confirmed).")
    secret = state.box.decrypt_text(enc, aad=f"totp:{user_id}".encode())
    if not pyotp.TOTP(secret).verify(code, valid_window=1):
        raise ProblemError(ErrorCode.VALIDATION_FAILED, "The code does not match.",
                           errors=[{"field": "code", "message": "wrong or expired code"}])
    await conn.execute(
        "update users set totp_confirmed_at = now(), recovery_codes = $2, updated_at = now() where id = $1",
        user_id, [hashlib.sha256(c.encode()).hexdigest() for c in recovery_codes],
    )
    await revoke_sessions(state, conn, user_id)
    await record(conn, actor, "auth.totp.confirmed", object_type="user", object_id=user_id)
