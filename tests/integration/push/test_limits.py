"""Requests in flight to one provider: as many as help, never more than the sender's concurrency."""

from __future__ import annotations

import asyncio

from push.worker import Limit


async def _load(limit: Limit, answer: float, count: int = 600, base: float = 0.004) -> int:
    peak = 0

    async def send() -> None:
        nonlocal peak
        async with limit.slot():
            peak = max(peak, limit.busy)
            # A provider whose answers take `answer` seconds per request in flight (0: the same whatever the load).
            await asyncio.sleep(base + answer * limit.busy)

    await asyncio.gather(*(send() for _ in range(count)))
    return peak


async def test_a_provider_with_room_gets_up_to_its_cap_and_never_more() -> None:
    limit = Limit(16)
    limit.WINDOW = 0.01
    # Answers of 30 ms: a busy machine's scheduling delays (a few ms) must not read as a provider slowing down.
    peak = await _load(limit, 0.0, count=400, base=0.03)
    assert limit.limit == 16 and peak == 16 and limit.busy == 0


async def test_a_provider_with_room_is_given_its_cap_within_a_few_windows() -> None:
    # Doubling: 8, 16, 32, 64, 128 (a quarter at a time would take a dozen steps, and sends queue meanwhile).
    # Answers of 20 ms, so a few milliseconds of event-loop lag in a busy test session do not read as a slowdown.
    limit = Limit(128)
    limit.WINDOW = 0.01
    steps = [limit.limit]

    async def send() -> None:
        async with limit.slot():
            if limit.limit != steps[-1]:
                steps.append(limit.limit)
            await asyncio.sleep(0.02)

    await asyncio.gather(*(send() for _ in range(800)))
    assert steps == [8, 16, 32, 64, 128]


async def test_a_provider_that_slows_with_load_keeps_few_requests_in_flight() -> None:
    limit = Limit(32)
    limit.WINDOW = 0.01
    peak = await _load(limit, 0.002)
    assert limit.limit <= 16 and peak <= 20 and limit.busy == 0


async def test_a_cancelled_wait_gives_its_slot_back() -> None:
    limit = Limit(1)
    async with limit.slot():
        waiting = asyncio.create_task(_load(limit, 0.0, count=1))
        await asyncio.sleep(0.01)
        waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    assert limit.busy == 0
    assert await _load(limit, 0.0, count=5) == 1
