"""One drill's own stack: embedded PostgreSQL and Redis started *here* (so a drill can stop and start each of them
on its own), and `.venv/bin/jianwu serve` as a child process pointed at them with DATABASE_URL / REDIS_URL (so
serve starts nothing embedded: it migrates, loads the demo data and runs granian).

Everything lives under drills/out/<drill>/ (wiped at the start of each run), on free loopback ports. Every wait is
bounded. The servers carry a parent-death signal, so a drill killed outright leaves nothing running.

Spawning happens from the main thread only: PR_SET_PDEATHSIG fires when the *thread* that forked the child ends.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import copy
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import asyncpg

from api.embedded import EmbeddedPostgres, EmbeddedRedis
from bench.server import foreign_env

__all__ = ("OUT", "ROOT", "Stack", "free_port", "listening")

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "drills" / "out"
DATABASE = "jianwu"


def listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
        return True
    return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    # If the drill is killed outright, `jianwu serve` gets SIGTERM and stops granian.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _children(pid: int) -> list[int]:
    out: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                out += [int(x) for x in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    return out


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (a snapshot)."""
    out, todo = [], [pid]
    while todo and len(out) < 1000:
        for child in _children(todo.pop()):
            out.append(child)
            todo.append(child)
    return out


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class Stack:
    """PostgreSQL + Redis + `jianwu serve`, each started and stopped separately."""

    def __init__(self, name: str, *, workers: int = 2, env: dict[str, str] | None = None) -> None:
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("drills: build the stack in the main thread")
        self.name = name
        self.dir = OUT / name
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        self.data = self.dir / "data"
        self.log_path = self.dir / "server.log"
        self.pg = EmbeddedPostgres(self.dir / "postgres" / "pgdata", free_port())
        self.redis = EmbeddedRedis(self.dir / "redis", free_port())
        self.api_port = free_port()
        self.workers = workers
        self.serve: subprocess.Popen[bytes] | None = None
        self.serve_starts = 0
        self.extra_env = dict(env or {})  # settings of the drill's own, over the defaults below
        self.twin_of: Stack | None = None

    def twin(self, label: str) -> Stack:
        """A second `jianwu serve` on this stack's PostgreSQL and Redis (a second machine, as far as the API can
        tell): its own port, data directory and server log, the same settings. `close()` on it stops only its API."""
        other = copy.copy(self)
        other.extra_env = dict(self.extra_env)
        other.api_port = free_port()
        other.data = self.dir / f"data-{label}"
        other.log_path = self.dir / f"server-{label}.log"
        other.serve = None
        other.serve_starts = 0
        other.twin_of = self
        return other

    # ---- URLs and environment -------------------------------------------------------------------------------
    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def db_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.pg.port}/{DATABASE}"

    def env(self) -> dict[str, str]:
        return {
            **foreign_env(),
            "DATABASE_URL": self.db_url,
            "REDIS_URL": self.redis.url,
            "PORT": str(self.api_port),
            "JIANWU_ENV": "development",
            "JIANWU_HOST": "127.0.0.1",
            "JIANWU_DATA_DIR": str(self.data),
            "JIANWU_WORKERS": str(self.workers),
            "JIANWU_ACCESS_LOG": "false",  # errors are still logged, with their request id
            # Every drill signs in from 127.0.0.1, many times.
            "JIANWU_LOGIN_IP_LIMIT": "1000000",
            "JIANWU_OTP_IP_LIMIT": "1000000",
            **self.extra_env,
        }

    # ---- the whole stack ------------------------------------------------------------------------------------
    def start(self) -> None:
        began = time.monotonic()
        self.pg.start()
        self.redis.start()
        asyncio.run(self._create_database())
        self.start_api()
        print(f"  stack up in {time.monotonic() - began:.1f}s: API :{self.api_port}, PostgreSQL :{self.pg.port}, "
              f"Redis :{self.redis.port} (log drills/out/{self.name}/server.log)", flush=True)

    async def _create_database(self) -> None:
        conn = await asyncpg.connect(self.pg.url, timeout=10)
        try:
            if not await conn.fetchval("select exists (select 1 from pg_database where datname = $1)", DATABASE):
                await conn.execute(f'create database "{DATABASE}"')
        finally:
            await conn.close()

    def close(self) -> None:
        """Stop everything this stack started, whatever state it is in (bounded); a twin stops only its API."""
        with contextlib.suppress(Exception):
            self.stop_api()
        if self.twin_of is not None:
            return
        with contextlib.suppress(Exception):
            self.redis.stop()
        with contextlib.suppress(Exception):
            self.pg.stop()

    # ---- jianwu serve ---------------------------------------------------------------------------------------
    def start_api(self, timeout: float = 120.0) -> float:
        """Start `jianwu serve`; return the seconds until /health/ready answered 200."""
        if listening(self.api_port):
            raise RuntimeError(f"drills: API port {self.api_port} is taken")
        began = time.monotonic()
        with open(self.log_path, "ab") as log:
            log.write(f"\n==== drill start of jianwu serve #{self.serve_starts + 1} "
                      f"{time.strftime('%H:%M:%S')} ====\n".encode())
            log.flush()
            self.serve = subprocess.Popen(
                [str(ROOT / ".venv" / "bin" / "jianwu"), "serve"], cwd=ROOT, env=self.env(),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        self.serve_starts += 1
        deadline = began + timeout
        while time.monotonic() < deadline:
            if self.serve.poll() is not None:
                raise RuntimeError(f"drills: `jianwu serve` exited with {self.serve.returncode}:\n{self.log_tail()}")
            if self.ready():
                return time.monotonic() - began
            time.sleep(0.2)
        raise RuntimeError(f"drills: /health/ready not 200 within {timeout:.0f}s:\n{self.log_tail()}")

    def ready(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection((self.host, self.api_port), timeout=1) as s:
            s.settimeout(3)
            s.sendall(b"GET /health/ready HTTP/1.1\r\nHost: drill\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
        return False

    def granian_pid(self) -> int | None:
        if self.serve is None:
            return None
        kids = _children(self.serve.pid)
        return kids[0] if kids else None

    def api_pids(self) -> set[int]:
        """The supervisor, granian and its workers."""
        if self.serve is None:
            return set()
        return {self.serve.pid, *descendants(self.serve.pid)}

    def stop_api(self, timeout: float = 45.0) -> int | None:
        """SIGTERM, as Ctrl-C would; SIGKILL what is left after `timeout`. Returns the exit code."""
        if self.serve is None:
            return None
        proc, self.serve = self.serve, None
        granian = _children(proc.pid)
        below = descendants(proc.pid)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                print("  drills: jianwu serve did not stop within 45s of SIGTERM; killing it", flush=True)
                proc.kill()
                proc.wait()
        for pid in granian:  # granian runs in a session of its own: its group is only what it started
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
        self._reap(below)
        return proc.returncode

    def crash_api(self) -> dict[str, object]:
        """SIGKILL granian's process group (its workers) and the supervisor, as a crash would; wait until they
        are gone and the port is free. Returns what was killed."""
        assert self.serve is not None
        proc, self.serve = self.serve, None
        granian = _children(proc.pid)
        below = descendants(proc.pid)
        with contextlib.suppress(OSError):
            os.kill(proc.pid, signal.SIGKILL)
        for pid in granian:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
        for pid in below:  # anything that left the group
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        proc.wait(10)
        self._reap(below)
        return {"supervisor": proc.pid, "granian": granian, "processes": len(below) + 1}

    def _reap(self, pids: list[int], timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and (any(alive(p) for p in pids) or listening(self.api_port)):
            time.sleep(0.05)

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def log_errors(self) -> list[str]:
        """Lines of the server log at level ERROR (500s are logged there with their request id)."""
        if not self.log_path.exists():
            return []
        return [line for line in self.log_path.read_text(errors="replace").splitlines()
                if '"level":"error"' in line or '"level":"critical"' in line]

    def error_kinds(self) -> collections.Counter[str]:
        """The server log's errors, counted by message and the exception's last line."""
        kinds: collections.Counter[str] = collections.Counter()
        for line in self.log_errors():
            with contextlib.suppress(ValueError, AttributeError):
                rec = json.loads(line)
                last = (rec.get("exc") or "").strip().splitlines()[-1:] or [""]
                kinds[f"{rec.get('msg')}: {last[0][:160]}"] += 1
        return kinds

    # ---- PostgreSQL and Redis on their own --------------------------------------------------------------------
    def stop_postgres(self) -> None:
        self.pg.stop()

    def start_postgres(self) -> None:
        self.pg.start()

    def stop_redis(self) -> None:
        self.redis.stop()

    def start_redis(self) -> None:
        self.redis.start()

    async def sql(self, query: str, *args: object) -> list[asyncpg.Record]:
        """One query as the superuser, on a connection of its own (checks only)."""
        conn = await asyncpg.connect(self.db_url, timeout=10)
        try:
            return await conn.fetch(query, *args)
        finally:
            await conn.close()
