"""The load generator: a process of its own (`python -m bench.loadgen`), never the server's.

It reads one JSON spec on stdin, opens N keep-alive connections per group, sends requests back-to-back on each
for warm-up + duration seconds, and writes one JSON result on stdout: per group the requests completed inside the
measured window, requests/s, latency percentiles (perf_counter_ns, from writing the request to reading the last
byte of the response) and errors by status or by socket error. Several groups run at once in the same event loop
(e.g. password sign-ins with /health/live beside them).

Group kinds:
- `static`: a list of raw requests, sent round-robin (or, with `once`, each at most once);
- `cycle`: parts taking turns, one request each, each part a `static` list with a label; latencies are also
  reported per label (e.g. /health/live and /auth/me alternating: a paired comparison);
- `pool`: single-use tokens (refresh tokens). Each request takes the next token from a shared pool and, when it
  succeeds, puts the fresh token from the JSON response (`field`) back, so every request uses a token never
  used before, and the pool never runs dry while requests succeed.

Every loop is bounded: by the window's end, by `max_requests` per group and by a hard deadline after which every
connection is aborted. A request stuck longer than `request_timeout` is aborted and counted as a socket error.
"""

from __future__ import annotations

import asyncio
import collections
import json
import sys
import time
from array import array
from typing import Any

from bench.http1 import Http1, HttpError, build_request

__all__ = ("main", "summarize")

_NS = 1_000_000_000


