"""`jianwu serve`: start what is missing (embedded PostgreSQL and Redis), migrate, load demo data once, then run
the production server with several workers; on Ctrl-C or SIGTERM drain requests and stop everything it started."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from api import demo, migrate
from api.db import connect
from api.embedded import embedded_services, stop_process
from api.settings import master_secret
from auth.audit import written_by_a_command
from auth.keyring import ensure_signing_key
from auth.secretbox import SecretBox
from modules.clocks.calendars import calendar_warnings
from modules.clocks.store import today
from modules.registry import seed_permission_defaults

if TYPE_CHECKING:
    from api.settings import Settings

__all__ = ("ensure_database", "prepare_database", "serve", "services")


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


async def ensure_database(settings: Settings, server_url: str, name: str, *, fresh: bool = False) -> str:
    """Create database `name` on the server if missing (drop it first when `fresh`); return its URL."""
    conn = await connect(settings, server_url)
    try:
        if fresh:
            await conn.execute(f'drop database if exists "{name}" with (force)')
        if not await conn.fetchval("select exists (select 1 from pg_database where datname = $1)", name):
            await conn.execute(f'create database "{name}"')
    finally:
        await conn.close()
    return _with_database(server_url, name)


async def prepare_database(settings: Settings, url: str, *, demo_data: bool) -> list[str]:
    """Apply pending migrations and, outside production, the demo data the first time; return what was done."""
    done = []
    conn = await connect(settings, url)
    try:
        applied = await migrate.apply(conn)
        done += [f"migration {m.version:04d}_{m.name}" for m in applied]
        if await seed_permission_defaults(conn):
            done.append("module permission defaults")
        box = SecretBox(master_secret(settings))
        if await ensure_signing_key(conn, box):
            done.append("first signing key")
        if demo_data and settings.env != "production" and not await demo.is_loaded(conn):
            with written_by_a_command(box):
                await demo.load(conn, env=settings.env, box=box)
            done.append("demo data")
        for warning in await calendar_warnings(conn, today().year):
            _log(f"warning: {warning}")
    finally:
        await conn.close()
    return done


@contextlib.contextmanager
def services(settings: Settings, *, database: str = "jianwu") -> Iterator[tuple[str, str]]:
    """Yield (DATABASE_URL, REDIS_URL): the configured servers, or embedded ones started for the duration."""
    want_pg, want_redis = settings.database_url is None, settings.redis_url is None
    if not (want_pg or want_redis):
        yield settings.database_url, settings.redis_url  # type: ignore[misc]  # both URLs are set in this branch (neither is None)
        return
    with embedded_services(
        settings.data_path, pg_port=settings.embedded_pg_port, redis_port=settings.embedded_redis_port,
        postgres=want_pg, redis=want_redis,
    ) as (pg_url, redis_url):
        db_url = settings.database_url
        if pg_url is not None:
            db_url = asyncio.run(ensure_database(settings, pg_url, database))
        yield db_url, (redis_url or settings.redis_url)  # type: ignore[misc]  # the embedded server's URL or the configured one: never None here


def _log(message: str) -> None:
    """One line on stderr, prefixed like every line `jianwu serve` writes."""
    print(f"jianwu: {message}", file=sys.stderr, flush=True)


def serve(settings: Settings) -> int:
    """Run the whole stack in the foreground until interrupted; return the exit code."""
    started = time.monotonic()
    stop = {"signal": None}

    def on_signal(signum: int, _frame: object) -> None:
        stop["signal"] = signum  # type: ignore[assignment]  # the dict holds None until a signal number arrives

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with services(settings) as (db_url, redis_url):
        for step in asyncio.run(prepare_database(settings, db_url, demo_data=True)):
            _log(f"applied {step}")
        metrics_dir = settings.data_path / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis_url,
               "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
        cmd = [sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "api.app:create_app",
               "--host", settings.host, "--port", str(settings.port), "--workers", str(settings.workers),
               "--workers-kill-timeout", "30", "--respawn-failed-workers", "--no-ws", "--log-level", "warning"]
        # Its own session, so a terminal's Ctrl-C reaches only us and we decide the order of shutdown.
        server = subprocess.Popen(cmd, env=env, start_new_session=True)
        # The delivery worker beside the API; in development it sends to the local provider fakes.
        worker_env = {**env, "JIANWU_PUSH_FAKES": env.get("JIANWU_PUSH_FAKES", "0" if settings.env == "production"
                                                                       else "1")}
        worker_cmd = [sys.executable, "-m", "push"]
        worker = subprocess.Popen(worker_cmd, env=worker_env, start_new_session=True)
        worker_started = time.monotonic()
        _log(f"serving on http://{settings.host}:{settings.port} with {settings.workers} workers "
             f"(docs at /schema, ready at /health/ready) after {time.monotonic() - started:.1f}s")
        while stop["signal"] is None and server.poll() is None:
            time.sleep(0.2)
            if worker.poll() is not None and time.monotonic() - worker_started > 5:
                _log(f"delivery worker exited ({worker.returncode}); starting another")
                worker = subprocess.Popen(worker_cmd, env=worker_env, start_new_session=True)
                worker_started = time.monotonic()
        stop_process(worker, signal.SIGTERM, 15)
        if server.poll() is None:
            _log("stopping: draining in-flight requests")
            stop_process(server, signal.SIGTERM, 40)
        code = server.returncode
        _log("stopping embedded services" if settings.database_url is None or settings.redis_url is None
             else "stopped")
    return 0 if stop["signal"] is not None else (code or 1)
