"""The scenarios: what load each one sends. Add one by appending a `Scenario` to SCENARIOS (see bench/README.md)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bench.http1 import build_request, fetch_json, form

__all__ = ("BASELINE", "COMPLAINTS", "HIGH", "LIAISON", "LITIGATION", "SCENARIOS", "Context", "Scenario", "by_name")

# The "higher concurrency" level, beside concurrency 1 (pure latency). `--concurrency` changes it.
HIGH = 32
BASELINE = "health_live"
DEMO_STAFF = ("jinshan.prosecutor", "jianwu-demo")
TOKEN_PATH = "/api/v1/auth/token"


class Context:
    """What scenarios may ask of the running server while they build their requests (never timed)."""

    def __init__(self, host: str, port: int, *, mint: Any = None, seconds: float = 12.0) -> None:
        self.host = host
        self.port = port
        self.mint = mint  # bench.minting.TokenMint: access tokens no worker has seen yet
        self.seconds = seconds  # warm-up + measured window of one measurement
        self._access: tuple[float, str] | None = None
        self.setup_errors: dict[str, int] = {}  # set-up requests answered 5xx/429 and retried (reported)
        self.data: Any = None  # bench.seed.BenchData, when a complaint scenario runs

    @property
    def hostport(self) -> str:
        return f"{self.host}:{self.port}"

    async def sign_in(self, username: str = DEMO_STAFF[0], password: str = DEMO_STAFF[1]) -> dict[str, Any]:
        """A password grant for a staff demo account; returns the token response."""
        headers, body = form({"grant_type": "password", "client_id": "staff-app", "username": username,
                              "password": password})
        for attempt in range(3):  # a server error during set-up is retried (and reported), never hidden
            status, data = await fetch_json(self.host, self.port, "POST", TOKEN_PATH, headers=headers, body=body)
            if status == 200 and isinstance(data, dict) and "access_token" in data:
                return data
            if status < 429 or attempt == 2:
                break
            key = f"POST {TOKEN_PATH} (password) HTTP {status}"
            self.setup_errors[key] = self.setup_errors.get(key, 0) + 1
            await asyncio.sleep(0.2)
        raise RuntimeError(f"bench: sign-in as {username} answered {status}: {data}")

    async def access_token(self) -> str:
        """A staff access token, renewed when older than 4 minutes (they live 10)."""
        if self._access is None or time.monotonic() - self._access[0] > 240:
            self._access = (time.monotonic(), (await self.sign_in())["access_token"])
        return self._access[1]

    async def fresh_access_tokens(self, per_second: int = 3000, cap: int = 150_000) -> list[str]:
        """Enough never-seen access tokens for one measurement at up to `per_second` requests/s."""
        n = min(cap, max(2000, int(per_second * self.seconds)))
        return await self.mint.mint(await self.access_token(), n)

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
    bare: bool = False  # sent to the bare Litestar app (bench/bare.py) instead of Jianwu
    alone: bool = False  # with bare: measured by itself, not at the same time as Jianwu's health_live

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
    # A token per connection and a few spare; every successful refresh puts its new token back in the pool.
    tokens = await ctx.refresh_tokens(connections + 4)
    return {"kind": "pool", "method": "POST", "path": TOKEN_PATH, "headers": form({})[0],
            "body_template": "grant_type=refresh_token&refresh_token={token}", "field": "refresh_token",
            "tokens": tokens}


async def _fresh_tokens(ctx: Context, connections: int) -> Group:
    # Each token is sent once: enough for the fastest machine seen (about 3,200/s at 1 and 11,300/s at 32).
    tokens = await ctx.fresh_access_tokens(per_second=4000 if connections == 1 else 12_000)
    requests = [build_request("GET", "/api/v1/auth/me", ctx.hostport, {"Authorization": f"Bearer {t}"})
                .decode("latin-1") for t in tokens]
    return {"kind": "static", "requests": requests, "once": True}


async def _paired(ctx: Context, connections: int) -> Group:
    # One connection, the three requests taking turns: each triple sees the same moment of the machine.
    live = build_request("GET", "/health/live", ctx.hostport).decode("latin-1")
    me = build_request("GET", "/api/v1/auth/me", ctx.hostport, await _bearer(ctx)).decode("latin-1")
    fresh = [build_request("GET", "/api/v1/auth/me", ctx.hostport, {"Authorization": f"Bearer {t}"}).decode("latin-1")
             for t in await ctx.fresh_access_tokens(per_second=2000)]
    return {"kind": "cycle", "parts": [
        {"label": "health_live", "requests": [live]},
        {"label": "auth_me", "requests": [me]},
        {"label": "auth_me_fresh_tokens", "requests": fresh, "once": True},
    ]}


async def _bare_paired(ctx: Context, connections: int) -> Group:
    # The bare app's two routes taking turns on one connection, as auth_paired does on Jianwu's.
    live = build_request("GET", "/health/live", ctx.hostport).decode("latin-1")
    fresh = [build_request("GET", "/verify", ctx.hostport, {"Authorization": f"Bearer {t}"}).decode("latin-1")
             for t in await ctx.fresh_access_tokens(per_second=2500)]
    return {"kind": "cycle", "parts": [
        {"label": "bare_live", "requests": [live]},
        {"label": "bare_verify_fresh", "requests": fresh, "once": True},
    ]}


_ITEM = {"category": "accusation", "title": "压测：某窗口违规收费",
         "body": "办事时被收取不合理费用，请依法处理。这是压测提交的事项。", "location": {"latitude": 30.74,
                                                                    "longitude": 121.34, "address": "上海市金山区"}}


async def _creates(ctx: Context, connections: int) -> Group:
    # Citizens file in both demo districts, each request with its own Idempotency-Key (sent once).
    import json
    import uuid

    tokens = [await ctx.mint.citizen(c) for c in ctx.data.citizens]
    n = max(3000, int(1500 * ctx.seconds))
    requests = []
    for i in range(n):
        body = json.dumps({**_ITEM, "office": ("jinshan", "chongming")[i % 2]}, ensure_ascii=False).encode()
        headers = {"Authorization": f"Bearer {tokens[i % len(tokens)]}", "Content-Type": "application/json",
                   "Idempotency-Key": f"bench-{uuid.uuid4().hex}"}
        requests.append(build_request("POST", "/api/v1/me/complaints", ctx.hostport, headers, body).decode("latin-1"))
    return {"kind": "static", "requests": requests, "once": True}


def _list_of(size_key: str, offices: str = "offices",
             path: str = "/api/v1/staff/complaints") -> Callable[[Context, int], Awaitable[Group]]:
    """The first page of `path` as staff of the generated office (`ctx.data.<offices>`) of the smaller or larger
    size."""
    async def group(ctx: Context, connections: int) -> Group:
        by_size = getattr(ctx.data, offices)
        sizes = sorted(by_size)
        office = by_size[sizes[0] if size_key == "small" else sizes[-1]]
        token = (await ctx.mint.mint(await ctx.access_token(), 1, office=office))[0]
        raw = build_request("GET", f"{path}?limit=50", ctx.hostport, {"Authorization": f"Bearer {token}"})
        return {"kind": "static", "requests": [raw.decode("latin-1")]}
    return group


async def _read_item(ctx: Context, connections: int) -> Group:
    raw = build_request("GET", f"/api/v1/staff/complaints/{ctx.data.item_id}", ctx.hostport, await _bearer(ctx))
    return {"kind": "static", "requests": [raw.decode("latin-1")]}


_SUGGESTIONS = "/api/v1/staff/liaison/suggestions"


async def _read_suggestion(ctx: Context, connections: int) -> Group:
    # The newest suggestion of the demo office, as its list names it (found before the window, never timed).
    headers = await _bearer(ctx)
    status, page = await fetch_json(ctx.host, ctx.port, "GET", f"{_SUGGESTIONS}?limit=1", headers=headers)
    if status != 200 or not page["items"]:
        raise RuntimeError(f"bench: no suggestion to read ({status}: {page})")
    raw = build_request("GET", f"{_SUGGESTIONS}/{page['items'][0]['id']}", ctx.hostport, headers)
    return {"kind": "static", "requests": [raw.decode("latin-1")]}


COMPLAINTS = frozenset({"complaint_create", "complaint_get", "complaint_list_small", "complaint_list_large"})


def _pil_list_of(size_key: str, what: str) -> Callable[[Context, int], Awaitable[Group]]:
    return _list_of(size_key, "pil_offices", f"/api/v1/staff/litigation/{what}")


async def _read_case(ctx: Context, connections: int) -> Group:
    raw = build_request("GET", f"/api/v1/staff/litigation/cases/{ctx.data.pil_case_id}", ctx.hostport,
                        await _bearer(ctx))
    return {"kind": "static", "requests": [raw.decode("latin-1")]}


LITIGATION = frozenset({"pil_case_get", "pil_case_list_small", "pil_case_list_large", "pil_clue_list_large"})
LIAISON = frozenset({"suggestion_get", "suggestion_list_small", "suggestion_list_large"})

SCENARIOS: list[Scenario] = [
    Scenario(
        BASELINE, "GET /health/live: a public route returning a tiny JSON object (the baseline of every ratio).",
        path="/health/live",
    ),
    Scenario("jwks", "GET /.well-known/jwks.json: the public key set (public, served from memory).",
             path="/.well-known/jwks.json"),
    Scenario(
        "auth_me", "GET /api/v1/auth/me with one staff Bearer token on every request, as a phone sends it for the "
        "token's 10 minutes: a handler as trivial as /health/live's behind the full guard (token verification, "
        "revocation check, action check; whatever the guard caches per worker helps here).",
        path="/api/v1/auth/me", headers=_bearer,
    ),
    Scenario(
        "auth_me_fresh_tokens", "GET /api/v1/auth/me, every request with an access token no worker has seen "
        "(minted by the bench with the server's own key): no cache of verified tokens or revocation answers "
        "helps, so each pays signature verification (revocation is checked against the worker's own copy of the "
        "marks, as for every token) — many users, one request each.",
        path="/api/v1/auth/me", custom_group=_fresh_tokens,
    ),
    Scenario(
        "auth_paired", "GET /health/live, GET /api/v1/auth/me with the one token and with a never-seen token, taking "
        "turns on one connection: the authentication overhead measured with each triple at the same moment, so "
        "background load that comes and goes cannot skew the difference (the verdict is judged here).",
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
        "bare_verify", "GET /health/live and GET /verify on the bare app (bench/bare.py) taking turns on one "
        "connection, /verify with a never-seen token each time, verified by Jianwu's own TokenVerifier and nothing "
        "else: what the ES256 verification itself costs under granian, the floor under auth_me_fresh_tokens.",
        path="/verify", concurrency=(1,), custom_group=_bare_paired, bare=True, alone=True,
    ),
    Scenario(
        "bare_litestar", "GET /health/live on a minimal Litestar app (one JSON route, nothing around it), served by "
        "granian with the same workers, loaded at the same time as Jianwu's health_live with the same number of "
        "connections (the second line of each row): the framework's floor, both meeting the same machine.",
        path="/health/live", bare=True,
    ),
    Scenario(
        "complaint_create", "POST /api/v1/me/complaints as signed-in citizens (64 accounts) in two offices, each "
        "with a new Idempotency-Key: the whole command in one transaction (key, duplicate check, item, two "
        "clocks, timeline, outbox, audit), sent once each.",
        method="POST", path="/api/v1/me/complaints", custom_group=_creates,
    ),
    Scenario(
        "complaint_get", "GET /api/v1/staff/complaints/{id}: one item with its timeline, clocks and attachments, "
        "as a prosecutor of the office reads it (authenticated read of one complaint).",
        path="/api/v1/staff/complaints/{id}", custom_group=_read_item,
    ),
    Scenario(
        "complaint_list_small", "GET /api/v1/staff/complaints?limit=50: the first page of the staff list of an "
        "office holding the smaller generated size (10^4 complaints).",
        path="/api/v1/staff/complaints", custom_group=_list_of("small"),
    ),
    Scenario(
        "complaint_list_large", "GET /api/v1/staff/complaints?limit=50: the first page of the staff list of an "
        "office holding the larger generated size (10^6; 10^5 with --quick).",
        path="/api/v1/staff/complaints", custom_group=_list_of("large"),
    ),
    Scenario(
        "suggestion_get", "GET /api/v1/staff/liaison/suggestions/{id}: one deputy's suggestion with the "
        "representative (masked), clocks, timeline, pending reply and links, as a prosecutor of the office reads it "
        "(the demo office's newest, in a table that also holds the generated offices' suggestions).",
        path="/api/v1/staff/liaison/suggestions/{id}", custom_group=_read_suggestion,
    ),
    Scenario(
        "suggestion_list_small", "GET /api/v1/staff/liaison/suggestions?limit=50: the first page of the staff list "
        "(each suggestion with its next open deadline) of an office holding 10^4 suggestions.",
        path="/api/v1/staff/liaison/suggestions", custom_group=_list_of("small", "liaison_offices", _SUGGESTIONS),
    ),
    Scenario(
        "suggestion_list_large", "GET /api/v1/staff/liaison/suggestions?limit=50: the first page of the staff list "
        "of an office holding 10^6 suggestions (10^5 with --quick).",
        path="/api/v1/staff/liaison/suggestions", custom_group=_list_of("large", "liaison_offices", _SUGGESTIONS),
    ),
    Scenario(
        "pil_case_get", "GET /api/v1/staff/litigation/cases/{id}: one PIL case with its recommendation and the "
        "agency's reply, clocks, timeline, attachments and the steps open to the caller, as a prosecutor of the "
        "office reads it (target: within 2x of complaint_get).",
        path="/api/v1/staff/litigation/cases/{id}", custom_group=_read_case,
    ),
    Scenario(
        "pil_case_list_small", "GET /api/v1/staff/litigation/cases?limit=50: the first page of the case list (with "
        "each case's nearest open deadline) of an office holding 10^4 clues and 10^4 cases.",
        path="/api/v1/staff/litigation/cases", custom_group=_pil_list_of("small", "cases"),
    ),
    Scenario(
        "pil_case_list_large", "GET /api/v1/staff/litigation/cases?limit=50: the first page of the case list of an "
        "office holding 10^6 clues and 10^6 cases (10^5 with --quick; target p99 < 20 ms).",
        path="/api/v1/staff/litigation/cases", custom_group=_pil_list_of("large", "cases"),
    ),
    Scenario(
        "pil_clue_list_large", "GET /api/v1/staff/litigation/clues?limit=50: the first page of the clue registry of "
        "the same office (10^6 clues; 10^5 with --quick; target p99 < 20 ms).",
        path="/api/v1/staff/litigation/clues", custom_group=_pil_list_of("large", "clues"),
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
