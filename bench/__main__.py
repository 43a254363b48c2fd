"""`bench/run` (= `python -m bench`): start Jianwu as `make run` does, load it, write bench/RESULTS.md.

    bench/run                      # full run (about 20 minutes on a new database, 15 with --keep-data)
    bench/run --quick              # shorter windows (about 5 minutes)
    bench/run --scenarios auth_me,jwks
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from auth.keyring import ISSUER
from bench import scenarios as sc
from bench.bare import BareServer
from bench.floors import measure_floors
from bench.http1 import fetch_json
from bench.minting import TokenMint
from bench.report import write_results
from bench.server import BenchServer, free_port
from bench.sysinfo import CpuMeter, machine_info, server_info, tree_memory
from bench.wrk import run_wrk

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
RESULTS = ROOT / "bench" / "RESULTS.md"
FLOORS = "floors"


def _args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/run", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="short windows (1 s warm-up, 3 s measured)")
    p.add_argument("--scenarios", default="", help=f"comma-separated subset of: "
                   f"{', '.join(s.name for s in sc.SCENARIOS)}, {FLOORS} ({sc.BASELINE} always runs)")
    p.add_argument("--concurrency", type=int, default=sc.HIGH, help=f"the higher concurrency level "
                   f"(default {sc.HIGH})")
    p.add_argument("--warmup", type=float, help="seconds of warm-up per measurement (default 2; quick 1)")
    p.add_argument("--duration", type=float, help="measured seconds per measurement (default 10; quick 3)")
    p.add_argument("--keep-data", action="store_true", help="reuse bench/out/data from the last run instead of "
                   "starting from a new database with only the demo data (the default: reproducible)")
    p.add_argument("--results", type=Path, default=RESULTS, help="where to write the Markdown results")
    a = p.parse_args(argv)
    a.warmup = a.warmup if a.warmup is not None else (1.0 if a.quick else 2.0)
    a.duration = a.duration if a.duration is not None else (3.0 if a.quick else 10.0)
    if not (0 <= a.warmup <= 60 and 0.5 <= a.duration <= 600 and 1 <= a.concurrency <= 1024):
        p.error("warm-up 0-60 s, duration 0.5-600 s, concurrency 1-1024")
    return a


def _selected(raw: str) -> tuple[list[sc.Scenario], bool]:
    names = [n.strip() for n in raw.split(",") if n.strip()]
    known = {s.name for s in sc.SCENARIOS}
    unknown = [n for n in names if n not in known | {FLOORS}]
    if unknown:
        raise SystemExit(f"bench: unknown scenario(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}, "
                         f"{FLOORS}")
    if not names:
        return list(sc.SCENARIOS), True
    chosen = [s for s in sc.SCENARIOS if s.name in names or s.name == sc.BASELINE]
    return chosen, FLOORS in names


async def _loadgen(spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run one measurement in a separate load-generator process."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.loadgen", cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(json.dumps(spec).encode()), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise RuntimeError("bench: the load generator overran its time limit") from None
    if proc.returncode != 0:
        raise RuntimeError(f"bench: the load generator failed ({proc.returncode}):\n{err.decode()[-3000:]}")
    return json.loads(out)


def _loadavg() -> str | None:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return None


def _line(g: dict[str, Any]) -> str:
    if not g["requests"]:
        return f"{g['name']:<28} c={g['connections']:<3} no responses; errors {g['errors']}"
    err = f"  errors {g['errors']}" if g["error_count"] else ""
    return (f"{g['name']:<28} c={g['connections']:<3} {g['rps']:>9.1f} req/s  p50 {g['p50_us']:>9.0f} µs  "
            f"p90 {g['p90_us']:>9.0f}  p99 {g['p99_us']:>9.0f}  max {g['max_us']:>9.0f}{err}")


async def _measure(args: argparse.Namespace, server: BenchServer, chosen: list[sc.Scenario],
                   do_floors: bool, bare_port: int | None = None) -> dict[str, Any]:
    mint = TokenMint(server.pg_url, server.data_dir)
    try:
        return await _measure_with(args, server, chosen, do_floors, mint, bare_port)
    finally:
        await mint.close()


async def _measure_with(args: argparse.Namespace, server: BenchServer, chosen: list[sc.Scenario], do_floors: bool,
                        mint: TokenMint, bare_port: int | None = None) -> dict[str, Any]:
    ctx = sc.Context(server.host, server.api_port, mint=mint, seconds=args.warmup + args.duration)
    levels_needed = sorted({lvl for s in chosen for lvl in s.levels(args.concurrency)}
                           | {s.alongside[1] for s in chosen if s.alongside})
    runs: list[dict[str, Any]] = []
    floors: dict[str, Any] = {}
    wal: dict[str, Any] = {}
    read_floors: dict[str, dict[int, list[dict[str, float]]]] = {}
    quiet_waits: dict[str, float] = {}
    sizes = [10_000, 100_000 if args.quick else 1_000_000]
    floor_calls = 200 if args.quick else 2000
    if any(s.name in sc.COMPLAINTS for s in chosen):
        from bench.seed import prepare

        ctx.data = await prepare(server.pg_url, sizes)
        floors.update(await _list_floors(server.pg_url, ctx.data.list_sql, ctx.data.offices,
                                         ("staff list", "complaints"), floor_calls))
    if any(s.name in sc.LITIGATION for s in chosen):
        from bench.seed import BenchData
        from bench.seed_litigation import pil_case_list_sql, prepare_litigation

        ctx.data = ctx.data or BenchData()
        await prepare_litigation(server.pg_url, sizes, ctx.data)
        floors.update(await _list_floors(server.pg_url, pil_case_list_sql(), ctx.data.pil_offices,
                                         ("PIL case list", "cases"), floor_calls))
    if any(s.name in sc.LIAISON for s in chosen):
        from bench.seed import BenchData
        from bench.seed_liaison import prepare_liaison, suggestion_list_sql

        ctx.data = ctx.data or BenchData()
        await prepare_liaison(server.pg_url, sizes, ctx.data)
        floors.update(await _list_floors(server.pg_url, suggestion_list_sql(), ctx.data.liaison_offices,
                                         ("staff suggestion list", "suggestions"), floor_calls))
    meter = CpuMeter()
    # Warm the fresh server first (pools opened, caches and code paths hot in both workers); not reported.
    warm = [await sc.by_name(name).group(ctx, 4) for name in (sc.BASELINE, "auth_me")]
    await _loadgen({"host": server.host, "port": server.api_port, "warmup": 0, "duration": 2 if args.quick else 5,
                    "groups": warm}, timeout=70)
    for scenario in chosen:
        levels = levels_needed if scenario.name == sc.BASELINE else scenario.levels(args.concurrency)
        for level in levels:
            groups = [await scenario.group(ctx, level)]
            if scenario.bare and scenario.alone:
                groups = [{**groups[0], "port": bare_port}]
            elif scenario.bare:
                # Both at once, same concurrency, from one load generator: the framework-floor ratio compares
                # two servers meeting the same moment of the machine.
                groups = [{**groups[0], "port": bare_port}, await sc.by_name(sc.BASELINE).group(ctx, level)]
            if scenario.alongside:
                other, other_c = scenario.alongside
                groups.append(await sc.by_name(other).group(ctx, other_c))
            if scenario.bare and bare_port is None:
                continue
            spec = {"host": server.host, "port": server.api_port, "warmup": args.warmup,
                    "duration": args.duration, "request_timeout": 10, "groups": groups}
            await _wait_for_quiet(server.pg_url, quiet_waits, f"{scenario.name} at {level}")
            before = meter.snapshot()
            wal_before = await _wal_and_items(server.pg_url) if scenario.name == "complaint_create" else None
            result = await _loadgen(spec, timeout=args.warmup + args.duration + 60)
            cpu = meter.since(before)
            if wal_before is not None:
                wal_after = await _wal_and_items(server.pg_url)
                created = wal_after[1] - wal_before[1]
                wal[f"{scenario.name} at {level}"] = {
                    "created": created, "wal_bytes": wal_after[0] - wal_before[0],
                    "per_item": (wal_after[0] - wal_before[0]) / created if created else None}
                print(f"    WAL per creation: {wal[f'{scenario.name} at {level}']['per_item'] or 0:,.0f} bytes "
                      f"({created} created)", flush=True)
            for g in result["groups"]:
                print("  " + _line(g) + ("  (ran out of requests early)" if g.get("ran_out") else ""), flush=True)
                for label, st in (g.get("by_label") or {}).items():
                    print(f"    … {label:<24} p50 {st['p50_us']:>9.0f} µs  p90 {st['p90_us']:>9.0f}  "
                          f"p99 {st['p99_us']:>9.0f}", flush=True)
            if scenario.name == "complaint_create":
                print("    CPU (share of one core): " + ", ".join(
                    f"{role} {pct:g}%" for role, pct in sorted((cpu.get("cpu_by_role") or {}).items())), flush=True)
            if cpu.get("other_cpu_pct", 0) >= 10:
                print(f"    (other processes took {cpu['other_cpu_pct']}% of the machine's CPU meanwhile)", flush=True)
            runs.append({"scenario": scenario.name, "concurrency": level, "loadgen_cpu_pct": result["loadgen_cpu_pct"],
                         "groups": result["groups"], **cpu})
    if ctx.data is not None and (ctx.data.offices or ctx.data.liaison_offices):
        await _wait_for_quiet(server.pg_url, quiet_waits, "read floors")
        read_floors = await _read_floors(args, server, ctx, chosen)
    soak = None
    if any(s.name == "complaint_create" for s in chosen):
        await _wait_for_quiet(server.pg_url, quiet_waits, "soak")
        soak = await _soak(args, server, ctx)
    statements = {}
    for scenario in chosen:
        if scenario.name in STATEMENT_COUNTED:
            statements[scenario.name] = await _statements_per_request(server.pg_url, ctx, scenario)
            print(f"  statements per request {scenario.name}: {statements[scenario.name]['per_request']:.2f}",
                  flush=True)
    wrk = []
    if shutil.which("wrk"):
        for scenario in chosen:
            if scenario.custom_group or scenario.method != "GET" or scenario.alongside or scenario.bare:
                continue
            headers = await scenario.headers(ctx) if scenario.headers else {}
            res = await asyncio.to_thread(run_wrk, f"http://{ctx.hostport}{scenario.path}", headers,
                                          args.concurrency, args.duration)
            res["scenario"] = scenario.name
            wrk.append(res)
            print(f"  wrk {scenario.name}: {res.get('rps')} req/s p50 {res.get('p50_us')} µs", flush=True)
    if do_floors:
        jwks = await _jwks(server)
        count, max_s = (2000, 1.0) if args.quick else (20000, 5.0)
        token = await ctx.access_token()
        fresh = await mint.mint(token, count + 200)
        floors |= await measure_floors(server.pg_url, server.redis_url, server.redis_port, token, jwks,
                                      count=count, max_s=max_s, data_dir=server.data_dir, fresh_tokens=fresh)
        for name, f in floors.items():
            if f["p50_us"] is None:
                print(f"  floor {name:<72} not called", flush=True)
            else:
                print(f"  floor {name:<72} p50 {f['p50_us']:>8.1f} µs  p99 {f['p99_us']:>8.1f}", flush=True)
    if ctx.setup_errors:
        print(f"  set-up requests retried after server errors: {ctx.setup_errors}", flush=True)
    memory = _memory(server)
    for role, procs in memory.items():
        for p in procs:
            print(f"  memory {role}: pid {p['pid']} RSS {p['rss_mib']:.1f} MiB", flush=True)
    return {"runs": runs, "wrk": wrk, "floors": floors, "setup_errors": ctx.setup_errors, "statements": statements,
            "wal": wal, "soak": soak, "memory": memory, "read_floors": read_floors, "quiet_waits": quiet_waits}


async def _jwks(server: BenchServer) -> dict[str, Any]:
    """Jianwu's published key set (the bare app verifies tokens with it)."""
    status, jwks = await fetch_json(server.host, server.api_port, "GET", "/.well-known/jwks.json")
    if status != 200 or not isinstance(jwks, dict):
        raise RuntimeError(f"bench: /.well-known/jwks.json answered {status}")
    return jwks


