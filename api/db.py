"""The asyncpg pool: bounded waits everywhere, msgspec for JSON columns, one transaction per command."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import operator
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

import asyncpg
import msgspec

from api.errors import DB_DOWN_ERRORS, ErrorCode, ProblemError

if TYPE_CHECKING:
    from api.settings import Settings

__all__ = ("APP_ROLE", "WORKER_ROLE", "Database", "PooledConnection", "Replica", "after_commit", "atomic",
           "connect", "create_pool", "held_connection", "hold_write", "holding_writes", "holds_writes", "opaque",
           "primary_of", "send_held_writes", "with_held_writes")

APP_ROLE = "jianwu_app"
# The delivery worker's role: jianwu_app's rights, its own name in PostgreSQL's statistics and logs.
WORKER_ROLE = "jianwu_worker"
log = logging.getLogger("jianwu.db")
_encode = msgspec.json.encode
_decode = msgspec.json.decode
_after_commit: contextvars.ContextVar[list[Callable[[], Awaitable[None]]] | None] = contextvars.ContextVar(
    "after_commit", default=None)


# The pooled connection the running task holds, with that task. A read the task asks for meanwhile (a cached
# look-up loading, a helper given the Database) reuses it: a second acquire while holding one deadlocks the pool
# once every connection is held by a request waiting for another (all of them answered 503 after the acquire
# timeout, the 5-second stalls of the creation soak). Tasks started meanwhile copy the variable, hence the task.
_held: contextvars.ContextVar[tuple[asyncio.Task[Any] | None, asyncpg.Connection] | None] = contextvars.ContextVar(
    "jianwu_held_connection", default=None)


def opaque(param: str) -> str:
    """SQL: a statement parameter (e.g. "$6::uuid") the planner cannot look into, written as an InitPlan."""
    # PostgreSQL plans a prepared statement afresh for its first five runs, then keeps a generic plan only if that
    # costs no more than the fresh ones did. A value the planner can see (a null that prunes a branch, a frequent
    # value that makes a LIMIT look cheap) makes the fresh plans look cheaper, and the statement is planned again
    # on every run (complaint intake was, on a database grown by many bench runs: 0.72 ms a filing, 0.41 once kept).
    # Behind an InitPlan the value is unknown to every plan alike, so the generic plan wins after five runs.
    return f"(select {param})"


# Writes nothing in the transaction reads again (an audit row), held back by a command so they go out with its
# last statement as data-modifying CTEs: one round trip fewer per command. Only on that command's connection, and
# never across a savepoint (a savepoint rolled back must take its writes with it).
_held_writes: contextvars.ContextVar[tuple[asyncpg.Connection, list[tuple[str, tuple[Any, ...]]]] | None] = (
    contextvars.ContextVar("jianwu_held_writes", default=None))
_PARAM = re.compile(r"\$(\d+)")


@contextlib.contextmanager
def holding_writes(conn: asyncpg.Connection) -> Iterator[None]:
    """Inside, `hold_write` on `conn` keeps writes back for `with_held_writes` to send with the last statement;
    the caller must send them (or leave by an error, which rolls the transaction back)."""
    token = _held_writes.set((conn, []))
    try:
        yield
    finally:
        _held_writes.reset(token)


def hold_write(conn: asyncpg.Connection, sql: str, *args: Any) -> bool:
    """Keep a write back for the command's last statement; False when nothing holds writes on `conn` (then the
    caller runs it itself)."""
    held = _held_writes.get()
    if held is None or held[0] is not conn:
        return False
    held[1].append((sql, args))
    return True


def holds_writes(conn: asyncpg.Connection) -> bool:
    """Whether writes are held back on `conn` now."""
    held = _held_writes.get()
    return held is not None and held[0] is conn and bool(held[1])


async def send_held_writes(conn: asyncpg.Connection) -> None:
    """Run the writes held on `conn` now, each on its own (before a savepoint, or a read they must precede)."""
    held = _held_writes.get()
    if held is None or held[0] is not conn:
        return
    writes, held[1][:] = list(held[1]), []
    for sql, args in writes:
        await conn.execute(sql, *args)


def _renumbered(sql: str, offset: int) -> str:
    return _PARAM.sub(lambda m: f"${int(m.group(1)) + offset}", sql)


def with_held_writes(conn: asyncpg.Connection, sql: str, args: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
    """`sql` (one statement, parameters $1..$n) with the writes held on `conn` in front of it as CTEs, and its
    arguments; the held writes are then gone from the hold."""
    held = _held_writes.get()
    if held is None or held[0] is not conn or not held[1]:
        return sql, args
    ctes, all_args = [], list(args)
    for n, (write, write_args) in enumerate(held[1]):
        ctes.append(f"held_{n} as ({_renumbered(write, len(all_args))})")
        all_args.extend(write_args)
    held[1].clear()
    return f"with {', '.join(ctes)} {sql}", tuple(all_args)


def held_connection() -> asyncpg.Connection | None:
    """The pooled connection the running task holds, if any."""
    held = _held.get()
    if held is None or held[0] is not asyncio.current_task():
        return None
    return held[1]


def after_commit(callback: Callable[[], Awaitable[None]]) -> bool:
    """Run `callback` once the current `atomic()` block (or `Database.transaction()`) has committed, never if it
    rolls back. False when there is no such block (a bare connection): the caller decides what to do then."""
    pending = _after_commit.get()
    if pending is None:
        return False
    pending.append(callback)
    return True


@contextlib.asynccontextmanager
async def atomic(conn: asyncpg.Connection) -> AsyncIterator[asyncpg.Connection]:
    """`conn.transaction()` that also runs the `after_commit` callbacks registered inside it once it commits.
    Nested in another such block on the same connection it is a savepoint, and its callbacks wait for the outer
    commit; a savepoint rolled back drops its own, so nothing announces a write that never landed."""
    outer = _after_commit.get()
    if outer is not None and conn.is_in_transaction():
        mark = len(outer)
        await send_held_writes(conn)
        token = _held_writes.set(None)
        try:
            async with conn.transaction():
                yield conn
        except BaseException:
            del outer[mark:]
            raise
        finally:
            _held_writes.reset(token)
        return
    async with _collecting(), conn.transaction():
        yield conn


@contextlib.asynccontextmanager
async def _collecting() -> AsyncIterator[None]:
    """Gather the `after_commit` callbacks of the block inside; run them once it ended without an error."""
    pending: list[Callable[[], Awaitable[None]]] = []
    token = _after_commit.set(pending)
    try:
        yield
    finally:
        _after_commit.reset(token)
    for callback in pending:
        await callback()


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

    __slots__ = ("_baseline", "_dirty", "_reported")

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

    def reported(self) -> Any:
        """The server-reported settings that a request must not change for the next one."""
        return self._reported(self.get_settings())


def _settings_reader(settings: Any) -> Callable[[Any], Any]:
    """A function reading the reported settings this server sends (search_path only from PostgreSQL 18 on) off
    asyncpg's ConnectionSettings, run on every release."""
    names = tuple(name for name in _REPORTED if hasattr(settings, name))
    lookup = getattr(type(settings), "__getattr__", None)
    if lookup is None:  # another asyncpg's settings: plain attributes
        return operator.attrgetter(*names)
    # The class answers these names only through __getattr__, after its regular look-up has failed and raised
    # inside: asking __getattr__ directly costs 1.1 µs for the eight names, where attrgetter cost 6.3.
    return lambda s: [lookup(s, name) for name in names]


