"""Revoked access tokens, checked on every authenticated request; Redis down means refuse, never let through."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from redis.exceptions import RedisError

from api.errors import ErrorCode, ProblemError
from auth.jwt import ACCESS_TOKEN_MAX_LIFETIME

if TYPE_CHECKING:
    import redis.asyncio as aioredis

    from auth.principal import Principal

__all__ = ("Revocations", "subject_key")

# Longer than any token can be accepted: its lifetime, the verifier's clock leeway, and a margin.
_KEEP = ACCESS_TOKEN_MAX_LIFETIME + 30 + 60


def subject_key(principal: Principal) -> str:
    """Accounts and partner clients live in separate namespaces, so one can never revoke the other."""
    return f"{'client' if principal.kind == 'partner' else 'user'}:{principal.sub}"


class Revocations:
    """Denied token ids, denied refresh families, and a per-subject "signed out before" mark, all expiring with
    the last token they could concern."""

    def __init__(self, redis: aioredis.Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix

    async def deny_token(self, jti: str, exp: int) -> None:
        """Refuse this access token for as long as the verifier could still accept it."""
        ttl = max(int(exp - time.time()) + 30 + 60, 1)
        await self.redis.set(f"{self.prefix}deny:{jti}", b"1", ex=ttl)

    async def deny_family(self, family: str) -> None:
        """Refuse every access token issued from one sign-in (logout, or a reused refresh token)."""
        await self.redis.set(f"{self.prefix}deny_fam:{family}", b"1", ex=_KEEP)

    async def revoke_subject(self, key: str) -> None:
        """Refuse every access token issued until now to `user:<id>` or `client:<client_id>`."""
        now = await self.redis.time()  # one clock for every replica
        await self.redis.set(f"{self.prefix}revoked_before:{key}", str(int(now[0])), ex=_KEEP)

    async def check(self, principal: Principal) -> None:
        """Raise 401 for a revoked token; 503 when Redis cannot say (fail closed)."""
        keys = [f"{self.prefix}deny:{principal.jti}", f"{self.prefix}revoked_before:{subject_key(principal)}",
                f"{self.prefix}deny_fam:{principal.family or '-'}"]
        try:
            denied, before, family = await self.redis.mget(keys)
        except RedisError:
            raise ProblemError(
                503, ErrorCode.CACHE_UNAVAILABLE, "Token revocation cannot be checked right now; try again shortly.",
                headers={"Retry-After": "2"},
            ) from None
        # Whole seconds: a token issued in the very second of the revocation is refused too (the safe side).
        if denied is not None or family is not None or (before is not None and principal.iat <= int(before)):
            raise ProblemError(
                401, ErrorCode.INVALID_TOKEN, "This token has been revoked; sign in again.",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
