"""Partner agencies' subscriptions (set by an admin of their office), their delivery log and replays, and the
pull feed that carries the same events in the same order to agencies without an endpoint."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from api.errors import ErrorCode, ProblemError, not_found
from api.outbox import TOPICS
from api.pagination import keyset, page_of
from auth.audit import record
from push.schemas import DeliveryOut, FeedEvent, FeedOut, SubscriptionOut
from push.signing import new_secret
from push.targets import TargetRefused, check_url

if TYPE_CHECKING:
    import asyncpg

    from api.db import Database
    from api.pagination import Cursor, Page
    from auth.audit import Actor
    from auth.secretbox import SecretBox
    from push.schemas import SubscriptionIn

__all__ = ("deliveries", "feed", "get_subscription", "remove_subscription", "replay", "requeue", "secrets_in_force",
           "serving_client", "set_subscription", "wait_feed")

_AAD = b"webhook-secret"


async def _client(conn: asyncpg.Connection, office_id: UUID | None, client_uuid: UUID) -> asyncpg.Record:
    row = await conn.fetchrow("select id, office_id from partner_clients where id = $1 and office_id = $2",
                              client_uuid, office_id)
    if row is None:
        raise not_found("No such partner client.")
    return row


async def serving_client(conn: asyncpg.Connection, client_id: str, office_id: UUID | None) -> UUID:
    """The row id of a partner client of the office that is not disabled, by its client id, or 404."""
    found = await conn.fetchval("select id from partner_clients where client_id = $1 and office_id = $2"
                                " and disabled_at is null", client_id, office_id)
    if found is None:
        raise not_found("No such partner client.")
    return found


def _out(row: asyncpg.Record, secret: str | None = None) -> SubscriptionOut:
    until = row["previous_until"]
    return SubscriptionOut(client_id=str(row["client_id"]), kinds=list(row["kinds"]), url=row["url"],
                           allowed_hosts=list(row["allowed_hosts"]), updated_at=row["updated_at"],
                           previous_secret_until=until if until and until > datetime.now(UTC) else None,
                           secret=secret)


def _check(data: SubscriptionIn) -> None:
    errors = [{"field": f"kinds[{i}]", "message": "not an event kind Jianwu sends"}
              for i, k in enumerate(data.kinds) if k not in TOPICS]
    if data.url is not None:
        try:
            check_url(data.url, data.allowed_hosts)
        except TargetRefused as exc:
            errors.append({"field": "url", "message": str(exc)})
    if errors:
        raise ProblemError(ErrorCode.UNPROCESSABLE, "The subscription is invalid.", errors=errors)


async def set_subscription(conn: asyncpg.Connection, *, box: SecretBox, actor: Actor, office_id: UUID | None,
                           client_uuid: UUID, data: SubscriptionIn) -> tuple[int, SubscriptionOut]:
    """Create or change a partner's subscription; a new secret (shown once) on creation or rotation, the old one
    valid for `overlapHours` more."""
    client = await _client(conn, office_id, client_uuid)
    _check(data)
    old = await conn.fetchrow("select secret_enc from webhook_subscriptions where client_id = $1 for update",
                              client_uuid)
    secret = new_secret() if old is None or data.rotate_secret else None
    row = await conn.fetchrow(
        """
        insert into webhook_subscriptions (client_id, office_id, url, kinds, allowed_hosts, secret_enc)
        values ($1, $2, $3, $4, $5, $6)
        on conflict (client_id) do update set url = excluded.url, kinds = excluded.kinds,
            allowed_hosts = excluded.allowed_hosts, updated_at = now(),
            secret_enc = case when $7 then excluded.secret_enc else webhook_subscriptions.secret_enc end,
            previous_secret_enc = case when $7 then webhook_subscriptions.secret_enc
                                       else webhook_subscriptions.previous_secret_enc end,
            previous_until = case when $7 then now() + make_interval(hours => $8)
                                  else webhook_subscriptions.previous_until end
        returning client_id, url, kinds, allowed_hosts, updated_at, previous_until
        """,
        client_uuid, client["office_id"], data.url, sorted(set(data.kinds)), data.allowed_hosts,
        box.encrypt((secret or "").encode(), aad=_AAD) if secret else b"", old is not None and secret is not None,
        data.overlap_hours)
    await record(conn, actor, "push.webhook.set", office_id=client["office_id"], object_type="partner_client",
                 object_id=client_uuid, detail={"url": data.url, "kinds": sorted(set(data.kinds)),
                                                "allowedHosts": data.allowed_hosts, "rotated": old is not None
                                                and secret is not None})
    return (201 if old is None else 200), _out(row, secret)


async def get_subscription(conn: asyncpg.Connection, *, office_id: UUID | None, client_uuid: UUID) -> SubscriptionOut:
    """A partner's subscription (404 when it has none)."""
    await _client(conn, office_id, client_uuid)
    row = await conn.fetchrow("select client_id, url, kinds, allowed_hosts, updated_at, previous_until"
                              " from webhook_subscriptions where client_id = $1", client_uuid)
    if row is None:
        raise not_found("This partner client has no subscription.")
    return _out(row)


