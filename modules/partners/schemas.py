"""What partner systems and staff send and receive. Unknown fields are refused (no mass assignment)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from api.schema import Input, Output
from modules.clocks.store import ClockView
from modules.complaints.schemas import PublicComplaint, Visitor
from modules.complaints.schemas import _Body as _IntakeBody
from modules.kernel.files import AttachmentOut
from modules.kernel.timeline import EventOut

__all__ = (
    "ClueTransferIn",
    "ContactsIn",
    "HotlineCallIn",
    "InvolvementAnswerIn",
    "InvolvementIn",
    "InvolvementOpinionIn",
    "InvolvementOut",
    "InvolvementSummary",
    "MessageIn",
    "OfficeInvolvementIn",
    "PartnerContactIn",
    "PartnerContactOut",
    "StaffAnswerIn",
    "TransferKind",
    "TransferOut",
    "TransferSummary",
    "Urgency",
)

Reference = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$",
                                        description="The partner's own number for it (ticket, case or letter no.).")]
Text200 = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
LongText = Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=5_000)]
TransferKind = Literal["hotline_call", "police_clue"]
Urgency = Literal["normal", "urgent"]
InvolvementState = Literal["requested", "accepted", "declined", "concluded"]


class _TransferBody(_IntakeBody, kw_only=True):
    # The fields of any intake (complaints' own), so the complaints intake takes them as they are; the caller is
    # protected like any visitor staff file for.
    received_at: datetime | None = None
    caller: Visitor | None = None


class HotlineCallIn(_TransferBody, kw_only=True):
    """A 12345 call transferred to the office; the ticket number is unique per hotline client."""

    ticket_no: Reference


class ClueTransferIn(_TransferBody, kw_only=True):
    """A clue the police met in a criminal case, transferred into complaints or reports (a category of kind
    `report` for 举报); `caseRef` is the police's own case or letter number, unique per client."""

    case_ref: Reference


class TransferOut(Output, kw_only=True):
    """A transferred call or clue as its partner follows it: the item's public status and the result reply."""

    reference: str
    kind: TransferKind
    accepted: bool | None
    concluded: bool
    result_reply: str | None
    transferred_at: datetime
    item: PublicComplaint


class TransferSummary(Output, kw_only=True):
    """A transfer in the partner's list: where its item stands; the detail has the timeline and the reply."""

    reference: str
    kind: TransferKind
    receipt_no: str
    state: str
    state_label: str
    accepted: bool | None
    concluded: bool
    transferred_at: datetime
    updated_at: datetime


class InvolvementSummary(Output, kw_only=True):
    """An early involvement in a list: the request and where it stands; the detail has the exchange."""

    id: UUID
    client_id: str
    initiated_by: Literal["partner", "office"]
    case_ref: str | None
    urgency: Urgency
    state: InvolvementState
    state_label: str
    prosecutor_assigned: bool
    created_at: datetime
    updated_at: datetime


class InvolvementIn(Input, kw_only=True):
    """The partner asks the office for early involvement 提前介入 in a major case."""

    case_ref: Reference | None = None
    summary: LongText
    reason: Reason
    urgency: Urgency = "normal"


class OfficeInvolvementIn(InvolvementIn, kw_only=True):
    """The office asks a partner (by its client id) for early involvement in a case it is investigating."""

    client_id: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$")]


class InvolvementAnswerIn(Input, kw_only=True):
    """The partner's answer to the office's request."""

    decision: Literal["agree", "refuse"]
    reason: Reason | None = None


class StaffAnswerIn(Input, kw_only=True):
    """The office's answer to the partner's request: accept and assign a prosecutor, or decline with a reason."""

    decision: Literal["accept", "decline"]
    prosecutor_id: UUID | None = None
    reason: Reason | None = None


class InvolvementOpinionIn(Input, kw_only=True):
    """An opinion the assigned prosecutor gives the partner (on evidence, charges, further investigation)."""

    text: LongText


class MessageIn(Input, kw_only=True):
    """A message from the partner in the exchange."""

    text: LongText


class InvolvementOut(Output, kw_only=True):
    """An early involvement as both sides see it: the request, the answer and the exchange (its public timeline)."""

    id: UUID
    client_id: str
    initiated_by: Literal["partner", "office"]
    case_ref: str | None
    summary: str
    reason: str
    urgency: Urgency
    state: InvolvementState
    state_label: str
    prosecutor_assigned: bool
    deadlines: list[ClockView]
    created_at: datetime
    updated_at: datetime
    exchange: list[EventOut]


class PartnerContactIn(Input, kw_only=True):
    """One of the agency's contact people."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    role: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    phone: Annotated[str, msgspec.Meta(min_length=11, max_length=20)] | None = None


class ContactsIn(Input, kw_only=True):
    """The agency's whole list of contact people (it replaces the one kept)."""

    contacts: Annotated[list[PartnerContactIn], msgspec.Meta(max_length=20)]


class PartnerContactOut(Output, kw_only=True):
    """A contact person; the phone is masked for everyone but the agency itself."""

    name: str
    role: str
    phone: str | None


class MessageKindOut(Output, kw_only=True):
    """A kind of document the exchange carries (data: a new kind needs no code)."""

    code: str
    label: str
    direction: Literal["to_office", "to_partner", "either"]
    needs_answer: bool


class DocumentIn(Input, kw_only=True):
    """A document sent over the exchange; files are attached to it afterwards."""

    kind: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z_]{1,39}$")]
    subject: Text200
    body: LongText


class OfficeDocumentIn(DocumentIn, kw_only=True):
    """A document the office sends to one of its partner clients."""

    client_id: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$")]


class DocumentAnswerIn(Input, kw_only=True):
    """The answer to a document whose kind asks for one."""

    subject: Text200
    body: LongText


class DocumentOut(Output, kw_only=True):
    """A document as both sides see it: who sent it which way, when it was signed for, its answer."""

    id: UUID
    client_id: str
    kind: str
    kind_label: str
    direction: Literal["to_office", "to_partner"]
    subject: str
    body: str
    state: Literal["sent", "received", "answered"]
    needs_answer: bool
    reply_to: UUID | None
    answer_id: UUID | None
    received_at: datetime | None
    created_at: datetime
    attachments: list[AttachmentOut]


Slot = datetime


class ConsultationIn(Input, kw_only=True):
    """Propose a consultation 磋商: the topic, the agenda, where, and up to ten time slots for the other side."""

    topic: Text200
    agenda: Annotated[str, msgspec.Meta(max_length=5_000)] | None = None
    place: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    slots: Annotated[list[Slot], msgspec.Meta(min_length=1, max_length=10)]


class OfficeConsultationIn(ConsultationIn, kw_only=True):
    """The office proposes a consultation to one of its agency clients."""

    client_id: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$")]


class SlotIn(Input, kw_only=True):
    """The slot the other side confirms (one of those proposed)."""

    slot: Slot


class MinutesIn(Input, kw_only=True):
    """The minutes of a consultation held; the agency sees them."""

    minutes: Annotated[str, msgspec.Meta(min_length=1, max_length=50_000)]


class CancelIn(Input, kw_only=True):
    """Why the consultation will not take place."""

    reason: Reason


class ConsultationOut(Output, kw_only=True):
    """A consultation as both sides see it."""

    id: UUID
    client_id: str
    proposed_by: Literal["partner", "office"]
    topic: str
    agenda: str | None
    place: str | None
    slots: list[datetime]
    scheduled_at: datetime | None
    minutes: str | None
    state: Literal["proposed", "confirmed", "held", "cancelled"]
    state_label: str
    created_at: datetime
