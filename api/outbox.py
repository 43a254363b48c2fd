"""The outbox: side effects are written in the same transaction as the change that causes them, and delivered
after commit by a worker, so a crash never sends a notification for a change that did not happen (or loses one)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    import asyncpg

__all__ = ("TOPICS", "emit", "register_topics")

# Every topic a module may emit (name -> who listens), declared in its manifest; the delivery side routes by these.
TOPICS: dict[str, str] = {}


def register_topics(topics: dict[str, str] | Any) -> None:
    """Declare a module's topics (at import)."""
    for name in topics:
        if name in TOPICS:
            raise ValueError(f"outbox topic {name} registered twice")
    TOPICS.update(topics)


async def emit(conn: asyncpg.Connection, topic: str, payload: dict[str, Any], *, office_id: UUID | None = None) -> None:
    """Queue one event; it carries ids only (push wakes the app, which fetches content with its own token)."""
    if topic not in TOPICS:
        raise ValueError(f"outbox topic {topic!r} is not declared by any module")
    await conn.execute("insert into outbox (topic, office_id, payload) values ($1, $2, $3)", topic, office_id, payload)
