"""Reading complaints: who may see which item, and the views each kind of caller gets."""

from __future__ import annotations

import hmac
import time
from typing import TYPE_CHECKING, Any
from uuid import UUID

from api.errors import ErrorCode, ProblemError
from auth.secretbox import mask_id_number, mask_phone
from modules.clocks.store import clock_views
from modules.complaints.rules import STATE_LABELS, WORKFLOW
from modules.complaints.schemas import (
    AttachmentOut, EventOut, Location, PublicComplaint, Reporter, StaffComplaint,
)
from modules.complaints.service import query_code_hash, review_open

if TYPE_CHECKING:
    import asyncpg

    from auth.principal import Principal
    from auth.secretbox import SecretBox

__all__ = (
    "anonymous_item", "attachment_out", "attachment_row", "office_by_code", "own_item", "public_view", "staff_item",
    "staff_view",
)

# Deadlines the complainant is shown; internal ones (extensions' approvals, petition notices) stay with staff.
_PUBLIC_CLOCKS = frozenset({"procedural_reply", "result_reply", "followup_reply", "review_answer"})


def _missing() -> ProblemError:
    return ProblemError(404, ErrorCode.NOT_FOUND, "No such item.")


_OFFICE_TTL = 60.0
_offices: dict[str, tuple[float, Any]] = {}


async def office_by_code(conn: asyncpg.Connection, code: str) -> Any:
    """An office by its code, or 404 (offices change rarely: cached per worker for a minute)."""
    hit = _offices.get(code)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    row = await conn.fetchrow("select id, code, name, parent_id from offices where code = $1", code)
    if row is None:
        raise ProblemError(404, ErrorCode.NOT_FOUND, f"No office {code!r}.")
    _offices[code] = (time.monotonic() + _OFFICE_TTL, row)
    return row


async def _scoped(conn: asyncpg.Connection, complaint_id: UUID, column: str, owner: UUID | None, lock: bool) -> Any:
    row = await conn.fetchrow(
        f"select * from complaints where id = $1 and {column} = $2" + (" for update" if lock else ""),
        complaint_id, owner)
    if row is None:
        raise _missing()
    return row


async def staff_item(conn: asyncpg.Connection, complaint_id: UUID, p: Principal, *, lock: bool = False) -> Any:
    """An item the caller's office is handling; any other is 404 (its existence is not disclosed)."""
    return await _scoped(conn, complaint_id, "office_id", p.office_id, lock)


async def own_item(conn: asyncpg.Connection, complaint_id: UUID, p: Principal, *, lock: bool = False) -> Any:
    """An item the signed-in citizen filed; any other is 404."""
    return await _scoped(conn, complaint_id, "complainant_id", p.user_id, lock)


async def anonymous_item(conn: asyncpg.Connection, box: SecretBox, receipt_no: str, code: str | None,
                         *, lock: bool = False) -> Any:
    """An item by receipt number and query code; a wrong code answers exactly like a missing item."""
    row = await conn.fetchrow(
        "select * from complaints where receipt_no = $1" + (" for update" if lock else ""), receipt_no)
    expected = row["query_code_hash"] if row else None
    given = query_code_hash(box, receipt_no, code or "")
    if expected is None or not code or not hmac.compare_digest(expected, given):
        raise _missing()
    return row


async def _timeline(conn: asyncpg.Connection, complaint_id: UUID, public_only: bool) -> list[EventOut]:
    rows = await conn.fetch(
        "select at, type, body, public, data from complaint_events where complaint_id = $1"
        + (" and public" if public_only else "") + " order by id", complaint_id)
    return [EventOut(at=r["at"], type=r["type"], body=r["body"], public=r["public"],
                     data={} if public_only else r["data"]) for r in rows]


# Files staff attach are internal, like their notes: the complainant's side never lists or downloads them
# (uploaded_by is "citizen:<id>", "anonymous" or "staff:<id>"; a row of unknown origin counts as internal).
_FROM_PUBLIC = "uploaded_by not like 'staff:%'"


def attachment_out(r: Any, *, staff: bool) -> AttachmentOut:
    """One attachment as shown; where and when a photo was taken stays with staff (the public never sees EXIF)."""
    return AttachmentOut(id=r["id"], media_type=r["media_type"], size=r["size"], sha256=r["sha256"],
                         created_at=r["created_at"], captured_at=r["captured_at"] if staff else None,
                         latitude=r["latitude"] if staff else None, longitude=r["longitude"] if staff else None)


async def _attachments(conn: asyncpg.Connection, complaint_id: UUID, staff: bool) -> list[AttachmentOut]:
    rows = await conn.fetch("select * from complaint_attachments where complaint_id = $1"
                            + ("" if staff else f" and {_FROM_PUBLIC}") + " order by created_at, id", complaint_id)
    return [attachment_out(r, staff=staff) for r in rows]


