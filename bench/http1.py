"""A minimal HTTP/1.1 keep-alive client on raw asyncio streams: just enough to drive and time Jianwu.

It writes pre-built request bytes and reads one response: the status line, Content-Length or chunked bodies, and
`Connection: close`. No redirects, no TLS, no pipelining. Used by the load generator and by the bench's set-up.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlencode

__all__ = ("Http1", "HttpError", "build_request", "form")


class HttpError(Exception):
    """The peer sent something this client cannot read as an HTTP/1.1 response."""


def build_request(method: str, path: str, host: str, headers: dict[str, str] | None = None,
                  body: bytes | None = None) -> bytes:
    """Serialize one HTTP/1.1 request (keep-alive is the HTTP/1.1 default)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "User-Agent: jianwu-bench"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body is not None or method in {"POST", "PUT", "PATCH"}:
        lines.append(f"Content-Length: {len(body or b'')}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


def form(fields: dict[str, str]) -> tuple[dict[str, str], bytes]:
    """Headers and body of an application/x-www-form-urlencoded request."""
    return {"Content-Type": "application/x-www-form-urlencoded"}, urlencode(fields).encode()


class Http1:
    """One keep-alive connection; `request()` sends raw bytes and returns (status, body, peer_closes)."""

    __slots__ = ("host", "port", "reader", "writer")

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self, timeout: float = 5.0) -> None:
        """Open the TCP connection (asyncio sets TCP_NODELAY on it)."""
        self.reader, self.writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), timeout)

    @property
    def connected(self) -> bool:
        return self.writer is not None and not self.writer.is_closing()

    def abort(self) -> None:
        """Drop the connection at once (a stuck request then fails with a socket error)."""
        if self.writer is not None:
            self.writer.transport.abort()
            self.writer = None
            self.reader = None

    async def close(self) -> None:
        if self.writer is not None:
            writer, self.writer, self.reader = self.writer, None, None
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass

    async def request(self, raw: bytes) -> tuple[int, bytes, bool]:
        """Send one request; read the whole response. Raises OSError/HttpError/IncompleteReadError on trouble."""
        reader, writer = self.reader, self.writer
        if reader is None or writer is None:
            raise ConnectionResetError("not connected")
        writer.write(raw)
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1."):
            raise HttpError(f"not an HTTP/1.x response: {head[:40]!r}")
        status = int(head[9:12])
        lower = head.lower()
        close = b"\r\nconnection: close" in lower or head.startswith(b"HTTP/1.0")
        if status < 200 or status in (204, 304) or raw.startswith(b"HEAD "):
            if status < 200:  # an interim response: the real one follows
                return await self._after_interim()
            return status, b"", close
        at = lower.find(b"\r\ncontent-length:")
        if at >= 0:
            end = lower.index(b"\r\n", at + 2)
            body = await reader.readexactly(int(lower[at + 17:end]))
        elif b"\r\ntransfer-encoding: chunked" in lower:
            body = await self._chunked(reader)
        else:  # delimited by the end of the connection
            body = await reader.read(-1)
            close = True
        return status, body, close

    async def _after_interim(self) -> tuple[int, bytes, bool]:
        # Re-enter with an empty write: only the reading half of request() runs.
        return await self.request(b"")

    @staticmethod
    async def _chunked(reader: asyncio.StreamReader) -> bytes:
        parts = []
        while True:
            line = await reader.readuntil(b"\r\n")
            size = int(line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers, then the blank line
                    pass
                return b"".join(parts)
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)


async def fetch_json(host: str, port: int, method: str, path: str, *, headers: dict[str, str] | None = None,
                     body: bytes | None = None, timeout: float = 30.0) -> tuple[int, Any]:
    """One request on a fresh connection (set-up only, never timed); returns (status, decoded JSON or None)."""
    conn = Http1(host, port)
    await conn.connect()
    try:
        status, raw, _ = await asyncio.wait_for(
            conn.request(build_request(method, path, f"{host}:{port}", headers, body)), timeout
        )
    finally:
        await conn.close()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode("utf-8", "replace")
