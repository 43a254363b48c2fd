"""Fan-out of 10^4 notifications through one delivery worker to the local APNs and Huawei fakes:
`python -m bench.push_fanout [--count 10000] [--rate 1000]`.

A database of its own (the server in BENCH_DATABASE_URL, else an embedded PostgreSQL under a temporary
directory), 10^4 citizens with one phone each (APNs and Huawei alternately), the fakes in this process, and one
`python -m push` worker process configured as in production (a .p8 key file, provider URLs). Events are committed
to the outbox at `--rate` per second; the figures are the worker's deliveries per second and the time from an
event's commit to the provider's request (p50, p99). The section between the markers in bench/RESULTS.md is
rewritten."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from api.embedded import embedded_services
from api.serve import ensure_database, prepare_database
from api.settings import Settings
from push.fakes.apns import FakeApns
from push.fakes.huawei import FakeHuawei
from push.fakes.server import FakeServer
from push.process import dev_key_pair

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "RESULTS.md"
BEGIN, END = "<!-- push_fanout:begin -->", "<!-- push_fanout:end -->"
TEAM, KEY_ID, TOPIC, APP_ID, APP_SECRET = "BENCHTEAM1", "BENCHKEY01", "cn.jianwu.app", "20000001", "bench-secret"


@dataclass
class Rig:
    """A database with phones, the two fakes, and what a worker needs to reach them."""

    db_url: str
    apns: FakeApns
    huawei: FakeHuawei
    env: dict[str, str]
    users: list[uuid.UUID]
    tokens: dict[uuid.UUID, str]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def database(work: Path, name: str) -> Iterator[str]:
    """A server URL: BENCH_DATABASE_URL's server, or an embedded PostgreSQL for the duration."""
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        yield url
        return
    with embedded_services(work / "servers", pg_port=_free_port(), redis_port=_free_port(), redis=False) as (pg, _):
        yield pg or ""


@contextlib.asynccontextmanager
async def rig(server_url: str, work: Path, count: int, name: str) -> AsyncIterator[Rig]:
    """Migrate a fresh database, seed `count` citizens with a phone each, start the fakes."""
    settings = Settings(env="test", data_dir=work, secret_key="bench-secret-key-" + "x" * 32)
    db_url = await ensure_database(settings, server_url, name, fresh=True)
    await prepare_database(settings, db_url, demo_data=False)
    conn = await asyncpg.connect(db_url)
    users = [uuid.uuid4() for _ in range(count)]
    tokens = {u: f"{'a' if i % 2 == 0 else 'h'}{u.hex}" for i, u in enumerate(users)}
    await conn.copy_records_to_table("users", records=[(u, "citizen", f"bench 用户 {i}", f"bench-{u.hex}")
                                                       for i, u in enumerate(users)],
                                     columns=["id", "kind", "display_name", "phone_index"])
    await conn.copy_records_to_table(
        "push_devices", records=[(u, "ios" if t[0] == "a" else "android", "apns" if t[0] == "a" else "huawei", t,
                                  "1.0", "zh-CN") for u, t in tokens.items()],
        columns=["user_id", "platform", "channel", "token", "app_version", "locale"])
    await conn.close()
    private, public = dev_key_pair()
    apns = FakeApns(public, team_id=TEAM, key_id=KEY_ID, topic=TOPIC)
    huawei = FakeHuawei(app_id=APP_ID, client_secret=APP_SECRET)
    servers = [await FakeServer(apns).start(), await FakeServer(huawei).start()]
    key_file = work / "AuthKey.p8"
    key_file.write_text(private)
    env = {**os.environ, "DATABASE_URL": db_url, "JIANWU_ENV": "test", "JIANWU_DATA_DIR": str(work),
           "JIANWU_SECRET_KEY": settings.secret_key or "", "JIANWU_LOG_LEVEL": "WARNING",
           "JIANWU_APNS_KEY_FILE": str(key_file), "JIANWU_APNS_KEY_ID": KEY_ID, "JIANWU_APNS_TEAM_ID": TEAM,
           "JIANWU_APNS_TOPIC": TOPIC, "JIANWU_APNS_URL": servers[0].url, "JIANWU_HUAWEI_APP_ID": APP_ID,
           "JIANWU_HUAWEI_CLIENT_SECRET": APP_SECRET, "JIANWU_HUAWEI_TOKEN_URL": f"{servers[1].url}/oauth2/v3/token",
           "JIANWU_HUAWEI_PUSH_URL": servers[1].url}
    try:
        yield Rig(db_url, apns, huawei, env, users, tokens)
    finally:
        for s in servers:
            await s.stop()


