"""Which modules each office has switched on, read on every module request (cached a few seconds per worker)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any
from uuid import UUID

from api.errors import ErrorCode, ProblemError

if TYPE_CHECKING:
    from api.db import Database

__all__ = ("MODULES", "ModuleSwitches")

MODULES = ("complaints", "litigation", "liaison")
_TTL = 5.0


class ModuleSwitches:
    """Per-worker cache of office_modules; a change by an admin reaches every worker within five seconds."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: dict[tuple[UUID, str], tuple[float, bool, dict[str, Any]]] = {}

    async def get(self, office_id: UUID, module: str) -> tuple[bool, dict[str, Any]]:
        """(enabled, config) for the office; a module never configured is off."""
        hit = self._cache.get((office_id, module))
        if hit and hit[0] > time.monotonic():
            return hit[1], hit[2]
        async with self.db.connection() as conn:
            row = await conn.fetchrow("select enabled, config from office_modules where office_id = $1 and module = $2",
                                      office_id, module)
        enabled, config = (row["enabled"], row["config"]) if row else (False, {})
        self._cache[(office_id, module)] = (time.monotonic() + _TTL, enabled, config)
        return enabled, config

    async def require(self, office_id: UUID, module: str) -> dict[str, Any]:
        """The module's config for the office, or 403 `module_disabled`."""
        enabled, config = await self.get(office_id, module)
        if not enabled:
            raise ProblemError(403, ErrorCode.MODULE_DISABLED,
                               f"The {module} module is switched off for this office.", extra={"module": module})
        return config

    def forget(self) -> None:
        """Drop the cache (after this worker changed a switch)."""
        self._cache.clear()
