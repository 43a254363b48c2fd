"""The scenarios: what load each one sends. Add one by appending a `Scenario` to SCENARIOS (see bench/README.md)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from bench.http1 import build_request, fetch_json, form

__all__ = ("BASELINE", "HIGH", "SCENARIOS", "Context", "Scenario", "by_name")

# The "higher concurrency" level, beside concurrency 1 (pure latency). `--concurrency` changes it.
HIGH = 32
BASELINE = "health_live"
DEMO_STAFF = ("jinshan.prosecutor", "jianwu-demo")
TOKEN_PATH = "/api/v1/auth/token"


class Context:
    """What scenarios may ask of the running server while they build their requests (never timed)."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._access: tuple[float, str] | None = None

    @property
    def hostport(self) -> str:
        return f"{self.host}:{self.port}"

    async def sign_in(self, username: str = DEMO_STAFF[0], password: str = DEMO_STAFF[1]) -> dict[str, Any]:
        """A password grant for a staff demo account; returns the token response."""
        headers, body = form({"grant_type": "password", "client_id": "staff-app", "username": username,
                              "password": password})
        status, data = await fetch_json(self.host, self.port, "POST", TOKEN_PATH, headers=headers, body=body)
        if status != 200 or not isinstance(data, dict) or "access_token" not in data:
            raise RuntimeError(f"bench: sign-in as {username} answered {status}: {data}")
        return data

    async def access_token(self) -> str:
        """A staff access token, renewed when older than 4 minutes (they live 10)."""
        if self._access is None or time.monotonic() - self._access[0] > 240:
            self._access = (time.monotonic(), (await self.sign_in())["access_token"])
        return self._access[1]

    async def refresh_tokens(self, n: int, parallel: int = 4) -> list[str]:
        """n fresh refresh tokens, from n password sign-ins, `parallel` at a time."""
        out: list[str] = []
        sem = asyncio.Semaphore(parallel)

        async def one() -> None:
            async with sem:
                out.append((await self.sign_in())["refresh_token"])

        await asyncio.gather(*(one() for _ in range(n)))
        return out


Group = dict[str, Any]


@dataclass(frozen=True)
class Scenario:
    """One kind of request, measured at each of its concurrency levels ("high" = the --concurrency level).

    By default every request is `method path` with `headers(ctx)` and `body(ctx)`; `custom_group(ctx, n)` builds
    the load generator's group itself instead (e.g. a pool of single-use tokens). `alongside` = (scenario name,
    concurrency): that scenario's load runs at the same time, in the same load generator, reported beside it.
    """

    name: str
    what: str
    method: str = "GET"
    path: str = "/"
    headers: Callable[[Context], Awaitable[dict[str, str]]] | None = None
    body: Callable[[Context], Awaitable[bytes]] | None = None
    concurrency: tuple[int | str, ...] = (1, "high")
    custom_group: Callable[[Context, int], Awaitable[Group]] | None = None
    alongside: tuple[str, int] | None = None
    expect: int = 200

    def levels(self, high: int) -> list[int]:
        return [high if c == "high" else int(c) for c in self.concurrency]

    async def group(self, ctx: Context, connections: int) -> Group:
        if self.custom_group is not None:
            return {"name": self.name, "connections": connections, **await self.custom_group(ctx, connections)}
        headers = await self.headers(ctx) if self.headers else {}
        body = await self.body(ctx) if self.body else None
        raw = build_request(self.method, self.path, ctx.hostport, headers, body)
        return {"name": self.name, "connections": connections, "kind": "static", "requests": [raw.decode("latin-1")]}


async def _bearer(ctx: Context) -> dict[str, str]:
    return {"Authorization": f"Bearer {await ctx.access_token()}"}


async def _password_form(ctx: Context) -> bytes:
    return form({"grant_type": "password", "client_id": "staff-app", "username": DEMO_STAFF[0],
                 "password": DEMO_STAFF[1]})[1]


async def _form_headers(ctx: Context) -> dict[str, str]:
    return form({})[0]


async def _refresh_pool(ctx: Context, connections: int) -> Group:
    # Two tokens per connection to start; every successful refresh puts its new token back in the pool.
    tokens = await ctx.refresh_tokens(2 * connections)
    return {"kind": "pool", "method": "POST", "path": TOKEN_PATH, "headers": form({})[0],
            "body_template": "grant_type=refresh_token&refresh_token={token}", "field": "refresh_token",
            "tokens": tokens}


async def _paired(ctx: Context, connections: int) -> Group:
    # One connection alternating the two requests: both see the same moment of the machine, request by request.
    live = build_request("GET", "/health/live", ctx.hostport)
    me = build_request("GET", "/api/v1/auth/me", ctx.hostport, await _bearer(ctx))
    return {"kind": "static", "requests": [live.decode("latin-1"), me.decode("latin-1")],
            "labels": ["health_live", "auth_me"]}


SCENARIOS: list[Scenario] = [
    Scenario(
        BASELINE, "GET /health/live: a public route returning a tiny JSON object (the baseline of every ratio).",
        path="/health/live",
    ),
    Scenario("jwks", "GET /.well-known/jwks.json: the public key set (public, served from memory).",
             path="/.well-known/jwks.json"),
    Scenario(
        "auth_me", "GET /api/v1/auth/me with a staff Bearer token: a trivial handler behind the full guard "
        "(ES256 verification, Redis revocation MGET, action check).",
        path="/api/v1/auth/me", headers=_bearer,
    ),
    Scenario(
        "auth_paired", "GET /health/live and GET /api/v1/auth/me alternating on one connection: the "
        "authentication overhead again, each pair measured at the same moment (a cross-check of the two rows "
        "above that background load on the machine cannot skew).",
        path="/api/v1/auth/me", concurrency=(1,), custom_group=_paired,
    ),
    Scenario(
        "token_refresh", "POST /api/v1/auth/token grant_type=refresh_token: rotation (row lock, insert, "
        "ES256 signing, encrypted retry copy, audit row), every request with a never-used token.",
        method="POST", path=TOKEN_PATH, custom_group=_refresh_pool,
    ),
    Scenario(
        "token_password", "POST /api/v1/auth/token grant_type=password: argon2id verification (t=3, 64 MiB, in "
        "a thread), new refresh family, ES256 signing, audit row.",
        method="POST", path=TOKEN_PATH, headers=_form_headers, body=_password_form, concurrency=(1, 4),
    ),
    Scenario(
        "health_live_during_password", "GET /health/live at concurrency 1 while 4 connections sign in with "
        "passwords: shows whether argon2 blocks the event loop.",
        path="/health/live", concurrency=(1,), alongside=("token_password", 4),
    ),
]


def by_name(name: str) -> Scenario:
    for s in SCENARIOS:
        if s.name == name:
            return s
    raise KeyError(name)
