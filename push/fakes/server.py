"""Run a small ASGI app under hypercorn on a local port (HTTP/1.1, and HTTP/2 with prior knowledge)."""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import msgspec
from hypercorn.asyncio import serve
from hypercorn.config import Config

__all__ = ("Answer", "FakeServer", "ProviderFake", "Recorded", "TokenFake", "read_body", "receive_request", "respond",
           "scripted")


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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakeServer:
    """Serves `app` on 127.0.0.1 in the running event loop until `stop`."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.app = app
        self.port = port or _free_port()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """Base URL of the fake."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> FakeServer:
        """Start serving; answers once the port accepts connections."""
        config = Config()
        config.bind = [f"127.0.0.1:{self.port}"]
        config.accesslog = None
        config.errorlog = None
        config.keep_alive_timeout = 60
        # Providers keep a connection for as long as the client likes; hypercorn's default closes it after 1,000
        # requests, which cut HTTP/2 streams still open and made the worker resend them.
        config.keep_alive_max_requests = 10**9
        config.graceful_timeout = 1.0
        config.h2_max_concurrent_streams = 1000
        self._task = asyncio.create_task(serve(self.app, config, shutdown_trigger=self._stop.wait))
        for _ in range(200):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return self
            except OSError:
                await asyncio.sleep(0.02)
        raise RuntimeError(f"fake server did not start on {self.port}")

    async def stop(self) -> None:
        """Stop serving."""
        # Connections still open are cancelled with the server; that is the end of them, not an error to print.
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda lp, ctx: None if isinstance(ctx.get("exception"), asyncio.CancelledError)
                                   else lp.default_exception_handler(ctx))
        self._stop.set()
        if self._task is not None:
            await asyncio.wait_for(self._task, 10)
