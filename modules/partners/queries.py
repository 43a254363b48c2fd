"""Every SELECT of the partners module. Partner rows are found by the calling client; staff rows by their office."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from api.errors import not_found
from api.pagination import Cursor, keyset
from modules.complaints.queries import PUBLIC_READ_COLUMNS
from modules.kernel.single_read import attachments_column, clocks_column, read_one, timeline_column

if TYPE_CHECKING:
    import asyncpg

    from modules.kernel.rows import SubjectRow

__all__ = (
    "attachments_of", "client_by_client_id",
    "client_by_uuid",
    "client_in_office",
    "consultation",
    "consultation_page",
    "contacts",
    "involvement",
    "involvement_page",
    "involvement_read",
    "message",
    "message_kinds",
    "message_page",
    "message_read",
    "open_items",
    "transfer",
    "transfer_page",
    "transfer_read", "transferred_item",
)


async def client_by_client_id(conn: asyncpg.Connection, client_id: str) -> Any:
    """A partner client with its office's time zone, or None."""
    return await conn.fetchrow(
        "select c.*, o.time_zone from partner_clients c join offices o on o.id = c.office_id where c.client_id = $1",
        client_id)


async def client_in_office(conn: asyncpg.Connection, client_id: str, office_id: UUID | None) -> Any:
    """A partner client of the office by its client id, or 404 (another office's client is not disclosed)."""
    row = await conn.fetchrow("select * from partner_clients where client_id = $1 and office_id = $2",
                              client_id, office_id)
    if row is None:
        raise not_found("No such partner client.")
    return row


async def client_by_uuid(conn: asyncpg.Connection, client_uuid: UUID, office_id: UUID | None) -> Any:
    """A partner client of the office by its row id, or 404."""
    row = await conn.fetchrow("select * from partner_clients where id = $1 and office_id = $2", client_uuid, office_id)
    if row is None:
        raise not_found("No such partner client.")
    return row


async def transfer(conn: asyncpg.Connection, client_uuid: UUID, kind: str, reference: str) -> Any:
    """The client's transfer of this kind under its own reference, or None."""
    return await conn.fetchrow(
        "select * from partner_transfers where client_uuid = $1 and kind = $2 and reference = $3",
        client_uuid, kind, reference)


# The transfer and its item's public read (modules/complaints/queries.PUBLIC_READ_COLUMNS) in one statement.
_TRANSFER_READ = f"""
select t as transfer, {PUBLIC_READ_COLUMNS}
from partner_transfers t join complaints c on c.id = t.complaint_id
where t.client_uuid = $1 and t.kind = $2 and t.reference = $3
"""


async def transfer_read(conn: asyncpg.Connection, client_uuid: UUID, kind: str, reference: str) -> Any:
    """The client's transfer under its reference with what its item's public view shows, in one round trip; or 404."""
    return await read_one(conn, _TRANSFER_READ, client_uuid, kind, reference, missing="No such transfer.")


async def transferred_item(conn: asyncpg.Connection, client_uuid: UUID, kind: str, reference: str, *,
                           lock: bool = False) -> tuple[Any, Any]:
    """(transfer, complaint row) for the client's reference, or 404."""
    t = await transfer(conn, client_uuid, kind, reference)
    if t is None:
        raise not_found("No such transfer.")
    item = await conn.fetchrow("select * from complaints where id = $1" + (" for update" if lock else ""),
                               t["complaint_id"])
    return t, item


async def transfer_page(conn: asyncpg.Connection, *, client_uuid: UUID, kind: str, after: Cursor | None,
                        limit: int) -> list[Any]:
    """One page of the client's transfers of a kind with where each item stands, newest first (one query)."""
    q = keyset("t.created_at", "t.id")
    q.add("t.client_uuid = ?", client_uuid)
    q.add("t.kind = ?", kind)
    sql, args = q.sql("select t.*, c.receipt_no, c.state, c.updated_at from partner_transfers t "
                      "join complaints c on c.id = t.complaint_id", after, limit)
    return await conn.fetch(sql, *args)


