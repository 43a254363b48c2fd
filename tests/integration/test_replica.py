"""Reads on a real streaming replica: a primary and a standby made with `pg_basebackup -R`, both embedded
PostgreSQL servers of this test. Office-wide lists, statistics and monitoring are served by the standby; a single
read after a write stays on the primary; a lagging or stopped standby never fails a request."""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.db import Database, Replica, connect, create_pool
from api.embedded import EmbeddedPostgres
from api.errors import ErrorCode, ProblemError
from api.serve import ensure_database, prepare_database
from api.settings import Settings
from tests.conftest import _base_settings, _free_port
from tests.helpers import bearer, key, token_for
from tests.integration.console.conftest import Browser, signed_in

pytestmark = pytest.mark.slow

FILING = {"channel": "walk_in", "category": "criminal-appeal", "body": "本人对某案不起诉决定不服，申请复查。",
          "fields": {"case_no": "（2025）沪0116刑初12号"}, "visitor": {"name": "张三丰", "phone": "13912345678"}}


@dataclasses.dataclass
class Pair:
    """The primary and its standby, with the URLs of the application's database on each."""

    primary: EmbeddedPostgres
    standby: EmbeddedPostgres
    primary_url: str
    standby_url: str


def _with_db(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="module", name="pair")
def fx_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    """A primary (migrated, demo data) and a hot standby streaming from it."""
    base: Path = tmp_path_factory.mktemp("replica")
    primary = EmbeddedPostgres(base / "primary" / "pgdata", _free_port())
    standby = EmbeddedPostgres(base / "standby" / "pgdata", _free_port())
    primary.start()
    try:
        bootstrap = _base_settings()
        url = asyncio.run(ensure_database(bootstrap, primary.url, "jianwu"))
        asyncio.run(prepare_database(_base_settings(data_dir=base / "data", secret_key="s" * 40), url,
                                     demo_data=True))
        # The default wal_level (replica) and the default pg_hba (replication from 127.0.0.1, trust) are what a
        # streaming standby needs; -R writes standby.signal and primary_conninfo into the copy.
        standby.pgdata.parent.mkdir(parents=True)
        subprocess.run([str(primary.bin / "pg_basebackup"), "-d", primary.url, "-D", str(standby.pgdata), "-R",
                        "-X", "stream", "-c", "fast"], check=True, capture_output=True)
        standby.start()
        yield Pair(primary, standby, url, _with_db(standby.url, "jianwu"))
    finally:
        standby.stop()
        primary.stop()


