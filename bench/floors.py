"""The floors: what the auth path's parts cost measured directly from the bench process, without HTTP.

Round trips to the bench server's own PostgreSQL and Redis (asyncpg `select 1`, the app's pool, the app's redis-py
client doing the exact revocation MGET, and the same MGET over a bare asyncio socket), plus the in-process CPU
cost of the server's own token verification code on a real access token. Each is bounded in count and time.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from array import array
from pathlib import Path
from typing import Any, Awaitable, Callable

from bench.loadgen import summarize

__all__ = ("measure_floors",)


def _stats(lat: array, elapsed: float) -> dict[str, Any]:
    out = summarize(lat, elapsed)
    out["per_s"] = out.pop("rps")
    return out


async def _timed_async(fn: Callable[[], Awaitable[Any]], count: int, max_s: float) -> dict[str, Any]:
    for _ in range(min(200, count)):
        await fn()
    lat = array("q")
    now = time.perf_counter_ns
    began = now()
    stop = began + int(max_s * 1e9)
    while len(lat) < count and now() < stop:
        t0 = now()
        await fn()
        lat.append(now() - t0)
    return _stats(lat, (now() - began) / 1e9)


def _timed_sync(fn: Callable[[], Any], count: int, max_s: float) -> dict[str, Any]:
    for _ in range(min(200, count)):
        fn()
    lat = array("q")
    now = time.perf_counter_ns
    began = now()
    stop = began + int(max_s * 1e9)
    while len(lat) < count and now() < stop:
        t0 = now()
        fn()
        lat.append(now() - t0)
    return _stats(lat, (now() - began) / 1e9)


def _b64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class _RawRedis:
    """MGET over a bare asyncio stream (RESP2): the socket round trip without any client library."""

    def __init__(self, port: int, keys: list[str]) -> None:
        self.port = port
        parts = [b"MGET", *(k.encode() for k in keys)]
        self.cmd = b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)
        self.n = len(keys)

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def mget(self) -> None:
        self.writer.write(self.cmd)
        line = await self.reader.readline()
        if not line.startswith(b"*"):
            raise RuntimeError(f"unexpected Redis reply {line!r}")
        for _ in range(int(line[1:])):
            head = await self.reader.readline()
            if head[1:3] != b"-1":
                await self.reader.readexactly(int(head[1:]) + 2)

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def _asgi_floors(pg_url: str, redis_url: str, data_dir: Path, access_token: str, count: int,
                       max_s: float) -> dict[str, dict[str, Any]]:
    """The app itself, called in this process through ASGI: no granian, no HTTP parsing, no sockets to the client.

    The difference between the two routes here is what the guard costs inside Litestar, Redis round trip included.
    """
    from api.app import create_app
    from api.settings import Settings

    settings = Settings(database_url=pg_url, redis_url=redis_url, data_dir=data_dir, access_log=False,
                        log_level="WARNING")
    app = create_app(settings)
    headers = {"/health/live": [(b"host", b"127.0.0.1")],
               "/api/v1/auth/me": [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {access_token}".encode())]}
    request = {"type": "http.request", "body": b"", "more_body": False}

    async def receive() -> dict[str, Any]:
        return request

    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    def call(path: str) -> Callable[[], Awaitable[Any]]:
        def one() -> Awaitable[Any]:
            scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
                     "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
                     "root_path": "", "headers": headers[path], "client": ("127.0.0.1", 40000),
                     "server": ("127.0.0.1", 80), "state": {}}
            return app(scope, receive, send)  # type: ignore[arg-type]

        return one

    out = {}
    async with app.lifespan():
        for path, name in (("/health/live", "in-process ASGI: GET /health/live (no granian, no HTTP)"),
                           ("/api/v1/auth/me", "in-process ASGI: GET /api/v1/auth/me (no granian, no HTTP)")):
            statuses.clear()
            out[name] = await _timed_async(call(path), count, max_s)
            bad = [s for s in statuses if s != 200]
            if bad:
                raise RuntimeError(f"bench: in-process {path} answered {bad[:3]}")
    return out


async def measure_floors(pg_url: str, redis_url: str, redis_port: int, access_token: str, jwks: dict[str, Any],
                         *, count: int, max_s: float, data_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """name -> stats (µs). Uses the app's own pool factory, Redis client and TokenVerifier."""
    import asyncpg
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    from api.cache import create_redis
    from api.db import Database, create_pool
    from api.settings import Settings
    from auth.jwt import AUDIENCES, TokenVerifier
    from auth.keyring import ISSUER
    from auth.principal import Principal

    settings = Settings()  # the defaults the server runs with
    out: dict[str, dict[str, Any]] = {}

    conn = await asyncpg.connect(pg_url)
    try:
        out["asyncpg: select 1 (one connection)"] = await _timed_async(lambda: conn.fetchval("select 1"), count, max_s)
    finally:
        await conn.close()
    pool = await create_pool(settings, pg_url)
    try:
        db = Database(pool, settings.db_acquire_timeout)
        out["asyncpg: pool acquire + select 1 (the app's pool)"] = await _timed_async(
            lambda: db.fetchval("select 1"), count, max_s)
    finally:
        await pool.close()

    # The exact revocation check: MGET of the token's deny key and the account's revoked-before mark.
    verifier_keys = {}
    for k in jwks["keys"]:
        x, y = (int.from_bytes(_b64(k[c]), "big") for c in ("x", "y"))
        numbers = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1())
        verifier_keys[k["kid"]] = numbers.public_key()
    verifier = TokenVerifier(verifier_keys, issuer=ISSUER)
    claims = verifier.verify(access_token, audiences=AUDIENCES)
    principal = Principal.from_claims(claims)
    keys = [f"{settings.redis_prefix}deny:{principal.jti}", f"{settings.redis_prefix}revoked_before:{principal.sub}"]
    redis = create_redis(settings, redis_url)
    try:
        out["redis-py: MGET deny + revoked_before (the app's client)"] = await _timed_async(
            lambda: redis.mget(*keys), count, max_s)
    finally:
        await redis.aclose()
    raw = _RawRedis(redis_port, keys)
    await raw.open()
    try:
        out["bare asyncio socket: the same MGET"] = await _timed_async(raw.mget, count, max_s)
    finally:
        await raw.close()

    # CPU only, in this process: the server's own verification code on a real token.
    out["in-process: TokenVerifier.verify (auth/jwt.py)"] = _timed_sync(
        lambda: verifier.verify(access_token, audiences=AUDIENCES), count, max_s)
    out["in-process: Principal.from_claims"] = _timed_sync(lambda: Principal.from_claims(claims), count, max_s)
    head, payload, sig = access_token.split(".")
    signature = _b64(sig)
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    public = verifier_keys[json.loads(_b64(head))["kid"]]
    signed = f"{head}.{payload}".encode()
    algorithm = ec.ECDSA(hashes.SHA256())
    out["in-process: bare ECDSA P-256 verify (cryptography)"] = _timed_sync(
        lambda: public.verify(der, signed, algorithm), count, max_s)
    if data_dir is not None:
        out.update(await _asgi_floors(pg_url, redis_url, data_dir, access_token, count, max_s))
    return out
