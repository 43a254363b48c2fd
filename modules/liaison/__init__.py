"""Liaison with deputies and members 代表委员联络: the register, suggestions answered on time, invitations, bulletins,
and the representative app."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from api.outbox import Audience, Event
from modules import registry
from modules.kernel.manifest import Manifest, lazy_demo, lazy_routes
from modules.liaison.rules import ACTIONS, CLOCKS, EVENT_TYPES, PERMISSION_DEFAULTS, TOPICS, Config

if TYPE_CHECKING:
    import asyncpg

__all__ = ("MANIFEST",)


async def _named_user(conn: object, event: Event) -> Audience:
    """The representative the event names (their app); ids only."""
    user = event.payload.get("userId")
    return Audience(users=(UUID(user),) if user else ())


async def _liaison_staff(conn: asyncpg.Connection, event: Event) -> Audience:
    """The office's liaison staff (the `liaison_office` role), serving and enabled; never another office's."""
    if event.office_id is None:
        return Audience()
    rows = await conn.fetch("select id from users where office_id = $1 and kind = 'staff' and 'liaison_office' ="
                            " any(roles) and disabled_at is null and retired_at is null order by id", event.office_id)
    return Audience(users=tuple(r["id"] for r in rows))


async def _warned(conn: asyncpg.Connection, event: Event) -> Audience:
    """A cadence warning reaches the leader behind on it; an open-days warning, the office's liaison staff."""
    if event.payload.get("userId"):
        return await _named_user(conn, event)
    return await _liaison_staff(conn, event)


async def _sweep(conn: asyncpg.Connection, office_id: UUID) -> int:
    from modules.liaison import policy

    return await policy.sweep(conn, office_id)


def _subjects() -> tuple:
    from modules.liaison.invitations import SUBJECT as INVITATION
    from modules.liaison.suggestions import SUBJECT as SUGGESTION

    return (SUGGESTION, INVITATION)


MANIFEST = registry.register(Manifest(
    name="liaison", label_zh="代表委员联络", routes=lazy_routes(__name__), actions=ACTIONS,
    external_actions={"deputy": frozenset({"liaison.rep"}), "member": frozenset({"liaison.rep"})},
    permission_defaults=PERMISSION_DEFAULTS, uses_clocks=CLOCKS, topics=TOPICS, event_types=EVENT_TYPES,
    subjects=_subjects(),
    recipients={"liaison.representative": _named_user, "liaison.staff": _liaison_staff, "liaison.warning": _warned},
    config=Config, demo=lazy_demo(__name__), sweep=_sweep,
))