def summarize(latencies_ns: array, window_s: float) -> dict[str, Any]:
    """Requests/s and latency percentiles (nearest rank) in microseconds."""
    n = len(latencies_ns)
    if n == 0:
        return {"requests": 0, "rps": 0.0, "p50_us": None, "p90_us": None, "p99_us": None, "max_us": None,
                "mean_us": None}
    data = sorted(latencies_ns)

    def pct(p: float) -> float:
        return data[max(0, min(n - 1, -(-int(p * n) // 100) - 1))] / 1000

    return {
        "requests": n, "rps": n / window_s,
        "p50_us": pct(50), "p90_us": pct(90), "p99_us": pct(99), "max_us": data[-1] / 1000,
        "mean_us": sum(data) / n / 1000,
    }


class _Source:
    """Where a group's connections get their next request."""

    def __init__(self, spec: dict[str, Any], hostport: str) -> None:
        self.kind = spec["kind"]
        self.hostport = hostport
        self.exhausted_ns: int | None = None
        if self.kind == "static":
            spec = {"kind": "cycle", "parts": [{"label": None, "requests": spec["requests"],
                                                 "once": bool(spec.get("once"))}]}
            self.kind = "cycle"
        if self.kind == "cycle":
            # Parts take turns, one request each; a part's requests go round-robin, or, with `once`, each is sent
            # at most once (it carries a token never seen before) and the source ends when they run out.
            # With labels, latencies are also reported per part: paired comparisons at the same moments.
            self.parts = [([r.encode("latin-1") for r in p["requests"]], p.get("label"), bool(p.get("once")))
                          for p in spec["parts"]]
            self.cursor = [0] * len(self.parts)
            self.turn = 0
        elif self.kind == "pool":
            self.method, self.path = spec["method"], spec["path"]
            self.headers = spec.get("headers", {})
            self.template: str = spec["body_template"]
            self.field: str = spec["field"]
            self.pool: collections.deque[str] = collections.deque(spec["tokens"])
        else:
            raise ValueError(f"unknown group kind {self.kind!r}")

    def next(self) -> tuple[bytes, str | None] | None:
        if self.kind == "cycle":
            part = self.turn % len(self.parts)
            requests, label, once = self.parts[part]
            at = self.cursor[part]
            if at >= len(requests):
                if once:
                    if self.exhausted_ns is None:
                        self.exhausted_ns = time.perf_counter_ns()
                    return None
                at = 0
            self.cursor[part] = at + 1
            self.turn += 1
            return requests[at], label
        if not self.pool:
            return None
        token = self.pool.popleft()
        body = self.template.replace("{token}", token).encode()
        return build_request(self.method, self.path, self.hostport, self.headers, body), None

    def answered(self, status: int, body: bytes) -> None:
        if self.kind == "pool" and status == 200:
            try:
                token = json.loads(body)[self.field]
            except (ValueError, KeyError, TypeError):
                return
            if isinstance(token, str):
                self.pool.append(token)


class _Group:
    def __init__(self, spec: dict[str, Any], host: str, port: int) -> None:
        self.name: str = spec["name"]
        self.connections: int = spec["connections"]
        self.port = port  # a group may target another server of the bench (bare_litestar)
        self.source = _Source(spec, f"{host}:{port}")
        self.latencies = array("q")
        self.by_label: dict[str, array] = collections.defaultdict(lambda: array("q"))
        self.statuses: collections.Counter[str] = collections.Counter()
        self.errors: collections.Counter[str] = collections.Counter()
        self.warmup_errors: collections.Counter[str] = collections.Counter()
        self.sent = 0
        self.starved = 0


async def _connection(group: _Group, host: str, port: int, start_ns: int, end_ns: int, max_requests: int,
                      inflight: dict[Http1, int]) -> None:
    conn = Http1(host, group.port)
    now = time.perf_counter_ns
    try:
        while now() < end_ns and group.sent < max_requests:
            if not conn.connected:
                try:
                    await conn.connect()
                except (TimeoutError, OSError) as exc:
                    group.errors[f"connect: {type(exc).__name__}"] += 1
                    await asyncio.sleep(0.05)
                    continue
            nxt = group.source.next()
            if nxt is None:  # every pooled token is in flight: wait for one to come back
                if group.source.kind == "cycle":  # a `once` list ran out: this connection is done
                    break
                group.starved += 1
                await asyncio.sleep(0.001)
                continue
            raw, label = nxt
            group.sent += 1
            t0 = now()
            inflight[conn] = t0
            try:
                status, body, close = await conn.request(raw)
            except (OSError, HttpError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
                t1 = now()
                inflight.pop(conn, None)
                conn.abort()
                if start_ns <= t1 <= end_ns:
                    group.errors[f"socket: {type(exc).__name__}"] += 1
                elif t1 < start_ns:
                    group.warmup_errors[f"socket: {type(exc).__name__}"] += 1
                continue
            t1 = now()
            inflight.pop(conn, None)
            group.source.answered(status, body)
            if start_ns <= t1 <= end_ns:
                group.latencies.append(t1 - t0)
                if label is not None:
                    group.by_label[label].append(t1 - t0)
                group.statuses[str(status)] += 1
            elif t1 < start_ns and not 200 <= status < 400:
                group.warmup_errors[f"HTTP {status}"] += 1
            if close:
                await conn.close()
    finally:
        inflight.pop(conn, None)
        conn.abort()


async def _watchdog(inflight: dict[Http1, int], timeout_ns: int, hard_end_ns: int) -> None:
    """Abort requests stuck longer than the timeout; at the hard deadline, abort everything."""
    while True:
        await asyncio.sleep(0.25)
        now = time.perf_counter_ns()
        for conn, began in list(inflight.items()):
            if now - began > timeout_ns or now > hard_end_ns:
                conn.abort()


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Run every group of the spec at once; return their results."""
    host, port = spec["host"], int(spec["port"])
    if host not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit("bench.loadgen: load goes to the loopback interface only")
    warmup, duration = float(spec["warmup"]), float(spec["duration"])
    groups = [_Group(g, host, int(g.get("port", port))) for g in spec["groups"]]
    began = time.perf_counter_ns()
    start_ns = began + int(warmup * _NS)
    end_ns = start_ns + int(duration * _NS)
    hard_end_ns = end_ns + int(float(spec.get("request_timeout", 10)) * _NS)
    inflight: dict[Http1, int] = {}
    cpu0 = time.process_time()
    dog = asyncio.create_task(_watchdog(inflight, int(float(spec.get("request_timeout", 10)) * _NS), hard_end_ns))
    tasks = [
        asyncio.create_task(_connection(g, host, port, start_ns, end_ns, int(spec.get("max_requests", 5_000_000)),
                                        inflight))
        for g in groups for _ in range(g.connections)
    ]
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=(hard_end_ns - began) / _NS + 5)
    finally:
        dog.cancel()
    cpu = time.process_time() - cpu0
    wall = (time.perf_counter_ns() - began) / _NS
    out = []
    for g in groups:
        window = duration
        ran_out = g.source.exhausted_ns
        if ran_out is not None and ran_out < end_ns:  # the window really ended when the requests ran out
            window = max((ran_out - start_ns) / _NS, 1e-3)
        errors = {f"HTTP {s}": n for s, n in g.statuses.items() if not 200 <= int(s) < 400}
        errors.update(g.errors)
        out.append({
            "name": g.name, "connections": g.connections, "window_s": window,
            **summarize(g.latencies, window),
            "statuses": dict(g.statuses), "errors": errors, "error_count": sum(errors.values()),
            "warmup_errors": sum(g.warmup_errors.values()), "warmup_error_kinds": dict(g.warmup_errors),
            "pool_starved": g.starved,
            "ran_out": ran_out is not None and ran_out < end_ns,
            "by_label": {label: summarize(lat, window) for label, lat in g.by_label.items()},
        })
    return {"groups": out, "loadgen_cpu_pct": round(100 * cpu / wall, 1)}


def main() -> None:
    spec = json.loads(sys.stdin.read())
    result = asyncio.run(run(spec))
    sys.stdout.write(json.dumps(result))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
