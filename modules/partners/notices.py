"""How the partner module's subjects tell whoever must know: an outbox event on the subject's topic naming the row
and its partner client (the delivery worker asks modules/partners/recipients.py who that is)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from api.outbox import emit

if TYPE_CHECKING:
    import asyncpg

    from modules.kernel.steps import Notify

__all__ = ("notifier",)


def notifier(topic: str, id_key: str, *, says_public: bool = False) -> Notify:
    """A `Subject.notify` emitting `topic` with the row's id under `id_key`, its client, the event and any extra ids
    (and whether the event is public, where `says_public`)."""
    async def notify(conn: asyncpg.Connection, row: Any, event: str, public: bool,
                     extra: dict[str, Any] | None = None) -> None:
        payload: dict[str, Any] = {id_key: str(row["id"]), "clientUuid": str(row["client_uuid"]), "event": event}
        if says_public:
            payload["public"] = public
        await emit(conn, topic, {**payload, **(extra or {})}, office_id=row["office_id"])

    return notify