async def attachment_row(conn: asyncpg.Connection, complaint_id: UUID, attachment_id: UUID, *, public: bool) -> Any:
    """An attachment of an item the caller may already see; for the public only one they may download (a public
    variant exists and staff did not attach it). Anything else is 404."""
    row = await conn.fetchrow(
        "select * from complaint_attachments where id = $1 and complaint_id = $2"
        + (f" and public_key is not null and {_FROM_PUBLIC}" if public else ""), attachment_id, complaint_id)
    if row is None:
        raise ProblemError(404, ErrorCode.NOT_FOUND, "No such attachment.")
    return row


async def _names(conn: asyncpg.Connection, row: Any) -> tuple[str, str, str | None]:
    offices = dict(await conn.fetch("select id, code from offices where id = any($1::uuid[])",
                                    [row["office_id"], row["first_office_id"]]))
    category = await conn.fetchval("select code from complaint_categories where id = $1", row["category_id"])
    return offices[row["office_id"]], offices[row["first_office_id"]], category


async def public_view(conn: asyncpg.Connection, row: Any) -> PublicComplaint:
    """What the complainant sees."""
    office, _, category = await _names(conn, row)
    clocks = (await clock_views(conn, [row["id"]])).get(row["id"], [])
    closed_recently = await review_open(conn, row)
    has_review = await conn.fetchval("select exists (select 1 from complaints where parent_id = $1)", row["id"])
    return PublicComplaint(
        id=row["id"], receipt_no=row["receipt_no"], office=office, kind=row["kind"], category=category,
        title=row["title"], body=row["body"], state=row["state"], state_label=STATE_LABELS[row["state"]],
        created_at=row["created_at"], timeline=await _timeline(conn, row["id"], True),
        deadlines=[c for c in clocks if c.code in _PUBLIC_CLOCKS and c.exemption is None],
        attachments=await _attachments(conn, row["id"], False), rating=row["rating"],
        can_rate=row["state"] == "closed" and row["rating"] is None,
        can_request_review=(row["state"] == "closed" and closed_recently and not has_review
                            and row["review_level"] != "re_review"),
    )


def _reporter(box: SecretBox, row: Any, may_see: bool) -> Reporter:
    def dec(column: str, aad: bytes) -> str | None:
        return box.decrypt_text(row[column], aad=aad) if row[column] else None

    name, phone, id_number = dec("reporter_name_enc", b"name"), dec("reporter_phone_enc", b"phone"), \
        dec("reporter_id_number_enc", b"id_number")
    if may_see:
        return Reporter(name=name, phone=phone, id_number=id_number, anonymous=row["anonymous"], masked=False)
    # A reporter's identity is protected (举报人保护); others' numbers are masked for everyone without the right.
    hidden_name = None if row["kind"] == "report" else (name[0] + "*" * (len(name) - 1) if name else None)
    return Reporter(name=hidden_name, phone=mask_phone(phone) or None, id_number=mask_id_number(id_number) or None,
                    anonymous=row["anonymous"], masked=True)


async def staff_view(conn: asyncpg.Connection, box: SecretBox, row: Any, *, may_see_identity: bool,
                     actions: frozenset[str]) -> StaffComplaint:
    """What the office's staff see, with identities masked unless the permission list allows them."""
    office, first_office, category = await _names(conn, row)
    clocks = (await clock_views(conn, [row["id"]])).get(row["id"], [])
    has_location = row["latitude"] is not None or row["address"] is not None
    return StaffComplaint(
        id=row["id"], receipt_no=row["receipt_no"], office=office, first_office=first_office, kind=row["kind"],
        category=category, channel=row["channel"], title=row["title"], body=row["body"], state=row["state"],
        state_label=STATE_LABELS[row["state"]], reporter=_reporter(box, row, may_see_identity),
        location=Location(latitude=row["latitude"], longitude=row["longitude"], address=row["address"])
        if has_location else None,
        persons_reported=row["persons_reported"], fields=row["extra"], assignee_id=row["assignee_id"],
        department=row["department"], referred_to=row["referred_to"], disposition=row["disposition"],
        parent_id=row["parent_id"], review_level=row["review_level"], possible_duplicates=row["possible_duplicates"],
        created_at=row["created_at"], updated_at=row["updated_at"], timeline=await _timeline(conn, row["id"], False),
        clocks=clocks, attachments=await _attachments(conn, row["id"], True), rating=row["rating"],
        rating_comment=row["rating_comment"],
        available_steps=[t.name for t in WORKFLOW.available(row["state"]) if t.action in actions],
    )
