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
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.loadgen import summarize

__all__ = ("ASGI_LIVE", "ASGI_ME_FRESH", "ASGI_ME_SAME", "ECDSA_ALONE", "INSIDE", "MGET_BARE", "MGET_REDIS_PY",
           "PRINCIPAL_ALONE", "VARIANTS", "VERIFY_ALONE", "measure_floors")


def _stats(lat: array, elapsed: float) -> dict[str, Any]:
    out = summarize(lat, elapsed)
    out["per_s"] = out.pop("rps")
    return out


async def _timed_async(fn: Callable[[], Awaitable[Any]], count: int, max_s: float,
                       after_warmup: Callable[[], None] | None = None) -> dict[str, Any]:
    for _ in range(min(200, count)):
        await fn()
    if after_warmup is not None:
        after_warmup()
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


MGET_REDIS_PY = "redis-py: MGET of the revocation keys (the app's client)"
MGET_BARE = "bare asyncio socket: the same MGET"


def _revocation_keys(prefix: str, principal: Any) -> list[str]:
    """The keys auth/revocation.py reads for one token (deny by jti, revoked-before by subject, denied family)."""
    try:
        from auth.revocation import subject_key

        subject = subject_key(principal)
    except ImportError:
        subject = principal.sub
    return [f"{prefix}deny:{principal.jti}", f"{prefix}revoked_before:{subject}",
            f"{prefix}deny_fam:{principal.family or '-'}"]


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


# Names of the in-process ASGI rows (report.py reads them).
ASGI_LIVE = "in-process ASGI: GET /health/live"
ASGI_ME_SAME = "in-process ASGI: GET /api/v1/auth/me, one token again and again"
ASGI_ME_FRESH = "in-process ASGI: GET /api/v1/auth/me, a never-seen token each time"
INSIDE = "in-process ASGI, {variant}: inside {part}"
VARIANTS = {ASGI_ME_SAME: "same token", ASGI_ME_FRESH: "fresh tokens"}
VERIFY_ALONE = "in-process: TokenVerifier.verify (auth/jwt.py)"
PRINCIPAL_ALONE = "in-process: Principal.from_claims"
ECDSA_ALONE = "in-process: bare ECDSA P-256 verify (cryptography)"
# The guard's parts timed where they run, inside the app: (state attribute, method).
PARTS = (("keyring", "verify"), ("revocations", "check"))


async def _asgi_floors(pg_url: str, redis_url: str, data_dir: Path, access_token: str, fresh_tokens: list[str],
                       count: int, max_s: float) -> dict[str, dict[str, Any]]:
    """The app itself, called in this process through ASGI: no granian, no HTTP parsing, no client sockets.

    auth_me minus health_live here is what the guard costs inside Litestar, Redis round trip included; the guard's
    parts are timed inside the app by wrapping this process's own instances (nothing in the server changes).
    """
    from api.app import create_app
    from api.settings import Settings

    settings = Settings(database_url=pg_url, redis_url=redis_url, data_dir=data_dir, access_log=False,
                        log_level="WARNING")
    app = create_app(settings)
    request = {"type": "http.request", "body": b"", "more_body": False}

    async def receive() -> dict[str, Any]:
        return request

    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    def scope(path: str, token: str | None) -> dict[str, Any]:
        headers = [(b"host", b"127.0.0.1")]
        if token:
            headers.append((b"authorization", f"Bearer {token}".encode()))
        return {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
                "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
                "root_path": "", "headers": headers, "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 80),
                "state": {}}

    fresh = iter(fresh_tokens)
    def call(path: str, token: Callable[[], str | None]) -> Callable[[], Awaitable[Any]]:
        return lambda: app(scope(path, token()), receive, send)  # type: ignore[arg-type]

    variants: list[tuple[str, Callable[[], Awaitable[Any]], int]] = [
        (ASGI_LIVE, call("/health/live", lambda: None), count),
        (ASGI_ME_SAME, call("/api/v1/auth/me", lambda: access_token), count),
        (ASGI_ME_FRESH, call("/api/v1/auth/me", lambda: next(fresh)), max(0, min(count, len(fresh_tokens) - 200))),
    ]
    out: dict[str, dict[str, Any]] = {}
    async with app.lifespan():
        samples: dict[str, array] = {}
        for attr, method in PARTS:
            obj = getattr(app.state, attr, None)
            if obj is not None and hasattr(obj, method):
                samples[f"{type(obj).__name__}.{method}"] = lat = array("q")
                setattr(obj, method, _timing_wrapper(getattr(obj, method), lat))
        for name, one, n in variants:
            if n == 0:
                continue
            statuses.clear()

            def reset() -> None:
                for lat in samples.values():
                    del lat[:]

            out[name] = await _timed_async(one, n, max_s, after_warmup=reset)
            bad = [s for s in statuses if s != 200]
            if bad:
                raise RuntimeError(f"bench: in-process {name} answered {bad[:3]}")
            if name != ASGI_LIVE:
                for part, lat in samples.items():
                    out[INSIDE.format(variant=VARIANTS[name], part=part)] = _stats(lat, 1.0)
    return out


def _timing_wrapper(fn: Callable[..., Awaitable[Any]], lat: array) -> Callable[..., Awaitable[Any]]:
    async def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter_ns()
        try:
            return await fn(*args, **kwargs)
        finally:
            lat.append(time.perf_counter_ns() - t0)

    return timed


async def measure_floors(pg_url: str, redis_url: str, redis_port: int, access_token: str, jwks: dict[str, Any],
                         *, count: int, max_s: float, data_dir: Path | None = None,
                         fresh_tokens: list[str] | None = None) -> dict[str, dict[str, Any]]:
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
    keys = _revocation_keys(settings.redis_prefix, principal)
    redis = create_redis(settings, redis_url)
    try:
        out[MGET_REDIS_PY] = await _timed_async(lambda: redis.mget(keys), count, max_s)
    finally:
        await redis.aclose()
    raw = _RawRedis(redis_port, keys)
    await raw.open()
    try:
        out[MGET_BARE] = await _timed_async(raw.mget, count, max_s)
    finally:
        await raw.close()

    # CPU only, in this process: the server's own verification code on a real token.
    out[VERIFY_ALONE] = _timed_sync(
        lambda: verifier.verify(access_token, audiences=AUDIENCES), count, max_s)
    out[PRINCIPAL_ALONE] = _timed_sync(lambda: Principal.from_claims(claims), count, max_s)
    head, payload, sig = access_token.split(".")
    signature = _b64(sig)
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    public = verifier_keys[json.loads(_b64(head))["kid"]]
    signed = f"{head}.{payload}".encode()
    algorithm = ec.ECDSA(hashes.SHA256())
    out[ECDSA_ALONE] = _timed_sync(
        lambda: public.verify(der, signed, algorithm), count, max_s)
    if data_dir is not None:
        out.update(await _asgi_floors(pg_url, redis_url, data_dir, access_token, fresh_tokens or [], count, max_s))
    return out
