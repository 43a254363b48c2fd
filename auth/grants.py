"""The token endpoint's grants: password, one-time code, client credentials, refresh and single sign-on.

Each grant takes the app state, the request (for its address and audit actor) and the parsed form, and answers a
TokenResponse or raises GrantError; the route in auth/routes.py turns that into HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import jwt as pyjwt
import msgspec
from litestar import Request

from api.errors import ErrorCode, ProblemError
from api.net import DEVICE_ID_PATTERN, address_in, client_ip
from api.state import AppState
from auth.audit import actor_from, record
from auth.credentials import LOGIN_ACCOUNT, change_due, one_time_expired
from auth.partner_keys import assertion_key
from auth.passwords import verify_password
from auth.ratelimit import Limit
from auth.sso import SSO_GRANT, sso_grant
from auth.tokens import (
    APP_CLIENTS,
    OTP_GRANT,
    GrantError,
    TokenResponse,
    check_password,
    consume_second_factor,
    issue_for_client,
    issue_for_user,
    normalize_phone,
    refresh,
    verify_totp_or_recovery,
)

__all__ = ("CLIENT_AUTH", "GRANTS", "NO_STORE", "OTP_VERIFY_PHONE", "GrantError", "TokenRequest", "grant_problem")

OTP_VERIFY_PHONE = Limit("otp_verify_phone", 5, 900)
CLIENT_AUTH = Limit("client_auth", 10, 300)
OTP_MAX_ATTEMPTS = 5
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


# Bounds of the token form: what is hashed, stored or signed (device_id becomes the token's `did`) stays small.
_Small = Annotated[str, msgspec.Meta(max_length=128)]
_Secret = Annotated[str, msgspec.Meta(max_length=1024)]
_Large = Annotated[str, msgspec.Meta(max_length=8192)]


class TokenRequest(msgspec.Struct, kw_only=True):
    """Form parameters of the token endpoint (RFC 6749 §4.3, §4.4, §6; RFC 7523 §2.2; our OTP grant)."""

    grant_type: _Small | None = None
    client_id: _Small | None = None
    client_secret: _Secret | None = None
    client_assertion_type: _Small | None = None
    client_assertion: _Large | None = None
    username: _Small | None = None
    password: _Secret | None = None
    totp: _Small | None = None
    phone: _Small | None = None
    code: _Small | None = None
    refresh_token: _Secret | None = None
    scope: _Large | None = None
    device_id: Annotated[str, msgspec.Meta(pattern=DEVICE_ID_PATTERN)] | None = None
    state: _Small | None = None


def _fail(error: str, description: str) -> GrantError:
    return GrantError(error, description)


def grant_problem(exc: GrantError) -> ProblemError:
    """The problem+json answer (OAuth error fields, never cached) for a refused grant."""
    headers = dict(NO_STORE)
    if exc.error.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="jianwu"'
    return ProblemError(exc.error, exc.description, headers=headers, oauth=True)


async def _audit_alone(state: AppState, request: Request[Any, Any, Any], action: str, **kw: Any) -> None:
    """Record an event in a transaction of its own (refusals, whose main transaction did nothing)."""
    async with state.db.transaction() as conn:
        await record(conn, actor_from(request), action, **kw)


async def _count_address(state: AppState, request: Request[Any, Any, Any],
                         what: str = "Too many sign-in attempts from this address.") -> None:
    """Count one attempt at any grant against the client's address (JIANWU_LOGIN_IP_LIMIT per 5 minutes)."""
    await state.limiter.enforce(Limit("login_ip", state.settings.login_ip_limit, 300), client_ip(request), what)


def _who(username: str, user: Any) -> dict[str, Any]:
    # A mistyped username is often a password: record it only when it names an account, otherwise a keyed hash.
    if user is not None:
        return {"username": username}
    return {"username_hash": hashlib.sha256(username[:64].encode()).hexdigest()[:16]}


