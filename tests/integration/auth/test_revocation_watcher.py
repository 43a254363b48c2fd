"""The revocation watcher ends when cancelled at any of its await points, even when the cancellation reaches it
disguised as a Redis timeout (an OSError in Python 3.11), so a worker's shutdown never hangs on it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from api.cache import create_redis, create_watcher
from auth.revocation import Revocations

POINTS = ("subscribe", "get_message", "ping", "aclose")


class _Parked:
    """A real PubSub whose method `point` first waits until the test cancels the task there. On cancellation it
    raises `disguise` (what redis-py may raise when a cancellation meets its read timeout), or re-raises."""

    def __init__(self, real: Any, point: str, reached: asyncio.Event, disguise: type[BaseException] | None) -> None:
        self._real, self._point, self._reached, self._disguise = real, point, reached, disguise

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._real, name)
        if self._point == "aclose" and name == "get_message":
            async def lost(*args: Any, **kwargs: Any) -> Any:
                raise RedisConnectionError("connection lost")  # so the watcher closes this subscription
            return lost
        if name != self._point:
            return method

        async def parked(*args: Any, **kwargs: Any) -> Any:
            self._reached.set()
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                if self._disguise is not None:
                    raise self._disguise("cancelled while reading") from None
                raise
            return await method(*args, **kwargs)
        return parked


class _Watcher:
    """The watcher's Redis client, handing out parked subscriptions."""

    def __init__(self, real: Any, point: str, disguise: type[BaseException] | None) -> None:
        self.real, self.point, self.disguise = real, point, disguise
        self.reached = asyncio.Event()
        self.subscriptions = 0

    def pubsub(self) -> Any:
        self.subscriptions += 1
        if self.point == "sleep":  # never subscribes, so the loop waits between attempts
            raise RedisConnectionError("refused")
        return _Parked(self.real.pubsub(), self.point, self.reached, self.disguise)

    async def aclose(self) -> None:
        await self.real.aclose()


@pytest.mark.parametrize("disguise", [None, TimeoutError, OSError, RedisConnectionError])
@pytest.mark.parametrize("point", POINTS)
async def test_stop_ends_the_watcher_at_every_await_point(settings, point, disguise) -> None:  # noqa: ANN001
    redis = create_redis(settings, settings.redis_url)
    watcher = _Watcher(create_watcher(settings, settings.redis_url), point, disguise)
    revocations = Revocations(redis, settings.redis_prefix, watcher)  # type: ignore[arg-type]
    revocations.start()
    task = revocations._task
    try:
        await asyncio.wait_for(watcher.reached.wait(), 10)
        began = time.monotonic()
        stopping = asyncio.ensure_future(revocations.stop())
        await asyncio.wait({stopping}, timeout=5)  # bounded here too, so a regression fails instead of hanging
        assert stopping.done() and task is not None and task.done(), f"watcher still running at {point}/{disguise}"
        assert time.monotonic() - began < 1.5
        assert watcher.subscriptions == 1  # it never subscribed again after the cancellation
    finally:
        task.cancel() if task else None
        await redis.aclose()


async def test_stop_ends_the_watcher_while_it_waits_to_resubscribe(settings) -> None:  # noqa: ANN001
    redis = create_redis(settings, settings.redis_url)
    watcher = _Watcher(create_watcher(settings, settings.redis_url), "sleep", None)
    revocations = Revocations(redis, settings.redis_prefix, watcher)  # type: ignore[arg-type]
    revocations.start()
    try:
        await asyncio.sleep(0.5)  # a few refused attempts, each followed by the pause before the next
        task = revocations._task
        stopping = asyncio.ensure_future(revocations.stop())
        await asyncio.wait({stopping}, timeout=5)
        assert stopping.done() and task is not None and task.done()
    finally:
        await redis.aclose()
