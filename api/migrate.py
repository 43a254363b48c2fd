"""Plain SQL migrations: versioned files applied in order, once, under an advisory lock, never edited."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

__all__ = ("MIGRATIONS_DIR", "Migration", "MigrationError", "apply", "discover", "status")

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same in every process that migrates this database.
_LOCK_KEY = 0x4A49414E5755  # "JIANWU"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(RuntimeError):
    """The database and the migration files disagree in a way we refuse to paper over."""


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration file."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """SHA-256 of the file's text: an applied file must never change."""
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files in version order; refuses gaps, duplicates and badly named files."""
    found = []
    for path in sorted(directory.glob("*.sql")):
        m = _NAME.match(path.name)
        if not m:
            raise MigrationError(f"badly named migration file {path.name} (want NNNN_name.sql)")
        found.append(Migration(int(m.group(1)), m.group(2), path.read_text(encoding="utf-8")))
    for expected, mig in enumerate(found, start=1):
        if mig.version != expected:
            raise MigrationError(f"migration {mig.version:04d}_{mig.name} out of sequence (expected {expected:04d})")
    return found


_CREATE = """
create table if not exists schema_migrations (
    version integer primary key,
    name text not null,
    checksum text not null,
    applied_at timestamptz not null default now()
)
"""


async def _applied(conn: asyncpg.Connection) -> dict[int, asyncpg.Record]:
    exists = await conn.fetchval("select to_regclass('schema_migrations') is not null")
    if not exists:
        return {}
    return {r["version"]: r for r in await conn.fetch("select version, name, checksum from schema_migrations")}


def _check(applied: dict[int, asyncpg.Record], files: list[Migration]) -> list[Migration]:
    by_version = {m.version: m for m in files}
    for version, row in applied.items():
        mig = by_version.get(version)
        if mig is None:
            raise MigrationError(f"database has migration {version:04d}_{row['name']} that no file provides")
        if mig.checksum != row["checksum"]:
            raise MigrationError(
                f"migration {version:04d}_{mig.name} was edited after it was applied; add a new migration instead"
            )
    return [m for m in files if m.version not in applied]


async def apply(conn: asyncpg.Connection, files: list[Migration] | None = None) -> list[Migration]:
    """Apply every pending migration, each in its own transaction; return those applied."""
    files = discover() if files is None else files
    await conn.execute("select pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(_CREATE)
        pending = _check(await _applied(conn), files)
        for mig in pending:
            async with conn.transaction():
                await conn.execute(mig.sql)
                await conn.execute(
                    "insert into schema_migrations (version, name, checksum) values ($1, $2, $3)",
                    mig.version, mig.name, mig.checksum,
                )
        return pending
    finally:
        await conn.execute("select pg_advisory_unlock($1)", _LOCK_KEY)


async def status(conn: asyncpg.Connection, files: list[Migration] | None = None) -> list[tuple[Migration, bool]]:
    """Each migration file and whether it is applied; raises if the database disagrees with the files."""
    files = discover() if files is None else files
    applied = await _applied(conn)
    pending = {m.version for m in _check(applied, files)}
    return [(m, m.version not in pending) for m in files]
