"""The pool hands back connections as clean as new ones, without a reset round trip after an ordinary request."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest

from api.db import Database, _quiet, create_pool


@pytest.fixture(name="db")
async def fx_db(settings) -> AsyncIterator[Database]:
    # One connection, so every acquire gets back the connection the previous holder released.
    pool = await create_pool(dataclasses.replace(settings, db_pool_max=1), settings.database_url)
    try:
        yield Database(pool, settings.db_acquire_timeout)
    finally:
        await pool.close()


async def _state(db: Database) -> dict[str, object]:
    async with db.connection() as conn:
        row = await conn.fetchrow(
            "select current_user as role, pg_backend_pid() as pid, current_setting('search_path') as search_path,"
            " current_setting('statement_timeout') as statement_timeout, current_setting('TimeZone') as tz,"
            " (select count(*) from pg_locks where pid = pg_backend_pid() and locktype = 'advisory') as locks,"
            " (select count(*) from pg_cursors) as cursors")
        return {**dict(row), "in_transaction": conn.is_in_transaction()}


async def test_ordinary_use_is_released_without_a_reset_query(db: Database) -> None:
    clean = await _state(db)
    assert clean["role"] == "jianwu_app" and not clean["in_transaction"]
    async with db.transaction() as conn:
        await conn.execute("set local statement_timeout = 1234")
        await conn.fetchval("select 1")
    async with db.connection() as conn:
        ran: list[str] = []
        conn.add_query_logger(lambda record: ran.append(record.query))
        await conn.fetchval("select 2")
    again = await _state(db)
    assert again == clean
    await asyncio.sleep(0)  # asyncpg hands query loggers their records on the loop's next turn
    # The read's statement, then the next holder's: releasing sent nothing in between (no reset query).
    assert ran[0] == "select 2" and ran[1].startswith("select current_user"), ran


async def test_only_a_connection_with_nothing_to_undo_skips_the_shielded_release(db: Database) -> None:
    # asyncpg's Pool.release runs in a shielded task of its own (about 20 µs a request); ours releases in place
    # only what needs no round trip, so no cancellation can cut it short.
    async with db.connection() as conn:
        await conn.fetchval("select 1")
        assert _quiet(conn)
        await conn.execute("begin")
        assert not _quiet(conn)
        await conn.execute("rollback")
        assert _quiet(conn)
        await conn.execute("set search_path = pg_catalog")
        assert not _quiet(conn)
    async with db.transaction() as conn:
        assert not _quiet(conn)


async def test_a_connection_released_in_place_still_goes_when_idle_too_long(settings) -> None:
    # Released in place, a connection must still start the pool's inactivity clock: an idle worker gives its
    # connections back to PostgreSQL, and the next request opens a new one.
    import asyncpg

    from api.db import PooledConnection, _init_pooled, _reset

    pool = await asyncpg.create_pool(settings.database_url, min_size=0, max_size=1, init=_init_pooled, reset=_reset,
                                     max_inactive_connection_lifetime=0.3, connection_class=PooledConnection)
    db = Database(pool, settings.db_acquire_timeout)
    try:
        async with db.connection() as conn:
            first = await conn.fetchval("select pg_backend_pid()")
            assert _quiet(conn)
        async with db.connection() as conn:
            assert await conn.fetchval("select pg_backend_pid()") == first  # back in the pool, reused
        await asyncio.sleep(0.8)
        async with db.connection() as conn:
            assert await conn.fetchval("select pg_backend_pid()") != first
    finally:
        await pool.close()


async def test_an_idle_connection_taken_in_place_is_held_like_one_asyncpg_hands_out(settings, monkeypatch) -> None:
    # An idle open connection is taken without asyncpg's acquire (its four nested coroutines never wait then):
    # the pool must count it as in use, and its inactivity clock must stop while a request holds it.
    import asyncpg

    from api.db import PooledConnection, _init_pooled, _reset

    pool = await asyncpg.create_pool(settings.database_url, min_size=0, max_size=2, init=_init_pooled, reset=_reset,
                                     max_inactive_connection_lifetime=0.3, connection_class=PooledConnection)
    db = Database(pool, settings.db_acquire_timeout)
    through_asyncpg = 0
    acquire = asyncpg.pool.Pool._acquire

    async def counted(self: asyncpg.Pool, timeout: float | None) -> object:
        nonlocal through_asyncpg
        through_asyncpg += 1
        return await acquire(self, timeout)

    monkeypatch.setattr(asyncpg.pool.Pool, "_acquire", counted)
    try:
        async with db.connection() as conn:  # the first opens the connection, through asyncpg
            first = await conn.fetchval("select pg_backend_pid()")
        assert through_asyncpg == 1 and pool.get_idle_size() == 1
        async with db.connection() as conn:
            assert through_asyncpg == 1  # taken in place
            assert pool.get_idle_size() == 0
            await asyncio.sleep(0.8)  # past the inactivity limit, but held: still open
            assert await conn.fetchval("select pg_backend_pid()") == first
        assert pool.get_idle_size() == 1
        async with db.connection() as conn:  # the same connection again, the last one released
            assert await conn.fetchval("select pg_backend_pid()") == first
        assert through_asyncpg == 1
    finally:
        await asyncio.wait_for(pool.close(), 5)


@pytest.mark.parametrize("statement", [
    "set role postgres",  # the login role; the pool works as jianwu_app
    "set search_path = pg_catalog",
    "set statement_timeout = 1234",  # not reported by the server: caught from the statement itself
    "set time zone 'Asia/Shanghai'",
    "select pg_advisory_lock(4242)",
    "select set_config('statement_timeout', '999', false)",
])
async def test_session_state_left_by_a_holder_is_undone(db: Database, statement: str) -> None:
    clean = await _state(db)
    async with db.connection() as conn:
        await conn.execute(statement)
    assert await _state(db) == clean


async def test_a_transaction_left_open_is_rolled_back(db: Database) -> None:
    clean = await _state(db)
    async with db.connection() as conn:
        await conn.execute("begin")
        await conn.execute("set local role postgres")
        await conn.execute("create temporary table left_behind (x int)")
    after = await _state(db)
    assert after == clean and not after["in_transaction"]
    async with db.connection() as conn:
        assert await conn.fetchval("select to_regclass('pg_temp.left_behind')") is None
