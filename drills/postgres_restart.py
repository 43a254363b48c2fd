"""Drill 2: PostgreSQL restarted under load.

Promises (README "API conventions", docs/architecture.md "State"):
- during the gap, requests that need the database answer 503 with Retry-After, within the configured timeouts:
  never a 500, never a hang; routes that do not need it (GET /health/live) stay 200;
- full recovery within 10 s of PostgreSQL being back (accepting connections), without restarting Jianwu.

Routes under load and probed: /health/live (no database), the complaint catalog (public, database), a citizen's
own list GET /api/v1/me/complaints (token + Redis + database) and GET /api/v1/auth/me (staff token).
Timeline, three times over: load starts (a 10 s window of bench.loadgen); 1.5 s later PostgreSQL gets a fast
shutdown (SIGINT: open transactions are rolled back and every connection is cut); 2.5 s later it is started again
on the same data; the drill waits until every probed route has answered 200 for 1.5 s (at most 10 s). Then 3 s
more of load must be all 200. Three restarts rather than one: the races around a shutdown last milliseconds.
"""

from __future__ import annotations

import asyncio
import collections
import time

from drills.client import (
    CATALOG, Load, Probe, Prober, Verdict, bearer, citizen_token, describe, on_sigterm, staff_token, static_group,
    tally,
)
from drills.stack import Stack

NAME = "postgres_restart"
# Three restarts: the shutdown races that matter last milliseconds, so each cycle is another chance to meet one.
CYCLES, BASELINE_S, DOWN_S, CYCLE_S, RECOVERY_LIMIT_S, AFTER_S = 3, 1.5, 2.5, 10.0, 10.0, 3.0
# The longest a request may take while PostgreSQL is away: JIANWU_DB_COMMAND_TIMEOUT (10 s) plus a margin.
HANG_S = 12.0
MINE = "/api/v1/me/complaints"
NEEDS_DB = ("catalog", "mine")
PROBES = ("live", "catalog", "mine", "auth")