async def _password_grant(state: AppState, request: Request[Any, Any, Any], form: TokenRequest) -> TokenResponse:
    client = APP_CLIENTS.get(form.client_id or "")
    if client is None:
        raise _fail("invalid_client", "Use client_id staff-app or representative-app for this grant.")
    audience, kinds = client
    if "citizen" in kinds:
        raise _fail("unauthorized_client", "The public app signs in with the one-time code grant.")
    if not form.username or not form.password:
        raise _fail("invalid_request", "username and password are required.")
    username = form.username.strip().lower()[:64]
    await _count_address(state, request)
    # Count the attempt before checking it, so concurrent guesses cannot slip past the lockout; fail closed.
    attempt = await state.limiter.hit(LOGIN_ACCOUNT, username, fail_open=False)
    if not attempt.allowed:
        raise ProblemError(ErrorCode.RATE_LIMITED, "Too many failed sign-ins; this account is locked for now.",
                           headers={**attempt.headers(), **NO_STORE})
    async with state.db.connection() as conn:
        user = await conn.fetchrow(
            """
            select u.*, o.require_totp or u.totp_required as require_totp, o.password_max_age_days
            from users u join offices o on o.id = u.office_id
            where u.username = $1 and u.kind = any($2::text[])
            """,
            username, list(kinds),
        )
    if (not await check_password(user, form.password) or user is None or user["disabled_at"] is not None
            or one_time_expired(user)):
        await _audit_alone(state, request, "auth.login.failed", detail={**_who(username, user), "grant": "password"},
                           office_id=user["office_id"] if user else None)
        raise _fail("invalid_grant", "Wrong username or password, or the account is disabled.")
    mfa_pending, amr, factor = False, ["pwd"], None
    if user["totp_confirmed_at"] is not None:
        if not form.totp:
            raise ProblemError(ErrorCode.INVALID_GRANT, "This account needs its second factor: send `totp`.",
                               headers=NO_STORE, oauth=True, extra={"reason": "mfa_required"})
        secret = state.box.decrypt_text(user["totp_secret_enc"], aad=f"totp:{user['id']}".encode())
        factor = verify_totp_or_recovery(secret, list(user["recovery_codes"]), form.totp)
        if factor is None:
            await _audit_alone(state, request, "auth.login.failed", office_id=user["office_id"],
                               detail={"username": username, "grant": "password", "reason": "totp"})
            raise _fail("invalid_grant", "The second-factor code is wrong.")
        amr.append("otp")
    else:
        mfa_pending = bool(user["require_totp"]) and user["kind"] == "staff"
    password_change = change_due(user, user["password_max_age_days"])
    async with state.db.transaction() as conn:
        if factor is not None and not await consume_second_factor(conn, user["id"], factor):
            raise _fail("invalid_grant", "That second-factor code was already used.")
        response, _ = await issue_for_user(conn, state.keyring, user=user, audience=audience,
                                           device_id=form.device_id, mfa_pending=mfa_pending, amr=amr,
                                           password_change=password_change)
        await record(conn, actor_from(request), "auth.login", office_id=user["office_id"], object_type="user",
                     object_id=user["id"], detail={"grant": "password", "mfa_pending": mfa_pending,
                                                   "password_change": password_change})
    await state.limiter.clear(LOGIN_ACCOUNT, username)
    return response


