"""Single sign-on through the intranet's OpenID Connect identity service (统一身份认证), off unless configured.

Authorization code flow with PKCE (RFC 7636) and a nonce. Discovery, the token endpoint and the signing keys
are taken from the configured issuer only (every URL in its metadata must be on the issuer's origin). The ID
token is checked as OpenID Connect Core 1.0 §3.1.3.7 asks (signature by the issuer's published key, `iss`,
`aud`, `azp`, `exp`, `iat`, `nonce`) with PyJWT. The account is the existing staff account whose username is the
configured claim's value: none is ever created here. Then Jianwu issues its own tokens as for a password.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import jwt as pyjwt
import msgspec
from litestar import Request, Response, post

from api.errors import ErrorCode, ProblemError, problem_docs
from api.net import client_ip
from api.state import AppState
from auth.audit import actor_from, record
from auth.ratelimit import Limit
from auth.tokens import (
    APP_CLIENTS,
    GrantError,
    TokenResponse,
    consume_second_factor,
    issue_for_user,
    verify_totp_or_recovery,
)

if TYPE_CHECKING:
    from api.settings import Settings

__all__ = ("SSO_GRANT", "sso_grant", "sso_routes")

SSO_GRANT = "urn:jianwu:sso"
_STATE_TTL = 600
_ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"]
_METADATA_TTL = 3600.0
_TIMEOUT = 5.0  # seconds, for each of connect, read, write and the pool wait
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class SsoStart(msgspec.Struct, rename="camel"):
    """Open `authorizationUrl` in the system browser; bring back `code` and `state` to the token endpoint."""

    authorization_url: str
    state: str
    expires_in: int


class _Provider:
    """The issuer's metadata and keys, fetched from the issuer and kept for an hour (keys again on an unknown kid)."""

    def __init__(self) -> None:
        self.metadata: dict[str, Any] | None = None
        self.keys: dict[str, Any] = {}
        self.fetched = 0.0

    async def load(self, settings: Settings, *, refresh_keys: bool = False) -> dict[str, Any]:
        """The metadata (refetched when stale), with every endpoint checked to be on the issuer's own origin."""
        issuer = settings.oidc_issuer or ""
        if self.metadata is None or time.monotonic() - self.fetched > _METADATA_TTL:
            meta = await _get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
            if meta.get("issuer") != issuer:
                raise GrantError("server_error", "The identity service names another issuer.")
            for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(meta.get(name), str) or _origin(meta[name]) != _origin(issuer):
                    raise GrantError("server_error", f"The identity service's {name} is not on the issuer.")
            self.metadata, self.fetched, refresh_keys = meta, time.monotonic(), True
        if refresh_keys:
            jwks = await _get_json(self.metadata["jwks_uri"])
            self.keys = {k.get("kid"): k for k in jwks.get("keys", []) if k.get("use", "sig") == "sig"}
        return self.metadata


_provider = _Provider()


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


async def _get_json(url: str) -> dict[str, Any]:
    import httpx  # imported on first use: it pulls rich and pygments in, ~7 MB per worker
    try:
        async with httpx.AsyncClient(timeout=_TIMEOUT, follow_redirects=False) as http:
            resp = await http.get(url)
        resp.raise_for_status()
        return resp.json()
    except (httpx.HTTPError, ValueError):
        raise GrantError("temporarily_unavailable", "The identity service cannot be reached.") from None


def _enabled(settings: Settings) -> None:
    if not settings.oidc_issuer:
        raise ProblemError(ErrorCode.NOT_FOUND, "Single sign-on is not configured.")


def _state_key(settings: Settings, state: str) -> str:
    return f"{settings.redis_prefix}sso:{hashlib.sha256(state.encode()).hexdigest()}"


@post("/auth/sso/start", operation_id="authSsoStart", tags=["auth"], summary="Start single sign-on",
      opt={"public": True}, status_code=200, responses=problem_docs(404, 429, 503))
async def sso_start(request: Request[Any, Any, Any], state: AppState) -> Response[SsoStart]:
    """Answers the identity service's authorization URL (PKCE and a nonce kept here for 10 minutes)."""
    settings = state.settings
    _enabled(settings)
    await state.limiter.enforce(Limit("login_ip", settings.login_ip_limit, 300), client_ip(request),
                                "Too many sign-in attempts from this address.")
    try:
        meta = await _provider.load(settings)
    except GrantError as exc:
        raise ProblemError(ErrorCode.UPSTREAM_UNAVAILABLE, exc.description, headers={"Retry-After": "5"}) from None
    flow_state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48)
    await state.redis.set(_state_key(settings, flow_state), msgspec.json.encode({"nonce": nonce, "verifier": verifier}),
                          ex=_STATE_TTL)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urlencode({"response_type": "code", "client_id": settings.oidc_client_id, "scope": "openid profile",
                       "redirect_uri": settings.oidc_redirect_uri, "state": flow_state, "nonce": nonce,
                       "code_challenge": challenge, "code_challenge_method": "S256"})
    return Response(SsoStart(authorization_url=f"{meta['authorization_endpoint']}?{query}", state=flow_state,
                             expires_in=_STATE_TTL), headers=_NO_STORE)


