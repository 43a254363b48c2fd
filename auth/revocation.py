"""Revoked access tokens, checked on every authenticated request; Redis down means refuse, never let through."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import select
import time
from typing import TYPE_CHECKING

import msgspec
from redis.exceptions import RedisError

from api.errors import ErrorCode, ProblemError
from auth.jwt import ACCESS_TOKEN_MAX_LIFETIME

if TYPE_CHECKING:
    import redis.asyncio as aioredis

    from auth.principal import Principal

__all__ = ("CHECK_TTL", "Revocations", "subject_key")

# Longer than any token can be accepted: its lifetime, the verifier's clock leeway, and a margin.
_KEEP = ACCESS_TOKEN_MAX_LIFETIME + 30 + 60
_KINDS = ("deny", "deny_fam", "revoked_before")


def subject_key(principal: Principal) -> str:
    """Accounts and partner clients live in separate namespaces, so one can never revoke the other."""
    return f"{'client' if principal.kind == 'partner' else 'user'}:{principal.sub}"


# Each worker holds the live revocation marks in memory and checks tokens against them without a round trip,
# but only while its subscription to the revocation channel is up and its copy is complete: it loads every mark
# after subscribing, applies each mark published on the channel, and compares a version (a Redis counter every
# revocation increments) on each message and each heartbeat, reloading when it missed one. The subscription drops
# the moment Redis goes away (its socket closes); from then on every check asks Redis, which fails closed. The
# watcher task learns of the close only an event-loop turn or two later, so each check also asks the kernel (one
# zero-timeout poll, under a microsecond) whether the subscription's peer has hung up: a request handled in that turn is
# refused too, not answered from a copy whose source is gone.
# CHECK_TTL is how stale the copy can be when a published mark is lost: at most two heartbeats.
CHECK_TTL = 2.0
_HEARTBEAT = 1.0
_STOP_TIMEOUT = 2.0
log = logging.getLogger("jianwu.revocation")


class Revocations:
    """Denied token ids, denied refresh families, and a per-subject "signed out before" mark, all expiring with
    the last token they could concern. Each worker checks against its own copy while it follows the channel."""

    _MAX = 50_000

    def __init__(self, redis: aioredis.Redis, prefix: str, watcher: aioredis.Redis | None = None) -> None:
        self.redis = redis
        self.prefix = prefix
        self.channel = f"{prefix}revocations"
        self._version_key = f"{prefix}revocations:version"
        # Marks by kind ("deny" jti, "deny_fam" family, "revoked_before" subject) -> (value, wall-clock expiry).
        self._marks: dict[str, dict[str, tuple[int, float]]] = {kind: {} for kind in _KINDS}
        self._version = -1  # the last version this worker's copy is complete up to; -1: no complete copy
        # A client of its own without retries: a lost connection must show at once, not after reconnect attempts.
        self._watcher = watcher
        self._hangup: select.poll | None = None  # watches the subscription's socket for the peer closing it
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

    @property
    def _live(self) -> bool:
        """Whether this worker follows the channel (it holds the subscription's socket to watch)."""
        return self._hangup is not None

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
                await self._reload()  # after subscribing: a mark published meanwhile arrives as a message too
                self._hangup = _hangup_poll(pubsub)
                last_ping = time.monotonic()
                while not self._ending():
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=_HEARTBEAT)
                    # Only published marks: the heartbeat's own PONG arrives here too, and taken for a mark it
                    # cost every worker a full reload of every mark each second.
                    if message is not None and message.get("type") == "message":
                        await self._receive(message.get("data"))
                    if time.monotonic() - last_ping >= _HEARTBEAT:
                        await pubsub.ping()  # a silent network partition shows here, within two heartbeats
                        remote = int(await self.redis.get(self._version_key) or 0)
                        if remote > self._version:  # a message was lost: reload rather than trust the copy
                            await self._reload()
                        last_ping = time.monotonic()
            except (RedisError, OSError, ValueError):
                pass
            finally:
                self._hangup = None
                self._version = -1
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(pubsub.aclose(), _HEARTBEAT)
            if not self._ending():
                await asyncio.sleep(0.2)

    async def _reload(self) -> None:
        """Load every live mark from Redis; the copy is complete up to the version read before the scan."""
        version = int(await self.redis.get(self._version_key) or 0)
        marks: dict[str, dict[str, tuple[int, float]]] = {kind: {} for kind in _KINDS}
        for kind in _KINDS:
            head = f"{self.prefix}{kind}:"
            keys = [k async for k in self.redis.scan_iter(match=f"{head}*", count=1000)]
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                async with self.redis.pipeline(transaction=False) as pipe:
                    for k in chunk:
                        pipe.get(k)
                        pipe.ttl(k)
                    answers = await pipe.execute()
                now = time.time()
                for k, value, ttl in zip(chunk, answers[::2], answers[1::2], strict=True):
                    if value is not None:
                        name = (k.decode() if isinstance(k, bytes) else k)[len(head):]
                        marks[kind][name] = (int(value), now + (ttl if ttl > 0 else _KEEP))
        self._marks = marks
        self._version = version

    async def _receive(self, data: bytes | str | None) -> None:
        """Apply one published mark; a gap in the versions means a lost one, so everything is reloaded."""
        try:
            version, kind, name, value, ttl = msgspec.json.decode(data or b"")
        except (msgspec.DecodeError, TypeError, ValueError):
            await self._reload()  # an older worker's bare notice: the copy cannot be trusted as is
            return
        self._apply(kind, name, int(value), int(ttl))
        if version > self._version + 1:
            await self._reload()
        else:
            self._version = max(self._version, version)

    def _apply(self, kind: str, name: str, value: int, ttl: int) -> None:
        marks = self._marks.get(kind)
        if marks is not None:
            if len(marks) >= self._MAX:
                self._prune(marks)
            old = marks.get(name)
            marks[name] = (max(value, old[0]) if old else value, time.time() + ttl)

    @staticmethod
    def _prune(marks: dict[str, tuple[int, float]]) -> None:
        now = time.time()
        for name in [n for n, (_, until) in marks.items() if until <= now]:
            del marks[name]

    async def _mark(self, kind: str, name: str, value: int, ttl: int) -> None:
        """Store one mark, apply it here at once, and publish it with the next version to every worker."""
        await self.redis.set(f"{self.prefix}{kind}:{name}", str(value), ex=ttl)
        self._apply(kind, name, value, ttl)
        version = await self.redis.incr(self._version_key)
        await self.redis.publish(self.channel, msgspec.json.encode([version, kind, name, value, ttl]))

    async def deny_token(self, jti: str, exp: int) -> None:
        """Refuse this access token for as long as the verifier could still accept it."""
        await self._mark("deny", jti, 1, max(int(exp - time.time()) + 30 + 60, 1))

    async def deny_family(self, family: str) -> None:
        """Refuse every access token issued from one sign-in (logout, or a reused refresh token)."""
        await self._mark("deny_fam", family, 1, _KEEP)

    async def revoke_subject(self, key: str) -> None:
        """Refuse every access token issued until now to `user:<id>` or `client:<client_id>`."""
        now = await self.redis.time()  # one clock for every replica
        await self._mark("revoked_before", key, int(now[0]), _KEEP)

    def _local(self, principal: Principal) -> bool | None:
        """Whether the token is revoked, from this worker's copy; None when the copy cannot be trusted."""
        if self._hangup is None or self._version < 0 or self._hangup.poll(0):
            return None
        now = time.time()
        hit = self._marks["deny"].get(principal.jti)
        if hit is not None and hit[1] > now:
            return True
        if principal.family:
            hit = self._marks["deny_fam"].get(principal.family)
            if hit is not None and hit[1] > now:
                return True
        hit = self._marks["revoked_before"].get(subject_key(principal))
        return hit is not None and hit[1] > now and principal.iat <= hit[0]

    async def check(self, principal: Principal) -> None:
        """Raise 401 for a revoked token; 503 when Redis cannot say (fail closed)."""
        local = self._local(principal)
        if local is False:
            return
        if local:
            raise _revoked()
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
            raise _revoked()


_HUNG_UP = select.POLLRDHUP | select.POLLHUP | select.POLLERR | select.POLLNVAL


def _hangup_poll(pubsub: aioredis.client.PubSub) -> select.poll | None:
    """A poll object that reports the subscription's connection closed by its peer; None if it has no socket."""
    # redis-py keeps the stream private; without its socket the copy is never trusted and every check asks Redis.
    writer = getattr(pubsub.connection, "_writer", None)
    sock = writer.transport.get_extra_info("socket") if writer is not None else None
    if sock is None:
        log.warning("the revocation watcher cannot see its socket; every token check will ask Redis")
        return None
    poll = select.poll()
    poll.register(sock.fileno(), _HUNG_UP)
    return poll


def _revoked() -> ProblemError:
    return ProblemError(ErrorCode.INVALID_TOKEN, "This token has been revoked; sign in again.",
                        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