async def _wal_and_items(pg_url: str) -> tuple[int, int]:
    """The WAL position (bytes) and the number of complaints: their differences give WAL bytes per creation."""
    import asyncpg

    conn = await asyncpg.connect(pg_url)
    try:
        row = await conn.fetchrow("select pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint as lsn, "
                                  "(select count(*) from complaints) as n")
        return int(row["lsn"]), int(row["n"])
    finally:
        await conn.close()


# Notifications the delivery worker still has to send (due now): a measurement waits until there are none, or
# it would be timed beside the worker fanning out the creations of the scenario before it (or of the last run).
_BACKLOG_SQL = """select (select count(*) from outbox where delivered_at is null and available_at <= now())
                       + (select count(*) from deliveries where state = 'pending' and next_at <= now())"""
QUIET_WAIT_S = 600.0


async def _wait_for_quiet(pg_url: str, waited: dict[str, float], label: str) -> None:
    """Return once the delivery worker has nothing due (at most QUIET_WAIT_S); note how long that took."""
    import asyncpg

    conn = await asyncpg.connect(pg_url)
    began = time.monotonic()
    try:
        while await conn.fetchval(_BACKLOG_SQL) and time.monotonic() - began < QUIET_WAIT_S:
            await asyncio.sleep(0.5)
        left = await conn.fetchval(_BACKLOG_SQL)
    finally:
        await conn.close()
    spent = time.monotonic() - began
    if spent >= 1 or left:
        waited[label] = round(spent, 1)
        print(f"    waited {spent:.0f} s for the delivery worker's backlog" + (f" ({left} still due)" if left else ""),
              flush=True)


