"""Who hears of each complaint topic: the delivery worker asks here (manifest `recipients`)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from api.outbox import Audience, Event

if TYPE_CHECKING:
    import asyncpg

__all__ = ("RECIPIENTS",)

# Events of an item that partner agencies of the office may subscribe to: an item referred out to another organ.
_PARTNER_EVENTS = frozenset({"complaint.refer"})


async def _named_user(conn: asyncpg.Connection, event: Event) -> Audience:
    """The account the event names (the signed-in complainant, or the handler it was assigned to)."""
    user = event.payload.get("userId")
    return Audience(users=(UUID(user),) if user else ())


async def _staff(conn: asyncpg.Connection, event: Event) -> Audience:
    """The item's handler at the time (named in the event), if any; partners of the office for an item referred
    out. An assignment reaches the new handler through `complaint.assigned`, so not twice."""
    handler = event.payload.get("assigneeId")
    if event.payload.get("event") == "complaint.assign":
        handler = None
    return Audience(users=(UUID(handler),) if handler else (), partners=event.payload.get("event") in _PARTNER_EVENTS)


RECIPIENTS = {"complaint.complainant": _named_user, "complaint.assigned": _named_user, "complaint.staff": _staff}
