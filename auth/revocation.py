"""Revoked access tokens, checked on every authenticated request; Redis down means refuse, never let through."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING

from redis.exceptions import RedisError

from api.errors import ErrorCode, ProblemError
from auth.jwt import ACCESS_TOKEN_MAX_LIFETIME

if TYPE_CHECKING:
    import redis.asyncio as aioredis

    from auth.principal import Principal

__all__ = ("CHECK_TTL", "Revocations", "subject_key")

# Longer than any token can be accepted: its lifetime, the verifier's clock leeway, and a margin.
_KEEP = ACCESS_TOKEN_MAX_LIFETIME + 30 + 60


def subject_key(principal: Principal) -> str:
    """Accounts and partner clients live in separate namespaces, so one can never revoke the other."""
    return f"{'client' if principal.kind == 'partner' else 'user'}:{principal.sub}"


# How long a worker trusts a "not revoked" answer for one token before asking Redis again. The answer is used
# only while this worker's subscription to the revocation channel is up: every revocation is published there
# (so other workers forget their answers at once), and the subscription drops the moment Redis goes away (its
# socket closes), after which every check asks Redis again, which fails closed.
CHECK_TTL = 5.0
_HEARTBEAT = 1.0
_STOP_TIMEOUT = 2.0
log = logging.getLogger("jianwu.revocation")


class Revocations:
    """Denied token ids, denied refresh families, and a per-subject "signed out before" mark, all expiring with
    the last token they could concern. Each worker remembers a token's clean answer for CHECK_TTL."""

    _MAX = 50_000

    def __init__(self, redis: aioredis.Redis, prefix: str, watcher: aioredis.Redis | None = None) -> None:
        self.redis = redis
        self.prefix = prefix
        self.channel = f"{prefix}revocations"
        self._clean: dict[str, float] = {}
        # A client of its own without retries: a lost connection must show at once, not after reconnect attempts.
        self._watcher = watcher
        self._live = False
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        """Follow the revocation channel for as long as the worker runs."""
        if self._watcher is not None and self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._watch())

    async def stop(self, timeout: float = _STOP_TIMEOUT) -> None:
        """Stop following the channel and close its connection, within `timeout` seconds whatever Redis does."""
        self._stopping = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=timeout)
            if not done:
                log.error("the revocation watcher did not end within %.1f s of its cancellation", timeout)
        if self._watcher is not None:
            try:
                await asyncio.wait_for(self._watcher.aclose(), timeout)
            except (TimeoutError, RedisError, OSError):
                log.warning("the revocation watcher's Redis connection did not close cleanly")

    def _ending(self) -> bool:
        # A cancellation can reach us disguised: redis-py may turn it into a timeout (an OSError in 3.11) while it
        # reads. Whatever was raised, a cancelled or stopping watcher ends instead of subscribing again.
        task = asyncio.current_task()
        return self._stopping or (task is not None and task.cancelling() > 0)

    async def _watch(self) -> None:
        assert self._watcher is not None
        while not self._ending():
            pubsub = self._watcher.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                self._live = True
                last_ping = time.monotonic()
                while not self._ending():
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=_HEARTBEAT)
                    if message is not None:
                        self._clean.clear()
                    if time.monotonic() - last_ping >= _HEARTBEAT:
                        await pubsub.ping()  # a silent network partition shows here, within two heartbeats
                        last_ping = time.monotonic()
            except (RedisError, OSError):
                pass
            finally:
                self._live = False
                self._clean.clear()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(pubsub.aclose(), _HEARTBEAT)
            if not self._ending():
                await asyncio.sleep(0.2)

    async def _publish(self) -> None:
        self._clean.clear()
        await self.redis.publish(self.channel, b"1")

    async def deny_token(self, jti: str, exp: int) -> None:
        """Refuse this access token for as long as the verifier could still accept it."""
        ttl = max(int(exp - time.time()) + 30 + 60, 1)
        await self.redis.set(f"{self.prefix}deny:{jti}", b"1", ex=ttl)
        await self._publish()

    async def deny_family(self, family: str) -> None:
        """Refuse every access token issued from one sign-in (logout, or a reused refresh token)."""
        await self.redis.set(f"{self.prefix}deny_fam:{family}", b"1", ex=_KEEP)
        await self._publish()

    async def revoke_subject(self, key: str) -> None:
        """Refuse every access token issued until now to `user:<id>` or `client:<client_id>`."""
        now = await self.redis.time()  # one clock for every replica
        await self.redis.set(f"{self.prefix}revoked_before:{key}", str(int(now[0])), ex=_KEEP)
        await self._publish()

    async def check(self, principal: Principal) -> None:
        """Raise 401 for a revoked token; 503 when Redis cannot say (fail closed)."""
        now = time.monotonic()
        if self._live and self._clean.get(principal.jti, 0.0) > now:
            return
        keys = [f"{self.prefix}deny:{principal.jti}", f"{self.prefix}revoked_before:{subject_key(principal)}",
                f"{self.prefix}deny_fam:{principal.family or '-'}"]
        try:
            denied, before, family = await self.redis.mget(keys)
        except RedisError:
            raise ProblemError(ErrorCode.CACHE_UNAVAILABLE,
                               "Token revocation cannot be checked right now; try again shortly.",
                headers={"Retry-After": "2"},
            ) from None
        # Whole seconds: a token issued in the very second of the revocation is refused too (the safe side).
        if denied is not None or family is not None or (before is not None and principal.iat <= int(before)):
            raise ProblemError(ErrorCode.INVALID_TOKEN, "This token has been revoked; sign in again.",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        if self._live:
            if len(self._clean) >= self._MAX:
                self._clean.clear()
            self._clean[principal.jti] = now + CHECK_TTL
