"""The one guard every route passes: public routes are let through, every other needs a token and an action."""

from __future__ import annotations

import hashlib
import itertools
import logging
import time
from typing import TYPE_CHECKING, Any

from api.errors import ErrorCode, ProblemError
from auth.actions import AUTHENTICATED
from auth.jwt import AUD_PARTNER, AUD_PUBLIC, AUD_REPRESENTATIVE, AUD_STAFF, AUDIENCES, InvalidToken
from auth.principal import Principal
from auth.ratelimit import Limit

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection
    from litestar.handlers.base import BaseRouteHandler

__all__ = ("VerifiedTokens", "authenticate", "bearer_token", "guard_without_handler_copy")

log = logging.getLogger("jianwu.auth")
_KINDS_BY_AUDIENCE = {
    AUD_STAFF: {"staff"}, AUD_REPRESENTATIVE: {"deputy", "member"}, AUD_PUBLIC: {"citizen"}, AUD_PARTNER: {"partner"},
}
_CHALLENGE = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The token from `Authorization: Bearer …`, or 401."""
    # Read from the ASGI scope (names arrive lower-cased): building Litestar's Headers for this one look-up cost
    # more than the rest of the cached-token path.
    header = next((v.decode("latin-1") for k, v in connection.scope["headers"] if k == b"authorization"), None)
    if not header:
        raise ProblemError(ErrorCode.UNAUTHENTICATED, "Send an access token: Authorization: Bearer <token>.",
                           headers={"WWW-Authenticate": "Bearer"})
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ProblemError(ErrorCode.UNAUTHENTICATED, "Use the Bearer scheme.",
                           headers={"WWW-Authenticate": "Bearer"})
    return token.strip()


class VerifiedTokens:
    """Tokens this worker has verified, so a phone's next request with the same token skips the signature check.
    Entries die with the token (exp plus the verifier's leeway) and whenever the published keys change. Keyed by a
    128-bit digest of the token rather than its 600 characters, and bounded, so a worker's memory stays flat
    however many users it serves: past the bound, the oldest quarter goes (they cost one verification each)."""

    __slots__ = ("_entries",)
    _MAX = 8192
    _LEEWAY = 30

    def __init__(self) -> None:
        self._entries: dict[bytes, tuple[int, Principal]] = {}

    @staticmethod
    def key(token: str) -> bytes:
        """The entry's key for a token (computed once per request, for the look-up and the entry after a miss)."""
        return hashlib.blake2b(token.encode(), digest_size=16).digest()

    def get(self, key: bytes, generation: int) -> Principal | None:
        """The principal of a token verified before under the same keys, if it has not expired since."""
        hit = self._entries.get(key)
        if hit is None:
            return None
        if hit[0] != generation or hit[1].exp + self._LEEWAY < time.time():
            del self._entries[key]
            return None
        return hit[1]

    def put(self, key: bytes, generation: int, principal: Principal) -> None:
        """Remember a verified token, dropping the oldest quarter of the entries when the bound is reached."""
        if len(self._entries) >= self._MAX:
            for old in list(itertools.islice(self._entries, self._MAX // 4)):
                del self._entries[old]
        self._entries[key] = (generation, principal)


async def _principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    state = connection.app.state
    token = bearer_token(connection)
    key = VerifiedTokens.key(token)
    principal = state.verified_tokens.get(key, state.keyring.generation)
    if principal is None:
        principal = await _verify(connection, token)
        state.verified_tokens.put(key, state.keyring.generation, principal)
    await state.revocations.check(principal)
    return principal


async def _verify(connection: ASGIConnection[Any, Any, Any, Any], token: str) -> Principal:
    state = connection.app.state
    try:
        claims = await state.keyring.verify(token, AUDIENCES)
        principal = Principal.from_claims(claims)
    except InvalidToken as exc:
        # The reason goes to our log only: telling a forger which check failed would help the next try.
        log.info("access token refused: %s", exc.reason,
                 extra={"request_id": connection.scope.get("state", {}).get("request_id")})
        raise ProblemError(ErrorCode.INVALID_TOKEN, "The access token is not valid.", headers=_CHALLENGE) from None
    except (KeyError, ValueError, TypeError):
        raise ProblemError(ErrorCode.INVALID_TOKEN, "The access token lacks required claims.",
                           headers=_CHALLENGE) from None
    if principal.kind not in _KINDS_BY_AUDIENCE[principal.audience]:
        raise ProblemError(ErrorCode.INVALID_TOKEN, "The token's audience does not match its subject.",
                           headers=_CHALLENGE)
    return principal


async def authenticate(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """App-wide guard: deny by default; a route is public, or names the action it needs."""
    opt = handler.opt
    if opt.get("public"):
        return
    action = opt.get("action")
    if not action:
        raise ProblemError(ErrorCode.FORBIDDEN, "This route has no access rule, so nobody may call it.")
    principal = await _principal(connection)
    connection.scope["user"] = principal
    if principal.password_change and not opt.get("allow_password_change"):
        raise ProblemError(ErrorCode.PASSWORD_CHANGE_REQUIRED, "Choose a new password first.",
                           extra={"reason": "password_change_required"})
    if principal.mfa_pending and not opt.get("allow_mfa_pending"):
        raise ProblemError(ErrorCode.FORBIDDEN, "Finish setting up your second factor first.",
                           extra={"reason": "mfa_enrollment_required"})
    if action != AUTHENTICATED and not await connection.app.state.permissions.allows(principal, action):
        raise ProblemError(ErrorCode.FORBIDDEN, "Your permission list does not allow this action.",
                           extra={"action": action})
    if principal.kind == "partner":
        verdict = await connection.app.state.limiter.enforce(
            Limit("partner", principal.rpm or 600, 60), principal.sub,
            "This client has used its request budget for the minute."
        )
        connection.scope.setdefault("state", {})["ratelimit_headers"] = verdict.headers()



async def _authorize_connection(self: BaseRouteHandler, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    for guard in self.resolve_guards():
        await guard(connection, self)  # type: ignore[misc]  # Litestar types guards as sync-or-async; ours are all async


def guard_without_handler_copy() -> None:
    """Run route guards on the handler itself. Litestar hands each guard a shallow copy of the route handler (some
    sixty attributes, so a guard cannot change the handler): about 15 µs of every request, a third of a public
    route's whole time in Litestar. Our one guard only reads `handler.opt`."""
    from litestar.handlers.base import BaseRouteHandler

    BaseRouteHandler.authorize_connection = _authorize_connection  # type: ignore[method-assign]  # the one patch of Litestar's handler class; see the comment above