async def _init_pooled(conn: PooledConnection) -> None:
    await _init_connection(conn)
    conn._dirty = False
    settings = conn.get_settings()
    conn._reported = _settings_reader(settings)
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


def _quiet(proxy: Any) -> bool:
    """Whether giving this pooled connection back needs no round trip (nor closing it): then asyncpg's release
    never waits, so no cancellation can cut it short. The conditions are the ones asyncpg's holder checks."""
    try:
        conn, holder = proxy._con, proxy._holder
        protocol = conn._protocol
        return (conn._dirty is False and conn._top_xact is None and not protocol.is_in_transaction()
                and not protocol._is_cancelling() and not conn.is_closed()
                and protocol.queries_count < holder._max_queries and holder._generation == holder._pool._generation
                and conn.reported() == conn._baseline)
    except AttributeError:  # another asyncpg's internals: its own release, which is always right
        return False


# The holder steps a quiet release takes in place of PoolConnectionHolder.release (checked once: an asyncpg without
# them takes its own release every time).
_IN_PLACE = all(hasattr(asyncpg.pool.PoolConnectionHolder, name) for name in ("_release", "_setup_inactive_callback"))


async def _release(pool: asyncpg.Pool, proxy: Any) -> None:
    """Give a connection back to its pool. asyncpg's Pool.release shields the work in a task of its own, so a
    cancelled request cannot leave it half done; its holder bounds the work with a timeout, checks again what
    `_quiet` checks and runs the reset hook, which checks the reported settings a second time. When the work
    cannot wait (`_quiet`), none of that can matter, and what is left runs here: the listener check, the clean-up
    asyncpg's own reset does on a connection outside a transaction, and the holder's return to the pool with its
    inactivity timer. An acquire and release through Database.connection(): 28 -> 18 µs."""
    if not (_IN_PLACE and _quiet(proxy)):
        await pool.release(proxy)
        return
    conn, holder = proxy._con, proxy._holder
    conn._on_release()
    conn._listeners.clear()
    conn._log_listeners.clear()
    holder._timeout = None
    holder._release()
    holder._setup_inactive_callback()