@pytest.fixture(scope="module", name="replica_settings")
def fx_replica_settings(pair: Pair, servers: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The app's settings: DATABASE_URL the primary, DATABASE_REPLICA_URL the standby."""
    return _base_settings(
        database_url=pair.primary_url, database_replica_url=pair.standby_url, redis_url=servers[1],
        redis_prefix=f"jwrepl:{uuid.uuid4().hex[:8]}:", data_dir=tmp_path_factory.mktemp("replica-data"),
        secret_key="s" * 40, sweep_interval=0, otp_ip_limit=100_000, login_ip_limit=100_000,
        # Generous while the test proves where reads go; the lag test lowers it on the running app.
        db_replica_max_lag=60.0,
    )


@pytest.fixture(scope="module", name="rclient")
async def fx_rclient(replica_settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """A client of an app built with both URLs, once its worker has taken the replica into use."""
    async with AsyncTestClient(app=create_app(replica_settings), base_url="http://jianwu.test") as client:
        await _until(client, lambda checks: checks.get("replica", {}).get("ok") is True)
        yield client


async def _until(client: Any, want: Any, timeout: float = 30) -> dict[str, Any]:
    """Poll /health/ready until its checks satisfy `want`; the checks."""
    deadline = time.monotonic() + timeout
    while True:
        resp = await client.get("/health/ready")
        body = resp.json()
        checks = body["checks"] if resp.status_code == 200 else body.get("checks", {})
        if want(checks):
            return checks
        assert time.monotonic() < deadline, checks
        await asyncio.sleep(0.2)


async def _replayed(pair: Pair) -> None:
    """Wait until the standby has replayed everything the primary has written so far."""
    primary = await asyncpg.connect(pair.primary_url)
    standby = await asyncpg.connect(pair.standby_url)
    try:
        target = await primary.fetchval("select pg_current_wal_lsn()")
        for _ in range(300):
            if await standby.fetchval("select pg_last_wal_replay_lsn() >= $1", target):
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the standby did not replay the primary's WAL within 15 s")
    finally:
        await primary.close()
        await standby.close()


async def _file(client: Any, office: dict[str, str], title: str) -> str:
    filed = await client.post("/api/v1/staff/complaints", headers={**office, **key()}, json={**FILING, "title": title})
    assert filed.status_code == 201, filed.text
    return filed.json()["id"]


async def _listed(client: Any, office: dict[str, str], marker: str) -> set[str]:
    page = await client.get("/api/v1/staff/complaints", headers=office, params={"q": marker})
    assert page.status_code == 200, page.text
    return {i["id"] for i in page.json()["items"]}


async def test_a_read_cancelled_by_replay_is_a_503_to_retry(replica_settings: Settings, pair: Pair) -> None:
    """A standby cancels a query whose snapshot still needs rows that replayed cleanup removes (at once with
    max_standby_streaming_delay = 0): the client is told to retry, with no 500."""
    standby = await connect(_base_settings(), pair.standby_url)
    primary = await connect(_base_settings(), pair.primary_url)
    # Pools of this test's own event loop (the test client runs the app in another), set up as the lifespan does.
    db = Database(await create_pool(replica_settings, pair.primary_url), 2.0)
    db.replica = Replica(await create_pool(replica_settings, pair.standby_url, replica_of=db), 60.0, 2.0)
    assert await db.replica.check()
    try:
        await standby.execute("alter system set max_standby_streaming_delay = 0")
        await standby.execute("select pg_reload_conf()")
        await primary.execute("create table if not exists replay_conflict (id int primary key, n int)")
        await primary.execute("grant select on replay_conflict to jianwu_app")
        await primary.execute("insert into replay_conflict values (1, 0) on conflict do nothing")
        await _replayed(pair)

        async def long_read() -> None:
            async with db.read() as conn:
                await conn.fetchval("select count(*) from replay_conflict, pg_sleep(5)")

        reading = asyncio.create_task(long_read())
        await asyncio.sleep(0.5)  # the read's snapshot is taken, and still sees row 1's first version
        await primary.execute("update replay_conflict set n = n + 1")
        await primary.execute("vacuum replay_conflict")  # removes that version: replaying it conflicts
        with pytest.raises(ProblemError) as raised:
            await asyncio.wait_for(reading, 10)
        assert raised.value.code == ErrorCode.DATABASE_UNAVAILABLE.value and raised.value.status == 503
        assert raised.value.headers == {"Retry-After": "1"}
        assert db.replica.usable  # a conflict is no outage: reads stay on the standby
    finally:
        await standby.execute("alter system reset max_standby_streaming_delay")
        await standby.execute("select pg_reload_conf()")
        await standby.close()
        await primary.close()
        await db.replica.pool.close()
        await db.pool.close()


async def test_lists_read_the_standby_and_fall_back_to_the_primary(rclient, pair: Pair) -> None:
    office = bearer(await token_for(rclient, "jinshan.complaints_office"))
    marker = f"复制{uuid.uuid4().hex[:6]}"
    first = await _file(rclient, office, f"{marker} 第一件")
    await _replayed(pair)
    assert await _listed(rclient, office, marker) == {first}

    standby = await connect(_base_settings(), pair.standby_url)
    primary = await connect(_base_settings(), pair.primary_url)
    replica = rclient.app.state.db.replica
    try:
        # Replay paused: what the primary commits from now on is not on the standby.
        await standby.execute("select pg_wal_replay_pause()")
        second = await _file(rclient, office, f"{marker} 第二件")
        assert await primary.fetchval("select count(*) from complaints where id = $1::uuid", second) == 1
        # Read-your-writes: the new item's own page is read on the primary.
        assert (await rclient.get(f"/api/v1/staff/complaints/{second}", headers=office)).status_code == 200
        # The office's list is the standby's: it has the first item and not the second, which the primary has.
        assert await _listed(rclient, office, marker) == {first}
        # Statistics and flow monitoring read there too, their clock sweep going to the primary (the standby
        # refuses writes: a sweep run there would fail the request).
        chief = bearer(await token_for(rclient, "jinshan.chief"))
        for url in ("/api/v1/monitoring/deadlines?withinDays=30", "/api/v1/monitoring/rates",
                    "/api/v1/staff/complaints/deadlines", "/api/v1/staff/complaints/stats",
                    "/api/v1/staff/litigation/cases", "/api/v1/staff/litigation/clues",
                    "/api/v1/staff/liaison/suggestions", "/api/v1/staff/liaison/representatives",
                    "/api/v1/staff/liaison/contacts", "/api/v1/staff/liaison/stats"):
            got = await rclient.get(url, headers=chief)
            assert got.status_code == 200, (url, got.text)
        browser = Browser(rclient)
        await signed_in(browser, "jinshan.chief")
        figures = await browser.get("/console/data/figures", headers={"Accept": "application/json"})
        assert figures.status_code == 200, figures.text
        assert replica.usable

        # Lagging past the limit: reads leave the standby, so the list now has the second item.
        replica.max_lag = 0.5
        checks = await _until(rclient, lambda c: c["replica"]["ok"] is False)
        assert checks["replica"]["error"] == "lagging" and checks["postgres"]["ok"]
        assert await _listed(rclient, office, marker) == {first, second}

        # Caught up again: back in use, and the standby now has both.
        await standby.execute("select pg_wal_replay_resume()")
        replica.max_lag = 60.0
        await _replayed(pair)
        await _until(rclient, lambda c: c["replica"]["ok"] is True)
        assert await _listed(rclient, office, marker) == {first, second}
    finally:
        await standby.close()
        await primary.close()

    # The standby stopped: every read still answers, from the primary; readiness stays 200.
    pair.standby.stop()
    assert await _listed(rclient, office, marker) == {first, second}
    third = await _file(rclient, office, f"{marker} 第三件")
    for _ in range(3):
        assert await _listed(rclient, office, marker) == {first, second, third}
    ready = await rclient.get("/health/ready")
    assert ready.status_code == 200 and ready.json()["checks"]["replica"]["ok"] is False
    assert ready.json()["checks"]["replica"]["error"] == "unreachable"
    assert not replica.usable
    got = await rclient.get("/api/v1/monitoring/rates", headers=chief)
    assert got.status_code == 200, got.text
