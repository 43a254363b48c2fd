"""The audit trail: every sign-in and write recorded, hash-chained, and out of the application's reach to change."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import asyncpg
import pytest

from api.db import APP_ROLE
from api.cache import create_redis
from auth.audit import verify_chains
from auth.audit_anchor import Anchors
from auth.secretbox import SecretBox

from tests.helpers import DEMO_PASSWORD, bearer, token_for


async def test_sign_ins_and_admin_writes_are_recorded(client, conn, make_user) -> None:  # noqa: ANN001
    admin = await token_for(client, "jinshan.admin", device_id="console-1")
    user = await make_user()
    resp = await client.post(f"/api/v1/admin/users/{user['id']}/sessions/revoke", headers={
        **bearer(admin), "X-Request-ID": "audit-probe-1"})
    assert resp.status_code == 204
    row = await conn.fetchrow("select * from audit_log where request_id = 'audit-probe-1'")
    assert row["action"] == "admin.sessions.revoked"
    assert row["object_id"] == str(user["id"])
    assert row["actor_kind"] == "staff" and row["device_id"] == "console-1"
    assert row["office_id"] == await conn.fetchval("select id from offices where code = 'jinshan'")
    listed = await client.get("/api/v1/admin/audit", headers=bearer(admin), params={"action": "admin.sessions.revoked"})
    assert any(item["requestId"] == "audit-probe-1" for item in listed.json()["items"])
    # Older records by the cursor of the page before, as on every list; a cursor we never issued is a 400.
    first = (await client.get("/api/v1/admin/audit", headers=bearer(admin), params={"limit": 1})).json()
    older = (await client.get("/api/v1/admin/audit", headers=bearer(admin),
                              params={"limit": 1, "cursor": first["nextCursor"]})).json()
    assert older["items"][0]["id"] < first["items"][0]["id"]
    bad = await client.get("/api/v1/admin/audit", headers=bearer(admin), params={"cursor": "-1"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "cursor"


async def test_failed_sign_ins_are_recorded(client, conn) -> None:  # noqa: ANN001
    await client.post("/api/v1/auth/token", headers={"X-Request-ID": "audit-probe-2"},
                      data={"grant_type": "password", "username": "jinshan.chief", "password": "nope",
                            "client_id": "staff-app"})
    row = await conn.fetchrow("select * from audit_log where request_id = 'audit-probe-2'")
    assert row["action"] == "auth.login.failed"


async def test_the_application_role_cannot_change_the_trail(settings) -> None:  # noqa: ANN001
    app_conn = await asyncpg.connect(settings.database_url, server_settings={"role": APP_ROLE})
    try:
        assert await app_conn.fetchval("select count(*) from audit_log") > 0
        for sql in ("update audit_log set action = 'x'", "delete from audit_log", "truncate audit_log"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await app_conn.execute(sql)
    finally:
        await app_conn.close()


async def test_verify_detects_edits_and_deletions(client, conn) -> None:  # noqa: ANN001
    for _ in range(3):
        await token_for(client, "chongming.assistant")
    checked, breaks = await verify_chains(conn)
    assert checked > 0 and breaks == []
    # Tamper as the owner would have to (the application cannot), inside a transaction we roll back.
    tx = conn.transaction()
    await tx.start()
    try:
        victim = await conn.fetchrow("select chain, seq from audit_log where chain not like 'system:%' "
                                     "order by id desc limit 1")
        await conn.execute("update audit_log set detail = '{\"grant\": \"forged\"}' where chain = $1 and seq = $2",
                           victim["chain"], victim["seq"])
        _, edited = await verify_chains(conn)
        assert any(b.seq == victim["seq"] and "edited" in b.problem for b in edited)
        lane = await conn.fetchval("select chain from audit_log group by chain having count(*) >= 3 limit 1")
        middle = await conn.fetchrow("select chain, seq from audit_log where chain = $1 and seq > 1 "
                                     "order by seq limit 1", lane)
        await conn.execute("delete from audit_log where chain = $1 and seq = $2", middle["chain"], middle["seq"])
        _, deleted = await verify_chains(conn)
        assert any(b.chain == middle["chain"] and "missing" in b.problem for b in deleted)
    finally:
        await tx.rollback()


async def test_verify_detects_a_cut_off_tail_and_a_whole_lane(client, conn, settings) -> None:  # noqa: ANN001
    # Sign in until one lane this test wrote to holds three rows (a lane is drawn at random from a free one).
    office, lane, last = await _office(conn, "chongming"), None, 0
    for n in range(200):
        resp = await client.post("/api/v1/auth/token", headers={"X-Request-ID": f"audit-tail-{n}"}, data={
            "grant_type": "password", "username": "chongming.prosecutor", "password": DEMO_PASSWORD,
            "client_id": "staff-app"})
        assert resp.status_code == 200, resp.text
        lane, last = await conn.fetchrow("select chain, seq from audit_log where chain like $1 and request_id = $2",
                                         f"{office}:%", f"audit-tail-{n}")
        if last >= 3:
            break
    assert last >= 3
    redis = create_redis(settings, settings.redis_url)
    anchors = Anchors(SecretBox(settings.secret_key), settings.data_path, redis, settings.redis_prefix)
    try:
        # Heads are written by each worker's anchor task just after the commits: wait for this lane's.
        for _ in range(100):
            heads, _ = await anchors.heads()
            if lane in heads and heads[lane].seq >= last:
                break
            await asyncio.sleep(0.02)
        assert (await verify_chains(conn, anchors))[1] == []
        tx = conn.transaction()
        await tx.start()
        try:
            # Cut the newest two rows: the rest of the lane still links cleanly, only the anchor can tell.
            await conn.execute("delete from audit_log where chain = $1 and seq > $2", lane, last - 2)
            _, cut = await verify_chains(conn, anchors)
            assert [(b.chain, b.seq) for b in cut] == [(lane, last - 1)], cut
            assert f"rows {last - 1}..{last} missing" in cut[0].problem
            await conn.execute("delete from audit_log where chain = $1", lane)
            _, gone = await verify_chains(conn, anchors)
            assert [(b.chain, b.seq) for b in gone] == [(lane, 1)] and "whole lane" in gone[0].problem
        finally:
            await tx.rollback()
        # Only a holder of the service key can move an anchor: one written without it is reported.
        await redis.hset(f"{settings.redis_prefix}audit:head:forged:0", mapping={"seq": 1, "hash": "x", "sig": "y"})
        _, forged = await verify_chains(conn, anchors)
        assert [b.chain for b in forged] == ["forged:0"] and "forged" in forged[0].problem
        await redis.delete(f"{settings.redis_prefix}audit:head:forged:0")
    finally:
        await redis.aclose()


async def test_every_audit_row_is_anchored_once_it_commits_and_never_when_it_rolls_back(app, conn) -> None:  # noqa: ANN001
    """Rows written by the server reach the anchors only after their commit; a row outside a committing block is
    refused (nothing would ever anchor it), and a rolled-back savepoint anchors nothing."""
    from api.db import atomic
    from auth import audit

    published: list[tuple[str, int]] = []

    class Spy:
        async def publish(self, chain: str, seq: int, digest: str) -> None:
            published.append((chain, seq))

    office = await _office(conn, "chongming")
    actor = audit.Actor(id=None, kind="system", office_id=None, device_id=None, ip=None, request_id=None)
    anchors = audit._anchors
    audit.use_anchors(Spy())  # type: ignore[arg-type]
    try:
        with pytest.raises(RuntimeError, match="never be anchored"):
            async with conn.transaction():
                await audit.record(conn, actor, "test.unanchored", office_id=office)
        async with atomic(conn):
            await audit.record(conn, actor, "test.kept", office_id=office)
            with pytest.raises(ZeroDivisionError):
                async with atomic(conn):
                    await audit.record(conn, actor, "test.undone", office_id=office)
                    1 / 0  # noqa: B018
            assert published == []  # nothing before the commit
        kept = await conn.fetchrow("select chain, seq from audit_log where action = 'test.kept'")
        assert published == [(kept["chain"], kept["seq"])]
        assert await conn.fetchval("select count(*) from audit_log where action like 'test.un%'") == 0
    finally:
        audit.use_anchors(anchors)


async def test_a_burst_of_commits_is_anchored_in_one_batch_at_each_lanes_highest_head(settings, tmp_path) -> None:  # noqa: ANN001
    """Heads queued while nothing yields (a busy worker's commits) are written as one batch: one line per lane,
    each its highest row, in the file and in Redis; `flush()` waits for them."""
    redis = create_redis(settings, settings.redis_url)
    prefix = f"{settings.redis_prefix}burst-{tmp_path.name}:"
    anchors = Anchors(SecretBox(settings.secret_key), tmp_path, redis, prefix)
    try:
        for seq in range(1, 11):
            for lane in ("a:0", "a:1", "b:0"):
                await anchors.publish(lane, seq, f"{lane}-{seq}")
        await anchors.publish("a:0", 4, "late")  # an older head arriving late never lowers a lane's anchor
        await anchors.flush()
        lines = (tmp_path / "audit-anchors.jsonl").read_bytes().splitlines()
        assert len(lines) == 3
        heads, forged = await anchors.heads()
        assert forged == [] and {c: (h.seq, h.hash) for c, h in heads.items()} == {
            "a:0": (10, "a:0-10"), "a:1": (10, "a:1-10"), "b:0": (10, "b:0-10")}
        assert await redis.hget(f"{prefix}audit:head:b:0", "seq") == b"10"
    finally:
        async for key in redis.scan_iter(match=f"{prefix}*"):
            await redis.delete(key)
        await redis.aclose()


async def _office(conn, code: str) -> str:  # noqa: ANN001
    return str(await conn.fetchval("select id from offices where code = $1", code))


def test_cli_verify_reports_a_clean_trail(settings) -> None:  # noqa: ANN001
    jianwu = os.path.join(os.path.dirname(sys.executable), "jianwu")
    env = {**os.environ, "DATABASE_URL": settings.database_url, "JIANWU_SECRET_KEY": settings.secret_key,
           "REDIS_URL": settings.redis_url, "JIANWU_REDIS_PREFIX": settings.redis_prefix,
           "JIANWU_DATA_DIR": str(settings.data_path)}
    done = subprocess.run([jianwu, "audit", "verify"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "0 breaks" in done.stdout


async def test_concurrent_writers_of_one_office_take_free_lanes_and_the_chains_still_verify(
        client, conn, settings) -> None:  # noqa: ANN001
    """Sixteen transactions of one office append at once without waiting on each other (one per lane, each lock
    held until commit); a seventeenth waits until a lane is committed; every lane still verifies."""
    import asyncio
    import dataclasses
    import uuid

    from api.db import create_pool
    from auth.audit import AUDIT_LANES, Actor, record

    from auth import audit

    office = uuid.uuid4()
    actor = Actor(id=None, kind=None, office_id=office, device_id=None, ip=None, request_id=None)
    pool = await create_pool(dataclasses.replace(settings, db_pool_max=AUDIT_LANES + 1), settings.database_url)
    holders = [await pool.acquire() for _ in range(AUDIT_LANES + 1)]
    # Bare transactions held open by hand, to hold the lanes: no commit hook publishes anchors for them.
    anchors = audit._anchors
    audit.use_anchors(None)
    try:
        txs = [h.transaction() for h in holders]
        for tx in txs[:AUDIT_LANES]:
            await tx.start()
        # Every lane free: none of the first sixteen waits (a random draw would have met on a lane here).
        await asyncio.wait_for(asyncio.gather(*(record(h, actor, "test.append", office_id=office)
                                                for h in holders[:AUDIT_LANES])), 5)
        await txs[AUDIT_LANES].start()
        late = asyncio.create_task(record(holders[AUDIT_LANES], actor, "test.append", office_id=office))
        await asyncio.sleep(0.3)
        assert not late.done(), "all lanes were held, yet a seventeenth append did not wait"
        for tx in txs[:AUDIT_LANES]:
            await tx.commit()
        await asyncio.wait_for(late, 5)
        await txs[AUDIT_LANES].commit()
    finally:
        audit.use_anchors(anchors)
        for h in holders:
            await pool.release(h)
        await pool.close()
    lanes = await conn.fetch("select chain, count(*) as n from audit_log where office_id = $1 group by chain", office)
    assert len(lanes) == AUDIT_LANES and sum(r["n"] for r in lanes) == AUDIT_LANES + 1
    _, breaks = await verify_chains(conn)
    assert breaks == []