def _server_settings(settings: Settings) -> dict[str, str]:
    return {
        "application_name": "jianwu",
        "statement_timeout": str(settings.db_statement_timeout_ms),
        "idle_in_transaction_session_timeout": str(settings.db_idle_tx_timeout_ms),
        "timezone": "UTC",
    }


class ReplicaConnection(PooledConnection):
    """A pooled connection to the read replica, knowing the primary a read must write through (`primary_of`)."""

    __slots__ = ("primary",)
    primary: Database


async def _init_replica(conn: ReplicaConnection, *, primary: Database) -> None:
    await _init_pooled(conn)
    conn.primary = primary


def primary_of(conn: Any) -> Database | None:
    """The primary behind a read replica's connection, None for any other connection: a read routed to the
    replica that must write first (the clock sweep) writes through the primary, which the replica cannot."""
    return getattr(conn, "primary", None)  # through asyncpg's pool proxy, which forwards to the connection


async def create_pool(settings: Settings, dsn: str, *, role: str = APP_ROLE,
                      replica_of: Database | None = None) -> asyncpg.Pool:
    """Open the pool for one worker without connecting yet, so a worker starts (and answers 503) while
    PostgreSQL is down, and recovers by itself when it is back. `replica_of`: this pool is a read replica's
    of that primary (same settings, codecs and reset)."""
    init: Any = _init_pooled if replica_of is None else functools.partial(_init_replica, primary=replica_of)
    return await asyncpg.create_pool(
        dsn,
        min_size=0,
        max_size=settings.db_pool_max,
        timeout=settings.db_connect_timeout,
        command_timeout=settings.db_command_timeout,
        max_inactive_connection_lifetime=300,
        # The application works as jianwu_app, which may append to the audit trail but never change it.
        server_settings={**_server_settings(settings), "role": role},
        init=init,
        reset=_reset,
        connection_class=PooledConnection if replica_of is None else ReplicaConnection,
    )


async def connect(settings: Settings, dsn: str) -> asyncpg.Connection:
    """One connection outside the pool, set up like pooled ones (CLI, migrations, tests)."""
    conn = await asyncpg.connect(
        dsn, timeout=settings.db_connect_timeout, command_timeout=settings.db_command_timeout,
        server_settings=_server_settings(settings),
    )
    await _init_connection(conn)
    return conn


# Seconds of replay lag on the standby: 0 when it has replayed all it received and still streams from the
# primary; otherwise (replay paused or behind, or the stream cut) the age of the last transaction it replayed.
# Not in recovery (a promoted standby, or a primary named as replica): nothing to lag behind.
_LAG_SQL = """
select case
  when not pg_is_in_recovery() then 0
  when exists (select 1 from pg_stat_wal_receiver) and pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() then 0
  else extract(epoch from now() - pg_last_xact_replay_timestamp())::float8 end
"""