async def _one(conn: asyncpg.Connection, select: str, item_id: UUID, what: str, *, office_id: UUID | None,
               client_uuid: UUID | None, lock: bool) -> Any:
    """The row `x` of `select` with this id, of the calling client (partner) or the caller's office (staff)."""
    column, value = ("client_uuid", client_uuid) if client_uuid is not None else ("office_id", office_id)
    row = await conn.fetchrow(f"{select} where x.id = $1 and x.{column} = $2" + (" for update of x" if lock else ""),
                              item_id, value)
    if row is None:
        raise not_found(f"No such {what}.")
    return row


async def _page(conn: asyncpg.Connection, select: str, *, office_id: UUID | None, client_uuid: UUID | None,
                filters: dict[str, Any], after: Cursor | None, limit: int) -> list[Any]:
    """One page of `select`'s rows `x`, newest first: the client's own (partner) or the office's (staff)."""
    q = keyset("x.created_at", "x.id")
    if client_uuid is not None:
        q.owner("x.client_uuid", client_uuid)
    else:
        q.owner("x.office_id", office_id)
    for column, value in filters.items():
        if value is not None:
            q.add(f"x.{column} = ?", value)
    sql, args = q.sql(select, after, limit)
    return await conn.fetch(sql, *args)


_INVOLVEMENT_FROM = " from partner_involvements x join partner_clients c on c.id = x.client_uuid"
_INVOLVEMENT = "select x.*, c.client_id" + _INVOLVEMENT_FROM
# As both sides see it, in one statement: with its deadlines and the exchange (its public timeline).
_INVOLVEMENT_READ = (f"select x.*, c.client_id, {clocks_column('x.id')}, {timeline_column('x.id', public=True)}"
                     + _INVOLVEMENT_FROM)


async def involvement(conn: asyncpg.Connection, involvement_id: UUID, *, office_id: UUID | None = None,
                      client_uuid: UUID | None = None, lock: bool = False) -> SubjectRow:
    """An early involvement of the caller's office (staff) or of the calling client (partner), else 404."""
    return await _one(conn, _INVOLVEMENT, involvement_id, "early involvement", office_id=office_id,
                      client_uuid=client_uuid, lock=lock)


async def involvement_read(conn: asyncpg.Connection, involvement_id: UUID, *, office_id: UUID | None = None,
                           client_uuid: UUID | None = None) -> Any:
    """`involvement` with its clock rows (`clocks`) and public timeline (`timeline`), for `involvement_view`."""
    return await _one(conn, _INVOLVEMENT_READ, involvement_id, "early involvement", office_id=office_id,
                      client_uuid=client_uuid, lock=False)


async def involvement_page(conn: asyncpg.Connection, *, office_id: UUID | None = None,
                           client_uuid: UUID | None = None, state: str | None, after: Cursor | None,
                           limit: int) -> list[Any]:
    """One page of early involvements, newest first: the office's (staff) or the client's own (partner)."""
    return await _page(conn, _INVOLVEMENT, office_id=office_id, client_uuid=client_uuid, filters={"state": state},
                       after=after, limit=limit)


async def contacts(conn: asyncpg.Connection, client_uuid: UUID) -> list[Any]:
    """A client's contact people in their order."""
    return await conn.fetch("select * from partner_contacts where client_uuid = $1 order by position, created_at",
                            client_uuid)


async def message_kinds(conn: asyncpg.Connection, agency_kind: str | None = None) -> list[Any]:
    """The kinds of document the exchange carries (for one kind of agency when given)."""
    return await conn.fetch("select * from partner_message_kinds where $1::text is null or $1 = any(agency_kinds) "
                            "order by code", agency_kind)


_MESSAGE_COLUMNS = ("select x.*, c.client_id, k.label_zh as kind_label, k.needs_answer, "
                    "(select a.id from partner_messages a where a.reply_to = x.id) as answer_id")
_MESSAGE_FROM = (" from partner_messages x join partner_clients c on c.id = x.client_uuid "
                 "join partner_message_kinds k on k.code = x.kind")
_MESSAGE = _MESSAGE_COLUMNS + _MESSAGE_FROM
# With its files, in one statement (both sides see every file of a document).
_MESSAGE_READ = f"{_MESSAGE_COLUMNS}, {attachments_column('x.id', public=False)}{_MESSAGE_FROM}"


async def message(conn: asyncpg.Connection, message_id: UUID, *, office_id: UUID | None = None,
                  client_uuid: UUID | None = None, lock: bool = False) -> SubjectRow:
    """A document of the caller's office (staff) or of the calling client (partner), with its kind; else 404."""
    return await _one(conn, _MESSAGE, message_id, "document", office_id=office_id, client_uuid=client_uuid,
                      lock=lock)


