"""The delivery worker works as its own PostgreSQL role: the API's rights, and its own name in the statistics."""

from __future__ import annotations

import asyncpg
import pytest

from api.db import APP_ROLE, WORKER_ROLE, create_pool


async def test_the_worker_and_the_api_are_told_apart_and_neither_may_rewrite_the_audit_trail(settings) -> None:
    api_pool = await create_pool(settings, settings.database_url)
    worker_pool = await create_pool(settings, settings.database_url, role=WORKER_ROLE)
    try:
        async with api_pool.acquire() as api, worker_pool.acquire() as worker:
            assert await api.fetchval("select current_user") == APP_ROLE
            assert await worker.fetchval("select current_user") == WORKER_ROLE
            # What the worker does: claim outbox rows and deliveries under a lease.
            async with worker.transaction():
                await worker.fetch("select id from outbox where delivered_at is null order by id limit 5 "
                                   "for update skip locked")
                await worker.fetch("select id from deliveries where state = 'pending' limit 5 for update skip locked")
            for conn in (api, worker):
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await conn.execute("update audit_log set detail = detail where false")
    finally:
        await api_pool.close()
        await worker_pool.close()