# The soak: complaint creation held at this concurrency for this long (seconds; quick runs hold it 10 s).
SOAK_CONCURRENCY, SOAK_S = 64, 60.0


def _memory(server: BenchServer) -> dict[str, Any]:
    """Resident memory of the server's processes now: the API workers (granian's children) and the delivery
    worker."""
    if server.proc is None:
        return {}
    tree = tree_memory(server.proc.pid)
    granian = {p["pid"] for p in tree if "granian" in p["cmd"]}
    masters = {pid for pid in granian if next(p for p in tree if p["pid"] == pid)["ppid"] not in granian}
    api = [p for p in tree if p["ppid"] in masters]
    delivery = [p for p in tree if " -m push" in p["cmd"]]
    return {"api_workers": api, "delivery_workers": delivery}


async def _soak(args: argparse.Namespace, server: BenchServer, ctx: sc.Context) -> dict[str, Any]:
    """Complaint creation at SOAK_CONCURRENCY for SOAK_S seconds (10 s with --quick), every answer counted."""
    seconds = 10.0 if args.quick else SOAK_S
    soak_ctx = sc.Context(server.host, server.api_port, mint=ctx.mint, seconds=seconds)
    soak_ctx.data = ctx.data
    group = await sc.by_name("complaint_create").group(soak_ctx, SOAK_CONCURRENCY)
    spec = {"host": server.host, "port": server.api_port, "warmup": 0, "duration": seconds, "request_timeout": 10,
            "groups": [group]}
    result = await _loadgen(spec, timeout=seconds + 120)
    g = result["groups"][0]
    print("  soak " + _line(g), flush=True)
    return {"seconds": seconds, "concurrency": SOAK_CONCURRENCY, "group": g}