async def message_read(conn: asyncpg.Connection, message_id: UUID, *, office_id: UUID | None = None,
                       client_uuid: UUID | None = None) -> Any:
    """`message` with its file rows (`attachments`), for `documents.view`."""
    return await _one(conn, _MESSAGE_READ, message_id, "document", office_id=office_id, client_uuid=client_uuid,
                      lock=False)


async def message_page(conn: asyncpg.Connection, *, office_id: UUID | None = None, client_uuid: UUID | None = None,
                       direction: str | None, state: str | None, after: Cursor | None, limit: int) -> list[Any]:
    """One page of documents, newest first: the office's (staff) or the client's own (partner)."""
    return await _page(conn, _MESSAGE, office_id=office_id, client_uuid=client_uuid,
                       filters={"direction": direction, "state": state}, after=after, limit=limit)


async def attachments_of(conn: asyncpg.Connection, subject_ids: list[UUID]) -> list[Any]:
    """The files of several documents in one query, oldest first."""
    return await conn.fetch("select * from attachments where subject_id = any($1::uuid[]) order by created_at, id",
                            subject_ids)


_CONSULTATION = ("select x.*, c.client_id from partner_consultations x "
                 "join partner_clients c on c.id = x.client_uuid")


async def consultation(conn: asyncpg.Connection, consultation_id: UUID, *, office_id: UUID | None = None,
                       client_uuid: UUID | None = None, lock: bool = False) -> SubjectRow:
    """A consultation of the caller's office (staff) or of the calling client (partner), else 404."""
    return await _one(conn, _CONSULTATION, consultation_id, "consultation", office_id=office_id,
                      client_uuid=client_uuid, lock=lock)


async def consultation_page(conn: asyncpg.Connection, *, office_id: UUID | None = None,
                            client_uuid: UUID | None = None, state: str | None, after: Cursor | None,
                            limit: int) -> list[Any]:
    """One page of consultations, newest first: the office's (staff) or the client's own (partner)."""
    return await _page(conn, _CONSULTATION, office_id=office_id, client_uuid=client_uuid, filters={"state": state},
                       after=after, limit=limit)


_OPEN_ITEMS = """
select * from (
    select 'transfer' as kind, t.id, t.reference || ' ' || c.title as title, c.state,
           'office' as waiting_on, null::date as due, t.created_at, t.client_uuid
    from partner_transfers t join complaints c on c.id = t.complaint_id
    where c.state not in ('closed', 'referred', 'not_accepted')
    union all
    select 'involvement', i.id, coalesce(i.case_ref || ' ', '') || left(i.summary, 100), i.state,
           case when i.state = 'requested' and i.initiated_by = 'office' then 'partner' else 'office' end,
           (select min(k.due) from clocks k where k.subject_id = i.id and k.finished_at is null),
           i.created_at, i.client_uuid
    from partner_involvements i where i.state in ('requested', 'accepted')
    union all
    select 'document', m.id, m.subject, m.state,
           case when m.direction = 'to_partner' then 'partner' else 'office' end, null, m.created_at, m.client_uuid
    from partner_messages m join partner_message_kinds k on k.code = m.kind
    where m.state = 'sent' or (m.state = 'received' and k.needs_answer)
    union all
    select 'consultation', s.id, s.topic, s.state,
           case when s.state = 'proposed' and s.proposed_by = 'office' then 'partner' else 'office' end,
           (coalesce(s.scheduled_at, s.slots[1]) at time zone 'Asia/Shanghai')::date, s.created_at, s.client_uuid
    from partner_consultations s where s.state in ('proposed', 'confirmed')
) open_items"""


async def open_items(conn: asyncpg.Connection, client_uuid: UUID, after: Cursor | None, limit: int) -> list[Any]:
    """The client's open items of this module (transfers not concluded, involvements and consultations under way,
    documents not yet signed for or answered), newest first, with the next deadline where one runs. The client
    predicate reaches each branch's (client_uuid, created_at) index."""
    q = keyset("created_at", "id")
    q.add("client_uuid = ?", client_uuid)
    sql, args = q.sql(_OPEN_ITEMS, after, limit)
    return await conn.fetch(sql, *args)