def start_worker(r: Rig, log: Path) -> subprocess.Popen[bytes]:
    """One `python -m push` worker process, configured through its environment as in production."""
    return subprocess.Popen([sys.executable, "-m", "push"], cwd=ROOT, env=r.env, stdout=log.open("ab"),
                            stderr=subprocess.STDOUT)


async def wait_ready(log: Path, worker: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Wait until the worker says which channels it sends to (it has its pool and senders and starts work)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and worker.poll() is None:
        if log.exists() and "channels configured" in log.read_text(errors="replace"):
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"the delivery worker did not start (see {log})")


async def emit(db_url: str, users: list[uuid.UUID], rate: int) -> None:
    """Commit one notification per user to the outbox, `rate` per second, in ten batches a second."""
    conn = await asyncpg.connect(db_url)
    step = max(1, rate // 10)
    began = time.monotonic()
    try:
        for n, i in enumerate(range(0, len(users), step)):
            batch = users[i:i + step]
            await conn.execute(
                "insert into outbox (topic, payload, created_at)"
                " select 'complaint.assigned', jsonb_build_object('complaintId', gen_random_uuid(), 'userId', u),"
                " clock_timestamp() from unnest($1::uuid[]) as u", batch)
            await asyncio.sleep(max(0.0, began + (n + 1) * 0.1 - time.monotonic()))
    finally:
        await conn.close()


def requests_by_notification(r: Rig) -> dict[str, list[float]]:
    """When the fakes received a request for each notification id (several when one was sent again)."""
    out: dict[str, list[float]] = {}
    for rec in r.apns.requests:
        out.setdefault(rec.headers.get("apns-collapse-id", ""), []).append(rec.at)
    for rec in r.huawei.requests:
        found = re.search(r'\\"id\\":\\"([0-9a-f-]{36})\\"', rec.body.decode())
        out.setdefault(found.group(1) if found else "", []).append(rec.at)
    return out


async def wait_delivered(db_url: str, count: int, timeout: float) -> int:
    """Wait until `count` deliveries are sent (or the timeout); answers how many are."""
    conn = await asyncpg.connect(db_url)
    try:
        deadline = time.monotonic() + timeout
        sent = 0
        while time.monotonic() < deadline:
            sent = await conn.fetchval("select count(*) from deliveries where state = 'sent'")
            if sent >= count:
                break
            await asyncio.sleep(0.2)
        return int(sent)
    finally:
        await conn.close()


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU time (user, system) a process has used so far, from /proc (NaN where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan"), float("nan")
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))] if values else float("nan")


