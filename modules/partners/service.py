"""The rules of partner work: transfers into complaints, early involvement, contact people. Every function runs in
the caller's transaction and leaves its audit record (and, where someone must be told, an outbox event)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from uuid import UUID

from api.errors import conflict, forbidden, invalid
from api.outbox import emit
from auth.audit import Actor, record
from auth.secretbox import mask_phone
from modules.clocks.rules import Period
from modules.clocks.store import start_clock, views_of
from modules.complaints.queries import public_view
from modules.complaints.rules import STATE_LABELS
from modules.complaints.rules import WORKFLOW as COMPLAINT_WORKFLOW
from modules.kernel import steps
from modules.kernel.steps import Subject, clock_settings
from modules.kernel.timeline import add_event, events_out
from modules.partners.notices import notifier
from modules.partners.rules import INVOLVEMENT
from modules.partners.schemas import (
    InvolvementIn,
    InvolvementOut,
    InvolvementSummary,
    PartnerContactIn,
    PartnerContactOut,
    TransferOut,
    TransferSummary,
)

if TYPE_CHECKING:
    import asyncpg

    from auth.secretbox import SecretBox

__all__ = (
    "SUBJECT", "answer", "contact_views", "involvement_summary", "involvement_view", "message", "opinion",
    "replace_contacts", "request_involvement", "transfer_in", "transfer_summary", "transfer_view",
)
MODULE = "partners"
_RESPONSE = "involvement_response"


async def transfer_in(conn: asyncpg.Connection, actor: Actor, *, client: Any, kind: str, reference: str,
                      file: Callable[[asyncpg.Connection], Awaitable[UUID]]) -> tuple[Any, bool]:
    """File the partner's call or clue through the complaints intake (`file` answers the new item's id), once per
    (client, kind, reference): a second transfer of the same reference answers the first. Returns (transfer, new)."""
    # Serialise transfers of one reference, so two racing first transfers make one item, not two.
    await conn.execute("select pg_advisory_xact_lock(hashtextextended($1, 15))",
                       f"partner-transfer:{client['id']}:{kind}:{reference}")
    existing = await conn.fetchrow(
        "select * from partner_transfers where client_uuid = $1 and kind = $2 and reference = $3",
        client["id"], kind, reference)
    if existing is not None:
        return existing, False
    complaint_id = await file(conn)
    row = await conn.fetchrow(
        "insert into partner_transfers (office_id, client_uuid, kind, reference, complaint_id) "
        "values ($1, $2, $3, $4, $5) returning *", client["office_id"], client["id"], kind, reference, complaint_id)
    data = {"client": client["client_id"], "agencyKind": client["agency_kind"], "kind": kind, "reference": reference}
    await add_event(conn, "complaints", complaint_id, actor, "partner.transferred", public=False, data=data)
    await emit(conn, "partner.transfer", {"transferId": str(row["id"]), "complaintId": str(complaint_id),
                                          "clientUuid": str(client["id"]), "event": "transfer.created"},
               office_id=client["office_id"])
    await record(conn, actor, f"partner.{kind}.transferred", office_id=client["office_id"], object_type="complaint",
                 object_id=complaint_id, detail=data)
    return row, True


# Where the partner stands: accepted once the office took the item on, not accepted when refused or referred out.
_ACCEPTED = {"accepted": True, "in_progress": True, "closed": True, "not_accepted": False, "referred": False}


def transfer_summary(r: Any) -> TransferSummary:
    """A row of the transfer list (transfer joined with its item's receipt number and state)."""
    return TransferSummary(reference=r["reference"], kind=r["kind"], receipt_no=r["receipt_no"], state=r["state"],
                           state_label=STATE_LABELS[r["state"]], accepted=_ACCEPTED.get(r["state"]),
                           concluded=COMPLAINT_WORKFLOW.is_terminal(r["state"]), transferred_at=r["created_at"],
                           updated_at=r["updated_at"])


def involvement_summary(row: Any) -> InvolvementSummary:
    """An early involvement as lists show it."""
    return InvolvementSummary(
        id=row["id"], client_id=row["client_id"], initiated_by=row["initiated_by"], case_ref=row["case_ref"],
        urgency=row["urgency"], state=row["state"], state_label=INVOLVEMENT.states[row["state"]],
        prosecutor_assigned=row["prosecutor_id"] is not None, created_at=row["created_at"],
        updated_at=row["updated_at"])


async def transfer_view(conn: asyncpg.Connection, read: Any) -> TransferOut:
    """A transfer (a `queries.transfer_read` answer) as its partner follows it: the public status, and the result
    reply once the item is concluded."""
    t, item = read["transfer"], read["item"]
    view = await public_view(conn, None, read=read)
    concluded = COMPLAINT_WORKFLOW.is_terminal(item["state"])
    replies = [e.body for e in view.timeline if e.body and e.type != "received"]
    return TransferOut(reference=t["reference"], kind=t["kind"], accepted=_ACCEPTED.get(item["state"]),
                       concluded=concluded, result_reply=replies[-1] if concluded and replies else None,
                       transferred_at=t["created_at"], item=view)


_notify = notifier("partner.involvement", "involvementId", says_public=True)


SUBJECT = Subject(module=MODULE, table="partner_involvements", kind="involvement", workflow=INVOLVEMENT,
                  field_columns={"prosecutorId": "prosecutor_id"}, notify=_notify,
                  listing={"handler_id": "t.prosecutor_id", "department": "null::text", "ref": "t.case_ref",
                           "title": "left(t.summary, 200)"},
                  category={"code": "t.urgency", "label": "case t.urgency when 'urgent' then '紧急' else '一般' end"})


async def request_involvement(conn: asyncpg.Connection, actor: Actor, *, client: Any, initiated_by: str,
                              data: InvolvementIn, config: dict[str, Any]) -> Any:
    """Either side asks the other for early involvement; the other side's answer is due within the office's policy
    for the urgency (the module configuration's `involvement`). Returns the new row."""
    row = await conn.fetchrow(
        """
        insert into partner_involvements (office_id, client_uuid, initiated_by, case_ref, summary, reason, urgency,
                                          created_by)
        values ($1, $2, $3, $4, $5, $6, $7, $8) returning *
        """,
        client["office_id"], client["id"], initiated_by, data.case_ref, data.summary, data.reason, data.urgency,
        actor.id or "system")
    days = (config.get("involvement") or {}).get(data.urgency) or (2 if data.urgency == "urgent" else 7)
    overrides = (await clock_settings(conn, row["office_id"], MODULE)).get(_RESPONSE)
    await start_clock(conn, office_id=row["office_id"], module=MODULE, subject_id=row["id"], code=_RESPONSE,
                      started_at=row["created_at"], overrides=overrides, period=Period(int(days)))
    await add_event(conn, MODULE, row["id"], actor, "requested", public=True, body=data.reason,
                    data={"initiatedBy": initiated_by, "urgency": data.urgency})
    await _notify(conn, row, "involvement.requested", True)
    await record(conn, actor, "involvement.requested", office_id=row["office_id"], object_type="involvement",
                 object_id=row["id"], detail={"initiatedBy": initiated_by, "urgency": data.urgency,
                                              "client": client["client_id"]})
    return row


async def answer(conn: asyncpg.Connection, actor: Actor, row: Any, *, side: str, step: str,
                 fields: dict[str, Any]) -> Any:
    """The answer of the side that was asked (staff: accept with a prosecutor, or decline; the partner: agree or
    refuse); the side that asked cannot answer its own request."""
    if row["initiated_by"] == side:
        raise conflict("The other side answers this request.")
    if step == "accept":
        assignee = fields.get("prosecutorId")
        if assignee and not await conn.fetchval(
                "select exists (select 1 from users where id = $1 and office_id = $2 and kind = 'staff' "
                "and disabled_at is null)", assignee, row["office_id"]):
            raise invalid("No such prosecutor in this office.", ("prosecutorId", "a staff member of the office"))
    return await steps.apply(conn, SUBJECT, actor, row, step, fields, body=fields.get("reason"),
                             event_data={k: str(v) for k, v in fields.items() if v})


async def opinion(conn: asyncpg.Connection, actor: Actor, row: Any, *, user_id: UUID | None, text: str,
                  may_any: bool) -> None:
    """An opinion given to the partner by the assigned prosecutor (or one who may handle the exchange)."""
    if row["state"] != "accepted":
        raise conflict(f"Opinions are given while the involvement is accepted, not {row['state']}.")
    if row["prosecutor_id"] != user_id and not may_any:
        raise forbidden("Only the assigned prosecutor records opinions here.")
    await add_event(conn, MODULE, row["id"], actor, "opinion", public=True, body=text)
    await _notify(conn, row, "involvement.opinion", True)
    await record(conn, actor, "involvement.opinion", office_id=row["office_id"], object_type="involvement",
                 object_id=row["id"])


async def message(conn: asyncpg.Connection, actor: Actor, row: Any, *, text: str) -> None:
    """The partner's message in the exchange (more facts, questions, its own progress)."""
    if INVOLVEMENT.is_terminal(row["state"]):
        raise conflict(f"The involvement is {row['state']}.")
    await add_event(conn, MODULE, row["id"], actor, "message", public=True, body=text)
    await _notify(conn, row, "involvement.message", True)
    await record(conn, actor, "involvement.message", office_id=row["office_id"], object_type="involvement",
                 object_id=row["id"])


async def involvement_view(conn: asyncpg.Connection, row: Any) -> InvolvementOut:
    """An early involvement as both sides see it (a row of `queries.involvement_read`): the exchange is its public
    timeline, nothing internal."""
    clocks = (await views_of(conn, row["clocks"])).get(row["id"], [])
    return InvolvementOut(
        id=row["id"], client_id=row["client_id"], initiated_by=row["initiated_by"], case_ref=row["case_ref"],
        summary=row["summary"], reason=row["reason"], urgency=row["urgency"], state=row["state"],
        state_label=INVOLVEMENT.states[row["state"]], prosecutor_assigned=row["prosecutor_id"] is not None,
        deadlines=clocks, created_at=row["created_at"], updated_at=row["updated_at"],
        exchange=events_out(row["timeline"], public_only=True))


async def replace_contacts(conn: asyncpg.Connection, box: SecretBox, actor: Actor, client: Any,
                           people: list[PartnerContactIn]) -> list[Any]:
    """Replace the client's contact people (names and phones stored encrypted). Returns the new rows."""
    await conn.execute("delete from partner_contacts where client_uuid = $1", client["id"])
    await conn.executemany(
        "insert into partner_contacts (office_id, client_uuid, name_enc, phone_enc, role, position) "
        "values ($1, $2, $3, $4, $5, $6)",
        [(client["office_id"], client["id"], box.encrypt_text(c.name, aad=b"contact-name"),
          box.encrypt_text(c.phone, aad=b"contact-phone") if c.phone else None, c.role, i)
         for i, c in enumerate(people)])
    await record(conn, actor, "partner.contacts.replaced", office_id=client["office_id"],
                 object_type="partner_client", object_id=client["client_id"], detail={"count": len(people)})
    return await conn.fetch("select * from partner_contacts where client_uuid = $1 order by position", client["id"])


def contact_views(box: SecretBox, rows: list[Any], *, masked: bool) -> list[PartnerContactOut]:
    """Contact people as shown: the agency sees its own numbers, the office's admins a masked phone."""
    out = []
    for r in rows:
        phone = box.decrypt_text(r["phone_enc"], aad=b"contact-phone") if r["phone_enc"] else None
        out.append(PartnerContactOut(name=box.decrypt_text(r["name_enc"], aad=b"contact-name"), role=r["role"],
                              phone=(mask_phone(phone) or None) if masked else phone))
    return out


