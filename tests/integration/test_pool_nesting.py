"""One request never holds two pooled connections: under load that deadlocks the pool (every connection held by
a request waiting for a second one), and every waiting request answers 503 once the acquire timeout passes."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest

from api.db import Database, create_pool, held_connection
from modules.registry import ModuleSwitches


@pytest.fixture(name="db")
async def fx_db(settings) -> AsyncIterator[Database]:
    # One connection and a short wait: a second acquire by the holder would time out here, not pass by luck.
    pool = await create_pool(dataclasses.replace(settings, db_pool_max=1), settings.database_url)
    try:
        yield Database(pool, acquire_timeout=0.5)
    finally:
        await pool.close()


async def test_a_read_asked_for_inside_a_command_runs_on_the_commands_connection(db: Database, conn) -> None:  # noqa: ANN001
    office = await conn.fetchval("select id from offices where code = 'jinshan'")
    switches = ModuleSwitches(db)  # loads through the Database it is given, as the app's does
    async with db.transaction() as tx:
        await tx.execute("create temporary table mine (x int) on commit drop")
        # The module switch's look-up (its cache is cold), and a plain read through the Database meanwhile.
        assert (await switches.get(office, "complaints"))[0] is True
        async with db.connection() as again, db.read() as read:
            assert again is tx and read is tx and held_connection() is tx
            assert await again.fetchval("select count(*) from mine") == 0  # the command's own session
    assert held_connection() is None


async def test_a_second_transaction_inside_a_held_connection_is_refused(db: Database) -> None:
    async with db.connection():
        with pytest.raises(RuntimeError, match="holds a pooled connection"):
            async with db.transaction():
                pass
    async with db.transaction() as tx:  # the connection went back to the pool in working order
        assert await tx.fetchval("select 1") == 1


async def test_a_task_started_meanwhile_takes_a_connection_of_its_own(settings) -> None:  # noqa: ANN001
    pool = await create_pool(dataclasses.replace(settings, db_pool_max=2), settings.database_url)
    db = Database(pool, acquire_timeout=2.0)
    try:
        async with db.connection() as mine:
            async def other() -> int:
                assert held_connection() is None  # the variable was copied, the connection is not its to use
                async with db.connection() as theirs:
                    assert theirs is not mine
                    return await theirs.fetchval("select pg_backend_pid()")
            pid = await asyncio.create_task(other())
            assert pid != await mine.fetchval("select pg_backend_pid()")
    finally:
        await pool.close()


async def test_a_wait_past_the_acquire_timeout_fails_and_leaves_the_pool_whole(db: Database) -> None:
    # The one connection is busy: the next request waits the acquire timeout (0.5 s here), then fails, which the
    # app answers 503. The failed wait must not keep a connection: afterwards the pool serves requests in turn.
    loop = asyncio.get_running_loop()
    async with db.connection():
        async def waiter() -> None:
            async with db.connection():
                pass

        started = loop.time()
        with pytest.raises(TimeoutError):
            await asyncio.create_task(waiter())
        assert 0.4 < loop.time() - started < 2.0
    for _ in range(3):
        async with db.connection() as conn:
            assert await conn.fetchval("select 1") == 1


async def test_a_block_that_fails_or_is_cancelled_gives_its_connection_back(db: Database) -> None:
    # The pool has one connection: had either block kept it, the next acquire would time out after 0.5 s.
    with pytest.raises(ZeroDivisionError):
        async with db.connection() as conn:
            await conn.fetchval("select 1")
            1 / 0  # noqa: B018
    assert held_connection() is None

    started = asyncio.Event()

    async def cancelled() -> None:
        async with db.connection() as conn:
            started.set()
            await conn.fetchval("select pg_sleep(5)")

    task = asyncio.create_task(cancelled())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with db.connection() as conn:
        assert await conn.fetchval("select 1") == 1


async def test_a_nested_block_leaves_the_outer_one_its_connection(db: Database) -> None:
    async with db.connection() as outer:
        async with db.connection() as inner:
            assert inner is outer
        # The inner block's end released nothing: the outer block still holds a working connection.
        assert held_connection() is outer
        assert await outer.fetchval("select 2") == 2
    assert held_connection() is None
