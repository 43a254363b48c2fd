"""Sign-in, tokens, sign-out, second factor and the public key set (the grants themselves: auth/grants.py)."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

import msgspec
import pyotp
from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, JSONBody
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from api.errors import ErrorCode, ProblemError, problem_docs
from api.net import client_ip
from api.schema import Input, Output
from api.state import AppState
from auth.actions import AUTHENTICATED
from auth.audit import actor_from
from auth.credentials import confirm_password
from auth.grants import GRANTS, NO_STORE, TokenRequest, grant_problem
from auth.principal import current_principal
from auth.ratelimit import Limit
from auth.signin import confirm_totp, end_session, start_totp, store_otp
from auth.token_forms import TOKEN_FORMS
from auth.tokens import GrantError, TokenResponse, normalize_phone

__all__ = ("auth_routes",)

OTP_SEND_PHONE = Limit("otp_send_phone", 1, 60)
OTP_SEND_PHONE_DAY = Limit("otp_send_phone_day", 10, 86400)
OTP_TTL = 300


class OtpRequest(Input):
    """Ask for a one-time sign-in code by text message."""

    phone: Annotated[str, msgspec.Meta(min_length=11, max_length=20, description="Mainland mobile number.")]


class OtpSent(Output):
    """A code was sent (or, to avoid revealing anything, would have been)."""

    expires_in: int
    resend_after: int


class Me(Output):
    """The signed-in principal as the token describes it."""

    sub: str
    kind: str
    audience: str
    office_id: str | None
    roles: list[str]
    scopes: list[str]
    device_id: str | None
    mfa_pending: bool
    expires_at: int


class TotpEnrollment(Output):
    """A new, not yet confirmed TOTP secret: show it as a QR code, then confirm with a code from the app."""

    secret: str
    otpauth_uri: str


class PasswordConfirmation(Input):
    """The account's password, asked again before a change a stolen access token alone must not make."""

    password: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class TotpCode(Input):
    """A six-digit code from the authenticator app."""

    code: Annotated[str, msgspec.Meta(pattern=r"^\d{6}$")]


class RecoveryCodes(Output):
    """Single-use recovery codes, shown once."""

    recovery_codes: list[str]


class Logout(msgspec.Struct, forbid_unknown_fields=True):
    """Optionally name the refresh token to revoke (its family is revoked with it)."""

    refresh_token: str | None = None


