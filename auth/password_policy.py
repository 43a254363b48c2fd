"""Password rules after 等级保护 2.0 (GB/T 22239-2019, 8.1.4.1 a: identification and authentication):
length and character classes, no reuse of recent passwords, expiry as office policy, common passwords refused."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

from api.errors import ErrorCode, ProblemError
from auth.audit import record
from auth.passwords import verify_password

if TYPE_CHECKING:
    import asyncpg

    from auth.audit import Actor

__all__ = ("Policy", "check", "one_time_password", "policy_for", "refuse_reuse", "remember", "set_policy")

_COMMON = Path(__file__).with_name("common_passwords.txt")
_CLASSES = (string.ascii_lowercase, string.ascii_uppercase, string.digits)
MAX_LENGTH = 128


@dataclass(frozen=True, slots=True)
class Policy:
    """One office's password policy."""

    min_length: int = 10
    history: int = 5
    max_age_days: int | None = None


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    lines = _COMMON.read_text(encoding="utf-8").splitlines()
    return frozenset(x.strip().lower() for x in lines if x.strip() and not x.startswith("#"))


def _classes(password: str) -> int:
    found = sum(any(c in cls for c in password) for cls in _CLASSES)
    return found + any(not c.isalnum() for c in password)


def check(password: str, policy: Policy, *, username: str | None = None, field: str = "newPassword") -> None:
    """Raise 400 `weak_password` naming every rule the password breaks."""
    problems = []
    if len(password) < policy.min_length:
        problems.append(f"at least {policy.min_length} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"at most {MAX_LENGTH} characters")
    if _classes(password) < 3:
        problems.append("at least three of: lower-case letters, upper-case letters, digits, symbols")
    if password.strip().lower() in _common():
        problems.append("not one of the commonly used passwords")
    if username and len(username) >= 3 and username.lower() in password.lower():
        problems.append("must not contain the username")
    if problems:
        raise ProblemError(ErrorCode.WEAK_PASSWORD, "The password does not meet the office's password policy.",
                           errors=[{"field": field, "message": m} for m in problems])


async def policy_for(conn: asyncpg.Connection, office_id: UUID | None) -> Policy:
    """The password policy of an office (the defaults where it has none)."""
    row = await conn.fetchrow(
        "select password_min_length, password_history, password_max_age_days from offices where id = $1", office_id)
    if row is None:
        return Policy()
    return Policy(min_length=row["password_min_length"], history=row["password_history"],
                  max_age_days=row["password_max_age_days"])


async def set_policy(conn: asyncpg.Connection, actor: Actor, office_id: UUID, *, min_length: int, history: int,
                     max_age_days: int | None) -> None:
    """Replace the office's password policy, in the caller's transaction, and audit it."""
    await conn.execute(
        "update offices set password_min_length = $2, password_history = $3, password_max_age_days = $4, "
        "updated_at = now() where id = $1", office_id, min_length, history, max_age_days)
    await record(conn, actor, "admin.password_policy.set", object_type="office", object_id=office_id,
                 detail={"min_length": min_length, "history": history, "max_age_days": max_age_days})


async def refuse_reuse(conn: asyncpg.Connection, user_id: UUID, password: str, policy: Policy,
                       current_hash: str | None) -> None:
    """400 `password_reused` when the password is the current one or one of the last `policy.history`."""
    hashes = [current_hash] if current_hash else []
    if policy.history:
        hashes += [r["password_hash"] for r in await conn.fetch(
            "select password_hash from password_history where user_id = $1 order by id desc limit $2",
            user_id, policy.history)]
    for stored in hashes:
        if await verify_password(stored, password):
            raise ProblemError(ErrorCode.PASSWORD_REUSED,
                               f"Choose a password other than your current one and your last {policy.history}.",
                               errors=[{"field": "newPassword", "message": "used recently"}])


async def remember(conn: asyncpg.Connection, user_id: UUID, old_hash: str | None, policy: Policy) -> None:
    """Keep the replaced hash, and only as many as the policy compares against."""
    if old_hash is None:
        return
    await conn.execute("insert into password_history (user_id, password_hash) values ($1, $2)", user_id, old_hash)
    await conn.execute(
        """
        delete from password_history where user_id = $1 and id not in
            (select id from password_history where user_id = $1 order by id desc limit $2)
        """, user_id, max(policy.history, 1))


def one_time_password() -> str:
    """A random one-time password that itself meets every policy (four classes, 16 characters)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
    body = "".join(secrets.choice(alphabet) for _ in range(13))
    return f"{body[:4]}-{body[4:8]}-{body[8:]}{secrets.choice('23456789')}{secrets.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}"

