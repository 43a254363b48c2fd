"""The OAuth 2.0 grants: password (+TOTP), citizen one-time codes, client credentials, refresh rotation."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec
import pyotp

from api.errors import ErrorCode, invalid
from auth.jwt import ACCESS_TOKEN_MAX_LIFETIME, AUD_PARTNER, AUD_PUBLIC, AUD_REPRESENTATIVE, AUD_STAFF
from auth.passwords import verify_password

if TYPE_CHECKING:
    import asyncpg

    from auth.keyring import Keyring
    from auth.secretbox import SecretBox

__all__ = (
    "ACCESS_TTL",
    "APP_CLIENTS",
    "OTP_GRANT",
    "REFRESH_TTL",
    "ROTATION_GRACE",
    "GrantError",
    "SecondFactor",
    "TokenResponse",
    "checked_phone",
    "consume_second_factor",
    "hash_refresh",
    "issue_for_user",
    "normalize_phone",
    "refresh",
    "verify_totp_or_recovery",
)

ACCESS_TTL = ACCESS_TOKEN_MAX_LIFETIME
REFRESH_TTL = 30 * 24 * 3600
# A refresh retried this soon after it succeeded is the lost-response case: answer the same pair again.
ROTATION_GRACE = 10
OTP_GRANT = "urn:jianwu:otp"
_PHONE = re.compile(r"^1[3-9]\d{9}$")

# The public OAuth clients (our own apps) and which kinds of account may sign in through each.
APP_CLIENTS: dict[str, tuple[str, frozenset[str]]] = {
    "staff-app": (AUD_STAFF, frozenset({"staff"})),
    "representative-app": (AUD_REPRESENTATIVE, frozenset({"deputy", "member"})),
    "public-app": (AUD_PUBLIC, frozenset({"citizen"})),
}


class TokenResponse(msgspec.Struct, omit_defaults=True):
    """RFC 6749 §5.1 successful token response."""

    access_token: str
    token_type: str
    expires_in: int
    scope: str
    refresh_token: str | None = None


class GrantError(Exception):
    """An RFC 6749 §5.2 error: `error` is the standard code (an `ErrorCode`, which carries the status), `description`
    says why."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(error, description)
        self.error, self.description = ErrorCode.of(error), description


def hash_refresh(token: str) -> bytes:
    """Refresh tokens are random; SHA-256 is enough to keep only a digest."""
    return hashlib.sha256(token.encode()).digest()


def normalize_phone(raw: str) -> str | None:
    """A mainland mobile number as 11 digits, or None if it is not one."""
    digits = re.sub(r"[\s-]", "", raw or "")
    digits = digits.removeprefix("+86").removeprefix("0086")
    return digits if _PHONE.match(digits) else None


def checked_phone(raw: str | None) -> str | None:
    """A mainland mobile number as stored, None for none, or 400 naming the `phone` field."""
    if raw is None:
        return None
    number = normalize_phone(raw)
    if number is None:
        raise invalid("Not a mainland mobile number.", ("phone", "expected 11 digits starting with 1"))
    return number


def _claims(*, sub: str, aud: str, kind: str, office_id: UUID | None, extra: dict[str, Any]) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": "jianwu", "sub": sub, "aud": aud, "iat": now, "exp": now + ACCESS_TTL,
              "jti": uuid.uuid4().hex, "tt": "access", "kind": kind}
    if office_id:
        claims["office"] = str(office_id)
    claims.update({k: v for k, v in extra.items() if v is not None})
    return claims


async def issue_for_user(
    conn: asyncpg.Connection, keyring: Keyring, *, user: asyncpg.Record, audience: str, device_id: str | None,
    family_id: UUID | None = None, mfa_pending: bool = False, amr: list[str] | None = None,
    expires_at: datetime | None = None, password_change: bool = False,
) -> tuple[TokenResponse, UUID]:
    """Sign an access token and store a new refresh token for an account (inside the caller's transaction).
    A rotated token keeps its family's expiry: a sign-in lasts at most REFRESH_TTL, however often refreshed.
    `password_change` limits the token to changing the password (a one-time or expired one)."""
    family = family_id or uuid.uuid4()
    refresh_token = "rt_" + secrets.token_urlsafe(32)
    scope = "password_change" if password_change else "mfa_enroll" if mfa_pending else ""
    row_id = await conn.fetchval(
        """
        insert into refresh_tokens (family_id, user_id, token_hash, audience, device_id, scope, expires_at)
        values ($1, $2, $3, $4, $5, $6, coalesce($8, now() + make_interval(secs => $7))) returning id
        """,
        family, user["id"], hash_refresh(refresh_token), audience, device_id, scope, REFRESH_TTL, expires_at,
    )
    access = await keyring.sign(_claims(
        sub=str(user["id"]), aud=audience, kind=user["kind"], office_id=user["office_id"],
        extra={"roles": list(user["roles"]) if user["kind"] == "staff" else None, "did": device_id,
               "fam": str(family), "mfa_pending": True if mfa_pending else None, "amr": amr,
               "pwd_change": True if password_change else None},
    ))
    return TokenResponse(access_token=access, token_type="Bearer", expires_in=ACCESS_TTL, scope=scope,
                         refresh_token=refresh_token), row_id


async def issue_for_client(keyring: Keyring, *, client: asyncpg.Record, scopes: list[str]) -> TokenResponse:
    """Sign an access token for a partner-agency client (no refresh token: it can always authenticate again)."""
    access = await keyring.sign(_claims(
        sub=client["client_id"], aud=AUD_PARTNER, kind="partner", office_id=client["office_id"],
        extra={"scope": " ".join(scopes), "rpm": client["rate_limit_per_minute"]},
    ))
    return TokenResponse(access_token=access, token_type="Bearer", expires_in=ACCESS_TTL, scope=" ".join(scopes))


