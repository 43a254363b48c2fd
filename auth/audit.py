"""The audit trail: one appended, hash-chained row per authentication event and per write."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec

from api.db import after_commit, hold_write, holds_writes, send_held_writes
from api.net import client_ip, device_id
from auth.audit_anchor import Anchors, truncations

if TYPE_CHECKING:
    import asyncpg
    from litestar.connection import ASGIConnection

    from auth.principal import Principal
    from auth.secretbox import SecretBox

__all__ = ("Actor", "ChainBreak", "Lane", "actor_from", "lane_claim_sql", "record", "use_anchors", "use_chain_key",
           "verify_chains", "written_by_a_command")

GENESIS = "0" * 64
AUDIT_LANES = 16

_encode = msgspec.json.Encoder(order="sorted")


@dataclass(frozen=True, slots=True)
class Lane:
    """A lane of an office's trail, claimed by this transaction, and its head when claimed (seq None: empty)."""

    prefix: str
    lane: int
    seq: int | None
    hash: str | None


_INSERT = """
    insert into audit_log (chain, seq, at, office_id, actor_id, actor_kind, action, object_type, object_id,
                           device_id, ip, request_id, detail, prev_hash, hash)
    values ($1, $2, $3, $4::uuid, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
"""


def lane_claim_sql(office_sql: str) -> str:
    """SQL yielding (lane, seq, hash): the claim `record` makes, for a hot command to fold into a statement it
    runs anyway (one round trip fewer); `office_sql` is the office id's expression. Hand the result to `record`
    as `Lane(str(office_id), ...)`; no audit row of the command may be held back when that statement runs."""
    return f"audit_lane_claim(({office_sql})::text, {AUDIT_LANES})"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did it and from where, as the audit trail records it."""

    id: str | None
    kind: str | None
    office_id: UUID | None
    device_id: str | None
    ip: str | None
    request_id: str | None


def actor_from(connection: ASGIConnection[Any, Any, Any, Any], principal: Principal | None = None) -> Actor:
    """The actor of a request: the principal if any, the client address and the request id."""
    state = connection.scope.get("state", {})
    return Actor(
        id=principal.sub if principal else None,
        kind=principal.kind if principal else None,
        office_id=principal.office_id if principal else None,
        device_id=(principal.device_id if principal else None) or device_id(connection),
        ip=client_ip(connection),
        request_id=state.get("request_id"),
    )


_chain_box: SecretBox | None = None
_anchors: Anchors | None = None


def use_anchors(anchors: Anchors | None) -> Anchors | None:
    """Anchor every lane's head after each commit (a worker sets this at start; see auth/audit_anchor.py); the
    anchors in use before, for the worker to put back when it stops."""
    global _anchors
    previous, _anchors = _anchors, anchors
    return previous


def use_chain_key(box: SecretBox) -> None:
    """Key the chain with the service secret: editing rows and recomputing the hashes needs the secret too."""
    global _chain_box
    _chain_box = box


@contextlib.contextmanager
def written_by_a_command(box: SecretBox) -> Iterator[None]:
    """Write the trail as a command does, not a worker: keyed with `box`, anchored by no one (the command has no
    Redis of the worker's). The key and anchors in use before come back after: a process that also runs an app
    (the tests) keeps writing that app's trail as before."""
    global _chain_box
    previous_box, previous_anchors = _chain_box, use_anchors(None)
    _chain_box = box
    try:
        yield
    finally:
        _chain_box = previous_box
        use_anchors(previous_anchors)


def _digest(prev_hash: str, fields: list[Any]) -> str:
    if _chain_box is None:
        raise RuntimeError("audit chain key not set: call use_chain_key() at start-up")
    return _chain_box.blind_index(prev_hash + _encode.encode(fields).decode(), purpose="audit-chain")


def _fields(chain: str, seq: int, at: datetime, row: dict[str, Any]) -> list[Any]:
    return [chain, seq, at.isoformat(), row["office_id"], row["actor_id"], row["actor_kind"], row["action"],
            row["object_type"], row["object_id"], row["device_id"], row["ip"], row["request_id"], row["detail"]]


async def record(
    conn: asyncpg.Connection,
    actor: Actor,
    action: str,
    *,
    office_id: UUID | None = None,
    object_type: str | None = None,
    object_id: str | UUID | None = None,
    detail: dict[str, Any] | None = None,
    lane: Lane | None = None,
) -> None:
    """Append one audit row inside the caller's transaction; call it last, the office's chain waits on it.
    `lane`: the lane the caller's own statement already claimed for this office (see `lane_claim_sql`)."""
    office = office_id if office_id is not None else actor.office_id
    # Each office's trail is several independent chains (lanes), so writes of one office do not queue behind one
    # lock held through every commit; verification checks each lane, and the office's rows are all its lanes.
    # The function takes the first lane no other transaction holds (waiting only when all are taken), locks it
    # until commit so each row links to the one committed before it, and reads its head (migration 0018).
    prefix = f"{office or 'system'}"
    if lane is None:
        await send_held_writes(conn)  # a row held back may be this lane's head: it must be in before the claim reads
        claimed = await conn.fetchrow("select lane, seq, hash from audit_lane_claim($1, $2)", prefix, AUDIT_LANES)
        lane = Lane(prefix, claimed["lane"], claimed["seq"], claimed["hash"])
    elif lane.prefix != prefix:
        raise RuntimeError(f"audit lane claimed for {lane.prefix}, row is for {prefix}")
    elif holds_writes(conn):
        # A held row may be the head of the lane the caller's statement claimed, which read the table without it.
        raise RuntimeError("audit lane claimed while rows were held back: send_held_writes() before that statement")
    chain = f"{prefix}:{lane.lane}"
    seq, prev = (lane.seq + 1, lane.hash) if lane.seq is not None and lane.hash is not None else (1, GENESIS)
    at = datetime.now(UTC)
    row = {
        "office_id": str(office) if office else None, "actor_id": actor.id, "actor_kind": actor.kind,
        "action": action, "object_type": object_type, "object_id": str(object_id) if object_id else None,
        "device_id": actor.device_id, "ip": actor.ip, "request_id": actor.request_id, "detail": detail or {},
    }
    digest = _digest(prev, _fields(chain, seq, at, row))
    args = (chain, seq, at, row["office_id"], actor.id, actor.kind, action, row["object_type"], row["object_id"],
            actor.device_id, actor.ip, actor.request_id, row["detail"], prev, digest)
    # Inside a command that stores its answer (api/idempotency.run_once) the row goes out with that last statement.
    if not hold_write(conn, _INSERT, *args):
        await conn.execute(_INSERT, *args)
    anchors = _anchors
    if anchors is not None and not after_commit(lambda: anchors.publish(chain, seq, digest)):
        # A row no anchor will ever cover: cutting it off later would go unseen. Server code writes the trail
        # inside `Database.transaction()` or `api.db.atomic()`, whose commit publishes the lane's new head.
        raise RuntimeError("audit row written outside atomic(): its lane head would never be anchored")


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """A place where the stored trail no longer matches what was written."""

    chain: str
    seq: int
    problem: str


async def _rows(conn: asyncpg.Connection) -> AsyncIterator[asyncpg.Record]:
    # One snapshot for the whole walk; inside a caller's transaction its snapshot already is one.
    tx = None if conn.is_in_transaction() else conn.transaction(isolation="repeatable_read", readonly=True)
    if tx is not None:
        await tx.start()
    try:
        async for r in conn.cursor("select * from audit_log order by chain, seq", prefetch=2000):
            yield r
    finally:
        if tx is not None:
            await tx.rollback()


async def verify_chains(conn: asyncpg.Connection, anchors: Anchors | None = None) -> tuple[int, list[ChainBreak]]:
    """Recompute every chain, and compare each lane's end with its anchored head; return the number of rows
    checked and every break found."""
    checked, breaks = 0, []
    chain: Any = None  # the rows' chain name, once the first row is read
    expected_seq, prev = 1, GENESIS
    async for r in _rows(conn):
        if r["chain"] != chain:
            chain, expected_seq, prev = r["chain"], 1, GENESIS
        checked += 1
        if r["seq"] != expected_seq:
            breaks.append(ChainBreak(chain, expected_seq, f"rows {expected_seq}..{r['seq'] - 1} are missing"))
        if r["prev_hash"] != prev:
            breaks.append(ChainBreak(chain, r["seq"], "does not link to the row before it"))
        row = dict(r)
        row["office_id"] = str(r["office_id"]) if r["office_id"] else None
        if _digest(r["prev_hash"], _fields(chain, r["seq"], r["at"], row)) != r["hash"]:
            breaks.append(ChainBreak(chain, r["seq"], "content does not match its hash (edited)"))
        expected_seq, prev = r["seq"] + 1, r["hash"]
    if anchors is not None:
        heads, forged = await anchors.heads()
        breaks += [ChainBreak(h.chain, h.seq, "anchored head has a wrong signature (forged)") for h in forged]
        breaks += [ChainBreak(*t) for t in await truncations(conn, heads)]
    return checked, breaks
