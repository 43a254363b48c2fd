"""Parallel wrong partner secrets are each counted before they are checked, so no more than the limit are ever
judged. Called on this loop with the worker's own parts (the in-process HTTP client serialises requests)."""

from __future__ import annotations

import asyncio
import uuid

from litestar import Request
from litestar.datastructures import State

from api.cache import create_redis
from api.db import Database, create_pool
from api.errors import ProblemError
from auth import audit
from auth.ratelimit import RateLimiter
from auth.grants import CLIENT_AUTH, GrantError, TokenRequest, _authenticate_client


async def test_parallel_wrong_secrets_cannot_pass_the_failure_limit(app, client, settings) -> None:  # noqa: ANN001
    pool = await create_pool(settings, settings.database_url)
    redis = create_redis(settings, settings.redis_url)
    state = State({"settings": settings, "db": Database(pool, 2.0), "redis": redis,
                   "limiter": RateLimiter(redis, settings.redis_prefix)})
    scope = {"type": "http", "method": "POST", "path": "/api/v1/auth/token", "headers": [], "query_string": b"",
             "client": ("198.51.100.7", 5000), "server": ("jianwu.test", 80), "scheme": "http", "app": app, "litestar_app": app, "state": {},
             "root_path": ""}
    form = TokenRequest(grant_type="client_credentials", client_id=f"jinshan-race-{uuid.uuid4().hex[:6]}",
                        client_secret="wrong")

    async def attempt() -> str:
        try:
            await _authenticate_client(state, Request(scope), form)  # type: ignore[arg-type]
        except GrantError:
            return "judged"
        except ProblemError as exc:
            return str(exc.status)
        return "accepted"

    # The app's audit anchors use the app's Redis client, which belongs to the test client's loop, not this one.
    anchors = audit._anchors
    audit.use_anchors(None)
    try:
        outcomes = await asyncio.gather(*(attempt() for _ in range(25)))
    finally:
        audit.use_anchors(anchors)
        await redis.aclose()
        await pool.close()
    assert outcomes.count("judged") <= CLIENT_AUTH.count, outcomes
    assert "accepted" not in outcomes
