"""Request ids, JSON logs, the access log and Prometheus metrics, in one ASGI middleware."""

from __future__ import annotations

import bisect
import logging
import os
import re
import sys
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess as prom_multiprocess

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ("JsonFormatter", "ObservabilityMiddleware", "configure_logging", "metrics_payload")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_access = logging.getLogger("jianwu.access")

REQUESTS = Counter("jianwu_http_requests_total", "HTTP requests answered.", ["method", "route", "status"])
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
LATENCY = Histogram(
    "jianwu_http_request_duration_seconds", "Time to answer an HTTP request.", ["method", "route"],
    buckets=_BUCKETS,
)
# Requests are tallied in this worker's memory and written to the shared metric files at most once a second (and
# before this worker answers a scrape): a write per request (locks, mmap stores, a bucket search) cost more than
# the rest of the middleware. Another worker's figures reach a scrape within a second.
_FLUSH_EVERY = 1.0

# Labelled children by (method, route, status): `labels()` hashes and validates its arguments on every call,
# which showed in the floor of every request; the set of routes is finite, so this stays small.
_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def _metrics_for(method: str, route: str, status: int) -> tuple[Any, Any]:
    key = (method, route, status)
    found = _children.get(key)
    if found is None:
        found = _children[key] = (REQUESTS.labels(method, route, str(status)), LATENCY.labels(method, route))
    return found


class _Tally:
    """Per (method, route, status): count, seconds, and counts per latency bucket (the last one is +Inf)."""

    __slots__ = ("flushed_at", "pending")

    def __init__(self) -> None:
        self.pending: dict[tuple[str, str, int], list[Any]] = {}
        self.flushed_at = time.perf_counter()

    def add(self, method: str, route: str, status: int, elapsed: float, now: float) -> None:
        key = (method, route, status)
        entry = self.pending.get(key)
        if entry is None:
            entry = self.pending[key] = [0, 0.0, [0] * (len(_BUCKETS) + 1)]
        entry[0] += 1
        entry[1] += elapsed
        entry[2][bisect.bisect_left(_BUCKETS, elapsed)] += 1  # the first bucket whose bound is >= elapsed
        if now - self.flushed_at >= _FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        """Write the tallies into the Prometheus metrics (the multiprocess files when that mode is on)."""
        pending, self.pending = self.pending, {}
        self.flushed_at = time.perf_counter()
        for (method, route, status), (count, seconds, buckets) in pending.items():
            counter, histogram = _metrics_for(method, route, status)
            counter.inc(count)
            # prometheus_client has no bulk observe: add to the histogram's own values as observe() would.
            histogram._sum.inc(seconds)
            for i, n in enumerate(buckets):
                if n:
                    histogram._buckets[i].inc(n)


_tally = _Tally()


class _RequestIds:
    """Request ids unique across workers and restarts without a system call per request (uuid4 reads
    os.urandom each time, and os.getpid is one too): a random per-process prefix, renewed in a forked child, and a
    counter."""

    __slots__ = ("count", "prefix")

    def __init__(self) -> None:
        self.renew()

    def renew(self) -> None:
        """A new prefix: at import, and in each child forked after it (it must not repeat its parent's ids)."""
        self.prefix, self.count = uuid.uuid4().hex[:20], 0

    def next(self) -> str:
        self.count += 1
        return f"{self.prefix}{self.count:012x}"


_ids = _RequestIds()
os.register_at_fork(after_in_child=_ids.renew)

_STD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and any extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STD_ATTRS and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return msgspec.json.encode(out, enc_hook=str).decode()


def configure_logging(level: str) -> None:
    """Send every log record to stdout as JSON lines."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    logging.Formatter.converter = time.gmtime
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


class ObservabilityMiddleware:
    """Give each request an id (honouring a sane X-Request-ID), echo it, log the request, count it."""

    __slots__ = ("access_log", "app", "before_start")

    def __init__(self, app: ASGIApp, access_log: bool = True,
                 before_start: tuple[Callable[[list[tuple[bytes, bytes]], Any], None], ...] = ()) -> None:
        self.app = app
        self.access_log = access_log
        # hooks(headers, scope), run on each response's start message, each adding to the answer's header list
        self.before_start = before_start

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if _REQUEST_ID.match(candidate):
                    request_id = candidate
                break
        if request_id is None:
            request_id = _ids.next()
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        header = (b"x-request-id", request_id.encode())

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), header]
                for hook in self.before_start:
                    hook(headers, scope)
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            now = time.perf_counter()
            elapsed = now - started
            route = scope.get("path_template") or "unmatched"
            method = scope["method"]  # type: ignore[typeddict-item]  # only http scopes get this far
            _tally.add(method, route, status, elapsed, now)
            if self.access_log:
                _access.info(
                    "request", extra={"request_id": request_id, "method": method, "path": scope["path"],
                                      "route": route, "status": status, "ms": round(elapsed * 1000, 2)},
                )


def metrics_payload() -> bytes:
    """Prometheus text for this process, or summed over all workers when multiprocess mode is on."""
    _tally.flush()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        prom_multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest()
