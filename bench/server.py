"""Start Jianwu exactly as `make run` does (`.venv/bin/jianwu serve`), on ports of the bench's own, and stop it."""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ("BenchServer", "foreign_env", "free_port")

ROOT = Path(__file__).resolve().parents[1]
# Never the ones `make run` (8000, 55432, 56379) or `make test` (55433, 56380) use.
DEFAULT_PORTS = {"api": 18000, "pg": 55442, "redis": 56389}


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
        return True
    return False


def free_port(preferred: int) -> int:
    """The preferred port when nothing listens there and it can be bound, else one the kernel picks."""
    if not _listening(preferred):
        with contextlib.suppress(OSError), socket.socket() as s:
            # As the servers do: a previous run's connections in TIME_WAIT must not count as "taken".
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", preferred))
            return preferred
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    # If the bench itself is killed outright, the server gets SIGTERM and stops what it started.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def foreign_env() -> dict[str, str]:
    """This process's environment without any Jianwu setting, so a started server is configured only by us."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("JIANWU_") and k not in {"DATABASE_URL", "REDIS_URL", "PORT", "PROMETHEUS_MULTIPROC_DIR"}}


@dataclass
class BenchServer:
    """`jianwu serve` as a child process with its own data directory and ports."""

    data_dir: Path
    log_path: Path
    api_port: int = 0
    pg_port: int = 0
    redis_port: int = 0
    extra_env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    workers: int | None = None
    exit_code: int | None = None
    clean_stop: bool | None = None
    startup_s: float | None = None
    stop_s: float | None = None

    def __post_init__(self) -> None:
        self.api_port = self.api_port or free_port(DEFAULT_PORTS["api"])
        self.pg_port = self.pg_port or free_port(DEFAULT_PORTS["pg"])
        self.redis_port = self.redis_port or free_port(DEFAULT_PORTS["redis"])

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def pg_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.pg_port}/jianwu"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def env(self) -> dict[str, str]:
        # Nothing of the caller's Jianwu configuration leaks in: the bench always runs the embedded servers,
        # with the default worker count, as `make run` does on a fresh checkout.
        return {
            **foreign_env(),
            "PORT": str(self.api_port),
            "JIANWU_HOST": "127.0.0.1",
            "JIANWU_DATA_DIR": str(self.data_dir),
            "JIANWU_EMBEDDED_PG_PORT": str(self.pg_port),
            "JIANWU_EMBEDDED_REDIS_PORT": str(self.redis_port),
            "JIANWU_ACCESS_LOG": "false",
            # The bench signs in thousands of times from one address; the per-address limit would refuse it.
            "JIANWU_LOGIN_IP_LIMIT": "1000000",
            # No periodic sweep: at its 5-minute marks it escalates the generated offices' overdue items (thousands
            # of reminders and notices, each fanned out) inside a worker, and whichever row ran then measured that.
            "JIANWU_SWEEP_INTERVAL": "0",
            **self.extra_env,
        }

    def start(self, timeout: float = 300.0) -> None:
        """Start `jianwu serve`; return once /health/ready answers 200."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for name, port in (("API", self.api_port), ("PostgreSQL", self.pg_port), ("Redis", self.redis_port)):
            if _listening(port):
                raise RuntimeError(f"bench: port {port} for {name} is taken; is another bench running?")
        jianwu = ROOT / ".venv" / "bin" / "jianwu"
        if not jianwu.exists():
            raise RuntimeError(f"bench: {jianwu} is missing; run `make install` first")
        started = time.monotonic()
        log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the child's lifetime
        log.write(f"\n==== bench start {time.strftime('%Y-%m-%d %H:%M:%S')} ====\n".encode())
        log.flush()
        # preexec_fn is safe here: the bench has started no thread yet.
        self.proc = subprocess.Popen(
            [str(jianwu), "serve"], cwd=ROOT, env=self.env(), stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent,  # noqa: PLW1509
        )
        log.close()
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.api_port}/health/ready"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bench: `jianwu serve` exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)
        else:
            self.stop()
            raise RuntimeError(f"bench: /health/ready did not answer 200 within {timeout:.0f}s:\n{self.log_tail()}")
        self.startup_s = time.monotonic() - started
        found = re.findall(r"with (\d+) workers", self.log_path.read_text(errors="replace"))
        self.workers = int(found[-1]) if found else None

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def stop(self, timeout: float = 60.0) -> None:
        """SIGTERM, as Ctrl-C would; check it exits 0 and leaves none of its ports listening."""
        if self.proc is None:
            return
        began = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                print("bench: server did not stop within 60s after SIGTERM; killing it", file=sys.stderr)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: only what it started
                self.proc.wait()
        self.stop_s = time.monotonic() - began
        self.exit_code = self.proc.returncode
        time.sleep(0.3)
        still = [p for p in (self.api_port, self.pg_port, self.redis_port) if _listening(p)]
        self.clean_stop = self.exit_code == 0 and not still
        if still:
            print(f"bench: ports still listening after stop: {still}", file=sys.stderr)
        self.proc = None
