"""Serve a small ASGI app on a local port (HTTP/1.1, and HTTP/2 with prior knowledge), and what the provider fakes
share."""

from __future__ import annotations

import asyncio
import contextlib
import http
import socket
import ssl
import time
import urllib.parse
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import h2.connection
import h2.events
import h2.exceptions
import h2.settings
import hpack
import msgspec

from push.senders.h2client import H2Writer, connection

__all__ = ("Answer", "FakeServer", "ProviderFake", "Recorded", "TokenFake", "read_body", "receive_request", "respond",
           "scripted")

# How an HTTP/2 client with prior knowledge opens a connection (RFC 9113 3.4).
_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


@dataclass(slots=True)
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    http_version: str
    at: float = field(default_factory=time.time)

    def json(self) -> Any:
        """The body decoded as JSON."""
        return msgspec.json.decode(self.body)


@dataclass(frozen=True, slots=True)
class Answer:
    """A scripted answer the next request gets instead of the normal one."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)
    retry_after: int | None = None
    delay: float = 0.0


async def read_body(receive: Any) -> bytes:
    """The whole request body."""
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def receive_request(scope: dict[str, Any], receive: Any) -> Recorded:
    """The whole request, as a fake records it."""
    body = await read_body(receive)
    headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
    return Recorded(scope["method"], scope["path"], headers, body, scope.get("http_version", "1.1"))


def scripted(script: list[Answer]) -> tuple[int, dict[str, Any] | None, dict[str, str]] | None:
    """The next scripted answer (status, body, headers), if a test scripted one."""
    if not script:
        return None
    a = script.pop(0)
    return a.status, a.body or None, {"retry-after": str(a.retry_after)} if a.retry_after else {}


async def respond(send: Any, status: int, body: dict[str, Any] | None = None,
                  headers: dict[str, str] | None = None) -> None:
    """Answer with a JSON body (or none)."""
    payload = msgspec.json.encode(body) if body is not None else b""
    raw = [(b"content-type", b"application/json"), *((k.encode(), v.encode()) for k, v in (headers or {}).items())]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


class ProviderFake:
    """What every provider fake does with a request: record it, answer a scripted answer or its own, note what it
    accepted. Subclasses give `answer` (and `token` when `token_path` names an OAuth token endpoint)."""

    token_path: str | None = None

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.delivered: list[Recorded] = []
        self.script: list[Answer] = []
        self.delay = 0.0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        rec = await receive_request(scope, receive)
        if self.token_path is not None and rec.path == self.token_path:
            await self.token(send, rec.body)
            return
        self.requests.append(rec)
        if self.delay:
            await asyncio.sleep(self.delay)
        status, answer, extra = scripted(self.script) or self.answer(rec)
        if self.accepted(status, answer):
            self.delivered.append(rec)
        await respond(send, status, answer, extra)

    async def token(self, send: Any, body: bytes) -> None:
        """Answer the OAuth token endpoint."""
        await respond(send, 404, {})

    def answer(self, rec: Recorded) -> tuple[int, dict[str, Any] | None, dict[str, str]]:
        """The provider's own answer to a send."""
        raise NotImplementedError

    def accepted(self, status: int, answer: dict[str, Any] | None) -> bool:
        """Whether the answer means the message was taken."""
        return status == 200


class TokenFake(ProviderFake):
    """A provider fake that hands out access tokens at its `token_path` (Huawei, Honor, OPPO, vivo): the tokens it
    issued with their expiry, how often it was asked for one, and the device tokens it answers as invalid."""

    def __init__(self) -> None:
        super().__init__()
        self.invalid_tokens: set[str] = set()
        self.access: dict[str, float] = {}
        self.token_requests = 0

    def expire_access_tokens(self) -> None:
        """Every issued access token stops working (the sender must fetch a new one)."""
        self.access.clear()


class _Stream:
    """One request on its way in (its head, its body so far) and the ASGI task answering it."""

    __slots__ = ("body", "headers", "method", "path", "query")

    def __init__(self, method: str, target: str, headers: list[tuple[bytes, bytes]]) -> None:
        path, _, query = target.partition("?")
        self.method, self.path, self.query, self.headers = method, path, query, headers
        self.body = bytearray()


