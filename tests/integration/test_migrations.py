"""Migrations apply once, in order, under a lock, and refuse an applied file that was edited."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from api import migrate
from api.db import connect
from api.serve import ensure_database


@pytest.fixture(name="scratch_url")
async def fx_scratch_url(settings, servers):  # noqa: ANN001, ANN201
    name = f"jianwu_scratch_{uuid.uuid4().hex[:8]}"
    url = await ensure_database(settings, servers[0], name, fresh=True)
    yield url
    conn = await connect(settings, servers[0])
    await conn.execute(f'drop database if exists "{name}" with (force)')
    await conn.close()


async def test_applies_everything_once(settings, scratch_url) -> None:  # noqa: ANN001
    conn = await connect(settings, scratch_url)
    try:
        first = await migrate.apply(conn)
        assert [m.version for m in first] == [m.version for m in migrate.discover()]
        assert await migrate.apply(conn) == []
        assert all(applied for _, applied in await migrate.status(conn))
    finally:
        await conn.close()


async def test_concurrent_starts_apply_each_migration_once(settings, scratch_url) -> None:  # noqa: ANN001
    conns = [await connect(settings, scratch_url) for _ in range(4)]
    try:
        results = await asyncio.gather(*(migrate.apply(c) for c in conns))
        applied = [m.version for r in results for m in r]
        assert sorted(applied) == [m.version for m in migrate.discover()]
    finally:
        for c in conns:
            await c.close()


async def test_edited_migration_is_refused(settings, scratch_url) -> None:  # noqa: ANN001
    files = migrate.discover()
    conn = await connect(settings, scratch_url)
    try:
        await migrate.apply(conn, files)
        edited = [migrate.Migration(files[0].version, files[0].name, files[0].sql + "\n-- changed"), *files[1:]]
        with pytest.raises(migrate.MigrationError, match="edited after it was applied"):
            await migrate.apply(conn, edited)
    finally:
        await conn.close()


def test_gaps_in_numbering_are_refused(tmp_path) -> None:  # noqa: ANN001
    (tmp_path / "0001_a.sql").write_text("select 1;")
    (tmp_path / "0003_c.sql").write_text("select 1;")
    with pytest.raises(migrate.MigrationError, match="out of sequence"):
        migrate.discover(tmp_path)
