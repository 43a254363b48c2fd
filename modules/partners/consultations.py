"""Consultation 磋商 with an agency before a recommendation: one side proposes slots, the other confirms one, the
office shares the minutes. And the module's contribution to the agency's list of open items."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from api.errors import conflict, invalid
from auth.audit import Actor, record
from modules.kernel import steps
from modules.kernel.partner_items import PartnerItem
from modules.kernel.steps import Subject
from modules.kernel.timeline import add_event
from modules.partners import queries
from modules.partners.notices import notifier
from modules.partners.rules import CONSULTATION
from modules.partners.schemas import ConsultationIn, ConsultationOut

if TYPE_CHECKING:
    from datetime import datetime

    import asyncpg

    from api.pagination import Cursor

__all__ = ("SUBJECT", "cancel", "confirm", "hold", "open_items", "propose", "view")


_notify = notifier("partner.consultation", "consultationId")


SUBJECT = Subject(module="partners", table="partner_consultations", kind="consultation", workflow=CONSULTATION,
                  field_columns={"scheduledAt": "scheduled_at", "minutes": "minutes"}, notify=_notify)


async def propose(conn: asyncpg.Connection, actor: Actor, *, client: Any, side: str, data: ConsultationIn) -> Any:
    """Propose a consultation with time slots for the other side to choose from. Returns the new row."""
    if any(s.tzinfo is None for s in data.slots):  # checked first: naive and aware times cannot be sorted together
        raise invalid("Give each slot with its time zone.", ("slots", "e.g. 2026-12-03T09:30:00+08:00"))
    slots = sorted(set(data.slots))
    row = await conn.fetchrow(
        "insert into partner_consultations (office_id, client_uuid, proposed_by, topic, agenda, place, slots, "
        "created_by) values ($1, $2, $3, $4, $5, $6, $7, $8) returning *",
        client["office_id"], client["id"], side, data.topic, data.agenda, data.place, slots, actor.id or "system")
    await add_event(conn, "partners", row["id"], actor, "proposed", public=True,
                    data={"slots": [s.isoformat() for s in slots]})
    await _notify(conn, row, "consultation.proposed", True)
    await record(conn, actor, "consultation.proposed", office_id=row["office_id"], object_type="consultation",
                 object_id=row["id"], detail={"side": side, "client": client["client_id"]})
    return row


async def confirm(conn: asyncpg.Connection, actor: Actor, row: Any, *, side: str, slot: datetime) -> Any:
    """The other side confirms one of the proposed slots."""
    if row["proposed_by"] == side:
        raise conflict("The other side confirms the slots you proposed.")
    if slot not in row["slots"]:
        raise invalid("Confirm one of the proposed slots.", ("slot", "one of the consultation's slots"))
    return await steps.apply(conn, SUBJECT, actor, row, "confirm" if side == "partner" else "confirm_office",
                             {"scheduledAt": slot}, event_data={"scheduledAt": slot.isoformat()})


async def hold(conn: asyncpg.Connection, actor: Actor, row: Any, *, minutes: str) -> Any:
    """The consultation took place: its minutes are recorded and shared with the agency."""
    return await steps.apply(conn, SUBJECT, actor, row, "hold", {"minutes": minutes}, event_data={})


async def cancel(conn: asyncpg.Connection, actor: Actor, row: Any, *, reason: str) -> Any:
    """The consultation will not take place; the reason is told to the agency."""
    return await steps.apply(conn, SUBJECT, actor, row, "cancel", {"reason": reason}, body=reason)


def view(row: Any) -> ConsultationOut:
    """A consultation as both sides see it."""
    return ConsultationOut(
        id=row["id"], client_id=row["client_id"], proposed_by=row["proposed_by"], topic=row["topic"],
        agenda=row["agenda"], place=row["place"], slots=list(row["slots"]), scheduled_at=row["scheduled_at"],
        minutes=row["minutes"], state=row["state"], state_label=CONSULTATION.states[row["state"]],
        created_at=row["created_at"])


async def open_items(conn: asyncpg.Connection, client: Any, after: Cursor | None, limit: int) -> list[PartnerItem]:
    """The module's contribution to the agency's open items (the manifest's `partner_items`)."""
    rows = await queries.open_items(conn, client["id"], after, limit)
    return [PartnerItem(module="partners", kind=r["kind"], id=r["id"], title=r["title"], state=r["state"],
                        waiting_on=r["waiting_on"], due=r["due"], created_at=r["created_at"]) for r in rows]
