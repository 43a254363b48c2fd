"""The asyncpg pool: bounded waits everywhere, msgspec for JSON columns, one transaction per command."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import asyncpg
import msgspec

if TYPE_CHECKING:
    from api.settings import Settings

__all__ = ("APP_ROLE", "WORKER_ROLE", "Database", "PooledConnection", "after_commit", "connect", "create_pool")

APP_ROLE = "jianwu_app"
# The delivery worker's role: jianwu_app's rights, its own name in PostgreSQL's statistics and logs.
WORKER_ROLE = "jianwu_worker"
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


def _encode_jsonb(value: Any) -> bytes:
    return b"\x01" + _encode(value)  # jsonb's binary format: a version byte, then the text


def _decode_jsonb(data: bytes) -> Any:
    return _decode(data[1:])


async def _init_connection(conn: asyncpg.Connection) -> None:
    # Binary codecs: a text-format codec would keep asyncpg from decoding rows of a table with a json column
    # inside a query (the single reads' arrays of related rows), and binary skips a str round trip.
    await conn.set_type_codec("json", schema="pg_catalog", encoder=_encode, decoder=_decode, format="binary")
    await conn.set_type_codec("jsonb", schema="pg_catalog", encoder=_encode_jsonb, decoder=_decode_jsonb,
                              format="binary")


# Settings PostgreSQL reports to the client whenever they change (ParameterStatus): SET ROLE to another role
# flips is_superuser (the login role is the migrating superuser), SET SESSION AUTHORIZATION changes
# session_authorization, SET search_path / TimeZone / application_name show directly.
_REPORTED = ("is_superuser", "session_authorization", "search_path", "TimeZone", "application_name", "DateStyle",
             "IntervalStyle", "default_transaction_read_only")
# Statements that may leave state on the session beyond their transaction (SET without LOCAL, RESET, LISTEN,
# cursors held open, session advisory locks, set_config): a connection that ran one gets the full reset.
_SESSION_STATE = re.compile(
    r"(^|;)\s*(set\s+(?!local\b)|reset\b|listen\b|declare\b|prepare\b)|set_config\s*\(|"
    r"pg_(try_)?advisory_lock(_shared)?\s*\(", re.IGNORECASE)


@functools.lru_cache(maxsize=4096)
def _leaves_session_state(query: str) -> bool:
    return _SESSION_STATE.search(query) is not None


class PooledConnection(asyncpg.Connection):
    """A pooled connection that notes when a statement may leave session state, so release can skip the reset
    round trip whenever none did."""

    __slots__ = ("_baseline", "_dirty")

    def _note(self, query: str) -> None:
        if _leaves_session_state(query):
            self._dirty = True

    async def execute(self, query: str, *args: Any, timeout: float | None = None) -> str:
        self._note(query)
        return await super().execute(query, *args, timeout=timeout)

    async def executemany(self, command: str, args: Any, *, timeout: float | None = None) -> None:
        self._note(command)
        return await super().executemany(command, args, timeout=timeout)

    async def fetch(self, query: str, *args: Any, **kwargs: Any) -> list[Any]:
        self._note(query)
        return await super().fetch(query, *args, **kwargs)

    async def fetchrow(self, query: str, *args: Any, **kwargs: Any) -> Any:
        self._note(query)
        return await super().fetchrow(query, *args, **kwargs)

    async def fetchval(self, query: str, *args: Any, **kwargs: Any) -> Any:
        self._note(query)
        return await super().fetchval(query, *args, **kwargs)

    async def fetchmany(self, query: str, args: Any, **kwargs: Any) -> list[Any]:
        self._note(query)
        return await super().fetchmany(query, args, **kwargs)

    def cursor(self, query: str, *args: Any, **kwargs: Any) -> Any:
        self._note(query)
        return super().cursor(query, *args, **kwargs)

    async def prepare(self, query: str, **kwargs: Any) -> Any:
        self._note(query)
        return await super().prepare(query, **kwargs)

    def reported(self) -> tuple[str | None, ...]:
        """The server-reported settings that a request must not change for the next one."""
        settings = self.get_settings()
        return tuple(getattr(settings, name, None) for name in _REPORTED)


async def _init_pooled(conn: PooledConnection) -> None:
    await _init_connection(conn)
    conn._dirty = False
    conn._baseline = conn.reported()


async def _reset(conn: PooledConnection) -> None:
    """Release without a round trip when nothing needs undoing.

    asyncpg has already rolled back an open transaction before this runs; transaction-local settings (SET
    LOCAL) and locks went with it. The full reset (advisory locks, CLOSE ALL, UNLISTEN, RESET ALL, which
    brings the role back to jianwu_app: one more round trip per request) runs only when a statement that may
    leave session state ran, or a reported setting changed (SET ROLE flips is_superuser)."""
    if conn._dirty or conn.reported() != conn._baseline:
        # RESET ALL leaves the role alone (role and session_authorization are exempt from it): reset them
        # explicitly, which brings back the role the connection started with (jianwu_app).
        await conn.execute(conn.get_reset_query() + "\nRESET SESSION AUTHORIZATION;\nRESET ROLE;")
        conn._dirty = False
        conn._baseline = conn.reported()


def _server_settings(settings: Settings) -> dict[str, str]:
    return {
        "application_name": "jianwu",
        "statement_timeout": str(settings.db_statement_timeout_ms),
        "idle_in_transaction_session_timeout": str(settings.db_idle_tx_timeout_ms),
        "timezone": "UTC",
    }


async def create_pool(settings: Settings, dsn: str, *, role: str = APP_ROLE) -> asyncpg.Pool:
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
        server_settings={**_server_settings(settings), "role": role},
        init=_init_pooled,
        reset=_reset,
        connection_class=PooledConnection,
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
