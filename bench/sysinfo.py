"""What the results were measured on: the machine, and the versions the running server reports."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ("machine_info", "server_info")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_info() -> dict[str, Any]:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu_model": _cpu_model(), "cores": os.cpu_count(), "cores_usable": affinity, "memory_gib": _memory_gib(),
        "kernel": f"{platform.system()} {platform.release()}", "python": sys.version.split()[0],
        "python_impl": platform.python_implementation(),
        "versions": {d: _version(d) for d in ("granian", "litestar", "msgspec", "asyncpg", "redis", "cryptography",
                                              "PyJWT", "argon2-cffi", "uvloop", "hiredis")},
    }


async def server_info(server: Any) -> dict[str, Any]:
    """PostgreSQL and Redis versions as the bench server's own embedded servers report them."""
    import asyncpg
    import redis.asyncio as aioredis

    conn = await asyncpg.connect(server.pg_url)
    try:
        pg = await conn.fetchval("show server_version")
        pg_settings = {name: await conn.fetchval(f"show {name}")
                       for name in ("max_connections", "shared_buffers", "fsync", "synchronous_commit")}
    finally:
        await conn.close()
    client = aioredis.Redis.from_url(server.redis_url)
    try:
        redis_version = (await client.info("server")).get("redis_version")
    finally:
        await client.aclose()
    return {"postgres": pg, "postgres_settings": pg_settings, "redis_server": redis_version}


def _busy_and_steal() -> tuple[int, int]:
    """Whole-machine busy and steal ticks from /proc/stat (idle and iowait excluded)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return user + nice + system + irq + softirq, steal


def _tree_ticks(root: int) -> int:
    """CPU ticks (own + reaped children) of `root` and every live descendant."""
    procs: dict[int, tuple[int, int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        rest = raw[raw.rindex(")") + 2:].split()
        procs[int(entry)] = (int(rest[1]), sum(int(x) for x in rest[11:15]))  # ppid; utime stime cutime cstime
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += procs.get(pid, (0, 0))[1]
        stack.extend(children.get(pid, ()))
    return total


def tree_memory(root: int) -> list[dict[str, Any]]:
    """Resident memory of every live process under `root`: pid, parent, command line, RSS and its anonymous and
    file-backed parts in MiB."""
    procs: dict[int, dict[str, Any]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        kib = {name: int(fields.get(name, "0 kB").split()[0]) for name in ("VmRSS", "RssAnon", "RssFile")}
        procs[int(entry)] = {"pid": int(entry), "ppid": int(fields["PPid"]), "cmd": cmdline.strip()[:200],
                             "rss_mib": round(kib["VmRSS"] / 1024, 1), "anon_mib": round(kib["RssAnon"] / 1024, 1),
                             "file_mib": round(kib["RssFile"] / 1024, 1)}
    children: dict[int, list[int]] = {}
    for pid, info in procs.items():
        children.setdefault(info["ppid"], []).append(pid)
    out, stack = [], [root]
    while stack:
        pid = stack.pop()
        if pid in procs:
            out.append(procs[pid])
        stack.extend(children.get(pid, ()))
    return out


_ROLES = (("bench.loadgen", "load generator"), (" -m push", "delivery worker"), ("granian", "API workers"),
          ("jianwu serve", "API workers"), ("postgres", "PostgreSQL"), ("redis", "Redis"))


def _role_ticks(root: int) -> dict[int, tuple[str, int]]:
    """CPU ticks (own utime + stime) of every live process under `root`, by pid, with what the process is."""
    out: dict[int, tuple[str, int]] = {}
    for p in tree_memory(root):
        try:
            raw = Path(f"/proc/{p['pid']}/stat").read_text()
        except OSError:
            continue
        rest = raw[raw.rindex(")") + 2:].split()
        role = next((name for needle, name in _ROLES if needle in p["cmd"]), "bench")
        out[p["pid"]] = (role, int(rest[11]) + int(rest[12]))
    return out


def _role_shares(before: dict[int, tuple[str, int]], after: dict[int, tuple[str, int]], one_core: float
                 ) -> dict[str, float]:
    """Each role's CPU between two `_role_ticks`, as a share of one core (100 = a whole core). A process that
    started in between counts whole; one that ended in between is missing (its last ticks are unknown), so a
    PostgreSQL backend closed mid-window makes its role read low, never below zero."""
    spent: dict[str, int] = {}
    for pid, (role, ticks) in after.items():
        spent[role] = spent.get(role, 0) + ticks - before.get(pid, (role, 0))[1]
    return {role: round(100 * ticks / one_core, 1) for role, ticks in spent.items()}


class CpuMeter:
    """How much CPU processes other than the bench's own (server, databases, load generator) took meanwhile."""

    def __init__(self) -> None:
        self.available = Path("/proc/stat").exists()
        self.tick = os.sysconf("SC_CLK_TCK") if self.available else 100
        self.cores = os.cpu_count() or 1

    def snapshot(self) -> tuple[float, int, int, int, dict[int, tuple[str, int]]] | None:
        if not self.available:
            return None
        import time

        busy, steal = _busy_and_steal()
        return time.monotonic(), busy, steal, _tree_ticks(os.getpid()), _role_ticks(os.getpid())

    def since(self, before: tuple[float, int, int, int, dict[int, tuple[str, int]]] | None) -> dict[str, Any]:
        after = self.snapshot()
        if before is None or after is None:
            return {}
        capacity = (after[0] - before[0]) * self.tick * self.cores
        if capacity <= 0:
            return {}
        ours = after[3] - before[3]
        other = max(0, (after[1] - before[1]) - ours)
        by_role = _role_shares(before[4], after[4], capacity / self.cores)
        return {"other_cpu_pct": round(100 * other / capacity, 1), "steal_pct": round(100 * (after[2] - before[2])
                                                                                       / capacity, 1),
                "bench_cpu_pct": round(100 * ours / capacity, 1), "cpu_by_role": by_role}