# Single reads whose SQL statements per request are counted (pg_stat_statements): one is the target.
STATEMENT_COUNTED = ("complaint_get", "pil_case_get", "suggestion_get")


async def _statements_per_request(pg_url: str, ctx: sc.Context, scenario: sc.Scenario, n: int = 200) -> dict[str, Any]:
    """Send n requests one after another and count the statements the app's role ran meanwhile."""
    import asyncpg

    from bench.http1 import Http1

    group = await scenario.group(ctx, 1)
    raw = group["requests"][0].encode("latin-1")
    conn = await asyncpg.connect(pg_url)
    http = Http1(ctx.host, ctx.port)
    await http.connect()
    count = """select coalesce(sum(calls), 0)::bigint as calls, coalesce(json_agg(json_build_object('query', query,
               'calls', calls) order by calls desc), '[]')::text as queries from pg_stat_statements
               where userid = 'jianwu_app'::regrole::oid
                 and dbid = (select oid from pg_database where datname = current_database())"""
    try:
        await conn.execute("create extension if not exists pg_stat_statements")
        for _ in range(20):  # statement caches and per-worker caches warm
            await http.request(raw)
        await conn.execute("select pg_stat_statements_reset()")
        for _ in range(n):
            status, _, _ = await http.request(raw)
            if status != 200:
                raise RuntimeError(f"bench: {scenario.name} answered {status} while counting statements")
        row = await conn.fetchrow(count)
    finally:
        await http.close()
        await conn.close()
    return {"requests": n, "statements": row["calls"], "per_request": row["calls"] / n,
            "queries": json.loads(row["queries"])[:10]}


