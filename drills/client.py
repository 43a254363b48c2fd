"""What the drills send: single timed requests (bench.http1's client), steady probes in a thread, background load
from bench.loadgen in a process of its own, sign-ins, and the verdict that prints the counts and the exit code.

Every loop here is bounded in count and in time, and everything goes to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ctypes
import json
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bench.http1 import Http1, build_request, fetch_json, form

if TYPE_CHECKING:
    from pathlib import Path

    from drills.stack import Stack

__all__ = ("Answer", "Load", "Probe", "Prober", "Verdict", "call", "citizen_token", "dense", "staff_token")

HOST = "127.0.0.1"
STAFF = ("jinshan.prosecutor", "jianwu-demo")
CATALOG = "/api/v1/offices/jinshan/complaint-catalog"


# ---- one request -------------------------------------------------------------------------------------------------
@dataclass
class Answer:
    """One request's outcome: a status (None when no answer came), headers, body, timings (monotonic)."""

    status: int | None
    headers: dict[str, str]
    body: bytes
    error: str | None
    sent: float
    done: float

    @property
    def latency(self) -> float:
        return self.done - self.sent

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def code(self) -> str | None:
        data = self.json()
        return data.get("code") if isinstance(data, dict) else None


class _HeadTap:
    """Wraps the connection's StreamReader to keep the response head that bench.http1 reads and drops."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader
        self.head = b""

    async def readuntil(self, separator: bytes = b"\n") -> bytes:
        data = await self._reader.readuntil(separator)
        if separator == b"\r\n\r\n":
            self.head = data
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)


def _headers(head: bytes) -> dict[str, str]:
    out = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        if sep:
            out[name.strip().lower()] = value.strip()
    return out


async def call(port: int, method: str, path: str, headers: dict[str, str] | None = None, body: bytes | None = None,
               *, timeout: float = 15.0) -> Answer:
    """One request on a fresh connection, with a hard time limit; never raises for network trouble."""
    sent = time.monotonic()
    conn = Http1(HOST, port)
    try:
        await conn.connect(timeout=min(timeout, 3.0))
        tap = _HeadTap(conn.reader)  # type: ignore[arg-type]
        conn.reader = tap  # type: ignore[assignment]
        status, raw, _ = await asyncio.wait_for(
            conn.request(build_request(method, path, f"{HOST}:{port}", headers, body)), timeout)
        return Answer(status, _headers(tap.head), raw, None, sent, time.monotonic())
    except Exception as exc:  # noqa: BLE001 - any failure (socket, timeout, garbled answer) is "no answer"
        return Answer(None, {}, b"", type(exc).__name__, sent, time.monotonic())
    finally:
        conn.abort()


# ---- sign-ins ----------------------------------------------------------------------------------------------------
async def staff_token(stack: Stack, username: str = STAFF[0], password: str = STAFF[1]) -> str:
    headers, body = form({"grant_type": "password", "client_id": "staff-app", "username": username,
                          "password": password})
    status, data = await fetch_json(HOST, stack.api_port, "POST", "/api/v1/auth/token", headers=headers, body=body)
    if status != 200 or not isinstance(data, dict):
        raise RuntimeError(f"drills: staff sign-in answered {status}: {data}")
    return data["access_token"]


async def citizen_token(stack: Stack) -> str:
    """A brand-new citizen through the code flow (the code is read from the development SMS outbox)."""
    phone = f"158{uuid.uuid4().int % 10**8:08d}"
    status, data = await fetch_json(HOST, stack.api_port, "POST", "/api/v1/auth/otp",
                                    headers={"Content-Type": "application/json"},
                                    body=json.dumps({"phone": phone}).encode())
    if status != 202:
        raise RuntimeError(f"drills: OTP request answered {status}: {data}")
    outbox: Path = stack.data / "sms-outbox.jsonl"
    lines = [json.loads(x) for x in outbox.read_text().splitlines() if phone in x]
    code = re.search(r"\d{6}", lines[-1]["text"]).group()  # type: ignore[union-attr]
    headers, body = form({"grant_type": "urn:jianwu:otp", "client_id": "public-app", "phone": phone, "code": code})
    status, data = await fetch_json(HOST, stack.api_port, "POST", "/api/v1/auth/token", headers=headers, body=body)
    if status != 200 or not isinstance(data, dict):
        raise RuntimeError(f"drills: citizen sign-in answered {status}: {data}")
    return data["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ---- steady probes -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Probe:
    name: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "GET"


class Prober:
    """Sends each probe every `interval` seconds on a fresh connection (so both workers are reached), from a
    thread of its own, and keeps every answer with its timestamps. Bounded: `limit_s` seconds at most, one
    request per probe in flight at a time, each limited to `timeout` seconds."""

    def __init__(self, port: int, probes: list[Probe], *, interval: float = 0.25, timeout: float = 15.0,
                 limit_s: float = 90.0) -> None:
        self.port = port
        self.probes = probes
        self.interval = interval
        self.timeout = timeout
        self.limit_s = limit_s
        self.answers: dict[str, list[Answer]] = collections.defaultdict(list)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), name="prober", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(self.timeout + 5)

    def of(self, name: str) -> list[Answer]:
        with self._lock:
            return list(self.answers[name])

    async def _one(self, probe: Probe) -> None:
        answer = await call(self.port, probe.method, probe.path, probe.headers, timeout=self.timeout)
        with self._lock:
            self.answers[probe.name].append(answer)

    async def _run(self) -> None:
        end = time.monotonic() + self.limit_s
        running: dict[str, asyncio.Task[None]] = {}
        for _ in range(int(self.limit_s / self.interval) + 1):
            if self._stop.is_set() or time.monotonic() > end:
                break
            for probe in self.probes:
                task = running.get(probe.name)
                if task is None or task.done():
                    running[probe.name] = asyncio.create_task(self._one(probe))
            await asyncio.sleep(self.interval)
        pending = [t for t in running.values() if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=self.timeout + 1)

    def recovered_at(self, name: str, since: float, ok: int = 200) -> float | None:
        """When the probe started answering `ok` for good after `since` (the first answer of the final run of
        `ok` answers); None when its last answer is not `ok`."""
        answers = [a for a in self.of(name) if a.sent >= since]
        first = None
        for a in answers:
            if a.status == ok:
                first = a.done if first is None else first
            else:
                first = None
        return first


async def _dense(port: int, probe: Probe, duration: float, every: float, timeout: float) -> list[Answer]:
    tasks = []
    for _ in range(int(duration / every)):
        tasks.append(asyncio.create_task(call(port, probe.method, probe.path, probe.headers, timeout=timeout)))
        await asyncio.sleep(every)
    return list(await asyncio.gather(*tasks))


def dense(port: int, probe: Probe, *, duration: float = 1.5, every: float = 0.02,
          timeout: float = 15.0) -> list[Answer]:
    """A probe sent every `every` seconds for `duration` (without waiting for answers): a close look at the
    first moments of an outage. Bounded: duration / every requests."""
    return asyncio.run(_dense(port, probe, duration, every, timeout))


def tally(answers: list[Answer]) -> collections.Counter[str]:
    """requests, 5xx, 503, 500s (any 5xx but 503), lost (no answer) of a list of answers."""
    c: collections.Counter[str] = collections.Counter()
    for a in answers:
        c["requests"] += 1
        if a.status is None:
            c["lost"] += 1
        elif a.status >= 500:
            c["5xx"] += 1
            c["503" if a.status == 503 else "other_5xx"] += 1
    return c


# ---- background load: bench.loadgen in a process of its own --------------------------------------------------------
def _pdeathsig() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)


def static_group(name: str, connections: int, path: str, headers: dict[str, str] | None = None,
                 port: int = 0) -> dict[str, Any]:
    raw = build_request("GET", path, f"{HOST}:{port}", headers)
    return {"name": name, "connections": connections, "kind": "static", "requests": [raw.decode("latin-1")]}


class Load:
    """`python -m bench.loadgen` (the bench's load generator) for a fixed window; `result()` collects it."""

    def __init__(self, stack: Stack, groups: list[dict[str, Any]], duration: float, *, request_timeout: float = 12,
                 max_requests: int = 200_000) -> None:
        from drills.stack import ROOT

        self.root = ROOT
        self.duration = duration
        self.request_timeout = request_timeout
        self.spec = {"host": HOST, "port": stack.api_port, "warmup": 0, "duration": duration,
                     "request_timeout": request_timeout, "max_requests": max_requests, "groups": groups}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Load:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.loadgen"], cwd=self.root, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, preexec_fn=_pdeathsig,
        )
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(self.spec).encode())
        self.proc.stdin.close()
        self.proc.stdin = None  # communicate() must not flush a closed pipe
        return self

    def result(self) -> dict[str, dict[str, Any]]:
        """Per group: statuses, socket errors and counts (requests, 5xx, 503, other_5xx, lost)."""
        assert self.proc is not None
        try:
            out, err = self.proc.communicate(timeout=self.duration + self.request_timeout + 30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
            raise RuntimeError("drills: the load generator overran its time limit") from None
        if self.proc.returncode != 0:
            raise RuntimeError(f"drills: the load generator failed ({self.proc.returncode}):\n{err.decode()[-2000:]}")
        groups = {}
        for g in json.loads(out)["groups"]:
            statuses = {int(s): n for s, n in g["statuses"].items()}
            sockets = {k: n for k, n in g["errors"].items() if not k.startswith("HTTP ")}
            c = collections.Counter()
            c["requests"] = sum(statuses.values()) + sum(sockets.values())
            c["5xx"] = sum(n for s, n in statuses.items() if s >= 500)
            c["503"] = statuses.get(503, 0)
            c["other_5xx"] = c["5xx"] - c["503"]
            c["lost"] = sum(sockets.values())
            groups[g["name"]] = {"statuses": statuses, "sockets": sockets, "counts": c}
        return groups

    def run(self) -> dict[str, dict[str, Any]]:
        return self.start().result()


def describe(group: dict[str, Any]) -> str:
    st = ", ".join(f"{s}: {n}" for s, n in sorted(group["statuses"].items()))
    so = "".join(f", {k}: {n}" for k, n in sorted(group["sockets"].items()))
    return f"{{{st}{so}}}"


# ---- the verdict -------------------------------------------------------------------------------------------------
class Verdict:
    """Collects checks and counts; prints them; 0 when every promise held."""

    def __init__(self, drill: str) -> None:
        self.drill = drill
        self.checks: list[tuple[bool, str]] = []
        self.counts: collections.Counter[str] = collections.Counter(
            {"requests": 0, "5xx": 0, "503": 0, "lost": 0, "duplicated": 0})
        self.began = time.monotonic()

    def check(self, ok: bool, what: str) -> bool:
        self.checks.append((ok, what))
        print(f"  [{'ok' if ok else 'FAIL'}] {what}", flush=True)
        return ok

    def add(self, counts: collections.Counter[str] | dict[str, int]) -> None:
        for k in ("requests", "5xx", "503", "lost", "duplicated"):
            self.counts[k] += counts.get(k, 0)

    def clean_log(self, stack: Stack) -> None:
        """No error of any kind in the server's log."""
        kinds = stack.error_kinds()
        self.check(not kinds, "no error in the server log" + "".join(f"\n         {n} x {k}" for k, n in kinds.items()))

    def recovered_cleanly(self, stack: Stack, after: dict[str, Any], after_s: float, pids: Any) -> None:
        """The checks every outage drill ends with: load all 200 again, a clean server log, no restart."""
        self.check(all(g["statuses"].keys() <= {200} and not g["sockets"] for g in after.values()),
                   f"{after_s:g}s of load afterwards all 200 "
                   f"({', '.join(f'{n} {describe(g)}' for n, g in after.items())})")
        self.clean_log(stack)
        self.check(stack.serve is not None and stack.serve.poll() is None and stack.api_pids() == pids,
                   "without restarting Jianwu (same supervisor, granian and worker processes)")

    def finish(self, error: BaseException | None = None) -> int:
        if error is not None:
            self.check(False, f"the drill could not run: {type(error).__name__}: {error}")
        ok = bool(self.checks) and all(c for c, _ in self.checks)
        c = self.counts
        print(f"drill {self.drill}: requests={c['requests']} 5xx={c['5xx']} 503={c['503']} lost={c['lost']} "
              f"duplicated={c['duplicated']} in {time.monotonic() - self.began:.0f}s -> {'PASS' if ok else 'FAIL'}",
              flush=True)
        return 0 if ok else 1


def on_sigterm() -> None:
    """SIGTERM (the runner's time limit) unwinds normally, so every `finally` stops what the drill started."""
    def handler(_signum: int, _frame: object) -> None:
        raise SystemExit(124)

    signal.signal(signal.SIGTERM, handler)
