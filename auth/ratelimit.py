"""Fixed-window counters in Redis, atomic across workers and replicas (one Lua call per check)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from redis.exceptions import RedisError

from api.errors import ErrorCode, ProblemError

if TYPE_CHECKING:
    import redis.asyncio as aioredis

__all__ = ("Limit", "RateLimiter", "Verdict")

log = logging.getLogger("jianwu.ratelimit")

# INCR then set the expiry only on the first hit, in one atomic step; returns the count and the window's TTL.
_HIT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
"""


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `count` events per `window` seconds for one key."""

    name: str
    count: int
    window: int


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of one counted event."""

    allowed: bool
    limit: int
    remaining: int
    reset: int

    def headers(self) -> dict[str, str]:
        """RateLimit-* response headers (IETF draft), plus Retry-After when refused."""
        out = {"RateLimit-Limit": str(self.limit), "RateLimit-Remaining": str(self.remaining),
               "RateLimit-Reset": str(self.reset)}
        if not self.allowed:
            out["Retry-After"] = str(max(self.reset, 1))
        return out


class RateLimiter:
    """Counts events per key; fails open when Redis is down (a limit must never take the service down)."""

    def __init__(self, redis: aioredis.Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix
        self._hit = redis.register_script(_HIT)

    def _key(self, limit: Limit, key: str) -> str:
        return f"{self.prefix}rl:{limit.name}:{key}"

    async def hit(self, limit: Limit, key: str, *, fail_open: bool = True) -> Verdict:
        """Count one event; say whether it is within the limit. Limits that guard secrets (passwords, codes)
        pass fail_open=False: without Redis they answer 503 rather than allow unlimited guessing."""
        try:
            count, ttl = await self._hit(keys=[self._key(limit, key)], args=[limit.window])
        except RedisError:
            if not fail_open:
                raise ProblemError(ErrorCode.CACHE_UNAVAILABLE, "Sign-in is unavailable for a moment.",
                                   headers={"Retry-After": "2"}) from None
            log.warning("rate limit %s not counted: Redis unavailable", limit.name)
            return Verdict(True, limit.count, limit.count, limit.window)
        count, ttl = int(count), int(ttl)
        return Verdict(count <= limit.count, limit.count, max(limit.count - count, 0), ttl)

    async def peek(self, limit: Limit, key: str) -> Verdict:
        """The current state without counting (to refuse a locked-out account before checking its password)."""
        try:
            pipe = self.redis.pipeline(transaction=False)
            pipe.get(self._key(limit, key))
            pipe.ttl(self._key(limit, key))
            raw, ttl = await pipe.execute()
        except RedisError:
            return Verdict(True, limit.count, limit.count, limit.window)
        count = int(raw or 0)
        return Verdict(count < limit.count, limit.count, max(limit.count - count, 0), max(int(ttl), 0))

    async def clear(self, limit: Limit, key: str) -> None:
        """Forget the count (after a successful sign-in)."""
        try:
            await self.redis.delete(self._key(limit, key))
        except RedisError:
            pass

    async def enforce(self, limit: Limit, key: str, detail: str, *, fail_open: bool = True) -> Verdict:
        """Count one event and raise 429 with Retry-After when it is over the limit."""
        verdict = await self.hit(limit, key, fail_open=fail_open)
        if not verdict.allowed:
            raise ProblemError(ErrorCode.RATE_LIMITED, detail, headers=verdict.headers())
        return verdict
