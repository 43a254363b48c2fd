"""Signed heads of the audit lanes, kept outside the table the application can write: in Redis and in an
append-only file under the data directory. Hash chains show edited and deleted middle rows; only an anchor shows
that the newest rows of a lane, or a whole lane, were cut off (the next row would link cleanly to what is left)."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    import asyncpg
    import redis.asyncio as aioredis

    from auth.secretbox import SecretBox

__all__ = ("Anchors", "Head", "truncations")

log = logging.getLogger("jianwu.audit")
FILE_NAME = "audit-anchors.jsonl"
_REDIS_WAIT = 0.5
# How long the writer lets heads gather before it writes them: a busy worker commits several times in this while.
_GATHER = 0.01
# Keep the higher head of each lane (KEYS[i] with seq, hash, sig at ARGV[3i-2..3i]): anchors of one lane can arrive
# out of order from the workers that committed them.
_KEEP_HIGHER = """
for i, key in ipairs(KEYS) do
  local seq = tonumber(ARGV[3 * i - 2])
  local cur = redis.call('HGET', key, 'seq')
  if not cur or tonumber(cur) < seq then
    redis.call('HSET', key, 'seq', seq, 'hash', ARGV[3 * i - 1], 'sig', ARGV[3 * i])
  end
end
return 1
"""


class Head(msgspec.Struct, frozen=True):
    """A lane's newest committed row as anchored: its number and hash, signed with the service key."""

    chain: str
    seq: int
    hash: str
    sig: str


class Anchors:
    """Writes and reads lane heads; `redis` may be None (the CLI without Redis reads the file only).

    A commit queues its lane's new head and goes on; one writer task per process lets heads gather for 10 ms, then
    writes every lane's highest head in one append to the file and one Redis script call, and so on while heads keep
    coming. A busy worker so writes one batch where it wrote one head per commit (an append and a Redis round trip
    inside every audited request); an anchor lags its commit by about 10 ms, and `flush()` (at shutdown) writes
    what is left."""

    def __init__(self, box: SecretBox, data_dir: Path, redis: aioredis.Redis | None, prefix: str) -> None:
        self.box, self.path, self.redis, self.prefix = box, data_dir / FILE_NAME, redis, prefix
        self._queued: dict[str, tuple[int, str]] = {}
        self._writer: asyncio.Task[None] | None = None

    def _sign(self, chain: str, seq: int, digest: str) -> str:
        return self.box.blind_index(f"{chain}|{seq}|{digest}", purpose="audit-anchor")

    def signed(self, head: Head) -> bool:
        """Whether the head was written by someone holding the service key."""
        return self._sign(head.chain, head.seq, head.hash) == head.sig

    async def publish(self, chain: str, seq: int, digest: str) -> None:
        """Queue a committed row as its lane's head (after commit); the writer task anchors it (failures logged)."""
        queued = self._queued.get(chain)
        if queued is None or queued[0] < seq:
            self._queued[chain] = (seq, digest)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_queued())

    async def flush(self) -> None:
        """Wait until every queued head is written."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    async def _write_queued(self) -> None:
        while self._queued:
            await asyncio.sleep(_GATHER)
            batch, self._queued = self._queued, {}
            await self._write([Head(chain, seq, digest, self._sign(chain, seq, digest))
                               for chain, (seq, digest) in batch.items()])

    async def _write(self, heads: list[Head]) -> None:
        try:
            # One O_APPEND write of whole lines: lines from several workers never interleave.
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, b"".join(msgspec.json.encode(h) + b"\n" for h in heads))
            finally:
                os.close(fd)
        except OSError:
            log.exception("audit anchor file %s not written", self.path)
        if self.redis is not None:
            try:
                keys = [f"{self.prefix}audit:head:{h.chain}" for h in heads]
                values = [v for h in heads for v in (h.seq, h.hash, h.sig)]
                await asyncio.wait_for(self.redis.eval(_KEEP_HIGHER, len(keys), *keys, *values), _REDIS_WAIT)
            except Exception:  # the file still holds the anchors
                log.warning("audit anchors for %s not written to Redis", [h.chain for h in heads], exc_info=True)

    async def heads(self) -> tuple[dict[str, Head], list[Head]]:
        """The highest signed head of every lane from both stores, and any head whose signature is wrong."""
        found: list[Head] = []
        if self.path.exists():
            for line in self.path.read_bytes().splitlines():
                try:
                    found.append(msgspec.json.decode(line, type=Head))
                except msgspec.DecodeError:
                    continue  # a line cut short by a crash
        if self.redis is not None:
            async for key in self.redis.scan_iter(match=f"{self.prefix}audit:head:*", count=500):
                fields = await self.redis.hgetall(key)
                chain = _text(key)[len(f"{self.prefix}audit:head:"):]
                found.append(Head(chain, int(fields[b"seq"]), _text(fields[b"hash"]), _text(fields[b"sig"])))
        best: dict[str, Head] = {}
        forged = [h for h in found if not self.signed(h)]
        for h in found:
            if self.signed(h) and (h.chain not in best or h.seq > best[h.chain].seq):
                best[h.chain] = h
        return best, forged


async def truncations(conn: asyncpg.Connection, heads: dict[str, Head]) -> list[tuple[str, int, str]]:
    """(lane, first missing row, problem) for every lane whose table rows end before its anchored head."""
    problems = []
    tails = {r["chain"]: r["seq"] for r in await conn.fetch(
        "select chain, max(seq) as seq from audit_log where chain = any($1::text[]) group by chain", list(heads))}
    for chain, head in sorted(heads.items()):
        last = tails.get(chain, 0)
        if last < head.seq:
            what = "the whole lane is missing" if last == 0 else "its newest rows are missing"
            problems.append((chain, last + 1, (f"rows {last + 1}..{head.seq} missing ({what}; anchored head "
                                               f"{head.seq})")))
            continue
        stored = await conn.fetchval("select hash from audit_log where chain = $1 and seq = $2", chain, head.seq)
        if stored != head.hash:
            problems.append((chain, head.seq, "row does not match its anchored head (rewritten)"))
    return problems


def _text(value: bytes | str) -> str:
    """A Redis reply as text (the client answers bytes; its type says either)."""
    return value.decode() if isinstance(value, bytes) else value
