"""The outbox: side effects are written in the same transaction as the change that causes them, and delivered
after commit by a worker, so a crash never sends a notification for a change that did not happen (or loses one)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    import asyncpg

__all__ = ("RECIPIENTS", "TOPICS", "Audience", "Event", "Resolver", "emit", "register_recipients", "register_topics")

# Every topic a module may emit (name -> who listens), declared in its manifest; the delivery side routes by these.
TOPICS: dict[str, str] = {}


@dataclass(frozen=True, slots=True)
class Event:
    """One outbox row as the delivery worker hands it to the module that declared its topic."""

    id: int
    topic: str
    office_id: UUID | None
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Audience:
    """Who hears of an event: accounts (inbox, then their phones), and whether partner agencies of the event's
    office that subscribed to its topic get it too (webhook and pull feed)."""

    users: tuple[UUID, ...] = ()
    partners: bool = False
    # Or only these partner clients (partner_clients.id), when they subscribed to the topic: an item sent to one agency.
    partner_clients: tuple[UUID, ...] = ()
    # The short name the inbox and the push payload carry (default: the payload's `event`, else the topic).
    kind: str | None = None


# Who hears of each topic, answered by the module that declared it (its manifest's `recipients`); the delivery
# worker asks, in the transaction that fans the event out.
Resolver = Callable[["asyncpg.Connection", Event], Awaitable[Audience]]
RECIPIENTS: dict[str, Resolver] = {}


def register_topics(topics: dict[str, str] | Any) -> None:
    """Declare a module's topics (at import)."""
    for name in topics:
        if name in TOPICS:
            raise ValueError(f"outbox topic {name} registered twice")
    TOPICS.update(topics)


def register_recipients(resolvers: dict[str, Resolver] | Any) -> None:
    """Say who hears of each of a module's topics (at import); a topic without one reaches no one."""
    for name in resolvers:
        if name not in TOPICS:
            raise ValueError(f"recipients for undeclared outbox topic {name}")
        if name in RECIPIENTS:
            raise ValueError(f"recipients for outbox topic {name} registered twice")
    RECIPIENTS.update(resolvers)


async def emit(conn: asyncpg.Connection, topic: str, payload: dict[str, Any], *, office_id: UUID | None = None) -> None:
    """Queue one event; it carries ids only (push wakes the app, which fetches content with its own token)."""
    if topic not in TOPICS:
        raise ValueError(f"outbox topic {topic!r} is not declared by any module")
    await conn.execute("insert into outbox (topic, office_id, payload) values ($1, $2, $3)", topic, office_id, payload)