async def remove_subscription(conn: asyncpg.Connection, *, actor: Actor, office_id: UUID | None,
                              client_uuid: UUID) -> None:
    """End a partner's subscription; what was queued for its endpoint is dropped."""
    client = await _client(conn, office_id, client_uuid)
    if await conn.fetchval("delete from webhook_subscriptions where client_id = $1 returning 1", client_uuid) is None:
        raise not_found("This partner client has no subscription.")
    await conn.execute("update deliveries set state = 'dropped', last_error = 'subscription removed'"
                       " where client_id = $1 and state = 'pending'", client_uuid)
    await record(conn, actor, "push.webhook.removed", office_id=client["office_id"], object_type="partner_client",
                 object_id=client_uuid)


def secrets_in_force(box: SecretBox, row: Any) -> list[str]:
    """The subscription's signing secrets in force: the current one, and the previous one during its overlap."""
    out = [box.decrypt(row["secret_enc"], aad=_AAD).decode()]
    until = row["previous_until"]
    if row["previous_secret_enc"] and until and until > datetime.now(UTC):
        out.append(box.decrypt(row["previous_secret_enc"], aad=_AAD).decode())
    return out


_DELIVERY = """select d.id, d.channel, d.state, d.attempts, d.created_at, d.next_at, d.last_status, d.last_error,
    d.sent_at, e.msg_id, e.kind from deliveries d left join partner_events e on e.id = d.partner_event_id"""


def _delivery(row: asyncpg.Record) -> DeliveryOut:
    return DeliveryOut(id=str(row["id"]), channel=row["channel"], state=row["state"], attempts=row["attempts"],
                       created_at=row["created_at"], next_at=row["next_at"], event_id=row["msg_id"], kind=row["kind"],
                       last_status=row["last_status"], last_error=row["last_error"], sent_at=row["sent_at"])


async def deliveries(conn: asyncpg.Connection, *, client_uuid: UUID | None = None, office_id: UUID | None = None,
                     state: str | None, after: Cursor | None, limit: int) -> Page[DeliveryOut]:
    """A partner's webhook deliveries (client_uuid), or an office's deliveries for admins; newest first."""
    q = keyset("d.created_at", "d.id")
    if client_uuid is not None:
        q.add("d.client_id = ?", client_uuid)
    else:
        q.add("d.office_id = ?", office_id)
    if state is not None:
        q.add("d.state = ?", state)
    sql, args = q.sql(_DELIVERY, after, limit)
    return page_of(await conn.fetch(sql, *args), limit, _delivery, lambda r: (r["created_at"], r["id"]))


async def replay(conn: asyncpg.Connection, *, client_uuid: UUID, delivery_id: UUID) -> DeliveryOut:
    """Send one of a partner's events again (same webhook-id, so its verifier can tell it is the same event)."""
    row = await conn.fetchrow(
        """
        insert into deliveries (queue, channel, office_id, client_id, partner_event_id)
        select 'webhook:' || d.client_id, 'webhook', d.office_id, d.client_id, d.partner_event_id
        from deliveries d join webhook_subscriptions s on s.client_id = d.client_id and s.url is not null
        where d.id = $1 and d.client_id = $2 and d.partner_event_id is not null
        returning id
        """, delivery_id, client_uuid)
    if row is None:
        raise not_found("No such delivery (or no endpoint to send it to).")
    return _delivery(await conn.fetchrow(_DELIVERY + " where d.id = $1", row["id"]))


async def requeue(conn: asyncpg.Connection, *, actor: Actor, office_id: UUID | None, delivery_id: UUID) -> DeliveryOut:
    """An admin puts a dead-lettered delivery of the office back in its queue, to be tried at once."""
    done = await conn.fetchval(
        "update deliveries set state = 'pending', attempts = 0, next_at = now(), leased_until = null"
        " where id = $1 and office_id = $2 and state = 'dead' returning id", delivery_id, office_id)
    if done is None:
        raise not_found("No such dead-lettered delivery.")
    await record(conn, actor, "push.delivery.requeued", office_id=office_id, object_type="delivery",
                 object_id=delivery_id)
    return _delivery(await conn.fetchrow(_DELIVERY + " where d.id = $1", delivery_id))


async def feed(conn: asyncpg.Connection, *, client_uuid: UUID, after: int, limit: int) -> FeedOut:
    """The partner's events after `after`, oldest first: the same events, in the same order, as its webhook."""
    rows = await conn.fetch("select id, msg_id, kind, payload, created_at from partner_events"
                            " where client_id = $1 and id > $2 order by id limit $3", client_uuid, after, limit)
    events = [FeedEvent(id=r["msg_id"], seq=r["id"], type=r["kind"], timestamp=r["created_at"], data=r["payload"])
              for r in rows]
    return FeedOut(events=events, next=events[-1].seq if events else after)


async def wait_feed(db: Database, *, client_uuid: UUID, after: int, limit: int, wait: int) -> FeedOut:
    """Long poll: answer as soon as there is an event after `after`, or empty after `wait` seconds."""
    deadline = datetime.now(UTC) + timedelta(seconds=wait)
    while True:
        async with db.connection() as conn:
            page = await feed(conn, client_uuid=client_uuid, after=after, limit=limit)
        if page.events or datetime.now(UTC) >= deadline:
            return page
        await asyncio.sleep(0.5)
