"""Writes a command holds back (its audit row) go out with its last statement, in order, and never survive a
savepoint that rolled back."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import asyncpg
import pytest

from api.db import Database, atomic, create_pool, hold_write, holding_writes, send_held_writes, with_held_writes

_PUT = "insert into held (n, note) values ($1, $2)"


@pytest.fixture(name="db")
async def fx_db(settings) -> AsyncIterator[Database]:  # noqa: ANN001
    pool = await create_pool(dataclasses.replace(settings, db_pool_max=2), settings.database_url)
    try:
        yield Database(pool, acquire_timeout=2)
    finally:
        await pool.close()


async def _rows(conn: asyncpg.Connection) -> list[tuple[int, str]]:
    return [(r["n"], r["note"]) for r in await conn.fetch("select n, note from held order by n")]


async def test_held_writes_ride_with_the_last_statement(db: Database) -> None:
    async with db.transaction() as conn:
        await conn.execute("create temporary table held (n int primary key, note text) on commit drop")
        with holding_writes(conn):
            assert hold_write(conn, _PUT, 1, "first") and hold_write(conn, _PUT, 2, "second")
            assert await _rows(conn) == []  # held, not sent
            sql, args = with_held_writes(conn, "select $1::int + 1", (41,))
            assert await conn.fetchval(sql, *args) == 42  # the last statement's own answer, parameters renumbered
            assert await _rows(conn) == [(1, "first"), (2, "second")]
            assert with_held_writes(conn, "select 1", ()) == ("select 1", ())  # sent once, then gone


async def test_a_savepoint_sends_what_was_held_and_holds_nothing_of_its_own(db: Database) -> None:
    async with db.transaction() as conn:
        await conn.execute("create temporary table held (n int primary key, note text) on commit drop")
        with holding_writes(conn):
            hold_write(conn, _PUT, 1, "before the savepoint")
            with pytest.raises(RuntimeError):
                async with atomic(conn):
                    # Inside, a write is not held: rolled back with the savepoint, it must not come back later.
                    assert not hold_write(conn, _PUT, 2, "inside")
                    await conn.execute(_PUT, 2, "inside")
                    raise RuntimeError("the savepoint rolls back")
            assert await _rows(conn) == [(1, "before the savepoint")]
            await send_held_writes(conn)
            assert await _rows(conn) == [(1, "before the savepoint")]


async def test_nothing_is_held_on_another_connection_or_outside_the_block(db: Database) -> None:
    async with db.transaction() as conn:
        with holding_writes(conn):
            async with db.pool.acquire() as other:
                assert not hold_write(other, _PUT, 1, "elsewhere")
        assert not hold_write(conn, _PUT, 1, "after")


async def test_a_lane_claimed_by_a_statement_is_refused_while_a_row_is_held(db: Database) -> None:
    from auth.audit import Actor, Lane, record

    actor = Actor(id=None, kind=None, office_id=None, device_id=None, ip=None, request_id=None)
    async with db.transaction() as conn:
        with holding_writes(conn):
            hold_write(conn, "select $1::int", 1)  # a row held back: the claimed lane's head may be missing it
            with pytest.raises(RuntimeError, match="send_held_writes"):
                await record(conn, actor, "test.lane", lane=Lane("system", 0, None, None))
