"""The delivery worker: turns outbox rows into inbox entries, pushes and partner events, then sends the pushes
and webhooks, recording every attempt. Run as many as needed (`jianwu worker`), on as many machines.

Crash safety: an outbox row is fanned out in one transaction with the inbox rows it makes (unique per event and
account), so it happens once. A send is leased before it goes out and recorded after; a worker that dies between
the two leaves the lease to expire, and another sends again with the same notification id (the collapse id), so
the phone shows it once. Within one device or endpoint, sends go out one at a time in order."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import asyncpg

from api.errors import DB_DOWN_ERRORS
from api.outbox import RECIPIENTS, Audience, Event
from push import devices
from push.inbox import push_due
from push.senders.base import Message, Outcome
from push.senders.webhook import event_body
from push.webhooks import secrets_in_force

if TYPE_CHECKING:
    from api.db import Database
    from auth.secretbox import SecretBox
    from push.senders.base import Sender
    from push.senders.webhook import WebhookSender

__all__ = ("Worker", "WorkerConfig", "backoff")

log = logging.getLogger("jianwu.push")
# One worker at a time fans out, so events reach every queue (and the partner feed) in outbox order.
_FAN_OUT_LOCK = 0x6A770001


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """How hard a worker works and how long it keeps trying."""

    batch: int = 500
    lease_seconds: float = 30.0
    max_attempts: int = 12
    base_delay: float = 1.0
    max_delay: float = 3600.0
    idle: float = 0.1
    # Sends a running worker keeps leased and going at once (claimed as room frees, recorded as they finish); no
    # more than a round's worth, so a slow provider does not keep leases waiting behind its concurrency limit.
    in_flight: int = 500
    # How often finished sends are recorded together (one statement for all of them).
    record_every: float = 0.02


def backoff(attempts: int, config: WorkerConfig, retry_after: float | None) -> float:
    """Seconds before the next try: doubling from `base_delay` with full jitter in its upper half, never less
    than the provider's Retry-After."""
    delay = min(config.max_delay, config.base_delay * 2 ** max(0, attempts - 1))
    delay *= random.uniform(0.5, 1.0)
    return max(delay, retry_after or 0.0)