class _Http(H2Writer):
    """One connection to the fake: HTTP/2 when it opens with the HTTP/2 preface (prior knowledge), else HTTP/1.1
    with keep-alive; each request is handed to the ASGI app as it completes."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.h2: h2.connection.H2Connection | None = None
        self.buf = bytearray()
        self.mode = ""
        self.streams: dict[int, _Stream] = {}
        self.window = asyncio.Event()
        self.h1_busy = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        self.window.set()

    def data_received(self, data: bytes) -> None:
        if not self.mode:
            self.buf += data
            if len(self.buf) < len(_PREFACE) and _PREFACE.startswith(bytes(self.buf)):
                return
            self.mode = "2" if self.buf.startswith(_PREFACE) else "1.1"
            data, self.buf = bytes(self.buf), bytearray()
            if self.mode == "2":
                self.h2 = connection(client_side=False)
                self.h2.initiate_connection()
                self.h2.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: self.server.max_streams})
        if self.mode == "2":
            self._h2_received(data)
        else:
            self.buf += data
            self._h1_next()

    def close(self) -> None:
        """Close the connection (HTTP/2: with GOAWAY first)."""
        if self.h2 is not None:
            with contextlib.suppress(h2.exceptions.ProtocolError):
                self.h2.close_connection()
                self._write()
        if self.transport is not None:
            self.transport.close()

    # -- HTTP/1.1 -------------------------------------------------------------------------------------------------

    def _h1_next(self) -> None:
        """Answer the next complete request in the buffer (one at a time, in order)."""
        if self.h1_busy:
            return
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        lines = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
        method, target, _ = (lines[0].split(" ") + ["", ""])[:3]
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name.strip().lower().encode(), value.strip().encode("latin-1")))
        fields = dict(headers)
        size = int(fields.get(b"content-length", b"0") or 0)
        if b"chunked" in fields.get(b"transfer-encoding", b"").lower():
            self._h1_answer(501, [], b"", keep=False)  # no client of ours sends chunked bodies
            return
        if len(self.buf) < end + 4 + size:
            return
        stream = _Stream(method, target, headers)
        stream.body += self.buf[end + 4:end + 4 + size]
        del self.buf[:end + 4 + size]
        self.h1_busy = True
        keep = fields.get(b"connection", b"").lower() != b"close"
        self.server.run(self._serve(stream, None, keep))

    def _h1_answer(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes, *, keep: bool) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        head = [b"HTTP/1.1 %d %s\r\n" % (status, _reason(status))]
        head += [b"%s: %s\r\n" % (k, v) for k, v in headers if k != b"content-length"]
        head.append(b"content-length: %d\r\n" % len(body))
        if not keep:
            head.append(b"connection: close\r\n")
        self.transport.write(b"".join(head) + b"\r\n" + body)
        if not keep:
            self.transport.close()
        self.h1_busy = False
        self._h1_next()

    # -- HTTP/2 ---------------------------------------------------------------------------------------------------

    def _h2_received(self, data: bytes) -> None:
        assert self.h2 is not None
        try:
            events = self.h2.receive_data(data)
        except h2.exceptions.ProtocolError:
            self._write()
            if self.transport is not None:
                self.transport.close()
            return
        for event in events:
            if isinstance(event, h2.events.RequestReceived):
                fields = dict(event.headers)
                self.streams[event.stream_id] = _Stream(fields.get(b":method", b"").decode(),
                                                        fields.get(b":path", b"/").decode(),
                                                        [(k, v) for k, v in event.headers if not k.startswith(b":")])
            elif isinstance(event, h2.events.DataReceived):
                stream = self.streams.get(event.stream_id)
                if stream is not None:
                    stream.body += event.data
                self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                stream = self.streams.pop(event.stream_id, None)
                if stream is not None:
                    self.server.run(self._serve(stream, event.stream_id, True))
            elif isinstance(event, h2.events.StreamReset):
                self.streams.pop(event.stream_id, None)
            elif isinstance(event, h2.events.WindowUpdated | h2.events.RemoteSettingsChanged):
                self.window.set()
            elif isinstance(event, h2.events.ConnectionTerminated) and self.transport is not None:
                self._write()
                self.transport.close()
        self._flush()

    async def _h2_answer(self, stream_id: int, status: int, headers: list[tuple[bytes, bytes]],
                         body: bytes) -> None:
        assert self.h2 is not None
        try:
            # Answers' headers change with every answer (APNs' apns-id): kept out of the compression table.
            self.h2.send_headers(stream_id, [(b":status", str(status).encode()),
                                             *(hpack.NeverIndexedHeaderTuple(k, v) for k, v in headers),
                                             hpack.NeverIndexedHeaderTuple(b"content-length", str(len(body)).encode())],
                                 end_stream=not body)
            while body:
                size = min(self.h2.local_flow_control_window(stream_id), self.h2.max_outbound_frame_size, len(body))
                if size <= 0:
                    self._flush()
                    self.window.clear()
                    await self.window.wait()
                    if self.transport is None or self.transport.is_closing():
                        return
                    continue
                self.h2.send_data(stream_id, body[:size], end_stream=size == len(body))
                body = body[size:]
        except h2.exceptions.ProtocolError:
            pass  # the client reset the stream or went away: nobody to answer
        self._flush()

    # -- ASGI -----------------------------------------------------------------------------------------------------

    async def _serve(self, stream: _Stream, stream_id: int | None, keep: bool) -> None:
        """Run the app for one request and send its answer."""
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": self.mode, "method": stream.method,
                 "scheme": "https" if self.server.tls else "http", "path": urllib.parse.unquote(stream.path),
                 "raw_path": stream.path.encode(),
                 "query_string": stream.query.encode(), "headers": stream.headers, "server": None, "client": None}
        body = bytes(stream.body)
        answer: dict[str, Any] = {"status": 500, "headers": [], "body": bytearray()}

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer["status"], answer["headers"] = message["status"], list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                answer["body"] += message.get("body", b"")

        try:
            await self.server.app(scope, receive, send)
        except Exception:  # noqa: BLE001 - a fake's bug answers 500, as a server would
            answer["status"], answer["body"] = 500, bytearray()
        headers = [(bytes(k).lower(), bytes(v)) for k, v in answer["headers"]]
        if stream_id is None:
            self._h1_answer(answer["status"], headers, bytes(answer["body"]), keep=keep)
        else:
            await self._h2_answer(stream_id, answer["status"], headers, bytes(answer["body"]))


def _reason(status: int) -> bytes:
    try:
        return http.HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakeServer:
    """Serves the ASGI app `app` on 127.0.0.1 in the running event loop until `stop`: HTTP/1.1, and HTTP/2 with
    prior knowledge, each request answered once its body is in (a fake's answers are small). Written on h2 and
    asyncio rather than run under a general server: the fakes share the machine with the worker under load, and
    hypercorn spent more CPU per request than the worker's own senders."""

    def __init__(self, app: Any, port: int | None = None, *, max_streams: int = 1000,
                 tls: ssl.SSLContext | None = None) -> None:
        self.app = app
        self.port = port or _free_port()
        # A server-side TLS context (its ALPN protocols say which of HTTP/2 and HTTP/1.1 it offers), or plain text.
        self.tls = tls
        # SETTINGS_MAX_CONCURRENT_STREAMS on HTTP/2 connections (APNs allows 1,000 once a connection is trusted).
        self.max_streams = max_streams
        self.connections: set[_Http] = set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        """Base URL of the fake."""
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    async def start(self) -> FakeServer:
        """Start serving; answers once the port accepts connections."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Http(self), "127.0.0.1", self.port, backlog=1024,
                                                ssl=self.tls)
        return self

    def run(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run one request's answer as a task of its own (kept until done)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        """Stop serving: no new connections, open ones closed (HTTP/2 ones with GOAWAY), answers cut short."""
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections):
            conn.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)
        if self._server is not None:
            await self._server.wait_closed()
