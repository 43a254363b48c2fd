"""bench/RESULTS.md, written from one run's measurements (never by hand)."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

__all__ = ("AUTH_BUDGET_US", "write_results")

AUTH_BUDGET_US = 150.0
BASELINE = "health_live"
CREATE_RPS, CREATE_P99_MS = 1000.0, 100.0  # complaint creation at the higher concurrency
RSS_MIB = 100.0  # resident memory per API worker after the bench
READ_FLOOR_SHARE = 0.7  # an authenticated read against 1 / (1/H + 1/D)
FLOOR_SHARE = 0.9  # health_live's throughput against bare Litestar's, same server, workers and run


def _f(v: float | None, digits: int = 0) -> str:
    return "—" if v is None else f"{v:,.{digits}f}"


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:g}%"


def _errors(g: dict[str, Any]) -> str:
    if not g["error_count"]:
        text = "0"
    else:
        text = ", ".join(f"{k}: {v}" for k, v in sorted(g["errors"].items()))
    if g.get("warmup_errors"):
        kinds = ", ".join(f"{k}: {v}" for k, v in sorted((g.get("warmup_error_kinds") or {}).items()))
        text += f" (+ in warm-up {kinds or g['warmup_errors']})"
    return text


def _conc(g: dict[str, Any]) -> str:
    """Nominal concurrency, and the effective one (Little's law) when clearly lower: connections were idle."""
    n = g["connections"]
    if g.get("mean_us") and g.get("rps"):
        effective = g["rps"] * g["mean_us"] / 1e6
        if effective < 0.8 * n:
            return f"{n} (**effective {effective:.1f}**)"
    return str(n)


def _floor(h: float, d: float) -> float:
    """A read's floor, 1 / (1/H + 1/D): health_live's rate H and the read's SQL alone D, one after the other."""
    return 1 / (1 / h + 1 / d)


def _group(runs: list[dict[str, Any]], name: str, c: int) -> dict[str, Any] | None:
    for r in runs:
        if r["scenario"] == name and r["concurrency"] == c:
            return r["groups"][0]
    return None


def _auth_verdicts(runs: list[dict[str, Any]], high: int, name: str = "auth_me") -> list[tuple[int, float, bool]]:
    out = []
    for c in sorted({1, high}):
        me, base = _group(runs, name, c), _group(runs, BASELINE, c)
        if me and base and me["p50_us"] is not None and base["p50_us"] is not None:
            diff = me["p50_us"] - base["p50_us"]
            out.append((c, diff, diff <= AUTH_BUDGET_US))
    return out


def _machine_time(me: dict[str, Any], base: dict[str, Any]) -> str:
    """At saturation a p50 difference is mostly queueing; the throughput difference is the cost per request."""
    if not me["rps"] or not base["rps"]:
        return ""
    extra = 1e6 / me["rps"] - 1e6 / base["rps"]
    return (f"; throughput {_f(me['rps'])} against {_f(base['rps'])} req/s, i.e. {_f(extra)} µs more of the "
            f"saturated machine's time per request")


def _paired(runs: list[dict[str, Any]], scenario: str = "auth_paired") -> dict[str, float]:
    """p50 per label of a paired measurement (auth_paired: health_live, auth_me, auth_me_fresh_tokens;
    bare_verify: bare_live, bare_verify_fresh)."""
    g = _group(runs, scenario, 1)
    return {label: st["p50_us"] for label, st in ((g or {}).get("by_label") or {}).items() if st["p50_us"] is not None}


def _verify_floor(runs: list[dict[str, Any]]) -> float | None:
    """bare_verify's /verify − /health/live (µs, p50): the ES256 verification alone under granian."""
    bare = _paired(runs, "bare_verify")
    return _sub(bare.get("bare_verify_fresh"), bare.get("bare_live"))


def _rss_parts(workers: list[dict[str, Any]]) -> str:
    """The anonymous and file-backed parts of the workers' RSS (older runs' figures have none)."""
    if not all("anon_mib" in p for p in workers):
        return ""
    # The file-backed part is the libraries' code and data that the worker touched (granian, cryptography, Python):
    # the same physical pages in every worker, and the kernel maps more of them when they are already in the page
    # cache (on one machine 23.6 MiB right after dropping the page cache, 31.9 MiB with it warm, same code).
    return ("; of which anonymous " + ", ".join(f"{p['anon_mib']:.1f}" for p in workers) + " MiB and file-backed "
            + ", ".join(f"{p['file_mib']:.1f}" for p in workers) + " MiB")


def _loop_verdict(runs: list[dict[str, Any]]) -> tuple[str, bool] | None:
    during = next((r for r in runs if r["scenario"] == "health_live_during_password"), None)
    alone = _group(runs, BASELINE, 1)
    if not during or not alone or alone["p50_us"] is None or during["groups"][0]["p50_us"] is None:
        return None
    h, bg = during["groups"][0], during["groups"][1]
    if bg["p50_us"] is None:
        return None
    # If hashing blocked the loop, with 4 sign-ins on 2 workers each loop would be blocked nearly all the time:
    # a health check would wait for the hash in progress (p50 a sizeable share of a sign-in, p99 a whole hash).
    # Compared with the sign-ins measured at the same moment, so a busy machine slows both sides alike.
    ok = h["p50_us"] < 0.1 * bg["p50_us"] and h["p99_us"] < 0.5 * bg["p50_us"]
    text = (f"/health/live alone p50 {_f(alone['p50_us'])} µs / p99 {_f(alone['p99_us'])} µs; beside "
            f"{bg['connections']} connections signing in ({_f(bg['rps'], 1)} sign-ins/s, p50 {_f(bg['p50_us'])} µs "
            f"each) p50 {_f(h['p50_us'])} µs / p99 {_f(h['p99_us'])} µs (blocked, they would wait for whole hashes: "
            f"the verdict asks p50 < 10% and p99 < 50% of a sign-in's p50)")
    return text, ok


def _p50(d: dict[str, Any] | None) -> float | None:
    return None if not d else d.get("p50_us")


def _sub(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _breakdown(add: Any, runs: list[dict[str, Any]], floors: dict[str, Any]) -> None:
    """Where the authentication time goes, for a repeated token and for never-seen tokens."""
    from bench.floors import (
        ASGI_LIVE,
        ASGI_ME_FRESH,
        ASGI_ME_SAME,
        ECDSA_ALONE,
        INSIDE,
        MGET_BARE,
        MGET_REDIS_PY,
        PRINCIPAL_ALONE,
        VARIANTS,
        VERIFY_ALONE,
    )

    base = _p50(_group(runs, BASELINE, 1))
    columns = [("auth_me", ASGI_ME_SAME), ("auth_me_fresh_tokens", ASGI_ME_FRESH)]
    paired = _paired(runs)
    if BASELINE in paired:  # the paired measurement when there is one: it is the one the verdict uses
        http = [_sub(paired.get(name), paired[BASELINE]) for name, _ in columns]
    else:
        http = [_sub(_p50(_group(runs, name, 1)), base) for name, _ in columns]
    asgi = [_sub(_p50(floors.get(variant)), _p50(floors.get(ASGI_LIVE))) for _, variant in columns]
    if all(v is None for v in http + asgi):
        return
    inside = {part: [_p50(floors.get(INSIDE.format(variant=VARIANTS[v], part=part))) for _, v in columns]
              for part in ("Keyring.verify", "Revocations.check")}

    def cell(v: float | None, missing: str = "—") -> str:
        return missing if v is None else _f(v, 1)

    add("")
    add("### Where the authentication time goes (concurrency 1, medians, µs)")
    add("")
    add("| | one token again and again (`auth_me`) | a never-seen token each time (`auth_me_fresh_tokens`) |")
    add("|---|---:|---:|")
    add(f"| **overhead over HTTP through granian** (scenario − health_live) | **{cell(http[0])}** | "
        f"**{cell(http[1])}** |")
    add(f"| overhead in-process through ASGI (no granian, no HTTP) | {cell(asgi[0])} | {cell(asgi[1])} |")
    labels = {"Keyring.verify": "… inside: `Keyring.verify` (ES256 and claim checks)",
              "Revocations.check": "… inside: `Revocations.check` (the Redis `MGET`, unless answered from memory)"}
    for part, values in inside.items():
        add(f"| {labels[part]} | {cell(values[0], 'not called')} | {cell(values[1], 'not called')} |")
    rest = [_sub(a, sum(v[i] or 0 for v in inside.values())) for i, a in enumerate(asgi)]
    add(f"| … the rest: Litestar's guard and handler machinery, `Me`, the larger response | {cell(rest[0])} | "
        f"{cell(rest[1])} |")
    add(f"| granian and HTTP beyond in-process: the request and the response cross between granian's threads and the "
        f"worker's loop, the larger request | {cell(_sub(http[0], asgi[0]))} | "
        f"{cell(_sub(http[1], asgi[1]))} |")
    floor = _verify_floor(runs)
    if floor is not None:
        add(f"| for comparison, the verification alone under granian: the bare app's `/verify` (`TokenVerifier.verify`"
            f" and nothing else) − its `/health/live`, taking turns (`bare_verify`) | not called | {cell(floor)} |")
    alone = {k: _p50(floors.get(k)) for k in (VERIFY_ALONE, ECDSA_ALONE, PRINCIPAL_ALONE, MGET_REDIS_PY, MGET_BARE)}
    add("")
    add(f"Alone in a tight loop: `TokenVerifier.verify` {cell(alone[VERIFY_ALONE])} µs, of which the bare ECDSA "
        f"P-256 verification {cell(alone[ECDSA_ALONE])} µs; `Principal.from_claims` {cell(alone[PRINCIPAL_ALONE])} "
        f"µs; the revocation `MGET` through redis-py {cell(alone[MGET_REDIS_PY])} µs, over a bare socket "
        f"{cell(alone[MGET_BARE])} µs. The same code runs slower inside the app than alone (colder caches), hence "
        f"the \"inside\" rows. The split is an estimate; the totals are measured.")


def write_results(path: Path, raw: dict[str, Any]) -> list[str]:
    """Write the Markdown; return the verdict lines (also printed by the runner)."""
    meta, runs, floors, wrk = raw["meta"], raw["runs"], raw["floors"], raw["wrk"]
    high = meta["high"]
    srv = meta["server"]
    lines: list[str] = []
    add = lines.append
    verdicts: list[str] = []

    add("# Jianwu benchmark results")
    add("")
    add("Written by `bench/run` — do not edit by hand: rerun `make bench` (or `make bench-quick`). "
        "How to read and extend it: [README.md](README.md).")
    add("")
    add(f"- **Date**: {meta['date']}")
    mode = "quick" if meta["quick"] else "full"
    add(f"- **Command**: `{meta['command']}` ({mode}: {meta['warmup_s']:g} s warm-up, then {meta['duration_s']:g} s "
        f"measured per row; the whole run took {meta['wall_s']:.0f} s)")
    add(f"- **Server**: `.venv/bin/jianwu serve` exactly as `make run` starts it (embedded PostgreSQL and Redis, own "
        f"data directory `bench/out/data`{', reused' if meta.get('keep_data') else ', new for this run'}, "
        f"ports {srv['api_port']}/{srv['pg_port']}/{srv['redis_port']}), granian "
        f"**{srv['workers']} workers** (the default), `JIANWU_ACCESS_LOG=false`, `JIANWU_LOGIN_IP_LIMIT=1000000`, "
        f"`JIANWU_SWEEP_INTERVAL=0`; "
        f"ready after {srv['startup_s']} s; SIGTERM → exit {srv['exit_code']} in {srv['stop_s']} s, "
        f"{'every port released' if srv['clean_stop'] else '**NOT a clean stop**'}")
    others = [r["other_cpu_pct"] for r in runs if r.get("other_cpu_pct") is not None]
    if meta.get("loadavg_before") or others:
        text = (f"load average {meta.get('loadavg_before')} before, {meta.get('loadavg_after')} after (the bench's "
                f"own processes included)")
        if others:
            steal = [r.get("steal_pct", 0) for r in runs]
            text += (f"; processes other than the bench's took {sum(others) / len(others):.1f}% of the machine's CPU "
                     f"on average during the measurements (at most {max(others):g}%; column \"others' CPU\"), and "
                     f"the hypervisor stole {max(steal):g}% at most")
        add(f"- **Other load on the machine**: {text}. Rerun on a quiet machine before quoting a figure "
            f"measured with others above a few percent.")
    waits = raw.get("quiet_waits") or {}
    add("- **The server's own background work**: every measurement starts once the delivery worker has nothing due "
        "(the notifications of the scenario before it, or of the last run, all sent), so no row is timed beside "
        "that fan-out; " + ("waited " + ", ".join(f"{s:g} s before {label}" for label, s in waits.items())
                            if waits else "no wait was needed") + ".")
    add("")

    add("## Verdicts")
    add("")
    paired = _paired(runs)

    def verdict(diff: float) -> str:
        return "PASS" if diff <= AUTH_BUDGET_US else "FAIL"

    def line(text: str) -> None:
        add(f"- {text}")
        verdicts.append(text.replace("**", ""))

    if "auth_me" in paired and BASELINE in paired:
        diff = paired["auth_me"] - paired[BASELINE]
        line(f"**Authentication overhead** (the requirement, ≤ {AUTH_BUDGET_US:.0f} µs), concurrency 1, auth_me and "
             f"health_live taking turns on one connection: {_f(paired['auth_me'])} µs − {_f(paired[BASELINE])} µs "
             f"= **{_f(diff)} µs → {verdict(diff)}**")
        if "auth_me_fresh_tokens" in paired:
            diff = paired["auth_me_fresh_tokens"] - paired[BASELINE]
            alone = _verify_floor(runs)
            floor = (f" (the verification alone, in the bare app under granian: {_f(alone)} µs, `bare_verify`)"
                     if alone is not None else "")
            line(f"… with a never-seen token on every request (nothing cached; many users, one request each): "
                 f"{_f(paired['auth_me_fresh_tokens'])} µs − {_f(paired[BASELINE])} µs = **{_f(diff)} µs → "
                 f"{verdict(diff)}**{floor}")
    for name, what in (("auth_me", "one token"), ("auth_me_fresh_tokens", "a never-seen token each time")):
        for c, diff, _ok in _auth_verdicts(runs, high, name):
            me, base = _group(runs, name, c), _group(runs, BASELINE, c)
            if c == 1:
                role = ("the requirement, judged here since auth_paired did not run"
                        if not paired and name == "auth_me" else "measured apart, at different moments")
                text = (f"{name} ({what}) − health_live, concurrency 1 ({role}): {_f(me['p50_us'])} µs − "
                        f"{_f(base['p50_us'])} µs = **{_f(diff)} µs → {verdict(diff)}**")
            else:
                text = (f"{name} ({what}) − health_live, concurrency {c} (under load: the p50 difference is mostly "
                        f"queueing): {_f(me['p50_us'])} µs − {_f(base['p50_us'])} µs = **{_f(diff)} µs → "
                        f"{verdict(diff)}**{_machine_time(me, base)}")
            line(text)
    for r in runs:
        if r["scenario"] != "bare_litestar" or len(r["groups"]) < 2:
            continue
        bare, ours = r["groups"][0], r["groups"][1]  # measured at the same time, each with c connections
        if bare["rps"]:
            share = ours["rps"] / bare["rps"]
            line(f"**Framework floor**, concurrency {r['concurrency']} each, both servers loaded at the same time: "
                 f"health_live {_f(ours['rps'])} req/s against bare Litestar {_f(bare['rps'])} req/s = "
                 f"**{share:.0%} (target ≥ {FLOOR_SHARE:.0%}) → {'PASS' if share >= FLOOR_SHARE else 'FAIL'}**")
    for name, st in (raw.get("statements") or {}).items():
        per = st["per_request"]
        line(f"**SQL statements per request**, {name} ({st['requests']} requests one after another, counted by "
             f"pg_stat_statements for the app's role): **{per:.2f} (target 1) → {'PASS' if per <= 1.05 else 'FAIL'}**")
    for name, levels in (raw.get("read_floors") or {}).items():
        for level, taken in sorted((int(k), v) for k, v in levels.items()):
            shares = [t["r"] / _floor(t["h"], t["d"]) for t in taken if t["h"] and t["d"]]
            if not shares:
                continue
            share = statistics.median(shares)
            h, d, r = (statistics.median(t[k] for t in taken) for k in ("h", "d", "r"))
            errors = sum(t["errors"] for t in taken)
            verdict = "PASS" if share >= READ_FLOOR_SHARE else "FAIL"
            loop = statistics.median(t["d_loop"] for t in taken) if all("d_loop" in t for t in taken) else None
            aside = (f"; D back to back instead, {_f(loop)}/s, would make the floor {_f(_floor(h, loop))} and the "
                     f"share {r / _floor(h, loop):.0%}") if loop else ""
            line(f"**Read against its floor**, {name} at concurrency {level}: {_f(r)} req/s against 1 / (1/H + 1/D) "
                 f"= {_f(_floor(h, d))} (H = health_live {_f(h)}, D = its SQL through asyncpg alone "
                 f"{_f(d)}/s; medians of {len(taken)} rounds, the three taking turns "
                 f"{'request by request' if level == 1 else 'in slices of seconds'}, the rounds "
                 f"{', '.join(f'{x:.0%}' for x in shares)}{f'; {errors} errors' if errors else ''}{aside}) = "
                 f"**{share:.0%} (target ≥ {READ_FLOOR_SHARE:.0%}) → {verdict}**")
    create = _group(runs, "complaint_create", high)
    if create and create["requests"]:
        ok = create["rps"] >= CREATE_RPS and create["p99_us"] < CREATE_P99_MS * 1000
        line(f"**Complaint creation**, concurrency {high}: **{_f(create['rps'])}/s, p99 {_f(create['p99_us'] / 1000)} "
             f"ms** (target ≥ {_f(CREATE_RPS)}/s with p99 < {_f(CREATE_P99_MS)} ms) → **{'PASS' if ok else 'FAIL'}**")
    for r in runs:
        if r["scenario"] == "complaint_create" and r.get("cpu_by_role"):
            shares = ", ".join(f"{role} {pct:g}%" for role, pct in sorted(r["cpu_by_role"].items(), key=lambda x: -x[1]))
            add(f"- Where the CPU went during complaint_create at {r['concurrency']} (share of one core; the machine "
                f"has {meta.get('cores') or 2}): {shares}")
    soak = raw.get("soak")
    if soak:
        g = soak["group"]
        line(f"**Soak**, complaint creation at concurrency {soak['concurrency']} for {_f(soak['seconds'])} s: "
             f"{g['requests']:,} created, {_f(g['rps'])}/s, p99 {_f((g['p99_us'] or 0) / 1000)} ms, max "
             f"{_f((g['max_us'] or 0) / 1000)} ms, **{g['error_count']} errors → "
             f"{'PASS' if g['error_count'] == 0 and g['requests'] else 'FAIL'}**" + (f" ({_errors(g)})" if g["error_count"] else ""))
    memory = raw.get("memory") or {}
    if memory.get("api_workers"):
        worst = max(p["rss_mib"] for p in memory["api_workers"])
        # One decimal: a worker at 100.3 MiB must not read "100 MiB → FAIL".
        each = ", ".join(f"{p['rss_mib']:.1f}" for p in memory["api_workers"])
        extra = "".join(f"; delivery worker {p['rss_mib']:.1f} MiB" for p in memory.get("delivery_workers") or [])
        line(f"**Memory per API worker** after the bench (RSS): {each} MiB{extra} → **{worst:.1f} MiB (target ≤ "
             f"{_f(RSS_MIB)} MiB) → {'PASS' if worst <= RSS_MIB else 'FAIL'}**{_rss_parts(memory['api_workers'])}")
    started = raw.get("memory_at_start") or {}
    if started.get("api_workers"):
        each = ", ".join(f"{p['rss_mib']:.1f}" for p in started["api_workers"])
        extra = "".join(f"; delivery worker {p['rss_mib']:.1f} MiB" for p in started.get("delivery_workers") or [])
        line(f"Memory per API worker at start (RSS once /health/ready answered, before any load): {each} MiB{extra}"
             f"{_rss_parts(started['api_workers'])}")
    for label, w in (raw.get("wal") or {}).items():
        if w.get("per_item"):
            line(f"WAL per complaint creation ({label}): **{_f(w['per_item'])} bytes** ({w['created']:,} created, "
                 f"{_f(w['wal_bytes'] / 2**20, 1)} MiB of WAL, warm-up included)")
    loop = _loop_verdict(runs)
    if loop:
        v = f"Event loop not blocked by argon2: **{'PASS' if loop[1] else 'FAIL'}** — {loop[0]}"
        add(f"- {v}")
        verdicts.append(v.replace("**", ""))
    short = [f"{r['scenario']} at {r['concurrency']}" for r in runs if any(g.get("ran_out") for g in r["groups"])]
    if short:
        v = f"Ran out of pre-built requests before the window ended (figures cover less time): {', '.join(short)}"
        add(f"- {v}")
        verdicts.append(v)
    if raw.get("setup_errors"):
        text = ", ".join(f"{k}: {v}" for k, v in raw["setup_errors"].items())
        line(f"**Set-up requests (not measured) answered errors and were retried**: {text}")
    errors = sum(g["error_count"] for r in runs for g in r["groups"])
    where = "; ".join(f"{g['name']} at {g['connections']}: {_errors(g)}" for r in runs for g in r["groups"]
                      if g["error_count"] or g.get("warmup_errors"))
    busiest = max((r.get("other_cpu_pct") or 0 for r in runs), default=0)
    if busiest > 20:
        line(f"**Warning: the machine was not quiet** — other processes took up to {busiest:g}% of its CPU during "
             f"the measurements (column \"others' CPU\"); rerun when it is idle before quoting these figures")
    warm = sum(g.get("warmup_errors", 0) for r in runs for g in r["groups"])
    line(f"Errors: **{errors}** in the measured windows, **{warm}** during warm-ups" + (f" — {where}" if where else "")
         + (" (a set-up or warm-up error still says the server failed; see bench/out/server.log)" if warm else ""))
    add("")

    add("## Machine")
    add("")
    v = meta.get("versions", {})
    add("| | |")
    add("|---|---|")
    add(f"| CPU | {meta.get('cpu_model')} — {meta.get('cores')} cores ({meta.get('cores_usable')} usable) |")
    add(f"| Memory | {meta.get('memory_gib')} GiB |")
    add(f"| Kernel | {meta.get('kernel')} |")
    add(f"| Python | {meta.get('python_impl')} {meta.get('python')} (server and load generator) |")
    add(f"| PostgreSQL | {meta.get('postgres')} (embedded; "
        + ", ".join(f"{k}={val}" for k, val in (meta.get('postgres_settings') or {}).items()) + ") |")
    add(f"| Redis | {meta.get('redis_server')} (embedded, appendonly) |")
    add(f"| granian | {v.get('granian')}, {srv['workers']} workers |")
    add("| Libraries | " + ", ".join(f"{k} {val}" for k, val in v.items() if k != "granian") + " |")
    add("")
    add("**Everything shares the same cores**: granian's workers, PostgreSQL, Redis and the load generator (one "
        "process, Python asyncio, one core at most). At concurrency 1 the numbers are latency (the load generator "
        "is mostly idle); at higher concurrency the load generator takes CPU the server would otherwise have "
        "(its share is in the column \"load gen. CPU\", of one core), so requests/s here understate a server "
        "with cores of its own, and "
        "every latency includes the load generator's own Python overhead (the same for every scenario, so the "
        "differences between scenarios are the server's).")
    add("")

    add("## Scenarios")
    add("")
    add("Latency: from writing the request to reading the last byte of the response, per request, on keep-alive "
        "connections each sending requests back-to-back. Errors: non-2xx/3xx answers or socket errors in the "
        "measured window. The two ratio columns compare with health_live at the same concurrency in this run.")
    for name, what in raw["scenarios"].items():
        rows = [r for r in runs if r["scenario"] == name]
        if not rows:
            continue
        add("")
        add(f"### {name}")
        add("")
        add(what)
        add("")
        add("| load | conc. | req/s | p50 µs | p90 µs | p99 µs | max µs | errors | req/s ÷ health_live "
            "| p50 ÷ health_live | load gen. CPU | others' CPU |")
        add("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|")
        for r in rows:
            for i, g in enumerate(r["groups"]):
                base = _group(runs, BASELINE, g["connections"])
                rps_ratio = p50_ratio = "—"
                if base and base["rps"] and g["p50_us"] is not None and name != BASELINE:
                    rps_ratio = f"{g['rps'] / base['rps']:.2f}"
                    p50_ratio = f"{g['p50_us'] / base['p50_us']:.2f}"
                label = g["name"] if i == 0 else f"{g['name']} (alongside)"
                add(f"| {label} | {_conc(g)} | {_f(g['rps'], 1)} | {_f(g['p50_us'])} | {_f(g['p90_us'])} | "
                    f"{_f(g['p99_us'])} | {_f(g['max_us'])} | {_errors(g)} | {rps_ratio} | {p50_ratio} | "
                    f"{r['loadgen_cpu_pct'] if i == 0 else ''}{'%' if i == 0 else ''} | "
                    f"{_pct(r.get('other_cpu_pct')) if i == 0 else ''} |")
                for sub, st in (g.get("by_label") or {}).items():
                    ratio = f"{st['p50_us'] / base['p50_us']:.2f}" if base and st["p50_us"] else "—"
                    add(f"| … {sub} requests | {g['connections']} | {_f(st['rps'], 1)} | {_f(st['p50_us'])} | "
                        f"{_f(st['p90_us'])} | {_f(st['p99_us'])} | {_f(st['max_us'])} | | | {ratio} | | |")
        if name == "health_live_during_password":
            add("")
            add("The sign-ins' argon2 hashes run in worker threads and keep the cores busy, so the health checks wait "
                "for CPU time (their latency rises by milliseconds), not for the event loop: a blocked loop would "
                "make them wait for whole hashes, as long as a sign-in.")
        if name == "token_refresh":
            starved = sum(g.get("pool_starved", 0) for r in rows for g in r["groups"])
            add("")
            add("Each connection takes the next never-used refresh token from a pool pre-filled by password "
                "sign-ins (one per connection and 4 spare) and returns the rotated one from each answer, so every request is a "
                f"first use (no retry, no reuse detection). Times a connection found the pool empty: {starved:,}"
                + (" — a failed refresh loses its token, so the pool ran dry and connections sat idle: the "
                   "effective concurrency is below the nominal one." if starved else "."))

    if floors:
        add("")
        add("## Floors (from the bench process, no HTTP)")
        add("")
        add("Round trips to the bench server's own PostgreSQL and Redis, the CPU cost of the server's own "
            "token-verification code, and the app itself called in-process through ASGI (no granian, no HTTP), "
            "one call at a time. Rows starting \"inside\" time the guard's parts where they run inside that app.")
        add("")
        add("| what | p50 µs | p90 µs | p99 µs | max µs | calls |")
        add("|---|---:|---:|---:|---:|---:|")
        for fname, f in floors.items():
            if f["p50_us"] is None:
                add(f"| {fname} | not called | | | | 0 |")
                continue
            add(f"| {fname} | {_f(f['p50_us'], 1)} | {_f(f['p90_us'], 1)} | {_f(f['p99_us'], 1)} | "
                f"{_f(f['max_us'], 1)} | {f['requests']:,} |")
        _breakdown(add, runs, floors)

    if wrk:
        add("")
        add("## wrk (installed on this machine, so also reported)")
        add("")
        add("| scenario | conc. | req/s | p50 µs | p90 µs | p99 µs | non-2xx |")
        add("|---|---:|---:|---:|---:|---:|---:|")
        for w in wrk:
            add(f"| {w['scenario']} | {w['connections']} | {_f(w.get('rps'), 1)} | {_f(w.get('p50_us'))} | "
                f"{_f(w.get('p90_us'))} | {_f(w.get('p99_us'))} | {w.get('non_2xx', 0)} |")
    add("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return verdicts
