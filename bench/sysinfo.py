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
