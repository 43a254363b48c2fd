"""Who hears of each partner topic: the delivery worker asks here (manifest `recipients`).

What the agency does reaches the office's accounts that must act on it: the staff member the item names (the
assigned prosecutor, the sender of the document, the proposer of the consultation), else the office's serving
staff granted the action that handles it. What the office does reaches the agency instead, through its webhook or
pull feed when it subscribed to the topic (partner clients have no inbox); the office's own acts are not echoed to
its staff, except an involvement's assignment, which the assigned prosecutor must hear of."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from api.outbox import Audience, Event
from modules.kernel.audience import holders, serving, uuid_or_none

if TYPE_CHECKING:
    import asyncpg

__all__ = ("RECIPIENTS",)

# The steps each side takes (the kernel names a step's event `<kind>.<step>`); a request's side is on its row.
_PARTNER_STEPS = frozenset({"involvement.agree", "involvement.refuse", "involvement.message",
                            "document.sign", "document.answer", "consultation.confirm"})
_REQUESTS = {"involvement.requested": "initiated_by", "consultation.proposed": "proposed_by"}


async def _split(conn: asyncpg.Connection, event: Event, named: UUID | None, action: str, *,
                 from_partner: bool) -> Audience:
    """The named account (else the action's holders) for what the agency did; the agency for what the office did."""
    office = event.office_id
    if office is None:
        return Audience()
    if not from_partner:
        client = uuid_or_none(event.payload.get("clientUuid"))
        return Audience(partner_clients=(client,) if client else ())
    return Audience(users=await serving(conn, office, [named]) or await holders(conn, office, action))


async def _transfer(conn: asyncpg.Connection, event: Event) -> Audience:
    """A call or clue transferred in: the office's intake (those granted `complaint.triage`), who accept it."""
    if event.office_id is None:
        return Audience()
    return Audience(users=await holders(conn, event.office_id, "complaint.triage"))


async def _involvement(conn: asyncpg.Connection, event: Event) -> Audience:
    """The assigned prosecutor, else the staff who handle involvements; the agency of the office's steps."""
    what = event.payload.get("event")
    row = await conn.fetchrow("select initiated_by, prosecutor_id from partner_involvements where id = $1"
                              " and office_id = $2", uuid_or_none(event.payload.get("involvementId")), event.office_id)
    if row is None:
        return Audience()
    partner = what in _PARTNER_STEPS or (what in _REQUESTS and row["initiated_by"] == "partner")
    audience = await _split(conn, event, row["prosecutor_id"], "partner.involvement.handle", from_partner=partner)
    if what == "involvement.accept" and event.office_id is not None:
        # The office's acceptance names the prosecutor who goes: they must know, the agency too.
        audience = Audience(users=await serving(conn, event.office_id, [row["prosecutor_id"]]),
                            partner_clients=audience.partner_clients)
    return audience


async def _document(conn: asyncpg.Connection, event: Event) -> Audience:
    """A document the agency sent, signed for or answered: its staff sender, else those who handle documents."""
    what = event.payload.get("event")
    row = await conn.fetchrow("select direction, created_by from partner_messages where id = $1 and office_id = $2",
                              uuid_or_none(event.payload.get("documentId")), event.office_id)
    if row is None:
        return Audience()
    partner = what in _PARTNER_STEPS or (what == "document.sent" and row["direction"] == "to_office")
    # A document the agency sent names no staff member: its holders hear of it.
    named = uuid_or_none(row["created_by"]) if row["direction"] == "to_partner" else None
    return await _split(conn, event, named, "partner.documents.handle", from_partner=partner)


async def _consultation(conn: asyncpg.Connection, event: Event) -> Audience:
    """A consultation the agency proposed or confirmed: the office's proposer, else those who schedule them."""
    what = event.payload.get("event")
    row = await conn.fetchrow("select proposed_by, created_by from partner_consultations where id = $1"
                              " and office_id = $2", uuid_or_none(event.payload.get("consultationId")),
                              event.office_id)
    if row is None:
        return Audience()
    partner = what in _PARTNER_STEPS or (what in _REQUESTS and row["proposed_by"] == "partner")
    named = uuid_or_none(row["created_by"]) if row["proposed_by"] == "office" else None
    return await _split(conn, event, named, "partner.consultation.handle", from_partner=partner)


RECIPIENTS = {"partner.transfer": _transfer, "partner.involvement": _involvement, "partner.document": _document,
              "partner.consultation": _consultation}
