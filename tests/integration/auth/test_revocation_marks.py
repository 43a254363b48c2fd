"""Each worker holds the live revocation marks: a token is checked without a Redis round trip while the worker's
copy is complete, a mark reaches every worker at once, a lost message is caught by the version, and a worker that
loses its channel asks Redis again (which fails closed)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis as redis_sync

from api.cache import create_redis, create_watcher
from api.errors import ProblemError
from auth.principal import Principal
from auth.revocation import Revocations


def _token(sub: str | None = None, *, family: str | None = None, iat: int | None = None) -> Principal:
    now = int(time.time())
    return Principal(sub=sub or uuid.uuid4().hex, kind="staff", audience="staff-app", jti=uuid.uuid4().hex,
                     exp=now + 600, iat=iat if iat is not None else now - 5, family=family or uuid.uuid4().hex)


class _Counting:
    """The worker's Redis client, counting the revocation MGETs it sends (the round trip the copy saves)."""

    def __init__(self, real: Any) -> None:
        self.real, self.mgets = real, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    async def mget(self, *args: Any, **kwargs: Any) -> Any:
        self.mgets += 1
        return await self.real.mget(*args, **kwargs)


async def _ready(*workers: Revocations) -> None:
    for _ in range(100):
        if all(w._live and w._version >= 0 for w in workers):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the workers never completed their copy of the marks")


async def _refused(worker: Revocations, token: Principal) -> bool:
    try:
        await worker.check(token)
    except ProblemError as exc:
        assert exc.status == 401
        return True
    return False


@pytest.fixture(name="workers")
async def fx_workers(settings) -> AsyncIterator[tuple[Revocations, Revocations, _Counting]]:  # noqa: ANN001
    prefix = f"{settings.redis_prefix}marks{uuid.uuid4().hex[:6]}:"
    counted = _Counting(create_redis(settings, settings.redis_url))
    one = Revocations(create_redis(settings, settings.redis_url), prefix, create_watcher(settings, settings.redis_url))
    two = Revocations(counted, prefix, create_watcher(settings, settings.redis_url))  # type: ignore[arg-type]
    one.start()
    two.start()
    await _ready(one, two)
    try:
        yield one, two, counted
    finally:
        for w in (one, two):
            await w.stop()
            await w.redis.aclose()


async def test_marks_reach_every_worker_and_checks_need_no_round_trip(workers) -> None:  # noqa: ANN001
    one, two, counted = workers
    token, family_token, old = _token(), _token(family="fam-1"), _token(sub="u-1", iat=int(time.time()) - 60)
    for t in (token, family_token, old):
        await two.check(t)
    assert counted.mgets == 0  # answered from the worker's copy
    await one.deny_token(token.jti, token.exp)
    await one.deny_family("fam-1")
    await one.revoke_subject("user:u-1")
    deadline = time.monotonic() + 1.0  # revocation reaches the other worker within a second
    while time.monotonic() < deadline and not await _refused(two, old):
        await asyncio.sleep(0.01)
    assert await _refused(two, token) and await _refused(two, family_token) and await _refused(two, old)
    assert await _refused(one, token)
    # A token issued after the subject's revocation is accepted again.
    await two.check(_token(sub="u-1", iat=int(time.time()) + 2))
    assert counted.mgets == 0


async def test_a_lost_message_is_caught_by_the_version(workers) -> None:  # noqa: ANN001
    one, two, _ = workers
    token = _token()
    # A revocation whose message never arrived: the mark and the version are in Redis, nothing was published.
    await one.redis.set(f"{one.prefix}deny:{token.jti}", b"1", ex=600)
    await one.redis.incr(f"{one.prefix}revocations:version")
    deadline = time.monotonic() + 3.5  # two heartbeats and a margin
    while time.monotonic() < deadline and not await _refused(two, token):
        await asyncio.sleep(0.05)
    assert await _refused(two, token)


async def test_a_worker_without_its_channel_asks_redis(settings, workers) -> None:  # noqa: ANN001
    _, two, counted = workers
    await two.stop()  # the channel is gone: the copy is no longer trusted
    await two.check(_token())
    assert counted.mgets == 1
    token = _token()
    await two.redis.set(f"{two.prefix}deny:{token.jti}", b"1", ex=600)
    assert await _refused(two, token)



async def test_a_check_in_the_turn_the_channel_drops_asks_redis(settings) -> None:  # noqa: ANN001
    name = f"jianwu-test-watch-{uuid.uuid4().hex[:8]}"
    watcher = create_watcher(settings, settings.redis_url)
    watcher.connection_pool.connection_kwargs["client_name"] = name  # so this test can find its subscription
    counted = _Counting(create_redis(settings, settings.redis_url))
    worker = Revocations(counted, f"{settings.redis_prefix}drop{uuid.uuid4().hex[:6]}:", watcher)  # type: ignore[arg-type]
    worker.start()
    sync = redis_sync.Redis.from_url(settings.redis_url)
    try:
        await _ready(worker)
        await worker.check(_token())
        assert counted.mgets == 0
        # Redis closes the subscription. A blocking client sends the kill, so the event loop cannot run the
        # watcher in between: the check below comes before the watcher could have noticed anything.
        channel = [c["id"] for c in sync.client_list(_type="pubsub") if c.get("name") == name]
        assert len(channel) == 1
        sync.client_kill_filter(_id=channel[0])
        time.sleep(0.05)  # the close reaches the worker's socket
        assert worker._live  # the watcher has not run yet; without the kernel's word the copy would answer
        await worker.check(_token())
        assert counted.mgets == 1  # asked Redis, not a copy whose source has gone
    finally:
        sync.close()
        await worker.stop()
        await counted.real.aclose()


async def test_heartbeats_do_not_reload_the_copy(workers) -> None:  # noqa: ANN001
    one, two, _ = workers
    reloads = 0
    reload = two._reload

    async def counted() -> None:
        nonlocal reloads
        reloads += 1
        await reload()

    two._reload = counted  # type: ignore[method-assign]
    await asyncio.sleep(2.6)  # two heartbeats at least, each with its PING and the channel's PONG
    await one.deny_token(uuid.uuid4().hex, int(time.time()) + 600)  # a mark is applied, not reloaded either
    await asyncio.sleep(0.3)
    assert reloads == 0
