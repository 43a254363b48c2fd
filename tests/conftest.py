"""Test fixtures: real PostgreSQL and Redis (embedded, or the servers in TEST_DATABASE_URL / TEST_REDIS_URL)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from argon2 import PasswordHasher
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.db import connect
from api.embedded import embedded_services
from api.serve import ensure_database, prepare_database
from api.settings import Settings
from auth.passwords import hash_password, use_hasher
from tests.helpers import CLIENT_FOR_KIND, bearer, token_for

# argon2id at light parameters (1 MiB, one pass: under 1 ms a hash, not 160): some 900 hashes and sign-ins took
# two and a half minutes of each run. The production parameters are asserted in tests/unit/auth/test_passwords.py;
# servers the tests start as processes of their own (`jianwu serve`, the console's browser tests) hash with them.
use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))

ROOT = Path(__file__).resolve().parent.parent
TEST_DB = f"jianwu_test_{os.getpid()}"


def _base_settings(**overrides: object) -> Settings:
    values = {"env": "test", "access_log": False, "log_level": "WARNING",
              "data_dir": Path(os.environ.get("JIANWU_DATA_DIR", ROOT / ".data")), **overrides}
    return Settings(**values)  # type: ignore[arg-type]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session", name="servers")
def fx_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """Server URLs: TEST_DATABASE_URL / TEST_REDIS_URL, or embedded servers of this run's own (a fresh data
    directory and free ports, so two test runs on one machine never share or stop each other's servers)."""
    pg, rd = os.environ.get("TEST_DATABASE_URL"), os.environ.get("TEST_REDIS_URL")
    if pg and rd:
        yield pg, rd
        return
    with embedded_services(
        tmp_path_factory.mktemp("servers"), pg_port=_free_port(), redis_port=_free_port(),
        postgres=not pg, redis=not rd,
    ) as (epg, erd):
        yield (pg or epg), (rd or erd)  # type: ignore[misc]


@pytest.fixture(scope="session", name="settings")
def fx_settings(servers: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings for the suite: a fresh database of its own on the test server, a Redis key prefix of its own."""
    server_url, redis_url = servers
    bootstrap = _base_settings()
    db_url = asyncio.run(ensure_database(bootstrap, server_url, TEST_DB, fresh=True))
    settings = _base_settings(
        database_url=db_url, redis_url=redis_url, redis_prefix=f"jwtest:{uuid.uuid4().hex[:8]}:",
        data_dir=tmp_path_factory.mktemp("data"), secret_key="test-secret-key-" + "x" * 32,
        # Every request of the suite comes from one test address; per-address limits are tested on their own.
        otp_ip_limit=100_000, login_ip_limit=100_000, anonymous_filing_ip_limit=100_000,
        # The sweep runs when a test asks (POST /monitoring/sweep), so the ladder never climbs behind its back.
        sweep_interval=0,
        metrics_token="scrape-token-for-tests",
    )
    asyncio.run(prepare_database(settings, db_url, demo_data=True))
    yield settings
    asyncio.run(_drop(bootstrap, server_url))


async def _drop(settings: Settings, server_url: str) -> None:
    conn = await connect(settings, server_url)
    try:
        await conn.execute(f'drop database if exists "{TEST_DB}" with (force)')
    finally:
        await conn.close()


@pytest.fixture(scope="module", name="server")
def fx_server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`jianwu serve` (one worker) on the suite's database and Redis prefix, for clients that need a real socket
    (a browser, node); answers its base URL."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
           "JIANWU_REDIS_PREFIX": settings.redis_prefix, "JIANWU_SECRET_KEY": settings.secret_key,
           "JIANWU_ENV": "test", "PORT": str(port), "JIANWU_WORKERS": "1", "JIANWU_DATA_DIR": str(settings.data_dir),
           "JIANWU_SWEEP_INTERVAL": "0", "JIANWU_LOGIN_IP_LIMIT": "100000",
           "JIANWU_ANONYMOUS_FILING_IP_LIMIT": "100000", "JIANWU_ACCESS_LOG": "false"}
    jianwu = os.path.join(os.path.dirname(sys.executable), "jianwu")
    # Its output goes to a file, not a pipe nobody reads, which would stall the server once full.
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([jianwu, "serve"], env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        assert proc.poll() is None, log.read_text()
        try:
            if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "jianwu serve not ready in 90 s\n" + log.read_text()
        time.sleep(0.3)
    yield base
    proc.terminate()
    proc.wait(timeout=60)


@pytest.fixture(scope="session", name="app")
def fx_app(settings: Settings) -> Litestar:
    """The application under test, built exactly as a server worker builds it."""
    return create_app(settings)


@pytest.fixture(scope="session", name="client")
async def fx_client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """An HTTP client speaking to the app; the app opens its own pool and Redis client in its lifespan."""
    async with AsyncTestClient(app=app, base_url="http://jianwu.test") as client:
        yield client


@pytest.fixture(name="conn")
async def fx_conn(settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection to the test database, for arranging and checking rows."""
    conn = await connect(settings, settings.database_url)  # type: ignore[arg-type]
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture(name="redis")
async def fx_redis(settings: Settings) -> AsyncIterator[aioredis.Redis]:
    """A direct Redis client for the test server."""
    client = aioredis.Redis.from_url(settings.redis_url)  # type: ignore[arg-type]
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture(name="staff")
async def fx_staff(client):  # noqa: ANN001, ANN201
    """Headers for demo staff by role, per office: staff('jinshan', 'chief')."""
    cache: dict[tuple[str, str], dict[str, str]] = {}

    async def get(office: str = "jinshan", role: str = "complaints_office") -> dict[str, str]:
        if (office, role) not in cache:
            cache[(office, role)] = bearer(await token_for(client, f"{office}.{role}"))
        return cache[(office, role)]
    return get


@pytest.fixture(name="make_user")
def fx_make_user(conn):  # noqa: ANN001, ANN201
    """Create a fresh account (so tests that lock, disable or enrol never disturb the demo ones)."""
    async def make(office: str = "jinshan", roles: tuple[str, ...] = ("prosecutor",), kind: str = "staff",
                   password: str = "pw-" + uuid.uuid4().hex[:8]) -> dict[str, Any]:
        username = f"t{uuid.uuid4().hex[:10]}"
        row = await conn.fetchrow(
            """
            insert into users (kind, office_id, username, display_name, password_hash, roles)
            values ($1, (select id from offices where code = $2), $3, $3, $4, $5) returning id
            """,
            kind, office, username, await hash_password(password), list(roles),
        )
        return {"id": row["id"], "username": username, "password": password,
                "client_id": CLIENT_FOR_KIND[kind]}
    return make


@pytest.fixture(name="make_office")
def fx_make_office(conn):  # noqa: ANN001, ANN201
    """Create a fresh office (under the demo municipal office unless told otherwise); returns its code."""
    async def make(*, parent: str | None = "shanghai", province: str = "上海", level: str = "county") -> str:
        code = f"t{uuid.uuid4().hex[:8]}"
        await conn.execute("insert into offices (code, name, parent_id, province, level) values "
                           "($1, $1, (select id from offices where code = $2), $3, $4)", code, parent, province, level)
        return code
    return make
