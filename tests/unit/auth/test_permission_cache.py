"""The worker's permission cache: a role set's actions are worked out once per office's grants, and a change to the
grants (read again after the cache's few seconds, or after `forget`) is seen at once."""

from __future__ import annotations

import uuid

from auth.permissions import PermissionCache
from auth.principal import Principal

OFFICE = uuid.uuid4()


def _staff(*roles: str) -> Principal:
    return Principal(sub=str(uuid.uuid4()), kind="staff", audience="jianwu:staff", jti="j", exp=2**31, iat=0,
                     office_id=OFFICE, roles=roles)


def _cache_with(grants: dict[str, frozenset[str]]) -> PermissionCache:
    cache = PermissionCache(db=None)  # type: ignore[arg-type]  # every look-up below is answered from the cache
    cache._cache.put(OFFICE, grants)
    return cache


async def test_a_role_sets_actions_are_the_union_of_its_roles_grants() -> None:
    cache = _cache_with({"prosecutor": frozenset({"complaint.read", "complaint.reply"}),
                         "leader": frozenset({"complaint.approve"})})
    both = await cache.actions_of(_staff("prosecutor", "leader"))
    assert both == {"complaint.read", "complaint.reply", "complaint.approve"}
    assert await cache.actions_of(_staff("leader")) == {"complaint.approve"}
    assert await cache.actions_of(_staff("clerk")) == frozenset()
    assert await cache.actions_of(_staff("prosecutor", "leader")) is both  # worked out once for these grants


async def test_grants_read_again_change_the_actions_at_once() -> None:
    cache = _cache_with({"prosecutor": frozenset({"complaint.read"})})
    someone = _staff("prosecutor")
    assert await cache.actions_of(someone) == {"complaint.read"}
    cache._cache.put(OFFICE, {"prosecutor": frozenset({"complaint.read", "complaint.assign"})})  # the TTL's reload
    assert await cache.actions_of(someone) == {"complaint.read", "complaint.assign"}
    assert len(cache._unions) == 1  # the office's earlier grants are no longer held
    cache.forget()
    cache._cache.put(OFFICE, {"prosecutor": frozenset()})
    assert await cache.actions_of(someone) == frozenset()