@post(
    "/auth/token", operation_id="authToken", tags=["auth"], summary="Get tokens (OAuth 2.0 token endpoint)",
    opt={"public": True, "accepts": ("application/x-www-form-urlencoded",),
         "body_variants": (TOKEN_FORMS, "grant_type")},
    status_code=200,
    responses=problem_docs(400, 401, 415, 429),
)
async def token(
    request: Request[Any, Any, Any], state: AppState,
    data: Annotated[TokenRequest, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[TokenResponse]:
    """Grant types: `password` (staff-app, representative-app; `totp` when enrolled), `urn:jianwu:otp`
    (public-app; phone and code), `client_credentials` (partners; secret or RFC 7523 assertion), `refresh_token`
    (rotates on every use), `urn:jianwu:sso` (staff-app; `code` and `state` from single sign-on, when configured)."""
    if not data.grant_type:
        raise grant_problem(GrantError("invalid_request", "grant_type is required."))
    grant = GRANTS.get(data.grant_type)
    if grant is None:
        raise grant_problem(GrantError("unsupported_grant_type", f"Supported: {', '.join(GRANTS)}."))
    try:
        response = await grant(state, request, data)
    except GrantError as exc:
        raise grant_problem(exc) from None
    except ProblemError as exc:
        exc.headers = {**exc.headers, **NO_STORE}  # 429 and 503 from the token endpoint are not cacheable either
        raise
    return Response(response, headers=NO_STORE)


@post(
    "/auth/otp", operation_id="authRequestOtp", tags=["auth"], summary="Text a one-time sign-in code",
    opt={"public": True}, status_code=HTTP_202_ACCEPTED, responses=problem_docs(400, 415, 429),
)
async def request_otp(request: Request[Any, Any, Any], state: AppState, data: JSONBody[OtpRequest]) -> OtpSent:
    """Send a 6-digit code valid for 5 minutes. Limited per number and per address: each message costs money."""
    phone = normalize_phone(data.phone)
    if phone is None:
        raise ProblemError(ErrorCode.VALIDATION_FAILED, "Not a mainland mobile number.",
                           errors=[{"field": "phone", "message": "expected 11 digits starting with 1"}])
    index = state.box.blind_index(phone, purpose="phone")
    await state.limiter.enforce(Limit("otp_send_ip", state.settings.otp_ip_limit, 3600), client_ip(request),
                                "Too many codes requested from this address.")
    await state.limiter.enforce(OTP_SEND_PHONE, index, "A code was sent to this number less than a minute ago.")
    await state.limiter.enforce(OTP_SEND_PHONE_DAY, index, "Too many codes sent to this number today.")
    code = f"{secrets.randbelow(10**6):06d}"
    async with state.db.transaction() as conn:
        await store_otp(conn, actor=actor_from(request), phone=phone, index=index, code=code, ttl=OTP_TTL)
    await state.sms.send(phone, f"【检务】您的登录验证码是 {code}，5分钟内有效。请勿告诉他人。")
    return OtpSent(expires_in=OTP_TTL, resend_after=OTP_SEND_PHONE.window)


@post(
    "/auth/logout", operation_id="authLogout", tags=["auth"], summary="Sign out this session",
    opt={"action": AUTHENTICATED, "allow_mfa_pending": True}, status_code=HTTP_204_NO_CONTENT,
    responses=problem_docs(400, 401, 429), security=[{"bearer": []}],
)
async def logout(request: Request[Any, Any, Any], state: AppState, data: JSONBody[Logout | None] = None) -> None:
    """Revoke this access token and its refresh-token family (and the named refresh token's family)."""
    principal = current_principal(request)
    await state.revocations.deny_token(principal.jti, principal.exp)
    if principal.family:
        await state.revocations.deny_family(principal.family)
    async with state.db.transaction() as conn:
        await end_session(conn, actor=actor_from(request, principal), principal=principal,
                          refresh_token=data.refresh_token if data else None)


@get(
    "/auth/me", operation_id="authMe", tags=["auth"], summary="Who am I",
    opt={"action": AUTHENTICATED, "allow_mfa_pending": True}, responses=problem_docs(401, 429),
    security=[{"bearer": []}],
)
async def me(request: Request[Any, Any, Any]) -> Me:
    """The principal of the access token."""
    p = current_principal(request)
    return Me(sub=p.sub, kind=p.kind, audience=p.audience, office_id=str(p.office_id) if p.office_id else None,
              roles=list(p.roles), scopes=sorted(p.scopes), device_id=p.device_id, mfa_pending=p.mfa_pending,
              expires_at=p.exp)


def _staff_only(request: Request[Any, Any, Any]) -> Any:
    p = current_principal(request)
    if p.kind != "staff":
        raise ProblemError(ErrorCode.FORBIDDEN, "Only staff accounts use a second factor.")
    return p


@post(
    "/auth/totp/enrollment", operation_id="authTotpEnroll", tags=["auth"], summary="Start second-factor enrolment",
    opt={"action": AUTHENTICATED, "allow_mfa_pending": True}, responses=problem_docs(400, 401, 403, 409, 429),
    security=[{"bearer": []}], status_code=200,
)
async def totp_enroll(
    request: Request[Any, Any, Any], state: AppState, data: JSONBody[PasswordConfirmation]
) -> Response[TotpEnrollment]:
    """Create a new TOTP secret for the signed-in staff member (replacing an unconfirmed one); the password is
    asked again, so an access token alone cannot tie someone else's authenticator to the account."""
    p = _staff_only(request)
    await confirm_password(state, p, data.password)
    secret = pyotp.random_base32()
    async with state.db.transaction() as conn:
        username = await start_totp(conn, box=state.box, actor=actor_from(request, p), user_id=p.user_id,
                                    secret=secret)
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="Jianwu")
    return Response(TotpEnrollment(secret=secret, otpauth_uri=uri), headers=NO_STORE)


@post(
    "/auth/totp/confirmation", operation_id="authTotpConfirm", tags=["auth"], summary="Confirm the second factor",
    opt={"action": AUTHENTICATED, "allow_mfa_pending": True}, responses=problem_docs(400, 401, 403, 409, 429),
    security=[{"bearer": []}], status_code=200,
)
async def totp_confirm(
    request: Request[Any, Any, Any], state: AppState, data: JSONBody[TotpCode]
) -> Response[RecoveryCodes]:
    """Confirm enrolment with a code from the app; answers ten single-use recovery codes, shown only now."""
    p = _staff_only(request)
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(10)]
    async with state.db.transaction() as conn:
        await confirm_totp(conn, state=state, actor=actor_from(request, p), user_id=p.user_id, code=data.code,
                           recovery_codes=codes)
    return Response(RecoveryCodes(recovery_codes=codes), headers=NO_STORE)


@get(
    "/.well-known/jwks.json", operation_id="jwks", tags=["auth"], summary="Public signing keys (JWKS)",
    opt={"public": True}, responses=problem_docs(), cache_control=None,
)
async def jwks_route(state: AppState) -> Response[dict[str, Any]]:
    """The keys that verify our access tokens, current and recently retired."""
    await state.keyring.refresh()
    return Response(state.keyring.jwks(), headers={"Cache-Control": "public, max-age=300"})


auth_routes = [token, request_otp, logout, me, totp_enroll, totp_confirm]
