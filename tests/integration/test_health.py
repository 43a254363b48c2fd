"""Liveness, readiness and the 503 a replica answers when PostgreSQL or Redis is out of reach."""

from __future__ import annotations

import time

import dataclasses
from litestar.testing import AsyncTestClient

from api.app import create_app


async def test_live_answers_ok(client) -> None:  # noqa: ANN001
    resp = await client.get("/health/live")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok"}


async def test_ready_checks_both_dependencies(client) -> None:  # noqa: ANN001
    resp = await client.get("/health/ready")
    assert resp.status_code == 200
    checks = resp.json()["checks"]
    assert checks["postgres"]["ok"] and checks["redis"]["ok"]


def _unreachable(settings):  # noqa: ANN001, ANN202
    # Port 9 (discard) on loopback: nothing listens, so connections are refused at once.
    return dataclasses.replace(
        settings, database_url="postgresql://postgres@127.0.0.1:9/none", redis_url="redis://127.0.0.1:9/0"
    )


async def test_ready_names_what_failed_and_never_hangs(settings) -> None:  # noqa: ANN001
    app = create_app(_unreachable(settings))
    async with AsyncTestClient(app=app) as client:
        started = time.monotonic()
        resp = await client.get("/health/ready")
        assert time.monotonic() - started < 3
    assert resp.status_code == 503
    assert resp.headers["retry-after"]
    body = resp.json()
    assert body["code"] == "not_ready"
    assert body["extra"]["checks"]["postgres"]["ok"] is False
    assert body["extra"]["checks"]["redis"]["ok"] is False


async def test_database_outage_is_503_with_retry_after(settings) -> None:  # noqa: ANN001
    from litestar import get
    from litestar.datastructures import State

    @get("/probe/db", opt={"public": True})
    async def probe(state: State) -> int:
        return await state.db.fetchval("select 1")

    app = create_app(_unreachable(settings))
    app.register(probe)
    async with AsyncTestClient(app=app) as client:
        started = time.monotonic()
        resp = await client.get("/probe/db")
        assert time.monotonic() - started < settings.db_connect_timeout + 1
    assert resp.status_code == 503
    assert resp.headers["retry-after"]
    assert resp.json()["code"] == "database_unavailable"
