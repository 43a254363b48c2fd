"""Liveness, readiness and metrics: what load balancers and monitoring ask of every replica."""

from __future__ import annotations

import asyncio
import hmac
from typing import Any

import msgspec
from litestar import Request, Response, get

from api.errors import PROBLEM_JSON, ErrorCode, Problem, ProblemError, problem_docs
from api.observability import metrics_payload
from api.state import AppState

__all__ = ("health_routes",)


class Live(msgspec.Struct):
    """The process is up and serving."""

    status: str


class Check(msgspec.Struct):
    """One dependency's state."""

    ok: bool
    ms: float
    error: str | None = None


class Ready(msgspec.Struct):
    """Every dependency this replica needs answered."""

    status: str
    checks: dict[str, Check]


@get("/health/live", operation_id="healthLive", tags=["health"], opt={"public": True}, summary="Liveness",
     responses=problem_docs(), sync_to_thread=False)
def live() -> Live:
    """Answer 200 while the process can serve requests; checks nothing else."""
    return Live(status="ok")


async def _timed(coro: Any, timeout: float) -> Check:
    loop = asyncio.get_running_loop()
    start = loop.time()
    try:
        await asyncio.wait_for(coro, timeout)
    except Exception as exc:  # noqa: BLE001  any failure of a dependency means "not ready", never a 500
        kind = "timeout" if isinstance(exc, TimeoutError) else type(exc).__name__
        return Check(ok=False, ms=round((loop.time() - start) * 1000, 1), error=kind)
    return Check(ok=True, ms=round((loop.time() - start) * 1000, 1))


@get(
    "/health/ready", operation_id="healthReady", tags=["health"], opt={"public": True}, summary="Readiness",
    responses=problem_docs(),
)
async def ready(state: AppState) -> Response[Ready]:
    """Answer 200 when PostgreSQL and Redis both answer within a second; otherwise 503 naming the failure. With
    a read replica configured, `checks.replica` says whether reads go there now (`unreachable` or `lagging`:
    they go to PostgreSQL, so it never makes the worker unready)."""
    db, redis = state.db, state.redis
    replica = db.replica
    pg, rd = await asyncio.gather(_timed(db.fetchval("select 1"), 1.0), _timed(redis.ping(), 1.0))
    checks = {"postgres": pg, "redis": rd}
    if replica is not None:
        # check() never raises: it leaves the lag (None when the replica did not answer) and the verdict.
        rp = await _timed(replica.check(), 1.5)
        if rp.ok and not replica.usable:
            rp = Check(ok=False, ms=rp.ms, error="lagging" if replica.lag is not None else "unreachable")
        checks["replica"] = rp
    if pg.ok and rd.ok:
        return Response(Ready(status="ok", checks=checks))
    failed = ", ".join(name for name, c in checks.items() if not c.ok)
    body = Problem(
        type="urn:jianwu:problem:not_ready", title="Service unavailable", status=503, code="not_ready",
        detail=f"Not ready: {failed} did not answer.", instance="/health/ready",
        extra={"checks": msgspec.to_builtins(checks)},
    )
    return Response(msgspec.json.encode(body), status_code=503, media_type=PROBLEM_JSON,  # type: ignore[arg-type]  # Response's media_type is typed as MediaType; ours is the problem+json string
                    headers={"Retry-After": "2"})


@get("/metrics", operation_id="metrics", tags=["health"], opt={"public": True}, summary="Prometheus metrics",
     include_in_schema=False)
async def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Prometheus text format, route-templated labels; only for a scraper holding JIANWU_METRICS_TOKEN (route
    names, volumes and error rates tell an outsider too much), 404 for anyone else, as if there were none."""
    token = request.app.state.settings.metrics_token
    given = request.headers.get("authorization", "")
    if not token or not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        raise ProblemError(ErrorCode.NOT_FOUND, "Not found.")
    return Response(metrics_payload(), media_type="text/plain; version=0.0.4; charset=utf-8")


health_routes = [live, ready, metrics]
