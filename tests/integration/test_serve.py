"""`jianwu serve` (what `make run` runs): embedded servers, migrations, demo data, workers, clean stop, data kept."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(data_dir: Path, ports: dict[str, int]) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(JIANWU_DATA_DIR=str(data_dir), PORT=str(ports["api"]), JIANWU_WORKERS="2",
               JIANWU_EMBEDDED_PG_PORT=str(ports["pg"]), JIANWU_EMBEDDED_REDIS_PORT=str(ports["redis"]),
               JIANWU_ACCESS_LOG="false")
    jianwu = os.path.join(os.path.dirname(sys.executable), "jianwu")
    return subprocess.Popen([jianwu, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_ready(port: int, proc: subprocess.Popen[str], timeout: float = 90) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else "serve exited"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("not ready in time")


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    return out


def _processes_using(data_dir: Path) -> list[str]:
    found = subprocess.run(["pgrep", "-af", str(data_dir)], capture_output=True, text=True).stdout
    return [line for line in found.splitlines() if "pgrep" not in line]


def test_serve_starts_everything_stops_cleanly_and_keeps_data(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    ports = {"api": _free_port(), "pg": _free_port(), "redis": _free_port()}
    proc = _start(data_dir, ports)
    try:
        _wait_ready(ports["api"], proc)
        workers = httpx.get(f"http://127.0.0.1:{ports['api']}/health/live", timeout=2)
        assert workers.status_code == 200
    finally:
        out = _stop(proc)
    assert "applied migration 0001_offices" in out
    assert "applied demo data" in out
    assert proc.returncode == 0
    time.sleep(0.5)
    assert _processes_using(data_dir) == [], "a server outlived `jianwu serve`"
    assert (data_dir / "postgres" / "pgdata" / "PG_VERSION").exists()

    # A second start finds its data: nothing to migrate, demo data not loaded again.
    proc = _start(data_dir, ports)
    try:
        _wait_ready(ports["api"], proc)
    finally:
        out = _stop(proc)
    assert "applied" not in out
    assert _processes_using(data_dir) == []
