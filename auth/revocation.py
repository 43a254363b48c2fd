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

__all__ = ("Revocations",)

_KEEP = ACCESS_TOKEN_MAX_LIFETIME + 120


class Revocations:
    """A denylist of token ids and a per-account "signed out before" mark, both expiring with the tokens."""

    def __init__(self, redis: aioredis.Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix

    async def deny_token(self, jti: str, exp: int) -> None:
        """Refuse this access token for the rest of its life."""
        ttl = max(int(exp - time.time()) + 5, 1)
        await self.redis.set(f"{self.prefix}deny:{jti}", b"1", ex=ttl)

    async def revoke_subject(self, sub: str) -> None:
        """Refuse every access token issued to this account or client until now."""
        await self.redis.set(f"{self.prefix}revoked_before:{sub}", str(int(time.time())), ex=_KEEP)

    async def check(self, principal: Principal) -> None:
        """Raise 401 for a revoked token; 503 when Redis cannot say (fail closed)."""
        try:
            denied, before = await self.redis.mget(
                f"{self.prefix}deny:{principal.jti}", f"{self.prefix}revoked_before:{principal.sub}"
            )
        except RedisError:
            raise ProblemError(
                503, ErrorCode.CACHE_UNAVAILABLE, "Token revocation cannot be checked right now; try again shortly.",
                headers={"Retry-After": "2"},
            ) from None
        # Whole seconds: a token issued in the very second of the revocation is refused too (the safe side).
        if denied is not None or (before is not None and principal.iat <= int(before)):
            raise ProblemError(
                401, ErrorCode.INVALID_TOKEN, "This token has been revoked; sign in again.",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