async def _otp_grant(state: AppState, request: Request[Any, Any, Any], form: TokenRequest) -> TokenResponse:
    if (form.client_id or "") != "public-app":
        raise _fail("invalid_client", "Use client_id public-app for this grant.")
    phone = normalize_phone(form.phone or "")
    if phone is None or not form.code:
        raise _fail("invalid_request", "phone (a mainland mobile number) and code are required.")
    index = state.box.blind_index(phone, purpose="phone")
    await _count_address(state, request)
    await state.limiter.enforce(OTP_VERIFY_PHONE, index, "Too many attempts for this number; ask for a new code later.",
                                fail_open=False)
    submitted = hashlib.sha256(f"{index}:{form.code.strip()}".encode()).digest()
    async with state.db.transaction() as conn:
        row = await conn.fetchrow(
            """
            select id, code_hash, attempts from otp_codes
            where phone_index = $1 and used_at is null and expires_at > now()
            order by created_at desc limit 1 for update
            """,
            index,
        )
        if (row is None or row["attempts"] >= OTP_MAX_ATTEMPTS
                or not secrets.compare_digest(row["code_hash"], submitted)):
            if row is not None:
                await conn.execute("update otp_codes set attempts = attempts + 1 where id = $1", row["id"])
            ok = False
        else:
            await conn.execute("update otp_codes set used_at = now() where id = $1", row["id"])
            ok = True
        if ok:
            user = await conn.fetchrow(
                """
                insert into users (kind, display_name, phone_enc, phone_index)
                values ('citizen', $1, $2, $3)
                on conflict (phone_index) do update set updated_at = now()
                returning id, kind, office_id, roles, disabled_at
                """,
                phone[:3] + "****" + phone[-4:], state.box.encrypt_text(phone, aad=b"phone"), index,
            )
            if user["disabled_at"] is None:
                response, _ = await issue_for_user(conn, state.keyring, user=user,
                                                   audience=APP_CLIENTS["public-app"][0],
                                                   device_id=form.device_id, amr=["sms"])
                await record(conn, actor_from(request), "auth.login", object_type="user", object_id=user["id"],
                             detail={"grant": "otp"})
                return response
    await _audit_alone(state, request, "auth.login.failed", detail={"grant": "otp"})
    raise _fail("invalid_grant", "The code is wrong, used or expired, or the account is disabled.")


async def _authenticate_client(state: AppState, request: Request[Any, Any, Any], form: TokenRequest) -> Any:
    """Find and authenticate a partner client by secret (Basic or form) or by a signed assertion (RFC 7523)."""
    client_id, secret = form.client_id, form.client_secret
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise _fail("invalid_client", "Malformed Basic credentials.") from None
    assertion = form.client_assertion
    if assertion and form.client_assertion_type != _ASSERTION_TYPE:
        raise _fail("invalid_client", f"client_assertion_type must be {_ASSERTION_TYPE}.")
    if assertion and not client_id:
        try:
            client_id = pyjwt.decode(assertion, options={"verify_signature": False}).get("sub")
        except pyjwt.PyJWTError:
            raise _fail("invalid_client", "Malformed client assertion.") from None
    if not client_id or not isinstance(client_id, str) or len(client_id) > 64:
        raise _fail("invalid_client", "Client authentication is required.")
    await _count_address(state, request)
    # Per client and address, so a stranger's guesses cannot lock a partner out. Each attempt is counted before it
    # is checked, atomically (concurrent wrong secrets cannot all be judged against the same count), and a success
    # clears the count, so only failures accumulate; fail closed, as the password grant does.
    failures_key = f"{client_id}|{client_ip(request)}"
    attempt = await state.limiter.hit(CLIENT_AUTH, failures_key, fail_open=False)
    if not attempt.allowed:
        raise ProblemError(ErrorCode.RATE_LIMITED, "Too many failed client authentications.",
                           headers={**attempt.headers(), **NO_STORE})
    async with state.db.connection() as conn:
        client = await conn.fetchrow("select * from partner_clients where client_id = $1", client_id)
    if assertion:
        ok = client is not None and await _assertion_ok(state, client, assertion, str(request.url))
        ok = ok and await _assertion_unused(state, assertion)
    else:
        ok = await verify_password(client["secret_hash"] if client else None, secret or "")
        if not ok and client is not None and client["previous_secret_until"] is not None \
                and client["previous_secret_until"] > datetime.now(UTC):
            # A rotated secret stays good until the overlap the admin set ends.
            ok = await verify_password(client["previous_secret_hash"], secret or "")
    networks = client["allowed_networks"] if client is not None else []
    if ok and networks and not address_in(client_ip(request), networks):
        await _audit_alone(state, request, "auth.client.failed", office_id=client["office_id"],
                           detail={"client_id": client_id[:64], "reason": "address_not_allowed"})
        raise _fail("invalid_client", "Client authentication failed.")
    if not ok or client is None or client["disabled_at"] is not None:
        await _audit_alone(state, request, "auth.client.failed", detail={"client_id": client_id[:64]},
                           office_id=client["office_id"] if client else None)
        raise _fail("invalid_client", "Client authentication failed.")
    await state.limiter.clear(CLIENT_AUTH, failures_key)
    return client


