"""The modules Jianwu serves: their manifests, which offices have switched each on, and the guard on their routes.

A module is one manifest in `MANIFESTS`; everything else (routes, actions, clocks, topics, public routes,
permission defaults, demo data, the switch) is read from there."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec

from api.errors import ErrorCode, ProblemError, not_found
from api.outbox import register_recipients, register_topics
from api.ttl import TTLCache
from auth.actions import ACTIONS, register_actions
from modules.clocks.rules import CLOCKS
from modules.kernel.timeline import declare_event_types

if TYPE_CHECKING:
    import asyncpg
    from litestar.connection import ASGIConnection
    from litestar.handlers.base import BaseRouteHandler

    from api.db import Database
    from modules.kernel.manifest import Manifest

__all__ = (
    "ModuleSwitches", "check_config", "manifest", "manifests", "module_config", "module_guard", "module_routers",
    "public_routes", "register", "seed_permission_defaults",
)

_REGISTERED: dict[str, Manifest] = {}


def register(m: Manifest) -> Manifest:
    """Add a module: its actions, clocks and topics join the shared catalogues, its workflows are checked."""
    if m.name in _REGISTERED:
        raise ValueError(f"module {m.name} registered twice")
    register_actions(dict(m.actions), external={k: set(v) for k, v in m.external_actions.items()})
    for code, spec in m.clocks.items():
        if code in CLOCKS:
            raise ValueError(f"clock {code} registered twice")
        if (spec.code, spec.module) != (code, m.name):
            raise ValueError(f"module {m.name} brings clock {code} filed as {spec.code} of module {spec.module}")
        CLOCKS[code] = spec
    missing = [c for c in m.uses_clocks if c not in CLOCKS]
    if missing:
        raise ValueError(f"module {m.name} uses unknown clocks {missing}")
    register_topics(m.topics)
    register_recipients(m.recipients)
    for subject in m.subjects:
        subject.workflow.check(actions=ACTIONS, clocks=CLOCKS)
        declare_event_types({f"step.{t.name}": t.label_zh or t.name for t in subject.workflow.transitions.values()})
    declare_event_types(m.event_types)
    unknown = [a for _, a in m.permission_defaults if a not in ACTIONS]
    if unknown:
        raise ValueError(f"module {m.name} grants unknown actions {unknown}")
    _REGISTERED[m.name] = m
    return m


def manifests() -> list[Manifest]:
    """Every module Jianwu serves, in registration order."""
    _load()
    return list(_REGISTERED.values())


def manifest(name: str) -> Manifest:
    """One module's manifest, or 404 for a name no module has."""
    _load()
    m = _REGISTERED.get(name)
    if m is None:
        raise not_found(f"No module {name!r}.")
    return m


def _load() -> None:
    # The built-in modules register themselves when imported.
    import modules.complaints
    import modules.liaison
    import modules.litigation
    import modules.partners  # noqa: F401


class ModuleSwitches:
    """Per-worker cache of office_modules; a change by an admin reaches every worker within five seconds."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: TTLCache[tuple[UUID, str], tuple[bool, dict[str, Any]]] = TTLCache(5.0)

    async def get(self, office_id: UUID | None, module: str) -> tuple[bool, dict[str, Any]]:
        """(enabled, config) for the office; a module never configured is off, and so is any for no office."""
        if office_id is None:
            return False, {}
        hit = self._cache.get((office_id, module))
        if hit is not None:
            return hit
        async with self.db.connection() as conn:
            row = await conn.fetchrow("select enabled, config from office_modules where office_id = $1 and module = $2",
                                      office_id, module)
        return self._cache.put((office_id, module), (row["enabled"], row["config"]) if row else (False, {}))

    async def require(self, office_id: UUID | None, module: str) -> dict[str, Any]:
        """The module's config for the office, or 403 `module_disabled`."""
        enabled, config = await self.get(office_id, module)
        if not enabled:
            raise ProblemError(ErrorCode.MODULE_DISABLED,
                               f"The {module} module is switched off for this office.", extra={"module": module})
        return config

    def forget(self) -> None:
        """Drop the cache (after this worker changed a switch)."""
        self._cache.clear()


async def module_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """On every route of a module: a caller who belongs to an office reaches the module only where that office
    has it on, and the handler finds the office's configuration of it in the scope (`module_config`). Routes whose
    office comes from the item or the body (the public and the citizens) check the switch once they know it."""
    if handler.opt.get("module_switch") is False:
        return
    module = handler.opt["module"]
    principal = connection.scope.get("user")
    office_id = getattr(principal, "office_id", None)
    # Citizens file with any office: their item's office is checked once the item is found.
    if office_id is not None and principal.kind != "citizen":
        config = await connection.app.state.modules.require(office_id, module)
        connection.scope.setdefault("state", {})["module_config"] = config


def module_routers() -> list[Any]:
    """One router per module, behind its switch, for the /api/v1 router."""
    from litestar import Router

    return [Router(path="/", route_handlers=m.routes(), guards=[module_guard], opt={"module": m.name})
            for m in manifests()]


def public_routes() -> frozenset[tuple[str, str]]:
    """Every route callable without a token: the core's (auth/public.py) and each module's."""
    from auth.public import PUBLIC_ROUTES

    return PUBLIC_ROUTES.union(*(m.public_routes for m in manifests()))


def module_config(connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any]:
    """The caller's office's configuration of the route's module (set by `module_guard`)."""
    return connection.scope.get("state", {}).get("module_config") or {}


_AT = re.compile(r"at `\$(.*)`$")


def check_config(m: Manifest, config: dict[str, Any]) -> None:
    """422 naming the field when an office's configuration does not fit the module's schema."""
    if m.config is None:
        return
    try:
        msgspec.convert(config, m.config)
    except msgspec.ValidationError as exc:
        message = str(exc)
        where = _AT.search(message)
        raise ProblemError(ErrorCode.UNPROCESSABLE, "The module configuration is invalid.",
                           errors=[{"field": "config" + (where.group(1) if where else ""),
                                    "message": _AT.sub("", message).rstrip(" -")}]) from None


async def seed_permission_defaults(conn: asyncpg.Connection) -> int:
    """Put each module's national default grants in place where missing; answers how many were added."""
    rows = [(role, action) for m in manifests() for role, action in m.permission_defaults]
    if not rows:
        return 0
    added = await conn.fetchval(
        """
        with wanted as (select * from unnest($1::text[], $2::text[]) as w(role, action)),
        ins as (
            insert into permission_grants (province, office_id, role, action)
            select '*', null, role, action from wanted
            on conflict do nothing returning 1
        )
        select count(*) from ins
        """,
        [r for r, _ in rows], [a for _, a in rows])
    return int(added)
