"""Drill: the delivery worker SIGKILLed in the middle of a 10^4 fan-out and started again.

Then PostgreSQL (the drill's own) is restarted under a second fan-out: the same worker recovers by itself.

Promises: 0 notifications lost (every one in the inbox and at its provider), 0 duplicate inbox entries, every
delivery recorded as sent; the provider requests sent twice (those in flight at the kill, sent again when their
lease expired, with the same collapse id) are counted and printed. Also a provider answering 503 for a while:
everything still delivered, in order per device. `python -m drills push_worker_kill` (DRILL_PUSH_COUNT to shrink).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

import asyncpg

from api.embedded import EmbeddedPostgres
from bench.push_fanout import emit, requests_by_notification, rig, start_worker
from drills.client import on_sigterm
from drills.stack import free_port

NAME = "push_worker_kill"
COUNT = int(os.environ.get("DRILL_PUSH_COUNT", "10000"))
OUTAGE_S = float(os.environ.get("DRILL_PUSH_OUTAGE", "30"))
SECOND = max(1, COUNT // 5)


async def _sent(db_url: str) -> int:
    conn = await asyncpg.connect(db_url)
    try:
        return int(await conn.fetchval("select count(*) from deliveries where state = 'sent'"))
    finally:
        await conn.close()


async def _wait(db_url: str, count: int, limit: float) -> int:
    deadline = time.monotonic() + limit
    sent = await _sent(db_url)
    while sent < count and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        sent = await _sent(db_url)
    return sent


async def drill(work: Path, pg: EmbeddedPostgres) -> bool:
    """Run the drill; answers whether every promise held."""
    ok = True

    def check(good: bool, what: str) -> None:
        nonlocal ok
        ok = ok and good
        print(f"  [{'ok' if good else 'FAIL'}] {what}", flush=True)

    async with rig(pg.url, work, COUNT, "jianwu_push_drill") as r:
        await emit(r.db_url, r.users, COUNT * 10)
        worker = start_worker(r, work / "worker.log")
        t0 = time.monotonic()
        # Kill while sends are out: past a third, with requests at the providers not yet recorded (50 if that
        # many come within a second of the third, else whatever is out then: a worker that records every few
        # milliseconds seldom has 50 unrecorded at once).
        third = None
        while time.monotonic() - t0 < 60:
            sent_now = await _sent(r.db_url)
            out = len(r.apns.requests) + len(r.huawei.requests) - sent_now
            if sent_now >= COUNT // 3:
                third = third or time.monotonic()
                if out >= 50 or (out > 0 and time.monotonic() - third > 1.0) or sent_now >= COUNT:
                    break
            await asyncio.sleep(0.01)
        before = await _sent(r.db_url)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        in_flight = len(r.apns.requests) + len(r.huawei.requests) - before
        print(f"  SIGKILL at +{time.monotonic() - t0:.1f}s with {before} sends recorded; about {in_flight} requests "
              f"in flight or unrecorded", flush=True)
        # The provider is down for a while as the worker comes back: retries wait, order per device holds.
        r.apns.unavailable_until = r.huawei.unavailable_until = time.time() + OUTAGE_S
        worker = start_worker(r, work / "worker.log")
        try:
            sent = await _wait(r.db_url, COUNT, 100)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(30)
        conn = await asyncpg.connect(r.db_url)
        try:
            inbox = await conn.fetchval("select count(*) from inbox")
            distinct = await conn.fetchval("select count(distinct (event_id, user_id)) from inbox")
            per_user = await conn.fetchval("select count(*) from (select user_id from inbox group by user_id"
                                           " having count(*) > 1) x")
            ids = [str(x) for x in await conn.fetchval("select array_agg(id) from inbox")]
        finally:
            await conn.close()
        seen = requests_by_notification(r)
        delivered_ids = {rec.headers.get("apns-collapse-id") for rec in r.apns.delivered}
        delivered_ids |= {k for k, v in seen.items() if k and v} & set(ids)
        requests = sum(len(v) for k, v in seen.items() if k)
        # By identity: comparing records field by field made this quadratic (minutes after an outage's retries).
        taken = {id(rec) for rec in r.apns.delivered + r.huawei.delivered}
        refused = sum(1 for rec in r.apns.requests + r.huawei.requests if id(rec) not in taken)
        duplicates = sum(len(v) - 1 for k, v in seen.items() if k) - refused
        lost = sum(1 for i in ids if i not in seen) + (COUNT - inbox)
        print(f"  {COUNT} notifications: {inbox} inbox rows, {sent} sends recorded, {requests} provider requests "
              f"({refused} refused with 503 during the outage, {max(duplicates, 0)} sent twice)", flush=True)
        check(inbox == COUNT and distinct == inbox and per_user == 0, "one inbox entry per notification, none twice")
        check(lost == 0, f"no notification lost ({lost})")
        check(sent == COUNT, f"every delivery recorded as sent ({sent}/{COUNT})")
        check(max(duplicates, 0) <= in_flight + 500, f"requests sent twice ({max(duplicates, 0)}): those in flight "
              f"at the kill, and those whose answer timed out under load (at most about one batch more)")
        # PostgreSQL restarted under fan-out: the worker waits it out and carries on, never restarted.
        await emit(r.db_url, r.users[:SECOND], SECOND * 10)
        worker = start_worker(r, work / "worker.log")
        try:
            while await _sent(r.db_url) < COUNT + SECOND // 4:
                await asyncio.sleep(0.05)
            pg.stop()
            await asyncio.sleep(3)
            pg.start()
            after = await _wait(r.db_url, COUNT + SECOND, 60)
            alive = worker.poll() is None
            if not alive:
                print((work / "worker.log").read_text()[-3000:], flush=True)
            check(alive, "the same worker process carried on through the PostgreSQL restart")
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(30)
        conn = await asyncpg.connect(r.db_url)
        try:
            second_inbox = await conn.fetchval("select count(*) from inbox") - inbox
        finally:
            await conn.close()
        check(after == COUNT + SECOND and second_inbox == SECOND,
              f"after the restart: {after - COUNT}/{SECOND} sent, {second_inbox} inbox rows")
        lost += SECOND - (after - COUNT)
        print(f"drill {NAME}: notifications={COUNT} lost={lost} duplicate_inbox={inbox - distinct} "
              f"duplicate_requests={max(duplicates, 0)} -> {'PASS' if ok else 'FAIL'}", flush=True)
    return ok


def main() -> int:
    """Run the drill with servers of its own; exit 0 when every promise held."""
    on_sigterm()
    print(f"drill {NAME}: {COUNT} notifications, worker SIGKILLed after a third, restarted into a {OUTAGE_S:.0f} s "
          f"provider outage", flush=True)
    with tempfile.TemporaryDirectory(prefix="jianwu-push-drill-") as tmp:
        pg = EmbeddedPostgres(Path(tmp) / "pgdata", free_port())
        pg.start()
        try:
            return 0 if asyncio.run(drill(Path(tmp), pg)) else 1
        finally:
            pg.stop()


if __name__ == "__main__":
    sys.exit(main())
