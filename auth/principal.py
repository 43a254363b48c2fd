"""Who is calling: built from a verified access token, attached to the request by the guard."""

from __future__ import annotations

import sys
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec

from api.errors import ErrorCode, ProblemError

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection

__all__ = ("Principal", "current_principal")


def _text(value: Any) -> Any:
    # A claim of the wrong type is refused further on; only strings are shared.
    return sys.intern(value) if type(value) is str else value


@lru_cache(maxsize=1024)
def _office(office: str) -> UUID:
    return UUID(office)


@lru_cache(maxsize=256)
def _roles(roles: tuple[str, ...]) -> tuple[str, ...]:
    return roles


@lru_cache(maxsize=256)
def _scopes(scope: str) -> frozenset[str]:
    return frozenset(scope.split())


class Principal(msgspec.Struct, frozen=True, gc=False):
    """An authenticated caller: a staff member, a representative, a citizen or a partner client. Holds only strings,
    numbers, a UUID and sets of strings, so it can never be part of a cycle: the garbage collector need not track the
    thousands a worker keeps in its verified-token cache."""

    sub: str
    kind: str
    audience: str
    jti: str
    exp: int
    iat: int
    office_id: UUID | None = None
    roles: tuple[str, ...] = ()
    scopes: frozenset[str] = frozenset()
    device_id: str | None = None
    mfa_pending: bool = False
    rpm: int | None = None
    family: str | None = None
    # Signed in with a one-time or expired password: only changing it is allowed.
    password_change: bool = False

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Principal:
        """Build from verified token claims."""
        # Every value but the jti and the times repeats across tokens (of one account, one office, one role), and
        # a worker keeps thousands of principals in its verified-token cache: they share one copy of each
        # (interned strings die with their last user; the sets and ids are kept in small bounded caches).
        office, did, fam = claims.get("office"), claims.get("did"), claims.get("fam")
        return cls(
            sub=_text(claims["sub"]), kind=_text(claims["kind"]), audience=_text(claims["aud"]), jti=claims["jti"],
            exp=int(claims["exp"]), iat=int(claims["iat"]), office_id=_office(office) if office else None,
            roles=_roles(tuple(claims.get("roles") or ())), scopes=_scopes(claims.get("scope") or ""),
            device_id=_text(did) if did else did, mfa_pending=bool(claims.get("mfa_pending")),
            rpm=int(claims["rpm"]) if claims.get("rpm") else None, family=_text(fam) if fam else fam,
            password_change=bool(claims.get("pwd_change")),
        )

    @property
    def user_id(self) -> UUID | None:
        """The account id, for every kind except partner clients."""
        return None if self.kind == "partner" else UUID(self.sub)

    @property
    def account(self) -> UUID:
        """The caller's account id, for routes only people call: 403 for a partner client, which has none."""
        if self.kind == "partner":
            raise ProblemError(ErrorCode.FORBIDDEN, "Partner clients have no account here.")
        return UUID(self.sub)

    @property
    def office(self) -> UUID:
        """The caller's office, for routes that work on an office's data: 403 for a caller that has none (such
        routes are guarded by actions only office members hold, so this is a refusal in depth, not a branch)."""
        if self.office_id is None:
            raise ProblemError(ErrorCode.FORBIDDEN, "This account belongs to no office.")
        return self.office_id

    @property
    def effective_roles(self) -> tuple[str, ...]:
        """Staff act under their roles; everyone else under the role named after their kind."""
        return self.roles if self.kind == "staff" else (self.kind,)


def current_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The principal the guard attached; routes that call this always run behind the guard."""
    principal = connection.scope.get("user")
    if not isinstance(principal, Principal):
        raise ProblemError(ErrorCode.UNAUTHENTICATED, "Sign in first.", headers={"WWW-Authenticate": "Bearer"})
    return principal
