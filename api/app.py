"""The application factory: settings, lifespan (pool and Redis per worker), middleware, routes, errors."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from litestar import Litestar, Request, Router
from litestar.di import Provide
from litestar.plugins import PluginProtocol

from api.cache import create_redis
from api.console import console_handlers, template_config
from api.db import Database, Replica, create_pool
from api.docs import declare_operations, docs_assets_router, openapi_config
from api.errors import ErrorCode, ProblemError, exception_handlers
from api.headers import security_headers
from api.health import health_routes
from api.jsondepth import refuse_deep_json
from api.observability import ObservabilityMiddleware, configure_logging
from api.office_routes import office_routes
from api.settings import Settings, get_settings
from api.state import AppState
from auth import setup_auth
from auth.accounts import account_routes
from auth.admin import admin_controllers
from auth.audit import use_anchors
from auth.guards import authenticate, guard_without_handler_copy
from auth.role_requests import RoleRequestController
from auth.routes import auth_routes, jwks_route
from auth.sso import sso_routes
from modules.clocks.routes import CalendarController
from modules.monitoring.routes import MonitoringController
from modules.monitoring.sweeper import Sweeper
from modules.registry import ModuleSwitches, module_routers
from modules.routes import module_routes
from push.routes import push_routes

__all__ = ("create_app", "create_cli_app")

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Each shutdown step gets this long; SIGTERM must end the worker even when PostgreSQL or Redis does not answer.
_SHUTDOWN_STEP = 5.0
log = logging.getLogger("jianwu.app")


def _lifespan(settings: Settings) -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if not settings.database_url or not settings.redis_url:
            raise SystemExit("jianwu: DATABASE_URL and REDIS_URL must be set (`jianwu serve` sets them for you)")
        pool = await create_pool(settings, settings.database_url)
        redis = create_redis(settings, settings.redis_url)
        db = Database(pool, settings.db_acquire_timeout)
        if settings.database_replica_url:
            db.replica = Replica(await create_pool(settings, settings.database_replica_url, replica_of=db),
                                 settings.db_replica_max_lag, settings.db_acquire_timeout)
            db.replica.start()
        app.state.db = db
        app.state.redis = redis
        await setup_auth(app.state, settings, db, redis)
        app.state.modules = ModuleSwitches(db)
        sweeper = Sweeper(db, settings.sweep_interval)
        sweeper.start()
        # Everything built at start (routes, schemas, code) lives as long as the worker: moved out of the collector's
        # generations, a full collection walks only what requests made, not the whole application each time.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await sweeper.stop()
            if db.replica is not None:
                await db.replica.stop()
                if not await _bounded(db.replica.pool.close(), "replica pool"):
                    db.replica.pool.terminate()
            await app.state.revocations.stop()
            await _bounded(app.state.anchors.flush(), "audit anchors")  # the heads committed last, before Redis goes
            # This app's anchors write through the Redis client closed next: put back the ones in use before (a
            # process that runs several apps in turn, as the tests do, goes back to the one still running).
            use_anchors(app.state.anchors_before)
            await _bounded(redis.aclose(), "redis client")
            if not await _bounded(pool.close(), "database pool"):
                pool.terminate()  # connections still busy after the grace period are cut, so the worker can exit

    return lifespan


async def _bounded(step: Any, what: str, timeout: float = _SHUTDOWN_STEP) -> bool:
    """Run one shutdown step for at most `timeout` seconds; False (and a log line) when it did not finish."""
    try:
        await asyncio.wait_for(step, timeout)
        return True
    except Exception:  # shutting down: log and go on with the next step
        log.warning("shutdown: closing the %s did not finish cleanly within %.0f s", what, timeout, exc_info=True)
        return False


async def _require_json(request: Request[Any, Any, Any]) -> None:
    """Refuse a body whose media type the route does not take (415), before anything reads it."""
    if request.method not in _BODY_METHODS:
        return
    accepts: tuple[str, ...] = request.route_handler.opt.get("accepts", ("application/json",))
    length = request.headers.get("content-length")
    if length == "0" or (length is None and "transfer-encoding" not in request.headers):
        return
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type not in accepts and not (media_type.endswith("+json") and "application/json" in accepts):
        raise ProblemError(ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            f"Send the body as {' or '.join(accepts)}, not {media_type or 'an unnamed type'}.",
        )
    if media_type == "application/json" or media_type.endswith("+json"):
        await refuse_deep_json(request)


def _rate_limit_headers(headers: list[tuple[bytes, bytes]], scope: Any) -> None:
    """Partners see their budget on every answer, not only on the 429 (the guard leaves it in the scope)."""
    state = scope.get("state")
    budget = state.get("ratelimit_headers") if state else None
    if budget:
        headers.extend((k.lower().encode(), v.encode()) for k, v in budget.items())


def api_v1_router() -> Router:
    """Every API route, under /api/v1."""
    return Router(path="/api/v1", route_handlers=[*auth_routes, *admin_controllers, *module_routes, *module_routers(),
                                                  CalendarController, MonitoringController, *account_routes,
                                                  RoleRequestController, *office_routes, *sso_routes,
                                                  *push_routes])


def _provide_db(state: AppState) -> Database:
    return state.db


def _provide_redis(state: AppState) -> Any:
    return state.redis


def create_app(settings: Settings | None = None, *, plugins: Sequence[PluginProtocol] = ()) -> Litestar:
    """Build the ASGI application (one per worker process)."""
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    app = Litestar(
        route_handlers=[*health_routes, jwks_route, docs_assets_router(), api_v1_router(), *console_handlers()],
        guards=[authenticate],
        lifespan=[_lifespan(settings)],
        exception_handlers=exception_handlers,
        before_request=_require_json,
        dependencies={"db": Provide(_provide_db, sync_to_thread=False),
                      "redis": Provide(_provide_redis, sync_to_thread=False)},
        openapi_config=openapi_config(),
        template_config=template_config(),
        plugins=list(plugins),
        request_max_body_size=settings.max_body_bytes,
        logging_config=None,
        debug=False,
        state=_initial_state(settings),
    )
    declare_operations(app)
    guard_without_handler_copy()
    # Wrap the whole ASGI handler, not just the routes, so unmatched paths get a request id and a log line too.
    # It also runs the before-send hooks (on the response start only, where they act): Litestar's own before_send
    # wraps every message of every request in two more layers.
    app.asgi_handler = ObservabilityMiddleware(app.asgi_handler, settings.access_log,
                                               (_rate_limit_headers, security_headers))
    return app


def create_cli_app() -> Litestar:
    """The application as the `jianwu` command loads it, with our command groups added to Litestar's CLI."""
    # Only here: a worker serving requests never needs the CLI (click and our command groups: 1.7 MiB a worker).
    from api.cli import JianwuCLIPlugin

    return create_app(plugins=[JianwuCLIPlugin()])


def _initial_state(settings: Settings) -> AppState:
    return AppState({"settings": settings})