async def _list_floors(pg_url: str, sql: str, offices: dict[int, str], names: tuple[str, str],
                       count: int) -> dict[str, Any]:
    """A staff list's first-page SQL through asyncpg alone, no HTTP, for each generated office: the floor under
    the list scenarios (`names`: the list's and its rows', e.g. ("staff list", "complaints"))."""
    import asyncpg

    from bench.floors import _timed_async

    first, rows = names
    out: dict[str, Any] = {}
    conn = await asyncpg.connect(pg_url)
    try:
        for size, office in sorted(offices.items()):
            office_id = uuid.UUID(office)
            out[f"asyncpg: {first} first page, office of {size:,} {rows}"] = await _timed_async(
                lambda o=office_id: conn.fetch(sql, o), count, 5.0)
    finally:
        await conn.close()
    return out


async def _sql_rate(pool: Any, fn: Callable[[Any], Awaitable[Any]], connections: int, seconds: float) -> float:
    """Statements per second through asyncpg alone: `connections` tasks, each on a pooled connection of its own,
    running `fn(conn)` back to back for `seconds` (after a short warm-up)."""
    stop = time.perf_counter() + seconds
    done = 0

    async def loop() -> None:
        nonlocal done
        async with pool.acquire() as conn:
            for _ in range(20):
                await fn(conn)
            while time.perf_counter() < stop:
                await fn(conn)
                done += 1

    began = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(connections)))
    return done / (time.perf_counter() - began)


def _list_reads(prefix: str, sql: str, offices: dict[int, str]) -> dict[str, Callable[[Any], Awaitable[Any]]]:
    """A list's first page through asyncpg alone, for the offices of the smaller and the larger size."""
    sizes = sorted(offices)
    small, large = uuid.UUID(offices[sizes[0]]), uuid.UUID(offices[sizes[-1]])
    return {f"{prefix}_small": lambda c: c.fetch(sql, small), f"{prefix}_large": lambda c: c.fetch(sql, large)}


