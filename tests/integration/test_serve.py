"""`jianwu serve` (what `make run` runs): embedded servers, migrations, demo data, workers, clean stop, data kept."""

from __future__ import annotations

import json
import os
import re
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


def _quick_start_commands() -> list[str]:
    """The README's quick-start shell block, one command per entry (continuation lines joined, comments dropped)."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Quick start for app developers", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    commands: list[str] = []
    pending = ""
    for line in block.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip("\\").rstrip() + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            commands.append(pending)
            pending = ""
    return commands


def test_the_readme_quick_start_works_command_by_command(tmp_path: Path) -> None:
    """Each command of the quick start, run as written against `jianwu serve`, with the <placeholders> filled
    from the answers before it, as a reader would."""
    ports = {"api": _free_port(), "pg": _free_port(), "redis": _free_port()}
    proc = _start(tmp_path / ".data", ports)
    seen: dict[str, str] = {}
    env = dict(os.environ)
    try:
        _wait_ready(ports["api"], proc)
        for command in _quick_start_commands():
            # The reader's server listens on 8000 (`make run`); this one on a free port.
            command = command.replace("127.0.0.1:8000", f"127.0.0.1:{ports['api']}")
            if re.fullmatch(r"[A-Z_]+=\S+", command.strip()):  # a variable the later commands use
                name, value = command.strip().split("=", 1)
                env[name] = value
                continue
            filled = command
            for name, value in seen.items():
                filled = filled.replace(f"<{name}>", value)
            filled = filled.replace("<...>", seen.get("staff access_token", "<...>"))
            assert "<" not in filled.replace("<<", ""), f"no value yet for a placeholder in: {command}"
            run = subprocess.run(["bash", "-c", filled], cwd=tmp_path, capture_output=True, text=True, timeout=30,
                                 env=env, check=False)
            assert run.returncode == 0, (command, run.stderr)
            assert run.stdout.strip(), (command, "empty answer", run.stderr)
            answer = json.loads(run.stdout)
            assert not (isinstance(answer, dict) and answer.get("status", 200) >= 400), (command, answer)
            if isinstance(answer, dict):
                for key in ("receiptNo", "queryCode", "nextCursor"):
                    if answer.get(key):
                        seen[key] = answer[key]
                if "access_token" in answer and "client_id=staff-app" in command:
                    seen["staff access_token"] = answer["access_token"]
        assert {"receiptNo", "queryCode", "staff access_token"} <= set(seen)
    finally:
        _stop(proc)
