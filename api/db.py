"""The asyncpg pool: bounded waits everywhere, msgspec for JSON columns, one transaction per command."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import asyncpg
import msgspec

if TYPE_CHECKING:
    from api.settings import Settings

__all__ = ("Database", "after_commit", "connect", "create_pool")

APP_ROLE = "jianwu_app"
_encode = msgspec.json.encode
_decode = msgspec.json.decode
_after_commit: contextvars.ContextVar[list[Callable[[], Awaitable[None]]] | None] = contextvars.ContextVar(
    "after_commit", default=None)


def after_commit(callback: Callable[[], Awaitable[None]]) -> bool:
    """Run `callback` once the current `Database.transaction()` has committed (never if it rolls back).
    False when there is no such transaction (a CLI or test connection): the caller decides what to do then."""
    pending = _after_commit.get()
    if pending is None:
        return False
    pending.append(callback)
    return True


async def _init_connection(conn: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(
            name, schema="pg_catalog", encoder=lambda v: _encode(v).decode(), decoder=_decode, format="text"
        )


def _server_settings(settings: Settings) -> dict[str, str]:
    return {
        "application_name": "jianwu",
        "statement_timeout": str(settings.db_statement_timeout_ms),
        "idle_in_transaction_session_timeout": str(settings.db_idle_tx_timeout_ms),
        "timezone": "UTC",
    }


async def create_pool(settings: Settings, dsn: str) -> asyncpg.Pool:
    """Open the pool for one worker without connecting yet, so a worker starts (and answers 503) while
    PostgreSQL is down, and recovers by itself when it is back."""
    return await asyncpg.create_pool(
        dsn,
        min_size=0,
        max_size=settings.db_pool_max,
        timeout=settings.db_connect_timeout,
        command_timeout=settings.db_command_timeout,
        max_inactive_connection_lifetime=300,
        # The application works as jianwu_app, which may append to the audit trail but never change it.
        server_settings={**_server_settings(settings), "role": APP_ROLE},
        init=_init_connection,
    )


async def connect(settings: Settings, dsn: str) -> asyncpg.Connection:
    """One connection outside the pool, set up like pooled ones (CLI, migrations, tests)."""
    conn = await asyncpg.connect(
        dsn, timeout=settings.db_connect_timeout, command_timeout=settings.db_command_timeout,
        server_settings=_server_settings(settings),
    )
    await _init_connection(conn)
    return conn


class Database:
    """The handle handlers use: a connection for reads, a transaction for every command."""

    __slots__ = ("acquire_timeout", "pool")

    def __init__(self, pool: asyncpg.Pool, acquire_timeout: float) -> None:
        self.pool = pool
        self.acquire_timeout = acquire_timeout

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection, waited for at most the acquire timeout."""
        async with self.pool.acquire(timeout=self.acquire_timeout) as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection inside one transaction: all of a command's writes land, or none do."""
        pending: list[Callable[[], Awaitable[None]]] = []
        token = _after_commit.set(pending)
        try:
            async with self.pool.acquire(timeout=self.acquire_timeout) as conn, conn.transaction():
                yield conn
        finally:
            _after_commit.reset(token)
        for callback in pending:
            await callback()

    async def fetchval(self, sql: str, *args: Any) -> Any:
        """Run one read and return its first value."""
        async with self.connection() as conn:
            return await conn.fetchval(sql, *args)
