"""A small HTTP/1.1 client for the senders' hot path (the OAuth providers' sends): keep-alive connections per origin,
at most `max_connections` each, one request at a time on each, a timeout per request, TLS for https. httpx's pool
checked every connection it held on every request (about 1 ms of CPU per request with 32 connections); this one
takes an idle connection off a list.

Answers are read by Content-Length, chunked transfer coding, or the connection's end. Failures raise httpx's
transport errors (ConnectError, ReadTimeout, RemoteProtocolError), which the senders already answer with a retry."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ssl
import urllib.parse
from typing import Any

import httpx
import msgspec

from push.senders.answer import Response

__all__ = ("H1Client",)

_NO_BODY = frozenset({204, 304})


class _Connection(asyncio.Protocol):
    """One keep-alive connection: one request, then the answer, parsed as its bytes come."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reusable = True
        self._answer: asyncio.Future[Response] | None = None
        self._buf = bytearray()
        self._head: tuple[int, dict[str, str]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self._answer is None or self._answer.done():
            # Bytes nobody asked for: the connection is out of step with its peer.
            self.reusable = False
            return
        self._buf += data
        try:
            self._parse(eof=False)
        except ValueError as exc:
            self._fail(httpx.RemoteProtocolError(f"malformed HTTP/1.1 answer: {exc}"))

    def eof_received(self) -> bool | None:
        if self._answer is not None and not self._answer.done():
            try:
                self._parse(eof=True)
            except ValueError as exc:
                self._fail(httpx.RemoteProtocolError(f"malformed HTTP/1.1 answer: {exc}"))
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(httpx.RemoteProtocolError("connection lost" if exc is None else f"connection lost: {exc}"))

    async def request(self, data: bytes) -> Response:
        """Write one request and wait for its whole answer."""
        if self.closed or self.transport is None or self.transport.is_closing():
            raise httpx.RemoteProtocolError("connection closed")
        self._answer = asyncio.get_running_loop().create_future()
        self._buf.clear()
        self._head = None
        self.transport.write(data)
        return await self._answer

    def close(self) -> None:
        """Close the connection."""
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _fail(self, error: Exception) -> None:
        self.reusable = False
        if self._answer is not None and not self._answer.done():
            self._answer.set_exception(error)
        if self.transport is not None:
            self.transport.close()

    def _parse(self, *, eof: bool) -> None:
        buf = self._buf
        while self._head is None:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if eof:
                    raise ValueError("the connection ended inside the head")
                return
            lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
            del buf[:end + 4]
            version, _, rest = lines[0].partition(" ")
            status = int(rest[:3])
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            if 100 <= status < 200:
                continue  # an interim answer (100 Continue): the real one follows
            if version != "HTTP/1.1" or "close" in headers.get("connection", "").lower():
                self.reusable = False
            self._head = (status, headers)
        status, headers = self._head
        if status in _NO_BODY:
            body: bytes | None = b""
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            body = _dechunk(buf)
        elif "content-length" in headers:
            size = int(headers["content-length"])
            body = bytes(buf[:size]) if len(buf) >= size else None
        else:
            # Delimited by the connection's end.
            self.reusable = False
            body = bytes(buf) if eof else None
        if body is None:
            if eof:
                raise ValueError("the connection ended inside the body")
            return
        assert self._answer is not None
        self._answer.set_result(Response(status, headers, body))


def _dechunk(buf: bytearray) -> bytes | None:
    """The body of a complete chunked message in `buf` (None while incomplete; trailers are skipped)."""
    out, pos = bytearray(), 0
    while True:
        end = buf.find(b"\r\n", pos)
        if end < 0:
            return None
        size = int(bytes(buf[pos:end]).split(b";", 1)[0], 16)
        pos = end + 2
        if size == 0:
            return bytes(out) if buf.find(b"\r\n\r\n", pos - 2) >= 0 else None
        if len(buf) < pos + size + 2:
            return None
        out += buf[pos:pos + size]
        pos += size + 2


class _Pool:
    """The connections to one origin: idle ones on a list, new ones while under the limit, else a wait."""

    def __init__(self, scheme: str, host: str, port: int, limit: int, context: ssl.SSLContext | None) -> None:
        self.host, self.port, self.limit = host, port, limit
        self.context = context if scheme == "https" else None
        self.idle: list[_Connection] = []
        self.count = 0
        self.waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    async def acquire(self) -> _Connection:
        """An idle connection, a new one, or the first one released."""
        while True:
            while self.idle:
                conn = self.idle.pop()
                if conn.reusable and not conn.closed and conn.transport is not None \
                        and not conn.transport.is_closing():
                    return conn
                conn.close()
                self.count -= 1
            if self.count < self.limit:
                self.count += 1
                try:
                    return await self._connect()
                except BaseException:
                    self.count -= 1
                    self._wake()
                    raise
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self.waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._wake()  # woken but leaving: the next waiter gets the turn
                else:
                    with contextlib.suppress(ValueError):
                        self.waiters.remove(waiter)
                raise

    def release(self, conn: _Connection, *, ok: bool) -> None:
        """Put a connection back (or close it, when its answer was cut short or said so)."""
        if ok and conn.reusable and not conn.closed:
            self.idle.append(conn)
        else:
            conn.close()
            self.count -= 1
        self._wake()

    def close(self) -> None:
        """Close the idle connections."""
        for conn in self.idle:
            conn.close()
        self.count -= len(self.idle)
        self.idle.clear()

    def _wake(self) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        conn = _Connection()
        try:
            if self.context is not None:
                await loop.create_connection(lambda: conn, self.host, self.port, ssl=self.context,
                                             server_hostname=self.host)
            else:
                await loop.create_connection(lambda: conn, self.host, self.port)
        except OSError as exc:
            raise httpx.ConnectError(str(exc)) from exc
        return conn


class H1Client:
    """HTTP/1.1 requests to absolute URLs, a pool of up to `max_connections` keep-alive connections per origin."""

    def __init__(self, *, timeout: float = 10.0, max_connections: int = 32,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.timeout = timeout
        self.max_connections = max_connections
        self._ssl = ssl_context
        self._pools: dict[str, _Pool] = {}
        # A URL's origin and request target, and the head's fixed part, worked out once per URL (a sender posts
        # to one or two).
        self._targets: dict[str, tuple[_Pool, bytes]] = {}

    async def post(self, url: str, *, content: bytes = b"", json: Any = None, data: dict[str, str] | None = None,
                   headers: dict[str, str] | None = None) -> Response:
        """POST `content` (or `json` as JSON, or `data` as a form) to `url`; httpx.TimeoutException after `timeout`
        seconds, httpx.TransportError when the connection fails."""
        pool, start = self._target(url)
        head = [start]
        if json is not None:
            content = msgspec.json.encode(json)
            head.append(b"content-type: application/json\r\n")
        elif data is not None:
            content = urllib.parse.urlencode(data).encode()
            head.append(b"content-type: application/x-www-form-urlencoded\r\n")
        for name, value in (headers or {}).items():
            if "\r" in value or "\n" in value:
                raise httpx.LocalProtocolError(f"a line break in the {name} header")
            head.append(f"{name}: {value}\r\n".encode())
        head.append(b"content-length: %d\r\n\r\n" % len(content))
        wire = b"".join(head) + content
        conn: _Connection | None = None
        ok = False
        try:
            async with asyncio.timeout(self.timeout):
                conn = await pool.acquire()
                answer = await conn.request(wire)
                ok = True
                return answer
        except TimeoutError:
            raise httpx.ReadTimeout(f"no answer within {self.timeout} s") from None
        finally:
            if conn is not None:
                pool.release(conn, ok=ok)

    async def aclose(self) -> None:
        """Close the idle connections of every origin."""
        for pool in self._pools.values():
            pool.close()

    def _target(self, url: str) -> tuple[_Pool, bytes]:
        known = self._targets.get(url)
        if known is not None:
            return known
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise httpx.UnsupportedProtocol(f"not an http(s) URL: {url}")
        if any(c in url for c in "\r\n "):
            raise httpx.LocalProtocolError("a space or line break in the URL")
        origin = f"{parts.scheme}://{parts.netloc}"
        pool = self._pools.get(origin)
        if pool is None:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            context = self._ssl or (ssl.create_default_context() if parts.scheme == "https" else None)
            if context is not None:
                context.set_alpn_protocols(["http/1.1"])
            pool = self._pools[origin] = _Pool(parts.scheme, parts.hostname, port, self.max_connections, context)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        start = f"POST {target} HTTP/1.1\r\nhost: {parts.netloc}\r\n".encode()
        if len(self._targets) >= 64:
            self._targets.clear()
        self._targets[url] = (pool, start)
        return pool, start
