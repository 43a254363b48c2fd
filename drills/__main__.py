"""`drills/run` (= `python -m drills`, = `make drills`): run every fault drill, or the ones named, each in a process
of its own with a hard time limit; print each drill's counts and a summary; exit 1 when any promise broke.

    drills/run                         # all of them, under 5 minutes
    drills/run postgres_restart        # one
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time

from drills import DRILLS
from drills.stack import OUT, ROOT

LIMIT_S = 150  # per drill; each takes well under a minute


def _run(name: str) -> tuple[int, str, float, list[str]]:
    began = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", f"drills.{name}"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, bufsize=1)
    last = ""
    broken: list[str] = []  # the checks that failed, repeated under the summary: a CI log's tail shows them
    failing = False  # the line before was a failed check or its continuation
    assert proc.stdout is not None
    timer_fired = False

    def on_time() -> None:  # SIGTERM lets the drill stop what it started; SIGKILL if that does not end it
        nonlocal timer_fired
        timer_fired = True
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()

    timer = threading.Timer(LIMIT_S, on_time)
    timer.daemon = True
    timer.start()
    try:
        for line in proc.stdout:
            print(line, end="", flush=True)
            if line.startswith(f"drill {name}:"):
                last = line.strip()
            elif line.startswith("  [FAIL]") or (failing and line.startswith("         ")):
                broken.append(line.rstrip())
            failing = line.startswith("  [FAIL]") or (failing and line.startswith("         "))
        code = proc.wait()
    finally:
        timer.cancel()
    if timer_fired:
        last = f"drill {name}: stopped after the {LIMIT_S}s limit -> FAIL"
        code = code or 1
    return code, last or f"drill {name}: exited {code} without counts -> FAIL", time.monotonic() - began, broken


def main() -> int:
    p = argparse.ArgumentParser(prog="drills/run", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("names", nargs="*", metavar="drill", help=f"any of: {', '.join(DRILLS)} (default: all)")
    args = p.parse_args()
    unknown = [n for n in args.names if n not in DRILLS]
    if unknown:
        p.error(f"unknown drill(s) {', '.join(unknown)}; known: {', '.join(DRILLS)}")
    if not os.access(ROOT / ".venv" / "bin" / "jianwu", os.X_OK):
        print("drills: .venv/bin/jianwu is missing; run `make install` (or `make drills`) first", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    results = []
    for name in args.names or DRILLS:
        results.append(_run(name))
        print(flush=True)
    failed = [r for r in results if r[0] != 0]
    print(f"drills: {len(results) - len(failed)}/{len(results)} passed in {time.monotonic() - began:.0f}s "
          f"(logs under drills/out/)")
    for code, last, _secs, broken in results:
        print(f"  {last.removeprefix('drill ')}" + ("" if code == 0 or last.endswith("FAIL") else f" (exit {code})"))
        for line in broken:
            print(f"  {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