async def _assertion_ok(state: AppState, client: Any, assertion: str, token_url: str) -> bool:
    key = await assertion_key(state.settings, client, assertion)
    if key is None:
        return False
    try:
        claims = pyjwt.decode(
            assertion, key=key, algorithms=["ES256", "RS256", "PS256", "EdDSA"],
            audience=[token_url, "jianwu"], issuer=client["client_id"],
            options={"require": ["iss", "sub", "aud", "exp", "jti"]},
        )
    except (pyjwt.PyJWTError, ValueError, TypeError):
        return False
    return claims["sub"] == client["client_id"] and claims["exp"] - time.time() <= 600


async def _assertion_unused(state: AppState, assertion: str) -> bool:
    """RFC 7523 §3: an assertion's jti is single use; remember it until the assertion could expire."""
    jti = pyjwt.decode(assertion, options={"verify_signature": False})["jti"]
    key = f"{state.settings.redis_prefix}assertion:{hashlib.sha256(str(jti).encode()).hexdigest()}"
    return bool(await state.redis.set(key, b"1", nx=True, ex=660))


async def _client_credentials(state: AppState, request: Request[Any, Any, Any], form: TokenRequest) -> TokenResponse:
    client = await _authenticate_client(state, request, form)
    allowed = list(client["scopes"])
    wanted = (form.scope or "").split() or allowed
    if not set(wanted) <= set(allowed):
        raise _fail("invalid_scope", f"This client may ask only for: {' '.join(sorted(allowed))}.")
    response = await issue_for_client(state.keyring, client=client, scopes=wanted)
    async with state.db.transaction() as conn:
        await record(conn, actor_from(request), "auth.client.token", office_id=client["office_id"],
                     object_type="partner_client", object_id=client["client_id"], detail={"scope": wanted})
    return response


async def _refresh_grant(state: AppState, request: Request[Any, Any, Any], form: TokenRequest) -> TokenResponse:
    if not form.refresh_token:
        raise _fail("invalid_request", "refresh_token is required.")
    await _count_address(state, request, "Too many refresh attempts from this address.")
    async with state.db.transaction() as conn:
        response, action, detail = await refresh(conn, state.keyring, state.box, form.refresh_token)
        # Unknown tokens are noise anyone can send: counted per address above, not written to the trail.
        if action not in ("auth.refresh.retry", "auth.refresh.unknown"):
            office = detail.get("office")
            await record(conn, actor_from(request), action, object_type="refresh_family",
                         object_id=detail.get("family"), detail=detail, office_id=UUID(office) if office else None)
    if action == "auth.refresh.reuse_detected":
        await state.revocations.deny_family(detail["family"])
    if response is None:
        raise _fail("invalid_grant", "The refresh token is unknown, expired, revoked or was already used.")
    return response


Grant = Callable[[AppState, Request[Any, Any, Any], TokenRequest], Awaitable[TokenResponse]]

GRANTS: dict[str, Grant] = {
    "password": _password_grant,
    OTP_GRANT: _otp_grant,
    "client_credentials": _client_credentials,
    "refresh_token": _refresh_grant,
    SSO_GRANT: sso_grant,
}
