"""Switching a module on or off for an office, with its configuration: one function for the admin API and the
console alike."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.errors import ErrorCode, ProblemError
from api.state import AppState
from auth.audit import Actor, record
from modules.clocks.rules import CLOCKS, resolve
from modules.registry import check_config, manifest

__all__ = ("switch",)


async def switch(state: AppState, actor: Actor, office_id: UUID | None, module: str, *, enabled: bool,
                 config: dict[str, Any]) -> None:
    """Check the configuration against the module's schema (400/422 naming the field), keep the switch with its
    audit record, and drop this worker's cache of switches."""
    check_config(manifest(module), config)
    _check_clock_overrides(config.get("clocks"))
    async with state.db.transaction() as conn:
        await conn.execute(
            """
            insert into office_modules (office_id, module, enabled, config) values ($1, $2, $3, $4)
            on conflict (office_id, module) do update set enabled = excluded.enabled, config = excluded.config,
                updated_at = now()
            """,
            office_id, module, enabled, config)
        await record(conn, actor, "admin.module.switched", object_type="module", object_id=module,
                     detail={"enabled": enabled})
    state.modules.forget()


def _check_clock_overrides(overrides: Any) -> None:
    """Per-office clock settings ({code: {"day_type": ..., "lead_days": [...]}}) are checked before they are kept."""
    if overrides is None:
        return
    errors = []
    if not isinstance(overrides, dict):
        errors.append({"field": "config.clocks", "message": "expected an object keyed by clock code"})
    else:
        for code, value in overrides.items():
            spec = CLOCKS.get(code)
            if spec is None:
                errors.append({"field": f"config.clocks.{code}", "message": "no such clock"})
                continue
            try:
                resolve(spec, value)
            except ValueError as exc:
                errors.append({"field": f"config.clocks.{code}", "message": str(exc)})
    if errors:
        raise ProblemError(ErrorCode.VALIDATION_FAILED, "Invalid clock settings.", errors=errors)