class Limit:
    """How many requests to one provider are in flight from this worker: never more than the sender's
    `concurrency`, and only as many as help. It grows while sends wait for a slot and the answers come as fast as
    the fastest seen (the provider has room), and shrinks when answers slow down (more in flight would only queue at
    the provider)."""

    FLOOR = 4
    WINDOW = 0.5

    def __init__(self, cap: int) -> None:
        self.cap = max(1, cap)
        self.limit = min(self.cap, self.FLOOR * 2)
        self._doubling = True
        self._changed = 0.0
        self.busy = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._best = float("inf")
        self._sum, self._n, self._waited, self._since = 0.0, 0, 0, time.monotonic()

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the provider's slots for one request."""
        if self.busy >= self.limit or self._waiters:
            self._waited += 1
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if not waiter.cancelled() and waiter.done():
                    self._release()
                else:
                    with contextlib.suppress(ValueError):
                        self._waiters.remove(waiter)
                raise
        else:
            self.busy += 1
        began = time.monotonic()
        try:
            yield
        finally:
            self._observe(began, time.monotonic() - began)
            self._release()

    def _release(self) -> None:
        self.busy -= 1
        self._release_more()

    def _observe(self, began: float, seconds: float) -> None:
        now = time.monotonic()
        if began < self._changed:
            # Sent under the previous limit: it says nothing about this one (doubling on such answers overshot).
            return
        self._sum += seconds
        self._n += 1
        if now - self._since < self.WINDOW or self._n < 2 * self.FLOOR:
            return
        mean = self._sum / self._n
        # The fastest window seen, forgotten slowly (about 2 % a second: a provider slower for good sets a new floor).
        self._best = min(self._best * (1 + 0.02 * (now - self._since)), mean)
        step = max(1, self.limit // 4)
        before = self.limit
        if (self._waited or self._waiters) and mean <= 1.5 * self._best:
            # Doubling until answers first slow down (from 8 to 100 in two seconds, not six: sends queued behind a
            # small limit at the start of a burst made its p99), then a quarter at a time.
            self.limit = min(self.cap, self.limit + (self.limit if self._doubling else step))
        elif mean > 2.5 * self._best:
            self._doubling = False
            self.limit = max(self.FLOOR, self.limit - step)
        if self.limit != before:
            self._changed = now
        self._sum, self._n, self._waited, self._since = 0.0, 0, 0, now
        self._release_more()

    def _release_more(self) -> None:
        # Hand free slots straight to the waiters, first come first served, while under the limit.
        while self._waiters and self.busy < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.busy += 1
                waiter.set_result(None)


@dataclass
class Stats:
    """What this worker did, for the bench and drills."""

    fanned_out: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    dropped: int = 0
    requests: dict[str, int] = field(default_factory=dict)


class Worker:
    """One delivery worker process's loop."""

    def __init__(self, db: Database, box: SecretBox, senders: Mapping[str, Sender], webhooks: WebhookSender,
                 config: WorkerConfig | None = None) -> None:
        self.db, self.box, self.senders, self.webhooks = db, box, dict(senders), webhooks
        self.config = config or WorkerConfig()
        self.stats = Stats()
        self._limits = {name: Limit(s.concurrency) for name, s in self.senders.items()}
        self._limits["webhook"] = Limit(webhooks.concurrency)
        self._wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set; a database outage is waited out, never fatal. Fan-out and sending run side by
        side: a send never waits for a fan-out batch, nor a fan-out for the slowest send of a round."""
        self._wake = asyncio.Event()
        await asyncio.gather(self._loop(stop, self.fan_out), self._send_loop(stop))

    async def _loop(self, stop: asyncio.Event, step: Callable[[], Awaitable[int]]) -> None:
        pause = 0.5
        while not stop.is_set():
            try:
                busy = await step()
                pause = 0.5
            except DB_DOWN_ERRORS as exc:
                log.warning("delivery worker: database unavailable (%s); retrying in %.1f s", type(exc).__name__,
                            pause)
                await _sleep(stop, pause)
                pause = min(pause * 2, 10.0)
                continue
            except Exception:
                # Whatever went wrong, the round's leases expire and its work is done again: log, wait, go on.
                log.exception("delivery worker: a round failed; retrying in %.1f s", pause)
                await _sleep(stop, pause)
                pause = min(pause * 2, 10.0)
                continue
            if busy:
                self._wake.set()
            else:
                await _sleep(stop, self.config.idle)

    # -- fan-out --------------------------------------------------------------------------------------------------

    async def fan_out(self) -> int:
        """Fan out one batch of outbox rows (inbox, pushes, partner events) in one transaction; answers how many."""
        try:
            return await self._fan_out(careful=False)
        except _ResolverFailed:
            # Some module's resolver failed: do the batch again, each event in a savepoint of its own.
            return await self._fan_out(careful=True)

    async def _fan_out(self, *, careful: bool) -> int:
        async with self.db.transaction() as conn:
            if not await conn.fetchval("select pg_try_advisory_xact_lock($1)", _FAN_OUT_LOCK):
                return 0
            rows = await conn.fetch(
                "select id, topic, office_id, payload, created_at from outbox"
                " where delivered_at is null and available_at <= now()"
                " order by id limit $1 for update skip locked", self.config.batch)
            if not rows:
                return 0
            events, audiences, times, failed = [], [], [], []
            for r in rows:
                event = Event(r["id"], r["topic"], r["office_id"], r["payload"])
                try:
                    if careful:
                        async with conn.transaction():
                            audience = await self._audience(conn, event)
                    else:
                        # No savepoint per event (two round trips each): a failure redoes the batch carefully.
                        audience = await self._audience(conn, event)
                except DB_DOWN_ERRORS:
                    raise
                except Exception as exc:
                    if not careful:
                        raise _ResolverFailed from exc
                    # One module's resolver failing must not hold up the others' events: this one waits.
                    log.exception("delivery worker: recipients of outbox event %s (%s) failed", r["id"], r["topic"])
                    failed.append(r["id"])
                    continue
                events.append(event)
                audiences.append(audience)
                times.append(r["created_at"])
            await self._inbox(conn, events, audiences, times)
            await self._partners(conn, events, audiences)
            await conn.execute("update outbox set delivered_at = now(), attempts = attempts + 1 where id = any($1)",
                               [e.id for e in events])
            if failed:
                await conn.execute(
                    "update outbox set attempts = attempts + 1, available_at = now() + make_interval(secs =>"
                    " least(3600, 2 ^ least(attempts, 12))) where id = any($1)", failed)
        self.stats.fanned_out += len(events)
        return len(events)

    @staticmethod
    async def _audience(conn: asyncpg.Connection, event: Event) -> Audience:
        resolver = RECIPIENTS.get(event.topic)
        return await resolver(conn, event) if resolver is not None else Audience()

    async def _inbox(self, conn: asyncpg.Connection, events: list[Event], audiences: list[Audience],
                     times: list[datetime]) -> None:
        cols: tuple[list[Any], ...] = ([], [], [], [], [], [], [])
        for e, a, at in zip(events, audiences, times, strict=True):
            for user in dict.fromkeys(a.users):
                # A notification is dated when its event happened, so the inbox lists them in the events' order.
                for col, value in zip(cols, (user, e.id, e.office_id, e.topic,
                                             a.kind or e.payload.get("event"), e.payload, at), strict=True):
                    col.append(value)
        if not cols[0]:
            return
        made = await conn.fetch(
            """
            insert into inbox (user_id, event_id, office_id, kind, event, payload, created_at)
            select u.id, u.event_id, u.office_id, u.kind, u.event, u.payload, u.at
            from unnest($1::uuid[], $2::bigint[], $3::uuid[], $4::text[], $5::text[], $6::jsonb[], $7::timestamptz[])
                as u(id, event_id, office_id, kind, event, payload, at)
            join users on users.id = u.id and users.disabled_at is null
            order by u.event_id
            on conflict (event_id, user_id) do nothing
            returning id, user_id, office_id, kind
            """, *cols)
        if not made:
            return
        users = list({r["user_id"] for r in made})
        targets = await conn.fetch(
            """
            select d.id, d.user_id, d.channel, p.muted_kinds, p.quiet_start, p.quiet_end
            from push_devices d left join inbox_preferences p on p.user_id = d.user_id
            where d.user_id = any($1::uuid[]) and d.channel = any($2::text[])
            order by d.created_at, d.id
            """, users, list(self.senders))
        by_user: dict[UUID, list[asyncpg.Record]] = {}
        for t in targets:
            by_user.setdefault(t["user_id"], []).append(t)
        now = datetime.now(UTC)
        rows = []
        for n in made:
            for d in by_user.get(n["user_id"], ()):
                if d["muted_kinds"] and n["kind"] in d["muted_kinds"]:
                    continue
                quiet = (d["quiet_start"], d["quiet_end"]) if d["quiet_start"] is not None else None
                rows.append((f"device:{d['id']}", d["channel"], n["office_id"], d["id"], n["id"], push_due(now, quiet)))
        if rows:
            await conn.copy_records_to_table(
                "deliveries", records=rows,
                columns=["queue", "channel", "office_id", "device_id", "notification_id", "next_at"])

    async def _partners(self, conn: asyncpg.Connection, events: list[Event], audiences: list[Audience]) -> None:
        wanted = [(e, a) for e, a in zip(events, audiences, strict=True)
                  if (a.partners or a.partner_clients) and e.office_id is not None]
        if not wanted:
            return
        targets = [(e.id, c) for e, a in wanted for c in a.partner_clients]
        made = await conn.fetch(
            """
            insert into partner_events (client_id, event_id, msg_id, kind, payload)
            select s.client_id, e.id, 'msg_' || replace(gen_random_uuid()::text, '-', ''), e.topic, e.payload
            from unnest($1::bigint[], $2::uuid[], $3::text[], $4::jsonb[], $5::bool[]) with ordinality
                as e(id, office_id, topic, payload, everyone, n)
            join webhook_subscriptions s on s.office_id = e.office_id and e.topic = any(s.kinds)
            join partner_clients c on c.id = s.client_id and c.disabled_at is null
            where e.everyone or exists (select 1 from unnest($6::bigint[], $7::uuid[]) as t(event_id, client_id)
                                        where t.event_id = e.id and t.client_id = s.client_id)
            order by e.n, s.client_id
            on conflict (client_id, event_id) do nothing
            returning id, client_id
            """,
            [e.id for e, _ in wanted], [e.office_id for e, _ in wanted], [e.topic for e, _ in wanted],
            [e.payload for e, _ in wanted], [a.partners for _, a in wanted], [t[0] for t in targets],
            [t[1] for t in targets])
        if made:
            await conn.execute(
                """
                insert into deliveries (queue, channel, office_id, client_id, partner_event_id)
                select 'webhook:' || s.client_id, 'webhook', s.office_id, s.client_id, m.id
                from unnest($1::bigint[]) as m(id) join partner_events e on e.id = m.id
                join webhook_subscriptions s on s.client_id = e.client_id and s.url is not null
                order by m.id
                """, sorted(r["id"] for r in made))

    # -- sending --------------------------------------------------------------------------------------------------

    async def claim(self, limit: int | None = None) -> list[asyncpg.Record]:
        """Lease due deliveries that head their queue (one send per device or endpoint in flight, in order)."""
        async with self.db.transaction() as conn:
            # From the due index: a delivery goes when no earlier one of its queue is still pending (leased, in
            # flight, or waiting for its retry), so only the due ones are read, not every pending queue's head.
            return await conn.fetch(
                """
                with due as (
                    select d.id from deliveries d
                    where d.state = 'pending' and d.next_at <= now()
                      and (d.leased_until is null or d.leased_until < now())
                      and not exists (select 1 from deliveries e
                                      where e.queue = d.queue and e.state = 'pending' and e.seq < d.seq)
                    order by d.next_at limit $1 for update of d skip locked
                )
                update deliveries d set leased_until = now() + make_interval(secs => $2), attempts = d.attempts + 1
                from due where d.id = due.id
                returning d.id, d.channel, d.attempts, d.device_id, d.notification_id, d.client_id,
                    d.partner_event_id
                """, limit or self.config.batch, self.config.lease_seconds)

    async def send_round(self) -> int:
        """Claim, send and record one round; answers how many were attempted."""
        claimed = await self.claim()
        if not claimed:
            return 0
        details = await self._details(claimed)
        outcomes = await asyncio.gather(*(self._send(c, details) for c in claimed))
        await self._record(claimed, outcomes)
        return len(claimed)

    async def _send_loop(self, stop: asyncio.Event) -> None:
        """Keep up to `in_flight` sends going: claim as room frees, record what finished every few milliseconds in
        one statement. On stop, what is in flight finishes and is recorded (a kill leaves leases to expire)."""
        going: set[asyncio.Task[Outcome]] = set()
        finished: list[tuple[asyncpg.Record, Outcome]] = []
        answered = asyncio.Event()

        def done(c: asyncpg.Record, task: asyncio.Task[Outcome]) -> None:
            going.discard(task)
            if task.cancelled():
                return
            exc = task.exception()
            finished.append((c, task.result() if exc is None else Outcome("retry", None, type(exc).__name__)))
            answered.set()

        pause = 0.5
        while not stop.is_set() or going or finished:
            try:
                room = self.config.in_flight - len(going)
                if not stop.is_set() and room >= min(self.config.batch, self.config.in_flight) // 4:
                    self._wake.clear()
                    claimed = await self.claim(min(room, self.config.batch))
                    if claimed:
                        details = await self._details(claimed)
                        for c in claimed:
                            task = asyncio.create_task(self._send(c, details))
                            going.add(task)
                            task.add_done_callback(functools.partial(done, c))
                if not finished:
                    # Wait for an answer (or, with nothing going, for the fan-out to make work), then a moment
                    # more, so this moment's answers are recorded together.
                    # (Stopping: only for the answers still to come, or this would spin until they do.)
                    await _wait_any(self.config.idle, *((answered,) if stop.is_set() else (stop, answered,
                                                                                        self._wake)))
                    if finished:
                        await asyncio.sleep(self.config.record_every)
                if finished:
                    answered.clear()
                    batch, finished = finished, []
                    try:
                        await self._record([c for c, _ in batch], [o for _, o in batch])
                    except BaseException:
                        finished = batch + finished
                        raise
                pause = 0.5
            except DB_DOWN_ERRORS as exc:  # the failures the API answers 503 for: wait, keep what is unrecorded
                if stop.is_set():
                    return  # stopping with the database away: the leases expire and those go again
                # Finished sends stay in `finished` and are recorded once the database is back.
                log.warning("delivery worker: database unavailable (%s); retrying in %.1f s", type(exc).__name__,
                            pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 10.0)
            except Exception:
                log.exception("delivery worker: recording sends failed; retrying in %.1f s", pause)
                finished = []  # their leases expire and they go again, with the same notification ids
                await asyncio.sleep(pause)
                pause = min(pause * 2, 10.0)

    async def _details(self, claimed: list[asyncpg.Record]) -> dict[Any, Any]:
        pairs = [(c["notification_id"], c["device_id"]) for c in claimed if c["device_id"]]
        events = [c["partner_event_id"] for c in claimed if c["partner_event_id"]]
        async with self.db.connection() as conn:
            pushes = await conn.fetch(
                "select n.id, n.kind, d.id as device_id, d.token from unnest($1::uuid[], $2::uuid[]) as p(nid, did)"
                " join inbox n on n.id = p.nid join push_devices d on d.id = p.did",
                [n for n, _ in pairs], [d for _, d in pairs]) if pairs else []
            hooks = [] if not events else await conn.fetch(
                """
                select e.id, e.msg_id, e.kind, e.payload, e.created_at, s.url, s.allowed_hosts, s.secret_enc,
                    s.previous_secret_enc, s.previous_until
                from partner_events e join webhook_subscriptions s on s.client_id = e.client_id
                where e.id = any($1::bigint[])
                """, events)
        out: dict[Any, Any] = {(r["id"], r["device_id"]): r for r in pushes}
        out.update({r["id"]: r for r in hooks})
        return out

    async def _send(self, c: asyncpg.Record, details: dict[Any, Any]) -> Outcome:
        if c["channel"] == "webhook":
            hook = details.get(c["partner_event_id"])
            if hook is None or not hook["url"]:
                return Outcome("invalid", None, "subscription removed")
            async with self._limits["webhook"].slot():
                self._count("webhook")
                return await self.webhooks.send(
                    url=hook["url"], allowed=list(hook["allowed_hosts"]),
                    secrets_in_force=secrets_in_force(self.box, hook), msg_id=hook["msg_id"],
                    body=event_body(hook["kind"], hook["created_at"], hook["payload"]))
        push = details.get((c["notification_id"], c["device_id"]))
        sender = self.senders.get(c["channel"])
        if push is None or sender is None:
            return Outcome("invalid", None, "device gone")
        async with self._limits[c["channel"]].slot():
            self._count(c["channel"])
            return await sender.send(push["token"], Message(id=str(push["id"]), kind=push["kind"]))

    def _count(self, channel: str) -> None:
        self.stats.requests[channel] = self.stats.requests.get(channel, 0) + 1

    async def _record(self, claimed: list[asyncpg.Record], outcomes: list[Outcome]) -> None:
        ids, states, statuses, errors, delays = [], [], [], [], []
        gone: list[tuple[UUID, str]] = []
        for c, o in zip(claimed, outcomes, strict=True):
            state, delay = "sent", 0.0
            if o.result == "retry":
                state = "pending" if c["attempts"] < self.config.max_attempts else "dead"
                # No answer at all on a first try (the connection broke under it, as when a provider closes an
                # HTTP/2 connection with GOAWAY while streams are open): again at once, on a new connection. A
                # provider that answered (429, 5xx) or keeps failing waits out the backoff.
                first_drop = o.status is None and o.retry_after is None and c["attempts"] == 1
                delay = 0.0 if first_drop else backoff(c["attempts"], self.config, o.retry_after)
            elif o.result == "failed":
                state = "dead"
            elif o.result == "invalid":
                state = "dropped"
                if c["device_id"] is not None:
                    gone.append((c["device_id"], o.error or "invalid token"))
            ids.append(c["id"])
            states.append(state)
            statuses.append(o.status)
            errors.append(o.error)
            delays.append(delay)
            self._tally(state)
        async with self.db.transaction() as conn:
            await conn.execute(
                """
                update deliveries d set state = u.state, last_status = u.status, last_error = u.error,
                    leased_until = null, next_at = now() + make_interval(secs => u.delay),
                    sent_at = case when u.state = 'sent' then now() end
                from unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::float8[]) as u(id, state, status, error,
                    delay)
                where d.id = u.id
                """, ids, states, statuses, errors, delays)
            for device_id, reason in gone:
                await devices.drop(conn, device_id, reason)

    def _tally(self, state: str) -> None:
        if state == "sent":
            self.stats.sent += 1
        elif state == "pending":
            self.stats.retried += 1
        elif state == "dead":
            self.stats.dead += 1
        else:
            self.stats.dropped += 1


class _ResolverFailed(Exception):
    """A recipients resolver raised in a batch fanned out without savepoints."""


async def _wait_any(seconds: float, *events: asyncio.Event) -> None:
    """Wait until `seconds` pass or one of `events` is set (stop, an answer came, the fan-out made work)."""
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return