def _rotation_aad(row_id: UUID) -> bytes:
    return f"rotation:{row_id}".encode()


async def refresh(
    conn: asyncpg.Connection, keyring: Keyring, box: SecretBox, token: str
) -> tuple[TokenResponse | None, str, dict[str, Any]]:
    """Rotate a refresh token (inside the caller's transaction, which must commit even on refusal).

    Returns (response or None, audit action, audit detail). A token already rotated revokes its whole family,
    unless it is the immediate retry of the rotation just made, which gets the same new pair again.
    """
    row = await conn.fetchrow(
        """
        select rt.*, u.kind, u.office_id, u.roles, u.disabled_at, u.totp_confirmed_at, u.must_change_password,
               coalesce(o.require_totp, false) or u.totp_required as require_totp
        from refresh_tokens rt join users u on u.id = rt.user_id left join offices o on o.id = u.office_id
        where rt.token_hash = $1
        for update of rt
        """,
        hash_refresh(token),
    )
    if row is None:
        return None, "auth.refresh.unknown", {}
    detail = {"family": str(row["family_id"]), "user": str(row["user_id"]),
              "office": str(row["office_id"]) if row["office_id"] else None}
    if row["revoked_at"] is not None or row["disabled_at"] is not None:
        return None, "auth.refresh.revoked", detail
    if row["rotated_at"] is None:
        if row["expires_at"].timestamp() < time.time():
            return None, "auth.refresh.expired", detail
        user = {"id": row["user_id"], "kind": row["kind"], "office_id": row["office_id"], "roles": row["roles"]}
        # Sign-in policy applies again: an office that now requires TOTP limits unenrolled staff to enrolment.
        pending = row["kind"] == "staff" and row["require_totp"] and row["totp_confirmed_at"] is None
        response, _ = await issue_for_user(
            conn, keyring, user=user, audience=row["audience"], device_id=row["device_id"],
            family_id=row["family_id"], mfa_pending=pending, expires_at=row["expires_at"],
            password_change=row["must_change_password"],
        )
        # Only the rows that still hold a copy (migration 0021's index): not every earlier rotation of the family.
        await conn.execute(
            "update refresh_tokens set rotation_response_enc = null "
            "where family_id = $1 and rotation_response_enc is not null",
            row["family_id"])
        await conn.execute(
            "update refresh_tokens set rotated_at = now(), rotation_response_enc = $2 where id = $1",
            row["id"], box.encrypt_text(msgspec.json.encode(response).decode(), aad=_rotation_aad(row["id"])),
        )
        return response, "auth.refresh", detail
    age = time.time() - row["rotated_at"].timestamp()
    if age <= ROTATION_GRACE and row["rotation_response_enc"]:
        stored = box.decrypt_text(row["rotation_response_enc"], aad=_rotation_aad(row["id"]))
        return msgspec.json.decode(stored, type=TokenResponse), "auth.refresh.retry", detail
    # Past the grace the stored response (a live refresh token) must not outlive its purpose.
    await conn.execute("update refresh_tokens set rotation_response_enc = null where id = $1", row["id"])
    await conn.execute(
        "update refresh_tokens set revoked_at = now() where family_id = $1 and revoked_at is null", row["family_id"]
    )
    return None, "auth.refresh.reuse_detected", detail


class SecondFactor(msgspec.Struct, frozen=True):
    """What a second-factor code matched: a TOTP time step, or a recovery code (by its hash)."""

    step: int | None = None
    recovery_hash: str | None = None


def verify_totp_or_recovery(secret: str, recovery_hashes: list[str], code: str) -> SecondFactor | None:
    """Check a TOTP code (the current step ±1) or a recovery code; None when it matches neither. The caller
    consumes what matched (the step must be newer than the last one used; a recovery code must still be there)."""
    code = (code or "").strip().replace(" ", "")
    if re.fullmatch(r"\d{6}", code):
        totp, now = pyotp.TOTP(secret), time.time()
        current = totp.timecode(datetime.fromtimestamp(now, UTC))
        for step in (current - 1, current, current + 1):
            if hmac.compare_digest(totp.generate_otp(step), code):
                return SecondFactor(step=step)
        return None
    digest = hashlib.sha256(code.lower().encode()).hexdigest()
    for stored in recovery_hashes:
        if hmac.compare_digest(stored, digest):
            return SecondFactor(recovery_hash=stored)
    return None


async def consume_second_factor(conn: asyncpg.Connection, user_id: UUID, factor: SecondFactor) -> bool:
    """Use up what matched, atomically: a TOTP step only once, a recovery code only once, even under races."""
    if factor.step is not None:
        sql = ("update users set totp_last_step = $2 where id = $1 "
               "and (totp_last_step is null or totp_last_step < $2) returning id")
        return await conn.fetchval(sql, user_id, factor.step) is not None
    sql = ("update users set recovery_codes = array_remove(recovery_codes, $2) where id = $1 "
           "and $2 = any(recovery_codes) returning id")
    return await conn.fetchval(sql, user_id, factor.recovery_hash) is not None


async def check_password(user: asyncpg.Record | None, password: str) -> bool:
    """Verify a password off the event loop, taking as long for unknown accounts as for known ones."""
    return await verify_password(user["password_hash"] if user else None, password)