async def _read_sqls(pool: Any, data: Any) -> dict[str, Callable[[Any], Awaitable[Any]]]:
    """D of the read-floor verdict: each measured read's own SQL, to run through asyncpg alone."""
    from bench.seed_liaison import suggestion_list_sql
    from modules.complaints.queries import _STAFF_READ

    reads: dict[str, Callable[[Any], Awaitable[Any]]] = {}
    if data.offices:
        item = uuid.UUID(data.item_id)
        office = await pool.fetchval("select office_id from complaints where id = $1", item)
        reads["complaint_get"] = lambda c: c.fetchrow(_STAFF_READ, item, office)
        reads.update(_list_reads("complaint_list", data.list_sql, data.offices))
    if data.liaison_offices:
        reads.update(_list_reads("suggestion_list", suggestion_list_sql(), data.liaison_offices))
    return reads


async def _turns(pool: Any, ctx: sc.Context, scenario: sc.Scenario, fn: Callable[[Any], Awaitable[Any]],
                 seconds: float) -> dict[str, float]:
    """At concurrency 1: health_live, the read's SQL alone and the read over HTTP taking turns, one request each, so
    every triple meets the same moment; each rate is one over its mean time."""
    from bench.http1 import Http1

    live = (await sc.by_name(sc.BASELINE).group(ctx, 1))["requests"][0].encode("latin-1")
    read = (await scenario.group(ctx, 1))["requests"][0].encode("latin-1")
    http = Http1(ctx.host, ctx.port)
    await http.connect()
    spent = {"h": 0, "d": 0, "r": 0}
    done = errors = 0
    clock = time.perf_counter_ns
    try:
        async with pool.acquire() as conn:
            stop = time.perf_counter() + 0.5 + seconds
            warm_until = time.perf_counter() + 0.5
            while time.perf_counter() < stop:
                t0 = clock()
                live_status, _, _ = await http.request(live)
                t1 = clock()
                await fn(conn)
                t2 = clock()
                read_status, _, _ = await http.request(read)
                t3 = clock()
                if time.perf_counter() < warm_until:
                    continue
                errors += (live_status != 200) + (read_status != 200)
                spent["h"] += t1 - t0
                spent["d"] += t2 - t1
                spent["r"] += t3 - t2
                done += 1
    finally:
        await http.close()
    return {key: done * 1e9 / ns for key, ns in spent.items()} | {"errors": errors}


async def _read_floors(args: argparse.Namespace, server: BenchServer, ctx: sc.Context,
                       chosen: list[sc.Scenario]) -> dict[str, dict[int, list[dict[str, float]]]]:
    """The read-floor verdict's three figures, H (health_live over HTTP), D (the read's SQL through asyncpg alone) and
    the read over HTTP, measured so that they meet the same moments of the machine: measured apart, minutes from each
    other, the ratio moved by up to 40 points between two runs on a quiet machine. At concurrency 1 they take turns
    request by request; at the higher concurrency in slices of a few seconds, round after round. The verdict takes
    the median round."""
    import asyncpg

    rounds, slice_s = (2, 1.0) if args.quick else (5, 1.5)
    pool = await asyncpg.create_pool(server.pg_url, min_size=1, max_size=args.concurrency)
    out: dict[str, dict[int, list[dict[str, float]]]] = {}

    async def over_http(name: str, level: int) -> dict[str, Any]:
        spec = {"host": server.host, "port": server.api_port, "warmup": 0.5, "duration": slice_s,
                "request_timeout": 10, "groups": [await sc.by_name(name).group(ctx, level)]}
        return (await _loadgen(spec, timeout=slice_s + 60))["groups"][0]

    try:
        reads = await _read_sqls(pool, ctx.data)
        for scenario in (s for s in chosen if s.name in reads):
            fn = reads[scenario.name]
            for level in (1, args.concurrency):
                taken = []
                for _ in range(rounds):
                    if level == 1:
                        # D back to back too, for the record: a statement run between HTTP requests meets colder
                        # caches than one run in a tight loop, and so does the app's own statement.
                        taken.append(await _turns(pool, ctx, scenario, fn, 2 * slice_s)
                                     | {"d_loop": await _sql_rate(pool, fn, 1, slice_s)})
                        continue
                    h = await over_http(sc.BASELINE, level)
                    d = await _sql_rate(pool, fn, level, slice_s)
                    r = await over_http(scenario.name, level)
                    taken.append({"h": h["rps"], "d": d, "r": r["rps"], "errors": h["error_count"] + r["error_count"]})
                out.setdefault(scenario.name, {})[level] = taken
                print(f"  floor rounds {scenario.name} c={level}: " + "; ".join(
                    f"H {t['h']:,.0f} D {t['d']:,.0f} read {t['r']:,.0f}/s" for t in taken), flush=True)
    finally:
        await pool.close()
    return out


