"""Permission lists as data: which roles may take which actions, per province with per-office overrides."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from api.ttl import TTLCache

if TYPE_CHECKING:
    import asyncpg

    from api.db import Database
    from auth.principal import Principal

__all__ = ("NATIONAL", "PermissionCache", "effective_grants", "replace_grants")

# Rows under this province apply where a province has set no list of its own (and to citizens, who have no office).
NATIONAL = "*"
_TTL = 10.0
_MAX_OFFICES = 4096  # offices whose role-set unions a worker keeps (each with a handful of role sets)

# Each level can only narrow the one above: the office's own list (if any) within its province's (if any) within
# the nation's. Narrowing upstream takes effect at once everywhere below, including offices with their own list.
_EFFECTIVE = """
with office as (select id, province from offices where id = $1),
own as (select g.role, g.action from permission_grants g join office o on g.office_id = o.id),
prov as (select g.role, g.action from permission_grants g join office o on g.office_id is null
         and g.province = o.province),
nat as (select g.role, g.action from permission_grants g where g.office_id is null and g.province = '*')
select n.role, n.action from nat n
where (not exists (select 1 from prov) or exists (select 1 from prov p where p.role = n.role and p.action = n.action))
  and (not exists (select 1 from own) or exists (select 1 from own w where w.role = n.role and w.action = n.action))
"""


async def effective_grants(conn: asyncpg.Connection, office_id: UUID | None) -> dict[str, frozenset[str]]:
    """role -> actions in force: the national list, narrowed by the province's and then the office's own."""
    rows = await conn.fetch(_EFFECTIVE, office_id) if office_id else await conn.fetch(
        "select role, action from permission_grants where office_id is null and province = '*'"
    )
    out: dict[str, set[str]] = {}
    for r in rows:
        out.setdefault(r["role"], set()).add(r["action"])
    return {role: frozenset(actions) for role, actions in out.items()}


async def replace_grants(
    conn: asyncpg.Connection, *, province: str, office_id: UUID | None, grants: dict[str, list[str]]
) -> None:
    """Replace one level's list (an office's, or a province's when office_id is None) within the caller's tx."""
    if office_id is None:
        await conn.execute("delete from permission_grants where province = $1 and office_id is null", province)
    else:
        await conn.execute("delete from permission_grants where office_id = $1", office_id)
    rows = [(province, office_id, role, action) for role, actions in grants.items() for action in sorted(set(actions))]
    await conn.executemany(
        "insert into permission_grants (province, office_id, role, action) values ($1, $2, $3, $4)", rows
    )


class PermissionCache:
    """Each worker keeps the lists it used for a few seconds, so a guard check costs no query."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: TTLCache[UUID | None, dict[str, frozenset[str]]] = TTLCache(_TTL)
        # Per office: the grants last seen and the union of each role set's actions under them (about 1 µs a call to
        # rebuild). Grants read again are a new dict, so a change is seen as soon as the TTL cache sees it, and at most
        # one grants dict per office stays referenced here.
        self._unions: dict[UUID | None, tuple[dict[str, frozenset[str]], dict[tuple[str, ...], frozenset[str]]]] = {}

    async def grants(self, office_id: UUID | None) -> dict[str, frozenset[str]]:
        """The grants in force for an office (cached for a few seconds)."""
        hit = self._cache.get(office_id)
        if hit is not None:
            return hit
        async with self.db.connection() as conn:
            return self._cache.put(office_id, await effective_grants(conn, office_id))

    def forget(self) -> None:
        """Drop everything cached (after this worker changed a list)."""
        self._cache.clear()
        self._unions.clear()

    async def actions_of(self, principal: Principal) -> frozenset[str]:
        """Every action the principal's roles are granted in its office (what a module offers it, who approves)."""
        office = principal.office_id
        grants = await self.grants(office)
        held = self._unions.get(office)
        if held is None or held[0] is not grants:
            if len(self._unions) >= _MAX_OFFICES:
                self._unions.clear()
            held = self._unions[office] = (grants, {})
        roles = principal.effective_roles
        union = held[1].get(roles)
        if union is None:
            union = held[1][roles] = frozenset().union(*(grants.get(role, frozenset()) for role in roles))
        return union

    async def allows(self, principal: Principal, action: str) -> bool:
        """Whether any of the principal's roles is granted the action (partners also need it in their scope)."""
        granted = action in await self.actions_of(principal)
        if principal.kind == "partner":
            return granted and action in principal.scopes
        return granted
