"""The case's field evidence as a hash chain: each entry names a file of the case (its SHA-256 as stored), when
and where the device says it was captured and what the file's own metadata says, who captured it, who recorded
it and when; and it hashes the entry before it. Changing, removing or reordering any entry, or the recorded hash
of its file, breaks the chain from there on, which `verify` reports."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from api.errors import invalid, not_found
from auth.audit import record
from modules.kernel.timeline import add_event
from modules.litigation.schemas import EvidenceOut, EvidenceVerdict

if TYPE_CHECKING:
    from uuid import UUID

    import asyncpg

    from auth.audit import Actor
    from modules.litigation.schemas import EvidenceIn

__all__ = ("GENESIS", "entries", "record_evidence", "verify")

GENESIS = "0" * 64
_SKEW = timedelta(minutes=5)
# The fields an entry's hash covers, in this order (the chain link, prev_hash, is hashed with them).
_HASHED = ("case_id", "seq", "attachment_id", "sha256", "kind", "description", "captured_at", "device_latitude",
           "device_longitude", "file_captured_at", "file_latitude", "file_longitude", "address", "staff",
           "recorded_by", "recorded_at")


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def entry_hash(prev_hash: str, entry: Any) -> str:
    """SHA-256 over the previous entry's hash and this entry's fields, as canonical JSON."""
    body = json.dumps({k: _canonical(entry[k]) for k in _HASHED}, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


async def _staff(conn: asyncpg.Connection, office_id: UUID, ids: list[UUID], actor: Actor, kind: str) -> list[str]:
    named = sorted({str(i) for i in ids} or {str(actor.id)})
    found = await conn.fetchval("select count(*) from users where id = any($1::uuid[]) and office_id = $2 "
                                "and kind = 'staff'", named, office_id)
    if found != len(named):
        raise invalid("Every capturing person is a member of this office's staff.", ("staff", "unknown staff"))
    if kind == "site_inspection" and len(named) < 2:
        raise invalid("A site inspection is recorded by at least two staff.", ("staff", "at least two staff"))
    return named


async def record_evidence(conn: asyncpg.Connection, actor: Actor, case: Any, data: EvidenceIn) -> EvidenceOut:
    """Append a file of the case to its evidence chain (the case row is locked by the caller: one writer at a
    time, so sequence numbers and links never fork)."""
    att = await conn.fetchrow("select * from attachments where id = $1 and subject_id = $2", data.attachment_id,
                              case["id"])
    if att is None:
        raise not_found("No such file on this case; upload it first.")
    if await conn.fetchval("select exists (select 1 from pil_evidence where attachment_id = $1)", att["id"]):
        raise invalid("This file is already in the evidence chain.", ("attachmentId", "already recorded"))
    now = datetime.now(UTC)
    if data.captured_at is not None and (data.captured_at.tzinfo is None or data.captured_at > now + _SKEW
                                         or data.captured_at.year < 1990):
        raise invalid("capturedAt is not a plausible capture time.",
                      ("capturedAt", "with a time zone, not in the future"))
    last = await conn.fetchrow("select seq, entry_hash from pil_evidence where case_id = $1 order by seq desc "
                               "limit 1", case["id"])
    entry = {
        "case_id": case["id"], "seq": (last["seq"] + 1) if last else 1, "attachment_id": att["id"],
        "sha256": att["sha256"], "kind": data.kind, "description": data.description,
        "captured_at": data.captured_at.astimezone(UTC) if data.captured_at else None,
        "device_latitude": data.latitude, "device_longitude": data.longitude,
        "file_captured_at": att["captured_at"], "file_latitude": att["latitude"], "file_longitude": att["longitude"],
        "address": data.address, "staff": await _staff(conn, case["office_id"], data.staff, actor, data.kind),
        "recorded_by": str(actor.id), "recorded_at": now,
    }
    prev = last["entry_hash"] if last else GENESIS
    digest = entry_hash(prev, entry)
    row = await conn.fetchrow(
        f"insert into pil_evidence (office_id, {', '.join(_HASHED)}, prev_hash, entry_hash) "
        f"values ($1, {', '.join(f'${i}' for i in range(2, len(_HASHED) + 2))}, ${len(_HASHED) + 2}, "
        f"${len(_HASHED) + 3}) returning *",
        case["office_id"], *(entry[k] for k in _HASHED), prev, digest)
    info = {"seq": entry["seq"], "attachmentId": str(att["id"]), "sha256": att["sha256"], "entryHash": digest}
    await add_event(conn, "litigation", case["id"], actor, "evidence.recorded", public=False, data=info)
    await record(conn, actor, "case.evidence.recorded", office_id=case["office_id"], object_type="case",
                 object_id=case["id"], detail=info)
    return evidence_out(row)


def evidence_out(r: Any) -> EvidenceOut:
    """An evidence entry as staff see it."""
    return EvidenceOut(seq=r["seq"], attachment_id=r["attachment_id"], sha256=r["sha256"], kind=r["kind"],
                       description=r["description"], captured_at=r["captured_at"], latitude=r["device_latitude"],
                       longitude=r["device_longitude"], file_captured_at=r["file_captured_at"],
                       file_latitude=r["file_latitude"], file_longitude=r["file_longitude"], address=r["address"],
                       staff=list(r["staff"]), recorded_by=r["recorded_by"], recorded_at=r["recorded_at"],
                       prev_hash=r["prev_hash"], entry_hash=r["entry_hash"])


async def entries(conn: asyncpg.Connection, case_id: UUID) -> list[EvidenceOut]:
    """The case's evidence chain, in order."""
    rows = await conn.fetch("select * from pil_evidence where case_id = $1 order by seq", case_id)
    return [evidence_out(r) for r in rows]


async def verify(conn: asyncpg.Connection, case_id: UUID) -> EvidenceVerdict:
    """Recompute the chain: each entry's hash, its link to the one before, gapless numbering, and the recorded
    SHA-256 of each file against the file's own row."""
    rows = await conn.fetch(
        "select e.*, a.sha256 as file_sha256 from pil_evidence e left join attachments a on a.id = e.attachment_id "
        "where e.case_id = $1 order by e.seq", case_id)
    broken: list[dict[str, object]] = []
    prev = GENESIS
    for expected_seq, r in enumerate(rows, start=1):
        problems = []
        if r["seq"] != expected_seq:
            problems.append("sequence gap")
        if r["prev_hash"] != prev:
            problems.append("does not link to the entry before")
        if entry_hash(r["prev_hash"], r) != r["entry_hash"]:
            problems.append("entry changed since it was recorded")
        if r["file_sha256"] != r["sha256"]:
            problems.append("the file's hash differs from the one recorded")
        if problems:
            broken.append({"seq": r["seq"], "problems": problems})
        prev = r["entry_hash"]
    return EvidenceVerdict(intact=not broken, entries=len(rows), head=rows[-1]["entry_hash"] if rows else None,
                           broken=broken)
