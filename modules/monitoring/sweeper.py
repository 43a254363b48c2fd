"""The periodic sweep: every office's stale clocks brought up to date, unfinished calendar recomputations resumed,
and the escalation ladder climbed. One worker at a time (a PostgreSQL advisory lock); the others skip."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from modules.clocks.calendars import resume_recomputes
from modules.monitoring.service import run_ladder, system_actor

if TYPE_CHECKING:
    from api.db import Database

__all__ = ("Sweeper", "sweep_all")

log = logging.getLogger("jianwu.monitoring")
_LOCK = 0x6A77_5357  # "jwSW": one sweep at a time across workers and replicas


async def sweep_all(db: Database) -> bool:
    """One sweep of every office, unless another worker is sweeping; whether this one did."""
    async with db.connection() as conn:
        if not await conn.fetchval("select pg_try_advisory_lock($1)", _LOCK):
            return False
        try:
            offices = await conn.fetch("select id from offices order by id")
            if offices:
                await resume_recomputes(conn, system_actor(offices[0]["id"]))
            for office in offices:
                done = await run_ladder(conn, office["id"])
                if any(done.values()):
                    log.info("sweep", extra={"office": str(office["id"]), **done})
        finally:
            await conn.execute("select pg_advisory_unlock($1)", _LOCK)
    return True


class Sweeper:
    """Runs sweep_all every `interval` seconds in the background of one worker process."""

    def __init__(self, db: Database, interval: int) -> None:
        self.db, self.interval = db, interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin sweeping (a no-op when the interval is 0)."""
        if self.interval > 0:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop sweeping; a sweep in progress is cancelled (each batch is its own transaction)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await sweep_all(self.db)
            except Exception:  # a failed sweep is logged and tried again next time
                log.exception("sweep failed")