async def _exchange(settings: Settings, meta: dict[str, Any], code: str, verifier: str) -> str:
    import httpx  # imported on first use: it pulls rich and pygments in, ~7 MB per worker
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": settings.oidc_redirect_uri,
            "code_verifier": verifier}
    try:
        async with httpx.AsyncClient(timeout=_TIMEOUT, follow_redirects=False) as http:
            resp = await http.post(meta["token_endpoint"], data=form,
                                   auth=(settings.oidc_client_id or "", settings.oidc_client_secret or ""))
    except httpx.HTTPError:
        raise GrantError("temporarily_unavailable", "The identity service cannot be reached.") from None
    if resp.status_code != 200:
        raise GrantError("invalid_grant", "The identity service refused the code.")
    try:
        id_token = resp.json().get("id_token")
    except ValueError:
        id_token = None
    if not isinstance(id_token, str):
        raise GrantError("invalid_grant", "The identity service answered no ID token.")
    return id_token


async def _verified_claims(settings: Settings, id_token: str, nonce: str) -> dict[str, Any]:
    """OpenID Connect Core §3.1.3.7, with the issuer's published keys only."""
    try:
        header = pyjwt.get_unverified_header(id_token)
    except pyjwt.PyJWTError:
        raise GrantError("invalid_grant", "The ID token is malformed.") from None
    if header.get("alg") not in _ALGORITHMS:
        raise GrantError("invalid_grant", "The ID token's algorithm is not accepted.")
    kid = header.get("kid")
    jwk = _provider.keys.get(kid) if isinstance(kid, str) else None
    if jwk is None:
        await _provider.load(settings, refresh_keys=True)
        jwk = _provider.keys.get(kid) if isinstance(kid, str) else None
    if jwk is None:
        raise GrantError("invalid_grant", "The ID token is signed with an unknown key.")
    try:
        claims = pyjwt.decode(id_token, pyjwt.PyJWK(jwk).key, algorithms=[header["alg"]],
                              audience=settings.oidc_client_id, issuer=settings.oidc_issuer, leeway=60,
                              options={"require": ["iss", "sub", "aud", "exp", "iat"]})
    except (pyjwt.PyJWTError, ValueError, TypeError):
        raise GrantError("invalid_grant", "The ID token is not valid.") from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != settings.oidc_client_id:
        raise GrantError("invalid_grant", "The ID token was issued to another client.")
    if not isinstance(claims.get("nonce"), str) or not secrets.compare_digest(claims["nonce"], nonce):
        raise GrantError("invalid_grant", "The ID token does not answer this sign-in.")
    return claims


async def sso_grant(state: AppState, request: Request[Any, Any, Any], form: Any) -> TokenResponse:
    """Token endpoint grant `urn:jianwu:sso`: client_id=staff-app, `code` and `state` from the redirect, and
    `totp` when the account has a second factor."""
    settings = state.settings
    if not settings.oidc_issuer:
        raise GrantError("unsupported_grant_type", "Single sign-on is not configured.")
    if (form.client_id or "") != "staff-app":
        raise GrantError("invalid_client", "Use client_id staff-app for this grant.")
    if not form.code or not form.state or len(form.code) > 2048 or len(form.state) > 128:
        raise GrantError("invalid_request", "code and state are required.")
    await state.limiter.enforce(Limit("login_ip", settings.login_ip_limit, 300), client_ip(request),
                                "Too many sign-in attempts from this address.")
    kept = await state.redis.getdel(_state_key(settings, form.state))  # one use only
    if kept is None:
        raise GrantError("invalid_grant", "Unknown, used or expired state: start again.")
    flow = msgspec.json.decode(kept)
    meta = await _provider.load(settings)
    claims = await _verified_claims(settings, await _exchange(settings, meta, form.code, flow["verifier"]),
                                    flow["nonce"])
    value = claims.get(settings.oidc_claim)
    username = value.strip().lower()[:64] if isinstance(value, str) else ""
    async with state.db.connection() as conn:
        user = await conn.fetchrow(
            """
            select u.*, o.require_totp or u.totp_required as require_totp
            from users u join offices o on o.id = u.office_id
            where u.username = $1 and u.kind = 'staff' and u.disabled_at is null
            """, username) if username else None
    if user is None:
        async with state.db.transaction() as conn:
            await record(conn, actor_from(request), "auth.login.failed",
                         detail={"grant": "sso", "subject_hash": hashlib.sha256(str(claims["sub"]).encode())
                                 .hexdigest()[:16]})
        raise GrantError("invalid_grant", "No serving staff account matches this identity; an admin creates it first.")
    amr, factor, pending = ["sso"], None, False
    if user["totp_confirmed_at"] is not None:
        secret = state.box.decrypt_text(user["totp_secret_enc"], aad=f"totp:{user['id']}".encode())
        factor = verify_totp_or_recovery(secret, list(user["recovery_codes"]), form.totp or "")
        if factor is None:
            raise GrantError("invalid_grant", "This account needs its second factor: send a valid `totp`.")
        amr.append("otp")
    else:
        pending = bool(user["require_totp"])
    async with state.db.transaction() as conn:
        if factor is not None and not await consume_second_factor(conn, user["id"], factor):
            raise GrantError("invalid_grant", "That second-factor code was already used.")
        response, _ = await issue_for_user(conn, state.keyring, user=user, audience=APP_CLIENTS["staff-app"][0],
                                           device_id=form.device_id, mfa_pending=pending, amr=amr)
        await record(conn, actor_from(request), "auth.login", office_id=user["office_id"], object_type="user",
                     object_id=user["id"], detail={"grant": "sso", "issuer": settings.oidc_issuer,
                                                   "mfa_pending": pending})
    return response


sso_routes = [sso_start]
