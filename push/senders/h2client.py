"""A small HTTP/2 client for the senders' hot path (APNs): the `h2` state machine over an asyncio Protocol, a few
long-lived connections, as many streams on each as the peer's SETTINGS_MAX_CONCURRENT_STREAMS allows, flow control
for request bodies, GOAWAY and lost connections, a timeout per request; TLS with ALPN h2 for https URLs, prior
knowledge for http (the local fakes). httpx's HTTP/2 path cost about 1.2 ms of CPU per request; this one a fraction.

Failures raise httpx's transport errors (ConnectError, ReadTimeout, RemoteProtocolError), which the senders already
answer with a retry."""

from __future__ import annotations

import asyncio
import collections
import ssl
import urllib.parse
from typing import Any

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import hpack
import httpx
from hpack.struct import HeaderWeaklyTyped
from hpack.table import HeaderTable

from push.senders.answer import Response

__all__ = ("H2Client", "H2Writer", "PlainEncoder", "connection")


# RFC 7541 Appendix A, by header and by name (the first index of each).
_STATIC: dict[tuple[bytes, bytes], int] = {}
_NAMES: dict[bytes, int] = {}
for _i, (_name, _value) in enumerate(HeaderTable.STATIC_TABLE, start=1):
    _STATIC.setdefault((_name, _value), _i)
    _NAMES.setdefault(_name, _i)


def _integer(value: int, prefix: int, first: int) -> bytes:
    """An HPACK integer with a `prefix`-bit prefix, its first byte's high bits `first` (RFC 7541 5.1)."""
    top = (1 << prefix) - 1
    if value < top:
        return bytes((first | value,))
    out, value = bytearray((first | top,)), value - top
    while value >= 128:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(name: bytes, value: bytes, *, never: bool) -> bytes:
    """One header: a static-table index when the table has it whole, else a literal that is not indexed (never
    indexed, for headers marked so), its name by static index where it can be, no Huffman coding (RFC 7541 6)."""
    if not never and (name, value) in _STATIC:
        return _integer(_STATIC[(name, value)], 7, 0x80)
    flag = 0x10 if never else 0x00
    index = _NAMES.get(name)
    head = _integer(index, 4, flag) if index else bytes((flag,)) + _integer(len(name), 7, 0) + name
    return head + _integer(len(value), 7, 0) + value


class PlainEncoder(hpack.Encoder):
    """HPACK that never adds to the dynamic table and never Huffman-codes (hpack's coder is pure Python, and its
    table search runs for every header): a header's bytes then depend on the header alone, so the ones that do not
    change are encoded once. The first block after each table-size setting says our table is empty (size 0)."""

    def __init__(self) -> None:
        super().__init__()
        self._cache: dict[tuple[bytes, bytes], bytes] = {}
        self._announce = True

    @property
    def header_table_size(self) -> int:
        """The peer's SETTINGS_HEADER_TABLE_SIZE (we use none of it)."""
        return int(self.header_table.maxsize)

    @header_table_size.setter
    def header_table_size(self, value: int) -> None:
        self.header_table.maxsize = value
        self._announce = True

    def encode(self, headers: Any, huffman: bool = False) -> bytes:
        """The header block."""
        out = bytearray(b"\x20" if self._announce else b"")
        self._announce = False
        for header in headers:
            name, value = header[0], header[1]
            if isinstance(header, hpack.NeverIndexedHeaderTuple):
                out += _field(name, value, never=True)
                continue
            encoded = self._cache.get((name, value))
            if encoded is None:
                encoded = _field(name, value, never=False)
                if len(self._cache) < 256:
                    self._cache[(name, value)] = encoded
            out += encoded
        return bytes(out)


def connection(*, client_side: bool) -> h2.connection.H2Connection:
    """An h2 state machine as the senders and the fakes use it: bytes for header names and values, our headers
    encoded by PlainEncoder, and no checking or rewriting of the headers we send (built lower-case, and marked
    literal where they change per request or are secret, by the caller). A client also trusts what it receives (it
    reads the status and a header or two); a fake checks it, so what we send stays valid HTTP/2."""
    conn = h2.connection.H2Connection(h2.config.H2Configuration(
        client_side=client_side, header_encoding=None, validate_outbound_headers=False,
        normalize_outbound_headers=False, validate_inbound_headers=not client_side,
        normalize_inbound_headers=not client_side))
    conn.encoder = PlainEncoder()
    return conn


class _Stream:
    __slots__ = ("body", "done", "headers", "status")

    def __init__(self, done: asyncio.Future[None]) -> None:
        self.done = done
        self.status = 0
        self.headers: dict[str, str] = {}
        self.body = bytearray()


class H2Writer(asyncio.Protocol):
    """A connection whose h2 output is written once at the end of each turn of the event loop: the frames that
    turn made (requests a claimed batch starts together, answers of one turn, acknowledgements) go out in one
    write, not one system call each. The client's connections and the local fakes' share it."""

    h2: h2.connection.H2Connection | None
    transport: asyncio.Transport | None
    _flushing = False

    def _flush(self) -> None:
        if not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().call_soon(self._write)

    def _write(self) -> None:
        self._flushing = False
        if self.h2 is not None and self.transport is not None and not self.transport.is_closing():
            data = self.h2.data_to_send()
            if data:
                self.transport.write(data)