async def run(count: int, rate: int) -> dict[str, Any]:
    """Run the fan-out once; answers its figures."""
    with tempfile.TemporaryDirectory(prefix="jianwu-push-bench-") as tmp, database(Path(tmp), "push") as server:
        async with rig(server, Path(tmp), count, "jianwu_push_bench") as r:
            worker = start_worker(r, Path(tmp) / "worker.log")
            try:
                # The worker's start (imports, pool): on a loaded machine far more than a second, which the
                # first notifications' latency would otherwise count.
                await wait_ready(Path(tmp) / "worker.log", worker)
                started_cpu, own_cpu = cpu_seconds(worker.pid), time.process_time()
                load = os.getloadavg()[0]
                began = time.time()
                await emit(r.db_url, r.users, rate)
                sent = await wait_delivered(r.db_url, count, 120)
                ended = time.time()
                # The worker's own CPU time for the run: a figure other work on the machine moves far less.
                user, system = cpu_seconds(worker.pid)
                worker_cpu, worker_sys = user + system - sum(started_cpu), system - started_cpu[1]
                fakes_cpu = time.process_time() - own_cpu
            finally:
                worker.send_signal(signal.SIGTERM)
                worker.wait(30)
            conn = await asyncpg.connect(r.db_url)
            rows = await conn.fetch("select n.id::text as id, extract(epoch from o.created_at) as at"
                                    " from inbox n join outbox o on o.id = n.event_id")
            inbox = await conn.fetchval("select count(*) from inbox")
            await conn.close()
            seen = requests_by_notification(r)
            latency = [seen[row["id"]][0] - float(row["at"]) for row in rows if row["id"] in seen]
            first = min(t for ts in seen.values() for t in ts)
            last = max(t for ts in seen.values() for t in ts)
            return {"count": count, "rate": rate, "sent": sent, "inbox": inbox,
                    "requests": sum(len(ts) for ts in seen.values()),
                    "per_second": sent / max(last - first, 1e-9), "p50": _pct(latency, 50), "p99": _pct(latency, 99),
                    "wall": ended - began, "cpus": os.cpu_count(), "load": load, "worker_cpu": worker_cpu,
                    "worker_sys": worker_sys, "fakes_cpu": fakes_cpu}


def write(figures: dict[str, Any]) -> None:
    """Rewrite this bench's section of bench/RESULTS.md."""
    section = (
        f"{BEGIN}\n## Push fan-out (`python -m bench.push_fanout`)\n\n"
        f"{figures['count']:,} notifications committed to the outbox at {figures['rate']:,}/s, one delivery worker "
        f"process, the APNs (HTTP/2) and Huawei fakes in the bench process, {figures['cpus']} cores shared "
        f"(load average {figures['load']:.1f} at the start: other work on the machine moves these figures a lot; "
        f"{figures['worker_cpu'] / figures['count'] * 1e6:,.0f} µs of worker CPU per delivery, and "
        f"{figures['fakes_cpu'] / figures['count'] * 1e6:,.0f} µs in the bench process serving the fakes).\n\n"
        "| deliveries | provider requests | inbox rows | deliveries/s (worker) | p50 commit→request | "
        "p99 commit→request |\n|---|---|---|---|---|---|\n"
        f"| {figures['sent']:,} | {figures['requests']:,} | {figures['inbox']:,} | {figures['per_second']:,.0f} | "
        f"{figures['p50'] * 1000:.0f} ms | {figures['p99'] * 1000:.0f} ms |\n{END}\n")
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + section + text[text.index(END) + len(END) + 1:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text, encoding="utf-8")


def main() -> None:
    """Parse the arguments, run, print and record."""
    p = argparse.ArgumentParser(prog="python -m bench.push_fanout", description=__doc__)
    p.add_argument("--count", type=int, default=10_000)
    p.add_argument("--rate", type=int, default=1_000)
    p.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    a = p.parse_args()
    figures = asyncio.run(run(a.count, a.rate))
    print(f"push fan-out: {figures['sent']}/{figures['count']} sent, {figures['requests']} provider requests, "
          f"{figures['inbox']} inbox rows, {figures['per_second']:.0f} deliveries/s, "
          f"p50 {figures['p50'] * 1000:.0f} ms, p99 {figures['p99'] * 1000:.0f} ms, wall {figures['wall']:.1f} s, "
          f"worker CPU {figures['worker_cpu'] / figures['count'] * 1e6:.0f} µs/delivery "
          f"({figures['worker_sys'] / max(figures['worker_cpu'], 1e-9):.0%} in the kernel), bench process (fakes) CPU "
          f"{figures['fakes_cpu'] / figures['count'] * 1e6:.0f} µs/delivery, load {figures['load']:.1f}")
    if not a.no_write:
        write(figures)


if __name__ == "__main__":
    main()