def main(argv: list[str] | None = None) -> int:
    args = _args(sys.argv[1:] if argv is None else argv)
    chosen, do_floors = _selected(args.scenarios)
    command = "bench/run" + ("".join(" " + shlex.quote(a) for a in sys.argv[1:]) if argv is None else "")
    OUT.mkdir(parents=True, exist_ok=True)
    data_dir = OUT / "data"
    if not args.keep_data and data_dir.exists():
        shutil.rmtree(data_dir)
    server = BenchServer(data_dir=data_dir, log_path=OUT / "server.log")
    started = time.time()
    loadavg_before = _loadavg()
    print(f"bench: starting `jianwu serve` on 127.0.0.1:{server.api_port} (PostgreSQL {server.pg_port}, "
          f"Redis {server.redis_port}, data {data_dir.relative_to(ROOT)}, log bench/out/server.log)", flush=True)
    measured: dict[str, Any] | None = None
    at_start: dict[str, Any] = {}
    bare: BareServer | None = None
    info: dict[str, Any] = {}
    try:
        server.start()
        print(f"bench: ready after {server.startup_s:.1f}s with {server.workers} workers; warm-up {args.warmup:g}s, "
              f"measured {args.duration:g}s per row", flush=True)
        info = asyncio.run(server_info(server))
        at_start = _memory(server)  # before any load: what a worker costs to start, apart from what the bench adds
        if any(s.bare for s in chosen):
            bare = BareServer(free_port(18100), server.workers or 2, OUT / "bare.log",
                              jwks=asyncio.run(_jwks(server)), issuer=ISSUER)
            bare.start()
        measured = asyncio.run(_measure(args, server, chosen, do_floors, bare.port if bare else None))
    finally:
        if bare is not None:
            bare.stop()
        server.stop()
        print(f"bench: server stopped (exit {server.exit_code}, "
              f"{'clean' if server.clean_stop else 'NOT clean'}) in {server.stop_s or 0:.1f}s", flush=True)
    info.update(machine_info())
    info.update(loadavg_before=loadavg_before, loadavg_after=_loadavg())
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(started)), "command": command,
        "quick": args.quick, "keep_data": args.keep_data, "warmup_s": args.warmup, "duration_s": args.duration,
        "high": args.concurrency,
        "wall_s": round(time.time() - started, 1), "server": {
            "workers": server.workers, "startup_s": round(server.startup_s or 0, 1), "exit_code": server.exit_code,
            "clean_stop": server.clean_stop, "stop_s": round(server.stop_s or 0, 1),
            "api_port": server.api_port, "pg_port": server.pg_port, "redis_port": server.redis_port,
        }, **info,
    }
    raw = {"meta": meta, **measured, "memory_at_start": at_start, "scenarios": {s.name: s.what for s in sc.SCENARIOS}}
    (OUT / "results.json").write_text(json.dumps(raw, indent=1, ensure_ascii=False))
    verdicts = write_results(args.results, raw)
    print(f"bench: wrote {args.results.relative_to(ROOT) if args.results.is_relative_to(ROOT) else args.results} "
          f"and bench/out/results.json in {meta['wall_s']:.0f}s", flush=True)
    for v in verdicts:
        print(f"bench: {v}", flush=True)
    return 0 if server.clean_stop else 1


if __name__ == "__main__":
    raise SystemExit(main())