class _Connection(H2Writer):
    """One HTTP/2 connection: streams open on it, its share of the peer's stream limit, its flow-control waiters."""

    def __init__(self) -> None:
        self.h2: h2.connection.H2Connection = connection(client_side=True)
        self.transport: asyncio.Transport | None = None
        self.streams: dict[int, _Stream] = {}
        # Until the peer's SETTINGS arrive, no more streams than RFC 9113 says a peer should allow at least.
        self.settled = False
        self.closed = False
        self.error: Exception | None = None
        self._window: asyncio.Event = asyncio.Event()
        self.on_room: Any = None

    # -- asyncio.Protocol ---------------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.h2.initiate_connection()
        self._flush()

    def data_received(self, data: bytes) -> None:
        try:
            events = self.h2.receive_data(data)
        except h2.exceptions.ProtocolError as exc:
            self._fail(httpx.RemoteProtocolError(f"HTTP/2 protocol error: {exc}"))
            return
        for event in events:
            self._event(event)
        self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(httpx.RemoteProtocolError("connection lost" if exc is None else f"connection lost: {exc}"))

    # -- requests -----------------------------------------------------------------------------------------------

    @property
    def room(self) -> int:
        """Streams this connection may still open."""
        if self.closed:
            return 0
        limit = self.h2.remote_settings.max_concurrent_streams
        return (limit if self.settled else min(limit, 100)) - len(self.streams)

    async def request(self, headers: list[HeaderWeaklyTyped], body: bytes) -> Response:
        """Send one request on a new stream and wait for the whole answer."""
        if self.closed:
            raise self.error or httpx.RemoteProtocolError("connection closed")
        try:
            stream_id = self.h2.get_next_available_stream_id()
        except h2.exceptions.NoAvailableStreamIDError as exc:
            # 2^30 requests on one connection: it ends as its open streams finish, a new one takes over.
            self.closed = True
            self._room()
            raise httpx.RemoteProtocolError("stream ids used up") from exc
        stream = _Stream(asyncio.get_running_loop().create_future())
        self.streams[stream_id] = stream
        try:
            self.h2.send_headers(stream_id, headers, end_stream=not body)
            self._flush()
            view = memoryview(body)
            while view:
                size = min(self.h2.local_flow_control_window(stream_id), self.h2.max_outbound_frame_size, len(view))
                if size <= 0:
                    self._window.clear()
                    window = asyncio.ensure_future(self._window.wait())
                    try:
                        await asyncio.wait((stream.done, window), return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        window.cancel()
                    if stream.done.done():
                        break
                    continue
                self.h2.send_data(stream_id, view[:size].tobytes(), end_stream=size == len(view))
                self._flush()
                view = view[size:]
            await stream.done
        except asyncio.CancelledError:
            # A timeout (or the caller gave up): tell the peer, so the stream does not count against its limit.
            if self.streams.pop(stream_id, None) is not None and not self.closed:
                try:
                    self.h2.reset_stream(stream_id, h2.errors.ErrorCodes.CANCEL)
                    self._flush()
                except h2.exceptions.ProtocolError:
                    pass
                self._room()
            raise
        except h2.exceptions.ProtocolError as exc:
            self.streams.pop(stream_id, None)
            self._room()
            raise httpx.RemoteProtocolError(f"HTTP/2 protocol error: {exc}") from exc
        return Response(stream.status, stream.headers, bytes(stream.body))

    def close(self) -> None:
        """Say goodbye and close."""
        if self.transport is not None and not self.closed:
            try:
                self.h2.close_connection()
                self._write()
            except h2.exceptions.ProtocolError:
                pass
            self.transport.close()
        self.closed = True

    # -- events -------------------------------------------------------------------------------------------------

    def _event(self, event: h2.events.Event) -> None:
        if isinstance(event, h2.events.ResponseReceived):
            stream = self.streams.get(event.stream_id)
            if stream is not None:
                for name, value in event.headers:
                    if name == b":status":
                        stream.status = int(value)
                    else:
                        stream.headers[name.decode("latin-1")] = value.decode("latin-1")
        elif isinstance(event, h2.events.DataReceived):
            stream = self.streams.get(event.stream_id)
            if stream is not None:
                stream.body += event.data
            # The whole body is kept, so the window opens again at once.
            self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            self._finish(event.stream_id, None)
        elif isinstance(event, h2.events.StreamReset):
            self._finish(event.stream_id, httpx.RemoteProtocolError(f"stream reset ({event.error_code!r})"))
        elif isinstance(event, h2.events.WindowUpdated):
            self._window.set()
        elif isinstance(event, h2.events.RemoteSettingsChanged):
            self.settled = True
            self._room()
            self._window.set()
        elif isinstance(event, h2.events.ConnectionTerminated):
            # GOAWAY: no new streams here; streams the peer never took fail now (they go again, elsewhere), those
            # it took may still finish.
            self.closed = True
            self.error = httpx.RemoteProtocolError(f"GOAWAY ({event.error_code!r})")
            last = event.last_stream_id if event.last_stream_id is not None else 0
            for stream_id in [s for s in self.streams if s > last]:
                self._finish(stream_id, self.error)
            if not self.streams and self.transport is not None:
                self.transport.close()
            self._room()

    def _finish(self, stream_id: int, error: Exception | None) -> None:
        stream = self.streams.pop(stream_id, None)
        if stream is not None and not stream.done.done():
            if error is None:
                stream.done.set_result(None)
            else:
                stream.done.set_exception(error)
        if self.closed and not self.streams and self.transport is not None:
            self.transport.close()
        self._room()

    def _fail(self, error: Exception) -> None:
        self.closed = True
        self.error = self.error or error
        streams, self.streams = self.streams, {}
        for stream in streams.values():
            if not stream.done.done():
                stream.done.set_exception(self.error)
        self._window.set()
        if self.transport is not None:
            self.transport.close()
        self._room()

    def _room(self) -> None:
        if self.on_room is not None:
            self.on_room()

class H2Client:
    """HTTP/2 requests to one origin over up to `max_connections` connections (opened as the streams of those
    already open run out)."""

    def __init__(self, base_url: str, *, timeout: float = 10.0, max_connections: int = 2,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        url = urllib.parse.urlsplit(base_url)
        self.base_url = base_url.rstrip("/")
        self._tls = url.scheme == "https"
        self._host = url.hostname or ""
        self._port = url.port or (443 if self._tls else 80)
        self._authority = url.netloc.encode()
        self._scheme = url.scheme.encode()
        self.timeout = timeout
        self.max_connections = max_connections
        self._ssl = ssl_context
        self._connections: list[_Connection] = []
        self._connecting = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    async def request(self, method: str, path: str, headers: dict[str, str] | None = None, content: bytes = b"",
                      *, literal: dict[str, str] | None = None) -> Response:
        """One request; `literal` headers (those that change with every request, and secrets) are kept out of the
        compression table. httpx.TimeoutException after `timeout` seconds, httpx.TransportError when the connection
        fails or the peer refuses the stream."""
        wire: list[HeaderWeaklyTyped] = [
            (b":method", method.encode()), (b":scheme", self._scheme), (b":authority", self._authority),
            hpack.NeverIndexedHeaderTuple(b":path", path.encode()),
            *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items()),
            *(hpack.NeverIndexedHeaderTuple(k.lower().encode(), v.encode()) for k, v in (literal or {}).items())]
        if content:
            wire.append(hpack.NeverIndexedHeaderTuple(b"content-length", str(len(content)).encode()))
        try:
            async with asyncio.timeout(self.timeout):
                conn = await self._slot()
                return await conn.request(wire, content)
        except TimeoutError:
            raise httpx.ReadTimeout(f"no answer within {self.timeout} s") from None
        except OSError as exc:
            raise httpx.ConnectError(str(exc)) from exc

    async def post(self, path: str, *, content: bytes = b"", headers: dict[str, str] | None = None,
                   literal: dict[str, str] | None = None) -> Response:
        """POST `content` to `path`."""
        return await self.request("POST", path, headers, content, literal=literal)

    async def aclose(self) -> None:
        """Close every connection."""
        for conn in self._connections:
            conn.close()
        self._connections.clear()

    async def _slot(self) -> _Connection:
        """A connection with a free stream: an open one, a new one, or the first to free one up. (The caller opens
        its stream before it next yields, so the free stream is still free then.)"""
        while True:
            for conn in self._connections:
                if conn.room > 0:
                    return conn
            self._connections = [c for c in self._connections if not c.closed]
            if len(self._connections) + self._connecting < self.max_connections:
                await self._connect()
                continue
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                if not waiter.done():
                    self._waiters.remove(waiter)

    async def _connect(self) -> _Connection:
        self._connecting += 1
        try:
            loop = asyncio.get_running_loop()
            conn = _Connection()
            conn.on_room = self._wake
            if self._tls:
                context = self._ssl or ssl.create_default_context()
                context.set_alpn_protocols(["h2"])
                transport, _ = await loop.create_connection(lambda: conn, self._host, self._port, ssl=context,
                                                            server_hostname=self._host)
                tls = transport.get_extra_info("ssl_object")
                if tls is None or tls.selected_alpn_protocol() != "h2":
                    transport.close()
                    raise httpx.ConnectError(f"{self._host} does not speak HTTP/2")
            else:
                await loop.create_connection(lambda: conn, self._host, self._port)
            self._connections.append(conn)
            return conn
        finally:
            self._connecting -= 1

    def _wake(self) -> None:
        """Wake as many waiting requests as streams came free (or one, to open a connection in place of a closed
        one); first come first served."""
        free = sum(max(0, c.room) for c in self._connections)
        if any(c.closed for c in self._connections):
            free += 1
        while self._waiters and free > 0:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                free -= 1