class Replica:
    """A streaming read replica's pool, and whether reads may go there now: it answers and lags at most
    `max_lag` seconds. A watcher checks once a second; a failed acquire takes it out of use at once."""

    __slots__ = ("_task", "acquire_timeout", "check_timeout", "lag", "max_lag", "pool", "usable")

    def __init__(self, pool: asyncpg.Pool, max_lag: float, acquire_timeout: float) -> None:
        self.pool = pool
        self.max_lag = max_lag
        # A read waits this long for the replica before it goes to the primary instead.
        self.acquire_timeout = min(acquire_timeout, 0.5)
        self.check_timeout = 1.0
        self.lag: float | None = None
        self.usable = False  # until the first check: reads go to the primary meanwhile
        self._task: asyncio.Task[None] | None = None

    async def lag_seconds(self) -> float | None:
        """The standby's replay lag now (None: it cannot tell, having replayed nothing yet)."""
        async with self.pool.acquire(timeout=self.check_timeout) as conn:
            return await conn.fetchval(_LAG_SQL)

    async def check(self) -> bool:
        """Measure the lag once and decide whether reads may use the replica."""
        try:
            self.lag = await asyncio.wait_for(self.lag_seconds(), self.check_timeout)
        except Exception as exc:  # noqa: BLE001  any failure takes the replica out of use, never the worker down
            if self.usable:
                log.warning("read replica out of use: %s", type(exc).__name__)
            self.lag, self.usable = None, False
            return False
        usable = self.lag is not None and self.lag <= self.max_lag
        if usable != self.usable:
            log.log(logging.INFO if usable else logging.WARNING, "read replica %s (lag %s s)",
                    "in use" if usable else "out of use: lagging", self.lag)
        self.usable = usable
        return usable

    async def _watch(self, interval: float) -> None:
        while True:
            await self.check()
            await asyncio.sleep(interval)

    def start(self, interval: float = 1.0) -> None:
        """Check the replica every `interval` seconds in the background."""
        self._task = asyncio.get_running_loop().create_task(self._watch(interval), name="replica-watch")

    async def stop(self) -> None:
        """Stop the watcher (the pool is closed by the owner)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def acquire(self) -> Any:
        """A replica connection, or None (and the replica out of use until the next check) when it fails."""
        try:
            return await _acquire(self.pool, self.acquire_timeout)
        except (*DB_DOWN_ERRORS, asyncpg.PostgresError) as exc:  # acquiring only connects: any refusal is "down"
            log.warning("read replica unreachable, reading from the primary: %s", type(exc).__name__)
            self.usable = False
            return None


# The holder's parts an acquire of an idle connection uses in place of Pool.acquire (checked once, as _IN_PLACE):
# an asyncpg without any of them takes its own acquire every time.
_TAKE_IN_PLACE = _IN_PLACE and all(hasattr(asyncpg.pool.PoolConnectionHolder, name) for name in (
    "_con", "_generation", "_maybe_cancel_inactive_callback", "_proxy", "_in_use", "_timeout"))


def _take_idle(pool: asyncpg.Pool) -> Any:
    """The pool's next connection when it is idle and open, taken without waiting; else None.

    asyncpg's acquire runs four nested coroutines (its context, the pool's acquire, the queue's get, the holder's
    acquire), which for an idle open connection never wait: what they do then is done here, in the holder's own
    order (cancel the inactivity timer, wrap the connection in a proxy, mark the holder in use)."""
    try:
        queue = pool._queue
        if pool._closing or pool._setup is not None or not queue.qsize():
            return None
        # asyncpg's queue is last in, first out (the connection used last is the one handed out next).
        holder = queue._queue[-1 if isinstance(queue, asyncio.LifoQueue) else 0]
        conn = holder._con
        if conn is None or conn.is_closed() or holder._generation != pool._generation:
            return None
    except (AttributeError, IndexError):  # another asyncpg's internals: its own acquire
        return None
    queue.get_nowait()
    holder._maybe_cancel_inactive_callback()
    holder._proxy = proxy = asyncpg.pool.PoolConnectionProxy(holder, conn)
    holder._in_use = pool._loop.create_future()
    holder._timeout = None
    return proxy


async def _acquire(pool: asyncpg.Pool, timeout: float) -> Any:
    """A connection of the pool, waited for at most `timeout` seconds (TimeoutError past it)."""
    proxy = _take_idle(pool) if _TAKE_IN_PLACE else None
    if proxy is not None:
        return proxy  # 20 -> 12 µs an acquire and release on this bench's machine
    # asyncpg's acquire(timeout=...) runs each acquire as a task of its own (its wait_for); a deadline around the
    # plain acquire bounds the wait the same way, and asyncpg puts the connection back if the wait is cancelled.
    # About 15 µs less per request on this bench's machine.
    async with asyncio.timeout(timeout):
        return await pool.acquire()


class _Lease:
    """`async with`: a pooled connection for the running task, released when the block ends; the task's own when
    it already holds one (see _held). What `Database.connection()` and `transaction()` hold: written as a class
    rather than nested generator-based context managers, since every request goes through it (about 15 µs less)."""

    __slots__ = ("_conn", "_pool", "_timeout", "_token")

    def __init__(self, pool: asyncpg.Pool, timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout
        self._conn: Any = None

    async def __aenter__(self) -> Any:
        held = held_connection()
        if held is not None:
            return held  # never a second connection for one task
        conn = await _acquire(self._pool, self._timeout)
        self._token = _held.set((asyncio.current_task(), conn))
        self._conn = conn
        return conn

    async def __aexit__(self, *exc: object) -> None:
        conn = self._conn
        if conn is not None:
            self._conn = None
            _held.reset(self._token)
            await _release(self._pool, conn)


class Database:
    """The handle handlers use: a connection for reads, a transaction for every command, and `read()` for reads
    that may be served by the read replica.

    Which reads go to `read()`: office-wide lists, statistics, flow monitoring and dashboards, which show many
    people's work, are already stale the moment they render, and are the heavy reads. Everything that shows a
    caller what they have just written stays on `connection()`: single-item reads (the Location of a 201 leads
    there), "my ..." lists, admin lists after an admin's change, and anything read inside a command. A replica
    lags by up to JIANWU_DB_REPLICA_MAX_LAG seconds; beyond that, or while it is down, `read()` is the primary."""

    __slots__ = ("acquire_timeout", "pool", "replica")

    def __init__(self, pool: asyncpg.Pool, acquire_timeout: float, replica: Replica | None = None) -> None:
        self.pool = pool
        self.acquire_timeout = acquire_timeout
        self.replica = replica

    def connection(self) -> _Lease:
        """A pooled connection, waited for at most the acquire timeout (`async with`)."""
        return _Lease(self.pool, self.acquire_timeout)

    def read(self) -> contextlib.AbstractAsyncContextManager[asyncpg.Connection]:
        """A connection for a read that may be a few seconds stale: the replica's while it is in use, else the
        primary's. Only reads: the replica refuses writes (a sweep a read needs goes through `primary_of`)."""
        replica = self.replica
        if replica is None or not replica.usable or held_connection() is not None:
            # The primary's, as connection() gives it (inside a command: the command's own connection, which also
            # sees what it wrote), without a generator-based context manager around it on every list.
            return _Lease(self.pool, self.acquire_timeout)
        return self._replica_read(replica)

    @contextlib.asynccontextmanager
    async def _replica_read(self, replica: Replica) -> AsyncIterator[asyncpg.Connection]:
        conn = await replica.acquire()
        if conn is None:  # the replica failed just now: the primary's
            async with self.connection() as conn:
                yield conn
            return
        try:
            yield conn
        except DB_DOWN_ERRORS:
            replica.usable = False  # lost in the middle of a read: the next ones go to the primary at once
            raise
        except asyncpg.SerializationError as exc:
            # On a standby, 40001 is a read cancelled by replay (a conflict with recovery): try again, not a 500.
            raise ProblemError(ErrorCode.DATABASE_UNAVAILABLE, "The read was interrupted; try again.",
                               headers={"Retry-After": "1"}) from exc
        finally:
            await _release(replica.pool, conn)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection inside one transaction: all of a command's writes land, or none do."""
        # The callbacks run once the connection is back in the pool: none of them needs it.
        if held_connection() is not None:
            # A command's own transaction must not wait for a second connection while holding one (see _held);
            # refusing here makes such a path fail its first test instead of stalling the pool under load.
            raise RuntimeError("Database.transaction() inside a block that holds a pooled connection: "
                               "use atomic(conn) on the connection in hand")
        async with _collecting(), _Lease(self.pool, self.acquire_timeout) as conn, conn.transaction():
            yield conn

    async def fetchval(self, sql: str, *args: Any) -> Any:
        """Run one read and return its first value."""
        async with self.connection() as conn:
            return await conn.fetchval(sql, *args)