def main() -> int:
    on_sigterm()
    print(f"drill {NAME}: PostgreSQL stopped for {DOWN_S:g}s under load and started again, {CYCLES} times",
          flush=True)
    v = Verdict(NAME)
    stack = Stack(NAME)
    error: BaseException | None = None
    try:
        stack.start()
        staff = bearer(asyncio.run(staff_token(stack)))
        citizen = bearer(asyncio.run(citizen_token(stack)))
        pids = stack.api_pids()
        port = stack.api_port
        probes = [Probe("live", "/health/live"), Probe("catalog", CATALOG), Probe("mine", MINE, citizen),
                  Probe("auth", "/api/v1/auth/me", staff)]
        groups = [static_group("live", 1, "/health/live", port=port), static_group("catalog", 4, CATALOG, port=port),
                  static_group("mine", 4, MINE, citizen, port=port),
                  static_group("auth", 1, "/api/v1/auth/me", staff, port=port)]
        prober = Prober(port, probes, limit_s=CYCLES * (CYCLE_S + RECOVERY_LIMIT_S) + 10, timeout=HANG_S + 3)
        t0 = time.monotonic()
        prober.start()
        cycles: list[tuple[float, float, float]] = []
        recovered: dict[str, list[float | None]] = {n: [] for n in PROBES}
        loads = []
        for _ in range(CYCLES):
            load = Load(stack, groups, CYCLE_S, request_timeout=HANG_S).start()
            time.sleep(BASELINE_S)
            stack.stop_postgres()
            down_at = time.monotonic()
            time.sleep(DOWN_S)
            restart_at = time.monotonic()
            stack.start_postgres()
            up_at = time.monotonic()  # accepting connections (pg_isready)
            while time.monotonic() < up_at + RECOVERY_LIMIT_S + 2:
                ats = [prober.recovered_at(n, up_at) for n in PROBES]
                if all(a is not None for a in ats) and time.monotonic() - max(ats) >= 1.5:  # type: ignore[type-var]
                    break
                time.sleep(0.2)
            for n in PROBES:
                at = prober.recovered_at(n, up_at)
                recovered[n].append(None if at is None else max(at - up_at, 0.0))
            cycles.append((down_at, restart_at, up_at))
            loads.append(load.result())
            print(f"  restart {len(cycles)}: PostgreSQL down at +{down_at - t0:.1f}s, restarted at "
                  f"+{restart_at - t0:.1f}s, ready at +{up_at - t0:.1f}s; routes 200 again after "
                  + ", ".join(f"{n} {r[-1]:.1f}s" if r[-1] is not None else f"{n} never"
                              for n, r in recovered.items()), flush=True)
        prober.stop()
        during = {g: {"statuses": collections.Counter(), "sockets": collections.Counter(),
                      "counts": collections.Counter()} for g in loads[0]}
        for result in loads:
            for g, r in result.items():
                for k in ("statuses", "sockets", "counts"):
                    during[g][k].update(r[k])
        after = Load(stack, groups, AFTER_S, request_timeout=HANG_S).run()

        # ---- counts ----
        everything = [a for n in PROBES for a in prober.of(n)]
        v.add(tally(everything))
        for g in (*during.values(), *after.values()):
            v.add(g["counts"])
        for name, g in during.items():
            print(f"  load {name:<8} during the drill {describe(g)}", flush=True)

        # ---- promises ----
        live_bad = [a for a in prober.of("live") if a.status != 200]
        v.check(not live_bad and during["live"]["statuses"].keys() <= {200} and not during["live"]["sockets"],
                f"/health/live (no database) always 200 (load {describe(during['live'])})")
        for name in NEEDS_DB:
            gap = [a for a in prober.of(name) for down_at, restart_at, _ in cycles
                   if a.sent >= down_at and a.done <= restart_at]
            good = [a for a in gap if a.status == 503 and "retry-after" in a.headers]
            v.check(len(gap) >= 3 and len(good) == len(gap),
                    f"{name} during the gap: {len(good)}/{len(gap)} answered 503 with Retry-After (others: "
                    f"{sorted({(a.status, a.code, a.error) for a in gap if a not in good}, key=str)})")
        no_retry_after = [a for a in everything if a.status == 503 and "retry-after" not in a.headers]
        v.check(not no_retry_after, f"every 503 carries Retry-After ({len(no_retry_after)} without)")
        other_5xx = sum(g["counts"]["other_5xx"] for g in (*during.values(), *after.values()))
        seen_other = sorted({(a.status, a.code) for a in everything if a.status and a.status >= 500 and a.status != 503})
        other_5xx += sum(1 for a in everything if a.status is not None and a.status >= 500 and a.status != 503)
        v.check(other_5xx == 0, f"no 5xx other than 503 ({other_5xx}{': ' + str(seen_other) if seen_other else ''}; "
                + ", ".join(f"{n} {describe(g)}" for n, g in during.items() if g["counts"]["other_5xx"]) + ")")
        odd = sorted({a.status for a in everything} - {200, 503}, key=str)
        v.check(not odd, f"probes answer only 200 or 503 (also saw {odd})" if odd else "probes answer only 200 or 503")
        lost = sum(1 for a in everything if a.status is None)
        lost += sum(g["counts"]["lost"] for g in (*during.values(), *after.values()))
        slow = max((a.latency for a in everything), default=0.0)
        v.check(lost == 0 and slow <= HANG_S,
                f"every request answered within the timeouts (lost {lost}, slowest probe {slow:.2f}s, "
                f"limit {HANG_S:g}s)")
        v.check(sum(g["statuses"].get(503, 0) for g in during.values()) > 0,
                f"the gap was seen under load ({sum(g['statuses'].get(503, 0) for g in during.values())} x 503)")
        for name in PROBES:
            times = recovered[name]
            v.check(all(t is not None and t <= RECOVERY_LIMIT_S for t in times),
                    f"{name} recovers within {RECOVERY_LIMIT_S:g}s of PostgreSQL being ready, after each restart "
                    f"({', '.join('never' if t is None else f'{t:.1f}s' for t in times)})")
        v.recovered_cleanly(stack, after, AFTER_S, pids)
    except BaseException as exc:  # noqa: BLE001 - reported as a failed drill, after cleaning up
        error = exc
    finally:
        stack.close()
    return v.finish(error if not isinstance(error, SystemExit) else RuntimeError("stopped by a signal"))


if __name__ == "__main__":
    raise SystemExit(main())
