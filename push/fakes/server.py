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

__all__ = ("Answer", "FakeServer", "Recorded", "read_body", "respond")


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


async def respond(send: Any, status: int, body: dict[str, Any] | None = None,
                  headers: dict[str, str] | None = None) -> None:
    """Answer with a JSON body (or none)."""
    payload = msgspec.json.encode(body) if body is not None else b""
    raw = [(b"content-type", b"application/json"), *((k.encode(), v.encode()) for k, v in (headers or {}).items())]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


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
        self._stop.set()
        if self._task is not None:
            await asyncio.wait_for(self._task, 10)
