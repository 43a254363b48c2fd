"""Optional: the same GET scenarios through `wrk`, when it happens to be installed (never required)."""

from __future__ import annotations

import re
import subprocess
from typing import Any

__all__ = ("run_wrk",)

_UNITS = {"us": 1.0, "ms": 1000.0, "s": 1_000_000.0}


def _us(value: str, unit: str) -> float:
    return float(value) * _UNITS[unit]


def run_wrk(url: str, headers: dict[str, str], connections: int, duration: float) -> dict[str, Any]:
    """One wrk thread (the machine's other core is the server's), `connections` connections."""
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency"]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    try:
        done = subprocess.run([*cmd, url], check=False, capture_output=True, text=True, timeout=duration + 30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"connections": connections, "error": str(exc)}
    out: dict[str, Any] = {"connections": connections, "raw": done.stdout[-2000:]}
    if m := re.search(r"Requests/sec:\s+([\d.]+)", done.stdout):
        out["rps"] = float(m.group(1))
    for pct in ("50", "90", "99"):
        if m := re.search(rf"^\s+{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", done.stdout, re.MULTILINE):
            out[f"p{pct}_us"] = _us(m.group(1), m.group(2))
    if m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", done.stdout):
        out["non_2xx"] = int(m.group(1))
    return out
