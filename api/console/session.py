"""Console sessions: the tokens of the API's own password grant, kept in Redis under a random id that the browser
holds in an HttpOnly, SameSite=Strict cookie. Each console request carries its access token to the app-wide guard
(auth/guards.authenticate), so a page is allowed exactly what the API would allow the same person."""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any

import msgspec
from litestar import Request

from api.errors import ErrorCode, ProblemError
from api.state import AppState, app_state
from auth.grants import GRANTS, TokenRequest
from auth.tokens import GrantError, TokenResponse

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection
    from litestar.handlers.base import BaseRouteHandler
    from litestar.types import ASGIApp, Receive, Scope, Send

__all__ = ("COOKIE", "IDLE_SECONDS", "PRE_COOKIE", "ConsoleSession", "check_csrf", "cookie_header",
           "create_session", "current_session", "drop_session", "replace_tokens", "session_middleware")

COOKIE = "jianwu_console"
# Before sign-in the form's CSRF token is paired with this cookie (double submit), so a page elsewhere cannot sign
# a browser into someone else's account.
PRE_COOKIE = "jianwu_console_pre"
# A session nobody used for this long is gone (Redis expires it; every request starts the period again).
IDLE_SECONDS = 30 * 60
# Refresh the access token this long before it expires, so a page never reaches the guard with a dead one.
_REFRESH_MARGIN = 60
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


class ConsoleSession(msgspec.Struct):
    """What Redis keeps for one browser: the API tokens and the CSRF token of its forms."""

    id: str
    access_token: str
    refresh_token: str | None
    expires_at: float
    csrf: str
    username: str


def _key(state: AppState, sid: str) -> str:
    return f"{state.settings.redis_prefix}console:{sid}"


def cookie_header(state: AppState, name: str, value: str, *, max_age: int | None = None) -> str:
    """A Set-Cookie value: HttpOnly, SameSite=Strict, only under /console; Secure in production (development and
    test serve plain HTTP on the loopback)."""
    parts = [f"{name}={value}", "Path=/console", "HttpOnly", "SameSite=Strict"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if state.settings.env == "production":
        parts.append("Secure")
    return "; ".join(parts)


async def create_session(state: AppState, tokens: TokenResponse, username: str) -> ConsoleSession:
    """Keep a new session for the tokens a sign-in answered."""
    session = ConsoleSession(id=secrets.token_urlsafe(32), access_token=tokens.access_token,
                             refresh_token=tokens.refresh_token, expires_at=time.time() + tokens.expires_in,
                             csrf=secrets.token_urlsafe(32), username=username)
    await _save(state, session)
    return session


async def _save(state: AppState, session: ConsoleSession) -> None:
    await state.redis.set(_key(state, session.id), msgspec.json.encode(session), ex=IDLE_SECONDS)


async def drop_session(state: AppState, sid: str) -> None:
    """Forget a session (sign-out)."""
    await state.redis.delete(_key(state, sid))


async def _load(state: AppState, sid: str) -> ConsoleSession | None:
    raw = await state.redis.getex(_key(state, sid), ex=IDLE_SECONDS)  # each use starts the idle period again
    return None if raw is None else msgspec.json.decode(raw, type=ConsoleSession)


async def _fresh(state: AppState, request: Request[Any, Any, Any], session: ConsoleSession) -> ConsoleSession | None:
    """The session with a live access token: refreshed through the API's refresh grant when it is about to end;
    None when the refresh token is refused (revoked, reused, expired), which ends the session."""
    if session.expires_at - _REFRESH_MARGIN > time.time():
        return session
    try:
        if not session.refresh_token:
            raise GrantError("invalid_grant", "no refresh token")
        tokens = await GRANTS["refresh_token"](state, request, TokenRequest(
            grant_type="refresh_token", refresh_token=session.refresh_token))
    except GrantError:
        await drop_session(state, session.id)
        return None
    await replace_tokens(state, session, tokens)
    return session


async def replace_tokens(state: AppState, session: ConsoleSession, tokens: TokenResponse) -> None:
    """Keep the tokens of a refresh or of a new sign-in (after a password change) in the session."""
    session.access_token, session.refresh_token = tokens.access_token, tokens.refresh_token
    session.expires_at = time.time() + tokens.expires_in
    await _save(state, session)


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == name:
                    return v
    return None


def session_middleware(app: ASGIApp) -> ASGIApp:
    """On every console route: the content security policy, no caching, and the session's access token as the
    request's bearer token (any Authorization header the browser sent is dropped: the console is cookie-only)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        state_ = scope.setdefault("state", {})
        state_["content_security_policy"] = CSP
        headers = [(k, v) for k, v in scope["headers"] if k != b"authorization"]
        sid = _cookie(scope, COOKIE)
        if sid and len(sid) <= 64:  # ours are 43 characters; anything else names no session
            request: Request[Any, Any, Any] = Request(scope, receive)
            state = app_state(scope["app"])
            session = await _load(state, sid)
            session = session and await _fresh(state, request, session)
            if session is not None:
                state_["console_session"] = session
                headers.append((b"authorization", f"Bearer {session.access_token}".encode()))
        scope["headers"] = headers

        async def send_no_store(message: Any) -> None:
            if message["type"] == "http.response.start" and not scope["path"].startswith("/console/assets/"):
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"cache-control", b"no-store")]
            await send(message)

        await app(scope, receive, send_no_store)

    return middleware


def current_session(connection: ASGIConnection[Any, Any, Any, Any]) -> ConsoleSession | None:
    """The browser's session, when it has a live one."""
    return connection.scope.get("state", {}).get("console_session")


async def check_csrf(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Guard on every console route: a POST carries the form's CSRF token (field `_csrf`, or the X-CSRF-Token header
    htmx sends), equal to the session's, or before sign-in to the pre-session cookie's."""
    if connection.scope.get("method") != "POST":
        return
    session = current_session(connection)
    expected = session.csrf if session else _cookie(connection.scope, PRE_COOKIE)
    sent = connection.headers.get("x-csrf-token")
    if sent is None:
        form = await connection.form()  # type: ignore[attr-defined]  # a Request: guards run on HTTP routes only
        value = form.get("_csrf")
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not secrets.compare_digest(expected.encode(), sent.encode()):
        raise ProblemError(ErrorCode.FORBIDDEN, "The form's CSRF token is missing or wrong; reload the page.",
                           extra={"reason": "csrf"})
